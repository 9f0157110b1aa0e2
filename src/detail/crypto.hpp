#pragma once
// detail/crypto.hpp: thin, checked wrappers over the libsodium and OpenSSL primitives that several
// modules share. Private to the library (not installed).
#include <cstdint>
#include <string_view>

#include "session/bytes.hpp"

namespace session::detail {

/// sodium_init exactly once (std::call_once); throws std::runtime_error if libsodium cannot start.
void sodium_ready();

/// BLAKE2b (crypto_generichash) with output size 16..64 and optional key (<= 64 bytes).
/// Throws std::invalid_argument for sizes outside those bounds (a caller's bug).
Bytes blake2b(std::size_t out_len, ByteView message, ByteView key = {});
/// BLAKE2b over the concatenation of several parts, unkeyed.
Bytes blake2b_parts(std::size_t out_len, std::initializer_list<ByteView> parts, ByteView key = {});

/// SHA-256 and HMAC-SHA256 (OpenSSL / libsodium).
ByteArray<32> sha256(ByteView message);
ByteArray<32> hmac_sha256(ByteView key, ByteView message);

}  // namespace session::detail
