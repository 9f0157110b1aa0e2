#include "session/attachment.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "detail/crypto.hpp"
#include "support/vectors.hpp"

using namespace session;
using namespace session::attachment;
using nlohmann::json;

namespace {

const char* const kFile = "attachment.json";

// byte i = (i * 31 + salt) mod 256, as tests/vectors/gen/attachment_vectors.js writes it.
Bytes pattern(std::size_t n, std::uint8_t salt) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt);
    return b;
}

Bytes plaintext_of(const json& v) {
    return pattern(v.at("plaintext_size").get<std::size_t>(), v.at("plaintext_salt").get<std::uint8_t>());
}

template <std::size_t N>
Secret<N> secret(const Bytes& b) {
    REQUIRE(b.size() == N);
    return Secret<N>(std::span<const std::uint8_t, N>(b.data(), N));
}

Bytes bytes_of(const SecretBuffer& s) { return Bytes(s.bytes().begin(), s.bytes().end()); }

void check_blob(const json& v, const Bytes& blob) {
    REQUIRE(blob.size() == v.at("expected_blob_len").get<std::size_t>());
    if (v.contains("expected_blob_hex"))
        CHECK(to_hex(blob) == v.at("expected_blob_hex").get<std::string>());
    else
        CHECK(to_hex(detail::sha256(blob)) == v.at("expected_blob_sha256_hex").get<std::string>());
}

// Feeds `input` in pieces of varying sizes (1, 2, 3, 7, 4096, 33000, …) through `f(piece)`.
template <class F>
void in_pieces(ByteView input, F&& f) {
    static constexpr std::size_t sizes[] = {1, 2, 3, 7, 16, 17, 4096, 32785, 33000, 100003};
    std::size_t i = 0;
    while (!input.empty()) {
        const std::size_t n = std::min(input.size(), sizes[i++ % std::size(sizes)]);
        f(input.first(n));
        input = input.subspan(n);
    }
}

template <class T>
Errc code_of(const Result<T>& r) {
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

DecryptParams cbc_params(const Bytes& key, const ByteArray<32>& digest, std::uint64_t size) {
    return DecryptParams{Scheme::cbc_hmac, key, ByteView(digest), size};
}

struct CbcFixture {
    Bytes plain = pattern(541, 4);
    Encrypted enc;
    Bytes key;
    ByteArray<32> digest{};
    CbcFixture() {
        auto e = encrypt_cbc_hmac(plain, *system_rng());
        REQUIRE(e);
        enc = std::move(*e);
        key = bytes_of(enc.sealed.key);
        digest = *enc.sealed.digest;
    }
    DecryptParams params() const { return cbc_params(key, digest, plain.size()); }
};

Encrypted stream_of(const Bytes& plain, std::uint8_t seed_salt = 0x40, Domain d = Domain::attachment) {
    auto seed = secret<32>(pattern(32, seed_salt));
    auto e = encrypt_stream(seed, d, plain);
    REQUIRE(e);
    return std::move(*e);
}

// A stream blob built directly with libsodium, piece by piece, to make layouts our encryptor never
// writes: `pieces` are the plaintext pieces (Q split), `tags` their tags.
Bytes raw_stream(const Bytes& key, const ByteArray<24>& header, const std::vector<Bytes>& pieces,
                 const std::vector<std::uint8_t>& tags) {
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_pull(&st, header.data(), key.data());
    Bytes out{kStreamPrefix};
    out.insert(out.end(), header.begin(), header.end());
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const std::size_t old = out.size();
        out.resize(old + pieces[i].size() + kStreamChunkOverhead);
        crypto_secretstream_xchacha20poly1305_push(&st, out.data() + old, nullptr, pieces[i].data(), pieces[i].size(),
                                                   nullptr, 0, tags[i]);
    }
    return out;
}

constexpr std::uint8_t kMsg = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
constexpr std::uint8_t kFinal = crypto_secretstream_xchacha20poly1305_TAG_FINAL;

}  // namespace

// ---- known answers -------------------------------------------------------------------------

TEST_CASE("attachment: cbc_hmac encrypts each vector to its blob and digest, and decrypts it back", "[attachment][kat]") {
    int seen = 0;
    for (const auto& v : test::vectors(kFile)) {
        if (v.at("scheme") != "cbc_hmac") continue;
        ++seen;
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            const Bytes plain = plaintext_of(v);
            if (v.contains("plaintext_hex")) CHECK(to_hex(plain) == v.at("plaintext_hex").get<std::string>());
            const auto key = secret<64>(test::hex(v, "key_hex"));
            const Bytes iv = test::hex(v, "iv_hex");
            const Padding pad = v.at("padding") == "desktop" ? Padding::desktop : Padding::none;
            if (pad == Padding::desktop) CHECK(padded_size(plain.size()) == v.at("expected_padded_size").get<std::uint64_t>());

            // Whole, then in pieces: the same bytes.
            for (bool pieces : {false, true}) {
                auto enc = Encryptor::cbc_hmac(key, std::span<const std::uint8_t, 16>(iv.data(), 16), plain.size(), pad);
                REQUIRE(enc);
                CHECK(enc->blob_size() == v.at("expected_blob_len").get<std::uint64_t>());
                Bytes blob;
                if (pieces) in_pieces(plain, [&](ByteView p) { REQUIRE(enc->update(p, blob)); });
                else REQUIRE(enc->update(plain, blob));
                auto sealed = enc->finish(blob);
                REQUIRE(sealed);
                check_blob(v, blob);
                REQUIRE(sealed->digest);
                CHECK(to_hex(*sealed->digest) == v.at("expected_digest_hex").get<std::string>());
                CHECK(bytes_of(sealed->key) == test::hex(v, "key_hex"));
                CHECK(sealed->size == plain.size());
                CHECK(sealed->scheme == Scheme::cbc_hmac);

                const Bytes digest = test::hex(v, "expected_digest_hex");
                const Bytes k = test::hex(v, "key_hex");
                auto back = decrypt(DecryptParams{Scheme::cbc_hmac, k, ByteView(digest), plain.size()}, blob);
                REQUIRE(back);
                CHECK(*back == plain);
            }
        }
    }
    CHECK(seen >= 8);
}

TEST_CASE("attachment: stream derives each vector's key and header and encrypts to its blob", "[attachment][kat]") {
    int seen = 0;
    for (const auto& v : test::vectors(kFile)) {
        if (v.at("scheme") != "stream") continue;
        ++seen;
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            const Bytes plain = plaintext_of(v);
            const auto seed = secret<32>(test::hex(v, "seed_hex"));
            const Domain domain = v.at("domain") == "attachment" ? Domain::attachment : Domain::profile_picture;
            CHECK(stream_padding(plain.size()) == v.at("expected_padding").get<std::uint64_t>());
            CHECK(encrypted_size(Scheme::stream, plain.size()) == v.at("expected_blob_len").get<std::uint64_t>());

            StreamKeyHasher hasher(seed, domain);
            in_pieces(plain, [&](ByteView p) { hasher.update(p); });
            const StreamKey key = hasher.finish();
            CHECK(to_hex(key.key.reveal()) == v.at("expected_key_hex").get<std::string>());
            CHECK(to_hex(key.header) == v.at("expected_header_hex").get<std::string>());

            auto enc = Encryptor::stream(key, plain.size());
            REQUIRE(enc);
            Bytes blob;
            in_pieces(plain, [&](ByteView p) { REQUIRE(enc->update(p, blob)); });
            auto sealed = enc->finish(blob);
            REQUIRE(sealed);
            check_blob(v, blob);
            CHECK(to_hex(sealed->key.bytes()) == v.at("expected_key_hex").get<std::string>());
            CHECK_FALSE(sealed->digest);

            auto whole = encrypt_stream(seed, domain, plain);
            REQUIRE(whole);
            CHECK(whole->blob == blob);

            const Bytes k = test::hex(v, "expected_key_hex");
            auto back = decrypt(DecryptParams{Scheme::stream, k, std::nullopt, std::nullopt}, blob);
            REQUIRE(back);
            CHECK(*back == plain);
        }
    }
    CHECK(seen >= 10);
}

TEST_CASE("attachment: gcm encrypts each vector to its blob and decrypts it back", "[attachment][kat]") {
    int seen = 0;
    for (const auto& v : test::vectors(kFile)) {
        if (v.at("scheme") != "gcm") continue;
        ++seen;
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            const Bytes plain = plaintext_of(v);
            const Bytes k = test::hex(v, "key_hex");
            const Bytes iv = test::hex(v, "iv_hex");
            auto enc = Encryptor::gcm(secret<32>(k), std::span<const std::uint8_t, 12>(iv.data(), 12), plain.size());
            REQUIRE(enc);
            Bytes blob;
            in_pieces(plain, [&](ByteView p) { REQUIRE(enc->update(p, blob)); });
            REQUIRE(enc->finish(blob));
            check_blob(v, blob);
            auto back = decrypt(DecryptParams{Scheme::gcm, k, std::nullopt, std::nullopt}, blob);
            REQUIRE(back);
            CHECK(*back == plain);
        }
    }
    CHECK(seen >= 4);
}

TEST_CASE("attachment: padded_size follows desktop's rule for every size up to the limit", "[attachment][kat]") {
    std::ifstream in{std::string{SESSION_TEST_VECTORS_DIR} + "/attachment_padding.json"};
    const json doc = json::parse(in);
    const auto& steps = doc.at("desktop_steps");
    REQUIRE(steps.size() > 100);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto first = steps[i][0].get<std::uint64_t>();
        const auto value = steps[i][1].get<std::uint64_t>();
        INFO("step starting at " << first);
        CHECK(padded_size(first) == value);
        if (i + 1 < steps.size()) CHECK(padded_size(steps[i + 1][0].get<std::uint64_t>() - 1) == value);
        if (i > 0) CHECK(padded_size(first - 1) == steps[i - 1][1].get<std::uint64_t>());
    }
    CHECK(padded_size(0) == 541);
    CHECK(padded_size(541) == 541);
    CHECK(padded_size(10'000'000) == 10'000'000);
    CHECK(padded_size(9'999'999) == 10'000'000);
}

TEST_CASE("attachment: stream_padding and the stream blob size match the table and libsession's quoted sizes", "[attachment][kat]") {
    std::ifstream in{std::string{SESSION_TEST_VECTORS_DIR} + "/attachment_padding.json"};
    const json doc = json::parse(in);
    for (const auto& row : doc.at("stream")) {
        const auto n = row[0].get<std::uint64_t>();
        INFO("n = " << n);
        CHECK(stream_padding(n) == row[1].get<std::uint64_t>());
        CHECK(encrypted_size(Scheme::stream, n) == row[2].get<std::uint64_t>());
    }
    // Quoted in libsession-util include/session/attachments.hpp.
    CHECK(encrypted_size(Scheme::stream, 1'000'000) == 1'015'808);
    CHECK(encrypted_size(Scheme::stream, 10'218'286) == 10'223'616);
    CHECK(encrypted_size(Scheme::stream, 10'000'000) == kMaxBlobBytes);
    CHECK(encrypted_size(Scheme::cbc_hmac, 10'000'000) == 10'000'064);
    CHECK(encrypted_size(Scheme::cbc_hmac, 100, Padding::none) == 16 + 112 + 32);
    CHECK(encrypted_size(Scheme::gcm, 100) == 128);
    CHECK(to_string(Scheme::cbc_hmac) == "cbc_hmac");
    CHECK(to_string(Scheme::stream) == "stream");
    CHECK(to_string(Scheme::gcm) == "gcm");
}

// ---- round trips ---------------------------------------------------------------------------

TEST_CASE("attachment: every scheme round-trips sizes around the 32 KiB pieces, whole and in pieces", "[attachment]") {
    std::vector<std::size_t> sizes = {0, 1, 2, 15, 16, 17, 540, 541, 542, 4054, 4055, 32767, 32768, 32769,
                                      65535, 65536, 65537, 98304, 131072};
    // Sizes where padding + data (Q) needs one more 32 KiB piece than one byte less does.
    auto q_pieces = [](std::size_t n) { return (n + stream_padding(n) + kStreamChunkBytes - 1) / kStreamChunkBytes; };
    for (std::size_t n = 1; n < 140000; ++n)
        if (q_pieces(n) != q_pieces(n - 1)) {
            sizes.push_back(n - 1);
            sizes.push_back(n);
        }
    REQUIRE(sizes.size() > 19);
    for (std::size_t n = 32768 - 4054 - 3; n < 32768 - 4054 + 3; ++n) sizes.push_back(n);
    const auto seed = secret<32>(pattern(32, 9));
    const auto profile_key = secret<32>(pattern(32, 10));
    auto rng = deterministic_rng(7);
    for (std::size_t n : sizes) {
        const Bytes plain = pattern(n, static_cast<std::uint8_t>(n));
        INFO("size " << n);
        auto cbc = encrypt_cbc_hmac(plain, *rng);
        auto st = encrypt_stream(seed, Domain::attachment, plain);
        auto gc = encrypt_gcm(profile_key, plain, *rng);
        REQUIRE(cbc);
        REQUIRE(st);
        REQUIRE(gc);
        CHECK(cbc->blob.size() == encrypted_size(Scheme::cbc_hmac, n));
        CHECK(st->blob.size() == encrypted_size(Scheme::stream, n));
        CHECK(gc->blob.size() == encrypted_size(Scheme::gcm, n));
        const Bytes ck = bytes_of(cbc->sealed.key), sk = bytes_of(st->sealed.key), gk = bytes_of(gc->sealed.key);
        CHECK(ck.size() == 64);
        CHECK(sk.size() == 32);
        const std::vector<std::pair<DecryptParams, const Bytes*>> cases = {
            {cbc_params(ck, *cbc->sealed.digest, n), &cbc->blob},
            {DecryptParams{Scheme::stream, sk, std::nullopt, n}, &st->blob},
            {DecryptParams{Scheme::stream, sk, std::nullopt, std::nullopt}, &st->blob},
            {DecryptParams{Scheme::gcm, gk, std::nullopt, std::nullopt}, &gc->blob}};
        for (const auto& [params, blob] : cases) {
            auto whole = decrypt(params, *blob);
            REQUIRE(whole);
            CHECK(*whole == plain);
            auto d = Decryptor::create(params, blob->size());
            REQUIRE(d);
            Bytes out;
            in_pieces(*blob, [&](ByteView p) { REQUIRE(d->update(p, out)); });
            REQUIRE(d->finish(out));
            CHECK(out == plain);
        }
    }
}

TEST_CASE("attachment: a 10,000,000-byte file round-trips in every scheme, streamed in 64 KiB pieces", "[attachment]") {
    const Bytes plain = pattern(kMaxPlaintextBytes, 99);
    const auto seed = secret<32>(pattern(32, 1));
    auto rng = deterministic_rng(11);
    auto check = [&](Result<Encryptor> enc, auto make_params) {
        REQUIRE(enc);
        Bytes blob;
        blob.reserve(enc->blob_size());
        for (std::size_t off = 0; off < plain.size(); off += 65536)
            REQUIRE(enc->update(ByteView(plain).subspan(off, std::min<std::size_t>(65536, plain.size() - off)), blob));
        auto sealed = enc->finish(blob);
        REQUIRE(sealed);
        CHECK(blob.size() == enc->blob_size());
        CHECK(blob.size() <= kMaxBlobBytes);
        const Bytes key = bytes_of(sealed->key);
        const DecryptParams params = make_params(key, *sealed);
        auto d = Decryptor::create(params, blob.size());
        REQUIRE(d);
        Bytes out;
        out.reserve(plain.size());
        for (std::size_t off = 0; off < blob.size(); off += 65536)
            REQUIRE(d->update(ByteView(blob).subspan(off, std::min<std::size_t>(65536, blob.size() - off)), out));
        REQUIRE(d->finish(out));
        CHECK(out == plain);
        auto whole = decrypt(params, blob);
        REQUIRE(whole);
        CHECK(*whole == plain);
    };
    ByteArray<32> digest{};
    SECTION("cbc_hmac") {
        check(Encryptor::cbc_hmac(plain.size(), *rng), [&](const Bytes& k, const Sealed& s) {
            digest = *s.digest;
            return cbc_params(k, digest, plain.size());
        });
    }
    SECTION("stream") {
        StreamKeyHasher h(seed, Domain::attachment);
        h.update(plain);
        check(Encryptor::stream(h.finish(), plain.size()), [&](const Bytes& k, const Sealed&) {
            return DecryptParams{Scheme::stream, k, std::nullopt, plain.size()};
        });
    }
    SECTION("gcm") {
        check(Encryptor::gcm(secret<32>(pattern(32, 3)), plain.size(), *rng), [&](const Bytes& k, const Sealed&) {
            return DecryptParams{Scheme::gcm, k, std::nullopt, std::nullopt};
        });
    }
}

TEST_CASE("attachment: the stream scheme is deterministic per seed, domain and content", "[attachment]") {
    const Bytes plain = pattern(5000, 1);
    auto a = stream_of(plain), b = stream_of(plain);
    CHECK(a.blob == b.blob);
    CHECK(bytes_of(a.sealed.key) == bytes_of(b.sealed.key));
    auto other_seed = stream_of(plain, 0x41);
    CHECK(bytes_of(other_seed.sealed.key) != bytes_of(a.sealed.key));
    auto profile = stream_of(plain, 0x40, Domain::profile_picture);
    CHECK(bytes_of(profile.sealed.key) != bytes_of(a.sealed.key));
    Bytes changed = plain;
    changed[4999] ^= 1;
    CHECK(bytes_of(stream_of(changed).sealed.key) != bytes_of(a.sealed.key));
}

TEST_CASE("attachment: cbc_hmac without padding (link previews) round-trips and keeps its size", "[attachment]") {
    const Bytes plain = pattern(100, 5);
    auto e = encrypt_cbc_hmac(plain, *system_rng(), Padding::none);
    REQUIRE(e);
    CHECK(e->blob.size() == 16 + 112 + 32);
    const Bytes k = bytes_of(e->sealed.key);
    auto back = decrypt(cbc_params(k, *e->sealed.digest, 100), e->blob);
    REQUIRE(back);
    CHECK(*back == plain);
}

TEST_CASE("attachment: the pointer's size cuts the padding and may not exceed the plaintext", "[attachment]") {
    CbcFixture f;
    // desktop's padding makes the padded plaintext 541 bytes here; a smaller size cuts more.
    auto shorter = decrypt(cbc_params(f.key, f.digest, 100), f.enc.blob);
    REQUIRE(shorter);
    CHECK(*shorter == Bytes(f.plain.begin(), f.plain.begin() + 100));
    auto zero = decrypt(cbc_params(f.key, f.digest, 0), f.enc.blob);
    REQUIRE(zero);
    CHECK(zero->empty());
    const Bytes small = pattern(10, 1);
    auto e = encrypt_cbc_hmac(small, *system_rng());
    REQUIRE(e);
    const Bytes k = bytes_of(e->sealed.key);
    auto padded = decrypt(cbc_params(k, *e->sealed.digest, 541), e->blob);  // size = the padded length: zeros after
    REQUIRE(padded);
    CHECK(padded->size() == 541);
    CHECK(code_of(decrypt(cbc_params(k, *e->sealed.digest, 542), e->blob)) == Errc::attachment_size_mismatch);
    auto st = stream_of(small);
    const Bytes sk = bytes_of(st.sealed.key);
    CHECK(code_of(decrypt(DecryptParams{Scheme::stream, sk, std::nullopt, 11}, st.blob)) == Errc::attachment_size_mismatch);
    CHECK(code_of(decrypt(DecryptParams{Scheme::stream, sk, std::nullopt, st.blob.size() + 1}, st.blob)) ==
          Errc::attachment_size_mismatch);
}

// ---- cbc_hmac rejects ----------------------------------------------------------------------

TEST_CASE("attachment: cbc_hmac rejects a wrong key, a changed byte anywhere and a wrong digest", "[attachment][reject]") {
    CbcFixture f;
    SECTION("wrong aes key: the MAC still verifies, the padding does not") {
        // Only macKey authenticates: a different aesKey passes the MAC and digest, then decrypts
        // to garbage whose PKCS#7 padding is almost surely invalid (and is cut to size otherwise).
        Bytes k = f.key;
        k[0] ^= 1;
        auto r = decrypt(cbc_params(k, f.digest, f.plain.size()), f.enc.blob);
        if (r) CHECK(*r != f.plain);
        else CHECK(r.error().code == Errc::attachment_decrypt_failed);
    }
    SECTION("wrong mac key") {
        Bytes k = f.key;
        k[63] ^= 1;
        CHECK(code_of(decrypt(cbc_params(k, f.digest, f.plain.size()), f.enc.blob)) == Errc::attachment_bad_mac);
    }
    SECTION("one flipped bit in the IV, the ciphertext or the MAC") {
        for (std::size_t at : {std::size_t{0}, std::size_t{15}, std::size_t{16}, f.enc.blob.size() / 2,
                               f.enc.blob.size() - 33, f.enc.blob.size() - 32, f.enc.blob.size() - 1}) {
            INFO("byte " << at);
            Bytes b = f.enc.blob;
            b[at] ^= 0x04;
            CHECK(code_of(decrypt(f.params(), b)) == Errc::attachment_bad_mac);
        }
    }
    SECTION("a digest of other bytes") {
        ByteArray<32> d = f.digest;
        d[31] ^= 1;
        CHECK(code_of(decrypt(cbc_params(f.key, d, f.plain.size()), f.enc.blob)) == Errc::attachment_bad_digest);
    }
    SECTION("no digest, or one of the wrong length") {
        CHECK(code_of(decrypt(DecryptParams{Scheme::cbc_hmac, f.key, std::nullopt, f.plain.size()}, f.enc.blob)) ==
              Errc::attachment_missing_digest);
        const Bytes d31(f.digest.begin(), f.digest.begin() + 31);
        CHECK(code_of(decrypt(DecryptParams{Scheme::cbc_hmac, f.key, ByteView(d31), f.plain.size()}, f.enc.blob)) ==
              Errc::attachment_bad_digest);
    }
    SECTION("a key of the wrong length") {
        const Bytes k32(f.key.begin(), f.key.begin() + 32);
        CHECK(code_of(decrypt(cbc_params(k32, f.digest, f.plain.size()), f.enc.blob)) == Errc::attachment_bad_key);
    }
    SECTION("no size") {
        CHECK(code_of(decrypt(DecryptParams{Scheme::cbc_hmac, f.key, ByteView(f.digest), std::nullopt}, f.enc.blob)) ==
              Errc::attachment_size_mismatch);
    }
    SECTION("truncated: too short, not whole blocks, or a whole block short") {
        CHECK(code_of(decrypt(f.params(), ByteView(f.enc.blob).first(63))) == Errc::attachment_truncated);
        CHECK(code_of(decrypt(f.params(), ByteView(f.enc.blob).first(f.enc.blob.size() - 1))) == Errc::attachment_truncated);
        CHECK(code_of(decrypt(f.params(), ByteView(f.enc.blob).first(f.enc.blob.size() - 16))) == Errc::attachment_bad_mac);
        CHECK(code_of(decrypt(f.params(), ByteView())) == Errc::attachment_truncated);
    }
}

TEST_CASE("attachment: cbc_hmac rejects invalid PKCS#7 padding behind a valid MAC and digest", "[attachment][reject]") {
    // Built by hand: AES-256-CBC without padding over a last block ending in 0x00 (no valid PKCS#7).
    const Bytes key = pattern(64, 3);
    const Bytes iv = pattern(16, 4);
    Bytes block(32, 0x41);
    block.back() = 0x00;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    REQUIRE(ctx);
    Bytes ct(32);
    int len = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key.data(), iv.data()) == 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    REQUIRE(EVP_EncryptUpdate(ctx, ct.data(), &len, block.data(), 32) == 1);
    EVP_CIPHER_CTX_free(ctx);
    Bytes blob = iv;
    blob.insert(blob.end(), ct.begin(), ct.end());
    const auto mac = detail::hmac_sha256(ByteView(key).subspan(32), blob);
    blob.insert(blob.end(), mac.begin(), mac.end());
    const auto digest = detail::sha256(blob);
    CHECK(code_of(decrypt(cbc_params(key, digest, 10), blob)) == Errc::attachment_decrypt_failed);
}

TEST_CASE("attachment: a streaming cbc_hmac Decryptor reports the MAC at finish and refuses extra bytes", "[attachment][reject]") {
    CbcFixture f;
    SECTION("changed byte: update passes, finish fails, then everything fails") {
        Bytes b = f.enc.blob;
        b[20] ^= 1;
        auto d = Decryptor::create(f.params(), b.size());
        REQUIRE(d);
        Bytes out;
        REQUIRE(d->update(b, out));
        CHECK(code_of(d->finish(out)) == Errc::attachment_bad_mac);
        CHECK(code_of(d->finish(out)) == Errc::attachment_bad_mac);
        CHECK(code_of(d->update(b, out)) == Errc::attachment_bad_mac);
    }
    SECTION("more bytes than declared") {
        auto d = Decryptor::create(f.params(), f.enc.blob.size() - 16);
        REQUIRE(d);
        Bytes out;
        CHECK(code_of(d->update(f.enc.blob, out)) == Errc::attachment_size_mismatch);
    }
    SECTION("fewer bytes than declared") {
        auto d = Decryptor::create(f.params(), f.enc.blob.size());
        REQUIRE(d);
        Bytes out;
        REQUIRE(d->update(ByteView(f.enc.blob).first(100), out));
        CHECK(code_of(d->finish(out)) == Errc::attachment_truncated);
    }
}

// ---- stream rejects ------------------------------------------------------------------------

TEST_CASE("attachment: stream rejects a wrong key, changed bytes, a missing 'S' and reordered pieces", "[attachment][reject]") {
    const Bytes plain = pattern(70000, 2);  // three pieces after padding
    auto e = stream_of(plain);
    const Bytes key = bytes_of(e.sealed.key);
    const DecryptParams params{Scheme::stream, key, std::nullopt, std::nullopt};
    REQUIRE(decrypt(params, e.blob));
    SECTION("wrong key") {
        Bytes k = key;
        k[5] ^= 1;
        CHECK(code_of(decrypt(DecryptParams{Scheme::stream, k, std::nullopt, std::nullopt}, e.blob)) ==
              Errc::attachment_decrypt_failed);
    }
    SECTION("first byte not 'S'") {
        Bytes b = e.blob;
        b[0] = 'T';
        CHECK(code_of(decrypt(params, b)) == Errc::attachment_bad_format);
    }
    SECTION("one flipped bit in the header, each piece, each tag") {
        for (std::size_t at : {std::size_t{1}, std::size_t{24}, std::size_t{25}, std::size_t{25 + 32785 + 3},
                               e.blob.size() - 17, e.blob.size() - 1}) {
            INFO("byte " << at);
            Bytes b = e.blob;
            b[at] ^= 0x20;
            CHECK(code_of(decrypt(params, b)) == Errc::attachment_decrypt_failed);
        }
    }
    SECTION("two pieces swapped") {
        Bytes b = e.blob;
        std::swap_ranges(b.begin() + 25, b.begin() + 25 + 32785, b.begin() + 25 + 32785);
        CHECK(code_of(decrypt(params, b)) == Errc::attachment_decrypt_failed);
    }
    SECTION("cut after a whole piece: no FINAL tag") {
        CHECK(code_of(decrypt(params, ByteView(e.blob).first(25 + 2 * 32785))) == Errc::attachment_truncated);
    }
    SECTION("cut inside the last piece") {
        CHECK(code_of(decrypt(params, ByteView(e.blob).first(e.blob.size() - 1))) == Errc::attachment_decrypt_failed);
        // A last piece of 17 bytes or fewer cannot hold even its tag and one byte.
        CHECK(code_of(decrypt(params, ByteView(e.blob).first(25 + 2 * 32785 + 17))) == Errc::attachment_truncated);
        CHECK(code_of(decrypt(params, ByteView(e.blob).first(42))) == Errc::attachment_truncated);
    }
    SECTION("a key of the wrong length") {
        CHECK(code_of(decrypt(DecryptParams{Scheme::stream, ByteView(key).first(31), std::nullopt, std::nullopt}, e.blob)) ==
              Errc::attachment_bad_key);
    }
}

TEST_CASE("attachment: stream rejects layouts libsession never writes", "[attachment][reject]") {
    const Bytes key = pattern(32, 8);
    ByteArray<24> header{};
    std::copy_n(pattern(24, 9).begin(), 24, header.begin());
    const DecryptParams params{Scheme::stream, key, std::nullopt, std::nullopt};
    const Bytes full(kStreamChunkBytes, 0x00);
    Bytes marked = {0x00, 0x00, 0x01, 'h', 'i'};
    SECTION("accepted: a well-formed hand-built blob") {
        auto r = decrypt(params, raw_stream(key, header, {marked}, {kFinal}));
        REQUIRE(r);
        CHECK(to_string(*r) == "hi");
    }
    SECTION("FINAL before the last piece") {
        Bytes p = full;
        p.back() = 0x01;
        CHECK(code_of(decrypt(params, raw_stream(key, header, {p, Bytes{'x'}}, {kFinal, kFinal}))) ==
              Errc::attachment_bad_format);
    }
    SECTION("a padding byte other than 0x01 ends the zeros") {
        Bytes p = {0x00, 0x02, 'h'};
        CHECK(code_of(decrypt(params, raw_stream(key, header, {p}, {kFinal}))) == Errc::attachment_bad_format);
    }
    SECTION("only padding: the blob ends before the marker") {
        CHECK(code_of(decrypt(params, raw_stream(key, header, {full, Bytes(100, 0)}, {kMsg, kFinal}))) ==
              Errc::attachment_bad_format);
    }
    SECTION("no FINAL at all") {
        CHECK(code_of(decrypt(params, raw_stream(key, header, {marked}, {kMsg}))) == Errc::attachment_truncated);
    }
    SECTION("an empty last piece (17 bytes)") {
        Bytes p = full;
        p.back() = 0x01;
        CHECK(code_of(decrypt(params, raw_stream(key, header, {p, Bytes{}}, {kMsg, kFinal}))) == Errc::attachment_truncated);
    }
    SECTION("a full last piece with FINAL is accepted") {
        Bytes p = full;
        p[0] = 0x01;
        auto r = decrypt(params, raw_stream(key, header, {full, p}, {kMsg, kFinal}));
        REQUIRE(r);
        CHECK(r->size() == kStreamChunkBytes - 1);
    }
    SECTION("padding spread over several pieces is accepted") {
        Bytes p = {0x01, 'o', 'k'};
        auto r = decrypt(params, raw_stream(key, header, {full, full, p}, {kMsg, kMsg, kFinal}));
        REQUIRE(r);
        CHECK(to_string(*r) == "ok");
    }
}

// ---- gcm rejects ---------------------------------------------------------------------------

TEST_CASE("attachment: gcm rejects a wrong key, a changed byte, a short blob and a wrong key length", "[attachment][reject]") {
    const Bytes k = pattern(32, 1);
    auto e = encrypt_gcm(secret<32>(k), pattern(300, 2), *system_rng());
    REQUIRE(e);
    const DecryptParams params{Scheme::gcm, k, std::nullopt, std::nullopt};
    Bytes wrong = k;
    wrong[0] ^= 1;
    CHECK(code_of(decrypt(DecryptParams{Scheme::gcm, wrong, std::nullopt, std::nullopt}, e->blob)) ==
          Errc::attachment_decrypt_failed);
    for (std::size_t at : {std::size_t{0}, std::size_t{12}, e->blob.size() - 1}) {
        Bytes b = e->blob;
        b[at] ^= 0x80;
        CHECK(code_of(decrypt(params, b)) == Errc::attachment_decrypt_failed);
    }
    CHECK(code_of(decrypt(params, ByteView(e->blob).first(27))) == Errc::attachment_truncated);
    CHECK(code_of(decrypt(DecryptParams{Scheme::gcm, pattern(64, 1), std::nullopt, std::nullopt}, e->blob)) ==
          Errc::attachment_bad_key);
    auto empty = encrypt_gcm(secret<32>(k), Bytes{}, *system_rng());
    REQUIRE(empty);
    CHECK(empty->blob.size() == 28);
    auto back = decrypt(params, empty->blob);
    REQUIRE(back);
    CHECK(back->empty());
}

// ---- limits and misuse ---------------------------------------------------------------------

TEST_CASE("attachment: oversized plaintexts and blobs are refused before any work", "[attachment][reject]") {
    auto rng = deterministic_rng(1);
    const auto k32 = secret<32>(pattern(32, 1));
    const auto k64 = secret<64>(pattern(64, 1));
    const ByteArray<16> iv{};
    const ByteArray<12> iv12{};
    CHECK(code_of(Encryptor::cbc_hmac(kMaxPlaintextBytes + 1, *rng)) == Errc::attachment_too_large);
    CHECK(code_of(Encryptor::cbc_hmac(k64, iv, kMaxPlaintextBytes + 1)) == Errc::attachment_too_large);
    CHECK(code_of(Encryptor::gcm(k32, kMaxPlaintextBytes + 1, *rng)) == Errc::attachment_too_large);
    CHECK(code_of(Encryptor::gcm(k32, iv12, ~std::uint64_t{0})) == Errc::attachment_too_large);
    StreamKey sk;
    CHECK(code_of(Encryptor::stream(sk, kMaxPlaintextBytes + 1)) == Errc::attachment_too_large);
    const Bytes key64 = pattern(64, 1), key32 = pattern(32, 1);
    const ByteArray<32> digest{};
    for (auto p : {cbc_params(key64, digest, 10), DecryptParams{Scheme::stream, key32, std::nullopt, std::nullopt},
                   DecryptParams{Scheme::gcm, key32, std::nullopt, std::nullopt}}) {
        CHECK(code_of(Decryptor::create(p, kMaxBlobBytes + 1)) == Errc::attachment_too_large);
        CHECK(code_of(Decryptor::create(p, ~std::uint64_t{0})) == Errc::attachment_too_large);
    }
}

TEST_CASE("attachment: an Encryptor holds the caller to the declared size", "[attachment][reject]") {
    auto rng = deterministic_rng(2);
    const Bytes plain = pattern(100, 1);
    SECTION("more than declared") {
        auto enc = Encryptor::cbc_hmac(99, *rng);
        REQUIRE(enc);
        Bytes out;
        CHECK(code_of(enc->update(plain, out)) == Errc::attachment_size_mismatch);
        CHECK(code_of(enc->finish(out)) == Errc::attachment_size_mismatch);
    }
    SECTION("fewer than declared") {
        StreamKeyHasher h(secret<32>(pattern(32, 2)), Domain::attachment);
        h.update(plain);
        auto enc = Encryptor::stream(h.finish(), 101);
        REQUIRE(enc);
        Bytes out;
        REQUIRE(enc->update(plain, out));
        CHECK(code_of(enc->finish(out)) == Errc::attachment_size_mismatch);
    }
    SECTION("finish twice, hasher twice") {
        auto enc = Encryptor::gcm(secret<32>(pattern(32, 3)), 0, *rng);
        REQUIRE(enc);
        Bytes out;
        REQUIRE(enc->finish(out));
        CHECK_THROWS_AS((void)enc->finish(out), std::logic_error);
        StreamKeyHasher h(secret<32>(pattern(32, 2)), Domain::attachment);
        (void)h.finish();
        CHECK_THROWS_AS(h.update(plain), std::logic_error);
        CHECK_THROWS_AS((void)h.finish(), std::logic_error);
    }
}

// ---- URLs ----------------------------------------------------------------------------------

TEST_CASE("attachment: parse_download_url reads the URLs desktop and libsession write", "[attachment][url]") {
    const std::string id44 = "pgb8G3JZqfAxsLbcfz9cLllZ1anhSgTg7QIVyKdeNGI2";
    const std::string ed = "b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371";
    SECTION("desktop's default file server, numeric and content ids") {
        auto u = parse_download_url("http://filev2.getsession.org/file/" + id44);
        REQUIRE(u);
        CHECK(u->scheme == "http");
        CHECK(u->host == "filev2.getsession.org");
        CHECK(u->port == 80);
        CHECK(u->file_id == id44);
        CHECK_FALSE(u->legacy_path);
        CHECK_FALSE(u->server_pubkey);
        CHECK_FALSE(u->deterministic);
        CHECK(u->base_url() == "http://filev2.getsession.org");
        CHECK(u->endpoint() == "/file/" + id44);
        auto n = parse_download_url("http://filev2.getsession.org/file/1234567890123");
        REQUIRE(n);
        CHECK(n->file_id == "1234567890123");
    }
    SECTION("desktop's fragment: p=<ed25519>&d=") {
        auto u = parse_download_url("http://potatofiles.getsession.org/file/abc#p=" + ed + "&d=");
        REQUIRE(u);
        REQUIRE(u->server_pubkey);
        CHECK(to_hex(*u->server_pubkey) == ed);
        CHECK(u->deterministic);
    }
    SECTION("libsession's fragment forms: #d, #p=…&d, unknown sr= ignored") {
        auto d = parse_download_url("https://example.com/file/abc123#d");
        REQUIRE(d);
        CHECK(d->deterministic);
        CHECK(d->port == 443);
        auto pd = parse_download_url("https://example.com/file/abc123#p=" + ed + "&d&sr=foo.sesh:11235");
        REQUIRE(pd);
        CHECK(pd->deterministic);
        CHECK(pd->server_pubkey);
        auto empty = parse_download_url("http://h/file/x#");
        REQUIRE(empty);
        CHECK_FALSE(empty->deterministic);
    }
    SECTION("e= key, the legacy /files/ path, ports, IPv6, case") {
        auto u = parse_download_url("HTTP://LocalHost:8080/files/42#e=" + ed);
        REQUIRE(u);
        CHECK(u->scheme == "http");
        CHECK(u->host == "localhost");
        CHECK(u->port == 8080);
        CHECK(u->legacy_path);
        CHECK(u->endpoint() == "/file/42");
        REQUIRE(u->encryption_key);
        CHECK(u->base_url() == "http://localhost:8080");
        auto v6 = parse_download_url("http://[::1]:9000/file/x_y-z");
        REQUIRE(v6);
        CHECK(v6->host == "[::1]");
        CHECK(v6->port == 9000);
        CHECK(v6->base_url() == "http://[::1]:9000");
        auto local = parse_download_url("http://127.0.0.1:41299/file/" + id44);
        REQUIRE(local);
        CHECK(local->base_url() == "http://127.0.0.1:41299");
    }
    SECTION("the first p= wins, as URLSearchParams.get") {
        const std::string other(64, 'a');
        auto u = parse_download_url("http://h/file/x#p=" + ed + "&p=" + other);
        REQUIRE(u);
        CHECK(to_hex(*u->server_pubkey) == ed);
    }
}

TEST_CASE("attachment: parse_download_url rejects everything else with a reason", "[attachment][url][reject]") {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"filev2.getsession.org/file/abc", "no scheme"},
        {"ftp://h/file/abc", "not http or https"},
        {"http://user@h/file/abc", "user information"},
        {"http:///file/abc", "empty host"},
        {"http://h:/file/abc", "empty port"},
        {"http://h:0/file/abc", "not in 1..65535"},
        {"http://h:65536/file/abc", "not in 1..65535"},
        {"http://h:80a/file/abc", "not a number"},
        {"http://h_x/file/abc", "position 1"},
        {"http://[::1/file/abc", "closing"},
        {"http://[zz]/file/abc", "IPv6"},
        {"http://h", "no path"},
        {"http://h/", "must be /file/<id>"},
        {"http://h/room/x/file/abc", "must be /file/<id>"},
        {"http://h/file/", "file id"},
        {"http://h/file/../x", "file id"},
        {"http://h/file/a%2Fb", "file id"},
        {"http://h/file/a/b", "file id"},
        {"http://h/file/" + std::string(65, 'a'), "file id"},
        {"http://h/file/abc?x=1", "query"},
        {"http://h/file/abc#p=1234", "p= must be 64 hex"},
        {"http://h/file/abc#p=" + std::string(64, 'g'), "p= must be 64 hex"},
        {"http://h/file/abc#e=00", "e= must be 64 hex"},
        {"http://h/file/" + std::string(3000, 'a'), "longer than 2048"},
    };
    for (const auto& [url, why] : bad) {
        INFO(url.substr(0, 80));
        auto r = parse_download_url(url);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::attachment_bad_url);
        CHECK_THAT(r.error().message, Catch::Contains(why));
    }
}

TEST_CASE("attachment: download_url writes what parse_download_url reads back", "[attachment][url]") {
    ByteArray<32> pk{};
    pk[0] = 0xab;
    CHECK(download_url("http://filev2.getsession.org", "abc", std::nullopt, false) == "http://filev2.getsession.org/file/abc");
    CHECK(download_url("http://h/", "abc", std::nullopt, true) == "http://h/file/abc#d");
    const std::string both = download_url("http://127.0.0.1:5000", "Zz-_9", pk, true);
    CHECK(both == "http://127.0.0.1:5000/file/Zz-_9#p=" + to_hex(pk) + "&d");
    auto u = parse_download_url(both);
    REQUIRE(u);
    CHECK(u->file_id == "Zz-_9");
    CHECK(*u->server_pubkey == pk);
    CHECK(u->deterministic);
    CHECK(u->port == 5000);
    CHECK_THROWS_AS(download_url("http://h", "a/b", std::nullopt, false), std::invalid_argument);
    CHECK_THROWS_AS(download_url("http://h", "", std::nullopt, false), std::invalid_argument);
}
