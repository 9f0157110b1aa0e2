// swarm.cpp: swarm-space mapping, closest-swarm choice and the storage message hash
// (storage-server.md §6.2, §6.3, §7; see swarm.hpp for the formulas).
#include "session/swarm.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "detail/crypto.hpp"

namespace session::swarm {

namespace {
constexpr std::size_t kChunkBytes = 8;
constexpr std::size_t kMessageHashBytes = 32;
}  // namespace

std::uint64_t swarm_space(std::span<const std::uint8_t, 32> key) {
    std::uint64_t v = 0;
    for (std::size_t chunk = 0; chunk < key.size(); chunk += kChunkBytes) {
        std::uint64_t be = 0;
        for (std::size_t i = 0; i < kChunkBytes; ++i) be = be << 8 | key[chunk + i];
        v ^= be;
    }
    return v;
}

std::uint64_t closest_swarm(std::uint64_t space, std::span<const std::uint64_t> swarm_ids) {
    std::vector<std::uint64_t> ids;
    ids.reserve(swarm_ids.size());
    for (auto id : swarm_ids)
        if (id != kInvalidSwarmId) ids.push_back(id);
    if (ids.empty()) throw std::invalid_argument("swarm: closest_swarm needs at least one valid swarm id");
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() == 1) return ids.front();

    auto it = std::lower_bound(ids.begin(), ids.end(), space);
    const std::uint64_t right = it == ids.end() ? ids.front() : *it;
    const std::uint64_t left = it == ids.begin() || it == ids.end() ? ids.back() : *(it - 1);
    // Unsigned subtraction is arithmetic mod 2^64: the distances around the ring.
    const std::uint64_t dright = right - space;
    const std::uint64_t dleft = space - left;
    return dright < dleft ? right : left;
}

std::string message_hash(ByteView pubkey33, std::int32_t ns, ByteView data) {
    if (pubkey33.size() != kPrefixedPubkeyBytes)
        throw std::invalid_argument("swarm: message_hash needs a 33-byte prefixed pubkey, got " +
                                    std::to_string(pubkey33.size()) + " bytes");
    // Namespace 0 contributes nothing, so hashes of default-namespace messages predate namespaces.
    const std::string ns_text = ns == 0 ? std::string{} : std::to_string(ns);
    auto hash = detail::blake2b_parts(kMessageHashBytes, {pubkey33, as_bytes(ns_text), data});
    return base64_encode_unpadded(hash);
}

}  // namespace session::swarm
