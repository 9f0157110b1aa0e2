#pragma once
// internal.hpp: the pieces of the local network shared by its source files (not for tests).
//   util.cpp      swarm space, closest swarm, message hash, base32z, hop encryption (node side)
//   tls.cpp       the CA and the EC P-256 certificates it issues
//   store.cpp     one node's SQLite message table
//   rpc.cpp       the storage RPC methods (storage-server.md §4-§6)
//   onion_node.cpp onion layers at a node (§3)
//   network.cpp   Network: endpoints, seeds, faults, counters, control endpoint
//   sqlite.cpp    the SQLite layer of both stores (sqlite.hpp)
//   file_store.cpp the file server's files in SQLite
//   file_server.cpp the file server: HTTP API, onion v3/v4 destination, faults
//   hostile.cpp   hostile nodes: answers that attack clients on purpose (README "Hostile nodes")
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "detail/handle.hpp"
#include "localnet/localnet.hpp"
#include "session/bytes.hpp"

namespace session::localnet::detail {

using json = nlohmann::json;

// ---- constants (storage-server.md) -----------------------------------------------------------
inline constexpr int kHardfork = 19;
inline constexpr int kSnodeRevision = 4;
inline constexpr std::int64_t kSecond = 1000;
inline constexpr std::int64_t kDay = 86400 * kSecond;
inline constexpr std::int64_t kStoreTolerance = 10 * kSecond;      // store clock check
inline constexpr std::int64_t kSignatureTolerance = 60 * kSecond;  // signed timestamps
inline constexpr std::int64_t kForwardedTolerance = 70 * kSecond;  // same, between swarm members
inline constexpr std::int64_t kTtlMin = 10 * kSecond;
inline constexpr std::int64_t kTtlMaxPublic = 14 * kDay;
inline constexpr std::int64_t kTtlMax = 30 * kDay;
inline constexpr std::int64_t kMaxExpiryAhead = 30 * kDay;         // expire clamps to now + 30 d
inline constexpr std::size_t kMaxMessageBytes = 76800;             // store data, decoded
inline constexpr std::size_t kMaxBodyBytes = 10 * 1024 * 1024;     // HTTP body
inline constexpr std::int64_t kRetrieveMaxSize = 7'800'000;
inline constexpr std::size_t kBatchMax = 20;
inline constexpr int kMaxOnionHops = 15;
inline constexpr std::uint64_t kInvalidSwarm = ~std::uint64_t{0};

std::vector<int> version_triple();  // [2, 11, 0] from version()
std::int64_t block_height();
std::string block_hash_hex();

// ---- replies ---------------------------------------------------------------------------------

/// An RPC result: status + JSON body or plain-text body (storage-server.md §1.3).
struct Reply {
    int status = 200;
    std::variant<json, std::string> body;
    /// The text body is JSON written as text (a hostile node's deep or huge answer, never parsed or
    /// copied as a json value): sent as application/json, and embedded in an onion reply as a JSON
    /// value when the mode asks for it ("body"), as a string otherwise.
    bool raw_json = false;
    bool embed_raw = false;

    static Reply ok(json j) { return Reply{200, std::move(j)}; }
    static Reply js(int status, json j) { return Reply{status, std::move(j)}; }
    static Reply text(int status, std::string t) { return Reply{status, std::move(t)}; }
    static Reply raw(int status, std::string json_text, bool embed = false) {
        return Reply{status, std::move(json_text), true, embed};
    }
    bool is_json() const { return body.index() == 0; }
    const json& j() const { return std::get<0>(body); }
    /// The body as sent over HTTP: JSON dumped, or the text.
    std::string body_text() const;
};

/// A parameter validation failure: 400 "invalid request: <what>".
class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// nlohmann dump that never throws on invalid UTF-8.
std::string dump(const json& j);

/// Parses JSON that came from outside (a client, a peer node, a control request, a file) only once
/// its nesting depth passed session::detail::kMaxJsonDepth (src/detail/json_limited.hpp): nlohmann
/// parses iteratively, but copying and dumping a value recurse once per level, so an unchecked
/// 300,000-deep array would overflow the stack the first time it is copied. nullopt: not valid JSON,
/// or nested too deep. Every JSON text the local network reads goes through here.
std::optional<json> parse_json(std::string_view text);

// ---- small codecs and hashes (util.cpp) --------------------------------------------------------

/// storage-server.md §6.2: XOR of the four big-endian 8-byte chunks of the 32 key bytes.
std::uint64_t swarm_space(ByteView key32);
/// §6.3: the closest of the sorted distinct `ids` to `v` (ties to the left); nullopt if none.
std::optional<std::uint64_t> closest_swarm(const std::vector<std::uint64_t>& ids, std::uint64_t v);
/// §7: unpadded base64 of BLAKE2b-32(prefix ‖ key32 ‖ ns-decimal-or-empty ‖ data).
std::string message_hash(ByteView account33, int ns, ByteView data);
/// z-base-32 (the `address` field: base32z(legacy pubkey) + ".snode").
std::string base32z(ByteView bytes);
/// oxenc::is_base64: standard or URL-safe alphabet, optional correct padding, no stray length.
bool is_base64(std::string_view s);
/// Lower-case hex of a uint64 without padding ("swarm" fields).
std::string hex_u64(std::uint64_t v);
bool is_hex(std::string_view s);
/// Uniform double in [0,1) from libsodium.
double random_unit();
/// True with probability p.
bool chance(double p);

enum class EncType { aes_gcm, xchacha20, aes_cbc };
/// Accepted spellings (§2): aes-gcm/gcm, xchacha20/xchacha20-poly1305, aes-cbc/cbc.
std::optional<EncType> parse_enc_type(std::string_view s);
const char* enc_type_name(EncType t);

/// The hop key for a layer received by a node (§2). nullopt when the DH fails (low-order point).
std::optional<ByteArray<32>> hop_key(EncType t, const Secret<32>& node_x_sk, const ByteArray<32>& node_x_pk,
                                     const ByteArray<32>& client_pk);
std::optional<Bytes> hop_decrypt(EncType t, const ByteArray<32>& key, ByteView wire);
Bytes hop_encrypt(EncType t, const ByteArray<32>& key, ByteView plaintext);

// ---- TLS material (tls.cpp) ------------------------------------------------------------------

using X509Ptr = session::detail::Handle<X509, X509_free>;
using PkeyPtr = session::detail::Handle<EVP_PKEY, EVP_PKEY_free>;

struct Certificate {
    X509Ptr cert;
    PkeyPtr key;
};

/// A freshly generated CA (EC P-256, self-signed, 10 years).
struct Authority {
    Certificate ca;
    std::string ca_pem;
};
[[nodiscard]] Result<Authority> make_authority();
/// A leaf certificate for `ip` (IP SAN, CN = ip), signed by the CA.
[[nodiscard]] Result<Certificate> issue_certificate(const Authority& ca, const std::string& ip);

// ---- message storage (store.cpp) -------------------------------------------------------------

struct Account {
    std::uint8_t prefix = 5;
    ByteArray<32> key{};
    ByteArray<33> bytes() const;
    std::string hex() const;  // 66 hex digits
};

struct StoredMessage {
    Account account;
    std::string hash;
    int ns = 0;
    std::int64_t timestamp = 0;
    std::int64_t expiry = 0;
    Bytes data;
};

enum class ExpireMode { set, extend, shorten };

/// One node's messages in SQLite (a file under data_dir, or in memory). Thread-safe.
class MessageStore {
public:
    /// path empty: in memory. Throws std::runtime_error if SQLite cannot open/prepare.
    explicit MessageStore(const std::string& path);
    ~MessageStore();
    MessageStore(const MessageStore&) = delete;
    MessageStore& operator=(const MessageStore&) = delete;

    struct StoreOutcome {
        bool is_new = true;
        std::int64_t expiry = 0;  // effective stored expiry
    };
    /// §5.3 semantics: duplicate hash → expiry = max(old, new), nothing else changes; a public
    /// outbox first deletes the account's other messages in that namespace.
    StoreOutcome store(const StoredMessage& m, bool public_outbox);
    struct Page {
        std::vector<StoredMessage> messages;
        bool more = false;
    };
    /// §5.4: insertion order after `last_hash` (from the start if unknown), bounded by count/size.
    Page retrieve(const Account& a, int ns, const std::string& last_hash, std::optional<std::int64_t> max_count,
                  std::int64_t max_size);
    /// Deletes the account's messages with these hashes (any namespace); returns the deleted hashes.
    std::vector<std::string> delete_hashes(const Account& a, const std::vector<std::string>& hashes);
    /// Deletes the account's messages in `ns` (all namespaces if nullopt) [with timestamp <= before].
    std::vector<std::pair<int, std::string>> delete_all(const Account& a, std::optional<int> ns,
                                                        std::optional<std::int64_t> before = std::nullopt);
    /// Shortens every message whose expiry > `expiry` (in `ns`, or all). Returns (ns, hash) updated.
    std::vector<std::pair<int, std::string>> expire_all(const Account& a, std::optional<int> ns, std::int64_t expiry);
    struct ExpireOutcome {
        std::vector<std::pair<std::string, std::int64_t>> updated;  // hash, applied expiry
        std::map<std::string, std::int64_t> unchanged;             // found but not updated
    };
    /// Sets (or extends / shortens) the expiry of each hash to expiries[i] (or expiries[0]).
    ExpireOutcome expire(const Account& a, const std::vector<std::string>& hashes,
                         const std::vector<std::int64_t>& expiries, ExpireMode mode);
    std::map<std::string, std::int64_t> get_expiries(const Account& a, const std::vector<std::string>& hashes);
    /// Deletes messages with expiry < now. Returns how many.
    std::size_t purge_expired(std::int64_t now_ms);
    /// Every message whose account key (any prefix) is `key` (for move_account).
    std::vector<StoredMessage> messages_for_key(const ByteArray<32>& key);
    void insert_ignore(const StoredMessage& m);
    /// Subaccount revocations (§5.11): the 50 most recent per account are kept.
    void revoke(const Account& a, const std::vector<ByteArray<36>>& tokens);
    std::size_t unrevoke(const Account& a, const std::vector<ByteArray<36>>& tokens);
    bool is_revoked(const Account& a, const ByteArray<36>& token);
    void delete_for_key(const ByteArray<32>& key);
    std::size_t count();

private:
    struct Db;
    std::unique_ptr<Db> db_;
    std::mutex mutex_;
};

// ---- the file server's files (file_store.cpp) --------------------------------------------------

/// A stored file's metadata; times in ms since the epoch.
struct FileMeta {
    std::uint64_t size = 0;
    std::int64_t uploaded = 0;
    std::int64_t expiry = 0;
};

/// The file server's files in SQLite (a file under data_dir, or in memory). Expired files are
/// invisible to get/info/extend and deleted by purge_expired. Thread-safe.
class FileStore {
public:
    /// path empty: in memory. Throws std::runtime_error if SQLite cannot open/prepare.
    explicit FileStore(const std::string& path);
    ~FileStore();
    FileStore(const FileStore&) = delete;
    FileStore& operator=(const FileStore&) = delete;

    /// Stores `data` under `id`, or — the same id (the same bytes) again — refreshes its upload
    /// time and expiry (session-file-server routes.py: dedup by content id).
    FileMeta put(const std::string& id, ByteView data, const std::string& filename, std::int64_t now,
                 std::int64_t expiry);
    struct File {
        Bytes data;
        std::string filename;
    };
    std::optional<File> get(const std::string& id, std::int64_t now);
    std::optional<FileMeta> info(const std::string& id, std::int64_t now);
    /// Sets the expiry of a live file (and returns its metadata).
    std::optional<FileMeta> extend(const std::string& id, std::int64_t now, std::int64_t expiry);
    std::size_t purge_expired(std::int64_t now);
    std::size_t count();

private:
    struct Db;
    std::unique_ptr<Db> db_;
    std::mutex mutex_;
};

// ---- nodes and the network -------------------------------------------------------------------

// ---- hostile nodes (hostile.cpp; tools/localnet/README.md "Hostile nodes") ----------------------

enum class HostileMode {
    none,
    deep_json,      // answers nested `depth` levels deep (where: rpc, body, batch, field, http)
    endless_pages,  // retrieve: `items` fresh junk items on every page, always "more": true
    hash_mismatch,  // retrieve: every item's data replaced (its hash kept), plus `items` forged items
    replay,         // retrieve: every stored item served again on every page, and re-wrapped (`rewrap`)
    inject,         // retrieve: the captured `data` items served on every page under their true hashes
    wild_t,         // "t" (and info's "timestamp") of every answer is `t`, or now + `t_offset_ms`
    forged_swarm,   // get_swarm and 421 answers list a forged swarm (`forgery`); `answer_421`
    fake_confirm,   // store answers carry `count` valid signatures from non-members; `drop`
    huge_body,      // answers padded to `bytes` (where: rpc, http)
    slow_drip,      // HTTP answers trickled `chunk_bytes` every `interval_ms`
};

/// One node's hostile behaviour, parsed from a control command (parse_hostile). Immutable once
/// made: a node holds it by shared_ptr and a new command replaces it.
struct HostileSpec {
    HostileMode mode = HostileMode::none;
    json spec = json::object();       // as given (status reports it)
    std::vector<std::string> methods;  // empty: every method the mode applies to
    std::string where = "rpc";
    std::string shape = "array";
    std::size_t depth = 300'000;
    std::size_t items = 100;
    std::size_t item_bytes = 1024;
    bool valid_hashes = true;
    bool rewrap = true;
    std::vector<Bytes> data;
    json t;
    std::optional<std::int64_t> t_offset_ms;
    std::string forgery = "not_in_pool";
    bool answer_421 = false;
    std::size_t count = 5;
    bool drop = false;
    std::size_t bytes = 11 * 1024 * 1024;
    std::size_t chunk_bytes = 1;
    std::int64_t interval_ms = 1000;

    bool applies_to(const std::string& method) const;
};

/// Parses {"mode": …, fields…} (a control command without "cmd"/"node"). Throws
/// std::invalid_argument naming the bad field.
HostileSpec parse_hostile(const json& spec);
const char* hostile_mode_name(HostileMode m);
/// `depth` levels of [ ] (shape "array") or {"a": } (shape "object") around 0, as text.
std::string nested_json(std::size_t depth, const std::string& shape);

struct Faults {
    std::atomic<std::int64_t> latency_ms{0};
    std::atomic<double> drop_rate{0};
    std::atomic<bool> drop_timeout{false};
    std::atomic<std::int64_t> skew_ms{0};
    std::atomic<double> corrupt_rate{0};
};

/// An HTTP(S) listener run by a thread; stop() closes the socket and joins.
struct Listener {
    std::unique_ptr<httplib::Server> server;
    std::thread thread;
};

/// Runs an httplib server on a thread and returns once it listens; stop_listener closes and joins.
void run_listener(Listener& l);
void stop_listener(Listener& l);
/// Closes the connection `req` arrived on without an answer (the drop and hang faults).
void kill_connection(const httplib::Request& req);
/// Replaces one alphanumeric character of `body` by another (flips a bit when there is none).
void corrupt_body(std::string& body);

struct Node {
    std::size_t index = 0;
    std::string ip;
    std::uint16_t port = 0;
    ByteArray<32> ed_pk{};
    ByteArray<32> x_pk{};
    Secret<64> ed_sk;
    Secret<32> x_sk;
    std::string ed_hex, x_hex;
    std::uint64_t swarm_id = 0;
    Certificate tls;
    std::unique_ptr<MessageStore> store;
    Faults faults;

    std::mutex listener_mutex;
    Listener listener;
    std::atomic<bool> running{false};

    mutable std::mutex counters_mutex;
    Counters counters;

    mutable std::mutex hostile_mutex;
    std::shared_ptr<const HostileSpec> hostile;  // null: an honest node
    std::shared_ptr<const HostileSpec> hostile_spec() const {
        std::lock_guard lock(hostile_mutex);
        return hostile;
    }

    /// Ed25519 signature (base64, padded) of `message` with this node's key.
    std::string sign_b64(std::string_view message) const;
    template <class F>
    void count(F&& f) {
        std::lock_guard lock(counters_mutex);
        f(counters);
    }
};

/// The file server: its keys (X25519 = the Ed25519 key's conversion), files, faults, listener.
struct FileServer {
    std::uint16_t port = 0;
    ByteArray<32> ed_pk{};
    ByteArray<32> x_pk{};
    Secret<32> x_sk;
    std::string ed_hex, x_hex;
    std::uint64_t max_file_bytes = 0;
    std::uint64_t max_upload_bytes = 0;
    std::unique_ptr<FileStore> store;
    Faults faults;

    std::mutex listener_mutex;
    Listener listener;
    std::atomic<bool> running{false};

    mutable std::mutex counters_mutex;
    FileServerCounters counters;
    template <class F>
    void count(F&& f) {
        std::lock_guard lock(counters_mutex);
        f(counters);
    }
};

struct Seed {
    std::size_t index = 0;
    std::uint16_t port = 0;
    std::mutex listener_mutex;
    Listener listener;
    std::atomic<bool> down{false};
    mutable std::mutex counters_mutex;
    Counters counters;
};

}  // namespace session::localnet::detail

namespace session::localnet {

struct Network::Impl {
    Network* self = nullptr;  // the owner (control commands go through its public API)
    Options opt;
    std::shared_ptr<Clock> clock;
    detail::Authority authority;
    detail::Certificate seed_tls;
    std::vector<std::unique_ptr<detail::Node>> nodes;
    std::vector<std::unique_ptr<detail::Seed>> seeds;
    std::vector<std::uint64_t> swarm_ids;  // sorted, distinct
    std::uint16_t control_port = 0;
    detail::Listener control;
    std::unique_ptr<detail::FileServer> files;  // null without Options::file_server

    mutable std::mutex moves_mutex;
    // Client requests hold this shared while they run; move_account holds it exclusively, so a
    // store can never land in the old swarm between the migration's copy and the switch.
    std::shared_mutex account_moves;
    std::map<ByteArray<32>, std::uint64_t> moved;  // account key -> swarm (move_account)

    // Wakes sleeping / hung / waiting requests when the network (or a node) stops.
    std::mutex wake_mutex;
    std::condition_variable wake_cv;
    std::atomic<bool> stopping{false};
    std::thread purger;

    // ---- swarms ----
    std::uint64_t swarm_for_key(const ByteArray<32>& key) const;
    std::vector<detail::Node*> members(std::uint64_t swarm) const;
    detail::Node* find_node(const ByteArray<32>& ed_pk) const;
    detail::json swarm_json(std::uint64_t swarm) const;  // {"snodes": […], "swarm": hex}
    detail::json service_nodes_result(const detail::json& params) const;  // oxend get_service_nodes

    // ---- time and waiting ----
    std::int64_t base_now() const { return clock->now_ms(); }
    std::int64_t now(const detail::Node& n) const { return base_now() + n.faults.skew_ms.load(); }
    /// Sleeps up to `ms`, returning early (false) if the network stops or `node` stops running.
    bool sleep_for(std::int64_t ms, const detail::Node* node = nullptr);
    /// What an in-process caller (relay / replication) experiences talking to `n`:
    /// false = silent (stopped, dropped or hung); latency already applied (or, inside an
    /// Overlap, owed).
    bool reachable_in_process(detail::Node& n);
    /// Waits that overlap: the storage server runs a `batch`'s sub-requests at once, so their
    /// forwarding to swarm peers is concurrent and the batch waits for the slowest, not for the
    /// sum. While one is set on this thread, reachable_in_process() and a hung peer record the
    /// wait they would sleep (the longest) instead of sleeping; the batch then sleeps it once.
    struct Overlap {
        std::int64_t owed_ms = 0;
        void owe(std::int64_t ms) { owed_ms = std::max(owed_ms, ms); }
    };
    static inline thread_local Overlap* overlap = nullptr;
    void corrupt_maybe(detail::Node& n, std::string& body);

    // ---- RPC (rpc.cpp) ----
    enum class Origin { client, onion, peer };
    /// A /storage_rpc/v1 (or onion destination) body: parse the envelope, dispatch, count.
    detail::Reply handle_client_body(detail::Node& n, std::string_view body, Origin origin);
    /// One method with params (counts it when origin is client/onion).
    detail::Reply handle_method(detail::Node& n, const std::string& method, const detail::json& params,
                                Origin origin, bool recurse);

    // ---- hostile nodes (hostile.cpp) ----
    /// An answer that replaces the method's own (deep_json rpc/body/batch), or nullopt.
    std::optional<detail::Reply> hostile_replace(detail::Node& n, const detail::HostileSpec& h,
                                                 const std::string& method);
    /// Alters the method's own answer (deep_json field, huge_body rpc, wild_t).
    void hostile_alter(detail::Node& n, const detail::HostileSpec& h, const std::string& method, detail::Reply& r);
    /// retrieve: alters a page's messages and `more` for the asking account (endless_pages,
    /// hash_mismatch, replay, inject).
    void hostile_retrieve(detail::Node& n, const detail::HostileSpec& h, const detail::Account& a, int ns,
                          detail::json& messages, bool& more);
    /// forged_swarm: the forged {"snodes", "swarm"} answer instead of swarm_json(swarm).
    detail::json hostile_swarm(detail::Node& n, const detail::HostileSpec& h, std::uint64_t swarm);
    /// fake_confirm: `count` entries signed by keys outside the swarm, added to a store's "swarm".
    void hostile_confirmations(detail::Node& n, const detail::HostileSpec& h, const std::string& hash,
                               std::int64_t expiry, detail::json& swarm);
    /// The HTTP layer: deep_json/huge_body with where "http" replace the text; slow_drip trickles it.
    /// True when `res` was filled (the caller sends nothing else).
    bool hostile_http(detail::Node& n, const httplib::Request& req, httplib::Response& res, int status,
                      std::string& text, const char* content_type);

    // ---- onion (onion_node.cpp) ----
    /// POST /onion_req/v2 body at the guard.
    detail::Reply handle_onion_entry(detail::Node& n, std::string_view body);
    /// One encrypted layer at node n (guard or relayed), hop_no already checked.
    detail::Reply process_layer(detail::Node& n, ByteView ciphertext, const ByteArray<32>& eph_key,
                                detail::EncType enc_type, int hop_no);

    // ---- the file server (file_server.cpp) ----
    /// An HTTP request to the file-server API (direct, or a v3/v4 onion subrequest).
    struct FileRequest {
        std::string method;
        std::string path;  // may carry a ?query (ignored, as Flask routes ignore it)
        std::vector<std::pair<std::string, std::string>> headers;  // names as sent
        std::string body;
    };
    struct FileResponse {
        int status = 200;
        std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
        std::string body;
    };
    FileResponse handle_file_request(const FileRequest& req);
    /// POST /oxen/v4/lsrpc (v4 = true) or /loki|oxen/v3/lsrpc: decrypt, run the subrequest, encrypt.
    FileResponse handle_file_onion(std::string_view body, bool v4);
    Result<void> start_file_listener();
    void stop_file_listener();
    void corrupt_file_maybe(std::string& body);

    // ---- endpoints (network.cpp) ----
    Result<void> start_node_listener(detail::Node& n);
    void stop_node_listener(detail::Node& n);
    Result<void> start_seed_listener(detail::Seed& s);
    void stop_seed_listener(detail::Seed& s);
    detail::json control_command(const detail::json& cmd);
};

}  // namespace session::localnet
