#pragma once
// json_scan.hpp: a cursor for the scans that read a few plain JSON shapes without building a tree
// (json_limited's scan_flat_object, network/batch_scan's store batch). Each step checks the end
// and answers false for anything outside the plain subset it knows; the scan then gives up and the
// caller parses the text in full (parse_limited), which decides. The subset is strict JSON: a text
// a step accepts, nlohmann accepts too, with the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace session::detail {

struct JsonScan {
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
    /// The next character, or '\0' at the end (never a valid first character of a value).
    char peek() const { return p == end ? '\0' : *p; }

    /// The rest of a string whose opening quote was eaten, unescaped into `out`. Runs of plain
    /// characters are copied whole. False for a \u escape, a byte outside ASCII, a control
    /// character or no end.
    bool string(std::string& out) { return read_string(&out); }
    /// The same checks as string(), the string not kept.
    bool skip_string() { return read_string(nullptr); }

    /// "0", or digits not starting with 0, at most 18 of them; not followed by what would make it
    /// another number (a digit, a fraction, an exponent).
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

    /// integer(), or '-' and integer() (then negated).
    bool signed_integer(std::int64_t& out) {
        const bool negative = eat('-');
        if (!integer(out)) return false;
        if (negative) out = -out;
        return true;
    }

    /// `word` (true, false, null) as it stands.
    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return false;
        p += word.size();
        return true;
    }

    /// The members of an object whose '{' was eaten, up to and with its '}': `member(key)` reads
    /// each value (the cursor at it, past any space) and returns false to give up.
    template <class F>
    bool members(F&& member) {
        return walk_members<true>(member);
    }

    /// Any value of the subset (strings, integers, literals, arrays and objects of them), not
    /// kept, nested at most `depth` more levels.
    bool skip_value(int depth) {
        switch (peek()) {
            case '"': ++p; return skip_string();
            case 't': return literal("true");
            case 'f': return literal("false");
            case 'n': return literal("null");
            case '{':
                if (depth == 0) return false;
                ++p;
                return walk_members<false>([&](const std::string&) { return skip_value(depth - 1); });
            case '[':
                if (depth == 0) return false;
                ++p;
                skip_space();
                if (eat(']')) return true;
                for (;;) {
                    if (!skip_value(depth - 1)) return false;
                    skip_space();
                    if (eat(']')) return true;
                    if (!eat(',')) return false;
                    skip_space();
                }
            default: {
                std::int64_t ignored = 0;
                return signed_integer(ignored);
            }
        }
    }

private:
    // members(), each key unescaped into one reused buffer when `KeepKeys`; otherwise the keys are
    // only checked (skip_string) and `member` is given an empty string.
    template <bool KeepKeys, class F>
    bool walk_members(F&& member) {
        skip_space();
        if (eat('}')) return true;
        std::string key;
        for (;;) {
            if (!eat('"')) return false;
            if constexpr (KeepKeys) {
                key.clear();
                if (!string(key)) return false;
            } else if (!skip_string()) {
                return false;
            }
            skip_space();
            if (!eat(':')) return false;
            skip_space();
            if (!member(std::as_const(key))) return false;
            skip_space();
            if (eat('}')) return true;
            if (!eat(',')) return false;
            skip_space();
        }
    }

    // string() into `out`, or only its checks when `out` is null.
    bool read_string(std::string* out) {
        for (;;) {
            const char* run = p;
            while (p < end) {
                const auto c = static_cast<unsigned char>(*p);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++p;
            }
            if (out) out->append(run, p);
            if (p == end) return false;
            const char c = *p++;
            if (c == '"') return true;
            if (c != '\\' || p == end) return false;
            char unescaped = 0;
            switch (*p++) {
                case '"': unescaped = '"'; break;
                case '\\': unescaped = '\\'; break;
                case '/': unescaped = '/'; break;
                case 'b': unescaped = '\b'; break;
                case 'f': unescaped = '\f'; break;
                case 'n': unescaped = '\n'; break;
                case 'r': unescaped = '\r'; break;
                case 't': unescaped = '\t'; break;
                default: return false;  // \u…, or not an escape at all
            }
            if (out) *out += unescaped;
        }
    }
};

/// `text` as one JSON object and nothing after it (space aside): `member(s, key)` reads each
/// member's value, the cursor `s` at it (as JsonScan::members), and returns false to give up.
template <class F>
bool scan_whole_object(std::string_view text, F&& member) {
    JsonScan s{text.data(), text.data() + text.size()};
    s.skip_space();
    if (!s.eat('{')) return false;
    if (!s.members([&](const std::string& k) { return member(s, k); })) return false;
    s.skip_space();
    return s.p == s.end;
}

}  // namespace session::detail
