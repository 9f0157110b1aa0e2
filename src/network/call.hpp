#pragma once
// call.hpp: the retrying RPC call: one storage RPC sent as onion requests until it gets an answer
// (protocol.md §4.4, §5.5; storage-server.md §3.9, §4.7).
//
// One attempt is five steps, each a function below:
//   1. path choice     (PathSet::choose with the pool's usable nodes and this call's suspects)
//   2. onion building  (onion::build: path keys, destination key, the JSON-RPC payload)
//   3. HTTP            (POST https://<guard>/onion_req/v2 through the Transport)
//   4. classification  (classify_failure: which failure, whom it blames, which hops are suspects)
//   5. strikes         (to the pool's nodes and the path set's paths, as the classification says)
// The call loops over attempts (CallState) until an answer that is final for its target:
//   * path failures retry on another path with backoff min(retry_max_delay, retry_base_delay·2^n);
//     ambiguous ones (timeouts, 504) also strike the destination, and make its hops suspects;
//   * 406/425 resynchronise the network clock, then the params are rebuilt (re-signed) and resent;
//     a member that still disagrees, or disagrees right after a resync, is struck and another asked;
//   * 421 adopts the swarm of the reply and retries there (kMaxSwarmRedirects);
//   * a 5xx from a swarm member strikes it and asks another;
//   * 2xx and other 4xx are the caller's answer.
// A batch whose sub-requests all failed with one status is handled as that status.
//
// Thread-safe: a call keeps its own state (call(): on its stack; call_async(): shared by its
// steps); the units it uses lock themselves. call() runs every step of its call_async() on the
// calling thread (a private loop it drains until the call ends), as the blocking loop did.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "network/clock.hpp"
#include "network/log.hpp"
#include "network/paths.hpp"
#include "network/pool.hpp"
#include "session/network.hpp"

namespace session::network::detail {

/// 421 redirects followed per call (libquic: retry once, then refresh; desktop: retry with new swarm).
inline constexpr int kMaxSwarmRedirects = 2;
/// Path failures to one fixed destination before the destination itself is blamed.
inline constexpr std::size_t kFixedNodePathFailures = 3;
/// A clock sync younger than this makes a 406 from one member that member's fault first.
inline constexpr std::int64_t kRecentSyncMs = 60'000;

// ---- targets ---------------------------------------------------------------------------------------

/// One given node. A 421 from it updates the cached swarm of `account`, when given.
struct ToNode {
    Snode node;
    std::optional<SessionId> account;
};
/// Some member of the account's swarm (members are retried; 421s followed).
struct ToSwarm {
    SessionId account;
    /// Members whose earlier answer was useless (unreadable, or confirming nothing): chosen only
    /// when no other usable member is left.
    std::vector<Snode> avoid{};
};
/// Any usable node of the pool (those in `avoid` only when no other is left).
struct ToAnyNode {
    std::vector<Snode> avoid{};
};
using Target = std::variant<ToNode, ToSwarm, ToAnyNode>;

/// What the call needs from the Network it serves (swarm lookups and clock resyncs are calls too).
class CallHooks {
public:
    virtual ~CallHooks() = default;
    /// The account's swarm (cached unless `refetch`).
    [[nodiscard]] virtual Result<Swarm> swarm_for(const SessionId& account, bool refetch) = 0;
    /// The account's swarm when swarm_for(account, false) would make no request (fresh in the
    /// cache, or placed from the pool's swarm ids); nullopt when it would ask the network.
    [[nodiscard]] virtual std::optional<Swarm> known_swarm(const SessionId& /*account*/) { return std::nullopt; }
    /// swarm_for without holding a thread while the network is asked: `done` gets the result, on
    /// a thread of `steps` (or on this one, when no request was needed). The default calls
    /// swarm_for, which blocks.
    virtual void swarm_for_async(const SessionId& account, bool refetch, Executor& /*steps*/,
                                 std::function<void(Result<Swarm>)> done) {
        done(swarm_for(account, refetch));
    }
    /// A clock error was seen at local time `failed_at_ms`: resynchronise unless done since, without
    /// holding a thread while the network is asked (its requests are steps of `steps`). `done` gets
    /// the outcome, on a thread of `steps`, of another call's executor when this one joined a
    /// resync already running, or on this thread when none was needed.
    virtual void resync_clock_async(std::int64_t failed_at_ms, Executor& steps, std::function<void(Result<void>)> done) = 0;
    /// `from` answered 421 for `account` with `body`.
    virtual void swarm_moved(const SessionId& account, const Snode& from, std::string_view body) = 0;
};

// ---- one attempt -----------------------------------------------------------------------------------

enum class Fail { none, path, dest, fatal };

/// What one call remembers between its attempts about paths and hops.
struct AttemptMemory {
    std::set<std::uint64_t> failed_paths;
    /// The hops of ambiguously failed attempts, once per failure (see PathSet::choose).
    std::vector<Snode> suspects;
};

struct Attempt {
    Fail fail = Fail::none;
    bool relay_blamed = false;  // a path failure pinned on a named relay (the destination is not suspect)
    Error error{};
    onion::NodeResponse reply;
    std::shared_ptr<const ParsedBody> parsed;  // reply.body parsed once (null: not a JSON object)
    std::int64_t sent_ms = 0;  // local time
    std::int64_t received_ms = 0;
};

/// What a failed onion POST says (step 4): protocol.md §4.4, storage-server.md §3.9.
struct FailureVerdict {
    Fail fail = Fail::path;
    Error error{};
    enum class Blame {
        guard,       // the guard refused the connection: struck out, its path dropped
        path,        // one path strike (the hops are not told apart)
        named_node,  // "502 Next node not found: X": X struck out (relay replaced in place)
    } blame = Blame::path;
    std::optional<Ed25519PublicKey> named;
    /// The first path hop that may be the dead one (that hop, the later ones and the destination
    /// become suspects); nullopt: no suspects.
    std::optional<std::size_t> suspects_from;
};

/// Classifies a transport error or a non-200 HTTP status from the guard. `guard` and `dest` name
/// the request. A refused connection names the guard; a 502/504 text came back through the guard,
/// so the guard is alive and the fault lies past it; a timeout may be any hop, the guard included.
FailureVerdict classify_failure(const Result<HttpResponse>& response, const Snode& guard, const Snode& dest);

/// How rpc_payload takes a call's params text.
enum class ParamsText {
    check,        // from a ParamsBuilder anyone may write: checked to be a JSON object first
    well_formed,  // written by this module so that it is a JSON object by construction (the batch
                  // of stores: hex, strict base64 and integers only); not lexed again
};

/// The JSON-RPC body {"method": method, "params": params}, the params text as given. Errors:
/// invalid_argument (with ParamsText::check: params is not a JSON object nested at most
/// kMaxJsonDepth levels).
[[nodiscard]] Result<std::string> rpc_payload(std::string_view method, std::string_view params,
                                              ParamsText text = ParamsText::check);

/// The error for a final non-2xx reply: net_unauthorized (401/403), net_clock_skew (406/425),
/// net_swarm_moved (421), net_http_status (others), with the node and the (quoted) body.
Error status_error(std::string_view method, const RpcReply& reply);

/// The retry delay after `failures` failures: min(retry_max_delay, retry_base_delay · 2^(failures−1)).
std::chrono::milliseconds backoff(const NetworkConfig& config, std::size_t failures);

// ---- the call --------------------------------------------------------------------------------------

/// Whether an attempt of `method` may have been carried out by its destination: yes unless the
/// request never left (no path, no onion) or the destination answered a refusal (any 4xx: 406, 425
/// and 421 included; for a batch or sequence, every sub-request refused with one 4xx). A timeout, a
/// reply lost or garbled on the way back, a 2xx and a 5xx may each follow a stored message.
bool may_have_landed(const Attempt& a, std::string_view method);

/// Set by a call (once, never cleared) when one of its attempts may have landed (may_have_landed).
/// A caller whose params carry data it rebuilds for a new network time (a timestamp sealed inside)
/// reads it: once set, it resends the same data, since new data has a new hash and would be a second
/// message if an earlier attempt stored the first.
using LandedFlag = std::shared_ptr<std::atomic<bool>>;
/// A flag not yet set.
inline LandedFlag new_landed_flag() { return std::make_shared<std::atomic<bool>>(false); }

class Caller {
public:
    struct Deps {
        const NetworkConfig& config;
        Transport& transport;
        Pool& pool;
        PathSet& paths;
        NetworkClock& clock;
        Rng& rng;
        const Logger& log;
        CallHooks& hooks;
    };
    explicit Caller(Deps deps);

    /// `method` with params from `build` (called again for every attempt, with the network time) to
    /// `target`. Final statuses (2xx, 4xx other than 406/425, and 421 or 5xx once retries are
    /// exhausted) are returned as values; transport and path failures as errors.
    /// `landed`, when given, is set as LandedFlag says.
    [[nodiscard]] Result<RpcReply> call(const Target& target, std::string_view method, const ParamsBuilder& build,
                                        std::chrono::milliseconds timeout, bool resync_allowed, LandedFlag landed = {});

    /// Receives call_async's outcome.
    using CallDone = std::function<void(Result<RpcReply>)>;
    /// call() without a waiting thread: the same decisions (one copy of them: call() is a wait on
    /// this), with the request of each attempt in flight as a transport event
    /// (Transport::post_async). Every step between requests (params, path choice, onion layers,
    /// reply checks, strikes, the hooks) runs as a task on `steps`, never on the transport's I/O
    /// thread; `done` is called from one of them. The backoff between attempts is a transport timer
    /// (Transport::after), not a sleeping task.
    /// The Caller and `steps` must outlive the call (Network waits for its async calls).
    /// `text` says whether the params need checking (rpc_payload).
    void call_async(Target target, std::string method, ParamsBuilder build, std::chrono::milliseconds timeout,
                    bool resync_allowed, Executor& steps, CallDone done, LandedFlag landed = {},
                    ParamsText text = ParamsText::check);

    /// One onion request (steps 1-5) to `dest` in flight as a transport event; `done` gets the
    /// attempt as a task of `steps`. `memory` is the calling loop's and must outlive the attempt.
    void attempt_async(const Snode& dest, const std::string& payload, std::chrono::milliseconds timeout,
                       AttemptMemory& memory, Executor& steps, std::function<void(Attempt)> done);

    /// A v4 request to an HTTP server (Network::server_request): `payload` is the v4 request
    /// (onion::v4_request). Path failures are retried on other paths, at most
    /// kFixedNodePathFailures failed attempts in all (the destination is fixed, as for ToNode); a
    /// 502/504 relayed back from past the guard does not strike the path (the server may be the
    /// one that failed). Every status the server answers is returned as a value.
    [[nodiscard]] Result<ServerReply> server_call(const HttpServer& server, ByteView payload,
                                                  std::chrono::milliseconds timeout);
    /// The same, consuming `payload`: each attempt seals it in its buffer, and a failed attempt's
    /// body is opened back into it for the next, so a large payload is never held twice.
    [[nodiscard]] Result<ServerReply> server_call(const HttpServer& server, Bytes payload,
                                                  std::chrono::milliseconds timeout);

    std::uint64_t onion_requests() const { return onion_requests_.load(); }
    std::uint64_t failed_attempts() const { return failed_attempts_.load(); }

private:
    struct CallState;
    struct AsyncCall;

    /// One attempt's onion request between steps 2 and 4.
    struct Flight {
        Snode dest;
        Path path;
        std::optional<onion::ResponseKey> key;
        HttpRequest request;
        Attempt a;
    };
    /// Steps 1-2 (path, onion layers) into `flight`; a value is an attempt that ended there (fatal).
    std::optional<Attempt> prepare(const Snode& dest, const std::string& payload, std::chrono::milliseconds timeout,
                                   AttemptMemory& memory, Flight& flight);
    /// Steps 4-5 for the POST's outcome.
    Attempt conclude(Flight& flight, const Result<HttpResponse>& response, AttemptMemory& memory);
    /// The HTTP request of an onion body to `guard` (counted in onion_requests()).
    HttpRequest onion_request(const Snode& guard, Bytes body, std::chrono::milliseconds timeout);
    /// The async call's loop: the next attempt, or the end.
    void step(const std::shared_ptr<AsyncCall>& c);
    /// After an attempt: the end of the call, or the next step.
    void settle(const std::shared_ptr<AsyncCall>& c, Attempt a);
    /// The call's next attempt: at once, or after the backoff its failures earned.
    void next_attempt(const std::shared_ptr<AsyncCall>& c);

    /// A swarm lookup that pick_destination needs before it can choose: from the cache, or asked of
    /// the network again (`refetch`). Its answer comes back in CallState::looked_up.
    struct NeedSwarm {
        bool refetch = false;
    };
    /// The next destination, or the swarm lookup it needs first.
    std::variant<Result<Snode>, NeedSwarm> pick_destination(const Target& target, CallState& state);
    std::optional<Path> choose_path(const Snode& dest, AttemptMemory& memory);
    /// POSTs `body` to the guard; `body` is moved into the request and back after it.
    Result<HttpResponse> post(const Snode& guard, Bytes& body, std::chrono::milliseconds timeout);
    void apply(const FailureVerdict& verdict, const Path& path, const Snode& dest, Attempt& attempt,
               AttemptMemory& memory);
    void strike(const Snode& node, std::size_t by);
    void strike_out(const Ed25519PublicKey& key);

    /// Handles one failed attempt; a value ends the call.
    std::optional<Result<RpcReply>> after_failure(Attempt& a, const Target& target, const Snode& dest, CallState& state);
    /// Handles one answer; a value ends the call.
    std::optional<Result<RpcReply>> after_reply(RpcReply reply, std::int64_t received_ms, const Target& target,
                                                std::string_view method, bool resync_allowed, CallState& state);

    const NetworkConfig& cfg_;
    Transport& transport_;
    Pool& pool_;
    PathSet& paths_;
    NetworkClock& clock_;
    Rng& rng_;
    const Logger& log_;
    CallHooks& hooks_;
    std::atomic<std::uint64_t> onion_requests_{0};
    std::atomic<std::uint64_t> failed_attempts_{0};
};

}  // namespace session::network::detail
