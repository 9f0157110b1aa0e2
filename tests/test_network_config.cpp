// test_network_config.cpp: NetworkConfig (src/network/config.cpp): a local network's file.
#include "session/network.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace session;
using namespace session::network;
using nlohmann::json;

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

TEST_CASE("network: validate refuses zero, negative and unbounded timeouts, naming the field", "[network][config]") {
    CHECK(NetworkConfig{}.validate());
    CHECK(NetworkConfig::mainnet().validate());
    using std::chrono::milliseconds;
    auto refused = [](auto change) {
        NetworkConfig c;
        change(c);
        auto r = c.validate();
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_config);
        return r.error().message;
    };
    CHECK(refused([](NetworkConfig& c) { c.request_timeout = milliseconds(0); }) ==
          "network: config: request_timeout: expected more than 0 ms, got 0 ms");
    CHECK(refused([](NetworkConfig& c) { c.retrieve_timeout = milliseconds(-5); }).find("retrieve_timeout") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.connect_timeout = milliseconds(0); }).find("connect_timeout") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.seed_timeout = milliseconds(0); }).find("seed_timeout") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.retry_base_delay = milliseconds(0); }).find("retry_base_delay") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.retry_max_delay = milliseconds(-1); }).find("retry_max_delay") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.request_timeout = milliseconds::max(); }).find("at most 3600000 ms") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.seed_stagger = milliseconds(-1); }).find("seed_stagger") != std::string::npos);
    CHECK(refused([](NetworkConfig& c) { c.path_count = 0; }).find("path_count") != std::string::npos);
    NetworkConfig all_at_once;
    all_at_once.seed_stagger = milliseconds(0);  // 0 is meaningful here: every seed at once
    CHECK(all_at_once.validate());
}

TEST_CASE("network: a network file nested deeper than 64 levels is refused", "[network][config]") {
    auto r = NetworkConfig::from_json(R"({"seeds":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_config);
    CHECK(r.error().message.find("deeper than 64") != std::string::npos);
}
