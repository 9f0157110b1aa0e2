#pragma once
// paths.hpp: onion path selection rules (private to the network module; pure functions so the
// rules are unit-tested without a network).
//   * one node per /24 subnet ("a.b.c") on public addresses, as session-desktop and libsession
//     [ls-new] do; on loopback (127.0.0.0/8, a local network) one node per IP, as libquic does;
//   * never the destination, and never a node sharing the destination's subnet/IP key;
//   * nodes in `avoid` (other paths' nodes) only if the pool has nothing else (soft rule).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

/// The median of `v` (the lower middle for an even count); v must not be empty.
std::int64_t median(std::vector<std::int64_t> v);

}  // namespace session::network::detail
