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

std::int64_t NetworkClock::sample(std::int64_t t, std::int64_t sent, std::int64_t received) {
    return t - (sent + (received - sent) / 2);
}

void NetworkClock::learn(std::int64_t t, std::int64_t sent, std::int64_t received) {
    const std::int64_t s = sample(t, sent, received);
    Locked lock(m_);
    samples_.push_back(s);
    while (samples_.size() > kClockSamples) samples_.pop_front();
    offset_ = median({samples_.begin(), samples_.end()});
}

Result<void> NetworkClock::resync_after(std::int64_t failed_at_ms, const Gather& gather) {
    // Another resync that finished after the error makes this one unnecessary.
    auto turn = resync_.begin([&] { return last_sync_ms_.load() >= failed_at_ms; });
    if (!turn) return {};
    auto samples = gather();
    if (!samples) return unexpected(std::move(samples).error());
    if (samples->empty()) return unexpected(Errc::net_no_nodes, "network: clock sync: no answer");
    const std::int64_t med = median(*samples);
    {
        Locked lock(m_);
        samples_.assign(1, med);
        offset_ = med;
    }
    ++syncs_;
    last_sync_ms_ = local_ms();
    log_(LogLevel::info, "network: clock offset " + std::to_string(med) + " ms (median of " +
                             std::to_string(samples->size()) + " nodes)");
    return {};
}

}  // namespace session::network::detail
