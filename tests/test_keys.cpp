#include "session/keys.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <ostream>
#include <type_traits>
#include <unordered_set>

#include "support/vectors.hpp"

using namespace session;
using session::test::unhex;

namespace {

Secret<32> secret32(const Bytes& b) {
    REQUIRE(b.size() >= 32);
    return Secret<32>(std::span<const std::uint8_t, 32>(b.data(), 32));
}

std::string hex_of(ByteView b) { return to_hex(b); }

template <class T>
concept Streamable = requires(std::ostream& os, const T& t) { os << t; };

// A deterministic Rng for generate(): a counter pattern.
class CountingRng final : public Rng {
public:
    void fill(std::span<std::uint8_t> out) override {
        for (auto& b : out) b = next_++;
    }

private:
    std::uint8_t next_ = 0x40;
};

}  // namespace

TEST_CASE("keys: Ed25519 key pair from a 32-byte seed matches libsession vectors", "[keys][kat]") {
    for (const char* name : {"ed25519_key_pair_from_seed_1", "ed25519_key_pair_from_seed_2"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("ed25519_x25519.json", name);
            auto id = Identity::from_ed25519_seed(secret32(test::hex(v, "seed_hex")));
            CHECK(hex_of(id.ed25519_public().bytes) == v.at("expected_pk_hex").get<std::string>());
            CHECK(hex_of(id.ed25519_secret().reveal()) == v.at("expected_sk_hex").get<std::string>());
        }
    }
}

TEST_CASE("keys: a seed that is not 32 bytes cannot become an Ed25519 seed", "[keys][reject]") {
    // libsession rejects a 9-byte seed at run time; here the length is part of the type, so the
    // only way in is a fixed 32-byte span.
    auto v = test::vector("ed25519_x25519.json", "ed25519_key_pair_bad_seed_length");
    CHECK(test::hex(v, "seed_hex").size() == 9);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<Secret<32>, std::span<const std::uint8_t, 9>>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<Secret<32>, std::span<const std::uint8_t>>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<Secret<32>, Bytes>);
}

TEST_CASE("keys: the libsodium secret key is seed || public key", "[keys][kat]") {
    // seed_for_ed_privkey vectors: the first 32 bytes of the 64-byte secret key are the seed.
    auto v = test::vector("ed25519_x25519.json", "seed_for_ed_privkey_from_sk64");
    auto sk = test::hex(v, "privkey_hex");
    auto id = Identity::from_ed25519_seed(secret32(sk));
    auto revealed = id.ed25519_secret().reveal();
    CHECK(hex_of(revealed.first<32>()) == v.at("expected_seed_hex").get<std::string>());
    CHECK(Bytes(revealed.begin(), revealed.end()) == sk);
    auto v2 = test::vector("ed25519_x25519.json", "seed_for_ed_privkey_from_seed32");
    auto id2 = Identity::from_ed25519_seed(secret32(test::hex(v2, "privkey_hex")));
    CHECK(hex_of(id2.ed25519_secret().reveal().first<32>()) == v2.at("expected_seed_hex").get<std::string>());
}

TEST_CASE("keys: sign gives the libsession signature and verify accepts only it", "[keys][kat]") {
    auto v = test::vector("ed25519_x25519.json", "ed25519_sign_hello");
    auto id = Identity::from_ed25519_seed(secret32(test::hex(v, "seed_hex")));
    auto msg = test::hex(v, "message_hex");
    auto sig = id.sign(msg);
    CHECK(hex_of(sig) == v.at("expected_signature_hex").get<std::string>());

    Ed25519PublicKey pk;
    auto pk_bytes = test::hex(v, "pk_hex");
    std::copy(pk_bytes.begin(), pk_bytes.end(), pk.bytes.begin());
    CHECK(pk == id.ed25519_public());
    CHECK(verify(pk, msg, sig));

    auto bad = sig;
    bad[10] ^= 0x01;
    CHECK_FALSE(verify(pk, msg, bad));
    auto other_msg = msg;
    other_msg[0] ^= 0x20;
    CHECK_FALSE(verify(pk, other_msg, sig));
    CHECK_FALSE(verify(pk, msg, ByteView(sig).first(63)));
    Bytes longer(sig.begin(), sig.end());
    longer.push_back(0);
    CHECK_FALSE(verify(pk, msg, longer));
    CHECK_FALSE(verify(pk, msg, {}));
}

TEST_CASE("keys: to_x25519 converts Ed25519 public keys like libsession", "[keys][kat]") {
    for (const char* name : {"to_curve25519_pubkey_1", "to_curve25519_pubkey_2"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("ed25519_x25519.json", name);
            Ed25519PublicKey pk;
            auto b = test::hex(v, "ed25519_pk_hex");
            std::copy(b.begin(), b.end(), pk.bytes.begin());
            auto x = to_x25519(pk);
            REQUIRE(x);
            CHECK(hex_of(x->bytes) == v.at("expected_x25519_pk_hex").get<std::string>());
        }
    }
}

TEST_CASE("keys: to_x25519 rejects small-order Ed25519 points", "[keys][reject]") {
    Ed25519PublicKey zero;  // y = 0: a point of order 4
    auto r = to_x25519(zero);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::key_invalid);
    Ed25519PublicKey neutral;  // y = 1: the neutral element
    neutral.bytes[0] = 1;
    CHECK_FALSE(to_x25519(neutral));
}

TEST_CASE("keys: X25519 secret key from the Ed25519 secret matches libsession", "[keys][kat]") {
    for (const char* name : {"to_curve25519_seckey_1", "to_curve25519_seckey_2"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("ed25519_x25519.json", name);
            auto id = Identity::from_ed25519_seed(secret32(test::hex(v, "ed25519_sk_hex")));
            CHECK(hex_of(id.x25519_secret().reveal()) == v.at("expected_x25519_sk_hex").get<std::string>());
        }
    }
}

TEST_CASE("keys: Session ID from an Ed25519 seed matches libsession", "[keys][kat]") {
    for (const char* name : {"session_id_from_seed_1", "session_id_from_seed_2"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("ed25519_x25519.json", name);
            auto id = Identity::from_ed25519_seed(secret32(test::hex(v, "ed25519_seed_hex")));
            CHECK(hex_of(id.ed25519_public().bytes) == v.at("expected_ed25519_pk_hex").get<std::string>());
            CHECK(hex_of(id.x25519_public().bytes) == v.at("expected_x25519_pk_hex").get<std::string>());
            CHECK(hex_of(id.x25519_secret().reveal()) == v.at("expected_x25519_sk_hex").get<std::string>());
            CHECK(id.session_id().hex() == v.at("expected_session_id_hex").get<std::string>());
            // The first 16 bytes are a phrase seed: from_seed must give the same identity.
            auto seed_bytes = test::hex(v, "ed25519_seed_hex");
            mnemonic::Seed seed16(std::span<const std::uint8_t, 16>(seed_bytes.data(), 16));
            CHECK(Identity::from_seed(seed16).session_id() == id.session_id());
        }
    }
}

TEST_CASE("keys: Session IDs of the xed25519 vectors", "[keys][kat]") {
    for (const char* name : {"xed25519_pubkey_1", "xed25519_pubkey_2"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("ed25519_x25519.json", name);
            auto id = Identity::from_ed25519_seed(secret32(test::hex(v, "ed25519_sk_hex")));
            CHECK(hex_of(id.ed25519_public().bytes) == v.at("expected_ed25519_pk_hex").get<std::string>());
            CHECK(hex_of(id.x25519_public().bytes) == v.at("expected_x25519_pk_hex").get<std::string>());
            CHECK(id.session_id().hex() == v.at("expected_session_id_hex").get<std::string>());
        }
    }
}

TEST_CASE("keys: phrase to Session ID matches the sessionjs vectors", "[keys][kat]") {
    for (const char* name :
         {"mnemonic_to_session_id_1", "mnemonic_to_session_id_2", "mnemonic_to_session_id_3", "mnemonic_to_session_id_4"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("mnemonic.json", name);
            auto id = Identity::from_phrase(v.at("mnemonic").get<std::string>());
            REQUIRE(id);
            CHECK(hex_of(id->ed25519_secret().reveal().first<32>()) ==
                  v.at("expected_ed25519_seed_hex").get<std::string>());
            CHECK(hex_of(id->ed25519_public().bytes) == v.at("expected_ed25519_pk_hex").get<std::string>());
            CHECK(hex_of(id->x25519_public().bytes) == v.at("expected_x25519_pk_hex").get<std::string>());
            CHECK(id->session_id().hex() == v.at("expected_session_id_hex").get<std::string>());
            // Key pair consistency: the X25519 secret matches the X25519 public key.
            ByteArray<32> derived{};
            auto x_sk = id->x25519_secret().reveal();
            REQUIRE(crypto_scalarmult_base(derived.data(), x_sk.data()) == 0);
            CHECK(derived == id->x25519_public().bytes);
        }
    }
}

TEST_CASE("keys: from_phrase passes mnemonic errors through without the phrase", "[keys][reject]") {
    auto r = Identity::from_phrase("love love love");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::mnemonic_word_count);
    auto bad = Identity::from_phrase("love love love qqqzzz love love love love love love love love love");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::mnemonic_unknown_word);
    CHECK(bad.error().message.find("qqqzzz") == std::string::npos);
    CHECK(bad.error().message.find("love") == std::string::npos);
    CHECK(bad.error().message.find("word 4") != std::string::npos);
}

TEST_CASE("keys: generate returns an identity and the phrase that restores it", "[keys]") {
    CountingRng rng;
    auto [id, phrase] = Identity::generate(rng);
    auto again = Identity::from_phrase(phrase.view());
    REQUIRE(again);
    CHECK(again->session_id() == id.session_id());
    CHECK(again->ed25519_public() == id.ed25519_public());
    // The seed came from the Rng: bytes 0x40..0x4f, then 16 zero bytes.
    auto seed = id.ed25519_secret().reveal();
    for (std::size_t i = 0; i < 16; ++i) CHECK(seed[i] == 0x40 + i);
    for (std::size_t i = 16; i < 32; ++i) CHECK(seed[i] == 0);
    // System randomness: two identities differ.
    auto a = Identity::generate(*system_rng());
    auto b = Identity::generate(*system_rng());
    CHECK_FALSE(a.first.session_id() == b.first.session_id());
}

TEST_CASE("keys: SessionId parses 05 IDs in either case and prints lower case", "[keys]") {
    const std::string lower = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
    std::string upper = lower;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
    auto a = SessionId::parse(lower);
    auto b = SessionId::parse(upper);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
    CHECK(a->hex() == lower);
    CHECK(b->hex() == lower);
    auto bytes = a->bytes();
    CHECK(bytes[0] == 0x05);
    CHECK(hex_of(bytes) == lower);
    CHECK(hex_of(a->x25519().bytes) == lower.substr(2));
    CHECK(SessionId::of(a->x25519()) == *a);
    std::unordered_set<SessionId> set{*a, *b};
    CHECK(set.size() == 1);
}

TEST_CASE("keys: SessionId rejects wrong length and non-hex with a position", "[keys][reject]") {
    const std::string good = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
    auto short_ = SessionId::parse(good.substr(0, 64));
    REQUIRE_FALSE(short_);
    CHECK(short_.error().code == Errc::session_id_invalid);
    CHECK(short_.error().message.find("expected 66") != std::string::npos);
    CHECK(short_.error().message.find("got 64") != std::string::npos);
    CHECK_FALSE(SessionId::parse(good + "0"));
    CHECK_FALSE(SessionId::parse(""));
    auto bad = good;
    bad[40] = 'g';
    auto r = SessionId::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::session_id_invalid);
    CHECK(r.error().message.find("position 40") != std::string::npos);
    bad = good;
    bad[1] = ' ';
    CHECK(SessionId::parse(bad).error().message.find("position 1") != std::string::npos);
}

TEST_CASE("keys: SessionId names the kind of ID it refuses", "[keys][reject]") {
    const std::string key = "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
    const std::pair<const char*, const char*> cases[] = {
        {"03", "closed-group"}, {"15", "community-blinded"}, {"25", "community-blinded"},
        {"07", "version-blinded"}, {"00", "unknown prefix 00"}, {"Ab", "unknown prefix ab"}};
    for (auto [prefix, what] : cases) {
        auto r = SessionId::parse(prefix + key);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::session_id_wrong_prefix);
        CHECK(r.error().message.find(what) != std::string::npos);
    }
}

TEST_CASE("keys: secrets are not printable", "[keys]") {
    STATIC_REQUIRE_FALSE(Streamable<Secret<32>>);
    STATIC_REQUIRE_FALSE(Streamable<Secret<64>>);
    STATIC_REQUIRE_FALSE(Streamable<SecretBuffer>);
    STATIC_REQUIRE_FALSE(Streamable<Identity>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<Identity>);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<Identity>);
}
