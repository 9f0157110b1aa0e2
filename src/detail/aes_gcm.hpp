#pragma once
// detail/aes_gcm.hpp: AES-256-GCM (OpenSSL EVP) with a 12-byte IV, a 16-byte tag and no AAD, as the
// onion hop encryption uses it (protocol.md §4.1). Private to the library.
#include <cstdint>
#include <span>

#include "session/bytes.hpp"

namespace session::detail {

inline constexpr std::size_t kAesGcmIvBytes = 12;
inline constexpr std::size_t kAesGcmTagBytes = 16;

/// Writes ciphertext (plaintext.size() bytes) to `ct_out` and the tag to `tag_out`.
/// Returns false on an OpenSSL failure (or a plaintext over INT_MAX bytes).
[[nodiscard]] bool aes256gcm_encrypt(std::span<const std::uint8_t, 32> key,
                                     std::span<const std::uint8_t, kAesGcmIvBytes> iv, ByteView plaintext,
                                     std::uint8_t* ct_out, std::span<std::uint8_t, kAesGcmTagBytes> tag_out);

/// Writes plaintext (ciphertext.size() bytes) to `pt_out`; false if the tag does not verify (OpenSSL
/// compares it in constant time) or on any OpenSSL failure. On false, `pt_out` is wiped.
[[nodiscard]] bool aes256gcm_decrypt(std::span<const std::uint8_t, 32> key,
                                     std::span<const std::uint8_t, kAesGcmIvBytes> iv, ByteView ciphertext,
                                     std::span<const std::uint8_t, kAesGcmTagBytes> tag, std::uint8_t* pt_out);

}  // namespace session::detail
