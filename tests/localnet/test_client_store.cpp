// Client with its opt-in store (ClientOptions::store) on the local network: the outbox (queue,
// flush, status reports, restart), history and durable events on receive, the ledger in the store
// (one-time import of a state file), and a store of another account refused.
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "localnet/test_client_support.hpp"
#include "session/store.hpp"

using namespace session;
namespace fs = std::filesystem;

namespace {

using LocalNet = test::LocalNetFile;

using test::Account;
using test::new_account;

std::shared_ptr<store::Store> open_store(const fs::path& path, const SessionId& id) {
    auto s = store::Store::open(path.string(), id, {.sync_every_commit = false, .retry_min = std::chrono::milliseconds(50)});
    if (!s) FAIL("store: " << s.error().message);
    return std::make_shared<store::Store>(std::move(*s));
}

Client client_with(const LocalNet& ln, const Account& who, std::shared_ptr<store::Store> st,
                   std::function<void(const SendStatusUpdate&)> on_status = {}, std::string state_path = {}) {
    ClientOptions o;
    o.store = std::move(st);
    o.store_events = true;
    o.on_send_status = std::move(on_status);
    o.state_path = std::move(state_path);
    auto c = Client::create(who.identity(), ln.client_net(), std::move(o));
    if (!c) FAIL("client: " << c.error().message);
    return std::move(*c);
}

std::vector<store::Event> all_events(store::Store& s) {
    auto e = s.events_after(0, 100'000);
    if (!e) FAIL("events: " << e.error().message);
    return *e;
}

}  // namespace

TEST_CASE("client store: queued sends survive a restart, are stored once, and report their status",
          "[client][store][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    const fs::path dir = ln.dir;
    constexpr int kMessages = 20;

    std::vector<std::string> hashes;
    {
        // Queued, never flushed: as if the process died right after accepting them.
        auto a = client_with(ln, alice, open_store(dir / "alice.sqlite", alice.session_id()));
        for (int i = 0; i < kMessages; ++i) {
            auto q = a.queue(bob.session_id(), "queued " + std::to_string(i));
            REQUIRE_OK(q);
            CHECK(q->hash.size() == 43);
            CHECK(q->expiry_ms == q->timestamp_ms + kDefaultMessageTtl.count());
            hashes.push_back(q->hash);
        }
    }
    std::mutex mu;
    std::map<std::string, std::vector<store::OutboxStatus>> seen;
    auto st = open_store(dir / "alice.sqlite", alice.session_id());
    auto a = client_with(ln, alice, st, [&](const SendStatusUpdate& u) {
        std::lock_guard l(mu);
        seen[u.hash].push_back(u.status);
    });
    const auto requests_before = a.network().stats().onion_requests;
    auto run = a.flush_outbox(100);
    REQUIRE_OK(run);
    CHECK(run->attempted == kMessages);
    CHECK(run->stored == kMessages);
    // 20 entries for one account go out as one `batch` request, not 20 stores.
    CHECK(a.network().stats().onion_requests - requests_before <= 2);
    for (const auto& h : hashes) {
        CHECK(seen[h] == std::vector<store::OutboxStatus>{store::OutboxStatus::stored});
        auto e = st->outbox_entry(h);
        REQUIRE_OK(e);
        REQUIRE(e->has_value());
        CHECK((*e)->status == store::OutboxStatus::stored);
        auto m = st->message(h);
        REQUIRE_OK(m);
        REQUIRE(m->has_value());
        CHECK((*m)->status == store::MessageStatus::sent);
    }
    // Nothing is due any more.
    auto again = a.flush_outbox(100);
    REQUIRE_OK(again);
    CHECK(again->attempted == 0);
    // queued + stored events for each, in order.
    std::map<std::string, std::vector<std::string>> statuses;
    for (const auto& e : all_events(*st)) {
        CHECK(e.type == "sendStatus");
        auto j = nlohmann::json::parse(e.payload);
        statuses[j["hash"]].push_back(j["status"]);
    }
    for (const auto& h : hashes) CHECK(statuses[h] == std::vector<std::string>{"queued", "stored"});

    // Bob receives each exactly once, in history and as events.
    auto bst = open_store(dir / "bob.sqlite", bob.session_id());
    auto b = client_with(ln, bob, bst);
    auto got = b.receive();
    REQUIRE_OK(got);
    CHECK(got->messages.size() == kMessages);
    std::set<std::string> received;
    for (const auto& m : got->messages) received.insert(m.hash);
    CHECK(received == std::set<std::string>(hashes.begin(), hashes.end()));
    auto conv = bst->conversation(alice.session_id());
    REQUIRE_OK(conv);
    REQUIRE(conv->has_value());
    CHECK((*conv)->unread == kMessages);
    auto events = all_events(*bst);
    REQUIRE(events.size() == kMessages);
    for (const auto& e : events) {
        CHECK(e.type == "message");
        auto j = nlohmann::json::parse(e.payload);
        CHECK(j["sender"] == alice.session_id().hex());
        CHECK(received.count(j["hash"].get<std::string>()) == 1);
        CHECK(j["body"].get<std::string>().rfind("queued ", 0) == 0);
        CHECK(j["attachments"].is_array());
    }
    // A new Client on the same store (a restart) resumes after what it handed out.
    const std::string resume = b.resume_hash();
    CHECK(resume == got->last_hash);
    b = client_with(ln, bob, bst);
    CHECK(b.resume_hash() == resume);
    auto none = b.receive(b.resume_hash());
    REQUIRE_OK(none);
    CHECK(none->messages.empty());
    // Asked for everything (""), the items come again, but history and events keep one of each.
    auto all = b.receive("");
    REQUIRE_OK(all);
    CHECK(all->messages.size() == kMessages);
    CHECK(all_events(*bst).size() == kMessages);
}

TEST_CASE("client store: send() goes through the outbox; a failed attempt stays queued", "[client][store][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    auto st = open_store(ln.dir / "a.sqlite", alice.session_id());
    auto a = client_with(ln, alice, st);
    auto sent = a.send(bob.session_id(), "hello");
    REQUIRE_OK(sent);
    auto e = st->outbox_entry(sent->hash);
    REQUIRE_OK(e);
    REQUIRE(e->has_value());
    CHECK((*e)->status == store::OutboxStatus::stored);

    // queue() without a store is refused; a store of another account too.
    auto plain = Client::create(alice.identity(), ln.client_net());
    REQUIRE_OK(plain);
    auto q = plain->queue(bob.session_id(), "x");
    REQUIRE_FALSE(q);
    CHECK(q.error().code == Errc::invalid_argument);
    ClientOptions o;
    o.store = open_store(ln.dir / "b.sqlite", bob.session_id());
    auto wrong = Client::create(alice.identity(), ln.client_net(), o);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == Errc::invalid_argument);
}

TEST_CASE("client store: a state file is imported once into the store", "[client][store][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    auto a = Client::create(alice.identity(), ln.client_net());
    REQUIRE_OK(a);
    for (int i = 0; i < 3; ++i) REQUIRE_OK(a->send(bob.session_id(), "m" + std::to_string(i)));
    const std::string state = (ln.dir / "bob.state").string();
    {
        ClientOptions o;
        o.state_path = state;
        auto b = Client::create(bob.identity(), ln.client_net(), o);
        REQUIRE_OK(b);
        auto got = b->receive();
        REQUIRE_OK(got);
        CHECK(got->messages.size() == 3);
    }
    auto bst = open_store(ln.dir / "bob.sqlite", bob.session_id());
    auto b = client_with(ln, bob, bst, {}, state);
    CHECK(fs::exists(state + ".imported"));
    CHECK_FALSE(fs::exists(state));
    CHECK_FALSE(b.resume_hash().empty());
    auto got = b.receive(b.resume_hash());
    REQUIRE_OK(got);
    CHECK(got->messages.empty());  // the imported ledger says they were handed out
    REQUIRE_OK(a->send(bob.session_id(), "after"));
    got = b.receive(b.resume_hash());
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].body == "after");
    CHECK(all_events(*bst).size() == 1);
}

TEST_CASE("client store: a full store refuses queue() with store_full, keeps what it accepted, and sends it once there "
          "is room",
          "[client][store][localnet][full]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    const fs::path path = ln.dir / "alice.sqlite";
    std::vector<std::string> accepted;
    std::set<std::string> accepted_bodies;
    {
        // The size limit fails a write with SQLite's SQLITE_FULL, as a full disk does.
        auto opened = store::Store::open(path.string(), alice.session_id(),
                                         {.sync_every_commit = false, .max_size_bytes = 256 * 1024,
                                          .retry_min = std::chrono::milliseconds(50)});
        REQUIRE_OK(opened);
        auto st = std::make_shared<store::Store>(std::move(*opened));
        auto a = client_with(ln, alice, st);
        Error full{};
        for (int i = 0; i < 500; ++i) {
            const std::string body = "m" + std::to_string(i) + " " + std::string(3000, 'x');
            auto q = a.queue(bob.session_id(), body);
            if (!q) {
                full = q.error();
                break;
            }
            accepted.push_back(q->hash);
            accepted_bodies.insert(body);
        }
        REQUIRE(accepted.size() > 5);
        REQUIRE(accepted.size() < 500);
        INFO(full.message);
        CHECK(full.code == Errc::store_full);
        CHECK(store::is_store_failure(full.code));
        CHECK(full.message.find(path.string()) != std::string::npos);
        CHECK(full.message.find("the store is full") != std::string::npos);
        CHECK(full.message.find("xxxx") == std::string::npos);  // never the content
        // Still refused, and what was accepted is still queued, each with its message.
        auto again = a.queue(bob.session_id(), "one more " + std::string(3000, 'y'));
        REQUIRE_FALSE(again);
        CHECK(again.error().code == Errc::store_full);
        auto stats = st->stats();
        REQUIRE_OK(stats);
        CHECK(stats->outbox_queued == accepted.size());
        CHECK(stats->messages == accepted.size());
        for (const auto& h : accepted) {
            auto e = st->outbox_entry(h);
            REQUIRE_OK(e);
            REQUIRE(e->has_value());
            CHECK((*e)->status == store::OutboxStatus::queued);
        }
    }
    // Room again (no limit): everything accepted goes out.
    auto st = open_store(path, alice.session_id());
    auto a = client_with(ln, alice, st);
    auto run = a.flush_outbox(1000);
    REQUIRE_OK(run);
    CHECK(run->attempted == accepted.size());
    CHECK(run->stored == accepted.size());
    CHECK(st->stats()->outbox_queued == 0);
    // Bob's swarm holds each accepted message exactly once, and nothing else.
    auto b = Client::create(bob.identity(), ln.client_net());
    REQUIRE_OK(b);
    std::map<std::string, int> bodies;
    auto got = b->receive_pages("", [&](ReceivedPage& p) {
        for (const auto& m : p.messages) ++bodies[m.body];
        return true;
    });
    REQUIRE_OK(got);
    CHECK(bodies.size() == accepted.size());
    for (const auto& [body, n] : bodies) {
        CHECK(n == 1);
        CHECK(accepted_bodies.count(body) == 1);
    }
}
