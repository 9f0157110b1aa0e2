#pragma once
// swarm.hpp: which swarm stores an account, and the storage server's message hash.
//   swarm_space(key)  = XOR of the key's four 8-byte chunks, each read big-endian (prefix byte excluded)
//   closest_swarm     = the swarm id nearest to that value on the 2^64 ring; ties go to the left (lower) id
//   message_hash      = unpadded base64 of BLAKE2b-32(prefix || key32 || NS || data), NS = "" for
//                       namespace 0, else the decimal namespace ("42", "-10")
// Sources: session-storage-server oxenss/snode/swarm.cpp (pubkey_to_swarm_space, get_swarm_by_pk),
// oxenss/rpc/request_handler.cpp (compute_hash_blake2b_b64); libsession-util [libquic] src/network.cpp.
// storage-server.md §6.2, §6.3, §7; protocol.md §5.4.
#include <cstdint>
#include <span>
#include <string>

#include "session/bytes.hpp"

namespace session::swarm {

/// The swarm id oxend gives decommissioned nodes: they belong to no swarm.
inline constexpr std::uint64_t kInvalidSwarmId = 0xFFFF'FFFF'FFFF'FFFFull;
/// Length of the account key as the storage server sees it: network prefix byte (05, 03, …) + 32 bytes.
inline constexpr std::size_t kPrefixedPubkeyBytes = 33;

/// The account's position in the 64-bit swarm space, from its 32 key bytes (no prefix byte).
std::uint64_t swarm_space(std::span<const std::uint8_t, 32> key);
/// The same for an X25519 account key (a Session ID without its 05).
inline std::uint64_t swarm_space(const X25519PublicKey& key) { return swarm_space(std::span<const std::uint8_t, 32>(key.bytes)); }

/// The id in `swarm_ids` nearest to `space` on the 2^64 ring, as the storage server picks it:
/// with the distinct ids sorted, right = first id >= space (wrapping to the smallest), left = the
/// id before right (wrapping to the largest); right wins only if strictly nearer, so ties go left.
/// `swarm_ids` may be unsorted and hold duplicates; kInvalidSwarmId entries are ignored.
/// Throws std::invalid_argument if no valid id remains (the caller must check for an empty list).
std::uint64_t closest_swarm(std::uint64_t space, std::span<const std::uint64_t> swarm_ids);

/// The storage server's hash of a stored message (43 characters, base64 without '=' padding).
/// `pubkey33` is the prefixed account key (e.g. 05 || X25519 key); `data` is the raw message bytes
/// (not base64). Throws std::invalid_argument if pubkey33 is not 33 bytes.
std::string message_hash(ByteView pubkey33, std::int32_t ns, ByteView data);

}  // namespace session::swarm
