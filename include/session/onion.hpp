#pragma once
// onion.hpp: Session onion requests, both ends.
//
// Hop encryption (protocol.md §4.1, storage-server.md §2). DH = X25519(own secret, peer public);
// A = the client's ephemeral X25519 public key, B = the node's (or server's) X25519 public key.
//   aes-gcm   : K = HMAC-SHA256(key = "LOKI", msg = DH);   wire = IV(12) || AES-256-GCM ct || tag(16)
//   xchacha20 : K = BLAKE2b-32(DH || A || B) (unkeyed);  wire = nonce(24) || XChaCha20-Poly1305 ct || tag(16)
// No associated data. The reply from a hop is encrypted with the same K and a fresh IV/nonce.
//
// Framing ("combined payload", storage-server.md §3.1), used for the body POSTed to the guard's
// /onion_req/v2 and for the plaintext of every layer:
//   [u32 little-endian N][N bytes: blob][UTF-8 JSON trailer]
//
// Client recipe (protocol.md §4.2, storage-server.md §3.8), path P1..Pk, destination D:
//   innermost = Enc_D(len32(P) || P || {"body":null,"headers":{}})   (snode D; P = the JSON-RPC body)
//             = Enc_D(v4 request)                           (server D; protocol.md §4.3)
//   for Pk    : Enc_Pk(len32(blob) || blob || route_to_D)
//   for Pi    : Enc_Pi(len32(blob) || blob || {"destination": P(i+1) ed25519 hex, "ephemeral_key", "enc_type"})
//   to P1     : len32(blob) || blob || {"ephemeral_key": A1 hex, "enc_type"}
// Sources: libsession-util src/onionreq/{hop_encryption,builder,response_parser}.cpp,
// session-desktop ts/session/apis/snode_api/onions.ts, oxen-storage-server oxenss/rpc/onion_processing.cpp.
//
// Thread safety: every function is reentrant; the Rng passed in must be usable from the calling thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

namespace session::onion {

// ---- sizes and limits ------------------------------------------------------------------------

inline constexpr std::size_t kGcmIvBytes = 12;          // AES-256-GCM IV
inline constexpr std::size_t kXChaChaNonceBytes = 24;   // XChaCha20-Poly1305-IETF nonce
inline constexpr std::size_t kTagBytes = 16;            // both AEADs
inline constexpr std::size_t kLengthPrefixBytes = 4;    // u32 LE in the combined payload
/// The storage server's and OnionReqParser's request size limit (DEFAULT_MAX_SIZE, 10 MiB).
inline constexpr std::size_t kMaxPayloadBytes = 10 * 1024 * 1024;
/// The storage server rejects a forwarded layer with hop_no above this (MAX_ONION_HOPS).
inline constexpr int kMaxHops = 15;
/// The largest plaintext encrypt() accepts (a sanity bound well above any onion payload).
inline constexpr std::size_t kMaxAeadBytes = 64 * 1024 * 1024;
/// The v4 server target libsession uses (storage-server.md §3.7).
inline constexpr std::string_view kV4Target = "/oxen/v4/lsrpc";

// ---- encryption types ------------------------------------------------------------------------

enum class EncType { aes_gcm, xchacha20 };

/// The wire spelling: "aes-gcm" or "xchacha20".
std::string_view to_string(EncType t) noexcept;
/// Accepts "aes-gcm", "gcm", "xchacha20", "xchacha20-poly1305" (case-sensitive, as the storage
/// server). "aes-cbc"/"cbc" (legacy, unauthenticated) is recognised but not supported.
/// Errors: onion_bad_enc_type.
[[nodiscard]] Result<EncType> parse_enc_type(std::string_view s);
/// IV/nonce + tag bytes added by `encrypt`: 28 (aes-gcm) or 40 (xchacha20).
std::size_t overhead(EncType t) noexcept;
/// IV/nonce length: 12 or 24.
std::size_t nonce_size(EncType t) noexcept;

// ---- X25519 and key derivation ---------------------------------------------------------------

struct X25519KeyPair {
    Secret<32> secret;
    X25519PublicKey public_key;
};

/// A fresh X25519 key pair from `rng` (32 random bytes, clamped by X25519 itself).
[[nodiscard]] X25519KeyPair generate_x25519(Rng& rng);
/// crypto_scalarmult_base(secret).
[[nodiscard]] X25519PublicKey x25519_public_key(const Secret<32>& secret);
/// DH = crypto_scalarmult(own_secret, peer). Errors: onion_bad_key if `peer` is a low-order point
/// (the result would be all zeros).
[[nodiscard]] Result<Secret<32>> shared_secret(const Secret<32>& own_secret, const X25519PublicKey& peer);
/// The hop key from DH: HMAC-SHA256("LOKI", DH) or BLAKE2b-32(DH || client_pk || server_pk).
[[nodiscard]] Secret<32> derive_key(EncType t, const Secret<32>& dh, const X25519PublicKey& client_pk,
                                    const X25519PublicKey& server_pk);
/// Client side: key for a layer sent with ephemeral (secret, public) to a node with `server_pk`.
/// Errors: onion_bad_key.
[[nodiscard]] Result<Secret<32>> client_key(EncType t, const Secret<32>& ephemeral_secret,
                                            const X25519PublicKey& ephemeral_public,
                                            const X25519PublicKey& server_pk);
/// Server side: key for a layer received by the node (node_secret, node_public) from `client_pk`.
/// Errors: onion_bad_key.
[[nodiscard]] Result<Secret<32>> server_key(EncType t, const Secret<32>& node_secret,
                                            const X25519PublicKey& node_public,
                                            const X25519PublicKey& client_pk);

// ---- AEAD ------------------------------------------------------------------------------------

/// Encrypts with a random IV/nonce from `rng`: IV(12)||ct||tag(16) or nonce(24)||ct||tag(16).
/// Errors: onion_encrypt_failed (an OpenSSL failure), onion_too_large (plaintext over kMaxAeadBytes).
[[nodiscard]] Result<Bytes> encrypt(EncType t, const Secret<32>& key, ByteView plaintext, Rng& rng);
/// As `encrypt` with a caller-chosen IV/nonce (known-answer tests only: never reuse a nonce).
/// Errors: invalid_argument if nonce.size() != nonce_size(t); onion_encrypt_failed.
[[nodiscard]] Result<Bytes> encrypt_with_nonce(EncType t, const Secret<32>& key, ByteView nonce,
                                               ByteView plaintext);
/// Decrypts IV/nonce||ct||tag. Errors: onion_too_short (shorter than overhead(t)),
/// onion_decrypt_failed (tag mismatch: wrong key, wrong enc type or tampered bytes; an AEAD cannot
/// tell these apart). The tag check is the AEAD's own (constant time).
[[nodiscard]] Result<Bytes> decrypt(EncType t, const Secret<32>& key, ByteView wire);

// ---- client: building a request ----------------------------------------------------------------

/// A service node as the client knows it: Ed25519 names it in routing JSON, X25519 encrypts to it.
struct NodeKeys {
    Ed25519PublicKey ed25519;
    X25519PublicKey x25519;
    bool operator==(const NodeKeys&) const = default;
};

/// A snode as the final destination (it runs the JSON-RPC request itself).
struct SnodeDestination {
    NodeKeys node;
};

/// An HTTP server (file server, SOGS, push server) reached through the last path node; the payload
/// should be a v4 request (see v4_request). `port` 0 means the protocol's default (443 / 80).
struct ServerDestination {
    std::string host;
    std::string target = std::string(kV4Target);
    std::string method = "POST";
    std::string protocol = "https";
    std::uint16_t port = 443;
    X25519PublicKey x25519;
};

using Destination = std::variant<SnodeDestination, ServerDestination>;

/// What decrypts the reply: the enc type and key of the innermost layer. Move-only, wiped.
/// For xchacha20 it also carries the aes-gcm key of the same DH, because libsession falls back to
/// AES-GCM when XChaCha20 fails (the legacy push server only speaks GCM).
class ResponseKey {
public:
    ResponseKey(EncType t, Secret<32> key, Secret<32> gcm_fallback_key)
        : enc_type_(t), key_(std::move(key)), gcm_fallback_(std::move(gcm_fallback_key)) {}
    ResponseKey(ResponseKey&&) noexcept = default;
    ResponseKey& operator=(ResponseKey&&) noexcept = default;
    ResponseKey(const ResponseKey&) = delete;
    ResponseKey& operator=(const ResponseKey&) = delete;

    EncType enc_type() const noexcept { return enc_type_; }
    const Secret<32>& key() const noexcept { return key_; }
    const Secret<32>& gcm_fallback_key() const noexcept { return gcm_fallback_; }

private:
    EncType enc_type_;
    Secret<32> key_;
    Secret<32> gcm_fallback_;
};

/// A built onion request.
struct Request {
    /// POST this to https://<guard>/onion_req/v2 (or the QUIC `onion_req` endpoint).
    Bytes body;
    /// Decrypts the destination's reply (decode_node_response / decode_server_response).
    ResponseKey response_key;
};

/// Builds the layered request. `path` = [guard, ..., last relay], at least 1 node (3 is usual);
/// `payload` = the JSON-RPC body for a snode, or the v4 request for a server. Every layer uses `t`.
/// The snode destination's control JSON is {"body":null,"headers":{}}, byte for byte what desktop
/// sends (any JSON with a "headers" key marks the final hop; libsession sends {"headers":""}).
/// Errors: onion_bad_path (empty path, or a snode destination that is also a path node, or a
/// repeated path node), onion_too_large, onion_bad_key, onion_encrypt_failed,
/// invalid_argument (server destination with empty host, bad protocol, or a target not allowed).
[[nodiscard]] Result<Request> build(std::span<const NodeKeys> path, const Destination& destination,
                                    ByteView payload, EncType t, Rng& rng);
/// The same, consuming `payload`: every layer is sealed in its buffer (no copy of the payload is
/// made when its capacity has room for the layers: a few hundred bytes per node). Same bytes as the
/// ByteView overload for the same rng.
[[nodiscard]] Result<Request> build(std::span<const NodeKeys> path, const Destination& destination,
                                    Bytes&& payload, EncType t, Rng& rng);

/// is_onion_url_target_allowed: starts with "/loki/" or "/oxen/", ends with "/lsrpc", no '?'.
bool url_target_allowed(std::string_view target) noexcept;

/// HTTP headers as (name, value) pairs in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A v4 request (protocol.md §4.3): bencoded list `l<len>:<json>[<len>:<body>]e` with
/// json = {"endpoint":…,"headers":{…},"method":…}. A body adds Content-Type: application/json
/// unless a Content-Type header is given; a User-Agent header is dropped (libquic generate_payload).
/// Errors: invalid_argument (endpoint not starting with '/', empty method).
[[nodiscard]] Result<Bytes> v4_request(std::string_view method, std::string_view endpoint,
                                       const Headers& headers, std::optional<ByteView> body);
/// The same with an owned body, framed in its buffer (the bytes are moved, not copied, when its
/// capacity has room for the framing). Same bytes as the ByteView overload.
[[nodiscard]] Result<Bytes> v4_request(std::string_view method, std::string_view endpoint,
                                       const Headers& headers, Bytes&& body);

// ---- client: decoding a reply ----------------------------------------------------------------

/// A snode destination's reply, decrypted: {"status"|"status_code": S, "body": "…"}.
struct NodeResponse {
    int status = 0;
    /// The "body" string (usually JSON text); when the reply has no "body", the whole JSON text.
    std::string body;
};

/// Decodes the HTTP 200 body of a snode-destination request: base64 (or {"result": "<base64>"}),
/// decrypt, JSON. Errors: onion_bad_response (not base64/JSON, no status, body not a string),
/// onion_too_short, onion_decrypt_failed (after trying the xchacha20 → aes-gcm fallback).
[[nodiscard]] Result<NodeResponse> decode_node_response(const ResponseKey& key, std::string_view http_body);

/// A server destination's v4 reply: `l<n>:{"code":S,"headers":{…}}<m>:<body>e`, decrypted.
struct ServerResponse {
    int status = 0;
    Headers headers;
    Bytes body;
};

/// Decodes the raw (not base64) HTTP body of a server-destination v4 request.
/// Errors: onion_too_short, onion_decrypt_failed, onion_bad_response (bad bencode or metadata).
[[nodiscard]] Result<ServerResponse> decode_server_response(const ResponseKey& key, ByteView http_body);
/// The same, consuming the HTTP body: decrypted in its buffer, which becomes the response's body
/// (no copy of a large body is made). Same results and errors as the ByteView overload.
[[nodiscard]] Result<ServerResponse> decode_server_response(const ResponseKey& key, Bytes&& http_body);

/// Decrypts a reply with the response key (with the xchacha20 → aes-gcm fallback).
[[nodiscard]] Result<Bytes> decrypt_response(const ResponseKey& key, ByteView wire);

}  // namespace session::onion
