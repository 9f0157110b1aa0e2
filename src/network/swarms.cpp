// swarms.cpp: swarms and their cache (see swarms.hpp).
#include "network/swarms.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "session/swarm.hpp"

namespace session::network::detail {

std::optional<Swarm> local_swarm(const SessionId& account, std::span<const Snode> pool) {
    std::vector<std::uint64_t> ids;
    for (const auto& n : pool)
        if (n.swarm_id) ids.push_back(*n.swarm_id);
    if (ids.empty()) return std::nullopt;
    Swarm s;
    s.id = swarm::closest_swarm(swarm::swarm_space(account.x25519()), ids);
    for (const auto& n : pool)
        if (n.swarm_id == s.id) s.nodes.push_back(n);
    if (s.nodes.empty()) return std::nullopt;
    return s;
}

SwarmCache::SwarmCache(std::chrono::milliseconds ttl, const Logger& log) : ttl_ms_(ttl.count()), log_(log) {}

std::optional<SwarmCache::Entry> SwarmCache::find(const SessionId& account) const {
    Locked lock(m_);
    auto it = entries_.find(account);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

bool SwarmCache::fresh(const Entry& e, std::int64_t now, const std::function<bool(const Snode&)>& usable) const {
    if (now - e.fetched_ms >= ttl_ms_ || e.swarm.nodes.empty()) return false;
    const auto alive = static_cast<std::size_t>(std::count_if(e.swarm.nodes.begin(), e.swarm.nodes.end(), usable));
    return alive >= std::min(kMinSwarmMembers, e.swarm.nodes.size());
}

void SwarmCache::put(const SessionId& account, Swarm swarm, std::int64_t now, bool from_network) {
    Locked lock(m_);
    entries_[account] = Entry{std::move(swarm), now, from_network};
}

void SwarmCache::moved(const SessionId& account, const Snode& from, std::optional<Swarm> moved_to, std::int64_t now) {
    Locked lock(m_);
    if (moved_to) {
        log_(LogLevel::info, "network: 421 from " + from.address() + ": swarm moved (" +
                                 std::to_string(moved_to->nodes.size()) + " members)");
        entries_[account] = Entry{std::move(*moved_to), now, true};
        return;
    }
    // No usable swarm in the reply: forget this member and ask the network next time.
    auto it = entries_.find(account);
    if (it == entries_.end()) {
        entries_[account] = Entry{Swarm{}, 0, true};
        return;
    }
    std::erase_if(it->second.swarm.nodes, [&](const Snode& n) { return n.keys.ed25519 == from.keys.ed25519; });
    it->second.from_network = true;
    it->second.fetched_ms = 0;
}

}  // namespace session::network::detail
