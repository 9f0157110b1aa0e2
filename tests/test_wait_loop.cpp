// test_wait_loop.cpp: detail::WaitLoop, the Executor a blocking call drains on its own thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "detail/wait_loop.hpp"
#include "session/executor.hpp"

using session::detail::WaitLoop;

TEST_CASE("wait_loop: tasks posted from other threads run on the waiting thread, until finish()", "[wait_loop]") {
    WaitLoop loop;
    const auto waiter = std::this_thread::get_id();
    std::atomic<int> ran{0};
    std::atomic<bool> elsewhere{false};
    // Another thread (as a transport's I/O thread would) posts steps; the last one finishes.
    std::thread poster([&] {
        for (int i = 0; i < 10; ++i)
            loop.post([&, i] {
                if (std::this_thread::get_id() != waiter) elsewhere = true;
                ++ran;
                if (i == 9) loop.finish();
            });
    });
    loop.run();
    poster.join();
    CHECK(ran == 10);
    CHECK_FALSE(elsewhere);
}

TEST_CASE("wait_loop: a task may post the next one (a chain of steps)", "[wait_loop]") {
    WaitLoop loop;
    int steps = 0;
    std::function<void()> step = [&] {
        if (++steps == 100) return loop.finish();
        loop.post(step);
    };
    loop.post(step);
    loop.run();
    CHECK(steps == 100);
}

TEST_CASE("wait_loop: with an inner executor, each task runs once, and the waiter needs no inner thread",
          "[wait_loop]") {
    auto pool = session::make_thread_pool({.max_threads = 2});
    SECTION("inner threads free: tasks spread, each runs exactly once") {
        WaitLoop loop(pool.get());
        constexpr int kTasks = 200;
        std::vector<std::atomic<int>> runs(kTasks);
        std::atomic<int> left{kTasks};
        for (int i = 0; i < kTasks; ++i)
            loop.post([&, i] {
                ++runs[static_cast<std::size_t>(i)];
                if (left.fetch_sub(1) == 1) loop.finish();
            });
        loop.run();
        for (auto& r : runs) CHECK(r == 1);
    }
    SECTION("every inner thread blocked: the waiter runs the tasks itself") {
        std::promise<void> release;
        auto gate = release.get_future().share();
        for (int i = 0; i < 2; ++i) pool->post([gate] { gate.wait(); });
        WaitLoop loop(pool.get());
        int ran = 0;
        const auto waiter = std::this_thread::get_id();
        bool on_waiter = true;
        for (int i = 0; i < 5; ++i)
            loop.post([&, i] {
                ++ran;
                on_waiter = on_waiter && std::this_thread::get_id() == waiter;
                if (i == 4) loop.finish();
            });
        loop.run();
        CHECK(ran == 5);
        CHECK(on_waiter);
        release.set_value();  // the inner copies then find their tasks taken: no second run
    }
}

TEST_CASE("wait_loop: wait_on returns what the call's completion was given, its steps run on the waiter",
          "[wait_loop]") {
    const auto waiter = std::this_thread::get_id();
    std::vector<std::thread::id> step_threads;
    std::thread completer;
    // A call of two steps on the loop, completed from another thread (as a transport's would be).
    const std::string got = session::detail::wait_on<std::string>([&](session::Executor& loop, auto done) {
        loop.post([&, done]() mutable {
            step_threads.push_back(std::this_thread::get_id());
            completer = std::thread([&loop, &step_threads, done]() mutable {
                loop.post([&step_threads, done]() mutable {
                    step_threads.push_back(std::this_thread::get_id());
                    done(std::string("answer"));
                });
            });
        });
    });
    completer.join();
    CHECK(got == "answer");
    REQUIRE(step_threads.size() == 2);
    CHECK(step_threads[0] == waiter);
    CHECK(step_threads[1] == waiter);
}
