// test_network_swarms.cpp: swarms (src/network/swarms.hpp): computed from the pool's swarm ids
// (the storage server's closest-swarm vectors), and the cache's freshness and 421 rules.
#include "network/swarms.hpp"

#include "support/vectors.hpp"
#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
namespace nd = session::network::detail;

namespace {

std::uint64_t dec(const nlohmann::json& v) { return std::stoull(v.get<std::string>()); }

/// Two nodes per swarm id, in the order given.
std::vector<Snode> pool_with_swarms(const std::vector<std::uint64_t>& ids) {
    std::vector<Snode> pool;
    FakeNet net(loopback_ips(ids.size() * 2), 1);
    for (std::size_t i = 0; i < ids.size() * 2; ++i) {
        auto n = net.node(i).info;
        n.swarm_id = ids[i / 2];
        pool.push_back(n);
    }
    return pool;
}

}  // namespace

TEST_CASE("network: the swarm is computed from the pool's swarm ids (storage-server vectors)", "[network][swarm][kat]") {
    int n = 0;
    for (const auto& v : test::vectors("swarm_space.json")) {
        const auto name = v.at("name").get<std::string>();
        if (name.rfind("closest_swarm_", 0) != 0) continue;
        auto id = SessionId::parse(v.at("pubkey_hex").get<std::string>());
        if (!id) continue;  // 03/ff-prefixed keys are not Session IDs
        DYNAMIC_SECTION(name) {
            std::vector<std::uint64_t> ids;
            for (const auto& s : v.at("swarm_ids_dec")) ids.push_back(dec(s));
            const auto pool = pool_with_swarms(ids);
            auto sw = nd::local_swarm(*id, pool);
            REQUIRE(sw);
            CHECK(sw->id == dec(v.at("expected_swarm_id_dec")));
            REQUIRE(sw->nodes.size() == 2);
            for (const auto& m : sw->nodes) CHECK(m.swarm_id == sw->id);
        }
        ++n;
    }
    CHECK(n >= 10);
}

TEST_CASE("network: no swarm is computed from a pool without swarm ids", "[network][swarm]") {
    auto pool = pool_with_swarms({1, 2});
    for (auto& n : pool) n.swarm_id.reset();
    CHECK_FALSE(nd::local_swarm(account(1), pool));
    CHECK_FALSE(nd::local_swarm(account(1), {}));
}

TEST_CASE("network: a cached swarm is used while young and while enough members are usable", "[network][swarm]") {
    nd::Logger log;
    nd::SwarmCache cache(std::chrono::minutes(60), log);
    const auto acct = account(3);
    CHECK_FALSE(cache.find(acct));
    auto pool = pool_with_swarms({7, 7, 7});  // one swarm of 6
    Swarm sw{7, pool};
    cache.put(acct, sw, 1'000, false);
    auto e = cache.find(acct);
    REQUIRE(e);
    CHECK_FALSE(e->from_network);
    std::set<std::string> dead;
    auto usable = [&](const Snode& n) { return !dead.count(n.ed25519_hex()); };
    CHECK(cache.fresh(*e, 1'000 + 59 * 60'000, usable));
    CHECK_FALSE(cache.fresh(*e, 1'000 + 60 * 60'000, usable));  // the TTL
    for (std::size_t i = 0; i < 3; ++i) dead.insert(pool[i].ed25519_hex());
    CHECK(cache.fresh(*e, 2'000, usable));  // 3 of 6 usable
    dead.insert(pool[3].ed25519_hex());
    CHECK_FALSE(cache.fresh(*e, 2'000, usable));  // 2 < kMinSwarmMembers
    // A swarm of 2 needs both.
    cache.put(acct, Swarm{7, {pool[4], pool[5]}}, 1'000, true);
    CHECK(cache.fresh(*cache.find(acct), 2'000, usable));
    dead.insert(pool[5].ed25519_hex());
    CHECK_FALSE(cache.fresh(*cache.find(acct), 2'000, usable));
}

TEST_CASE("network: a 421 replaces the swarm, or drops the member that sent it", "[network][swarm]") {
    nd::Logger log;
    nd::SwarmCache cache(std::chrono::minutes(60), log);
    const auto acct = account(4);
    auto pool = pool_with_swarms({1, 1, 2, 2});
    cache.put(acct, Swarm{1, {pool[0], pool[1], pool[2], pool[3]}}, 5'000, false);
    cache.moved(acct, pool[0], std::nullopt, 6'000);
    auto e = cache.find(acct);
    REQUIRE(e);
    CHECK(e->swarm.nodes.size() == 3);
    CHECK(e->from_network);   // not recomputed locally: ask the network
    CHECK(e->fetched_ms == 0);  // and not fresh
    cache.moved(acct, pool[1], Swarm{2, {pool[4], pool[5]}}, 7'000);
    e = cache.find(acct);
    REQUIRE(e);
    CHECK(e->swarm.id == 2u);
    CHECK(e->swarm.nodes.size() == 2);
    CHECK(e->fetched_ms == 7'000);
    // A 421 for an account never looked up: the next lookup asks the network.
    cache.moved(account(5), pool[0], std::nullopt, 8'000);
    REQUIRE(cache.find(account(5)));
    CHECK(cache.find(account(5))->from_network);
}

TEST_CASE("network: a claimed swarm keeps only pool members with consistent keys, as the pool records them",
          "[network][swarm]") {
    FakeNet net(loopback_ips(8), 2);
    std::vector<Snode> pool;
    for (auto& n : net.nodes()) pool.push_back(n->info);
    const std::uint64_t sw = *pool[0].swarm_id;  // nodes 0, 2, 4, 6
    auto claimed = Swarm{sw, {}};
    claimed.nodes.push_back(pool[0]);                  // a member
    auto moved = pool[2];
    moved.ip = "127.0.0.250";                          // a member, at an address the pool does not know
    claimed.nodes.push_back(moved);
    auto impostor = pool[4];
    impostor.keys.ed25519.bytes[5] ^= 1;               // not in the pool
    claimed.nodes.push_back(impostor);
    auto mismatched = pool[6];
    mismatched.keys.x25519 = pool[1].keys.x25519;      // pubkey_x25519 is not the conversion of its ed25519
    claimed.nodes.push_back(mismatched);
    claimed.nodes.push_back(pool[1]);                  // in the pool, but the pool says another swarm
    claimed.nodes.push_back(pool[0]);                  // listed twice
    std::size_t ignored = 0;
    auto v = nd::verify_swarm(claimed, pool, &ignored);
    CHECK(ignored == 4);
    REQUIRE(v.nodes.size() == 2);
    CHECK(v.id == sw);
    CHECK(v.nodes[0] == pool[0]);
    CHECK(v.nodes[1] == pool[2]);  // the pool's address, not the reply's

    // A pool without swarm ids (a local network): members take the reply's swarm id.
    for (auto& n : pool) n.swarm_id.reset();
    auto plain = nd::verify_swarm(Swarm{sw, {pool[0], pool[1]}}, pool);
    REQUIRE(plain.nodes.size() == 2);
    CHECK(plain.nodes[1].swarm_id == sw);
    // Nothing verifiable: an empty swarm.
    CHECK(nd::verify_swarm(Swarm{sw, {impostor}}, pool).nodes.empty());
}
