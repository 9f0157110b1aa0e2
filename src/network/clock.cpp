// clock.cpp: network time (see clock.hpp).
#include "network/clock.hpp"

#include <algorithm>
#include <string>

namespace session::network::detail {

std::int64_t median(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

NetworkClock::NetworkClock(std::shared_ptr<Clock> local, const Logger& log) : local_(std::move(local)), log_(log) {}

std::optional<std::int64_t> NetworkClock::sample(std::int64_t t, std::int64_t sent, std::int64_t received) {
    std::int64_t rtt = 0, midpoint = 0, offset = 0;
    if (__builtin_sub_overflow(received, sent, &rtt) || __builtin_add_overflow(sent, rtt / 2, &midpoint) ||
        __builtin_sub_overflow(t, midpoint, &offset))
        return std::nullopt;
    if (offset > kMaxClockOffsetMs || offset < -kMaxClockOffsetMs) return std::nullopt;
    return offset;
}

void NetworkClock::set_window_locked(std::deque<NodeSample> window, bool new_epoch) {
    window_ = std::move(window);
    std::vector<std::int64_t> values;
    for (const auto& s : window_) values.push_back(s.offset_ms);
    const std::int64_t offset = values.empty() ? 0 : median(std::move(values));
    std::uint64_t epoch = epoch_of(state_.load());
    // The new median is known before it is published: when it moves network time by more than
    // kEpochShiftMs from what this epoch has shown, it goes out with the next epoch, in the same
    // store, so no reader can see the new offset with the old epoch.
    if (new_epoch || std::max(span_hi_, offset) - std::min(span_lo_, offset) > kEpochShiftMs) {
        epoch = (epoch + 1) & 0xffff'ffffu;
        span_lo_ = span_hi_ = offset;
    } else {
        span_lo_ = std::min(span_lo_, offset);
        span_hi_ = std::max(span_hi_, offset);
    }
    state_.store((epoch << 32) | static_cast<std::uint32_t>(static_cast<std::int32_t>(offset)));
}

bool NetworkClock::learn(const Ed25519PublicKey& node, std::int64_t t, std::int64_t sent, std::int64_t received) {
    const auto s = sample(t, sent, received);
    if (!s) {
        log_(LogLevel::info, "network: clock: ignored t=" + std::to_string(t) + " from node " + to_hex(node.bytes).substr(0, 8) +
                                 ": more than 24 h from the local clock");
        return false;
    }
    Locked lock(m_);
    auto window = window_;
    std::erase_if(window, [&](const NodeSample& e) { return e.node == node; });
    window.push_back(NodeSample{node, *s});
    while (window.size() > kClockSamples) window.pop_front();
    set_window_locked(std::move(window), false);
    return true;
}

void NetworkClock::resync_async(std::int64_t failed_at_ms, GatherAsync gather, ResyncDone done) {
    {
        std::unique_lock lock(resync_m_);
        // A resync that finished after the error makes this one unnecessary.
        if (last_sync_ms_.load() < failed_at_ms) {
            if (resyncing_) {
                waiting_.push_back(Waiter{failed_at_ms, std::move(gather), std::move(done)});
                return;
            }
            resyncing_ = true;
            lock.unlock();
            std::vector<Waiter> group;
            group.push_back(Waiter{failed_at_ms, std::move(gather), std::move(done)});
            return run_resync(std::move(group));
        }
    }
    done({});
}

void NetworkClock::run_resync(std::vector<Waiter> group) {
    const std::uint64_t before = epoch();
    GatherAsync gather = group.front().gather;
    gather([this, group = std::move(group), before](Samples samples) mutable {
        const Result<void> result = apply_resync(std::move(samples), before);
        std::vector<Waiter> fresh, again;  // the waiters this resync served, and those it did not
        {
            std::lock_guard lock(resync_m_);
            for (auto& w : waiting_) (last_sync_ms_.load() >= w.failed_at_ms ? fresh : again).push_back(std::move(w));
            waiting_.clear();
            resyncing_ = !again.empty();  // the turn passes to them
        }
        for (auto& w : group) w.done(result);
        for (auto& w : fresh) w.done({});
        if (!again.empty()) run_resync(std::move(again));
    });
}

Result<void> NetworkClock::apply_resync(Samples samples, std::uint64_t before) {
    if (!samples) return unexpected(std::move(samples).error());
    std::deque<NodeSample> window;
    for (const auto& s : *samples)
        if (s.offset_ms <= kMaxClockOffsetMs && s.offset_ms >= -kMaxClockOffsetMs) window.push_back(s);
    if (window.empty()) return unexpected(Errc::net_no_nodes, "network: clock sync: no answer");
    const std::size_t n = window.size();
    std::int64_t offset;
    {
        Locked lock(m_);
        // A resync always ends in another epoch than the one it began in. The `t` of the gathered
        // replies themselves (learned as they came) may already have moved it: then a new epoch only
        // when the resync's median leaves that epoch's span, as for any other move.
        set_window_locked(std::move(window), epoch() == before);
        offset = offset_ms();
    }
    ++syncs_;
    last_sync_ms_ = local_ms();
    log_(LogLevel::info, "network: clock offset " + std::to_string(offset) + " ms (median of " + std::to_string(n) + " nodes)");
    return {};
}

}  // namespace session::network::detail
