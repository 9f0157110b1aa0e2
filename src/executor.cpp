// executor.cpp: an on-demand thread pool, task groups that cannot deadlock on it, parallel_for.
#include "session/executor.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace session {

namespace {

class ThreadPool final : public Executor {
public:
    explicit ThreadPool(ThreadPoolOptions o) : options_(o) {
        if (options_.max_threads == 0) throw std::invalid_argument("executor: max_threads: expected at least 1, got 0");
    }

    ~ThreadPool() override {
        {
            std::lock_guard lock(m_);
            closing_ = true;
        }
        cv_.notify_all();
        // Threads drain the queue before they exit; the ones that retired early are joined too.
        std::list<std::thread> all;
        {
            std::lock_guard lock(m_);
            all.splice(all.end(), threads_);
            all.splice(all.end(), retired_);
        }
        for (auto& t : all) t.join();
    }

    void post(std::function<void()> task) override {
        std::unique_lock lock(m_);
        queue_.push_back(std::move(task));
        // While the pool shuts down only its own tasks can post (anyone else would be using a
        // destroyed object); the posting thread drains the queue before it exits.
        if (closing_) return;
        // An idle thread counts until it wakes, so it may already be promised to a task posted just
        // before: only as many queued tasks as there are idle threads are covered. Counting idle
        // threads alone left a burst of blocking tasks queued behind one thread.
        if (queue_.size() > idle_ && threads_.size() < options_.max_threads) {
            reap_locked();
            threads_.emplace_back();
            auto self = std::prev(threads_.end());
            *self = std::thread([this, self] { work(self); });
        }
        if (idle_ > 0) {
            lock.unlock();
            cv_.notify_one();
        }
    }

private:
    void work(std::list<std::thread>::iterator self) {
        pthread_setname_np(pthread_self(), "session-pool");  // for diagnostics (ps, top, perf)
        std::unique_lock lock(m_);
        while (true) {
            if (!queue_.empty()) {
                auto task = std::move(queue_.front());
                queue_.pop_front();
                lock.unlock();
                task();
                task = nullptr;  // destroy what the task captured outside the lock
                lock.lock();
                continue;
            }
            if (closing_) return;
            ++idle_;
            const bool woke = cv_.wait_for(lock, options_.idle_timeout, [&] { return !queue_.empty() || closing_; });
            --idle_;
            if (!woke) {
                // Retire: move our handle to the list the next post() or the destructor joins.
                retired_.splice(retired_.end(), threads_, self);
                return;
            }
        }
    }

    // Joins threads that retired (they have returned from work(), so join() does not block long).
    void reap_locked() {
        for (auto& t : retired_) t.join();
        retired_.clear();
    }

    ThreadPoolOptions options_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::list<std::thread> threads_;
    std::list<std::thread> retired_;
    std::size_t idle_ = 0;
    bool closing_ = false;
};

}  // namespace

std::shared_ptr<Executor> make_thread_pool(ThreadPoolOptions options) {
    return std::make_shared<ThreadPool>(options);
}

// ---- TaskGroup -------------------------------------------------------------------------------

struct TaskGroup::State {
    struct Slot {
        std::function<void()> task;
        bool claimed = false;  // started by a pool thread or by wait()
    };
    std::mutex m;
    std::condition_variable done_cv;
    std::deque<std::shared_ptr<Slot>> pending;  // not yet claimed (front = oldest)
    std::size_t unfinished = 0;

    // Runs `slot` unless someone else claimed it first.
    void run(const std::shared_ptr<Slot>& slot) {
        {
            std::lock_guard lock(m);
            if (slot->claimed) return;
            slot->claimed = true;
            std::erase(pending, slot);
        }
        slot->task();
        slot->task = nullptr;
        std::lock_guard lock(m);
        if (--unfinished == 0) done_cv.notify_all();
    }
};

TaskGroup::TaskGroup(Executor& executor) : executor_(executor), state_(std::make_shared<State>()) {}

TaskGroup::~TaskGroup() { wait(); }

void TaskGroup::run(std::function<void()> task) {
    auto slot = std::make_shared<State::Slot>();
    slot->task = std::move(task);
    {
        std::lock_guard lock(state_->m);
        state_->pending.push_back(slot);
        ++state_->unfinished;
    }
    executor_.post([state = state_, slot] { state->run(slot); });
}

void TaskGroup::wait() {
    while (true) {
        std::shared_ptr<State::Slot> mine;
        {
            std::unique_lock lock(state_->m);
            if (state_->unfinished == 0) return;
            if (state_->pending.empty()) {
                state_->done_cv.wait(lock, [&] { return state_->unfinished == 0 || !state_->pending.empty(); });
                continue;
            }
            mine = state_->pending.front();
        }
        state_->run(mine);  // not started by the pool yet: run it here
    }
}

// ---- parallel_for ----------------------------------------------------------------------------

void parallel_for(Executor& executor, std::size_t n, const std::function<void(std::size_t)>& fn,
                  std::size_t max_parallel) {
    if (n == 0) return;
    const std::size_t workers = std::min(n, max_parallel == 0 ? n : max_parallel);
    std::atomic<std::size_t> next{0};
    auto loop = [&] {
        for (std::size_t i = next++; i < n; i = next++) fn(i);
    };
    TaskGroup group(executor);
    for (std::size_t w = 1; w < workers; ++w) group.run(loop);
    loop();  // the calling thread works too
    group.wait();
}

}  // namespace session
