// onion_node.cpp: onion requests at a node (storage-server.md §3): the entry request, peeling a
// layer, the three destinations (this node / an HTTP server / the next node), the encrypted
// response wrapping (§3.6) and the plain-text path errors (§3.9). Relays between nodes are
// in-process calls (the real network uses OMQ) and honour the next node's faults.
#include <algorithm>
#include <limits>
#include <cstring>

#include "localnet/internal.hpp"

namespace session::localnet {

using detail::EncType;
using detail::json;
using detail::Node;
using detail::Reply;

namespace {

// http::from_code: only these statuses survive an inter-node hop (oxenss/server/utils.h).
int normalise_status(int status) {
    static constexpr int kept[] = {200, 400, 401, 403, 404, 406, 410, 413, 421, 429, 500, 502, 503, 504};
    return std::find(std::begin(kept), std::end(kept), status) != std::end(kept) ? status : 500;
}

struct Combined {
    ByteView blob;
    std::string_view trailer;
};

// [u32 LE N][N bytes][JSON]; the error texts are the storage server's.
std::optional<Combined> split_combined(ByteView payload, std::string* error) {
    if (payload.size() < 4) {
        if (error) *error = "Unexpected payload size; expected ciphertext size";
        return std::nullopt;
    }
    const std::uint32_t n = static_cast<std::uint32_t>(payload[0]) | (static_cast<std::uint32_t>(payload[1]) << 8) |
                            (static_cast<std::uint32_t>(payload[2]) << 16) |
                            (static_cast<std::uint32_t>(payload[3]) << 24);
    const std::size_t have = payload.size() - 4;
    if (have < n) {
        if (error) *error = "Unexpected payload size " + std::to_string(have) + ", expected >= " + std::to_string(n);
        return std::nullopt;
    }
    Combined c;
    c.blob = payload.subspan(4, n);
    auto rest = payload.subspan(4 + n);
    c.trailer = std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size());
    return c;
}

std::optional<ByteArray<32>> parse_key_hex(const std::string& s) {
    if (s.size() != 64 || !detail::is_hex(s)) return std::nullopt;
    auto b = from_hex(s);
    if (!b) return std::nullopt;
    ByteArray<32> k{};
    std::copy(b->begin(), b->end(), k.begin());
    return k;
}

// §3.6: {"body": B', "status": S} encrypted with the layer key, base64 unless asked otherwise.
Reply wrap_response(const Reply& r, EncType t, const ByteArray<32>& key, bool embed_json, bool base64) {
    std::string text;
    if (r.raw_json && (r.embed_raw || embed_json)) {
        // A hostile node's JSON text, embedded as a value without ever becoming a json object.
        text = "{\"status\":" + std::to_string(r.status) + ",\"body\":" + std::get<1>(r.body) + "}";
    } else {
        json inner;
        inner["status"] = r.status;
        if (!r.is_json()) inner["body"] = std::get<1>(r.body);
        else if (embed_json) inner["body"] = r.j();
        else inner["body"] = detail::dump(r.j());
        text = detail::dump(inner);
    }
    Bytes ct = detail::hop_encrypt(t, key, as_bytes(text));
    return Reply::text(200, base64 ? base64_encode(ct) : to_string(ct));
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host.rfind("127.", 0) == 0;
}

}  // namespace

Reply Network::Impl::handle_onion_entry(Node& n, std::string_view body) {
    n.count([](Counters& c) { ++c.onion_requests; });
    const std::string prefix = "Error parsing onion request: ";
    std::string error;
    auto combined = split_combined(as_bytes(body), &error);
    if (!combined) return Reply::text(400, prefix + error);
    ByteArray<32> eph{};
    EncType enc = EncType::aes_gcm;
    int hop_no = 0;
    try {
        auto parsed = detail::parse_json(combined->trailer);
        if (!parsed) throw std::runtime_error("invalid JSON trailer (not JSON, or nested too deep)");
        const json& j = *parsed;
        const auto key = j.at("ephemeral_key").get<std::string>();
        auto k = parse_key_hex(key);
        if (!k)
            throw std::runtime_error("Hex key data is invalid: expected 64 hex digits, received " +
                                     std::to_string(key.size()));
        eph = *k;
        if (auto it = j.find("enc_type"); it != j.end()) {
            const auto name = it->get<std::string>();
            auto t = detail::parse_enc_type(name);
            if (!t) throw std::runtime_error("Invalid encryption type " + name);
            enc = *t;
        }
        if (auto it = j.find("hop_no"); it != j.end()) {
            // Only an integer is a hop count; clamp it into int range rather than convert a float
            // or an out-of-range integer (undefined behaviour).
            if (!it->is_number_integer()) throw std::runtime_error("Invalid hop_no: expected an integer");
            constexpr auto kIntMax = std::numeric_limits<int>::max();
            if (it->is_number_unsigned())  // nlohmann stores every non-negative integer as unsigned
                hop_no = static_cast<int>(std::min<std::uint64_t>(it->get<std::uint64_t>(), kIntMax));
            else
                hop_no = static_cast<int>(std::clamp<std::int64_t>(it->get<std::int64_t>(), 0, kIntMax));
        }
    } catch (const std::exception& e) {
        return Reply::text(400, prefix + e.what());
    }
    return process_layer(n, combined->blob, eph, enc, hop_no);
}

Reply Network::Impl::process_layer(Node& n, ByteView ciphertext, const ByteArray<32>& eph_key, EncType enc_type,
                                   int hop_no) {
    auto key = detail::hop_key(enc_type, n.x_sk, n.x_pk, eph_key);
    if (!key) return Reply::text(400, "Invalid ciphertext");
    auto plaintext = detail::hop_decrypt(enc_type, *key, ciphertext);
    if (!plaintext) return Reply::text(400, "Invalid ciphertext");

    auto invalid_json = [&] {
        return wrap_response(Reply::text(400, "Invalid json"), enc_type, *key, false, true);
    };
    auto combined = split_combined(*plaintext, nullptr);
    if (!combined) return invalid_json();
    auto parsed = detail::parse_json(combined->trailer);
    if (!parsed) return invalid_json();
    const json& j = *parsed;

    // Priority (§3.3): "headers" → this node is the destination; "host" → HTTP server; else relay.
    if (j.is_object() && j.contains("headers")) {
        bool embed_json = false, base64 = true;
        if (auto it = j.find("json"); it != j.end()) {
            if (!it->is_boolean()) return invalid_json();
            embed_json = it->get<bool>();
        }
        if (auto it = j.find("base64"); it != j.end()) {
            if (!it->is_boolean()) return invalid_json();
            base64 = it->get<bool>();
        }
        n.count([](Counters& c) { ++c.onion_destination; });
        const std::string_view request(reinterpret_cast<const char*>(combined->blob.data()), combined->blob.size());
        Reply r = handle_client_body(n, request, Origin::onion);
        return wrap_response(r, enc_type, *key, embed_json, base64);
    }

    if (j.is_object() && j.contains("host")) {
        const auto& h = j["host"];
        auto t = j.find("target");
        if (!h.is_string() || t == j.end() || !t->is_string()) return invalid_json();
        int port = 443;
        std::string protocol = "https";
        if (auto it = j.find("port"); it != j.end()) {
            if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 65535) return invalid_json();
            port = it->get<int>();
        }
        if (auto it = j.find("protocol"); it != j.end()) {
            if (!it->is_string()) return invalid_json();
            protocol = it->get<std::string>();
        }
        const std::string host = h.get<std::string>();
        const std::string target = t->get<std::string>();
        const bool target_ok = (target.rfind("/loki/", 0) == 0 || target.rfind("/oxen/", 0) == 0) &&
                               target.size() >= 6 && target.compare(target.size() - 6, 6, "/lsrpc") == 0 &&
                               target.find('?') == std::string::npos;
        if ((protocol != "http" && protocol != "https") || !target_ok)
            return wrap_response(Reply::text(400, "Invalid url"), enc_type, *key, false, true);
        // The local network only proxies to servers on loopback (tests must never leave the machine).
        if (!is_loopback_host(host))
            return Reply::text(502, "session-localnet: proxying to non-loopback host " + host + " is disabled");
        httplib::Headers headers{{"User-Agent", std::string("Oxen Storage Server/") + version()}};
        const std::string payload = to_string(*plaintext);
        httplib::Result res{nullptr, httplib::Error::Unknown};
        if (protocol == "https") {
            httplib::SSLClient cli(host, port);
            cli.enable_server_certificate_verification(false);
            cli.set_connection_timeout(5);
            cli.set_read_timeout(25);
            res = cli.Post(target, headers, payload, "application/octet-stream");
        } else {
            httplib::Client cli(host, port);
            cli.set_connection_timeout(5);
            cli.set_read_timeout(25);
            res = cli.Post(target, headers, payload, "application/octet-stream");
        }
        if (!res) {
            const auto err = res.error();
            return Reply::text(err == httplib::Error::Read ? 504 : 502, httplib::to_string(err));
        }
        return Reply::text(res->status, res->body);
    }

    // Relay to the next snode.
    if (!j.is_object()) return invalid_json();
    auto d = j.find("destination");
    auto e = j.find("ephemeral_key");
    if (d == j.end() || e == j.end() || !d->is_string() || !e->is_string()) return invalid_json();
    auto dest = parse_key_hex(d->get<std::string>());
    auto next_eph = parse_key_hex(e->get<std::string>());
    if (!dest || !next_eph) return invalid_json();
    EncType next_enc = EncType::aes_gcm;
    if (auto it = j.find("enc_type"); it != j.end()) {
        if (!it->is_string()) return invalid_json();
        auto t = detail::parse_enc_type(it->get<std::string>());
        if (!t) return invalid_json();
        next_enc = *t;
    }
    Node* next = find_node(*dest);
    if (!next) return Reply::text(502, "Next node not found: " + to_hex(*dest));
    n.count([](Counters& c) { ++c.onion_relayed; });

    // The next node: stopped, dropping or hanging → the relay times out (§3.4: 504 after 30 s).
    if (!next->running.load()) return Reply::text(504, "Request time out");
    if (!reachable_in_process(*next)) {
        sleep_for(opt.relay_timeout.count(), &n);  // ends early if this node stops
        return Reply::text(504, "Request time out");
    }
    next->count([](Counters& c) { ++c.onion_relay_received; });
    const int next_hop = std::max(1, hop_no + 1);
    if (next_hop > detail::kMaxOnionHops) return Reply::text(400, "onion request max path length exceeded");
    const Bytes blob(combined->blob.begin(), combined->blob.end());
    Reply r = process_layer(*next, blob, *next_eph, next_enc, next_hop);
    if (!r.is_json()) corrupt_maybe(*next, std::get<1>(r.body));
    r.status = normalise_status(r.status);
    return r;
}

}  // namespace session::localnet
