#pragma once
// paths.hpp: onion paths (protocol.md §5.3): the rules a path obeys, and the set of paths a Network
// keeps and reuses.
//
// Rules (pure functions, unit-tested without a network):
//   * one node per /24 subnet ("a.b.c") on public addresses, as session-desktop and libsession
//     [ls-new] do; on loopback (127.0.0.0/8, a local network) one node per IP, as libquic does;
//   * never the destination, and never a node sharing the destination's subnet/IP key;
//   * nodes in `avoid` (other paths' nodes) only if the pool has nothing else (soft rule).
//
// The path set: `path_count` kept paths of `path_length` relays, reused by every request. A path
// gathers strikes for failures no node can be blamed for; at strike_threshold it is dropped and its
// nodes are struck (the guard to the threshold, as libquic does). A node that strikes out leaves
// every path: replaced in place when it is a relay, the path dropped when it is the guard. Thread-safe
// with a lock of its own; strikes of nodes are the pool's (pool.hpp): the set reports which nodes to
// strike and the caller strikes them.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "network/log.hpp"
#include "session/network.hpp"

namespace session::network::detail {

/// The diversity key: "a.b.c" for a public IPv4 address, the whole address on 127.0.0.0/8.
std::string diversity_key(const std::string& ip);

/// How many times `node` (by Ed25519 key) occurs in `suspects`.
std::size_t suspicion(std::span<const Snode> suspects, const Snode& node);

/// Picks `length` nodes from `candidates` with pairwise distinct diversity keys, none equal to or
/// sharing a diversity key with a node in `exclude` (hard), preferring nodes not in `suspects` (the
/// hops of this call's ambiguously failed attempts, a node once per failure: fewer occurrences
/// first), then nodes not in `avoid` (soft rules: a suspect is taken only when the other candidates
/// cannot make up the path). nullopt when the candidates cannot satisfy the hard rules.
std::optional<std::vector<Snode>> pick_path(std::span<const Snode> candidates, std::size_t length,
                                            std::span<const Snode> exclude, std::span<const Snode> avoid, Rng& rng,
                                            std::span<const Snode> suspects = {});

/// A replacement for path[index]: a candidate not in the path, with a diversity key distinct from the
/// other path nodes and from `exclude`, preferring nodes not in `avoid`. nullopt if none.
std::optional<Snode> pick_replacement(std::span<const Snode> candidates, std::span<const Snode> path, std::size_t index,
                                      std::span<const Snode> exclude, Rng& rng, std::span<const Snode> avoid = {});

/// Whether `path` contains `node` (by Ed25519 key) or a node with its diversity key.
bool path_touches(std::span<const Snode> path, const Snode& node);

/// One kept path (or a one-off path, id 0, used for a single request).
struct Path {
    std::uint64_t id = 0;
    std::vector<Snode> nodes;  // guard first
    std::size_t strikes = 0;
};

class PathSet {
public:
    PathSet(const NetworkConfig& config, Rng& rng, const Logger& log);

    struct Choice {
        std::optional<Path> path;  // nullopt: the usable nodes cannot make a path for this destination
        /// Nodes of a kept path this choice replaced: one strike each (the caller strikes them).
        std::vector<Snode> demoted;
    };
    /// A path for a request to `dest`: a kept path not touching it (preferring ones that have not
    /// failed during this call), else a fresh one. Missing kept paths are built first.
    ///
    /// `suspects` are the hops of this call's ambiguously failed attempts (a timeout or 504 does not
    /// say which hop is dead). Without them a rebuilt path is drawn at random again and, with 2 of 10
    /// nodes silent, a random 4-node route still meets a dead node 2 times in 3 until strikes
    /// accumulate. So within the call a kept path holding a suspect is not reused, and new paths take
    /// suspects last (pick_path), i.e. only when the pool has too few other nodes with distinct IPs.
    /// `usable` are the pool's usable nodes, `failing` those of them with strikes (taken last).
    Choice choose(const Snode& dest, const std::set<std::uint64_t>& failed_in_call, std::span<const Snode> suspects,
                  std::span<const Snode> usable, std::span<const Snode> failing);

    /// A node struck out: it leaves every path (replaced in place by one of `usable` unless it is the
    /// guard, protocol.md §5.3; otherwise the path is dropped).
    void remove_node(const Ed25519PublicKey& key, std::span<const Snode> usable);
    /// A failure on path `id` no node can be blamed for. At the threshold the path is dropped and its
    /// nodes are returned: the guard gets strike_threshold strikes, the others one (libquic).
    std::optional<std::vector<Snode>> strike(std::uint64_t id);
    /// The guard of path `id` refused the connection: the path is dropped at once.
    void drop(std::uint64_t id);
    /// A success: the path's strikes are cleared.
    void succeeded(std::uint64_t id);
    /// Drops the paths through nodes that are not in `pool` (after a new node list).
    void keep_only(std::span<const Snode> pool);

    std::vector<std::vector<Snode>> snapshot() const;
    std::uint64_t builds() const { return builds_.load(); }

private:
    std::vector<Snode> avoid_locked(std::span<const Snode> failing) const;

    const NetworkConfig& cfg_;
    Rng& rng_;
    const Logger& log_;
    mutable std::mutex m_;
    std::vector<Path> paths_;
    std::uint64_t next_id_ = 1;
    std::atomic<std::uint64_t> builds_{0};
};

}  // namespace session::network::detail
