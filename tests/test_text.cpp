// test_text.cpp: the text helpers shared by the library and its tools (src/detail/text.hpp): the
// UTF-8 check, ASCII case folding, and escape_for_terminal, which stands between sender-controlled
// text and a terminal.
#include "detail/text.hpp"

#include <catch2/catch.hpp>

#include <string>

using session::detail::escape_for_terminal;
using session::detail::invalid_utf8_at;

namespace {

// What a terminal must never receive from a sender: C0 controls (other than the line breaks the
// caller chose), DEL, C1 controls and bidi controls, and invalid UTF-8.
bool terminal_safe(const std::string& s, bool allow_newline) {
    if (invalid_utf8_at(s)) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n' && allow_newline) continue;
        if (c < 0x20 || c == 0x7F) return false;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return false;  // C1
    }
    for (const char* bidi : {"\u061C", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D", "\u202E",
                             "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029"})
        if (s.find(bidi) != std::string::npos) return false;
    return true;
}

}  // namespace

TEST_CASE("text: invalid_utf8_at finds the first bad byte", "[text]") {
    CHECK_FALSE(invalid_utf8_at("plain ASCII"));
    CHECK_FALSE(invalid_utf8_at("Grüße, 世界 👋🏽"));
    CHECK(invalid_utf8_at("ab\xff") == 2u);
    CHECK(invalid_utf8_at("\xc0\xaf") == 0u);          // overlong '/'
    CHECK(invalid_utf8_at("x\xed\xa0\x80") == 1u);     // a surrogate
    CHECK(invalid_utf8_at("\xf4\x90\x80\x80") == 0u);  // past U+10FFFF
    CHECK(invalid_utf8_at("\xe4\xb8") == 0u);          // cut short
}

TEST_CASE("text: iequals and ascii_lower fold ASCII letters only", "[text]") {
    CHECK(session::detail::iequals("Content-Type", "content-TYPE"));
    CHECK_FALSE(session::detail::iequals("Content-Type", "Content-Typ"));
    CHECK_FALSE(session::detail::iequals("\xc3\x84", "\xc3\xa4"));  // Ä / ä: not ASCII
    CHECK(session::detail::ascii_lower("AbC-Ä") == "abc-\xc3\x84");
}

TEST_CASE("text: escape_for_terminal passes printable UTF-8 through unchanged", "[text]") {
    for (const std::string s : {"", "hello, world", "Grüße, 世界! 👋🏽 — ∑", "tabs and 'quotes' \"too\""})
        CHECK(escape_for_terminal(s) == s);
}

TEST_CASE("text: escape_for_terminal shows escape sequences and other controls as visible escapes", "[text]") {
    CHECK(escape_for_terminal("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
    CHECK(escape_for_terminal("\x1b]0;title\x07") == "\\x1b]0;title\\x07");
    CHECK(escape_for_terminal(std::string("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(escape_for_terminal("a\tb\rc\x7f") == "a\\tb\\rc\\x7f");
    CHECK(escape_for_terminal("\xc2\x9b" "31m \xc2\x85") == "\\u009b31m \\u0085");  // C1 CSI and NEL
    CHECK(escape_for_terminal("back\\slash") == "back\\\\slash");
    // So an escape in the output is never ambiguous: the text "\x1b" is not the byte 0x1b.
    CHECK(escape_for_terminal("\\x1b") != escape_for_terminal("\x1b"));
}

TEST_CASE("text: escape_for_terminal shows bidi controls and line separators", "[text]") {
    CHECK(escape_for_terminal("abc\u202Edcb") == "abc\\u202edcb");
    CHECK(escape_for_terminal("\u2066x\u2069") == "\\u2066x\\u2069");
    CHECK(escape_for_terminal("\u202A\u202B\u202C\u202D") == "\\u202a\\u202b\\u202c\\u202d");
    CHECK(escape_for_terminal("\u061C\u200E\u200F") == "\\u061c\\u200e\\u200f");
    CHECK(escape_for_terminal("one\u2028two\u2029") == "one\\u2028two\\u2029");
    CHECK(escape_for_terminal("\u200D") == "\u200D");  // a joiner inside emoji sequences stays
}

TEST_CASE("text: escape_for_terminal replaces each invalid UTF-8 byte by U+FFFD", "[text]") {
    CHECK(escape_for_terminal("a\xff" "b") == "a\uFFFDb");
    CHECK(escape_for_terminal("\xc0\xaf") == "\uFFFD\uFFFD");
    CHECK(escape_for_terminal("\xed\xa0\x80") == "\uFFFD\uFFFD\uFFFD");
    CHECK(escape_for_terminal("end\xe4\xb8") == "end\uFFFD\uFFFD");
    // A C1 control written as a bare byte (not UTF-8) is replaced, never passed to the terminal.
    CHECK(escape_for_terminal("\x9b" "2J") == "\uFFFD2J");
}

TEST_CASE("text: escape_for_terminal keeps line breaks only as continuation lines", "[text]") {
    const std::string spoof = "hi\n2025-01-01T00:00:00.000Z 05" + std::string(64, 'f') + " [text]: spoof";
    CHECK(escape_for_terminal(spoof) == "hi\\n2025-01-01T00:00:00.000Z 05" + std::string(64, 'f') + " [text]: spoof");
    const std::string shown = escape_for_terminal(spoof, "    | ");
    CHECK(shown == "hi\n    | 2025-01-01T00:00:00.000Z 05" + std::string(64, 'f') + " [text]: spoof");
    CHECK(escape_for_terminal("a\r\nb\n\nc", "  > ") == "a\\r\n  > b\n  > \n  > c");
}

TEST_CASE("text: escape_for_terminal output is always terminal-safe", "[text]") {
    // Every single byte, every two-byte sequence, and a few longer hostile mixes.
    for (int a = 0; a < 256; ++a) {
        const std::string one(1, static_cast<char>(a));
        CHECK(terminal_safe(escape_for_terminal(one), false));
        for (int b = 0; b < 256; b += 7) {
            const std::string two{static_cast<char>(a), static_cast<char>(b)};
            REQUIRE(terminal_safe(escape_for_terminal(two), false));
            REQUIRE(terminal_safe(escape_for_terminal(two, "    | "), true));
        }
    }
    using namespace std::string_literals;
    const std::string mix = "\x1b[2J\xc2\x9b\u202E\xf0\x9f\x91\x8b\r\n\x00\xe2\x80\xae\xff\xfe\x7f"s;
    REQUIRE(mix.size() == 22);
    CHECK(terminal_safe(escape_for_terminal(mix), false));
    const std::string shown = escape_for_terminal(mix, "    | ");
    CHECK(terminal_safe(shown, true));
    CHECK(shown.find("\n    | ") != std::string::npos);
    CHECK(shown.find("\xf0\x9f\x91\x8b") != std::string::npos);  // the emoji survives
}
