#pragma once
// batch_sender.hpp (private): many messages at once, the Client's send_many / broadcast, and the
// send queue behind send_async / send_many_async.
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
//
// The send queue (enqueue(), the Client's send_async) runs the same steps without any waiting
// thread: messages enqueued while a flush is on its way go out together.
//
//   enqueue → pending list ─(first into an empty list posts one flush task to the executor)→
//   flush: place each, stamp (in enqueue order), group by swarm, chunks of 20
//   → each chunk: seal, store_batch_async (≤ max_in_flight at once; the rest wait, filling
//     up with later arrivals for their swarm, and start as batches complete) → results; a stored
//     message wanting a sync copy goes back into the pending list as its copy (a batch's copies
//     together; they coalesce into batches to our own swarm like any message)
//   → its `done`, once.
//
// Thread-safe. Async work runs on the network's executor; the destructor waits for all of it
// (every enqueued message's `done` has returned before it does).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detail/sender.hpp"
#include "session/executor.hpp"

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
    /// `max_in_flight` (>= 1): batches one send() keeps in flight, and the queue's batches at once.
    /// Throws std::invalid_argument for 0.
    BatchSender(Sender& sender, SessionId self, std::shared_ptr<network::Network> net, network::LogFn log,
                std::size_t max_in_flight);
    /// Waits for every async send still running and every queued message: each one's `done` has
    /// returned before the destructor does (none is dropped).
    ~BatchSender();
    BatchSender(const BatchSender&) = delete;
    BatchSender& operator=(const BatchSender&) = delete;

    /// Sends every message; one result per message, in order. All chunks are in flight at once;
    /// their steps run on the network's executor and on the calling thread, which waits by running
    /// them (so a send made from an executor thread cannot starve).
    [[nodiscard]] std::vector<Result<SendResult>> send(std::span<const Outgoing> messages, const SendSpec& spec);

    /// Receives one queued message's result. Called once, on a thread of the network's executor;
    /// it must not block (it holds up that thread's other sends) or throw, and must not destroy
    /// this BatchSender. It may enqueue again.
    using SendDone = std::function<void(Result<SendResult>)>;
    /// Queues one message: it goes out with the others queued before the next flush (grouped by
    /// swarm into batches of up to 20, whatever their specs), its sync copy (spec.sync_copy) with
    /// other copies, and then `done` gets its result (sync_hash / sync_error as send() fills them).
    /// Never waits. Timestamps strictly increase in enqueue order. An empty `done` is allowed.
    void enqueue(Outgoing msg, SendSpec spec, SendDone done);

private:
    struct Queued;
    using QueuedPtr = std::shared_ptr<Queued>;

    /// Runs `job` on the network's executor, counted until it returns (see the destructor).
    void post(std::function<void()> job);
    void say(network::LogLevel level, const std::string& line) const;

    // ---- the steps send() and the queue share ----
    /// Seals piece k of a chunk.
    using SealOne = std::function<Result<Sealed>(std::size_t k)>;
    /// Piece k's outcome: its sealed message and the store's result, or (sealed empty) the seal's error.
    using PieceDone = std::function<void(std::size_t k, std::optional<Sealed> sealed, Result<network::StoreResult>)>;
    /// The clock epoch piece k's timestamp was taken in (nullopt: not known).
    using StampEpoch = std::function<std::optional<std::uint64_t>(std::size_t k)>;
    /// One batch: seals pieces 0 … n−1, stores the sealed ones (piece k for ttl_ms(k)) with one
    /// store_batch_async whose steps run on `steps` (nullptr: the executor), hands every piece's
    /// outcome to `piece_done` (a seal failure at once, on this thread), then calls `finished` once.
    /// `reseal` (may be empty): seals piece k again after network time moved (a 406 resync, or a
    /// large move learned from replies: the store's StoreItem::rebuild; the piece's outcome then
    /// carries the new Sealed). It must stay callable until `finished`. `stamp_epoch(k)` (with
    /// `reseal`): the clock epoch read before piece k's timestamp was taken (StoreItem::data_epoch).
    void seal_and_store(std::size_t n, const SealOne& seal, SealOne reseal, const StampEpoch& stamp_epoch,
                        const std::function<std::int64_t(std::size_t)>& ttl_ms, Executor* steps, PieceDone piece_done,
                        std::function<void()> finished);
    /// Whether a message sent to `to` as `sealed` gets a sync copy.
    [[nodiscard]] bool wants_sync_copy(const SessionId& to, const Sealed& sealed, const SendSpec& spec) const;
    /// The sync copy of a stored message: same Content and timestamp plus syncTarget, sealed for us.
    [[nodiscard]] Result<Sealed> seal_sync_copy(const Sealed& orig, const SendSpec& spec) const;
    /// Where n targets go (target(i): the account of the i-th): each one's swarm, placed locally
    /// when the pool has swarm ids.
    struct Placement {
        std::vector<std::string> keys;                       // network::swarm_group_key of each placed target
        std::vector<std::size_t> placed;                     // the target index of keys[k]
        std::vector<std::pair<std::size_t, Error>> failed;  // target index, get_swarm's error
    };
    /// Places every target, then makes sure the network time is known before anything is stamped
    /// (Sender::ensure_network_time with the first swarm found: placed locally, none brought a time).
    [[nodiscard]] Placement place(std::size_t n, const std::function<const SessionId&(std::size_t)>& target);

    // ---- the queue ----
    /// Takes everything pending: places, stamps, chunks and starts (or parks) each chunk.
    void flush();
    /// Puts messages (or sync copies) in the pending list; posts a flush if it was empty.
    void requeue(std::vector<QueuedPtr> qs);
    /// Seals and stores one chunk; holds one batch slot until its results are in.
    void run_chunk(std::vector<QueuedPtr> chunk);
    /// One piece of a chunk is back: completes it, or (true) it is stored and its sync copy is to be queued.
    [[nodiscard]] bool piece_back(Queued& q, std::optional<Sealed> sealed, Result<network::StoreResult> stored);
    /// Starts `chunk` (one swarm's, named by `key`) now if a batch slot is free, else parks it.
    void start_or_park(const std::string& key, std::vector<QueuedPtr> chunk);
    /// A batch is done: its slot goes to the next parked chunk, or is freed.
    void release_slot();
    /// Calls q's done with `r` (once) and stops counting it.
    void complete(Queued& q, Result<SendResult> r);


    Sender& sender_;
    SessionId self_;
    std::shared_ptr<network::Network> net_;
    network::LogFn log_;
    std::size_t max_in_flight_;
    std::mutex m_;
    std::condition_variable idle_;
    std::size_t running_ = 0;
    // The queue, guarded by m_.
    std::vector<QueuedPtr> pending_;
    struct Parked {
        std::string key;  // its swarm
        std::vector<QueuedPtr> chunk;
    };
    std::deque<Parked> parked_;                  // chunks waiting for a batch slot, in order
    std::size_t queue_batches_ = 0;              // the queue's batches holding a slot
    std::size_t open_ = 0;                       // enqueued messages whose done has not returned
    // Held while a flush takes the pending list and stamps it: stamps follow enqueue order.
    std::mutex flush_m_;
};

}  // namespace session::detail
