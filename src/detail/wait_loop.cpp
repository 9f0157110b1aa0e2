// detail/wait_loop.cpp: an Executor drained by its waiter (see wait_loop.hpp).
#include "detail/wait_loop.hpp"

#include <utility>

namespace session::detail {

void WaitLoop::post(std::function<void()> task) {
    auto t = std::make_shared<Task>();
    t->fn = std::move(task);
    Executor* inner = inner_;  // read before the lock: once it is released, run() may return
    {
        std::lock_guard lk(m_);
        queue_.push_back(t);
        cv_.notify_all();  // under the lock: run() cannot return and free the loop before it is released
    }
    if (inner) inner->post([t] { t->run_once(); });
}

void WaitLoop::run() {
    std::unique_lock lk(m_);
    for (;;) {
        if (finished_) return;
        if (queue_.empty()) {
            cv_.wait(lk);
            continue;
        }
        auto t = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        t->run_once();
        t.reset();
        lk.lock();
    }
}

void WaitLoop::finish() {
    std::lock_guard lk(m_);
    finished_ = true;
    cv_.notify_all();
}

}  // namespace session::detail
