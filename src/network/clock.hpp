#pragma once
// clock.hpp: network time (protocol.md §5.6). Storage servers check every signed timestamp against
// their own clock (±60 s for retrieve, storage-server.md §4.7), so requests carry network time:
//   network_now = local_now + offset
// The offset is learned two ways:
//   * passively, from the `t` (server ms) of every reply: sample = t − (sent + received) / 2
//     (the local midpoint corrects for half the round trip); the offset is the median of the last
//     kClockSamples samples (desktop keeps a rolling window of 10);
//   * on a 406/425, a resync: `info` on kClockSyncNodes nodes, the median of their samples, which
//     replaces the window ([ls-new]).
// Thread-safe; its locks are its own and are never held across I/O: a resync in progress is a flag
// that concurrent resyncs wait on (so concurrent 406s cost one resync).
#include <atomic>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "network/log.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

namespace session::network::detail {

/// Passive samples in the median (desktop: 10).
inline constexpr std::size_t kClockSamples = 10;
/// Nodes asked for `info` in a resync ([ls-new]: 3, median).
inline constexpr std::size_t kClockSyncNodes = 3;

/// The median of `v` (the lower middle for an even count); v must not be empty.
std::int64_t median(std::vector<std::int64_t> v);

class NetworkClock {
public:
    NetworkClock(std::shared_ptr<Clock> local, const Logger& log);

    /// The local clock (ms since the epoch).
    std::int64_t local_ms() const { return local_->now_ms(); }
    /// Network time: local + offset.
    std::int64_t now_ms() const { return local_ms() + offset_.load(); }
    /// The learned offset (network − local), ms.
    std::int64_t offset_ms() const { return offset_.load(); }

    /// The offset one reply implies: its `t` against the local midpoint of the request.
    static std::int64_t sample(std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// A reply's `t`: one more passive sample.
    void learn(std::int64_t t, std::int64_t sent_local_ms, std::int64_t received_local_ms);

    /// Samples from fresh `info` replies, or the error of the last node that failed.
    using Gather = std::function<Result<std::vector<std::int64_t>>()>;
    /// A resync after a clock error seen at local time `failed_at_ms`: unless a resync finished
    /// after it (then the offset is already fresh), `gather` runs (one resync at a time) and the
    /// median of its samples becomes the offset. Errors: those of `gather`.
    [[nodiscard]] Result<void> resync_after(std::int64_t failed_at_ms, const Gather& gather);

    /// Local time the last resync finished (LLONG_MIN / 2 before the first).
    std::int64_t last_sync_ms() const { return last_sync_ms_.load(); }
    std::uint64_t syncs() const { return syncs_.load(); }

private:
    std::shared_ptr<Clock> local_;
    const Logger& log_;
    mutable std::mutex m_;           // samples_ and offset_ writes
    std::deque<std::int64_t> samples_;
    std::atomic<std::int64_t> offset_{0};
    SingleFlight resync_;
    std::atomic<std::int64_t> last_sync_ms_{LLONG_MIN / 2};
    std::atomic<std::uint64_t> syncs_{0};
};

}  // namespace session::network::detail
