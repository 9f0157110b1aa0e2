// Onion requests through the local network (storage-server.md §3): built with session::onion,
// sent to a guard over HTTPS, relayed through real nodes, answered by the destination.
#include "localnet/localnet.hpp"

#include <catch2/catch.hpp>

#include <thread>

#include "localnet/internal.hpp"
#include "detail/onion_node.hpp"
#include "session/onion.hpp"
#include "test_localnet_support.hpp"

using namespace lntest;
namespace onion = session::onion;

namespace {

onion::NodeKeys keys_of(const session::localnet::NodeInfo& n) { return onion::NodeKeys{n.ed25519, n.x25519}; }

struct OnionResult {
    Http http;
    std::optional<onion::NodeResponse> response;
};

// path = node indices [guard, relay, relay], destination = node index.
OnionResult send_onion(const Network& net, std::vector<std::size_t> path, std::size_t dest, const json& request,
                       onion::EncType t = onion::EncType::aes_gcm) {
    std::vector<onion::NodeKeys> keys;
    for (auto i : path) keys.push_back(keys_of(net.node(i)));
    const std::string payload = request.dump();
    auto built = onion::build(keys, onion::SnodeDestination{keys_of(net.node(dest))}, session::as_bytes(payload), t,
                              *session::system_rng());
    REQUIRE(built);
    auto guard = net.node(path[0]);
    OnionResult out;
    out.http = post(net, guard.ip, guard.port, "/onion_req/v2", session::to_string(built->body));
    if (out.http.transport_ok && out.http.status == 200) {
        auto dec = onion::decode_node_response(built->response_key, out.http.body);
        if (dec) out.response = *dec;
    }
    return out;
}

// Indices of 3 path nodes and a destination in `dest_swarm`, path nodes outside it where possible.
struct Route {
    std::vector<std::size_t> path;
    std::size_t dest;
};
Route route_to(const Network& net, std::uint64_t dest_swarm) {
    Route r;
    auto dest_members = net.swarm_members(dest_swarm);
    r.dest = dest_members[0];
    for (std::size_t i = 0; i < net.node_count() && r.path.size() < 3; ++i)
        if (net.node(i).swarm_id != dest_swarm) r.path.push_back(i);
    return r;
}

}  // namespace

TEST_CASE("localnet onion: store and retrieve through three relays, both encryption types", "[localnet][onion]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    auto route = route_to(*net, swarm);
    for (auto t : {onion::EncType::aes_gcm, onion::EncType::xchacha20}) {
        DYNAMIC_SECTION("enc " << onion::to_string(t)) {
            net->reset_counters();
            const auto ts = now_ms();
            json store{{"method", "store"},
                       {"params", {{"pubkey", a.session_id()}, {"timestamp", ts}, {"ttl", 60000}, {"data", "b25pb24="}}}};
            auto r = send_onion(*net, route.path, route.dest, store, t);
            REQUIRE(r.http.status == 200);
            CHECK(r.http.content_type == "text/plain");
            REQUIRE(r.response);
            CHECK(r.response->status == 200);
            auto body = json::parse(r.response->body);  // double-encoded JSON (json=false)
            CHECK(body["swarm"].size() == 5);
            const std::string hash = body["hash"];

            // Every hop did exactly its part.
            CHECK(net->counters(route.path[0]).onion_requests == 1);
            for (auto i : route.path) CHECK(net->counters(i).onion_relayed == 1);
            CHECK(net->counters(route.path[1]).onion_relay_received == 1);
            CHECK(net->counters(route.path[2]).onion_relay_received == 1);
            auto dc = net->counters(route.dest);
            CHECK(dc.onion_relay_received == 1);
            CHECK(dc.onion_destination == 1);
            CHECK(dc.methods["store"] == 1);
            CHECK(dc.endpoints.empty());  // reached in-process, not over HTTP
            CHECK(net->total_counters().http_requests == 1);

            const auto t2 = now_ms();
            json rp = a.auth("retrieve" + std::to_string(t2));
            rp["timestamp"] = t2;
            json batch{{"method", "batch"}, {"params", {{"requests", {json{{"method", "retrieve"}, {"params", rp}}}}}}};
            batch["jsonrpc"] = "2.0";  // desktop's extra key
            auto rr = send_onion(*net, route.path, net->swarm_members(swarm)[3], batch, t);
            REQUIRE(rr.response);
            auto rb = json::parse(rr.response->body);
            CHECK(rb["results"][0]["code"] == 200);
            bool found = false;
            for (const auto& m : rb["results"][0]["body"]["messages"]) found |= m["hash"] == hash;
            CHECK(found);
        }
    }
}

TEST_CASE("localnet onion: a misdirected request answers 421 inside the encrypted response", "[localnet][onion]") {
    auto net = start();
    const auto right = net->swarm_ids()[1];
    Account a = account_in(*net, right);
    auto route = route_to(*net, right);  // path outside `right`, so path[0..] are in the other swarm
    const std::size_t wrong_dest = net->swarm_members(net->swarm_ids()[0])[4];
    std::vector<std::size_t> path;
    for (auto i : net->swarm_members(right)) if (path.size() < 3) path.push_back(i);
    json store{{"method", "store"},
               {"params", {{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YWJj"}}}};
    auto r = send_onion(*net, path, wrong_dest, store);
    REQUIRE(r.http.status == 200);
    REQUIRE(r.response);
    CHECK(r.response->status == 421);
    auto body = json::parse(r.response->body);
    CHECK(body["swarm"] == session::localnet::detail::hex_u64(right));
    CHECK(body["snodes"].size() == 5);
    CHECK(body.contains("t"));
    (void)route;
}

TEST_CASE("localnet onion: path errors are plain-text statuses with the real strings", "[localnet][onion]") {
    auto net = start();
    json info{{"method", "info"}, {"params", json::object()}};
    SECTION("unknown next node: 502 Next node not found") {
        std::vector<onion::NodeKeys> keys{keys_of(net->node(0)), keys_of(net->node(1))};
        session::ByteArray<32> fake_ed{}, fake_x{};
        session::ByteArray<64> sk{};
        crypto_sign_keypair(fake_ed.data(), sk.data());
        REQUIRE(crypto_sign_ed25519_pk_to_curve25519(fake_x.data(), fake_ed.data()) == 0);
        onion::NodeKeys fake{session::Ed25519PublicKey{fake_ed}, session::X25519PublicKey{fake_x}};
        keys.push_back(fake);
        const std::string payload = info.dump();
        auto built = onion::build(keys, onion::SnodeDestination{keys_of(net->node(5))}, session::as_bytes(payload),
                                  onion::EncType::aes_gcm, *session::system_rng());
        REQUIRE(built);
        auto g = net->node(0);
        auto r = post(*net, g.ip, g.port, "/onion_req/v2", session::to_string(built->body));
        CHECK(r.status == 502);
        CHECK(r.body == "Next node not found: " + session::to_hex(fake_ed));
    }
    SECTION("stopped or silent next node: 504 Request time out") {
        net->stop_node(2);
        auto r = send_onion(*net, {0, 1, 2}, 5, info);
        CHECK(r.http.status == 504);
        CHECK(r.http.body == "Request time out");
        REQUIRE(net->start_node(2));
        net->set_drop_rate(2, 1.0);
        auto d = send_onion(*net, {0, 1, 2}, 5, info);
        CHECK(d.http.status == 504);
        CHECK(net->counters(2).dropped >= 1);
        net->set_drop_rate(2, 0.0);
        CHECK(send_onion(*net, {0, 1, 2}, 5, info).response->status == 200);
    }
    SECTION("bad entry framing: 400 Error parsing onion request") {
        auto g = net->node(0);
        auto r = post(*net, g.ip, g.port, "/onion_req/v2", "ab");
        CHECK(r.status == 400);
        CHECK(r.body == "Error parsing onion request: Unexpected payload size; expected ciphertext size");
        std::string framed("\x05\x00\x00\x00" "abcde" R"({"enc_type":"aes-gcm"})", 4 + 5 + 22);
        auto m = post(*net, g.ip, g.port, "/onion_req/v2", framed);
        CHECK(m.status == 400);
        CHECK(m.body == "Error parsing onion request: [json.exception.out_of_range.403] key 'ephemeral_key' not found");
        std::string short_blob("\x09\x00\x00\x00" "abc", 7);
        CHECK(post(*net, g.ip, g.port, "/onion_req/v2", short_blob).body ==
              "Error parsing onion request: Unexpected payload size 3, expected >= 9");
        std::string bad_enc = std::string("\x01\x00\x00\x00" "a", 5) + R"({"ephemeral_key":")" + std::string(64, 'a') +
                              R"(","enc_type":"rot13"})";
        CHECK(post(*net, g.ip, g.port, "/onion_req/v2", bad_enc).body ==
              "Error parsing onion request: Invalid encryption type rot13");
    }
    SECTION("tampered layer: 400 Invalid ciphertext") {
        std::vector<onion::NodeKeys> keys{keys_of(net->node(0)), keys_of(net->node(1)), keys_of(net->node(2))};
        const std::string payload = info.dump();
        auto built = onion::build(keys, onion::SnodeDestination{keys_of(net->node(5))}, session::as_bytes(payload),
                                  onion::EncType::xchacha20, *session::system_rng());
        REQUIRE(built);
        auto body = built->body;
        body[4 + 30] ^= 0x01;  // inside the guard's ciphertext
        auto g = net->node(0);
        auto r = post(*net, g.ip, g.port, "/onion_req/v2", session::to_string(body));
        CHECK(r.status == 400);
        CHECK(r.body == "Invalid ciphertext");
    }
    SECTION("hop limit: a fake starting hop_no of 15 is rejected at the next node") {
        std::vector<onion::NodeKeys> keys{keys_of(net->node(0)), keys_of(net->node(1)), keys_of(net->node(2))};
        const std::string payload = info.dump();
        auto built = onion::build(keys, onion::SnodeDestination{keys_of(net->node(5))}, session::as_bytes(payload),
                                  onion::EncType::aes_gcm, *session::system_rng());
        REQUIRE(built);
        auto parts = onion::parse_combined(built->body);
        REQUIRE(parts);
        json trailer = json::parse(parts->trailer);
        trailer["hop_no"] = 15;
        auto rebuilt = onion::encode_combined(parts->blob, trailer.dump());
        REQUIRE(rebuilt);
        auto g = net->node(0);
        auto r = post(*net, g.ip, g.port, "/onion_req/v2", session::to_string(*rebuilt));
        CHECK(r.status == 400);
        CHECK(r.body == "onion request max path length exceeded");
    }
}

TEST_CASE("localnet onion: single layer, default aes-gcm, Invalid json and the json/base64 flags", "[localnet][onion]") {
    auto net = start();
    auto& rng = *session::system_rng();
    const auto node = net->node(7);
    // One layer straight to node 7, encrypted like desktop does (no enc_type = aes-gcm).
    auto send_layer = [&](const session::Bytes& plaintext) {
        auto eph = onion::generate_x25519(rng);
        auto key = onion::client_key(onion::EncType::aes_gcm, eph.secret, eph.public_key, node.x25519);
        REQUIRE(key);
        auto ct = onion::encrypt(onion::EncType::aes_gcm, *key, plaintext, rng);
        REQUIRE(ct);
        auto body = onion::encode_combined(*ct, json{{"ephemeral_key", session::to_hex(eph.public_key.bytes)}}.dump());
        REQUIRE(body);
        auto r = post(*net, node.ip, node.port, "/onion_req/v2", session::to_string(*body));
        return std::make_pair(r, std::move(*key));
    };
    SECTION("framing error inside the layer: encrypted Invalid json") {
        auto [r, key] = send_layer(session::to_bytes("not framed"));
        REQUIRE(r.status == 200);
        auto raw = session::base64_decode(r.body);
        REQUIRE(raw);
        auto pt = onion::decrypt(onion::EncType::aes_gcm, key, *raw);
        REQUIRE(pt);
        CHECK(session::to_string(*pt) == R"({"body":"Invalid json","status":400})");
    }
    SECTION("json=true, base64=false: raw ciphertext with the body embedded") {
        const std::string req = R"({"method":"info","params":{}})";
        auto plain = onion::encode_combined(session::as_bytes(req), R"({"headers":{},"json":true,"base64":false})");
        REQUIRE(plain);
        auto [r, key] = send_layer(*plain);
        REQUIRE(r.status == 200);
        auto pt = onion::decrypt(onion::EncType::aes_gcm, key, session::as_bytes(r.body));
        REQUIRE(pt);
        auto j = json::parse(session::to_string(*pt));
        CHECK(j["status"] == 200);
        CHECK(j["body"].is_object());
        CHECK(j["body"]["version"] == json::array({2, 11, 0}));
    }
    SECTION("desktop control JSON {\"headers\":{...},\"body\":null}") {
        const std::string req = R"({"jsonrpc":"2.0","method":"get_swarm","params":{"pubkey":"05)" + std::string(64, '1') + R"("}})";
        auto plain = onion::encode_combined(session::as_bytes(req), R"({"headers":{"a":"b"},"body":null})");
        auto [r, key] = send_layer(*plain);
        auto raw = session::base64_decode(r.body);
        REQUIRE(raw);
        auto j = json::parse(session::to_string(*onion::decrypt(onion::EncType::aes_gcm, key, *raw)));
        CHECK(j["status"] == 200);
        REQUIRE(j["body"].is_string());
        CHECK(json::parse(j["body"].get<std::string>())["snodes"].size() == 5);
    }
    SECTION("non-boolean json flag: Invalid json") {
        auto plain = onion::encode_combined(session::as_bytes("{}"), R"({"headers":"","json":"yes"})");
        auto [r, key] = send_layer(*plain);
        auto pt = onion::decrypt(onion::EncType::aes_gcm, key, *session::base64_decode(r.body));
        CHECK(session::to_string(*pt) == R"({"body":"Invalid json","status":400})");
    }
    SECTION("RPC errors travel inside a 200") {
        auto plain = onion::encode_combined(session::as_bytes("{\"method\":\"nope\",\"params\":{}}"), R"({"headers":""})");
        auto [r, key] = send_layer(*plain);
        CHECK(r.status == 200);
        auto pt = onion::decrypt(onion::EncType::aes_gcm, key, *session::base64_decode(r.body));
        CHECK(session::to_string(*pt) == R"({"body":"no method nope","status":400})");
    }
    SECTION("proxy to a non-snode with a bad target: encrypted Invalid url") {
        auto plain = onion::encode_combined(session::as_bytes("x"), R"({"host":"127.0.0.1","target":"/not_loki/v3"})");
        auto [r, key] = send_layer(*plain);
        auto pt = onion::decrypt(onion::EncType::aes_gcm, key, *session::base64_decode(r.body));
        CHECK(session::to_string(*pt) == R"({"body":"Invalid url","status":400})");
    }
}

TEST_CASE("localnet onion: a corrupting destination breaks the response, not the path", "[localnet][onion]") {
    auto net = start();
    json info{{"method", "info"}, {"params", json::object()}};
    net->set_corrupt(5, 1.0);
    auto r = send_onion(*net, {0, 1, 2}, 5, info);
    CHECK(r.http.status == 200);
    CHECK_FALSE(r.response);  // base64 still valid, ciphertext no longer authenticates
    CHECK(net->counters(5).corrupted == 1);
    net->set_corrupt(5, 0.0);
    CHECK(send_onion(*net, {0, 1, 2}, 5, info).response);
}

TEST_CASE("localnet onion: proxy to a loopback HTTP server passes the layer and the answer through", "[localnet][onion]") {
    auto net = start();
    httplib::Server server;
    std::string seen_body, seen_ua, seen_type;
    server.Post("/oxen/v4/lsrpc", [&](const httplib::Request& req, httplib::Response& res) {
        seen_body = req.body;
        seen_ua = req.get_header_value("User-Agent");
        seen_type = req.get_header_value("Content-Type");
        res.status = 202;
        res.set_content("server-encrypted bytes", "application/octet-stream");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    std::thread t([&] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    auto& rng = *session::system_rng();
    const auto node = net->node(4);
    auto eph = onion::generate_x25519(rng);
    auto key = onion::client_key(onion::EncType::xchacha20, eph.secret, eph.public_key, node.x25519);
    REQUIRE(key);
    const std::string trailer = json{{"host", "127.0.0.1"}, {"target", "/oxen/v4/lsrpc"}, {"protocol", "http"},
                                     {"port", port}, {"method", "POST"}}.dump();
    auto plain = onion::encode_combined(session::as_bytes("inner blob for the server"), trailer);
    REQUIRE(plain);
    auto ct = onion::encrypt(onion::EncType::xchacha20, *key, *plain, rng);
    auto body = onion::encode_combined(
        *ct, json{{"ephemeral_key", session::to_hex(eph.public_key.bytes)}, {"enc_type", "xchacha20"}}.dump());
    auto r = post(*net, node.ip, node.port, "/onion_req/v2", session::to_string(*body));
    server.stop();
    t.join();
    CHECK(r.status == 202);
    CHECK(r.body == "server-encrypted bytes");
    CHECK(seen_body == session::to_string(*plain));  // the whole decrypted layer, trailer included
    CHECK(seen_ua == "Oxen Storage Server/2.11.0");
    CHECK(seen_type == "application/octet-stream");
}
