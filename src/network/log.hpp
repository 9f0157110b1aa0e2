#pragma once
// log.hpp: how the network's units log, and how they lock.
//
// The user's LogFn may call back into the Network (stats(), snode_pool(), paths(), even another
// request), so it never runs while this thread holds one of the network's locks: every unit locks
// with `Locked`, and a line logged while this thread holds any `Locked` is queued and emitted when
// the thread's outermost `Locked` is released. A line logged with no lock held is emitted at once.
// No lock is held across I/O: an operation that must run once at a time (a pool fetch) is a
// SingleFlight, a flag others wait on (the clock's resync is one with callbacks: clock.hpp).
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "session/network.hpp"

namespace session::network::detail {

/// The user's log callback (or none). Cheap to call when there is none.
class Logger {
public:
    explicit Logger(LogFn fn = {}) : fn_(std::move(fn)) {}
    /// Emits the line now, or, while this thread holds a `Locked`, when it releases the last one.
    void operator()(LogLevel level, std::string text) const;
    bool enabled() const { return static_cast<bool>(fn_); }

private:
    LogFn fn_;
};

/// A std::unique_lock that defers this thread's log lines until the thread holds no network lock.
class Locked {
public:
    explicit Locked(std::mutex& m);
    Locked(std::mutex& m, std::try_to_lock_t);
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    /// False only after a failed try_to_lock.
    bool owns_lock() const { return lock_.owns_lock(); }

private:
    std::unique_lock<std::mutex> lock_;
};

/// One operation at a time without a lock held across it: the running thread holds a Turn; others
/// wait for it to end, then decide again whether their own run is still needed.
class SingleFlight {
public:
    /// While held, no other thread gets a turn.
    class Turn {
    public:
        explicit Turn(SingleFlight& f) : f_(&f) {}
        Turn(Turn&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
        Turn& operator=(Turn&&) = delete;
        ~Turn();

    private:
        SingleFlight* f_;
    };
    /// A turn, or nullopt when `done()` says the operation is no longer needed (checked before and
    /// after each wait) or, while another thread has the turn, `dont_wait()` says not to wait.
    /// The predicates run with this flight's lock held and must not log.
    std::optional<Turn> begin(const std::function<bool()>& done, const std::function<bool()>& dont_wait = {});

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool running_ = false;
};

/// Log lines queued on this thread (for tests).
std::size_t deferred_log_lines();

}  // namespace session::network::detail
