// onion_wire.cpp: see onion_wire.hpp.
#include "detail/onion_wire.hpp"

namespace session::detail::onion_wire {

using ordered_json = nlohmann::ordered_json;
using onion::Headers;
namespace bt = bencode;

Result<Headers> headers_from_json(const ordered_json& obj, std::string_view where) {
    if (!obj.is_object())
        return unexpected(Errc::onion_bad_payload,
                          std::string(where) + ": \"headers\": expected an object, got " + obj.type_name());
    Headers out;
    for (auto it = obj.begin(); it != obj.end(); ++it)
        out.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
    return out;
}

Result<V4Frame> v4_frame(const bt::Value& v, Errc code, const std::string& what) {
    const auto* list = v.list();
    if (!list || list->empty() || list->size() > 2) return unexpected(code, what + ": expected a list of 1 or 2 strings");
    const auto* meta_text = (*list)[0].string();
    if (!meta_text) return unexpected(code, what + ": element 0 is not a string");
    auto meta = parse_json<ordered_json>(*meta_text);
    if (!meta || !meta->is_object()) return unexpected(code, what + ": metadata is not a JSON object");
    V4Frame frame{std::move(*meta), nullptr};
    if (list->size() == 2) {
        frame.body = (*list)[1].string();
        if (!frame.body) return unexpected(code, what + ": element 1 is not a string");
    }
    return frame;
}

}  // namespace session::detail::onion_wire
