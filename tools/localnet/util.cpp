// util.cpp: the storage server's small algorithms, node side: swarm mapping (storage-server.md
// §6.2-6.3), message hashes (§7), base32z addresses (§5.1) and channel encryption (§2).
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "detail/crypto.hpp"
#include "detail/json_limited.hpp"
#include "localnet/internal.hpp"

namespace session::localnet::detail {

std::vector<int> version_triple() {
    std::vector<int> v;
    std::string_view s = version();
    int cur = 0;
    for (char c : s) {
        if (c == '.') {
            v.push_back(cur);
            cur = 0;
        } else {
            cur = cur * 10 + (c - '0');
        }
    }
    v.push_back(cur);
    return v;
}

// A plausible, fixed chain height and a block hash derived from it (clients only echo them).
std::int64_t block_height() { return 1'650'000; }
std::string block_hash_hex() {
    const std::string seed = "session-localnet block " + std::to_string(block_height());
    return to_hex(session::detail::blake2b(32, as_bytes(seed)));
}

std::string Reply::body_text() const { return is_json() ? dump(j()) : std::get<1>(body); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::optional<json> parse_json(std::string_view text) { return ::session::detail::parse_limited_or_none(text); }

std::uint64_t swarm_space(ByteView key32) {
    std::uint64_t res = 0;
    for (std::size_t chunk = 0; chunk < 4; ++chunk) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | key32[chunk * 8 + i];
        res ^= v;
    }
    return res;
}

std::optional<std::uint64_t> closest_swarm(const std::vector<std::uint64_t>& ids, std::uint64_t v) {
    if (ids.empty()) return std::nullopt;
    if (ids.size() == 1) return ids.front();
    auto it = std::lower_bound(ids.begin(), ids.end(), v);
    std::uint64_t right = it == ids.end() ? ids.front() : *it;
    std::uint64_t left = it == ids.begin() ? ids.back() : *(it == ids.end() ? ids.end() - 1 : it - 1);
    // Unsigned wrap-around gives the ring distances mod 2^64.
    std::uint64_t dright = right - v;
    std::uint64_t dleft = v - left;
    return dright < dleft ? right : left;
}

std::string message_hash(ByteView account33, int ns, ByteView data) {
    std::string ns_part = ns == 0 ? std::string{} : std::to_string(ns);
    auto h = session::detail::blake2b_parts(32, {account33, as_bytes(ns_part), data});
    return base64_encode_unpadded(h);
}

std::string base32z(ByteView bytes) {
    static constexpr char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (auto b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
    return out;
}

bool is_base64(std::string_view s) {
    auto is_b64_char = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
               c == '/' || c == '-' || c == '_';
    };
    if (s.size() % 4 == 0 && !s.empty() && s.back() == '=') {
        s.remove_suffix(1);
        if (!s.empty() && s.back() == '=') s.remove_suffix(1);
    }
    if (s.size() % 4 == 1) return false;
    return std::all_of(s.begin(), s.end(), is_b64_char);
}

std::string hex_u64(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    if (v == 0) return "0";
    std::string s;
    while (v) {
        s.push_back(digits[v & 15]);
        v >>= 4;
    }
    std::reverse(s.begin(), s.end());
    return s;
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

double random_unit() {
    std::uint64_t r;
    randombytes_buf(&r, sizeof r);
    return static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);
}

bool chance(double p) { return p > 0 && (p >= 1 || random_unit() < p); }

std::optional<EncType> parse_enc_type(std::string_view s) {
    if (s == "aes-gcm" || s == "gcm") return EncType::aes_gcm;
    if (s == "xchacha20" || s == "xchacha20-poly1305") return EncType::xchacha20;
    if (s == "aes-cbc" || s == "cbc") return EncType::aes_cbc;
    return std::nullopt;
}

const char* enc_type_name(EncType t) {
    switch (t) {
        case EncType::aes_gcm: return "aes-gcm";
        case EncType::xchacha20: return "xchacha20";
        case EncType::aes_cbc: return "aes-cbc";
    }
    return "?";
}

std::optional<ByteArray<32>> hop_key(EncType t, const Secret<32>& node_x_sk, const ByteArray<32>& node_x_pk,
                                     const ByteArray<32>& client_pk) {
    ByteArray<32> dh{};
    if (crypto_scalarmult(dh.data(), node_x_sk.reveal().data(), client_pk.data()) != 0) return std::nullopt;
    ByteArray<32> key{};
    switch (t) {
        case EncType::aes_gcm: {
            // K = HMAC-SHA256(key = "LOKI", message = DH)
            static constexpr std::uint8_t salt[] = {'L', 'O', 'K', 'I'};
            key = session::detail::hmac_sha256(ByteView(salt, 4), dh);
            break;
        }
        case EncType::xchacha20: {
            // K = BLAKE2b-32(DH || client pubkey || server pubkey): client first, in both directions.
            auto h = session::detail::blake2b_parts(32, {dh, client_pk, node_x_pk});
            std::copy(h.begin(), h.end(), key.begin());
            break;
        }
        case EncType::aes_cbc: key = dh; break;
    }
    sodium_memzero(dh.data(), dh.size());
    return key;
}

namespace {

using CipherCtx = session::detail::Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

constexpr std::size_t kGcmIv = 12, kTag = 16, kCbcIv = 16;

std::optional<Bytes> gcm_decrypt(const ByteArray<32>& key, ByteView wire) {
    if (wire.size() < kGcmIv + kTag) return std::nullopt;
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    if (!ctx) return std::nullopt;
    const std::size_t ct_len = wire.size() - kGcmIv - kTag;
    Bytes out(ct_len + 16);
    int len = 0, total = 0;
    if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmIv, nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), wire.data()) != 1)
        return std::nullopt;
    if (ct_len > 0 &&
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, wire.data() + kGcmIv, static_cast<int>(ct_len)) != 1)
        return std::nullopt;
    total = len;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                            const_cast<std::uint8_t*>(wire.data() + wire.size() - kTag)) != 1)
        return std::nullopt;
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return std::nullopt;
    total += len;
    out.resize(static_cast<std::size_t>(total));
    return out;
}

Bytes gcm_encrypt(const ByteArray<32>& key, ByteView plaintext) {
    Bytes out(kGcmIv + plaintext.size() + kTag);
    randombytes_buf(out.data(), kGcmIv);
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmIv, nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), out.data()) != 1)
        throw std::runtime_error("localnet: AES-GCM init failed");
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), out.data() + kGcmIv, &len, plaintext.data(),
                                                static_cast<int>(plaintext.size())) != 1)
        throw std::runtime_error("localnet: AES-GCM encrypt failed");
    if (EVP_EncryptFinal_ex(ctx.get(), out.data() + kGcmIv + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, out.data() + kGcmIv + plaintext.size()) != 1)
        throw std::runtime_error("localnet: AES-GCM tag failed");
    return out;
}

std::optional<Bytes> cbc_decrypt(const ByteArray<32>& key, ByteView wire) {
    if (wire.size() < kCbcIv + 16 || (wire.size() - kCbcIv) % 16 != 0) return std::nullopt;
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    Bytes out(wire.size());
    int len = 0, total = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), wire.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, wire.data() + kCbcIv, static_cast<int>(wire.size() - kCbcIv)) != 1)
        return std::nullopt;
    total = len;
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return std::nullopt;
    out.resize(static_cast<std::size_t>(total + len));
    return out;
}

Bytes cbc_encrypt(const ByteArray<32>& key, ByteView plaintext) {
    Bytes out(kCbcIv + plaintext.size() + 16);
    randombytes_buf(out.data(), kCbcIv);
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    int len = 0, total = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + kCbcIv, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1)
        throw std::runtime_error("localnet: AES-CBC encrypt failed");
    total = len;
    if (EVP_EncryptFinal_ex(ctx.get(), out.data() + kCbcIv + total, &len) != 1)
        throw std::runtime_error("localnet: AES-CBC final failed");
    out.resize(kCbcIv + static_cast<std::size_t>(total + len));
    return out;
}

}  // namespace

std::optional<Bytes> hop_decrypt(EncType t, const ByteArray<32>& key, ByteView wire) {
    switch (t) {
        case EncType::aes_gcm: return gcm_decrypt(key, wire);
        case EncType::aes_cbc: return cbc_decrypt(key, wire);
        case EncType::xchacha20: {
            constexpr std::size_t nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
            constexpr std::size_t tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
            if (wire.size() < nonce + tag) return std::nullopt;
            Bytes out(wire.size() - nonce - tag);
            unsigned long long out_len = 0;
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, wire.data() + nonce,
                                                           wire.size() - nonce, nullptr, 0, wire.data(),
                                                           key.data()) != 0)
                return std::nullopt;
            out.resize(static_cast<std::size_t>(out_len));
            return out;
        }
    }
    return std::nullopt;
}

Bytes hop_encrypt(EncType t, const ByteArray<32>& key, ByteView plaintext) {
    switch (t) {
        case EncType::aes_gcm: return gcm_encrypt(key, plaintext);
        case EncType::aes_cbc: return cbc_encrypt(key, plaintext);
        case EncType::xchacha20: {
            constexpr std::size_t nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
            constexpr std::size_t tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
            Bytes out(nonce + plaintext.size() + tag);
            randombytes_buf(out.data(), nonce);
            unsigned long long out_len = 0;
            crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + nonce, &out_len, plaintext.data(),
                                                       plaintext.size(), nullptr, 0, nullptr, out.data(),
                                                       key.data());
            out.resize(nonce + static_cast<std::size_t>(out_len));
            return out;
        }
    }
    return {};
}

ByteArray<33> Account::bytes() const {
    ByteArray<33> b{};
    b[0] = prefix;
    std::copy(key.begin(), key.end(), b.begin() + 1);
    return b;
}

std::string Account::hex() const { return to_hex(bytes()); }

std::string Node::sign_b64(std::string_view message) const {
    std::uint8_t sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const std::uint8_t*>(message.data()), message.size(),
                         ed_sk.reveal().data());
    return base64_encode(ByteView(sig, sizeof sig));
}

}  // namespace session::localnet::detail
