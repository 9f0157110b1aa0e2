// test_network_batch.cpp: Network::store_batch (storage-server.md §5.13): many stores in one `batch`
// request, each sub-result handled on its own.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "network/parse.hpp"
#include "test_network_support.hpp"

using namespace fakenet;
namespace nd = session::network::detail;

namespace {

/// `n` accounts whose swarm (as the Network places them) is `swarm_id`, searching account(k) from `from`.
std::vector<SessionId> accounts_in(Network& net, std::uint64_t swarm_id, std::size_t n, int from = 1) {
    std::vector<SessionId> out;
    for (int k = from; out.size() < n && k < from + 250; ++k) {
        auto sw = net.get_swarm(account(k));
        REQUIRE(sw);
        if (sw->id == swarm_id) out.push_back(account(k));
    }
    REQUIRE(out.size() == n);
    return out;
}

std::vector<StoreItem> items_for(const std::vector<SessionId>& to) {
    std::vector<StoreItem> items;
    for (std::size_t i = 0; i < to.size(); ++i)
        items.push_back(StoreItem{to[i], 0, base64_encode(to_bytes("message " + std::to_string(i))), 60'000});
    return items;
}

std::string hash_of(const StoreItem& it) {
    return swarm::message_hash(it.recipient.bytes(), it.ns, *base64_decode(it.data_b64));
}

}  // namespace

TEST_CASE("network: store_batch stores one swarm's messages in one request", "[network][batch]") {
    SwarmRig rig(1);
    auto& [fake, net, acct, sw] = rig;
    const auto to = accounts_in(net, *sw->id, kMaxBatchStores);
    const auto items = items_for(to);
    const auto before = net.stats();
    auto results = net.store_batch(items);
    REQUIRE(results.size() == items.size());
    CHECK(net.stats().onion_requests - before.onion_requests == 1);
    CHECK(net.stats().swarm_lookups == before.swarm_lookups);  // placed from the pool's swarm ids
    for (std::size_t i = 0; i < items.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
        CHECK(results[i]->confirmed() >= 1);
        CHECK(fake->by_key(results[i]->entry.ed25519())->info.swarm_id == sw->id);
    }
    // A larger call is the caller's bug.
    auto too_many = items;
    too_many.push_back(items.front());
    CHECK_THROWS_AS((void)net.store_batch(too_many), std::invalid_argument);
}

TEST_CASE("network: store_batch writes its request as the JSON nlohmann would write", "[network][batch]") {
    // The batch params are written as text and not lexed again before they go (ParamsText::well_formed):
    // the request must parse, and dump back to the same bytes (keys in nlohmann's order, nothing escaped).
    SwarmRig rig(1);
    auto& [fake, net, acct, sw] = rig;
    const auto to = accounts_in(net, *sw->id, 3);
    auto items = items_for(to);
    items[1].ns = -10;
    items[2].ttl_ms = 14 * 24 * 3600 * 1000LL;
    auto results = net.store_batch(items);
    for (const auto& r : results) REQUIRE(r);
    std::vector<std::string> bodies;
    for (auto& n : fake->nodes()) bodies.insert(bodies.end(), n->batch_bodies.begin(), n->batch_bodies.end());
    REQUIRE(bodies.size() == 1);
    const json req = json::parse(bodies[0]);
    CHECK(req.dump() == bodies[0]);
    CHECK(req.at("method") == "batch");
    const auto& subs = req.at("params").at("requests");
    REQUIRE(subs.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        INFO(i);
        CHECK(subs[i].at("method") == "store");
        const auto& p = subs[i].at("params");
        CHECK(p.size() == 5);
        CHECK(p.at("pubkey") == items[i].recipient.hex());
        CHECK(p.at("namespace") == items[i].ns);
        CHECK(p.at("ttl") == items[i].ttl_ms);
        CHECK(p.at("data") == items[i].data_b64);
        CHECK(p.at("timestamp").is_number_integer());
        CHECK(p.at("timestamp") == subs[0].at("params").at("timestamp"));  // one network time per request
    }
}

TEST_CASE("network: store_batch: a 421 in one sub-request moves only that item", "[network][batch][swarm]") {
    SwarmRig rig(2);
    auto& [fake, net, acct, sw] = rig;
    const auto to = accounts_in(net, *sw->id, 5);
    fake->moved[to[2].hex()] = rig.other_swarm();
    const auto items = items_for(to);
    const auto before = net.stats().onion_requests;
    auto results = net.store_batch(items);
    // The batch, then the moved item alone in its new swarm.
    CHECK(net.stats().onion_requests - before == 2);
    for (std::size_t i = 0; i < items.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
        const auto want = i == 2 ? rig.other_swarm() : *sw->id;
        CHECK(fake->by_key(results[i]->entry.ed25519())->info.swarm_id == want);
    }
    auto moved = net.get_swarm(to[2]);
    REQUIRE(moved);
    CHECK(moved->id == rig.other_swarm());
}

TEST_CASE("network: store_batch: an error in one sub-request fails only that item", "[network][batch]") {
    SwarmRig rig(3);
    auto& [fake, net, acct, sw] = rig;
    const auto to = accounts_in(net, *sw->id, 4);
    const std::string refused = to[1].hex();
    for (auto& n : fake->nodes())
        n->answer = [refused](const std::string& method, const json& params) -> std::optional<std::pair<int, std::string>> {
            if (method == "store" && params.value("pubkey", "") == refused) return std::pair{400, std::string("bad store")};
            return std::nullopt;
        };
    const auto before = net.stats().onion_requests;
    auto results = net.store_batch(items_for(to));
    CHECK(net.stats().onion_requests - before == 1);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code == Errc::net_http_status);
    CHECK(results[1].error().message.find("status 400") != std::string::npos);
    CHECK(results[0]);
    CHECK(results[2]);
    CHECK(results[3]);
}

TEST_CASE("network: store_batch: all sub-requests failing with one status is that status", "[network][batch]") {
    SwarmRig rig(4);
    auto& [fake, net, acct, sw] = rig;
    const auto to = accounts_in(net, *sw->id, 3);
    for (auto& n : fake->nodes())
        n->answer = [](const std::string& method, const json&) -> std::optional<std::pair<int, std::string>> {
            if (method == "store") return std::pair{401, std::string("no")};
            return std::nullopt;
        };
    const auto before = net.stats().onion_requests;
    auto results = net.store_batch(items_for(to));
    CHECK(net.stats().onion_requests - before == 1);  // a 401 is final, as for store()
    for (auto& r : results) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::net_unauthorized);
    }
}

TEST_CASE("network: store_batch: items of two swarms go in one batch per swarm", "[network][batch]") {
    SwarmRig rig(5);
    auto& [fake, net, acct, sw] = rig;
    auto to = accounts_in(net, *sw->id, 3);
    const auto other = accounts_in(net, rig.other_swarm(), 3);
    to.insert(to.begin() + 1, other.begin(), other.end());
    auto items = items_for(to);
    items.push_back(StoreItem{to[0], 0, "not base64!", 60'000});  // fails alone, before any request
    const auto before = net.stats().onion_requests;
    auto results = net.store_batch(items);
    CHECK(net.stats().onion_requests - before == 2);
    for (std::size_t i = 0; i + 1 < items.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
    }
    REQUIRE_FALSE(results.back());
    CHECK(results.back().error().code == Errc::invalid_argument);
}

TEST_CASE("network: store_batch_async: store_batch's requests and results, delivered to a callback",
          "[network][batch][async]") {
    SwarmRig rig(2);
    const auto to = accounts_in(rig.net, *rig.sw->id, 5);
    rig.fake->moved[to[2].hex()] = rig.other_swarm();
    const auto items = items_for(to);
    const auto before = rig.net.stats().onion_requests;
    std::promise<std::vector<Result<StoreResult>>> promise;
    auto future = promise.get_future();
    const auto caller = std::this_thread::get_id();
    std::atomic<int> calls{0};
    std::atomic<bool> on_caller{false};
    rig.net.store_batch_async(items, [&](std::vector<Result<StoreResult>> r) {
        on_caller = std::this_thread::get_id() == caller;
        if (++calls == 1) promise.set_value(std::move(r));
    });
    auto results = future.get();
    CHECK_FALSE(on_caller);  // on the network's executor
    // As store_batch: the batch, then the moved item alone in its new swarm.
    CHECK(rig.net.stats().onion_requests - before == 2);
    REQUIRE(results.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
        const auto want = i == 2 ? rig.other_swarm() : *rig.sw->id;
        CHECK(rig.fake->by_key(results[i]->entry.ed25519())->info.swarm_id == want);
    }
    CHECK(calls == 1);
    auto too_many = std::vector<StoreItem>(kMaxBatchStores + 1, items.front());
    CHECK_THROWS_AS(rig.net.store_batch_async(too_many, [](std::vector<Result<StoreResult>>) {}), std::invalid_argument);
}

TEST_CASE("network: store_batch_async: many batches in flight from one thread, one request each",
          "[network][batch][async]") {
    SwarmRig rig(1);
    const auto to = accounts_in(rig.net, *rig.sw->id, 4);
    const auto before = rig.net.stats().onion_requests;
    constexpr int kBatches = 12;
    std::vector<std::promise<std::vector<Result<StoreResult>>>> promises(kBatches);
    std::vector<std::vector<StoreItem>> sent;
    for (int b = 0; b < kBatches; ++b) {
        auto items = items_for(to);
        for (auto& it : items) it.data_b64 = base64_encode(to_bytes("batch " + std::to_string(b) + " " + it.data_b64));
        sent.push_back(items);
        rig.net.store_batch_async(std::move(items), [&promises, b](std::vector<Result<StoreResult>> r) {
            promises[static_cast<std::size_t>(b)].set_value(std::move(r));
        });
    }
    for (int b = 0; b < kBatches; ++b) {
        auto results = promises[static_cast<std::size_t>(b)].get_future().get();
        REQUIRE(results.size() == to.size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            REQUIRE(results[i]);
            CHECK(results[i]->hash == hash_of(sent[static_cast<std::size_t>(b)][i]));
        }
    }
    CHECK(rig.net.stats().onion_requests - before == kBatches);
}

TEST_CASE("network: store_batch_async: items that fail before any request still arrive in the callback",
          "[network][batch][async]") {
    SwarmRig rig(1);
    const auto before = rig.net.stats().onion_requests;
    std::vector<StoreItem> items{StoreItem{rig.acct, 0, "not base64!", 60'000}};
    std::promise<std::vector<Result<StoreResult>>> promise;
    auto future = promise.get_future();
    rig.net.store_batch_async(items, [&](std::vector<Result<StoreResult>> r) { promise.set_value(std::move(r)); });
    auto results = future.get();
    REQUIRE(results.size() == 1);
    REQUIRE_FALSE(results[0]);
    CHECK(results[0].error().code == Errc::invalid_argument);
    CHECK(rig.net.stats().onion_requests == before);
}

TEST_CASE("network: batch results are read in order, bounded and checked", "[network][batch][parse]") {
    FakeNet fake(loopback_ips(1), 1);
    const Snode& from = fake.node(0).info;
    auto ok = nd::parse_batch_results(R"({"results":[{"code":200,"body":{"hash":"h"}},{"code":421,"body":"moved"},{"code":500}]})", 3, from);
    REQUIRE(ok);
    REQUIRE(ok->size() == 3);
    CHECK((*ok)[0].status == 200);
    // A 2xx object body stays parsed (not written out and read again); other bodies are text.
    REQUIRE((*ok)[0].object != nullptr);
    CHECK(*(*ok)[0].object == json{{"hash", "h"}});
    CHECK((*ok)[0].body.empty());
    CHECK((*ok)[1].object == nullptr);
    auto results = std::move(*ok);  // the parsed body lives as long as its result
    CHECK(*results[0].object == json{{"hash", "h"}});
    CHECK(results[1].status == 421);
    CHECK(results[1].body == "moved");
    CHECK(results[2].body == "null");
    auto text = nd::parse_batch_results(R"({"results":[{"code":200,"body":"stored"},{"code":400,"body":{"e":1}}]})", 2, from);
    REQUIRE(text);
    CHECK((*text)[0].body == "stored");
    CHECK((*text)[1].object == nullptr);
    CHECK(json::parse((*text)[1].body) == json{{"e", 1}});
    CHECK_FALSE(nd::parse_batch_results(R"({"results":[{"code":200}]})", 2, from));  // fewer than sent
    CHECK_FALSE(nd::parse_batch_results(R"({"results":[{"code":"200"}]})", 1, from));
    CHECK_FALSE(nd::parse_batch_results(R"({"results":[{"code":1000}]})", 1, from));
    CHECK_FALSE(nd::parse_batch_results(R"({"results":{}})", 1, from));
    CHECK_FALSE(nd::parse_batch_results(R"({"results":[)" + deep_json(100) + "]}", 1, from));
    json many = {{"results", json::array()}};
    for (std::size_t i = 0; i <= nd::kMaxBatchResults; ++i) many["results"].push_back({{"code", 200}});
    CHECK_FALSE(nd::parse_batch_results(many.dump(), nd::kMaxBatchResults + 1, from));
}

TEST_CASE("network: store_batch: after a 406 resync, items with a rebuild are made again for the new time",
          "[network][batch][clock]") {
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    for (auto& n : fake->nodes()) n->skew_ms = -180'000;  // the swarm's clocks 3 min behind ours
    Network net(fake_options(fake));
    auto first = net.get_swarm(account(1));
    REQUIRE(first);
    const auto to = accounts_in(net, *first->id, 3);
    std::vector<std::vector<std::int64_t>> built(3);
    auto items = items_for(to);
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i == 2) continue;  // one without: it goes as it was
        items[i].rebuild = [&built, i](std::int64_t now) -> Result<std::string> {
            built[i].push_back(now);
            return base64_encode(to_bytes("message " + std::to_string(i) + " for " + std::to_string(now)));
        };
    }
    const auto epoch = net.clock_epoch();
    auto results = net.store_batch(items);
    CHECK(net.clock_epoch() == epoch + 1);  // the 406 made it resynchronise
    REQUIRE(results.size() == 3);
    for (std::size_t i = 0; i < 2; ++i) {
        REQUIRE(built[i].size() == 1);  // once, for the corrected time
        CHECK(std::llabs(built[i][0] - (system_clock()->now_ms() - 180'000)) < 5'000);
        REQUIRE(results[i]);
        const auto data = "message " + std::to_string(i) + " for " + std::to_string(built[i][0]);
        CHECK(results[i]->hash == swarm::message_hash(to[i].bytes(), 0, to_bytes(data)));
        CHECK(results[i]->confirmed() == 5);
    }
    REQUIRE(results[2]);
    CHECK(results[2]->hash == hash_of(items[2]));

    // A rebuild that fails leaves its item as it was.
    for (auto& n : fake->nodes()) n->skew_ms = 0;  // our offset is now 3 min off: another 406, another resync
    auto kept = items_for(to);
    int tries = 0;
    kept[0].rebuild = [&tries](std::int64_t) -> Result<std::string> {
        ++tries;
        return unexpected(Errc::key_invalid, "seal failed");
    };
    auto again = net.store_batch(kept);
    CHECK(net.clock_epoch() == epoch + 2);
    CHECK(tries == 1);
    REQUIRE(again[0]);
    CHECK(again[0]->hash == hash_of(kept[0]));
}

TEST_CASE("network: store_batch: after an attempt that may have stored, a resync does not make the items again",
          "[network][batch][clock]") {
    // Attempt 1 stores the batch but its reply is lost; attempt 2 is refused with a 406 and the
    // clock resynchronised. Attempt 3 must carry the first data: made again, each would be a
    // second message.
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    auto first = net.get_swarm(account(1));
    REQUIRE(first);
    const auto to = accounts_in(net, *first->id, 2);
    std::vector<json> carried;  // the store sub-requests of each batch that reached a member
    for (auto& n : fake->nodes()) {
        n->answer = [&](const std::string& m, const json& params) -> std::optional<std::pair<int, std::string>> {
            if (m != "batch") return std::nullopt;
            carried.push_back(params.at("requests"));
            if (carried.size() == 2) return std::pair{406, std::string("Timestamp error: check your clock")};
            return std::nullopt;
        };
        n->raw_reply = [&](const std::string& m) -> std::optional<std::string> {
            if (m == "batch" && carried.size() == 1) return std::string("not a reply");
            return std::nullopt;
        };
    }
    int rebuilds = 0;
    auto items = items_for(to);
    for (auto& it : items)
        it.rebuild = [&rebuilds](std::int64_t now) -> Result<std::string> {
            ++rebuilds;
            return base64_encode(to_bytes("made again for " + std::to_string(now)));
        };
    const auto epoch = net.clock_epoch();
    auto results = net.store_batch(items);
    CHECK(net.clock_epoch() == epoch + 1);  // the 406 did resynchronise
    CHECK(rebuilds == 0);
    REQUIRE(carried.size() == 3);
    for (std::size_t i = 0; i < items.size(); ++i) {
        CHECK(carried[2][i]["params"]["data"] == carried[0][i]["params"]["data"]);
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
    }
}

TEST_CASE("network: store_batch: an item sealed in an older clock epoch is made again before the first attempt",
          "[network][batch][clock]") {
    // StoreItem::data_epoch: network time moved between the sealing and the call (here: the item
    // says it was sealed an epoch ago). No 406 is needed for it to be made again; an item of the
    // current epoch, or one that does not say (the epoch of the call), goes as it is.
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2);
    Network net(fake_options(fake));
    auto first = net.get_swarm(account(1));
    REQUIRE(first);
    const auto to = accounts_in(net, *first->id, 3);
    std::vector<int> built(3, 0);
    auto items = items_for(to);
    for (std::size_t i = 0; i < items.size(); ++i)
        items[i].rebuild = [&built, i](std::int64_t now) -> Result<std::string> {
            ++built[i];
            return base64_encode(to_bytes("message " + std::to_string(i) + " for " + std::to_string(now)));
        };
    const auto epoch = net.clock_epoch();
    items[0].data_epoch = epoch - 1;  // sealed before a move
    items[1].data_epoch = epoch;
    auto results = net.store_batch(items);
    REQUIRE(net.clock_epoch() == epoch);  // nothing moved during the call
    CHECK(built == std::vector<int>{1, 0, 0});
    REQUIRE(results.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) REQUIRE(results[i]);
    CHECK(results[0]->hash != hash_of(items[0]));
    CHECK(results[1]->hash == hash_of(items[1]));
    CHECK(results[2]->hash == hash_of(items[2]));
}

TEST_CASE("network: store_batch_async: recipients whose swarms must be looked up are grouped once the answers come",
          "[network][batch][async][swarm]") {
    // Seeds without swarm ids: no swarm can be placed from the pool, so each recipient is looked up
    // (get_swarm), as steps of the executor, before the items are grouped.
    auto fake = std::make_shared<FakeNet>(loopback_ips(10), 2, /*seed_gives_swarm_ids=*/false);
    Network finder(fake_options(fake));
    std::map<std::uint64_t, std::vector<SessionId>> by_swarm;
    for (int k = 1; k < 200 && (by_swarm.size() < 2 || by_swarm.begin()->second.size() < 3 ||
                                std::next(by_swarm.begin())->second.size() < 3);
         ++k) {
        auto sw = finder.get_swarm(account(k));
        REQUIRE(sw);
        REQUIRE(sw->id);
        if (by_swarm[*sw->id].size() < 3) by_swarm[*sw->id].push_back(account(k));
    }
    REQUIRE(by_swarm.size() == 2);
    std::vector<SessionId> to;
    for (std::size_t i = 0; i < 3; ++i)
        for (const auto& [id, accounts] : by_swarm) to.push_back(accounts.at(i));  // the swarms interleaved
    const auto items = items_for(to);

    auto options = fake_options(fake);
    options.executor = make_thread_pool(ThreadPoolOptions{1});
    Network net(std::move(options));
    REQUIRE(net.bootstrap());
    const auto before = net.stats();
    std::promise<std::vector<Result<StoreResult>>> promise;
    net.store_batch_async(items, [&](std::vector<Result<StoreResult>> r) { promise.set_value(std::move(r)); });
    auto future = promise.get_future();
    REQUIRE(future.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    const auto results = future.get();
    CHECK(net.stats().swarm_lookups - before.swarm_lookups == to.size());
    CHECK(net.stats().onion_requests - before.onion_requests == to.size() + 2);  // 6 lookups, 2 batches
    REQUIRE(results.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->hash == hash_of(items[i]));
        const auto want = std::next(by_swarm.begin(), static_cast<long>(i % 2))->first;
        CHECK(fake->by_key(results[i]->entry.ed25519())->info.swarm_id == want);
    }
}
