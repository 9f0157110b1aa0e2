// keys.cpp: identity keys and Session IDs (protocol.md §1.2).
//   Ed25519 seed = seed16 || 16 zero bytes (session-desktop generateKeypair pads the hex seed)
//   (ed_pk, ed_sk) = crypto_sign_ed25519_seed_keypair(seed32);  ed_sk = seed32 || ed_pk
//   x_pk = crypto_sign_ed25519_pk_to_curve25519(ed_pk);  x_sk = crypto_sign_ed25519_sk_to_curve25519(ed_sk)
//   Session ID = "05" || hex(x_pk)
#include "session/keys.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string>

#include "detail/crypto.hpp"

namespace session {

namespace {

constexpr std::uint8_t kSessionIdPrefix = 0x05;

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// What a non-05 prefix means (protocol.md §1.2), so the caller learns why the ID is unusable.
std::string describe_prefix(std::string_view prefix) {
    if (prefix == "03") return "a closed-group ID (prefix 03)";
    if (prefix == "15") return "a community-blinded ID (prefix 15)";
    if (prefix == "25") return "a community-blinded ID (prefix 25)";
    if (prefix == "07") return "a version-blinded ID (prefix 07)";
    return "an unknown prefix " + std::string(prefix);
}

}  // namespace

Result<SessionId> SessionId::parse(std::string_view hex) {
    if (hex.size() != kSessionIdHexLength)
        return unexpected(Errc::session_id_invalid, "session id: expected " + std::to_string(kSessionIdHexLength) +
                                                        " hex characters, got " + std::to_string(hex.size()));
    for (std::size_t i = 0; i < hex.size(); ++i)
        if (!is_hex_digit(hex[i]))
            return unexpected(Errc::session_id_invalid,
                              "session id: expected a hex digit at position " + std::to_string(i));
    std::string prefix{hex.substr(0, 2)};
    for (auto& c : prefix)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (prefix != "05")
        return unexpected(Errc::session_id_wrong_prefix, "session id: expected prefix 05 (an account ID), got " +
                                                             describe_prefix(prefix) +
                                                             ", which cannot receive a 1:1 message");
    auto key = from_hex_array<32>(hex.substr(2));
    if (!key) return unexpected(Errc::session_id_invalid, "session id: " + key.error().message);
    return SessionId(X25519PublicKey{*key});
}

std::string SessionId::hex() const { return "05" + to_hex(key_.bytes); }

ByteArray<33> SessionId::bytes() const {
    ByteArray<33> out{};
    out[0] = kSessionIdPrefix;
    for (std::size_t i = 0; i < 32; ++i) out[i + 1] = key_.bytes[i];
    return out;
}

Identity Identity::from_ed25519_seed(const Secret<32>& seed) {
    detail::sodium_ready();
    Identity id;
    crypto_sign_ed25519_seed_keypair(id.ed_pk_.bytes.data(), id.ed_sk_.mutable_bytes().data(), seed.reveal().data());
    // Cannot fail for a key libsodium just derived (it is never a small-order point).
    if (crypto_sign_ed25519_pk_to_curve25519(id.x_pk_.bytes.data(), id.ed_pk_.bytes.data()) != 0)
        throw std::runtime_error("keys: libsodium could not convert a freshly derived Ed25519 key");
    crypto_sign_ed25519_sk_to_curve25519(id.x_sk_.mutable_bytes().data(), id.ed_sk_.reveal().data());
    return id;
}

Identity Identity::from_seed(const mnemonic::Seed& seed) {
    Secret<32> full;  // zero-initialised: seed16 || 16 zero bytes
    auto dst = full.mutable_bytes();
    auto src = seed.reveal();
    for (std::size_t i = 0; i < mnemonic::kSeedBytes; ++i) dst[i] = src[i];
    return from_ed25519_seed(full);
}

Result<Identity> Identity::from_phrase(std::string_view phrase) {
    auto seed = mnemonic::decode(phrase);
    if (!seed) return unexpected(std::move(seed).error());
    return from_seed(*seed);
}

std::pair<Identity, SecretBuffer> Identity::generate(Rng& rng) {
    mnemonic::Seed seed;
    rng.fill(seed.mutable_bytes());
    return {from_seed(seed), mnemonic::encode(seed)};
}

Ed25519Signature Identity::sign(ByteView message) const {
    detail::sodium_ready();
    Ed25519Signature sig{};
    crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(), ed_sk_.reveal().data());
    return sig;
}

bool verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
    if (signature.size() != kEd25519SignatureBytes) return false;
    detail::sodium_ready();
    return crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(), key.bytes.data()) ==
           0;
}

Result<X25519PublicKey> to_x25519(const Ed25519PublicKey& key) {
    detail::sodium_ready();
    X25519PublicKey out;
    if (crypto_sign_ed25519_pk_to_curve25519(out.bytes.data(), key.bytes.data()) != 0)
        return unexpected(Errc::key_invalid, "keys: Ed25519 public key is not a valid curve point");
    return out;
}

}  // namespace session
