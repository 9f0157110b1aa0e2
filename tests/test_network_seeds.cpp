// test_network_seeds.cpp: the seeds (src/network/seeds.hpp): mainnet's pins (recomputed from the
// embedded certificates) and the request body.
#include "network/seeds.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "session/network.hpp"

using namespace session;
using namespace session::network;
using nlohmann::json;
namespace nd = session::network::detail;

TEST_CASE("network: the seed request body is desktop's, byte for byte", "[network][seeds]") {
    CHECK(nd::seed_request_body() ==
          R"({"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"storage_port":true,"pubkey_x25519":true,"pubkey_ed25519":true,"requested_unlock_height":true,"height":true,"swarm_id":true}}})");
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

namespace {

struct Pins {
    std::string spki;             // "sha256//" + base64(SHA-256(SubjectPublicKeyInfo DER))
    ByteArray<32> cert_sha256{};  // SHA-256 of the DER certificate
    std::string subject_alt_dns;
};

/// The pins of a PEM certificate, computed here with OpenSSL.
Pins pins_of(const std::string& pem) {
    Pins p;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    REQUIRE(bio);
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    REQUIRE(cert);
    unsigned int len = 0;
    REQUIRE(X509_digest(cert.get(), EVP_sha256(), p.cert_sha256.data(), &len) == 1);
    REQUIRE(len == 32);
    unsigned char* spki = nullptr;
    const int spki_len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &spki);
    REQUIRE(spki_len > 0);
    unsigned char md[32];
    REQUIRE(EVP_Digest(spki, static_cast<std::size_t>(spki_len), md, &len, EVP_sha256(), nullptr) == 1);
    OPENSSL_free(spki);
    p.spki = "sha256//" + base64_encode(ByteView(md, 32));
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
        if (n->type == GEN_DNS)
            p.subject_alt_dns.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                     static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(names);
    return p;
}

}  // namespace

TEST_CASE("network: each mainnet pin is the hash of the certificate embedded with it", "[network][seeds]") {
    const auto& seeds = nd::mainnet_seeds();
    REQUIRE(seeds.size() == 3);
    std::set<std::string> spkis;
    for (const auto& s : seeds) {
        const auto p = pins_of(std::string(s.cert_pem));
        CHECK(p.spki == s.pinned_public_key);
        CHECK(to_hex(p.cert_sha256) == s.cert_sha256_hex);
        // The certificate names the seed's host (the name libcurl checks).
        CHECK("https://" + p.subject_alt_dns + ":4443" == s.url);
        spkis.insert(p.spki);
    }
    CHECK(spkis.size() == 3);  // three distinct keys
}
