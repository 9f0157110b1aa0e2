// test_network_clock.cpp: network time (src/network/clock.hpp): samples from replies (one per node,
// within ±24 h, overflow-safe), the median, resyncs (single-flight, skipped when a newer one
// finished), the epoch (every resync and every learned move past kEpochShiftMs, published with the
// offset).
#include "network/clock.hpp"

#include <catch2/catch.hpp>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace session;
using namespace session::network;
namespace nd = session::network::detail;

namespace {

class FakeClock final : public Clock {
public:
    std::int64_t now_ms() const override { return now.load(); }
    std::atomic<std::int64_t> now{1'700'000'000'000};
};

Ed25519PublicKey node(int i) {
    Ed25519PublicKey k;
    k.bytes[0] = static_cast<std::uint8_t>(i);
    return k;
}

constexpr std::int64_t kHour = 3'600'000;

// NetworkClock::resync_async with a gather that blocks (the samples it returns), waited for here.
using Gather = std::function<nd::NetworkClock::Samples()>;
Result<void> resync(nd::NetworkClock& clock, std::int64_t failed_at_ms, const Gather& gather) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<Result<void>> out;
    clock.resync_async(
            failed_at_ms, [gather](std::function<void(nd::NetworkClock::Samples)> gathered) { gathered(gather()); },
            [&](Result<void> r) {
                std::lock_guard lock(m);
                out.emplace(std::move(r));
                cv.notify_all();
            });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return out.has_value(); });
    return std::move(*out);
}

}  // namespace

TEST_CASE("network: median takes the lower middle", "[network][clock]") {
    CHECK(nd::median({5}) == 5);
    CHECK(nd::median({3, 1, 2}) == 2);
    CHECK(nd::median({-180000, -180100, 5000}) == -180000);
    CHECK(nd::median({4, 1, 3, 2}) == 2);
}

TEST_CASE("network: a sample is t against the local midpoint of the request", "[network][clock]") {
    CHECK(nd::NetworkClock::sample(10'500, 1'000, 2'000) == 9'000);
    CHECK(nd::NetworkClock::sample(1'000, 1'000, 1'000) == 0);
    CHECK(nd::NetworkClock::sample(0, 180'000, 180'000) == -180'000);
}

TEST_CASE("network: a sample beyond 24 h, or whose arithmetic overflows, is no sample", "[network][clock]") {
    const std::int64_t now = 1'700'000'000'000;
    CHECK(nd::NetworkClock::sample(now + 24 * kHour, now, now) == 24 * kHour);
    CHECK_FALSE(nd::NetworkClock::sample(now + 24 * kHour + 1, now, now));
    CHECK_FALSE(nd::NetworkClock::sample(now - 24 * kHour - 1, now, now));
    constexpr auto lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    CHECK_FALSE(nd::NetworkClock::sample(lo, now, now));   // t − midpoint would overflow
    CHECK_FALSE(nd::NetworkClock::sample(hi, now, now));
    CHECK_FALSE(nd::NetworkClock::sample(hi, -now, -now));  // overflows the other way
    CHECK_FALSE(nd::NetworkClock::sample(now, lo, hi));    // received − sent would overflow
    CHECK_FALSE(nd::NetworkClock::sample(now, hi, lo));
}

TEST_CASE("network: the offset is the median of the latest sample of each recent node", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    std::vector<std::string> lines;
    nd::Logger log([&](LogLevel, std::string_view s) { lines.emplace_back(s); });
    nd::NetworkClock clock(local, log);
    CHECK(clock.offset_ms() == 0);
    const std::int64_t t0 = local->now_ms();
    CHECK(clock.learn(node(1), t0 + 5'000, t0, t0));
    CHECK(clock.offset_ms() == 5'000);
    CHECK(clock.now_ms() == t0 + 5'000);
    clock.learn(node(2), t0 + 7'000, t0, t0);
    clock.learn(node(3), t0 - 100'000, t0, t0);  // one wild sample does not move the median far
    CHECK(clock.offset_ms() == 5'000);
    // Only the last kClockSamples nodes count: ten nodes at +1 s push the older ones out.
    for (int i = 0; i < static_cast<int>(nd::kClockSamples); ++i) clock.learn(node(10 + i), t0 + 1'000, t0, t0);
    CHECK(clock.offset_ms() == 1'000);
    CHECK(lines.empty());
}

TEST_CASE("network: a node answering many replies is one sample", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    const std::int64_t t0 = local->now_ms();
    for (int i = 1; i <= 3; ++i) clock.learn(node(i), t0, t0, t0);
    // One node, an hour ahead, answering page after page: its latest sample replaces its earlier one.
    for (int page = 0; page < 50; ++page) clock.learn(node(9), t0 + kHour, t0, t0);
    CHECK(clock.offset_ms() == 0);
    CHECK(clock.now_ms() == t0);
}

TEST_CASE("network: samples beyond 24 h are ignored and logged; an outlier voted out stops counting", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    std::vector<std::string> lines;
    nd::Logger log([&](LogLevel, std::string_view s) { lines.emplace_back(s); });
    nd::NetworkClock clock(local, log);
    const std::int64_t t0 = local->now_ms();
    CHECK_FALSE(clock.learn(node(1), t0 + 48 * kHour, t0, t0));
    CHECK_FALSE(clock.learn(node(1), std::numeric_limits<std::int64_t>::min(), t0, t0));
    CHECK(clock.offset_ms() == 0);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("ignored") != std::string::npos);
    // A future-dated node is the only sample for a while: network time follows it ...
    CHECK(clock.learn(node(2), t0 + 20 * kHour, t0, t0));
    CHECK(clock.now_ms() == t0 + 20 * kHour);
    // ... until other nodes vote it out: then it no longer affects now_ms() at all.
    for (int i = 3; i <= 5; ++i) clock.learn(node(i), t0 + 100, t0, t0);
    CHECK(clock.offset_ms() == 100);
    CHECK(clock.now_ms() == t0 + 100);
}
TEST_CASE("network: a resync sets the median of its samples and is skipped when a newer one finished",
          "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    int gathers = 0;
    auto gather = [&]() -> Result<std::vector<nd::NetworkClock::NodeSample>> {
        ++gathers;
        return std::vector<nd::NetworkClock::NodeSample>{{node(1), -180'000}, {node(2), -179'000}, {node(3), 4'000}};
    };
    const std::int64_t failed_at = local->now_ms();
    CHECK(clock.epoch() == 0);
    REQUIRE(resync(clock, failed_at, gather));
    CHECK(gathers == 1);
    CHECK(clock.offset_ms() == -179'000);
    CHECK(clock.syncs() == 1);
    CHECK(clock.epoch() == 1);
    CHECK(clock.last_sync_ms() == local->now_ms());
    // A clock error seen before that resync finished: already fresh.
    REQUIRE(resync(clock, failed_at, gather));
    CHECK(gathers == 1);
    CHECK(clock.epoch() == 1);
    // A later one resyncs again.
    local->now += 1'000;
    REQUIRE(resync(clock, local->now_ms(), gather));
    CHECK(gathers == 2);
    CHECK(clock.epoch() == 2);
    // The resync's samples replaced the window: a passive sample from node 3 replaces its own.
    clock.learn(node(3), local->now_ms() - 179'000, local->now_ms(), local->now_ms());
    CHECK(clock.offset_ms() == -179'000);

    auto fails = []() -> Result<std::vector<nd::NetworkClock::NodeSample>> { return unexpected(Errc::net_timeout, "t"); };
    local->now += 1'000;
    auto r = resync(clock, local->now_ms(), fails);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_timeout);
    CHECK(clock.syncs() == 2);
    CHECK(clock.epoch() == 2);
    // A gather whose every sample is beyond the bound sets nothing.
    auto wild = []() -> Result<std::vector<nd::NetworkClock::NodeSample>> {
        return std::vector<nd::NetworkClock::NodeSample>{{node(1), 25 * kHour}};
    };
    local->now += 1'000;
    CHECK_FALSE(resync(clock, local->now_ms(), wild));
    CHECK(clock.offset_ms() == -179'000);
}

TEST_CASE("network: resyncs that join a running one wait without a thread; after a failure they gather once more, together",
          "[network][clock][async]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    using Gathered = std::function<void(nd::NetworkClock::Samples)>;
    std::vector<std::pair<int, Gathered>> held;  // which gather (1, 2, 3) and its callback, kept for the test to end
    auto gather = [&](int which) {
        return [&held, which](Gathered gathered) { held.emplace_back(which, std::move(gathered)); };
    };
    std::vector<std::optional<Result<void>>> done(4);
    auto on_done = [&](std::size_t i) { return [&done, i](Result<void> r) { done[i].emplace(std::move(r)); }; };
    const std::int64_t failed_at = local->now_ms();

    clock.resync_async(failed_at, gather(1), on_done(0));
    REQUIRE(held.size() == 1);
    // Two more clock errors while it runs: they wait, nothing gathers for them, nobody is answered.
    clock.resync_async(failed_at, gather(2), on_done(1));
    clock.resync_async(failed_at, gather(3), on_done(2));
    CHECK(held.size() == 1);
    CHECK_FALSE(done[0]);
    CHECK_FALSE(done[1]);
    CHECK_FALSE(done[2]);

    SECTION("it succeeds: everyone is answered, the offset set once") {
        local->now += 10;
        auto first = std::move(held[0].second);
        first(std::vector<nd::NetworkClock::NodeSample>{{node(1), 42}});
        CHECK(held.size() == 1);  // no gather of their own
        for (std::size_t i = 0; i < 3; ++i) {
            REQUIRE(done[i]);
            CHECK(*done[i]);
        }
        CHECK(clock.offset_ms() == 42);
        CHECK(clock.syncs() == 1);
        // An error seen before that resync ended: answered at once.
        clock.resync_async(failed_at, gather(4), on_done(3));
        CHECK(held.size() == 1);
        REQUIRE(done[3]);
        CHECK(*done[3]);
    }
    SECTION("it fails: the first gets the error; the two waiting run the first waiter's gather, together") {
        local->now += 10;
        auto first = std::move(held[0].second);
        first(unexpected(Errc::net_timeout, "network: info: timed out"));
        REQUIRE(done[0]);
        REQUIRE_FALSE(*done[0]);
        CHECK(done[0]->error().code == Errc::net_timeout);
        REQUIRE(held.size() == 2);
        CHECK(held[1].first == 2);
        CHECK_FALSE(done[1]);
        CHECK_FALSE(done[2]);
        // A fourth error while that runs waits for it too.
        clock.resync_async(local->now_ms(), gather(4), on_done(3));
        CHECK(held.size() == 2);
        local->now += 10;
        auto second = std::move(held[1].second);
        second(std::vector<nd::NetworkClock::NodeSample>{{node(1), -7}, {node(2), -5}, {node(3), -9}});
        CHECK(held.size() == 2);
        for (std::size_t i = 1; i < 4; ++i) {
            REQUIRE(done[i]);
            CHECK(*done[i]);
        }
        CHECK(clock.offset_ms() == -7);
        CHECK(clock.syncs() == 1);
    }
}

TEST_CASE("network: concurrent resyncs for one clock error gather once", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    std::atomic<int> gathers{0};
    std::atomic<bool> release{false};
    auto gather = [&]() -> Result<std::vector<nd::NetworkClock::NodeSample>> {
        ++gathers;
        while (!release) std::this_thread::yield();
        return std::vector<nd::NetworkClock::NodeSample>{{node(1), 42}};
    };
    const std::int64_t failed_at = local->now_ms();
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back([&] { CHECK(resync(clock, failed_at, gather)); });
    while (gathers == 0) std::this_thread::yield();
    local->now += 10;  // the resync finishes after the error
    release = true;
    for (auto& t : ts) t.join();
    CHECK(gathers == 1);
    CHECK(clock.offset_ms() == 42);
}

TEST_CASE("network: a learned move of more than kEpochShiftMs starts a new epoch; smaller ones do not",
          "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    const std::int64_t t0 = local->now_ms();
    const auto learn = [&](std::int64_t offset) { REQUIRE(clock.learn(node(1), t0 + offset, t0, t0)); };
    // Jitter below the threshold: the epoch stays (a move of exactly kEpochShiftMs included).
    learn(1'000);
    learn(nd::kEpochShiftMs);
    learn(0);
    CHECK(clock.offset_ms() == 0);
    CHECK(clock.epoch() == 0);
    // One step past it: a new epoch, already there with the new offset.
    learn(nd::kEpochShiftMs + 1);
    CHECK(clock.offset_ms() == nd::kEpochShiftMs + 1);
    CHECK(clock.epoch() == 1);
    // Back by less than the threshold: the same epoch.
    learn(2'000);
    CHECK(clock.epoch() == 1);
    // Small steps that add up past the threshold from what this epoch showed: a new epoch once.
    // (from 2 s down by 1 s at a time: at −1 s the epoch has shown 5.001 s … −1 s).
    for (std::int64_t o = 1'000; o >= -3'000; o -= 1'000) learn(o);
    CHECK(clock.offset_ms() == -3'000);
    CHECK(clock.epoch() == 2);
    // Backwards as forwards: a clock 3 minutes behind.
    learn(-180'000);
    CHECK(clock.epoch() == 3);
    CHECK(clock.now_ms() == t0 - 180'000);
    // A sample that moves the median little (one node of many) keeps the epoch.
    for (int i = 2; i <= 5; ++i) REQUIRE(clock.learn(node(i), t0 - 180'000, t0, t0));
    REQUIRE(clock.learn(node(6), t0 + kHour, t0, t0));
    CHECK(clock.offset_ms() == -180'000);
    CHECK(clock.epoch() == 3);
}

TEST_CASE("network: a resync counts once in the epoch, whatever it moves and whatever its replies taught", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    auto gather_at = [](std::int64_t offset) {
        return [offset]() -> Result<std::vector<nd::NetworkClock::NodeSample>> {
            return std::vector<nd::NetworkClock::NodeSample>{{node(1), offset}, {node(2), offset}, {node(3), offset}};
        };
    };
    REQUIRE(resync(clock, local->now_ms(), gather_at(-180'000)));  // a large move: one epoch, not two
    CHECK(clock.epoch() == 1);
    local->now += 1'000;
    REQUIRE(resync(clock, local->now_ms(), gather_at(-180'000)));  // no move: still a new epoch
    CHECK(clock.epoch() == 2);
    // The `t` of the resync's own `info` replies, learned while it gathers, moves the epoch first:
    // the resync then counts once in all, unless its median leaves that epoch's span.
    const auto gather_learning = [&](std::int64_t learned, std::int64_t offset) {
        return [&, learned, offset]() -> Result<std::vector<nd::NetworkClock::NodeSample>> {
            for (int i : {1, 2, 3}) REQUIRE(clock.learn(node(i), local->now_ms() + learned, local->now_ms(), local->now_ms()));
            return gather_at(offset)();
        };
    };
    local->now += 1'000;
    REQUIRE(resync(clock, local->now_ms(), gather_learning(0, -1'000)));  // 180 s: learned, then 1 s more
    CHECK(clock.offset_ms() == -1'000);
    CHECK(clock.epoch() == 3);
    local->now += 1'000;
    REQUIRE(resync(clock, local->now_ms(), gather_learning(-180'000, 0)));  // learned, then 180 s back
    CHECK(clock.offset_ms() == 0);
    CHECK(clock.epoch() == 5);
    local->now += 1'000;
    REQUIRE(resync(clock, local->now_ms(), gather_at(-180'000)));
    CHECK(clock.epoch() == 6);
    // A sample learned after it moves the offset by less than the threshold from the resync's: the same epoch.
    for (int i : {1, 2}) REQUIRE(clock.learn(node(i), local->now_ms() - 178'000, local->now_ms(), local->now_ms()));
    CHECK(clock.offset_ms() == -178'000);
    CHECK(clock.epoch() == 6);
}

TEST_CASE("network: the epoch is visible no later than the offset it goes with", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();  // the local clock stands still: now_ms() shows the offset
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    const std::int64_t t0 = local->now_ms();
    constexpr std::int64_t kFar = 2 * nd::kEpochShiftMs;
    // Single-threaded: the first now_ms() that shows the new offset comes with the new epoch.
    REQUIRE(clock.learn(node(1), t0 + kFar, t0, t0));
    CHECK(clock.now_ms() == t0 + kFar);
    CHECK(clock.epoch() == 1);

    // Concurrently: one writer moves the offset between 0 (even epochs) and kFar (odd epochs), each a
    // new epoch; readers read the epoch, the time, the epoch again. Whenever both epochs agree, the
    // time must be that epoch's: a time read before an epoch is never newer than it (time first,
    // epoch after: a new time comes with its new epoch), nor older when read after it.
    constexpr int kMoves = 20'000;
    std::atomic<bool> done{false};
    std::atomic<int> ready{0};
    std::atomic<long> checked{0}, torn{0};
    const auto check = [&] {
        const auto e1 = clock.epoch();
        const auto now = clock.now_ms();
        const auto e2 = clock.epoch();
        if (e1 != e2) return;
        ++checked;
        if (now != t0 + (e1 % 2 == 1 ? kFar : 0)) ++torn;
    };
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            check();  // nothing moves yet: counted
            ++ready;
            while (!done.load()) check();
        });
    while (ready.load() < 2) std::this_thread::yield();  // both readers run before the first move
    for (int i = 2; i <= kMoves + 1; ++i) {
        REQUIRE(clock.learn(node(1), t0 + (i % 2 == 1 ? kFar : 0), t0, t0));
        if (i % 64 == 0) std::this_thread::yield();  // let the readers in between moves, too
    }
    done = true;
    for (auto& t : readers) t.join();
    CHECK(clock.epoch() == static_cast<std::uint64_t>(kMoves + 1));
    CHECK(checked.load() >= 2);
    CHECK(torn.load() == 0);
}
