#pragma once
// keys.hpp: identity keys and Session IDs.
//   seed16 (from the phrase) || 16 zero bytes = Ed25519 seed -> Ed25519 key pair (libsodium)
//   X25519 = crypto_sign_ed25519_{pk,sk}_to_curve25519;  Session ID = "05" || hex(X25519 pk)
// Source: session-desktop generateKeypair; libsession-util src/ed25519.cpp, src/curve25519.cpp.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/mnemonic.hpp"
#include "session/rng.hpp"

namespace session {

inline constexpr std::size_t kSessionIdHexLength = 66;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
using Ed25519Signature = ByteArray<kEd25519SignatureBytes>;

/// A 1:1 Session ID ("05" + 64 hex digits). Valid once constructed.
class SessionId {
public:
    /// Parses "05" + 64 hex digits (either case). Errors: session_id_invalid (length or character,
    /// with position), session_id_wrong_prefix (03 = closed group, 15/25 = community-blinded,
    /// 07 = version-blinded: each named as such; none can receive a 1:1 message).
    [[nodiscard]] static Result<SessionId> parse(std::string_view hex);
    /// The Session ID of an X25519 public key. Cannot fail.
    static SessionId of(const X25519PublicKey& key) { return SessionId(key); }

    /// "05" + lower-case hex (66 characters).
    std::string hex() const;
    /// The 33 raw bytes (0x05 || key).
    ByteArray<33> bytes() const;
    const X25519PublicKey& x25519() const { return key_; }
    bool operator==(const SessionId&) const = default;

private:
    explicit SessionId(X25519PublicKey key) : key_(key) {}
    X25519PublicKey key_;
};

/// An account's key material. Not copyable (it owns secrets); movable.
class Identity {
public:
    /// From a 13-word phrase (see mnemonic::decode for errors).
    [[nodiscard]] static Result<Identity> from_phrase(std::string_view phrase);
    /// From the 16-byte seed a phrase encodes.
    static Identity from_seed(const mnemonic::Seed& seed);
    /// From a full 32-byte Ed25519 seed (libsession test keys; not reachable from a phrase unless
    /// its last 16 bytes are zero).
    static Identity from_ed25519_seed(const Secret<32>& seed);

    /// A new random identity and the 13-word phrase that restores it.
    static std::pair<Identity, SecretBuffer> generate(Rng& rng);

    const Ed25519PublicKey& ed25519_public() const { return ed_pk_; }
    const X25519PublicKey& x25519_public() const { return x_pk_; }
    SessionId session_id() const { return SessionId::of(x_pk_); }

    /// libsodium's 64-byte Ed25519 secret key (seed || pk).
    const Secret<64>& ed25519_secret() const { return ed_sk_; }
    /// The X25519 secret scalar.
    const Secret<32>& x25519_secret() const { return x_sk_; }

    /// Ed25519 detached signature of `message`.
    Ed25519Signature sign(ByteView message) const;

private:
    Identity() = default;
    Secret<64> ed_sk_;
    Secret<32> x_sk_;
    Ed25519PublicKey ed_pk_;
    X25519PublicKey x_pk_;
};

/// Ed25519 verification of a detached signature.
bool verify(const Ed25519PublicKey& key, ByteView message, ByteView signature);

/// crypto_sign_ed25519_pk_to_curve25519. Errors: key_invalid (not a valid Ed25519 point).
[[nodiscard]] Result<X25519PublicKey> to_x25519(const Ed25519PublicKey& key);

}  // namespace session

template <>
struct std::hash<session::SessionId> {
    std::size_t operator()(const session::SessionId& id) const noexcept {
        std::size_t h = 0;
        for (auto b : id.x25519().bytes) h = h * 131 + b;
        return h;
    }
};
