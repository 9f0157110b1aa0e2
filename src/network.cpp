// network.cpp: seeds, pool, paths, swarms, network time and storage RPCs (see network.hpp).
//
// Locking: Impl::m guards the pool, strikes, paths, swarm cache, clock samples and stats; it is
// never held across I/O. fetch_m makes pool fetches single-flight and sync_m clock syncs. Order:
// fetch_m → (I/O) → m; sync_m → (I/O) → m. Nothing under m calls out.
#include "session/network.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "network/parse.hpp"
#include "network/paths.hpp"
#include "network/seeds.hpp"
#include "session/swarm.hpp"

namespace session::network {

using nlohmann::json;

// ---- internals -------------------------------------------------------------------------------

namespace {

/// The storage server's limit on `data` (storage-server.md §5.3): 102 400 base64 characters.
constexpr std::size_t kMaxStoreDataB64 = 102400;
/// Clock offset: median of this many recent samples (desktop keeps a rolling window of 10).
constexpr std::size_t kClockSamples = 10;
/// Nodes asked for `info` when resynchronising the clock ([ls-new]: 3, median).
constexpr std::size_t kClockSyncNodes = 3;
/// Nodes asked for their list when refreshing the pool (desktop and libquic: 3, intersection).
constexpr std::size_t kRefreshNodes = 3;
/// 421 redirects followed per call (libquic: retry once, then refresh; desktop: retry with new swarm).
constexpr int kMaxSwarmRedirects = 2;
/// Path failures to one fixed destination before the destination itself is blamed.
constexpr std::size_t kFixedNodePathFailures = 3;
/// A clock sync younger than this makes a 406 from one member that member's fault first.
constexpr std::int64_t kRecentSyncMs = 60'000;
/// Minimum time between pool fetches triggered by strikes (single-flight plus a cooldown).
constexpr std::int64_t kMinRefetchIntervalMs = 10'000;
/// Swarm members that must still be usable before the cached swarm is refetched (desktop: 3).
constexpr std::size_t kMinSwarmMembers = 3;
/// Bytes of a peer's error text quoted in an error message.
constexpr std::size_t kQuoteBytes = 160;

std::string quote(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, kQuoteBytes)) out.push_back((c >= 0x20 && c < 0x7f) ? c : '?');
    if (s.size() > kQuoteBytes) out += "…";
    return out;
}

std::string short_hex(const Snode& n) { return n.ed25519_hex().substr(0, 8); }

/// Serialises an Rng shared by threads (an injected test Rng need not be thread-safe).
class LockedRng final : public Rng {
public:
    explicit LockedRng(std::shared_ptr<Rng> inner) : inner_(std::move(inner)) {}
    void fill(std::span<std::uint8_t> out) override {
        std::lock_guard lk(m_);
        inner_->fill(out);
    }

private:
    std::shared_ptr<Rng> inner_;
    std::mutex m_;
};

struct PathState {
    std::uint64_t id = 0;  // 0: a temporary path (not kept)
    std::vector<Snode> nodes;
    std::size_t strikes = 0;
};

struct SwarmEntry {
    Swarm swarm;
    std::int64_t fetched_ms = 0;
    bool from_rpc = false;  // learned from get_swarm / a 421: don't recompute it locally
};

enum class Fail { none, path, dest, fatal };

struct Attempt {
    Fail fail = Fail::none;
    bool relay_blamed = false;  // a path failure pinned on a named relay (the destination is not suspect)
    /// After an ambiguous path failure: the nodes that may be the dead hop (see send_once). The call
    /// keeps them out of its later attempts while other nodes can make up a path.
    std::vector<Snode> suspects;
    Error error{};
    onion::NodeResponse reply;
    std::int64_t sent_ms = 0;
    std::int64_t recv_ms = 0;
};

enum class Target { fixed, swarm, any };

bool is_2xx(int s) { return s >= 200 && s < 300; }

Error status_error(std::string_view method, const RpcReply& r) {
    Errc code = Errc::net_http_status;
    if (r.status == 401 || r.status == 403) code = Errc::net_unauthorized;
    else if (r.status == 406 || r.status == 425) code = Errc::net_clock_skew;
    else if (r.status == 421) code = Errc::net_swarm_moved;
    return Error{code, "network: " + std::string(method) + " at " + r.node.address() + ": status " +
                           std::to_string(r.status) + ": " + quote(r.body)};
}

}  // namespace

struct Network::Impl {
    Options opt;
    NetworkConfig& cfg;
    std::shared_ptr<Transport> transport;
    std::shared_ptr<Clock> clock;
    LockedRng rng;

    mutable std::mutex m;
    std::vector<Snode> pool;
    std::int64_t pool_fetched_ms = 0;
    std::size_t pool_fetched_size = 0;
    std::int64_t last_fetch_attempt_ms = LLONG_MIN / 2;
    std::unordered_map<std::string, std::size_t> strikes;  // ed25519 hex → consecutive failures
    std::vector<PathState> paths;
    std::uint64_t next_path_id = 1;
    std::unordered_map<SessionId, SwarmEntry> swarms;
    Stats stats;
    std::deque<std::int64_t> offset_samples;
    std::atomic<std::int64_t> offset{0};

    std::mutex fetch_m;
    std::mutex sync_m;
    std::atomic<std::int64_t> last_sync_ms{LLONG_MIN / 2};  // written under sync_m

    std::mutex threads_m;
    std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;

    explicit Impl(Options o)
        : opt(std::move(o)), cfg(opt.config), rng(opt.rng ? opt.rng : system_rng()) {
        transport = opt.transport;
        if (!transport) {
            auto t = curl_transport(opt.log);
            if (!t) throw std::runtime_error(t.error().message);
            transport = *t;
        }
        clock = opt.clock ? opt.clock : system_clock();
        if (cfg.path_length == 0 || cfg.path_count == 0 || cfg.max_attempts == 0 || cfg.strike_threshold == 0)
            throw std::invalid_argument("network: path_length, path_count, max_attempts and strike_threshold must be > 0");
    }

    ~Impl() {
        std::lock_guard lk(threads_m);
        for (auto& [t, done] : threads)
            if (t.joinable()) t.join();
    }

    void log(LogLevel level, const std::string& s) const {
        if (opt.log) opt.log(level, s);
    }

    std::int64_t now_local() const { return clock->now_ms(); }
    std::int64_t now_network() const { return clock->now_ms() + offset.load(); }

    // ---- strikes and pool (callers hold m) ---------------------------------------------------

    bool usable_locked(const Snode& n) const {
        auto it = strikes.find(n.ed25519_hex());
        return it == strikes.end() || it->second < cfg.strike_threshold;
    }
    std::vector<Snode> usable_pool_locked() const {
        std::vector<Snode> out;
        for (const auto& n : pool)
            if (usable_locked(n)) out.push_back(n);
        return out;
    }

    /// A node reached the threshold: it leaves every path (replaced in place unless it is a guard,
    /// protocol.md §5.3) and is skipped until the next pool fetch.
    void node_dead_locked(const Ed25519PublicKey& key) {
        auto usable = usable_pool_locked();
        for (std::size_t p = 0; p < paths.size();) {
            auto& nodes = paths[p].nodes;
            auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Snode& n) { return n.keys.ed25519 == key; });
            if (it == nodes.end()) {
                ++p;
                continue;
            }
            std::size_t idx = static_cast<std::size_t>(it - nodes.begin());
            std::optional<Snode> repl;
            if (idx != 0) {
                std::vector<Snode> others;
                for (std::size_t q = 0; q < paths.size(); ++q)
                    if (q != p) others.insert(others.end(), paths[q].nodes.begin(), paths[q].nodes.end());
                repl = detail::pick_replacement(usable, nodes, idx, {}, rng, others);
            }
            if (repl) {
                log(LogLevel::info, "network: path " + std::to_string(paths[p].id) + ": replaced node " +
                                        it->address() + " with " + repl->address());
                *it = *repl;
                ++p;
            } else {
                log(LogLevel::info, "network: path " + std::to_string(paths[p].id) + " dropped (node " +
                                        it->address() + " failed)");
                paths.erase(paths.begin() + static_cast<std::ptrdiff_t>(p));
            }
        }
    }

    void strike_locked(const Snode& n, std::size_t by) {
        auto& s = strikes[n.ed25519_hex()];
        bool was_usable = s < cfg.strike_threshold;
        s += by;
        if (was_usable && s >= cfg.strike_threshold) {
            log(LogLevel::info, "network: node " + n.address() + " (" + short_hex(n) + ") struck out");
            node_dead_locked(n.keys.ed25519);
        }
    }
    void strike_key_to_threshold_locked(const Ed25519PublicKey& key) {
        auto hex = to_hex(key.bytes);
        auto& s = strikes[hex];
        if (s < cfg.strike_threshold) {
            s = cfg.strike_threshold;
            log(LogLevel::info, "network: node " + hex.substr(0, 8) + " struck out");
            node_dead_locked(key);
        }
    }

    /// A failure on path `id` not attributable to one node. At the threshold the path is dropped,
    /// each of its nodes gets a strike and the guard is struck out (libquic).
    void path_strike_locked(std::uint64_t id) {
        auto it = std::find_if(paths.begin(), paths.end(), [&](const PathState& p) { return p.id == id; });
        if (it == paths.end()) return;
        if (++it->strikes < cfg.strike_threshold) return;
        auto nodes = it->nodes;
        log(LogLevel::info, "network: path " + std::to_string(id) + " failed " + std::to_string(it->strikes) +
                                " times: dropped");
        paths.erase(it);
        for (std::size_t i = 0; i < nodes.size(); ++i) strike_locked(nodes[i], i == 0 ? cfg.strike_threshold : 1);
    }

    /// The guard refused the connection: it is struck out and its path dropped at once.
    void guard_down_locked(std::uint64_t id, const Snode& guard) {
        log(LogLevel::info, "network: guard " + guard.address() + " unreachable");
        auto it = std::find_if(paths.begin(), paths.end(), [&](const PathState& p) { return p.id == id; });
        if (it != paths.end()) paths.erase(it);
        strike_locked(guard, cfg.strike_threshold);
    }

    /// Strikes count consecutive failures: a success clears them for the path and its nodes.
    void success_locked(const PathState& path, const Snode& dest) {
        auto it = std::find_if(paths.begin(), paths.end(), [&](const PathState& p) { return p.id == path.id; });
        if (it != paths.end()) it->strikes = 0;
        for (const auto& n : path.nodes) strikes.erase(n.ed25519_hex());
        strikes.erase(dest.ed25519_hex());
    }

    // ---- network time ------------------------------------------------------------------------

    void learn_offset(std::int64_t t, std::int64_t sent, std::int64_t recv) {
        std::int64_t sample = t - (sent + (recv - sent) / 2);
        std::lock_guard lk(m);
        offset_samples.push_back(sample);
        while (offset_samples.size() > kClockSamples) offset_samples.pop_front();
        offset = detail::median({offset_samples.begin(), offset_samples.end()});
    }

    // ---- paths ---------------------------------------------------------------------------------

    /// A path for `dest`: a kept path not touching it (preferring ones that have not failed during
    /// this call), else a fresh one.
    ///
    /// `suspects` are the hops of this call's ambiguously failed attempts (a timeout or 504 does not
    /// say which hop is dead). Without them a rebuilt path is drawn at random again and, with 2 of 10
    /// nodes silent, a random 4-node route still meets a dead node 2 times in 3 until strikes
    /// accumulate (calls gave up after 8 attempts). So within the call a kept path holding a suspect
    /// is not reused, and new paths take suspects last (pick_path), i.e. only when the pool has too
    /// few other nodes with distinct IPs. Strikes are unchanged: suspicion lasts for this call only.
    std::optional<PathState> choose_path(const Snode& dest, const std::set<std::uint64_t>& failed,
                                         std::span<const Snode> suspects) {
        std::lock_guard lk(m);
        auto usable = usable_pool_locked();
        // Soft rule for new paths: avoid nodes of the other paths and nodes with recent failures
        // (a dead relay is not re-used while healthy nodes remain).
        auto avoid_list = [&] {
            std::vector<Snode> out;
            for (const auto& p : paths) out.insert(out.end(), p.nodes.begin(), p.nodes.end());
            for (const auto& n : usable)
                if (strikes.count(n.ed25519_hex())) out.push_back(n);
            return out;
        };
        while (paths.size() < cfg.path_count) {
            auto p = detail::pick_path(usable, cfg.path_length, {}, avoid_list(), rng, suspects);
            if (!p) break;
            paths.push_back(PathState{next_path_id++, std::move(*p), 0});
            ++stats.path_builds;
            std::string desc;
            for (const auto& n : paths.back().nodes) desc += (desc.empty() ? "" : " → ") + n.address();
            log(LogLevel::debug, "network: path " + std::to_string(paths.back().id) + " built: " + desc);
        }
        auto suspect = [&](const PathState& p) {
            return std::any_of(p.nodes.begin(), p.nodes.end(),
                               [&](const Snode& n) { return detail::suspicion(suspects, n) > 0; });
        };
        std::vector<std::size_t> fresh, tried;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            if (detail::path_touches(paths[i].nodes, dest)) continue;
            if (failed.count(paths[i].id)) tried.push_back(i);
            else if (!suspect(paths[i])) fresh.push_back(i);
            // else: untried but holding a suspect: not used in this call, not penalised either.
        }
        if (!fresh.empty()) return paths[fresh[random_below(rng, fresh.size())]];

        // The nodes of paths that failed during this call are suspects (send_once): a new path
        // takes them only if the pool has nothing else.
        std::vector<Snode> excl{dest};
        auto p = detail::pick_path(usable, cfg.path_length, excl, avoid_list(), rng, suspects);
        if (!p) {
            if (!tried.empty()) return paths[tried[random_below(rng, tried.size())]];
            return std::nullopt;
        }
        ++stats.path_builds;
        if (!tried.empty()) {
            // Every kept path failed during this call: replace the worst one.
            std::size_t worst = tried[0];
            for (auto i : tried)
                if (paths[i].strikes > paths[worst].strikes) worst = i;
            log(LogLevel::debug, "network: path " + std::to_string(paths[worst].id) + " replaced after failures");
            // Its nodes carry a strike (cleared by their next success) so new paths avoid them.
            auto old_nodes = std::move(paths[worst].nodes);
            paths[worst] = PathState{next_path_id++, std::move(*p), 0};
            PathState fresh_path = paths[worst];
            for (const auto& n : old_nodes) strike_locked(n, 1);
            auto kept = std::find_if(paths.begin(), paths.end(), [&](const PathState& q) { return q.id == fresh_path.id; });
            if (kept != paths.end()) return *kept;
            fresh_path.id = 0;  // dropped meanwhile (a node struck out): use it once
            return fresh_path;
        }
        // Every kept path touches the destination or a suspect: a one-off path that avoids them.
        return PathState{0, std::move(*p), 0};
    }

    // ---- one onion request ---------------------------------------------------------------------

    Attempt send_once(const Snode& dest, const std::string& payload, std::chrono::milliseconds timeout,
                      std::set<std::uint64_t>& failed_paths, std::span<const Snode> suspects) {
        Attempt a;
        auto path = choose_path(dest, failed_paths, suspects);
        if (!path) {
            std::size_t usable;
            {
                std::lock_guard lk(m);
                usable = usable_pool_locked().size();
            }
            a.fail = Fail::fatal;
            a.error = Error{Errc::net_no_path, "network: no onion path: " + std::to_string(usable) +
                                                   " usable nodes for " + std::to_string(cfg.path_length) +
                                                   " relays (one per subnet) plus the destination"};
            return a;
        }
        std::vector<onion::NodeKeys> keys;
        for (const auto& n : path->nodes) keys.push_back(n.keys);
        auto built = onion::build(keys, onion::SnodeDestination{dest.keys}, as_bytes(payload), cfg.enc_type, rng);
        if (!built) {
            a.fail = Fail::fatal;
            a.error = built.error();
            return a;
        }
        const Snode& guard = path->nodes.front();
        HttpRequest req;
        req.url = "https://" + guard.ip + ":" + std::to_string(guard.https_port) + "/onion_req/v2";
        req.body = std::move(built->body);
        // As session-desktop sends them (storage-server.md §3.2).
        req.headers = {{"User-Agent", "WhatsApp"}, {"Accept-Language", "en-us"}};
        req.tls.verify = false;  // self-signed snode certificates (storage-server.md §9)
        req.timeout = timeout;
        req.connect_timeout = std::min(cfg.connect_timeout, timeout);
        {
            std::lock_guard lk(m);
            ++stats.onion_requests;
        }
        log(LogLevel::debug, "network: onion request via path " + std::to_string(path->id) + " to " + dest.address());
        a.sent_ms = now_local();
        auto resp = transport->post(req);
        a.recv_ms = now_local();

        auto fail_path = [&](Errc code, std::string msg) {
            a.fail = Fail::path;
            a.error = Error{code, std::move(msg)};
            failed_paths.insert(path->id);
            ++stats.failed_attempts;
        };
        // Which hops may be the dead one. A refused connection names the guard (struck out below):
        // no suspects. A 502/504 text came back through the guard, so the guard is alive and the
        // fault lies past it (storage-server.md §3.9: "relay: next node silent → 504"). A transport
        // timeout or an undecodable reply may be any hop, the guard included.
        auto suspect_from = [&](std::size_t first_hop) {
            a.suspects.assign(path->nodes.begin() + static_cast<std::ptrdiff_t>(std::min(first_hop, path->nodes.size())),
                              path->nodes.end());
            a.suspects.push_back(dest);
        };
        if (!resp) {
            std::lock_guard lk(m);
            fail_path(resp.error().code, resp.error().message);
            if (resp.error().code != Errc::net_connect) suspect_from(0);
            if (resp.error().code == Errc::net_connect) guard_down_locked(path->id, guard);
            else path_strike_locked(path->id);
            log(LogLevel::debug, "network: onion request via " + guard.address() + " failed: " + resp.error().message);
            return a;
        }
        if (resp->status != 200) {
            // Plain-text path errors from the guard or relayed from a deeper hop (storage-server.md §3.9).
            std::string text = to_string(resp->body);
            std::lock_guard lk(m);
            std::string msg = "network: onion request via " + guard.address() + ": HTTP " +
                              std::to_string(resp->status) + ": " + quote(text);
            log(LogLevel::debug, msg);
            if (auto gone = detail::next_node_not_found(text); resp->status == 502 && gone) {
                if (*gone == dest.keys.ed25519) {
                    ++stats.failed_attempts;
                    strike_key_to_threshold_locked(*gone);
                    a.fail = Fail::dest;
                    a.error = Error{Errc::net_node_not_found, msg};
                    return a;
                }
                // The relay is replaced in place in every path: the repaired path stays eligible.
                a.fail = Fail::path;
                a.relay_blamed = true;
                a.error = Error{Errc::net_node_not_found, msg};
                ++stats.failed_attempts;
                strike_key_to_threshold_locked(*gone);
                return a;
            }
            fail_path(resp->status == 504 ? Errc::net_timeout : Errc::net_path_failed, msg);
            suspect_from(resp->status == 502 || resp->status == 504 ? 1 : 0);
            path_strike_locked(path->id);
            return a;
        }
        auto decoded = onion::decode_node_response(built->response_key, to_string(resp->body));
        if (!decoded) {
            std::lock_guard lk(m);
            fail_path(Errc::net_bad_response, "network: onion reply via " + guard.address() + ": " + decoded.error().message);
            suspect_from(0);
            path_strike_locked(path->id);
            log(LogLevel::debug, a.error.message);
            return a;
        }
        {
            std::lock_guard lk(m);
            success_locked(*path, dest);
        }
        if (auto t = detail::find_timestamp(decoded->body)) learn_offset(*t, a.sent_ms, a.recv_ms);
        a.reply = std::move(*decoded);
        return a;
    }

    // ---- calls with retries ----------------------------------------------------------------------

    std::chrono::milliseconds backoff(std::size_t failures) const {
        std::chrono::milliseconds d{cfg.retry_base_delay.count() << std::min<std::size_t>(failures > 0 ? failures - 1 : 0, 20)};
        return std::min(d, cfg.retry_max_delay);
    }

    Result<std::string> make_payload(std::string_view method, const std::string& params) {
        json p = json::parse(params, nullptr, false);
        if (p.is_discarded() || !p.is_object())
            return unexpected(Errc::invalid_argument, "network: " + std::string(method) + ": params must be a JSON object");
        json body = {{"method", std::string(method)}, {"params", std::move(p)}};
        return body.dump();
    }

    /// The destination of the next attempt. Nodes not tried in this call first; among those, the
    /// least suspected (a member that was a hop of an ambiguously failed attempt may be the dead one).
    Result<Snode> pick_target(Target target, const SessionId* account, const std::vector<Snode>& tried,
                              bool& refetched, std::span<const Snode> suspects) {
        auto not_tried = [&](const Snode& n) {
            return std::none_of(tried.begin(), tried.end(), [&](const Snode& t) { return t.keys.ed25519 == n.keys.ed25519; });
        };
        auto least_suspected = [&](const std::vector<Snode>& c) {
            std::size_t best = SIZE_MAX;
            for (const auto& n : c) best = std::min(best, detail::suspicion(suspects, n));
            std::vector<Snode> out;
            for (const auto& n : c)
                if (detail::suspicion(suspects, n) == best) out.push_back(n);
            return out[random_below(rng, out.size())];
        };
        if (target == Target::any) {
            std::lock_guard lk(m);
            std::vector<Snode> c;
            for (const auto& n : usable_pool_locked())
                if (not_tried(n)) c.push_back(n);
            if (c.empty()) c = usable_pool_locked();
            if (c.empty()) return unexpected(Errc::net_no_nodes, "network: no usable node in the pool");
            return least_suspected(c);
        }
        for (int round = 0; round < 2; ++round) {
            auto sw = swarm_for(*account, round == 1);
            if (!sw) return unexpected(sw.error());
            std::lock_guard lk(m);
            std::vector<Snode> c, usable;
            for (const auto& n : sw->nodes) {
                if (!usable_locked(n)) continue;
                usable.push_back(n);
                if (not_tried(n)) c.push_back(n);
            }
            if (!c.empty()) return least_suspected(c);
            // Every usable member was tried in this call: try one again (a path may have been the
            // problem). With none usable, ask the network for the swarm once.
            if (!usable.empty()) return least_suspected(usable);
            if (round == 0 && !refetched) {
                refetched = true;
                continue;
            }
            break;
        }
        return unexpected(Errc::net_no_nodes, "network: no usable member in the swarm of " + account->hex().substr(0, 10) + "…");
    }

    void adopt_421(const SessionId& account, const Snode& from, const std::string& body) {
        auto sw = detail::parse_swarm_reply(body);
        std::lock_guard lk(m);
        if (sw) {
            log(LogLevel::info, "network: 421 from " + from.address() + ": swarm moved (" +
                                    std::to_string(sw->nodes.size()) + " members)");
            swarms[account] = SwarmEntry{std::move(*sw), now_local(), true};
            return;
        }
        // No usable swarm in the reply: forget this member and ask the network next time.
        auto it = swarms.find(account);
        if (it != swarms.end()) {
            auto& nodes = it->second.swarm.nodes;
            nodes.erase(std::remove_if(nodes.begin(), nodes.end(), [&](const Snode& n) { return n.keys.ed25519 == from.keys.ed25519; }),
                        nodes.end());
            it->second.from_rpc = true;
            it->second.fetched_ms = 0;
        } else {
            swarms[account] = SwarmEntry{Swarm{}, 0, true};
        }
    }

    /// A batch whose sub-requests all failed with the same status is that failure (libquic): a 421
    /// or 406 for every sub-request is handled like a 421 or 406 of the whole request.
    static void unwrap_uniform_batch(RpcReply& reply) {
        json j = json::parse(reply.body, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return;
        auto results = j.find("results");
        if (results == j.end() || !results->is_array() || results->empty()) return;
        std::optional<int> code;
        for (const auto& r : *results) {
            if (!r.is_object() || !r.contains("code") || !r["code"].is_number_integer()) return;
            int c = r["code"].get<int>();
            if (is_2xx(c) || (code && *code != c)) return;
            code = c;
        }
        const json& body = (*results)[0].contains("body") ? (*results)[0]["body"] : json();
        reply.status = *code;
        reply.body = body.is_string() ? body.get<std::string>() : body.dump();
    }

    /// The retry loop shared by every RPC. Final statuses (2xx, 4xx other than 406/425, and 421 or 5xx
    /// once retries are exhausted) are returned as values; transport/path failures as errors.
    Result<RpcReply> call(Target target, const Snode* fixed, const SessionId* account, std::string_view method,
                          const ParamsBuilder& build, std::chrono::milliseconds timeout, bool resync_allowed) {
        std::set<std::uint64_t> failed_paths;
        std::vector<Snode> tried;
        std::vector<Snode> suspects;  // hops of this call's ambiguous failures, once per failure
        int redirects = 0;
        bool resynced = false, refetched = false, blamed_clock = false;
        std::size_t failures = 0, fixed_path_failures = 0, used = 0;
        std::optional<Error> last_error;
        std::optional<RpcReply> last_reply;
        while (used < cfg.max_attempts) {
            if (failures > 0) std::this_thread::sleep_for(backoff(failures));
            Snode dest;
            if (target == Target::fixed) {
                dest = *fixed;
            } else {
                auto d = pick_target(target, account, tried, refetched, suspects);
                if (!d) return unexpected(d.error());
                dest = std::move(*d);
            }
            auto params = build(now_network());
            if (!params) return unexpected(params.error());
            auto payload = make_payload(method, *params);
            if (!payload) return unexpected(payload.error());
            ++used;
            Attempt a = send_once(dest, *payload, timeout, failed_paths, suspects);
            if (a.fail == Fail::fatal) return unexpected(std::move(a.error));
            suspects.insert(suspects.end(), a.suspects.begin(), a.suspects.end());
            if (a.fail == Fail::dest) {
                last_error = std::move(a.error);
                ++failures;
                if (target == Target::fixed) return unexpected(std::move(*last_error));
                tried.push_back(dest);
                continue;
            }
            if (a.fail == Fail::path) {
                last_error = std::move(a.error);
                ++failures;
                if (!a.relay_blamed) {
                    // A timeout or 5xx on the way cannot tell a dead destination from a dead relay:
                    // both the path and the destination get a strike (a success clears them), so a
                    // dead member stops being chosen after strike_threshold failures.
                    std::lock_guard lk(m);
                    strike_locked(dest, 1);
                }
                if (target == Target::fixed) {
                    if (++fixed_path_failures >= kFixedNodePathFailures) {
                        last_error->message += " (" + std::to_string(fixed_path_failures) + " paths failed to reach " +
                                               dest.address() + ")";
                        return unexpected(std::move(*last_error));
                    }
                } else if (!a.relay_blamed) {
                    // Change the destination too: the failure may be the member, not the path.
                    tried.push_back(dest);
                }
                continue;
            }
            RpcReply reply{a.reply.status, std::move(a.reply.body), dest};
            // This member answered badly (its clock, or a 5xx): a strike, and another member next.
            auto strike_and_move_on = [&] {
                {
                    std::lock_guard lk(m);
                    strike_locked(dest, 1);
                }
                ++failures;
                tried.push_back(dest);
                last_reply = std::move(reply);
            };
            if (is_2xx(reply.status) && (method == "batch" || method == "sequence")) unwrap_uniform_batch(reply);
            if (is_2xx(reply.status)) return reply;
            log(LogLevel::debug, "network: " + std::string(method) + " at " + dest.address() + ": status " +
                                     std::to_string(reply.status) + ": " + quote(reply.body));
            if (reply.status == 406 || reply.status == 425) {
                // Clock out of sync (storage-server.md §4.7): resync, then rebuild (re-sign) and resend.
                // Just resynchronised (another call did)? Then a 406 from one swarm member says
                // more about its clock than ours: strike it and ask another member first.
                const bool recent_sync = now_local() - last_sync_ms.load() < kRecentSyncMs;
                if (resync_allowed && !resynced && recent_sync && target != Target::fixed && !blamed_clock) {
                    blamed_clock = true;
                    strike_and_move_on();
                    continue;
                }
                if (resync_allowed && !resynced) {
                    resynced = true;
                    --used;  // the resynchronised retry is not charged to the attempt budget
                    log(LogLevel::info, "network: " + std::string(method) + ": " + std::to_string(reply.status) +
                                            " from " + dest.address() + ": resynchronising the network time");
                    auto s = sync_after(a.recv_ms);
                    if (!s) log(LogLevel::warning, s.error().message);
                    continue;
                }
                if (target != Target::fixed) {
                    // Still out of sync with the network's median time: this member's clock is off
                    // (a strike, so it stops costing a resync per request).
                    strike_and_move_on();
                    continue;
                }
                return reply;
            }
            if (reply.status == 421) {
                if (account) adopt_421(*account, dest, reply.body);
                if (target == Target::swarm && redirects < kMaxSwarmRedirects) {
                    ++redirects;
                    tried.clear();
                    last_reply = std::move(reply);
                    continue;
                }
                return reply;
            }
            if (reply.status >= 500) {
                if (target != Target::fixed) {
                    strike_and_move_on();
                    continue;
                }
                {
                    std::lock_guard lk(m);
                    strike_locked(dest, 1);
                }
                return reply;
            }
            return reply;  // 400, 401, 403, 404, …: the caller's problem, no strikes
        }
        if (last_reply) return std::move(*last_reply);
        if (last_error) {
            last_error->message += " (gave up after " + std::to_string(used) + " attempts)";
            return unexpected(std::move(*last_error));
        }
        return unexpected(Errc::net_path_failed, "network: " + std::string(method) + ": no attempt possible");
    }

    // ---- swarms --------------------------------------------------------------------------------

    Result<Swarm> swarm_for(const SessionId& account, bool force) {
        const std::int64_t now = now_local();
        const std::int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.swarm_cache_ttl).count();
        bool from_rpc = force;
        {
            std::lock_guard lk(m);
            auto it = swarms.find(account);
            if (it != swarms.end()) {
                from_rpc = from_rpc || it->second.from_rpc;
                if (!force && now - it->second.fetched_ms < ttl_ms && !it->second.swarm.nodes.empty()) {
                    std::size_t usable = 0;
                    for (const auto& n : it->second.swarm.nodes) usable += usable_locked(n) ? 1 : 0;
                    if (usable >= std::min(kMinSwarmMembers, it->second.swarm.nodes.size())) return it->second.swarm;
                }
            }
            if (!from_rpc) {
                // Computed locally from the pool's swarm ids (protocol.md §5.4): no request.
                std::vector<std::uint64_t> ids;
                for (const auto& n : pool)
                    if (n.swarm_id) ids.push_back(*n.swarm_id);
                if (!ids.empty()) {
                    auto id = swarm::closest_swarm(swarm::swarm_space(account.x25519()), ids);
                    Swarm s;
                    s.id = id;
                    for (const auto& n : pool)
                        if (n.swarm_id == id) s.nodes.push_back(n);
                    if (!s.nodes.empty()) {
                        swarms[account] = SwarmEntry{s, now, false};
                        return s;
                    }
                }
            }
            ++stats.swarm_lookups;
        }
        const std::string hex = account.hex();
        ParamsBuilder b = [&](std::int64_t) -> Result<std::string> { return json{{"pubkey", hex}}.dump(); };
        auto r = call(Target::any, nullptr, nullptr, "get_swarm", b, cfg.request_timeout, true);
        if (!r) return unexpected(r.error());
        if (!is_2xx(r->status)) return unexpected(status_error("get_swarm", *r));
        auto sw = detail::parse_swarm_reply(r->body);
        if (!sw) return unexpected(sw.error());
        std::lock_guard lk(m);
        swarms[account] = SwarmEntry{*sw, now_local(), true};
        log(LogLevel::debug, "network: swarm of " + hex.substr(0, 10) + "…: " + std::to_string(sw->nodes.size()) + " members");
        return sw;
    }

    // ---- clock sync ----------------------------------------------------------------------------

    /// Resynchronises unless a sync finished after `failed_at` (then the offset is already fresh).
    Result<void> sync_after(std::int64_t failed_at) {
        std::lock_guard sl(sync_m);
        if (last_sync_ms >= failed_at) return {};
        std::vector<Snode> nodes;
        {
            std::lock_guard lk(m);
            nodes = usable_pool_locked();
        }
        shuffle(nodes, rng);
        if (nodes.empty()) return unexpected(Errc::net_no_nodes, "network: clock sync: no usable node");
        if (nodes.size() > kClockSyncNodes + 2) nodes.resize(kClockSyncNodes + 2);  // spares for failures
        std::mutex sm;
        std::vector<std::int64_t> samples;
        std::optional<Error> last;
        std::vector<std::thread> workers;
        std::size_t want = std::min(kClockSyncNodes, nodes.size());
        for (std::size_t i = 0; i < want; ++i) {
            workers.emplace_back([&, i] {
                // Each worker tries its node, then a spare.
                for (std::size_t k = i; k < nodes.size(); k += want) {
                    auto s = info_sample(nodes[k]);
                    std::lock_guard lk(sm);
                    if (s) {
                        samples.push_back(*s);
                        return;
                    }
                    last = s.error();
                }
            });
        }
        for (auto& w : workers) w.join();
        if (samples.empty()) return unexpected(last ? *last : Error{Errc::net_no_nodes, "network: clock sync: no answer"});
        const std::int64_t med = detail::median(samples);
        {
            std::lock_guard lk(m);
            offset_samples.assign(1, med);
            offset = med;
            ++stats.clock_syncs;
        }
        last_sync_ms = now_local();
        log(LogLevel::info, "network: clock offset " + std::to_string(med) + " ms (median of " +
                                std::to_string(samples.size()) + " nodes)");
        return {};
    }

    /// `info` on one node: offset sample = t − local midpoint (RTT/2 correction).
    Result<std::int64_t> info_sample(const Snode& node) {
        std::set<std::uint64_t> failed;
        std::vector<Snode> suspects;
        const std::string payload = R"({"method":"info","params":{}})";
        Error last{Errc::net_path_failed, "network: info: no attempt"};
        for (int i = 0; i < 2; ++i) {
            Attempt a = send_once(node, payload, cfg.request_timeout, failed, suspects);
            suspects.insert(suspects.end(), a.suspects.begin(), a.suspects.end());
            if (a.fail != Fail::none) {
                last = std::move(a.error);
                if (a.fail != Fail::path) break;
                continue;
            }
            if (!is_2xx(a.reply.status)) return unexpected(status_error("info", RpcReply{a.reply.status, a.reply.body, node}));
            auto t = detail::find_timestamp(a.reply.body);
            if (!t) return unexpected(Errc::net_bad_response, "network: info from " + node.address() + ": no 't'");
            return *t - (a.sent_ms + (a.recv_ms - a.sent_ms) / 2);
        }
        return unexpected(std::move(last));
    }

    // ---- pool ----------------------------------------------------------------------------------

    void reap_threads() {
        std::lock_guard lk(threads_m);
        for (auto it = threads.begin(); it != threads.end();) {
            if (it->second->load()) {
                it->first.join();
                it = threads.erase(it);
            } else {
                ++it;
            }
        }
    }

    /// Races the seeds (protocol.md §5.1): shuffled; the next one starts when every running one has
    /// failed or `seed_stagger` has passed; the first valid list wins.
    Result<std::vector<Snode>> fetch_seeds() {
        if (cfg.seeds.empty()) return unexpected(Errc::net_no_nodes, "network: no seed configured");
        reap_threads();
        struct Race {
            std::mutex m;
            std::condition_variable cv;
            std::optional<std::vector<Snode>> result;
            std::vector<std::string> errors;
            std::size_t finished = 0;
        };
        auto race = std::make_shared<Race>();
        std::vector<std::size_t> order(cfg.seeds.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        shuffle(order, rng);

        auto start = [&](const SeedNode& seed) {
            auto done = std::make_shared<std::atomic<bool>>(false);
            HttpRequest req;
            req.url = seed.url + "/json_rpc";
            req.body = to_bytes(detail::seed_request_body());
            req.headers = {{"Content-Type", "application/json"}};
            req.tls = seed.tls;
            req.timeout = cfg.seed_timeout;
            req.connect_timeout = std::min(cfg.connect_timeout, cfg.seed_timeout);
            {
                std::lock_guard lk(m);
                ++stats.seed_requests;
            }
            log(LogLevel::debug, "network: asking seed " + seed.url);
            std::thread t([race, done, req = std::move(req), tr = transport, url = seed.url] {
                auto resp = tr->post(req);
                std::optional<std::vector<Snode>> nodes;
                std::string err;
                if (!resp) {
                    err = resp.error().message;
                } else if (resp->status != 200) {
                    err = "HTTP " + std::to_string(resp->status);
                } else if (resp->content_type.rfind("application/json", 0) != 0) {
                    // Desktop requires this content type (SeedNodeAPI.ts).
                    err = "Content-Type \"" + quote(resp->content_type) + "\", expected application/json";
                } else {
                    auto parsed = detail::parse_seed_reply(to_string(resp->body));
                    if (parsed) nodes = std::move(*parsed);
                    else err = parsed.error().message;
                }
                {
                    std::lock_guard lk(race->m);
                    if (nodes && !race->result) race->result = std::move(nodes);
                    else if (!nodes) race->errors.push_back(url + ": " + err);
                    ++race->finished;
                }
                race->cv.notify_all();
                done->store(true);
            });
            std::lock_guard lk(threads_m);
            threads.emplace_back(std::move(t), done);
        };

        std::size_t started = 0;
        auto last_start = std::chrono::steady_clock::now();
        std::unique_lock lk(race->m);
        while (true) {
            if (race->result) break;
            if (started == order.size() && race->finished == started) break;
            auto now = std::chrono::steady_clock::now();
            bool more = started < order.size();
            if (more && (started == 0 || race->finished == started || now >= last_start + cfg.seed_stagger)) {
                lk.unlock();
                start(cfg.seeds[order[started]]);
                lk.lock();
                ++started;
                last_start = std::chrono::steady_clock::now();
                continue;
            }
            if (more) race->cv.wait_until(lk, last_start + cfg.seed_stagger);
            else race->cv.wait(lk);
        }
        if (race->result) return std::move(*race->result);
        std::string msg = "network: every seed failed:";
        for (const auto& e : race->errors) msg += " [" + e + "]";
        return unexpected(Errc::net_no_nodes, msg);
    }

    /// Asks 3 random pool nodes for the node list via onion and keeps the intersection.
    Result<std::vector<Snode>> refresh_from_snodes() {
        std::vector<Snode> nodes;
        std::size_t pool_size;
        {
            std::lock_guard lk(m);
            nodes = usable_pool_locked();
            pool_size = pool.size();
        }
        shuffle(nodes, rng);
        std::vector<std::vector<Snode>> lists;
        const std::string params = detail::pool_refresh_params();
        ParamsBuilder b = [&](std::int64_t) -> Result<std::string> { return params; };
        for (std::size_t i = 0; i < nodes.size() && i < kRefreshNodes + 2 && lists.size() < kRefreshNodes; ++i) {
            auto r = call(Target::fixed, &nodes[i], nullptr, "oxend_request", b, cfg.request_timeout, false);
            if (!r || !is_2xx(r->status)) continue;
            auto list = detail::parse_oxend_reply(r->body);
            if (list) lists.push_back(std::move(*list));
        }
        if (lists.size() < kRefreshNodes)
            return unexpected(Errc::net_no_nodes, "network: pool refresh: only " + std::to_string(lists.size()) + " of " +
                                                      std::to_string(kRefreshNodes) + " nodes answered");
        std::vector<Snode> agreed;
        for (const auto& n : lists[0]) {
            bool everywhere = true;
            for (std::size_t k = 1; k < lists.size() && everywhere; ++k)
                everywhere = std::any_of(lists[k].begin(), lists[k].end(), [&](const Snode& o) { return o == n; });
            if (everywhere) agreed.push_back(n);
        }
        std::size_t need = std::min(cfg.refresh_agreement, std::max(cfg.path_length + 1, pool_size * 2 / 3));
        if (agreed.size() < need)
            return unexpected(Errc::net_no_nodes, "network: pool refresh: " + std::to_string(agreed.size()) +
                                                      " nodes agreed, need " + std::to_string(need));
        return agreed;
    }

    void set_pool(std::vector<Snode> nodes, const std::string& source) {
        {
            std::lock_guard lk(m);
            pool = std::move(nodes);
            pool_fetched_ms = now_local();
            pool_fetched_size = pool.size();
            strikes.clear();  // a fresh list gives every node a fresh start (libquic)
            paths.erase(std::remove_if(paths.begin(), paths.end(),
                                       [&](const PathState& p) {
                                           return std::any_of(p.nodes.begin(), p.nodes.end(), [&](const Snode& n) {
                                               return std::find(pool.begin(), pool.end(), n) == pool.end();
                                           });
                                       }),
                        paths.end());
            ++stats.pool_fetches;
        }
        log(LogLevel::info, "network: snode pool from " + source + ": " + std::to_string(pool_fetched_size) + " nodes");
        save_cache();
    }

    void save_cache() {
        if (opt.pool_cache_path.empty()) return;
        std::string text;
        {
            std::lock_guard lk(m);
            text = "# session-client snode pool " + std::to_string(pool_fetched_ms) + "\n";
            for (const auto& n : pool) text += detail::pool_line(n) + "\n";
        }
        const std::string tmp = opt.pool_cache_path + ".tmp";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) {
                log(LogLevel::warning, "network: cannot write pool cache " + opt.pool_cache_path);
                return;
            }
            out << text;
        }
        std::error_code ec;
        std::filesystem::rename(tmp, opt.pool_cache_path, ec);
        if (ec) log(LogLevel::warning, "network: cannot write pool cache " + opt.pool_cache_path + ": " + ec.message());
    }

    /// The cached pool and when it was fetched (ms); empty if absent or unreadable.
    std::pair<std::vector<Snode>, std::int64_t> load_cache() {
        std::vector<Snode> out;
        std::int64_t fetched = 0;
        if (opt.pool_cache_path.empty()) return {out, 0};
        std::ifstream in(opt.pool_cache_path);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            if (line[0] == '#') {
                auto sp = line.rfind(' ');
                if (sp != std::string::npos) fetched = std::atoll(line.c_str() + sp + 1);
                continue;
            }
            auto n = detail::parse_pool_line(line);
            if (n) out.push_back(std::move(*n));
        }
        return {out, fetched};
    }

    bool pool_ok_locked(std::int64_t now) const {
        if (pool.empty()) return false;
        std::size_t usable = usable_pool_locked().size();
        std::size_t need = std::min(cfg.min_pool_size, std::max<std::size_t>(pool_fetched_size, 1));
        const std::int64_t interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.pool_refresh_interval).count();
        return usable >= need && usable >= cfg.path_length + 1 && now - pool_fetched_ms < interval;
    }

    Result<void> ensure_pool() {
        {
            std::lock_guard lk(m);
            if (pool_ok_locked(now_local())) return {};
        }
        std::unique_lock fl(fetch_m, std::defer_lock);
        {
            // A stale but routable pool keeps serving while another thread refreshes it.
            std::lock_guard lk(m);
            const bool routable = !pool.empty() && usable_pool_locked().size() >= cfg.path_length + 1;
            if (routable) {
                if (!fl.try_lock()) return {};
            }
        }
        if (!fl.owns_lock()) fl.lock();
        const std::int64_t now = now_local();
        std::size_t usable;
        bool have_pool;
        {
            std::lock_guard lk(m);
            if (pool_ok_locked(now)) return {};
            usable = usable_pool_locked().size();
            have_pool = !pool.empty();
            const std::int64_t interval =
                std::chrono::duration_cast<std::chrono::milliseconds>(cfg.pool_refresh_interval).count();
            const bool stale = now - pool_fetched_ms >= interval;
            if (have_pool && !stale && usable >= cfg.path_length + 1 && now - last_fetch_attempt_ms < kMinRefetchIntervalMs)
                return {};  // cooldown after a strike-triggered fetch: the pool still routes
            last_fetch_attempt_ms = now;
        }
        const std::int64_t interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.pool_refresh_interval).count();
        if (!have_pool) {
            // A fresh cached pool saves the seed request at start-up (desktop keeps its pool in its DB).
            auto [cached, fetched] = load_cache();
            if (cached.size() >= std::max(cfg.min_pool_size, cfg.path_length + 1) && now - fetched < interval) {
                {
                    std::lock_guard lk(m);
                    pool = std::move(cached);
                    pool_fetched_ms = fetched;
                    pool_fetched_size = pool.size();
                }
                log(LogLevel::info, "network: snode pool from cache: " + std::to_string(pool_fetched_size) + " nodes");
                return {};
            }
        }
        std::optional<Error> err;
        if (have_pool && usable >= kRefreshNodes + cfg.path_length) {
            auto r = refresh_from_snodes();
            if (r) {
                set_pool(std::move(*r), "3 snodes");
                return {};
            }
            log(LogLevel::info, r.error().message + "; asking the seeds");
        }
        auto s = fetch_seeds();
        if (s) {
            set_pool(std::move(*s), "seed");
            return {};
        }
        log(LogLevel::warning, s.error().message);
        if (have_pool) {
            std::lock_guard lk(m);
            if (usable < cfg.path_length + 1) strikes.clear();  // last resort: give every node another chance
            return {};
        }
        auto [cached, fetched] = load_cache();
        if (!cached.empty()) {
            set_pool(std::move(cached), "cache (seeds unreachable)");
            return {};
        }
        if (!cfg.bootstrap_nodes.empty()) {
            set_pool(cfg.bootstrap_nodes, "bootstrap list (seeds unreachable)");
            return {};
        }
        return unexpected(s.error());
    }
};

// ---- public API ----------------------------------------------------------------------------

Network::Network(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Network::~Network() = default;

Result<void> Network::bootstrap() { return impl_->ensure_pool(); }

std::int64_t Network::now_ms() const { return impl_->now_network(); }
std::int64_t Network::clock_offset_ms() const { return impl_->offset.load(); }

Result<void> Network::sync_clock() {
    auto p = impl_->ensure_pool();
    if (!p) return p;
    return impl_->sync_after(impl_->now_local());
}

Result<Swarm> Network::get_swarm(const SessionId& account) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    return impl_->swarm_for(account, false);
}

Result<StoreResult> Network::store(const SessionId& recipient, std::int16_t ns, std::string_view data_b64,
                                   std::int64_t ttl_ms) {
    if (data_b64.size() > kMaxStoreDataB64)
        return unexpected(Errc::net_too_large, "network: store: data is " + std::to_string(data_b64.size()) +
                                                   " base64 characters, the limit is " + std::to_string(kMaxStoreDataB64));
    auto raw = base64_decode(data_b64);
    if (!raw) return unexpected(Errc::invalid_argument, "network: store: data: " + raw.error().message);
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    const std::string expected = swarm::message_hash(recipient.bytes(), ns, *raw);
    const std::string pubkey = recipient.hex();
    const std::string data(data_b64);
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        return json{{"pubkey", pubkey}, {"timestamp", now}, {"ttl", ttl_ms}, {"namespace", ns}, {"data", data}}.dump();
    };
    auto r = impl_->call(Target::swarm, nullptr, &recipient, "store", b, impl_->cfg.request_timeout, true);
    if (!r) return unexpected(r.error());
    if (!is_2xx(r->status)) return unexpected(status_error("store", *r));

    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return unexpected(Errc::net_bad_response, "network: store reply from " + r->node.address() + ": not a JSON object");
    StoreResult out;
    out.hash = expected;
    out.entry = r->node;
    if (auto sw = j.find("swarm"); sw != j.end() && sw->is_object()) {
        for (const auto& [key, v] : sw->items()) {
            auto ed = from_hex_array<32>(key);
            if (!ed) continue;
            StoreNodeResult nr;
            nr.node.bytes = *ed;
            if (!v.is_object()) {
                nr.failure = "malformed entry";
            } else if (v.value("failed", false)) {
                if (v.value("timeout", false)) nr.failure = "timeout";
                else if (v.contains("code"))
                    nr.failure = "code " + (v["code"].is_string() ? v["code"].get<std::string>() : v["code"].dump()) +
                                 ": " + quote(v.value("reason", std::string{}));
                else if (v.value("bad_peer_response", false)) nr.failure = "bad peer response";
                else if (v.value("query_failure", false)) nr.failure = "query failure";
                else nr.failure = "failed";
            } else {
                nr.hash = v.value("hash", std::string{});
                nr.signature = v.value("signature", std::string{});
                if (auto e = v.find("expiry"); e != v.end() && e->is_number_integer()) nr.expiry_ms = e->get<std::int64_t>();
                nr.already = v.value("already", false);
                auto sig = base64_decode(nr.signature);
                // The node signs the ASCII hash with its Ed25519 key (storage-server.md §4.6).
                nr.signature_valid = sig && sig->size() == kEd25519SignatureBytes && verify(nr.node, as_bytes(nr.hash), *sig);
                nr.ok = nr.signature_valid && nr.hash == expected;
                if (!nr.signature_valid) nr.failure = "bad signature";
                else if (nr.hash != expected) nr.failure = "hash mismatch: " + quote(nr.hash);
            }
            if (nr.node == r->node.keys.ed25519 && nr.ok) out.expiry_ms = nr.expiry_ms;
            out.nodes.push_back(std::move(nr));
        }
    }
    if (out.confirmed() == 0)
        return unexpected(Errc::net_bad_response, "network: store via " + r->node.address() + ": no swarm member confirmed hash " +
                                                      expected + " (" + std::to_string(out.nodes.size()) + " entries)");
    if (out.expiry_ms == 0)
        for (const auto& n : out.nodes)
            if (n.ok) out.expiry_ms = std::max(out.expiry_ms, n.expiry_ms);
    return out;
}

Result<std::string> Network::retrieve(const SessionId& account, const Snode& node, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    auto r = impl_->call(Target::fixed, &node, &account, "retrieve", params, impl_->cfg.retrieve_timeout, true);
    if (!r) return unexpected(r.error());
    if (!is_2xx(r->status)) return unexpected(status_error("retrieve", *r));  // 421: swarm cache already updated
    return std::move(r->body);
}

Result<InfoResult> Network::info(const Snode& node) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    ParamsBuilder b = [](std::int64_t) -> Result<std::string> { return std::string("{}"); };
    auto r = impl_->call(Target::fixed, &node, nullptr, "info", b, impl_->cfg.request_timeout, false);
    if (!r) return unexpected(r.error());
    if (!is_2xx(r->status)) return unexpected(status_error("info", *r));
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return unexpected(Errc::net_bad_response, "network: info from " + node.address() + ": not a JSON object");
    InfoResult out;
    auto ints = [](const json& a) {
        std::vector<int> v;
        if (a.is_array())
            for (const auto& e : a)
                if (e.is_number_integer()) v.push_back(e.get<int>());
        return v;
    };
    if (auto v = j.find("version"); v != j.end()) out.version = ints(*v);
    if (auto h = j.find("hf"); h != j.end()) out.hardfork = ints(*h);
    if (auto t = j.find("timestamp"); t != j.end() && t->is_number_integer()) out.timestamp_ms = t->get<std::int64_t>();
    else if (auto t2 = detail::find_timestamp(r->body)) out.timestamp_ms = *t2;
    else return unexpected(Errc::net_bad_response, "network: info from " + node.address() + ": no timestamp");
    return out;
}

Result<RpcReply> Network::rpc(const Snode& node, std::string_view method, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    return impl_->call(Target::fixed, &node, nullptr, method, params, impl_->cfg.request_timeout, true);
}

Result<RpcReply> Network::swarm_rpc(const SessionId& account, std::string_view method, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    auto r = impl_->call(Target::swarm, nullptr, &account, method, params, impl_->cfg.request_timeout, true);
    if (!r) return r;
    if (!is_2xx(r->status)) return unexpected(status_error(method, *r));
    return r;
}

std::vector<Snode> Network::snode_pool() const {
    std::lock_guard lk(impl_->m);
    return impl_->pool;
}

std::vector<std::vector<Snode>> Network::paths() const {
    std::lock_guard lk(impl_->m);
    std::vector<std::vector<Snode>> out;
    for (const auto& p : impl_->paths) out.push_back(p.nodes);
    return out;
}

Stats Network::stats() const {
    std::lock_guard lk(impl_->m);
    return impl_->stats;
}

const NetworkConfig& Network::config() const { return impl_->cfg; }

}  // namespace session::network
