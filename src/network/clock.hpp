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
//     ([ls-new]: the median of 3). Each resync increments epoch(): a caller that sealed network time
//     into data before a request seals it again when the epoch moved.
// A sample further than kMaxClockOffsetMs (24 h) from the local clock, or whose arithmetic would
// overflow (a wild `t`), is ignored and logged: no node can move network time by more than a day.
// Because the offset is always the current median, an outlier that later samples vote out no longer
// affects now_ms().
//
// Thread-safe; its locks are its own and are never held across I/O: a resync in progress is a
// SingleFlight that concurrent resyncs wait for (so concurrent 406s cost one resync).
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
    std::int64_t now_ms() const { return local_ms() + offset_.load(); }
    /// The learned offset (network − local), ms; within ±kMaxClockOffsetMs.
    std::int64_t offset_ms() const { return offset_.load(); }
    /// Incremented by every resync that set the offset.
    std::uint64_t epoch() const { return epoch_.load(); }

    /// The offset one reply implies: its `t` against the local midpoint of the request; nullopt when
    /// the arithmetic overflows or the offset exceeds ±kMaxClockOffsetMs.
    static std::optional<std::int64_t> sample(std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// A reply's `t` from `node`: that node's sample in the window (replacing its earlier one).
    /// Returns false (and logs) when the sample is ignored.
    bool learn(const Ed25519PublicKey& node, std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// Samples from fresh `info` replies (each within bounds), or the error of the last node that failed.
    using Gather = std::function<Result<std::vector<NodeSample>>()>;
    /// A resync after a clock error seen at local time `failed_at_ms`: unless a resync finished
    /// after it (then the offset is already fresh), `gather` runs (one resync at a time), its samples
    /// replace the window and their median becomes the offset. Errors: those of `gather`.
    [[nodiscard]] Result<void> resync_after(std::int64_t failed_at_ms, const Gather& gather);

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
    void set_window_locked(std::deque<NodeSample> window);

    std::shared_ptr<Clock> local_;
    const Logger& log_;
    mutable std::mutex m_;           // window_ and offset_ writes
    std::deque<NodeSample> window_;  // oldest first, one entry per node
    std::atomic<std::int64_t> offset_{0};
    std::atomic<std::uint64_t> epoch_{0};
    SingleFlight resync_;
    std::atomic<std::int64_t> last_sync_ms_{LLONG_MIN / 2};
    std::atomic<std::uint64_t> syncs_{0};
};

}  // namespace session::network::detail
