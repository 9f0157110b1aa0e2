#pragma once
// callbacks.hpp: n one-shot callbacks a test hands out (send_async, the send queue) and waits for.
// slot(i) is callback i: it keeps what it was given and counts its calls, so a test can check that
// each was called exactly once.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace session::test {

template <class T>
struct Callbacks {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::optional<T>> got;  // callback i's last argument
    std::vector<int> calls;             // how many times callback i was called
    std::size_t done = 0;               // calls of all of them

    explicit Callbacks(std::size_t n) : got(n), calls(n, 0) {}

    std::function<void(T)> slot(std::size_t i) {
        return [this, i](T r) {
            std::lock_guard lock(m);
            ++calls[i];
            got[i] = std::move(r);
            ++done;
            cv.notify_all();
        };
    }
    /// Returns once there have been as many calls as callbacks.
    void wait_all() {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done >= got.size(); });
    }
};

}  // namespace session::test
