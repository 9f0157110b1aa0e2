// batch_scan.cpp: see batch_scan.hpp.
#include "network/batch_scan.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "detail/json_scan.hpp"

namespace session::network::detail {

using json = nlohmann::json;
using session::detail::JsonScan;
using session::detail::scan_whole_object;

StoreAnswer store_answer_of(const json& reply) {
    StoreAnswer out;
    if (!reply.is_object()) return out;
    if (auto t = reply.find("t"); t != reply.end() && t->is_number_integer()) out.t = t->get<std::int64_t>();
    auto sw = reply.find("swarm");
    if (sw == reply.end() || !sw->is_object()) return out;
    for (const auto& item : sw->items()) {  // in key order
        if (out.entries.size() == kMaxSwarmEntries) break;
        StoreEntry e;
        e.key = item.key();
        const json& v = item.value();
        if (!v.is_object()) {
            e.object = false;
            out.entries.push_back(std::move(e));
            continue;
        }
        const auto flag = [&](const char* field) {
            auto it = v.find(field);
            return it != v.end() && it->is_boolean() && it->get<bool>();
        };
        const auto text = [&](const char* field) -> std::optional<std::string> {
            auto it = v.find(field);
            if (it != v.end() && it->is_string()) return it->get<std::string>();
            return std::nullopt;
        };
        e.failed = flag("failed");
        e.timeout = flag("timeout");
        e.bad_peer_response = flag("bad_peer_response");
        e.query_failure = flag("query_failure");
        e.already = flag("already");
        // The reply is depth-checked (parse_limited), so a value may be dumped.
        if (auto c = v.find("code"); c != v.end()) e.code = c->is_string() ? c->get<std::string>() : c->dump();
        e.reason = text("reason").value_or("");
        e.hash = text("hash");
        e.signature = text("signature");
        if (auto x = v.find("expiry"); x != v.end() && x->is_number_integer()) e.expiry = x->get<std::int64_t>();
        out.entries.push_back(std::move(e));
    }
    return out;
}

namespace {

// Levels of arrays and objects the scan goes into; deeper is left to the full parse.
constexpr int kMaxScanDepth = 16;
// Entries of one "swarm" object the scan keeps before sorting them (a swarm has 5 to 10 members);
// more is left to the full parse.
constexpr std::size_t kMaxScannedEntries = 1024;

// A field read here a second time is left to the full parse (nlohmann keeps the last value).
bool first_time(unsigned& seen, unsigned bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
}

bool at_integer(const JsonScan& s) { return s.peek() == '-' || (s.peek() >= '0' && s.peek() <= '9'); }

// An integer value into `out`; any other value skipped (`out` untouched).
bool integer_or_skip(JsonScan& s, std::optional<std::int64_t>& out, int depth) {
    if (!at_integer(s)) return s.skip_value(depth);
    std::int64_t v = 0;
    if (!s.signed_integer(v)) return false;
    out = v;
    return true;
}

// A string value into `out`; any other value skipped (`out` untouched).
bool string_or_skip(JsonScan& s, std::string& out, int depth) {
    if (!s.eat('"')) return s.skip_value(depth);
    return s.string(out);
}

// The same into an optional, set only for a string.
bool string_or_skip(JsonScan& s, std::optional<std::string>& out, int depth) {
    if (!s.eat('"')) return s.skip_value(depth);
    return s.string(out.emplace());
}

// A failed entry's "code" as the full parse gives it: a string as is, anything else as its JSON
// text (an array or object is left to the full parse).
bool code_text(JsonScan& s, std::optional<std::string>& out) {
    if (s.eat('"')) return s.string(out.emplace());
    for (const char* word : {"true", "false", "null"})
        if (s.literal(word)) {
            out = word;
            return true;
        }
    std::int64_t v = 0;
    if (!at_integer(s) || !s.signed_integer(v)) return false;
    out = std::to_string(v);
    return true;
}

// One value of "swarm" (the cursor at it), nested 5 levels deep.
bool entry(JsonScan& s, StoreEntry& e) {
    constexpr int inside = kMaxScanDepth - 6;
    if (!s.eat('{')) {
        e.object = false;
        return s.skip_value(inside + 1);
    }
    unsigned seen = 0;
    return s.members([&](const std::string& k) {
        const auto flag = [&](unsigned bit, bool& out) {
            if (!first_time(seen, bit)) return false;
            if (!s.literal("true")) return s.skip_value(inside);
            out = true;
            return true;
        };
        if (k == "failed") return flag(1u << 0, e.failed);
        if (k == "timeout") return flag(1u << 1, e.timeout);
        if (k == "bad_peer_response") return flag(1u << 2, e.bad_peer_response);
        if (k == "query_failure") return flag(1u << 3, e.query_failure);
        if (k == "already") return flag(1u << 4, e.already);
        if (k == "code") return first_time(seen, 1u << 5) && code_text(s, e.code);
        if (k == "reason") return first_time(seen, 1u << 6) && string_or_skip(s, e.reason, inside);
        if (k == "hash") return first_time(seen, 1u << 7) && string_or_skip(s, e.hash, inside);
        if (k == "signature") return first_time(seen, 1u << 8) && string_or_skip(s, e.signature, inside);
        if (k == "expiry") return first_time(seen, 1u << 9) && integer_or_skip(s, e.expiry, inside);
        return s.skip_value(inside);
    });
}

// The "swarm" object whose '{' was eaten: its entries in key order, the first kMaxSwarmEntries.
bool swarm(JsonScan& s, std::vector<StoreEntry>& out) {
    const bool ok = s.members([&](const std::string& k) {
        if (out.size() == kMaxScannedEntries) return false;
        StoreEntry e;
        e.key = k;
        if (!entry(s, e)) return false;
        out.push_back(std::move(e));
        return true;
    });
    if (!ok) return false;
    const auto by_key = [](const StoreEntry& a, const StoreEntry& b) { return a.key < b.key; };
    std::sort(out.begin(), out.end(), by_key);
    const auto same_key = [](const StoreEntry& a, const StoreEntry& b) { return a.key == b.key; };
    if (std::adjacent_find(out.begin(), out.end(), same_key) != out.end()) return false;  // a repeated member
    if (out.size() > kMaxSwarmEntries) out.resize(kMaxSwarmEntries);
    return true;
}

// A 2xx result's object body whose '{' was eaten, nested 3 levels deep.
bool store_answer(JsonScan& s, StoreAnswer& a) {
    constexpr int inside = kMaxScanDepth - 4;
    unsigned seen = 0;
    return s.members([&](const std::string& k) {
        if (k == "swarm") {
            if (!first_time(seen, 1u << 0)) return false;
            if (!s.eat('{')) return s.skip_value(inside);
            return swarm(s, a.entries);
        }
        if (k == "t") return first_time(seen, 1u << 1) && integer_or_skip(s, a.t, inside);
        return s.skip_value(inside);
    });
}

// One element of "results" (the cursor at it).
bool result(JsonScan& s, ScannedResult& r) {
    constexpr int inside = kMaxScanDepth - 3;
    if (!s.eat('{')) return false;
    unsigned seen = 0;
    std::optional<std::int64_t> code;
    enum class Body { none, text, object } body = Body::none;
    StoreAnswer answer;
    const bool ok = s.members([&](const std::string& k) {
        if (k == "code") {
            std::int64_t v = 0;
            if (!first_time(seen, 1u << 0) || !at_integer(s) || !s.signed_integer(v)) return false;
            code = v;
            return true;
        }
        if (k == "body") {
            if (!first_time(seen, 1u << 1)) return false;
            if (s.eat('"')) {
                body = Body::text;
                return s.string(r.body);
            }
            if (s.literal("null")) return true;
            if (!s.eat('{')) return false;  // a number, an array, a boolean: left to the full parse
            body = Body::object;
            return store_answer(s, answer);
        }
        return s.skip_value(inside);
    });
    if (!ok || !code || *code < 0 || *code > 999) return false;
    r.status = static_cast<int>(*code);
    if (body == Body::object) {
        if (r.status < 200 || r.status >= 300) return false;  // its text would be the parse's dump()
        r.store = std::move(answer);
    } else if (body == Body::none) {
        r.body = "null";
    }
    return true;
}

}  // namespace

std::optional<ScannedBatch> scan_store_batch(std::string_view text) {
    constexpr int inside = kMaxScanDepth - 1;
    ScannedBatch out;
    unsigned seen = 0;
    bool first = true;
    const bool ok = scan_whole_object(text, [&](JsonScan& s, const std::string& k) {
        // A store server writes "results" first (its only key): any other reply is not read here,
        // so a retrieve page or a swarm list costs no scan before its parse.
        if (std::exchange(first, false) && k != "results") return false;
        if (k == "results") {
            if (!first_time(seen, 1u << 0) || !s.eat('[')) return false;
            for (;;) {
                s.skip_space();
                if (out.results.size() == kMaxBatchResults) return false;
                ScannedResult r;
                if (!result(s, r)) return false;  // an empty array too: left to the full parse
                out.results.push_back(std::move(r));
                s.skip_space();
                if (s.eat(']')) return true;
                if (!s.eat(',')) return false;
            }
        }
        if (k == "t") return first_time(seen, 1u << 1) && integer_or_skip(s, out.t, inside);
        return s.skip_value(inside);
    });
    if (!ok || out.results.empty()) return std::nullopt;
    return out;
}

std::optional<ScannedTime> scan_reply_time(std::string_view text) {
    constexpr int inside = kMaxScanDepth - 1;
    ScannedTime out;
    unsigned seen = 0;
    const bool ok = scan_whole_object(text, [&](JsonScan& s, const std::string& k) {
        if (k == "results") return false;  // a batch's first result may carry the time: the parse reads it
        if (k == "t") return first_time(seen, 1u << 0) && integer_or_skip(s, out.t, inside);
        return s.skip_value(inside);
    });
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace session::network::detail
