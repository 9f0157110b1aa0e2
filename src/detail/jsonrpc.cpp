// jsonrpc.cpp: JSON-RPC 2.0 request parsing for the daemon (see jsonrpc.hpp).
#include "detail/jsonrpc.hpp"

#include "detail/json_limited.hpp"

namespace session::detail::jsonrpc {

namespace {
std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
}  // namespace

std::variant<Request, RpcError> parse_request(std::string_view text) {
    if (text.size() > kMaxRequestBytes)
        return RpcError{kInvalidRequest,
                        "request too large: expected at most " + std::to_string(kMaxRequestBytes) + " bytes, got " +
                            std::to_string(text.size()),
                        nullptr};
    auto parsed = parse_limited_or_none(text, kMaxRequestDepth);
    if (!parsed)
        return RpcError{kParseError,
                        "parse error: expected one JSON object nested at most " + std::to_string(kMaxRequestDepth) +
                            " levels",
                        nullptr};
    nlohmann::json& j = *parsed;
    if (j.is_array()) return RpcError{kInvalidRequest, "invalid request: batches are not supported", nullptr};
    if (!j.is_object()) return RpcError{kInvalidRequest, "invalid request: expected an object", nullptr};

    Request r;
    auto id = j.find("id");
    if (id == j.end()) {
        r.notification = true;
        r.id = nullptr;
    } else if (id->is_string() || id->is_number() || id->is_null()) {
        r.id = *id;
    } else {
        return RpcError{kInvalidRequest, "invalid request: id: expected a string, number or null", nullptr};
    }
    auto version = j.find("jsonrpc");
    if (version == j.end() || !version->is_string() || version->get<std::string>() != "2.0")
        return RpcError{kInvalidRequest, "invalid request: jsonrpc: expected \"2.0\"", r.id};
    auto method = j.find("method");
    if (method == j.end() || !method->is_string())
        return RpcError{kInvalidRequest, "invalid request: method: expected a string", r.id};
    r.method = method->get<std::string>();
    if (r.method.empty() || r.method.size() > kMaxMethodChars)
        return RpcError{kInvalidRequest,
                        "invalid request: method: expected 1.." + std::to_string(kMaxMethodChars) + " characters",
                        r.id};
    auto params = j.find("params");
    if (params == j.end() || params->is_null()) {
        r.params = nlohmann::json::object();
    } else if (params->is_object()) {
        r.params = std::move(*params);
    } else {
        return RpcError{kInvalidParams, "invalid params: expected an object (named parameters)", r.id};
    }
    return r;
}

std::string result_line(const nlohmann::json& id, const nlohmann::json& result) {
    nlohmann::json j = nlohmann::json::object();
    j["jsonrpc"] = "2.0";
    j["id"] = id;
    j["result"] = result;
    return dump(j);
}

std::string error_line(const nlohmann::json& id, int code, std::string_view message, const nlohmann::json& data) {
    nlohmann::json e = nlohmann::json::object();
    e["code"] = code;
    e["message"] = std::string(message);
    if (!data.is_null()) e["data"] = data;
    nlohmann::json j = nlohmann::json::object();
    j["jsonrpc"] = "2.0";
    j["id"] = id;
    j["error"] = std::move(e);
    return dump(j);
}

std::string notification_line(std::string_view method, const nlohmann::json& params) {
    nlohmann::json j = nlohmann::json::object();
    j["jsonrpc"] = "2.0";
    j["method"] = std::string(method);
    j["params"] = params;
    return dump(j);
}

}  // namespace session::detail::jsonrpc
