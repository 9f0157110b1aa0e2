// test_network.cpp: the Network as a whole against an injected fake Transport that speaks the real
// onion protocol (tests/test_network_support.hpp): request accounting, strikes, 421 handling, 502
// "Next node not found", the clock offset, seed fallback and concurrent use. Each unit has its own
// test_network_<unit>.cpp.
#include "session/network.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include "network/seeds.hpp"
#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
using nlohmann::json;
namespace nd = session::network::detail;

// ---- the network against the fake ------------------------------------------------------------------

TEST_CASE("network: cold store = 1 seed + 1 onion request when the seed gives swarm ids", "[network][accounting]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, true);
    auto cfg = fake_config();
    cfg.seed_stagger = std::chrono::milliseconds(2000);  // a healthy first seed answers alone
    Network net(fake_options(fake, cfg));
    auto r = net.store(account(1), 0, kData, 60'000);
    REQUIRE(r);
    CHECK(fake->seed_requests == 1);
    CHECK(fake->onion_posts == 1);
    CHECK(net.stats().seed_requests == 1);
    CHECK(net.stats().onion_requests == 1);
    CHECK(net.stats().swarm_lookups == 0);
    CHECK(r->confirmed() == 5);
    CHECK(r->hash.size() == 43);
    for (const auto& n : r->nodes) {
        CHECK(n.ok);
        CHECK(n.signature_valid);
    }
    CHECK(json::parse(fake->last_seed_body) == json::parse(nd::seed_request_body()));

    SECTION("a warm store costs exactly one onion request") {
        auto r2 = net.store(account(1), 0, base64_encode(to_bytes("second")), 60'000);
        REQUIRE(r2);
        CHECK(fake->onion_posts == 2);
        CHECK(fake->seed_requests == 1);
    }
}

TEST_CASE("network: cold store = seed + get_swarm + store without swarm ids", "[network][accounting]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, false);
    auto cfg = fake_config();
    cfg.seed_stagger = std::chrono::milliseconds(2000);
    Network net(fake_options(fake, cfg));
    auto r = net.store(account(2), 0, kData, 60'000);
    REQUIRE(r);
    CHECK(fake->seed_requests + fake->onion_posts == 3);
    CHECK(net.stats().swarm_lookups == 1);
    REQUIRE(net.store(account(2), 0, kData, 60'000));
    CHECK(fake->onion_posts == 3);  // swarm cached: warm = 1
}

TEST_CASE("network: a store's swarm lookup asks another node after a useless answer, up to 3", "[network][accounting]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, false);
    std::atomic<int> useless{0};
    std::mutex m;
    std::set<std::string> asked;
    const int bad_answers = GENERATE(1, 3);
    for (auto& n : fake->nodes())
        n->answer = [&, key = n->info.address()](const std::string& method, const json&)
                -> std::optional<std::pair<int, std::string>> {
            if (method != "get_swarm") return std::nullopt;
            std::lock_guard lk(m);
            CHECK(asked.insert(key).second);  // never the same node twice
            if (useless >= bad_answers) return std::nullopt;
            ++useless;
            return std::pair<int, std::string>{200, R"({"snodes":[]})"};
        };
    Network net(fake_options(fake));
    auto r = net.store(account(3), 0, kData, 60'000);
    CHECK(net.stats().swarm_lookups == 1);
    if (bad_answers == 1) {
        REQUIRE(r);
        CHECK(asked.size() == 2);
    } else {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_bad_response);
        CHECK(asked.size() == 3);
    }
}

TEST_CASE("network: paths have 3 distinct relays, are reused, and never contain the destination", "[network][paths]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    for (int i = 0; i < 12; ++i) REQUIRE(net.store(account(i), 0, kData, 60'000));
    auto paths = net.paths();
    REQUIRE(paths.size() == 2);
    std::set<std::string> all;
    for (const auto& p : paths) {
        REQUIRE(p.size() == 3);
        std::set<std::string> ips;
        for (const auto& n : p) {
            ips.insert(n.ip);
            all.insert(n.ed25519_hex());
        }
        CHECK(ips.size() == 3);
    }
    CHECK(all.size() == 6);  // 10 nodes: the two paths are disjoint
    CHECK(net.stats().path_builds <= 4);  // 2 kept + at most a few one-off paths around destinations
    // The destination never sat in the path: each store reached a swarm member as destination
    // through a different guard.
    int dest_total = 0;
    for (auto& n : fake->nodes()) dest_total += n->as_dest;
    CHECK(dest_total == 12);
}

TEST_CASE("network: the guard down strikes it out and the call succeeds on another path", "[network][strikes]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.bootstrap());
    REQUIRE(net.store(account(3), 0, kData, 60'000));
    auto guard = net.paths().at(0).at(0);
    fake->by_key(guard.ed25519())->down = true;
    const int before = fake->onion_posts;
    auto in_paths = [&] {
        for (const auto& p : net.paths())
            for (const auto& n : p)
                if (n.ed25519() == guard.ed25519()) return true;
        return false;
    };
    // Paths are picked at random (a path is not used in 6 stores about 1 time in 60): store until
    // the dead guard has been met, at least 6 times.
    int stores = 0;
    for (; stores < 6 || (stores < 60 && in_paths()); ++stores)
        REQUIRE(net.store(account(3), 0, base64_encode(to_bytes("m" + std::to_string(stores))), 60'000));
    // The dead node costs at most 3 failed attempts in all: a refused connection as a guard strikes
    // it out at once; as a swarm member (relays answer 504) each failure is a strike, 3 strike it
    // out of the swarm choice and of every path.
    CHECK(fake->onion_posts - before <= stores + 3);
    CHECK_FALSE(in_paths());
}

TEST_CASE("network: 502 'Next node not found' replaces that relay in place", "[network][strikes]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.store(account(4), 0, kData, 60'000));
    auto before = net.paths();
    REQUIRE(before.size() == 2);
    const Snode relay = before[0][1];
    const Snode guard = before[0][0];
    fake->by_key(relay.ed25519())->unknown = true;
    auto relay_in_use = [&] {
        for (const auto& p : net.paths())
            for (const auto& n : p)
                if (n.ed25519() == relay.ed25519()) return true;
        return false;
    };
    // Paths are chosen at random: store until the broken path has been used once.
    const auto failed_before = net.stats().failed_attempts;
    for (int i = 0; i < 60 && relay_in_use(); ++i)
        REQUIRE(net.store(account(4), 0, base64_encode(to_bytes("n" + std::to_string(i))), 60'000));
    CHECK(net.stats().failed_attempts - failed_before == 1);  // one 502, then the relay is replaced
    auto after = net.paths();
    bool guard_kept = false;
    for (const auto& p : after) {
        for (const auto& n : p) CHECK(n.ed25519() != relay.ed25519());
        if (p[0].ed25519() == guard.ed25519()) {
            guard_kept = true;
            CHECK(p[2] == before[0][2]);  // the other hops stay
        }
    }
    CHECK(guard_kept);
}

TEST_CASE("network: 502 naming the destination moves the store to another member", "[network][strikes]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.bootstrap());
    auto sw = net.get_swarm(account(5));
    REQUIRE(sw);
    REQUIRE(sw->nodes.size() == 5);
    // Every member but one is unknown to the relays.
    for (std::size_t i = 1; i < sw->nodes.size(); ++i) fake->by_key(sw->nodes[i].ed25519())->unknown = true;
    auto r = net.store(account(5), 0, kData, 60'000);
    REQUIRE(r);
    CHECK(r->entry.ed25519() == sw->nodes[0].ed25519());
    // Each unknown node costs at most one failed attempt (as destination or as relay), then it is
    // struck out: 4 failures + 1 success, no get_swarm.
    CHECK(net.stats().onion_requests <= 5);
    CHECK(net.stats().swarm_lookups == 0);
}

TEST_CASE("network: 421 adopts the swarm from the reply and retries there", "[network][swarm]") {
    SwarmRig rig(6);
    auto& [fake, net, acct, sw] = rig;
    REQUIRE(sw->id);
    const std::uint64_t other = rig.other_swarm();
    fake->moved[acct.hex()] = other;
    const auto before = net.stats().onion_requests;
    auto r = net.store(acct, 0, kData, 60'000);
    REQUIRE(r);
    CHECK(net.stats().onion_requests - before == 2);  // the 421, then the new swarm
    CHECK(fake->by_key(r->entry.ed25519())->info.swarm_id == other);
    auto sw2 = net.get_swarm(acct);
    REQUIRE(sw2);
    CHECK(sw2->id == other);
    // Warm again: 1 request.
    REQUIRE(net.store(acct, 0, base64_encode(to_bytes("again")), 60'000));
    CHECK(net.stats().onion_requests - before == 3);
}

TEST_CASE("network: retrieve to a moved node reports net_swarm_moved and updates the swarm", "[network][swarm]") {
    SwarmRig rig(7);
    auto& [fake, net, acct, sw] = rig;
    const std::uint64_t other = rig.other_swarm();
    fake->moved[acct.hex()] = other;
    const ParamsBuilder b = rig.retrieve_params();
    auto r = net.retrieve(acct, sw->nodes[0], b);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_swarm_moved);
    auto sw2 = net.get_swarm(acct);
    REQUIRE(sw2);
    CHECK(sw2->id == other);
    auto ok = net.retrieve(acct, sw2->nodes[0], b);
    REQUIRE(ok);
    CHECK(json::parse(*ok).at("messages").is_array());
}

TEST_CASE("network: node clocks 3 min behind: 406, resync on 3 nodes, re-signed retry", "[network][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    for (auto& n : fake->nodes()) n->skew_ms = -180'000;
    Network net(fake_options(fake));
    int builds = 0;
    std::vector<std::int64_t> stamps;
    auto acct = account(8);
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        ++builds;
        stamps.push_back(now);
        return json{{"pubkey", acct.hex()}, {"timestamp", now}, {"ttl", 60'000}, {"data", kData}}.dump();
    };
    auto r = net.swarm_rpc(acct, "store", b);
    REQUIRE(r);
    CHECK(builds == 2);                                   // rebuilt (re-signed) after the 406
    CHECK(stamps[0] - stamps[1] > 170'000);               // with the corrected time
    CHECK(net.stats().clock_syncs == 1);
    CHECK(std::llabs(net.clock_offset_ms() + 180'000) < 5'000);
    CHECK(std::llabs(net.now_ms() - (system_clock()->now_ms() - 180'000)) < 5'000);
    // 1 store (406) + 3 info + 1 store.
    CHECK(net.stats().onion_requests == 5);
}

TEST_CASE("network: node clocks 3 min ahead: the offset is learned from 't' without a resync", "[network][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    for (auto& n : fake->nodes()) n->skew_ms = 180'000;
    Network net(fake_options(fake));
    REQUIRE(net.store(account(9), 0, kData, 86'400'000));
    CHECK(net.stats().clock_syncs == 0);
    CHECK(std::llabs(net.clock_offset_ms() - 180'000) < 5'000);
    // A signed retrieve (±60 s) now passes at once.
    auto sw = net.get_swarm(account(9));
    REQUIRE(sw);
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        return json{{"pubkey", account(9).hex()}, {"timestamp", now}, {"signature", "x"}}.dump();
    };
    const auto before = net.stats().onion_requests;
    REQUIRE(net.retrieve(account(9), sw->nodes[0], b));
    CHECK(net.stats().onion_requests - before == 1);
}

TEST_CASE("network: a second 406 after the resync is reported as clock skew", "[network][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    auto acct = account(10);
    // The builder ignores network time: every store is 10 minutes in the future.
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        return json{{"pubkey", acct.hex()}, {"timestamp", now + 600'000}, {"ttl", 60'000}, {"data", kData}}.dump();
    };
    auto r = net.swarm_rpc(acct, "store", b);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_clock_skew);
}

TEST_CASE("network: seed fallback", "[network][seeds]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    SECTION("2 of 3 seeds down") {
        fake->seeds_down = {"seed1", "seed2"};
        Network net(fake_options(fake));
        REQUIRE(net.bootstrap());
        CHECK(net.snode_pool().size() == 10);
        CHECK(fake->seed_requests <= 3);
    }
    SECTION("a staggered race asks the next seed as soon as one fails") {
        fake->seeds_down = {"seed1", "seed2"};
        auto cfg = fake_config();
        cfg.seed_stagger = std::chrono::milliseconds(60'000);  // would hang if failures did not advance the race
        Network net(fake_options(fake, cfg));
        REQUIRE(net.bootstrap());
        CHECK(net.snode_pool().size() == 10);
    }
    SECTION("all seeds down, no cache: net_no_nodes naming every seed") {
        fake->seeds_down = {"seed1", "seed2", "seed3"};
        Network net(fake_options(fake));
        auto r = net.bootstrap();
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_no_nodes);
        for (const char* s : {"seed1", "seed2", "seed3"}) CHECK(r.error().message.find(s) != std::string::npos);
    }
    SECTION("all seeds down: the pool cache file, then the network file's nodes") {
        const auto dir = std::filesystem::temp_directory_path() / ("net-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const std::string cache = (dir / "pool").string();
        {
            auto o = fake_options(fake);
            o.pool_cache_path = cache;
            Network warm(std::move(o));
            REQUIRE(warm.bootstrap());
        }
        fake->seeds_down = {"seed1", "seed2", "seed3"};
        auto cfg = fake_config();
        cfg.pool_refresh_interval = std::chrono::minutes(0);  // the cache is "stale": seeds first, then the cache
        auto o = fake_options(fake, cfg);
        o.pool_cache_path = cache;
        Network cold(std::move(o));
        REQUIRE(cold.bootstrap());
        CHECK(cold.snode_pool().size() == 10);
        REQUIRE(cold.store(account(11), 0, kData, 60'000));

        auto cfg2 = fake_config();
        for (auto& n : fake->nodes()) cfg2.bootstrap_nodes.push_back(n->info);
        Network listed(fake_options(fake, cfg2));
        REQUIRE(listed.bootstrap());
        CHECK(listed.snode_pool().size() == 10);
        std::filesystem::remove_all(dir);
    }
    SECTION("a fresh pool cache skips the seed request") {
        const auto dir = std::filesystem::temp_directory_path() / ("net-test2-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const std::string cache = (dir / "pool").string();
        {
            auto o = fake_options(fake);
            o.pool_cache_path = cache;
            Network warm(std::move(o));
            REQUIRE(warm.bootstrap());
        }
        const int seeds_before = fake->seed_requests;
        auto o = fake_options(fake);
        o.pool_cache_path = cache;
        Network again(std::move(o));
        REQUIRE(again.bootstrap());
        CHECK(fake->seed_requests == seeds_before);
        std::filesystem::remove_all(dir);
    }
}

TEST_CASE("network: a member answering 5xx is struck and the store moves on", "[network][strikes]") {
    SwarmRig rig(12);
    auto& [fake, net, acct, sw] = rig;
    for (std::size_t i = 0; i < 3; ++i) fake->by_key(sw->nodes[i].ed25519())->dest_status = 503;
    auto r = net.store(acct, 0, kData, 60'000);
    REQUIRE(r);
    const auto* ok = fake->by_key(r->entry.ed25519());
    CHECK(ok->dest_status == 0);
}

TEST_CASE("network: 400 and 401 at the destination are returned without retries", "[network][errors]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.bootstrap());
    auto node = net.snode_pool().at(0);
    ParamsBuilder b = [](std::int64_t) -> Result<std::string> { return std::string("{}"); };
    const auto before = net.stats().onion_requests;
    auto r = net.rpc(node, "nonsense", b);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(net.stats().onion_requests - before == 1);
    fake->by_key(node.ed25519())->dest_status = 401;
    auto r2 = net.rpc(node, "retrieve", b);
    REQUIRE(r2);
    CHECK(r2->status == 401);
    CHECK(net.stats().onion_requests - before == 2);
    // params must be a JSON object
    ParamsBuilder bad = [](std::int64_t) -> Result<std::string> { return std::string("[1]"); };
    CHECK(net.rpc(node, "info", bad).error().code == Errc::invalid_argument);
    // a builder error aborts the call as is
    ParamsBuilder fails = [](std::int64_t) -> Result<std::string> { return unexpected(Errc::key_invalid, "k"); };
    CHECK(net.rpc(node, "info", fails).error().code == Errc::key_invalid);
}

TEST_CASE("network: timeouts and corrupt replies are retried on another path within max_attempts", "[network][errors]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(12), 2);
    Network net(fake_options(fake));
    REQUIRE(net.store(account(14), 0, kData, 60'000));
    auto paths = net.paths();
    REQUIRE(paths.size() == 2);
    SECTION("guard times out") {
        fake->by_key(paths[0][0].ed25519())->guard_timeout = true;
    }
    SECTION("guard corrupts the reply") {
        fake->by_key(paths[0][0].ed25519())->corrupt = true;
    }
    const auto bad = paths[0][0].ed25519();
    const int guard_uses_before = fake->by_key(bad)->as_guard;
    auto bad_guard_in_use = [&] {
        for (const auto& p : net.paths())
            if (p[0].ed25519() == bad) return true;
        return false;
    };
    int stores = 0;
    for (; stores < 60 && bad_guard_in_use(); ++stores) {
        const auto before = net.stats().onion_requests;
        REQUIRE(net.store(account(14), 0, base64_encode(to_bytes("t" + std::to_string(stores))), 60'000));
        CHECK(net.stats().onion_requests - before <= 2);  // at most one failed attempt per store
    }
    // The bad guard's path is dropped after 3 consecutive strikes (guard struck out), or replaced
    // sooner when the other path could not serve a destination.
    CHECK_FALSE(bad_guard_in_use());
    CHECK(fake->by_key(bad)->as_guard - guard_uses_before <= 3);
}

TEST_CASE("network: store rejects oversize and non-base64 data before sending", "[network][errors]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    static_assert(kMaxStoreDataChars == 102'400 && kMaxStoreDataBytes == 76'800);
    auto big = net.store(account(15), 0, std::string(kMaxStoreDataChars + 4, 'A'), 60'000);
    REQUIRE_FALSE(big);
    CHECK(big.error().code == Errc::net_too_large);
    CHECK(big.error().message == "network: store: data: expected at most 102400 base64 characters, got 102404");
    CHECK(net.store(account(15), 0, "not base64!", 60'000).error().code == Errc::invalid_argument);
    CHECK(fake->onion_posts == 0);
}

TEST_CASE("network: info reports the node's time", "[network][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    fake->node(0).skew_ms = 42'000;
    Network net(fake_options(fake));
    auto i = net.info(fake->node(0).info);
    REQUIRE(i);
    CHECK(i->version == std::vector<int>{2, 8, 0});
    CHECK(std::llabs(i->timestamp_ms - (system_clock()->now_ms() + 42'000)) < 5'000);
}

TEST_CASE("network: a pool refresh from 3 snodes keeps their intersection", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, false);
    auto cfg = fake_config();
    cfg.pool_refresh_interval = std::chrono::minutes(0);  // every call finds the pool stale
    Network net(fake_options(fake, cfg));
    REQUIRE(net.bootstrap());
    const auto seeds = net.stats().seed_requests;
    CHECK(seeds >= 1);
    REQUIRE(net.bootstrap());  // stale: refreshed from 3 snodes via oxend_request
    CHECK(net.stats().seed_requests == seeds);
    int oxend = 0;
    for (auto& n : fake->nodes()) oxend += n->methods["oxend_request"];
    CHECK(oxend == 3);
    CHECK(net.stats().pool_fetches == 2);
    // The refreshed list carries swarm ids (requested from the snodes): swarms are now local.
    for (const auto& n : net.snode_pool()) CHECK(n.swarm_id);
}

TEST_CASE("network: concurrent stores from several threads", "[network][threads]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i)
                if (net.store(account(20 + t), 0, base64_encode(to_bytes(std::to_string(i))), 60'000)) ++ok;
        });
    for (auto& t : ts) t.join();
    CHECK(ok == 20);
    CHECK(fake->seed_requests <= 3);  // single-flight bootstrap
    CHECK(net.stats().onion_requests == 20 + net.stats().failed_attempts);
}

TEST_CASE("network: aes-gcm onion layers work as well as xchacha20", "[network][onion]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto cfg = fake_config();
    cfg.enc_type = onion::EncType::aes_gcm;
    Network net(fake_options(fake, cfg));
    auto r = net.store(account(30), 0, kData, 60'000);
    REQUIRE(r);
    CHECK(r->confirmed() == 5);
}

TEST_CASE("network: path_length and path_count are honoured", "[network][paths]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(12), 2);
    auto cfg = fake_config();
    cfg.path_length = 2;
    cfg.path_count = 3;
    Network net(fake_options(fake, cfg));
    REQUIRE(net.store(account(31), 0, kData, 60'000));
    auto paths = net.paths();
    REQUIRE(paths.size() == 3);
    for (const auto& p : paths) CHECK(p.size() == 2);

    auto cfg2 = fake_config();
    cfg2.path_length = 12;  // needs 12 relays + the destination: impossible with 12 nodes
    Network tight(fake_options(fake, cfg2));
    auto r = tight.store(account(31), 0, kData, 60'000);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_no_path);
}

TEST_CASE("network: a log callback receives lines without secrets", "[network][log]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    std::vector<std::string> lines;
    std::mutex lm;
    auto o = fake_options(fake);
    o.log = [&](LogLevel, std::string_view s) {
        std::lock_guard lk(lm);
        lines.emplace_back(s);
    };
    Network net(std::move(o));
    REQUIRE(net.store(account(32), 0, kData, 60'000));
    REQUIRE_FALSE(lines.empty());
    for (const auto& l : lines) {
        CHECK(l.rfind("network: ", 0) == 0);
        CHECK(l.find(kData) == std::string::npos);  // message data never logged
    }
}

TEST_CASE("network: the log callback may call back into the Network", "[network][log]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto o = fake_options(fake);
    std::shared_ptr<Network> net;
    std::atomic<int> lines{0};
    o.log = [&](LogLevel, std::string_view) {
        // Each of these takes a lock of the Network: the callback must not run under one.
        (void)net->stats();
        (void)net->snode_pool();
        (void)net->paths();
        ++lines;
    };
    net = std::make_shared<Network>(std::move(o));
    // Work that logs from inside the pool, the paths and the swarm cache: bootstrap, paths built, a
    // guard struck out, a relay replaced, a 421.
    auto work = std::async(std::launch::async, [&] {
        const auto acct = account(35);
        if (!net->store(acct, 0, kData, 60'000)) return false;
        fake->by_key(net->paths().at(0).at(0).ed25519())->down = true;
        fake->by_key(net->paths().at(1).at(1).ed25519())->unknown = true;
        for (int i = 0; i < 6; ++i)
            if (!net->store(acct, 0, base64_encode(to_bytes("l" + std::to_string(i))), 60'000)) return false;
        auto sw = net->get_swarm(acct);
        if (!sw) return false;
        fake->moved[acct.hex()] = *sw->id == 0x1000000000000000ull ? 0x2000000000000000ull : 0x1000000000000000ull;
        return static_cast<bool>(net->store(acct, 0, base64_encode(to_bytes("moved")), 60'000));
    });
    if (work.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        FAIL_CHECK("deadlock: the log callback ran under a lock of the Network");
        std::quick_exit(1);  // the worker is stuck on a lock: nothing left to unwind
    }
    CHECK(work.get());
    CHECK(lines > 5);
}

TEST_CASE("network: seed requests run on the injected executor, which executor() returns", "[network][threads]") {
    struct Counting final : Executor {
        std::shared_ptr<Executor> inner = make_thread_pool();
        std::atomic<int> posted{0};
        void post(std::function<void()> task) override {
            ++posted;
            inner->post(std::move(task));
        }
    };
    auto exec = std::make_shared<Counting>();
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto o = fake_options(fake);
    o.executor = exec;
    Network net(std::move(o));
    CHECK(&net.executor() == exec.get());
    REQUIRE(net.bootstrap());
    CHECK(exec->posted >= 1);
    CHECK(static_cast<std::uint64_t>(exec->posted) >= net.stats().seed_requests);
}

TEST_CASE("network: a batch whose sub-requests all got 421 is handled as a 421", "[network][swarm]") {
    SwarmRig rig(33);
    // Named one by one: the lambdas below capture them (clang 14 cannot capture a structured binding).
    auto& fake = rig.fake; auto& net = rig.net; auto& acct = rig.acct;
    const std::uint64_t other = rig.other_swarm();
    fake->moved[acct.hex()] = other;
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        json sub = {{"method", "retrieve"}, {"params", {{"pubkey", acct.hex()}, {"timestamp", now}, {"signature", "x"}}}};
        return json{{"requests", {sub, sub}}}.dump();
    };
    const auto before = net.stats().onion_requests;
    auto r = net.swarm_rpc(acct, "batch", b);
    REQUIRE(r);
    CHECK(net.stats().onion_requests - before == 2);  // the all-421 batch, then the new swarm
    CHECK(fake->by_key(r->node.ed25519())->info.swarm_id == other);
    CHECK(json::parse(r->body).at("results").size() == 2);
}

TEST_CASE("network: one member with a wrong clock: resync, then another member", "[network][clock]") {
    SwarmRig rig(34);
    auto& [fake, net, acct, sw] = rig;
    const auto bad = sw->nodes[0].ed25519();
    fake->by_key(bad)->skew_ms = -300'000;  // 5 minutes behind; the rest of the network is right
    for (int k = 0; k < 8; ++k) {
        auto r = net.store(acct, 0, base64_encode(to_bytes("c" + std::to_string(k))), 60'000);
        REQUIRE(r);
        CHECK(r->entry.ed25519() != bad);
    }
    CHECK(std::llabs(net.clock_offset_ms()) < 5'000);  // the median ignores the one bad clock
    CHECK(net.stats().clock_syncs <= 3);                 // each 406 after a resync is a strike
}

// With 2 of 10 nodes down (relays answer 504 "Request time out" for them, storage-server.md §3.9), a
// failed attempt cannot say which hop is dead. Each call keeps the hops after the guard (the guard
// answered, so it is alive) and the destination of an ambiguously failed attempt out of its next
// attempts while enough other nodes remain. Fresh clients (no strikes yet) make 4 stores each; the
// Network's rng is seeded, so every trial replays exactly.
TEST_CASE("network: 2 of 10 nodes down: a call keeps the failed path's nodes out of its retries", "[network][strikes]") {
    const bool members_only = GENERATE(true, false);  // both dead nodes in the account's swarm, or any 2
    const auto acct = account(40);
    std::map<int, int> histogram, first;  // attempts per store → stores (all, each client's first)
    int trials = 0, failed_calls = 0;
    // NET_SEEDS=300 measures on more trials (the default 90 keeps the test around a second).
    const std::uint64_t seeds = getenv("NET_SEEDS") ? std::strtoull(getenv("NET_SEEDS"), nullptr, 10) : 90;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
        std::vector<std::size_t> candidates;
        const std::uint64_t sw = fake->swarm_of(acct.hex());
        for (std::size_t i = 0; i < 10; ++i)
            if (!members_only || *fake->node(i).info.swarm_id == sw) candidates.push_back(i);
        // Every pair of candidates in turn (10 pairs of members, 45 of any nodes).
        std::vector<std::pair<std::size_t, std::size_t>> pairs;
        for (std::size_t a = 0; a < candidates.size(); ++a)
            for (std::size_t b = a + 1; b < candidates.size(); ++b) pairs.emplace_back(candidates[a], candidates[b]);
        const auto [d1, d2] = pairs[seed % pairs.size()];
        fake->node(d1).down = true;
        fake->node(d2).down = true;
        auto o = fake_options(fake);
        o.rng = deterministic_rng(seed);
        Network net(std::move(o));
        REQUIRE(net.bootstrap());
        ++trials;
        for (int k = 0; k < 4; ++k) {
            const int before = fake->attempts_by_method["store"];
            auto r = net.store(acct, 0, base64_encode(to_bytes("d" + std::to_string(k))), 60'000);
            if (!r) {
                ++failed_calls;
                UNSCOPED_INFO("seed " << seed << ", store " << k << ": " << r.error().message);
            }
            ++histogram[fake->attempts_by_method["store"] - before];
            if (k == 0) ++first[fake->attempts_by_method["store"] - before];
        }
    }
    std::string shape, firsts;
    int worst = 0, over3 = 0;
    for (auto [attempts, n] : histogram) {
        shape += " " + std::to_string(attempts) + ":" + std::to_string(n);
        worst = std::max(worst, attempts);
        if (attempts > 3) over3 += n;
    }
    for (auto [attempts, n] : first) firsts += " " + std::to_string(attempts) + ":" + std::to_string(n);
    WARN("measured 2 of 10 down (" << (members_only ? "swarm members" : "any nodes") << "), " << trials * 4
                                   << " stores, attempts:stores" << shape << " (first stores:" << firsts
                                   << "); worst " << worst << ", > 3: " << over3 << ", failed: " << failed_calls);
    // Before this memory (same seeds): 2 calls gave up after 8 attempts in each variant, and 52 and
    // 24 of 360 stores needed more than 3. After: none failed, 7 and 2 needed more than 3, at most 5.
    // The bounds leave room for other changes to the rng draws (300 seeds: at most 6, 1.4% over 3).
    CHECK(failed_calls == 0);
    CHECK(worst <= 6);
    CHECK(over3 * 20 <= trials * 4);  // at most 5% of the stores need more than 3 attempts
}

// ---- a hostile node ----------------------------------------------------------------------------------

TEST_CASE("network: deeply nested JSON from a node is refused before it is copied or dumped", "[network][hostile]") {
    SwarmRig rig(50);
    // Named one by one: the lambdas below capture them (clang 14 cannot capture a structured binding).
    auto& fake = rig.fake; auto& net = rig.net; auto& acct = rig.acct; auto& sw = rig.sw;
    const std::string deep = deep_json(300'000);
    auto deeper = [](const Error& e) { return e.message.find("deeper than 64") != std::string::npos; };
    SECTION("a batch whose results all failed, with a deep body") {
        for (auto& n : fake->nodes())
            n->raw_reply = [&](const std::string& m) -> std::optional<std::string> {
                if (m != "batch") return std::nullopt;
                const std::string batch = R"({"results":[{"code":421,"body":)" + deep + R"(},{"code":421,"body":1}]})";
                return json{{"status", 200}, {"body", batch}}.dump();
            };
        ParamsBuilder b = [&](std::int64_t) -> Result<std::string> { return json{{"requests", json::array()}}.dump(); };
        auto r = net.swarm_rpc(acct, "batch", b);
        REQUIRE(r);  // not a uniform failure anyone could read: the caller gets the 200 and its text
        CHECK(r->status == 200);
    }
    SECTION("a store reply whose failure code is deep") {
        for (auto& n : fake->nodes())
            n->raw_reply = [&](const std::string& m) -> std::optional<std::string> {
                if (m != "store") return std::nullopt;
                const std::string body = R"({"swarm":{")" + sw->nodes[0].ed25519_hex() + R"(":{"failed":true,"code":)" + deep + "}}}";
                return json{{"status", 200}, {"body", body}}.dump();
            };
        auto r = net.store(acct, 0, kData, 60'000);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_bad_response);
        CHECK(deeper(r.error()));
    }
    SECTION("an onion reply whose body is a deep value, not a string") {
        for (auto& n : fake->nodes())
            n->raw_reply = [&](const std::string& m) -> std::optional<std::string> {
                if (m != "store") return std::nullopt;
                return R"({"status":200,"body":)" + deep + "}";
            };
        auto r = net.store(acct, 0, kData, 60'000);
        REQUIRE_FALSE(r);
        CHECK(deeper(r.error()));
    }
    SECTION("a 421 whose body is deep") {
        fake->by_key(sw->nodes[0].ed25519())->answer = [&](const std::string& m, const json&) -> std::optional<std::pair<int, std::string>> {
            if (m != "retrieve") return std::nullopt;
            return std::pair{421, R"({"snodes":)" + deep + "}"};
        };
        ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
            return json{{"pubkey", acct.hex()}, {"timestamp", now}, {"signature", "x"}}.dump();
        };
        auto r = net.retrieve(acct, sw->nodes[0], b);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_swarm_moved);
        auto again = net.get_swarm(acct);  // the member left the cache; the swarm is asked again
        REQUIRE(again);
        CHECK(again->nodes.size() == 5);
    }
}

TEST_CASE("network: when every member has been struck, the error still names what they answered", "[network][hostile]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    NetworkConfig c = fake_config();
    c.strike_threshold = 1;  // one bad answer takes a node out: the swarm runs out before the attempts
    c.max_attempts = 20;
    Network net(fake_options(fake, c));
    const SessionId acct = account(51);
    REQUIRE(net.get_swarm(acct));
    for (auto& n : fake->nodes())
        n->raw_reply = [](const std::string& m) -> std::optional<std::string> {
            if (m != "store") return std::nullopt;
            return std::string("<html>not an onion reply</html>");
        };
    auto r = net.store(acct, 0, kData, 60'000);
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().code == Errc::net_bad_response);                        // the cause, not "no nodes"
    CHECK(r.error().message.find("onion reply via") != std::string::npos);  // what the last one answered
    CHECK(r.error().message.find("(then network: ") != std::string::npos);  // and why the call stopped
}

TEST_CASE("network: a node answering many replies counts once in the clock offset", "[network][clock][hostile]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.bootstrap());
    for (std::size_t i = 1; i <= 3; ++i) REQUIRE(net.info(fake->node(i).info));  // honest clocks
    fake->node(0).skew_ms = 3'600'000;
    for (int page = 0; page < 12; ++page) REQUIRE(net.info(fake->node(0).info));
    CHECK(std::llabs(net.clock_offset_ms()) < 5'000);
}

TEST_CASE("network: a node's time beyond 24 h, or one that would overflow, is ignored", "[network][clock][hostile]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    REQUIRE(net.bootstrap());
    fake->node(0).skew_ms = 48LL * 3'600'000;
    REQUIRE(net.info(fake->node(0).info));  // the first sample of this Network
    CHECK(net.clock_offset_ms() == 0);
    for (std::int64_t t : {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                           std::numeric_limits<std::int64_t>::min() + 1}) {
        fake->node(1).answer = [t](const std::string& m, const json&) -> std::optional<std::pair<int, std::string>> {
            if (m != "info") return std::nullopt;
            return std::pair{200, json{{"version", {2, 8, 0}}, {"timestamp", t}, {"t", t}}.dump()};
        };
        auto i = net.info(fake->node(1).info);
        REQUIRE(i);
        CHECK(i->timestamp_ms == t);  // reported as the node said it
        CHECK(net.clock_offset_ms() == 0);
        CHECK(std::llabs(net.now_ms() - system_clock()->now_ms()) < 5'000);
    }
}

TEST_CASE("network: after a 406 resync the store's data is built again for the new network time", "[network][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    for (auto& n : fake->nodes()) n->skew_ms = -180'000;
    Network net(fake_options(fake));
    const auto acct = account(51);
    std::vector<std::int64_t> built;
    auto data = [&](std::int64_t now) -> Result<std::string> {
        built.push_back(now);
        return base64_encode(to_bytes("sealed at " + std::to_string(now)));
    };
    const auto epoch = net.clock_epoch();
    auto r = net.store(acct, 0, data, 60'000);
    REQUIRE(r);
    CHECK(net.clock_epoch() == epoch + 1);
    REQUIRE(built.size() == 2);                // sealed, 406, resync, sealed again
    CHECK(built[0] - built[1] > 170'000);      // for the corrected time
    CHECK(r->hash == swarm::message_hash(acct.bytes(), 0, to_bytes("sealed at " + std::to_string(built[1]))));
    CHECK(r->confirmed() == 5);
    built.clear();
    REQUIRE(net.store(acct, 0, data, 60'000));  // no resync: built once
    CHECK(built.size() == 1);
    // The limit holds for every build, and a builder's error ends the store as is.
    auto huge = [](std::int64_t) -> Result<std::string> { return std::string(kMaxStoreDataChars + 4, 'A'); };
    CHECK(net.store(acct, 0, huge, 60'000).error().code == Errc::net_too_large);
    auto fails = [](std::int64_t) -> Result<std::string> { return unexpected(Errc::key_invalid, "seal failed"); };
    CHECK(net.store(acct, 0, fails, 60'000).error().code == Errc::key_invalid);
}

TEST_CASE("network: after an attempt that may have stored, a resync does not build the data again", "[network][clock]") {
    // Attempt 1 stores, but its reply is lost on the way back; attempt 2 (another member) is
    // refused with a 406, and the network time is resynchronised. Data built again would carry a
    // new hash: a second message if the first was stored. So attempt 3 sends the first data again.
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    const auto acct = account(53);
    REQUIRE(net.get_swarm(acct));
    std::vector<std::string> at_members;  // the data each store attempt carried to a member
    for (auto& n : fake->nodes()) {
        n->answer = [&](const std::string& m, const json& params) -> std::optional<std::pair<int, std::string>> {
            if (m != "store") return std::nullopt;
            at_members.push_back(params.at("data").get<std::string>());
            if (at_members.size() == 2) return std::pair{406, std::string("Timestamp error: check your clock")};
            return std::nullopt;  // stored
        };
        n->raw_reply = [&](const std::string& m) -> std::optional<std::string> {
            if (m == "store" && at_members.size() == 1) return std::string("not a reply");  // lost on the way
            return std::nullopt;
        };
    }
    int builds = 0;
    auto data = [&](std::int64_t now) -> Result<std::string> {
        ++builds;
        return base64_encode(to_bytes("sealed at " + std::to_string(now) + " #" + std::to_string(builds)));
    };
    const auto epoch = net.clock_epoch();
    auto r = net.store(acct, 0, data, 60'000);
    REQUIRE(r);
    CHECK(net.clock_epoch() == epoch + 1);  // the 406 did resynchronise
    CHECK(builds == 1);
    REQUIRE(at_members.size() == 3);
    CHECK(at_members[2] == at_members[0]);  // the same message, so the same hash: one message
    CHECK(r->hash == swarm::message_hash(acct.bytes(), 0, *base64_decode(at_members[0])));
}

TEST_CASE("network: a get_swarm answer keeps only pool members with consistent keys", "[network][swarm][hostile]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, false);  // no swarm ids: get_swarm is asked
    for (auto& n : fake->nodes())
        n->answer = [&](const std::string& m, const json& params) -> std::optional<std::pair<int, std::string>> {
            if (m != "get_swarm") return std::nullopt;
            json j = fake->swarm_json(fake->swarm_of(params.at("pubkey")));
            // A member with another node's X25519 key, and a node no seed listed.
            auto& first = j["snodes"][0];
            Ed25519PublicKey first_key;
            first_key.bytes = *from_hex_array<32>(first["pubkey_ed25519"].get<std::string>());
            first["pubkey_x25519"] = to_hex(fake->node(fake->index_of(first_key) == 0 ? 1 : 0).info.keys.x25519.bytes);
            j["snodes"].push_back({{"ip", "127.0.0.99"}, {"port_https", 20099}, {"pubkey_ed25519", std::string(63, 'a') + "b"},
                                   {"pubkey_x25519", std::string(64, 'c')}});
            return std::pair{200, j.dump()};
        };
    Network net(fake_options(fake));
    auto sw = net.get_swarm(account(52));
    REQUIRE(sw);
    CHECK(sw->nodes.size() == 4);  // 5 members, one with a foreign key; the stranger ignored
    const auto pool = net.snode_pool();
    for (const auto& n : sw->nodes) {
        CHECK(std::any_of(pool.begin(), pool.end(), [&](const Snode& p) { return p.ed25519() == n.ed25519(); }));
        CHECK(n.ip != "127.0.0.99");
    }
    REQUIRE(net.store(account(52), 0, kData, 60'000));
}

TEST_CASE("network: a 421 naming nodes outside the pool is not adopted", "[network][swarm][hostile]") {
    SwarmRig rig(53);
    auto& [fake, net, acct, sw] = rig;
    const auto liar = sw->nodes[0].ed25519();
    fake->by_key(liar)->answer = [&](const std::string& m, const json&) -> std::optional<std::pair<int, std::string>> {
        if (m != "store") return std::nullopt;
        json impostors = json::array();
        for (int i = 0; i < 3; ++i)
            impostors.push_back({{"ip", "127.0.1." + std::to_string(i + 1)}, {"port_https", 21000 + i},
                                 {"pubkey_ed25519", std::string(63, 'd') + std::to_string(i)},
                                 {"pubkey_x25519", std::string(63, 'e') + std::to_string(i)}});
        return std::pair{421, json{{"snodes", impostors}, {"swarm", "1"}}.dump()};
    };
    // Stores pick members at random: store until the liar has answered one.
    for (int i = 0; i < 40 && fake->by_key(liar)->methods["store"] == 0; ++i) {
        auto r = net.store(acct, 0, base64_encode(to_bytes("s" + std::to_string(i))), 60'000);
        REQUIRE(r);
        CHECK(fake->by_key(r->entry.ed25519()) != nullptr);  // a real member took it
    }
    REQUIRE(fake->by_key(liar)->methods["store"] > 0);
    CHECK(fake->attempts_by_method[""] == 0);  // no onion request was ever built for an impostor
    auto now = net.get_swarm(acct);
    REQUIRE(now);
    for (const auto& n : now->nodes) CHECK(fake->by_key(n.ed25519()) != nullptr);
}

TEST_CASE("network: only members of the recipient's swarm confirm a store", "[network][swarm][hostile]") {
    SwarmRig rig(54);
    // Named one by one: the lambdas below capture them (clang 14 cannot capture a structured binding).
    auto& fake = rig.fake; auto& net = rig.net; auto& acct = rig.acct; auto& sw = rig.sw;
    for (auto& n : fake->nodes())
        n->answer = [&](const std::string& m, const json& params) -> std::optional<std::pair<int, std::string>> {
            if (m != "store") return std::nullopt;
            auto raw = base64_decode(params.at("data").get<std::string>());
            const std::string hash = swarm::message_hash(acct.bytes(), 0, *raw);
            json entries = json::object();
            // Every node of the network signs, members and strangers alike: all valid signatures.
            for (auto& o : fake->nodes()) entries[o->info.ed25519_hex()] = signed_entry(*o, hash, 1);
            return std::pair{200, json{{"hash", hash}, {"swarm", entries}}.dump()};
        };
    auto r = net.store(acct, 0, kData, 60'000);
    REQUIRE(r);
    CHECK(r->nodes.size() == 10);
    CHECK(r->confirmed() == 5);
    for (const auto& n : r->nodes) {
        const bool member = std::any_of(sw->nodes.begin(), sw->nodes.end(), [&](const Snode& s) { return s.ed25519() == n.node; });
        CHECK(n.ok == member);
    }
}

TEST_CASE("network: zero or negative timeouts are refused when the Network is created", "[network][config]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto o = fake_options(fake);
    o.config.request_timeout = std::chrono::milliseconds(0);
    auto r = Network::create(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_config);
    CHECK(r.error().message == "network: config: request_timeout: expected more than 0 ms, got 0 ms");
    CHECK_THROWS_MATCHES(Network(o), std::invalid_argument, Catch::Matchers::Message(r.error().message));
    o.config = fake_config();
    o.config.retry_base_delay = std::chrono::milliseconds(-1);
    CHECK(Network::create(o).error().message.find("retry_base_delay") != std::string::npos);
    auto ok = Network::create(fake_options(fake));
    REQUIRE(ok);
    CHECK(fake->seed_requests == 0);  // nothing is sent before the first call
    REQUIRE((*ok)->bootstrap());
}
