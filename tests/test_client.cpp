#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "support/vectors.hpp"

using namespace session;

namespace {

// A transport that refuses everything and counts what was attempted: Client tests here must not
// depend on a network, and must prove when nothing was sent.
struct RefusingTransport final : network::Transport {
    std::atomic<int> posts{0};
    Result<network::HttpResponse> post(const network::HttpRequest&) override {
        ++posts;
        return unexpected(Errc::net_connect, "test: connection refused");
    }
};

struct Fixture {
    std::shared_ptr<RefusingTransport> transport = std::make_shared<RefusingTransport>();
    std::vector<std::string> log;
    std::mutex log_mu;

    network::LogFn log_fn() {
        return [this](network::LogLevel, std::string_view line) {
            std::lock_guard lock(log_mu);
            log.emplace_back(line);
        };
    }
    /// A mainnet-configured Network whose transport refuses every request.
    std::shared_ptr<network::Network> net() {
        network::Options o;
        o.transport = transport;
        o.log = log_fn();
        return std::make_shared<network::Network>(std::move(o));
    }
    ClientOptions options() {
        ClientOptions o;
        o.log = log_fn();
        return o;
    }
};

const char* kPhrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

}  // namespace

TEST_CASE("client: create from a phrase derives the same Session ID as Identity", "[client]") {
    Fixture f;
    auto c = Client::create(kPhrase, f.net(), f.options());
    REQUIRE(c);
    auto id = Identity::from_phrase(kPhrase);
    REQUIRE(id);
    CHECK(c->session_id() == id->session_id());
    CHECK(c->session_id().hex().size() == 66);
    CHECK(f.transport->posts == 0);  // constructing touches no network

    Client direct(std::string_view(kPhrase), f.options());
    CHECK(direct.session_id() == id->session_id());
    Client moved(std::move(direct));
    CHECK(moved.session_id() == id->session_id());
}

TEST_CASE("client: create rejects a bad phrase without naming its words", "[client][reject]") {
    Fixture f;
    auto wrong_count = Client::create("puffin luxury annoyed", f.net(), f.options());
    REQUIRE_FALSE(wrong_count);
    CHECK(wrong_count.error().code == Errc::mnemonic_word_count);

    std::string bad_checksum = kPhrase;
    bad_checksum.replace(bad_checksum.rfind("kiwi"), 4, "puffin");
    auto checksum = Client::create(bad_checksum, f.net(), f.options());
    REQUIRE_FALSE(checksum);
    CHECK(checksum.error().code == Errc::mnemonic_bad_checksum);

    auto unknown = Client::create("puffin luxury annoyed rustled memoir faxed qqqqq puddle kiwi nylon utopia zinger kiwi",
                                  f.options());
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == Errc::mnemonic_unknown_word);
    CHECK(unknown.error().message.find("qqqqq") == std::string::npos);

    try {
        Client c(std::string_view("puffin luxury"), f.options());  // mainnet overload: fails on the phrase first
        FAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("puffin") == std::string::npos);
    }
}

TEST_CASE("client: create refuses a missing network, bad receive limits and no batch window", "[client][reject]") {
    Fixture f;
    auto none = Client::create(kPhrase, std::shared_ptr<network::Network>{}, f.options());
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::invalid_argument);
    CHECK(none.error().message == "client: network: expected a Network, got none");

    auto zero = f.options();
    zero.receive_max_items = 0;
    auto z = Client::create(kPhrase, f.net(), zero);
    REQUIRE_FALSE(z);
    CHECK(z.error().code == Errc::invalid_argument);

    auto no_window = f.options();
    no_window.max_batches_in_flight = 0;
    auto w = Client::create(kPhrase, f.net(), no_window);
    REQUIRE_FALSE(w);
    CHECK(w.error().code == Errc::invalid_argument);
    CHECK(w.error().message == "client: max_batches_in_flight: expected > 0, got 0");
}

TEST_CASE("client: send validates its input before touching the network", "[client][reject]") {
    Fixture f;
    auto c = Client::create(kPhrase, f.net(), f.options());
    REQUIRE(c);
    const auto to = c->session_id();

    struct Case {
        const char* name;
        std::string text;
        SendOptions options;
        const char* expect;
    };
    SendOptions timer_without_mode;
    timer_without_mode.expiration_timer = std::chrono::seconds(10);
    SendOptions mode_without_timer;
    mode_without_timer.expiration_type = ExpirationType::delete_after_read;
    SendOptions ttl_short;
    ttl_short.ttl = std::chrono::milliseconds(9'999);
    SendOptions ttl_long;
    ttl_long.ttl = kDefaultMessageTtl + std::chrono::milliseconds(1);
    const std::vector<Case> cases{
        {"invalid UTF-8 byte", "ok \xff", {}, "byte 3"},
        {"truncated sequence", "ok \xe2\x82", {}, "byte 3"},
        {"overlong encoding", "\xc0\xaf", {}, "byte 0"},
        {"surrogate", "a\xed\xa0\x80", {}, "byte 1"},
        {"timer without mode", "x", timer_without_mode, "expected 0 when expiration is none"},
        {"mode without timer", "x", mode_without_timer, "delete_after_read"},
        {"ttl too short", "x", ttl_short, "ttl: expected 10000.."},
        {"ttl too long", "x", ttl_long, "ttl: expected"},
    };
    for (const auto& k : cases) {
        DYNAMIC_SECTION(k.name) {
            auto r = c->send(to, k.text, k.options);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::invalid_argument);
            INFO(r.error().message);
            CHECK(r.error().message.find(k.expect) != std::string::npos);
            CHECK(r.error().message.rfind("client: ", 0) == 0);
        }
    }
    CHECK(f.transport->posts == 0);

    auto bad_id = c->send(std::string_view("05abc"), "x");
    REQUIRE_FALSE(bad_id);
    CHECK(bad_id.error().code == Errc::session_id_invalid);
    const std::string blinded = "15" + std::string(64, '1');
    auto wrong_prefix = c->send(std::string_view(blinded), "x");
    REQUIRE_FALSE(wrong_prefix);
    CHECK(wrong_prefix.error().code == Errc::session_id_wrong_prefix);
    CHECK(f.transport->posts == 0);

    // An empty text is not refused: it passes validation and reaches the (refusing) network.
    auto empty = c->send(to, "");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().code != Errc::invalid_argument);
    CHECK(f.transport->posts > 0);

    // Valid UTF-8 of every length passes validation and reaches the (refusing) network.
    const auto before = f.transport->posts.load();
    auto reached = c->send(to, "é € 𝄞");
    REQUIRE_FALSE(reached);
    CHECK(reached.error().code != Errc::invalid_argument);
    CHECK(f.transport->posts > before);
}

TEST_CASE("client: receive rejects a malformed last_hash; network failures are values", "[client][reject]") {
    Fixture f;
    auto c = Client::create(kPhrase, f.net(), f.options());
    REQUIRE(c);
    auto bad = c->receive("abc");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::invalid_argument);
    auto bad_char = c->receive(std::string(42, 'a') + "!");
    REQUIRE_FALSE(bad_char);
    CHECK(bad_char.error().code == Errc::invalid_argument);
    CHECK(f.transport->posts == 0);
    auto offline = c->receive();
    REQUIRE_FALSE(offline);
    CHECK(offline.error().code != Errc::invalid_argument);
    CHECK_FALSE(offline.error().message.empty());
    // The log never carries the phrase.
    std::lock_guard lock(f.log_mu);
    for (const auto& line : f.log) CHECK(line.find("puffin") == std::string::npos);
}

TEST_CASE("client: MessageKind names", "[client]") {
    CHECK(to_string(MessageKind::text) == "text");
    CHECK(to_string(MessageKind::sync) == "sync");
    CHECK(to_string(MessageKind::message_request_response) == "message_request_response");
    CHECK(to_string(MessageKind::other) == "other");
}
