// Client end to end against the in-process local network (tools/localnet): real HTTPS on loopback,
// onion requests through 3 relays, swarm replication, 421s and request counters.
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "localnet/test_client_support.hpp"

using namespace session;
namespace fs = std::filesystem;

namespace {

// One local network per test case (fresh counters and stores), with its network file on disk.
struct LocalNet : test::LocalNetFile {
    using LocalNetFile::LocalNetFile;

    ClientOptions options(std::string display_name = {}) const {
        ClientOptions o;
        o.display_name = std::move(display_name);
        return o;
    }
    /// A new Network per Client, with 8 s request and retrieve timeouts.
    std::shared_ptr<network::Network> client_net() const {
        return network({.request_timeout = std::chrono::milliseconds(8000),
                        .retrieve_timeout = std::chrono::milliseconds(8000)});
    }
    // requests() and method_count() (what the clients asked of the network) are LocalNetBase's.
};


Identity new_identity() { return Identity::generate(*system_rng()).first; }

Client new_client(const LocalNet& ln, std::string name = {}) {
    auto c = Client::create(new_identity(), ln.client_net(), ln.options(std::move(name)));
    if (!c) FAIL("client: " << c.error().message);
    return std::move(*c);
}

std::vector<std::string> bodies(const ReceiveResult& r) {
    std::vector<std::string> out;
    for (const auto& m : r.messages) out.push_back(m.body);
    return out;
}

}  // namespace

TEST_CASE("client: A sends B unicode, empty, blank and 10 KB texts; B receives each once", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln, "Alice ✓");
    auto bob = new_client(ln);

    // Empty is sent as asked (official apps hide it; our receive() returns it with body "").
    const std::string unicode = "Grüße, 世界! 👋🏽 — ∑ and a newline\nsecond line";
    const std::string big(10 * 1024, 'x');
    std::vector<std::string> sent{unicode, "", " ", big};
    std::vector<std::string> hashes;
    for (const auto& text : sent) {
        auto r = alice.send(bob.session_id(), text);
        REQUIRE_OK(r);
        CHECK(r->hash.size() == 43);
        CHECK(r->confirmed() >= 1);
        CHECK(r->expiry_ms > r->timestamp_ms);
        hashes.push_back(r->hash);
    }

    auto got = bob.receive();
    REQUIRE_OK(got);
    CHECK(got->skipped.empty());
    REQUIRE(got->messages.size() == sent.size());
    CHECK(bodies(*got) == sent);
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto& m = got->messages[i];
        CHECK(m.sender == alice.session_id());
        // A DataMessage with neither body nor attachments is not a visible text (as in desktop).
        CHECK(m.kind == (sent[i].empty() ? MessageKind::other : MessageKind::text));
        CHECK(m.hash == hashes[i]);
        CHECK(m.display_name == std::optional<std::string>("Alice ✓"));
        CHECK(m.expiration_type == ExpirationType::none);
        CHECK(m.sent_timestamp_ms > 0);
        CHECK(m.expiry_ms > m.stored_timestamp_ms);
    }
    CHECK(got->last_hash == hashes.back());

    // Nothing new after last_hash.
    auto again = bob.receive(got->last_hash);
    REQUIRE_OK(again);
    CHECK(again->messages.empty());
    CHECK(again->last_hash == got->last_hash);

    // Alice's own swarm holds nothing of this (no sync copies by default).
    auto mine = alice.receive();
    REQUIRE_OK(mine);
    CHECK(mine->messages.empty());
}

TEST_CASE("client: send options reach the recipient; bad options are rejected", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);

    SendOptions o;
    o.expiration_type = ExpirationType::delete_after_send;
    o.expiration_timer = std::chrono::seconds(3600);
    auto r = alice.send(bob.session_id(), "disappears", o);
    REQUIRE_OK(r);
    // TTL follows the timer for delete-after-send (as desktop does).
    CHECK(r->expiry_ms - r->timestamp_ms <= 3600 * 1000 + 60'000);

    auto got = bob.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].expiration_type == ExpirationType::delete_after_send);
    CHECK(got->messages[0].expiration_timer.count() == 3600);
    CHECK(got->messages[0].display_name == std::nullopt);

    SendOptions bad;
    bad.expiration_timer = std::chrono::seconds(5);  // timer without a mode
    auto e1 = alice.send(bob.session_id(), "x", bad);
    REQUIRE_FALSE(e1);
    CHECK(e1.error().code == Errc::invalid_argument);
    SendOptions short_ttl;
    short_ttl.ttl = std::chrono::milliseconds(5);
    auto e2 = alice.send(bob.session_id(), "x", short_ttl);
    REQUIRE_FALSE(e2);
    CHECK(e2.error().code == Errc::invalid_argument);
    auto e3 = alice.send(bob.session_id(), std::string("bad \xff utf8"));
    REQUIRE_FALSE(e3);
    CHECK(e3.error().message.find("byte 4") != std::string::npos);
    const std::string group_id = "03" + std::string(64, 'a');
    auto e4 = alice.send(std::string_view(group_id), "x");
    REQUIRE_FALSE(e4);
    CHECK(e4.error().code == Errc::session_id_wrong_prefix);
    auto e5 = alice.send(bob.session_id(), std::string(80 * 1024, 'y'));
    REQUIRE_FALSE(e5);
    CHECK(e5.error().code == Errc::envelope_too_large);
    auto e6 = bob.receive("not-a-hash");
    REQUIRE_FALSE(e6);
    CHECK(e6.error().code == Errc::invalid_argument);
}

TEST_CASE("client: 500 messages come back in order across pages; last_hash returns only newer",
          "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto opts = ln.options();
    opts.retrieve_page_size = 64;
    auto [bob_id, bob_phrase] = Identity::generate(*system_rng());
    auto bob_r = Client::create(std::move(bob_id), ln.client_net(), opts);
    REQUIRE_OK(bob_r);
    auto& bob = *bob_r;

    constexpr int kCount = 500;
    for (int i = 0; i < kCount; ++i) {
        auto r = alice.send(bob.session_id(), "message " + std::to_string(i));
        REQUIRE_OK(r);
    }
    ln.net->reset_counters();
    auto got = bob.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == kCount);
    for (int i = 0; i < kCount; ++i) CHECK(got->messages[i].body == "message " + std::to_string(i));
    // Two members, each paged: 500 / 64 -> 8 pages each.
    REQUIRE(got->nodes.size() == 2);
    for (const auto& n : got->nodes) {
        CHECK_FALSE(n.error);
        CHECK(n.pages == 8);
    }
    CHECK(ln.method_count("retrieve") == 16);

    // receive(last_hash) after 3 more: only those 3.
    const auto cursor = got->last_hash;
    for (int i = 0; i < 3; ++i) REQUIRE(alice.send(bob.session_id(), "later " + std::to_string(i)));
    auto newer = bob.receive(cursor);
    REQUIRE_OK(newer);
    CHECK(bodies(*newer) == std::vector<std::string>{"later 0", "later 1", "later 2"});

    // A cursor in the middle (as a restarted process would pass): everything after it.
    auto mid = bob.receive(got->messages[kCount - 2].hash);
    REQUIRE_OK(mid);
    CHECK(bodies(*mid) == std::vector<std::string>{"message 499", "later 0", "later 1", "later 2"});

    // A second client for the same account, resuming from a saved hash (a restarted process).
    auto bob2 = Client::create(bob_phrase.view(), ln.client_net(), ln.options());
    REQUIRE_OK(bob2);
    CHECK(bob2->session_id() == bob.session_id());
    auto resumed = bob2->receive(got->messages[kCount - 2].hash);
    REQUIRE_OK(resumed);
    CHECK(bodies(*resumed) == std::vector<std::string>{"message 499", "later 0", "later 1", "later 2"});

    // receive_pages: the same 503 messages a page (64) at a time, in order, none twice.
    auto paged_opts = ln.options();
    paged_opts.retrieve_page_size = 64;
    auto bob3 = Client::create(bob_phrase.view(), ln.client_net(), paged_opts);
    REQUIRE_OK(bob3);
    std::vector<std::string> streamed, page_ends;
    std::size_t largest_page = 0;
    auto all = bob3->receive_pages("", [&](ReceivedPage& page) {
        largest_page = std::max(largest_page, page.messages.size());
        for (auto& m : page.messages) streamed.push_back(m.body);
        CHECK(page.skipped.empty());
        REQUIRE_FALSE(page.messages.empty());
        CHECK(page.last_hash == page.messages.back().hash);
        page_ends.push_back(page.last_hash);
        return true;
    });
    REQUIRE_OK(all);
    CHECK(largest_page == 64);
    CHECK(all->pages == page_ends.size());
    CHECK(all->pages == 8);  // 503 / 64; the second member's pages held nothing new
    CHECK(all->messages == kCount + 3);
    CHECK_FALSE(all->stopped);
    CHECK(all->last_hash == page_ends.back());
    std::vector<std::string> expected;
    for (int i = 0; i < kCount; ++i) expected.push_back("message " + std::to_string(i));
    for (int i = 0; i < 3; ++i) expected.push_back("later " + std::to_string(i));
    CHECK(streamed == expected);

    // Stop after 3 pages, then resume from the third page's last_hash: the rest, exactly once.
    auto bob4 = Client::create(bob_phrase.view(), ln.client_net(), paged_opts);
    REQUIRE_OK(bob4);
    std::vector<std::string> first_part, second_part;
    auto part = bob4->receive_pages("", [&](ReceivedPage& page) {
        for (auto& m : page.messages) first_part.push_back(m.body);
        return first_part.size() < 3 * 64;
    });
    REQUIRE_OK(part);
    CHECK(part->stopped);
    CHECK(part->pages == 3);
    auto rest = bob4->receive_pages(part->last_hash, [&](ReceivedPage& page) {
        for (auto& m : page.messages) second_part.push_back(m.body);
        return true;
    });
    REQUIRE_OK(rest);
    first_part.insert(first_part.end(), second_part.begin(), second_part.end());
    CHECK(first_part == expected);
    // Nothing new after that.
    auto none = bob4->receive_pages(rest->last_hash, [&](ReceivedPage&) {
        FAIL("no page expected");
        return true;
    });
    REQUIRE_OK(none);
    CHECK(none->pages == 0);
    CHECK(none->last_hash == rest->last_hash);
    auto no_handler = bob4->receive_pages("", PageHandler{});
    REQUIRE_FALSE(no_handler);
    CHECK(no_handler.error().code == Errc::invalid_argument);
}

TEST_CASE("client: a call that reaches a receive limit is truncated; its last_hash continues exactly once",
          "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto [bob_id, bob_phrase] = Identity::generate(*system_rng());
    auto opts = ln.options();
    opts.retrieve_page_size = 5;
    opts.receive_max_items = 10;  // two members' first pages
    auto bob = Client::create(std::move(bob_id), ln.client_net(), opts);
    REQUIRE_OK(bob);
    constexpr int kCount = 23;
    std::vector<std::string> expected;
    for (int i = 0; i < kCount; ++i) {
        expected.push_back("limited " + std::to_string(i));
        REQUIRE_OK(alice.send(bob->session_id(), expected.back()));
    }

    // receive(): each call stops at its item limit; passing its last_hash back continues.
    std::vector<std::string> got;
    std::string cursor;
    int truncated_calls = 0;
    bool finished = false;
    for (int call = 0; call < 30 && !finished; ++call) {
        auto r = bob->receive(cursor);
        REQUIRE_OK(r);
        for (const auto& m : r->messages) got.push_back(m.body);
        cursor = r->last_hash;
        if (r->truncated == retrieve::Truncation::none) finished = true;
        else {
            CHECK(r->truncated == retrieve::Truncation::item_budget);
            ++truncated_calls;
        }
    }
    CHECK(finished);
    CHECK(truncated_calls >= 2);
    CHECK(got == expected);

    // receive_pages() with a byte limit below one page: every page ends its call; continuing from
    // each call's last_hash hands out every message once, in order.
    auto small = ln.options();
    small.retrieve_page_size = 5;
    small.receive_max_bytes = 1;
    auto bob2 = Client::create(bob_phrase.view(), ln.client_net(), small);
    REQUIRE_OK(bob2);
    std::vector<std::string> streamed;
    cursor.clear();
    finished = false;
    truncated_calls = 0;
    for (int call = 0; call < 40 && !finished; ++call) {
        auto r = bob2->receive_pages(cursor, [&](ReceivedPage& page) {
            for (auto& m : page.messages) streamed.push_back(m.body);
            return true;
        });
        REQUIRE_OK(r);
        cursor = r->last_hash;
        if (r->truncated == retrieve::Truncation::none) finished = true;
        else {
            CHECK(r->truncated == retrieve::Truncation::byte_budget);
            ++truncated_calls;
        }
    }
    CHECK(finished);
    CHECK(truncated_calls >= 4);  // 23 messages in pages of 5
    CHECK(streamed == expected);

    // Zero limits are refused at create().
    for (int which = 0; which < 3; ++which) {
        auto bad = ln.options();
        if (which == 0) bad.receive_max_bytes = 0;
        if (which == 1) bad.receive_max_items = 0;
        if (which == 2) bad.receive_timeout = std::chrono::milliseconds(0);
        auto refused = Client::create(new_identity(), ln.client_net(), bad);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == Errc::invalid_argument);
    }
}

TEST_CASE("client: replayed, stale, future-dated and unsigned-time messages are skipped; sent time is signed",
          "[client][localnet]") {
    LocalNet ln;
    auto [alice_id, alice_phrase] = Identity::generate(*system_rng());
    auto [bob_id, bob_phrase] = Identity::generate(*system_rng());
    auto sender = Identity::from_phrase(alice_phrase.view());  // Alice's keys, to seal by hand
    REQUIRE_OK(sender);
    auto alice = Client::create(std::move(alice_id), ln.client_net(), ln.options());
    REQUIRE_OK(alice);
    auto bob = Client::create(std::move(bob_id), ln.client_net(), ln.options());
    REQUIRE_OK(bob);
    const auto to = bob->session_id();
    REQUIRE_OK(alice->network().get_swarm(to));  // bootstrap, so now_ms() is network time
    const std::int64_t now = alice->network().now_ms();
    constexpr std::int64_t kDay = 24LL * 60 * 60 * 1000;

    auto content = [&](std::string body, std::int64_t ts) {
        envelope::OutgoingMessage m;
        m.body = std::move(body);
        m.timestamp_ms = ts;
        return envelope::build_content(m);
    };
    auto encrypt = [&](const proto::Content& c) {
        auto ct = envelope::encrypt_for_recipient(*sender, to.x25519(), envelope::pad(c.encode()));
        REQUIRE_OK(ct);
        return *ct;
    };
    // Stores `data` in Bob's swarm as any sender (or a node) can: the hash is the swarm's.
    auto store = [&](const Bytes& data) {
        auto r = alice->network().store(to, 0, envelope::to_swarm_data(data), kDefaultMessageTtl.count());
        REQUIRE_OK(r);
        return r->hash;
    };

    const auto genuine_ct = encrypt(content("genuine", now - 1000));
    const auto genuine = store(envelope::wrap(genuine_ct, now - 1000, envelope::decoy_pro_sig()));
    // The same sealed content in a new envelope (another decoy proSig): a new hash.
    const auto replay = store(envelope::wrap(genuine_ct, now - 1000, envelope::decoy_pro_sig()));
    REQUIRE(replay != genuine);
    const auto old = store(envelope::wrap(encrypt(content("from 20 days ago", now - 20 * kDay)), now - 20 * kDay,
                                          envelope::decoy_pro_sig()));
    const auto future = store(envelope::wrap(encrypt(content("from the future", now + 3 * kDay)), now + 3 * kDay,
                                             envelope::decoy_pro_sig()));
    // A legacy sender (no sigTimestamp) that signs DataMessage.timestamp; its unsigned envelope
    // timestamp says something else.
    auto legacy_content = content("legacy", now - 5000);
    legacy_content.sig_timestamp.reset();
    legacy_content.data_message->timestamp = static_cast<std::uint64_t>(now - 5000);
    const auto legacy = store(envelope::wrap(encrypt(legacy_content), now + 777'000, envelope::decoy_pro_sig()));
    // No signed time at all.
    auto unsigned_content = content("no signed time", now);
    unsigned_content.sig_timestamp.reset();
    const auto no_time = store(envelope::wrap(encrypt(unsigned_content), now, envelope::decoy_pro_sig()));
    // A signed time with the envelope's zeroed.
    const auto zeroed = store(envelope::wrap(encrypt(content("zeroed", now - 2000)), 0, envelope::decoy_pro_sig()));

    auto check = [&](Client& c) {
        auto r = c.receive();
        REQUIRE_OK(r);
        REQUIRE(r->messages.size() == 2);
        CHECK(r->messages[0].body == "genuine");
        CHECK(r->messages[0].hash == genuine);
        CHECK(r->messages[0].sent_timestamp_ms == now - 1000);
        CHECK(r->messages[1].body == "legacy");
        CHECK(r->messages[1].hash == legacy);
        CHECK(r->messages[1].sent_timestamp_ms == now - 5000);  // signed, not the envelope's
        std::map<std::string, Errc> skipped;
        for (const auto& s : r->skipped) skipped.emplace(s.hash, s.reason.code);
        CHECK(skipped == std::map<std::string, Errc>{{replay, Errc::receive_replayed},
                                                     {old, Errc::receive_too_old},
                                                     {future, Errc::receive_too_new},
                                                     {no_time, Errc::receive_no_signed_time},
                                                     {zeroed, Errc::envelope_timestamp_mismatch}});
        auto again = c.receive(r->last_hash);
        REQUIRE_OK(again);
        CHECK(again->messages.empty());
        CHECK(again->skipped.empty());
    };
    check(*bob);
    // A second Client of Bob's, paging: the same verdicts.
    auto paged_opts = ln.options();
    paged_opts.retrieve_page_size = 2;
    auto bob2 = Client::create(bob_phrase.view(), ln.client_net(), paged_opts);
    REQUIRE_OK(bob2);
    std::vector<std::string> bodies2;
    std::size_t replays = 0;
    REQUIRE_OK(bob2->receive_pages("", [&](ReceivedPage& page) {
        for (const auto& m : page.messages) bodies2.push_back(m.body);
        for (const auto& s : page.skipped) replays += s.reason.code == Errc::receive_replayed;
        return true;
    }));
    CHECK(bodies2 == std::vector<std::string>{"genuine", "legacy"});
    CHECK(replays == 1);
}

TEST_CASE("client: note to self arrives in our own swarm", "[client][localnet]") {
    LocalNet ln;
    auto me = new_client(ln, "Me");
    auto r = me.send(me.session_id(), "remember the milk");
    REQUIRE_OK(r);
    auto got = me.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].body == "remember the milk");
    CHECK(got->messages[0].sender == me.session_id());
    CHECK(got->messages[0].kind == MessageKind::text);
}

TEST_CASE("client: a moved swarm (421) is followed by send and receive", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    REQUIRE(alice.send(bob.session_id(), "before the move"));
    auto first = bob.receive();
    REQUIRE_OK(first);
    REQUIRE(first->messages.size() == 1);

    // Move Bob's account to the other swarm: both clients have the old swarm cached.
    auto old_swarm = ln.net->swarm_for(bob.session_id().hex());
    REQUIRE_OK(old_swarm);
    std::uint64_t target = 0;
    for (auto id : ln.net->swarm_ids())
        if (id != *old_swarm) target = id;
    REQUIRE(ln.net->move_account(bob.session_id().hex(), target));

    auto sent = alice.send(bob.session_id(), "after the move");
    REQUIRE_OK(sent);
    auto got = bob.receive(first->last_hash);
    REQUIRE_OK(got);
    CHECK(bodies(*got) == std::vector<std::string>{"after the move"});
    for (const auto& n : got->nodes)
        if (!n.error) CHECK(ln.net->swarm_members(target).size() > 0);
}

TEST_CASE("client: sends from several threads at once all arrive", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    constexpr int kThreads = 4, kEach = 8;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    std::mutex mu;
    std::set<std::string> hashes;
    std::set<std::int64_t> timestamps;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto r = alice.send(bob.session_id(), "t" + std::to_string(t) + " m" + std::to_string(i));
                if (!r) {
                    ++failures;
                    continue;
                }
                std::lock_guard lock(mu);
                hashes.insert(r->hash);
                timestamps.insert(r->timestamp_ms);
            }
        });
    // Receives running at the same time must not disturb anything.
    std::thread reader([&] {
        for (int i = 0; i < 3; ++i) (void)bob.receive();
    });
    for (auto& th : threads) th.join();
    reader.join();
    CHECK(failures == 0);
    CHECK(hashes.size() == kThreads * kEach);
    CHECK(timestamps.size() == kThreads * kEach);  // one Client never reuses a timestamp

    auto got = bob.receive();
    REQUIRE_OK(got);
    std::set<std::string> received;
    for (const auto& m : got->messages) received.insert(m.hash);
    CHECK(received == hashes);
    CHECK(got->messages.size() == hashes.size());
}

TEST_CASE("client: request accounting: cold send <= 3 requests, warm send exactly 1 onion request",
          "[client][localnet]") {
    LocalNet ln;
    auto bob = new_client(ln);
    auto alice = new_client(ln);
    ln.net->reset_counters();

    auto cold = alice.send(bob.session_id(), "cold");
    REQUIRE_OK(cold);
    const auto c = ln.requests();
    INFO("cold send: seed " << c.seed << ", onion " << c.onion << ", direct " << c.direct);
    CHECK(c.seed <= 1);
    CHECK(c.total() <= 3);
    CHECK(ln.method_count("store") == 1);
    WARN("measured cold send: " << c.seed << " seed + " << c.onion << " onion + " << c.direct
                                << " direct = " << c.total() << " requests");

    ln.net->reset_counters();
    auto warm = alice.send(bob.session_id(), "warm");
    REQUIRE_OK(warm);
    const auto w = ln.requests();
    CHECK(w.seed == 0);
    CHECK(w.direct == 0);
    CHECK(w.onion == 1);
    WARN("measured warm send: " << w.onion << " onion request(s)");

    // A warm receive: one retrieve per polled member (nothing paged).
    auto first = bob.receive();
    REQUIRE_OK(first);
    ln.net->reset_counters();
    auto polled = bob.receive(first->last_hash);
    REQUIRE_OK(polled);
    const auto p = ln.requests();
    CHECK(p.onion == 2);
    CHECK(ln.method_count("retrieve") == 2);
    WARN("measured warm receive: " << p.onion << " onion request(s)");
}

TEST_CASE("client: sync_copy stores a syncTarget copy in our own swarm", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln, "Alice");
    auto bob = new_client(ln);
    SendOptions o;
    o.sync_copy = true;
    auto sent = alice.send(bob.session_id(), "with a copy", o);
    REQUIRE_OK(sent);
    REQUIRE(sent->sync_hash);
    CHECK_FALSE(sent->sync_error);
    CHECK(*sent->sync_hash != sent->hash);

    auto mine = alice.receive();
    REQUIRE_OK(mine);
    REQUIRE(mine->messages.size() == 1);
    const auto& copy = mine->messages[0];
    CHECK(copy.kind == MessageKind::sync);
    CHECK(copy.sender == alice.session_id());
    CHECK(copy.body == "with a copy");
    CHECK(copy.hash == *sent->sync_hash);
    CHECK(copy.sent_timestamp_ms == sent->timestamp_ms);
    REQUIRE(copy.content.data_message);
    CHECK(copy.content.data_message->sync_target == std::optional<std::string>(bob.session_id().hex()));

    auto theirs = bob.receive();
    REQUIRE_OK(theirs);
    REQUIRE(theirs->messages.size() == 1);
    CHECK(theirs->messages[0].kind == MessageKind::text);
    CHECK_FALSE(theirs->messages[0].content.data_message->sync_target);
}

TEST_CASE("client: receive delivers what stopped members missed, exactly once", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    REQUIRE(alice.send(bob.session_id(), "one"));
    auto first = bob.receive();
    REQUIRE_OK(first);
    REQUIRE(first->messages.size() == 1);

    // Two of Bob's five swarm members are down while "two" and "three" are stored: they never get them.
    auto swarm = ln.net->swarm_for(bob.session_id().hex());
    REQUIRE_OK(swarm);
    const auto members = ln.net->swarm_members(*swarm);
    REQUIRE(members.size() == 5);
    ln.net->stop_node(members[0]);
    ln.net->stop_node(members[1]);
    auto two = alice.send(bob.session_id(), "two");
    REQUIRE_OK(two);
    auto three = alice.send(bob.session_id(), "three");
    REQUIRE_OK(three);
    REQUIRE(ln.net->start_node(members[0]));
    REQUIRE(ln.net->start_node(members[1]));
    REQUIRE(alice.send(bob.session_id(), "four"));

    // However the 2 polled members are chosen, over a few polls every message arrives once.
    std::vector<std::string> got;
    std::string cursor = first->last_hash;
    for (int i = 0; i < 8; ++i) {
        auto r = bob.receive(cursor);
        REQUIRE_OK(r);
        for (const auto& m : r->messages) got.push_back(m.body);
        cursor = r->last_hash;
    }
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"four", "three", "two"});
}

TEST_CASE("client: sends use network time when the local clock is off", "[client][localnet]") {
    LocalNet ln;
    // Every node's clock runs 5 minutes ahead of ours: a local timestamp would be refused (406).
    for (std::size_t i = 0; i < ln.net->node_count(); ++i) ln.net->set_clock_skew(i, std::chrono::minutes(5));
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    auto sent = alice.send(bob.session_id(), "on time");
    REQUIRE_OK(sent);
    const auto node_now = ln.net->now_ms(0);
    CHECK(std::llabs(sent->timestamp_ms - node_now) < 30'000);
    auto got = bob.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].sent_timestamp_ms == sent->timestamp_ms);
    CHECK(std::llabs(alice.network().clock_offset_ms() - 300'000) < 30'000);
}

TEST_CASE("client: a clock resync re-seals the message, and a time voted out does not pin timestamps",
          "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto bob = new_client(ln);
    auto first = alice.send(bob.session_id(), "learn the clock");
    REQUIRE_OK(first);

    // The network's time falls 5 minutes behind ours: the store of a message sealed with the old
    // offset is refused (406, too far in the future); the clock is resynced and the message stamped
    // and sealed again with the corrected time. Its timestamp follows network time back instead of
    // staying above the previous one (which would be refused again, for as long as the Client lives).
    for (std::size_t i = 0; i < ln.net->node_count(); ++i) ln.net->set_clock_skew(i, std::chrono::minutes(-5));
    auto behind = alice.send(bob.session_id(), "after the fall");
    REQUIRE_OK(behind);
    CHECK(std::llabs(behind->timestamp_ms - ln.net->now_ms(0)) < 30'000);
    CHECK(behind->timestamp_ms < first->timestamp_ms);
    auto again = alice.send(bob.session_id(), "and after");
    REQUIRE_OK(again);
    CHECK(again->timestamp_ms > behind->timestamp_ms);

    auto got = bob.receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 3);
    std::vector<std::int64_t> stamps;
    for (const auto& m : got->messages) stamps.push_back(m.sent_timestamp_ms);
    std::sort(stamps.begin(), stamps.end());
    CHECK(stamps == std::vector<std::int64_t>{behind->timestamp_ms, again->timestamp_ms, first->timestamp_ms});
}

TEST_CASE("client: state_path keeps receive exactly-once across a restart", "[client][localnet]") {
    LocalNet ln;
    auto alice = new_client(ln);
    auto [bob_id, bob_phrase] = Identity::generate(*system_rng());
    const auto bob_hex = bob_id.session_id().hex();
    auto opts = ln.options();
    opts.poll_nodes = 5;  // every member is asked, so the one that missed the resume point certainly is
    opts.state_path = (ln.dir / "bob.state").string();
    auto swarm = ln.net->swarm_for(bob_hex);
    REQUIRE_OK(swarm);
    const auto members = ln.net->swarm_members(*swarm);
    REQUIRE(members.size() == 5);

    // members[0] holds "state-body-one" only: it is down for the rest and for Bob's first receive.
    REQUIRE(alice.send(std::string_view(bob_hex), "state-body-one"));
    ln.net->stop_node(members[0]);
    REQUIRE(alice.send(std::string_view(bob_hex), "state-body-two"));
    REQUIRE(alice.send(std::string_view(bob_hex), "state-body-three"));
    std::string saved;
    {
        auto bob = Client::create(bob_phrase.view(), ln.client_net(), opts);
        REQUIRE_OK(bob);
        auto r = bob->receive();
        REQUIRE_OK(r);
        CHECK(bodies(*r) == std::vector<std::string>{"state-body-one", "state-body-two", "state-body-three"});
        saved = r->last_hash;
    }
    // The file: owner-only, hashes and keys but no message text.
    REQUIRE(fs::exists(opts.state_path));
    CHECK((fs::status(opts.state_path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    std::ifstream in(opts.state_path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("state-body") == std::string::npos);
    CHECK(text.find(saved) != std::string::npos);

    REQUIRE(ln.net->start_node(members[0]));
    REQUIRE(alice.send(std::string_view(bob_hex), "state-body-four"));

    // A restarted process with the file: only the new message, although members[0] never had
    // `saved` and answers from its oldest message ("one").
    {
        auto bob = Client::create(bob_phrase.view(), ln.client_net(), opts);
        REQUIRE_OK(bob);
        // While it runs, a second Client cannot use the same file.
        auto twin = Client::create(bob_phrase.view(), ln.client_net(), opts);
        REQUIRE_FALSE(twin);
        CHECK(twin.error().message.find("in use by another Client") != std::string::npos);
        auto r = bob->receive(saved);
        REQUIRE_OK(r);
        CHECK(bodies(*r) == std::vector<std::string>{"state-body-four"});
        auto again = bob->receive_pages(r->last_hash, [](ReceivedPage&) {
            FAIL("nothing new expected");
            return true;
        });
        REQUIRE_OK(again);
        CHECK(again->messages == 0);
    }
    // The same restart without the file hands "one" out again: what the file is for.
    {
        auto no_state = opts;
        no_state.state_path.clear();
        auto bob = Client::create(bob_phrase.view(), ln.client_net(), no_state);
        REQUIRE_OK(bob);
        auto r = bob->receive(saved);
        REQUIRE_OK(r);
        const auto got = bodies(*r);
        CHECK(std::count(got.begin(), got.end(), "state-body-one") == 1);
    }
    // Another account's file, and a damaged one, are refused with what is wrong.
    auto other = Client::create(new_identity(), ln.client_net(), opts);
    REQUIRE_FALSE(other);
    CHECK(other.error().code == Errc::invalid_argument);
    CHECK(other.error().message.find("another account") != std::string::npos);
    {
        std::ofstream out(opts.state_path, std::ios::trunc);
        out << "{\"version\":1,\"account\":\"" << bob_hex << "\",\"next_seq\":5,\"delivered\":[[\"short\",1,0]]}";
    }
    auto damaged = Client::create(bob_phrase.view(), ln.client_net(), opts);
    REQUIRE_FALSE(damaged);
    CHECK(damaged.error().code == Errc::invalid_argument);
    CHECK(damaged.error().message.find("delivered[0]: hash") != std::string::npos);
    // A place where the state cannot be kept is refused at create; a state that can no longer be
    // written fails the receive (nothing is handed out unrecorded).
    auto nowhere = opts;
    nowhere.state_path = (ln.dir / "no-such-dir" / "bob.state").string();
    auto refused = Client::create(bob_phrase.view(), ln.client_net(), nowhere);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::io_error);
    CHECK(refused.error().message.find("no-such-dir") != std::string::npos);
    auto vanishing = opts;
    const auto gone_dir = ln.dir / "gone";
    fs::create_directories(gone_dir);
    vanishing.state_path = (gone_dir / "bob.state").string();
    auto bob = Client::create(bob_phrase.view(), ln.client_net(), vanishing);
    REQUIRE_OK(bob);
    fs::remove_all(gone_dir);
    auto r = bob->receive();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find("gone") != std::string::npos);
}
