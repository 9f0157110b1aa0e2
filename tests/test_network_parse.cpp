// test_network_parse.cpp: parsing what seeds and nodes answer (src/network/parse.hpp): node lists,
// swarms, the "t" timestamp, relay errors, pool cache lines.
#include "network/parse.hpp"

#include <algorithm>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
using nlohmann::json;
namespace nd = session::network::detail;

// ---- parsers -----------------------------------------------------------------------------------------

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
