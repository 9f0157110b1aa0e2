#pragma once
// detail/wait_loop.hpp (private): an Executor whose tasks run on the thread that waits for them.
//
// A blocking call built on an asynchronous one (Caller::call on call_async, Network::store_batch on
// store_batch_async) posts the steps of its call here and runs them on the calling thread until the
// call calls finish(): completions arriving on a transport's I/O thread are queued, not run there.
// Given an `inner` executor, every task is also posted there and runs once, on whichever thread
// starts it first (an inner thread, or the waiter): work spreads over the inner executor's threads,
// yet a waiter never depends on them (no deadlock when every inner thread is itself waiting).
//
//   WaitLoop loop;                                         // or WaitLoop loop(&net.executor());
//   start_async(..., loop, [&](Result<T> r) { out = std::move(r); loop.finish(); });
//   loop.run();                                            // returns after finish()
//
// wait_on() is that idiom in one call:
//
//   return wait_on<Result<T>>([&](Executor& loop, auto done) { start_async(..., loop, std::move(done)); });
//
// Thread-safe: post() and finish() from any thread; run() from one thread (the owner). Tasks
// posted after finish() are run only by the inner executor (if any). The loop must outlive run().
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "session/executor.hpp"

namespace session::detail {

class WaitLoop final : public Executor {
public:
    explicit WaitLoop(Executor* inner = nullptr) : inner_(inner) {}
    WaitLoop(const WaitLoop&) = delete;
    WaitLoop& operator=(const WaitLoop&) = delete;

    /// Queues `task` for run() (and, with an inner executor, posts it there too).
    void post(std::function<void()> task) override;
    /// Runs queued tasks on this thread until finish() has been called.
    void run();
    /// Ends run() (after the task running now, if any).
    void finish();

private:
    struct Task {
        std::atomic<bool> claimed{false};
        std::function<void()> fn;
        /// Runs fn unless another thread claimed it first.
        void run_once() {
            if (claimed.exchange(true)) return;
            auto f = std::move(fn);
            f();
        }
    };
    Executor* inner_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Task>> queue_;
    bool finished_ = false;
};

/// Starts an asynchronous call and waits for it on this thread: `start(loop, done)` must start the
/// call with `loop` as the executor of its steps and `done` (callable once, with a T) as its
/// completion; wait_on runs the loop until `done` is called and returns what `done` was given.
/// `inner`, when given, is the WaitLoop's inner executor.
template <class T, class Start>
T wait_on(Start&& start, Executor* inner = nullptr) {
    WaitLoop loop(inner);
    std::optional<T> out;
    std::forward<Start>(start)(static_cast<Executor&>(loop), [&out, &loop](T result) {
        out.emplace(std::move(result));
        loop.finish();
    });
    loop.run();
    return std::move(*out);
}

}  // namespace session::detail
