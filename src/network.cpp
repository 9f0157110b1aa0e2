// network.cpp: the Network (network.hpp) composes the units of src/network/:
//
//   where to look                                        unit (src/network/)
//   the node list, its strikes, seeds, the cache file    pool.hpp      Pool
//   which path a request takes; kept paths               paths.hpp     PathSet, pick_path
//   which nodes store an account; the swarm cache        swarms.hpp    SwarmCache, local_swarm
//   network time: the clock offset and resyncs          clock.hpp     NetworkClock
//   one RPC with its retries, failures and strikes       call.hpp      Caller
//   what seeds and nodes answer, parsed                  parse.hpp
//   the mainnet seeds; a network file                    seeds.hpp, config.cpp
//   HTTPS (libcurl)                                      curl_transport.cpp
//   log lines and the lock that defers them              log.hpp
//
// Each unit locks itself (no lock is held across I/O or while the user's log callback runs); this
// file only wires them together and implements the public calls.
#include "session/network.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "detail/wait_loop.hpp"
#include "network/call.hpp"
#include "network/clock.hpp"
#include "network/log.hpp"
#include "network/parse.hpp"
#include "network/paths.hpp"
#include "network/pool.hpp"
#include "network/swarms.hpp"
#include "session/swarm.hpp"

namespace session::network {

using nlohmann::json;

namespace {

/// get_swarm answers asked for at most, one node after another, while each is unreadable or has no
/// verifiable member (a hostile node's word is not taken; a transport failure ends the lookup as
/// before, after the call's own retries).
constexpr std::size_t kSwarmLookupAnswers = 3;
/// Members asked to store one message at most while each 200 answer is unreadable or confirms
/// nothing (a member may claim success and drop the message).
constexpr std::size_t kStoreAnswers = 3;

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

bool is_2xx(int s) { return s >= 200 && s < 300; }

/// The message hash of a store's data, after checking it against the storage server's limits
/// (storage-server.md §5.3). Errors: net_too_large, invalid_argument (not base64).
Result<std::string> checked_hash(const SessionId& recipient, std::int16_t ns, std::string_view b64) {
    if (b64.size() > kMaxStoreDataChars)
        return unexpected(Errc::net_too_large, "network: store: data: expected at most " + std::to_string(kMaxStoreDataChars) +
                                                   " base64 characters, got " + std::to_string(b64.size()));
    auto raw = base64_decode(b64);
    if (!raw) return unexpected(Errc::invalid_argument, "network: store: data: " + raw.error().message);
    if (raw->size() > kMaxStoreDataBytes)
        return unexpected(Errc::net_too_large, "network: store: data: expected at most " + std::to_string(kMaxStoreDataBytes) +
                                                   " bytes decoded, got " + std::to_string(raw->size()));
    return swarm::message_hash(recipient.bytes(), ns, *raw);
}

std::shared_ptr<Transport> transport_of(const Options& o) {
    if (o.transport) return o.transport;
    auto t = curl_transport(o.log, std::max<std::size_t>(1, o.io_threads));
    if (!t) throw std::runtime_error(t.error().message);
    return *t;
}

}  // namespace

struct Network::Impl final : detail::CallHooks {
    Options opt;
    const NetworkConfig& cfg;
    std::shared_ptr<Executor> executor;
    std::shared_ptr<Transport> transport;
    detail::Logger log;
    LockedRng rng;
    detail::NetworkClock clock;
    detail::Pool pool;
    detail::PathSet paths;
    detail::SwarmCache swarms;
    detail::Caller caller;

    explicit Impl(Options o)
            : opt(std::move(o)),
              cfg(opt.config),
              executor(opt.executor ? opt.executor : make_thread_pool()),
              transport(transport_of(opt)),
              log(opt.log),
              rng(opt.rng ? opt.rng : system_rng()),
              clock(opt.clock ? opt.clock : system_clock(), log),
              pool({cfg, transport, executor, rng, clock, opt.pool_cache_path, log}),
              paths(cfg, rng, log),
              swarms(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.swarm_cache_ttl), log),
              caller({cfg, *transport, pool, paths, clock, rng, log, *this}) {}

    // ---- the pool ----------------------------------------------------------------------------------

    Result<void> ensure_pool() {
        // A refresh asks pool nodes for their list (oxend_request get_service_nodes via onion).
        auto ask = [this](const Snode& node) -> std::optional<std::vector<Snode>> {
            const std::string params = detail::pool_refresh_params();
            ParamsBuilder b = [&](std::int64_t) -> Result<std::string> { return params; };
            auto r = caller.call(detail::ToNode{node, std::nullopt}, "oxend_request", b, cfg.request_timeout, false);
            if (!r || !is_2xx(r->status)) return std::nullopt;
            auto list = detail::parse_oxend_reply(r->body);
            if (!list) return std::nullopt;
            return std::move(*list);
        };
        auto replaced = pool.ensure(ask);
        if (!replaced) return unexpected(replaced.error());
        if (*replaced) paths.keep_only(pool.nodes());
        return {};
    }

    // ---- async calls ---------------------------------------------------------------------------------

    /// Async calls started and not yet ended (~Network waits for none).
    std::mutex async_m;
    std::condition_variable async_idle;
    std::size_t async_running = 0;

    void async_begin() {
        std::lock_guard lk(async_m);
        ++async_running;
    }
    void async_end() {
        std::lock_guard lk(async_m);
        --async_running;
        async_idle.notify_all();  // under the lock: ~Network cannot free it before it is released
    }
    void wait_async() {
        std::unique_lock lk(async_m);
        async_idle.wait(lk, [&] { return async_running == 0; });
    }

    // ---- store_batch ---------------------------------------------------------------------------------

    /// One store_batch_async, shared by its steps (one runs at a time: each starts the next).
    struct BatchCall {
        std::vector<StoreItem> items;
        std::vector<std::optional<Result<StoreResult>>> out;
        std::vector<std::string> hashes;
        std::vector<std::uint64_t> epochs;  // the clock epoch each item's data was made in (StoreItem::data_epoch)
        std::vector<char> landed;           // an attempt that carried the item may have stored it
        std::vector<std::size_t> pending;  // items still to send (this round)
        std::optional<Error> moved;        // the last 421 seen, for items still moving after the last round
        int round = 0;
        std::vector<std::size_t> placing;  // this round's items being put in groups
        std::size_t placed = 0;            // how many of them
        std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;  // this round's batches
        std::size_t group_at = 0;                                              // the one in flight
        Network::StoreBatchDone done;
        Executor* steps = nullptr;
    };

    void batch_start(const std::shared_ptr<BatchCall>& b) {
        if (!b->pending.empty()) {
            if (auto p = ensure_pool(); !p) {
                for (auto i : b->pending) b->out[i] = unexpected(p.error());
                b->pending.clear();
            }
        }
        batch_round(b);
    }

    /// A round: the pending items grouped by swarm (normally one group: the caller grouped them),
    /// one batch per group, one after another.
    void batch_round(const std::shared_ptr<BatchCall>& b) {
        if (b->pending.empty() || b->round > detail::kMaxSwarmRedirects) return batch_finish(b);
        b->groups.clear();
        b->placing = std::exchange(b->pending, {});
        b->placed = 0;
        batch_place(b);
    }

    /// Puts each item of the round in its swarm's group. A swarm neither cached nor placeable is
    /// looked up with its `get_swarm` calls as steps of the executor, so no thread waits for them;
    /// the placing goes on when the answer comes.
    void batch_place(const std::shared_ptr<BatchCall>& b) {
        auto add = [b](std::size_t i, Result<Swarm> sw) {
            if (!sw) {
                b->out[i] = unexpected(std::move(sw).error());
                return;
            }
            std::string key = swarm_group_key(b->items[i].recipient, *sw);
            auto g = std::find_if(b->groups.begin(), b->groups.end(), [&](const auto& x) { return x.first == key; });
            if (g == b->groups.end()) b->groups.emplace_back(std::move(key), std::vector<std::size_t>{i});
            else g->second.push_back(i);
        };
        while (b->placed < b->placing.size()) {
            const std::size_t i = b->placing[b->placed++];
            if (auto known = known_swarm(b->items[i].recipient)) {
                add(i, std::move(*known));
                continue;
            }
            swarm_for_async(b->items[i].recipient, false, *b->steps, [this, b, i, add](Result<Swarm> sw) {
                add(i, std::move(sw));
                batch_place(b);
            });
            return;
        }
        b->placing.clear();
        b->group_at = 0;
        batch_group(b);
    }

    void batch_group(const std::shared_ptr<BatchCall>& b) {
        if (b->group_at == b->groups.size()) {
            ++b->round;
            return batch_round(b);
        }
        std::vector<std::size_t> group = b->groups[b->group_at].second;
        const SessionId lead = b->items[group.front()].recipient;
        auto landed = detail::new_landed_flag();
        ParamsBuilder params = [this, b, group, landed](std::int64_t now) -> Result<std::string> {
            if (!landed->load()) rebuild_stale(*b, group);
            return store_batch_params(*b, group, now);
        };
        caller.call_async(
                detail::ToSwarm{lead}, "batch", std::move(params), cfg.request_timeout, true, *b->steps,
                [this, b, landed](Result<RpcReply> r) {
                    const auto& group = b->groups[b->group_at].second;
                    // Items sent again later (a 421 round) keep what this call may have stored.
                    if (landed->load())
                        for (auto i : group) b->landed[i] = 1;
                    batch_reply(*b, group, std::move(r));
                    ++b->group_at;
                    batch_group(b);
                },
                landed, detail::ParamsText::well_formed);
    }

    /// The params of one batch of stores, {"requests":[{"method":"store","params":{…}}, …]}, written
    /// as text: every value is hex, an integer or the item's data, which checked_hash let in only as
    /// strict base64, so nothing needs escaping and the text is JSON by construction
    /// (ParamsText::well_formed). The same bytes as nlohmann's dump, keys in its (sorted) order.
    static std::string store_batch_params(const BatchCall& b, const std::vector<std::size_t>& group, std::int64_t now) {
        std::size_t size = 16;
        for (auto i : group) size += b.items[i].data_b64.size() + 200;
        std::string out;
        out.reserve(size);
        out += R"({"requests":[)";
        for (auto i : group) {
            const auto& it = b.items[i];
            if (out.back() != '[') out += ',';
            out += R"({"method":"store","params":{"data":")";
            out += it.data_b64;
            out += R"(","namespace":)";
            out += std::to_string(it.ns);
            out += R"(,"pubkey":")";
            out += it.recipient.hex();
            out += R"(","timestamp":)";
            out += std::to_string(now);
            out += R"(,"ttl":)";
            out += std::to_string(it.ttl_ms);
            out += "}}";
        }
        out += "]}";
        return out;
    }

    /// Network time moved (a resync, or a large move learned from replies: the clock epoch) since
    /// these items' data was made (BatchCall::epochs): those with a rebuild get data
    /// made for the new time (as store() does), unless an earlier call that carried them may have
    /// stored them (new data, a new hash: a second message); one that cannot keeps what it had.
    void rebuild_stale(BatchCall& b, const std::vector<std::size_t>& group) {
        // Read after the request's `now` (the call read it before the params builder): a `now` from
        // after a move of network time comes with the epoch from after it.
        const std::uint64_t epoch = clock.epoch();
        for (auto i : group) {
            auto& it = b.items[i];
            if (!it.rebuild || b.landed[i] || b.epochs[i] == epoch) continue;
            b.epochs[i] = epoch;
            // The data's time is read after the epoch it is recorded with.
            auto again = it.rebuild(clock.now_ms());
            Result<std::string> hash = again ? checked_hash(it.recipient, it.ns, *again) : unexpected(again.error());
            if (!hash) {
                log(LogLevel::warning, "network: store_batch: the data for " + it.recipient.hex().substr(0, 10) +
                                           "… could not be made again after network time moved (" + hash.error().message +
                                           "); it goes as it was");
                continue;
            }
            it.data_b64 = std::move(*again);
            b.hashes[i] = std::move(*hash);
        }
    }

    /// One batch's answer: each item's result, or the item goes again in the next round (421).
    void batch_reply(BatchCall& b, const std::vector<std::size_t>& group, Result<RpcReply> r) {
        if (!r) {
            for (auto i : group) b.out[i] = unexpected(r.error());
            return;
        }
        if (!is_2xx(r->status)) {
            // Every sub-request failed with this status (or the batch itself did).
            if (r->status == 421) {
                // The call followed the lead's moves; the others get the same word (checked
                // against the pool) and go again, regrouped.
                const SessionId& lead = b.items[group.front()].recipient;
                for (auto i : group)
                    if (!(b.items[i].recipient == lead)) swarm_moved(b.items[i].recipient, r->node, r->body);
                b.moved = detail::status_error("store", *r);
                b.pending.insert(b.pending.end(), group.begin(), group.end());
                return;
            }
            for (auto i : group) b.out[i] = unexpected(detail::status_error("store", *r));
            return;
        }
        auto subs = detail::parse_batch_results(*r, group.size());
        if (!subs) {
            for (auto i : group) b.out[i] = unexpected(subs.error());
            return;
        }
        // Every answer's member signatures checked in one go (each answer alone when that fails).
        detail::StoreSignatures checked;
        if (opt.store_checks == StoreChecks::every_member) {
            for (const auto& sub : *subs) {
                if (!is_2xx(sub.status)) continue;
                if (sub.store) checked.collect(*sub.store);  // scanned (batch_scan.hpp)
                else if (sub.object) checked.collect(*sub.object);
            }
            checked.check();
        }
        for (std::size_t k = 0; k < group.size(); ++k) {
            const std::size_t i = group[k];
            auto& sub = (*subs)[k];
            RpcReply reply{sub.status, std::move(sub.body), r->node};
            if (is_2xx(reply.status)) {
                std::vector<Snode> members{r->node};
                if (auto entry = swarms.find(b.items[i].recipient))
                    members.insert(members.end(), entry->swarm.nodes.begin(), entry->swarm.nodes.end());
                if (sub.store)
                    b.out[i] = detail::parse_store_answer(*sub.store, b.hashes[i], r->node, members, opt.store_checks, &checked);
                else if (sub.object)
                    b.out[i] = detail::parse_store_object(*sub.object, b.hashes[i], r->node, members, opt.store_checks, &checked);
                else
                    b.out[i] = detail::parse_store_reply(reply.body, b.hashes[i], r->node, members, opt.store_checks);
            } else if (reply.status == 421) {
                swarm_moved(b.items[i].recipient, r->node, reply.body);
                b.moved = detail::status_error("store", reply);
                b.pending.push_back(i);
            } else {
                b.out[i] = unexpected(detail::status_error("store", reply));
            }
        }
    }

    void batch_finish(const std::shared_ptr<BatchCall>& b) {
        for (auto i : b->pending)
            b->out[i] = unexpected(b->moved ? *b->moved : Error{Errc::net_swarm_moved, "network: store: swarm moved"});
        std::vector<Result<StoreResult>> results;
        results.reserve(b->out.size());
        for (auto& o : b->out) results.push_back(std::move(*o));
        auto done = std::move(b->done);
        // Ended before `done` runs: it may release the last reference to the Network.
        async_end();
        done(std::move(results));
    }

    // ---- CallHooks -----------------------------------------------------------------------------------

    /// Cached and fresh, else computed from the pool's swarm ids (unless the cache says the
    /// network placed it); nullopt: `get_swarm` is needed.
    std::optional<Swarm> known_swarm(const SessionId& account) override {
        const std::int64_t now = clock.local_ms();
        const auto entry = swarms.find(account);
        if (entry && swarms.fresh(*entry, now, [&](const Snode& n) { return pool.is_usable(n); })) return entry->swarm;
        if (entry && entry->from_network) return std::nullopt;
        auto local = detail::local_swarm(account, pool.nodes());
        if (local) swarms.put(account, *local, now, false);
        return local;
    }

    /// A swarm lookup in progress: up to kSwarmLookupAnswers `get_swarm` answers, one at a time.
    struct SwarmLookup {
        SessionId account;
        std::string hex;
        detail::ToAnyNode target{};
        std::optional<Error> last{};
        std::size_t asked = 0;
    };

    static ParamsBuilder get_swarm_params(std::string hex) {
        return [hex = std::move(hex)](std::int64_t) -> Result<std::string> { return json{{"pubkey", hex}}.dump(); };
    }

    /// Judges one `get_swarm` answer: a value ends the lookup (the verified swarm, now cached, or
    /// the call's error); nullopt: that node's answer was useless, ask another.
    /// A get_swarm answer is one node's word: an unreadable one, or one whose members cannot be
    /// verified, is that node's failure (remembered in `l.last`, the node avoided next time).
    std::optional<Result<Swarm>> judge_swarm_answer(SwarmLookup& l, Result<RpcReply> r) {
        if (!r) return Result<Swarm>(unexpected(r.error()));
        const auto useless = [&](Error e) {
            log(LogLevel::warning, e.message + "; asking another node");
            l.target.avoid.push_back(r->node);
            l.last = std::move(e);
            return std::nullopt;
        };
        if (!is_2xx(r->status)) return useless(detail::status_error("get_swarm", *r));
        auto claimed = detail::parse_swarm_reply(r->body);
        if (!claimed)
            return useless(Error{claimed.error().code, "network: get_swarm from " + r->node.address() + ": " + claimed.error().message});
        std::size_t ignored = 0;
        auto sw = detail::verify_swarm(*claimed, pool.nodes(), &ignored);
        if (ignored > 0)
            log(LogLevel::warning, "network: get_swarm from " + r->node.address() + ": ignored " + std::to_string(ignored) +
                                       " members not in the pool or with inconsistent keys");
        if (sw.nodes.empty())
            return useless(Error{Errc::net_bad_response, "network: get_swarm from " + r->node.address() + ": none of its " +
                                                             std::to_string(claimed->nodes.size()) + " members could be verified"});
        swarms.put(l.account, sw, clock.local_ms(), true);
        log(LogLevel::debug, "network: swarm of " + l.hex.substr(0, 10) + "…: " + std::to_string(sw.nodes.size()) + " members");
        return Result<Swarm>(std::move(sw));
    }

    /// Cached, else computed from the pool's swarm ids, else `get_swarm` to a random node.
    Result<Swarm> swarm_for(const SessionId& account, bool refetch) override {
        if (!refetch) {
            if (auto known = known_swarm(account)) return std::move(*known);
        }
        swarms.count_lookup();
        SwarmLookup l{account, account.hex()};
        const ParamsBuilder b = get_swarm_params(l.hex);
        for (; l.asked < kSwarmLookupAnswers; ++l.asked)
            if (auto end = judge_swarm_answer(l, caller.call(l.target, "get_swarm", b, cfg.request_timeout, true)))
                return std::move(*end);
        return unexpected(std::move(*l.last));
    }

    /// swarm_for with the `get_swarm` calls as steps of `steps`: no thread waits for them.
    void swarm_for_async(const SessionId& account, bool refetch, Executor& steps,
                         std::function<void(Result<Swarm>)> done) override {
        if (!refetch) {
            if (auto known = known_swarm(account)) return done(std::move(*known));
        }
        swarms.count_lookup();
        auto l = std::make_shared<SwarmLookup>(SwarmLookup{account, account.hex()});
        ask_for_swarm(std::move(l), steps, std::move(done));
    }

    void ask_for_swarm(std::shared_ptr<SwarmLookup> l, Executor& steps, std::function<void(Result<Swarm>)> done) {
        auto target = l->target;
        caller.call_async(std::move(target), "get_swarm", get_swarm_params(l->hex), cfg.request_timeout, true, steps,
                          [this, l, &steps, done = std::move(done)](Result<RpcReply> r) mutable {
                              if (auto end = judge_swarm_answer(*l, std::move(r))) return done(std::move(*end));
                              if (++l->asked >= kSwarmLookupAnswers) return done(unexpected(std::move(*l->last)));
                              ask_for_swarm(std::move(l), steps, std::move(done));
                          });
    }

    /// A resync whose `info` requests are steps of `steps` (NetworkClock::resync_async).
    void resync_clock_async(std::int64_t failed_at_ms, Executor& steps, std::function<void(Result<void>)> done) override {
        clock.resync_async(
                failed_at_ms, [this, &steps](auto gathered) { gather_clock_samples(steps, std::move(gathered)); },
                std::move(done));
    }

    /// A resync's samples being gathered: kClockSyncNodes workers, each asking its node, then its
    /// spares, until one answers.
    struct ClockGathering {
        std::vector<Snode> nodes;  // worker i asks nodes[i], nodes[i + want], …
        std::size_t want = 0;
        std::function<void(detail::NetworkClock::Samples)> done;
        std::mutex m;
        std::vector<detail::NetworkClock::NodeSample> samples;
        std::optional<Error> last;
        std::size_t running = 0;
    };

    /// `info` on kClockSyncNodes random nodes at once (each with a spare).
    void gather_clock_samples(Executor& steps, std::function<void(detail::NetworkClock::Samples)> done) {
        auto nodes = pool.usable();
        shuffle(nodes, rng);
        if (nodes.empty()) return done(unexpected(Errc::net_no_nodes, "network: clock sync: no usable node"));
        if (nodes.size() > detail::kClockSyncNodes + 2) nodes.resize(detail::kClockSyncNodes + 2);
        auto g = std::make_shared<ClockGathering>();
        g->want = std::min(detail::kClockSyncNodes, nodes.size());
        g->running = g->want;
        g->nodes = std::move(nodes);
        g->done = std::move(done);
        for (std::size_t i = 0; i < g->want; ++i) sample_clock_from(g, i, steps);
    }

    void sample_clock_from(const std::shared_ptr<ClockGathering>& g, std::size_t k, Executor& steps) {
        info_sample_async(g->nodes[k], steps, [this, g, k, &steps](Result<detail::NetworkClock::NodeSample> s) {
            {
                std::unique_lock lock(g->m);
                if (s) {
                    g->samples.push_back(*s);
                } else {
                    g->last = s.error();
                    if (k + g->want < g->nodes.size()) {
                        lock.unlock();
                        return sample_clock_from(g, k + g->want, steps);  // this worker's spare
                    }
                }
                if (--g->running > 0) return;
            }
            // The last worker to end: the others' results are in.
            if (g->samples.empty())
                return g->done(unexpected(g->last ? *g->last : Error{Errc::net_no_nodes, "network: clock sync: no answer"}));
            g->done(std::move(g->samples));
        });
    }

    /// A 421 body is one node's claim: only its members that verify against the pool are adopted.
    void swarm_moved(const SessionId& account, const Snode& from, std::string_view body) override {
        std::optional<Swarm> moved_to;
        if (auto claimed = detail::parse_swarm_reply(body)) {
            std::size_t ignored = 0;
            auto sw = detail::verify_swarm(*claimed, pool.nodes(), &ignored);
            if (ignored > 0)
                log(LogLevel::warning, "network: 421 from " + from.address() + ": ignored " + std::to_string(ignored) +
                                           " members not in the pool or with inconsistent keys");
            if (!sw.nodes.empty()) moved_to = std::move(sw);
        }
        swarms.moved(account, from, std::move(moved_to), clock.local_ms());
    }

    /// `info` on one node (a second attempt after a path failure): offset sample = t − local
    /// midpoint (RTT/2 correction).
    struct InfoAsk {
        Snode node;
        detail::AttemptMemory memory;
        int attempts = 0;
        std::function<void(Result<detail::NetworkClock::NodeSample>)> done;
    };
    void info_sample_async(const Snode& node, Executor& steps,
                           std::function<void(Result<detail::NetworkClock::NodeSample>)> done) {
        ask_info(std::make_shared<InfoAsk>(InfoAsk{node, {}, 0, std::move(done)}), steps);
    }
    void ask_info(std::shared_ptr<InfoAsk> ask, Executor& steps) {
        static const std::string payload = R"({"method":"info","params":{}})";
        ++ask->attempts;
        caller.attempt_async(ask->node, payload, cfg.request_timeout, ask->memory, steps, [this, ask, &steps](detail::Attempt a) {
            if (a.fail == detail::Fail::path && ask->attempts < 2) return ask_info(ask, steps);  // another path
            ask->done(info_sample_of(ask->node, std::move(a)));
        });
    }
    static Result<detail::NetworkClock::NodeSample> info_sample_of(const Snode& node, detail::Attempt a) {
        if (a.fail != detail::Fail::none) return unexpected(std::move(a.error));
        if (!is_2xx(a.reply.status)) return unexpected(detail::status_error("info", RpcReply{a.reply.status, a.reply.body, node}));
        auto t = detail::find_timestamp(a.parsed.get());
        if (!t) return unexpected(Errc::net_bad_response, "network: info from " + node.address() + ": no 't'");
        auto offset = detail::NetworkClock::sample(*t, a.sent_ms, a.received_ms);
        if (!offset)
            return unexpected(Errc::net_bad_response, "network: info from " + node.address() + ": 't' is " +
                                                          std::to_string(*t) + ", more than 24 h from the local clock");
        return detail::NetworkClock::NodeSample{node.keys.ed25519, *offset};
    }
};

// ---- public API ----------------------------------------------------------------------------

namespace {
Options validated(Options o) {
    if (auto ok = o.config.validate(); !ok) throw std::invalid_argument(ok.error().message);
    return o;
}
}  // namespace

Network::Network(Options options) : impl_(std::make_unique<Impl>(validated(std::move(options)))) {}

Result<std::shared_ptr<Network>> Network::create(Options options) {
    if (auto ok = options.config.validate(); !ok) return unexpected(ok.error());
    try {
        return std::make_shared<Network>(std::move(options));
    } catch (const std::exception& e) {
        return unexpected(Errc::net_init, std::string("network: cannot start: ") + e.what());
    }
}
Network::~Network() {
    // The async calls' steps use the units below: none may still run.
    impl_->wait_async();
}

std::string swarm_group_key(const SessionId& account, const Swarm& swarm) {
    if (swarm.id) return std::to_string(*swarm.id);
    return swarm.nodes.empty() ? account.hex() : swarm.nodes.front().ed25519_hex();
}

Result<void> Network::bootstrap() { return impl_->ensure_pool(); }

std::int64_t Network::now_ms() const { return impl_->clock.now_ms(); }
std::int64_t Network::clock_offset_ms() const { return impl_->clock.offset_ms(); }
std::uint64_t Network::clock_epoch() const { return impl_->clock.epoch(); }
bool Network::clock_known() const { return impl_->clock.known(); }

Result<void> Network::sync_clock() {
    auto p = impl_->ensure_pool();
    if (!p) return p;
    // The resync's steps on this thread, as a blocking loop (as Caller::call).
    return session::detail::wait_on<Result<void>>([&](Executor& loop, auto done) {
        impl_->resync_clock_async(impl_->clock.local_ms(), loop, std::move(done));
    });
}

Result<Swarm> Network::get_swarm(const SessionId& account) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    return impl_->swarm_for(account, false);
}

Result<StoreResult> Network::store(const SessionId& recipient, std::int16_t ns, std::string_view data_b64,
                                   std::int64_t ttl_ms) {
    const std::string fixed(data_b64);
    return store(recipient, ns, [&](std::int64_t) -> Result<std::string> { return fixed; }, ttl_ms);
}

Result<StoreResult> Network::store(const SessionId& recipient, std::int16_t ns, const DataBuilder& data,
                                   std::int64_t ttl_ms) {
    // One data and its hash, built for a network time and checked against the storage server's
    // limits (storage-server.md §5.3) before it is sent.
    struct Built {
        std::string b64;
        std::string hash;
        std::uint64_t epoch = 0;
    };
    // `epoch` is read before `now` (and before anything `data` reads of the clock itself): data sealed
    // with a time from before a move is then recorded with the epoch from before it.
    auto build = [&](std::uint64_t epoch, std::int64_t now) -> Result<Built> {
        auto b64 = data(now);
        if (!b64) return unexpected(std::move(b64).error());
        auto hash = checked_hash(recipient, ns, *b64);
        if (!hash) return unexpected(std::move(hash).error());
        return Built{std::move(*b64), std::move(*hash), epoch};
    };
    const std::uint64_t first_epoch = impl_->clock.epoch();
    auto current = build(first_epoch, impl_->clock.now_ms());  // before any I/O
    if (!current) return unexpected(current.error());
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    const std::string pubkey = recipient.hex();
    // Set once an attempt (of any of the calls below) may have stored the data: from then on the
    // data stays as it is, since data built again has a new hash, and would be a second message.
    auto landed = detail::new_landed_flag();
    ParamsBuilder params = [&](std::int64_t now) -> Result<std::string> {
        // Network time moved (a resync, or a large move learned from replies) since the data was
        // built, and no attempt can have stored it (each was refused, or none was sent): build it
        // again for the new time. The epoch is read after `now` (read by the call before this): a
        // `now` from after a move comes with the epoch from after it. The data gets a time read
        // after that epoch, which it is recorded with.
        const std::uint64_t epoch = impl_->clock.epoch();
        if (epoch != current->epoch && !landed->load()) {
            auto again = build(epoch, impl_->clock.now_ms());
            if (!again) return unexpected(again.error());
            current = std::move(again);
        }
        return json{{"pubkey", pubkey}, {"timestamp", now}, {"ttl", ttl_ms}, {"namespace", ns}, {"data", current->b64}}.dump();
    };
    // A member's 200 whose body cannot be read, or confirms nothing, may come from a node that
    // dropped the message: another member is asked (the same data has the same hash, so a second
    // copy is never a second message), kStoreAnswers in all.
    detail::ToSwarm target{recipient};
    std::optional<Error> last;
    for (std::size_t asked = 0; asked < kStoreAnswers; ++asked) {
        auto r = impl_->caller.call(target, "store", params, impl_->cfg.request_timeout, true, landed);
        if (!r) return unexpected(r.error());
        if (!is_2xx(r->status)) return unexpected(detail::status_error("store", *r));
        // Confirmations count only from the swarm the store went to (the cached one: no request).
        std::vector<Snode> members{r->node};
        if (auto entry = impl_->swarms.find(recipient))
            members.insert(members.end(), entry->swarm.nodes.begin(), entry->swarm.nodes.end());
        auto stored = detail::parse_store_reply(r->body, current->hash, r->node, members, impl_->opt.store_checks);
        if (stored) return stored;
        impl_->log(LogLevel::warning, "network: store at " + r->node.address() + ": " + stored.error().message +
                                          "; asking another member");
        target.avoid.push_back(r->node);
        last = std::move(stored).error();
    }
    return unexpected(std::move(*last));
}

std::vector<Result<StoreResult>> Network::store_batch(std::span<const StoreItem> items) {
    // The async call with every step on this thread (as the blocking loop ran them).
    return session::detail::wait_on<std::vector<Result<StoreResult>>>([&](Executor& loop, auto done) {
        store_batch_async(std::vector<StoreItem>(items.begin(), items.end()), std::move(done), &loop);
    });
}

void Network::store_batch_async(std::vector<StoreItem> items, StoreBatchDone done, Executor* steps) {
    if (items.size() > kMaxBatchStores)
        throw std::invalid_argument("network: store_batch: expected at most " + std::to_string(kMaxBatchStores) +
                                    " items, got " + std::to_string(items.size()));
    auto b = std::make_shared<Impl::BatchCall>();
    b->out.resize(items.size());
    b->hashes.resize(items.size());
    b->epochs.resize(items.size());
    const std::uint64_t epoch = impl_->clock.epoch();
    for (std::size_t i = 0; i < items.size(); ++i) b->epochs[i] = items[i].data_epoch.value_or(epoch);
    b->landed.assign(items.size(), 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto h = checked_hash(items[i].recipient, items[i].ns, items[i].data_b64);
        if (!h) b->out[i] = unexpected(std::move(h).error());
        else b->hashes[i] = std::move(*h), b->pending.push_back(i);
    }
    b->items = std::move(items);
    b->done = std::move(done);
    b->steps = steps ? steps : impl_->executor.get();
    impl_->async_begin();
    Impl* im = impl_.get();
    b->steps->post([im, b] { im->batch_start(b); });
}

Result<std::string> Network::retrieve(const SessionId& account, const Snode& node, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    auto r = impl_->caller.call(detail::ToNode{node, account}, "retrieve", params, impl_->cfg.retrieve_timeout, true);
    if (!r) return unexpected(r.error());
    if (!is_2xx(r->status)) return unexpected(detail::status_error("retrieve", *r));  // 421: swarm cache already updated
    return std::move(r->body);
}

Result<InfoResult> Network::info(const Snode& node) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    ParamsBuilder b = [](std::int64_t) -> Result<std::string> { return std::string("{}"); };
    auto r = impl_->caller.call(detail::ToNode{node, std::nullopt}, "info", b, impl_->cfg.request_timeout, false);
    if (!r) return unexpected(r.error());
    if (!is_2xx(r->status)) return unexpected(detail::status_error("info", *r));
    return detail::parse_info_reply(r->body, node);
}

Result<RpcReply> Network::rpc(const Snode& node, std::string_view method, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    return impl_->caller.call(detail::ToNode{node, std::nullopt}, method, params, impl_->cfg.request_timeout, true);
}

Result<RpcReply> Network::swarm_rpc(const SessionId& account, std::string_view method, const ParamsBuilder& params) {
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    auto r = impl_->caller.call(detail::ToSwarm{account}, method, params, impl_->cfg.request_timeout, true);
    if (!r) return r;
    if (!is_2xx(r->status)) return unexpected(detail::status_error(method, *r));
    return r;
}

namespace {

/// Network::server_request's checks of a request with a body of `body_size` bytes (if any).
Result<void> check_server_request(const ServerRequest& request, std::optional<std::size_t> body_size) {
    const std::string name = request.server.protocol + "://" + request.server.host;
    if (body_size && *body_size > kMaxServerBodyBytes)
        return unexpected(Errc::net_too_large, "network: request to " + name + ": body: expected at most " +
                                                   std::to_string(kMaxServerBodyBytes) + " bytes, got " +
                                                   std::to_string(*body_size));
    if (request.server.host.empty())
        return unexpected(Errc::invalid_argument, "network: server request: host: expected a name or an IP, got \"\"");
    if (request.server.protocol != "http" && request.server.protocol != "https")
        return unexpected(Errc::invalid_argument, "network: request to " + name + ": protocol: expected http or https");
    if (request.timeout.count() < 0 || request.timeout > NetworkConfig::kMaxTimeout)
        return unexpected(Errc::invalid_argument, "network: request to " + name + ": timeout: expected 0 … " +
                                                      std::to_string(NetworkConfig::kMaxTimeout.count()) + " ms");
    return {};
}

}  // namespace

Result<ServerReply> Network::server_request(const ServerRequest& request) {
    auto ok = check_server_request(request, request.body ? std::optional<std::size_t>(request.body->size()) : std::nullopt);
    if (!ok) return unexpected(ok.error());
    auto payload = onion::v4_request(request.method, request.endpoint, request.headers, request.body);
    if (!payload) return unexpected(payload.error());
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    const auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->cfg.request_timeout;
    return impl_->caller.server_call(request.server, std::move(*payload), timeout);
}

Result<ServerReply> Network::server_request(const ServerRequest& request, Bytes&& body) {
    if (request.body)
        return unexpected(Errc::invalid_argument,
                          "network: server request: a body given twice (request.body and the owned body)");
    auto ok = check_server_request(request, body.size());
    if (!ok) return unexpected(ok.error());
    auto payload = onion::v4_request(request.method, request.endpoint, request.headers, std::move(body));
    if (!payload) return unexpected(payload.error());
    auto p = impl_->ensure_pool();
    if (!p) return unexpected(p.error());
    const auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->cfg.request_timeout;
    return impl_->caller.server_call(request.server, std::move(*payload), timeout);
}

std::vector<Snode> Network::snode_pool() const { return impl_->pool.nodes(); }

std::vector<std::vector<Snode>> Network::paths() const { return impl_->paths.snapshot(); }

Stats Network::stats() const {
    const auto& im = *impl_;
    Stats s;
    s.seed_requests = im.pool.seed_requests();
    s.onion_requests = im.caller.onion_requests();
    s.failed_attempts = im.caller.failed_attempts();
    s.path_builds = im.paths.builds();
    s.pool_fetches = im.pool.fetches();
    s.clock_syncs = im.clock.syncs();
    s.swarm_lookups = im.swarms.lookups();
    return s;
}

const NetworkConfig& Network::config() const { return impl_->cfg; }

Executor& Network::executor() { return *impl_->executor; }

}  // namespace session::network
