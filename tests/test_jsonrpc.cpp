// The daemon's JSON-RPC 2.0 request parser (detail/jsonrpc): valid requests, every refusal with its
// code, size and depth bounds, and the response lines.
#include "detail/jsonrpc.hpp"

#include <catch2/catch.hpp>

using namespace session::detail::jsonrpc;
using nlohmann::json;

namespace {
RpcError error_of(std::string_view text) {
    auto r = parse_request(text);
    REQUIRE(std::holds_alternative<RpcError>(r));
    return std::get<RpcError>(r);
}
Request request_of(std::string_view text) {
    auto r = parse_request(text);
    if (auto* e = std::get_if<RpcError>(&r)) FAIL("refused: " << e->message);
    return std::get<Request>(r);
}
}  // namespace

TEST_CASE("jsonrpc: a request with named params, without params, and a notification", "[jsonrpc]") {
    auto r = request_of(R"({"jsonrpc":"2.0","id":7,"method":"send","params":{"recipient":"05ab","message":"hi"}})");
    CHECK(r.method == "send");
    CHECK(r.id == 7);
    CHECK_FALSE(r.notification);
    CHECK(r.params["message"] == "hi");

    r = request_of(R"({"jsonrpc":"2.0","id":"abc","method":"version"})");
    CHECK(r.id == "abc");
    CHECK(r.params == json::object());

    r = request_of(R"({"jsonrpc":"2.0","method":"ack","params":{"seq":3}})");
    CHECK(r.notification);
    CHECK(r.id.is_null());
}

TEST_CASE("jsonrpc: malformed requests get their JSON-RPC codes, keeping the id when readable", "[jsonrpc]") {
    CHECK(error_of("").code == kParseError);
    CHECK(error_of("{").code == kParseError);
    CHECK(error_of("not json").code == kParseError);
    CHECK(error_of("[]").code == kInvalidRequest);
    CHECK(error_of("42").code == kInvalidRequest);
    CHECK(error_of(R"({"id":1,"method":"version"})").code == kInvalidRequest);  // no "jsonrpc"
    auto e = error_of(R"({"jsonrpc":"1.0","id":1,"method":"version"})");
    CHECK(e.code == kInvalidRequest);
    CHECK(e.id == 1);
    CHECK(error_of(R"({"jsonrpc":"2.0","id":1})").code == kInvalidRequest);
    CHECK(error_of(R"({"jsonrpc":"2.0","id":1,"method":5})").code == kInvalidRequest);
    CHECK(error_of(R"({"jsonrpc":"2.0","id":1,"method":""})").code == kInvalidRequest);
    CHECK(error_of(R"({"jsonrpc":"2.0","id":{},"method":"version"})").code == kInvalidRequest);
    CHECK(error_of(R"({"jsonrpc":"2.0","id":1,"method":")" + std::string(65, 'm') + "\"}").code == kInvalidRequest);
    e = error_of(R"({"jsonrpc":"2.0","id":"x","method":"send","params":[1,2]})");
    CHECK(e.code == kInvalidParams);
    CHECK(e.id == "x");
}

TEST_CASE("jsonrpc: oversized and deeply nested requests are refused before they are walked", "[jsonrpc]") {
    const std::string big = R"({"jsonrpc":"2.0","id":1,"method":"send","params":{"message":")" +
                            std::string(kMaxRequestBytes, 'a') + "\"}}";
    CHECK(error_of(big).code == kInvalidRequest);
    std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"send","params":{"a":)";
    for (int i = 0; i < 100'000; ++i) deep += '[';
    CHECK(error_of(deep).code == kParseError);
    std::string ok_depth = R"({"jsonrpc":"2.0","id":1,"method":"send","params":{"a":[[[1]]]}})";
    CHECK(request_of(ok_depth).method == "send");
}

TEST_CASE("jsonrpc: response, error and notification lines are one JSON object each", "[jsonrpc]") {
    auto r = json::parse(result_line(3, json{{"hash", "h"}}));
    CHECK(r == json{{"jsonrpc", "2.0"}, {"id", 3}, {"result", {{"hash", "h"}}}});
    auto e = json::parse(error_line(nullptr, kMethodNotFound, "method not found: x"));
    CHECK(e["error"]["code"] == kMethodNotFound);
    CHECK(e["id"].is_null());
    CHECK_FALSE(e["error"].contains("data"));
    auto n = notification_line("event", json{{"seq", 1}});
    CHECK(n.find('\n') == std::string::npos);
    CHECK(json::parse(n)["params"]["seq"] == 1);
    // Invalid UTF-8 in a message is replaced, never thrown.
    CHECK_NOTHROW(error_line(1, kInvalidParams, std::string("bad \xff byte")));
}
