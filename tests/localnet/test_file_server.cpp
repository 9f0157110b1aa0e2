// The local network's file server (protocol.md §6): its HTTP API on 127.0.0.1, and the same API
// as an onion v4 (and v3) destination through three local nodes, with both hop encryptions, real
// attachment blobs, expiry under a test clock, limits, persistence, and each fault.
#include "localnet/localnet.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "session/attachment.hpp"
#include "session/onion.hpp"
#include "support/vectors.hpp"
#include "test_localnet_support.hpp"

using namespace lntest;
namespace onion = session::onion;
namespace attachment = session::attachment;
using session::Bytes;
using session::ByteView;

namespace {

class ManualClock final : public session::Clock {
public:
    explicit ManualClock(std::int64_t start) : now_(start) {}
    std::int64_t now_ms() const override { return now_.load(); }
    void advance(std::chrono::milliseconds d) { now_ += d.count(); }

private:
    std::atomic<std::int64_t> now_;
};

Options file_options(std::size_t nodes = 4) {
    Options o = fast_options();
    o.node_count = nodes;
    o.swarm_size = 2;
    o.control_endpoint = false;
    return o;
}

// A plain HTTP client for the file server.
struct Files {
    session::localnet::FileServerInfo info;
    explicit Files(const Network& net) : info(net.file_server()) {}

    httplib::Client client(int read_timeout_s = 10) const {
        httplib::Client cli(info.host, info.port);
        cli.set_connection_timeout(3);
        cli.set_read_timeout(read_timeout_s);
        cli.set_keep_alive(false);
        return cli;
    }
    Http upload(const std::string& body, const httplib::Headers& headers = {}, const std::string& path = "/file") const {
        auto cli = client();
        return Http::of(cli.Post(path.c_str(), headers, body, "application/octet-stream"));
    }
    Http get(const std::string& path, const httplib::Headers& headers = {}) const {
        auto cli = client();
        return Http::of(cli.Get(path.c_str(), headers));
    }
    Http post(const std::string& path, const std::string& body, const httplib::Headers& headers = {},
              const std::string& type = "application/json") const {
        auto cli = client();
        return Http::of(cli.Post(path.c_str(), headers, body, type.c_str()));
    }
};

std::string id_of(const Http& h) {
    REQUIRE(h.status == 200);
    const json j = h.j();
    REQUIRE(j.contains("id"));
    return j["id"].get<std::string>();
}

std::string pattern(std::size_t n, std::uint8_t salt) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + salt);
    return s;
}

// ---- onion v4 through three nodes --------------------------------------------------------

onion::NodeKeys keys_of(const session::localnet::NodeInfo& n) { return onion::NodeKeys{n.ed25519, n.x25519}; }

struct OnionReply {
    Http http;                                      // what the guard answered
    std::optional<onion::ServerResponse> response;  // decrypted, when the guard answered 200
    std::optional<session::Error> decode_error;
};

onion::ServerDestination destination(const session::localnet::FileServerInfo& f, std::string target = "/oxen/v4/lsrpc") {
    onion::ServerDestination d;
    d.host = f.host;
    d.target = std::move(target);
    d.protocol = "http";
    d.port = f.port;
    d.x25519 = f.x25519;
    return d;
}

OnionReply send_v4(const Network& net, onion::EncType t, const std::string& method, const std::string& endpoint,
                   const onion::Headers& headers, std::optional<std::string> body,
                   std::optional<session::X25519PublicKey> server_key = std::nullopt) {
    std::vector<onion::NodeKeys> path{keys_of(net.node(0)), keys_of(net.node(1)), keys_of(net.node(2))};
    auto dest = destination(net.file_server());
    if (server_key) dest.x25519 = *server_key;
    std::optional<ByteView> b;
    if (body) b = session::as_bytes(*body);
    auto payload = onion::v4_request(method, endpoint, headers, b);
    REQUIRE(payload);
    auto built = onion::build(path, dest, *payload, t, *session::system_rng());
    REQUIRE(built);
    const auto guard = net.node(0);
    OnionReply out;
    out.http = lntest::post(net, guard.ip, guard.port, "/onion_req/v2", session::to_string(built->body), 30,
                            "application/octet-stream");
    if (out.http.transport_ok && out.http.status == 200) {
        auto dec = onion::decode_server_response(built->response_key, session::as_bytes(out.http.body));
        if (dec) out.response = std::move(*dec);
        else out.decode_error = dec.error();
    }
    return out;
}

json body_json(const onion::ServerResponse& r) { return json::parse(session::to_string(r.body)); }

const char* name(onion::EncType t) { return t == onion::EncType::aes_gcm ? "aes-gcm" : "xchacha20"; }

}  // namespace

// ---- direct HTTP ---------------------------------------------------------------------------

TEST_CASE("localnet files: upload, download and info over HTTP with the real server's content id", "[localnet][files]") {
    auto net = start(file_options());
    Files fs(*net);
    const auto v = session::test::vector("file_server.json", "file_id_text");
    const std::string body = session::to_string(session::test::hex(v, "body_hex"));
    auto up = fs.upload(body, {{"Content-Disposition", "attachment; filename=\"report_1.txt\""}});
    REQUIRE(up.status == 200);
    CHECK(up.content_type == "application/json");
    const json j = up.j();
    CHECK(j["id"] == v["expected_id"]);
    CHECK(j["id"].get<std::string>().size() == 44);
    REQUIRE(j["expires"].is_number_float());
    REQUIRE(j["uploaded"].is_number());
    CHECK(j["expires"].get<double>() - j["uploaded"].get<double>() == Approx(21.0 * 86400).margin(1.0));

    auto down = fs.get("/file/" + j["id"].get<std::string>());
    REQUIRE(down.status == 200);
    CHECK(down.body == body);
    CHECK(down.content_type == "application/octet-stream");
    auto cli = fs.client();
    auto raw = cli.Get(("/file/" + j["id"].get<std::string>()).c_str());
    REQUIRE(raw);
    CHECK(raw->get_header_value("Content-Disposition") == "attachment; filename*=UTF-8''report_1.txt");

    auto info = fs.get("/file/" + j["id"].get<std::string>() + "/info");
    REQUIRE(info.status == 200);
    CHECK(info.j()["size"] == body.size());
    CHECK(info.j()["expires"].get<double>() == Approx(j["expires"].get<double>()));

    for (const auto& other : session::test::vectors("file_server.json")) {
        if (!other.contains("plaintext_size")) continue;
        const auto big = pattern(other["plaintext_size"].get<std::size_t>(), other["plaintext_salt"].get<std::uint8_t>());
        CHECK(id_of(fs.upload(big)) == other["expected_id"].get<std::string>());
    }
    auto c = net->file_server_counters();
    CHECK(c.uploads == 2);
    CHECK(c.downloads == 2);
    CHECK(c.endpoints["/file"] == 2);
    CHECK(net->file_count() == 2);
}

TEST_CASE("localnet files: re-uploading the same bytes refreshes the expiry; extend and X-FS-TTL set it", "[localnet][files]") {
    auto clock = std::make_shared<ManualClock>(1'700'000'000'000);
    Options o = file_options();
    o.clock = clock;
    auto net = start(o);
    Files fs(*net);
    auto first = fs.upload("same bytes", {{"X-FS-TTL", "60"}});
    const std::string id = id_of(first);
    CHECK(first.j()["uploaded"].get<double>() == Approx(1'700'000'000.0));
    CHECK(first.j()["expires"].get<double>() == Approx(1'700'000'060.0));

    clock->advance(std::chrono::seconds(30));
    auto again = fs.upload("same bytes", {{"X-FS-TTL", "60"}});
    CHECK(id_of(again) == id);
    CHECK(again.j()["uploaded"].get<double>() == Approx(1'700'000'030.0));
    CHECK(again.j()["expires"].get<double>() == Approx(1'700'000'090.0));
    CHECK(net->file_count() == 1);

    auto ext = fs.post("/file/" + id + "/extend", "", {{"X-FS-TTL", "600"}});
    REQUIRE(ext.status == 200);
    CHECK(ext.j()["expires"].get<double>() == Approx(1'700'000'630.0));
    CHECK(ext.j()["uploaded"].get<double>() == Approx(1'700'000'030.0));
    CHECK(ext.j()["size"] == 10);
    auto ext_default = fs.post("/file/" + id + "/extend", "");
    REQUIRE(ext_default.status == 200);
    CHECK(ext_default.j()["expires"].get<double>() == Approx(1'700'000'030.0 + 21 * 86400));

    // A TTL above the server's expiry is cut to it; malformed ones are refused.
    auto capped = fs.upload("other", {{"X-FS-TTL", "999999999"}});
    CHECK(capped.j()["expires"].get<double>() == Approx(1'700'000'030.0 + 21 * 86400));
    for (const char* bad : {"abc", "0", "-5", "12345678901", "1.5"}) {
        INFO("X-FS-TTL: '" << bad << "'");
        auto r = fs.upload("x", {{"X-FS-TTL", bad}});
        CHECK(r.status == 400);
        CHECK(r.j() == json{{"status_code", 400}});
        auto e = fs.post("/file/" + id + "/extend", "", {{"X-FS-TTL", bad}});
        CHECK(e.status == 400);
    }
}

TEST_CASE("localnet files: an expired file is gone (404) until the same bytes are uploaded again", "[localnet][files]") {
    auto clock = std::make_shared<ManualClock>(1'800'000'000'000);
    Options o = file_options();
    o.clock = clock;
    o.file_expiry = std::chrono::hours(1);
    auto net = start(o);
    Files fs(*net);
    const std::string id = id_of(fs.upload("short-lived"));
    clock->advance(std::chrono::minutes(59));
    CHECK(fs.get("/file/" + id).status == 200);
    clock->advance(std::chrono::minutes(2));
    for (const std::string& path : {"/file/" + id, "/file/" + id + "/info", "/files/" + id}) {
        auto r = fs.get(path);
        CHECK(r.status == 404);
        CHECK(r.j() == json{{"status_code", 404}});
    }
    CHECK(fs.post("/file/" + id + "/extend", "").status == 404);
    CHECK(net->file_count() == 1);
    net->purge_expired();
    CHECK(net->file_count() == 0);
    CHECK(id_of(fs.upload("short-lived")) == id);
    CHECK(fs.get("/file/" + id).body == "short-lived");
    CHECK(net->file_server_counters().not_found == 4);
}

TEST_CASE("localnet files: the size limit allows official clients' blobs of a maximal file, nothing more", "[localnet][files]") {
    SECTION("default: 10,000,000-byte files, so 10,223,616-byte uploads") {
        auto net = start(file_options());
        Files fs(*net);
        CHECK(fs.info.max_file_bytes == 10'000'000);
        CHECK(fs.info.max_upload_bytes == attachment::kMaxBlobBytes);
        const std::string at_limit = pattern(attachment::kMaxBlobBytes, 1);
        const std::string id = id_of(fs.upload(at_limit));
        CHECK(fs.get("/file/" + id).body == at_limit);
        auto over = fs.upload(at_limit + "x");
        CHECK(over.status == 413);
        CHECK(over.j() == json{{"status_code", 413}});
    }
    SECTION("configured: 1,000-byte files") {
        Options o = file_options();
        o.file_max_bytes = 1000;
        auto net = start(o);
        Files fs(*net);
        // The stream scheme pads any small file to a 4,096-byte blob.
        CHECK(fs.info.max_upload_bytes == 4096);
        CHECK(fs.upload(pattern(4096, 2)).status == 200);
        CHECK(fs.upload(pattern(4097, 2)).status == 413);
        CHECK(fs.post("/files", json{{"file", session::base64_encode(session::as_bytes(pattern(4097, 3)))}}.dump()).status == 413);
        CHECK(net->network_file()["file_server"]["max_file_bytes"] == 1000);
    }
    SECTION("an empty upload is refused as the real server does") {
        auto net = start(file_options());
        Files fs(*net);
        CHECK(fs.upload("").status == 413);
    }
}

TEST_CASE("localnet files: the legacy /files endpoints speak base64 JSON", "[localnet][files]") {
    auto net = start(file_options());
    Files fs(*net);
    const std::string data = pattern(3000, 7);
    auto up = fs.post("/files", json{{"file", session::base64_encode(session::as_bytes(data))}}.dump());
    REQUIRE(up.status == 200);
    const json j = up.j();
    CHECK(j["status_code"] == 200);
    const std::string id = j["result"];
    CHECK(id.size() == 44);
    auto down = fs.get("/files/" + id);
    REQUIRE(down.status == 200);
    CHECK(down.j()["status_code"] == 200);
    CHECK(session::base64_decode(down.j()["result"].get<std::string>()).value() == session::to_bytes(data));
    CHECK(fs.get("/file/" + id).body == data);  // one store for both APIs
    for (const std::string& bad : std::vector<std::string>{"not json", "[]", "{\"file\": 5}", "{\"nofile\": \"AA==\"}",
                                                           "{\"file\": \"!!!\"}", std::string(100000, '[')}) {
        INFO(bad.substr(0, 30));
        auto r = fs.post("/files", bad);
        CHECK(r.status == 400);
        CHECK(r.j() == json{{"status_code", 400}});
    }
}

TEST_CASE("localnet files: unknown paths, bad ids and wrong methods get the real server's JSON errors", "[localnet][files]") {
    auto net = start(file_options());
    Files fs(*net);
    for (const std::string& path : std::vector<std::string>{"/", "/nothing", "/file/abc%2F..", "/file/" + std::string(65, 'a'),
                                                            "/file/a.b", "/file/AAAA", "/file//info", "/files/x/y"}) {
        INFO(path);
        auto r = fs.get(path);
        CHECK(r.status == 404);
        CHECK(r.j() == json{{"status_code", 404}});
    }
    CHECK(fs.get("/file").status == 405);
    CHECK(fs.post("/file/AAAA", "").status == 405);
    auto cli = fs.client();
    auto put = cli.Put("/file", "x", "application/octet-stream");
    REQUIRE(put);
    CHECK(put->status == 405);
    auto del = cli.Delete("/file/AAAA");
    REQUIRE(del);
    CHECK(del->status == 405);
    // Garbage where an onion request belongs: refused before any decryption.
    auto junk = fs.post("/oxen/v4/lsrpc", pattern(5000, 3), {}, "application/octet-stream");
    CHECK(junk.status == 400);
    CHECK(fs.post("/oxen/v4/lsrpc", "", {}, "application/octet-stream").status == 400);
    CHECK(fs.post("/loki/v3/lsrpc", "{}", {}, "application/octet-stream").status == 400);
    CHECK(net->file_server_counters().onion_requests == 3);
}

TEST_CASE("localnet files: the network file names the file server and its keys", "[localnet][files]") {
    auto net = start(file_options());
    const auto info = net->file_server();
    const json f = net->network_file()["file_server"];
    CHECK(f["url"] == info.url);
    CHECK(info.url == "http://127.0.0.1:" + std::to_string(info.port));
    CHECK(f["pubkey_x25519"] == info.pubkey_x25519);
    CHECK(f["pubkey_ed25519"] == info.pubkey_ed25519);
    session::ByteArray<32> x{};
    REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x.data(), info.ed25519.bytes.data()) == 0);
    CHECK(x == info.x25519.bytes);
    CHECK(session::to_hex(info.x25519.bytes) == info.pubkey_x25519);
    // A download URL for it parses back to the same server.
    const std::string url = attachment::download_url(info.url, "abc", info.ed25519.bytes, true);
    auto parsed = attachment::parse_download_url(url);
    REQUIRE(parsed);
    CHECK(parsed->base_url() == info.url);

    Options without = file_options();
    without.file_server = false;
    auto bare = start(without);
    CHECK_FALSE(bare->has_file_server());
    CHECK_FALSE(bare->network_file().contains("file_server"));
    CHECK_THROWS_AS(bare->file_server(), std::logic_error);
}

TEST_CASE("localnet files: with a data dir, keys and files survive a restart", "[localnet][files]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("session-files-" + std::to_string(::getpid()) + "-" + std::to_string(now_ms()));
    std::string id, ed;
    {
        Options o = file_options();
        o.data_dir = dir.string();
        auto net = start(o);
        Files fs(*net);
        id = id_of(fs.upload("kept on disk"));
        ed = fs.info.pubkey_ed25519;
    }
    CHECK(std::filesystem::exists(dir / "file-server.sqlite"));
    {
        Options o = file_options();
        o.data_dir = dir.string();
        auto net = start(o);
        Files fs(*net);
        CHECK(fs.info.pubkey_ed25519 == ed);
        CHECK(fs.get("/file/" + id).body == "kept on disk");
    }
    std::filesystem::remove_all(dir);
}

// ---- onion v4 ------------------------------------------------------------------------------

TEST_CASE("localnet files: onion v4 upload and download of real attachment blobs through three nodes", "[localnet][files][onion]") {
    auto net = start(file_options());
    const auto f = net->file_server();
    for (auto t : {onion::EncType::aes_gcm, onion::EncType::xchacha20}) {
        DYNAMIC_SECTION("enc " << name(t)) {
            net->reset_counters();
            const Bytes plain = session::to_bytes(pattern(70'000, 5));
            auto enc = attachment::encrypt_cbc_hmac(plain, *session::system_rng());
            REQUIRE(enc);
            auto up = send_v4(*net, t, "POST", "/file",
                              {{"Content-Type", "application/octet-stream"}, {"Content-Disposition", "attachment"}},
                              session::to_string(enc->blob));
            REQUIRE(up.http.status == 200);
            REQUIRE(up.response);
            CHECK(up.response->status == 200);
            const json j = body_json(*up.response);
            const std::string id = j["id"];
            CHECK(j["expires"].is_number());

            auto down = send_v4(*net, t, "GET", "/file/" + id, {}, std::nullopt);
            REQUIRE(down.response);
            CHECK(down.response->status == 200);
            bool octet = false;
            for (const auto& [n, v] : down.response->headers) octet |= n == "content-type" && v == "application/octet-stream";
            CHECK(octet);
            const Bytes key(enc->sealed.key.bytes().begin(), enc->sealed.key.bytes().end());
            auto back = attachment::decrypt(
                attachment::DecryptParams{attachment::Scheme::cbc_hmac, key, ByteView(*enc->sealed.digest), plain.size()},
                down.response->body);
            REQUIRE(back);
            CHECK(*back == plain);

            auto info = send_v4(*net, t, "GET", "/file/" + id + "/info", {}, std::nullopt);
            REQUIRE(info.response);
            CHECK(body_json(*info.response)["size"] == enc->blob.size());
            auto ext = send_v4(*net, t, "POST", "/file/" + id + "/extend", {{"X-FS-TTL", "3600"}}, std::nullopt);
            REQUIRE(ext.response);
            CHECK(ext.response->status == 200);
            auto missing = send_v4(*net, t, "GET", "/file/" + std::string(44, 'A'), {}, std::nullopt);
            REQUIRE(missing.response);
            CHECK(missing.response->status == 404);
            CHECK(body_json(*missing.response) == json{{"status_code", 404}});

            const auto c = net->file_server_counters();
            CHECK(c.onion_requests == 5);
            CHECK(c.uploads == 1);
            CHECK(c.downloads == 1);
            CHECK(c.http_requests == 5);  // every one arrived from the last node, none directly
            CHECK(net->counters(0).onion_requests == 5);
            CHECK(net->counters(2).onion_relay_received == 5);
        }
    }
}

TEST_CASE("localnet files: a 10 MB stream-scheme attachment goes up and comes back through the nodes", "[localnet][files][onion]") {
    auto net = start(file_options());
    const Bytes plain = session::to_bytes(pattern(attachment::kMaxPlaintextBytes, 9));
    std::array<std::uint8_t, 32> seed_bytes{};
    seed_bytes[0] = 7;
    const session::Secret<32> seed{std::span<const std::uint8_t, 32>(seed_bytes)};
    auto enc = attachment::encrypt_stream(seed, attachment::Domain::attachment, plain);
    REQUIRE(enc);
    REQUIRE(enc->blob.size() == attachment::kMaxBlobBytes);
    auto up = send_v4(*net, onion::EncType::xchacha20, "POST", "/file", {{"Content-Type", "application/octet-stream"}},
                      session::to_string(enc->blob));
    REQUIRE(up.response);
    REQUIRE(up.response->status == 200);
    const std::string id = body_json(*up.response)["id"];
    auto down = send_v4(*net, onion::EncType::aes_gcm, "GET", "/file/" + id, {}, std::nullopt);
    REQUIRE(down.response);
    REQUIRE(down.response->status == 200);
    const Bytes key(enc->sealed.key.bytes().begin(), enc->sealed.key.bytes().end());
    auto back = attachment::decrypt(attachment::DecryptParams{attachment::Scheme::stream, key, std::nullopt, plain.size()},
                                    down.response->body);
    REQUIRE(back);
    CHECK(*back == plain);
}

TEST_CASE("localnet files: onion requests the server cannot read are refused, and v4 garbage inside is a 400", "[localnet][files][onion]") {
    auto net = start(file_options());
    SECTION("encrypted to another key: the server answers 400 in plain text through the nodes") {
        session::X25519PublicKey other;
        other.bytes[0] = 9;
        REQUIRE(crypto_scalarmult_base(other.bytes.data(), session::to_bytes(pattern(32, 1)).data()) == 0);
        auto r = send_v4(*net, onion::EncType::aes_gcm, "GET", "/file/abc", {}, std::nullopt, other);
        CHECK(r.http.status == 400);
        CHECK_FALSE(r.response);
    }
    SECTION("a layer that is not a v4 request: an encrypted 400") {
        std::vector<onion::NodeKeys> path{keys_of(net->node(0)), keys_of(net->node(1)), keys_of(net->node(2))};
        auto built = onion::build(path, destination(net->file_server()), session::as_bytes(std::string("not bencode")),
                                  onion::EncType::xchacha20, *session::system_rng());
        REQUIRE(built);
        auto guard = net->node(0);
        auto http = post(*net, guard.ip, guard.port, "/onion_req/v2", session::to_string(built->body), 10,
                         "application/octet-stream");
        REQUIRE(http.status == 200);
        auto dec = onion::decode_server_response(built->response_key, session::as_bytes(http.body));
        REQUIRE(dec);
        CHECK(dec->status == 400);
        CHECK(session::to_string(dec->body) == "Invalid v4 onion request");
    }
    SECTION("a subrequest cannot reach the onion endpoint again") {
        auto r = send_v4(*net, onion::EncType::aes_gcm, "POST", "/oxen/v4/lsrpc", {}, std::string("x"));
        REQUIRE(r.response);
        CHECK(r.response->status == 404);
    }
}

TEST_CASE("localnet files: a v3 onion request gets the body on 200 and {\"status_code\"} otherwise", "[localnet][files][onion]") {
    auto net = start(file_options());
    Files fs(*net);
    const std::string id = id_of(fs.upload("v3 bytes"));
    std::vector<onion::NodeKeys> path{keys_of(net->node(0)), keys_of(net->node(1)), keys_of(net->node(2))};
    auto ask = [&](const json& request) {
        auto built = onion::build(path, destination(net->file_server(), "/loki/v3/lsrpc"), session::as_bytes(request.dump()),
                                  onion::EncType::aes_gcm, *session::system_rng());
        REQUIRE(built);
        auto guard = net->node(0);
        auto http = post(*net, guard.ip, guard.port, "/onion_req/v2", session::to_string(built->body));
        REQUIRE(http.status == 200);
        auto wire = session::base64_decode(http.body);
        REQUIRE(wire);
        auto plain = onion::decrypt_response(built->response_key, *wire);
        REQUIRE(plain);
        return session::to_string(*plain);
    };
    CHECK(json::parse(ask(json{{"endpoint", "/file/" + id + "/info"}, {"method", "GET"}}))["size"] == 8);
    CHECK(ask(json{{"endpoint", "file/" + id}, {"method", "GET"}}) == "v3 bytes");
    CHECK(json::parse(ask(json{{"endpoint", "/file/" + std::string(44, 'B')}, {"method", "GET"}})) == json{{"status_code", 404}});
    CHECK(json::parse(ask(json{{"method", "GET"}})) == json{{"status_code", 400}});
}

// ---- faults --------------------------------------------------------------------------------

TEST_CASE("localnet files: a stopped file server refuses connections and the nodes answer 502", "[localnet][files][faults]") {
    auto net = start(file_options());
    Files fs(*net);
    const std::string id = id_of(fs.upload("survives a restart"));
    net->stop_file_server();
    CHECK_FALSE(net->file_server().running);
    auto direct = fs.get("/file/" + id);
    CHECK_FALSE(direct.transport_ok);
    auto via = send_v4(*net, onion::EncType::aes_gcm, "GET", "/file/" + id, {}, std::nullopt);
    CHECK(via.http.status == 502);
    REQUIRE(net->start_file_server());
    CHECK(fs.get("/file/" + id).body == "survives a restart");
    auto again = send_v4(*net, onion::EncType::aes_gcm, "GET", "/file/" + id, {}, std::nullopt);
    REQUIRE(again.response);
    CHECK(session::to_string(again.response->body) == "survives a restart");
}

TEST_CASE("localnet files: latency delays every request and is counted", "[localnet][files][faults]") {
    auto net = start(file_options());
    Files fs(*net);
    net->set_file_server_latency(std::chrono::milliseconds(200));
    const std::string id = id_of(fs.upload("slow"));
    auto via = send_v4(*net, onion::EncType::xchacha20, "GET", "/file/" + id, {}, std::nullopt);
    REQUIRE(via.response);
    CHECK(session::to_string(via.response->body) == "slow");
    CHECK(net->file_server_counters().delayed == 2);
    net->clear_faults();
    CHECK(fs.get("/file/" + id).status == 200);
    CHECK(net->file_server_counters().delayed == 2);
}

TEST_CASE("localnet files: dropped requests get no answer, directly or through the nodes", "[localnet][files][faults]") {
    auto net = start(file_options());
    Files fs(*net);
    const std::string id = id_of(fs.upload("dropped"));
    SECTION("closed at once") {
        net->set_file_server_drop_rate(1.0);
        auto direct = fs.get("/file/" + id);
        CHECK_FALSE(direct.transport_ok);
        auto via = send_v4(*net, onion::EncType::aes_gcm, "GET", "/file/" + id, {}, std::nullopt);
        CHECK((via.http.status == 502 || via.http.status == 504));  // the node's HTTP client: connection or read error
        CHECK(net->file_server_counters().dropped >= 2);
    }
    SECTION("held, then closed (a timeout)") {
        net->set_file_server_drop_rate(1.0, true);
        auto direct = fs.get("/file/" + id);
        CHECK_FALSE(direct.transport_ok);
        CHECK(net->file_server_counters().hung == 1);
    }
    net->clear_faults();
    CHECK(fs.get("/file/" + id).body == "dropped");
}

TEST_CASE("localnet files: corrupted answers change a byte the client's checks then catch", "[localnet][files][faults]") {
    auto net = start(file_options());
    Files fs(*net);
    const Bytes plain = session::to_bytes(pattern(2000, 4));
    auto enc = attachment::encrypt_cbc_hmac(plain, *session::system_rng());
    REQUIRE(enc);
    const std::string id = id_of(fs.upload(session::to_string(enc->blob)));
    net->set_file_server_corrupt(1.0);
    auto direct = fs.get("/file/" + id);
    REQUIRE(direct.status == 200);
    REQUIRE(direct.body.size() == enc->blob.size());
    CHECK(direct.body != session::to_string(enc->blob));
    const Bytes key(enc->sealed.key.bytes().begin(), enc->sealed.key.bytes().end());
    auto opened = attachment::decrypt(
        attachment::DecryptParams{attachment::Scheme::cbc_hmac, key, ByteView(*enc->sealed.digest), plain.size()},
        session::as_bytes(direct.body));
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == session::Errc::attachment_bad_mac);
    auto via = send_v4(*net, onion::EncType::xchacha20, "GET", "/file/" + id, {}, std::nullopt);
    CHECK(via.http.status == 200);
    CHECK_FALSE(via.response);
    REQUIRE(via.decode_error);
    CHECK(via.decode_error->code == session::Errc::onion_decrypt_failed);
    CHECK(net->file_server_counters().corrupted == 2);
}

TEST_CASE("localnet files: the HTTP control endpoint drives the file server's faults and reports it", "[localnet][files][faults]") {
    Options o = file_options();
    o.control_endpoint = true;
    auto net = start(o);
    Files fs(*net);
    const std::string control = net->control_url();
    const auto port = std::stoi(control.substr(control.rfind(':') + 1));
    httplib::Client cli("127.0.0.1", port);
    auto cmd = [&](const json& c) {
        auto r = cli.Post("/control", c.dump(), "application/json");
        REQUIRE(r);
        return std::make_pair(r->status, json::parse(r->body));
    };
    CHECK(cmd(json{{"cmd", "set_file_server_latency"}, {"ms", 50}}).first == 200);
    CHECK(cmd(json{{"cmd", "set_file_server_corrupt"}, {"fraction", 0.5}}).first == 200);
    CHECK(cmd(json{{"cmd", "set_file_server_drop_rate"}, {"fraction", 0.25}, {"timeout", true}}).first == 200);
    auto status = cmd(json{{"cmd", "status"}}).second["file_server"];
    CHECK(status["latency_ms"] == 50);
    CHECK(status["corrupt_rate"] == 0.5);
    CHECK(status["drop_rate"] == 0.25);
    CHECK(status["timeout"] == true);
    CHECK(status["running"] == true);
    CHECK(cmd(json{{"cmd", "clear_faults"}}).first == 200);
    CHECK(cmd(json{{"cmd", "stop_file_server"}}).first == 200);
    CHECK(cmd(json{{"cmd", "status"}}).second["file_server"]["running"] == false);
    CHECK_FALSE(fs.get("/file/AAAA").transport_ok);
    CHECK(cmd(json{{"cmd", "start_file_server"}}).first == 200);
    CHECK(fs.upload("via control").status == 200);
    auto counters = cmd(json{{"cmd", "counters"}}).second["file_server"];
    CHECK(counters["uploads"] == 1);
    CHECK(cmd(json{{"cmd", "network"}}).second["network"]["file_server"]["url"] == fs.info.url);
    auto bad = cmd(json{{"cmd", "set_file_server_latency"}});
    CHECK(bad.first == 400);
}
