// bench_onion.cpp: onion requests, each beside the libsodium/OpenSSL calls it makes.
//   onion_build/<enc>: onion::build through 3 relays to a snode (a ~330-byte signed retrieve body)
//     beside 4 x (X25519 key generation + X25519 DH + hop-key derivation + AEAD encryption) on the
//     exact layer sizes build produces (measured once by peeling a built request). Hop-key derivation
//     (BLAKE2b-32 or HMAC-SHA256, ~1 us) is counted on the primitive side too, as build must do it.
//   onion_peel/<enc>: what a node does with a layer: decrypt_layer + classify_layer, beside one X25519
//     DH + key derivation + AEAD decryption of the same size.
//   response_decode/<enc>: decode_node_response of a 2 KB reply (base64, decrypt, JSON) beside
//     sodium_base642bin + AEAD decryption of the same size (the JSON parse has no primitive).
// <enc>: xchacha20 (XChaCha20-Poly1305, libsodium) or aes-gcm (AES-256-GCM, OpenSSL EVP).
// bench-requires: onion keys
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <memory>
#include <vector>

#include "bench_common.hpp"
#include "detail/onion_node.hpp"
#include "session/keys.hpp"
#include "session/onion.hpp"

namespace {
namespace onion = session::onion;
using session::Bytes;
using session::ByteView;

onion::EncType enc_of(int e) { return e == 0 ? onion::EncType::xchacha20 : onion::EncType::aes_gcm; }

struct Hop {
    session::Identity id;
    onion::NodeKeys keys;
};
Hop hop(std::uint8_t salt) {
    std::array<std::uint8_t, 16> b{};
    b.fill(salt);
    auto id = session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
    onion::NodeKeys k{id.ed25519_public(), id.x25519_public()};
    return {std::move(id), k};
}

const std::string kRetrieve =
    R"({"method":"retrieve","params":{"pubkey":"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",)"
    R"("pubkey_ed25519":"4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c4b1d4","namespace":0,)"
    R"("last_hash":"4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs","timestamp":1764286000000,)"
    R"("signature":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}})";

struct Fixture {
    std::vector<Hop> hops;  // guard, relay, relay, destination
    std::vector<onion::NodeKeys> path;
    onion::NodeKeys dest;
    Bytes body[2];                                 // one built request per enc type
    std::vector<std::size_t> layer_plaintext[2];   // sizes encrypted by build, innermost first
    // For peel: the guard's layer.
    Bytes guard_ct[2];
    session::X25519PublicKey guard_eph[2];
    Fixture() {
        for (std::uint8_t i = 1; i <= 4; ++i) hops.push_back(hop(static_cast<std::uint8_t>(0x20 * i)));
        for (int i = 0; i < 3; ++i) path.push_back(hops[static_cast<std::size_t>(i)].keys);
        dest = hops[3].keys;
        for (int e = 0; e < 2; ++e) {
            const auto t = e == 0 ? onion::EncType::xchacha20 : onion::EncType::aes_gcm;
            auto req = *bench::must(onion::build(path, onion::SnodeDestination{dest}, session::as_bytes(kRetrieve), t,
                                                 *session::system_rng()),
                                    "build");
            body[e] = req.body;
            auto entry = *bench::must(onion::parse_entry(body[e]), "parse_entry");
            guard_ct[e].assign(entry.ciphertext.begin(), entry.ciphertext.end());
            guard_eph[e] = entry.info.ephemeral_key;
            Bytes ct = guard_ct[e];
            auto eph = entry.info.ephemeral_key;
            std::vector<std::size_t> sizes;
            for (std::size_t h = 0; h < 4; ++h) {
                auto p = *bench::must(onion::decrypt_layer(t, hops[h].id.x25519_secret(), hops[h].id.x25519_public(),
                                                           eph, ct),
                                      "decrypt_layer");
                sizes.push_back(p.plaintext.size());
                auto layer = *bench::must(onion::classify_layer(p.plaintext), "classify_layer");
                if (auto* relay = std::get_if<onion::RelayToNode>(&layer)) {
                    ct = relay->ciphertext;
                    eph = relay->ephemeral_key;
                }
            }
            layer_plaintext[e].assign(sizes.rbegin(), sizes.rend());
        }
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

// ---- bare primitives ----

struct EvpCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

void gcm_encrypt(const std::uint8_t* key, const std::uint8_t* iv, const Bytes& pt, Bytes& out) {
    std::unique_ptr<EVP_CIPHER_CTX, EvpCtxFree> ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bench::need(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, iv) == 1, "gcm init");
    bench::need(EVP_EncryptUpdate(ctx.get(), out.data() + 12, &len, pt.data(), static_cast<int>(pt.size())) == 1, "gcm");
    bench::need(EVP_EncryptFinal_ex(ctx.get(), out.data() + 12 + len, &len) == 1, "gcm final");
    bench::need(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + 12 + pt.size()) == 1, "tag");
}

bool gcm_decrypt(const std::uint8_t* key, const Bytes& wire, Bytes& pt) {
    std::unique_ptr<EVP_CIPHER_CTX, EvpCtxFree> ctx(EVP_CIPHER_CTX_new());
    const std::size_t n = wire.size() - 28;
    int len = 0;
    if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, wire.data()) != 1) return false;
    if (EVP_DecryptUpdate(ctx.get(), pt.data(), &len, wire.data() + 12, static_cast<int>(n)) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, const_cast<std::uint8_t*>(wire.data() + 12 + n)) != 1)
        return false;
    return EVP_DecryptFinal_ex(ctx.get(), pt.data() + len, &len) == 1;
}

void kdf(onion::EncType t, const std::uint8_t* dh, const std::uint8_t* a, const std::uint8_t* b, std::uint8_t* key) {
    if (t == onion::EncType::aes_gcm) {
        unsigned int len = 32;
        bench::need(HMAC(EVP_sha256(), "LOKI", 4, dh, 32, key, &len) != nullptr, "hmac");
        return;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    crypto_generichash_update(&st, dh, 32);
    crypto_generichash_update(&st, a, 32);
    crypto_generichash_update(&st, b, 32);
    crypto_generichash_final(&st, key, 32);
}

void aead_encrypt(onion::EncType t, const std::uint8_t* key, const Bytes& pt, Bytes& out) {
    if (t == onion::EncType::aes_gcm) {
        out.resize(pt.size() + 28);
        randombytes_buf(out.data(), 12);
        gcm_encrypt(key, out.data(), pt, out);
        return;
    }
    out.resize(pt.size() + 40);
    randombytes_buf(out.data(), 24);
    unsigned long long n = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 24, &n, pt.data(), pt.size(), nullptr, 0, nullptr,
                                               out.data(), key);
}

bool aead_decrypt(onion::EncType t, const std::uint8_t* key, const Bytes& wire, Bytes& pt) {
    if (t == onion::EncType::aes_gcm) {
        pt.resize(wire.size() - 28);
        return gcm_decrypt(key, wire, pt);
    }
    pt.resize(wire.size() - 40);
    unsigned long long n = 0;
    return crypto_aead_xchacha20poly1305_ietf_decrypt(pt.data(), &n, nullptr, wire.data() + 24, wire.size() - 24,
                                                      nullptr, 0, wire.data(), key) == 0;
}

// ---- build ----

void onion_build_ours(benchmark::State& state, int e) {
    auto& f = fixture();
    const auto t = enc_of(e);
    auto rng = session::system_rng();
    const onion::Destination dest = onion::SnodeDestination{f.dest};
    for (auto _ : state) {
        auto req = bench::must(onion::build(f.path, dest, session::as_bytes(kRetrieve), t, *rng), "build");
        benchmark::DoNotOptimize(req->body.data());
    }
}

void onion_build_primitive(benchmark::State& state, int e) {
    auto& f = fixture();
    const auto t = enc_of(e);
    const auto& sizes = f.layer_plaintext[e];
    std::vector<Bytes> plain;
    for (auto s : sizes) plain.emplace_back(s, 0x5a);
    std::array<std::uint8_t, 32> sk{}, pk{}, dh{}, key{};
    Bytes out;
    const std::array<const onion::NodeKeys*, 4> to{&f.dest, &f.path[2], &f.path[1], &f.path[0]};
    for (auto _ : state) {
        for (std::size_t i = 0; i < 4; ++i) {
            randombytes_buf(sk.data(), sk.size());
            crypto_scalarmult_base(pk.data(), sk.data());
            bench::need(crypto_scalarmult(dh.data(), sk.data(), to[i]->x25519.bytes.data()) == 0, "dh");
            kdf(t, dh.data(), pk.data(), to[i]->x25519.bytes.data(), key.data());
            aead_encrypt(t, key.data(), plain[i], out);
            benchmark::DoNotOptimize(out.data());
        }
    }
}

// ---- peel (at the guard) ----

void onion_peel_ours(benchmark::State& state, int e) {
    auto& f = fixture();
    const auto t = enc_of(e);
    const auto& g = f.hops[0].id;
    for (auto _ : state) {
        auto p = bench::must(onion::decrypt_layer(t, g.x25519_secret(), g.x25519_public(), f.guard_eph[e], f.guard_ct[e]),
                             "decrypt_layer");
        auto layer = bench::must(onion::classify_layer(p->plaintext), "classify_layer");
        benchmark::DoNotOptimize(layer->index());
    }
}

void onion_peel_primitive(benchmark::State& state, int e) {
    auto& f = fixture();
    const auto t = enc_of(e);
    const auto& g = f.hops[0].id;
    std::array<std::uint8_t, 32> dh{}, key{};
    Bytes pt;
    for (auto _ : state) {
        bench::need(crypto_scalarmult(dh.data(), g.x25519_secret().reveal().data(), f.guard_eph[e].bytes.data()) == 0,
                    "dh");
        kdf(t, dh.data(), f.guard_eph[e].bytes.data(), g.x25519_public().bytes.data(), key.data());
        bench::need(aead_decrypt(t, key.data(), f.guard_ct[e], pt), "aead decrypt");
        benchmark::DoNotOptimize(pt.data());
    }
}

// ---- response decode ----

struct Reply {
    std::unique_ptr<onion::ResponseKey> key;
    std::array<std::uint8_t, 32> raw_key{};
    std::string http_body;
    Bytes wire;
};

Reply& reply(int e) {
    static Reply r[2];
    if (!r[e].key) {
        const auto t = e == 0 ? onion::EncType::xchacha20 : onion::EncType::aes_gcm;
        r[e].raw_key.fill(0x33);
        session::Secret<32> k{std::span<const std::uint8_t, 32>(r[e].raw_key)};
        session::Secret<32> g{std::span<const std::uint8_t, 32>(r[e].raw_key)};
        r[e].key = std::make_unique<onion::ResponseKey>(t, std::move(k), std::move(g));
        std::string inner = R"({"hf":[19,4],"messages":[)";
        for (int i = 0; i < 4; ++i) {
            if (i) inner += ",";
            inner += R"({"data":")" + std::string(300, 'Q') + R"(","expiration":1765495600000,"hash":"4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs","timestamp":1764286000000})";
        }
        inner += R"(],"more":false,"t":1764286000000})";
        std::string escaped;
        for (char c : inner) {
            if (c == '"') escaped += "\\\"";
            else escaped += c;
        }
        const std::string plain = "{\"status\":200,\"body\":\"" + escaped + "\"}";
        r[e].wire = *bench::must(onion::encrypt(t, r[e].key->key(), session::as_bytes(plain), *session::system_rng()),
                                 "encrypt");
        r[e].http_body = session::base64_encode(r[e].wire);
    }
    return r[e];
}

void response_decode_ours(benchmark::State& state, int e) {
    auto& r = reply(e);
    for (auto _ : state) {
        auto d = bench::must(onion::decode_node_response(*r.key, r.http_body), "decode_node_response");
        benchmark::DoNotOptimize(d->body.data());
    }
    state.SetLabel(std::to_string(r.http_body.size()) + " B");
}

void response_decode_primitive(benchmark::State& state, int e) {
    auto& r = reply(e);
    const auto t = enc_of(e);
    Bytes wire(r.http_body.size()), pt;
    for (auto _ : state) {
        std::size_t n = 0;
        bench::need(sodium_base642bin(wire.data(), wire.size(), r.http_body.data(), r.http_body.size(), nullptr, &n,
                                      nullptr, sodium_base64_VARIANT_ORIGINAL) == 0,
                    "base64");
        Bytes w(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
        bench::need(aead_decrypt(t, r.raw_key.data(), w, pt), "aead decrypt");
        benchmark::DoNotOptimize(pt.data());
    }
}

}  // namespace

int main(int argc, char** argv) {
    using Fn = void (*)(benchmark::State&, int);
    const std::pair<const char*, Fn> ops[] = {
        {"onion_build/ours", onion_build_ours},         {"onion_build/primitive", onion_build_primitive},
        {"onion_peel/ours", onion_peel_ours},           {"onion_peel/primitive", onion_peel_primitive},
        {"response_decode/ours", response_decode_ours}, {"response_decode/primitive", response_decode_primitive}};
    for (const auto& [name, fn] : ops)
        for (int e = 0; e < 2; ++e)
            benchmark::RegisterBenchmark((std::string(name) + (e == 0 ? "/xchacha20" : "/aes-gcm")).c_str(),
                                         [fn = fn, e](benchmark::State& s) { fn(s, e); });
    return bench::main(argc, argv);
}
