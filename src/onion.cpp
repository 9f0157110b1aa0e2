// onion.cpp: Session onion requests (see include/session/onion.hpp for the formulas and sources).
#include "session/onion.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "detail/aes_gcm.hpp"
#include "detail/bencode.hpp"
#include "detail/crypto.hpp"
#include "detail/json_limited.hpp"
#include "detail/onion_wire.hpp"
#include "detail/text.hpp"

namespace session::onion {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
namespace bt = session::detail::bencode;
using session::detail::onion_wire::as_chars;
using session::detail::onion_wire::Framed;
using session::detail::onion_wire::LayerKeys;
using session::detail::onion_wire::headers_from_json;
using session::detail::onion_wire::parse_json;
using session::detail::onion_wire::v4_frame;

// The HMAC key of the aes-gcm hop key derivation (libsession hop_encryption.cpp, storage server
// channel_encryption.cpp): the four ASCII bytes "LOKI".
constexpr std::string_view kGcmHmacKey = "LOKI";
// The control JSON that marks "the final hop is this snode" (any JSON with a "headers" key does;
// storage-server.md §3.5). We send exactly what session-desktop sends: onions.ts
// sendOnionRequestNoRetries sets finalDestOptions.body = null and headers = {} after dropping
// destination_ed25519_hex, then JSON.stringify gives {"body":null,"headers":{}}. (libsession sends
// {"headers":""}; the storage server reads only the presence of "headers".)
constexpr std::string_view kFinalHopControl = R"({"body":null,"headers":{}})";
// Largest HTTP body we accept as a reply: the 10 MiB limit, base64-expanded, plus slack.
constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

std::string truncated_for_message(std::string_view s, std::size_t max = 40) {
    std::string out(s.substr(0, max));
    if (s.size() > max) out += "...";
    return out;
}

std::string_view trim_ascii_space(std::string_view s) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// JSON text of a value built from caller strings: nlohmann throws on invalid UTF-8, which a Result
// API must report rather than throw.
template <class J>
Result<std::string> dump_checked(const J& j, std::string_view what) {
    try {
        return j.dump();
    } catch (const nlohmann::json::type_error&) {
        return unexpected(Errc::invalid_argument, "onion: " + std::string(what) + ": a string is not valid UTF-8");
    }
}

Bytes le32(std::size_t n) {
    return {static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n >> 16),
            static_cast<std::uint8_t>(n >> 24)};
}

}  // namespace

// ---- encryption types ------------------------------------------------------------------------

std::string_view to_string(EncType t) noexcept { return t == EncType::xchacha20 ? "xchacha20" : "aes-gcm"; }

Result<EncType> parse_enc_type(std::string_view s) {
    if (s == "aes-gcm" || s == "gcm") return EncType::aes_gcm;
    if (s == "xchacha20" || s == "xchacha20-poly1305") return EncType::xchacha20;
    if (s == "aes-cbc" || s == "cbc")
        return unexpected(Errc::onion_bad_enc_type, "onion: enc_type: aes-cbc is not supported (unauthenticated)");
    return unexpected(Errc::onion_bad_enc_type,
                      "onion: enc_type: expected aes-gcm or xchacha20, got \"" + truncated_for_message(s) + "\"");
}

std::size_t overhead(EncType t) noexcept { return nonce_size(t) + kTagBytes; }
std::size_t nonce_size(EncType t) noexcept { return t == EncType::xchacha20 ? kXChaChaNonceBytes : kGcmIvBytes; }

// ---- X25519 and key derivation ---------------------------------------------------------------

X25519PublicKey x25519_public_key(const Secret<32>& secret) {
    detail::sodium_ready();
    X25519PublicKey pk;
    crypto_scalarmult_base(pk.bytes.data(), secret.reveal().data());
    return pk;
}

X25519KeyPair generate_x25519(Rng& rng) {
    Secret<32> sk;
    rng.fill(sk.mutable_bytes());
    X25519PublicKey pk = x25519_public_key(sk);
    return X25519KeyPair{std::move(sk), pk};
}

Result<Secret<32>> shared_secret(const Secret<32>& own_secret, const X25519PublicKey& peer) {
    detail::sodium_ready();
    Secret<32> dh;
    // crypto_scalarmult fails (-1) when the result is all zeros, i.e. `peer` is a low-order point.
    if (crypto_scalarmult(dh.mutable_bytes().data(), own_secret.reveal().data(), peer.bytes.data()) != 0)
        return unexpected(Errc::onion_bad_key, "onion: X25519: peer public key is a low-order point");
    return dh;
}

Secret<32> derive_key(EncType t, const Secret<32>& dh, const X25519PublicKey& client_pk,
                      const X25519PublicKey& server_pk) {
    if (t == EncType::aes_gcm) {
        auto mac = detail::hmac_sha256(as_bytes(kGcmHmacKey), dh.reveal());
        Secret<32> key{std::span<const std::uint8_t, 32>(mac)};
        detail::wipe(mac.data(), mac.size());
        return key;
    }
    Bytes h = detail::blake2b_parts(32, {dh.reveal(), client_pk.view(), server_pk.view()});
    Secret<32> key{std::span<const std::uint8_t, 32>(h.data(), 32)};
    detail::wipe(h.data(), h.size());
    return key;
}

Result<Secret<32>> client_key(EncType t, const Secret<32>& ephemeral_secret, const X25519PublicKey& ephemeral_public,
                              const X25519PublicKey& server_pk) {
    auto dh = shared_secret(ephemeral_secret, server_pk);
    if (!dh) return unexpected(std::move(dh).error());
    return derive_key(t, *dh, ephemeral_public, server_pk);
}

Result<Secret<32>> server_key(EncType t, const Secret<32>& node_secret, const X25519PublicKey& node_public,
                              const X25519PublicKey& client_pk) {
    auto dh = shared_secret(node_secret, client_pk);
    if (!dh) return unexpected(std::move(dh).error());
    return derive_key(t, *dh, client_pk, node_public);
}

// ---- AEAD ------------------------------------------------------------------------------------

Result<Bytes> encrypt_with_nonce(EncType t, const Secret<32>& key, ByteView nonce, ByteView plaintext) {
    if (nonce.size() != nonce_size(t))
        return unexpected(Errc::invalid_argument, "onion: encrypt: nonce: expected " +
                                                      std::to_string(nonce_size(t)) + " bytes, got " +
                                                      std::to_string(nonce.size()));
    if (plaintext.size() > kMaxAeadBytes)
        return unexpected(Errc::onion_too_large, "onion: encrypt: plaintext of " + std::to_string(plaintext.size()) +
                                                     " bytes exceeds " + std::to_string(kMaxAeadBytes));
    Bytes out(nonce.size() + plaintext.size() + kTagBytes);
    std::copy(nonce.begin(), nonce.end(), out.begin());
    if (t == EncType::aes_gcm) {
        std::span<std::uint8_t, kTagBytes> tag(out.data() + nonce.size() + plaintext.size(), kTagBytes);
        if (!detail::aes256gcm_encrypt(key.reveal(), std::span<const std::uint8_t, kGcmIvBytes>(nonce.data(), kGcmIvBytes),
                                       plaintext, out.data() + nonce.size(), tag))
            return unexpected(Errc::onion_encrypt_failed, "onion: encrypt: AES-256-GCM failed in OpenSSL");
        return out;
    }
    detail::sodium_ready();
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + nonce.size(), &written, plaintext.data(),
                                               plaintext.size(), nullptr, 0, nullptr, nonce.data(),
                                               key.reveal().data());
    if (written != plaintext.size() + kTagBytes)
        return unexpected(Errc::onion_encrypt_failed, "onion: encrypt: XChaCha20-Poly1305 wrote an unexpected length");
    return out;
}

Result<Bytes> encrypt(EncType t, const Secret<32>& key, ByteView plaintext, Rng& rng) {
    ByteArray<kXChaChaNonceBytes> nonce{};
    std::span<std::uint8_t> n(nonce.data(), nonce_size(t));
    rng.fill(n);
    return encrypt_with_nonce(t, key, n, plaintext);
}

Result<Bytes> decrypt(EncType t, const Secret<32>& key, ByteView wire) {
    const std::size_t ns = nonce_size(t);
    if (wire.size() < ns + kTagBytes)
        return unexpected(Errc::onion_too_short, "onion: decrypt: " + std::string(to_string(t)) + ": expected >= " +
                                                     std::to_string(ns + kTagBytes) + " bytes (nonce + tag), got " +
                                                     std::to_string(wire.size()));
    const std::size_t ct_len = wire.size() - ns - kTagBytes;
    Bytes out(ct_len);
    if (t == EncType::aes_gcm) {
        if (!detail::aes256gcm_decrypt(key.reveal(), std::span<const std::uint8_t, kGcmIvBytes>(wire.data(), kGcmIvBytes),
                                       wire.subspan(ns, ct_len),
                                       std::span<const std::uint8_t, kTagBytes>(wire.data() + ns + ct_len, kTagBytes),
                                       out.data()))
            return unexpected(Errc::onion_decrypt_failed,
                              "onion: decrypt: aes-gcm: authentication failed (wrong key or tampered data)");
        return out;
    }
    detail::sodium_ready();
    unsigned long long written = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, wire.data() + ns, wire.size() - ns,
                                                   nullptr, 0, wire.data(), key.reveal().data()) != 0 ||
        written != ct_len)
        return unexpected(Errc::onion_decrypt_failed,
                          "onion: decrypt: xchacha20: authentication failed (wrong key or tampered data)");
    return out;
}

// ---- client: building a request ----------------------------------------------------------------

Result<Bytes> encode_combined(ByteView blob, std::string_view trailer_json) {
    const std::size_t total = kLengthPrefixBytes + blob.size() + trailer_json.size();
    if (blob.size() > std::numeric_limits<std::uint32_t>::max() || total > kMaxPayloadBytes)
        return unexpected(Errc::onion_too_large, "onion: payload of " + std::to_string(total) +
                                                     " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes));
    Bytes out = le32(blob.size());
    out.reserve(total);
    out.insert(out.end(), blob.begin(), blob.end());
    out.insert(out.end(), trailer_json.begin(), trailer_json.end());
    return out;
}

namespace {

Error too_large_combined(std::size_t total) {
    return Error{Errc::onion_too_large, "onion: payload of " + std::to_string(total) + " bytes exceeds the limit of " +
                                            std::to_string(kMaxPayloadBytes)};
}

/// encode_combined's limits, for a blob of `blob` bytes and a trailer of `trailer` bytes.
Result<void> check_combined(std::size_t blob, std::size_t trailer) {
    const std::size_t total = kLengthPrefixBytes + blob + trailer;
    if (blob > std::numeric_limits<std::uint32_t>::max() || total > kMaxPayloadBytes)
        return unexpected(too_large_combined(total));
    return {};
}

void put_le32(std::uint8_t* p, std::size_t n) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(n >> (8 * i));
}

std::size_t get_le32(const std::uint8_t* p) {
    return static_cast<std::size_t>(p[0]) | static_cast<std::size_t>(p[1]) << 8 | static_cast<std::size_t>(p[2]) << 16 |
           static_cast<std::size_t>(p[3]) << 24;
}

/// Appends `more`, growing the buffer to exactly what is needed (plus a little) rather than doubling it.
void append(Framed& f, ByteView more) {
    if (f.buf.capacity() - f.buf.size() < more.size()) f.buf.reserve(f.buf.size() + more.size() + 4096);
    f.buf.insert(f.buf.end(), more.begin(), more.end());
}

/// The room build_in_place writes around a payload: exactly `front` bytes before it (nonces and
/// length prefixes), about `tail` after it (routing JSON, tags).
struct Room {
    std::size_t front = 0;
    std::size_t tail = 0;
};

Room room_for(std::size_t hops, EncType t, const Destination& destination) {
    const std::size_t ns = nonce_size(t);
    Room r;
    r.front = ns + hops * (ns + kLengthPrefixBytes) + kLengthPrefixBytes;
    r.tail = (hops + 1) * (kTagBytes + 320);  // a relay's routing JSON is under 200 bytes
    if (std::holds_alternative<SnodeDestination>(destination)) {
        r.front += kLengthPrefixBytes;
        r.tail += kFinalHopControl.size();
    } else {
        const auto& s = std::get<ServerDestination>(destination);
        r.tail += 6 * (s.host.size() + s.target.size() + s.method.size() + s.protocol.size());  // \uXXXX at worst
    }
    return r;
}

/// Puts the contents at offset `front` with `tail` spare capacity after them: in the same buffer
/// when it is large enough, else in one new buffer of the right size.
void place(Framed& f, std::size_t front, std::size_t tail) {
    const std::size_t n = f.size();
    if (f.buf.capacity() >= front + n + tail) {
        if (front > f.off) {
            f.buf.resize(front + n);
            std::memmove(f.buf.data() + front, f.buf.data() + f.off, n);
        } else if (front < f.off) {
            std::memmove(f.buf.data() + front, f.buf.data() + f.off, n);
            f.buf.resize(front + n);
        }
    } else {
        Bytes b;
        b.reserve(front + n + tail);
        b.resize(front);
        b.insert(b.end(), f.buf.begin() + static_cast<std::ptrdiff_t>(f.off), f.buf.end());
        f.buf = std::move(b);
    }
    f.off = front;
}

/// Seals the contents in place: nonce || ciphertext || tag, the nonce written into the room before.
Result<void> seal(Framed& f, EncType t, const Secret<32>& key, Rng& rng) {
    const std::size_t n = f.size();
    if (n > kMaxAeadBytes)
        return unexpected(Errc::onion_too_large, "onion: encrypt: plaintext of " + std::to_string(n) + " bytes exceeds " +
                                                     std::to_string(kMaxAeadBytes));
    const std::size_t ns = nonce_size(t);
    ByteArray<kXChaChaNonceBytes> nonce{};
    rng.fill(std::span<std::uint8_t>(nonce.data(), ns));
    f.off -= ns;  // room_for left it
    std::copy_n(nonce.begin(), ns, f.buf.begin() + static_cast<std::ptrdiff_t>(f.off));
    std::uint8_t* m = f.buf.data() + f.off + ns;
    ByteArray<kTagBytes> tag{};
    if (t == EncType::aes_gcm) {
        if (!detail::aes256gcm_encrypt(key.reveal(), std::span<const std::uint8_t, kGcmIvBytes>(nonce.data(), kGcmIvBytes),
                                       ByteView(m, n), m, tag))
            return unexpected(Errc::onion_encrypt_failed, "onion: encrypt: AES-256-GCM failed in OpenSSL");
    } else {
        detail::sodium_ready();
        unsigned long long maclen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(m, tag.data(), &maclen, m, n, nullptr, 0, nullptr,
                                                            nonce.data(), key.reveal().data());
        if (maclen != kTagBytes)
            return unexpected(Errc::onion_encrypt_failed, "onion: encrypt: XChaCha20-Poly1305 wrote an unexpected length");
    }
    append(f, tag);
    return {};
}

/// Opens one sealed layer in place: [off, end) = nonce || ciphertext || tag becomes the plaintext.
/// With `verify_first` (xchacha20 only) a failure leaves the bytes as they were (libsodium wipes the
/// output of a failed decryption), so another key may be tried. Errors as decrypt's.
Result<void> open_layer(EncType t, const Secret<32>& key, Bytes& b, std::size_t& off, std::size_t& end, bool verify_first) {
    const std::size_t ns = nonce_size(t);
    const std::size_t size = end - off;
    if (size < ns + kTagBytes)
        return unexpected(Errc::onion_too_short, "onion: decrypt: " + std::string(to_string(t)) + ": expected >= " +
                                                     std::to_string(ns + kTagBytes) + " bytes (nonce + tag), got " +
                                                     std::to_string(size));
    const std::uint8_t* nonce = b.data() + off;
    std::uint8_t* c = b.data() + off + ns;
    const std::size_t clen = size - ns - kTagBytes;
    const std::uint8_t* tag = c + clen;
    if (t == EncType::aes_gcm) {
        if (!detail::aes256gcm_decrypt(key.reveal(), std::span<const std::uint8_t, kGcmIvBytes>(nonce, kGcmIvBytes),
                                       ByteView(c, clen), std::span<const std::uint8_t, kTagBytes>(tag, kTagBytes), c))
            return unexpected(Errc::onion_decrypt_failed,
                              "onion: decrypt: aes-gcm: authentication failed (wrong key or tampered data)");
    } else {
        detail::sodium_ready();
        const auto* k = key.reveal().data();
        if ((verify_first && crypto_aead_xchacha20poly1305_ietf_decrypt_detached(nullptr, nullptr, c, clen, tag, nullptr,
                                                                                 0, nonce, k) != 0) ||
            crypto_aead_xchacha20poly1305_ietf_decrypt_detached(c, nullptr, c, clen, tag, nullptr, 0, nonce, k) != 0)
            return unexpected(Errc::onion_decrypt_failed,
                              "onion: decrypt: xchacha20: authentication failed (wrong key or tampered data)");
    }
    off += ns;
    end -= kTagBytes;
    return {};
}

Result<const X25519PublicKey*> check_build(std::span<const NodeKeys> path, const Destination& destination) {
    if (path.empty()) return unexpected(Errc::onion_bad_path, "onion: build: path: expected >= 1 node, got 0");
    for (std::size_t i = 0; i < path.size(); ++i)
        for (std::size_t j = i + 1; j < path.size(); ++j)
            if (path[i].ed25519 == path[j].ed25519 || path[i].x25519 == path[j].x25519)
                return unexpected(Errc::onion_bad_path, "onion: build: path: node " + std::to_string(i) +
                                                            " repeats as node " + std::to_string(j));
    if (const auto* snode = std::get_if<SnodeDestination>(&destination)) {
        for (std::size_t i = 0; i < path.size(); ++i)
            if (path[i].ed25519 == snode->node.ed25519 || path[i].x25519 == snode->node.x25519)
                return unexpected(Errc::onion_bad_path,
                                  "onion: build: destination snode is also path node " + std::to_string(i));
        return &snode->node.x25519;
    }
    const auto& server = std::get<ServerDestination>(destination);
    if (server.host.empty()) return unexpected(Errc::invalid_argument, "onion: build: server host is empty");
    if (server.protocol != "https" && server.protocol != "http")
        return unexpected(Errc::invalid_argument, "onion: build: server protocol: expected http or https, got \"" +
                                                      truncated_for_message(server.protocol) + "\"");
    if (!url_target_allowed(server.target))
        return unexpected(Errc::invalid_argument, "onion: build: server target \"" + truncated_for_message(server.target) +
                                                      "\" is not /loki/…/lsrpc or /oxen/…/lsrpc");
    return &server.x25519;
}

}  // namespace

Result<Request> build(std::span<const NodeKeys> path, const Destination& destination, ByteView payload, EncType t,
                      Rng& rng) {
    const Room room = room_for(path.size(), t, destination);
    Framed f;
    f.buf.reserve(room.front + payload.size() + room.tail);
    f.buf.resize(room.front);
    f.buf.insert(f.buf.end(), payload.begin(), payload.end());
    f.off = room.front;
    return detail::onion_wire::build_in_place(path, destination, std::move(f), t, rng, nullptr);
}

Result<Request> build(std::span<const NodeKeys> path, const Destination& destination, Bytes&& payload, EncType t,
                      Rng& rng) {
    return detail::onion_wire::build_in_place(path, destination, Framed{std::move(payload), 0}, t, rng, nullptr);
}

}  // namespace session::onion

namespace session::detail::onion_wire {

using namespace session::onion;

Result<Request> build_in_place(std::span<const NodeKeys> path, const Destination& destination, Framed payload,
                               EncType t, Rng& rng, LayerKeys* keep) {
    auto checked = check_build(path, destination);
    if (!checked) return unexpected(std::move(checked).error());
    const X25519PublicKey* dest_x = *checked;
    const bool to_snode = std::holds_alternative<SnodeDestination>(destination);
    if (keep) {
        keep->enc_type = t;
        keep->snode_destination = to_snode;
        keep->keys.clear();
    }
    const Room room = room_for(path.size(), t, destination);
    place(payload, room.front, room.tail);

    // Innermost layer, for the destination.
    X25519KeyPair eph = generate_x25519(rng);
    auto dh = shared_secret(eph.secret, *dest_x);
    if (!dh) return unexpected(std::move(dh).error());
    Secret<32> dest_key = derive_key(t, *dh, eph.public_key, *dest_x);
    ResponseKey response_key(t, derive_key(t, *dh, eph.public_key, *dest_x),
                             derive_key(EncType::aes_gcm, *dh, eph.public_key, *dest_x));
    if (to_snode) {
        if (auto ok = check_combined(payload.size(), kFinalHopControl.size()); !ok) return unexpected(ok.error());
        payload.off -= kLengthPrefixBytes;
        put_le32(payload.buf.data() + payload.off, payload.size() - kLengthPrefixBytes);
        append(payload, as_bytes(kFinalHopControl));
    } else if (payload.size() > kMaxPayloadBytes) {
        return unexpected(Errc::onion_too_large, "onion: build: payload of " + std::to_string(payload.size()) +
                                                     " bytes exceeds " + std::to_string(kMaxPayloadBytes));
    }
    if (auto ok = seal(payload, t, dest_key, rng); !ok) return unexpected(ok.error());
    if (keep) keep->keys.push_back(std::move(dest_key));

    // Routing JSON read by the last path node: where to send the innermost blob.
    json route;
    if (const auto* snode = std::get_if<SnodeDestination>(&destination)) {
        route = {{"destination", to_hex(snode->node.ed25519.view())}};
    } else {
        const auto& server = std::get<ServerDestination>(destination);
        const std::uint16_t port = server.port != 0 ? server.port : (server.protocol == "http" ? 80 : 443);
        route = {{"host", server.host},         {"target", server.target}, {"method", server.method},
                 {"protocol", server.protocol}, {"port", port}};
    }
    route["ephemeral_key"] = to_hex(eph.public_key.view());
    route["enc_type"] = std::string(to_string(t));

    // Wrap for each path node from the last to the guard: le32(blob) || blob || route, sealed.
    auto frame = [&](std::string_view trailer) -> Result<void> {
        if (auto ok = check_combined(payload.size(), trailer.size()); !ok) return ok;
        payload.off -= kLengthPrefixBytes;
        put_le32(payload.buf.data() + payload.off, payload.size() - kLengthPrefixBytes);
        append(payload, as_bytes(trailer));
        return {};
    };
    for (std::size_t i = path.size(); i-- > 0;) {
        auto route_text = dump_checked(route, "build: routing JSON");  // host/target/method are caller text
        if (!route_text) return unexpected(std::move(route_text).error());
        if (auto ok = frame(*route_text); !ok) return unexpected(ok.error());
        X25519KeyPair hop = generate_x25519(rng);
        auto key = client_key(t, hop.secret, hop.public_key, path[i].x25519);
        if (!key) return unexpected(std::move(key).error());
        if (auto ok = seal(payload, t, *key, rng); !ok) return unexpected(ok.error());
        if (keep) keep->keys.push_back(std::move(*key));
        if (i > 0)
            route = {{"destination", to_hex(path[i].ed25519.view())}};
        else
            route = json::object();
        route["ephemeral_key"] = to_hex(hop.public_key.view());
        route["enc_type"] = std::string(to_string(t));
    }
    if (auto ok = frame(route.dump()); !ok) return unexpected(ok.error());
    // room_for counted the front exactly; were it ever more, the body still starts at its first byte.
    if (payload.off > 0) payload.buf.erase(payload.buf.begin(), payload.buf.begin() + static_cast<std::ptrdiff_t>(payload.off));
    return Request{std::move(payload.buf), std::move(response_key)};
}

Result<Framed> open_built(Bytes body, const LayerKeys& keys) {
    Framed f{std::move(body), 0};
    std::size_t end = f.buf.size();
    const auto fail = [] {
        return unexpected(Errc::onion_decrypt_failed, "onion: open built request: not the request these keys built");
    };
    // [off, end) = le32(n) || blob || trailer  ->  blob
    const auto unframe = [&]() -> bool {
        if (end - f.off < kLengthPrefixBytes) return false;
        const std::size_t n = get_le32(f.buf.data() + f.off);
        if (n > end - f.off - kLengthPrefixBytes) return false;
        f.off += kLengthPrefixBytes;
        end = f.off + n;
        return true;
    };
    for (auto it = keys.keys.rbegin(); it != keys.keys.rend(); ++it) {
        if (!unframe()) return fail();
        if (!open_layer(keys.enc_type, *it, f.buf, f.off, end, false)) return fail();
    }
    if (keys.snode_destination && !unframe()) return fail();
    f.buf.resize(end);
    return f;
}

}  // namespace session::detail::onion_wire

namespace session::onion {

namespace {

/// The v4 request's metadata JSON (method, endpoint, headers), checked.
Result<std::string> v4_meta(std::string_view method, std::string_view endpoint, const Headers& headers, bool has_body) {
    if (method.empty()) return unexpected(Errc::invalid_argument, "onion: v4 request: method is empty");
    if (endpoint.empty() || endpoint.front() != '/')
        return unexpected(Errc::invalid_argument, "onion: v4 request: endpoint must start with '/', got \"" +
                                                      truncated_for_message(endpoint) + "\"");
    if (has_body && method != "POST" && method != "PUT")
        return unexpected(Errc::invalid_argument,
                          "onion: v4 request: a body needs POST or PUT, got " + truncated_for_message(method));
    // Keys in libsession's order (method, endpoint, headers); ordered_json keeps insertion order.
    ordered_json meta;
    meta["method"] = std::string(method);
    meta["endpoint"] = std::string(endpoint);
    ordered_json h = ordered_json::object();
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
        if (detail::iequals(name, "User-Agent")) continue;  // libquic generate_payload drops it (fingerprinting)
        if (detail::iequals(name, "Content-Type")) has_content_type = true;
        h[name] = value;
    }
    if (has_body && !has_content_type) h["Content-Type"] = "application/json";
    meta["headers"] = std::move(h);
    return dump_checked(meta, "v4 request");
}

}  // namespace

Result<Bytes> v4_request(std::string_view method, std::string_view endpoint, const Headers& headers,
                         std::optional<ByteView> body) {
    auto meta_text = v4_meta(method, endpoint, headers, body.has_value());
    if (!meta_text) return unexpected(std::move(meta_text).error());
    if (!body) {
        bt::List list;
        list.emplace_back(std::move(*meta_text));
        return bt::encode_bytes(bt::Value(std::move(list)));
    }
    // l<len>:<meta><len>:<body>e (bencode's list of two strings), written once, with room after it
    // for the onion layers.
    const std::string prefix =
        "l" + std::to_string(meta_text->size()) + ":" + *meta_text + std::to_string(body->size()) + ":";
    Bytes out;
    out.reserve(prefix.size() + body->size() + 1 + detail::onion_wire::kOnionRoomBytes);
    out.insert(out.end(), prefix.begin(), prefix.end());
    out.insert(out.end(), body->begin(), body->end());
    out.push_back('e');
    return out;
}

Result<Bytes> v4_request(std::string_view method, std::string_view endpoint, const Headers& headers, Bytes&& body) {
    auto meta_text = v4_meta(method, endpoint, headers, true);
    if (!meta_text) return unexpected(std::move(meta_text).error());
    // l<len>:<meta><len>:<body>e, as bencode writes a list of two strings.
    const std::string prefix =
        "l" + std::to_string(meta_text->size()) + ":" + *meta_text + std::to_string(body.size()) + ":";
    Bytes b = std::move(body);
    if (b.capacity() >= prefix.size() + b.size() + 1) {
        b.insert(b.begin(), prefix.begin(), prefix.end());  // moves the body along in its buffer
    } else {
        Bytes grown;
        grown.reserve(prefix.size() + b.size() + 1 + detail::onion_wire::kOnionRoomBytes);
        grown.insert(grown.end(), prefix.begin(), prefix.end());
        grown.insert(grown.end(), b.begin(), b.end());
        b = std::move(grown);
    }
    b.push_back('e');
    return b;
}

bool url_target_allowed(std::string_view target) noexcept {
    const bool prefix = target.starts_with("/loki/") || target.starts_with("/oxen/");
    return prefix && target.ends_with("/lsrpc") && target.find('?') == std::string_view::npos;
}

// ---- client: decoding a reply ----------------------------------------------------------------

Result<Bytes> decrypt_response(const ResponseKey& key, ByteView wire) {
    if (wire.size() > kMaxResponseBytes)
        return unexpected(Errc::onion_bad_response, "onion: response: " + std::to_string(wire.size()) +
                                                        " bytes exceeds " + std::to_string(kMaxResponseBytes));
    auto pt = decrypt(key.enc_type(), key.key(), wire);
    if (pt || key.enc_type() == EncType::aes_gcm) return pt;
    // libsession falls back to AES-GCM with the same DH (the legacy push server only speaks GCM).
    auto gcm = decrypt(EncType::aes_gcm, key.gcm_fallback_key(), wire);
    if (gcm) return gcm;
    if (pt.error().code == Errc::onion_too_short && gcm.error().code == Errc::onion_too_short)
        return unexpected(Errc::onion_too_short, "onion: response: " + std::to_string(wire.size()) +
                                                     " bytes is shorter than any AEAD overhead");
    return unexpected(Errc::onion_decrypt_failed,
                      "onion: response: decryption failed (both XChaCha20-Poly1305 and AES-256-GCM)");
}

namespace {

/// What decode_node_response makes of the destination's JSON object: `status` is its "status" (else
/// "status_code") when that is an integer, `body` its "body" as text (a string's value, any other
/// value's JSON), and `whole` the object's text, which is the body when there is no "body".
Result<NodeResponse> node_response(std::optional<std::int64_t> status, std::optional<std::string> body,
                                   std::string_view whole) {
    if (!status)
        return unexpected(Errc::onion_bad_response, "onion: response: no integer \"status\" or \"status_code\"");
    if (*status < 0 || *status > 999)
        return unexpected(Errc::onion_bad_response, "onion: response: status " + std::to_string(*status) + " out of range");
    NodeResponse out;
    out.status = static_cast<int>(*status);
    out.body = body ? std::move(*body) : std::string(whole);  // libsession: no "body" -> the whole JSON is the body
    return out;
}

}  // namespace

Result<NodeResponse> decode_node_response(const ResponseKey& key, std::string_view http_body) {
    if (http_body.size() > kMaxResponseBytes)
        return unexpected(Errc::onion_bad_response, "onion: response: " + std::to_string(http_body.size()) +
                                                        " bytes exceeds " + std::to_string(kMaxResponseBytes));
    std::string_view text = trim_ascii_space(http_body);
    std::string wrapped;  // holds the "result" string when the body is {"result": "<b64>"}
    if (!text.empty() && text.front() == '{') {
        // A relay's or the destination's text: depth-checked before it is walked (json_limited.hpp).
        auto j = detail::parse_limited_or_none(text);
        if (!j || !j->is_object())
            return unexpected(Errc::onion_bad_response, "onion: response: body starts with '{' but is not a JSON object");
        auto it = j->find("result");
        if (it == j->end() || !it->is_string())
            return unexpected(Errc::onion_bad_response, "onion: response: JSON body has no string \"result\"");
        wrapped = it->get<std::string>();
        text = wrapped;
    }
    auto wire = base64_decode(text);
    if (!wire) return unexpected(Errc::onion_bad_response, "onion: response: not base64: " + wire.error().message);
    auto pt = decrypt_response(key, *wire);
    if (!pt) return unexpected(std::move(pt).error());

    // The destination's JSON. The usual wrapper, {"status":200,"body":"<the reply, escaped>"}, is
    // read without a tree (its body is most of a batch reply's bytes, lexed once here, then
    // parsed by the caller); anything else is parsed in full.
    const std::string_view reply = as_chars(*pt);
    if (auto flat = detail::scan_flat_object(reply)) {
        const auto find = [&](std::string_view key) -> detail::FlatMember* {
            for (auto& m : *flat)
                if (m.key == key) return &m;
            return nullptr;
        };
        auto* status = find("status");
        if (status == nullptr) status = find("status_code");
        std::optional<std::int64_t> code;
        if (status != nullptr)
            if (const auto* n = std::get_if<std::int64_t>(&status->value)) code = *n;
        std::optional<std::string> body;
        if (auto* b = find("body"))
            body = std::holds_alternative<std::string>(b->value) ? std::move(std::get<std::string>(b->value))
                                                                  : std::to_string(std::get<std::int64_t>(b->value));
        return node_response(code, std::move(body), reply);
    }
    // Depth-checked before it is walked, so the non-string "body" below may be dumped (dump()
    // recurses once per level).
    if (detail::json_depth(reply) > detail::kMaxJsonDepth)
        return unexpected(Errc::onion_bad_response, "onion: response: decrypted reply is nested deeper than " +
                                                        std::to_string(detail::kMaxJsonDepth) + " levels");
    auto j = parse_json(reply);
    if (!j || !j->is_object())
        return unexpected(Errc::onion_bad_response, "onion: response: decrypted reply is not a JSON object");
    auto status = j->find("status");
    if (status == j->end()) status = j->find("status_code");  // desktop accepts either spelling
    std::optional<std::int64_t> code;
    if (status != j->end() && status->is_number_integer()) code = status->get<std::int64_t>();
    std::optional<std::string> body;
    if (auto b = j->find("body"); b != j->end())
        body = b->is_string() ? b->get<std::string>() : b->dump();  // json=true replies embed the value itself
    return node_response(code, std::move(body), reply);
}

namespace {

/// The status and headers of a v4 reply's metadata.
Result<ServerResponse> server_response_from_meta(const ordered_json& meta) {
    auto code = meta.find("code");
    if (code == meta.end() || !code->is_number_integer())
        return unexpected(Errc::onion_bad_response, "onion: v4 response: metadata has no integer \"code\"");
    const auto c = code->get<std::int64_t>();
    if (c < 0 || c > 999)
        return unexpected(Errc::onion_bad_response, "onion: v4 response: code " + std::to_string(c) + " out of range");
    ServerResponse out;
    out.status = static_cast<int>(c);
    if (auto h = meta.find("headers"); h != meta.end() && !h->is_null()) {
        auto headers = headers_from_json(*h, "onion: v4 response");
        if (!headers) return unexpected(Errc::onion_bad_response, headers.error().message);
        out.headers = std::move(*headers);
    }
    return out;
}

/// The decrypted v4 reply (any bencode: the frame's errors name what is wrong).
Result<ServerResponse> server_response_from(ByteView pt) {
    auto v = bt::decode(pt);
    if (!v) return unexpected(Errc::onion_bad_response, "onion: v4 response: " + v.error().message);
    auto frame = v4_frame(*v, Errc::onion_bad_response, "onion: v4 response");
    if (!frame) return unexpected(std::move(frame).error());
    auto out = server_response_from_meta(frame->meta);
    if (!out) return out;
    if (frame->body) out->body.assign(frame->body->begin(), frame->body->end());
    return out;
}

/// A bencoded string at b[i] ("<len>:<bytes>", len without leading zeros) ending before `end`: its
/// offset and length, i moved past it. False for anything else.
bool bencode_string_at(const Bytes& b, std::size_t end, std::size_t& i, std::size_t& at, std::size_t& len) {
    auto digit = [&](std::size_t k) { return k < end && b[k] >= '0' && b[k] <= '9'; };
    std::size_t j = i;
    if (!digit(j) || (b[j] == '0' && digit(j + 1))) return false;
    std::size_t n = 0;
    for (; digit(j); ++j) {
        if (j - i >= 18) return false;  // more than any buffer here
        n = n * 10 + static_cast<std::size_t>(b[j] - '0');
    }
    if (j >= end || b[j] != ':') return false;
    ++j;
    if (n > end - j) return false;
    at = j;
    len = n;
    i = j + n;
    return true;
}

}  // namespace

Result<ServerResponse> decode_server_response(const ResponseKey& key, ByteView http_body) {
    auto pt = decrypt_response(key, http_body);
    if (!pt) return unexpected(std::move(pt).error());
    return server_response_from(*pt);
}

Result<ServerResponse> decode_server_response(const ResponseKey& key, Bytes&& http_body) {
    Bytes b = std::move(http_body);
    if (b.size() > kMaxResponseBytes)
        return unexpected(Errc::onion_bad_response, "onion: response: " + std::to_string(b.size()) + " bytes exceeds " +
                                                        std::to_string(kMaxResponseBytes));
    // decrypt_response, in the buffer: the xchacha20 attempt is verified before it decrypts, so that
    // the aes-gcm fallback still has the ciphertext.
    std::size_t off = 0, end = b.size();
    auto opened = open_layer(key.enc_type(), key.key(), b, off, end, key.enc_type() == EncType::xchacha20);
    if (!opened) {
        if (key.enc_type() == EncType::aes_gcm) return unexpected(std::move(opened).error());
        auto gcm = open_layer(EncType::aes_gcm, key.gcm_fallback_key(), b, off, end, false);
        if (!gcm) {
            if (opened.error().code == Errc::onion_too_short && gcm.error().code == Errc::onion_too_short)
                return unexpected(Errc::onion_too_short, "onion: response: " + std::to_string(b.size()) +
                                                             " bytes is shorter than any AEAD overhead");
            return unexpected(Errc::onion_decrypt_failed,
                              "onion: response: decryption failed (both XChaCha20-Poly1305 and AES-256-GCM)");
        }
    }
    // The usual frame, l<n>:<meta>[<m>:<body>]e, is read where it lies and its body moved to the front
    // of the buffer; anything else goes through the bencode decoder for its error.
    std::size_t i = off, meta_at = 0, meta_len = 0, body_at = 0, body_len = 0;
    bool has_body = false;
    bool plain = i < end && b[i] == 'l';
    if (plain) {
        ++i;
        plain = bencode_string_at(b, end, i, meta_at, meta_len);
    }
    if (plain && i < end && b[i] != 'e') {
        has_body = true;
        plain = bencode_string_at(b, end, i, body_at, body_len);
    }
    plain = plain && i + 1 == end && b[i] == 'e';
    if (!plain) return server_response_from(ByteView(b.data() + off, end - off));
    auto meta = parse_json<ordered_json>(as_chars(ByteView(b.data() + meta_at, meta_len)));
    if (!meta || !meta->is_object())
        return unexpected(Errc::onion_bad_response, "onion: v4 response: metadata is not a JSON object");
    auto out = server_response_from_meta(*meta);
    if (!out) return out;
    if (has_body) {
        std::memmove(b.data(), b.data() + body_at, body_len);
        b.resize(body_len);
        out->body = std::move(b);
    }
    return out;
}

}  // namespace session::onion
