#pragma once
// onion_wire.hpp: parsing helpers that the client side of onion requests (onion.cpp) and the node
// side (onion_node.cpp) share. Private to the library.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "detail/bencode.hpp"
#include "detail/json_limited.hpp"
#include "session/onion.hpp"

namespace session::detail::onion_wire {

inline std::string_view as_chars(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

/// Strict parse of JSON from outside: exactly one value (nlohmann rejects trailing garbage), nested
/// at most kMaxJsonDepth levels, no exceptions.
template <class J = nlohmann::json>
std::optional<J> parse_json(std::string_view text) {
    return parse_limited_or_none<J>(text);
}

/// A JSON object of headers -> pairs in their wire order; non-string values are kept as JSON text.
/// Errors: onion_bad_payload (not an object), naming `where`.
[[nodiscard]] Result<onion::Headers> headers_from_json(const nlohmann::ordered_json& obj, std::string_view where);

/// The v4 frame both directions share (protocol.md §4.3): a bencoded list of the metadata (a JSON
/// object) and, optionally, the body. `body` points into the decoded value.
struct V4Frame {
    nlohmann::ordered_json meta;
    const std::string* body = nullptr;
};
/// Errors: `code`, with `what` naming the frame ("onion: v4 response: expected a list of 1 or 2 strings").
[[nodiscard]] Result<V4Frame> v4_frame(const bencode::Value& v, Errc code, const std::string& what);

}  // namespace session::detail::onion_wire
