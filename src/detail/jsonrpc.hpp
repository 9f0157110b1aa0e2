#pragma once
// jsonrpc.hpp (private): JSON-RPC 2.0 requests as the daemon receives them (one object per line on
// its socket, one per POST body over HTTP). Every request is hostile: its size is checked before it
// is parsed, its nesting depth before it is walked (json_limited.hpp), and every member's type.
// Batches (arrays) are refused: the daemon answers one request per line.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace session::detail::jsonrpc {

/// The largest request accepted (bytes of JSON text, newline excluded).
inline constexpr std::size_t kMaxRequestBytes = 1024 * 1024;
/// The deepest nesting accepted in a request (no method takes more than 3 levels).
inline constexpr std::size_t kMaxRequestDepth = 16;
/// The longest method name.
inline constexpr std::size_t kMaxMethodChars = 64;

// Error codes (JSON-RPC 2.0's, then the daemon's own, documented in docs/daemon.md).
inline constexpr int kParseError = -32700;      ///< not JSON (or nested too deep)
inline constexpr int kInvalidRequest = -32600;  ///< not a JSON-RPC 2.0 request object, or too large
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kStoreError = -32000;        ///< the store failed (disk full, read-only, …): nothing changed
inline constexpr int kNotSupported = -32001;      ///< known method or parameter, not supported yet
inline constexpr int kUnauthorized = -32002;      ///< HTTP: missing or wrong bearer token
inline constexpr int kMessageTooLarge = -32003;   ///< the message is larger than a swarm stores
inline constexpr int kNetworkError = -32004;      ///< a call that needs the network could not reach it

struct Request {
    nlohmann::json id;        ///< string, number or null; absent (is_discarded) for a notification
    bool notification = false;
    std::string method;
    nlohmann::json params;    ///< an object (an absent params becomes {}); arrays are refused
};

struct RpcError {
    int code;
    std::string message;
    nlohmann::json id;  ///< the request's id when it could be read, else null
};

/// Parses one request. Never throws; every failure is an RpcError with its JSON-RPC code.
[[nodiscard]] std::variant<Request, RpcError> parse_request(std::string_view text);

/// {"jsonrpc":"2.0","id":…,"result":…} as one line (no newline).
std::string result_line(const nlohmann::json& id, const nlohmann::json& result);
/// {"jsonrpc":"2.0","id":…,"error":{"code","message"[,"data"]}} as one line.
std::string error_line(const nlohmann::json& id, int code, std::string_view message,
                       const nlohmann::json& data = nullptr);
/// A notification {"jsonrpc":"2.0","method":…,"params":…} as one line.
std::string notification_line(std::string_view method, const nlohmann::json& params);

}  // namespace session::detail::jsonrpc
