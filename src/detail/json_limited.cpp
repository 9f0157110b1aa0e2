// json_limited.cpp: see json_limited.hpp.
#include "detail/json_limited.hpp"

#include <cstring>

#include "detail/json_scan.hpp"

namespace session::detail {

std::size_t json_depth(std::string_view text, std::size_t max_depth) noexcept {
    std::size_t depth = 0, deepest = 0;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        switch (*p++) {
            case '"':
                // A string ends at the next quote preceded by an even run of backslashes. memchr finds
                // the quotes: replies are mostly strings (base64, hex, a whole inner reply escaped).
                for (;;) {
                    const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
                    if (q == nullptr) return deepest;  // unterminated: the parse that follows fails
                    const char* run = q;
                    while (run > p && run[-1] == '\\') --run;  // p - 1 is a quote, so the run stays inside
                    p = q + 1;
                    if ((q - run) % 2 == 0) break;
                }
                break;
            case '[':
            case '{':
                if (++depth > deepest) {
                    deepest = depth;
                    if (deepest > max_depth) return deepest;
                }
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default: break;
        }
    }
    return deepest;
}

std::optional<std::vector<FlatMember>> scan_flat_object(std::string_view text) {
    std::vector<FlatMember> members;
    const bool ok = scan_whole_object(text, [&](JsonScan& s, const std::string& key) {
        if (members.size() == kMaxFlatMembers) return false;
        for (const auto& other : members)
            if (other.key == key) return false;  // nlohmann keeps the last: left to it
        FlatMember m{key, {}};
        if (s.eat('"')) {
            if (!s.string(m.value.emplace<std::string>())) return false;
        } else if (!s.integer(m.value.emplace<std::int64_t>())) {
            return false;
        }
        members.push_back(std::move(m));
        return true;
    });
    if (!ok) return std::nullopt;
    return members;
}

}  // namespace session::detail
