// test_network_localnet.cpp: session::network against the in-process local network: bootstrap from
// CA-verified seeds, store through 3 relays, replication, signed retrieve, request accounting,
// connection reuse and concurrent use.
#include "test_network_support.hpp"

#include <atomic>
#include <set>
#include <thread>

using namespace nettest;
using namespace session;

TEST_CASE("network/localnet: bootstrap asks one healthy seed and loads every node", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    auto r = net->bootstrap();
    REQUIRE_OK(r);
    CHECK(net->snode_pool().size() == 10);
    CHECK(ln.requests().seed == 1);  // raced with a 1 s stagger: the first seed answered alone
    CHECK(net->stats().seed_requests == 1);
    for (const auto& n : net->snode_pool()) {
        CHECK(n.ip.rfind("127.0.0.", 0) == 0);
        CHECK(ln.index_of(n) < 10);
    }
}

TEST_CASE("network/localnet: a store goes through 3 relays to one member and replicates", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    auto alice = new_identity();
    auto bob = new_identity();
    (void)alice;
    auto r = net->store(bob.session_id(), 0, b64("hello bob"), kDay);
    REQUIRE_OK(r);
    CHECK(r->hash.size() == 43);
    CHECK(r->confirmed() == 5);  // every swarm member signed the hash
    CHECK(r->expiry_ms > net->now_ms());

    auto t = ln.net->total_counters();
    CHECK(t.onion_destination == 1);        // the store (the swarm placed from the pool's swarm ids)
    CHECK(t.onion_relayed == 3);            // guard → relay → relay → destination
    auto swarm = ln.net->swarm_for(bob.session_id().hex());
    REQUIRE(swarm);
    for (auto i : ln.net->swarm_members(*swarm)) CHECK(ln.net->message_count(i) == 1);
    // The destination was never a node of the path that carried the request.
    auto entry = ln.index_of(r->entry);
    CHECK(ln.net->counters(entry).onion_destination >= 1);
    for (const auto& p : net->paths()) {
        REQUIRE(p.size() == 3);
        std::set<std::string> ips;
        for (const auto& n : p) ips.insert(n.ip);
        CHECK(ips.size() == 3);
    }
}

TEST_CASE("network/localnet: request accounting: cold store <= 2 requests, warm store = 1", "[network][localnet][accounting]") {
    LocalNet ln;
    auto net = ln.client();
    auto bob = new_identity();
    REQUIRE_OK(net->store(bob.session_id(), 0, b64("cold"), kDay));
    auto cold = ln.requests();
    CHECK(cold.total() <= 2);  // seed + store (the seed list's swarm ids place the swarm: no get_swarm)
    CHECK(cold.direct == 0);
    for (int i = 0; i < 5; ++i) {
        auto before = ln.requests();
        REQUIRE_OK(net->store(bob.session_id(), 0, b64("warm " + std::to_string(i)), kDay));
        auto after = ln.requests();
        CHECK(after.total() - before.total() == 1);
        CHECK(after.onion - before.onion == 1);
    }
    CHECK(ln.method_count("store") == 6);
    CHECK(net->stats().failed_attempts == 0);
}

TEST_CASE("network/localnet: signed retrieve from a member returns the stored messages", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    auto bob = new_identity();
    std::vector<std::string> sent;
    for (int i = 0; i < 3; ++i) {
        auto r = net->store(bob.session_id(), 0, b64("msg " + std::to_string(i)), kDay);
        REQUIRE_OK(r);
        sent.push_back(r->hash);
    }
    auto sw = net->get_swarm(bob.session_id());
    REQUIRE_OK(sw);
    REQUIRE(sw->nodes.size() == 5);
    for (const auto& member : sw->nodes) {
        auto got = net->retrieve(bob.session_id(), member, retrieve_params(bob));
        REQUIRE_OK(got);
        CHECK(hashes_of(*got) == sent);
        CHECK(json::parse(*got).at("more") == false);
    }
    // last_hash: only what came after it.
    auto got = net->retrieve(bob.session_id(), sw->nodes[0], retrieve_params(bob, sent[1]));
    REQUIRE_OK(got);
    CHECK(hashes_of(*got) == std::vector<std::string>{sent[2]});
    // A bad signature is the caller's problem: 401, no retries.
    auto before = ln.requests().onion;
    auto eve = new_identity();
    network::ParamsBuilder forged = [&](std::int64_t now) -> Result<std::string> {
        auto p = json::parse(*retrieve_params(eve)(now));
        p["pubkey"] = bob.session_id().hex();
        return p.dump();
    };
    auto bad = net->retrieve(bob.session_id(), sw->nodes[0], forged);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::net_unauthorized);
    CHECK(ln.requests().onion - before == 1);
}

TEST_CASE("network/localnet: info and the network clock", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    REQUIRE_OK(net->bootstrap());
    auto node = net->snode_pool().at(0);
    auto i = net->info(node);
    REQUIRE_OK(i);
    CHECK(i->version.size() == 3);
    CHECK(std::llabs(i->timestamp_ms - system_clock()->now_ms()) < 5000);
    auto s = net->sync_clock();
    REQUIRE_OK(s);
    CHECK(std::llabs(net->clock_offset_ms()) < 2000);
    CHECK(net->stats().clock_syncs == 1);
}

TEST_CASE("network/localnet: the two paths and their guards are kept across requests", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    auto bob = new_identity();
    REQUIRE_OK(net->store(bob.session_id(), 0, b64("first"), kDay));
    // Kept guards are what lets the curl transport's shared connection cache reuse one TLS
    // connection per guard across requests and threads.
    auto guards_before = net->paths();
    for (int i = 0; i < 10; ++i) REQUIRE_OK(net->store(bob.session_id(), 0, b64("again " + std::to_string(i)), kDay));
    auto guards_after = net->paths();
    REQUIRE(guards_before.size() == 2);
    REQUIRE(guards_after.size() == 2);
    CHECK(guards_before[0][0] == guards_after[0][0]);
    CHECK(guards_before[1][0] == guards_after[1][0]);
    CHECK(net->stats().path_builds <= 4);
}

TEST_CASE("network/localnet: several threads share one Network", "[network][localnet]") {
    LocalNet ln;
    auto net = ln.client();
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    std::vector<Identity> ids;
    for (int t = 0; t < 4; ++t) ids.push_back(new_identity());
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < 4; ++i)
                if (net->store(ids[static_cast<std::size_t>(t)].session_id(), 0, b64("t" + std::to_string(i)), kDay)) ++ok;
        });
    for (auto& t : ts) t.join();
    CHECK(ok == 16);
    CHECK(ln.requests().seed <= 3);  // one bootstrap for all threads
    CHECK(net->stats().pool_fetches == 1);
}
