#pragma once
// json_limited.hpp: parsing JSON that came from outside (a node, a seed, a file server, a client of
// the local network) with its nesting depth bounded before anything walks it.
//
// nlohmann/json 3.11 parses iteratively, but copying a value, dump() and comparisons recurse once
// per nesting level, so a reply of a few hundred thousand '[' crashes the process the first time
// it is copied or printed. Every JSON text from outside goes through parse_limited(): the depth is
// checked by a linear scan first, and a value that passed may then be copied and dumped freely.
// (STYLE.md §12.)
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/error.hpp"

namespace session::detail {

/// Deepest nesting of arrays and objects accepted from outside. Every reply of the protocol is
/// under 8 levels deep; 64 leaves room for anything reasonable and keeps recursion shallow.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// The deepest nesting of arrays/objects in `text` (0 for a scalar), with brackets inside strings
/// ignored; the scan stops early and returns max_depth + 1 once max_depth is exceeded. Exact for
/// valid JSON; for invalid JSON the later parse fails anyway.
std::size_t json_depth(std::string_view text, std::size_t max_depth = kMaxJsonDepth) noexcept;

/// Parses `text` if it is valid JSON nested at most `max_depth` levels. Errors: `code` (the
/// caller's module's bad-reply code), with `what` naming the source ("network: store reply: not
/// valid JSON", "…: JSON nested deeper than 64 levels").
template <class Json = nlohmann::json>
[[nodiscard]] Result<Json> parse_limited(std::string_view text, Errc code, std::string_view what,
                                         std::size_t max_depth = kMaxJsonDepth) {
    if (json_depth(text, max_depth) > max_depth)
        return unexpected(code, std::string(what) + ": JSON nested deeper than " + std::to_string(max_depth) +
                                    " levels");
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return unexpected(code, std::string(what) + ": not valid JSON");
    return j;
}

/// As parse_limited, for callers that only need "valid and shallow enough, or nothing".
template <class Json = nlohmann::json>
std::optional<Json> parse_limited_or_none(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
    if (json_depth(text, max_depth) > max_depth) return std::nullopt;
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

/// One member of a flat JSON object: a string value, or an integer written as plain digits.
struct FlatMember {
    std::string key;
    std::variant<std::string, std::int64_t> value;
};

/// Most members scan_flat_object reads (its check for repeated keys is quadratic).
inline constexpr std::size_t kMaxFlatMembers = 16;

/// The members of `text`, in order, when it is a JSON object of the plain kind a node writes around
/// its reply ({"status":200,"body":"<the reply, escaped>"}), read without building a tree:
/// every value a string or a non-negative integer of at most 18 digits, no key repeated, at most
/// kMaxFlatMembers members, only ASCII, and no \u escapes. For anything else, valid JSON or not, it
/// returns nullopt and the caller parses the text in full (parse_limited), which then decides. What
/// it returns is what nlohmann's parse gives for the same text (fuzz_json_flat compares the two).
[[nodiscard]] std::optional<std::vector<FlatMember>> scan_flat_object(std::string_view text);

}  // namespace session::detail
