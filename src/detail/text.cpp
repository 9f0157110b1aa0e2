// text.cpp: see text.hpp.
#include "detail/text.hpp"

#include <algorithm>
#include <cstdint>

namespace session::detail {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The code point starting at s[i] and its length in bytes, or length 0 if s[i] does not start a
// valid UTF-8 sequence (overlong forms, surrogates and code points past U+10FFFF are invalid).
struct Decoded {
    std::uint32_t cp = 0;
    std::size_t len = 0;
};
Decoded decode_at(std::string_view s, std::size_t i) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const unsigned char c = p[i];
    if (c < 0x80) return {c, 1};
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return {};
    if (i + len > s.size()) return {};
    for (std::size_t k = 1; k < len; ++k) {
        if ((p[i + k] & 0xC0) != 0x80) return {};
        cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return {};
    return {cp, len};
}

// Unicode Bidi_Control (they reorder the text around them) and the two separators some terminals
// and viewers break lines at.
bool bidi_or_separator(std::uint32_t cp) noexcept {
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
}  // namespace

std::optional<std::size_t> invalid_utf8_at(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const auto d = decode_at(s, i);
        if (d.len == 0) return i;
        i += d.len;
    }
    return std::nullopt;
}

std::string escape_for_terminal(std::string_view text, std::string_view continuation) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size();) {
        const auto d = decode_at(text, i);
        if (d.len == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        const std::uint32_t cp = d.cp;
        if (cp == '\n' && !continuation.empty()) {
            out += '\n';
            out += continuation;
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\\') {
            out += "\\\\";
        } else if (cp < 0x20 || cp == 0x7F) {
            out += "\\x";
            out += kHex[cp >> 4];
            out += kHex[cp & 0xF];
        } else if ((cp >= 0x80 && cp <= 0x9F) || bidi_or_separator(cp)) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
        } else {
            out.append(text.substr(i, d.len));
        }
        i += d.len;
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}

}  // namespace session::detail
