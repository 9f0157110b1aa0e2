// fuzz_batch_scan.cpp: network::detail::scan_store_batch, the scan that reads a batch reply of
// stores without building a tree, against the full parse's reading of the same text.
// Whenever the scan answers, nlohmann must parse the text as an object, and parse_batch_results
// over the text (a tree) must give the same statuses and bodies, each 2xx object body read as the
// same StoreAnswer (store_answer_of); the timestamp the network learns must be the same too.
// Seeds: fuzz/corpus/batch_scan/.
// fuzz-requires: network
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "network/batch_scan.hpp"
#include "network/parse.hpp"

namespace {

// The "t" the tree gives: the reply's own, else the first result's body's.
std::optional<std::int64_t> tree_timestamp(const nlohmann::json& j) {
    if (auto t = j.find("t"); t != j.end() && t->is_number_integer()) return t->get<std::int64_t>();
    const auto& first = j.at("results").at(0);
    if (auto b = first.find("body"); b != first.end() && b->is_object())
        if (auto t = b->find("t"); t != b->end() && t->is_number_integer()) return t->get<std::int64_t>();
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace nd = session::network::detail;
    const std::string_view in = fuzz::as_text(data, size);
    const auto scanned = nd::scan_store_batch(in);
    if (!scanned) return 0;
    const auto& results = scanned->results;
    FUZZ_CHECK(!results.empty() && results.size() <= nd::kMaxBatchResults, "batch_scan: a result count out of bounds");
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!j.is_discarded() && j.is_object(), "batch_scan: scanned a text nlohmann does not parse as an object");
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
    const auto parsed = nd::parse_body(in);
    FUZZ_CHECK(parsed != nullptr, "batch_scan: parse_body drops a scanned reply");
    FUZZ_CHECK(nd::find_timestamp(parsed.get()) == tree_timestamp(j), "batch_scan: the timestamp differs");
    return 0;
}
