// test_network_tls.cpp: seed TLS pinning (protocol.md §5.1) against a local httplib SSLServer with
// certificates made here: the pinned self-signed certificate as the only CA, the host/IP checked,
// the SPKI SHA-256 pinned (CURLOPT_PINNEDPUBLICKEY) and the DER certificate SHA-256 compared. A seed
// presenting any other certificate is refused before it sees the request. Also: a local network's
// seeds verified against its CA, and refused against another CA.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "test_network_support.hpp"

using namespace nettest;
using namespace session;

namespace {

struct Cert {
    std::unique_ptr<X509, decltype(&X509_free)> x509{nullptr, X509_free};
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
    std::string pem;
    std::string spki_pin;      // "sha256//<base64>"
    ByteArray<32> der_sha256{};
};

/// A self-signed EC P-256 certificate with one IP subjectAltName (and CN = that IP).
Cert make_cert(const std::string& ip, const std::string& org) {
    Cert c;
    c.key.reset(EVP_EC_gen("P-256"));
    REQUIRE(c.key);
    c.x509.reset(X509_new());
    X509* x = c.x509.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 30);
    X509_set_pubkey(x, c.key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(ip.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:" + ip}, std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        REQUIRE(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    REQUIRE(X509_sign(x, c.key.get(), EVP_sha256()) > 0);

    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    c.pem.assign(data, static_cast<std::size_t>(len));
    BIO_free(bio);

    unsigned char* spki = nullptr;
    int spki_len = i2d_PUBKEY(c.key.get(), &spki);
    REQUIRE(spki_len > 0);
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(spki, static_cast<std::size_t>(spki_len), md, &md_len, EVP_sha256(), nullptr);
    OPENSSL_free(spki);
    c.spki_pin = "sha256//" + base64_encode(ByteView(md, 32));
    X509_digest(x, EVP_sha256(), c.der_sha256.data(), &md_len);
    return c;
}

/// A seed on 127.0.0.1 presenting `cert`, answering get_n_service_nodes with 4 made-up nodes.
struct Seed {
    std::unique_ptr<httplib::SSLServer> server;
    std::thread thread;
    int port = 0;
    std::atomic<int> hits{0};

    std::mutex ports_m;
    std::set<int> remote_ports;  // one per client connection

    /// `keep_alive`: requests per connection before the server closes it.
    explicit Seed(Cert& cert, std::size_t keep_alive = 100) {
        // httplib takes its own references.
        server = std::make_unique<httplib::SSLServer>(cert.x509.get(), cert.key.get());
        REQUIRE(server->is_valid());
        server->set_keep_alive_max_count(keep_alive);  // httplib closes after 5 requests by default
        server->Post("/json_rpc", [this](const httplib::Request& req, httplib::Response& res) {
            ++hits;
            {
                std::lock_guard lk(ports_m);
                remote_ports.insert(req.remote_port);
            }
            json states = json::array();
            for (int i = 0; i < 4; ++i)
                states.push_back({{"public_ip", "10.0.0." + std::to_string(i + 1)},
                                  {"storage_port", 22021},
                                  {"pubkey_ed25519", std::string(63, 'a') + std::to_string(i)},
                                  {"pubkey_x25519", std::string(63, 'b') + std::to_string(i)}});
            res.set_content(json{{"result", {{"service_node_states", states}}}}.dump(), "application/json");
        });
        port = server->bind_to_any_port("127.0.0.1");
        REQUIRE(port > 0);
        thread = std::thread([this] { server->listen_after_bind(); });
        while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~Seed() {
        server->stop();
        thread.join();
    }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
};

/// A POST of "{}" to `seed`'s /json_rpc with verification off (as for a storage node).
network::HttpRequest plain_request(const Seed& seed) {
    network::HttpRequest req;
    req.url = seed.url() + "/json_rpc";
    req.body = to_bytes("{}");
    return req;
}

/// A curl transport and a plain request to a guard-like peer on 127.0.0.1.
struct GuardRig {
    Cert cert = make_cert("127.0.0.1", "Guard");
    Seed guard{cert};
    std::shared_ptr<network::Transport> t;
    network::HttpRequest req = plain_request(guard);
    GuardRig() {
        auto made = network::curl_transport();
        REQUIRE(made);
        t = *made;
    }
};

/// The mainnet pinning recipe applied to `pinned`, for a seed at `url`.
network::SeedNode pinned_seed(const std::string& url, const Cert& pinned) {
    network::SeedNode s;
    s.url = url;
    s.tls.verify = true;
    s.tls.ca_pem = pinned.pem;
    s.tls.pinned_public_key = pinned.spki_pin;
    s.tls.cert_sha256 = pinned.der_sha256;
    return s;
}

Result<void> bootstrap_with(network::SeedNode seed) {
    network::Options o;
    o.config.name = "pin-test";
    o.config.seeds = {std::move(seed)};
    o.config.seed_timeout = std::chrono::milliseconds(3000);
    network::Network net(std::move(o));
    auto r = net.bootstrap();
    if (r) {
        REQUIRE(net.snode_pool().size() == 4);
        CHECK(net.stats().seed_requests == 1);
    }
    return r;
}

}  // namespace

TEST_CASE("network/tls: a seed pinned like mainnet is accepted with its own certificate", "[network][tls]") {
    auto cert = make_cert("127.0.0.1", "Seed A");
    Seed seed(cert);
    auto r = bootstrap_with(pinned_seed(seed.url(), cert));
    INFO(why(r));
    CHECK(r);
    CHECK(seed.hits == 1);
}

TEST_CASE("network/tls: a seed presenting another certificate is refused", "[network][tls]") {
    auto pinned = make_cert("127.0.0.1", "Seed A");
    auto other = make_cert("127.0.0.1", "Impostor");
    Seed seed(other);

    SECTION("full pinning: refused before the request is sent") {
        auto r = bootstrap_with(pinned_seed(seed.url(), pinned));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_no_nodes);
        CHECK(seed.hits == 0);
    }
    SECTION("the CA check alone refuses it") {
        auto s = pinned_seed(seed.url(), pinned);
        s.tls.pinned_public_key.clear();
        s.tls.cert_sha256.reset();
        CHECK_FALSE(bootstrap_with(s));
        CHECK(seed.hits == 0);
    }
    SECTION("the public-key pin alone refuses it (the impostor's CA is trusted)") {
        auto s = pinned_seed(seed.url(), pinned);
        s.tls.ca_pem = other.pem;
        s.tls.cert_sha256.reset();
        CHECK_FALSE(bootstrap_with(s));
    }
    SECTION("the certificate hash alone refuses it (the impostor's CA is trusted)") {
        auto s = pinned_seed(seed.url(), pinned);
        s.tls.ca_pem = other.pem;
        s.tls.pinned_public_key.clear();
        CHECK_FALSE(bootstrap_with(s));
        CHECK(seed.hits == 0);
    }
    SECTION("sanity: trusting the impostor's own pins accepts it") {
        CHECK(bootstrap_with(pinned_seed(seed.url(), other)));
    }
}

TEST_CASE("network/tls: the transport reports a pin mismatch as net_tls", "[network][tls]") {
    auto pinned = make_cert("127.0.0.1", "Seed A");
    auto other = make_cert("127.0.0.1", "Impostor");
    Seed seed(other);
    auto t = network::curl_transport();
    REQUIRE(t);
    auto req = plain_request(seed);
    req.tls = pinned_seed(seed.url(), pinned).tls;
    auto r = (*t)->post(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_tls);
    // Verification off (a storage node): any certificate is accepted.
    req.tls = network::TlsPolicy{};
    auto ok = (*t)->post(req);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->content_type.rfind("application/json", 0) == 0);
}

TEST_CASE("network/tls: the host name/IP is checked", "[network][tls]") {
    auto cert = make_cert("127.0.0.9", "Seed for another address");
    Seed seed(cert);  // listening on 127.0.0.1 with a certificate for 127.0.0.9
    auto s = pinned_seed(seed.url(), cert);
    CHECK_FALSE(bootstrap_with(s));
    CHECK(seed.hits == 0);
}

TEST_CASE("network/tls: a local network's seeds are verified against its CA", "[network][tls][localnet]") {
    LocalNet ln(6, 1, 3);
    auto ok = ln.client();
    REQUIRE_OK(ok->bootstrap());
    auto stranger = make_cert("127.0.0.1", "Not the localnet CA");
    for (auto& s : ln.config.seeds) s.tls.ca_pem = stranger.pem;
    auto json_rpc = [&] {
        auto e = ln.net->seed_counters(0).endpoints;
        auto it = e.find("/json_rpc");
        return it == e.end() ? 0 : it->second;
    };
    const auto before = json_rpc();
    auto refused = ln.client();
    auto r = refused->bootstrap();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
    CHECK(json_rpc() == before);  // the TLS handshake failed: no request reached the seed
}

TEST_CASE("network/tls: the curl transport reuses one connection per peer", "[network][tls]") {
    GuardRig rig;
    // Named one by one: the lambdas below capture them (clang 14 cannot capture a structured binding).
    auto& guard = rig.guard; auto& t = rig.t; auto& req = rig.req;
    for (int i = 0; i < 5; ++i) {
        auto r = t->post(req);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    CHECK(guard.hits == 5);
    CHECK(guard.remote_ports.size() == 1);  // 5 requests, 1 TCP/TLS connection
    // From other threads: a request takes the idle handle that last talked to this peer, with its
    // connection.
    std::thread([&] { REQUIRE(t->post(req)); }).join();
    std::thread([&] { REQUIRE(t->post(req)); }).join();
    CHECK(guard.remote_ports.size() == 1);
}

TEST_CASE("network/tls: the curl transport refuses a request without a timeout", "[network][tls]") {
    GuardRig rig;
    auto& [cert, guard, t, req] = rig;
    using ms = std::chrono::milliseconds;
    for (auto [timeout, connect] : {std::pair{ms(0), ms(5000)}, std::pair{ms(-1), ms(5000)}, std::pair{ms(5000), ms(0)}}) {
        req.timeout = timeout;  // 0 would mean "never" to libcurl
        req.connect_timeout = connect;
        auto r = t->post(req);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    }
    CHECK(guard.hits == 0);
}

TEST_CASE("network/tls: concurrent requests to one peer each use a connection of their own, reused when idle",
          "[network][tls]") {
    GuardRig rig;
    // Named one by one: the lambdas below capture them (clang 14 cannot capture a structured binding).
    auto& guard = rig.guard; auto& t = rig.t; auto& req = rig.req;
    constexpr int kThreads = 6, kEach = 10;
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i)
        ts.emplace_back([&] {
            for (int k = 0; k < kEach; ++k)
                if (t->post(req)) ++ok;
        });
    for (auto& th : ts) th.join();
    CHECK(ok == kThreads * kEach);
    CHECK(guard.hits == kThreads * kEach);
    std::size_t ports;
    {
        std::lock_guard lk(guard.ports_m);
        ports = guard.remote_ports.size();
    }
    CHECK(ports <= static_cast<std::size_t>(kThreads));  // no connection per request: one per concurrent user
    for (int k = 0; k < 5; ++k) REQUIRE(t->post(req));
    std::lock_guard lk(guard.ports_m);
    CHECK(guard.remote_ports.size() == ports);  // an idle connection to this peer was reused
}

TEST_CASE("network/tls: the curl transport keeps many requests in flight from one thread", "[network][tls][async]") {
    auto cert = make_cert("127.0.0.1", "Guard");
    Seed guard(cert, 1);  // a connection per request: httplib's few threads are not held by idle ones
    auto made = network::curl_transport({}, 2);
    REQUIRE(made);
    auto t = *made;
    constexpr int kRequests = 150;
    std::mutex m;
    std::condition_variable cv;
    int done = 0, ok = 0;
    std::set<std::thread::id> completed_on;
    const auto caller = std::this_thread::get_id();
    for (int i = 0; i < kRequests; ++i) {
        t->post_async(plain_request(guard), [&](Result<network::HttpResponse> r) {
            std::lock_guard lk(m);
            ++done;
            if (r && r->status == 200) ++ok;
            completed_on.insert(std::this_thread::get_id());
            cv.notify_all();
        });
    }
    {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return done == kRequests; });
        CHECK(ok == kRequests);
        CHECK(completed_on.count(caller) == 0);  // completions come from the I/O threads
        CHECK(completed_on.size() <= 2);
    }
    CHECK(guard.hits == kRequests);
    // post() is a wait on the same machinery.
    auto r = t->post(plain_request(guard));
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("network/tls: destroying the curl transport ends the requests in flight with an error",
          "[network][tls][async]") {
    // A peer that accepts TCP connections (the kernel does) and never answers the TLS handshake.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const int port = ntohs(addr.sin_port);

    auto made = network::curl_transport();
    REQUIRE(made);
    auto t = std::move(*made);  // the only reference
    std::mutex m;
    std::vector<Errc> codes;
    for (int i = 0; i < 3; ++i) {
        network::HttpRequest req;
        req.url = "https://127.0.0.1:" + std::to_string(port) + "/onion_req/v2";
        req.body = to_bytes("{}");
        req.timeout = std::chrono::milliseconds(20'000);
        req.connect_timeout = std::chrono::milliseconds(20'000);
        t->post_async(std::move(req), [&](Result<network::HttpResponse> r) {
            std::lock_guard lk(m);
            codes.push_back(r ? Errc::invalid_argument : r.error().code);  // a reply would be a bug here
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them start (not asserted)
    t.reset();                                                    // stops and joins the I/O thread
    {
        std::lock_guard lk(m);
        REQUIRE(codes.size() == 3);
        for (auto c : codes) CHECK(c == Errc::net_path_failed);
    }
    ::close(fd);
}

TEST_CASE("network/tls: the curl transport's timers run on its I/O thread, in due order, and at its end",
          "[network][tls][async]") {
    auto made = network::curl_transport();
    REQUIRE(made);
    auto t = std::move(*made);
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> order;
    std::set<std::thread::id> ran_on;
    auto note = [&](std::string what) {
        return [&, what = std::move(what)] {
            std::lock_guard lk(m);
            order.push_back(what);
            ran_on.insert(std::this_thread::get_id());
            cv.notify_all();
        };
    };
    t->after(std::chrono::milliseconds(1500), note("later"));
    t->after(std::chrono::milliseconds(1), note("sooner"));
    // Due long after the test: after() returns without waiting, and destruction runs it.
    t->after(std::chrono::hours(1), note("at the end"));
    {
        std::unique_lock lk(m);
        REQUIRE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return order.size() == 2; }));
        CHECK(order == std::vector<std::string>{"sooner", "later"});
        CHECK(ran_on.count(std::this_thread::get_id()) == 0);  // not on the caller's thread
    }
    t.reset();  // stops the loop: the hour-long timer runs now, not never
    std::lock_guard lk(m);
    CHECK(order == std::vector<std::string>{"sooner", "later", "at the end"});
}
