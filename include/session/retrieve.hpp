#pragma once
// retrieve.hpp: reading an account's messages back from its swarm (storage-server `retrieve`).
//
//   signature = Ed25519(account ed25519 key, "retrieve" || NS || timestamp_ms), base64 (88 chars)
//   NS = "" for namespace 0, else the decimal namespace ("2", "-10")
//   params  = {pubkey: "05…", pubkey_ed25519: hex, namespace, timestamp, signature, last_hash,
//              [max_count], [max_size]}
//   answer  = {messages: [{hash, data (base64), timestamp, expiration}], more: bool, t: ms, hf}
// Sources: storage-server.md §4.4, §4.5, §5.4 (oxenss/rpc/request_handler.cpp, client_rpc_endpoints.cpp);
// protocol.md §5.7 (session-desktop ts/session/apis/snode_api/swarmPolling.ts, retrieveRequest.ts).
//
// This module owns receiving from the swarm: which members are asked (random order, spares for
// failures), the pages, the rounds after a moved swarm (421) and the signing of every request.
// It reaches the network through a SwarmReader with two calls (the account's swarm; one signed
// retrieve to one member): NetworkReader adapts network::Network, tests pass a fake.
//
// Polling follows session-desktop and goes further where desktop relies on the next 5 s poll:
//   * ask kPollNodes (2) swarm members, because single snodes are often out of sync;
//   * keep `last_hash` per (member, namespace): each member orders messages by its own insertion
//     order, so a hash is only a valid resume point for the member that returned it;
//   * re-issue the request while the member answers `more: true` (desktop does not);
//   * merge the members' answers and de-duplicate by message hash.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/executor.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/rng.hpp"

namespace session::retrieve {

/// Namespace 0: the public inbox where 1:1 messages are stored (storage-server.md §6.1).
inline constexpr std::int16_t kDefaultNamespace = 0;
/// Swarm members asked per poll (session-desktop RETRIEVE_SNODES_COUNT).
inline constexpr std::size_t kPollNodes = 2;
/// A storage-server message hash: unpadded base64 of 32 bytes (storage-server.md §7).
inline constexpr std::size_t kHashLength = 43;
/// Whether `h` is a storage-server message hash: exactly 43 characters of the standard base64
/// alphabet, no padding.
bool is_message_hash(std::string_view h);
/// Largest message the storage server accepts (76 800 bytes decoded, storage-server.md §5.3): the
/// network layer's limit, network::kMaxStoreDataBytes.
inline constexpr std::size_t kMaxMessageBytes = network::kMaxStoreDataBytes;
/// Largest retrieve answer accepted from a member, checked before it is parsed. The server fills a
/// page up to 7,800,000 bytes by its own accounting (base64 length + 100 + hash length per message,
/// and always at least one message, storage-server.md §5.4), about 7.9 MB of JSON with one oversized
/// message; 10 MiB leaves room for key names and escapes and still bounds what one page can cost.
inline constexpr std::size_t kMaxPageBytes = 10 * 1024 * 1024;
/// Re-issues per node per poll before giving up on `more` (a node that always says `more` must not
/// hold the caller forever; at the server's smallest page of one message this is 10 000 messages).
inline constexpr std::size_t kMaxPagesPerNode = 10'000;
/// Rounds of (get_swarm, poll) when every asked member says the swarm moved (421): the first 421
/// updates the reader's swarm (network::Network adopts the swarm the 421 names), the second round
/// asks the new members. A swarm that moves again within one poll is left to the next poll.
inline constexpr std::size_t kSwarmRounds = 2;

/// A message hash held without a heap allocation (43 characters in place), for the sets of hashes
/// that grow with the number of messages: ~60 bytes per entry in a hash set instead of ~140.
class HashKey {
public:
    /// The key of `hash`; hashes of any other length are cut or zero-filled (callers pass hashes
    /// already checked to be 43 characters).
    explicit HashKey(std::string_view hash) noexcept {
        std::copy_n(hash.data(), std::min(hash.size(), chars_.size()), chars_.begin());
    }
    std::string_view view() const { return {chars_.data(), chars_.size()}; }
    bool operator==(const HashKey&) const = default;
    struct Hasher {
        std::size_t operator()(const HashKey& k) const noexcept { return std::hash<std::string_view>{}(k.view()); }
    };

private:
    std::array<char, kHashLength> chars_{};
};

/// The exact bytes signed for a retrieve: "retrieve" || NS || decimal(timestamp_ms).
std::string signature_message(std::int16_t ns, std::int64_t timestamp_ms);

/// The parameters of one signed `retrieve` call. Build with sign_request.
struct Request {
    std::string pubkey;          ///< account Session ID, "05" + 64 hex
    std::string pubkey_ed25519;  ///< the signer's Ed25519 key, 64 hex (the server checks it maps to pubkey)
    std::int16_t ns = kDefaultNamespace;
    std::int64_t timestamp_ms = 0;  ///< network time; the server accepts ±60 s (storage-server.md §4.7)
    std::string signature;          ///< standard padded base64 of the 64-byte Ed25519 signature
    std::string last_hash;          ///< resume after this message on the answering node; "" = from the start
    std::int64_t max_count = 0;     ///< 0 = not sent (server default)
    std::int64_t max_size = 0;      ///< 0 = not sent; negative = 1/k of the server's 7.8 MB budget

    /// The JSON text of the `params` object. `last_hash` is omitted when empty, `max_count` and
    /// `max_size` when zero; `namespace` is always sent (the server defaults it to 0 anyway).
    std::string params_json() const;
    /// The JSON text of the whole request body {"method":"retrieve","params":{…}}.
    std::string body_json() const;
};

/// Limits of one page. Zero fields are not sent.
struct PageLimits {
    std::int64_t max_count = 0;
    std::int64_t max_size = 0;
};

/// Signs a retrieve of namespace `ns` for `self` at `timestamp_ms`, resuming after `last_hash`.
/// Errors: invalid_argument if last_hash is neither empty nor a 43-character base64 hash.
[[nodiscard]] Result<Request> sign_request(const Identity& self, std::int16_t ns, std::int64_t timestamp_ms,
                                           std::string_view last_hash = {}, PageLimits limits = {});

/// One stored message as a swarm node returns it (still sealed).
struct StoredMessage {
    std::string hash;           ///< 43-character unpadded base64 (storage-server.md §7)
    Bytes data;                 ///< decoded `data`: the stored (sealed) bytes
    std::int64_t timestamp_ms;  ///< the `timestamp` the sender gave to `store` (its network time)
    std::int64_t expiry_ms;     ///< the node's `expiration` for it
    bool operator==(const StoredMessage&) const = default;
};

/// An item a member returned that is not what it claims to be: its hash is not
/// swarm::message_hash(account, namespace, data) (storage-server.md §7). A member that returns one
/// is either broken or forging; such an item never enters the de-duplication by hash, so it cannot
/// hide the genuine message whose hash it claims.
struct RejectedItem {
    std::string hash;           ///< the hash the member claimed
    std::int64_t timestamp_ms;  ///< the `timestamp` it claimed
    Error reason;               ///< retrieve_hash_mismatch, naming the member
};

/// One decoded retrieve answer.
struct Page {
    std::vector<StoredMessage> messages;  ///< in the answering node's insertion order
    bool more = false;                    ///< the node truncated the answer; re-issue after the last hash
    std::optional<std::int64_t> server_time_ms;  ///< `t`, for the network clock offset
};

/// Parses a retrieve answer body. The body is at most kMaxPageBytes and nested at most
/// detail::kMaxJsonDepth (64) levels, both checked before the JSON is parsed; every field is type-
/// and bounds-checked: hashes must be 43 base64 characters, data valid base64 of at most
/// kMaxMessageBytes, timestamps non-negative integers, `more` a boolean. Errors:
/// retrieve_bad_response naming the field and item index ("retrieve: messages[3].hash: expected 43
/// base64 characters, got 12"), the size, or the depth.
[[nodiscard]] Result<Page> parse_response(std::string_view body);

/// Signs the request of one page for a given network time (ms). The reader calls it for every
/// attempt, so a retry after a 406 (clock skew) carries a fresh timestamp and signature.
using RequestBuilder = std::function<Result<Request>(std::int64_t network_now_ms)>;

/// What receiving needs from the network: the account's swarm, and one signed retrieve sent to one
/// member. Implementations must be safe to call from several threads at once when a poll is given
/// an executor (PollOptions::executor).
class SwarmReader {
public:
    virtual ~SwarmReader() = default;
    /// The members of `account`'s swarm. Errors: net_* (as network::Network::get_swarm).
    [[nodiscard]] virtual Result<network::Swarm> get_swarm(const SessionId& account) = 0;
    /// Sends one retrieve for `account` to `member` (no other member: a last_hash is per member),
    /// built by `build` for the network time of each attempt, and returns the body of a 200 answer.
    /// Errors are passed through: net_swarm_moved (421: get_swarm then returns the new swarm),
    /// net_clock_skew, net_timeout, net_node_not_found, …
    [[nodiscard]] virtual Result<std::string> retrieve(const SessionId& account, const network::Snode& member,
                                                       const RequestBuilder& build) = 0;
};

/// The SwarmReader of a network::Network: its get_swarm and retrieve, the request sent as its
/// params_json(). Keeps a reference: the Network must outlive the reader. Thread-safe.
class NetworkReader final : public SwarmReader {
public:
    explicit NetworkReader(network::Network& net) : net_(net) {}
    [[nodiscard]] Result<network::Swarm> get_swarm(const SessionId& account) override;
    [[nodiscard]] Result<std::string> retrieve(const SessionId& account, const network::Snode& member,
                                               const RequestBuilder& build) override;

private:
    network::Network& net_;
};

/// Orders node keys by their bytes (for maps keyed by node).
struct NodeKeyLess {
    bool operator()(const Ed25519PublicKey& a, const Ed25519PublicKey& b) const { return a.bytes < b.bytes; }
};

/// Where each member stopped: member Ed25519 key -> the last hash that member returned (per
/// namespace: keep one NodeCursor per namespace). A plain value: copy it to keep a resume point.
struct NodeCursor {
    std::map<Ed25519PublicKey, std::string, NodeKeyLess> last_hash;
    bool operator==(const NodeCursor&) const = default;
};

/// What happened at one member during a poll.
struct NodeOutcome {
    Ed25519PublicKey node;      ///< the member's Ed25519 key (network::Snode::ed25519())
    std::size_t pages = 0;      ///< requests answered by this member
    std::size_t messages = 0;   ///< messages it returned (before de-duplication), forged ones included
    std::size_t rejected = 0;   ///< of those, items whose hash did not match their data
    std::optional<Error> error; ///< set when the member's last request failed
};

/// Why a poll ended before every wanted member was read to its end.
enum class Truncation {
    none,
    byte_budget,  ///< the answers received reached Budget::max_bytes
    item_budget,  ///< the items returned reached Budget::max_items
    deadline,     ///< Budget::deadline_ms passed
};
/// "none", "byte_budget", "item_budget", "deadline".
std::string_view to_string(Truncation t) noexcept;

/// Limits of one poll, across all its members and rounds, so that no member (broken or hostile:
/// endless `more` with fresh junk, huge pages, slow answers) can make a poll hold unbounded memory,
/// work or time. Once the bytes or items reach their limit, no member's `more` is followed any
/// further (a member not asked yet still gets its first request, so every poll makes progress);
/// once the deadline passes, no request starts. What was gathered is returned, the cursor covers
/// it, and PollResult::truncated names the limit when a request was left out because of it.
/// A zero field is no limit.
struct Budget {
    /// Answer bytes received. A poll holds at most this plus one page (kMaxPageBytes) per member
    /// it asks.
    std::size_t max_bytes = 0;
    /// Items returned (forged and repeated ones included): at most this plus one page per member.
    std::size_t max_items = 0;
    /// No request is started at or after this time of `clock` (ms). A request already started
    /// runs to its own timeout (the reader's, e.g. ClientOptions::retrieve_timeout).
    std::int64_t deadline_ms = 0;
    const Clock* clock = nullptr;  ///< required when deadline_ms is set
};

/// The merged result of one poll.
struct PollResult {
    /// New messages, de-duplicated by hash across members, in storage order: the first answering
    /// member's insertion order, with items only another member had placed next to their neighbours
    /// in that member's order. (Not sorted by timestamp: a sender's clock offset may wobble by a few
    /// ms between messages, but members store a sender's messages in the order they were sent.)
    std::vector<StoredMessage> messages;
    /// Items whose hash did not match their data, once per claimed hash (not in `messages`).
    std::vector<RejectedItem> rejected;
    std::vector<NodeOutcome> nodes;
    std::optional<std::int64_t> server_time_ms;  ///< the newest `t` seen
    /// Set when the poll stopped at a limit of PollOptions::budget; poll again from the cursor to
    /// continue.
    Truncation truncated = Truncation::none;
};

struct PollOptions {
    std::int16_t ns = kDefaultNamespace;
    PageLimits limits{};
    std::size_t max_pages_per_node = kMaxPagesPerNode;
    /// Stop after this many members answered (the rest of the swarm are spares for failures);
    /// 0 = ask every member.
    std::size_t want_answers = 0;
    /// Members are asked in an order drawn from this (desktop samples random members), so the load
    /// spreads and an out-of-sync member is not always the first. nullptr = the order get_swarm
    /// returned (for tests that need a fixed order).
    Rng* rng = nullptr;
    /// poll() only: ask the wanted members at the same time on this executor (and the calling
    /// thread) instead of one after the other, so a poll of 2 members costs one round trip, not two.
    /// The result is the same; the reader must then be thread-safe. nullptr = one after the other.
    /// poll_pages hands pages to its sink in the same order as without it, on the calling thread,
    /// but asks for each member's next page while the sink handles one, and reads the next wanted
    /// member meanwhile, dropping its pages that hold only items already handed on (four pages held
    /// at most; what was asked for ahead of a sink that says stop is dropped unseen).
    Executor* executor = nullptr;
    /// Limits of the whole poll (default: none).
    Budget budget{};
};

/// Polls our own swarm: gets it from `reader`, orders the members (options.rng), and asks them one
/// after the other, or in concurrent waves (options.executor), until options.want_answers answered:
/// for each member, a signed retrieve resuming after cursor.last_hash[member] (or after
/// `fallback_last_hash` when the cursor has no entry for it), re-issued while the member answers
/// `more` with items it had not returned earlier in this poll (a member whose page repeats only what
/// it already returned is not followed further: it ignores last_hash or loops). The cursor is updated with every page a member answers, so a member that fails half-way
/// resumes where it stopped. Every item's hash is checked against its data (message_hash of our
/// account, options.ns and the data): a mismatch goes to PollResult::rejected, never to `messages`.
/// Messages are merged and de-duplicated.
/// When every asked member answers 421, the swarm is fetched again and the poll repeated, up to
/// kSwarmRounds rounds; within a round, members not yet asked after a 421 are skipped (they belong
/// to the same stale swarm).
/// Succeeds if at least one member answered, or the budget ended the poll (the others' errors are in
/// PollResult::nodes); fails with the first member's error if none did (net_swarm_moved only if the
/// swarm moved in every round); net_no_nodes if the swarm is empty; get_swarm's error;
/// invalid_argument if fallback_last_hash is not a hash. Throws std::invalid_argument for a
/// deadline without a clock (a caller's bug).
[[nodiscard]] Result<PollResult> poll(const Identity& self, SwarmReader& reader, NodeCursor& cursor,
                                      std::string_view fallback_last_hash, const PollOptions& options = {});

/// What one answered page brought that no earlier page of this poll held.
struct FreshPage {
    std::vector<StoredMessage> messages;  ///< new by hash, in the member's order (hashes verified)
    std::vector<RejectedItem> rejected;   ///< forged items not reported earlier in this poll
};
/// Receives one answered page of poll_pages with something fresh; `cursor` already includes the
/// page. Return false to stop the poll after this page. May move the items out.
using PageSink = std::function<bool(const Ed25519PublicKey& node, FreshPage& fresh, const NodeCursor& cursor)>;

struct StreamResult {
    std::vector<NodeOutcome> nodes;
    std::optional<std::int64_t> server_time_ms;  ///< the newest `t` seen
    bool stopped = false;                        ///< the sink returned false
    Truncation truncated = Truncation::none;     ///< as PollResult::truncated
};

/// As poll, but hands each page to `sink` as it arrives instead of merging everything first, so
/// memory is bounded by one page (plus the hashes seen in this poll), not by the backlog. The order
/// is each member's own: items that only a later member holds come after the earlier members'
/// items (poll() instead slots them in beside their neighbours). Same errors as poll.
[[nodiscard]] Result<StreamResult> poll_pages(const Identity& self, SwarmReader& reader, NodeCursor& cursor,
                                              std::string_view fallback_last_hash, const PageSink& sink,
                                              const PollOptions& options = {});

}  // namespace session::retrieve
