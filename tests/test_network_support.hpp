#pragma once
// test_network_support.hpp: a fake onion network for the network unit tests (tests/test_network*.cpp).
// FakeNet is an injected Transport that speaks the real onion protocol (session::onion's node side)
// with programmable faults per node: down, unknown to relays, guard timeouts, corrupt replies, a
// fixed status at the destination, clock skew; it counts what each node did.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <cstdio>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "detail/onion_node.hpp"
#include "session/network.hpp"
#include "session/swarm.hpp"

namespace fakenet {

using namespace session;
using namespace session::network;
using nlohmann::json;


// ---- a fake onion network -----------------------------------------------------------------------

struct FakeNode {
    Snode info;
    ByteArray<64> ed_sk{};
    Secret<32> x_sk;
    // faults
    bool down = false;          // refuses connections; relays to it answer 504
    bool unknown = false;       // relays to it answer 502 "Next node not found"
    bool guard_timeout = false; // as a guard: the transport times out
    bool corrupt = false;       // as a guard: one byte of the 200 body is changed
    int dest_status = 0;        // as a destination: answer this status for every RPC
    std::int64_t skew_ms = 0;
    // hostile behaviour, as a destination
    /// Answers an RPC (also each sub-request of a batch) itself: (status, body), or nullopt to answer
    /// normally. `params` are the request's.
    std::function<std::optional<std::pair<int, std::string>>(const std::string& method, const json& params)> answer;
    /// Replaces the whole decrypted reply ({"status":…,"body":…} text) with any text.
    std::function<std::optional<std::string>(const std::string& method)> raw_reply;
    // counters
    int as_guard = 0;
    int as_dest = 0;
    std::map<std::string, int> methods;
    std::vector<std::string> batch_bodies;  // the text of each batch request this node answered
};

class FakeNet final : public Transport {
public:
    /// `ips`: one per node; swarm ids are `swarms` distinct values, node i in swarm i % swarms.
    FakeNet(const std::vector<std::string>& ips, std::size_t swarms, bool seed_gives_swarm_ids = true)
        : seed_swarm_ids_(seed_gives_swarm_ids) {
        REQUIRE(sodium_init() >= 0);
        for (std::size_t i = 0; i < ips.size(); ++i) {
            auto n = std::make_unique<FakeNode>();
            ByteArray<32> seed{};
            seed[0] = static_cast<std::uint8_t>(i + 1);
            seed[1] = 0x5e;
            ByteArray<32> ed_pk{};
            crypto_sign_seed_keypair(ed_pk.data(), n->ed_sk.data(), seed.data());
            ByteArray<32> xpk{}, xsk{};
            REQUIRE(crypto_sign_ed25519_pk_to_curve25519(xpk.data(), ed_pk.data()) == 0);
            crypto_sign_ed25519_sk_to_curve25519(xsk.data(), n->ed_sk.data());
            n->x_sk = Secret<32>(std::span<const std::uint8_t, 32>(xsk));
            n->info.ip = ips[i];
            n->info.https_port = static_cast<std::uint16_t>(20000 + i);
            n->info.keys.ed25519.bytes = ed_pk;
            n->info.keys.x25519.bytes = xpk;
            n->info.swarm_id = 0x1000000000000000ull * (i % swarms + 1);
            nodes_.push_back(std::move(n));
        }
    }

    std::vector<std::unique_ptr<FakeNode>>& nodes() { return nodes_; }
    FakeNode& node(std::size_t i) { return *nodes_.at(i); }
    FakeNode* by_key(const Ed25519PublicKey& k) {
        for (auto& n : nodes_)
            if (n->info.keys.ed25519 == k) return n.get();
        return nullptr;
    }
    std::size_t index_of(const Ed25519PublicKey& k) {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i]->info.keys.ed25519 == k) return i;
        return nodes_.size();
    }

    // seeds: "https://seedN" URLs
    std::set<std::string> seeds_down;
    std::atomic<int> seed_requests{0};
    std::atomic<int> onion_posts{0};
    std::map<std::string, std::uint64_t> moved;  // account hex → swarm id
    std::string last_seed_body;
    std::vector<std::pair<std::string, std::string>> last_onion_headers;  // of the last onion POST
    std::map<std::string, int> attempts_by_method;  // onion posts by the RPC inside, failed ones too
    std::mutex m;

    std::uint64_t swarm_of(const std::string& pubkey_hex) {
        if (auto it = moved.find(pubkey_hex); it != moved.end()) return it->second;
        auto id = SessionId::parse(pubkey_hex);
        REQUIRE(id);
        std::vector<std::uint64_t> ids;
        for (auto& n : nodes_) ids.push_back(*n->info.swarm_id);
        return swarm::closest_swarm(swarm::swarm_space(id->x25519()), ids);
    }
    std::size_t swarm_member(std::uint64_t swarm_id) {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (*nodes_[i]->info.swarm_id == swarm_id) return i;
        return nodes_.size();
    }

    json node_json(const FakeNode& n, bool swarm_ids) {
        json j = {{"public_ip", n.info.ip},
                  {"storage_port", n.info.https_port},
                  {"pubkey_ed25519", n.info.ed25519_hex()},
                  {"pubkey_x25519", to_hex(n.info.keys.x25519.bytes)}};
        if (swarm_ids) j["swarm_id"] = *n.info.swarm_id;
        return j;
    }
    json swarm_json(std::uint64_t id) {
        json arr = json::array();
        for (auto& n : nodes_)
            if (*n->info.swarm_id == id)
                arr.push_back({{"ip", n->info.ip},
                               {"port", std::to_string(n->info.https_port)},
                               {"port_https", n->info.https_port},
                               {"pubkey_ed25519", n->info.ed25519_hex()},
                               {"pubkey_x25519", to_hex(n->info.keys.x25519.bytes)}});
        char hex[17];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(id));
        return {{"snodes", arr}, {"swarm", hex}};
    }

    Result<HttpResponse> post(const HttpRequest& req) override {
        std::lock_guard lk(m);
        if (req.url.rfind("https://seed", 0) == 0) {
            ++seed_requests;
            auto host = req.url.substr(8, req.url.find('/', 8) - 8);
            if (seeds_down.count(host)) return unexpected(Errc::net_connect, "fake: seed down");
            last_seed_body = to_string(req.body);
            json states = json::array();
            for (auto& n : nodes_) states.push_back(node_json(*n, seed_swarm_ids_));
            states.push_back({{"public_ip", "0.0.0.0"}, {"storage_port", 1}, {"pubkey_ed25519", std::string(64, 'a')},
                              {"pubkey_x25519", std::string(64, 'b')}});
            HttpResponse r{200, "application/json", to_bytes(json{{"result", {{"service_node_states", states}}}}.dump())};
            return r;
        }
        // https://ip:port/onion_req/v2
        auto hostport = req.url.substr(8, req.url.find('/', 8) - 8);
        FakeNode* guard = nullptr;
        for (auto& n : nodes_)
            if (n->info.address() == hostport) guard = n.get();
        REQUIRE(guard != nullptr);
        REQUIRE(req.url.ends_with("/onion_req/v2"));
        CHECK_FALSE(req.tls.verify);
        ++onion_posts;
        last_onion_headers = req.headers;
        ++attempts_by_method[final_method(*guard, req.body)];
        if (guard->down) return unexpected(Errc::net_connect, "fake: connection refused");
        ++guard->as_guard;
        if (guard->guard_timeout) return unexpected(Errc::net_timeout, "fake: timed out");
        auto entry = onion::parse_entry(req.body);
        if (!entry) return text(400, "Error parsing onion request");
        auto peeled = onion::decrypt_layer(entry->info.enc_type, guard->x_sk, guard->info.keys.x25519,
                                           entry->info.ephemeral_key, entry->ciphertext);
        if (!peeled) return text(400, "Invalid ciphertext");
        FakeNode* at = guard;
        onion::EncType t = entry->info.enc_type;
        for (int hop = 0; hop < 10; ++hop) {
            auto layer = onion::classify_layer(peeled->plaintext);
            REQUIRE(layer);
            if (auto* fin = std::get_if<onion::FinalDestination>(&*layer)) {
                ++at->as_dest;
                auto [status, body] = handle_rpc(*at, to_string(fin->body));
                Result<Bytes> wrapped = unexpected(Errc::invalid_argument, "");
                std::optional<std::string> raw;
                if (at->raw_reply) raw = at->raw_reply(json::parse(to_string(fin->body)).at("method").get<std::string>());
                if (raw) {
                    wrapped = onion::encrypt_reply(t, peeled->reply_key, as_bytes(*raw), rng_);
                    if (wrapped && fin->base64) wrapped = to_bytes(base64_encode(*wrapped));
                } else {
                    wrapped = onion::wrap_node_response(t, peeled->reply_key, status, body, true, *fin, rng_);
                }
                REQUIRE(wrapped);
                HttpResponse r{200, "text/plain", std::move(*wrapped)};
                if (guard->corrupt) {
                    auto& b = r.body;
                    b[b.size() / 2] = b[b.size() / 2] == 'A' ? 'B' : 'A';
                }
                return r;
            }
            auto* relay = std::get_if<onion::RelayToNode>(&*layer);
            REQUIRE(relay != nullptr);
            FakeNode* next = by_key(relay->destination);
            if (!next || next->unknown) return text(502, "Next node not found: " + to_hex(relay->destination.bytes));
            if (next->down) return text(504, "Request time out");
            peeled = onion::decrypt_layer(relay->enc_type, next->x_sk, next->info.keys.x25519, relay->ephemeral_key,
                                          relay->ciphertext);
            if (!peeled) return text(400, "Invalid ciphertext");
            t = relay->enc_type;
            at = next;
        }
        FAIL("too many hops");
        return text(500, "");
    }

private:
    /// The RPC method inside an onion request, found by peeling every layer with the nodes' keys
    /// whatever their faults ("" if it does not parse): counts attempts per call, failed ones too.
    std::string final_method(const FakeNode& guard, const Bytes& body) {
        auto entry = onion::parse_entry(body);
        if (!entry) return "";
        auto peeled = onion::decrypt_layer(entry->info.enc_type, guard.x_sk, guard.info.keys.x25519,
                                           entry->info.ephemeral_key, entry->ciphertext);
        for (int hop = 0; peeled && hop < 10; ++hop) {
            auto layer = onion::classify_layer(peeled->plaintext);
            if (!layer) return "";
            if (auto* fin = std::get_if<onion::FinalDestination>(&*layer)) {
                json j = json::parse(to_string(fin->body), nullptr, false);
                return j.is_object() && j.contains("method") ? j["method"].get<std::string>() : "";
            }
            auto* relay = std::get_if<onion::RelayToNode>(&*layer);
            FakeNode* next = relay ? by_key(relay->destination) : nullptr;
            if (!next) return "";
            peeled = onion::decrypt_layer(relay->enc_type, next->x_sk, next->info.keys.x25519, relay->ephemeral_key,
                                          relay->ciphertext);
        }
        return "";
    }

    static Result<HttpResponse> text(int status, std::string body) {
        return HttpResponse{status, "text/plain", to_bytes(body)};
    }

    std::pair<int, std::string> handle_rpc(FakeNode& n, const std::string& body) {
        json req = json::parse(body);
        const std::string method = req.at("method");
        const json& params = req.at("params");
        ++n.methods[method];
        const std::int64_t now = system_clock()->now_ms() + n.skew_ms;
        if (n.dest_status) return {n.dest_status, "fake failure"};
        if (n.answer)
            if (auto a = n.answer(method, params)) return *a;
        if (method == "batch") {
            n.batch_bodies.push_back(body);
            json results = json::array();
            for (const auto& sub : params.at("requests")) {
                auto [st, b] = handle_rpc(n, json{{"method", sub.at("method")}, {"params", sub.at("params")}}.dump());
                json parsed = json::parse(b, nullptr, false);
                results.push_back({{"code", st}, {"body", parsed.is_discarded() ? json(b) : parsed}});
            }
            return {200, json{{"results", results}}.dump()};
        }
        static const std::set<std::string> known = {"info", "get_swarm", "oxend_request", "store", "retrieve"};
        if (!known.count(method)) return {400, "no method " + method};
        if (method == "info") return {200, json{{"version", {2, 8, 0}}, {"timestamp", now}, {"t", now}, {"hf", {19, 4}}}.dump()};
        if (method == "get_swarm") {
            json j = swarm_json(swarm_of(params.at("pubkey")));
            j["t"] = now;
            return {200, j.dump()};
        }
        if (method == "oxend_request") {
            json states = json::array();
            for (auto& o : nodes_) states.push_back(node_json(*o, true));
            return {200, json{{"result", {{"service_node_states", states}}}, {"t", now}}.dump()};
        }
        const std::string pubkey = params.at("pubkey");
        const std::uint64_t sw = swarm_of(pubkey);
        if (sw != *n.info.swarm_id) {
            json j = swarm_json(sw);
            j["t"] = now;
            return {421, j.dump()};
        }
        if (method == "store") {
            const std::int64_t ts = params.at("timestamp");
            const std::int64_t ttl = params.at("ttl");
            // storage-server.md §4.7: timestamp <= now + 10 s and expiry >= now - 10 s.
            if (ts > now + 10'000 || ts + ttl < now - 10'000) return {406, "Timestamp error: check your clock"};
            auto id = SessionId::parse(pubkey);
            auto data = base64_decode(params.at("data").get<std::string>());
            REQUIRE(data);
            const std::string hash = swarm::message_hash(id->bytes(), params.value("namespace", 0), *data);
            json swarm_results = json::object();
            for (auto& o : nodes_) {
                if (*o->info.swarm_id != sw) continue;
                ByteArray<64> sig{};
                crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(hash.data()), hash.size(),
                                     o->ed_sk.data());
                swarm_results[o->info.ed25519_hex()] = {{"hash", hash}, {"signature", base64_encode(sig)}, {"expiry", ts + ttl}};
            }
            return {200, json{{"hash", hash}, {"swarm", swarm_results}, {"t", now}, {"hf", {19, 4}}}.dump()};
        }
        if (method == "retrieve") {
            const std::int64_t ts = params.at("timestamp");
            if (ts > now + 60'000 || ts < now - 60'000) return {406, "retrieve timestamp too far from current time"};
            return {200, json{{"messages", json::array()}, {"more", false}, {"t", now}, {"hf", {19, 4}}}.dump()};
        }
        return {400, "no method " + method};
    }

    std::vector<std::unique_ptr<FakeNode>> nodes_;
    bool seed_swarm_ids_;
    SystemRng rng_;
};

inline std::vector<std::string> loopback_ips(std::size_t n) {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back("127.0.0." + std::to_string(i + 2));
    return v;
}

inline NetworkConfig fake_config(std::size_t seeds = 3) {
    NetworkConfig c;
    c.name = "fake";
    for (std::size_t i = 1; i <= seeds; ++i) c.seeds.push_back(SeedNode{"https://seed" + std::to_string(i), {}});
    c.seed_stagger = std::chrono::milliseconds(0);
    c.retry_base_delay = std::chrono::milliseconds(1);
    c.retry_max_delay = std::chrono::milliseconds(5);
    return c;
}

inline Options fake_options(std::shared_ptr<FakeNet> net, NetworkConfig c = fake_config()) {
    Options o;
    o.config = std::move(c);
    o.transport = std::move(net);
    return o;
}

inline SessionId account(int k) {
    ByteArray<32> b{};
    b[0] = static_cast<std::uint8_t>(k);
    b[31] = 0x42;
    X25519PublicKey key;
    key.bytes = b;
    return SessionId::of(key);
}

inline const std::string kData = base64_encode(to_bytes("hello swarm"));

/// `depth` nested JSON arrays: "[[[…]]]" (a node's reply that would crash a recursive copy or dump()).
inline std::string deep_json(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

/// A store reply entry signed by `signer` for `hash` (what a swarm member sends back).
inline json signed_entry(const FakeNode& signer, const std::string& hash, std::int64_t expiry) {
    ByteArray<64> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(hash.data()), hash.size(),
                         signer.ed_sk.data());
    return {{"hash", hash}, {"signature", base64_encode(sig)}, {"expiry", expiry}};
}

/// A Network over a fake onion network of 10 nodes in 2 swarms, and the swarm it found for account(k).
/// Tests bind its parts: `auto& [fake, net, acct, sw] = rig;`.
struct SwarmRig {
    std::shared_ptr<FakeNet> fake;
    Network net;
    SessionId acct;
    std::optional<Swarm> sw;

    explicit SwarmRig(int k)
            : fake(std::make_shared<FakeNet>(loopback_ips(10), 2)), net(fake_options(fake)), acct(account(k)) {
        auto found = net.get_swarm(acct);
        REQUIRE(found);
        REQUIRE(found->id);
        sw = std::move(*found);
    }
    /// The swarm the account is not in (where a test moves it).
    std::uint64_t other_swarm() const {
        return *sw->id == 0x1000000000000000ull ? 0x2000000000000000ull : 0x1000000000000000ull;
    }
    /// Retrieve params for the account (the fake checks only the timestamp).
    ParamsBuilder retrieve_params() const {
        return [pubkey = acct.hex()](std::int64_t now) -> Result<std::string> {
            return json{{"pubkey", pubkey}, {"timestamp", now}, {"signature", "x"}}.dump();
        };
    }
};

}  // namespace fakenet
