// log.cpp: deferred log lines (see log.hpp).
#include "network/log.hpp"

#include <utility>
#include <vector>

namespace session::network::detail {

namespace {

struct Deferred {
    const LogFn* fn;  // the Logger outlives the lock its line was logged under
    LogLevel level;
    std::string text;
};

// Per thread: how many network locks it holds, and what it logged meanwhile.
thread_local std::size_t held_locks = 0;
thread_local std::vector<Deferred> deferred;

void emit(const LogFn& fn, LogLevel level, const std::string& text) noexcept {
    try {
        fn(level, text);
    } catch (...) {
        // A throwing callback must not unwind through the network's state (or a destructor).
    }
}

void release_one() noexcept {
    if (--held_locks != 0) return;
    // The callback may lock again (and log): take the queue first.
    auto lines = std::move(deferred);
    deferred.clear();
    for (const auto& d : lines) emit(*d.fn, d.level, d.text);
}

}  // namespace

void Logger::operator()(LogLevel level, std::string text) const {
    if (!fn_) return;
    if (held_locks > 0) {
        deferred.push_back(Deferred{&fn_, level, std::move(text)});
        return;
    }
    emit(fn_, level, text);
}

Locked::Locked(std::mutex& m) : lock_(m) { ++held_locks; }

Locked::Locked(std::mutex& m, std::try_to_lock_t) : lock_(m, std::try_to_lock) {
    if (lock_.owns_lock()) ++held_locks;
}

Locked::~Locked() {
    if (!lock_.owns_lock()) return;
    lock_.unlock();
    release_one();
}

SingleFlight::Turn::~Turn() {
    if (!f_) return;
    {
        std::lock_guard lock(f_->m_);
        f_->running_ = false;
    }
    f_->cv_.notify_all();
}

std::optional<SingleFlight::Turn> SingleFlight::begin(const std::function<bool()>& done,
                                                     const std::function<bool()>& dont_wait) {
    std::unique_lock lock(m_);
    while (true) {
        if (done()) return std::nullopt;
        if (!running_) break;
        if (dont_wait && dont_wait()) return std::nullopt;
        cv_.wait(lock);
    }
    running_ = true;
    return Turn(*this);
}

std::size_t deferred_log_lines() { return deferred.size(); }

}  // namespace session::network::detail
