// Fault injection in the local network: each control does what it says, from the in-process
// class and through the HTTP control endpoint.
#include "localnet/localnet.hpp"

#include <catch2/catch.hpp>

#include <chrono>

#include "localnet/internal.hpp"
#include "test_localnet_support.hpp"

using namespace lntest;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

Http control(const Network& net, const json& cmd) {
    auto url = net.control_url();  // http://127.0.0.1:PORT/control
    const auto port = std::stoi(url.substr(std::string("http://127.0.0.1:").size()));
    httplib::Client cli("127.0.0.1", port);
    Http out;
    auto r = cli.Post("/control", cmd.dump(), "application/json");
    if (!r) return out;
    out.transport_ok = true;
    out.status = r->status;
    out.body = r->body;
    return out;
}

json info_params() { return json::object(); }

}  // namespace

TEST_CASE("localnet faults: a stopped node refuses connections and comes back with its messages", "[localnet][faults]") {
    auto net = start();
    const auto swarm = net->swarm_ids()[0];
    Account a = account_in(*net, swarm);
    const auto members = net->swarm_members(swarm);
    const auto victim = members[1];
    net->stop_node(victim);
    CHECK_FALSE(net->node(victim).running);
    auto r = rpc(*net, victim, "info", info_params());
    CHECK_FALSE(r.transport_ok);
    CHECK(r.error == httplib::Error::Connection);
    // Replication reports the stopped member as a timeout; the store still succeeds.
    auto st = rpc(*net, members[0], "store",
                  json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YWJj"}});
    REQUIRE(st.status == 200);
    auto sw = st.j()["swarm"];
    CHECK(sw[net->node(victim).pubkey_ed25519] == json{{"failed", true}, {"timeout", true}});
    CHECK(sw[net->node(members[2]).pubkey_ed25519].contains("signature"));
    // Back up on the same address and port.
    const auto port = net->node(victim).port;
    REQUIRE(net->start_node(victim));
    CHECK(net->node(victim).port == port);
    CHECK(rpc(*net, victim, "info", info_params()).status == 200);
    CHECK(net->message_count(members[0]) == 1);
    CHECK(net->message_count(victim) == 0);  // it missed the store while down
}

TEST_CASE("localnet faults: latency delays every request of that node", "[localnet][faults]") {
    auto net = start();
    net->set_latency(4, milliseconds(300));
    const auto t0 = steady_clock::now();
    auto r = rpc(*net, 4, "info", info_params());
    const auto elapsed = steady_clock::now() - t0;
    CHECK(r.status == 200);
    CHECK(elapsed >= milliseconds(300));
    CHECK(net->counters(4).delayed == 1);
    CHECK(net->counters(3).delayed == 0);
    net->set_latency(4, milliseconds(0));
    rpc(*net, 4, "info", info_params());
    CHECK(net->counters(4).delayed == 1);
}

TEST_CASE("localnet faults: dropped requests get no answer; a fraction drops about that often", "[localnet][faults]") {
    auto net = start();
    net->set_drop_rate(6, 1.0);
    auto r = rpc(*net, 6, "info", info_params());
    CHECK_FALSE(r.transport_ok);
    CHECK(net->counters(6).dropped == 1);
    CHECK(net->counters(6).http_requests == 1);
    net->set_drop_rate(6, 0.5);
    int ok = 0, failed = 0;
    for (int i = 0; i < 40; ++i) (rpc(*net, 6, "info", info_params()).transport_ok ? ok : failed)++;
    CHECK(ok > 0);
    CHECK(failed > 0);
    CHECK(net->counters(6).dropped == static_cast<std::uint64_t>(failed) + 1);
    net->clear_faults();
    CHECK(rpc(*net, 6, "info", info_params()).status == 200);
}

TEST_CASE("localnet faults: timing-out requests hang until the client gives up", "[localnet][faults]") {
    auto net = start();  // hang_time 1.5 s
    net->set_drop_rate(2, 1.0, true);
    auto n = net->node(2);
    const auto t0 = steady_clock::now();
    auto r = post(*net, n.ip, n.port, "/storage_rpc/v1", R"({"method":"info","params":{}})", /*read_timeout_s=*/1);
    CHECK_FALSE(r.transport_ok);
    CHECK(steady_clock::now() - t0 >= milliseconds(900));
    CHECK(net->counters(2).hung == 1);
    net->set_drop_rate(2, 0.0);
    CHECK(rpc(*net, 2, "info", info_params()).status == 200);
}

TEST_CASE("localnet faults: clock skew moves a node's time and its 406 window", "[localnet][faults]") {
    auto net = start();
    net->set_clock_skew(1, seconds(-3600));
    auto j = rpc(*net, 1, "info", info_params()).j();
    const auto delta = j["timestamp"].get<std::int64_t>() - now_ms();
    CHECK(delta < -3590000);
    CHECK(delta > -3610000);
    CHECK(std::llabs(net->now_ms(1) - now_ms() + 3600000) < 5000);
    // A store with the true time is "in the future" for the skewed node.
    Account a = account_in(*net, net->node(1).swarm_id);
    auto st = rpc(*net, 1, "store", json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "YWJj"}});
    CHECK(st.status == 406);
    CHECK(st.body == "Timestamp error: check your clock");
}

TEST_CASE("localnet faults: moving an account migrates its messages and makes the old swarm answer 421", "[localnet][faults]") {
    auto net = start();
    const auto from = net->swarm_ids()[0], to = net->swarm_ids()[1];
    Account a = account_in(*net, from);
    auto st = rpc(*net, net->swarm_members(from)[0], "store",
                  json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 60000}, {"data", "bW92ZQ=="}});
    REQUIRE(st.status == 200);
    const std::string hash = st.j()["hash"];
    REQUIRE(net->move_account(a.session_id(), to));
    CHECK(*net->swarm_for(a.session_id()) == to);
    const auto t = now_ms();
    json p = a.auth("retrieve" + std::to_string(t));
    p["timestamp"] = t;
    auto old = rpc(*net, net->swarm_members(from)[2], "retrieve", p);
    REQUIRE(old.status == 421);
    CHECK(old.j()["swarm"] == session::localnet::detail::hex_u64(to));
    for (auto m : net->swarm_members(to)) {
        auto r = rpc(*net, m, "retrieve", p);
        REQUIRE(r.status == 200);
        REQUIRE(r.j()["messages"].size() == 1);
        CHECK(r.j()["messages"][0]["hash"] == hash);
    }
    for (auto m : net->swarm_members(from)) CHECK(net->message_count(m) == 0);
    CHECK(rpc(*net, 0, "get_swarm", json{{"pubkey", a.session_id()}}).j()["swarm"] ==
          session::localnet::detail::hex_u64(to));
    CHECK_FALSE(net->move_account(a.session_id(), 12345));
    CHECK_FALSE(net->move_account("05zz", to));
}

TEST_CASE("localnet faults: seeds can be taken down (2 of 3) and brought back", "[localnet][faults]") {
    Options o = fast_options();
    o.seed_count = 3;
    auto net = start(o);
    auto port = [&](std::size_t k) {
        return std::stoi(net->seed_urls()[k].substr(std::string("https://127.0.0.1:").size()));
    };
    const std::string req = R"({"jsonrpc":"2.0","method":"get_n_service_nodes","params":{"active_only":true}})";
    REQUIRE(net->set_seed_down(0, true));
    REQUIRE(net->set_seed_down(2, true));
    CHECK(post(*net, "127.0.0.1", port(0), "/json_rpc", req).error == httplib::Error::Connection);
    CHECK(post(*net, "127.0.0.1", port(2), "/json_rpc", req).error == httplib::Error::Connection);
    CHECK(post(*net, "127.0.0.1", port(1), "/json_rpc", req).status == 200);
    REQUIRE(net->set_seed_down(0, false));
    CHECK(post(*net, "127.0.0.1", port(0), "/json_rpc", req).status == 200);
    CHECK(net->seed_counters(0).methods["get_n_service_nodes"] == 1);
    CHECK(net->seed_counters(2).http_requests == 0);
}

TEST_CASE("localnet faults: corrupted answers differ from the real ones", "[localnet][faults]") {
    auto net = start();
    Account a = account_in(*net, net->node(8).swarm_id);
    const std::string pk = a.session_id();
    auto good = rpc(*net, 8, "get_swarm", json{{"pubkey", pk}});
    net->set_corrupt(8, 1.0);
    json g = good.j();
    g.erase("t");
    // Each answer gets one character swapped. It may land in "t" (which differs between requests
    // anyway and is left out of the comparison), so of 5 corrupted answers at least one must differ.
    // A swap can also break the JSON; nlohmann compares a discarded value as neither equal nor
    // unequal, so that case counts on its own.
    int differing = 0;
    for (int i = 0; i < 5; ++i) {
        auto bad = rpc(*net, 8, "get_swarm", json{{"pubkey", pk}});
        CHECK(bad.status == 200);
        CHECK(bad.body.size() == good.body.size());
        json b = json::parse(bad.body, nullptr, false);
        if (!b.is_discarded()) b.erase("t");
        if (b.is_discarded() || b != g) ++differing;
    }
    CHECK(differing >= 1);
    CHECK(net->counters(8).corrupted == 5);
}

TEST_CASE("localnet faults: the HTTP control endpoint drives the same controls", "[localnet][faults]") {
    auto net = start();
    REQUIRE_FALSE(net->control_url().empty());
    auto r = control(*net, json{{"cmd", "stop_node"}, {"node", 3}});
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["ok"] == true);
    CHECK_FALSE(rpc(*net, 3, "info", info_params()).transport_ok);
    CHECK(control(*net, json{{"cmd", "start_node"}, {"node", 3}}).status == 200);
    CHECK(rpc(*net, 3, "info", info_params()).status == 200);
    CHECK(control(*net, json{{"cmd", "set_clock_skew"}, {"node", 3}, {"seconds", 100}}).status == 200);
    CHECK(net->now_ms(3) - now_ms() > 95000);
    CHECK(control(*net, json{{"cmd", "set_latency"}, {"node", 3}, {"ms", 5}}).status == 200);
    CHECK(control(*net, json{{"cmd", "set_drop_rate"}, {"node", 3}, {"fraction", 0.25}, {"timeout", true}}).status == 200);
    CHECK(control(*net, json{{"cmd", "set_corrupt"}, {"node", 3}, {"fraction", 0.5}}).status == 200);
    auto status = json::parse(control(*net, json{{"cmd", "status"}}).body);
    CHECK(status["nodes"][3]["clock_skew_s"] == 100);
    CHECK(status["nodes"][3]["latency_ms"] == 5);
    CHECK(status["nodes"][3]["drop_rate"] == 0.25);
    CHECK(status["nodes"][3]["timeout"] == true);
    CHECK(status["nodes"][3]["corrupt_rate"] == 0.5);
    CHECK(control(*net, json{{"cmd", "clear_faults"}}).status == 200);
    CHECK(net->now_ms(3) - now_ms() < 5000);
    auto c = json::parse(control(*net, json{{"cmd", "counters"}, {"node", 3}}).body);
    CHECK(c["counters"]["methods"]["info"] == 1);
    CHECK(c["counters"]["endpoints"]["/storage_rpc/v1"] == 1);
    CHECK(control(*net, json{{"cmd", "reset_counters"}}).status == 200);
    CHECK(net->counters(3).http_requests == 0);
    CHECK(control(*net, json{{"cmd", "set_seed_down"}, {"seed", 0}, {"down", true}}).status == 200);
    CHECK(control(*net, json{{"cmd", "set_seed_down"}, {"seed", 0}, {"down", false}}).status == 200);
    Account a = account_in(*net, net->swarm_ids()[0]);
    CHECK(control(*net, json{{"cmd", "move_account"}, {"pubkey", a.session_id()}, {"swarm", net->swarm_ids()[1]}}).status == 200);
    CHECK(*net->swarm_for(a.session_id()) == net->swarm_ids()[1]);
    auto bad = control(*net, json{{"cmd", "stop_node"}, {"node", 99}});
    CHECK(bad.status == 400);
    CHECK(json::parse(bad.body)["ok"] == false);
    CHECK(control(*net, json{{"cmd", "warp"}}).status == 400);
    auto netj = json::parse(control(*net, json{{"cmd", "network"}}).body);
    CHECK(netj["network"] == net->network_file());
}
