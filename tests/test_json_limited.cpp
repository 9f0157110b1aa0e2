#include "detail/json_limited.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>

using namespace session;
using session::detail::json_depth;
using session::detail::kMaxJsonDepth;
using session::detail::parse_limited;

TEST_CASE("json_limited: depth counts arrays and objects, not brackets in strings", "[json_limited]") {
    CHECK(json_depth("1") == 0);
    CHECK(json_depth(R"("[[[{{{")") == 0);
    CHECK(json_depth(R"({"a":[1,{"b":[]}]})") == 4);
    CHECK(json_depth(R"(["\"[[", ["x\\"], []])") == 2);
    CHECK(json_depth("[[][][]]") == 2);
    CHECK(json_depth(R"(["a\\\"[", [[]]])") == 3);   // "a\\\"[" holds an escaped quote
    CHECK(json_depth(R"(["a\\\\", [[]]])") == 3);  // "a\\\\" ends after two escaped backslashes
    CHECK(json_depth(R"([[["unterminated)") == 3);
}

namespace {
// The scan one character at a time, as it was first written: the model the faster scan must match.
std::size_t depth_model(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
        else if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return deepest;
}
}  // namespace

TEST_CASE("json_limited: the depth scan agrees with a character-by-character model", "[json_limited]") {
    std::mt19937 rng(15);
    const std::string alphabet = "\"\\[]{}a";
    for (int i = 0; i < 20'000; ++i) {
        std::string text(rng() % 40, ' ');
        for (auto& c : text) c = alphabet[rng() % alphabet.size()];
        INFO(text);
        CHECK(json_depth(text, 1000) == depth_model(text));
    }
}

TEST_CASE("json_limited: a 300,000-deep array is refused before it is parsed", "[json_limited]") {
    const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
    CHECK(json_depth(deep) == kMaxJsonDepth + 1);  // stops scanning once over the limit
    auto j = parse_limited(deep, Errc::net_bad_response, "network: test reply");
    REQUIRE_FALSE(j);
    CHECK(j.error().code == Errc::net_bad_response);
    CHECK(j.error().message == "network: test reply: JSON nested deeper than 64 levels");
}

TEST_CASE("json_limited: the limit itself is accepted, one more level is not", "[json_limited]") {
    const std::string at = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    const std::string over = "[" + at + "]";
    auto ok = parse_limited(at, Errc::net_bad_response, "x");
    REQUIRE(ok);
    CHECK(ok->dump().size() == at.size());  // dump of an accepted value is safe
    CHECK_FALSE(parse_limited(over, Errc::net_bad_response, "x"));
}

TEST_CASE("json_limited: invalid JSON is an error naming the source", "[json_limited]") {
    auto j = parse_limited(R"({"a":)", Errc::retrieve_bad_response, "retrieve: page");
    REQUIRE_FALSE(j);
    CHECK(j.error().code == Errc::retrieve_bad_response);
    CHECK(j.error().message == "retrieve: page: not valid JSON");
    CHECK_FALSE(detail::parse_limited_or_none(R"(["unterminated)"));
    CHECK(detail::parse_limited_or_none(R"({"t":1})"));
}

// ---- scan_flat_object --------------------------------------------------------------------------

namespace {
using session::detail::FlatMember;
using session::detail::scan_flat_object;

// What nlohmann makes of `text`, in scan_flat_object's terms, when it is an object of strings and
// integers; nullopt when the parse fails or gives anything else.
std::optional<std::vector<FlatMember>> nlohmann_model(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    std::vector<FlatMember> out;
    for (auto& [k, v] : j.items()) {
        if (v.is_string()) out.push_back({k, v.get<std::string>()});
        else if (v.is_number_integer() && !v.is_number_unsigned()) out.push_back({k, v.get<std::int64_t>()});
        else if (v.is_number_unsigned() && v.get<std::uint64_t>() <= INT64_MAX) out.push_back({k, v.get<std::int64_t>()});
        else return std::nullopt;
    }
    return out;
}

// The same members, whatever their order (nlohmann's object sorts its keys).
bool same_members(std::vector<FlatMember> a, std::vector<FlatMember> b) {
    const auto by_key = [](const FlatMember& x, const FlatMember& y) { return x.key < y.key; };
    std::sort(a.begin(), a.end(), by_key);
    std::sort(b.begin(), b.end(), by_key);
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
    return true;
}
}  // namespace

TEST_CASE("json_limited: scan_flat_object reads a node's reply wrapper", "[json_limited]") {
    const std::string inner = R"({"results":[{"code":200,"body":{"hash":"a\\b/c"}}]})";
    const std::string wrapper = nlohmann::json{{"status", 200}, {"body", inner}}.dump();
    auto m = scan_flat_object(wrapper);
    REQUIRE(m);
    REQUIRE(m->size() == 2);
    CHECK((*m)[0].key == "body");  // in the text's order
    CHECK(std::get<std::string>((*m)[0].value) == inner);
    CHECK((*m)[1].key == "status");
    CHECK(std::get<std::int64_t>((*m)[1].value) == 200);

    m = scan_flat_object(" \t\r\n{ \"status_code\" :\n0 , \"b\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\" }\n");
    REQUIRE(m);
    REQUIRE(m->size() == 2);
    CHECK(std::get<std::int64_t>((*m)[0].value) == 0);
    CHECK(std::get<std::string>((*m)[1].value) == "\"\\/\b\f\n\r\t");
    m = scan_flat_object("{}");
    REQUIRE(m);
    CHECK(m->empty());
    m = scan_flat_object(R"({"n":999999999999999999})");  // 18 digits
    REQUIRE(m);
    CHECK(std::get<std::int64_t>((*m)[0].value) == 999'999'999'999'999'999);
}

TEST_CASE("json_limited: scan_flat_object leaves everything else to the full parse", "[json_limited]") {
    for (const std::string_view text : {
                 R"({"a":{}})", R"({"a":[1]})", R"({"a":true})", R"({"a":null})",   // not a string or integer
                 R"({"a":-1})", R"({"a":1.5})", R"({"a":1e3})", R"({"a":1E3})",      // not a plain integer
                 R"({"a":0123})", R"({"a":1000000000000000000})",                    // leading 0, 19 digits
                 R"({"a":"\u00e9"})", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\x01\"}",  // \u, not ASCII, control
                 R"({"a":"\q"})", R"({"a":1,"a":2})", R"({"a":1} x)", R"({"a":1,})",  // bad escape, repeat, tail
                 R"({"a" 1})", R"({"a":"x)", R"({"a":1)", "", "[]", R"("x")", "{", "{\"a\":1}}",
                 R"({"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6})",
         }) {
        INFO(text);
        CHECK_FALSE(scan_flat_object(text));
    }
}

TEST_CASE("json_limited: what scan_flat_object reads is what nlohmann parses", "[json_limited]") {
    // Objects of strings and integers from pieces that are mostly plain, sometimes not, then
    // sometimes cut or given a stray byte: whenever the scan answers, the full parse must agree;
    // and a text made only of plain pieces must be answered.
    std::mt19937 rng(77);
    const std::vector<std::string> plain_strings = {R"("")", R"("abc")", R"("a\"b")", R"("\\\\")", R"("\/\n\t")",
                                                    R"("{\"k\":[1,2]}")", R"("x y")"};
    const std::vector<std::string> other_strings = {R"("\u0041")", "\"\xc3\xa9\"", R"("\x")", "\"\x1f\""};
    const std::vector<std::string> plain_numbers = {"0", "7", "200", "123456789012345678"};
    const std::vector<std::string> other_numbers = {"-3", "0.5", "2e2", "01", "12345678901234567890", "true", "[]"};
    const std::vector<std::string> spaces = {"", " ", "\n", "\t ", "\r"};
    std::size_t answered = 0;
    for (int i = 0; i < 20'000; ++i) {
        const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
        bool plain = true;
        std::string text = pick(spaces) + "{";
        const std::size_t n = rng() % 5;
        for (std::size_t k = 0; k < n; ++k) {
            if (k) text += pick(spaces) + ",";
            const bool repeat = k > 0 && rng() % 20 == 0;
            text += pick(spaces) + "\"" + (repeat ? std::string("k0") : "k" + std::to_string(k)) + "\"" + pick(spaces) + ":" + pick(spaces);
            plain = plain && !repeat;
            switch (rng() % 8) {
                case 0: text += pick(other_strings), plain = false; break;
                case 1: text += pick(other_numbers), plain = false; break;
                case 2:
                case 3:
                case 4: text += pick(plain_numbers); break;
                default: text += pick(plain_strings); break;
            }
        }
        text += pick(spaces) + "}" + pick(spaces);
        if (rng() % 6 == 0) {
            plain = false;
            if (rng() % 2) text.resize(rng() % (text.size() + 1));
            else text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng() % (text.size() + 1)), "\"\\{}:,x1"[rng() % 8]);
        }
        INFO(text);
        const auto scanned = scan_flat_object(text);
        if (plain) CHECK(scanned);
        if (!scanned) continue;
        ++answered;
        const auto model = nlohmann_model(text);
        REQUIRE(model);
        CHECK(same_members(*scanned, *model));
    }
    CHECK(answered > 5'000);
}
