// json_limited.cpp: see json_limited.hpp.
#include "detail/json_limited.hpp"

#include <cstring>

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

namespace {

// A cursor over the text scan_flat_object reads; every step checks the end.
struct Scan {
    const char* p;
    const char* end;

    void skip_space() {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
    }
    bool eat(char c) {
        if (p == end || *p != c) return false;
        ++p;
        return true;
    }

    // The rest of a string whose opening quote was eaten, unescaped into `out`. Runs of plain
    // characters are copied whole (a node's reply is one long string with a quote escaped every few
    // characters). False for a \u escape, a byte outside ASCII, a control character or no end.
    bool string(std::string& out) {
        for (;;) {
            const char* run = p;
            while (p < end) {
                const auto c = static_cast<unsigned char>(*p);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++p;
            }
            out.append(run, p);
            if (p == end) return false;
            const char c = *p++;
            if (c == '"') return true;
            if (c != '\\' || p == end) return false;
            switch (*p++) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                default: return false;  // \u…, or not an escape at all
            }
        }
    }

    // "0", or digits not starting with 0; not followed by what would make it another number.
    bool integer(std::int64_t& out) {
        const char* start = p;
        if (p < end && *p == '0') ++p;
        else
            while (p < end && *p >= '0' && *p <= '9') ++p;
        const auto digits = p - start;
        if (digits == 0 || digits > 18) return false;
        if (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')) return false;
        std::int64_t v = 0;
        for (const char* d = start; d < p; ++d) v = v * 10 + (*d - '0');
        out = v;
        return true;
    }
};

}  // namespace

std::optional<std::vector<FlatMember>> scan_flat_object(std::string_view text) {
    Scan s{text.data(), text.data() + text.size()};
    std::vector<FlatMember> members;
    s.skip_space();
    if (!s.eat('{')) return std::nullopt;
    s.skip_space();
    if (!s.eat('}')) {
        for (;;) {
            if (members.size() == kMaxFlatMembers || !s.eat('"')) return std::nullopt;
            FlatMember m;
            if (!s.string(m.key)) return std::nullopt;
            for (const auto& other : members)
                if (other.key == m.key) return std::nullopt;  // nlohmann keeps the last: left to it
            s.skip_space();
            if (!s.eat(':')) return std::nullopt;
            s.skip_space();
            if (s.eat('"')) {
                if (!s.string(m.value.emplace<std::string>())) return std::nullopt;
            } else if (!s.integer(m.value.emplace<std::int64_t>())) {
                return std::nullopt;
            }
            members.push_back(std::move(m));
            s.skip_space();
            if (s.eat('}')) break;
            if (!s.eat(',')) return std::nullopt;
            s.skip_space();
        }
    }
    s.skip_space();
    if (s.p != s.end) return std::nullopt;
    return members;
}

}  // namespace session::detail
