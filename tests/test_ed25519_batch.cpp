#include "detail/ed25519_batch.hpp"

#include <sodium.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using session::Bytes;
using session::detail::SignatureToCheck;
using session::detail::verify_batch;

namespace {

struct Signed {
    std::array<std::uint8_t, 32> pk{};
    std::array<std::uint8_t, 64> sk{};
    Bytes message;
    std::array<std::uint8_t, 64> sig{};
};

Signed make_signed(std::uint32_t seed_no, const std::string& text) {
    Signed s;
    std::array<std::uint8_t, 32> seed{};
    std::memcpy(seed.data(), &seed_no, sizeof seed_no);
    REQUIRE(sodium_init() >= 0);
    crypto_sign_seed_keypair(s.pk.data(), s.sk.data(), seed.data());
    s.message.assign(text.begin(), text.end());
    crypto_sign_detached(s.sig.data(), nullptr, s.message.data(), s.message.size(), s.sk.data());
    return s;
}

bool alone(const Signed& s) {
    return crypto_sign_verify_detached(s.sig.data(), s.message.data(), s.message.size(), s.pk.data()) == 0;
}

std::vector<SignatureToCheck> checks(const std::vector<Signed>& v) {
    std::vector<SignatureToCheck> out;
    for (const auto& s : v) out.push_back({s.pk, s.message, s.sig});
    return out;
}

bool batch(const std::vector<Signed>& v) { return verify_batch(checks(v)); }

// A swarm's answer: `n` members' signatures over one hash.
std::vector<Signed> members(std::size_t n, const std::string& hash, std::uint32_t first_key = 1) {
    std::vector<Signed> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(make_signed(first_key + static_cast<std::uint32_t>(i), hash));
    return v;
}

// An encoding of the point of order 2, (0, -1): y = p - 1.
std::array<std::uint8_t, 32> order_two() {
    std::array<std::uint8_t, 32> t{};
    t.fill(0xff);
    t[0] = 0xec;
    t[31] = 0x7f;
    return t;
}

// A signature made by the key's owner whose R = r·B + T for T of order 2: h and s are computed for
// that R, so [s]B = R - T + [h]A. libsodium refuses it; the cofactored equation would accept it.
Signed with_torsion_r(std::uint32_t seed_no, const std::string& text) {
    Signed s = make_signed(seed_no, text);
    std::uint8_t az[64];
    crypto_hash_sha512(az, s.sk.data(), 32);
    az[0] &= 248;
    az[31] &= 127;
    az[31] |= 64;
    std::uint8_t r[32], R[32], Rt[32];
    crypto_core_ed25519_scalar_random(r);
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(R, r) == 0);
    REQUIRE(crypto_core_ed25519_add(Rt, R, order_two().data()) == 0);
    crypto_hash_sha512_state st;
    std::uint8_t wide[64], h[32], ha[32];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, Rt, 32);
    crypto_hash_sha512_update(&st, s.pk.data(), 32);
    crypto_hash_sha512_update(&st, s.message.data(), s.message.size());
    crypto_hash_sha512_final(&st, wide);
    crypto_core_ed25519_scalar_reduce(h, wide);
    crypto_core_ed25519_scalar_mul(ha, h, az);
    std::memcpy(s.sig.data(), Rt, 32);
    crypto_core_ed25519_scalar_add(s.sig.data() + 32, r, ha);
    return s;
}

}  // namespace

TEST_CASE("ed25519_batch: valid signatures pass together, of any count", "[ed25519_batch]") {
    CHECK(verify_batch({}));
    for (std::size_t n = 1; n <= 9; ++n) {
        auto v = members(n, "hash-" + std::to_string(n), static_cast<std::uint32_t>(100 * n));
        for (const auto& s : v) REQUIRE(alone(s));
        CHECK(batch(v));
    }
    // The same key twice, different messages; an empty message.
    std::vector<Signed> v{make_signed(7, "a"), make_signed(7, "b"), make_signed(8, "")};
    CHECK(batch(v));
    // Run again: the keys' tables now come from the cache.
    CHECK(batch(v));
}

TEST_CASE("ed25519_batch: one bad signature anywhere fails the batch", "[ed25519_batch]") {
    std::mt19937 rng(1234);
    for (int round = 0; round < 300; ++round) {
        auto v = members(1 + rng() % 6, "h" + std::to_string(round), 1000 + static_cast<std::uint32_t>(round % 5));
        auto& bad = v[rng() % v.size()];
        switch (round % 5) {
            case 0: bad.sig[rng() % 32] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;       // R
            case 1: bad.sig[32 + rng() % 31] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;  // s
            case 2: bad.message.push_back('x'); break;                                               // message
            case 3: bad.pk = make_signed(999'999, "").pk; break;                                     // another key
            case 4: bad.sig = v[(&bad - v.data() + 1) % v.size()].sig; break;                        // another's signature
        }
        INFO("round " << round);
        const bool all_alone = std::all_of(v.begin(), v.end(), alone);
        if (all_alone) continue;  // case 4 with one member: its own signature
        CHECK_FALSE(batch(v));
    }
}

TEST_CASE("ed25519_batch: what libsodium refuses before the equation, the batch refuses too", "[ed25519_batch]") {
    const auto good = members(3, "hash");
    REQUIRE(batch(good));
    const std::array<std::uint8_t, 32> order = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                                0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    SECTION("s not reduced: s + l") {
        auto v = good;
        unsigned carry = 0;
        for (int i = 0; i < 32; ++i) {
            carry += v[1].sig[32 + i] + order[i];
            v[1].sig[32 + i] = static_cast<std::uint8_t>(carry);
            carry >>= 8;
        }
        REQUIRE_FALSE(alone(v[1]));
        CHECK_FALSE(batch(v));
    }
    SECTION("R of small order, or not a point") {
        auto v = good;
        std::memcpy(v[0].sig.data(), order_two().data(), 32);
        CHECK_FALSE(batch(v));
        v = good;
        std::memset(v[0].sig.data(), 0xff, 31);
        v[0].sig[31] = 0x7f;  // y = 2^255 - 1: not canonical
        CHECK_FALSE(batch(v));
    }
    SECTION("a key of small order, or the identity") {
        auto v = good;
        v[2].pk = order_two();
        CHECK_FALSE(batch(v));
        v[2].pk = {};
        v[2].pk[0] = 1;  // y = 1: the identity
        CHECK_FALSE(batch(v));
    }
    SECTION("wrong sizes") {
        auto c = checks(good);
        c[1].signature = c[1].signature.first(63);
        CHECK_FALSE(verify_batch(c));
        c = checks(good);
        c[0].public_key = c[0].public_key.first(31);
        CHECK_FALSE(verify_batch(c));
    }
}

TEST_CASE("ed25519_batch: a key outside the prime-order subgroup is left to libsodium", "[ed25519_batch]") {
    // A' = A + T (T of order 2), signed by A's owner with h over A': [s]B - [h]A' = R - [h]T, which
    // libsodium accepts when h is even. The batch refuses A' whatever h is; the caller's fallback
    // (libsodium, one by one) then decides.
    Signed s = make_signed(42, "x");
    std::array<std::uint8_t, 32> torsioned{};
    REQUIRE(crypto_core_ed25519_add(torsioned.data(), s.pk.data(), order_two().data()) == 0);
    s.pk = torsioned;
    CHECK_FALSE(batch({s}));
    CHECK_FALSE(batch({make_signed(1, "y"), s}));
}

TEST_CASE("ed25519_batch: an R with a small-order part never passes as the only one", "[ed25519_batch]") {
    for (int i = 0; i < 20; ++i) {
        const Signed t = with_torsion_r(77, "hash " + std::to_string(i));
        REQUIRE_FALSE(alone(t));
        CHECK_FALSE(batch({t}));
        auto v = members(4, "hash " + std::to_string(i));
        v.insert(v.begin() + i % 5, t);
        CHECK_FALSE(batch(v));
    }
}

TEST_CASE("ed25519_batch: agrees with libsodium on random mixes", "[ed25519_batch]") {
    std::mt19937 rng(99);
    int mixed = 0;
    for (int round = 0; round < 200; ++round) {
        auto v = members(5, "m" + std::to_string(round), 50 + static_cast<std::uint32_t>(round % 3) * 5);
        for (auto& s : v)
            if (rng() % 8 == 0) s.sig[rng() % 64] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        const bool all = std::all_of(v.begin(), v.end(), alone);
        mixed += all ? 0 : 1;
        CHECK(batch(v) == all);
    }
    CHECK(mixed > 50);
}

TEST_CASE("ed25519_batch: a batch reply's 100 signatures of 5 keys, together", "[ed25519_batch]") {
    // 20 messages, each signed by the same 5 members: the keys' terms are summed per key.
    std::vector<Signed> v;
    for (int m = 0; m < 20; ++m) {
        auto five = members(5, "message hash " + std::to_string(m), 300);
        v.insert(v.end(), five.begin(), five.end());
    }
    CHECK(batch(v));
    std::mt19937 rng(7);
    for (int round = 0; round < 10; ++round) {
        auto bad = v;
        auto& one = bad[rng() % bad.size()];
        one.sig[rng() % 64] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        REQUIRE_FALSE(alone(one));
        CHECK_FALSE(batch(bad));
    }
    // Two members' signatures swapped within one message: each still by a member, over the same hash.
    auto swapped = v;
    std::swap(swapped[40].sig, swapped[41].sig);
    CHECK_FALSE(batch(swapped));
}
