#pragma once
// seeds.hpp: the pinned mainnet seed nodes (private to the network module).
#include <string_view>
#include <vector>

namespace session::network::detail {

struct MainnetSeed {
    std::string_view url;                // https://seedN.getsession.org:4443
    std::string_view pinned_public_key;  // "sha256//" + base64(SHA-256(SPKI DER))
    std::string_view cert_sha256_hex;    // SHA-256 of the DER certificate, lower-case hex
    std::string_view cert_pem;           // the self-signed certificate: the only CA for this seed
};

const std::vector<MainnetSeed>& mainnet_seeds();

}  // namespace session::network::detail
