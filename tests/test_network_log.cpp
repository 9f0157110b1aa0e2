// test_network_log.cpp: log lines and the network's lock (src/network/log.hpp): a line logged while
// the thread holds a network lock is emitted after the thread's last one is released.
#include "network/log.hpp"

#include <catch2/catch.hpp>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

using namespace session;
using namespace session::network;
namespace nd = session::network::detail;

TEST_CASE("network: a line logged under a network lock is emitted after the last one is released", "[network][log]") {
    std::mutex a, b;
    std::vector<std::string> seen;
    bool a_free_in_callback = true;
    nd::Logger log([&](LogLevel, std::string_view s) {
        seen.emplace_back(s);
        // The callback may take the same locks (it would deadlock if called under them).
        std::unique_lock try_a(a, std::try_to_lock);
        a_free_in_callback = a_free_in_callback && try_a.owns_lock();
    });
    log(LogLevel::info, "network: free");
    CHECK(seen == std::vector<std::string>{"network: free"});
    {
        nd::Locked la(a);
        log(LogLevel::info, "network: under a");
        {
            nd::Locked lb(b);
            log(LogLevel::debug, "network: under a and b");
        }
        CHECK(seen.size() == 1);  // b released, a still held
        CHECK(nd::deferred_log_lines() == 2);
    }
    CHECK(seen == std::vector<std::string>{"network: free", "network: under a", "network: under a and b"});
    CHECK(a_free_in_callback);
    CHECK(nd::deferred_log_lines() == 0);
}

TEST_CASE("network: a failed try-lock defers nothing, and a throwing callback is contained", "[network][log]") {
    std::mutex m;
    int calls = 0;
    nd::Logger log([&](LogLevel, std::string_view) {
        ++calls;
        throw std::runtime_error("callback bug");
    });
    {
        std::lock_guard held(m);
        nd::Locked attempt(m, std::try_to_lock);
        CHECK_FALSE(attempt.owns_lock());
        log(LogLevel::info, "network: not deferred");  // this thread holds no *network* lock
        CHECK(calls == 1);
    }
    {
        nd::Locked l(m);
        log(LogLevel::info, "network: deferred");
        CHECK(calls == 1);
    }
    CHECK(calls == 2);
    nd::Logger silent;
    CHECK_FALSE(silent.enabled());
    silent(LogLevel::error, "network: nobody listens");
}

TEST_CASE("network: a SingleFlight runs once while others wait, then lets them decide again", "[network][log]") {
    nd::SingleFlight flight;
    std::atomic<int> runs{0};
    std::atomic<bool> finished{false}, release{false};
    auto worker = [&] {
        auto turn = flight.begin([&] { return finished.load(); });
        if (!turn) return;
        ++runs;
        while (!release) std::this_thread::yield();
        finished = true;
    };
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back(worker);
    while (runs == 0) std::this_thread::yield();
    // While one runs, a caller that need not wait does not.
    CHECK_FALSE(flight.begin([] { return false; }, [] { return true; }));
    release = true;
    for (auto& t : ts) t.join();
    CHECK(runs == 1);
    // Done: no turn. Not done and free: a turn, and a second begin from the same holder would wait,
    // so the turn is released first.
    CHECK_FALSE(flight.begin([] { return true; }));
    { auto t = flight.begin([] { return false; }); CHECK(t); }
    CHECK(flight.begin([] { return false; }));
}
