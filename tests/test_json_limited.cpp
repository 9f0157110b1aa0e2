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
