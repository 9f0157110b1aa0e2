#pragma once
// clock.hpp: network time (protocol.md §5.6). Storage servers check every signed timestamp against
// their own clock (±60 s for retrieve, storage-server.md §4.7), so requests carry network time:
//   network_now = local_now + offset
// The offset is learned two ways:
//   * passively, from the `t` (server ms) of every reply: sample = t − (sent + received) / 2
//     (the local midpoint corrects for half the round trip); the offset is the median of the latest
//     sample of each of the last kClockSamples nodes that answered (desktop keeps a rolling window
//     of 10 replies; here a node answering many pages still counts once, so no single node can
//     outvote the others);
//   * on a 406/425, a resync: `info` on kClockSyncNodes nodes, whose samples replace the window
//     ([ls-new]: the median of 3).
// epoch() counts the moves of network time that matter to data sealed with it: every resync (one
// epoch, even when the `t` of its own replies moved the offset first), and every learned sample that takes the offset more than kEpochShiftMs away from an offset published
// in the current epoch (so within one epoch the offsets span at most kEpochShiftMs, however many
// small moves add up). A caller that sealed network time into data seals it again when the epoch
// moved. The offset and the epoch are published together (one atomic word), so:
//   * a request reads the time first, then the epoch: if it saw the new offset, it sees the new
//     epoch, and notices that data sealed before the move is stale;
//   * data records the epoch first, then reads the time it seals: if it sealed the old offset, it
//     recorded the old epoch.
// A sample further than kMaxClockOffsetMs (24 h) from the local clock, or whose arithmetic would
// overflow (a wild `t`), is ignored and logged: no node can move network time by more than a day.
// Because the offset is always the current median, an outlier that later samples vote out no longer
// affects now_ms().
//
// Thread-safe; its locks are its own and are never held across I/O: a resync in progress is a
// single flight that concurrent resyncs join (so concurrent 406s cost one resync), each with a
// callback: no thread waits for it.
#include <atomic>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "network/log.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

namespace session::network::detail {

/// Nodes whose latest passive sample is in the median (desktop: 10 replies).
inline constexpr std::size_t kClockSamples = 10;
/// Nodes asked for `info` in a resync ([ls-new]: 3, median).
inline constexpr std::size_t kClockSyncNodes = 3;
/// The largest offset accepted from any sample: 24 hours either way.
inline constexpr std::int64_t kMaxClockOffsetMs = 24LL * 3600 * 1000;
/// A learned sample that takes the offset further than this (ms) from an offset published in the
/// current epoch starts a new epoch. Half the storage server's 10 s tolerance for timestamps in the
/// future: data sealed in an epoch is never more than this off network time while the epoch lasts,
/// while the ordinary jitter of replies' `t` (round trips, node clocks a little apart) stays below
/// it and does not make callers seal again.
inline constexpr std::int64_t kEpochShiftMs = 5'000;
static_assert(kMaxClockOffsetMs < (1LL << 31), "an offset fits the low 32 bits of the clock's state word");

/// The median of `v` (the lower middle for an even count); v must not be empty.
std::int64_t median(std::vector<std::int64_t> v);

class NetworkClock {
public:
    /// One node's sample (offset, ms).
    struct NodeSample {
        Ed25519PublicKey node;
        std::int64_t offset_ms = 0;
    };

    NetworkClock(std::shared_ptr<Clock> local, const Logger& log);

    /// The local clock (ms since the epoch).
    std::int64_t local_ms() const { return local_->now_ms(); }
    /// Network time: local + offset.
    std::int64_t now_ms() const { return local_ms() + offset_of(state_.load()); }
    /// The learned offset (network − local), ms; within ±kMaxClockOffsetMs.
    std::int64_t offset_ms() const { return offset_of(state_.load()); }
    /// Moved by every resync (once: not again when the `t` of its own `info` replies already moved
    /// it and its median stays within that epoch's span), and by every learned sample that moves the
    /// offset more than kEpochShiftMs (see above); never later than the offset it goes with (both
    /// are one word).
    /// To check data sealed earlier, read the time first and the epoch after it; to record the
    /// epoch of data about to be sealed, read the epoch first and the time after it.
    std::uint64_t epoch() const { return epoch_of(state_.load()); }

    /// The offset one reply implies: its `t` against the local midpoint of the request; nullopt when
    /// the arithmetic overflows or the offset exceeds ±kMaxClockOffsetMs.
    static std::optional<std::int64_t> sample(std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// A reply's `t` from `node`: that node's sample in the window (replacing its earlier one).
    /// Returns false (and logs) when the sample is ignored.
    bool learn(const Ed25519PublicKey& node, std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// Samples from fresh `info` replies (each within bounds), or the error of the last node that failed.
    using Samples = Result<std::vector<NodeSample>>;
    /// Gathers samples and hands them to its argument (on any thread, or before it returns).
    using GatherAsync = std::function<void(std::function<void(Samples)>)>;
    using ResyncDone = std::function<void(Result<void>)>;
    /// A resync after a clock error seen at local time `failed_at_ms`, without a waiting thread:
    ///   * a resync finished after the error: the offset is already fresh, `done` is called at once;
    ///   * a resync is running: `done` waits for it (no thread does). When it succeeds, `done` gets
    ///     success; when it fails, the resyncs that waited run `gather` once more, together (the
    ///     first waiter's), and share that result;
    ///   * otherwise `gather` runs now; its samples replace the window and their median becomes the
    ///     offset.
    /// `done` runs on the thread that ends the gather (or this one). Errors: those of `gather`.
    void resync_async(std::int64_t failed_at_ms, GatherAsync gather, ResyncDone done);

    /// Whether network time was learned: a node's sample is in the window, or a resync happened.
    bool known() const {
        if (syncs_.load() > 0) return true;
        std::lock_guard lock(m_);
        return !window_.empty();
    }
    /// Local time the last resync finished (LLONG_MIN / 2 before the first).
    std::int64_t last_sync_ms() const { return last_sync_ms_.load(); }
    std::uint64_t syncs() const { return syncs_.load(); }

private:
    // The state word: the epoch in the high 32 bits, the offset (two's complement) in the low 32.
    // The epoch wraps after 2^32 moves; callers only compare it for equality.
    static std::int64_t offset_of(std::uint64_t state) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(state & 0xffff'ffffu));
    }
    static std::uint64_t epoch_of(std::uint64_t state) { return state >> 32; }

    /// Replaces the window and publishes its median, with the epoch incremented when `new_epoch`
    /// or when the median leaves the span allowed in the current epoch (kEpochShiftMs).
    void set_window_locked(std::deque<NodeSample> window, bool new_epoch);

    /// A resync waiting for the running one (or running): its clock error's time, its gather, its callback.
    struct Waiter {
        std::int64_t failed_at_ms;
        GatherAsync gather;
        ResyncDone done;
    };
    /// Runs `group.front().gather` for `group` (this thread has the turn).
    void run_resync(std::vector<Waiter> group);
    /// A gather's samples applied: the window, the offset, the epoch. `before`: the epoch when it began.
    Result<void> apply_resync(Samples samples, std::uint64_t before);

    std::shared_ptr<Clock> local_;
    const Logger& log_;
    mutable std::mutex m_;           // window_, the span and state_ writes
    std::deque<NodeSample> window_;  // oldest first, one entry per node
    // The lowest and highest offsets published in the current epoch.
    std::int64_t span_lo_ = 0, span_hi_ = 0;
    // Offset and epoch in one word (offset_of, epoch_of): a reader never sees one without the other.
    std::atomic<std::uint64_t> state_{0};
    std::mutex resync_m_;              // resyncing_, waiting_
    bool resyncing_ = false;           // a gather is running
    std::vector<Waiter> waiting_;      // joined while it runs
    std::atomic<std::int64_t> last_sync_ms_{LLONG_MIN / 2};
    std::atomic<std::uint64_t> syncs_{0};
};

}  // namespace session::network::detail
