// test_network_pool.cpp: the snode pool (src/network/pool.hpp): strikes, the seed race on the
// executor, refreshes from 3 snodes, the cache file and the fallbacks.
#include "network/pool.hpp"

#include <deque>
#include <filesystem>
#include <unistd.h>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
namespace nd = session::network::detail;

namespace {

/// Counts the tasks posted to an inner executor.
class CountingExecutor final : public Executor {
public:
    void post(std::function<void()> task) override {
        ++posted;
        inner->post(std::move(task));
    }
    std::shared_ptr<Executor> inner = make_thread_pool();
    std::atomic<int> posted{0};
};

/// An executor whose threads are all busy: it queues tasks and never starts them on its own.
class StalledExecutor final : public Executor {
public:
    void post(std::function<void()> task) override {
        std::lock_guard lock(m);
        queued.push_back(std::move(task));
    }
    void drain() {
        std::deque<std::function<void()>> q;
        {
            std::lock_guard lock(m);
            q.swap(queued);
        }
        for (auto& t : q) t();
    }
    std::mutex m;
    std::deque<std::function<void()>> queued;
};

/// A Pool and what it needs.
struct PoolRig {
    NetworkConfig cfg;
    std::shared_ptr<FakeNet> fake;
    std::shared_ptr<Executor> executor;
    std::shared_ptr<Rng> rng = deterministic_rng(5);
    nd::Logger log;
    nd::NetworkClock clock{system_clock(), log};
    std::unique_ptr<nd::Pool> pool;

    PoolRig(std::shared_ptr<FakeNet> f, NetworkConfig c, std::shared_ptr<Executor> e, std::string cache = {})
            : cfg(std::move(c)), fake(std::move(f)), executor(std::move(e)) {
        pool = std::make_unique<nd::Pool>(nd::Pool::Deps{cfg, fake, executor, *rng, clock, std::move(cache), log});
    }
};

const nd::Pool::AskNode kNoRefresh = [](const Snode&) -> std::optional<std::vector<Snode>> { return std::nullopt; };

}  // namespace

TEST_CASE("network: intersection keeps the nodes every list has", "[network][pool]") {
    FakeNet net(loopback_ips(4), 1);
    const auto a = net.node(0).info, b = net.node(1).info, c = net.node(2).info, d = net.node(3).info;
    auto moved = b;
    moved.https_port = 1;  // same key, other address: not the same node
    CHECK(nd::intersection({{a, b, c}, {c, a, d}, {b, c, a}}) == std::vector<Snode>{a, c});
    CHECK(nd::intersection({{a, b}, {a, moved}}) == std::vector<Snode>{a});
    CHECK(nd::intersection({}).empty());
}

TEST_CASE("network: strikes count to the threshold and a success clears them", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    PoolRig rig(fake, fake_config(), make_thread_pool());
    REQUIRE(rig.pool->ensure(kNoRefresh));
    const auto n = rig.pool->nodes().at(0);
    CHECK_FALSE(rig.pool->strike(n, 1));
    CHECK(rig.pool->failing() == std::vector<Snode>{n});
    CHECK_FALSE(rig.pool->strike(n, 1));
    CHECK(rig.pool->is_usable(n));
    CHECK(rig.pool->strike(n, 1));        // the third strikes it out
    CHECK_FALSE(rig.pool->strike(n, 1));  // once
    CHECK_FALSE(rig.pool->is_usable(n));
    CHECK(rig.pool->usable().size() == 9);
    CHECK(rig.pool->failing().empty());   // struck-out nodes are not "failing", they are gone
    rig.pool->clear_strikes(std::vector<Snode>{n});
    CHECK(rig.pool->is_usable(n));
    CHECK(rig.pool->strike_out(n.ed25519()));
    CHECK_FALSE(rig.pool->strike_out(n.ed25519()));
    CHECK_FALSE(rig.pool->is_usable(n));
}

TEST_CASE("network: the seeds are raced as executor tasks and a healthy first seed answers alone", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto cfg = fake_config();
    cfg.seed_stagger = std::chrono::milliseconds(60'000);
    auto exec = std::make_shared<CountingExecutor>();
    PoolRig rig(fake, cfg, exec);
    auto r = rig.pool->ensure(kNoRefresh);
    REQUIRE(r);
    CHECK(*r);  // replaced
    CHECK(rig.pool->nodes().size() == 10);
    CHECK(rig.pool->seed_requests() == 1);
    CHECK(rig.pool->fetches() == 1);
    CHECK(exec->posted == 1);
    CHECK(fake->seed_requests == 1);
    auto again = rig.pool->ensure(kNoRefresh);  // fresh: nothing to do
    REQUIRE(again);
    CHECK_FALSE(*again);
    CHECK(fake->seed_requests == 1);
}

TEST_CASE("network: a seed request the executor cannot start runs on the racing thread", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    fake->seeds_down = {"seed1"};
    auto exec = std::make_shared<StalledExecutor>();
    PoolRig rig(fake, fake_config(), exec);
    REQUIRE(rig.pool->ensure(kNoRefresh));  // would wait forever if the race only waited for the executor
    CHECK(rig.pool->nodes().size() == 10);
    exec->drain();  // the queued tasks find their requests claimed and return
}

TEST_CASE("network: every seed down: net_no_nodes naming each, then the network file's nodes", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    fake->seeds_down = {"seed1", "seed2", "seed3"};
    {
        PoolRig rig(fake, fake_config(), make_thread_pool());
        auto r = rig.pool->ensure(kNoRefresh);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_no_nodes);
        for (const char* s : {"seed1", "seed2", "seed3"}) CHECK(r.error().message.find(s) != std::string::npos);
        CHECK(rig.pool->seed_requests() == 3);
    }
    auto cfg = fake_config();
    for (auto& n : fake->nodes()) cfg.bootstrap_nodes.push_back(n->info);
    PoolRig rig(fake, cfg, make_thread_pool());
    REQUIRE(rig.pool->ensure(kNoRefresh));
    CHECK(rig.pool->nodes().size() == 10);
}

TEST_CASE("network: the pool cache file is written after a fetch and read when fresh", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    const auto dir = std::filesystem::temp_directory_path() / ("net-pool-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string cache = (dir / "pool").string();
    {
        PoolRig rig(fake, fake_config(), make_thread_pool(), cache);
        REQUIRE(rig.pool->ensure(kNoRefresh));
    }
    const int seeds = fake->seed_requests;
    PoolRig again(fake, fake_config(), make_thread_pool(), cache);
    REQUIRE(again.pool->ensure(kNoRefresh));
    CHECK(fake->seed_requests == seeds);  // from the file, no seed request
    CHECK(again.pool->nodes().size() == 10);
    std::filesystem::remove_all(dir);
}

TEST_CASE("network: a stale pool is refreshed from 3 snodes, and from the seeds when they disagree", "[network][pool]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    auto cfg = fake_config();
    cfg.pool_refresh_interval = std::chrono::minutes(0);  // every ensure finds the pool stale
    cfg.seed_stagger = std::chrono::milliseconds(60'000);  // one healthy seed answers alone
    PoolRig rig(fake, cfg, make_thread_pool());
    REQUIRE(rig.pool->ensure(kNoRefresh));
    const auto all = rig.pool->nodes();
    std::vector<Snode> asked;
    SECTION("three agreeing lists: their intersection, no seed request") {
        auto ask = [&](const Snode& n) -> std::optional<std::vector<Snode>> {
            asked.push_back(n);
            auto list = all;
            list.erase(list.begin() + static_cast<std::ptrdiff_t>(asked.size()));  // each omits another node
            return list;
        };
        auto r = rig.pool->ensure(ask);
        REQUIRE(r);
        CHECK(*r);
        CHECK(asked.size() == 3);
        CHECK(rig.pool->nodes().size() == 7);
        CHECK(rig.pool->seed_requests() == 1);
    }
    SECTION("two nodes answer nothing: 5 asked, then the seeds") {
        auto ask = [&](const Snode& n) -> std::optional<std::vector<Snode>> {
            asked.push_back(n);
            if (asked.size() % 2 == 0) return std::nullopt;
            return all;
        };
        REQUIRE(rig.pool->ensure(ask));
        CHECK(asked.size() == 5);  // 3 plus 2 spares: the third answer comes from the fifth node
        CHECK(rig.pool->seed_requests() == 1);
        CHECK(rig.pool->fetches() == 2);
    }
    SECTION("lists that share too few nodes: the seeds decide") {
        auto ask = [&](const Snode& n) -> std::optional<std::vector<Snode>> {
            asked.push_back(n);
            const auto from = all.begin() + static_cast<std::ptrdiff_t>(3 * (asked.size() - 1));
            return std::vector<Snode>(from, from + 3);  // three disjoint lists
        };
        REQUIRE(rig.pool->ensure(ask));
        CHECK(asked.size() == 3);
        CHECK(rig.pool->seed_requests() == 2);
        CHECK(rig.pool->nodes().size() == 10);
    }
}
