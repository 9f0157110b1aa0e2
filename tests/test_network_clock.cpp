// test_network_clock.cpp: network time (src/network/clock.hpp): samples from replies, the median,
// resyncs (single-flight, skipped when a newer one finished).
#include "network/clock.hpp"

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>
#include <vector>

using namespace session;
namespace nd = session::network::detail;

namespace {

class FakeClock final : public Clock {
public:
    std::int64_t now_ms() const override { return now.load(); }
    std::atomic<std::int64_t> now{1'700'000'000'000};
};

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

TEST_CASE("network: the offset is the median of the recent samples", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    CHECK(clock.offset_ms() == 0);
    const std::int64_t t0 = local->now_ms();
    clock.learn(t0 + 5'000, t0, t0);
    CHECK(clock.offset_ms() == 5'000);
    CHECK(clock.now_ms() == t0 + 5'000);
    clock.learn(t0 + 7'000, t0, t0);
    clock.learn(t0 - 100'000, t0, t0);  // one wild sample does not move the median far
    CHECK(clock.offset_ms() == 5'000);
    // Only the last kClockSamples count: ten samples of +1 s push the older ones out.
    for (std::size_t i = 0; i < nd::kClockSamples; ++i) clock.learn(t0 + 1'000, t0, t0);
    CHECK(clock.offset_ms() == 1'000);
}

TEST_CASE("network: a resync sets the median of its samples and is skipped when a newer one finished",
          "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    int gathers = 0;
    auto gather = [&]() -> Result<std::vector<std::int64_t>> {
        ++gathers;
        return std::vector<std::int64_t>{-180'000, -179'000, 4'000};
    };
    const std::int64_t failed_at = local->now_ms();
    REQUIRE(clock.resync_after(failed_at, gather));
    CHECK(gathers == 1);
    CHECK(clock.offset_ms() == -179'000);
    CHECK(clock.syncs() == 1);
    CHECK(clock.last_sync_ms() == local->now_ms());
    // A clock error seen before that resync finished: already fresh.
    REQUIRE(clock.resync_after(failed_at, gather));
    CHECK(gathers == 1);
    // A later one resyncs again.
    local->now += 1'000;
    REQUIRE(clock.resync_after(local->now_ms(), gather));
    CHECK(gathers == 2);

    auto fails = []() -> Result<std::vector<std::int64_t>> { return unexpected(Errc::net_timeout, "t"); };
    local->now += 1'000;
    auto r = clock.resync_after(local->now_ms(), fails);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_timeout);
    CHECK(clock.syncs() == 2);
}

TEST_CASE("network: concurrent resyncs for one clock error gather once", "[network][clock]") {
    auto local = std::make_shared<FakeClock>();
    nd::Logger log;
    nd::NetworkClock clock(local, log);
    std::atomic<int> gathers{0};
    std::atomic<bool> release{false};
    auto gather = [&]() -> Result<std::vector<std::int64_t>> {
        ++gathers;
        while (!release) std::this_thread::yield();
        return std::vector<std::int64_t>{42};
    };
    const std::int64_t failed_at = local->now_ms();
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back([&] { CHECK(clock.resync_after(failed_at, gather)); });
    while (gathers == 0) std::this_thread::yield();
    local->now += 10;  // the resync finishes after the error
    release = true;
    for (auto& t : ts) t.join();
    CHECK(gathers == 1);
    CHECK(clock.offset_ms() == 42);
}
