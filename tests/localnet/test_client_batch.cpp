// Client::send_many / broadcast / async sends (the send queue) against the in-process local network:
// each recipient gets exactly its messages, once, and the stores go out as `batch` requests of up to 20.
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "localnet/test_client_support.hpp"
#include "session/executor.hpp"
#include "support/callbacks.hpp"
#include "support/gated_executor.hpp"

using namespace session;

namespace {

using LocalNet = test::LocalNetFile;

Client new_client(std::shared_ptr<network::Network> net) {
    auto c = Client::create(Identity::generate(*system_rng()).first, std::move(net));
    if (!c) FAIL("client: " << c.error().message);
    return std::move(*c);
}

/// `n` recipients sharing one Network (as many accounts in one process would).
std::vector<Client> recipients(const LocalNet& ln, std::size_t n) {
    auto shared = ln.client_net();
    std::vector<Client> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(new_client(shared));
    return out;
}

/// Onion requests a warm batched send must take: ceil(n/20) per swarm of the recipients.
std::uint64_t batches_for(network::Network& net, const std::vector<SessionId>& to) {
    std::map<std::uint64_t, std::size_t> per_swarm;
    for (const auto& id : to) {
        auto sw = net.get_swarm(id);
        REQUIRE(sw);
        REQUIRE(sw->id);
        ++per_swarm[*sw->id];
    }
    std::uint64_t n = 0;
    for (auto [id, count] : per_swarm) n += (count + network::kMaxBatchStores - 1) / network::kMaxBatchStores;
    return n;
}

}  // namespace

TEST_CASE("client: send_many delivers each message once, in batches, with sync copies", "[client][localnet][batch]") {
    LocalNet ln;
    auto alice = new_client(ln.client_net());
    auto bob = recipients(ln, 45);
    REQUIRE(alice.send(alice.session_id(), "warm-up"));  // pool and paths

    std::vector<OutgoingText> msgs;
    std::vector<SessionId> to;
    for (std::size_t round = 0; round < 2; ++round)
        for (std::size_t i = 0; i < bob.size(); ++i) {
            msgs.push_back(OutgoingText{bob[i].session_id(), "to " + std::to_string(i) + " #" + std::to_string(round)});
            to.push_back(bob[i].session_id());
        }
    SendOptions o;
    o.sync_copy = true;
    const auto before = alice.network().stats();
    auto results = alice.send_many(msgs, o);
    REQUIRE(results.size() == msgs.size());
    std::set<std::string> hashes;
    std::set<std::int64_t> stamps;
    for (const auto& r : results) {
        REQUIRE_OK(r);
        CHECK(r->confirmed() >= 1);
        CHECK(r->sync_hash);
        hashes.insert(r->hash);
        stamps.insert(r->timestamp_ms);
    }
    CHECK(hashes.size() == msgs.size());
    CHECK(stamps.size() == msgs.size());  // strictly increasing per Client: all distinct
    const auto after = alice.network().stats();
    CHECK(after.swarm_lookups == before.swarm_lookups);  // 45 new recipients placed locally
    // (the swarms are cached now: counting them costs no request either)
    const auto expected = batches_for(alice.network(), to) +
                          (msgs.size() + network::kMaxBatchStores - 1) / network::kMaxBatchStores;
    CHECK(after.onion_requests - before.onion_requests == expected);
    CHECK(expected <= 12);  // 180 stores

    for (std::size_t i = 0; i < bob.size(); ++i) {
        auto got = bob[i].receive();
        REQUIRE_OK(got);
        REQUIRE(got->messages.size() == 2);
        // Batches run at once: storage order may differ, the signed send times keep the caller's.
        auto m = got->messages;
        std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.sent_timestamp_ms < b.sent_timestamp_ms; });
        CHECK(m[0].body == "to " + std::to_string(i) + " #0");
        CHECK(m[1].body == "to " + std::to_string(i) + " #1");
        CHECK(m[0].sent_timestamp_ms == results[i]->timestamp_ms);
        CHECK(m[1].sent_timestamp_ms == results[bob.size() + i]->timestamp_ms);
        for (const auto& x : m) CHECK(x.sender == alice.session_id());
    }
    auto mine = alice.receive();
    REQUIRE_OK(mine);
    std::size_t copies = 0;
    for (const auto& m : mine->messages) copies += m.kind == MessageKind::sync ? 1 : 0;
    CHECK(copies == msgs.size());
}

TEST_CASE("client: broadcast sends one text to every recipient once; bad input fails alone", "[client][localnet][batch]") {
    LocalNet ln;
    auto alice = new_client(ln.client_net());
    auto bob = recipients(ln, 30);
    std::vector<SessionId> to;
    for (const auto& b : bob) to.push_back(b.session_id());
    auto results = alice.broadcast(to, "to everyone");
    REQUIRE(results.size() == to.size());
    for (const auto& r : results) REQUIRE_OK(r);
    for (auto& b : bob) {
        auto got = b.receive();
        REQUIRE_OK(got);
        REQUIRE(got->messages.size() == 1);
        CHECK(got->messages[0].body == "to everyone");
        CHECK(got->messages[0].sender == alice.session_id());
    }

    // An invalid text fails alone; bad options fail every message, before any request.
    std::vector<OutgoingText> mixed{{to[0], "fine"}, {to[1], std::string("\xff\xfe")}, {to[2], "also fine"}};
    auto r = alice.send_many(mixed);
    CHECK(r[0]);
    REQUIRE_FALSE(r[1]);
    CHECK(r[1].error().code == Errc::invalid_argument);
    CHECK(r[2]);
    SendOptions bad;
    bad.ttl = std::chrono::milliseconds(1);
    const auto before = alice.network().stats().onion_requests;
    for (const auto& e : alice.broadcast(to, "x", bad)) {
        REQUIRE_FALSE(e);
        CHECK(e.error().code == Errc::invalid_argument);
    }
    CHECK(alice.network().stats().onion_requests == before);
}

TEST_CASE("client: async sends keep many in flight from one thread; each arrives once", "[client][localnet][batch]") {
    LocalNet ln;
    auto alice = new_client(ln.client_net());
    auto bob = recipients(ln, 3);
    std::vector<std::future<Result<SendResult>>> singles;
    for (std::size_t i = 0; i < 12; ++i)
        singles.push_back(alice.send_async(bob[i % 3].session_id(), "single " + std::to_string(i)));
    std::vector<OutgoingText> many;
    for (std::size_t i = 0; i < 9; ++i) many.push_back(OutgoingText{bob[i % 3].session_id(), "many " + std::to_string(i)});
    auto batch = alice.send_many_async(many);
    for (auto& f : singles) REQUIRE_OK(f.get());
    for (const auto& r : batch.get()) REQUIRE_OK(r);
    for (std::size_t k = 0; k < 3; ++k) {
        auto got = bob[k].receive();
        REQUIRE_OK(got);
        std::multiset<std::string> bodies;
        for (const auto& m : got->messages) bodies.insert(m.body);
        std::multiset<std::string> want;
        for (std::size_t i = k; i < 12; i += 3) want.insert("single " + std::to_string(i));
        for (std::size_t i = k; i < 9; i += 3) want.insert("many " + std::to_string(i));
        CHECK(bodies == want);
    }
}

// ---- the send queue: send_async without a thread per send ---------------------------------------

namespace {

/// A Network for one Client whose executor the test can hold closed (see GatedExecutor).
std::shared_ptr<network::Network> gated_net(const LocalNet& ln, std::shared_ptr<test::GatedExecutor> exec) {
    auto config = network::NetworkConfig::from_file(ln.file);
    if (!config) FAIL("network file: " << config.error().message);
    config->request_timeout = std::chrono::milliseconds(8000);
    config->retrieve_timeout = std::chrono::milliseconds(8000);
    network::Options o;
    o.config = std::move(*config);
    o.executor = std::move(exec);
    return std::make_shared<network::Network>(std::move(o));
}

/// Every callback's result, counted per send.
using Callbacks = session::test::Callbacks<Result<SendResult>>;

/// Each recipient's bodies received (all pages).
std::multiset<std::string> bodies_of(Client& c) {
    auto got = c.receive();
    REQUIRE_OK(got);
    std::multiset<std::string> out;
    for (const auto& m : got->messages) out.insert(m.body);
    return out;
}

}  // namespace

TEST_CASE("client: 300 send_async calls from one thread are coalesced into batches; each arrives once",
          "[client][localnet][batch][queue]") {
    LocalNet ln;
    auto exec = std::make_shared<test::GatedExecutor>(make_thread_pool());
    auto alice = new_client(gated_net(ln, exec));
    auto bob = recipients(ln, 60);
    REQUIRE(alice.send(alice.session_id(), "warm-up"));  // pool, paths and network time

    constexpr std::size_t kSends = 300;
    std::vector<SessionId> to;
    for (std::size_t i = 0; i < kSends; ++i) to.push_back(bob[i % bob.size()].session_id());
    const auto expected = batches_for(alice.network(), to);  // ceil(n / 20) per swarm
    const auto before = ln.requests().onion;
    const auto stores_before = ln.method_count("store");
    // Queued together: the executor is held while the calls are made (no flush runs before the
    // last one), so the count below does not depend on thread timing.
    exec->close();
    std::vector<std::future<Result<SendResult>>> sent;
    for (std::size_t i = 0; i < kSends; ++i) sent.push_back(alice.send_async(to[i], "q" + std::to_string(i)));
    exec->open();
    std::set<std::int64_t> stamps;
    for (auto& f : sent) {
        auto r = f.get();
        REQUIRE_OK(r);
        stamps.insert(r->timestamp_ms);
    }
    CHECK(stamps.size() == kSends);
    const auto onion = ln.requests().onion - before;
    CHECK(onion == expected);                   // one batch request per 20 of a swarm
    CHECK(onion <= kSends / network::kMaxBatchStores * 2);  // far below one request per send
    CHECK(ln.method_count("store") - stores_before == kSends);

    // The same again without holding the executor: flushes run while the calls are still being
    // made, so the batching depends on timing (not asserted); delivery does not.
    std::vector<std::future<Result<SendResult>>> more;
    for (std::size_t i = 0; i < kSends; ++i) more.push_back(alice.send_async(to[i], "r" + std::to_string(i)));
    for (auto& f : more) REQUIRE_OK(f.get());

    for (std::size_t k = 0; k < bob.size(); ++k) {
        std::multiset<std::string> want;
        for (std::size_t i = k; i < kSends; i += bob.size()) {
            want.insert("q" + std::to_string(i));
            want.insert("r" + std::to_string(i));
        }
        CHECK(bodies_of(bob[k]) == want);  // each exactly once
    }
}

TEST_CASE("client: send_async with a callback: one call per send; sync copies batched too",
          "[client][localnet][batch][queue]") {
    LocalNet ln;
    auto alice = new_client(ln.client_net());
    auto bob = recipients(ln, 20);
    REQUIRE(alice.send(alice.session_id(), "warm-up"));
    constexpr std::size_t kSends = 40;
    SendOptions o;
    o.sync_copy = true;
    Callbacks cb(kSends);
    for (std::size_t i = 0; i < kSends; ++i)
        alice.send_async(bob[i % bob.size()].session_id(), "c" + std::to_string(i), o, cb.slot(i));
    cb.wait_all();
    std::set<std::string> sync_hashes;
    {
        std::lock_guard lock(cb.m);
        CHECK(cb.done == kSends);
        for (std::size_t i = 0; i < kSends; ++i) {
            CHECK(cb.calls[i] == 1);
            REQUIRE(cb.got[i]);
            REQUIRE_OK(*cb.got[i]);
            const auto& r = **cb.got[i];
            CHECK(r.confirmed() >= 1);
            REQUIRE(r.sync_hash);
            CHECK_FALSE(r.sync_error);
            sync_hashes.insert(*r.sync_hash);
        }
    }
    CHECK(sync_hashes.size() == kSends);
    for (std::size_t k = 0; k < bob.size(); ++k) {
        std::multiset<std::string> want;
        for (std::size_t i = k; i < kSends; i += bob.size()) want.insert("c" + std::to_string(i));
        CHECK(bodies_of(bob[k]) == want);
    }
    auto mine = alice.receive();
    REQUIRE_OK(mine);
    std::size_t copies = 0;
    for (const auto& m : mine->messages) copies += m.kind == MessageKind::sync ? 1 : 0;
    CHECK(copies == kSends);
}

TEST_CASE("client: destroying a Client right after 50 send_async calls runs every callback once first",
          "[client][localnet][batch][queue]") {
    LocalNet ln;
    auto bob = recipients(ln, 5);
    constexpr std::size_t kSends = 50;
    auto cb = std::make_shared<Callbacks>(kSends);
    {
        auto alice = new_client(ln.client_net());
        SendOptions o;
        o.sync_copy = true;
        for (std::size_t i = 0; i < kSends; ++i)
            alice.send_async(bob[i % bob.size()].session_id(), "d" + std::to_string(i), o, cb->slot(i));
    }  // ~Client: sends what is queued, waits for every callback
    std::multiset<std::string> ok_bodies;
    {
        std::lock_guard lock(cb->m);
        CHECK(cb->done == kSends);
        for (std::size_t i = 0; i < kSends; ++i) {
            CHECK(cb->calls[i] == 1);
            REQUIRE(cb->got[i]);
            if (*cb->got[i]) ok_bodies.insert("d" + std::to_string(i));
        }
    }
    // What was reported sent arrived (the queue is sent out, not dropped, on destruction).
    std::multiset<std::string> received;
    for (auto& b : bob)
        for (const auto& body : bodies_of(b)) received.insert(body);
    CHECK(received == ok_bodies);
}

TEST_CASE("client: send_async reports bad input at once, through the callback or the future",
          "[client][localnet][batch][queue]") {
    LocalNet ln;
    auto alice = new_client(ln.client_net());
    auto bob = recipients(ln, 1);
    const auto before = ln.requests().onion;
    std::optional<Result<SendResult>> got;
    int calls = 0;
    alice.send_async(bob[0].session_id(), std::string("ok \xc3\x28"), {}, [&](Result<SendResult> r) {
        ++calls;
        got = std::move(r);
    });
    // Invalid input is reported before send_async returns, on this thread.
    CHECK(calls == 1);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error().code == Errc::invalid_argument);

    auto f = alice.send_async(bob[0].session_id(), std::string("\xff"));
    auto r = f.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);

    SendOptions bad;
    bad.ttl = std::chrono::milliseconds(1);
    calls = 0;
    alice.send_async(bob[0].session_id(), "fine text", bad, [&](Result<SendResult> res) {
        ++calls;
        CHECK_FALSE(res);
        if (!res) CHECK(res.error().code == Errc::invalid_argument);
    });
    CHECK(calls == 1);
    CHECK(ln.requests().onion == before);  // nothing was sent
}
