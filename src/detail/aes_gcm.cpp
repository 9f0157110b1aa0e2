// detail/aes_gcm.cpp: see aes_gcm.hpp. One owner per EVP handle (STYLE.md §6).
#include "detail/aes_gcm.hpp"

#include <openssl/evp.h>

#include <climits>

#include "detail/handle.hpp"

namespace session::detail {

namespace {
using CipherCtx = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
}  // namespace

bool aes256gcm_encrypt(std::span<const std::uint8_t, 32> key, std::span<const std::uint8_t, kAesGcmIvBytes> iv,
                       ByteView plaintext, std::uint8_t* ct_out, std::span<std::uint8_t, kAesGcmTagBytes> tag_out) {
    if (plaintext.size() > static_cast<std::size_t>(INT_MAX)) return false;
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    if (!ctx) return false;
    if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1)
        return false;
    if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()) != 1) return false;
    int len = 0;
    if (!plaintext.empty() &&
        EVP_EncryptUpdate(ctx.get(), ct_out, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1)
        return false;
    int final_len = 0;
    // GCM is a stream mode: Final writes nothing, but must run to compute the tag.
    if (EVP_EncryptFinal_ex(ctx.get(), ct_out + len, &final_len) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_out.size()), tag_out.data()) != 1)
        return false;
    return true;
}

bool aes256gcm_decrypt(std::span<const std::uint8_t, 32> key, std::span<const std::uint8_t, kAesGcmIvBytes> iv,
                       ByteView ciphertext, std::span<const std::uint8_t, kAesGcmTagBytes> tag, std::uint8_t* pt_out) {
    if (ciphertext.size() > static_cast<std::size_t>(INT_MAX)) return false;
    auto fail = [&] {
        if (!ciphertext.empty()) wipe(pt_out, ciphertext.size());
        return false;
    };
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    if (!ctx) return false;
    if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1)
        return false;
    if (EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()) != 1) return false;
    int len = 0;
    if (!ciphertext.empty() &&
        EVP_DecryptUpdate(ctx.get(), pt_out, &len, ciphertext.data(), static_cast<int>(ciphertext.size())) != 1)
        return fail();
    // OpenSSL takes a non-const pointer for the expected tag but only reads it.
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                            const_cast<std::uint8_t*>(tag.data())) != 1)
        return fail();
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), pt_out + len, &final_len) != 1) return fail();
    return true;
}

}  // namespace session::detail
