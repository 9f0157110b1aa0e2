#pragma once
// executor.hpp: the one place the library starts threads.
//
// Work the library runs off the calling thread (racing seeds, asking swarm members at the same time,
// syncing the clock with several nodes, opening a large page of messages on every core) is posted to
// an Executor. A Network owns one (network::Options::executor, default make_thread_pool()), and the
// Clients on it use the same one, so a program sizes or replaces the library's threads in one place.
//
// Lifetime rule: a thread pool joins every thread it started before its destructor returns, after
// running every task already posted. Objects that post tasks own (or share) the pool they post to,
// and the tasks keep what they touch alive (shared_ptr), so no thread outlives the object that
// started it and no task outlives what it uses.
#include <cstddef>
#include <chrono>
#include <functional>
#include <memory>

namespace session {

/// Runs tasks on other threads. Implementations must be thread-safe. A task must not throw (an
/// exception escaping a task terminates the program, as it would from a std::thread).
class Executor {
public:
    virtual ~Executor() = default;
    /// Queues `task`; never runs it on the calling thread and never waits for it.
    virtual void post(std::function<void()> task) = 0;
};

struct ThreadPoolOptions {
    /// Most threads alive at once. Tasks beyond it wait in a queue (in posting order). Blocking
    /// tasks are fine: a TaskGroup runs its own queued tasks itself while it waits, so waiting on a
    /// saturated pool never deadlocks.
    std::size_t max_threads = 16;
    /// A thread with nothing to do for this long exits (one is started again when work comes).
    std::chrono::milliseconds idle_timeout{10'000};
};

/// A pool that starts threads on demand, up to options.max_threads, and lets idle ones retire.
/// Its destructor runs every queued task, then joins every thread. Throws std::invalid_argument if
/// max_threads is 0. Its threads are named `session-pool` (as the curl transport's are `session-io`),
/// so ps, top and perf can tell them apart.
std::shared_ptr<Executor> make_thread_pool(ThreadPoolOptions options = {});

/// A set of tasks posted to one executor and waited for together. A task that has not started
/// when wait() is called runs on the waiting thread instead, so a group finishes even when every
/// pool thread is blocked (on I/O, or waiting for groups of its own). Not thread-safe: one owner
/// adds and waits. The destructor waits.
class TaskGroup {
public:
    explicit TaskGroup(Executor& executor);
    ~TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    /// Posts `task` to the executor (or keeps it for wait() to run, if the executor has not
    /// started it by then).
    void run(std::function<void()> task);
    /// Returns when every task of the group has finished.
    void wait();

private:
    struct State;
    Executor& executor_;
    std::shared_ptr<State> state_;
};

/// Calls fn(0) … fn(n - 1), spread over `executor` and the calling thread, and returns when all
/// have returned. At most `max_parallel` calls run at once (0 = no limit beyond n). Calls are
/// claimed in index order; fn must be safe to call from several threads at once.
void parallel_for(Executor& executor, std::size_t n, const std::function<void(std::size_t)>& fn,
                  std::size_t max_parallel = 0);

}  // namespace session
