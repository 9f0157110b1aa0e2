#pragma once
// log.hpp: how the network's units log, and the one lock type they use.
//
// The user's LogFn may call back into the Network (stats(), snode_pool(), paths(), even another
// request), so it never runs while this thread holds one of the network's locks: every unit locks
// with `Locked`, and a line logged while this thread holds any `Locked` is queued and emitted when
// the thread's outermost `Locked` is released. A line logged with no lock held is emitted at once.
#include <cstddef>
#include <mutex>
#include <string>

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

/// Log lines queued on this thread (for tests).
std::size_t deferred_log_lines();

}  // namespace session::network::detail
