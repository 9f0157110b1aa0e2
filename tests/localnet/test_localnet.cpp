// The local network's directory, seeds and storage RPCs over real HTTPS on loopback, checked
// against storage-server.md (v2.8.0) and the vectors in tests/vectors.
#include "localnet/localnet.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "localnet/internal.hpp"
#include "session/swarm.hpp"
#include "support/vectors.hpp"
#include "test_localnet_support.hpp"

using namespace lntest;
namespace fs = std::filesystem;

TEST_CASE("localnet: starts 10 nodes in 2 swarms of 5 on their own loopback addresses", "[localnet]") {
    const auto t0 = std::chrono::steady_clock::now();
    auto net = start();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    WARN("localnet: 10 nodes + 1 seed started in " << ms << " ms");
    REQUIRE(net->node_count() == 10);
    REQUIRE(net->swarm_ids().size() == 2);
    std::set<std::string> ips;
    for (auto id : net->swarm_ids()) CHECK(net->swarm_members(id).size() == 5);
    for (const auto& n : net->nodes()) {
        ips.insert(n.ip);
        CHECK(n.running);
        CHECK(n.ip == "127.0.0." + std::to_string(n.index + 2));
        CHECK(n.pubkey_ed25519.size() == 64);
        // X25519 is the Curve25519 conversion of the Ed25519 key.
        std::uint8_t x[32];
        REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x, n.ed25519.bytes.data()) == 0);
        CHECK(session::to_hex(session::ByteView(x, 32)) == n.pubkey_x25519);
    }
    CHECK(ips.size() == 10);
    REQUIRE(net->seed_urls().size() == 1);
    CHECK(net->seed_urls()[0].rfind("https://127.0.0.1:", 0) == 0);
    net->stop();
    net->stop();  // idempotent
}

TEST_CASE("localnet: the network file lists seeds, CA and every node", "[localnet]") {
    auto net = start();
    const auto path = (fs::temp_directory_path() / ("localnet-net-" + std::to_string(::getpid()) + ".json")).string();
    REQUIRE(net->write_network_file(path));
    std::ifstream in(path);
    json f = json::parse(in);
    fs::remove(path);
    REQUIRE(f["seeds"] == json(net->seed_urls()));
    CHECK(f["ca_pem"].get<std::string>().rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
    CHECK(f["control"] == net->control_url());
    REQUIRE(f["nodes"].size() == 10);
    for (std::size_t i = 0; i < 10; ++i) {
        const auto& n = f["nodes"][i];
        auto info = net->node(i);
        CHECK(n["ip"] == info.ip);
        CHECK(n["port"] == info.port);
        CHECK(n["pubkey_ed25519"] == info.pubkey_ed25519);
        CHECK(n["pubkey_x25519"] == info.pubkey_x25519);
        CHECK(n["swarm_id"].get<std::uint64_t>() == info.swarm_id);
    }
}

TEST_CASE("localnet: seed answers get_n_service_nodes over verified TLS with the oxend envelope", "[localnet]") {
    Options o = fast_options();
    o.seed_count = 2;
    auto net = start(o);
    const int port = std::stoi(net->seed_urls()[1].substr(std::string("https://127.0.0.1:").size()));
    // Desktop's exact request (protocol.md §5.1).
    const std::string body =
        R"({"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"requested_unlock_height":true,"height":true}}})";
    auto r = post(*net, "127.0.0.1", port, "/json_rpc", body);
    REQUIRE(r.transport_ok);  // certificate chain and IP SAN 127.0.0.1 verified against the CA
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/json");
    auto j = r.j();
    CHECK(j["jsonrpc"] == "2.0");
    const auto& res = j["result"];
    CHECK(res["status"] == "OK");
    CHECK(res.contains("height"));
    CHECK_FALSE(res.contains("block_hash"));  // not asked for
    REQUIRE(res["service_node_states"].size() == 10);
    for (const auto& s : res["service_node_states"]) {
        CHECK(s.size() == 5);
        auto i = net->node_index(s["pubkey_ed25519"].get<std::string>());
        REQUIRE(i < 10);
        CHECK(s["public_ip"] == net->node(i).ip);
        CHECK(s["storage_port"] == net->node(i).port);
        CHECK(s["pubkey_x25519"] == net->node(i).pubkey_x25519);
        CHECK(s["requested_unlock_height"] == 0);
    }
    SECTION("limit gives a random subset; field list form; all fields by default") {
        auto r2 = post(*net, "127.0.0.1", port, "/json_rpc",
                       R"({"jsonrpc":"2.0","id":7,"method":"get_n_service_nodes","params":{"limit":3,"fields":["swarm_id","public_ip"]}})");
        auto j2 = r2.j();
        CHECK(j2["id"] == 7);
        REQUIRE(j2["result"]["service_node_states"].size() == 3);
        CHECK(j2["result"]["service_node_states"][0].size() == 2);
        auto r3 = post(*net, "127.0.0.1", port, "/json_rpc", R"({"jsonrpc":"2.0","method":"get_service_nodes"})");
        const json j3 = r3.j();
        const auto& s0 = j3["result"]["service_node_states"][0];
        for (const char* k : {"public_ip", "storage_port", "storage_lmq_port", "pubkey_ed25519", "pubkey_x25519",
                              "service_node_pubkey", "swarm_id", "swarm", "active", "funded"})
            CHECK(s0.contains(k));
        CHECK(j3["result"].contains("block_hash"));
    }
    SECTION("unknown JSON-RPC method") {
        auto r4 = post(*net, "127.0.0.1", port, "/json_rpc", R"({"jsonrpc":"2.0","method":"nope"})");
        CHECK(r4.j()["error"]["code"] == -32601);
    }
    CHECK(net->seed_counters(1).methods["get_n_service_nodes"] >= 1);
}

TEST_CASE("localnet: node TLS certificates verify against the CA with their IP", "[localnet]") {
    auto net = start();
    for (std::size_t i = 0; i < net->node_count(); ++i) {
        auto r = rpc(*net, i, "info", json::object());
        REQUIRE(r.transport_ok);
        CHECK(r.status == 200);
    }
}

TEST_CASE("localnet: oxend_request get_service_nodes on a node", "[localnet]") {
    auto net = start();
    json fields{{"public_ip", true}, {"storage_port", true}, {"pubkey_x25519", true}, {"pubkey_ed25519", true},
                {"storage_server_version", true}};
    json params{{"active_only", true}, {"fields", fields}};
    auto r = rpc(*net, 3, "oxend_request", json{{"endpoint", "get_service_nodes"}, {"params", params}});
    REQUIRE(r.status == 200);
    auto j = r.j();
    CHECK(j.contains("t"));
    CHECK(j["hf"] == json::array({19, 4}));
    CHECK(j["result"]["service_node_states"].size() == 10);
    CHECK(j["result"]["service_node_states"][0]["storage_server_version"] == json::array({2, 11, 0}));
    auto bad = rpc(*net, 3, "oxend_request", json{{"endpoint", "get_info"}});
    CHECK(bad.status == 400);
    CHECK(bad.body == "invalid request: Invalid oxend endpoint 'get_info'");
}

TEST_CASE("localnet: swarm space and closest swarm match the vectors", "[localnet][kat]") {
    using namespace session::localnet::detail;
    for (const auto& v : session::test::vectors("swarm_space.json")) {
        auto pk = session::test::unhex(v["pubkey_hex"].get<std::string>());
        const auto space = swarm_space(session::ByteView(pk).subspan(1));
        DYNAMIC_SECTION(v["name"].get<std::string>()) {
            CHECK(space == std::stoull(v["expected_swarm_space_dec"].get<std::string>()));
            if (v.contains("swarm_ids_dec")) {
                std::vector<std::uint64_t> ids;
                for (const auto& s : v["swarm_ids_dec"]) ids.push_back(std::stoull(s.get<std::string>()));
                std::sort(ids.begin(), ids.end());
                CHECK(closest_swarm(ids, space) == std::stoull(v["expected_swarm_id_dec"].get<std::string>()));
            }
        }
    }
}

TEST_CASE("localnet: get_swarm answers the closest swarm in the real format", "[localnet]") {
    auto net = start();
    const auto ids = net->swarm_ids();
    for (const auto& v : session::test::vectors("swarm_space.json")) {
        if (v.contains("swarm_ids_dec")) continue;
        const std::string pk = v["pubkey_hex"];
        auto space = std::stoull(v["expected_swarm_space_dec"].get<std::string>());
        auto expected = *session::localnet::detail::closest_swarm(ids, space);
        auto r = rpc(*net, 0, "get_swarm", json{{"pubkey", pk}});
        REQUIRE(r.status == 200);
        auto j = r.j();
        CHECK(j["swarm"] == session::localnet::detail::hex_u64(expected));
        CHECK(j.contains("t"));
        CHECK(j["hf"] == json::array({19, 4}));
        REQUIRE(j["snodes"].size() == 5);
        for (const auto& s : j["snodes"]) {
            auto i = net->node_index(s["pubkey_ed25519"].get<std::string>());
            REQUIRE(i < net->node_count());
            auto info = net->node(i);
            CHECK(info.swarm_id == expected);
            CHECK(s["ip"] == info.ip);
            CHECK(s["port"] == std::to_string(info.port));  // deprecated string port
            CHECK(s["port_https"] == info.port);
            CHECK(s["pubkey_x25519"] == info.pubkey_x25519);
            CHECK(s["pubkey_legacy"] == info.pubkey_ed25519);
            CHECK(s["address"].get<std::string>().size() == 52 + 6);
        }
    }
    // The alias and the pubKey spelling.
    auto r = rpc(*net, 1, "get_snodes_for_pubkey", json{{"pubKey", "05" + std::string(64, 'a')}});
    CHECK(r.status == 200);
    auto bad = rpc(*net, 1, "get_swarm", json{{"pubkey", "05abc"}});
    CHECK(bad.status == 400);
    CHECK(bad.body == "invalid request: Pubkey must be 66 hex digits/33 bytes long");
}

TEST_CASE("localnet: store computes the real message hash and replicates to every swarm member", "[localnet]") {
    auto net = start();
    for (const auto& v : session::test::vectors("message_hash.json")) {
        const std::string pk = v["pubkey_hex"];
        const int ns = v["namespace"].get<int>();
        if (ns % 10 != 0) continue;  // only public-inbox namespaces store unauthenticated
        auto swarm = *net->swarm_for(pk);
        auto entry = net->swarm_members(swarm).front();
        const auto now = now_ms();
        auto r = rpc(*net, entry, "store",
                     json{{"pubkey", pk}, {"namespace", ns}, {"timestamp", now}, {"ttl", 60000}, {"data", v["data_b64"]}});
        DYNAMIC_SECTION(v["name"].get<std::string>()) {
            REQUIRE(r.status == 200);
            auto j = r.j();
            const std::string expected = v["expected_hash_b64"];
            CHECK(j["hash"] == expected);
            CHECK(j["hf"] == json::array({19, 4}));
            REQUIRE(j["swarm"].size() == 5);
            for (auto& [ed, res] : j["swarm"].items()) {
                CHECK(net->node(net->node_index(ed)).swarm_id == swarm);
                CHECK(res["hash"] == expected);
                CHECK(res["expiry"] == now + 60000);
                CHECK(verify_b64(ed, expected, res["signature"]));
                CHECK(res.contains("t") == (ed == net->node(entry).pubkey_ed25519));
            }
        }
    }
}

TEST_CASE("localnet: a message stored via one member is retrievable from every other", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    const auto members = net->swarm_members(swarm);
    const auto ts = now_ms();
    auto st = rpc(*net, members[2], "store",
                  json{{"pubkey", a.session_id()}, {"timestamp", ts}, {"ttl", 3600000}, {"data", "aGVsbG8gd29ybGQ="}});
    REQUIRE(st.status == 200);
    const std::string hash = st.j()["hash"];
    for (auto m : members) {
        const auto t = now_ms();
        json p = a.auth("retrieve" + std::to_string(t));
        p["timestamp"] = t;
        auto r = rpc(*net, m, "retrieve", p);
        REQUIRE(r.status == 200);
        auto j = r.j();
        REQUIRE(j["messages"].size() == 1);
        CHECK(j["messages"][0] == json{{"hash", hash}, {"data", "aGVsbG8gd29ybGQ="}, {"timestamp", ts}, {"expiration", ts + 3600000}});
        CHECK(j["more"] == false);
        CHECK(j.contains("t"));
        CHECK(j["hf"] == json::array({19, 4}));
    }
    // A duplicate store keeps the first timestamp, takes the later expiry and says "already".
    auto dup = rpc(*net, members[0], "store",
                   json{{"pubkey", a.session_id()}, {"timestamp", ts + 5}, {"ttl", 7200000}, {"data", "aGVsbG8gd29ybGQ="}});
    REQUIRE(dup.status == 200);
    const json dup_json = dup.j();
    for (auto& [ed, res] : dup_json["swarm"].items()) {
        CHECK(res["already"] == true);
        CHECK(res["expiry"] == ts + 5 + 7200000);
    }
}

TEST_CASE("localnet: store checks in the real order with the real errors", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[1];
    Account a = account_in(*net, swarm);
    const auto m = net->swarm_members(swarm)[0];
    const auto now = now_ms();
    json base{{"pubkey", a.session_id()}, {"timestamp", now}, {"ttl", 60000}, {"data", "YWJj"}};
    auto with = [&](json changes) {
        json p = base;
        for (auto& [k, v] : changes.items()) {
            if (v.is_null()) p.erase(k);
            else p[k] = v;
        }
        return rpc(*net, m, "store", p);
    };
    SECTION("TTL limits (403)") {
        auto r = with({{"ttl", 9999}});
        CHECK(r.status == 403);
        CHECK(r.body == "Provided expiry/TTL is not valid.");
        CHECK(with({{"ttl", 14LL * 86400000 + 1}}).status == 403);        // public inbox: 14 days
        CHECK(with({{"ttl", 14LL * 86400000}}).status == 200);
        CHECK(with({{"ttl", nullptr}, {"expiry", now + 10000}}).status == 200);
    }
    SECTION("clock (406)") {
        auto r = with({{"timestamp", now + 20000}});
        CHECK(r.status == 406);
        CHECK(r.body == "Timestamp error: check your clock");
        CHECK(with({{"timestamp", now - 120000}, {"ttl", 100000}}).status == 406);  // expired already
    }
    SECTION("signed namespaces (401/406)") {
        auto r = with({{"namespace", 42}});
        CHECK(r.status == 401);
        CHECK(r.body == "store: signature required to store to namespace 42");
        json good = a.auth("store42" + std::to_string(now));
        good["namespace"] = 42;
        CHECK(with(good).status == 200);
        Account other;
        json wrong = other.auth("store42" + std::to_string(now));
        wrong["namespace"] = 42;
        wrong["pubkey"] = a.session_id();
        auto w = with(wrong);
        CHECK(w.status == 401);
        CHECK(w.body == "store signature verification failed");
        json old = a.auth("store42" + std::to_string(now - 100000));
        old["namespace"] = 42;
        old["sig_timestamp"] = now - 100000;
        auto o = with(old);
        CHECK(o.status == 406);
        CHECK(o.body == "store signature timestamp too far from current time");
        // 03-prefixed (group) account: the account bytes are the Ed25519 key.
        std::string group = "03" + a.ed_hex();
        if (*net->swarm_for(group) == swarm) {
            auto g = with({{"pubkey", group}, {"namespace", -11}, {"signature", a.sign("store-11" + std::to_string(now))}});
            CHECK(g.status == 200);
        }
    }
    SECTION("parameter errors (400)") {
        auto r = with({{"namespace", 32768}});
        CHECK(r.body == "invalid request: Invalid value given for 'namespace': value out of range");
        CHECK(with({{"data", "!!!"}}).body == "invalid request: Invalid 'data' value: not base64 encoded");
        CHECK(with({{"timestamp", nullptr}}).body == "invalid request: Required field 'timestamp' missing");
        CHECK(with({{"ttl", nullptr}}).body == "invalid request: Required field 'expiry' or 'ttl' missing");
        CHECK(with({{"expiry", now + 60000}}).body == "invalid request: Cannot specify both 'expiry' and 'ttl'");
        CHECK(with({{"pubkey", "05abcd"}}).body == "invalid request: Pubkey must be 66 hex digits (33 bytes) long");
        CHECK(with({{"timestamp", 1700000000}}).status == 406);  // store skips the ms check: stale instead
        CHECK(with({{"timestamp", std::to_string(now)}, {"ttl", "60000"}}).status == 200);
    }
    SECTION("76,800-byte message limit") {
        std::string ok_data = session::base64_encode(session::Bytes(76800, 'x'));
        CHECK(with({{"data", ok_data}}).status == 200);
        std::string big = session::base64_encode(session::Bytes(76801, 'x'));
        auto r = with({{"data", big}});
        CHECK(r.status == 400);
        CHECK(r.body == "invalid request: Message body exceeds maximum allowed length of 76800 bytes");
    }
}

TEST_CASE("localnet: envelope errors, 404, 413 and the Server header", "[localnet]") {
    auto net = start();
    auto n = net->node(0);
    CHECK(post(*net, n.ip, n.port, "/storage_rpc/v1", "not json").body == "invalid json");
    CHECK(post(*net, n.ip, n.port, "/storage_rpc/v1", R"({"params":{}})").body == "invalid json: no `method` field");
    CHECK(post(*net, n.ip, n.port, "/storage_rpc/v1", R"({"method":"info"})").body == "invalid json: no `params` field");
    auto nm = post(*net, n.ip, n.port, "/storage_rpc/v1", R"({"jsonrpc":"2.0","method":"frobnicate","params":{}})");
    CHECK(nm.status == 400);
    CHECK(nm.body == "no method frobnicate");
    CHECK(nm.content_type == "text/plain");
    auto nf = post(*net, n.ip, n.port, "/nowhere", "{}");
    CHECK(nf.status == 404);
    CHECK(nf.body == "POST /nowhere Not Found");
    // Any Content-Type, any size up to 10 MiB (curl -d sends form-urlencoded; desktop a Buffer).
    Account acc = account_in(*net, n.swarm_id);
    json big_store{{"method", "store"},
                   {"params", {{"pubkey", acc.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000},
                               {"data", session::base64_encode(session::Bytes(40000, 'z'))}}}};
    auto form = post(*net, n.ip, n.port, "/storage_rpc/v1", big_store.dump(), 10, "application/x-www-form-urlencoded");
    CHECK(form.status == 200);
    std::string huge(10 * 1024 * 1024 + 1, 'x');
    auto big = post(*net, n.ip, n.port, "/storage_rpc/v1", huge);
    if (big.transport_ok) CHECK(big.status == 413);  // the server may also close before reading it all
    auto info = rpc(*net, 0, "info", json::object());
    CHECK(info.content_type == "application/json");
    auto j = info.j();
    CHECK(j["version"] == json::array({2, 11, 0}));
    CHECK(std::llabs(j["timestamp"].get<std::int64_t>() - now_ms()) < 5000);
    CHECK(j["t"] == j["timestamp"]);
}

TEST_CASE("localnet: 421 for a misdirected request carries the right swarm", "[localnet]") {
    auto net = start();
    const auto right = net->swarm_ids()[0];
    const auto wrong_node = net->swarm_members(net->swarm_ids()[1])[0];
    Account a = account_in(*net, right);
    auto r = rpc(*net, wrong_node, "store",
                 json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YWJj"}});
    REQUIRE(r.status == 421);
    CHECK(r.content_type == "application/json");
    auto j = r.j();
    CHECK(j["swarm"] == session::localnet::detail::hex_u64(right));
    CHECK(j.contains("t"));
    CHECK(j["hf"] == json::array({19, 4}));
    REQUIRE(j["snodes"].size() == 5);
    for (const auto& s : j["snodes"]) CHECK(net->node(net->node_index(s["pubkey_ed25519"].get<std::string>())).swarm_id == right);
    SECTION("as a batch sub-result, the batch itself 200") {
        const auto t = now_ms();
        json rp = a.auth("retrieve" + std::to_string(t));
        rp["timestamp"] = t;
        auto b = rpc(*net, wrong_node, "batch",
                     json{{"requests", json::array({json{{"method", "retrieve"}, {"params", rp}},
                                                    json{{"method", "info"}, {"params", json::object()}}})}});
        REQUIRE(b.status == 200);
        auto res = b.j()["results"];
        REQUIRE(res.size() == 2);
        CHECK(res[0]["code"] == 421);
        CHECK(res[0]["body"]["swarm"] == session::localnet::detail::hex_u64(right));
        CHECK(res[1]["code"] == 200);
    }
}

TEST_CASE("localnet: retrieve authentication and the ±60 s window", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    const auto m = net->swarm_members(swarm)[1];
    auto unauth = rpc(*net, m, "retrieve", json{{"pubkey", a.session_id()}});
    CHECK(unauth.status == 401);
    CHECK(unauth.body == "retrieve: request signature required");
    auto nosig = rpc(*net, m, "retrieve", json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}});
    CHECK(nosig.status == 400);
    CHECK(nosig.body == "invalid request: Required field 'signature' missing");
    auto at = [&](std::int64_t t, std::string key_ed = {}) {
        json p = a.auth("retrieve" + std::to_string(t));
        p["timestamp"] = t;
        if (!key_ed.empty()) p["pubkey_ed25519"] = key_ed;
        return rpc(*net, m, "retrieve", p);
    };
    CHECK(at(now_ms() - 50000).status == 200);
    CHECK(at(now_ms() + 50000).status == 200);
    auto stale = at(now_ms() - 70000);
    CHECK(stale.status == 406);
    CHECK(stale.body == "retrieve timestamp too far from current time");
    CHECK(at(now_ms() + 70000).status == 406);
    Account other;
    auto wrong = at(now_ms(), other.ed_hex());  // Ed25519 key that does not convert to the account
    CHECK(wrong.status == 401);
    CHECK(wrong.body == "retrieve signature verification failed");
    // The window is the node's clock: skew it and a current timestamp becomes stale.
    net->set_clock_skew(m, std::chrono::seconds(120));
    CHECK(at(now_ms()).status == 406);
    CHECK(at(now_ms() + 120000).status == 200);
    net->set_clock_skew(m, std::chrono::seconds(0));
    // No-auth namespaces: -10 and public outboxes.
    CHECK(rpc(*net, m, "retrieve", json{{"pubkey", a.session_id()}, {"namespace", -10}}).status == 200);
}

TEST_CASE("localnet: retrieve pages with last_hash, max_count, max_size and more", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[1];
    Account a = account_in(*net, swarm);
    const auto members = net->swarm_members(swarm);
    std::vector<std::string> hashes;
    for (int i = 0; i < 7; ++i) {
        auto r = rpc(*net, members[i % members.size()], "store",
                     json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 600000},
                          {"data", session::base64_encode(session::Bytes(3000, static_cast<std::uint8_t>('a' + i)))}});
        REQUIRE(r.status == 200);
        hashes.push_back(r.j()["hash"]);
    }
    auto retrieve = [&](json extra) {
        const auto t = now_ms();
        json p = a.auth("retrieve" + std::to_string(t));
        p["timestamp"] = t;
        for (auto& [k, v] : extra.items()) p[k] = v;
        auto r = rpc(*net, members[3], "retrieve", p);
        REQUIRE(r.status == 200);
        return r.j();
    };
    auto got = [](const json& j) {
        std::vector<std::string> h;
        for (const auto& m : j["messages"]) h.push_back(m["hash"]);
        return h;
    };
    auto all = retrieve(json::object());
    CHECK(got(all) == hashes);  // insertion order
    CHECK(all["more"] == false);
    auto p1 = retrieve({{"max_count", 3}});
    CHECK(got(p1) == std::vector<std::string>(hashes.begin(), hashes.begin() + 3));
    CHECK(p1["more"] == true);
    auto p2 = retrieve({{"max_count", 3}, {"last_hash", hashes[2]}});
    CHECK(got(p2) == std::vector<std::string>(hashes.begin() + 3, hashes.begin() + 6));
    CHECK(p2["more"] == true);
    auto p3 = retrieve({{"max_count", 3}, {"last_hash", hashes[5]}});
    CHECK(got(p3) == std::vector<std::string>{hashes[6]});
    CHECK(p3["more"] == false);
    auto exact = retrieve({{"max_count", 1}, {"lastHash", hashes[5]}});
    CHECK(exact["more"] == false);
    // Size accounting: 100 + 43 + 4000 = 4143 per message.
    auto s2 = retrieve({{"max_size", 4143 * 2}});
    CHECK(got(s2).size() == 2);
    CHECK(s2["more"] == true);
    CHECK(got(retrieve({{"max_size", 10}})).size() == 1);  // at least one
    auto unknown = retrieve({{"last_hash", std::string(43, 'A')}});
    CHECK(got(unknown) == hashes);
    CHECK(rpc(*net, members[3], "retrieve",
              json{{"pubkey", a.session_id()}, {"namespace", -10}, {"last_hash", "short"}})
              .body == "invalid request: Invalid last_hash: expected base64 (43 chars)");
}

TEST_CASE("localnet: delete, delete_all, expire and get_expiries sign their results", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    const auto members = net->swarm_members(swarm);
    const auto entry = members[4];
    std::vector<std::string> hashes;
    for (int i = 0; i < 3; ++i) {
        auto r = rpc(*net, entry, "store",
                     json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 600000},
                          {"data", session::base64_encode(session::to_bytes("m" + std::to_string(i)))}});
        hashes.push_back(r.j()["hash"]);
    }
    SECTION("expire and get_expiries") {
        const auto exp = now_ms() + 300000;
        const std::vector<std::string> req{hashes[1], hashes[0]};
        json p = a.auth("expire" + std::to_string(exp) + req[0] + req[1]);
        p["messages"] = req;
        p["expiry"] = exp;
        auto r = rpc(*net, entry, "expire", p);
        REQUIRE(r.status == 200);
        auto sorted = req;
        std::sort(sorted.begin(), sorted.end());
        const json r_json = r.j();
        for (auto& [ed, res] : r_json["swarm"].items()) {
            CHECK(res["updated"] == json(sorted));
            CHECK(res["expiry"] == exp);
            CHECK(verify_b64(ed, a.session_id() + std::to_string(exp) + req[0] + req[1] + sorted[0] + sorted[1],
                             res["signature"]));
        }
        const auto t = now_ms();
        json g = a.auth("get_expiries" + std::to_string(t) + hashes[0] + hashes[2]);
        g["timestamp"] = t;
        g["messages"] = {hashes[0], hashes[2]};
        auto ge = rpc(*net, members[0], "get_expiries", g);
        REQUIRE(ge.status == 200);
        auto e = ge.j();
        CHECK(e["expiries"][hashes[0]] == exp);
        CHECK(e["expiries"][hashes[2]].get<std::int64_t>() > exp);
        CHECK_FALSE(e.contains("t"));
        // Extend-only: a shorter expiry leaves messages unchanged and reports them.
        const auto shorter = now_ms() + 100000;
        json x = a.auth("expireextend" + std::to_string(shorter) + hashes[0]);
        x["messages"] = {hashes[0]};
        x["expiry"] = shorter;
        x["extend"] = true;
        auto xr = rpc(*net, entry, "expire", x);
        const json xr_json = xr.j();
        for (auto& [ed, res] : xr_json["swarm"].items()) {
            CHECK(res["updated"].empty());
            CHECK(res["unchanged"][hashes[0]] == exp);
            CHECK(verify_b64(ed, a.session_id() + std::to_string(shorter) + hashes[0] + hashes[0] + std::to_string(exp),
                             res["signature"]));
        }
        json stale = a.auth("expire" + std::to_string(now_ms() - 120000) + hashes[0]);
        stale["messages"] = {hashes[0]};
        stale["expiry"] = now_ms() - 120000;
        auto sr = rpc(*net, entry, "expire", stale);
        CHECK(sr.status == 401);
        CHECK(sr.body == "expire: timestamp should be >= current time");
    }
    SECTION("delete with required") {
        const std::vector<std::string> req{hashes[2], std::string(43, 'B'), hashes[0]};
        json p = a.auth("delete" + req[0] + req[1] + req[2]);
        p["messages"] = req;
        auto r = rpc(*net, entry, "delete", p);
        REQUIRE(r.status == 200);
        std::vector<std::string> deleted{hashes[0], hashes[2]};
        std::sort(deleted.begin(), deleted.end());
        REQUIRE(r.j()["swarm"].size() == 5);
        const json r_json = r.j();
        for (auto& [ed, res] : r_json["swarm"].items()) {
            CHECK(res["deleted"] == json(deleted));
            CHECK(verify_b64(ed, a.session_id() + req[0] + req[1] + req[2] + deleted[0] + deleted[1], res["signature"]));
        }
        p["required"] = true;
        CHECK(rpc(*net, entry, "delete", p).status == 404);  // nothing left to delete anywhere
        json bad = a.auth("delete" + hashes[1]);
        bad["messages"] = {hashes[1]};
        bad["signature"] = a.sign("delete");
        auto b = rpc(*net, entry, "delete", bad);
        CHECK(b.status == 401);
        CHECK(b.body == "delete_msgs signature verification failed");
    }
    SECTION("delete_all, also namespace all") {
        const auto t = now_ms();
        json p = a.auth("delete_all" + std::to_string(t));
        p["timestamp"] = t;
        auto r = rpc(*net, members[1], "delete_all", p);
        REQUIRE(r.status == 200);
        auto sorted = hashes;
        std::sort(sorted.begin(), sorted.end());
        const json r_json = r.j();
        for (auto& [ed, res] : r_json["swarm"].items()) {
            CHECK(res["deleted"] == json(sorted));
            CHECK(verify_b64(ed, a.session_id() + std::to_string(t) + sorted[0] + sorted[1] + sorted[2], res["signature"]));
        }
        for (auto m : members) CHECK(net->message_count(m) == 0);
        json all = a.auth("delete_allall" + std::to_string(t));
        all["timestamp"] = t;
        all["namespace"] = "all";
        auto ra = rpc(*net, members[1], "delete_all", all);
        CHECK(ra.status == 200);
        json stale = a.auth("delete_all" + std::to_string(t - 120000));
        stale["timestamp"] = t - 120000;
        auto rs = rpc(*net, members[1], "delete_all", stale);
        CHECK(rs.status == 406);
        CHECK(rs.body == "delete_all timestamp too far from current time");
    }
}

TEST_CASE("localnet: batch and sequence, limits and sub-request errors", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[1];
    Account a = account_in(*net, swarm);
    const auto m = net->swarm_members(swarm)[2];
    auto store = [&](int ns) {
        return json{{"method", "store"},
                    {"params", {{"pubkey", a.session_id()}, {"namespace", ns}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YWJj"}}}};
    };
    const auto t = now_ms();
    json rp = a.auth("retrieve" + std::to_string(t));
    rp["timestamp"] = t;
    json retrieve{{"method", "retrieve"}, {"params", rp}};
    auto b = rpc(*net, m, "batch", json{{"requests", {store(33), retrieve}}});
    REQUIRE(b.status == 200);
    auto res = b.j()["results"];
    REQUIRE(res.size() == 2);
    CHECK(res[0] == json{{"code", 401}, {"body", "store: signature required to store to namespace 33"}});
    CHECK(res[1]["code"] == 200);
    CHECK(res[1]["body"]["messages"].empty());
    auto s = rpc(*net, m, "sequence", json{{"requests", {store(33), retrieve}}});
    CHECK(s.j()["results"].size() == 1);
    auto ok = rpc(*net, m, "sequence", json{{"requests", {store(0), retrieve}}});
    CHECK(ok.j()["results"][1]["body"]["messages"].size() == 1);
    json many = json::array();
    for (int i = 0; i < 21; ++i) many.push_back(json{{"method", "info"}, {"params", json::object()}});
    CHECK(rpc(*net, m, "batch", json{{"requests", many}}).body ==
          "invalid request: Invalid batch request: subrequest limit exceeded");
    CHECK(rpc(*net, m, "batch", json{{"requests", {json{{"method", "batch"}, {"params", json::object()}}}}}).body ==
          "invalid request: Invalid batch subrequest: subrequests may not contain meta-requests");
    CHECK(rpc(*net, m, "batch", json{{"requests", json::array()}}).body ==
          "invalid request: Invalid batch request: no valid \"requests\" field");
    // A sub-request parse error fails the whole batch.
    CHECK(rpc(*net, m, "batch", json{{"requests", {json{{"method", "get_swarm"}, {"params", {{"pubkey", "x"}}}}}}}).status == 400);
    // Methods inside a batch are counted.
    auto c = net->counters(m);
    CHECK(c.methods["batch"] == 5);
    CHECK(c.methods["store"] >= 2);
    CHECK(c.methods["retrieve"] >= 2);
    CHECK(c.endpoints["/storage_rpc/v1"] == 7);
}

TEST_CASE("localnet: ifelse picks a branch on hf/version/height", "[localnet]") {
    auto net = start();
    json then_req{{"method", "info"}, {"params", json::object()}};
    auto r = rpc(*net, 0, "ifelse", json{{"if", {{"hf_at_least", {19, 3}}}}, {"then", then_req}});
    REQUIRE(r.status == 200);
    CHECK(r.j()["condition"] == true);
    CHECK(r.j()["result"]["code"] == 200);
    auto f = rpc(*net, 0, "ifelse", json{{"if", {{"hf_before", {19}}}}, {"then", then_req}});
    CHECK(f.j()["condition"] == false);
    CHECK_FALSE(f.j().contains("result"));
}

TEST_CASE("localnet: expired messages are purged", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    const auto members = net->swarm_members(swarm);
    auto r = rpc(*net, members[0], "store",
                 json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 10000}, {"data", "YWJj"}});
    REQUIRE(r.status == 200);
    for (auto m : members) CHECK(net->message_count(m) == 1);
    net->set_clock_skew(members[1], std::chrono::seconds(30));  // its clock is past the expiry
    net->purge_expired();
    CHECK(net->message_count(members[1]) == 0);
    CHECK(net->message_count(members[0]) == 1);
}

TEST_CASE("localnet: a data directory keeps keys and messages across restarts", "[localnet]") {
    const auto dir = fs::temp_directory_path() / ("localnet-data-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    Options o = fast_options();
    o.data_dir = dir.string();
    o.node_count = 5;
    std::string ed0, hash, sid;
    std::size_t entry = 0;
    Account a;
    {
        auto net = start(o);
        ed0 = net->node(0).pubkey_ed25519;
        sid = a.session_id();
        auto r = rpc(*net, entry, "store", json{{"pubkey", sid}, {"timestamp", now_ms()}, {"ttl", 600000}, {"data", "YWJj"}});
        REQUIRE(r.status == 200);
        hash = r.j()["hash"];
    }
    {
        auto net = start(o);
        CHECK(net->node(0).pubkey_ed25519 == ed0);
        const auto t = now_ms();
        json p = a.auth("retrieve" + std::to_string(t));
        p["timestamp"] = t;
        auto r = rpc(*net, 3, "retrieve", p);
        REQUIRE(r.status == 200);
        REQUIRE(r.j()["messages"].size() == 1);
        CHECK(r.j()["messages"][0]["hash"] == hash);
    }
    fs::remove_all(dir);
}

TEST_CASE("localnet: start rejects bad options", "[localnet]") {
    Options o;
    o.node_count = 0;
    auto r = Network::start(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == session::Errc::invalid_argument);
    o.node_count = 3;
    o.seed_count = 0;
    CHECK_FALSE(Network::start(o));
}

TEST_CASE("localnet: distinct subnets and tolerant paths", "[localnet]") {
    Options o = fast_options();
    o.node_count = 3;
    o.distinct_subnets = true;
    auto net = start(o);
    CHECK(net->node(0).ip == "127.1.0.1");
    CHECK(net->node(2).ip == "127.1.2.1");
    auto n = net->node(2);
    auto r = post(*net, n.ip, n.port, "//storage_rpc/v1", R"({"method":"info","params":{}})");
    CHECK(r.status == 200);  // certificate carries the node's IP; doubled slash accepted
    const int port = std::stoi(net->seed_urls()[0].substr(std::string("https://127.0.0.1:").size()));
    CHECK(post(*net, "127.0.0.1", port, "//json_rpc", R"({"jsonrpc":"2.0","method":"get_n_service_nodes"})").status == 200);
}

TEST_CASE("localnet: a public outbox keeps only the latest message and reads without auth", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[1];
    Account a = account_in(*net, swarm);
    const auto m = net->swarm_members(swarm)[0];
    auto store = [&](const std::string& data) {
        const auto t = now_ms();
        json p = a.auth("store-1" + std::to_string(t));
        p["namespace"] = -1;
        p["timestamp"] = t;
        p["ttl"] = 60000;
        p["data"] = data;
        return rpc(*net, m, "store", p);
    };
    auto unsigned_store = rpc(*net, m, "store",
                              json{{"pubkey", a.session_id()}, {"namespace", -1}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YQ=="}});
    CHECK(unsigned_store.body == "store: signature required to store to namespace -1");
    REQUIRE(store("Zmlyc3Q=").status == 200);
    auto second = store("c2Vjb25k");
    REQUIRE(second.status == 200);
    auto r = rpc(*net, m, "retrieve", json{{"pubkey", a.session_id()}, {"namespace", -1}});
    REQUIRE(r.status == 200);
    const json j = r.j();
    REQUIRE(j["messages"].size() == 1);
    CHECK(j["messages"][0]["data"] == "c2Vjb25k");
    CHECK(j["messages"][0]["hash"] == second.j()["hash"]);
}

TEST_CASE("localnet: the session-localnet tool writes its network file and exits cleanly on SIGINT", "[localnet][tool]") {
    const fs::path tool = fs::path(SESSION_BINARY_DIR) / "session-localnet";
    REQUIRE(fs::exists(tool));
    const fs::path file = fs::temp_directory_path() / ("localnet-tool-" + std::to_string(::getpid()) + ".json");
    fs::remove(file);
    const std::string file_s = file.string(), tool_s = tool.string();
    const char* argv[] = {tool_s.c_str(), "--quiet", "--nodes", "6", "--swarm-size", "3", "--seeds", "2",
                          "--network-file", file_s.c_str(), nullptr};
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execv(argv[0], const_cast<char* const*>(argv));
        ::_exit(127);
    }
    json f;
    for (int i = 0; i < 200 && f.is_null(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream in(file);
        if (in) f = json::parse(in, nullptr, false);
        if (f.is_discarded()) f = nullptr;
    }
    REQUIRE(f.is_object());
    CHECK(f["seeds"].size() == 2);
    CHECK(f["nodes"].size() == 6);
    // The file appears only once every endpoint listens: a node answers right away.
    const auto& n0 = f["nodes"][0];
    httplib::SSLClient cli(n0["ip"].get<std::string>(), n0["port"].get<int>());
    cli.set_ca_cert_store(store_from_pem(f["ca_pem"].get<std::string>()));
    cli.enable_server_certificate_verification(true);
    auto r = cli.Post("/storage_rpc/v1", R"({"method":"info","params":{}})", "application/json");
    REQUIRE(r);
    CHECK(r->status == 200);
    ::kill(pid, SIGINT);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    fs::remove(file);
}

TEST_CASE("localnet: subaccount tokens, their flags and revocation", "[localnet]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account owner = account_in(*net, swarm);
    Account delegate;  // the subaccount's own Ed25519 key
    const auto m = net->swarm_members(swarm)[3];
    auto token = [&](std::uint8_t prefix, std::uint8_t flags) {
        std::string t;
        t.push_back(static_cast<char>(prefix));
        t.push_back(static_cast<char>(flags));
        t.append(2, '\0');
        t.append(reinterpret_cast<const char*>(delegate.ed_pk.data()), 32);
        return t;
    };
    // A request signed by the delegate under a token the owner signed.
    auto as_sub = [&](const std::string& tok, const std::string& msg) {
        return json{{"pubkey", owner.session_id()},
                    {"pubkey_ed25519", owner.ed_hex()},
                    {"subaccount", session::to_hex(session::as_bytes(tok))},
                    {"subaccount_sig", owner.sign(tok)},
                    {"signature", delegate.sign(msg)}};
    };
    auto retrieve = [&](const std::string& tok, int ns) {
        const auto t = now_ms();
        json p = as_sub(tok, "retrieve" + std::to_string(ns) + std::to_string(t));
        p["timestamp"] = t;
        p["namespace"] = ns;
        return rpc(*net, m, "retrieve", p);
    };
    const std::string rw = token(0x05, 0x03);
    const auto t0 = now_ms();
    json st = as_sub(rw, "store42" + std::to_string(t0));
    st["namespace"] = 42;
    st["timestamp"] = t0;
    st["ttl"] = 60000;
    st["data"] = "c3Vi";
    auto stored = rpc(*net, m, "store", st);
    REQUIRE(stored.status == 200);
    const std::string hash = stored.j()["hash"];
    auto r = retrieve(rw, 42);
    REQUIRE(r.status == 200);
    CHECK(r.j()["messages"].size() == 1);
    CHECK(retrieve(token(0x05, 0x02), 42).body == "retrieve signature verification failed");  // no read flag
    CHECK(retrieve(token(0x03, 0x03), 42).status == 401);                                     // other prefix
    CHECK(retrieve(token(0x03, 0x0b), 42).status == 200);                                     // any-prefix
    json del = as_sub(rw, "delete" + hash);
    del["messages"] = {hash};
    CHECK(rpc(*net, m, "delete", del).body == "delete_msgs signature verification failed");  // no delete flag
    // Revoke the read/write token (main key only), then unrevoke it.
    auto revoke = [&](const char* method) {
        const auto t = now_ms();
        json p = owner.auth(std::string(method) + std::to_string(t) + rw);
        p["timestamp"] = t;
        p[std::string(method) == "revoke_subaccount" ? "revoke" : "unrevoke"] = session::to_hex(session::as_bytes(rw));
        return rpc(*net, m, method, p);
    };
    auto rv = revoke("revoke_subaccount");
    REQUIRE(rv.status == 200);
    const json rvj = rv.j();
    for (auto& [ed, res] : rvj["swarm"].items()) CHECK(res.contains("signature"));
    CHECK(retrieve(rw, 42).status == 401);
    CHECK(retrieve(rw, -11).status == 200);  // unrevocable namespace
    auto un = revoke("unrevoke_subaccount");
    REQUIRE(un.status == 200);
    const json unj = un.j();
    for (auto& [ed, res] : unj["swarm"].items()) CHECK(res["count"] == 1);
    CHECK(retrieve(rw, 42).status == 200);
    CHECK(rpc(*net, m, "delete", [&] {
              json d = as_sub(token(0x05, 0x07), "delete" + hash);
              d["messages"] = {hash};
              return d;
          }()).status == 200);
}

TEST_CASE("localnet: swarms and hashes agree with the client library's session::swarm", "[localnet]") {
    Options o = fast_options();
    o.node_count = 12;
    o.swarm_size = 3;  // 4 swarms
    auto net = start(o);
    const auto ids = net->swarm_ids();
    REQUIRE(ids.size() == 4);
    for (int i = 0; i < 40; ++i) {
        Account a;
        const auto expected = session::swarm::closest_swarm(
            session::swarm::swarm_space(session::X25519PublicKey{a.x_pk}), ids);
        CHECK(*net->swarm_for(a.session_id()) == expected);
        auto r = rpc(*net, static_cast<std::size_t>(i) % 12, "get_swarm", json{{"pubkey", a.session_id()}});
        REQUIRE(r.status == 200);
        CHECK(r.j()["swarm"] == session::localnet::detail::hex_u64(expected));
        if (i % 10 == 0) {
            const std::string data = "hash check " + std::to_string(i);
            auto st = rpc(*net, net->swarm_members(expected)[0], "store",
                          json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000},
                               {"data", session::base64_encode(session::as_bytes(data))}});
            REQUIRE(st.status == 200);
            auto id33 = session::from_hex(a.session_id());
            CHECK(st.j()["hash"] == session::swarm::message_hash(*id33, 0, session::as_bytes(data)));
        }
    }
}

TEST_CASE("localnet: JSON nested 300,000 deep from a client is refused, and the network keeps serving", "[localnet][hostile]") {
    // Issue 10 finding 1: session-localnet died with SIGSEGV on such input (copying a parsed value
    // recurses once per level). Each body below used to be copied or dumped after parsing.
    auto net = start();
    const std::size_t kDeep = 300'000;
    const std::string deep = std::string(kDeep, '[') + "0" + std::string(kDeep, ']');
    const auto n0 = net->node(0);
    const std::string oxend =
        R"({"method":"oxend_request","params":{"endpoint":"get_service_nodes","params":)" + deep + "}}";
    const std::string batch = R"({"method":"batch","params":{"requests":[{"method":"info","params":{"x":)" + deep + "}}]}}";
    for (const std::string& body : {deep, oxend, batch, R"({"method":"info","params":)" + deep + "}"}) {
        auto r = post(*net, n0.ip, n0.port, "/storage_rpc/v1", body);
        REQUIRE(r.transport_ok);
        CHECK(r.status == 400);
        CHECK(r.body == "invalid json");
    }
    // A JSON nested within the limit (64) still parses: it fails for its content, not its depth.
    const std::string shallow = R"({"method":"info","params":{"x":)" + std::string(60, '[') + std::string(60, ']') + "}}";
    CHECK(post(*net, n0.ip, n0.port, "/storage_rpc/v1", shallow).status == 200);

    // An onion request whose JSON trailer is deep: [u32 LE 0][no blob][trailer].
    std::string onion("\0\0\0\0", 4);
    onion += R"({"ephemeral_key":)" + deep + "}";
    auto o = post(*net, n0.ip, n0.port, "/onion_req/v2", onion, 10, "application/octet-stream");
    REQUIRE(o.transport_ok);
    CHECK(o.status == 400);

    // A seed request whose "id" (echoed back, so copied) is deep: a JSON-RPC parse error.
    const std::string seed_url = net->seed_urls()[0];
    const int seed_port = std::stoi(seed_url.substr(seed_url.rfind(':') + 1));
    auto s = post(*net, "127.0.0.1", seed_port, "/json_rpc",
                  R"({"jsonrpc":"2.0","method":"get_n_service_nodes","id":)" + deep + "}");
    REQUIRE(s.transport_ok);
    CHECK(s.status == 200);
    CHECK(s.j()["error"]["code"] == -32700);

    // The control endpoint and the file server's legacy upload.
    httplib::Client control("127.0.0.1", std::stoi(net->control_url().substr(net->control_url().rfind(':') + 1)));
    auto c = control.Post("/control", R"({"cmd":"set_hostile","node":0,"mode":)" + deep + "}", "application/json");
    REQUIRE(c);
    CHECK(c->status == 400);
    CHECK(net->hostile(0) == json{{"mode", "none"}});
    httplib::Client files("127.0.0.1", net->file_server().port);
    auto f = files.Post("/files", R"({"file":)" + deep + "}", "application/json");
    REQUIRE(f);
    CHECK(f->status == 400);

    // Still serving.
    CHECK(rpc(*net, 0, "info", json::object()).status == 200);
    CHECK(control.Post("/control", R"({"cmd":"status"})", "application/json")->status == 200);
}
