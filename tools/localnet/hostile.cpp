// hostile.cpp: nodes that attack their clients on purpose, so that tests (and users of the
// session-localnet tool) can check that one bad node cannot crash, exhaust, fool or stall a client
// (issue 10). Each mode is one of the attacks a service node on the live network could mount as a
// destination, a swarm member or a guard; tools/localnet/README.md "Hostile nodes" gives the control
// command of each. A hostile node stays honest towards its swarm peers (replication reaches it as
// usual), so the rest of the network keeps every genuine message.
//
// Deep and huge answers are written as text and sent as text: the node never parses, copies or
// dumps them as json values (which would recurse once per level, like the client bug they test).
#include <sodium.h>

#include <algorithm>
#include <limits>
#include <set>

#include "localnet/internal.hpp"

namespace session::localnet {

using detail::HostileMode;
using detail::HostileSpec;
using detail::json;
using detail::Node;
using detail::Reply;

namespace detail {

namespace {

// Bounds on what a control command may ask for (memory of the local network itself).
constexpr std::size_t kMaxDepth = 5'000'000;
constexpr std::size_t kMaxItems = 10'000;
constexpr std::size_t kMaxItemBytes = kMaxMessageBytes;
constexpr std::size_t kMaxHugeBytes = 64 * 1024 * 1024;
constexpr std::size_t kMaxCount = 100;
constexpr std::int64_t kMaxIntervalMs = 60'000;

const std::pair<const char*, HostileMode> kModes[] = {
    {"none", HostileMode::none},
    {"deep_json", HostileMode::deep_json},
    {"endless_pages", HostileMode::endless_pages},
    {"hash_mismatch", HostileMode::hash_mismatch},
    {"replay", HostileMode::replay},
    {"inject", HostileMode::inject},
    {"wild_t", HostileMode::wild_t},
    {"forged_swarm", HostileMode::forged_swarm},
    {"fake_confirm", HostileMode::fake_confirm},
    {"huge_body", HostileMode::huge_body},
    {"slow_drip", HostileMode::slow_drip},
};

[[noreturn]] void bad(const std::string& field, const std::string& what) {
    throw std::invalid_argument("set_hostile: '" + field + "': " + what);
}

std::size_t count_field(const json& spec, const char* name, std::size_t fallback, std::size_t min, std::size_t max) {
    auto it = spec.find(name);
    if (it == spec.end()) return fallback;
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<std::int64_t>() < 0))
        bad(name, "expected a non-negative integer");
    const auto v = it->get<std::uint64_t>();
    if (v < min || v > max)
        bad(name, "expected " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(v));
    return static_cast<std::size_t>(v);
}

bool bool_field(const json& spec, const char* name, bool fallback) {
    auto it = spec.find(name);
    if (it == spec.end()) return fallback;
    if (!it->is_boolean()) bad(name, "expected true or false");
    return it->get<bool>();
}

std::string choice_field(const json& spec, const char* name, const std::string& fallback,
                         std::initializer_list<const char*> allowed) {
    auto it = spec.find(name);
    if (it == spec.end()) return fallback;
    if (!it->is_string()) bad(name, "expected a string");
    const auto v = it->get<std::string>();
    std::string list;
    for (const char* a : allowed) {
        if (v == a) return v;
        list += std::string(list.empty() ? "" : ", ") + a;
    }
    bad(name, "expected one of " + list);
}

std::string random_b64(std::size_t bytes) {
    Bytes b(bytes);
    randombytes_buf(b.data(), b.size());
    return base64_encode(b);
}

// A 43-character unpadded base64 string that is nobody's message hash.
std::string random_hash() {
    std::string h = random_b64(32);
    return h.substr(0, 43);
}

// A protobuf field the client's decoder does not know (number 99, varint): appended to a stored
// WebSocketMessage it leaves the sealed content, its signature and its signed time untouched and
// gives the item a new valid hash: the "re-wrapped replay" of issue 10 finding 5.
Bytes rewrapped(const Bytes& data) {
    Bytes out = data;
    out.push_back(0x98);  // (99 << 3) | 0 as a varint: 0x318
    out.push_back(0x06);
    out.push_back(0x01);
    return out;
}

json item_json(const std::string& hash, std::int64_t ts, std::int64_t expiry, const std::string& data_b64) {
    return json{{"hash", hash}, {"timestamp", ts}, {"expiration", expiry}, {"data", data_b64}};
}

// Inserts `,"<key>":<value_text>` before the closing brace of a JSON object text.
bool append_member(std::string& object_text, const std::string& key, const std::string& value_text) {
    while (!object_text.empty() && (object_text.back() == '\n' || object_text.back() == ' ')) object_text.pop_back();
    if (object_text.size() < 2 || object_text.front() != '{' || object_text.back() != '}') return false;
    object_text.pop_back();
    if (object_text.size() > 1) object_text += ',';
    object_text += "\"" + key + "\":" + value_text + "}";
    return true;
}

}  // namespace

const char* hostile_mode_name(HostileMode m) {
    for (const auto& [name, mode] : kModes)
        if (mode == m) return name;
    return "none";
}

bool HostileSpec::applies_to(const std::string& method) const {
    return methods.empty() || std::find(methods.begin(), methods.end(), method) != methods.end();
}

std::string nested_json(std::size_t depth, const std::string& shape) {
    std::string out;
    if (shape == "object") {
        out.reserve(depth * 6 + 1);
        for (std::size_t i = 0; i < depth; ++i) out += "{\"a\":";
        out += '0';
        out.append(depth, '}');
    } else {
        out.reserve(depth * 2 + 1);
        out.append(depth, '[');
        out += '0';
        out.append(depth, ']');
    }
    return out;
}

HostileSpec parse_hostile(const json& spec) {
    if (!spec.is_object()) throw std::invalid_argument("set_hostile: expected a JSON object");
    static const std::set<std::string> known{"cmd",     "node",       "mode",         "methods",     "where",
                                             "shape",   "depth",      "items",        "item_bytes",  "valid_hashes",
                                             "rewrap",  "data",       "t",            "t_offset_ms", "forgery",
                                             "answer_421", "count",   "drop",         "bytes",       "chunk_bytes",
                                             "interval_ms"};
    for (const auto& [k, v] : spec.items())
        if (!known.count(k)) bad(k, "unknown field");
    HostileSpec h;
    h.spec = spec;
    h.spec.erase("cmd");
    h.spec.erase("node");
    auto mode = spec.find("mode");
    if (mode == spec.end() || !mode->is_string()) bad("mode", "missing or not a string");
    bool found = false;
    for (const auto& [name, m] : kModes)
        if (mode->get<std::string>() == name) h.mode = m, found = true;
    if (!found) bad("mode", "unknown mode '" + mode->get<std::string>() + "'");

    if (auto it = spec.find("methods"); it != spec.end()) {
        if (!it->is_array()) bad("methods", "expected an array of method names");
        for (const auto& m : *it) {
            if (!m.is_string()) bad("methods", "expected an array of method names");
            h.methods.push_back(m.get<std::string>());
        }
    }
    h.where = choice_field(spec, "where", "rpc", {"rpc", "body", "batch", "field", "http"});
    if (h.mode == HostileMode::huge_body && h.where != "rpc" && h.where != "http")
        bad("where", "huge_body takes \"rpc\" or \"http\"");
    h.shape = choice_field(spec, "shape", "array", {"array", "object"});
    h.depth = count_field(spec, "depth", 300'000, 1, kMaxDepth);
    h.items = count_field(spec, "items", h.mode == HostileMode::endless_pages ? 100 : 0, 0, kMaxItems);
    h.item_bytes = count_field(spec, "item_bytes", 1024, 1, kMaxItemBytes);
    h.valid_hashes = bool_field(spec, "valid_hashes", true);
    h.rewrap = bool_field(spec, "rewrap", true);
    if (auto it = spec.find("data"); it != spec.end()) {
        if (!it->is_array() || it->size() > kMaxItems) bad("data", "expected an array of base64 strings");
        for (const auto& d : *it) {
            if (!d.is_string()) bad("data", "expected an array of base64 strings");
            auto raw = base64_decode(d.get<std::string>());
            if (!raw || raw->empty() || raw->size() > kMaxItemBytes) bad("data", "an item is not base64 of 1..76800 bytes");
            h.data.push_back(std::move(*raw));
        }
    }
    if (h.mode == HostileMode::inject && h.data.empty()) bad("data", "inject needs at least one item");
    h.t = spec.contains("t") ? spec.at("t") : json(std::numeric_limits<std::int64_t>::max());
    if (auto it = spec.find("t_offset_ms"); it != spec.end()) {
        if (!it->is_number_integer() ||
            (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
            bad("t_offset_ms", "expected an integer");
        h.t_offset_ms = it->get<std::int64_t>();
    }
    h.forgery = choice_field(spec, "forgery", "not_in_pool", {"not_in_pool", "mismatched_keys"});
    h.answer_421 = bool_field(spec, "answer_421", false);
    h.count = count_field(spec, "count", 5, 1, kMaxCount);
    h.drop = bool_field(spec, "drop", false);
    h.bytes = count_field(spec, "bytes", 11 * 1024 * 1024, 1, kMaxHugeBytes);
    h.chunk_bytes = count_field(spec, "chunk_bytes", 1, 1, 1024 * 1024);
    h.interval_ms = static_cast<std::int64_t>(count_field(spec, "interval_ms", 1000, 1, kMaxIntervalMs));
    return h;
}

}  // namespace detail

// ---- RPC answers ---------------------------------------------------------------------------------

std::optional<Reply> Network::Impl::hostile_replace(Node& n, const HostileSpec& h, const std::string& method) {
    if (h.mode != HostileMode::deep_json || !h.applies_to(method)) return std::nullopt;
    if (h.where != "rpc" && h.where != "body" && h.where != "batch") return std::nullopt;
    n.count([](Counters& c) { ++c.hostile; });
    const std::string deep = detail::nested_json(h.depth, h.shape);
    if (h.where == "batch") return Reply::raw(200, "{\"results\":[{\"code\":" + deep + ",\"body\":" + deep + "}]}");
    return Reply::raw(200, deep, /*embed=*/h.where == "body");
}

void Network::Impl::hostile_alter(Node& n, const HostileSpec& h, const std::string& method, Reply& r) {
    if (!h.applies_to(method)) return;
    switch (h.mode) {
        case HostileMode::deep_json: {
            if (h.where != "field") return;
            std::string text = r.body_text();
            if (!detail::append_member(text, "junk", detail::nested_json(h.depth, h.shape))) return;
            n.count([](Counters& c) { ++c.hostile; });
            r = Reply::raw(r.status, std::move(text));
            return;
        }
        case HostileMode::huge_body: {
            if (h.where != "rpc") return;
            std::string text = r.body_text();
            const std::size_t overhead = text.size() + 9;  // the member adds 9 characters: ,"pad":""
            const std::string pad = "\"" + std::string(h.bytes > overhead ? h.bytes - overhead : 1, 'x') + "\"";
            if (!detail::append_member(text, "pad", pad)) text += std::string(h.bytes > text.size() ? h.bytes - text.size() : 0, ' ');
            n.count([](Counters& c) { ++c.hostile; });
            r = Reply::raw(r.status, std::move(text));
            return;
        }
        case HostileMode::wild_t: {
            if (!r.is_json() || !r.j().is_object()) return;
            json& j = std::get<0>(r.body);
            json t = h.t;
            if (h.t_offset_ms) {
                std::int64_t v = 0;
                if (__builtin_add_overflow(now(n), *h.t_offset_ms, &v))
                    v = *h.t_offset_ms > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
                t = v;
            }
            bool changed = false;
            if (j.contains("t")) j["t"] = t, changed = true;
            if (method == "info" && j.contains("timestamp")) j["timestamp"] = t, changed = true;
            if (auto sw = j.find("swarm"); sw != j.end() && sw->is_object())
                if (auto mine = sw->find(n.ed_hex); mine != sw->end() && mine->is_object() && mine->contains("t"))
                    (*mine)["t"] = t, changed = true;
            if (changed) n.count([](Counters& c) { ++c.hostile; });
            return;
        }
        default: return;
    }
}

void Network::Impl::hostile_retrieve(Node& n, const HostileSpec& h, const detail::Account& a, int ns, json& messages,
                                     bool& more) {
    const std::int64_t t = now(n);
    const auto account33 = a.bytes();
    switch (h.mode) {
        case HostileMode::endless_pages:
            for (std::size_t k = 0; k < h.items; ++k) {
                Bytes junk(h.item_bytes);
                randombytes_buf(junk.data(), junk.size());
                const std::string hash = h.valid_hashes ? detail::message_hash(account33, ns, junk) : detail::random_hash();
                messages.push_back(detail::item_json(hash, t, t + detail::kTtlMaxPublic, base64_encode(junk)));
            }
            more = true;
            break;
        case HostileMode::hash_mismatch:
            for (auto& m : messages) {
                auto raw = base64_decode(m["data"].get<std::string>());
                m["data"] = detail::random_b64(raw ? std::max<std::size_t>(raw->size(), 1) : h.item_bytes);
            }
            for (std::size_t k = 0; k < h.items; ++k)
                messages.push_back(detail::item_json(detail::random_hash(), t, t + detail::kTtlMaxPublic,
                                                     detail::random_b64(h.item_bytes)));
            break;
        case HostileMode::replay: {
            // Everything this node holds for the account, whatever last_hash said: old items again.
            auto all = n.store->retrieve(a, ns, std::string(), std::nullopt, detail::kRetrieveMaxSize);
            for (const auto& m : all.messages) {
                messages.push_back(detail::item_json(m.hash, m.timestamp, m.expiry, base64_encode(m.data)));
                if (!h.rewrap) continue;
                const Bytes copy = detail::rewrapped(m.data);
                messages.push_back(detail::item_json(detail::message_hash(account33, ns, copy), m.timestamp, m.expiry,
                                                     base64_encode(copy)));
            }
            break;
        }
        case HostileMode::inject:
            for (const auto& d : h.data)
                messages.push_back(detail::item_json(detail::message_hash(account33, ns, d), t, t + detail::kTtlMaxPublic,
                                                     base64_encode(d)));
            break;
        default: return;
    }
    n.count([](Counters& c) { ++c.hostile; });
}

json Network::Impl::hostile_swarm(Node& n, const HostileSpec& h, std::uint64_t swarm) {
    n.count([](Counters& c) { ++c.hostile; });
    json j = swarm_json(swarm);
    json& snodes = j["snodes"];
    if (h.forgery == "mismatched_keys") {
        // The real members, each with another node's X25519 key: onion layers addressed to a member
        // are encrypted to a key it does not hold.
        // (A one-member swarm gets this node's key, or an all-zero one if it is that member.)
        const std::size_t k = snodes.size();
        std::vector<std::string> xs;
        for (const auto& s : snodes) xs.push_back(s["pubkey_x25519"].get<std::string>());
        for (std::size_t i = 0; i < k; ++i) {
            std::string other = xs[(i + 1) % k];
            if (other == xs[i]) other = xs[i] == n.x_hex ? std::string(64, '0') : n.x_hex;
            snodes[i]["pubkey_x25519"] = other;
        }
        return j;
    }
    // not_in_pool: fresh keys (consistent with each other, unknown to every seed) at this node's address.
    snodes = json::array();
    for (std::size_t i = 0; i < h.count; ++i) {
        ByteArray<32> ed{}, x{};
        ByteArray<64> sk{};
        crypto_sign_keypair(ed.data(), sk.data());
        if (crypto_sign_ed25519_pk_to_curve25519(x.data(), ed.data()) != 0) continue;
        snodes.push_back(json{{"address", detail::base32z(ed) + ".snode"},
                              {"pubkey_legacy", to_hex(ed)},
                              {"pubkey_x25519", to_hex(x)},
                              {"pubkey_ed25519", to_hex(ed)},
                              {"port", std::to_string(n.port)},
                              {"port_https", n.port},
                              {"port_omq", n.port},
                              {"port_quic", n.port},
                              {"ip", n.ip}});
    }
    return j;
}

void Network::Impl::hostile_confirmations(Node& n, const HostileSpec& h, const std::string& hash, std::int64_t expiry,
                                          json& swarm) {
    n.count([](Counters& c) { ++c.hostile; });
    for (std::size_t i = 0; i < h.count; ++i) {
        ByteArray<32> pk{};
        ByteArray<64> sk{};
        crypto_sign_keypair(pk.data(), sk.data());
        ByteArray<64> sig{};
        crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const std::uint8_t*>(hash.data()), hash.size(),
                             sk.data());
        sodium_memzero(sk.data(), sk.size());
        swarm[to_hex(pk)] = json{{"hash", hash}, {"signature", base64_encode(sig)}, {"expiry", expiry}};
    }
}

// ---- HTTP answers --------------------------------------------------------------------------------

bool Network::Impl::hostile_http(Node& n, const httplib::Request&, httplib::Response& res, int status,
                                 std::string& text, const char* content_type) {
    auto h = n.hostile_spec();
    if (!h) return false;
    if (h->where == "http" && (h->mode == HostileMode::deep_json || h->mode == HostileMode::huge_body)) {
        n.count([](Counters& c) { ++c.hostile; });
        if (h->mode == HostileMode::deep_json) text = detail::nested_json(h->depth, h->shape);
        else text.append(h->bytes > text.size() ? h->bytes - text.size() : 0, ' ');
        res.status = 200;
        res.set_content(std::move(text), "application/json");
        return true;
    }
    if (h->mode != HostileMode::slow_drip) return false;
    n.count([](Counters& c) { ++c.hostile; });
    res.status = status;
    auto body = std::make_shared<std::string>(std::move(text));
    const std::size_t chunk = h->chunk_bytes;
    const std::int64_t interval = h->interval_ms;
    res.set_content_provider(
        body->size(), content_type,
        [this, &n, body, chunk, interval](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            const std::size_t len = std::min(chunk, body->size() - offset);
            if (!sink.write(body->data() + offset, len)) return false;
            // Ends early (the connection is dropped) when the network or this node stops.
            return offset + len >= body->size() || sleep_for(interval, &n);
        });
    return true;
}

// ---- the control surface -------------------------------------------------------------------------

Result<void> Network::set_hostile(std::size_t i, const nlohmann::json& spec) {
    if (i >= impl_->nodes.size())
        throw std::out_of_range("localnet: node index " + std::to_string(i) + " out of range (" +
                                std::to_string(impl_->nodes.size()) + " nodes)");
    std::shared_ptr<const HostileSpec> h;
    try {
        auto parsed = std::make_shared<HostileSpec>(detail::parse_hostile(spec));
        if (parsed->mode != HostileMode::none) h = std::move(parsed);
    } catch (const std::invalid_argument& e) {
        return unexpected(Errc::invalid_argument, std::string("localnet: ") + e.what());
    }
    Node& n = *impl_->nodes[i];
    std::lock_guard lock(n.hostile_mutex);
    n.hostile = std::move(h);
    return {};
}

nlohmann::json Network::hostile(std::size_t i) const {
    if (i >= impl_->nodes.size())
        throw std::out_of_range("localnet: node index " + std::to_string(i) + " out of range (" +
                                std::to_string(impl_->nodes.size()) + " nodes)");
    auto h = impl_->nodes[i]->hostile_spec();
    return h ? h->spec : json{{"mode", "none"}};
}

}  // namespace session::localnet
