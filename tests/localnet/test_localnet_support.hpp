#pragma once
// Helpers for the tests of the local network itself (tests/localnet/test_localnet*.cpp): a network
// with short timeouts, an HTTPS client that verifies the network's CA, and test accounts.
#include <httplib.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "localnet/localnet.hpp"
#include "session/bytes.hpp"

namespace lntest {

using json = nlohmann::json;
using session::localnet::Network;
using session::localnet::Options;

inline Options fast_options() {
    Options o;
    o.relay_timeout = std::chrono::milliseconds(300);
    o.peer_timeout = std::chrono::milliseconds(300);
    o.hang_time = std::chrono::milliseconds(1500);
    return o;
}

inline std::unique_ptr<Network> start(Options o = fast_options()) {
    auto r = Network::start(std::move(o));
    if (!r) FAIL("localnet start: " << r.error().message);
    return std::move(*r);
}

struct Http {
    bool transport_ok = false;
    httplib::Error error = httplib::Error::Unknown;
    int status = 0;
    std::string body;
    std::string content_type;
    json j() const { return json::parse(body); }
    /// What cpp-httplib returned: a reply (status, body, Content-Type) or its transport error.
    static Http of(const httplib::Result& r) {
        Http out;
        if (!r) {
            out.error = r.error();
            return out;
        }
        out.transport_ok = true;
        out.status = r->status;
        out.body = r->body;
        out.content_type = r->get_header_value("Content-Type");
        return out;
    }
};

inline X509_STORE* store_from_pem(const std::string& pem) {
    X509_STORE* store = X509_STORE_new();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    BIO_free(bio);
    return store;
}

/// POST over HTTPS, verifying the certificate (chain and IP) against the network's CA.
inline Http post(const Network& net, const std::string& ip, int port, const std::string& path, const std::string& body,
                 int read_timeout_s = 10, const std::string& content_type = "application/json") {
    httplib::SSLClient cli(ip, port);
    cli.set_ca_cert_store(store_from_pem(net.ca_pem()));
    cli.enable_server_certificate_verification(true);
    cli.set_connection_timeout(3);
    cli.set_read_timeout(read_timeout_s);
    cli.set_keep_alive(false);
    return Http::of(cli.Post(path.c_str(), body, content_type.c_str()));
}

inline Http rpc(const Network& net, std::size_t node, const std::string& method, const json& params) {
    auto n = net.node(node);
    return post(net, n.ip, n.port, "/storage_rpc/v1", json{{"method", method}, {"params", params}}.dump());
}

/// A Session account: Ed25519 key, its X25519 conversion and the 05 Session ID.
struct Account {
    session::ByteArray<32> ed_pk{};
    session::ByteArray<64> ed_sk{};
    session::ByteArray<32> x_pk{};

    Account() {
        crypto_sign_keypair(ed_pk.data(), ed_sk.data());
        REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x_pk.data(), ed_pk.data()) == 0);
    }
    std::string session_id() const { return "05" + session::to_hex(x_pk); }
    std::string ed_hex() const { return session::to_hex(ed_pk); }
    std::string sign(std::string_view msg) const {
        std::uint8_t sig[64];
        crypto_sign_detached(sig, nullptr, reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), ed_sk.data());
        return session::base64_encode(session::ByteView(sig, 64));
    }
    /// Params authenticating a request: pubkey, pubkey_ed25519, signature of `msg`.
    json auth(const std::string& msg) const {
        return json{{"pubkey", session_id()}, {"pubkey_ed25519", ed_hex()}, {"signature", sign(msg)}};
    }
};

/// An account served by swarm `swarm` (random keys until one maps there).
inline Account account_in(const Network& net, std::uint64_t swarm) {
    for (int i = 0; i < 1000; ++i) {
        Account a;
        if (*net.swarm_for(a.session_id()) == swarm) return a;
    }
    FAIL("no account found for swarm");
    return Account{};
}

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline bool verify_b64(const std::string& ed_hex, const std::string& msg, const std::string& sig_b64) {
    auto pk = session::from_hex(ed_hex);
    auto sig = session::base64_decode(sig_b64);
    if (!pk || !sig || pk->size() != 32 || sig->size() != 64) return false;
    return crypto_sign_verify_detached(sig->data(), reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(),
                                       pk->data()) == 0;
}

}  // namespace lntest
