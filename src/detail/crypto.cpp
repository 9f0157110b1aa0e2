#include "detail/crypto.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace session::detail {

void sodium_ready() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw std::runtime_error("libsodium: sodium_init failed");
    });
}

Bytes blake2b_parts(std::size_t out_len, std::initializer_list<ByteView> parts, ByteView key) {
    if (out_len < crypto_generichash_BYTES_MIN || out_len > crypto_generichash_BYTES_MAX)
        throw std::invalid_argument("blake2b: output size must be 16..64 bytes");
    if (key.size() > crypto_generichash_KEYBYTES_MAX)
        throw std::invalid_argument("blake2b: key longer than 64 bytes");
    sodium_ready();
    crypto_generichash_state st;
    crypto_generichash_init(&st, key.empty() ? nullptr : key.data(), key.size(), out_len);
    for (auto p : parts) crypto_generichash_update(&st, p.data(), p.size());
    Bytes out(out_len);
    crypto_generichash_final(&st, out.data(), out_len);
    wipe(&st, sizeof st);
    return out;
}

Bytes blake2b(std::size_t out_len, ByteView message, ByteView key) {
    return blake2b_parts(out_len, {message}, key);
}

ByteArray<32> sha256(ByteView message) {
    sodium_ready();
    ByteArray<32> out{};
    crypto_hash_sha256(out.data(), message.data(), message.size());
    return out;
}

ByteArray<32> hmac_sha256(ByteView key, ByteView message) {
    sodium_ready();
    // crypto_auth_hmacsha256 with a variable-length key: the init/update/final API accepts any key size.
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key.data(), key.size());
    crypto_auth_hmacsha256_update(&st, message.data(), message.size());
    ByteArray<32> out{};
    crypto_auth_hmacsha256_final(&st, out.data());
    wipe(&st, sizeof st);
    return out;
}

}  // namespace session::detail
