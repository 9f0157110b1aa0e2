#include "session/swarm.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "session/keys.hpp"
#include "support/vectors.hpp"

using namespace session;

namespace {

std::span<const std::uint8_t, 32> key32(const Bytes& b) {
    REQUIRE(b.size() == 32);
    return std::span<const std::uint8_t, 32>(b.data(), 32);
}

std::uint64_t dec(const nlohmann::json& v) { return std::stoull(v.get<std::string>()); }

}  // namespace

TEST_CASE("swarm: swarm_space matches the storage-server vectors", "[swarm][kat]") {
    int n = 0;
    for (const auto& v : test::vectors("swarm_space.json")) {
        auto name = v.at("name").get<std::string>();
        if (name.rfind("pubkey_to_swarm_space_", 0) != 0) continue;
        DYNAMIC_SECTION(name) {
            const auto prefixed = test::hex(v, "pubkey_hex");
            const auto raw = test::hex(v, "pubkey32_hex");
            REQUIRE(prefixed.size() == 33);
            CHECK(Bytes(prefixed.begin() + 1, prefixed.end()) == raw);
            const std::uint64_t expected = dec(v.at("expected_swarm_space_dec"));
            CHECK(swarm::swarm_space(key32(raw)) == expected);
            X25519PublicKey x;
            std::copy(raw.begin(), raw.end(), x.bytes.begin());
            CHECK(swarm::swarm_space(x) == expected);
            CHECK(to_hex(ByteArray<8>{
                      static_cast<std::uint8_t>(expected >> 56), static_cast<std::uint8_t>(expected >> 48),
                      static_cast<std::uint8_t>(expected >> 40), static_cast<std::uint8_t>(expected >> 32),
                      static_cast<std::uint8_t>(expected >> 24), static_cast<std::uint8_t>(expected >> 16),
                      static_cast<std::uint8_t>(expected >> 8), static_cast<std::uint8_t>(expected)}) ==
                  v.at("expected_swarm_space_hex").get<std::string>());
        }
        ++n;
    }
    CHECK(n == 11);
}

TEST_CASE("swarm: closest_swarm matches the storage-server vectors", "[swarm][kat]") {
    int n = 0;
    for (const auto& v : test::vectors("swarm_space.json")) {
        auto name = v.at("name").get<std::string>();
        if (name.rfind("closest_swarm_", 0) != 0) continue;
        DYNAMIC_SECTION(name) {
            std::vector<std::uint64_t> ids;
            for (const auto& id : v.at("swarm_ids_dec")) ids.push_back(dec(id));
            const auto pk = test::hex(v, "pubkey_hex");
            REQUIRE(pk.size() == 33);
            const auto space = swarm::swarm_space(key32(Bytes(pk.begin() + 1, pk.end())));
            CHECK(space == dec(v.at("expected_swarm_space_dec")));
            const auto expected = dec(v.at("expected_swarm_id_dec"));
            CHECK(swarm::closest_swarm(space, ids) == expected);
            // Order and duplicates in the input do not matter.
            auto shuffled = ids;
            std::reverse(shuffled.begin(), shuffled.end());
            shuffled.push_back(ids.front());
            CHECK(swarm::closest_swarm(space, shuffled) == expected);
        }
        ++n;
    }
    CHECK(n == 32);
}

TEST_CASE("swarm: closest_swarm ties, wrap-around and edge cases", "[swarm]") {
    const std::vector<std::uint64_t> ids{100, 200, 300};
    CHECK(swarm::closest_swarm(150, ids) == 100);  // equidistant: left
    CHECK(swarm::closest_swarm(151, ids) == 200);
    CHECK(swarm::closest_swarm(300, ids) == 300);  // exact hit
    // Across the wrap: from 2^64 - 1, id 100 is 101 steps up (right wraps to the smallest id).
    CHECK(swarm::closest_swarm(~std::uint64_t{0}, ids) == 100);
    // Exactly halfway around the ring between 300 and 100 (distance 2^63 - 100 each way): left = 300.
    const std::uint64_t half = 300 + ((std::uint64_t{0} - 300 + 100) / 2);
    CHECK(half - 300 == (std::uint64_t{100} - half));
    CHECK(swarm::closest_swarm(half, ids) == 300);
    CHECK(swarm::closest_swarm(half + 1, ids) == 100);
    // One swarm: always it.
    const std::vector<std::uint64_t> one{42};
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{42}, ~std::uint64_t{0}}) CHECK(swarm::closest_swarm(v, one) == 42);
    // Decommissioned nodes' id is not a swarm.
    const std::vector<std::uint64_t> with_invalid{swarm::kInvalidSwarmId, 100, 200};
    CHECK(swarm::closest_swarm(~std::uint64_t{0} - 5, with_invalid) == 100);
    CHECK_THROWS_AS(swarm::closest_swarm(1, std::vector<std::uint64_t>{}), std::invalid_argument);
    CHECK_THROWS_AS(swarm::closest_swarm(1, std::vector<std::uint64_t>{swarm::kInvalidSwarmId}), std::invalid_argument);
}

TEST_CASE("swarm: closest_swarm agrees with a brute-force ring distance", "[swarm]") {
    std::mt19937_64 gen(20260101);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::uint64_t> ids(1 + gen() % 12);
        for (auto& id : ids) id = gen() % 4 == 0 ? gen() % 64 : gen();  // some small, clustered ids
        const std::uint64_t v = round % 3 == 0 ? ids[gen() % ids.size()] + (gen() % 5) - 2 : gen();
        // Brute force: the smallest ring distance d = min(v - id, id - v) (mod 2^64); of two ids at
        // the same distance, the one at v - d (the left one) wins.
        std::uint64_t best = 0, best_d = 0;
        bool best_left = false, first = true;
        for (auto id : ids) {
            const std::uint64_t down = v - id, up = id - v;
            const std::uint64_t d = std::min(down, up);
            const bool is_left = down <= up;
            if (first || d < best_d || (d == best_d && is_left && !best_left)) {
                best = id;
                best_d = d;
                best_left = is_left;
                first = false;
            }
        }
        INFO("v = " << v);
        CHECK(swarm::closest_swarm(v, ids) == best);
    }
}

TEST_CASE("swarm: message_hash matches the storage-server and libsession vectors", "[swarm][kat]") {
    int n = 0;
    for (const auto& v : test::vectors("message_hash.json")) {
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            const auto pk = test::hex(v, "pubkey_hex");
            auto data = base64_decode(v.at("data_b64").get<std::string>());
            REQUIRE(data);
            if (v.contains("data_hex")) CHECK(*data == test::hex(v, "data_hex"));
            const auto ns = v.at("namespace").get<std::int32_t>();
            const auto hash = swarm::message_hash(pk, ns, *data);
            CHECK(hash == v.at("expected_hash_b64").get<std::string>());
            CHECK(hash.size() == 43);
        }
        ++n;
    }
    CHECK(n == 6);
}

TEST_CASE("swarm: message_hash depends on namespace, key and data, and checks the key size", "[swarm]") {
    auto id = SessionId::parse("05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48");
    REQUIRE(id);
    const auto pk = id->bytes();
    const auto data = as_bytes("abc 123");
    const auto h0 = swarm::message_hash(pk, 0, data);
    CHECK(h0 == "IMR0YySXQK/E+Zreo7uKqLcyqiJbwIB8V3U9Keu/uXU");
    CHECK(swarm::message_hash(pk, 1, data) != h0);
    auto other = pk;
    other[0] = 0x03;  // the prefix byte is hashed
    CHECK(swarm::message_hash(other, 0, data) != h0);
    CHECK(swarm::message_hash(pk, 0, as_bytes("abc 124")) != h0);
    // Namespace text is prepended to the data: ns 4 + "2abc" equals ns 42 + "abc".
    CHECK(swarm::message_hash(pk, 4, as_bytes("2abc")) == swarm::message_hash(pk, 42, as_bytes("abc")));
    CHECK_THROWS_AS(swarm::message_hash(ByteView(pk).first(32), 0, data), std::invalid_argument);
    CHECK_THROWS_AS(swarm::message_hash(Bytes(34, 5), 0, data), std::invalid_argument);
}
