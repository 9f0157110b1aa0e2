// parse.cpp: node lists and RPC replies (see parse.hpp).
#include "network/parse.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include <unordered_set>
#include <variant>

#include "detail/ed25519_batch.hpp"
#include "detail/json_limited.hpp"
#include "session/keys.hpp"

namespace session::network::detail {

using nlohmann::json;

namespace {

constexpr std::string_view kNextNodeNotFound = "Next node not found: ";

Unexpected<Error> bad(Errc code, std::string msg) { return unexpected(code, "network: " + std::move(msg)); }

/// A JSON object from a node, depth-checked before anything walks or copies it.
Result<json> parse_object(std::string_view body, const std::string& what) {
    auto j = session::detail::parse_limited(body, Errc::net_bad_response, "network: " + what);
    if (!j) return j;
    if (!j->is_object()) return bad(Errc::net_bad_response, what + ": not a JSON object");
    return j;
}

const json* find_any(const json& j, std::initializer_list<const char*> keys, const char** which = nullptr) {
    for (const char* k : keys) {
        auto it = j.find(k);
        if (it != j.end() && !it->is_null()) {
            if (which) *which = k;
            return &*it;
        }
    }
    return nullptr;
}

template <class Tag>
Result<Key32<Tag>> parse_key(const json& j, const char* field, Errc code) {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string())
        return bad(code, std::string("node: field '") + field + "': expected a 64-hex-digit string");
    auto arr = from_hex_array<32>(it->get<std::string>());
    if (!arr) return bad(code, std::string("node: field '") + field + "': " + arr.error().message);
    Key32<Tag> k;
    k.bytes = *arr;
    return k;
}

bool parse_u64(std::string_view s, std::uint64_t& out, int base = 10) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool is_ipv4(std::string_view s) {
    int parts = 0;
    std::size_t i = 0;
    while (i <= s.size()) {
        std::size_t j = s.find('.', i);
        if (j == std::string_view::npos) j = s.size();
        std::uint64_t v = 0;
        if (j - i == 0 || j - i > 3 || !parse_u64(s.substr(i, j - i), v) || v > 255) return false;
        ++parts;
        i = j + 1;
    }
    return parts == 4;
}

}  // namespace

Result<Snode> parse_node(const json& j, Errc code) {
    if (!j.is_object()) return bad(code, "node: expected a JSON object, got " + std::string(j.type_name()));
    Snode n;
    if (const json* ip = find_any(j, {"public_ip", "ip"})) {
        if (!ip->is_string()) return bad(code, "node: field 'public_ip': expected a string");
        n.ip = ip->get<std::string>();
        if (!n.ip.empty() && !is_ipv4(n.ip))
            return bad(code, "node: field 'public_ip': expected dotted IPv4, got \"" + quote(n.ip.substr(0, 40)) + "\"");
    }
    const char* which = nullptr;
    if (const json* port = find_any(j, {"storage_port", "port_https", "port"}, &which)) {
        std::uint64_t v = 0;
        if (port->is_number_unsigned()) v = port->get<std::uint64_t>();
        else if (port->is_number_integer() && port->get<std::int64_t>() >= 0) v = static_cast<std::uint64_t>(port->get<std::int64_t>());
        else if (port->is_string() && parse_u64(port->get<std::string>(), v)) {}
        else return bad(code, std::string("node: field '") + which + "': expected a port number");
        if (v == 0 || v > 65535) return bad(code, std::string("node: field '") + which + "': port out of range: " + std::to_string(v));
        n.https_port = static_cast<std::uint16_t>(v);
    }
    auto ed = parse_key<Ed25519Tag>(j, "pubkey_ed25519", code);
    if (!ed) return unexpected(std::move(ed).error());
    auto x = parse_key<X25519Tag>(j, "pubkey_x25519", code);
    if (!x) return unexpected(std::move(x).error());
    n.keys.ed25519 = *ed;
    n.keys.x25519 = *x;
    if (auto it = j.find("swarm_id"); it != j.end() && !it->is_null()) {
        if (it->is_number_unsigned()) n.swarm_id = it->get<std::uint64_t>();
        else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) n.swarm_id = static_cast<std::uint64_t>(it->get<std::int64_t>());
        else return bad(code, "node: field 'swarm_id': expected an unsigned integer");
    } else if (auto s = j.find("swarm"); s != j.end() && s->is_string()) {
        // oxend's hex spelling, because swarm_id exceeds a JS double (storage-server.md §8).
        std::uint64_t v = 0;
        if (!parse_u64(s->get<std::string>(), v, 16)) return bad(code, "node: field 'swarm': expected hex");
        n.swarm_id = v;
    }
    // INVALID_SWARM_ID: decommissioned, a relay but in no swarm (storage-server.md §6.3).
    if (n.swarm_id && *n.swarm_id == 0xFFFFFFFFFFFFFFFFull) n.swarm_id.reset();
    return n;
}

bool node_usable(const Snode& n) { return !n.ip.empty() && n.ip != "0.0.0.0" && n.https_port != 0; }

Result<std::vector<Snode>> parse_node_list(const json& arr, std::size_t limit, std::size_t* skipped) {
    if (!arr.is_array()) return bad(Errc::net_bad_response, "node list: expected an array, got " + std::string(arr.type_name()));
    std::vector<Snode> out;
    std::unordered_set<std::string> seen;
    std::size_t looked = 0;
    for (const auto& e : arr) {
        if (looked++ == limit) break;
        auto n = parse_node(e);
        if (!n || !node_usable(*n) || !seen.insert(n->ed25519_hex()).second) continue;
        out.push_back(std::move(*n));
    }
    if (skipped) *skipped = arr.size() - out.size();
    return out;
}

namespace {
// {"result": {"service_node_states": [node, …]}}: a seed's JSON-RPC reply, or oxend_request's body.
Result<std::vector<Snode>> node_states(std::string_view body, const std::string& what) {
    auto parsed = parse_object(body, what);
    if (!parsed) return unexpected(std::move(parsed).error());
    const json& j = *parsed;
    auto result = j.find("result");
    if (result == j.end()) return bad(Errc::net_bad_response, what + ": no 'result'");
    if (!result->is_object()) return bad(Errc::net_bad_response, what + ": 'result' is not an object");
    auto it = result->find("service_node_states");
    if (it == result->end()) return bad(Errc::net_bad_response, what + ": no result.service_node_states");
    auto list = parse_node_list(*it, kMaxPoolNodes);
    if (!list) return list;
    if (list->empty()) return bad(Errc::net_bad_response, what + ": no usable node in service_node_states");
    return list;
}
}  // namespace

Result<std::vector<Snode>> parse_seed_reply(std::string_view body) { return node_states(body, "seed reply"); }

Result<std::vector<Snode>> parse_oxend_reply(std::string_view body) { return node_states(body, "oxend_request reply"); }

Result<Swarm> parse_swarm_reply(std::string_view body) {
    auto parsed = parse_object(body, "swarm reply");
    if (!parsed) return unexpected(std::move(parsed).error());
    const json& j = *parsed;
    auto it = j.find("snodes");
    if (it == j.end()) return bad(Errc::net_bad_response, "swarm reply: no 'snodes'");
    auto list = parse_node_list(*it, kMaxSwarmEntries);
    if (!list) return unexpected(std::move(list).error());
    Swarm s;
    if (auto sw = j.find("swarm"); sw != j.end() && sw->is_string()) {
        std::uint64_t v = 0;
        if (parse_u64(sw->get<std::string>(), v, 16) && v != 0xFFFFFFFFFFFFFFFFull) s.id = v;
    }
    for (auto& n : *list) {
        if (s.id && !n.swarm_id) n.swarm_id = s.id;
    }
    s.nodes = std::move(*list);
    if (s.nodes.empty()) return bad(Errc::net_bad_response, "swarm reply: no usable node in 'snodes'");
    return s;
}

struct ParsedBody {
    // The full parse's tree; or, read without a tree, a batch reply of stores, or any other plain
    // reply for its "t" alone.
    std::variant<json, ScannedBatch, ScannedTime> read;
};

std::shared_ptr<const ParsedBody> parse_body(std::string_view body) {
    if (auto batch = scan_store_batch(body))
        return std::make_shared<const ParsedBody>(ParsedBody{std::move(*batch)});
    if (auto time = scan_reply_time(body))
        return std::make_shared<const ParsedBody>(ParsedBody{*time});
    auto parsed = session::detail::parse_limited_or_none(body);
    if (!parsed || !parsed->is_object()) return nullptr;
    return std::make_shared<const ParsedBody>(ParsedBody{std::move(*parsed)});
}

namespace {

std::optional<std::int64_t> timestamp_in(const json& j) {
    auto t = j.find("t");
    if (t != j.end() && t->is_number_integer()) return t->get<std::int64_t>();
    // batch/sequence: {"results": [{"code":…, "body": {…, "t": …}}]}
    if (auto r = j.find("results"); r != j.end() && r->is_array() && !r->empty()) {
        const auto& first = (*r)[0];
        if (first.is_object()) {
            auto b = first.find("body");
            if (b != first.end() && b->is_object()) {
                auto bt = b->find("t");
                if (bt != b->end() && bt->is_number_integer()) return bt->get<std::int64_t>();
            }
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> find_timestamp(std::string_view body) { return find_timestamp(parse_body(body).get()); }

std::optional<std::int64_t> find_timestamp(const ParsedBody* body) {
    if (!body) return std::nullopt;
    if (const auto* time = std::get_if<ScannedTime>(&body->read)) return time->t;
    if (const auto* doc = std::get_if<json>(&body->read)) return timestamp_in(*doc);
    // As timestamp_in reads the same reply: its own "t", else the first result's body's.
    const auto& batch = std::get<ScannedBatch>(body->read);
    if (batch.t) return batch.t;
    const auto& first = batch.results.front();  // a scanned batch has at least one
    return first.store ? first.store->t : std::nullopt;
}

std::string pool_refresh_params() {
    return R"({"endpoint":"get_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"storage_server_version":true,"swarm_id":true}}})";
}

std::optional<Ed25519PublicKey> next_node_not_found(std::string_view body) {
    auto pos = body.find(kNextNodeNotFound);
    if (pos == std::string_view::npos) return std::nullopt;
    auto hex = body.substr(pos + kNextNodeNotFound.size());
    if (hex.size() < 64) return std::nullopt;
    auto arr = from_hex_array<32>(hex.substr(0, 64));
    if (!arr) return std::nullopt;
    Ed25519PublicKey k;
    k.bytes = *arr;
    return k;
}

namespace {

// `j` is depth-checked: its values may be copied and dumped.
std::optional<BatchFailure> uniform_failure_in(const json& j) {
    auto results = j.find("results");
    if (results == j.end() || !results->is_array() || results->empty() || results->size() > kMaxBatchResults)
        return std::nullopt;
    std::optional<int> code;
    for (const auto& r : *results) {
        if (!r.is_object()) return std::nullopt;
        auto c = r.find("code");
        if (c == r.end() || !c->is_number_integer()) return std::nullopt;
        const auto v = c->get<std::int64_t>();
        if ((v >= 200 && v < 300) || v < 0 || v > 999 || (code && *code != v)) return std::nullopt;
        code = static_cast<int>(v);
    }
    const json& first = (*results)[0];
    auto body = first.find("body");
    std::string out;
    if (body != first.end()) out = body->is_string() ? body->get<std::string>() : body->dump();
    else out = "null";
    return BatchFailure{*code, std::move(out)};
}

// The same for a scanned batch: there only 2xx results have object bodies, so every failed one's
// body is text.
std::optional<BatchFailure> uniform_failure_in(const ScannedBatch& batch) {
    const int code = batch.results.front().status;
    for (const auto& r : batch.results)
        if (r.status != code || (r.status >= 200 && r.status < 300)) return std::nullopt;
    return BatchFailure{code, batch.results.front().body};
}

}  // namespace

std::optional<BatchFailure> uniform_batch_failure(std::string_view text, const ParsedBody* parsed) {
    std::shared_ptr<const ParsedBody> own;
    if (!parsed) {
        own = parse_body(text);
        parsed = own.get();
    }
    // A reply read for its time alone has no "results": as uniform_failure_in(doc) finds.
    if (!parsed || std::holds_alternative<ScannedTime>(parsed->read)) return std::nullopt;
    if (const auto* batch = std::get_if<ScannedBatch>(&parsed->read)) return uniform_failure_in(*batch);
    return uniform_failure_in(std::get<json>(parsed->read));
}

namespace {

Result<void> result_count(std::size_t got, std::size_t expected, const std::string& what) {
    if (expected > kMaxBatchResults || got != expected)
        return bad(Errc::net_bad_response,
                   what + ": expected " + std::to_string(expected) + " results, got " + std::to_string(got));
    return {};
}

Result<std::vector<BatchResult>> batch_results_in(std::shared_ptr<const json> document, std::size_t expected,
                                                  const std::string& what) {
    const json& j = *document;
    auto results = j.find("results");
    if (results == j.end() || !results->is_array()) return bad(Errc::net_bad_response, what + ": no 'results' array");
    if (auto n = result_count(results->size(), expected, what); !n) return unexpected(std::move(n).error());
    std::vector<BatchResult> out;
    out.reserve(expected);
    for (std::size_t i = 0; i < results->size(); ++i) {
        const json& r = (*results)[i];
        auto c = r.is_object() ? r.find("code") : r.end();
        if (!r.is_object() || c == r.end() || !c->is_number_integer() || c->get<std::int64_t>() < 0 ||
            c->get<std::int64_t>() > 999)
            return bad(Errc::net_bad_response, what + ": result " + std::to_string(i) + ": expected an integer 'code' in 0..999");
        BatchResult b;
        b.status = static_cast<int>(c->get<std::int64_t>());
        // The document is depth-checked: its values may be copied and dumped.
        auto v = r.find("body");
        if (v == r.end()) {
            b.body = "null";
        } else if (v->is_object() && b.status >= 200 && b.status < 300) {
            b.document = document;
            b.object = &*v;
        } else {
            b.body = v->is_string() ? v->get<std::string>() : v->dump();
        }
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace

Result<std::vector<BatchResult>> parse_batch_results(std::string_view body, std::size_t expected, const Snode& from) {
    const std::string what = "batch reply from " + from.address();
    auto parsed = parse_object(body, what);
    if (!parsed) return unexpected(std::move(parsed).error());
    return batch_results_in(std::make_shared<const json>(std::move(*parsed)), expected, what);
}

namespace {

// The results of a scanned batch (`parsed` holds one), which they keep alive.
Result<std::vector<BatchResult>> scanned_results_in(const std::shared_ptr<const ParsedBody>& parsed, std::size_t expected,
                                                    const std::string& what) {
    const ScannedBatch& batch = std::get<ScannedBatch>(parsed->read);
    if (auto n = result_count(batch.results.size(), expected, what); !n) return unexpected(std::move(n).error());
    std::vector<BatchResult> out;
    out.reserve(expected);
    for (const auto& r : batch.results) {
        BatchResult b;
        b.status = r.status;
        if (r.store) b.store = std::shared_ptr<const StoreAnswer>(parsed, &*r.store);  // aliasing: no copy
        else b.body = r.body;
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace

Result<std::vector<BatchResult>> parse_batch_results(const RpcReply& reply, std::size_t expected) {
    // Read for its time alone (no "results"): the text's own parse gives the error.
    if (!reply.parsed || std::holds_alternative<ScannedTime>(reply.parsed->read))
        return parse_batch_results(reply.body, expected, reply.node);
    if (std::holds_alternative<ScannedBatch>(reply.parsed->read))
        return scanned_results_in(reply.parsed, expected, "batch reply from " + reply.node.address());
    // Aliasing: the results point into the reply's own parse, which they keep alive.
    return batch_results_in(std::shared_ptr<const json>(reply.parsed, &std::get<json>(reply.parsed->read)), expected,
                            "batch reply from " + reply.node.address());
}

Result<StoreResult> parse_store_reply(std::string_view body, const std::string& expected, const Snode& entry,
                                      std::span<const Snode> members, StoreChecks checks) {
    auto parsed = parse_object(body, "store reply from " + entry.address());
    if (!parsed) return unexpected(std::move(parsed).error());
    return parse_store_object(*parsed, expected, entry, members, checks);
}

void StoreSignatures::collect(const StoreAnswer& answer) {
    for (const StoreEntry& e : answer.entries) {
        if (!e.object || e.failed || !e.hash || !e.signature) continue;
        auto node = from_hex_array<32>(e.key);
        auto sig = base64_decode(*e.signature);
        if (!node || !sig || sig->size() != kEd25519SignatureBytes) continue;
        Signed s{*node, *e.hash, *e.signature, {}};
        std::copy(sig->begin(), sig->end(), s.signature.begin());
        collected_.push_back(std::move(s));
    }
    if (collected_.size() > (ends_.empty() ? 0 : ends_.back())) ends_.push_back(collected_.size());
}

void StoreSignatures::collect(const json& reply) {
    if (reply.is_object()) collect(store_answer_of(reply));
}

void StoreSignatures::check() {
    auto together = [](std::span<const Signed> list) {
        std::vector<session::detail::SignatureToCheck> items;
        items.reserve(list.size());
        for (const auto& s : list) items.push_back({s.node, as_bytes(s.hash), s.signature});
        return session::detail::verify_batch(items);
    };
    auto keep = [&](std::span<const Signed> list) {
        for (const auto& s : list) valid_.insert({s.node, s.hash, s.text});
    };
    const std::span<const Signed> all(collected_);
    if (together(all)) {
        keep(all);
    } else if (ends_.size() > 1) {
        std::size_t begin = 0;
        for (const std::size_t end : ends_) {
            if (const auto answer = all.subspan(begin, end - begin); together(answer)) keep(answer);
            begin = end;
        }
    }
    collected_.clear();
    ends_.clear();
}

bool StoreSignatures::valid(const Ed25519PublicKey& node, std::string_view hash, std::string_view signature) const {
    return valid_.count(FoundView(node.bytes, hash, signature)) != 0;
}

Result<StoreResult> parse_store_object(const json& j, const std::string& expected, const Snode& entry,
                                      std::span<const Snode> members, StoreChecks checks, const StoreSignatures* checked) {
    if (!j.is_object()) return bad(Errc::net_bad_response, "store reply from " + entry.address() + ": not a JSON object");
    return parse_store_answer(store_answer_of(j), expected, entry, members, checks, checked);
}

Result<StoreResult> parse_store_answer(const StoreAnswer& answer, const std::string& expected, const Snode& entry,
                                      std::span<const Snode> members, StoreChecks checks, const StoreSignatures* checked) {
    StoreSignatures own;
    if (checks == StoreChecks::every_member && checked == nullptr) {
        own.collect(answer);
        own.check();
        checked = &own;
    }
    auto is_member = [&](const Ed25519PublicKey& k) {
        return std::any_of(members.begin(), members.end(), [&](const Snode& m) { return m.keys.ed25519 == k; });
    };
    StoreResult out;
    out.hash = expected;
    out.entry = entry;
    for (const StoreEntry& e : answer.entries) {
        auto ed = from_hex_array<32>(e.key);
        if (!ed) continue;
        StoreNodeResult nr;
        nr.node.bytes = *ed;
        if (!e.object) {
            nr.failure = "malformed entry";
        } else if (e.failed) {
            if (e.timeout) nr.failure = "timeout";
            else if (e.code) nr.failure = "code " + quote(*e.code) + ": " + quote(e.reason);
            else if (e.bad_peer_response) nr.failure = "bad peer response";
            else if (e.query_failure) nr.failure = "query failure";
            else nr.failure = "failed";
        } else {
            nr.hash = e.hash.value_or("");
            nr.signature = e.signature.value_or("");
            if (e.expiry) nr.expiry_ms = *e.expiry;
            nr.already = e.already;
            const bool member = is_member(nr.node);
            // Checked: every entry (every_member), or a member's with our hash until one verifies.
            nr.signature_checked = checks == StoreChecks::every_member ||
                                   (checks == StoreChecks::first_member && member && nr.hash == expected &&
                                    out.confirmed() == 0);
            if (nr.signature_checked) {
                // The node signs the ASCII hash with its Ed25519 key (storage-server.md §4.6).
                nr.signature_valid = checked && checked->valid(nr.node, nr.hash, nr.signature);
                if (!nr.signature_valid) {
                    auto sig = base64_decode(nr.signature);
                    nr.signature_valid = sig && sig->size() == kEd25519SignatureBytes &&
                                         verify(nr.node, as_bytes(nr.hash), *sig);
                }
            }
            const bool proven = nr.signature_valid || checks == StoreChecks::none;
            nr.ok = member && proven && nr.hash == expected;
            if (!member) nr.failure = "not a member of the recipient's swarm";
            else if (nr.signature_checked && !nr.signature_valid) nr.failure = "bad signature";
            else if (nr.hash != expected) nr.failure = "hash mismatch: " + quote(nr.hash);
            else if (!proven) nr.failure = "signature not checked";
            if (nr.hash.size() > kQuoteBytes) nr.hash = quote(nr.hash);  // only ours (43 characters) matters
        }
        if (nr.node == entry.keys.ed25519 && nr.ok) out.expiry_ms = nr.expiry_ms;
        out.nodes.push_back(std::move(nr));
    }
    if (out.confirmed() == 0)
        return bad(Errc::net_bad_response, "store via " + entry.address() + ": no swarm member confirmed hash " + expected +
                                               " (" + std::to_string(out.nodes.size()) + " entries)");
    if (out.expiry_ms == 0)
        for (const auto& n : out.nodes)
            if (n.ok) out.expiry_ms = std::max(out.expiry_ms, n.expiry_ms);
    return out;
}

Result<InfoResult> parse_info_reply(std::string_view body, const Snode& from) {
    auto parsed = parse_object(body, "info from " + from.address());
    if (!parsed) return unexpected(std::move(parsed).error());
    const json& j = *parsed;
    InfoResult out;
    auto ints = [](const json& a) {
        std::vector<int> v;
        if (!a.is_array()) return v;
        for (const auto& e : a) {
            if (v.size() == kMaxVersionParts) break;
            if (e.is_number_integer() && e.get<std::int64_t>() >= 0 && e.get<std::int64_t>() <= 1'000'000)
                v.push_back(static_cast<int>(e.get<std::int64_t>()));
        }
        return v;
    };
    if (auto v = j.find("version"); v != j.end()) out.version = ints(*v);
    if (auto h = j.find("hf"); h != j.end()) out.hardfork = ints(*h);
    if (auto t = j.find("timestamp"); t != j.end() && t->is_number_integer()) out.timestamp_ms = t->get<std::int64_t>();
    else if (auto t2 = find_timestamp(body)) out.timestamp_ms = *t2;
    else return bad(Errc::net_bad_response, "info from " + from.address() + ": no timestamp");
    return out;
}

std::string quote(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, kQuoteBytes)) out.push_back((c >= 0x20 && c < 0x7f) ? c : '?');
    if (s.size() > kQuoteBytes) out += "…";
    return out;
}

std::string pool_line(const Snode& n) {
    std::string s = to_hex(n.keys.ed25519.bytes) + "|" + to_hex(n.keys.x25519.bytes) + "|" + n.ip + "|" +
                    std::to_string(n.https_port) + "|";
    if (n.swarm_id) s += std::to_string(*n.swarm_id);
    return s;
}

Result<Snode> parse_pool_line(std::string_view line) {
    std::vector<std::string_view> f;
    std::size_t i = 0;
    while (true) {
        auto j = line.find('|', i);
        f.push_back(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
        if (j == std::string_view::npos) break;
        i = j + 1;
    }
    if (f.size() != 5) return bad(Errc::net_config, "pool cache: expected 5 '|'-separated fields, got " + std::to_string(f.size()));
    auto ed = from_hex_array<32>(f[0]);
    auto x = from_hex_array<32>(f[1]);
    if (!ed || !x) return bad(Errc::net_config, "pool cache: bad key hex");
    std::uint64_t port = 0;
    if (!is_ipv4(f[2]) || !parse_u64(f[3], port) || port == 0 || port > 65535)
        return bad(Errc::net_config, "pool cache: bad ip or port");
    Snode n;
    n.keys.ed25519.bytes = *ed;
    n.keys.x25519.bytes = *x;
    n.ip = std::string(f[2]);
    n.https_port = static_cast<std::uint16_t>(port);
    if (!f[4].empty()) {
        std::uint64_t sw = 0;
        if (!parse_u64(f[4], sw)) return bad(Errc::net_config, "pool cache: bad swarm id");
        n.swarm_id = sw;
    }
    return n;
}

}  // namespace session::network::detail
