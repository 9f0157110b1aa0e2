#pragma once
// onion_node.hpp: the node side of onion requests: what a service node (or a server behind one)
// does with a request — split the combined payload, read the trailer, peel a layer, classify it,
// wrap the reply; v4 request parsing and v4 responses. The library's client never needs these:
// they are private (namespace session::onion, header under src/detail) and used by the tests, the
// fuzz targets, the benchmarks and session-localnet's file server. session-localnet's service nodes
// keep their own implementation on purpose (tools/localnet/README.md: an independent check).
// Sources: storage-server.md §3 (oxenss onion_processing.cpp, request_handler.cpp); protocol.md §4.5.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/onion.hpp"
#include "session/rng.hpp"

namespace session::onion {

/// A combined payload split into its parts; views into the input.
struct Combined {
    ByteView blob;
    std::string_view trailer;  // JSON text (not yet parsed)
};

/// Splits [u32 LE N][N bytes][JSON]. Errors: onion_truncated (< 4 bytes), onion_bad_payload
/// (N past the end), onion_too_large (input > kMaxPayloadBytes).
[[nodiscard]] Result<Combined> parse_combined(ByteView payload);
/// The inverse: len32(blob) || blob || trailer_json. Errors: onion_too_large.
[[nodiscard]] Result<Bytes> encode_combined(ByteView blob, std::string_view trailer_json);

/// The trailer of an entry request (or of a server destination's plaintext): which key and enc type
/// encrypted the blob.
struct LayerKeyInfo {
    X25519PublicKey ephemeral_key;
    EncType enc_type = EncType::aes_gcm;
    int hop_no = 0;  // optional fake starting hop number, clamped to >= 0
};

/// Parses the trailer JSON: ephemeral_key (64 hex, required), enc_type (default aes-gcm), hop_no.
/// Errors: onion_bad_json (not exactly one JSON object), onion_missing_field (no ephemeral_key, or a
/// key of the wrong JSON type), onion_bad_key (not 64 hex digits), onion_bad_enc_type.
[[nodiscard]] Result<LayerKeyInfo> parse_trailer(std::string_view trailer_json);

/// A full entry request: the guard's layer ciphertext plus its key info (views into the input).
struct EntryRequest {
    ByteView ciphertext;
    LayerKeyInfo info;
};
/// parse_combined + parse_trailer, with their errors.
[[nodiscard]] Result<EntryRequest> parse_entry(ByteView body);

/// A decrypted layer and the key to encrypt the reply to it.
struct Peeled {
    Bytes plaintext;
    Secret<32> reply_key;
};

/// Decrypts one layer at a node. Errors: onion_bad_key, onion_too_short, onion_decrypt_failed
/// (the storage server answers each of these with 400 "Invalid ciphertext").
[[nodiscard]] Result<Peeled> decrypt_layer(EncType t, const Secret<32>& node_secret,
                                           const X25519PublicKey& node_public,
                                           const X25519PublicKey& client_ephemeral, ByteView ciphertext);

/// The trailer said "headers": this node is the destination. `body` is the inner blob (JSON-RPC).
struct FinalDestination {
    Bytes body;
    bool json = false;    // embed a JSON body as a value rather than a string
    bool base64 = true;   // base64 the encrypted reply
};
/// The trailer said "host": POST `payload` (the whole decrypted layer) to an external server.
struct RelayToServer {
    Bytes payload;
    std::string host;
    std::uint16_t port = 443;
    std::string protocol = "https";
    std::string target;
};
/// Otherwise: forward `ciphertext` to the snode `destination`.
struct RelayToNode {
    Bytes ciphertext;
    Ed25519PublicKey destination;
    X25519PublicKey ephemeral_key;
    EncType enc_type = EncType::aes_gcm;
};
using Layer = std::variant<FinalDestination, RelayToServer, RelayToNode>;

/// Classifies a decrypted layer (storage-server.md §3.3: "headers" > "host" > "destination").
/// Errors (all "Invalid json" at the storage server): onion_truncated, onion_bad_payload,
/// onion_bad_json, onion_missing_field (a required key absent or of the wrong type), onion_bad_key,
/// onion_bad_enc_type.
[[nodiscard]] Result<Layer> classify_layer(ByteView plaintext);

/// Encrypts a reply with the layer's key (a fresh IV/nonce): same as `encrypt`.
[[nodiscard]] Result<Bytes> encrypt_reply(EncType t, const Secret<32>& key, ByteView plaintext, Rng& rng);

/// The destination snode's reply (storage-server.md §3.6, wrap_proxy_response): the JSON text
/// {"body":B',"status":S} encrypted with `key`, then base64 if flags.base64. `body` is the RPC result:
/// JSON text when `body_is_json` (B' = that text as a JSON string unless flags.json, then the value
/// itself), otherwise a plain string. Errors: onion_encrypt_failed, onion_too_large.
[[nodiscard]] Result<Bytes> wrap_node_response(EncType t, const Secret<32>& key, int status, std::string_view body,
                                               bool body_is_json, const FinalDestination& flags, Rng& rng);

/// A parsed v4 request (what a file server / SOGS sees after decrypting).
struct V4Request {
    std::string method;
    std::string endpoint;
    Headers headers;
    std::optional<Bytes> body;
};
/// Parses a v4 request. Errors: bencode_invalid, onion_bad_payload (not a 1-2 element list of
/// strings, bad JSON metadata, endpoint not starting with '/').
[[nodiscard]] Result<V4Request> parse_v4_request(ByteView plaintext);
/// A v4 response (plaintext, to be encrypted): `l<n>:{"code":S,"headers":{…}}<m>:<body>e`.
[[nodiscard]] Bytes v4_response(int status, const Headers& headers, ByteView body);

}  // namespace session::onion
