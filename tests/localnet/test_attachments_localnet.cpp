// Attachments end to end on the local network: Network::server_request (onion v4 to the file
// server through 3 nodes), Client upload / send_files / download (both schemes), the profile
// picture, and the file server's faults (down, slow, garbage, 404, unknown server).
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "localnet/test_client_support.hpp"
#include "session/attachment.hpp"
#include "session/client.hpp"

using namespace session;
namespace fs = std::filesystem;

namespace {

struct LocalNet : test::LocalNetFile {
    LocalNet() : LocalNetFile(6, 3) {}
    std::shared_ptr<network::Network> client_net(std::chrono::milliseconds timeout = std::chrono::milliseconds(8000)) const {
        return network({.request_timeout = timeout, .retrieve_timeout = std::chrono::milliseconds(8000)});
    }
};

Identity new_identity() { return Identity::generate(*system_rng()).first; }

Client new_client(const LocalNet& ln, ClientOptions o = {}, std::chrono::milliseconds timeout = std::chrono::milliseconds(8000)) {
    auto c = Client::create(new_identity(), ln.client_net(timeout), std::move(o));
    if (!c) FAIL("client: " << c.error().message);
    return std::move(*c);
}

Bytes pattern(std::size_t n, std::uint8_t salt) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt + (i >> 11));
    return b;
}

std::string temp_dir(const std::string& tag) {
    auto d = fs::temp_directory_path() / ("session-attach-" + std::to_string(::getpid()) + "-" + tag);
    fs::remove_all(d);
    fs::create_directories(d);
    return d.string();
}

Bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

network::HttpServer file_server_of(const network::Network& net) {
    const auto& f = *net.config().file_server;
    auto u = attachment::parse_download_url(f.url + "/file/x");
    REQUIRE(u);
    return network::HttpServer{u->host, u->scheme, u->port, f.x25519};
}

}  // namespace

// ---- the network layer -------------------------------------------------------------------------

TEST_CASE("network: server_request reaches the file server over onion v4 through three nodes", "[network][files][localnet]") {
    LocalNet ln;
    auto net = ln.client_net();
    REQUIRE(net->config().file_server);
    const auto server = file_server_of(*net);
    const Bytes body = pattern(300'000, 3);
    ln.net->reset_counters();

    network::ServerRequest up;
    up.server = server;
    up.method = "POST";
    up.endpoint = "/file";
    up.headers = {{"Content-Type", "application/octet-stream"}};
    up.body = ByteView(body);
    auto r = net->server_request(up);
    REQUIRE_OK(r);
    REQUIRE(r->status == 200);
    auto j = nlohmann::json::parse(to_string(r->body));
    const std::string id = j["id"];
    CHECK(id.size() == 44);

    network::ServerRequest down;
    down.server = server;
    down.endpoint = "/file/" + id;
    auto d = net->server_request(down);
    REQUIRE_OK(d);
    CHECK(d->status == 200);
    CHECK(d->body == body);

    down.endpoint = "/file/" + std::string(44, 'A');
    auto missing = net->server_request(down);
    REQUIRE_OK(missing);
    CHECK(missing->status == 404);  // the server's status is a value, not a retry

    const auto c = ln.net->file_server_counters();
    CHECK(c.onion_requests == 3);   // one onion request each: no retries
    CHECK(c.http_requests == 3);    // all from a node, none direct
    CHECK(net->stats().onion_requests >= 3);
}

namespace {
/// Answers the first `fail` onion requests with a 502 from the guard, then passes them on; records
/// every body it was given.
struct FlakyTransport final : network::Transport {
    std::shared_ptr<network::Transport> inner;
    std::atomic<int> fail{0};
    std::mutex m;
    std::vector<Bytes> bodies;
    Result<network::HttpResponse> post(const network::HttpRequest& r) override {
        if (r.url.find("/onion_req/") != std::string::npos) {
            std::lock_guard lk(m);
            bodies.push_back(r.body);
        }
        if (r.url.find("/onion_req/") != std::string::npos && fail.fetch_sub(1) > 0)
            return network::HttpResponse{502, "text/plain", to_bytes("guard: no answer from the next hop")};
        return inner->post(r);
    }
};
}  // namespace

TEST_CASE("network: server_request with an owned body stores its bytes, also after failed attempts", "[network][files][localnet]") {
    LocalNet ln;
    auto flaky = std::make_shared<FlakyTransport>();
    flaky->inner = *network::curl_transport({});
    auto config = network::NetworkConfig::from_file(ln.file);
    REQUIRE_OK(config);
    config->request_timeout = std::chrono::milliseconds(8000);
    config->retry_base_delay = std::chrono::milliseconds(10);
    network::Options o;
    o.config = std::move(*config);
    o.transport = flaky;
    auto net = std::make_shared<network::Network>(std::move(o));
    REQUIRE_OK(net->bootstrap());
    const auto server = file_server_of(*net);
    const Bytes body = pattern(1'000'000, 9);

    network::ServerRequest up;
    up.server = server;
    up.method = "POST";
    up.endpoint = "/file";
    up.headers = {{"Content-Type", "application/octet-stream"}};
    SECTION("a body given twice is refused") {
        up.body = ByteView(body);
        auto r = net->server_request(up, Bytes(body));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    }
    SECTION("two failed attempts, then the third") {
        flaky->fail = 2;
        ln.net->reset_counters();
        {
            std::lock_guard lk(flaky->m);
            flaky->bodies.clear();
        }
        Bytes owned;
        owned.reserve(body.size() + 16 * 1024);
        owned.assign(body.begin(), body.end());
        auto r = net->server_request(up, std::move(owned));
        REQUIRE_OK(r);
        REQUIRE(r->status == 200);
        {
            std::lock_guard lk(flaky->m);
            REQUIRE(flaky->bodies.size() == 3);
            CHECK(flaky->bodies[0] != flaky->bodies[1]);  // fresh layers for every attempt
            CHECK(flaky->bodies[1] != flaky->bodies[2]);
        }
        const std::string id = nlohmann::json::parse(to_string(r->body))["id"];
        network::ServerRequest down;
        down.server = server;
        down.endpoint = "/file/" + id;
        auto d = net->server_request(down);
        REQUIRE_OK(d);
        CHECK(d->status == 200);
        CHECK(d->body == body);
        CHECK(ln.net->file_server_counters().onion_requests == 2);  // the failed attempts never left the client
    }
}

TEST_CASE("network: server_request refuses an oversized body before any request", "[network][files][localnet]") {
    LocalNet ln;
    auto net = ln.client_net();
    const Bytes big(network::kMaxServerBodyBytes + 1, 0);
    network::ServerRequest up;
    up.server = file_server_of(*net);
    up.method = "POST";
    up.endpoint = "/file";
    up.body = ByteView(big);
    auto r = net->server_request(up);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_too_large);
    CHECK(net->stats().onion_requests == 0);
}

TEST_CASE("network: a stopped or silent file server is an error after at most 3 attempts", "[network][files][localnet][faults]") {
    LocalNet ln;
    auto net = ln.client_net(std::chrono::milliseconds(2000));
    network::ServerRequest req;
    req.server = file_server_of(*net);
    req.endpoint = "/file/" + std::string(44, 'A');
    REQUIRE_OK(net->bootstrap());
    SECTION("down") {
        ln.net->stop_file_server();
        const auto before = net->stats().onion_requests;
        auto r = net->server_request(req);
        REQUIRE_FALSE(r);
        CHECK((r.error().code == Errc::net_path_failed || r.error().code == Errc::net_timeout));
        CHECK(net->stats().onion_requests - before == 3);
        // The paths are not blamed for the server: the next request after a restart succeeds at once.
        REQUIRE(ln.net->start_file_server());
        const auto again_before = net->stats().onion_requests;
        auto again = net->server_request(req);
        REQUIRE_OK(again);
        CHECK(again->status == 404);
        CHECK(net->stats().onion_requests - again_before == 1);
    }
    SECTION("answering garbage: a corrupted reply does not decrypt and is retried, then an error") {
        ln.net->set_file_server_corrupt(1.0);
        auto r = net->server_request(req);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_bad_response);
    }
}

// ---- the client ---------------------------------------------------------------------------------

TEST_CASE("client: files sent with a caption arrive and download byte for byte, both schemes", "[client][files][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    const std::string dir = temp_dir("send");
    const Bytes photo = pattern(123'457, 1);
    const std::string photo_path = dir + "/photo.jpg";
    {
        std::ofstream out(photo_path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(photo.data()), static_cast<std::streamsize>(photo.size()));
    }
    const Bytes voice = pattern(4'000, 2);
    const std::string log_text = "line one\nline two\n";

    for (auto scheme : {attachment::Scheme::cbc_hmac, attachment::Scheme::stream}) {
        DYNAMIC_SECTION("scheme " << attachment::to_string(scheme)) {
            auto p = AttachmentSource::from_path(photo_path);
            p.content_type = "image/jpeg";
            p.width = 640;
            p.height = 480;
            auto v = AttachmentSource::from_bytes(voice, "voice.aac");
            v.content_type = "audio/aac";
            v.voice_note = true;
            AttachmentSource s;
            s.stream = std::make_shared<std::istringstream>(log_text);
            s.file_name = "log.txt";
            s.content_type = "text/plain";

            AttachmentOptions ao;
            ao.scheme = scheme;
            std::atomic<int> calls{0};
            std::atomic<bool> uploaded{false};
            ao.progress = [&](const AttachmentProgress& pr) {
                ++calls;
                if (pr.stage == AttachmentProgress::Stage::uploaded) uploaded = true;
            };
            auto sent = alice.send_files(bob.session_id(), {p, v, s}, "three files", ao);
            REQUIRE_OK(sent);
            CHECK(calls > 0);
            CHECK(uploaded);

            auto got = bob.receive();
            REQUIRE_OK(got);
            REQUIRE(got->messages.size() == 1);
            const auto& m = got->messages[0];
            CHECK(m.body == "three files");
            REQUIRE(m.attachments.size() == 3);
            const auto& a0 = m.attachments[0];
            CHECK(a0.content_type == std::optional<std::string>("image/jpeg"));
            CHECK(a0.file_name == std::optional<std::string>("photo.jpg"));
            CHECK(a0.width == std::optional<std::uint32_t>(640));
            CHECK(a0.height == std::optional<std::uint32_t>(480));
            CHECK(a0.size == std::optional<std::uint32_t>(photo.size()));
            CHECK(a0.key->size() == (scheme == attachment::Scheme::stream ? 32u : 64u));
            CHECK(a0.digest.has_value() == (scheme == attachment::Scheme::cbc_hmac));
            CHECK((a0.url->find("#d") != std::string::npos) == (scheme == attachment::Scheme::stream));
            CHECK(m.attachments[1].flags == std::optional<std::uint32_t>(proto::AttachmentPointer::kFlagVoiceMessage));

            auto d0 = bob.download_attachment(a0);
            REQUIRE_OK(d0);
            CHECK(*d0 == photo);
            auto d1 = bob.download_attachment(m.attachments[1]);
            REQUIRE_OK(d1);
            CHECK(*d1 == voice);
            auto d2 = bob.download_attachment(m.attachments[2]);
            REQUIRE_OK(d2);
            CHECK(to_string(*d2) == log_text);

            // To a file: written whole, never over an existing file.
            const std::string target = dir + "/got-" + std::string(attachment::to_string(scheme)) + ".jpg";
            auto f = bob.download_attachment_to(a0, target);
            REQUIRE_OK(f);
            CHECK(f->size == photo.size());
            CHECK(read_file(target) == photo);
            auto again = bob.download_attachment_to(a0, target);
            REQUIRE_FALSE(again);
            CHECK(again.error().code == Errc::io_error);
            CHECK(read_file(target) == photo);
        }
    }
    fs::remove_all(dir);
}

TEST_CASE("client: a near-limit file goes up and down; an over-limit one is refused before any upload", "[client][files][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln, {}, std::chrono::milliseconds(20000));
    const Bytes big = pattern(attachment::kMaxPlaintextBytes, 7);
    auto p = alice.upload_attachment(AttachmentSource::from_bytes(big, "big.bin"));
    REQUIRE_OK(p);
    auto back = alice.download_attachment(*p);
    REQUIRE_OK(back);
    CHECK(*back == big);

    ln.net->reset_counters();
    auto over = alice.upload_attachment(AttachmentSource::from_bytes(Bytes(attachment::kMaxPlaintextBytes + 1), "x"));
    REQUIRE_FALSE(over);
    CHECK(over.error().code == Errc::attachment_too_large);
    CHECK(ln.net->file_server_counters().http_requests == 0);
    auto empty = alice.send_files(alice.session_id(), {AttachmentSource{}}, "");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().code == Errc::invalid_argument);
}

TEST_CASE("client: download faults are precise errors and leave no file behind", "[client][files][localnet][faults]") {
    LocalNet ln;
    auto alice = new_client(ln, {}, std::chrono::milliseconds(2000));
    const Bytes data = pattern(50'000, 9);
    auto p = alice.upload_attachment(AttachmentSource::from_bytes(data, "f.bin"));
    REQUIRE_OK(p);
    const std::string dir = temp_dir("faults");
    const std::string target = dir + "/f.bin";
    auto no_file_left = [&] { return fs::is_empty(dir); };

    SECTION("wrong MAC key: refused before a byte is kept") {
        auto bad = *p;
        (*bad.key)[40] ^= 1;
        auto r = alice.download_attachment_to(bad, target);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::attachment_bad_mac);
        CHECK(no_file_left());
    }
    SECTION("wrong AES key: the MAC verifies, the padding does not") {
        // A wrong AES key decrypts the last block to random bytes, which end in valid PKCS#7
        // padding about once in 256 (nothing else in the format can tell; desktop's WebCrypto
        // decrypt is the same). So up to 4 wrong keys are tried: each refused one is refused as a
        // decryption failure, leaving no file, and at least one is refused (all 4 passing: 2^-32).
        std::size_t refused = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            auto bad = *p;
            (*bad.key)[5 + i] ^= 1;
            auto r = alice.download_attachment_to(bad, target);
            if (r) {  // the padding happened to look right: the bytes are not the upload's
                CHECK(read_file(target) != data);
                fs::remove(target);
                continue;
            }
            ++refused;
            CHECK(r.error().code == Errc::attachment_decrypt_failed);
            CHECK(no_file_left());
        }
        CHECK(refused > 0);
    }
    SECTION("wrong digest") {
        auto bad = *p;
        (*bad.digest)[0] ^= 1;
        auto r = alice.download_attachment(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::attachment_bad_digest);
    }
    SECTION("expired (404)") {
        auto gone = *p;
        gone.url = ln.net->file_server().url + "/file/" + std::string(44, 'B');
        auto r = alice.download_attachment_to(gone, target);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::attachment_not_found);
        CHECK(no_file_left());
    }
    SECTION("unknown server") {
        auto other = *p;
        other.url = "http://files.example.org/file/" + std::string(44, 'C');
        const auto before = alice.network().stats().onion_requests;
        auto r = alice.download_attachment(other);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::attachment_unknown_server);
        CHECK(alice.network().stats().onion_requests == before);
        // Our server's host with a key that is not its key: refused too.
        auto wrong_key = *p;
        wrong_key.url = *p->url + "#p=" + std::string(64, 'a');
        auto w = alice.download_attachment(wrong_key);
        REQUIRE_FALSE(w);
        CHECK(w.error().code == Errc::attachment_unknown_server);
    }
    SECTION("server down") {
        ln.net->stop_file_server();
        auto r = alice.download_attachment_to(*p, target);
        REQUIRE_FALSE(r);
        CHECK((r.error().code == Errc::net_path_failed || r.error().code == Errc::net_timeout));
        CHECK(no_file_left());
    }
    SECTION("server slow") {
        ln.net->set_file_server_latency(std::chrono::milliseconds(4000));
        auto r = alice.download_attachment(*p);
        REQUIRE_FALSE(r);
        CHECK((r.error().code == Errc::net_timeout || r.error().code == Errc::net_path_failed));
    }
    SECTION("garbage") {
        ln.net->set_file_server_corrupt(1.0);
        auto r = alice.download_attachment_to(*p, target);
        REQUIRE_FALSE(r);
        CHECK(no_file_left());
    }
    fs::remove_all(dir);
}

TEST_CASE("client: the avatar is uploaded once, sent with its profile key, and downloads", "[client][files][localnet]") {
    LocalNet ln;
    const Bytes picture = pattern(20'000, 4);
    ClientOptions o;
    o.display_name = "Alice";
    o.avatar_bytes = picture;
    auto alice = new_client(ln, o);
    auto bob = new_client(ln);
    ln.net->reset_counters();
    REQUIRE_OK(alice.send(bob.session_id(), "one"));
    REQUIRE_OK(alice.send(bob.session_id(), "two"));
    CHECK(ln.net->file_server_counters().uploads == 1);
    auto got = bob.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 2);
    const auto& m = got->messages[1];
    REQUIRE(m.avatar_url);
    REQUIRE(m.profile_key);
    CHECK(m.profile_key->size() == 32);
    CHECK(got->messages[0].avatar_url == m.avatar_url);
    auto pic = bob.download_avatar(*m.avatar_url, *m.profile_key);
    REQUIRE_OK(pic);
    CHECK(*pic == picture);
    Bytes wrong = *m.profile_key;
    wrong[0] ^= 1;
    auto bad = bob.download_avatar(*m.avatar_url, wrong);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::attachment_decrypt_failed);
}
