#pragma once
// parse.hpp: parsing what seeds and nodes answer — node lists, swarms, store results, info, batch
// results, relay errors — and the pool cache file (private to the network module).
// Every function is pure: bytes in, a Result out; errors are net_bad_response or net_config with the
// offending field and position named. Text a node sent reaches an error message only through quote().
//
// Every byte here is hostile (STYLE.md §12): each JSON text is depth-checked before it is walked
// (detail::parse_limited, at most kMaxJsonDepth levels: nlohmann's copy and dump() recurse per level;
// a batch reply scanned without a tree, batch_scan.hpp, goes at most 16 levels deep), and each list a
// node controls is looked at up to a limit: kMaxPoolNodes, kMaxSwarmEntries, kMaxBatchResults.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "network/batch_scan.hpp"
#include "session/network.hpp"

namespace session::network::detail {

/// Nodes looked at in a node list (a seed's or oxend_request's); mainnet has about 2,200.
inline constexpr std::size_t kMaxPoolNodes = 10'000;
// kMaxSwarmEntries and kMaxBatchResults: batch_scan.hpp.
/// Integers looked at in an info reply's "version" and "hf".
inline constexpr std::size_t kMaxVersionParts = 8;

/// One node object in any of the spellings the network uses:
///   oxend service_node_states: public_ip, storage_port, pubkey_ed25519, pubkey_x25519, swarm_id | swarm
///   storage server get_swarm / 421 "snodes": ip, port_https | port (string), pubkey_ed25519, pubkey_x25519
/// Errors (net_bad_response, or `code`): missing/ill-typed field, bad hex, port out of range.
[[nodiscard]] Result<Snode> parse_node(const nlohmann::json& j, Errc code = Errc::net_bad_response);

/// Whether a node is usable (has a routable IP: not empty, not 0.0.0.0; port != 0).
bool node_usable(const Snode& n);

/// A list of node objects, the first `limit` looked at; unusable nodes (0.0.0.0, missing IP), repeated
/// keys and malformed entries are dropped and counted in `skipped` (so are entries past `limit`).
/// Errors: not an array.
[[nodiscard]] Result<std::vector<Snode>> parse_node_list(const nlohmann::json& arr, std::size_t limit,
                                                         std::size_t* skipped = nullptr);

/// A seed's get_n_service_nodes reply (oxend JSON-RPC envelope): result.service_node_states[].
/// Errors: net_bad_response (not JSON, no states, empty after filtering).
[[nodiscard]] Result<std::vector<Snode>> parse_seed_reply(std::string_view body);

/// The body of oxend_request get_service_nodes through a snode: {"result": {"service_node_states": …}}.
[[nodiscard]] Result<std::vector<Snode>> parse_oxend_reply(std::string_view body);

/// get_swarm reply or a 421 body: {"snodes": [...], "swarm": "<hex>"?}, as the node claims it (see
/// swarms.hpp verify_swarm before trusting it).
[[nodiscard]] Result<Swarm> parse_swarm_reply(std::string_view body);

/// An RPC body parsed once (RpcReply::parsed, Attempt::parsed): a JSON object, depth-checked, so
/// its values may be copied and dumped; or, without a tree (batch_scan.hpp), a batch reply of
/// stores read by scan_store_batch, or any other plain reply read for its "t" alone by
/// scan_reply_time (its caller parses the text itself). Defined in parse.cpp, the only place that
/// reads it.
struct ParsedBody;
/// `body` scanned (scan_store_batch, scan_reply_time) or parsed, when it is a JSON object within
/// the depth limit; null otherwise.
std::shared_ptr<const ParsedBody> parse_body(std::string_view body);

/// The "t" field (ms) of a JSON body, if any (also looks into the first batch result).
std::optional<std::int64_t> find_timestamp(std::string_view body);
/// The same from a parse; a null `body` (not a JSON object) has none.
std::optional<std::int64_t> find_timestamp(const ParsedBody* body);

/// The params of oxend_request get_service_nodes for a pool refresh through a snode (desktop's
/// fields plus swarm_id, as libsession asks for it).
std::string pool_refresh_params();

/// "Next node not found: <ed25519 hex>" in a 502 body → the key; otherwise nullopt.
std::optional<Ed25519PublicKey> next_node_not_found(std::string_view body);

/// A batch/sequence reply whose sub-requests all failed with one status (libquic handles it as that
/// status): the status and the first sub-request's body as text. nullopt for anything else.
struct BatchFailure {
    int status = 0;
    std::string body;
};
/// `parsed`, when given, must be `body` parsed (parse_body): it is read instead of the text.
std::optional<BatchFailure> uniform_batch_failure(std::string_view body, const ParsedBody* parsed = nullptr);

/// Every sub-result of a batch reply ({"results": [{"code": int, "body": JSON | string}, …]}, in
/// request order), each body as text (a JSON body dumped, a string body as is), except a 2xx
/// object body: that one stays parsed (`object`, inside the shared `document`; `body` empty), so a
/// store's answer is not written out and read again. From a reply whose `parsed` body was scanned
/// (scan_store_batch), that body is `store` instead, and `object` is null. `expected` is the number of sub-requests sent
/// (at most kMaxBatchResults). Errors: net_bad_response (not JSON, too deep, no "results" array, a
/// different number of results, a result without an integer code in 0..999).
struct BatchResult {
    int status = 0;
    std::string body;
    std::shared_ptr<const nlohmann::json> document;  // keeps `object` alive
    const nlohmann::json* object = nullptr;          // a 2xx object body (depth-checked), or null
    std::shared_ptr<const StoreAnswer> store;        // a 2xx object body as scanned, or null
};
[[nodiscard]] Result<std::vector<BatchResult>> parse_batch_results(std::string_view body, std::size_t expected,
                                                                   const Snode& from);
/// The same for a reply from reply.node: its `parsed` body when it has one, else its text.
[[nodiscard]] Result<std::vector<BatchResult>> parse_batch_results(const RpcReply& reply, std::size_t expected);

/// The members' signatures in one or more store answers, checked together before the answers are
/// read: all in one equation (session::detail::verify_batch), and when that fails, each answer's in
/// one. A batch of 20 stores carries 100 signatures of 5 keys; together they cost about a quarter of
/// checking them one by one (docs/performance.md). parse_store_object checks one by one only the
/// signatures not found valid here, so a forged one costs time, never a wrong count.
class StoreSignatures {
public:
    /// Notes the signed entries of a store answer (those parse_store_answer would check).
    void collect(const StoreAnswer& answer);
    /// The same from a parsed answer (store_answer_of).
    void collect(const nlohmann::json& reply);
    /// Checks what was collected.
    void check();
    /// Whether check() found `signature` (the entry's base64 text, as collected) by `node` over
    /// `hash` valid.
    bool valid(const Ed25519PublicKey& node, std::string_view hash, std::string_view signature) const;

private:
    struct Signed {
        ByteArray<32> node;
        std::string hash;
        std::string text;        // the signature as the entry gave it (base64)
        ByteArray<64> signature;  // decoded
    };
    // What check() found valid, looked up by views (no copies): node, hash, signature text.
    using Found = std::tuple<ByteArray<32>, std::string, std::string>;
    using FoundView = std::tuple<const ByteArray<32>&, std::string_view, std::string_view>;
    struct FoundLess {
        using is_transparent = void;
        static FoundView view(const FoundView& v) { return v; }
        static FoundView view(const Found& f) { return {std::get<0>(f), std::get<1>(f), std::get<2>(f)}; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const { return view(a) < view(b); }
    };
    std::vector<Signed> collected_;   // every answer's, in the order collected
    std::vector<std::size_t> ends_;   // where each answer ends in collected_ (one past its last)
    std::set<Found, FoundLess> valid_;
};

/// A `store` reply from `entry` (storage-server.md §5.3): {"hash", "swarm": {ed25519 hex: {hash,
/// signature, expiry, already?} | {failed, timeout?, code?, reason?, …}}}. Each member's signature
/// (Ed25519 over the ASCII hash, storage-server.md §4.6) is checked and its hash compared with
/// `expected_hash`. Only `members` (the recipient's swarm) count: an entry for any other key, however
/// well signed, is not ok ("not a member of the recipient's swarm"). Errors: net_bad_response (not an
/// object; no member confirmed the hash). `checks` chooses whose signatures are verified
/// (StoreChecks): with first_member, members after the first verified one are not checked; with
/// none, a member's entry with the expected hash confirms unchecked. With every_member the entries'
/// signatures are checked together first (StoreSignatures).
[[nodiscard]] Result<StoreResult> parse_store_reply(std::string_view body, const std::string& expected_hash,
                                                    const Snode& entry, std::span<const Snode> members,
                                                    StoreChecks checks = StoreChecks::every_member);
/// parse_store_reply from a store answer (a batch's sub-result: BatchResult::store). `checked`,
/// when given, holds this answer's signatures already checked (with a batch's others); without it,
/// every_member checks this answer's together.
[[nodiscard]] Result<StoreResult> parse_store_answer(const StoreAnswer& answer, const std::string& expected_hash,
                                                    const Snode& entry, std::span<const Snode> members,
                                                    StoreChecks checks = StoreChecks::every_member,
                                                    const StoreSignatures* checked = nullptr);
/// parse_store_answer of a parsed, depth-checked object (BatchResult::object): store_answer_of.
/// Errors: also net_bad_response when `reply` is not an object.
[[nodiscard]] Result<StoreResult> parse_store_object(const nlohmann::json& reply, const std::string& expected_hash,
                                                    const Snode& entry, std::span<const Snode> members,
                                                    StoreChecks checks = StoreChecks::every_member,
                                                    const StoreSignatures* checked = nullptr);

/// An `info` reply: {"version": [..], "hf": [..], "timestamp" | "t": ms}. Errors: net_bad_response.
[[nodiscard]] Result<InfoResult> parse_info_reply(std::string_view body, const Snode& from);

/// Bytes of a peer's text quoted in an error or log message.
inline constexpr std::size_t kQuoteBytes = 160;
/// At most kQuoteBytes of a peer's text for an error or log message, non-printable bytes as '?'.
std::string quote(std::string_view text);

/// One line of the pool cache file: ed25519|x25519|ip|port|swarm_id (swarm_id may be empty).
std::string pool_line(const Snode& n);
[[nodiscard]] Result<Snode> parse_pool_line(std::string_view line);

}  // namespace session::network::detail
