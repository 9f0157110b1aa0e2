#pragma once
// gated_executor.hpp: an Executor a test can hold closed. Tasks posted while it is closed wait until
// open(); otherwise they go straight to the inner executor. Lets a test queue many sends before the
// send queue's flush runs, so what is "queued together" does not depend on thread timing.
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "session/executor.hpp"

namespace session::test {

class GatedExecutor final : public Executor {
public:
    explicit GatedExecutor(std::shared_ptr<Executor> inner) : inner_(std::move(inner)) {}
    void post(std::function<void()> task) override {
        {
            std::lock_guard lock(m_);
            if (closed_) {
                held_.push_back(std::move(task));
                return;
            }
        }
        inner_->post(std::move(task));
    }
    /// Holds every task posted from now on.
    void close() {
        std::lock_guard lock(m_);
        closed_ = true;
    }
    /// Passes the held tasks on (in posting order) and every later one.
    void open() {
        std::vector<std::function<void()>> held;
        {
            std::lock_guard lock(m_);
            closed_ = false;
            held.swap(held_);
        }
        for (auto& t : held) inner_->post(std::move(t));
    }

private:
    std::shared_ptr<Executor> inner_;
    std::mutex m_;
    bool closed_ = false;
    std::vector<std::function<void()>> held_;
};

}  // namespace session::test
