#pragma once
// bytes.hpp: how bytes, fixed-size keys and secrets are spelled everywhere in the library,
// plus hex and base64 codecs. No <sodium.h> here: wiping is done in bytes.cpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session/error.hpp"

namespace session {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
template <std::size_t N>
using ByteArray = std::array<std::uint8_t, N>;

/// A 32-byte public key whose tag says which curve it is on, so an Ed25519 key cannot be passed
/// where an X25519 key is expected.
template <class Tag>
struct Key32 {
    ByteArray<32> bytes{};
    bool operator==(const Key32&) const = default;
    ByteView view() const { return bytes; }
};
using Ed25519PublicKey = Key32<struct Ed25519Tag>;
using X25519PublicKey = Key32<struct X25519Tag>;

namespace detail {
/// sodium_memzero: never optimised away.
void wipe(void* p, std::size_t n) noexcept;
/// sodium_memcmp: constant-time equality of two equal-length buffers.
bool equal_ct(const void* a, const void* b, std::size_t n) noexcept;
}  // namespace detail

/// Fixed-size secret bytes: wiped on destruction and on move, not copyable, never printed.
/// Compare only with equal_ct (constant time).
template <std::size_t N>
class Secret {
public:
    Secret() = default;
    explicit Secret(std::span<const std::uint8_t, N> from) {
        for (std::size_t i = 0; i < N; ++i) bytes_[i] = from[i];
    }
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& o) noexcept : bytes_(o.bytes_) { detail::wipe(o.bytes_.data(), N); }
    Secret& operator=(Secret&& o) noexcept {
        if (this != &o) {
            bytes_ = o.bytes_;
            detail::wipe(o.bytes_.data(), N);
        }
        return *this;
    }
    ~Secret() { detail::wipe(bytes_.data(), N); }

    std::span<const std::uint8_t, N> reveal() const { return std::span<const std::uint8_t, N>(bytes_); }
    /// Writable access, for filling the secret in place (e.g. by a libsodium call).
    std::span<std::uint8_t, N> mutable_bytes() { return std::span<std::uint8_t, N>(bytes_); }
    bool equal_ct(const Secret& o) const noexcept { return detail::equal_ct(bytes_.data(), o.bytes_.data(), N); }
    static constexpr std::size_t size() { return N; }

private:
    ByteArray<N> bytes_{};
};

/// Variable-length secret bytes (a recovery phrase, a decrypted secret blob). Wiped on
/// destruction; not copyable; never printed. Reserve the capacity up front when appending:
/// growth reallocates, and the old buffer is wiped before it is freed.
class SecretBuffer {
public:
    SecretBuffer() = default;
    explicit SecretBuffer(std::string_view text);
    explicit SecretBuffer(ByteView bytes);
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;
    SecretBuffer(SecretBuffer&& o) noexcept;
    SecretBuffer& operator=(SecretBuffer&& o) noexcept;
    ~SecretBuffer();

    void append(std::string_view text);
    void push_back(char c);
    void clear() noexcept;
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// The content as text (for a phrase). Valid until the buffer changes.
    std::string_view view() const noexcept { return {data_, size_}; }
    ByteView bytes() const noexcept { return {reinterpret_cast<const std::uint8_t*>(data_), size_}; }

private:
    void grow(std::size_t min_capacity);
    char* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// Lower-case hex of `bytes`.
std::string to_hex(ByteView bytes);
/// Parses hex (either case). Errors: hex_invalid (odd length or a non-hex character, with position).
[[nodiscard]] Result<Bytes> from_hex(std::string_view hex);
/// Parses exactly N bytes of hex. Errors: hex_invalid.
template <std::size_t N>
[[nodiscard]] Result<ByteArray<N>> from_hex_array(std::string_view hex) {
    if (hex.size() != 2 * N)
        return unexpected(Errc::hex_invalid, "hex: expected " + std::to_string(2 * N) + " hex characters, got " +
                                                 std::to_string(hex.size()));
    auto b = from_hex(hex);
    if (!b) return unexpected(std::move(b).error());
    ByteArray<N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*b)[i];
    return out;
}

/// Standard base64 (alphabet +/), padded.
std::string base64_encode(ByteView bytes);
/// Standard base64 without '=' padding (the storage server's message-hash form).
std::string base64_encode_unpadded(ByteView bytes);
/// Decodes standard base64, padded or unpadded; also accepts the URL-safe alphabet (-_).
/// Rejects whitespace and any other character. Errors: base64_invalid (with position).
[[nodiscard]] Result<Bytes> base64_decode(std::string_view text);

/// The bytes of a string (no copy semantics surprises: this copies).
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }
inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace session
