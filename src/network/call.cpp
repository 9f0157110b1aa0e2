// call.cpp: the retrying RPC call (see call.hpp).
#include "network/call.hpp"

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "detail/json_limited.hpp"
#include "detail/onion_wire.hpp"
#include "detail/wait_loop.hpp"
#include "network/parse.hpp"

namespace session::network::detail {

using nlohmann::json;

namespace {

bool is_2xx(int s) { return s >= 200 && s < 300; }

}  // namespace

// ---- pure steps ------------------------------------------------------------------------------------

FailureVerdict classify_failure(const Result<HttpResponse>& resp, const Snode& guard, const Snode& dest) {
    FailureVerdict v;
    if (!resp) {
        v.error = resp.error();
        if (resp.error().code == Errc::net_connect) {
            v.blame = FailureVerdict::Blame::guard;
        } else {
            v.blame = FailureVerdict::Blame::path;
            v.suspects_from = 0;
        }
        return v;
    }
    // Plain-text path errors from the guard or relayed from a deeper hop (storage-server.md §3.9).
    const std::string text = to_string(resp->body);
    const std::string msg = "network: onion request via " + guard.address() + ": HTTP " + std::to_string(resp->status) +
                            ": " + quote(text);
    if (auto gone = next_node_not_found(text); resp->status == 502 && gone) {
        v.blame = FailureVerdict::Blame::named_node;
        v.named = *gone;
        v.fail = *gone == dest.keys.ed25519 ? Fail::dest : Fail::path;
        v.error = Error{Errc::net_node_not_found, msg};
        return v;
    }
    v.error = Error{resp->status == 504 ? Errc::net_timeout : Errc::net_path_failed, msg};
    v.blame = FailureVerdict::Blame::path;
    v.suspects_from = resp->status == 502 || resp->status == 504 ? 1 : 0;
    return v;
}

Result<std::string> rpc_payload(std::string_view method, std::string_view params, ParamsText text) {
    // Checked without building it (a parse and a dump would cost more than the rest of the
    // request). accept() also rejects strings that are not valid UTF-8; the depth check keeps the
    // same limit as every other JSON text here. A batch of stores (tens of KB, written here) is
    // not lexed at all: ParamsText::well_formed.
    if (text == ParamsText::check) {
        const auto first = params.find_first_not_of(" \t\n\r");
        if (first == std::string_view::npos || params[first] != '{' ||
            session::detail::json_depth(params) > session::detail::kMaxJsonDepth || !json::accept(params))
            return unexpected(Errc::invalid_argument, "network: " + std::string(method) + ": params must be a JSON object");
    }
    std::string name;
    try {
        name = json(method).dump();
    } catch (const json::type_error&) {
        return unexpected(Errc::invalid_argument, "network: a method name is not valid UTF-8");
    }
    std::string out;
    out.reserve(params.size() + name.size() + 24);
    out.append(R"({"method":)").append(name).append(R"(,"params":)").append(params).append("}");
    return out;
}

Error status_error(std::string_view method, const RpcReply& r) {
    Errc code = Errc::net_http_status;
    if (r.status == 401 || r.status == 403) code = Errc::net_unauthorized;
    else if (r.status == 406 || r.status == 425) code = Errc::net_clock_skew;
    else if (r.status == 421) code = Errc::net_swarm_moved;
    return Error{code, "network: " + std::string(method) + " at " + r.node.address() + ": status " +
                           std::to_string(r.status) + ": " + quote(r.body)};
}

std::chrono::milliseconds backoff(const NetworkConfig& cfg, std::size_t failures) {
    std::chrono::milliseconds d{cfg.retry_base_delay.count() << std::min<std::size_t>(failures > 0 ? failures - 1 : 0, 20)};
    return std::min(d, cfg.retry_max_delay);
}

// ---- one attempt -----------------------------------------------------------------------------------

Caller::Caller(Deps d)
        : cfg_(d.config),
          transport_(d.transport),
          pool_(d.pool),
          paths_(d.paths),
          clock_(d.clock),
          rng_(d.rng),
          log_(d.log),
          hooks_(d.hooks) {}

void Caller::strike(const Snode& node, std::size_t by) {
    if (pool_.strike(node, by)) paths_.remove_node(node.keys.ed25519, pool_.usable());
}

void Caller::strike_out(const Ed25519PublicKey& key) {
    if (pool_.strike_out(key)) paths_.remove_node(key, pool_.usable());
}

std::optional<Path> Caller::choose_path(const Snode& dest, AttemptMemory& memory) {
    const auto usable = pool_.usable();
    const auto failing = pool_.failing();
    auto choice = paths_.choose(dest, memory.failed_paths, memory.suspects, usable, failing);
    for (const auto& n : choice.demoted) strike(n, 1);
    return std::move(choice.path);
}

HttpRequest Caller::onion_request(const Snode& guard, Bytes body, std::chrono::milliseconds timeout) {
    HttpRequest req;
    req.url = "https://" + guard.ip + ":" + std::to_string(guard.https_port) + "/onion_req/v2";
    req.body = std::move(body);
    // As session-desktop sends them (storage-server.md §3.2), plus an explicit binary Content-Type:
    // without one libcurl labels the body application/x-www-form-urlencoded, and an HTTP server may
    // cap such bodies (cpp-httplib at 8 KiB: a local network answered 413 to messages over ~5 KB).
    // Storage servers ignore it. One rule for every onion body, whatever transport is injected.
    req.headers = {{"User-Agent", "WhatsApp"}, {"Accept-Language", "en-us"}, {"Content-Type", "application/octet-stream"}};
    req.tls.verify = false;  // self-signed snode certificates (storage-server.md §9)
    req.timeout = timeout;
    req.connect_timeout = std::min(cfg_.connect_timeout, timeout);
    ++onion_requests_;
    return req;
}

Result<HttpResponse> Caller::post(const Snode& guard, Bytes& body, std::chrono::milliseconds timeout) {
    auto req = onion_request(guard, std::move(body), timeout);
    auto resp = transport_.post(req);
    body = std::move(req.body);  // the transport took it by const reference
    return resp;
}

void Caller::apply(const FailureVerdict& v, const Path& path, const Snode& dest, Attempt& a, AttemptMemory& memory) {
    ++failed_attempts_;
    a.fail = v.fail;
    a.error = v.error;
    switch (v.blame) {
        case FailureVerdict::Blame::guard:
            memory.failed_paths.insert(path.id);
            log_(LogLevel::info, "network: guard " + path.nodes.front().address() + " unreachable");
            paths_.drop(path.id);
            strike(path.nodes.front(), cfg_.strike_threshold);
            break;
        case FailureVerdict::Blame::path:
            memory.failed_paths.insert(path.id);
            if (v.suspects_from) {
                const auto first = std::min(*v.suspects_from, path.nodes.size());
                memory.suspects.insert(memory.suspects.end(), path.nodes.begin() + static_cast<std::ptrdiff_t>(first),
                                       path.nodes.end());
                memory.suspects.push_back(dest);
            }
            if (auto dropped = paths_.strike(path.id))
                for (std::size_t i = 0; i < dropped->size(); ++i)
                    strike((*dropped)[i], i == 0 ? cfg_.strike_threshold : 1);
            break;
        case FailureVerdict::Blame::named_node:
            // A relay is replaced in place in every path: the repaired path stays eligible.
            a.relay_blamed = v.fail == Fail::path;
            strike_out(*v.named);
            break;
    }
}

std::optional<Attempt> Caller::prepare(const Snode& dest, const std::string& payload, std::chrono::milliseconds timeout,
                                       AttemptMemory& memory, Flight& f) {
    Attempt a;
    auto path = choose_path(dest, memory);
    if (!path) {
        a.fail = Fail::fatal;
        a.error = Error{Errc::net_no_path, "network: no onion path: " + std::to_string(pool_.usable().size()) +
                                               " usable nodes for " + std::to_string(cfg_.path_length) +
                                               " relays (one per subnet) plus the destination"};
        return a;
    }
    std::vector<onion::NodeKeys> keys;
    for (const auto& n : path->nodes) keys.push_back(n.keys);
    auto built = onion::build(keys, onion::SnodeDestination{dest.keys}, as_bytes(payload), cfg_.enc_type, rng_);
    if (!built) {
        a.fail = Fail::fatal;
        a.error = built.error();
        return a;
    }
    log_(LogLevel::debug, "network: onion request via path " + std::to_string(path->id) + " to " + dest.address());
    f.dest = dest;
    f.request = onion_request(path->nodes.front(), std::move(built->body), timeout);
    f.key.emplace(std::move(built->response_key));
    f.path = std::move(*path);
    f.a = Attempt{};
    return std::nullopt;
}

Attempt Caller::conclude(Flight& f, const Result<HttpResponse>& resp, AttemptMemory& memory) {
    Attempt a = std::move(f.a);
    const Snode& dest = f.dest;
    const Snode& guard = f.path.nodes.front();
    if (!resp || resp->status != 200) {
        const auto verdict = classify_failure(resp, guard, dest);
        log_(LogLevel::debug, !resp ? "network: onion request via " + guard.address() + " failed: " + verdict.error.message
                                    : verdict.error.message);
        apply(verdict, f.path, dest, a, memory);
        return a;
    }
    auto decoded = onion::decode_node_response(*f.key, to_string(resp->body));
    if (!decoded) {
        FailureVerdict v;
        v.error = Error{Errc::net_bad_response, "network: onion reply via " + guard.address() + ": " + decoded.error().message};
        v.suspects_from = 0;
        log_(LogLevel::debug, v.error.message);
        apply(v, f.path, dest, a, memory);
        return a;
    }
    // Strikes count consecutive failures: a success clears them for the path and its nodes.
    paths_.succeeded(f.path.id);
    std::vector<Snode> through = f.path.nodes;
    through.push_back(dest);
    pool_.clear_strikes(through);
    // Parsed once here; the clock, the batch checks and the caller's reading of the reply share it.
    a.parsed = parse_body(decoded->body);
    if (auto t = find_timestamp(a.parsed.get())) clock_.learn(dest.keys.ed25519, *t, a.sent_ms, a.received_ms);
    a.reply = std::move(*decoded);
    return a;
}

void Caller::attempt_async(const Snode& dest, const std::string& payload, std::chrono::milliseconds timeout,
                           AttemptMemory& memory, Executor& steps, std::function<void(Attempt)> done) {
    auto f = std::make_shared<Flight>();
    if (auto ended = prepare(dest, payload, timeout, memory, *f)) return done(std::move(*ended));
    HttpRequest request = std::move(f->request);
    f->a.sent_ms = clock_.local_ms();
    // The completion runs on the transport's I/O thread (or here, for a blocking transport): it only
    // notes the time and hands the rest to `steps`.
    transport_.post_async(std::move(request), [this, f, &memory, &steps, done = std::move(done)](Result<HttpResponse> response) mutable {
        f->a.received_ms = clock_.local_ms();
        steps.post([this, f, &memory, response = std::move(response), done = std::move(done)] {
            done(conclude(*f, response, memory));
        });
    });
}

// ---- the call --------------------------------------------------------------------------------------

namespace {

/// What ends a call after failures: the last failure is the cause the caller needs (a hostile
/// reply, a dead path); why the call stopped goes after it.
Error stopped_after(Error cause, const std::string& why) {
    cause.message += " (" + why + ")";
    return cause;
}

}  // namespace

/// A call's loop state.
struct Caller::CallState {
    AttemptMemory memory;
    std::vector<Snode> tried;  // destinations tried in this call
    int redirects = 0;         // 421s followed
    bool resynced = false;     // the clock was resynchronised for this call
    std::optional<std::int64_t> resync_due;  // local time of a clock error to resynchronise for, next
    bool refetched = false;    // the swarm was asked of the network again
    struct LookedUp {
        Result<Swarm> swarm;
        bool refetch = false;  // asked of the network again (pick_destination's second round)
    };
    std::optional<LookedUp> looked_up;  // the answer to pick_destination's NeedSwarm, for its next call
    bool blamed_clock = false; // a member's 406 right after a resync was blamed on its clock
    std::size_t failures = 0;
    std::size_t node_path_failures = 0;  // path failures towards a ToNode target
    std::size_t used = 0;                // attempts charged to max_attempts
    std::optional<Error> last_error;
    std::optional<RpcReply> last_reply;

    bool not_tried(const Snode& n) const {
        return std::none_of(tried.begin(), tried.end(), [&](const Snode& t) { return t.keys.ed25519 == n.keys.ed25519; });
    }
    bool failed() const { return last_reply || last_error; }
    /// The end of a call that ran out of attempts, members or paths after failures (failed()): what
    /// the last of them met is the cause the caller needs (a hostile reply, a dead path); the reason
    /// for stopping goes after it. A member's last reply (a 5xx, a 421) is handed back as it came.
    Result<RpcReply> give_up(const std::string& why) {
        if (last_reply) return std::move(*last_reply);
        return unexpected(stopped_after(std::move(*last_error), why));
    }
};

std::variant<Result<Snode>, Caller::NeedSwarm> Caller::pick_destination(const Target& target, CallState& st) {
    if (const auto* to = std::get_if<ToNode>(&target)) return to->node;
    // Nodes not tried in this call first; among those, the least suspected (a member that was a hop
    // of an ambiguously failed attempt may be the dead one).
    auto least_suspected = [&](const std::vector<Snode>& c) {
        std::size_t best = SIZE_MAX;
        for (const auto& n : c) best = std::min(best, suspicion(st.memory.suspects, n));
        std::vector<Snode> out;
        for (const auto& n : c)
            if (suspicion(st.memory.suspects, n) == best) out.push_back(n);
        return out[random_below(rng_, out.size())];
    };
    if (std::holds_alternative<ToAnyNode>(target)) {
        const auto usable = pool_.usable();
        std::vector<Snode> c;
        for (const auto& n : usable)
            if (st.not_tried(n)) c.push_back(n);
        if (c.empty()) c = usable;
        if (c.empty()) return unexpected(Errc::net_no_nodes, "network: no usable node in the pool");
        return least_suspected(c);
    }
    const auto& account = std::get<ToSwarm>(target).account;
    // Round 1 asks the network again. A swarm that needs a request is looked up without this
    // thread (step() waits for it and calls again; the answer is then in `looked_up`).
    std::optional<CallState::LookedUp> looked_up = std::exchange(st.looked_up, std::nullopt);
    for (int round = looked_up && looked_up->refetch ? 1 : 0; round < 2; ++round) {
        const bool refetch = round == 1;
        std::optional<Result<Swarm>> found;
        if (looked_up && looked_up->refetch == refetch) found.emplace(std::move(looked_up->swarm));
        else if (!refetch) {
            if (auto known = hooks_.known_swarm(account)) found.emplace(std::move(*known));
        }
        looked_up.reset();
        if (!found) return NeedSwarm{refetch};
        auto& sw = *found;
        if (!sw) return unexpected(sw.error());
        std::vector<Snode> c, usable;
        for (const auto& n : sw->nodes) {
            if (!pool_.is_usable(n)) continue;
            usable.push_back(n);
            if (st.not_tried(n)) c.push_back(n);
        }
        if (!c.empty()) return least_suspected(c);
        // Every usable member was tried in this call: try one again (a path may have been the
        // problem). With none usable, ask the network for the swarm once.
        if (!usable.empty()) return least_suspected(usable);
        if (round == 0 && !st.refetched) {
            st.refetched = true;
            continue;
        }
        break;
    }
    return unexpected(Errc::net_no_nodes, "network: no usable member in the swarm of " + account.hex().substr(0, 10) + "…");
}

std::optional<Result<RpcReply>> Caller::after_failure(Attempt& a, const Target& target, const Snode& dest,
                                                      CallState& st) {
    const bool fixed = std::holds_alternative<ToNode>(target);
    st.last_error = std::move(a.error);
    ++st.failures;
    if (a.fail == Fail::dest) {
        if (fixed) return unexpected(std::move(*st.last_error));
        st.tried.push_back(dest);
        return std::nullopt;
    }
    if (!a.relay_blamed) {
        // A timeout or 5xx on the way cannot tell a dead destination from a dead relay: both the
        // path and the destination get a strike (a success clears them), so a dead member stops
        // being chosen after strike_threshold failures.
        strike(dest, 1);
    }
    if (fixed) {
        if (++st.node_path_failures >= kFixedNodePathFailures) {
            return unexpected(stopped_after(std::move(*st.last_error), std::to_string(st.node_path_failures) +
                                                                            " paths failed to reach " + dest.address()));
        }
    } else if (!a.relay_blamed) {
        // Change the destination too: the failure may be the member, not the path.
        st.tried.push_back(dest);
    }
    return std::nullopt;
}

std::optional<Result<RpcReply>> Caller::after_reply(RpcReply reply, std::int64_t received_ms, const Target& target,
                                                    std::string_view method, bool resync_allowed, CallState& st) {
    const bool fixed = std::holds_alternative<ToNode>(target);
    const Snode dest = reply.node;
    // This member answered badly (its clock, or a 5xx): a strike, and another member next.
    auto strike_and_move_on = [&] {
        strike(dest, 1);
        ++st.failures;
        st.tried.push_back(dest);
        st.last_reply = std::move(reply);
    };
    const bool batch = method == "batch" || method == "sequence";
    // Only a batch's sub-results are read from the parse again; any other reply drops it at once,
    // so a large answer (a retrieve page) is not held as text and as a parse together.
    if (!batch) reply.parsed = nullptr;
    if (is_2xx(reply.status) && batch) {
        if (auto failure = uniform_batch_failure(reply.body, reply.parsed.get())) {
            reply.status = failure->status;
            reply.body = std::move(failure->body);
            reply.parsed = nullptr;  // it parsed the old body
        }
    }
    if (is_2xx(reply.status)) return reply;
    log_(LogLevel::debug, "network: " + std::string(method) + " at " + dest.address() + ": status " +
                              std::to_string(reply.status) + ": " + quote(reply.body));
    if (reply.status == 406 || reply.status == 425) {
        // Clock out of sync (storage-server.md §4.7): resync, then rebuild (re-sign) and resend.
        // Just resynchronised (another call did)? Then a 406 from one swarm member says more about
        // its clock than ours: strike it and ask another member first.
        const bool recent_sync = clock_.local_ms() - clock_.last_sync_ms() < kRecentSyncMs;
        if (resync_allowed && !st.resynced && recent_sync && !fixed && !st.blamed_clock) {
            st.blamed_clock = true;
            strike_and_move_on();
            return std::nullopt;
        }
        if (resync_allowed && !st.resynced) {
            st.resynced = true;
            --st.used;  // the resynchronised retry is not charged to the attempt budget
            log_(LogLevel::info, "network: " + std::string(method) + ": " + std::to_string(reply.status) + " from " +
                                     dest.address() + ": resynchronising the network time");
            st.resync_due = received_ms;  // settle() resynchronises before the next attempt
            return std::nullopt;
        }
        if (!fixed) {
            // Still out of sync with the network's median time: this member's clock is off (a
            // strike, so it stops costing a resync per request).
            strike_and_move_on();
            return std::nullopt;
        }
        return reply;
    }
    if (reply.status == 421) {
        if (const auto* sw = std::get_if<ToSwarm>(&target)) hooks_.swarm_moved(sw->account, dest, reply.body);
        else if (const auto* to = std::get_if<ToNode>(&target); to && to->account)
            hooks_.swarm_moved(*to->account, dest, reply.body);
        if (std::holds_alternative<ToSwarm>(target) && st.redirects < kMaxSwarmRedirects) {
            ++st.redirects;
            // Another swarm (or the same, asked again): its members are untried, except the one
            // that just said it is not one (if its body was not believed, the swarm may list it).
            st.tried.assign(1, dest);
            st.last_reply = std::move(reply);
            return std::nullopt;
        }
        return reply;
    }
    if (reply.status >= 500) {
        if (!fixed) {
            strike_and_move_on();
            return std::nullopt;
        }
        strike(dest, 1);
        return reply;
    }
    return reply;  // 400, 401, 403, 404, …: the caller's problem, no strikes
}

/// One call_async's state, shared by its steps (one runs at a time: each starts the next).
struct Caller::AsyncCall {
    Target target;
    std::string method;
    ParamsBuilder build;
    std::chrono::milliseconds timeout{};
    bool resync_allowed = false;
    Executor& steps;
    CallDone done;
    LandedFlag landed;
    ParamsText text = ParamsText::check;
    CallState st{};
    Snode dest{};  // the current attempt's
};

bool may_have_landed(const Attempt& a, std::string_view method) {
    const auto refused = [](int status) { return status >= 400 && status < 500; };
    if (a.fail == Fail::fatal) return false;
    if (a.fail != Fail::none) return true;
    if (is_2xx(a.reply.status) && (method == "batch" || method == "sequence")) {
        const auto failure = uniform_batch_failure(a.reply.body, a.parsed.get());
        return !(failure && refused(failure->status));
    }
    return !refused(a.reply.status);
}

void Caller::call_async(Target target, std::string method, ParamsBuilder build, std::chrono::milliseconds timeout,
                        bool resync_allowed, Executor& steps, CallDone done, LandedFlag landed, ParamsText text) {
    auto c = std::make_shared<AsyncCall>(AsyncCall{std::move(target), std::move(method), std::move(build), timeout,
                                                   resync_allowed, steps, std::move(done), std::move(landed), text});
    // Nodes the caller saw answer uselessly count as tried: they are picked last.
    if (const auto* any = std::get_if<ToAnyNode>(&c->target)) c->st.tried = any->avoid;
    if (const auto* swarm = std::get_if<ToSwarm>(&c->target)) c->st.tried = swarm->avoid;
    steps.post([this, c] { step(c); });
}

void Caller::step(const std::shared_ptr<AsyncCall>& c) {
    CallState& st = c->st;
    auto end = [&c](Result<RpcReply> r) {
        auto done = std::move(c->done);
        done(std::move(r));
    };
    if (st.used >= cfg_.max_attempts) {
        if (st.failed()) return end(st.give_up("gave up after " + std::to_string(st.used) + " attempts"));
        return end(unexpected(Errc::net_path_failed, "network: " + c->method + ": no attempt possible"));
    }
    auto picked = pick_destination(c->target, st);
    if (const auto* need = std::get_if<NeedSwarm>(&picked)) {
        // The swarm first: the lookup's own requests are steps of `steps` too, so no thread waits.
        const bool refetch = need->refetch;
        hooks_.swarm_for_async(std::get<ToSwarm>(c->target).account, refetch, c->steps,
                               [this, c, refetch](Result<Swarm> sw) {
                                   c->st.looked_up = CallState::LookedUp{std::move(sw), refetch};
                                   step(c);
                               });
        return;
    }
    auto& dest = std::get<Result<Snode>>(picked);
    if (!dest) {
        if (st.failed()) return end(st.give_up("then " + dest.error().message));
        return end(unexpected(dest.error()));
    }
    auto params = c->build(clock_.now_ms());
    if (!params) return end(unexpected(params.error()));
    auto payload = rpc_payload(c->method, *params, c->text);
    if (!payload) return end(unexpected(payload.error()));
    ++st.used;
    c->dest = *dest;
    attempt_async(c->dest, *payload, c->timeout, st.memory, c->steps, [this, c](Attempt a) { settle(c, std::move(a)); });
}

void Caller::settle(const std::shared_ptr<AsyncCall>& c, Attempt a) {
    CallState& st = c->st;
    if (c->landed && !c->landed->load() && may_have_landed(a, c->method)) c->landed->store(true);
    std::optional<Result<RpcReply>> result;
    if (a.fail == Fail::fatal) {
        // No path left (the failures so far struck its nodes out) or no onion: after failures, theirs is the cause.
        if (st.failed()) result = st.give_up("then " + a.error.message);
        else result = unexpected(std::move(a.error));
    } else if (a.fail != Fail::none) {
        const Snode dest = c->dest;
        result = after_failure(a, c->target, dest, st);
    } else {
        const Snode dest = c->dest;
        result = after_reply(RpcReply{a.reply.status, std::move(a.reply.body), dest, std::move(a.parsed)}, a.received_ms, c->target,
                             c->method, c->resync_allowed, st);
    }
    if (!result) {
        if (const auto due = std::exchange(st.resync_due, std::nullopt)) {
            // The clock first: its `info` requests are steps too; the next attempt follows it.
            hooks_.resync_clock_async(*due, c->steps, [this, c](Result<void> synced) {
                if (!synced) log_(LogLevel::warning, synced.error().message);
                c->steps.post([this, c] { next_attempt(c); });
            });
            return;
        }
        return next_attempt(c);
    }
    auto done = std::move(c->done);
    done(std::move(*result));
}

void Caller::next_attempt(const std::shared_ptr<AsyncCall>& c) {
    // Its request goes out before this returns. After failures, first the backoff: a transport
    // timer, so no thread waits it out (with the default Transport::after, this thread sleeps, as
    // before); the step is then a task of `steps` again.
    if (c->st.failures == 0) return step(c);
    transport_.after(backoff(cfg_, c->st.failures), [this, c] { c->steps.post([this, c] { step(c); }); });
}

Result<RpcReply> Caller::call(const Target& target, std::string_view method, const ParamsBuilder& build,
                              std::chrono::milliseconds timeout, bool resync_allowed, LandedFlag landed) {
    // Every step on this thread, as a blocking loop: the private loop runs them until the end.
    return session::detail::wait_on<Result<RpcReply>>([&](Executor& loop, auto done) {
        call_async(target, std::string(method), build, timeout, resync_allowed, loop, std::move(done), std::move(landed));
    });
}

// ---- server requests -------------------------------------------------------------------------------

namespace {

/// What PathSet::choose is given as the "destination" of a server request: a node that no path can
/// touch (no IP, no key), so any path of the pool's nodes qualifies.
Snode server_anchor() { return Snode{}; }

std::string server_name(const HttpServer& s) {
    return s.protocol + "://" + s.host + (s.port != 0 ? ":" + std::to_string(s.port) : std::string());
}

}  // namespace

Result<ServerReply> Caller::server_call(const HttpServer& server, ByteView payload, std::chrono::milliseconds timeout) {
    Bytes owned;
    owned.reserve(payload.size() + session::detail::onion_wire::kOnionRoomBytes);
    owned.assign(payload.begin(), payload.end());
    return server_call(server, std::move(owned), timeout);
}

Result<ServerReply> Caller::server_call(const HttpServer& server, Bytes payload, std::chrono::milliseconds timeout) {
    namespace wire = session::detail::onion_wire;
    onion::ServerDestination dest;
    dest.host = server.host;
    dest.protocol = server.protocol;
    dest.port = server.port;
    dest.x25519 = server.x25519;
    const Snode anchor = server_anchor();
    const std::string name = server_name(server);
    AttemptMemory memory;
    std::size_t used = 0;
    std::size_t failures = 0;
    std::optional<Error> last;
    wire::Framed pending{std::move(payload), 0};
    while (used < cfg_.max_attempts && failures < kFixedNodePathFailures) {
        if (failures > 0) std::this_thread::sleep_for(backoff(cfg_, failures));
        ++used;
        auto path = choose_path(anchor, memory);
        if (!path) {
            const std::string no_path = "network: no onion path to " + name + ": " +
                                        std::to_string(pool_.usable().size()) + " usable nodes for " +
                                        std::to_string(cfg_.path_length) + " relays (one per subnet)";
            if (!last) return unexpected(Errc::net_no_path, no_path);
            return unexpected(stopped_after(std::move(*last), "then " + no_path));
        }
        std::vector<onion::NodeKeys> keys;
        for (const auto& n : path->nodes) keys.push_back(n.keys);
        wire::LayerKeys layers;
        auto built = wire::build_in_place(keys, dest, std::move(pending), cfg_.enc_type, rng_, &layers);
        if (!built) {
            if (built.error().code == Errc::onion_too_large)
                return unexpected(Errc::net_too_large, "network: request to " + name + ": " + built.error().message);
            return unexpected(built.error());
        }
        // Another attempt needs the payload again: opened back out of this attempt's body.
        auto take_back = [&]() -> Result<void> {
            auto opened = wire::open_built(std::move(built->body), layers);
            if (!opened) return unexpected(opened.error());
            pending = std::move(*opened);
            return {};
        };
        const Snode& guard = path->nodes.front();
        log_(LogLevel::debug, "network: onion v4 request via path " + std::to_string(path->id) + " to " + name);
        auto resp = post(guard, built->body, timeout);
        Attempt a;
        if (!resp || resp->status != 200) {
            auto verdict = classify_failure(resp, guard, anchor);
            verdict.error.message = "network: request to " + name + ": " + verdict.error.message;
            log_(LogLevel::debug, verdict.error.message);
            ++failures;
            if (auto back = take_back(); !back) return unexpected(back.error());
            if (resp && (resp->status == 502 || resp->status == 504) &&
                verdict.blame == FailureVerdict::Blame::path) {
                // Relayed back from past the guard: the last node may have failed to reach the
                // server. Another path next, no strike (a dead relay is struck by node requests).
                ++failed_attempts_;
                memory.failed_paths.insert(path->id);
                last = std::move(verdict.error);
                continue;
            }
            if (verdict.blame == FailureVerdict::Blame::named_node) verdict.fail = Fail::path;
            apply(verdict, *path, anchor, a, memory);
            last = std::move(a.error);
            continue;
        }
        auto decoded = onion::decode_server_response(built->response_key, std::move(resp->body));
        if (!decoded) {
            FailureVerdict v;
            v.error = Error{Errc::net_bad_response,
                            "network: reply of " + name + " via " + guard.address() + ": " + decoded.error().message};
            v.suspects_from = 0;
            log_(LogLevel::debug, v.error.message);
            ++failures;
            if (auto back = take_back(); !back) return unexpected(back.error());
            apply(v, *path, anchor, a, memory);
            last = std::move(a.error);
            continue;
        }
        paths_.succeeded(path->id);
        pool_.clear_strikes(path->nodes);
        return ServerReply{decoded->status, std::move(decoded->headers), std::move(decoded->body)};
    }
    if (!last) return unexpected(Errc::net_path_failed, "network: request to " + name + ": no attempt possible");
    return unexpected(stopped_after(std::move(*last), "gave up after " + std::to_string(used) + " attempts"));
}

}  // namespace session::network::detail
