// test_network_parse.cpp: parsing what seeds and nodes answer (src/network/parse.hpp), the
// network file, and the mainnet seed pins.
#include "network/parse.hpp"

#include <algorithm>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
using nlohmann::json;
namespace nd = session::network::detail;

// ---- parsers -----------------------------------------------------------------------------------------

TEST_CASE("network: the seed request body is desktop's, byte for byte", "[network][parse]") {
    CHECK(nd::seed_request_body() ==
          R"({"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"requested_unlock_height":true,"height":true}}})");
}

TEST_CASE("network: seed reply parsing drops 0.0.0.0 and malformed nodes", "[network][parse]") {
    const std::string ed(64, '1'), x(64, '2'), ed2(64, '3');
    json states = json::array({
        {{"public_ip", "10.0.0.1"}, {"storage_port", 22021}, {"pubkey_ed25519", ed}, {"pubkey_x25519", x}, {"swarm_id", 7}},
        {{"public_ip", "0.0.0.0"}, {"storage_port", 22021}, {"pubkey_ed25519", ed2}, {"pubkey_x25519", x}},
        {{"public_ip", "10.0.0.3"}, {"storage_port", 22021}, {"pubkey_ed25519", "zz"}, {"pubkey_x25519", x}},
        {{"storage_port", 22021}, {"pubkey_ed25519", ed2}, {"pubkey_x25519", x}},
    });
    auto r = nd::parse_seed_reply(json{{"result", {{"service_node_states", states}}}}.dump());
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].ip == "10.0.0.1");
    CHECK((*r)[0].https_port == 22021);
    CHECK((*r)[0].swarm_id == 7u);

    CHECK(nd::parse_seed_reply("not json").error().code == Errc::net_bad_response);
    CHECK(nd::parse_seed_reply(R"({"result":{}})").error().code == Errc::net_bad_response);
    json only_bad = json::array({states[1]});
    CHECK_FALSE(nd::parse_seed_reply(json{{"result", {{"service_node_states", only_bad}}}}.dump()));
}

TEST_CASE("network: node parsing names the bad field", "[network][parse]") {
    json n = {{"ip", "1.2.3.4"}, {"port", "70000"}, {"pubkey_ed25519", std::string(64, 'a')}, {"pubkey_x25519", std::string(64, 'b')}};
    auto r = nd::parse_node(n);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("port") != std::string::npos);
    n["port"] = "22021";
    n["ip"] = "1.2.3";
    r = nd::parse_node(n);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("public_ip") != std::string::npos);
    n["ip"] = "1.2.3.4";
    n["swarm"] = "ffffffffffffffff";  // INVALID_SWARM_ID: decommissioned, no swarm
    r = nd::parse_node(n);
    REQUIRE(r);
    CHECK_FALSE(r->swarm_id);
}

TEST_CASE("network: 'Next node not found' names the node", "[network][parse]") {
    const std::string hex = std::string(62, 'a') + "0f";
    auto k = nd::next_node_not_found("502 Bad Gateway\n\nNext node not found: " + hex);
    REQUIRE(k);
    CHECK(to_hex(k->bytes) == hex);
    CHECK(nd::next_node_not_found("Next node not found: " + hex));
    CHECK_FALSE(nd::next_node_not_found("Next node not found: 1234"));
    CHECK_FALSE(nd::next_node_not_found("504 Gateway Timeout"));
}

TEST_CASE("network: pool cache lines round-trip", "[network][parse]") {
    FakeNet net(loopback_ips(2), 1);
    auto a = net.node(0).info;
    auto b = net.node(1).info;
    b.swarm_id.reset();
    for (const auto& n : {a, b}) {
        auto back = nd::parse_pool_line(nd::pool_line(n));
        REQUIRE(back);
        CHECK(*back == n);
    }
    CHECK_FALSE(nd::parse_pool_line("abc|def"));
}

TEST_CASE("network: network file parsing", "[network][config]") {
    const std::string ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    json f = {{"seeds", {"https://127.0.0.1:4000/", "https://127.0.0.1:4001/json_rpc"}},
              {"ca_pem", ca},
              {"nodes", {{{"index", 0}, {"ip", "127.0.0.2"}, {"port", 5000}, {"pubkey_ed25519", std::string(64, 'a')},
                          {"pubkey_x25519", std::string(64, 'b')}, {"swarm_id", 12345}, {"swarm", "3039"}}}}};
    auto c = NetworkConfig::from_json(f.dump());
    REQUIRE(c);
    REQUIRE(c->seeds.size() == 2);
    CHECK(c->seeds[0].url == "https://127.0.0.1:4000");
    CHECK(c->seeds[1].url == "https://127.0.0.1:4001");
    CHECK(c->seeds[0].tls.verify);
    CHECK(c->seeds[0].tls.ca_pem == ca);
    CHECK(c->seeds[0].tls.pinned_public_key.empty());
    REQUIRE(c->bootstrap_nodes.size() == 1);
    CHECK(c->bootstrap_nodes[0].https_port == 5000);
    CHECK(c->bootstrap_nodes[0].swarm_id == 12345u);

    json no_ca = f;
    no_ca.erase("ca_pem");
    CHECK(NetworkConfig::from_json(no_ca.dump()).error().code == Errc::net_config);
    json bad_seed = f;
    bad_seed["seeds"] = {"ftp://x"};
    CHECK(NetworkConfig::from_json(bad_seed.dump()).error().code == Errc::net_config);
    CHECK(NetworkConfig::from_json("[]").error().code == Errc::net_config);
    CHECK(NetworkConfig::from_file("/nonexistent/network.json").error().code == Errc::io_error);
}

TEST_CASE("network: mainnet seeds are pinned by CA, SPKI and certificate hash", "[network][config]") {
    auto c = NetworkConfig::mainnet();
    REQUIRE(c.seeds.size() == 3);
    const char* spki[] = {"sha256//mlYTXvkmIEYcpswANTpnBwlz9Cswi0py/RQKkbdQOZQ=",
                          "sha256//ZuUxe4wopBR83Yy5fePPNX0c00BnkQCu/49oapFpB0k=",
                          "sha256//4xe+8k1NjxerVTjUsWlZJNKt3PA7Y31pUls2tHYippA="};
    const char* cert[] = {"36ea0b253537988551ee856e4fd20d55011e9c8b27eaa2f34b8f32a0bdf04f2d",
                          "c5908dd4139acd96aedd1e4557659765 0809c8a5ea02af556d4853d45396e0e7",
                          "8a0af2c712342f22ce00e53c1601410ef8d84156aee0a9809c32f6f7efbe556e"};
    for (int i = 0; i < 3; ++i) {
        const auto& s = c.seeds[static_cast<std::size_t>(i)];
        CHECK(s.url == "https://seed" + std::to_string(i + 1) + ".getsession.org:4443");
        CHECK(s.tls.verify);
        CHECK(s.tls.pinned_public_key == spki[i]);
        REQUIRE(s.tls.cert_sha256);
        std::string want = cert[i];
        want.erase(std::remove(want.begin(), want.end(), ' '), want.end());
        CHECK(to_hex(*s.tls.cert_sha256) == want);
        CHECK(s.tls.ca_pem.find("-----BEGIN CERTIFICATE-----") == 0);
    }
}
