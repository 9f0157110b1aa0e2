#pragma once
// pool.hpp: the snode pool (protocol.md §5.1-5.2): the nodes the network knows, their strikes, and
// how the list is fetched and kept.
//
//   fetch   : the pool cache file if fresh; else a refresh from 3 pool nodes (the intersection of
//             their lists); else the seeds, raced; else the cache file or the network file's nodes.
//   strikes : consecutive failures per node; at strike_threshold a node is unusable until the next
//             fetch (a fresh list clears every strike, as libquic does). A success clears them.
//   cache   : `pool_cache_path`, one node per line (parse.hpp pool_line), written after each fetch.
//
// Seeds are raced (protocol.md §5.1): shuffled; the next one starts when every running one has
// failed or `seed_stagger` has passed; the first valid list wins. Each seed request is a task on the
// Network's executor; a request still running when the race is decided finishes in the background
// (it keeps what it uses alive), and the executor of the Network joins it.
//
// Thread-safe. m_ guards the list and strikes and is never held across I/O; fetches are a
// SingleFlight (a second caller waits for the first fetch, unless the pool still routes).
#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "network/clock.hpp"
#include "network/log.hpp"
#include "session/executor.hpp"
#include "session/network.hpp"

namespace session::network::detail {

/// Nodes asked for their list when refreshing the pool (desktop and libquic: 3, intersection).
inline constexpr std::size_t kRefreshNodes = 3;
/// Minimum time between fetches triggered by strikes (single-flight plus a cooldown).
inline constexpr std::int64_t kMinRefetchIntervalMs = 10'000;

/// The nodes every list has (by value: keys, address and swarm id), in the first list's order.
std::vector<Snode> intersection(const std::vector<std::vector<Snode>>& lists);

class Pool {
public:
    struct Deps {
        const NetworkConfig& config;
        std::shared_ptr<Transport> transport;
        std::shared_ptr<Executor> executor;
        Rng& rng;
        const NetworkClock& clock;  // local time only
        std::string cache_path;     // "" = memory only
        const Logger& log;
    };
    explicit Pool(Deps deps);

    // ---- the list and its strikes ----------------------------------------------------------------
    std::vector<Snode> nodes() const;
    /// The nodes below the strike threshold.
    std::vector<Snode> usable() const;
    bool is_usable(const Snode& node) const;
    /// Usable nodes that carry strikes (recent failures): new paths take them last.
    std::vector<Snode> failing() const;

    /// Adds `by` strikes to `node`. True when this took it to the threshold (it just struck out:
    /// the caller takes it out of the paths).
    bool strike(const Snode& node, std::size_t by);
    /// Strikes `key` to the threshold. True when it was usable before.
    bool strike_out(const Ed25519PublicKey& key);
    /// A success through these nodes: their strikes are cleared (strikes count consecutive failures).
    void clear_strikes(std::span<const Snode> nodes);

    // ---- fetching --------------------------------------------------------------------------------
    /// Asks one pool node for its list (oxend_request get_service_nodes through an onion path).
    using AskNode = std::function<std::optional<std::vector<Snode>>(const Snode& node)>;
    /// Makes sure a usable pool exists (see the top of this file). Single-flight: concurrent callers
    /// wait for one fetch, except that a stale but routable pool keeps serving while another thread
    /// refreshes it. Returns whether the list was replaced (the caller drops paths through nodes
    /// that left). Errors: net_no_nodes (the seeds and the caches failed; each seed's error named).
    [[nodiscard]] Result<bool> ensure(const AskNode& ask);

    std::uint64_t seed_requests() const { return seed_requests_.load(); }
    std::uint64_t fetches() const { return fetches_.load(); }

private:
    bool usable_locked(const Snode& n) const;
    std::vector<Snode> usable_locked() const;
    bool fresh_locked(std::int64_t now) const;
    std::size_t routable_minimum() const { return cfg_.path_length + 1; }
    std::int64_t refresh_interval_ms() const;

    Result<std::vector<Snode>> race_seeds();
    Result<std::vector<Snode>> refresh_from_snodes(const AskNode& ask);
    void replace(std::vector<Snode> nodes, const std::string& source);
    void save_cache();
    std::pair<std::vector<Snode>, std::int64_t> load_cache() const;

    const NetworkConfig& cfg_;
    std::shared_ptr<Transport> transport_;
    std::shared_ptr<Executor> executor_;
    Rng& rng_;
    const NetworkClock& clock_;
    std::string cache_path_;
    const Logger& log_;

    mutable std::mutex m_;
    std::vector<Snode> nodes_;
    std::int64_t fetched_ms_ = 0;
    std::size_t fetched_size_ = 0;
    std::int64_t last_fetch_attempt_ms_ = LLONG_MIN / 2;
    std::map<ByteArray<32>, std::size_t> strikes_;  // ed25519 key → consecutive failures

    SingleFlight fetch_;
    std::atomic<std::uint64_t> seed_requests_{0};
    std::atomic<std::uint64_t> fetches_{0};
};

}  // namespace session::network::detail
