#pragma once
// seeds.hpp: the seed nodes the snode pool is bootstrapped from (private to the network module):
// mainnet's three, pinned as session-desktop pins them, and the request every seed is sent.
#include <string>
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

/// The body of the seed request (POST <seed>/json_rpc), exactly as session-desktop sends it
/// (protocol.md §5.1).
std::string seed_request_body();

}  // namespace session::network::detail
