#include "session/executor.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace session;
using namespace std::chrono_literals;

namespace {

// A latch the tests open by hand: tasks block on it to occupy pool threads.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return open; });
    }
    void release() {
        {
            std::lock_guard lock(m);
            open = true;
        }
        cv.notify_all();
    }
};

}  // namespace

TEST_CASE("executor: a pool runs every posted task, on threads other than the poster's", "[executor]") {
    std::atomic<int> ran{0};
    std::mutex m;
    std::set<std::thread::id> ids;
    const auto me = std::this_thread::get_id();
    {
        auto pool = make_thread_pool({.max_threads = 4});
        for (int i = 0; i < 100; ++i)
            pool->post([&] {
                std::lock_guard lock(m);
                ids.insert(std::this_thread::get_id());
                ++ran;
            });
    }  // the destructor runs what is queued, then joins
    CHECK(ran == 100);
    CHECK_FALSE(ids.count(me));
    CHECK(ids.size() <= 4);
}

TEST_CASE("executor: the pool never runs more than max_threads tasks at once", "[executor]") {
    std::atomic<int> running{0}, peak{0};
    {
        auto pool = make_thread_pool({.max_threads = 3});
        for (int i = 0; i < 30; ++i)
            pool->post([&] {
                const int now = ++running;
                int seen = peak.load();
                while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(1ms);
                --running;
            });
    }
    CHECK(peak <= 3);
    CHECK(peak >= 1);
}

TEST_CASE("executor: idle threads retire and new work starts threads again", "[executor]") {
    auto pool = make_thread_pool({.max_threads = 2, .idle_timeout = 5ms});
    std::atomic<int> ran{0};
    pool->post([&] { ++ran; });
    std::this_thread::sleep_for(50ms);  // the thread has retired by now
    TaskGroup group(*pool);
    group.run([&] { ++ran; });
    group.wait();
    CHECK(ran == 2);
}

TEST_CASE("executor: a burst of blocking tasks gets a thread each, also when one thread is idle", "[executor]") {
    // An idle thread is woken for the first task; the rest must start threads of their own, not
    // queue behind it (each waits until all of them run at once).
    constexpr int kTasks = 6;
    auto pool = make_thread_pool({.max_threads = kTasks});
    std::atomic<bool> warm{false};
    pool->post([&] { warm = true; });
    while (!warm) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // the thread is idle now
    std::mutex m;
    std::condition_variable cv;
    int running = 0;
    std::atomic<int> together{0};
    for (int i = 0; i < kTasks; ++i)
        pool->post([&] {
            std::unique_lock lock(m);
            ++running;
            cv.notify_all();
            if (cv.wait_for(lock, 5s, [&] { return running == kTasks; })) ++together;
        });
    pool.reset();  // the destructor waits for every task
    CHECK(together == kTasks);
}

TEST_CASE("executor: a task group finishes even when every pool thread is blocked", "[executor]") {
    Gate gate;  // declared first: it outlives the pool, whose thread still reads it after release()
    auto pool = make_thread_pool({.max_threads = 1});
    pool->post([&] { gate.wait(); });  // occupies the only thread
    std::atomic<int> ran{0};
    {
        TaskGroup group(*pool);
        for (int i = 0; i < 5; ++i) group.run([&] { ++ran; });
        group.wait();  // runs the queued tasks itself
        CHECK(ran == 5);
    }
    gate.release();
}

TEST_CASE("executor: nested groups on a one-thread pool do not deadlock", "[executor]") {
    auto pool = make_thread_pool({.max_threads = 1});
    std::atomic<int> leaves{0};
    TaskGroup outer(*pool);
    for (int i = 0; i < 3; ++i)
        outer.run([&] {
            TaskGroup inner(*pool);
            for (int k = 0; k < 3; ++k) inner.run([&] { ++leaves; });
            inner.wait();
        });
    outer.wait();
    CHECK(leaves == 9);
}

TEST_CASE("executor: parallel_for calls every index once and honours max_parallel", "[executor]") {
    auto pool = make_thread_pool({.max_threads = 4});
    std::vector<std::atomic<int>> hits(257);
    std::atomic<int> running{0}, peak{0};
    parallel_for(*pool, hits.size(), [&](std::size_t i) {
        const int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        ++hits[i];
        --running;
    }, 2);
    for (auto& h : hits) CHECK(h == 1);
    CHECK(peak <= 2);
    parallel_for(*pool, 0, [&](std::size_t) { FAIL("called for n = 0"); });
}

TEST_CASE("executor: a pool with no threads is refused", "[executor]") {
    CHECK_THROWS_AS(make_thread_pool({.max_threads = 0}), std::invalid_argument);
}
