// onion_node.cpp: the node side of onion requests (see onion_node.hpp).
#include "detail/onion_node.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "detail/bencode.hpp"
#include "detail/onion_wire.hpp"
#include "detail/text.hpp"

namespace session::onion {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
namespace bt = session::detail::bencode;
using session::detail::onion_wire::as_chars;
using session::detail::onion_wire::headers_from_json;
using session::detail::onion_wire::parse_json;
using session::detail::onion_wire::v4_frame;

template <class KeyT>
Result<KeyT> parse_key_field(const json& obj, const char* field) {
    auto it = obj.find(field);
    if (it == obj.end())
        return unexpected(Errc::onion_missing_field, std::string("onion: trailer: missing \"") + field + "\"");
    if (!it->is_string())
        return unexpected(Errc::onion_missing_field,
                          std::string("onion: trailer: \"") + field + "\": expected a string, got " + it->type_name());
    const auto& hex = it->get_ref<const std::string&>();
    if (hex.size() != 64)
        return unexpected(Errc::onion_bad_key, std::string("onion: trailer: \"") + field +
                                                   "\": expected 64 hex digits, got " + std::to_string(hex.size()));
    auto bytes = from_hex_array<32>(hex);
    if (!bytes)
        return unexpected(Errc::onion_bad_key,
                          std::string("onion: trailer: \"") + field + "\": " + bytes.error().message);
    KeyT k;
    k.bytes = *bytes;
    return k;
}

// enc_type: absent → aes-gcm (the storage server's default); present → must be a known string.
Result<EncType> parse_enc_type_field(const json& obj) {
    auto it = obj.find("enc_type");
    if (it == obj.end()) return EncType::aes_gcm;
    if (!it->is_string())
        return unexpected(Errc::onion_missing_field,
                          std::string("onion: trailer: \"enc_type\": expected a string, got ") + it->type_name());
    return parse_enc_type(it->get_ref<const std::string&>());
}

Result<bool> parse_bool_field(const json& obj, const char* field, bool fallback) {
    auto it = obj.find(field);
    if (it == obj.end()) return fallback;
    if (!it->is_boolean())
        return unexpected(Errc::onion_missing_field,
                          std::string("onion: trailer: \"") + field + "\": expected a boolean, got " + it->type_name());
    return it->get<bool>();
}

Result<std::string> parse_string_field(const json& obj, const char* field) {
    auto it = obj.find(field);
    if (it == obj.end())
        return unexpected(Errc::onion_missing_field, std::string("onion: trailer: missing \"") + field + "\"");
    if (!it->is_string())
        return unexpected(Errc::onion_missing_field,
                          std::string("onion: trailer: \"") + field + "\": expected a string, got " + it->type_name());
    return it->get<std::string>();
}

Result<json> parse_trailer_object(std::string_view trailer) {
    auto j = parse_json(trailer);
    if (!j) return unexpected(Errc::onion_bad_json, "onion: trailer: not valid JSON");
    if (!j->is_object())
        return unexpected(Errc::onion_bad_json, std::string("onion: trailer: expected a JSON object, got ") +
                                                    j->type_name());
    return std::move(*j);
}

}  // namespace

Result<Combined> parse_combined(ByteView payload) {
    if (payload.size() > kMaxPayloadBytes)
        return unexpected(Errc::onion_too_large, "onion: payload of " + std::to_string(payload.size()) +
                                                     " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes));
    if (payload.size() < kLengthPrefixBytes)
        return unexpected(Errc::onion_truncated, "onion: payload: expected a 4-byte length prefix, got " +
                                                     std::to_string(payload.size()) + " bytes");
    const std::uint32_t n = static_cast<std::uint32_t>(payload[0]) | (static_cast<std::uint32_t>(payload[1]) << 8) |
                            (static_cast<std::uint32_t>(payload[2]) << 16) |
                            (static_cast<std::uint32_t>(payload[3]) << 24);
    const std::size_t have = payload.size() - kLengthPrefixBytes;
    if (n > have)
        return unexpected(Errc::onion_bad_payload, "onion: payload: length prefix says " + std::to_string(n) +
                                                       " bytes, only " + std::to_string(have) + " follow");
    return Combined{payload.subspan(kLengthPrefixBytes, n), as_chars(payload.subspan(kLengthPrefixBytes + n))};
}

Result<LayerKeyInfo> parse_trailer(std::string_view trailer_json) {
    auto obj = parse_trailer_object(trailer_json);
    if (!obj) return unexpected(std::move(obj).error());
    LayerKeyInfo info;
    auto key = parse_key_field<X25519PublicKey>(*obj, "ephemeral_key");
    if (!key) return unexpected(std::move(key).error());
    info.ephemeral_key = *key;
    auto t = parse_enc_type_field(*obj);
    if (!t) return unexpected(std::move(t).error());
    info.enc_type = *t;
    if (auto it = obj->find("hop_no"); it != obj->end()) {
        if (!it->is_number_integer())
            return unexpected(Errc::onion_missing_field,
                              std::string("onion: trailer: \"hop_no\": expected an integer, got ") + it->type_name());
        // Clamped to >= 0 like the storage server; anything past kMaxHops is rejected downstream anyway.
        const auto h = it->get<std::int64_t>();
        info.hop_no = static_cast<int>(std::clamp<std::int64_t>(h, 0, kMaxHops + 1));
    }
    return info;
}

Result<EntryRequest> parse_entry(ByteView body) {
    auto combined = parse_combined(body);
    if (!combined) return unexpected(std::move(combined).error());
    auto info = parse_trailer(combined->trailer);
    if (!info) return unexpected(std::move(info).error());
    return EntryRequest{combined->blob, *info};
}

Result<Peeled> decrypt_layer(EncType t, const Secret<32>& node_secret, const X25519PublicKey& node_public,
                             const X25519PublicKey& client_ephemeral, ByteView ciphertext) {
    auto key = server_key(t, node_secret, node_public, client_ephemeral);
    if (!key) return unexpected(std::move(key).error());
    auto pt = decrypt(t, *key, ciphertext);
    if (!pt) return unexpected(std::move(pt).error());
    return Peeled{std::move(*pt), std::move(*key)};
}

Result<Layer> classify_layer(ByteView plaintext) {
    auto combined = parse_combined(plaintext);
    if (!combined) return unexpected(std::move(combined).error());
    auto obj = parse_trailer_object(combined->trailer);
    if (!obj) return unexpected(std::move(obj).error());
    const Bytes blob(combined->blob.begin(), combined->blob.end());

    // storage-server.md §3.3: "headers" (this node is the destination) > "host" (proxy) > relay.
    if (obj->contains("headers")) {
        FinalDestination fd;
        auto j = parse_bool_field(*obj, "json", false);
        if (!j) return unexpected(std::move(j).error());
        auto b = parse_bool_field(*obj, "base64", true);
        if (!b) return unexpected(std::move(b).error());
        fd.body = blob;
        fd.json = *j;
        fd.base64 = *b;
        return Layer(std::move(fd));
    }
    if (obj->contains("host")) {
        RelayToServer rs;
        auto host = parse_string_field(*obj, "host");
        if (!host) return unexpected(std::move(host).error());
        auto target = parse_string_field(*obj, "target");
        if (!target) return unexpected(std::move(target).error());
        rs.host = std::move(*host);
        rs.target = std::move(*target);
        if (auto it = obj->find("port"); it != obj->end()) {
            if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 65535)
                return unexpected(Errc::onion_missing_field, "onion: trailer: \"port\": expected an integer 0..65535");
            rs.port = static_cast<std::uint16_t>(it->get<std::int64_t>());
        }
        if (obj->contains("protocol")) {
            auto protocol = parse_string_field(*obj, "protocol");
            if (!protocol) return unexpected(std::move(protocol).error());
            rs.protocol = std::move(*protocol);
        }
        rs.payload.assign(plaintext.begin(), plaintext.end());  // the server reads the trailer too
        return Layer(std::move(rs));
    }
    RelayToNode rn;
    auto dest = parse_key_field<Ed25519PublicKey>(*obj, "destination");
    if (!dest) return unexpected(std::move(dest).error());
    auto eph = parse_key_field<X25519PublicKey>(*obj, "ephemeral_key");
    if (!eph) return unexpected(std::move(eph).error());
    auto t = parse_enc_type_field(*obj);
    if (!t) return unexpected(std::move(t).error());
    rn.ciphertext = blob;
    rn.destination = *dest;
    rn.ephemeral_key = *eph;
    rn.enc_type = *t;
    return Layer(std::move(rn));
}

Result<Bytes> encrypt_reply(EncType t, const Secret<32>& key, ByteView plaintext, Rng& rng) {
    return encrypt(t, key, plaintext, rng);
}

Result<Bytes> wrap_node_response(EncType t, const Secret<32>& key, int status, std::string_view body,
                                 bool body_is_json, const FinalDestination& flags, Rng& rng) {
    json reply = json::object();
    std::optional<json> embedded;
    if (body_is_json && flags.json) embedded = parse_json(body);
    if (embedded)
        reply["body"] = std::move(*embedded);
    else
        reply["body"] = std::string(body);
    reply["status"] = status;
    // error_handler_t::replace: a non-UTF-8 plain-string body must not throw from dump().
    const std::string text = reply.dump(-1, ' ', false, json::error_handler_t::replace);
    auto ct = encrypt(t, key, as_bytes(text), rng);
    if (!ct || !flags.base64) return ct;
    return to_bytes(base64_encode(*ct));
}

Result<V4Request> parse_v4_request(ByteView plaintext) {
    auto v = bt::decode(plaintext);
    if (!v) return unexpected(std::move(v).error());
    auto frame = v4_frame(*v, Errc::onion_bad_payload, "onion: v4 request");
    if (!frame) return unexpected(std::move(frame).error());
    const auto* meta = &frame->meta;
    V4Request out;
    auto method = meta->find("method");
    auto endpoint = meta->find("endpoint");
    if (method == meta->end() || !method->is_string() || endpoint == meta->end() || !endpoint->is_string())
        return unexpected(Errc::onion_bad_payload, "onion: v4 request: metadata needs string \"method\" and \"endpoint\"");
    out.method = method->get<std::string>();
    out.endpoint = endpoint->get<std::string>();
    if (out.endpoint.empty() || out.endpoint.front() != '/')
        return unexpected(Errc::onion_bad_payload, "onion: v4 request: endpoint must start with '/'");
    if (auto h = meta->find("headers"); h != meta->end() && !h->is_null()) {
        auto headers = headers_from_json(*h, "onion: v4 request");
        if (!headers) return unexpected(std::move(headers).error());
        out.headers = std::move(*headers);
    }
    if (frame->body) out.body = Bytes(frame->body->begin(), frame->body->end());
    return out;
}

Bytes v4_response(int status, const Headers& headers, ByteView body) {
    ordered_json meta;
    meta["code"] = status;
    ordered_json h = ordered_json::object();
    for (const auto& [name, value] : headers) h[session::detail::ascii_lower(name)] = value;  // v4 responses use lower-case names
    meta["headers"] = std::move(h);
    bt::List list;
    list.emplace_back(meta.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
    list.emplace_back(body);
    return bt::encode_bytes(bt::Value(std::move(list)));
}

}  // namespace session::onion
