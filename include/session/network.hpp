#pragma once
// network.hpp: talking to the Session network — seed bootstrap, the snode pool, onion paths,
// swarms, network time, and the storage RPCs (store / retrieve / get_swarm / info) sent as onion
// requests through a 3-relay path.
//
//   seeds ──(HTTPS, pinned)──▶ snode pool ──▶ paths [guard, relay, relay] ──onion──▶ swarm member
//
// * Seeds (protocol.md §5.1, storage-server.md §8-9): POST <seed>/json_rpc get_n_service_nodes with
//   the body session-desktop sends plus `swarm_id` (as libsession asks: swarms are then placed
//   locally, without a get_swarm); mainnet seeds are pinned exactly as desktop pins them: the
//   self-signed certificate is the only CA, the host name is checked, the SPKI SHA-256 is pinned
//   (CURLOPT_PINNEDPUBLICKEY) and the SHA-256 of the DER certificate is compared. A local network's
//   seed is verified against the CA in its network file (host/IP checked).
// * Storage nodes present self-signed certificates unrelated to their keys (storage-server.md §9):
//   TLS verification is off for them; authenticity comes from the onion encryption to their X25519
//   keys and from their Ed25519 signatures on results.
// * Onion requests are POSTed to https://<guard>/onion_req/v2 with Content-Type:
//   application/octet-stream (whatever Transport is injected), User-Agent and Accept-Language as
//   session-desktop sends them.
// * Paths (protocol.md §5.3): `path_length` relays (3), one per /24 (distinct IPs on 127.0.0.0/8),
//   never containing the destination; `path_count` paths (2) reused; node strikes (3 → excluded
//   until the next pool refresh), path strikes (3 → rebuilt), `502 Next node not found: X` → X struck
//   out and replaced in place.
// * Errors and retries (protocol.md §4.4, §5.5; storage-server.md §3.9): path errors retry on
//   another path with bounded backoff min(retry_max_delay, retry_base_delay·2^n); 421 adopts the
//   members of the swarm in the reply that verify against the pool (see get_swarm); 406/425 resynchronise the network time (median of `info` on 3 nodes) and the
//   request is rebuilt (re-signed) by its ParamsBuilder and sent again (a swarm member that still
//   disagrees, or disagrees right after a resync, is struck and another member asked). A batch whose
//   sub-requests all failed with one status is handled as that status. Ambiguous path failures
//   (timeouts, 504) strike both the path and the destination; strikes count consecutive failures and
//   a success clears them. Within one call the hops of an ambiguously failed attempt (past the guard
//   when it relayed the error) and its destination are suspects: later attempts of that call take
//   other paths, relays and members first, and suspects only when too few other nodes remain.
//
// * Any node may be hostile: every JSON reply is depth-checked (64 levels) before it is walked,
//   copied or dumped; lists a node controls are read up to a limit (10,000 pool nodes, 64 swarm or
//   store entries, 20 batch results); a node's text reaches messages only truncated and with
//   control characters replaced; one node's clock counts once and only within ±24 h; swarm answers
//   are checked against the pool; a store is confirmed only by members of the recipient's swarm;
//   every wait is bounded (NetworkConfig::validate).
//
// Request accounting (what a caller pays): a warm `store` is exactly 1 onion request (to one swarm
// member; the member replicates to its swarm). A cold `store` is at most 3 network requests: one seed
// request (seeds are raced with a stagger, so a healthy first seed answers alone), `get_swarm` (skipped
// when the node list carries swarm ids: the swarm is then computed locally), and the store.
//
// Thread safety: a Network may be used from several threads at once. A Transport must be
// thread-safe. Callbacks (log, ParamsBuilder) may be called from any calling thread.
//
// Threads: the Network starts none of its own besides those of its default transport (curl_transport:
// Options::io_threads I/O threads that drive every request in flight). Work it runs off the calling thread (racing the seeds,
// asking several nodes for their time at once) is posted to its Executor (Options::executor; by
// default a thread pool the Network owns, shared with the Clients that use this Network through
// executor()). A task keeps what it uses alive (shared_ptr), never the Network itself; a seed request
// still running when the race is decided finishes in the background. The default pool joins every
// thread before ~Network returns (a request still running may delay it by up to seed_timeout), so no
// thread outlives the Network; an injected executor is the caller's to join.
//
// Source layout (src/network/): pool (node list, strikes, seeds, cache file), paths (path choice),
// swarms (swarm cache), clock (network time), call (one RPC with retries), parse (replies), seeds,
// config, curl_transport; network.cpp composes them.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/executor.hpp"
#include "session/keys.hpp"
#include "session/onion.hpp"
#include "session/rng.hpp"

namespace session::network {

// ---- logging ---------------------------------------------------------------------------------

enum class LogLevel { debug, info, warning, error };
/// Receives log lines (never a secret: no keys other than public node keys, no message data).
/// Default: silent. It may be called from any thread, and must be thread-safe. It is never called
/// while the Network holds one of its locks (lines logged under a lock are emitted after it is
/// released), so it may call back into the Network (stats(), snode_pool(), paths(), …). It should
/// not throw (an exception from it is ignored).
using LogFn = std::function<void(LogLevel, std::string_view)>;

// ---- transport -------------------------------------------------------------------------------

/// How the peer's TLS certificate is checked.
struct TlsPolicy {
    /// false: accept any certificate (storage nodes: self-signed, authenticated by onion keys).
    /// true: verify the chain and the host name (or IP) against `ca_pem`, or the system CAs if empty.
    bool verify = false;
    /// PEM of the only trusted CA (a seed's pinned self-signed certificate, or a localnet CA).
    std::string ca_pem;
    /// CURLOPT_PINNEDPUBLICKEY form "sha256//<base64 of SHA-256(SubjectPublicKeyInfo DER)>"; empty = none.
    std::string pinned_public_key;
    /// SHA-256 of the peer's DER leaf certificate; checked during the handshake when set.
    std::optional<ByteArray<32>> cert_sha256;
};

/// One HTTP(S) POST.
struct HttpRequest {
    std::string url;  // "https://1.2.3.4:22021/onion_req/v2"
    Bytes body;
    std::vector<std::pair<std::string, std::string>> headers;
    TlsPolicy tls;
    std::chrono::milliseconds timeout{25000};          // whole request
    std::chrono::milliseconds connect_timeout{5000};   // TCP + TLS handshake
};

struct HttpResponse {
    int status = 0;
    std::string content_type;  // the Content-Type header value, "" if absent
    Bytes body;
};

/// The network below everything else: one POST. Implementations must be thread-safe.
/// Returns any HTTP status as a value; errors are transport failures only:
/// net_connect (refused/unreachable/DNS), net_timeout, net_tls (handshake or pin failure),
/// net_too_large (reply over 10 MiB), net_init.
class Transport {
public:
    virtual ~Transport() = default;
    [[nodiscard]] virtual Result<HttpResponse> post(const HttpRequest& request) = 0;

    /// Receives the outcome of post_async (exactly once).
    using Done = std::function<void(Result<HttpResponse>)>;
    /// Starts `request` and returns; `done` is called once with what post() would have returned.
    /// It may be called on the transport's own I/O thread (curl_transport) or on the calling thread
    /// before post_async returns (this default: post(), then done), so it must be quick and must not
    /// wait for other requests: hand longer work to an Executor. It must not throw.
    virtual void post_async(HttpRequest request, Done done) { done(post(request)); }

    /// Calls `fn` once, `delay` from now: how a call waits out its backoff between attempts without
    /// holding a thread. curl_transport runs `fn` on an I/O thread (or when the transport is
    /// destroyed, at once); this default sleeps on the calling thread, then calls `fn` there. Like
    /// post_async's `done`, `fn` must be quick (hand longer work to an Executor) and must not throw.
    virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) {
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        fn();
    }
};

/// The libcurl transport: requests in flight are events on libcurl multi handles, driven by
/// `io_threads` I/O threads of its own (1 by default; each request goes to the thread chosen by its
/// host, so one thread's connection cache holds a peer's connections); post() waits for its request,
/// post_async() does not. TLS sessions and DNS answers are shared between the I/O threads (CURLSH).
/// Destroying the transport completes the requests still in flight with net_path_failed and joins
/// its threads. Errors: net_init (curl_global_init / curl_multi_init / curl_share_init failed).
[[nodiscard]] Result<std::shared_ptr<Transport>> curl_transport(LogFn log = {});
[[nodiscard]] Result<std::shared_ptr<Transport>> curl_transport(LogFn log, std::size_t io_threads);

// ---- nodes, swarms, configuration -------------------------------------------------------------

/// A service node as the pool knows it. Identity is the Ed25519 key.
struct Snode {
    std::string ip;                  // dotted IPv4
    std::uint16_t https_port = 0;    // storage_port (HTTPS, /onion_req/v2 and /storage_rpc/v1)
    onion::NodeKeys keys;            // ed25519 (names it), x25519 (encrypts to it)
    std::optional<std::uint64_t> swarm_id;  // when the node list carries it
    bool operator==(const Snode&) const = default;

    const Ed25519PublicKey& ed25519() const { return keys.ed25519; }
    std::string ed25519_hex() const { return to_hex(keys.ed25519.bytes); }
    /// "ip:port" (for logs).
    std::string address() const { return ip + ":" + std::to_string(https_port); }
};

/// An account's swarm: the members that store its messages.
struct Swarm {
    std::optional<std::uint64_t> id;
    std::vector<Snode> nodes;
};

/// The same string for accounts of one swarm, as store_batch wants its items grouped: the swarm id;
/// without one (a get_swarm answer that gave none), the first member's key; with no members, the
/// account itself (a group of its own).
std::string swarm_group_key(const SessionId& account, const Swarm& swarm);

/// A bootstrap seed.
struct SeedNode {
    std::string url;  // base URL, e.g. "https://seed1.getsession.org:4443"; "/json_rpc" is appended
    TlsPolicy tls;    // mainnet: pinned (see NetworkConfig::mainnet); localnet: the network's CA
};

/// The Session file server of a network (protocol.md §6): where attachments and profile pictures
/// are uploaded, and the only server a download URL without a `#p=` key may be fetched from.
struct FileServerConfig {
    std::string url;                           ///< base URL, "http://filev2.getsession.org" (no trailing '/')
    X25519PublicKey x25519;                    ///< the onion key requests are encrypted to
    std::optional<Ed25519PublicKey> ed25519;   ///< its Ed25519 key (what desktop writes in `#p=`)
    /// Other X25519 keys the same server answers to (mainnet: libsession's older key).
    std::vector<X25519PublicKey> other_x25519{};
};

struct NetworkConfig {
    std::string name = "mainnet";
    /// The file server: mainnet's filev2.getsession.org (mainnet()), a network file's
    /// "file_server" {"url", "pubkey_x25519", "pubkey_ed25519"?}; nullopt: none known.
    std::optional<FileServerConfig> file_server;
    std::vector<SeedNode> seeds;
    /// Used when every seed fails and no pool is cached (a network file's "nodes").
    std::vector<Snode> bootstrap_nodes;

    std::chrono::milliseconds seed_timeout{5000};       // desktop: 5 s per seed request
    /// Seeds are raced: the next seed starts when the previous one fails or after this long.
    /// 0 = all at once (desktop's Promise.any).
    std::chrono::milliseconds seed_stagger{1000};
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{25000};   // one onion request (desktop: 25 s)
    std::chrono::milliseconds retrieve_timeout{10000};  // one retrieve (desktop polls with 10 s)
    std::chrono::milliseconds retry_base_delay{100};    // libquic: min(5 s, 100 ms · 2^failures)
    std::chrono::milliseconds retry_max_delay{5000};
    std::size_t max_attempts = 8;      // onion attempts per call, across paths and swarm members (5 was
                                       // exhausted with 2 of 10 nodes silent: a random 4-node route
                                       // avoids both only 1 time in 3 until strikes accumulate)
    std::size_t path_count = 2;        // desktop: 2 guards → 2 paths
    std::size_t path_length = 3;       // relays per path (guard + 2)
    onion::EncType enc_type = onion::EncType::xchacha20;  // libsession's default; sent explicitly
    std::size_t strike_threshold = 3;  // node and path failures before exclusion
    std::size_t min_pool_size = 8;     // below this (usable) the pool is refetched (desktop: 8)
    /// A refresh from 3 snodes is accepted when their intersection has at least
    /// min(refresh_agreement, 2/3 of the current pool) nodes (desktop: 24).
    std::size_t refresh_agreement = 24;
    std::chrono::minutes pool_refresh_interval{60};     // desktop: hourly
    std::chrono::minutes swarm_cache_ttl{60};

    /// Longest timeout or delay accepted by validate().
    static constexpr std::chrono::milliseconds kMaxTimeout{3'600'000};

    /// Checks the values a Network depends on: every timeout and retry delay more than 0 ms (libcurl
    /// reads 0 as "never") and at most kMaxTimeout; seed_stagger 0 (all seeds at once) to
    /// kMaxTimeout; path_length, path_count, max_attempts, strike_threshold at least 1.
    /// Errors: net_config, naming the field ("network: config: request_timeout: expected more than
    /// 0 ms, got 0 ms").
    [[nodiscard]] Result<void> validate() const;

    /// The three mainnet seeds on port 4443, pinned by certificate and public key (protocol.md §5.1).
    static NetworkConfig mainnet();
    /// A network file written by session-localnet:
    ///   {"name"?: str, "seeds": [url, …], "ca_pem": "-----BEGIN CERTIFICATE-----…", "nodes"?: [node, …]}
    /// node = {"public_ip"|"ip", "storage_port"|"port_https"|"port", "pubkey_ed25519",
    /// "pubkey_x25519", "swarm_id"? (int) | "swarm"? (hex)}. Every seed is verified against ca_pem.
    /// Errors: io_error (unreadable), net_config (bad JSON/fields, with the field named).
    [[nodiscard]] static Result<NetworkConfig> from_file(const std::string& path);
    [[nodiscard]] static Result<NetworkConfig> from_json(std::string_view json_text);
};

// ---- protocol limits -------------------------------------------------------------------------

/// The storage server's limit on a stored message (storage-server.md §5.3): `data` at most
/// 102,400 base64 characters, i.e. 76,800 bytes decoded. Checked by Network::store before any I/O.
inline constexpr std::size_t kMaxStoreDataChars = 102'400;
inline constexpr std::size_t kMaxStoreDataBytes = 76'800;

/// Stores in one `batch` request (storage-server.md §5.13: at most 20 sub-requests).
inline constexpr std::size_t kMaxBatchStores = 20;

/// One message of Network::store_batch.
struct StoreItem {
    SessionId recipient;
    std::int16_t ns = 0;
    std::string data_b64;  // standard base64, within kMaxStoreDataChars / kMaxStoreDataBytes
    std::int64_t ttl_ms = 0;
    /// Optional: builds the data again for a network time (ms), as Network::store's DataBuilder.
    /// Called (on the thread running the batch's steps) before an attempt when network time moved
    /// since data_b64 was made (Network::clock_epoch() differs from data_epoch: a 406/425 resync,
    /// or a move of more than 5 s learned from replies), so a message sealed with a time the swarm
    /// refused is sealed again with the corrected one; not called once an attempt that carried the
    /// item may have stored it (a timeout, a lost reply, a 2xx or 5xx: the same data then goes
    /// again, since new data has a new hash and would be a second message). Its result replaces
    /// data_b64 (and the item's hash); if it fails, or its result breaks the limits, the item keeps
    /// the data it had (logged).
    std::function<Result<std::string>(std::int64_t network_now_ms)> rebuild{};
    /// Optional, with rebuild: Network::clock_epoch() read before the network time sealed into
    /// data_b64 was read (so a time from before a move is recorded with the epoch from before it).
    /// Unset: the epoch when store_batch_async is called, which misses a move between the sealing
    /// and that call.
    std::optional<std::uint64_t> data_epoch{};
};

// ---- results ---------------------------------------------------------------------------------

/// Builds the JSON text of an RPC's "params" object for the given network time (ms). It is called
/// again for every attempt, so timestamps and signatures are always fresh (a 406 retry re-signs).
/// An error from it aborts the call and is returned as is.
using ParamsBuilder = std::function<Result<std::string>(std::int64_t network_now_ms)>;

namespace detail {
struct ParsedBody;  // internal (src/network/parse.hpp)
}

/// A destination snode's answer to an RPC, after the onion layer is removed.
struct RpcReply {
    int status = 0;    // the RPC status inside the onion reply (200, 4xx, 5xx)
    std::string body;  // the RPC body text (JSON for successes)
    Snode node;        // who answered
    /// Internal: the library's one parse of `body` when it is a JSON object (else null), so the
    /// steps after a call do not parse the same text again (a batch reply is tens of KB). Whoever
    /// changes `body` resets it; a reply built without it is parsed from `body` as before. Kept
    /// only for `batch` and `sequence` replies, whose sub-results are read from it.
    std::shared_ptr<const detail::ParsedBody> parsed = nullptr;
};

/// Which members' store signatures a Network checks (Options::store_checks). Each check is an
/// Ed25519 verification, 5 per message in a swarm of 5; every_member checks a batch reply's together
/// (one equation, about 4x cheaper; what fails is checked one by one: docs/performance.md).
enum class StoreChecks {
    /// Every member's (the default): StoreResult::confirmed() counts the members that proved, by
    /// their signature, that they hold the message.
    every_member,
    /// Until one member's verifies: a store still succeeds only on such a proof, and the other
    /// members' entries are listed unchecked (ok = false, failure "signature not checked").
    first_member,
    /// None: an entry of a swarm member with the expected hash counts, unproven, as the official
    /// clients take a store answer. A hostile entry node can then claim a store it dropped.
    none,
};

/// One swarm member's part of a store (storage-server.md §5.3 "swarm" entries; at most 64 are read).
struct StoreNodeResult {
    Ed25519PublicKey node;
    bool ok = false;               // a member of the recipient's swarm, hash matches, signature verifies
                                   // (StoreChecks::none: not checked)
    std::string hash;
    std::string signature;         // base64 as received
    bool signature_valid = false;  // Ed25519(node key) over the ASCII hash
    bool signature_checked = false;  // whether signature_valid was computed (see StoreChecks)
    std::int64_t expiry_ms = 0;
    bool already = false;          // the node already had this message
    std::string failure;           // when !ok: "timeout", "code 421: …", "bad signature", "not a member
                                   // of the recipient's swarm", … (a node's text quoted: bounded, printable)
};

struct StoreResult {
    /// The message hash (storage-server.md §7), computed locally and confirmed by >= 1 node.
    std::string hash;
    std::int64_t expiry_ms = 0;    // the entry node's stored expiry
    Snode entry;                   // the swarm member the store was sent to
    std::vector<StoreNodeResult> nodes;
    /// Members of the recipient's swarm that signed the expected hash.
    std::size_t confirmed() const {
        std::size_t n = 0;
        for (const auto& r : nodes) n += r.ok ? 1 : 0;
        return n;
    }
};

struct InfoResult {
    std::vector<int> version;      // e.g. {2, 8, 0}
    std::int64_t timestamp_ms = 0; // the node's clock
    std::vector<int> hardfork;     // "hf"
};

/// Counters since construction (for request accounting in tests and for diagnostics).
struct Stats {
    std::uint64_t seed_requests = 0;    // HTTPS POSTs to seeds
    std::uint64_t onion_requests = 0;   // POSTs to a guard's /onion_req/v2
    std::uint64_t failed_attempts = 0;  // onion attempts that failed and were retried or returned
    std::uint64_t path_builds = 0;
    std::uint64_t pool_fetches = 0;     // successful pool loads (seed or snode refresh)
    std::uint64_t clock_syncs = 0;
    std::uint64_t swarm_lookups = 0;    // get_swarm RPCs sent
};

// ---- server requests (onion v4) --------------------------------------------------------------

/// An HTTP server reached through an onion path whose last node forwards the request to it
/// (protocol.md §4.2 "server destination", §4.3 v4): the file server today (SOGS, push servers).
/// The payload is end-to-end encrypted to `x25519` whatever `protocol` says.
struct HttpServer {
    std::string host;                 ///< "filev2.getsession.org", "127.0.0.1"
    std::string protocol = "https";   ///< "http" or "https": how the last node talks to it
    std::uint16_t port = 0;           ///< 0 = the protocol's default (80 / 443)
    X25519PublicKey x25519;           ///< the server's onion key
};

/// One v4 request to a server. `body` is a view: the caller keeps it alive during the call (a
/// 10 MB upload is not copied into the request before the onion layers are built).
struct ServerRequest {
    HttpServer server;
    std::string method = "GET";       ///< GET, POST, PUT, DELETE
    std::string endpoint;             ///< "/file/<id>", with a query if any; starts with '/'
    onion::Headers headers{};
    std::optional<ByteView> body{};   ///< POST/PUT only
    /// One attempt's timeout; 0 = NetworkConfig::request_timeout (desktop: 30 s for files).
    std::chrono::milliseconds timeout{0};
};

/// The server's answer, decrypted: its HTTP status, lower-case headers and raw body.
struct ServerReply {
    int status = 0;
    onion::Headers headers;
    Bytes body;
};

/// The largest server request body: the onion limit (onion::kMaxPayloadBytes, 10 MiB) less the v4
/// framing and the onion overhead, which a 10,223,616-byte attachment blob (kMaxBlobBytes) fits.
inline constexpr std::size_t kMaxServerBodyBytes = onion::kMaxPayloadBytes - 64 * 1024;

// ---- the network -----------------------------------------------------------------------------

struct Options {
    NetworkConfig config = NetworkConfig::mainnet();
    std::shared_ptr<Transport> transport{};  // default: curl_transport()
    std::shared_ptr<Clock> clock{};          // default: system_clock()
    std::shared_ptr<Rng> rng{};              // default: system_rng()
    LogFn log{};                             // default: silent
    /// If set, the snode pool is persisted here (one node per line) and used when the seeds are
    /// unreachable. Default: in memory only.
    std::string pool_cache_path{};
    /// Where the Network runs work off the calling thread (see "Threads" above). Default: a thread
    /// pool owned by the Network (make_thread_pool()).
    std::shared_ptr<Executor> executor{};
    /// I/O threads of the default transport (curl_transport(log, io_threads)); ignored when
    /// `transport` is given. At least 1.
    std::size_t io_threads = 1;
    /// Which store signatures are verified (StoreChecks): every member's by default.
    StoreChecks store_checks = StoreChecks::every_member;
};

class Network {
public:
    /// A Network, or why not: net_config (options.config.validate() failed), net_init (no transport
    /// given and libcurl cannot start).
    [[nodiscard]] static Result<std::shared_ptr<Network>> create(Options options);
    /// As create(), throwing: std::invalid_argument with the same message for a bad configuration,
    /// std::runtime_error if no transport was given and libcurl cannot start.
    explicit Network(Options options);
    ~Network();
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    /// Makes sure a usable snode pool exists: the cached pool if fresh, else the seeds (raced), else
    /// the pool cache file / bootstrap nodes. Single-flight: concurrent callers wait for one fetch.
    /// Errors: net_no_nodes (seeds and caches failed; the message lists each seed's error).
    [[nodiscard]] Result<void> bootstrap();

    /// Network time (ms since the epoch): local clock + the learned offset.
    std::int64_t now_ms() const;
    /// The learned offset (network − local), ms: the median of the latest sample of each of the last
    /// 10 nodes that answered (one sample per node), each within ±24 h of the local clock (a sample
    /// further away, or a `t` that would overflow, is ignored and logged).
    std::int64_t clock_offset_ms() const;
    /// Incremented by every resync of the network time (after a 406/425, or sync_clock()), and also
    /// whenever the `t` of replies moves the offset by more than 5 s (within one epoch the offset
    /// spans at most 5 s). A caller that sealed now_ms() into data before a request, and sees the
    /// epoch moved after it, seals the data again (store(…, DataBuilder, …) does this itself). The
    /// epoch changes no later than the offset it goes with: to check data, read now_ms() first and
    /// clock_epoch() after it (a new time then comes with the new epoch); to record the epoch of
    /// data about to be sealed, read clock_epoch() first and now_ms() after it.
    std::uint64_t clock_epoch() const;
    /// Whether network time has been learned (a node's `t` seen in a reply, or a sync done). Until
    /// then now_ms() is the local clock, which may be off: a sender that stamps data with it first
    /// calls sync_clock().
    bool clock_known() const;
    /// Asks `info` of 3 random nodes and sets the offset to the median of (t − local midpoint).
    /// Errors: net_no_nodes, or the last error when no node answered.
    [[nodiscard]] Result<void> sync_clock();

    /// The account's swarm: cached, else computed from the pool's swarm ids, else `get_swarm` via
    /// onion to a random node. A get_swarm (or 421) answer is one node's word: only members that are
    /// in the pool with consistent keys (pubkey_x25519 the conversion of pubkey_ed25519; the pool's
    /// swarm id, where known, the swarm's) are kept, as the pool records them.
    /// Errors: net_no_nodes, net_bad_response (no member verified), transport errors.
    [[nodiscard]] Result<Swarm> get_swarm(const SessionId& account);

    /// Stores `data_b64` (standard base64, <= kMaxStoreDataChars characters, <= kMaxStoreDataBytes
    /// decoded) for `recipient` in namespace `ns` (unauthenticated: public-inbox namespaces, e.g. 0)
    /// with the given TTL, via one swarm member.
    /// Retries on other paths/members (421: adopts the new swarm; 406: resyncs time and rebuilds).
    /// Errors: net_too_large (over either limit, before any request), invalid_argument (not base64),
    /// net_bad_response (no node confirmed the hash), net_clock_skew,
    /// net_unauthorized (401/403), net_http_status (400/other), net_timeout, net_no_path, …
    [[nodiscard]] Result<StoreResult> store(const SessionId& recipient, std::int16_t ns,
                                            std::string_view data_b64, std::int64_t ttl_ms);

    /// Builds a store's `data` (standard base64) for a network time (ms).
    using DataBuilder = std::function<Result<std::string>(std::int64_t network_now_ms)>;
    /// As above, with data built for the network time, so a timestamp sealed into it is as fresh as
    /// the store's own: `data` is called once before any request, and again before an attempt only
    /// when network time moved since it last built (clock_epoch(): a clock resync after a 406/425,
    /// or a move of more than 5 s learned from replies), and no earlier attempt can have stored the
    /// data (each was refused with a 4xx, or never sent). After an attempt that may have stored it (a timeout, a reply lost or garbled, a 5xx, a 2xx), the same
    /// data is sent again, re-signed only: new data would have a new hash and, if the first was
    /// stored, be a second message. Each built value is checked against the limits.
    /// StoreResult::hash is that of the data that was stored.
    /// Errors: as above, plus any error of `data` (returned as is, ending the call).
    [[nodiscard]] Result<StoreResult> store(const SessionId& recipient, std::int16_t ns, const DataBuilder& data,
                                            std::int64_t ttl_ms);

    /// Up to kMaxBatchStores stores in one `batch` request to a member of the first item's swarm
    /// (storage-server.md §5.13); the items should share that swarm (group them by
    /// swarm_group_key of get_swarm(): a swarm computed locally costs no request). Each sub-result is handled on its own:
    ///   * 2xx: the item's StoreResult (its hash confirmed by members of its recipient's swarm);
    ///   * 421: that recipient's swarm is updated from the sub-result (checked against the pool,
    ///     as get_swarm) and the item is sent again with the others that moved, in one batch per
    ///     swarm, at most 2 more rounds; then net_swarm_moved;
    ///   * any other status: that item's error (as store() would return it), the others unaffected.
    /// The batch request itself follows store()'s rules: path failures retry on other paths and
    /// members, 406/425 resync the clock and re-sign every sub-request (data is not rebuilt), and
    /// a batch whose sub-results all failed with one status is handled as that status. Warm and
    /// all in one swarm: exactly 1 onion request for all the items.
    /// Returns one Result per item, in order; an item over the size limits or not base64 fails
    /// alone, before any request (net_too_large, invalid_argument).
    /// Throws std::invalid_argument for more than kMaxBatchStores items.
    [[nodiscard]] std::vector<Result<StoreResult>> store_batch(std::span<const StoreItem> items);

    /// Receives store_batch_async's results (one per item, in order), on a thread of the executor
    /// that runs the call's steps. It must not throw.
    using StoreBatchDone = std::function<void(std::vector<Result<StoreResult>>)>;
    /// store_batch without a waiting thread: the same requests, rules, counts and results, delivered
    /// to `done`. Requests in flight are transport events (Transport::post_async); the steps between
    /// them (params, path choice, onion layers, reply checks, strikes; a swarm lookup's calls are
    /// steps too, while a clock resync and the grouping's lookups block one) run as tasks on `steps`
    /// (default: executor()), which must run them until `done` has been called. The backoff after a
    /// failed attempt is a timer of the transport (Transport::after): no thread waits it out.
    /// ~Network waits for the calls still running.
    /// Throws std::invalid_argument for more than kMaxBatchStores items.
    void store_batch_async(std::vector<StoreItem> items, StoreBatchDone done, Executor* steps = nullptr);

    /// One `retrieve` to the given swarm member (no other member is tried: last_hash is per node).
    /// `params` builds the signed params ({"pubkey",…,"timestamp","signature",…}) for a network time.
    /// Path failures are retried on another path; 406 resyncs time and re-signs once.
    /// Returns the RPC's JSON result text ({"messages":[…],"more":…,"t":…}).
    /// Errors: net_swarm_moved (421; the swarm cache for `account` is updated from the reply, call
    /// get_swarm again), net_node_not_found (the node is gone; it was struck), net_clock_skew,
    /// net_unauthorized, net_http_status, net_timeout, net_path_failed, net_bad_response.
    [[nodiscard]] Result<std::string> retrieve(const SessionId& account, const Snode& node,
                                               const ParamsBuilder& params);

    /// `info` on one node via onion (also feeds the clock offset).
    [[nodiscard]] Result<InfoResult> info(const Snode& node);

    /// Any RPC to one node via onion, with path retries and the 406 resync/rebuild. The reply's
    /// status is returned as a value (a 421 or 401 is not an error here).
    [[nodiscard]] Result<RpcReply> rpc(const Snode& node, std::string_view method, const ParamsBuilder& params);

    /// An RPC to some member of the account's swarm, with member retries and 421 handling.
    /// Returns the first 2xx reply; a final non-2xx reply is returned as an error.
    [[nodiscard]] Result<RpcReply> swarm_rpc(const SessionId& account, std::string_view method,
                                             const ParamsBuilder& params);

    /// A v4 request to an HTTP server through a 3-node path whose last node forwards it (protocol.md
    /// §4.2-4.4, §5.5), with the retry and strike rules of node requests: a transport error, a
    /// non-200 from the guard or a reply that does not decrypt is a path failure, retried on another
    /// path with backoff (502 "Next node not found: X" strikes X out and repairs the path). A 502/504
    /// the last node returns because the server itself is unreachable or slow cannot be told apart
    /// from a dead relay: it is retried on other paths up to 3 times (no path strike: the server may
    /// be the one at fault, as libquic leaves the path untouched for a server's 5xx/timeout), then
    /// returned as the error. Every status the server sends (2xx, 4xx, 5xx) is returned as a value.
    /// Errors: net_too_large (body over kMaxServerBodyBytes, before any I/O), invalid_argument
    /// (bad endpoint, method, host or protocol), net_no_nodes, net_no_path, net_timeout (the last
    /// node or the server timed out), net_path_failed (the last node could not reach the server,
    /// or the path failed), net_node_not_found, net_bad_response (a reply that does not decode).
    [[nodiscard]] Result<ServerReply> server_request(const ServerRequest& request);
    /// The same with an owned body (POST/PUT; `request.body` must be empty): the body is framed and
    /// encrypted in its buffer, and the reply decrypted in the reply's buffer, so a large upload or
    /// download is held about once (leave ~16 KiB of spare capacity after the body for the framing).
    [[nodiscard]] Result<ServerReply> server_request(const ServerRequest& request, Bytes&& body);

    /// Snapshots (for diagnostics and tests).
    std::vector<Snode> snode_pool() const;
    std::vector<std::vector<Snode>> paths() const;
    Stats stats() const;
    const NetworkConfig& config() const;

    /// The executor this Network posts its work to (Options::executor or its own pool), for the
    /// Clients that share it. Lives as long as the Network.
    Executor& executor();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace session::network
