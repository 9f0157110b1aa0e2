#pragma once
// batch_sender.hpp (private): many messages at once, the Client's send_many / broadcast.
//
//   each recipient's swarm (placed locally from the pool's swarm ids: no request)
//   → group by swarm, chunks of network::kMaxBatchStores (20)
//   → every chunk at once, each a task: seal (Sender::seal) each, one Network::store_batch_async
//     (its request in flight is a transport event: no thread waits per chunk)
//   → [sync copies of the stored ones: chunks of 20 to our own swarm, one store_batch each]
//
// A message's result is its own: a seal error, a 421 or an error in its sub-request fails (or
// moves) only that message. Sync copies follow their message's store, as Sender::send does (a copy
// is stored only for a message that was stored; its failure is SendResult::sync_error).
// Thread-safe. Async sends run on the network's executor; the destructor waits for them.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "detail/sender.hpp"

namespace session::detail {

/// One message for BatchSender::send.
struct Outgoing {
    SessionId to;
    ContentBuilder build;
};

/// The indices 0 … keys.size()−1 grouped by equal key (groups in order of first appearance,
/// indices ascending), each group cut into chunks of at most `max` (>= 1).
std::vector<std::vector<std::size_t>> chunk_by_key(std::span<const std::string> keys, std::size_t max);

class BatchSender {
public:
    BatchSender(Sender& sender, SessionId self, std::shared_ptr<network::Network> net, network::LogFn log);
    /// Waits for every async send still running.
    ~BatchSender();
    BatchSender(const BatchSender&) = delete;
    BatchSender& operator=(const BatchSender&) = delete;

    /// Sends every message; one result per message, in order. All chunks are in flight at once;
    /// their steps run on the network's executor and on the calling thread, which waits by running
    /// them (so a send made from an executor thread cannot starve).
    [[nodiscard]] std::vector<Result<SendResult>> send(std::span<const Outgoing> messages, const SendSpec& spec);

    /// Runs `job` on the network's executor; its value (or exception) arrives in the future.
    template <class T>
    [[nodiscard]] std::future<T> run_async(std::function<T()> job) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        post([promise, job = std::move(job)] {
            try {
                promise->set_value(job());
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        return future;
    }

private:
    /// Runs `job` on the network's executor, counted until it returns (see the destructor).
    void post(std::function<void()> job);
    void say(network::LogLevel level, const std::string& line) const;

    Sender& sender_;
    SessionId self_;
    std::shared_ptr<network::Network> net_;
    network::LogFn log_;
    std::mutex m_;
    std::condition_variable idle_;
    std::size_t running_ = 0;
};

}  // namespace session::detail
