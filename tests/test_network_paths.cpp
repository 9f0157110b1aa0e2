// test_network_paths.cpp: the path selection rules (src/network/paths.hpp), pure functions:
// one node per /24 (per IP on loopback), never the destination, suspects last, replacements in place.
#include "network/paths.hpp"

#include <algorithm>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
using nlohmann::json;
namespace nd = session::network::detail;

// ---- pure rules ------------------------------------------------------------------------------------

TEST_CASE("network: diversity key is the /24 outside loopback and the IP on 127/8", "[network][paths]") {
    CHECK(nd::diversity_key("1.2.3.4") == "1.2.3");
    CHECK(nd::diversity_key("1.2.3.200") == "1.2.3");
    CHECK(nd::diversity_key("127.0.0.2") == "127.0.0.2");
    CHECK(nd::diversity_key("127.0.0.3") != nd::diversity_key("127.0.0.2"));
}

TEST_CASE("network: pick_path takes one node per /24 and never the destination's subnet", "[network][paths]") {
    SystemRng rng;
    FakeNet net({"1.1.1.1", "1.1.1.2", "1.1.1.3", "2.2.2.1", "3.3.3.1", "4.4.4.1", "4.4.4.2"}, 1);
    std::vector<Snode> pool;
    for (auto& n : net.nodes()) pool.push_back(n->info);
    for (int round = 0; round < 200; ++round) {
        std::vector<Snode> excl{pool[3]};  // destination 2.2.2.1
        auto p = nd::pick_path(pool, 3, excl, {}, rng);
        REQUIRE(p);
        REQUIRE(p->size() == 3);
        std::set<std::string> keys;
        for (const auto& n : *p) {
            keys.insert(nd::diversity_key(n.ip));
            CHECK(n.ip != "2.2.2.1");
        }
        CHECK(keys.size() == 3);
    }
    // Only 3 subnets remain without 2.2.2.x, so 4 relays cannot be found.
    std::vector<Snode> excl{pool[3]};
    CHECK_FALSE(nd::pick_path(pool, 4, excl, {}, rng));
}

TEST_CASE("network: pick_path on loopback uses distinct IPs and prefers nodes outside other paths", "[network][paths]") {
    SystemRng rng;
    FakeNet net(loopback_ips(7), 1);
    std::vector<Snode> pool;
    for (auto& n : net.nodes()) pool.push_back(n->info);
    std::vector<Snode> avoid(pool.begin(), pool.begin() + 3);
    for (int round = 0; round < 100; ++round) {
        auto p = nd::pick_path(pool, 3, {}, avoid, rng);
        REQUIRE(p);
        for (const auto& n : *p) CHECK(std::find(avoid.begin(), avoid.end(), n) == avoid.end());
    }
    // With 6 of 7 avoided, the soft rule yields: 1 fresh + 2 avoided.
    std::vector<Snode> avoid6(pool.begin(), pool.begin() + 6);
    auto p = nd::pick_path(pool, 3, {}, avoid6, rng);
    REQUIRE(p);
    CHECK(std::count(p->begin(), p->end(), pool[6]) == 1);
}

TEST_CASE("network: pick_path takes a call's suspects last, the least suspected first", "[network][paths]") {
    auto rng = deterministic_rng(7);
    FakeNet net(loopback_ips(7), 1);
    std::vector<Snode> pool;
    for (auto& n : net.nodes()) pool.push_back(n->info);
    const std::vector<Snode> dest{pool[6]};
    auto has = [](const std::vector<Snode>& p, const Snode& n) { return std::find(p.begin(), p.end(), n) != p.end(); };
    for (int round = 0; round < 100; ++round) {
        // 3 clean nodes left besides the destination: suspects are never needed, even over `avoid`.
        std::vector<Snode> suspects{pool[0], pool[1], pool[2]};
        std::vector<Snode> avoid{pool[3]};
        auto p = nd::pick_path(pool, 3, dest, avoid, *rng, suspects);
        REQUIRE(p);
        const std::vector<Snode> clean{pool[3], pool[4], pool[5]};
        CHECK(std::is_permutation(p->begin(), p->end(), clean.begin(), clean.end()));
        // Only 2 clean nodes: one suspect joins them, the one in fewer failed attempts (pool[2]).
        suspects = {pool[0], pool[1], pool[2], pool[3], pool[0], pool[1], pool[3]};
        p = nd::pick_path(pool, 3, dest, {}, *rng, suspects);
        REQUIRE(p);
        CHECK(has(*p, pool[4]));
        CHECK(has(*p, pool[5]));
        CHECK(has(*p, pool[2]));
        CHECK_FALSE(has(*p, pool[6]));
    }
    // Suspects never make a possible path impossible: 6 of 6 candidates suspected, path of 6.
    std::vector<Snode> all(pool.begin(), pool.begin() + 6);
    auto p = nd::pick_path(pool, 6, dest, {}, *rng, all);
    REQUIRE(p);
    CHECK(p->size() == 6);
    CHECK(nd::suspicion(all, pool[0]) == 1);
    CHECK(nd::suspicion(all, pool[6]) == 0);
}

TEST_CASE("network: pick_replacement keeps the other hops and their subnets", "[network][paths]") {
    SystemRng rng;
    FakeNet net({"1.1.1.1", "2.2.2.1", "3.3.3.1", "3.3.3.2", "5.5.5.1"}, 1);
    std::vector<Snode> pool;
    for (auto& n : net.nodes()) pool.push_back(n->info);
    std::vector<Snode> path{pool[0], pool[1], pool[2]};
    for (int i = 0; i < 50; ++i) {
        auto r = nd::pick_replacement(pool, path, 1, {}, rng);
        REQUIRE(r);
        CHECK(*r == pool[4]);  // 3.3.3.2 shares hop 3's subnet
    }
    std::vector<Snode> excl{pool[4]};
    CHECK_FALSE(nd::pick_replacement(pool, path, 1, excl, rng));
}
