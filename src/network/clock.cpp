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

void NetworkClock::set_window_locked(std::deque<NodeSample> window) {
    window_ = std::move(window);
    std::vector<std::int64_t> values;
    for (const auto& s : window_) values.push_back(s.offset_ms);
    offset_ = values.empty() ? 0 : median(std::move(values));
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
    set_window_locked(std::move(window));
    return true;
}

Result<void> NetworkClock::resync_after(std::int64_t failed_at_ms, const Gather& gather) {
    // Another resync that finished after the error makes this one unnecessary.
    auto turn = resync_.begin([&] { return last_sync_ms_.load() >= failed_at_ms; });
    if (!turn) return {};
    auto samples = gather();
    if (!samples) return unexpected(std::move(samples).error());
    std::deque<NodeSample> window;
    for (const auto& s : *samples)
        if (s.offset_ms <= kMaxClockOffsetMs && s.offset_ms >= -kMaxClockOffsetMs) window.push_back(s);
    if (window.empty()) return unexpected(Errc::net_no_nodes, "network: clock sync: no answer");
    const std::size_t n = window.size();
    std::int64_t offset;
    {
        Locked lock(m_);
        set_window_locked(std::move(window));
        offset = offset_.load();
    }
    ++epoch_;
    ++syncs_;
    last_sync_ms_ = local_ms();
    log_(LogLevel::info, "network: clock offset " + std::to_string(offset) + " ms (median of " + std::to_string(n) + " nodes)");
    return {};
}

}  // namespace session::network::detail
