#pragma once
// onion_wire.hpp: parsing helpers that the client side of onion requests (onion.cpp) and the node
// side (onion_node.cpp) share. Private to the library.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// ---- building in one buffer (defined in onion.cpp) ---------------------------------------------
// A 10 MB upload is encrypted once per onion layer: each layer is sealed in place in the buffer that
// holds the payload (nonce and length prefix written into room left before it, routing JSON and tag
// appended after it), so a request never holds two copies of its payload.

/// Bytes in a buffer with room before them: the contents are buf[off, buf.size()).
struct Framed {
    Bytes buf;
    std::size_t off = 0;
    std::size_t size() const { return buf.size() - off; }
};

/// Spare capacity a caller leaves after a large payload (a v4 body) so that the v4 framing and the
/// onion layers fit in its buffer without moving it to a new one.
inline constexpr std::size_t kOnionRoomBytes = 16 * 1024;

/// The keys of a request's layers in the order build_in_place sealed them (the destination's first,
/// the guard's last), kept so that a failed attempt's body can be opened back into its payload.
struct LayerKeys {
    onion::EncType enc_type = onion::EncType::xchacha20;
    bool snode_destination = false;
    std::vector<Secret<32>> keys;
};

/// onion::build on an owned payload, sealing every layer in its buffer; the same bytes as build for
/// the same rng. With `keep`, records the layer keys for open_built.
[[nodiscard]] Result<onion::Request> build_in_place(std::span<const onion::NodeKeys> path,
                                                    const onion::Destination& destination, Framed payload,
                                                    onion::EncType t, Rng& rng, LayerKeys* keep);

/// Takes a body made by build_in_place apart again, in its buffer: the payload it was built from.
/// Errors: onion_decrypt_failed (the body is not the one these keys built).
[[nodiscard]] Result<Framed> open_built(Bytes body, const LayerKeys& keys);

}  // namespace session::detail::onion_wire
