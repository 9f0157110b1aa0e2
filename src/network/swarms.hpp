#pragma once
// swarms.hpp: which nodes store an account's messages (protocol.md §5.4), and the cache of them.
//
//   local   : when the pool's node list carries swarm ids, the swarm is computed (swarm.hpp
//             closest_swarm of the account's swarm space): no request, as libsession does.
//   network : otherwise `get_swarm` to a random node (desktop); a 421 reply names the new swarm.
//             Either answer comes from one node, so it is checked before use (verify_swarm): a
//             member must be a node of the pool (its record from the pool is used, not the reply's
//             address), its pubkey_x25519 must be the conversion of its pubkey_ed25519, and, where
//             the pool knows swarm ids, its id must be the swarm's. Other entries are ignored.
//   cache   : per account, for swarm_cache_ttl, while at least kMinSwarmMembers (or all, if fewer)
//             members are still usable; an entry learned from the network is not recomputed locally.
//
// Thread-safe with a lock of its own (never held while calling out).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "network/log.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"

namespace session::network::detail {

/// Swarm members that must still be usable before the cached swarm is fetched again (desktop: 3).
inline constexpr std::size_t kMinSwarmMembers = 3;

/// The account's swarm computed from the pool's swarm ids; nullopt when no node has one.
std::optional<Swarm> local_swarm(const SessionId& account, std::span<const Snode> pool);

/// The members of `claimed` (a get_swarm or 421 answer) that can be verified against `pool` (see the
/// top of this file), as the pool records them. `ignored` counts the others.
Swarm verify_swarm(const Swarm& claimed, std::span<const Snode> pool, std::size_t* ignored = nullptr);

class SwarmCache {
public:
    struct Entry {
        Swarm swarm;
        std::int64_t fetched_ms = 0;
        bool from_network = false;  // learned from get_swarm / a 421: not recomputed locally
    };

    SwarmCache(std::chrono::milliseconds ttl, const Logger& log);

    /// The cached entry, if any (a copy).
    std::optional<Entry> find(const SessionId& account) const;
    /// Whether `entry` may still be used at `now`: younger than the TTL, not empty, and at least
    /// min(kMinSwarmMembers, size) members usable.
    bool fresh(const Entry& entry, std::int64_t now, const std::function<bool(const Snode&)>& usable) const;

    void put(const SessionId& account, Swarm swarm, std::int64_t now, bool from_network);
    /// A 421 from `from`: the swarm in its body if it has one (`moved_to`), else `from` leaves the
    /// cached swarm and the next lookup asks the network.
    void moved(const SessionId& account, const Snode& from, std::optional<Swarm> moved_to, std::int64_t now);

    /// get_swarm requests sent (Stats::swarm_lookups).
    void count_lookup() { ++lookups_; }
    std::uint64_t lookups() const { return lookups_.load(); }

private:
    std::int64_t ttl_ms_;
    const Logger& log_;
    mutable std::mutex m_;
    std::unordered_map<SessionId, Entry> entries_;
    std::atomic<std::uint64_t> lookups_{0};
};

}  // namespace session::network::detail
