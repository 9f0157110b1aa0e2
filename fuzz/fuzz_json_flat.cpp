// fuzz_json_flat.cpp: detail::scan_flat_object, the scan that reads a node's reply wrapper
// ({"status":200,"body":"…"}) without a tree, against nlohmann's full parse of the same text.
// Whenever the scan answers, nlohmann must parse the text as an object with exactly those members
// (the same keys, the same strings, the same integers); the scan must never read past the input.
// Seeds: fuzz/corpus/json_flat/.
// fuzz-requires: json_limited
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detail/json_limited.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using session::detail::FlatMember;
    const std::string_view in = fuzz::as_text(data, size);
    auto scanned = session::detail::scan_flat_object(in);
    if (!scanned) return 0;
    FUZZ_CHECK(scanned->size() <= session::detail::kMaxFlatMembers, "json_flat: more members than the limit");
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!j.is_discarded(), "json_flat: scanned a text nlohmann does not parse");
    FUZZ_CHECK(j.is_object(), "json_flat: scanned a text that is not an object");
    FUZZ_CHECK(j.size() == scanned->size(), "json_flat: a different number of members (a repeated key?)");
    for (const FlatMember& m : *scanned) {
        const auto it = j.find(m.key);
        FUZZ_CHECK(it != j.end(), "json_flat: a key nlohmann does not have");
        if (const auto* s = std::get_if<std::string>(&m.value)) {
            FUZZ_CHECK(it->is_string() && it->get<std::string>() == *s, "json_flat: a string differs");
        } else {
            const auto n = std::get<std::int64_t>(m.value);
            FUZZ_CHECK(n >= 0 && it->is_number_unsigned() && it->get<std::uint64_t>() == static_cast<std::uint64_t>(n),
                       "json_flat: an integer differs");
        }
    }
    return 0;
}
