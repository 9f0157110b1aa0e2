// batch_sender.cpp: many messages at once (see batch_sender.hpp).
#include "detail/batch_sender.hpp"

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "detail/wait_loop.hpp"
#include "session/executor.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

namespace {
/// Batches one send keeps in flight at once: enough to fill the paths, few enough that a swarm
/// member (or a guard) is not sent hundreds of connections at once.
constexpr std::size_t kMaxBatchesInFlight = 24;
}  // namespace

std::vector<std::vector<std::size_t>> chunk_by_key(std::span<const std::string> keys, std::size_t max) {
    if (max == 0) throw std::invalid_argument("chunk_by_key: max must be at least 1");
    std::vector<std::vector<std::size_t>> groups;
    std::unordered_map<std::string, std::size_t> group_of;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto [it, fresh] = group_of.try_emplace(keys[i], groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    std::vector<std::vector<std::size_t>> chunks;
    for (auto& g : groups)
        for (std::size_t at = 0; at < g.size(); at += max)
            chunks.emplace_back(g.begin() + static_cast<std::ptrdiff_t>(at),
                                g.begin() + static_cast<std::ptrdiff_t>(std::min(g.size(), at + max)));
    return chunks;
}

BatchSender::BatchSender(Sender& sender, SessionId self, std::shared_ptr<network::Network> net, network::LogFn log)
        : sender_(sender), self_(std::move(self)), net_(std::move(net)), log_(std::move(log)) {}

BatchSender::~BatchSender() {
    std::unique_lock lock(m_);
    idle_.wait(lock, [&] { return running_ == 0; });
}

void BatchSender::say(network::LogLevel level, const std::string& line) const {
    if (log_) log_(level, line);
}

void BatchSender::post(std::function<void()> job) {
    {
        std::lock_guard lock(m_);
        ++running_;
    }
    net_->executor().post([this, job = std::move(job)] {
        job();
        // Notified under the lock: the destructor cannot return (and free this) before it is released.
        std::lock_guard lock(m_);
        --running_;
        idle_.notify_all();
    });
}

std::vector<Result<SendResult>> BatchSender::send(std::span<const Outgoing> messages, const SendSpec& spec) {
    const std::size_t n = messages.size();
    std::vector<std::optional<Result<SendResult>>> out(n);
    std::vector<std::optional<Sealed>> sealed(n);  // kept for the sync copies

    // 1. Each recipient's swarm: the grouping key (computed locally when the pool has swarm ids).
    std::vector<std::string> keys;
    std::vector<std::size_t> placed;  // message index of keys[k]
    std::optional<network::Swarm> first_swarm;
    for (std::size_t i = 0; i < n; ++i) {
        auto sw = net_->get_swarm(messages[i].to);
        if (!sw) {
            out[i] = unexpected(std::move(sw).error());
            continue;
        }
        if (!first_swarm) first_swarm = *sw;
        keys.push_back(sw->id ? std::to_string(*sw->id)
                              : (sw->nodes.empty() ? messages[i].to.hex() : sw->nodes.front().ed25519_hex()));
        placed.push_back(i);
    }
    auto chunks = chunk_by_key(keys, network::kMaxBatchStores);
    for (auto& c : chunks)
        for (auto& k : c) k = placed[k];

    // Runs jobs (each calls `finished` once, from any thread) on a loop drained by this thread
    // and the network's executor, kMaxBatchesInFlight at a time; returns when all have finished.
    network::Network& net = *net_;
    session::detail::WaitLoop* current = nullptr;
    const auto store_async = [&](std::vector<network::StoreItem> items, network::Network::StoreBatchDone done) {
        net.store_batch_async(std::move(items), std::move(done), current);
    };
    const auto run_all = [&](const std::vector<std::function<void(std::function<void()>)>>& list) {
        if (list.empty()) return;
        session::detail::WaitLoop loop(&net.executor());
        current = &loop;
        std::mutex m;
        std::size_t next = 0, left = list.size();
        std::function<void()> finished;
        // Starts job k; called with m held (so run() cannot return before m is released).
        const auto start = [&](std::size_t k) { loop.post([&list, &finished, k] { list[k](finished); }); };
        finished = [&] {
            bool last = false;
            {
                std::lock_guard lk(m);
                last = --left == 0;
                if (!last && next < list.size()) start(next++);
            }
            if (last) loop.finish();  // the last access: run() may return now
        };
        {
            std::lock_guard lk(m);
            while (next < std::min(list.size(), kMaxBatchesInFlight)) start(next++);
        }
        loop.run();
        current = nullptr;
    };

    // 2. Timestamps in the order of `messages` (strictly increasing), then per chunk: seal and
    // store in one batch. Chunks run at once, so two messages to one recipient in different chunks
    // may be stored in either order; their sent times keep the caller's order.
    std::vector<std::int64_t> stamps(n);
    if (first_swarm) sender_.ensure_network_time(*first_swarm);  // swarms placed locally bring no time
    for (std::size_t i = 0; i < n; ++i)
        if (!out[i]) stamps[i] = sender_.next_timestamp();
    // Every chunk at once: each is a task (seal, then store_batch_async) on a loop this thread runs
    // with the network's executor, so no thread waits per chunk in flight: requests are transport
    // events, and the steps between them run on whichever thread (executor or this one) is free.
    std::vector<std::function<void(std::function<void()>)>> jobs;
    for (const auto& chunk : chunks) {
        jobs.push_back([&, chunk](std::function<void()> finished) {
            std::vector<network::StoreItem> items;
            std::vector<std::size_t> which;
            for (auto i : chunk) {
                auto s = sender_.seal(messages[i].to, messages[i].build, spec, stamps[i]);
                if (!s) {
                    out[i] = unexpected(std::move(s).error());
                    continue;
                }
                items.push_back(network::StoreItem{s->to, retrieve::kDefaultNamespace, s->data, spec.ttl.count()});
                which.push_back(i);
                sealed[i] = std::move(*s);
            }
            if (items.empty()) return finished();
            return store_async(std::move(items), [&, which, finished](std::vector<Result<network::StoreResult>> stored) {
                for (std::size_t k = 0; k < which.size(); ++k) {
                    const std::size_t i = which[k];
                    if (!stored[k]) {
                        out[i] = unexpected(std::move(stored[k]).error());
                        continue;
                    }
                    SendResult r;
                    r.hash = stored[k]->hash;
                    r.timestamp_ms = sealed[i]->timestamp_ms;
                    r.expiry_ms = stored[k]->expiry_ms;
                    r.nodes = std::move(stored[k]->nodes);
                    out[i] = std::move(r);
                }
                finished();
            });
        });
    }
    run_all(jobs);

    // 3. Sync copies of the stored messages: same Content and timestamp plus syncTarget, sealed for
    // ourselves, in chunks of 20 to our own swarm.
    if (spec.sync_copy) {
        std::vector<std::size_t> copies;
        for (std::size_t i = 0; i < n; ++i)
            if (out[i] && *out[i] && sealed[i] && !(messages[i].to == self_) && sealed[i]->content.data_message)
                copies.push_back(i);
        const std::vector<std::string> same(copies.size(), "self");
        auto sync_chunks = chunk_by_key(same, network::kMaxBatchStores);
        jobs.clear();
        for (const auto& chunk : sync_chunks) {
            jobs.push_back([&, chunk](std::function<void()> finished) {
                std::vector<network::StoreItem> items;
                std::vector<std::size_t> which;
                for (auto k : chunk) {
                    const std::size_t i = copies[k];
                    const Sealed& orig = *sealed[i];
                    const auto with_target = [&](std::int64_t) {
                        proto::Content copy = orig.content;
                        copy.data_message->sync_target = orig.to.hex();
                        return copy;
                    };
                    auto s = sender_.seal(self_, with_target, spec, orig.timestamp_ms);
                    if (!s) {
                        (*out[i])->sync_error = std::move(s).error();
                        continue;
                    }
                    items.push_back(network::StoreItem{self_, retrieve::kDefaultNamespace, std::move(s->data), spec.ttl.count()});
                    which.push_back(i);
                }
                if (items.empty()) return finished();
                return store_async(std::move(items), [&, which, finished](std::vector<Result<network::StoreResult>> stored) {
                    for (std::size_t k = 0; k < which.size(); ++k) {
                        auto& r = **out[which[k]];
                        if (stored[k]) r.sync_hash = stored[k]->hash;
                        else r.sync_error = std::move(stored[k]).error();
                    }
                    finished();
                });
            });
        }
        run_all(jobs);
    }

    std::vector<Result<SendResult>> results;
    results.reserve(n);
    std::size_t ok = 0, synced_failed = 0;
    for (auto& o : out) {
        if (*o) {
            ++ok;
            if ((*o)->sync_error) ++synced_failed;
        }
        results.push_back(std::move(*o));
    }
    say(network::LogLevel::debug, "client: sent " + std::to_string(ok) + " of " + std::to_string(n) + " messages in " +
                                      std::to_string(chunks.size()) + " batches");
    if (synced_failed > 0)
        say(network::LogLevel::warning, "client: " + std::to_string(synced_failed) + " sync copies failed");
    return results;
}

}  // namespace session::detail
