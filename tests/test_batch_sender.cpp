// test_batch_sender.cpp: grouping messages by swarm into batches, and the send queue
// (detail/batch_sender.hpp).
#include "detail/batch_sender.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/executor.hpp"
#include "support/callbacks.hpp"
#include "support/gated_executor.hpp"
#include "test_network_support.hpp"

using session::detail::chunk_by_key;

TEST_CASE("batch sender: messages are grouped by swarm, in chunks of at most the batch size", "[batch]") {
    const std::vector<std::string> keys{"a", "b", "a", "c", "a", "b", "a"};
    auto chunks = chunk_by_key(keys, 2);
    // a: 0 2 4 6 → [0 2] [4 6]; b: 1 5; c: 3 — groups in order of first appearance.
    const std::vector<std::vector<std::size_t>> want{{0, 2}, {4, 6}, {1, 5}, {3}};
    CHECK(chunks == want);

    // Every index exactly once, each chunk one key, none larger than the limit.
    std::vector<std::string> many;
    for (int i = 0; i < 1000; ++i) many.push_back("swarm" + std::to_string(i % 7));
    auto big = chunk_by_key(many, 20);
    std::set<std::size_t> seen;
    for (const auto& c : big) {
        REQUIRE_FALSE(c.empty());
        CHECK(c.size() <= 20);
        for (auto i : c) {
            CHECK(many[i] == many[c.front()]);
            CHECK(seen.insert(i).second);
        }
    }
    CHECK(seen.size() == many.size());
    // 1000 / 7 = 142 or 143 per swarm: 8 chunks each.
    CHECK(big.size() == 7 * 8);

    CHECK(chunk_by_key({}, 20).empty());
    CHECK_THROWS_AS(chunk_by_key(keys, 0), std::invalid_argument);
}

// ---- the send queue (BatchSender::enqueue) over a fake onion network ------------------------------

namespace {

using namespace fakenet;
using session::detail::BatchSender;
using session::detail::Outgoing;
using session::detail::SendSpec;
using session::detail::Sender;

using session::test::GatedExecutor;

session::detail::ContentBuilder text(std::string body) {
    return [body = std::move(body)](std::int64_t ts) {
        envelope::OutgoingMessage m;
        m.body = body;
        m.timestamp_ms = ts;
        return envelope::build_content(m);
    };
}

/// Each message's result, counting the callbacks.
using Results = session::test::Callbacks<Result<SendResult>>;

/// The fake network as a transport that notes the most requests it ever had at once (each one
/// takes `hold` longer, so requests that may overlap do).
struct OverlapCounter final : session::network::Transport {
    std::shared_ptr<Transport> inner;
    std::chrono::milliseconds hold{0};
    std::atomic<int> now{0}, most{0};
    explicit OverlapCounter(std::shared_ptr<Transport> t) : inner(std::move(t)) {}
    Result<HttpResponse> post(const HttpRequest& request) override {
        const int at = ++now;
        for (int seen = most.load(); at > seen && !most.compare_exchange_weak(seen, at);) {
        }
        if (hold.count() > 0) std::this_thread::sleep_for(hold);
        auto r = inner->post(request);
        --now;
        return r;
    }
};

/// A BatchSender (and its Sender) on a fake network of 10 nodes in 2 swarms, whose executor can be
/// held closed, keeping at most `window` batches in flight.
struct QueueRig {
    std::shared_ptr<FakeNet> fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    std::shared_ptr<OverlapCounter> wire = std::make_shared<OverlapCounter>(fake);
    std::shared_ptr<GatedExecutor> exec = std::make_shared<GatedExecutor>(session::make_thread_pool());
    std::shared_ptr<Network> net;
    Identity self = Identity::generate(*system_rng()).first;
    std::unique_ptr<Sender> sender;
    std::unique_ptr<BatchSender> batches;

    explicit QueueRig(std::size_t window = session::kDefaultMaxBatchesInFlight) {
        auto o = fake_options(fake);
        o.transport = wire;
        o.executor = exec;
        net = std::make_shared<Network>(std::move(o));
        sender = std::make_unique<Sender>(self, net, nullptr);
        batches = std::make_unique<BatchSender>(*sender, self.session_id(), net, nullptr, window);
        // Warm: the pool (swarm ids: recipients are placed locally) and network time.
        Results warm(1);
        batches->enqueue(Outgoing{self.session_id(), text("warm-up")}, SendSpec{}, warm.slot(0));
        warm.wait_all();
        REQUIRE(*warm.got[0]);
    }
    ~QueueRig() {
        batches.reset();
        sender.reset();
        net.reset();
    }
    /// Batch requests for these recipients when queued together: ceil(n / 20) per swarm.
    std::uint64_t batches_for(const std::vector<SessionId>& to) {
        std::map<std::uint64_t, std::size_t> per_swarm;
        for (const auto& id : to) {
            auto sw = net->get_swarm(id);
            REQUIRE(sw);
            REQUIRE(sw->id);
            ++per_swarm[*sw->id];
        }
        std::uint64_t n = 0;
        for (const auto& kv : per_swarm) n += (kv.second + kMaxBatchStores - 1) / kMaxBatchStores;
        return n;
    }
};

}  // namespace

TEST_CASE("send queue: messages queued together go out as one batch per 20 of a swarm, each done once",
          "[batch][queue]") {
    QueueRig rig;
    // 600 messages to 40 accounts of 2 swarms: 30 chunks, more than the 24 batches in flight.
    const std::size_t n = 600;
    std::vector<SessionId> to;
    for (std::size_t i = 0; i < n; ++i) to.push_back(account(static_cast<int>(1 + i % 40)));
    const auto expected = rig.batches_for(to);
    CHECK(expected >= 30);
    Results res(n);
    const auto before = rig.net->stats().onion_requests;
    rig.exec->close();
    for (std::size_t i = 0; i < n; ++i)
        rig.batches->enqueue(Outgoing{to[i], text("m" + std::to_string(i))}, SendSpec{}, res.slot(i));
    rig.exec->open();
    res.wait_all();
    CHECK(rig.net->stats().onion_requests - before == expected);
    std::set<std::string> hashes;
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(res.calls[i] == 1);
        REQUIRE(*res.got[i]);
        const auto& r = **res.got[i];
        CHECK(r.confirmed() >= 1);
        CHECK_FALSE(r.sync_hash);
        hashes.insert(r.hash);
        // Stamped in enqueue order, strictly increasing.
        if (i > 0) CHECK(r.timestamp_ms > (**res.got[i - 1]).timestamp_ms);
    }
    CHECK(hashes.size() == n);
}

TEST_CASE("send queue and send(): no more batches in flight than the window", "[batch][queue]") {
    QueueRig rig(2);
    rig.wire->hold = std::chrono::milliseconds(20);  // each batch takes a while: the others could overlap it
    rig.wire->most = 0;
    const std::size_t n = 200;  // 10 or more chunks
    std::vector<SessionId> to;
    for (std::size_t i = 0; i < n; ++i) to.push_back(account(static_cast<int>(1 + i % 40)));
    Results res(n);
    rig.exec->close();
    for (std::size_t i = 0; i < n; ++i)
        rig.batches->enqueue(Outgoing{to[i], text("w" + std::to_string(i))}, SendSpec{}, res.slot(i));
    rig.exec->open();
    res.wait_all();
    for (std::size_t i = 0; i < n; ++i) CHECK(*res.got[i]);
    CHECK(rig.wire->most <= 2);

    rig.wire->most = 0;
    std::vector<Outgoing> msgs;
    for (std::size_t i = 0; i < n; ++i) msgs.push_back(Outgoing{to[i], text("s" + std::to_string(i))});
    auto sent = rig.batches->send(msgs, SendSpec{});
    for (const auto& r : sent) CHECK(r);
    CHECK(rig.wire->most <= 2);
}

TEST_CASE("send queue: messages with different specs share a batch, each stored with its own TTL", "[batch][queue]") {
    QueueRig rig;
    auto home = rig.net->get_swarm(account(1));
    REQUIRE(home);
    std::vector<SessionId> to;
    for (int k = 1; to.size() < 3 && k < 200; ++k)
        if (rig.net->get_swarm(account(k))->id == home->id) to.push_back(account(k));
    REQUIRE(to.size() == 3);
    const std::vector<std::chrono::milliseconds> ttls{std::chrono::hours(1), std::chrono::hours(24 * 14),
                                                      std::chrono::hours(2)};
    Results res(3);
    const auto before = rig.net->stats().onion_requests;
    rig.exec->close();
    for (std::size_t i = 0; i < 3; ++i) {
        SendSpec spec;
        spec.ttl = ttls[i];
        rig.batches->enqueue(Outgoing{to[i], text("ttl " + std::to_string(i))}, spec, res.slot(i));
    }
    rig.exec->open();
    res.wait_all();
    CHECK(rig.net->stats().onion_requests - before == 1);
    for (std::size_t i = 0; i < 3; ++i) REQUIRE(*res.got[i]);
    // The fake swarm's expiry is the request's time plus the item's TTL: one request time for all.
    const auto expiry = [&](std::size_t i) { return (**res.got[i]).expiry_ms; };
    CHECK(expiry(1) - expiry(0) == (ttls[1] - ttls[0]).count());
    CHECK(expiry(2) - expiry(0) == (ttls[2] - ttls[0]).count());
}

TEST_CASE("send queue: sync copies go in batches too; a seal or store error fails only its message",
          "[batch][queue]") {
    QueueRig rig;
    const std::size_t n = 50;
    std::vector<SessionId> to;
    for (std::size_t i = 0; i < n; ++i) to.push_back(account(static_cast<int>(1 + i)));
    // The swarm refuses stores for to[7]; to[9]'s message is too large to seal.
    const std::string refused = to[7].hex();
    for (auto& node : rig.fake->nodes())
        node->answer = [refused](const std::string& method,
                                 const json& params) -> std::optional<std::pair<int, std::string>> {
            if (method == "store" && params.value("pubkey", "") == refused) return std::pair{400, "refused"};
            return std::nullopt;
        };
    SendSpec spec;
    spec.sync_copy = true;
    Results res(n);
    const auto before = rig.net->stats().onion_requests;
    rig.exec->close();
    for (std::size_t i = 0; i < n; ++i) {
        std::string body = i == 9 ? std::string(200'000, 'x') : "m" + std::to_string(i);
        rig.batches->enqueue(Outgoing{to[i], text(std::move(body))}, spec, res.slot(i));
    }
    rig.exec->open();
    res.wait_all();
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(res.calls[i] == 1);
        const auto& r = *res.got[i];
        if (i == 7) {
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::net_http_status);
        } else if (i == 9) {
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::envelope_too_large);
        } else {
            REQUIRE(r);
            CHECK(r->sync_hash);
            CHECK_FALSE(r->sync_error);
        }
    }
    // 48 messages (batches_for) and their 48 copies, which follow each batch that stored them:
    // at most one copy batch per message batch, plus one per 20 copies.
    std::vector<SessionId> stored;
    for (std::size_t i = 0; i < n; ++i)
        if (i != 7 && i != 9) stored.push_back(to[i]);
    const auto requests = rig.net->stats().onion_requests - before;
    CHECK(requests >= rig.batches_for(stored) + (stored.size() + kMaxBatchStores - 1) / kMaxBatchStores);
    CHECK(requests <= 2 * rig.batches_for(to) + (stored.size() + kMaxBatchStores - 1) / kMaxBatchStores);
}

TEST_CASE("send queue: destroying the BatchSender waits for every queued message's done", "[batch][queue]") {
    QueueRig rig;
    SendSpec spec;
    spec.sync_copy = true;
    const std::size_t n = 50;
    auto res = std::make_shared<Results>(n);
    for (std::size_t i = 0; i < n; ++i)
        rig.batches->enqueue(Outgoing{account(static_cast<int>(1 + i % 7)), text("bye " + std::to_string(i))}, spec,
                             res->slot(i));
    rig.batches.reset();
    // No waiting here: every callback has run, exactly once.
    {
        std::lock_guard lock(res->m);
        CHECK(res->done == n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(res->calls[i] == 1);
            REQUIRE(res->got[i]);
            CHECK(*res->got[i]);
        }
    }
}

TEST_CASE("send queue: a done may queue the next message; each chained message is sent once", "[batch][queue]") {
    QueueRig rig;
    constexpr std::size_t kChain = 5;
    Results res(kChain);
    // done(i) queues message i + 1 (from the executor thread that reports i).
    std::function<void(std::size_t)> send_from;
    send_from = [&](std::size_t i) {
        auto slot = res.slot(i);
        rig.batches->enqueue(Outgoing{account(static_cast<int>(1 + i)), text("chain " + std::to_string(i))}, SendSpec{},
                             [&, i, slot](Result<SendResult> r) {
                                 slot(std::move(r));
                                 if (i + 1 < kChain) send_from(i + 1);
                             });
    };
    send_from(0);
    res.wait_all();
    for (std::size_t i = 0; i < kChain; ++i) {
        CHECK(res.calls[i] == 1);
        REQUIRE(*res.got[i]);
        if (i > 0) CHECK((**res.got[i]).timestamp_ms > (**res.got[i - 1]).timestamp_ms);
    }
}

TEST_CASE("send queue and send(): after a 406 resync, messages are sealed again with the corrected time",
          "[batch][queue][clock]") {
    QueueRig rig;  // warm: network time known
    for (auto& n : rig.fake->nodes()) n->skew_ms = -180'000;  // the network's clocks went 3 min back
    const auto epoch = rig.net->clock_epoch();
    const std::size_t n = 3;
    // Stamped (and sealed) again for the corrected network time, not the one the swarm refused.
    const auto corrected = [](std::int64_t stamp) {
        return std::llabs(stamp - (system_clock()->now_ms() - 180'000)) < 5'000;
    };
    SECTION("the queue") {
        Results res(n);
        for (std::size_t i = 0; i < n; ++i)
            rig.batches->enqueue(Outgoing{account(static_cast<int>(1 + i)), text("late " + std::to_string(i))},
                                 SendSpec{}, res.slot(i));
        res.wait_all();
        CHECK(rig.net->clock_epoch() > epoch);
        for (std::size_t i = 0; i < n; ++i) {
            REQUIRE(*res.got[i]);
            CHECK(corrected((**res.got[i]).timestamp_ms));
        }
    }
    SECTION("send()") {
        std::vector<Outgoing> msgs;
        for (std::size_t i = 0; i < n; ++i) msgs.push_back(Outgoing{account(static_cast<int>(1 + i)), text("late")});
        auto sent = rig.batches->send(msgs, SendSpec{});
        CHECK(rig.net->clock_epoch() > epoch);
        for (const auto& r : sent) {
            REQUIRE(r);
            CHECK(corrected(r->timestamp_ms));
        }
    }
}
