#pragma once
// localnet.hpp: a local Session network in one process — seed endpoints and storage nodes on
// loopback, over HTTPS, speaking the storage server's wire formats (storage-server.md, v2.8.0), with
// fault injection and request counters for tests. The same network runs as the `session-localnet`
// tool (tools/localnet/main.cpp).
//
//   seeds   https://127.0.0.1:<port>           POST /json_rpc  get_n_service_nodes (oxend JSON-RPC)
//   node i  https://127.0.0.<i+2>:<port>       POST /storage_rpc/v1, POST /onion_req/v2
//   control http://127.0.0.1:<port>/control    POST JSON commands (fault injection, counters)
//   files   http://127.0.0.1:<port>            the Session file server API (protocol.md §6), also an
//                                              onion v4 destination (POST /oxen/v4/lsrpc)
//
// Each node has its own Ed25519 key (X25519 = its Curve25519 conversion, legacy key = Ed25519) and
// a 64-bit swarm id; node i belongs to swarm (i mod swarm_count), swarm_count = max(1, nodes /
// swarm_size). TLS certificates (EC P-256) are issued by a CA generated at start; node certs carry
// an IP SAN of the node's address, seed certs IP SAN 127.0.0.1. Onion relays and swarm replication
// between nodes happen in-process (the real network uses OMQ), honouring the next node's faults.
//
// Control endpoint (Options::control_endpoint; loopback only, plain HTTP):
//   POST /control  body {"cmd": <name>, …}  →  200 {"ok": true, …}  or  400 {"ok": false, "error": "…"}
//   {"cmd":"stop_node","node":i}            {"cmd":"start_node","node":i}
//   {"cmd":"set_latency","node":i,"ms":n}   {"cmd":"set_clock_skew","node":i,"seconds":n}
//   {"cmd":"set_drop_rate","node":i,"fraction":f,"timeout":bool}   {"cmd":"set_corrupt","node":i,"fraction":f}
//   {"cmd":"move_account","pubkey":"05…","swarm":<uint64 number or hex string>}
//   {"cmd":"set_seed_down","seed":k,"down":bool}   {"cmd":"clear_faults"}   {"cmd":"purge_expired"}
//   {"cmd":"set_hostile","node":i,"mode":<name>,…}  (tools/localnet/README.md "Hostile nodes")
//   {"cmd":"counters"} → {"ok":true,"nodes":[<counters>…],"seeds":[<counters>…],"file_server":<file counters>};
//     with "node":i → {"ok":true,"counters":{…}}
//     <file counters> = {"http_requests","endpoints":{path:n},"uploads","downloads","not_found",
//                        "rejected","onion_requests","dropped","hung","corrupted","delayed"}
//     <counters> = {"http_requests","endpoints":{path:n},"methods":{name:n},"onion_requests",
//                   "onion_relayed","onion_relay_received","onion_destination","replications_received",
//                   "dropped","hung","corrupted","delayed","hostile"}
//   {"cmd":"stop_file_server"}   {"cmd":"start_file_server"}   {"cmd":"set_file_server_latency","ms":n}
//   {"cmd":"set_file_server_drop_rate","fraction":f,"timeout":bool}   {"cmd":"set_file_server_corrupt","fraction":f}
//   {"cmd":"reset_counters"}   {"cmd":"network"} → {"ok":true,"network":<network file>}
//   {"cmd":"status"} → {"ok":true,"nodes":[{"index","running","latency_ms","drop_rate","timeout",
//                        "clock_skew_s","corrupt_rate","messages","hostile"}],"seeds":[{"index","down"}],
//                        "file_server":{"running","latency_ms","drop_rate","timeout","corrupt_rate","files"}}
//   GET /network → the network file; GET /counters → as {"cmd":"counters"}.
//
// Thread safety: every member function may be called from any thread while the network runs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

namespace session::localnet {

/// The storage-server version the nodes report (info, get_service_nodes, Server header).
const char* version();

struct Options {
    std::size_t node_count = 10;
    std::size_t swarm_size = 5;
    /// Number of seed endpoints (all on 127.0.0.1, one port each).
    std::size_t seed_count = 1;
    /// 0: every endpoint on an ephemeral port. Otherwise seeds listen on port_base + k, node i on
    /// port_base + seed_count + i, and the control endpoint on port_base + seed_count + node_count.
    std::uint16_t port_base = 0;
    /// Where each node keeps its SQLite database (node-<i>.sqlite) and the network keeps its keys
    /// and swarm ids (network-keys.json), so a restart with the same directory serves the same
    /// messages under the same keys. Empty: everything in memory.
    std::string data_dir;
    /// Serve the HTTP control endpoint on 127.0.0.1 (see control_url()).
    bool control_endpoint = true;
    /// Non-zero: a fixed control port (overrides the port_base rule).
    std::uint16_t control_port = 0;
    /// How long an onion relay waits for a next node that does not answer (dropped / timing out)
    /// before answering 504 "Request time out" (the storage server waits 30 s).
    std::chrono::milliseconds relay_timeout{30000};
    /// How long swarm replication waits for a silent peer before reporting {"failed":true,"timeout":true}
    /// (the storage server waits 5 s).
    std::chrono::milliseconds peer_timeout{5000};
    /// How long a node holds a request it "times out" (set_drop_rate(..., timeout_instead=true))
    /// before closing the connection without an answer. The wait ends early when the node stops.
    std::chrono::milliseconds hang_time{60000};
    /// Period of the expired-message purge on every node (the storage server: 10 s).
    std::chrono::milliseconds purge_interval{10000};
    /// 0: random node keys and swarm ids. Otherwise they are derived from this value (stable
    /// across runs; ignored when data_dir already holds keys).
    std::uint64_t key_seed = 0;
    /// Base time of every node (each node adds its own skew). Null: the system clock.
    std::shared_ptr<Clock> clock;
    /// Put node i on 127.(1 + i/256).(i%256).1 — one /24 per node — instead of 127.0.0.(i+2), for
    /// clients that pick at most one path node per /24 (session-desktop does).
    bool distinct_subnets = false;

    // ---- the file server (protocol.md §6; tools/localnet/README.md) ----
    /// Serve the Session file server on 127.0.0.1 (plain HTTP), reachable directly and as an onion
    /// v4 destination through the nodes.
    bool file_server = true;
    /// 0: an ephemeral port (or port_base + seed_count + node_count + 1 with port_base).
    std::uint16_t file_server_port = 0;
    /// The largest file (plaintext) a client may send (desktop MAX_ATTACHMENT_FILESIZE_BYTES).
    /// The server accepts an upload body up to what the most expansive official encryption makes of
    /// a file this size (FileServerInfo::max_upload_bytes: 10,223,616 for the default) and answers
    /// 413 above it.
    std::uint64_t file_max_bytes = 10'000'000;
    /// Lifetime of an upload, and of a refresh by re-upload or /extend (the real server: 3 weeks).
    /// X-FS-TTL may ask for less, never more.
    std::chrono::seconds file_expiry{21 * 24 * 3600};
};

/// The file server as a client sees it (also the network file's "file_server" object).
struct FileServerInfo {
    std::string url;            // "http://127.0.0.1:PORT" (the base of download URLs)
    std::string host;           // "127.0.0.1"
    std::uint16_t port = 0;
    std::string pubkey_ed25519;  // 64 lower-case hex
    std::string pubkey_x25519;   // 64 lower-case hex: the key onion requests are encrypted to
    Ed25519PublicKey ed25519;
    X25519PublicKey x25519;
    std::uint64_t max_file_bytes = 0;    // Options::file_max_bytes
    std::uint64_t max_upload_bytes = 0;  // the largest body POST /file accepts
    bool running = false;
};

/// What the file server has been asked since start or the last reset_counters().
struct FileServerCounters {
    std::uint64_t http_requests = 0;             // every request that reached it (direct or from a node)
    std::map<std::string, std::uint64_t> endpoints;  // by HTTP path, and "onion <METHOD> <path>" for v3/v4 subrequests
    std::uint64_t uploads = 0;         // files stored (or refreshed by a re-upload)
    std::uint64_t downloads = 0;       // files served
    std::uint64_t not_found = 0;       // 404 answers
    std::uint64_t rejected = 0;        // other 4xx answers (too large, bad TTL, bad onion request, …)
    std::uint64_t onion_requests = 0;  // POST /oxen/v4/lsrpc and v3 bodies
    std::uint64_t dropped = 0;
    std::uint64_t hung = 0;
    std::uint64_t corrupted = 0;
    std::uint64_t delayed = 0;
};

/// A storage node as a client sees it.
struct NodeInfo {
    std::size_t index = 0;
    std::string ip;            // "127.0.0.2"
    std::uint16_t port = 0;    // HTTPS
    std::string url;           // "https://127.0.0.2:PORT"
    std::string pubkey_ed25519;  // 64 lower-case hex (also the legacy pubkey)
    std::string pubkey_x25519;   // 64 lower-case hex
    Ed25519PublicKey ed25519;
    X25519PublicKey x25519;
    std::uint64_t swarm_id = 0;
    bool running = false;      // false after stop_node (listening socket closed)
};

/// What a node (or a seed) has been asked since start or the last reset_counters().
struct Counters {
    /// Every HTTP request that reached the endpoint (including ones then dropped, hung or corrupted).
    std::uint64_t http_requests = 0;
    /// HTTP requests by path: "/storage_rpc/v1", "/onion_req/v2", "/json_rpc", others as sent.
    std::map<std::string, std::uint64_t> endpoints;
    /// RPC methods a client asked for: direct /storage_rpc/v1 requests, sub-requests of batch /
    /// sequence (counted in addition to "batch"/"sequence"), and requests reaching this node as the
    /// destination of an onion request. Seeds count JSON-RPC methods (e.g. "get_n_service_nodes").
    /// Swarm replication received from peers is not counted here (see replications_received).
    std::map<std::string, std::uint64_t> methods;
    std::uint64_t onion_requests = 0;        // /onion_req/v2 bodies received (this node is the guard)
    std::uint64_t onion_relayed = 0;         // layers this node forwarded to a next node
    std::uint64_t onion_relay_received = 0;  // layers received from another node
    std::uint64_t onion_destination = 0;     // onion requests this node answered as the destination
    std::uint64_t replications_received = 0; // recursive requests (store, delete, …) from swarm peers
    std::uint64_t dropped = 0;     // connections closed without an answer (drop fault)
    std::uint64_t hung = 0;        // requests held until hang_time (timeout fault)
    std::uint64_t corrupted = 0;   // answers whose body was corrupted
    std::uint64_t delayed = 0;     // requests delayed by the latency fault
    std::uint64_t hostile = 0;     // answers a hostile mode (set_hostile) replaced, altered or trickled
};

/// A running local network. Stops (closing every socket and joining every thread) on destruction.
class Network {
public:
    /// Generates keys and certificates, opens every endpoint and returns once all listen.
    /// Errors: invalid_argument (node_count 0 or > 1000, swarm_size 0, seed_count 0 or > 16),
    /// net_init (a port could not be bound, TLS setup failed), io_error (data_dir unusable).
    [[nodiscard]] static Result<std::unique_ptr<Network>> start(Options options);

    ~Network();
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    /// Closes every endpoint and joins every thread. Idempotent.
    void stop();

    // ---- directory ---------------------------------------------------------------------------
    /// "https://127.0.0.1:PORT" for every seed (also the ones set down).
    std::vector<std::string> seed_urls() const;
    /// PEM of the CA that issued every seed and node certificate.
    std::string ca_pem() const;
    /// "http://127.0.0.1:PORT/control", or empty when the control endpoint is off.
    std::string control_url() const;
    std::size_t node_count() const;
    std::size_t seed_count() const;
    /// Throws std::out_of_range for a bad index.
    NodeInfo node(std::size_t i) const;
    std::vector<NodeInfo> nodes() const;
    /// The index of the node with this Ed25519 key (hex), or node_count() if none.
    std::size_t node_index(std::string_view pubkey_ed25519_hex) const;
    /// Distinct swarm ids, ascending.
    std::vector<std::uint64_t> swarm_ids() const;
    /// Indices of the nodes in a swarm (empty if there is no such swarm).
    std::vector<std::size_t> swarm_members(std::uint64_t swarm_id) const;
    /// The swarm serving an account: 66-hex pubkey (any prefix) or 64-hex key. Honours
    /// move_account. Errors: invalid_argument (not 64/66 hex digits).
    [[nodiscard]] Result<std::uint64_t> swarm_for(std::string_view pubkey_hex) const;
    /// The network file (see write_network_file).
    nlohmann::json network_file() const;
    /// Writes network_file() as JSON (atomically: temp file + rename). Errors: io_error.
    /// Format: {"seeds": ["https://127.0.0.1:P", …], "ca_pem": "…", "control": "http://…/control",
    ///          "swarm_size": 5, "hf": [19,4], "version": "x.y.z",
    ///          "nodes": [{"index", "ip", "port", "url", "pubkey_ed25519", "pubkey_x25519",
    ///                     "pubkey_legacy", "swarm_id" (uint64 number), "swarm" (hex)}, …],
    ///          "file_server": {"url": "http://127.0.0.1:P", "pubkey_x25519", "pubkey_ed25519",
    ///                          "max_file_bytes", "max_upload_bytes"}}   (absent without a file server)
    [[nodiscard]] Result<void> write_network_file(const std::string& path) const;

    // ---- fault injection (each throws std::out_of_range for a bad index) ----------------------
    /// Closes node i's listening socket and open connections (clients get "connection refused");
    /// relays to it answer 504 and replication to it reports a timeout. No-op if already stopped.
    void stop_node(std::size_t i);
    /// Reopens node i on the same address and port with the same keys and messages.
    /// Errors: net_init (the port could not be bound again).
    [[nodiscard]] Result<void> start_node(std::size_t i);
    /// Delays every request node i handles (HTTP, relayed onion layers, replication) by `latency`.
    void set_latency(std::size_t i, std::chrono::milliseconds latency);
    /// A fraction in [0,1] of node i's requests gets no answer: the connection is closed at once
    /// (timeout_instead=false) or held for Options::hang_time, then closed (timeout_instead=true).
    /// Relays to node i and replication to it see a silent peer (504 / timeout) for that fraction.
    void set_drop_rate(std::size_t i, double fraction, bool timeout_instead = false);
    /// Node i's clock runs `skew` ahead (negative: behind) of the network clock.
    void set_clock_skew(std::size_t i, std::chrono::seconds skew);
    /// A fraction in [0,1] of node i's HTTP answers gets one alphanumeric character of the body
    /// replaced by another one (so base64 stays base64 but the ciphertext or JSON no longer checks).
    void set_corrupt(std::size_t i, double fraction);
    /// Serves the account (all prefixes of these 32 key bytes) from `swarm_id` from now on: its
    /// messages move from the old swarm's nodes to the new swarm's nodes, and the old swarm answers
    /// 421 pointing at the new one. Errors: invalid_argument (bad pubkey, unknown swarm id).
    [[nodiscard]] Result<void> move_account(std::string_view pubkey_hex, std::uint64_t swarm_id);
    /// Takes seed k down (listening socket closed) or brings it back up.
    /// Errors: net_init (could not rebind when bringing it up).
    [[nodiscard]] Result<void> set_seed_down(std::size_t k, bool down);
    /// Makes node i attack its clients on purpose, in one of the ways tools/localnet/README.md lists
    /// under "Hostile nodes" (deep JSON, endless pages, hash != data, replays, wild `t`, forged
    /// swarms and 421s, fake confirmations, huge and slow-drip answers). `spec` is the control
    /// command's object (its "cmd" and "node" may be present and are ignored), e.g.
    /// {"mode": "endless_pages", "items": 100}; {"mode": "none"} makes the node honest again. A new
    /// mode replaces the previous one. The node stays honest towards its swarm peers. Counted in
    /// Counters::hostile. Errors: invalid_argument (unknown mode, unknown or bad field, named).
    [[nodiscard]] Result<void> set_hostile(std::size_t i, const nlohmann::json& spec);
    /// Node i's hostile mode as set ({"mode": "none"} for an honest node).
    nlohmann::json hostile(std::size_t i) const;
    /// Removes every latency, drop, skew, corruption and hostile fault, the file server's too
    /// (stopped nodes and a stopped file server stay stopped).
    void clear_faults();

    // ---- the file server (each throws std::logic_error when Options::file_server was false) ----
    bool has_file_server() const;
    FileServerInfo file_server() const;
    /// Closes the file server's listening socket and connections (direct clients get "connection
    /// refused"; nodes proxying to it answer 502). No-op if already stopped.
    void stop_file_server();
    /// Reopens it on the same port with the same keys and files. Errors: net_init.
    [[nodiscard]] Result<void> start_file_server();
    /// Delays every file-server request by `latency`.
    void set_file_server_latency(std::chrono::milliseconds latency);
    /// A fraction in [0,1] of file-server requests gets no answer: closed at once, or held for
    /// Options::hang_time and then closed (timeout_instead).
    void set_file_server_drop_rate(double fraction, bool timeout_instead = false);
    /// A fraction in [0,1] of file-server answers gets one byte of the body changed (an
    /// alphanumeric character replaced, or a bit flipped in a body without one).
    void set_file_server_corrupt(double fraction);
    FileServerCounters file_server_counters() const;
    /// Files stored (including expired ones not yet purged).
    std::size_t file_count() const;

    // ---- observation ---------------------------------------------------------------------------
    Counters counters(std::size_t i) const;
    Counters seed_counters(std::size_t k) const;
    /// The sum over all nodes.
    Counters total_counters() const;
    void reset_counters();
    /// Node i's current time (network clock + its skew), ms since the epoch.
    std::int64_t now_ms(std::size_t i) const;
    /// Messages stored on node i (including expired ones not yet purged).
    std::size_t message_count(std::size_t i) const;
    /// Deletes expired messages on every node, and expired files, now (the periodic purge does the same).
    void purge_expired();

    struct Impl;

private:
    explicit Network(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace session::localnet
