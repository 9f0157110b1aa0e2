// test_network_seeds.cpp: the seeds (src/network/seeds.hpp): mainnet's pins and the request body.
#include "network/seeds.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "session/network.hpp"

using namespace session;
using namespace session::network;
using nlohmann::json;
namespace nd = session::network::detail;

TEST_CASE("network: the seed request body is desktop's, byte for byte", "[network][seeds]") {
    CHECK(nd::seed_request_body() ==
          R"({"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"requested_unlock_height":true,"height":true}}})");
}

TEST_CASE("network: mainnet seeds are pinned by CA, SPKI and certificate hash", "[network][seeds]") {
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
