// fuzz_batch_scan.cpp: network::detail::scan_store_batch, the scan that reads a batch reply of
// stores without building a tree, and scan_reply_time, which reads any other reply for its "t"
// alone, against the full parse's reading of the same text.
// Whenever scan_store_batch answers, nlohmann must parse the text as an object, and
// parse_batch_results over the text (a tree) must give the same statuses and bodies, each 2xx
// object body read as the same StoreAnswer (store_answer_of). Whenever scan_reply_time answers,
// the text must be an object without "results" whose "t" the tree reads the same. And for every
// text, parse_body (whichever way it reads it) must give the timestamp the tree gives, or nothing
// when the tree does not read an object.
// Seeds: fuzz/corpus/batch_scan/.
// fuzz-requires: network
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "detail/json_limited.hpp"
#include "fuzz_common.hpp"
#include "network/batch_scan.hpp"
#include "network/parse.hpp"

namespace {

// The "t" the tree gives (parse.cpp's timestamp_in): the reply's own, else the first result's
// body's.
std::optional<std::int64_t> tree_timestamp(const nlohmann::json& j) {
    if (auto t = j.find("t"); t != j.end() && t->is_number_integer()) return t->get<std::int64_t>();
    const auto r = j.find("results");
    if (r == j.end() || !r->is_array() || r->empty() || !(*r)[0].is_object()) return std::nullopt;
    const auto& first = (*r)[0];
    if (auto b = first.find("body"); b != first.end() && b->is_object())
        if (auto t = b->find("t"); t != b->end() && t->is_number_integer()) return t->get<std::int64_t>();
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace nd = session::network::detail;
    const std::string_view in = fuzz::as_text(data, size);
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    const bool object = !j.is_discarded() && j.is_object();
    const auto parsed = nd::parse_body(in);
    if (parsed) {
        FUZZ_CHECK(object, "batch_scan: parse_body reads a text nlohmann does not parse as an object");
        FUZZ_CHECK(nd::find_timestamp(parsed.get()) == tree_timestamp(j), "batch_scan: the timestamp differs");
    } else {
        FUZZ_CHECK(!object || session::detail::json_depth(in) > session::detail::kMaxJsonDepth,
                   "batch_scan: parse_body drops an object the tree reads");
    }
    if (const auto time = nd::scan_reply_time(in)) {
        FUZZ_CHECK(object && !j.contains("results"), "batch_scan: the time scan read a batch or not an object");
        const auto t = j.find("t");
        FUZZ_CHECK(time->t == (t != j.end() && t->is_number_integer() ? std::optional<std::int64_t>(t->get<std::int64_t>())
                                                                        : std::nullopt),
                   "batch_scan: the time scan's t differs");
    }
    const auto scanned = nd::scan_store_batch(in);
    if (!scanned) return 0;
    const auto& results = scanned->results;
    FUZZ_CHECK(!results.empty() && results.size() <= nd::kMaxBatchResults, "batch_scan: a result count out of bounds");
    FUZZ_CHECK(object, "batch_scan: scanned a text nlohmann does not parse as an object");
    const auto tree = nd::parse_batch_results(in, results.size(), session::network::Snode{});
    FUZZ_CHECK(tree.has_value(), "batch_scan: the full parse refuses a scanned reply");
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& t = (*tree)[i];
        FUZZ_CHECK(t.status == results[i].status, "batch_scan: a status differs");
        if (results[i].store) {
            FUZZ_CHECK(t.object != nullptr, "batch_scan: a store answer the tree does not have");
            const auto answer = nd::store_answer_of(*t.object);
            FUZZ_CHECK(answer == *results[i].store, "batch_scan: a store answer differs");
            FUZZ_CHECK(answer.entries.size() <= nd::kMaxSwarmEntries, "batch_scan: more entries than the limit");
        } else {
            FUZZ_CHECK(t.object == nullptr && t.body == results[i].body, "batch_scan: a body differs");
        }
    }
    return 0;
}
