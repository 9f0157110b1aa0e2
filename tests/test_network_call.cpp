// test_network_call.cpp: the retrying RPC call (src/network/call.hpp): how a failed onion POST is
// classified, the payload and status errors, backoff, and one call's attempts against the fake
// onion network (headers, targets, retries).
#include "network/call.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
namespace nd = session::network::detail;

namespace {

Result<HttpResponse> status(int code, std::string body) { return HttpResponse{code, "text/plain", to_bytes(body)}; }

/// The fake network as a transport whose timers (Transport::after) a test can hold: held, they wait
/// in `held` until the test runs them; otherwise they behave as the default (sleep, then run).
struct HoldableTimers final : Transport {
    Transport& inner;
    std::atomic<bool> hold{false};
    std::mutex m;
    std::vector<std::pair<std::chrono::milliseconds, std::function<void()>>> held;

    explicit HoldableTimers(Transport& t) : inner(t) {}
    Result<HttpResponse> post(const HttpRequest& request) override { return inner.post(request); }
    void post_async(HttpRequest request, Done done) override { inner.post_async(std::move(request), std::move(done)); }
    void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
        if (!hold) return Transport::after(delay, std::move(fn));
        std::lock_guard lk(m);
        held.emplace_back(delay, std::move(fn));
    }
    std::size_t held_count() {
        std::lock_guard lk(m);
        return held.size();
    }
};

/// A Pool, PathSet, clock and Caller over a FakeNet, with hooks that count what the call asked.
struct CallRig final : nd::CallHooks {
    std::shared_ptr<FakeNet> fake;
    HoldableTimers timers;
    NetworkConfig cfg = fake_config();
    std::shared_ptr<Rng> rng = deterministic_rng(3);
    nd::Logger log;
    nd::NetworkClock clock{system_clock(), log};
    nd::Pool pool;
    nd::PathSet paths{cfg, *rng, log};
    nd::Caller caller;
    int swarm_lookups = 0, resyncs = 0, moves = 0;

    explicit CallRig(std::size_t nodes = 10)
            : fake(std::make_shared<FakeNet>(loopback_ips(nodes), 2)),
              timers(*fake),
              pool({cfg, fake, make_thread_pool(), *rng, clock, "", log}),
              caller({cfg, timers, pool, paths, clock, *rng, log, *this}) {
        REQUIRE(pool.ensure([](const Snode&) { return std::optional<std::vector<Snode>>(); }));
    }
    Result<Swarm> swarm_for(const SessionId& account, bool) override {
        ++swarm_lookups;
        const auto id = fake->swarm_of(account.hex());
        Swarm s{id, {}};
        for (auto& n : fake->nodes())
            if (n->info.swarm_id == id) s.nodes.push_back(n->info);
        return s;
    }
    // Held, a swarm lookup waits in `held_lookups` until the test answers it.
    std::atomic<bool> hold_lookups{false};
    std::vector<std::function<void(Result<Swarm>)>> held_lookups;
    void swarm_for_async(const SessionId& account, bool refetch, Executor& steps,
                         std::function<void(Result<Swarm>)> done) override {
        if (!hold_lookups) return nd::CallHooks::swarm_for_async(account, refetch, steps, std::move(done));
        std::lock_guard lk(timers.m);
        held_lookups.push_back(std::move(done));
    }
    std::size_t held_lookup_count() {
        std::lock_guard lk(timers.m);
        return held_lookups.size();
    }
    // Held, a clock resync waits in `held_resyncs` until the test ends it.
    std::atomic<bool> hold_resyncs{false};
    std::vector<std::function<void(Result<void>)>> held_resyncs;
    void resync_clock_async(std::int64_t, Executor&, std::function<void(Result<void>)> done) override {
        ++resyncs;
        if (!hold_resyncs) return done({});
        std::lock_guard lk(timers.m);
        held_resyncs.push_back(std::move(done));
    }
    std::size_t held_resync_count() {
        std::lock_guard lk(timers.m);
        return held_resyncs.size();
    }
    void swarm_moved(const SessionId&, const Snode&, std::string_view) override { ++moves; }
};

const ParamsBuilder kEmpty = [](std::int64_t) -> Result<std::string> { return std::string("{}"); };

/// A retrieve call to `acct`'s swarm run with call_async on an executor of one thread; the params'
/// timestamps are kept, one per attempt.
struct OneThreadCall {
    SessionId acct;
    std::shared_ptr<Executor> steps = make_thread_pool(ThreadPoolOptions{1});
    std::promise<Result<RpcReply>> promise;
    std::future<Result<RpcReply>> result = promise.get_future();
    std::vector<std::int64_t> stamps;

    OneThreadCall(CallRig& rig, SessionId account) : acct(std::move(account)) {
        ParamsBuilder b = [this](std::int64_t now) -> Result<std::string> {
            stamps.push_back(now);
            return json{{"pubkey", acct.hex()}, {"timestamp", now}, {"signature", "x"}}.dump();
        };
        rig.caller.call_async(nd::ToSwarm{acct}, "retrieve", b, std::chrono::seconds(5), true, *steps,
                              [this](Result<RpcReply> r) { promise.set_value(std::move(r)); });
    }
    /// Waits until `held()` is 1 (what the call waits for is with the test), then checks that the
    /// executor's one thread is free (a task posted now runs) and that the call has not ended.
    void check_waiting_without_a_thread(const std::function<std::size_t()>& held) {
        for (int i = 0; i < 5000 && held() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        REQUIRE(held() == 1);
        std::promise<void> ran;
        steps->post([&] { ran.set_value(); });
        CHECK(ran.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
        CHECK(result.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
    }
    Result<RpcReply> end() {
        REQUIRE(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
        return result.get();
    }
};

}  // namespace

TEST_CASE("network: classify_failure: who a failed onion POST blames", "[network][call]") {
    FakeNet net(loopback_ips(2), 1);
    const auto guard = net.node(0).info, dest = net.node(1).info;
    using Blame = nd::FailureVerdict::Blame;

    auto refused = nd::classify_failure(unexpected(Errc::net_connect, "refused"), guard, dest);
    CHECK(refused.fail == nd::Fail::path);
    CHECK(refused.blame == Blame::guard);
    CHECK_FALSE(refused.suspects_from);  // the guard is known: no suspects

    auto timeout = nd::classify_failure(unexpected(Errc::net_timeout, "slow"), guard, dest);
    CHECK(timeout.blame == Blame::path);
    CHECK(timeout.error.code == Errc::net_timeout);
    CHECK(timeout.suspects_from == 0u);  // any hop, the guard included

    auto relayed = nd::classify_failure(status(504, "Request time out"), guard, dest);
    CHECK(relayed.error.code == Errc::net_timeout);
    CHECK(relayed.suspects_from == 1u);  // the guard answered: the fault lies past it

    auto other = nd::classify_failure(status(500, "Internal Server Error"), guard, dest);
    CHECK(other.error.code == Errc::net_path_failed);
    CHECK(other.suspects_from == 0u);

    auto gone_dest = nd::classify_failure(status(502, "Next node not found: " + dest.ed25519_hex()), guard, dest);
    CHECK(gone_dest.fail == nd::Fail::dest);
    CHECK(gone_dest.blame == Blame::named_node);
    CHECK(gone_dest.named == dest.ed25519());
    CHECK(gone_dest.error.code == Errc::net_node_not_found);

    auto gone_relay = nd::classify_failure(status(502, "Next node not found: " + guard.ed25519_hex()), guard, dest);
    CHECK(gone_relay.fail == nd::Fail::path);
    CHECK(gone_relay.named == guard.ed25519());

    // The peer's text is quoted: bounded and without control characters.
    auto noisy = nd::classify_failure(status(500, "\x1b[31m" + std::string(5000, 'x')), guard, dest);
    CHECK(noisy.error.message.find('\x1b') == std::string::npos);
    CHECK(noisy.error.message.size() < 400);
}

TEST_CASE("network: rpc_payload, status_error and backoff", "[network][call]") {
    auto p = nd::rpc_payload("store", R"({"a":1})");
    REQUIRE(p);
    CHECK(json::parse(*p) == json{{"method", "store"}, {"params", {{"a", 1}}}});
    CHECK(nd::rpc_payload("store", "[1]").error().code == Errc::invalid_argument);
    CHECK(nd::rpc_payload("store", "{").error().code == Errc::invalid_argument);
    // The params text goes as given (not parsed and written again); the method is JSON-escaped.
    auto spaced = nd::rpc_payload("a\"b", " {\"z\": [1, 2], \"a\": \"\\u00e9\"}\n");
    REQUIRE(spaced);
    CHECK(*spaced == "{\"method\":\"a\\\"b\",\"params\": {\"z\": [1, 2], \"a\": \"\\u00e9\"}\n}");
    CHECK(json::parse(*spaced) == json{{"method", "a\"b"}, {"params", {{"z", {1, 2}}, {"a", "\u00e9"}}}});
    // Refused: trailing text, a string that is not UTF-8, nesting past the limit, nothing at all.
    for (const std::string& bad : {std::string(R"({"a":1} x)"), std::string("{\"a\":\"\xff\"}"),
                                  "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}", std::string(" "),
                                  std::string()})
        CHECK(nd::rpc_payload("store", bad).error().code == Errc::invalid_argument);

    FakeNet net(loopback_ips(1), 1);
    auto code = [&](int s) { return nd::status_error("m", RpcReply{s, "x", net.node(0).info}).code; };
    CHECK(code(401) == Errc::net_unauthorized);
    CHECK(code(403) == Errc::net_unauthorized);
    CHECK(code(406) == Errc::net_clock_skew);
    CHECK(code(425) == Errc::net_clock_skew);
    CHECK(code(421) == Errc::net_swarm_moved);
    CHECK(code(500) == Errc::net_http_status);

    NetworkConfig cfg;
    cfg.retry_base_delay = std::chrono::milliseconds(100);
    cfg.retry_max_delay = std::chrono::milliseconds(5000);
    CHECK(nd::backoff(cfg, 1) == std::chrono::milliseconds(100));
    CHECK(nd::backoff(cfg, 3) == std::chrono::milliseconds(400));
    CHECK(nd::backoff(cfg, 10) == std::chrono::milliseconds(5000));
    CHECK(nd::backoff(cfg, 1000) == std::chrono::milliseconds(5000));  // no shift overflow
}

TEST_CASE("network: may_have_landed: which attempts may have been carried out", "[network][call]") {
    auto attempt = [](nd::Fail f, int status) {
        nd::Attempt a;
        a.fail = f;
        a.reply.status = status;
        return a;
    };
    CHECK_FALSE(nd::may_have_landed(attempt(nd::Fail::fatal, 0), "store"));  // never sent
    for (int refused : {400, 401, 403, 404, 406, 421, 425})
        CHECK_FALSE(nd::may_have_landed(attempt(nd::Fail::none, refused), "store"));
    for (int carried : {200, 500, 502, 503})
        CHECK(nd::may_have_landed(attempt(nd::Fail::none, carried), "store"));
    CHECK(nd::may_have_landed(attempt(nd::Fail::path, 0), "store"));  // a timeout, a reply lost on the way
    CHECK(nd::may_have_landed(attempt(nd::Fail::dest, 0), "store"));  // a garbled reply
    // A batch: refused only when every sub-request was refused with one 4xx.
    auto batch = [&](std::vector<int> codes) {
        json results = json::array();
        for (int c : codes) results.push_back({{"code", c}, {"body", "x"}});
        auto a = attempt(nd::Fail::none, 200);
        a.reply.body = json{{"results", results}}.dump();
        return nd::may_have_landed(a, "batch");
    };
    CHECK_FALSE(batch({406, 406, 406}));
    CHECK_FALSE(batch({421}));
    CHECK(batch({406, 200}));
    CHECK(batch({406, 421}));
    CHECK(batch({500, 500}));
    CHECK(batch({200, 200}));
}

TEST_CASE("network: an onion POST is binary, with desktop's headers", "[network][call]") {
    CallRig rig;
    auto r = rig.caller.call(nd::ToAnyNode{}, "info", kEmpty, std::chrono::seconds(5), false);
    REQUIRE(r);
    CHECK(r->status == 200);
    std::map<std::string, std::string> h(rig.fake->last_onion_headers.begin(), rig.fake->last_onion_headers.end());
    CHECK(h["Content-Type"] == "application/octet-stream");
    CHECK(h["User-Agent"] == "WhatsApp");
    CHECK(rig.caller.onion_requests() == 1);
}

TEST_CASE("network: a call to one node retries other paths, never other nodes", "[network][call]") {
    CallRig rig;
    const auto node = rig.fake->node(0).info;
    rig.fake->node(0).dest_status = 503;
    auto r = rig.caller.call(nd::ToNode{node, std::nullopt}, "info", kEmpty, std::chrono::seconds(5), false);
    REQUIRE(r);
    CHECK(r->status == 503);  // a fixed node's 5xx is its answer (and a strike)
    CHECK(r->node == node);
    CHECK(rig.caller.onion_requests() == 1);
    rig.fake->node(0).dest_status = 0;

    // A destination unknown to the relays: struck out, and the call ends (it cannot move).
    rig.fake->node(1).unknown = true;
    auto gone = rig.caller.call(nd::ToNode{rig.fake->node(1).info, std::nullopt}, "info", kEmpty, std::chrono::seconds(5), false);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == Errc::net_node_not_found);
    CHECK_FALSE(rig.pool.is_usable(rig.fake->node(1).info));
}

TEST_CASE("network: a call to a swarm moves to another member after a 5xx and follows a 421", "[network][call]") {
    CallRig rig;
    const auto acct = account(9);
    auto sw = rig.swarm_for(acct, false);
    REQUIRE(sw);
    rig.swarm_lookups = 0;
    rig.fake->by_key(sw->nodes[0].ed25519())->dest_status = 500;
    rig.fake->by_key(sw->nodes[1].ed25519())->dest_status = 500;
    ParamsBuilder b = [&](std::int64_t now) -> Result<std::string> {
        return json{{"pubkey", acct.hex()}, {"timestamp", now}, {"signature", "x"}}.dump();
    };
    auto r = rig.caller.call(nd::ToSwarm{acct}, "retrieve", b, std::chrono::seconds(5), true);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(rig.fake->by_key(r->node.ed25519())->dest_status == 0);
    CHECK(rig.caller.onion_requests() <= 3);

    // Every member says 421: the call tells the hooks and gives up after kMaxSwarmRedirects.
    const std::uint64_t other = *sw->id == 0x1000000000000000ull ? 0x2000000000000000ull : 0x1000000000000000ull;
    for (auto& n : rig.fake->nodes()) n->dest_status = 0;
    rig.fake->moved[acct.hex()] = other;
    auto moved = rig.caller.call(nd::ToNode{sw->nodes[0], acct}, "retrieve", b, std::chrono::seconds(5), true);
    REQUIRE(moved);
    CHECK(moved->status == 421);
    CHECK(rig.moves == 1);
}

TEST_CASE("network: the backoff between attempts is a transport timer, not a waiting thread", "[network][call][async]") {
    CallRig rig;
    rig.timers.hold = true;
    const auto acct = account(9);
    auto sw = rig.swarm_for(acct, false);
    REQUIRE(sw);
    for (auto& n : rig.fake->nodes()) n->dest_status = 500;  // the first attempt fails, whoever it reaches
    OneThreadCall call(rig, acct);
    // The failed attempt leaves a timer with the transport and nothing else.
    call.check_waiting_without_a_thread([&] { return rig.timers.held_count(); });
    CHECK(rig.caller.onion_requests() == 1);
    std::function<void()> fire;
    {
        std::lock_guard lk(rig.timers.m);
        CHECK(rig.timers.held[0].first == nd::backoff(rig.cfg, 1));
        fire = std::move(rig.timers.held[0].second);
        rig.timers.held.clear();
    }
    for (auto& n : rig.fake->nodes()) n->dest_status = 0;
    fire();  // the backoff is over: the next attempt goes out, to another member
    auto r = call.end();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(rig.caller.onion_requests() == 2);
}

TEST_CASE("network: a call waiting for its swarm lookup holds no thread of its executor", "[network][call][async]") {
    CallRig rig;
    rig.hold_lookups = true;
    const auto acct = account(9);
    OneThreadCall call(rig, acct);
    // Nothing is sent while the lookup is out.
    call.check_waiting_without_a_thread([&] { return rig.held_lookup_count(); });
    CHECK(rig.caller.onion_requests() == 0);

    std::function<void(Result<Swarm>)> answer;
    {
        std::lock_guard lk(rig.timers.m);
        answer = std::move(rig.held_lookups[0]);
        rig.held_lookups.clear();
    }
    SECTION("the answer sends the call to a member of that swarm") {
        auto sw = rig.swarm_for(acct, false);
        REQUIRE(sw);
        call.steps->post([answer, sw] { answer(*sw); });
        auto r = call.end();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(std::any_of(sw->nodes.begin(), sw->nodes.end(),
                          [&](const Snode& n) { return n.keys.ed25519 == r->node.keys.ed25519; }));
        CHECK(rig.caller.onion_requests() == 1);
    }
    SECTION("a failed lookup ends the call with its error") {
        call.steps->post([answer] { answer(unexpected(Errc::net_no_nodes, "network: lookup refused")); });
        auto r = call.end();
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_no_nodes);
        CHECK(rig.caller.onion_requests() == 0);
    }
}

TEST_CASE("network: a call waiting for a clock resync after a 406 holds no thread of its executor", "[network][call][async]") {
    CallRig rig;
    rig.hold_resyncs = true;
    const auto acct = account(9);
    for (auto& n : rig.fake->nodes()) n->dest_status = 406;  // whoever the first attempt reaches
    OneThreadCall call(rig, acct);
    // Nothing more is sent while the resync is out.
    call.check_waiting_without_a_thread([&] { return rig.held_resync_count(); });
    CHECK(rig.caller.onion_requests() == 1);
    CHECK(rig.timers.held_count() == 0);

    std::function<void(Result<void>)> synced;
    {
        std::lock_guard lk(rig.timers.m);
        synced = std::move(rig.held_resyncs[0]);
        rig.held_resyncs.clear();
    }
    for (auto& n : rig.fake->nodes()) n->dest_status = 0;
    SECTION("the resync done, the call rebuilds its params and sends again") {
        synced({});
    }
    SECTION("a failed resync is logged, and the call still tries again") {
        synced(unexpected(Errc::net_no_nodes, "network: clock sync: no answer"));
    }
    auto r = call.end();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(rig.caller.onion_requests() == 2);
    CHECK(rig.resyncs == 1);
    CHECK(call.stamps.size() == 2);  // the params were built again
}
