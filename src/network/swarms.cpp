// swarms.cpp: swarms and their cache (see swarms.hpp).
#include "network/swarms.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
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

Swarm verify_swarm(const Swarm& claimed, std::span<const Snode> pool, std::size_t* ignored) {
    std::unordered_map<std::string, const Snode*> by_key;
    for (const auto& n : pool) by_key.emplace(n.ed25519_hex(), &n);
    Swarm out;
    out.id = claimed.id;
    std::size_t dropped = 0;
    for (const auto& n : claimed.nodes) {
        auto it = by_key.find(n.ed25519_hex());
        const auto x = to_x25519(n.keys.ed25519);
        if (it == by_key.end() || !x || *x != n.keys.x25519 || it->second->keys.x25519 != *x) {
            ++dropped;
            continue;
        }
        Snode member = *it->second;
        // Where the pool knows swarm ids they must agree: with the reply's id, or (without one)
        // with the first verified member's.
        if (member.swarm_id && out.id && *member.swarm_id != *out.id) {
            ++dropped;
            continue;
        }
        if (!out.id) out.id = member.swarm_id;
        if (!member.swarm_id) member.swarm_id = out.id;
        if (std::any_of(out.nodes.begin(), out.nodes.end(), [&](const Snode& m) { return m.keys.ed25519 == member.keys.ed25519; })) {
            ++dropped;
            continue;
        }
        out.nodes.push_back(std::move(member));
    }
    if (ignored) *ignored = dropped;
    return out;
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
