// test_batch_sender.cpp: grouping messages by swarm into batches (detail/batch_sender.hpp).
#include "detail/batch_sender.hpp"

#include <catch2/catch.hpp>

#include <set>

using session::detail::chunk_by_key;

TEST_CASE("batch sender: messages are grouped by swarm, in chunks of at most the batch size", "[batch]") {
    const std::vector<std::string> keys{"a", "b", "a", "c", "a", "b", "a"};
    auto chunks = chunk_by_key(keys, 2);
    // a: 0 2 4 6 → [0 2] [4 6]; b: 1 5; c: 3 — groups in order of first appearance.
    const std::vector<std::vector<std::size_t>> want{{0, 2}, {4, 6}, {1, 5}, {3}};
    CHECK(chunks == want);

    // Every index exactly once, each chunk one key, none larger than the limit.
    std::vector<std::string> many;
    for (int i = 0; i < 1000; ++i) many.push_back("swarm" + std::to_string(i % 7));
    auto big = chunk_by_key(many, 20);
    std::set<std::size_t> seen;
    for (const auto& c : big) {
        REQUIRE_FALSE(c.empty());
        CHECK(c.size() <= 20);
        for (auto i : c) {
            CHECK(many[i] == many[c.front()]);
            CHECK(seen.insert(i).second);
        }
    }
    CHECK(seen.size() == many.size());
    // 1000 / 7 = 142 or 143 per swarm: 8 chunks each.
    CHECK(big.size() == 7 * 8);

    CHECK(chunk_by_key({}, 20).empty());
    CHECK_THROWS_AS(chunk_by_key(keys, 0), std::invalid_argument);
}
