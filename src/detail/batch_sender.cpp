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
/// A stored message's SendResult (no sync copy yet).
SendResult stored_result(const Sealed& sealed, network::StoreResult&& stored) {
    SendResult r;
    r.hash = std::move(stored.hash);
    r.timestamp_ms = sealed.timestamp_ms;
    r.expiry_ms = stored.expiry_ms;
    r.nodes = std::move(stored.nodes);
    return r;
}
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

/// One message in the queue (see enqueue()).
struct BatchSender::Queued {
    Queued(Outgoing m, SendSpec s, SendDone d) : msg(std::move(m)), spec(std::move(s)), done(std::move(d)) {}
    Outgoing msg;
    SendSpec spec;
    SendDone done;
    std::int64_t stamp = 0;
    std::uint64_t stamp_epoch = 0;  // the clock epoch read just before `stamp` was taken
    // Once stored with a sync copy to make: the message as sealed and its result, waiting for the
    // copy (the entry is queued again as that copy).
    std::optional<Sealed> sealed;
    std::optional<SendResult> result;
    bool is_copy() const { return result.has_value(); }
};

BatchSender::BatchSender(Sender& sender, SessionId self, std::shared_ptr<network::Network> net, network::LogFn log,
                         std::size_t max_in_flight)
        : sender_(sender), self_(std::move(self)), net_(std::move(net)), log_(std::move(log)), max_in_flight_(max_in_flight) {
    if (max_in_flight_ == 0) throw std::invalid_argument("BatchSender: max_in_flight must be at least 1");
}

BatchSender::~BatchSender() {
    // Queued messages are not dropped: every one is sent (or fails) and its done returns first.
    std::unique_lock lock(m_);
    idle_.wait(lock, [&] { return running_ == 0 && open_ == 0 && queue_batches_ == 0; });
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

// ---- the steps send() and the queue share ------------------------------------------------------

BatchSender::Placement BatchSender::place(std::size_t n, const std::function<const SessionId&(std::size_t)>& target) {
    Placement p;
    std::optional<network::Swarm> first_swarm;
    for (std::size_t i = 0; i < n; ++i) {
        const SessionId& to = target(i);
        auto sw = net_->get_swarm(to);
        if (!sw) {
            p.failed.emplace_back(i, std::move(sw).error());
            continue;
        }
        if (!first_swarm) first_swarm = *sw;
        p.keys.push_back(network::swarm_group_key(to, *sw));
        p.placed.push_back(i);
    }
    if (first_swarm) sender_.ensure_network_time(*first_swarm);
    return p;
}

bool BatchSender::wants_sync_copy(const SessionId& to, const Sealed& sealed, const SendSpec& spec) const {
    return spec.sync_copy && !(to == self_) && sealed.content.data_message.has_value();
}

Result<Sealed> BatchSender::seal_sync_copy(const Sealed& orig, const SendSpec& spec) const {
    const auto with_target = [&](std::int64_t) {
        proto::Content copy = orig.content;
        copy.data_message->sync_target = orig.to.hex();
        return copy;
    };
    return sender_.seal(self_, with_target, spec, orig.timestamp_ms);
}

void BatchSender::seal_and_store(std::size_t n, const SealOne& seal, SealOne reseal, const StampEpoch& stamp_epoch,
                                 const std::function<std::int64_t(std::size_t)>& ttl_ms, Executor* steps,
                                 PieceDone piece_done, std::function<void()> finished) {
    std::vector<network::StoreItem> items;
    std::vector<std::size_t> which;
    auto sealed = std::make_shared<std::vector<Sealed>>();
    for (std::size_t k = 0; k < n; ++k) {
        auto s = seal(k);
        if (!s) {
            piece_done(k, std::nullopt, unexpected(std::move(s).error()));
            continue;
        }
        network::StoreItem item{s->to, retrieve::kDefaultNamespace, s->data, ttl_ms(k)};
        if (reseal) {
            // A move of network time since the stamp was taken (before this seal, even) counts.
            if (stamp_epoch) item.data_epoch = stamp_epoch(k);
            // Runs on the batch's steps, one at a time, before piece_done reads `sealed`.
            item.rebuild = [reseal, sealed, k, j = sealed->size()](std::int64_t) -> Result<std::string> {
                auto again = reseal(k);
                if (!again) return unexpected(std::move(again).error());
                (*sealed)[j] = std::move(*again);
                return (*sealed)[j].data;
            };
        }
        items.push_back(std::move(item));
        which.push_back(k);
        sealed->push_back(std::move(*s));
    }
    if (items.empty()) return finished();
    net_->store_batch_async(
        std::move(items),
        [sealed, which = std::move(which), piece_done = std::move(piece_done),
         finished = std::move(finished)](std::vector<Result<network::StoreResult>> stored) {
            for (std::size_t j = 0; j < which.size(); ++j)
                piece_done(which[j], std::move((*sealed)[j]), std::move(stored[j]));
            finished();
        },
        steps);
}

std::vector<Result<SendResult>> BatchSender::send(std::span<const Outgoing> messages, const SendSpec& spec) {
    const std::size_t n = messages.size();
    std::vector<std::optional<Result<SendResult>>> out(n);
    std::vector<std::optional<Sealed>> sealed(n);  // kept for the sync copies

    // 1. Each recipient's swarm: the grouping key (computed locally when the pool has swarm ids).
    auto where = place(n, [&](std::size_t i) -> const SessionId& { return messages[i].to; });
    for (auto& [i, e] : where.failed) out[i] = unexpected(std::move(e));
    auto chunks = chunk_by_key(where.keys, network::kMaxBatchStores);
    for (auto& c : chunks)
        for (auto& k : c) k = where.placed[k];

    // Runs jobs (each calls `finished` once, from any thread) on a loop drained by this thread
    // and the network's executor, max_in_flight_ at a time; returns when all have finished.
    network::Network& net = *net_;
    session::detail::WaitLoop* current = nullptr;
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
            while (next < std::min(list.size(), max_in_flight_)) start(next++);
        }
        loop.run();
        current = nullptr;
    };

    // 2. Timestamps in the order of `messages` (strictly increasing), then per chunk: seal and
    // store in one batch. Chunks run at once, so two messages to one recipient in different chunks
    // may be stored in either order; their sent times keep the caller's order.
    std::vector<std::int64_t> stamps(n);
    // The epoch before the stamps (which read network time): a move of network time after it, even
    // one before the sealing, makes the store seal again (StoreItem::data_epoch).
    const std::uint64_t stamp_epoch = net_->clock_epoch();
    for (std::size_t i = 0; i < n; ++i)
        if (!out[i]) stamps[i] = sender_.next_timestamp();
    // Every chunk at once: each is a task (seal, then store_batch_async) on a loop this thread runs
    // with the network's executor, so no thread waits per chunk in flight: requests are transport
    // events, and the steps between them run on whichever thread (executor or this one) is free.
    std::vector<std::function<void(std::function<void()>)>> jobs;
    for (const auto& chunk : chunks) {
        jobs.push_back([&, chunk](std::function<void()> finished) {
            seal_and_store(
                chunk.size(),
                [&](std::size_t k) {
                    const std::size_t i = chunk[k];
                    return sender_.seal(messages[i].to, messages[i].build, spec, stamps[i]);
                },
                [&, chunk](std::size_t k) {  // after a resync: a new stamp, from the corrected time
                    const std::size_t i = chunk[k];
                    return sender_.seal(messages[i].to, messages[i].build, spec, sender_.next_timestamp());
                },
                [&](std::size_t) { return std::optional(stamp_epoch); }, [&](std::size_t) { return spec.ttl.count(); },
                current,
                [&, chunk](std::size_t k, std::optional<Sealed> s, Result<network::StoreResult> stored) {
                    const std::size_t i = chunk[k];
                    if (!stored) {
                        out[i] = unexpected(std::move(stored).error());
                        return;
                    }
                    out[i] = stored_result(*s, std::move(*stored));
                    sealed[i] = std::move(s);
                },
                std::move(finished));
        });
    }
    run_all(jobs);

    // 3. Sync copies of the stored messages: same Content and timestamp plus syncTarget, sealed for
    // ourselves, in chunks of 20 to our own swarm.
    if (spec.sync_copy) {
        std::vector<std::size_t> copies;
        for (std::size_t i = 0; i < n; ++i)
            if (out[i] && *out[i] && sealed[i] && wants_sync_copy(messages[i].to, *sealed[i], spec))
                copies.push_back(i);
        const std::vector<std::string> same(copies.size(), "self");
        auto sync_chunks = chunk_by_key(same, network::kMaxBatchStores);
        jobs.clear();
        for (const auto& chunk : sync_chunks) {
            jobs.push_back([&, chunk](std::function<void()> finished) {
                // A copy keeps its message's timestamp: nothing to seal again after a resync.
                seal_and_store(
                    chunk.size(), [&](std::size_t k) { return seal_sync_copy(*sealed[copies[chunk[k]]], spec); },
                    nullptr, nullptr, [&](std::size_t) { return spec.ttl.count(); }, current,
                    [&, chunk](std::size_t k, std::optional<Sealed>, Result<network::StoreResult> stored) {
                        auto& r = **out[copies[chunk[k]]];
                        if (stored) r.sync_hash = stored->hash;
                        else r.sync_error = std::move(stored).error();
                    },
                    std::move(finished));
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

// ---- the send queue ----------------------------------------------------------------------------
//
// Lifetime: open_ counts enqueued messages until their done has returned, queue_batches_ the
// batch slots taken (a parked chunk keeps the slot it will get), running_ the posted tasks. Each is
// decremented (and the destructor notified) under m_ as the last thing its holder does with this.

void BatchSender::enqueue(Outgoing msg, SendSpec spec, SendDone done) {
    auto q = std::make_shared<Queued>(std::move(msg), std::move(spec), std::move(done));
    {
        std::lock_guard lock(m_);
        ++open_;
    }
    requeue({std::move(q)});
}

void BatchSender::requeue(std::vector<QueuedPtr> qs) {
    bool first = false;
    {
        std::lock_guard lock(m_);
        first = pending_.empty();
        for (auto& q : qs) pending_.push_back(std::move(q));
    }
    // One flush per batch of arrivals: what is queued until it runs goes out with it.
    if (first) post([this] { flush(); });
}

void BatchSender::complete(Queued& q, Result<SendResult> r) {
    {
        auto done = std::move(q.done);
        q.done = nullptr;
        if (done) {
            try {
                done(std::move(r));
            } catch (const std::exception& e) {
                say(network::LogLevel::error, std::string("client: a send callback threw (it must not): ") + e.what());
            } catch (...) {
                say(network::LogLevel::error, "client: a send callback threw (it must not)");
            }
        }
    }  // the callback (and what it holds) is gone before the destructor may return
    std::lock_guard lock(m_);
    --open_;
    idle_.notify_all();
}

void BatchSender::flush() {
    std::vector<QueuedPtr> taken;
    Placement where;  // its failures are reported once the order lock is released
    {
        std::lock_guard order(flush_m_);
        {
            std::lock_guard lock(m_);
            taken.swap(pending_);
        }
        // Each one's swarm (a copy goes to ours), as send() places them.
        where = place(taken.size(),
                      [&](std::size_t i) -> const SessionId& { return taken[i]->is_copy() ? self_ : taken[i]->msg.to; });
        // Stamped under flush_m_: a later flush holds later messages and stamps after this one.
        for (auto i : where.placed) {
            if (taken[i]->is_copy()) continue;
            taken[i]->stamp_epoch = net_->clock_epoch();  // before the stamp reads network time
            taken[i]->stamp = sender_.next_timestamp();
        }
    }
    for (auto& [i, e] : where.failed) {
        const QueuedPtr& q = taken[i];
        if (q->is_copy()) {
            q->result->sync_error = std::move(e);
            complete(*q, std::move(*q->result));
        } else {
            complete(*q, unexpected(std::move(e)));
        }
    }
    const auto chunks = chunk_by_key(where.keys, network::kMaxBatchStores);
    if (!taken.empty())
        say(network::LogLevel::debug, "client: send queue: " + std::to_string(taken.size()) + " messages in " +
                                          std::to_string(chunks.size()) + " batches");
    for (const auto& c : chunks) {
        std::vector<QueuedPtr> chunk;
        chunk.reserve(c.size());
        for (auto k : c) chunk.push_back(taken[where.placed[k]]);
        start_or_park(where.keys[c.front()], std::move(chunk));
    }
}

void BatchSender::start_or_park(const std::string& key, std::vector<QueuedPtr> chunk) {
    {
        std::lock_guard lock(m_);
        if (queue_batches_ >= max_in_flight_) {
            // Every slot is taken: the chunk waits, filling up the last waiting chunk of its swarm
            // first, so under load later arrivals still go out in full batches.
            std::size_t at = parked_.size();
            while (at > 0 && parked_[at - 1].key != key) --at;
            for (auto& q : chunk) {
                if (at == 0 || parked_[at - 1].chunk.size() >= network::kMaxBatchStores) {
                    parked_.push_back(Parked{key, {}});
                    at = parked_.size();
                }
                parked_[at - 1].chunk.push_back(std::move(q));
            }
            return;
        }
        ++queue_batches_;
    }
    post([this, chunk = std::move(chunk)]() mutable { run_chunk(std::move(chunk)); });
}

void BatchSender::release_slot() {
    std::vector<QueuedPtr> next;
    {
        std::lock_guard lock(m_);
        if (parked_.empty()) {
            --queue_batches_;  // the last use of this by the finished batch
            idle_.notify_all();
            return;
        }
        next = std::move(parked_.front().chunk);  // the slot passes to it
        parked_.pop_front();
    }
    post([this, next = std::move(next)]() mutable { run_chunk(std::move(next)); });
}

void BatchSender::run_chunk(std::vector<QueuedPtr> chunk) {
    // The chunk's stored messages that want a sync copy: queued together once the batch is back,
    // so they travel together (one flush) rather than one flush each.
    auto copies = std::make_shared<std::vector<QueuedPtr>>();
    seal_and_store(
        chunk.size(),
        [&](std::size_t k) {
            const Queued& q = *chunk[k];
            return q.is_copy() ? seal_sync_copy(*q.sealed, q.spec) : sender_.seal(q.msg.to, q.msg.build, q.spec, q.stamp);
        },
        // After a resync: a message gets a new stamp from the corrected time (a copy keeps its
        // message's, sealed afresh). Called after this returns: the chunk is held by value.
        [this, chunk](std::size_t k) {
            Queued& q = *chunk[k];
            if (q.is_copy()) return seal_sync_copy(*q.sealed, q.spec);
            q.stamp = sender_.next_timestamp();
            return sender_.seal(q.msg.to, q.msg.build, q.spec, q.stamp);
        },
        // Parked chunks wait: the epoch of the stamp, not of this seal, says whether time moved since.
        [chunk](std::size_t k) -> std::optional<std::uint64_t> {
            if (chunk[k]->is_copy()) return std::nullopt;
            return chunk[k]->stamp_epoch;
        },
        [&](std::size_t k) { return chunk[k]->spec.ttl.count(); }, nullptr,
        [this, chunk, copies](std::size_t k, std::optional<Sealed> sealed, Result<network::StoreResult> stored) {
            if (piece_back(*chunk[k], std::move(sealed), std::move(stored))) copies->push_back(chunk[k]);
        },
        [this, copies] {
            if (!copies->empty()) requeue(std::move(*copies));
            release_slot();
        });
}

bool BatchSender::piece_back(Queued& q, std::optional<Sealed> sealed, Result<network::StoreResult> stored) {
    if (q.is_copy()) {
        if (stored) {
            q.result->sync_hash = stored->hash;
        } else {
            q.result->sync_error = std::move(stored).error();
            say(network::LogLevel::warning, "client: sync copy failed: " + q.result->sync_error->message);
        }
        q.sealed.reset();
        complete(q, std::move(*q.result));
        return false;
    }
    if (!stored) {
        complete(q, unexpected(std::move(stored).error()));
        return false;
    }
    SendResult r = stored_result(*sealed, std::move(*stored));
    if (wants_sync_copy(q.msg.to, *sealed, q.spec)) {
        q.result = std::move(r);
        q.sealed = std::move(sealed);
        q.msg.build = nullptr;  // not needed again
        return true;
    }
    complete(q, std::move(r));
    return false;
}

}  // namespace session::detail
