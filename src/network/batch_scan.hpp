#pragma once
// batch_scan.hpp: a store answer as the checks read it, and a batch reply of stores read without
// building a JSON tree, and any other reply read for its timestamp alone (private to the network
// module).
//
// A batch of 20 stores comes back as about 20 KB of JSON: each answer names every swarm member
// with its hash and signature. Parsing that into an nlohmann tree and walking it was a tenth of the
// client's CPU in a broadcast (docs/performance.md). scan_store_batch reads the plain form a
// storage server writes straight into StoreAnswers; anything else, valid JSON or not, it leaves to
// the full parse (parse_body), which then decides. Both routes end in the same StoreAnswer, read
// by the same checks (parse.hpp parse_store_answer), so the route never changes a result.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace session::network::detail {

/// Entries looked at in a get_swarm / 421 list of members and in a store reply's "swarm" (a swarm has
/// 5 to 10 members).
inline constexpr std::size_t kMaxSwarmEntries = 64;
/// Sub-results looked at in a batch/sequence reply (the storage server takes at most 20 requests).
inline constexpr std::size_t kMaxBatchResults = 20;

/// One entry of a store answer's "swarm" object: what the checks read of it.
struct StoreEntry {
    std::string key;  // the member's Ed25519 key, as the node wrote it (hex expected)
    bool object = true;  // false: the entry is not a JSON object (nothing below is read)
    // Each flag: the field is `true` (any other value, or none, is false).
    bool failed = false;
    bool timeout = false;
    bool bad_peer_response = false;
    bool query_failure = false;
    bool already = false;
    std::optional<std::string> code;  // "code": a string as given, any other value as JSON text
    std::string reason;               // "reason" when it is a string
    std::optional<std::string> hash;       // when a string
    std::optional<std::string> signature;  // when a string (base64 expected)
    std::optional<std::int64_t> expiry;    // when an integer
    bool operator==(const StoreEntry&) const = default;
};

/// A store answer ({"hash", "swarm": {ed25519 hex: entry, …}, "t", …}) as the checks read it: the
/// first kMaxSwarmEntries entries of "swarm" in key order (none when "swarm" is not an object).
struct StoreAnswer {
    std::vector<StoreEntry> entries;
    std::optional<std::int64_t> t;  // "t" when an integer
    bool operator==(const StoreAnswer&) const = default;
};

/// The StoreAnswer of a parsed, depth-checked JSON object (a repeated key: its last value, as
/// nlohmann keeps it).
StoreAnswer store_answer_of(const nlohmann::json& reply);

/// One sub-result of a scanned batch reply.
struct ScannedResult {
    int status = 0;                    // 0..999
    std::string body;                  // a string body as is, "null" for none (unless `store`)
    std::optional<StoreAnswer> store;  // a 2xx result's object body
    bool operator==(const ScannedResult&) const = default;
};

/// A batch reply ({"results": [{"code": int, "body": …}, …], "t"?}) read by scan_store_batch.
struct ScannedBatch {
    std::vector<ScannedResult> results;  // 1..kMaxBatchResults, in order
    std::optional<std::int64_t> t;       // the reply's own "t" when an integer
    bool operator==(const ScannedBatch&) const = default;
};

/// `text` read without a tree, when it is a batch reply of the plain kind a storage server writes:
/// a JSON object with a "results" array of 1 to kMaxBatchResults objects, each with an integer
/// "code" in 0..999 and a "body" that is a string, null, absent, or (for a 2xx code) an object;
/// strings in ASCII without \u escapes; numbers integers of at most 18 digits; no key read here
/// repeated; nesting at most 16 levels. For anything else it returns nullopt: the caller parses the
/// text in full, and that parse decides. What it returns is what the full parse reads from the
/// same text (test_batch_scan and fuzz_batch_scan compare the two).
[[nodiscard]] std::optional<ScannedBatch> scan_store_batch(std::string_view text);

/// What the network reads of a reply that is not a batch (a retrieve page, a swarm list, a single
/// store's answer, info): its own "t", when an integer.
struct ScannedTime {
    std::optional<std::int64_t> t;
    bool operator==(const ScannedTime&) const = default;
};

/// `text` read for its top-level "t" without a tree (a retrieve page can be megabytes, and the
/// caller parses it anyway), when it is a JSON object of the same plain subset as above (every
/// value skipped but "t" checked all the same, nesting at most 16 levels) with no "results" member
/// and "t" at most once. For anything else (a batch, a text outside the subset) nullopt: the full
/// parse reads it, and decides. What it returns is what the full parse reads from the same text.
[[nodiscard]] std::optional<ScannedTime> scan_reply_time(std::string_view text);

}  // namespace session::network::detail
