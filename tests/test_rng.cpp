#include "session/rng.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "session/bytes.hpp"

using namespace session;

namespace {

Bytes draw(Rng& rng, std::size_t n) {
    Bytes out(n);
    rng.fill(out);
    return out;
}

}  // namespace

TEST_CASE("rng: deterministic_rng is SplitMix64 (known answer)", "[rng]") {
    // SplitMix64 from state 0 outputs e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f (Vigna's
    // reference splitmix64.c); each word is handed out low byte first. Pinning the stream keeps the
    // committed fuzz seeds and the self-test round trips reproducible.
    auto rng = deterministic_rng(0);
    CHECK(to_hex(draw(*rng, 24)) == "afcd1d7b39a820e2f465b9a16a9e786e4f450980185dc406");
    DeterministicRng seven(7);
    CHECK(to_hex(draw(seven, 13)) == "d70d3259e4e1cb631c663cf4d7");
}

TEST_CASE("rng: the same seed gives the same bytes, different seeds differ", "[rng]") {
    auto a = deterministic_rng(0x5e55105e55105eULL);
    auto b = deterministic_rng(0x5e55105e55105eULL);
    auto c = deterministic_rng(0x5e55105e55105fULL);
    const Bytes from_a = draw(*a, 64);
    CHECK(from_a == draw(*b, 64));
    CHECK(from_a != draw(*c, 64));
    // The stream moves on: the next draw is not a repeat of the first.
    CHECK(draw(*a, 64) != from_a);
}

TEST_CASE("rng: fills of odd lengths continue one stream", "[rng]") {
    // Leftover bytes of a 64-bit word carry over into the next fill(), so chunk sizes do not
    // change the stream: 1 + 3 + 5 + 7 + 0 + 17 bytes equal one 33-byte fill.
    DeterministicRng whole(42);
    const Bytes expected = draw(whole, 33);
    DeterministicRng pieces(42);
    Bytes joined;
    for (std::size_t n : {1, 3, 5, 7, 0, 17}) {
        const Bytes part = draw(pieces, n);
        CHECK(part.size() == n);
        joined.insert(joined.end(), part.begin(), part.end());
    }
    CHECK(joined == expected);
    // An empty fill does not consume anything.
    DeterministicRng x(9), y(9);
    Bytes none;
    x.fill(none);
    CHECK(draw(x, 11) == draw(y, 11));
}

TEST_CASE("rng: deterministic_rng hands out independent generators", "[rng]") {
    auto a = deterministic_rng(1);
    auto b = deterministic_rng(1);
    CHECK(a.get() != b.get());
    (void)draw(*a, 5);  // advancing one leaves the other at the start
    CHECK(draw(*b, 8) == draw(*deterministic_rng(1), 8));
}

TEST_CASE("rng: random_below stays in range and reaches every value", "[rng]") {
    auto rng = deterministic_rng(42);
    std::vector<int> seen(7, 0);
    for (int i = 0; i < 700; ++i) {
        const auto v = random_below(*rng, seen.size());
        REQUIRE(v < seen.size());
        ++seen[v];
    }
    for (int count : seen) CHECK(count > 0);
    CHECK(random_below(*rng, 1) == 0);
    CHECK_THROWS_AS(random_below(*rng, 0), std::invalid_argument);
}

TEST_CASE("rng: shuffle permutes (same multiset) and is reproducible for a seed", "[rng]") {
    std::vector<int> a(20), b;
    for (int i = 0; i < 20; ++i) a[i] = i;
    b = a;
    auto r1 = deterministic_rng(9);
    auto r2 = deterministic_rng(9);
    shuffle(a, *r1);
    shuffle(b, *r2);
    CHECK(a == b);
    std::vector<int> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 20; ++i) CHECK(sorted[i] == i);
    std::vector<int> identity(20);
    for (int i = 0; i < 20; ++i) identity[i] = i;
    CHECK(a != identity);
}
