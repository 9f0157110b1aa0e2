// test_hostile_node.cpp: one hostile node must not crash, exhaust, fool or stall a client (issue 10).
// First what each hostile mode of the local network (tools/localnet/README.md "Hostile nodes") sends,
// over direct HTTPS; then a Client on a network with such a node: it still sends and receives every
// genuine message exactly once, within the bounds it documents. Bounds are asserted on what the
// library and the local network count (ReceiveResult::truncated, skipped reasons, NodeOutcome, the
// nodes' request counters), never on wall-clock time: the Client's own receive_timeout and request
// timeouts are what end a slow attack.

#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "localnet/internal.hpp"
#include "localnet/test_client_support.hpp"
#include "localnet/test_localnet_support.hpp"
#include "session/envelope.hpp"
#include "session/swarm.hpp"

using namespace session;
using lntest::Account;
using lntest::json;
using lntest::now_ms;
using lntest::post;
using lntest::rpc;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

/// |a - b| <= bound, without overflow for any two int64 values (a poisoned clock can be anything).
bool near(std::int64_t a, std::int64_t b, std::int64_t bound) {
    const auto ua = static_cast<std::uint64_t>(a), ub = static_cast<std::uint64_t>(b);
    return (a >= b ? ua - ub : ub - ua) <= static_cast<std::uint64_t>(bound);
}

// ---- the local network side ----------------------------------------------------------------------

/// POSTs a control command to the network's HTTP control endpoint.
std::pair<int, json> control(const localnet::Network& net, const json& cmd) {
    const std::string url = net.control_url();
    httplib::Client cli("127.0.0.1", std::stoi(url.substr(url.rfind(':') + 1)));
    auto r = cli.Post("/control", cmd.dump(), "application/json");
    if (!r) FAIL("control endpoint: " << httplib::to_string(r.error()));
    return {r->status, json::parse(r->body)};
}

std::uint64_t hostile_count(const localnet::Network& net, std::size_t i) { return net.counters(i).hostile; }

json signed_retrieve(const Account& a, json extra = json::object()) {
    const auto t = now_ms();
    json p = a.auth("retrieve" + std::to_string(t));
    p["timestamp"] = t;
    for (auto& [k, v] : extra.items()) p[k] = v;
    return p;
}

std::string store_direct(const localnet::Network& net, std::size_t node, const Account& a, const Bytes& data) {
    auto r = rpc(net, node, "store",
                 json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 600000}, {"data", base64_encode(data)}});
    REQUIRE(r.status == 200);
    return r.j()["hash"];
}

std::string hash_for(const Account& a, const Bytes& data) {
    auto acct = from_hex(a.session_id());
    return localnet::detail::message_hash(*acct, 0, data);
}

bool nested_text(const std::string& body, std::size_t depth) {
    return body.size() >= 2 * depth && body.find_first_not_of('[') == depth;
}

// ---- the Client side -----------------------------------------------------------------------------

/// A local network (10 nodes, swarms of 5) with its network file, and Clients on it that poll every
/// member of a swarm (poll_nodes = 5), so a hostile member is always among the polled ones.
struct Net : test::LocalNetFile {
    Net() : LocalNetFile(10, 5) {}

    ClientOptions options() const {
        ClientOptions o;
        o.poll_nodes = 5;
        return o;
    }
    /// 8 s request and retrieve timeouts unless the test needs others.
    static test::NetSettings settings() {
        return {.request_timeout = std::chrono::milliseconds(8000), .retrieve_timeout = std::chrono::milliseconds(8000)};
    }
    Client client(ClientOptions o, const test::NetSettings& s = settings()) const {
        auto c = Client::create(Identity::generate(*system_rng()).first, network(s), std::move(o));
        if (!c) FAIL("client: " << c.error().message);
        return std::move(*c);
    }
    Client client() const { return client(options()); }

    std::vector<std::size_t> members_of(const SessionId& id) const {
        auto swarm = net->swarm_for(id.hex());
        REQUIRE(swarm);
        return net->swarm_members(*swarm);
    }
    std::vector<std::size_t> non_members_of(const SessionId& id) const {
        auto members = members_of(id);
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < net->node_count(); ++i)
            if (std::find(members.begin(), members.end(), i) == members.end()) out.push_back(i);
        return out;
    }
    void hostile(std::size_t i, const json& spec) const { REQUIRE_OK(net->set_hostile(i, spec)); }
    /// Node i as `c`'s pool knows it (the pool must be loaded).
    network::Snode snode(const Client& c, std::size_t i) const {
        for (const auto& s : c.network().snode_pool())
            if (net->node_index(s.ed25519_hex()) == i) return s;
        FAIL("node " << i << " is not in the client's pool");
        return {};
    }
    std::uint64_t hostile_answers(std::size_t i) const { return net->counters(i).hostile; }
    std::uint64_t retrieves_at(std::size_t i) const {
        auto c = net->counters(i);
        auto it = c.methods.find("retrieve");
        return it == c.methods.end() ? 0 : it->second;
    }
};

/// The bodies of the visible texts (not the message-request approval a first reply sends first).
std::vector<std::string> bodies(const ReceiveResult& r) {
    std::vector<std::string> out;
    for (const auto& m : r.messages)
        if (m.kind == MessageKind::text) out.push_back(m.body);
    return out;
}

std::vector<std::string> send_n(Client& from, const SessionId& to, const std::string& tag, int n) {
    std::vector<std::string> sent;
    for (int i = 0; i < n; ++i) {
        const std::string text = tag + std::to_string(i);
        auto r = from.send(to, text);
        REQUIRE_OK(r);
        CHECK(r->confirmed() >= 1);
        sent.push_back(text);
    }
    return sent;
}

/// Receives until nothing new arrives (at most `calls` calls); every genuine body once, in order.
std::vector<std::string> receive_all(Client& c, std::string& last_hash, int calls = 3) {
    std::vector<std::string> got;
    for (int i = 0; i < calls; ++i) {
        auto r = c.receive(last_hash);
        REQUIRE_OK(r);
        last_hash = r->last_hash;
        for (auto& b : bodies(*r)) got.push_back(b);
        if (r->messages.empty() && r->truncated == retrieve::Truncation::none) break;
    }
    return got;
}

const retrieve::NodeOutcome* outcome_of(const ReceiveResult& r, const localnet::Network& net, std::size_t i) {
    const auto key = net.node(i).ed25519;
    for (const auto& n : r.nodes)
        if (n.node == key) return &n;
    return nullptr;
}

bool is_envelope_error(Errc c) {
    switch (c) {
        case Errc::envelope_malformed:
        case Errc::envelope_not_request:
        case Errc::envelope_no_body:
        case Errc::envelope_no_content:
        case Errc::envelope_bad_type:
        case Errc::envelope_decrypt_failed:
        case Errc::envelope_bad_signature:
        case Errc::envelope_too_large: return true;
        default: return false;
    }
}

/// Base64 swarm data of a message from `from` to `to` signed at `ts` (a captured or forged-time one).
std::string sealed_at(const Identity& from, const SessionId& to, const std::string& text, std::int64_t ts) {
    envelope::OutgoingMessage m;
    m.body = text;
    m.timestamp_ms = ts;
    auto sealed = envelope::seal(from, to, m);
    REQUIRE_OK(sealed);
    return envelope::to_swarm_data(*sealed);
}

}  // namespace

// ==== what the hostile modes send ===================================================================

TEST_CASE("hostile: set_hostile over the control endpoint is validated, reported by status, ended by clear_faults",
          "[hostile][localnet]") {
    auto net = lntest::start();
    auto [bad_mode, j1] = control(*net, {{"cmd", "set_hostile"}, {"node", 1}, {"mode", "evil"}});
    CHECK(bad_mode == 400);
    CHECK(j1["error"].get<std::string>().find("'mode'") != std::string::npos);
    auto [bad_field, j2] = control(*net, {{"cmd", "set_hostile"}, {"node", 1}, {"mode", "deep_json"}, {"dept", 5}});
    CHECK(bad_field == 400);
    CHECK(j2["error"].get<std::string>().find("'dept'") != std::string::npos);
    auto [too_deep, j3] = control(*net, {{"cmd", "set_hostile"}, {"node", 1}, {"mode", "deep_json"}, {"depth", 1e12}});
    CHECK(too_deep == 400);
    auto [no_node, j4] = control(*net, {{"cmd", "set_hostile"}, {"node", 99}, {"mode", "replay"}});
    CHECK(no_node == 400);
    CHECK(net->hostile(1) == json{{"mode", "none"}});

    const json cmd{{"cmd", "set_hostile"}, {"node", 1}, {"mode", "endless_pages"}, {"items", 7}};
    auto [ok, j5] = control(*net, cmd);
    CHECK(ok == 200);
    CHECK(net->hostile(1) == json{{"mode", "endless_pages"}, {"items", 7}});
    auto [st, status] = control(*net, {{"cmd", "status"}});
    REQUIRE(st == 200);
    CHECK(status["nodes"][1]["hostile"]["mode"] == "endless_pages");
    CHECK(status["nodes"][0]["hostile"]["mode"] == "none");
    control(*net, {{"cmd", "clear_faults"}});
    CHECK(net->hostile(1) == json{{"mode", "none"}});
}

TEST_CASE("hostile: deep_json answers nested 300,000 levels where asked, only for the methods named",
          "[hostile][localnet]") {
    auto net = lntest::start();
    const std::size_t kDepth = 300'000;
    REQUIRE_OK(net->set_hostile(2, {{"mode", "deep_json"}, {"depth", kDepth}, {"methods", {"info"}}}));
    auto info = rpc(*net, 2, "info", json::object());
    CHECK(info.status == 200);
    CHECK(info.content_type == "application/json");
    CHECK(nested_text(info.body, kDepth));
    CHECK(rpc(*net, 2, "get_swarm", json{{"pubkey", "05" + std::string(64, 'a')}}).j().contains("snodes"));
    CHECK(hostile_count(*net, 2) == 1);

    REQUIRE_OK(net->set_hostile(2, {{"mode", "deep_json"}, {"depth", 1000}, {"where", "field"}}));
    auto field = rpc(*net, 2, "info", json::object());
    const json f = json::parse(field.body);  // 1000 levels: fine for this test's own parser
    CHECK(f.contains("version"));
    CHECK(f.contains("junk"));

    REQUIRE_OK(net->set_hostile(2, {{"mode", "deep_json"}, {"depth", 10}, {"where", "batch"}}));
    CHECK(rpc(*net, 2, "info", json::object()).body ==
          R"({"results":[{"code":[[[[[[[[[[0]]]]]]]]]],"body":[[[[[[[[[[0]]]]]]]]]]}]})");

    REQUIRE_OK(net->set_hostile(2, {{"mode", "deep_json"}, {"depth", 3}, {"where", "http"}, {"shape", "object"}}));
    CHECK(rpc(*net, 2, "info", json::object()).body == R"({"a":{"a":{"a":0}}})");
    CHECK(hostile_count(*net, 2) == 4);
}

TEST_CASE("hostile: the retrieve attacks (endless pages, hash != data, replay, inject) send what they say",
          "[hostile][localnet]") {
    auto net = lntest::start();
    const auto swarm = net->swarm_ids()[0];
    const auto members = net->swarm_members(swarm);
    Account a = lntest::account_in(*net, swarm);
    const Bytes d1(300, 0x11), d2(400, 0x22);
    const std::string h1 = store_direct(*net, members[0], a, d1), h2 = store_direct(*net, members[0], a, d2);
    const std::size_t evil = members[1];

    SECTION("endless_pages: fresh junk under true hashes, always more") {
        REQUIRE_OK(net->set_hostile(evil, {{"mode", "endless_pages"}, {"items", 20}, {"item_bytes", 64}}));
        std::set<std::string> seen;
        for (int page = 0; page < 3; ++page) {
            auto j = rpc(*net, evil, "retrieve", signed_retrieve(a, {{"last_hash", page ? *seen.rbegin() : h2}})).j();
            CHECK(j["more"] == true);
            REQUIRE(j["messages"].size() >= 20);
            for (const auto& m : j["messages"]) {
                auto data = base64_decode(m["data"].get<std::string>());
                REQUIRE(data);
                CHECK(m["hash"] == hash_for(a, *data));
                if (*data != d1 && *data != d2) CHECK(seen.insert(m["hash"].get<std::string>()).second);  // fresh
            }
        }
        CHECK(seen.size() == 60);
    }
    SECTION("hash_mismatch: genuine hashes over other bytes, plus forged items") {
        REQUIRE_OK(net->set_hostile(evil, {{"mode", "hash_mismatch"}, {"items", 3}}));
        auto j = rpc(*net, evil, "retrieve", signed_retrieve(a)).j();
        REQUIRE(j["messages"].size() == 5);
        CHECK(j["messages"][0]["hash"] == h1);
        CHECK(j["messages"][1]["hash"] == h2);
        for (const auto& m : j["messages"]) {
            auto data = base64_decode(m["data"].get<std::string>());
            REQUIRE(data);
            CHECK(m["hash"] != hash_for(a, *data));
        }
    }
    SECTION("replay: every item again after last_hash, and re-wrapped under a new valid hash") {
        REQUIRE_OK(net->set_hostile(evil, {{"mode", "replay"}}));
        auto j = rpc(*net, evil, "retrieve", signed_retrieve(a, {{"last_hash", h2}})).j();
        REQUIRE(j["messages"].size() == 4);  // nothing after h2, then h1, h1', h2, h2'
        CHECK(j["messages"][0]["hash"] == h1);
        CHECK(j["messages"][2]["hash"] == h2);
        for (int k : {1, 3}) {
            auto data = base64_decode(j["messages"][k]["data"].get<std::string>());
            REQUIRE(data);
            const Bytes& orig = k == 1 ? d1 : d2;
            CHECK(Bytes(data->begin(), data->begin() + static_cast<std::ptrdiff_t>(orig.size())) == orig);
            CHECK(data->size() == orig.size() + 3);
            CHECK(j["messages"][k]["hash"] == hash_for(a, *data));
        }
    }
    SECTION("inject: captured data under its true hash for the asking account") {
        const Bytes captured(123, 0x77);
        REQUIRE_OK(net->set_hostile(evil, {{"mode", "inject"}, {"data", {base64_encode(captured)}}}));
        auto j = rpc(*net, evil, "retrieve", signed_retrieve(a, {{"last_hash", h2}})).j();
        REQUIRE(j["messages"].size() == 1);
        CHECK(j["messages"][0]["hash"] == hash_for(a, captured));
    }
    CHECK(hostile_count(*net, evil) >= 1);
}

TEST_CASE("hostile: wild_t puts any value in t and info's timestamp", "[hostile][localnet]") {
    auto net = lntest::start();
    for (const json& t : {json(std::numeric_limits<std::int64_t>::max()), json(std::numeric_limits<std::int64_t>::min()),
                          json(1.5e300), json("12345"), json(nullptr)}) {
        REQUIRE_OK(net->set_hostile(4, {{"mode", "wild_t"}, {"t", t}}));
        auto j = rpc(*net, 4, "info", json::object()).j();
        CHECK(j["t"] == t);
        CHECK(j["timestamp"] == t);
    }
    REQUIRE_OK(net->set_hostile(4, {{"mode", "wild_t"}, {"t_offset_ms", 10 * 365 * kDayMs}}));
    auto j = rpc(*net, 4, "get_swarm", json{{"pubkey", "05" + std::string(64, 'b')}}).j();
    CHECK(j["t"].get<std::int64_t>() > now_ms() + 9 * 365 * kDayMs);
    CHECK(rpc(*net, 5, "info", json::object()).j()["t"].get<std::int64_t>() < now_ms() + kDayMs);  // others honest
}

TEST_CASE("hostile: forged_swarm lists nodes outside the pool or with mismatched keys, also as 421",
          "[hostile][localnet]") {
    auto net = lntest::start();
    const auto swarm = net->swarm_ids()[1];
    Account a = lntest::account_in(*net, swarm);
    const std::size_t evil = net->swarm_members(swarm)[0];

    REQUIRE_OK(net->set_hostile(evil, {{"mode", "forged_swarm"}, {"count", 4}}));
    auto j = rpc(*net, evil, "get_swarm", json{{"pubkey", a.session_id()}}).j();
    REQUIRE(j["snodes"].size() == 4);
    for (const auto& s : j["snodes"]) {
        CHECK(net->node_index(s["pubkey_ed25519"].get<std::string>()) == net->node_count());  // not in the pool
        CHECK(s["ip"] == net->node(evil).ip);
    }
    // Honest for its own swarm's requests unless answer_421.
    CHECK(rpc(*net, evil, "retrieve", signed_retrieve(a)).status == 200);

    REQUIRE_OK(net->set_hostile(evil, {{"mode", "forged_swarm"}, {"forgery", "mismatched_keys"}, {"answer_421", true}}));
    auto moved = rpc(*net, evil, "retrieve", signed_retrieve(a));
    REQUIRE(moved.status == 421);
    const json m = moved.j();
    REQUIRE(m["snodes"].size() == 5);
    for (const auto& s : m["snodes"]) {
        const auto i = net->node_index(s["pubkey_ed25519"].get<std::string>());
        REQUIRE(i < net->node_count());
        CHECK(net->node(i).swarm_id == swarm);
        CHECK(s["pubkey_x25519"] != net->node(i).pubkey_x25519);
    }
    CHECK(hostile_count(*net, evil) == 2);
}

TEST_CASE("hostile: fake_confirm adds valid signatures of non-members; with drop it stores nothing",
          "[hostile][localnet]") {
    auto net = lntest::start();
    const auto swarm = net->swarm_ids()[0];
    Account a = lntest::account_in(*net, swarm);
    const std::size_t evil = net->swarm_members(swarm)[2];
    REQUIRE_OK(net->set_hostile(evil, {{"mode", "fake_confirm"}, {"count", 3}}));
    auto r = rpc(*net, evil, "store",
                 json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 600000}, {"data", "aGk="}});
    REQUIRE(r.status == 200);
    const json j = r.j();
    REQUIRE(j["swarm"].size() == 5 + 3);
    std::size_t outsiders = 0;
    for (auto& [ed, res] : j["swarm"].items()) {
        CHECK(lntest::verify_b64(ed, j["hash"], res["signature"]));
        if (net->node_index(ed) == net->node_count()) ++outsiders;
    }
    CHECK(outsiders == 3);

    REQUIRE_OK(net->set_hostile(evil, {{"mode", "fake_confirm"}, {"count", 2}, {"drop", true}}));
    const auto before = net->message_count(evil);
    auto d = rpc(*net, evil, "store",
                 json{{"pubkey", a.session_id()}, {"timestamp", now_ms()}, {"ttl", 600000}, {"data", "aG8="}});
    REQUIRE(d.status == 200);
    CHECK(d.j()["swarm"].size() == 2);
    CHECK(net->message_count(evil) == before);
    for (auto m : net->swarm_members(swarm)) CHECK(net->message_count(m) == 1);  // only the first store
}

TEST_CASE("hostile: huge_body pads answers past 10 MiB; slow_drip trickles them", "[hostile][localnet]") {
    auto net = lntest::start();
    const std::size_t kBytes = 11 * 1024 * 1024;
    REQUIRE_OK(net->set_hostile(6, {{"mode", "huge_body"}, {"bytes", kBytes}}));
    auto big = rpc(*net, 6, "info", json::object());
    CHECK(big.status == 200);
    CHECK(big.body.size() == kBytes);
    CHECK(json::parse(big.body).contains("version"));
    REQUIRE_OK(net->set_hostile(6, {{"mode", "huge_body"}, {"where", "http"}, {"bytes", kBytes + 5}}));
    CHECK(rpc(*net, 6, "info", json::object()).body.size() == kBytes + 5);

    // A drip of 8 bytes per millisecond arrives whole; one of a byte per 5 s outlasts a 1 s read timeout.
    REQUIRE_OK(net->set_hostile(6, {{"mode", "slow_drip"}, {"chunk_bytes", 8}, {"interval_ms", 1}}));
    auto dripped = rpc(*net, 6, "info", json::object());
    CHECK(dripped.status == 200);
    CHECK(json::parse(dripped.body).contains("version"));
    REQUIRE_OK(net->set_hostile(6, {{"mode", "slow_drip"}, {"chunk_bytes", 1}, {"interval_ms", 5000}}));
    const auto n6 = net->node(6);
    auto cut = post(*net, n6.ip, n6.port, "/storage_rpc/v1", R"({"method":"info","params":{}})", /*read_timeout_s=*/1);
    CHECK_FALSE(cut.transport_ok);
    CHECK(hostile_count(*net, 6) == 4);
}

// ==== a Client on a network with a hostile node =====================================================

TEST_CASE("hostile client: endless pages of fresh junk stop at the item budget; genuine messages arrive once",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bo = ln.options();
    bo.receive_max_items = 1000;
    auto bob = ln.client(bo);
    const std::size_t evil = ln.members_of(bob.session_id())[0];
    ln.hostile(evil, {{"mode", "endless_pages"}, {"items", 100}, {"item_bytes", 200}});
    const auto sent = send_n(alice, bob.session_id(), "m", 3);

    auto r1 = bob.receive();
    REQUIRE_OK(r1);
    CHECK(bodies(*r1) == sent);
    CHECK(r1->truncated == retrieve::Truncation::item_budget);
    // Every skipped item is the hostile's junk (random bytes under their true hashes), each once,
    // and no more of them than the budget plus one page per polled member.
    std::set<std::string> junk;
    for (const auto& s : r1->skipped) {
        CHECK(is_envelope_error(s.reason.code));
        CHECK(junk.insert(s.hash).second);
    }
    CHECK(junk.size() >= 900);
    CHECK(junk.size() <= 1000 + 5 * 100);
    // The hostile member was followed a bounded number of pages: 100 junk items each.
    const auto* o = outcome_of(*r1, *ln.net, evil);
    REQUIRE(o);
    CHECK(o->pages <= 1000 / 100 + 1);
    CHECK(ln.retrieves_at(evil) == o->pages);

    // Continuing from last_hash: nothing genuine again, still bounded.
    auto r2 = bob.receive(r1->last_hash);
    REQUIRE_OK(r2);
    CHECK(r2->messages.empty());
    CHECK(r2->truncated == retrieve::Truncation::item_budget);
    CHECK(r2->skipped.size() <= 1000 + 5 * 100);
    // A new message still arrives, once.
    REQUIRE_OK(alice.send(bob.session_id(), "late"));
    auto r3 = bob.receive(r2->last_hash);
    REQUIRE_OK(r3);
    CHECK(bodies(*r3) == std::vector<std::string>{"late"});
    CHECK(ln.hostile_answers(evil) >= 2 * (1000 / 100));
}

TEST_CASE("hostile client: endless large pages stop at the byte budget", "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bo = ln.options();
    bo.receive_max_bytes = 3 * 1024 * 1024;
    auto bob = ln.client(bo);
    const std::size_t evil = ln.members_of(bob.session_id())[1];
    ln.hostile(evil, {{"mode", "endless_pages"}, {"items", 20}, {"item_bytes", 40000}});  // ~1.1 MB a page
    const auto sent = send_n(alice, bob.session_id(), "b", 2);
    auto r = bob.receive();
    REQUIRE_OK(r);
    CHECK(bodies(*r) == sent);
    CHECK(r->truncated == retrieve::Truncation::byte_budget);
    const auto* o = outcome_of(*r, *ln.net, evil);
    REQUIRE(o);
    CHECK(o->pages <= 3 + 1);  // 3 MiB / ~1.1 MB, plus the page that crossed it
    CHECK(r->skipped.size() <= 20 * o->pages);
}

TEST_CASE("hostile client: endless slow pages stop at receive_timeout", "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bo = ln.options();
    bo.receive_timeout = std::chrono::milliseconds(3000);
    auto bob = ln.client(bo);
    const std::size_t evil = ln.members_of(bob.session_id())[2];
    ln.hostile(evil, {{"mode", "endless_pages"}, {"items", 1}, {"item_bytes", 100}});
    ln.net->set_latency(evil, std::chrono::milliseconds(400));
    const auto sent = send_n(alice, bob.session_id(), "d", 2);
    auto r = bob.receive();
    REQUIRE_OK(r);
    CHECK(bodies(*r) == sent);
    CHECK(r->truncated == retrieve::Truncation::deadline);
    // One item per page and well under the item budget: only the deadline ended it.
    CHECK(r->skipped.size() < 1000);
}

TEST_CASE("hostile client: items whose hash is not their data are skipped; the genuine ones arrive once",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bob = ln.client();
    const std::size_t evil = ln.members_of(bob.session_id())[0];
    ln.hostile(evil, {{"mode", "hash_mismatch"}, {"items", 5}});
    const auto sent = send_n(alice, bob.session_id(), "h", 3);
    auto r = bob.receive();
    REQUIRE_OK(r);
    CHECK(bodies(*r) == sent);
    REQUIRE_FALSE(r->skipped.empty());
    for (const auto& s : r->skipped) CHECK(s.reason.code == Errc::retrieve_hash_mismatch);
    const auto* o = outcome_of(*r, *ln.net, evil);
    REQUIRE(o);
    CHECK(o->rejected == 3 + 5);
    auto again = bob.receive(r->last_hash);
    REQUIRE_OK(again);
    CHECK(again->messages.empty());
}

TEST_CASE("hostile client: old messages served again, and re-wrapped under new hashes, are not delivered twice",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bob = ln.client();
    const std::size_t evil = ln.members_of(bob.session_id())[3];
    ln.hostile(evil, {{"mode", "replay"}, {"rewrap", true}});
    std::string last;
    const auto sent = send_n(alice, bob.session_id(), "r", 3);
    auto r1 = bob.receive(last);
    REQUIRE_OK(r1);
    CHECK(bodies(*r1) == sent);
    std::size_t replayed = 0;
    for (const auto& s : r1->skipped) {
        CHECK(s.reason.code == Errc::receive_replayed);
        ++replayed;
    }
    CHECK(replayed == 3);  // each re-wrapped copy reported once
    last = r1->last_hash;
    for (int i = 0; i < 2; ++i) {  // the hostile serves everything again on every poll
        auto r = bob.receive(last);
        REQUIRE_OK(r);
        CHECK(r->messages.empty());
        CHECK(r->skipped.empty());
        last = r->last_hash;
    }
    REQUIRE_OK(alice.send(bob.session_id(), "r3"));
    auto r4 = bob.receive(last);
    REQUIRE_OK(r4);
    CHECK(bodies(*r4) == std::vector<std::string>{"r3"});
    CHECK(r4->skipped.size() == 1);  // r3's re-wrapped copy
    CHECK(ln.hostile_answers(evil) >= 4);
}

TEST_CASE("hostile client: a captured message signed weeks ago, or days ahead, is skipped, not delivered",
          "[hostile][localnet][client]") {
    Net ln;
    auto bob = ln.client();
    const auto carol = Identity::generate(*system_rng()).first;
    const std::int64_t now = ln.net->now_ms(0);
    const std::string old_data = sealed_at(carol, bob.session_id(), "from three weeks ago", now - 21 * kDayMs);
    const std::string ahead_data = sealed_at(carol, bob.session_id(), "from next week", now + 7 * kDayMs);
    const std::size_t evil = ln.members_of(bob.session_id())[4];
    ln.hostile(evil, {{"mode", "inject"}, {"data", {old_data, ahead_data}}});
    auto alice = ln.client();
    const auto sent = send_n(alice, bob.session_id(), "i", 2);
    auto r = bob.receive();
    REQUIRE_OK(r);
    CHECK(bodies(*r) == sent);
    std::multiset<Errc> reasons;
    for (const auto& s : r->skipped) reasons.insert(s.reason.code);
    CHECK(reasons == std::multiset<Errc>{Errc::receive_too_old, Errc::receive_too_new});
    auto again = bob.receive(r->last_hash);
    REQUIRE_OK(again);
    CHECK(again->messages.empty());
    CHECK(again->skipped.empty());
}

TEST_CASE("hostile client: a retrieve answer nested 300,000 deep fails that member only", "[hostile][localnet][client]") {
    const std::string where = GENERATE(as<std::string>{}, "rpc", "body", "field", "batch");
    DYNAMIC_SECTION("where " << where) {
        Net ln;
        auto alice = ln.client();
        auto bob = ln.client();
        const std::size_t evil = ln.members_of(bob.session_id())[0];
        ln.hostile(evil, {{"mode", "deep_json"}, {"where", where}, {"methods", {"retrieve"}}});
        const auto sent = send_n(alice, bob.session_id(), "j", 2);
        auto r = bob.receive();
        REQUIRE_OK(r);
        CHECK(bodies(*r) == sent);
        CHECK(r->skipped.empty());
        const auto* o = outcome_of(*r, *ln.net, evil);
        REQUIRE(o);
        CHECK(o->error);
        CHECK(ln.hostile_answers(evil) >= 1);
    }
}

TEST_CASE("hostile client: retrieve answers past 10 MiB fail that member only", "[hostile][localnet][client]") {
    const std::size_t bytes = GENERATE(std::size_t{11} * 1024 * 1024, std::size_t{30} * 1024 * 1024);
    DYNAMIC_SECTION(bytes << " bytes") {
        Net ln;
        auto alice = ln.client();
        auto bob = ln.client();
        const std::size_t evil = ln.members_of(bob.session_id())[1];
        ln.hostile(evil, {{"mode", "huge_body"}, {"bytes", bytes}, {"methods", {"retrieve"}}});
        const auto sent = send_n(alice, bob.session_id(), "x", 2);
        std::string last;
        CHECK(receive_all(bob, last) == sent);
        CHECK(ln.hostile_answers(evil) >= 1);
    }
}

TEST_CASE("hostile client: a guard that drips its answers a byte a second is cut by the request timeout",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bo = ln.options();
    auto bs = Net::settings();
    bs.request_timeout = std::chrono::milliseconds(2000);
    bs.retrieve_timeout = std::chrono::milliseconds(2000);
    auto bob = ln.client(bo, bs);
    REQUIRE_OK(bob.receive());  // builds bob's paths
    std::set<std::size_t> guards;
    for (const auto& p : bob.network().paths())
        if (!p.empty()) guards.insert(ln.net->node_index(p[0].ed25519_hex()));
    REQUIRE_FALSE(guards.empty());
    for (auto g : guards) ln.hostile(g, {{"mode", "slow_drip"}, {"chunk_bytes", 1}, {"interval_ms", 1000}});
    const auto sent = send_n(alice, bob.session_id(), "s", 3);
    std::string last;
    CHECK(receive_all(bob, last, 4) == sent);
    std::uint64_t dripped = 0;
    for (auto g : guards) dripped += ln.hostile_answers(g);
    CHECK(dripped >= 1);
}

// ---- defences of the network layer ----------------------------------------------------------------
// The network layer does not take one node's word: a get_swarm answer that is unreadable or has no
// verifiable member sends the lookup to another node; a store answer that is unreadable or confirms
// nothing (a member may claim success and drop the message) sends the store to another member; and
// where the pool has swarm ids, swarms are placed locally and no node is asked at all.

TEST_CASE("hostile client: a wild t neither poisons nor pins the clock", "[hostile][localnet][client]") {
    const json wild = GENERATE(json{{"t", std::numeric_limits<std::int64_t>::max()}},
                               json{{"t", std::numeric_limits<std::int64_t>::min()}}, json{{"t", 0}}, json{{"t", -1}},
                               json{{"t", 1.5e300}}, json{{"t", "12345"}}, json{{"t_offset_ms", 10 * 365 * kDayMs}},
                               json{{"t_offset_ms", -30 * kDayMs}});
    DYNAMIC_SECTION(wild.dump()) {
        Net ln;
        auto alice = ln.client();
        auto bob = ln.client();
        const std::size_t evil = ln.members_of(bob.session_id())[0];
        json spec = wild;
        spec["mode"] = "wild_t";
        ln.hostile(evil, spec);
        // The first time sample bob ever gets is the wild one (an error for a t that is no integer).
        REQUIRE_OK(bob.network().bootstrap());
        (void)bob.network().info(ln.snode(bob, evil));
        CHECK(near(bob.network().clock_offset_ms(), 0, kDayMs));
        std::string bob_last, alice_last;
        for (int round = 0; round < 3; ++round) {
            // Bob's sends are accepted by honest members (which allow 10 s of skew) and pass alice's
            // signed-time checks; his polls (which see the wild t from every page) are accepted too.
            auto back = bob.send(alice.session_id(), "reply" + std::to_string(round));
            REQUIRE_OK(back);
            CHECK(near(back->timestamp_ms, ln.net->now_ms(0), kDayMs));
            CHECK(receive_all(alice, alice_last) == std::vector<std::string>{"reply" + std::to_string(round)});
            const auto sent = send_n(alice, bob.session_id(), "w" + std::to_string(round) + "-", 2);
            CHECK(receive_all(bob, bob_last) == sent);
            CHECK(near(bob.network().clock_offset_ms(), 0, kDayMs));
        }
        CHECK(ln.hostile_answers(evil) >= 3);
        // Once the node is honest again, timestamps are not pinned where it pushed them.
        ln.net->clear_faults();
        auto later = bob.send(alice.session_id(), "after");
        REQUIRE_OK(later);
        CHECK(near(later->timestamp_ms, ln.net->now_ms(0), 60'000));
    }
}

TEST_CASE("hostile client: forged get_swarm answers (nodes not in the pool, mismatched keys) do not misroute stores",
          "[hostile][localnet][client]") {
    const std::string forgery = GENERATE(as<std::string>{}, "not_in_pool", "mismatched_keys");
    DYNAMIC_SECTION(forgery) {
        Net ln;
        auto bob = ln.client();
        // Every node outside bob's swarm forges; a fresh client asks one random node for the swarm.
        const auto outsiders = ln.non_members_of(bob.session_id());
        for (auto i : outsiders) ln.hostile(i, {{"mode", "forged_swarm"}, {"forgery", forgery}});
        const auto members = ln.members_of(bob.session_id());
        std::vector<std::string> sent;
        std::uint64_t forged = 0, lookups = 0;
        for (int k = 0; k < 30 && forged < 2; ++k) {
            auto alice = ln.client();
            auto r = alice.send(bob.session_id(), "f" + std::to_string(k));
            REQUIRE_OK(r);
            CHECK(r->confirmed() >= 1);
            for (const auto& n : r->nodes)
                if (n.ok) CHECK(std::count(members.begin(), members.end(), ln.net->node_index(to_hex(n.node.bytes))) == 1);
            sent.push_back("f" + std::to_string(k));
            forged = 0;
            for (auto i : outsiders) forged += ln.hostile_answers(i);
            lookups = ln.method_count("get_swarm") + ln.method_count("get_snodes_for_pubkey");
        }
        // Either forgers were asked (and ignored), or the client never needed to ask anyone.
        CHECK((forged >= 2 || lookups == 0));
        std::string last;
        CHECK(receive_all(bob, last) == sent);
    }
}

TEST_CASE("hostile client: a member answering 421 with a forged swarm is not followed",
          "[hostile][localnet][client]") {
    const std::string forgery = GENERATE(as<std::string>{}, "not_in_pool", "mismatched_keys");
    DYNAMIC_SECTION(forgery) {
        Net ln;
        auto alice = ln.client();
        auto bob = ln.client();
        const std::size_t evil = ln.members_of(bob.session_id())[2];
        ln.hostile(evil, {{"mode", "forged_swarm"}, {"forgery", forgery}, {"answer_421", true}});
        std::string last;
        std::vector<std::string> sent, got;
        for (int round = 0; round < 3; ++round) {
            for (auto& s : send_n(alice, bob.session_id(), "q" + std::to_string(round) + "-", 4)) sent.push_back(s);
            for (auto& g : receive_all(bob, last)) got.push_back(g);  // bob polls evil: 421 each time
        }
        CHECK(got == sent);
        CHECK(ln.hostile_answers(evil) >= 3);
    }
}

TEST_CASE("hostile client: confirmations signed by non-members are not counted",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bob = ln.client();
    const auto members = ln.members_of(bob.session_id());
    for (std::size_t k = 0; k < 2; ++k) ln.hostile(members[k], {{"mode", "fake_confirm"}, {"count", 5}});
    for (int i = 0; i < 12; ++i) {
        auto r = alice.send(bob.session_id(), "c" + std::to_string(i));
        REQUIRE_OK(r);
        CHECK(r->confirmed() >= 1);
        CHECK(r->confirmed() <= members.size());
        for (const auto& n : r->nodes)
            if (n.ok) CHECK(std::count(members.begin(), members.end(), ln.net->node_index(to_hex(n.node.bytes))) == 1);
    }
    CHECK(ln.hostile_answers(members[0]) + ln.hostile_answers(members[1]) >= 1);
}

TEST_CASE("hostile client: a member that confirms with fake signatures and drops the message does not lose it",
          "[hostile][localnet][client]") {
    Net ln;
    auto alice = ln.client();
    auto bob = ln.client();
    const auto members = ln.members_of(bob.session_id());
    for (std::size_t k = 0; k < 2; ++k) ln.hostile(members[k], {{"mode", "fake_confirm"}, {"count", 5}, {"drop", true}});
    const auto sent = send_n(alice, bob.session_id(), "k", 12);
    CHECK(ln.hostile_answers(members[0]) + ln.hostile_answers(members[1]) >= 1);
    std::string last;
    CHECK(receive_all(bob, last) == sent);
}

TEST_CASE("hostile client: store, get_swarm and info answers nested 300,000 deep do not crash or stall it",
          "[hostile][localnet][client]") {
    const std::string where = GENERATE(as<std::string>{}, "rpc", "body", "field", "batch");
    DYNAMIC_SECTION("where " << where) {
        Net ln;
        auto bob = ln.client();
        const auto members = ln.members_of(bob.session_id());
        // store: two members answer deep; stores through them fail over to the others.
        for (std::size_t k = 0; k < 2; ++k)
            ln.hostile(members[k], {{"mode", "deep_json"}, {"where", where}, {"methods", {"store"}}});
        // get_swarm: every node outside bob's swarm answers deep; fresh clients ask one at random.
        const auto outsiders = ln.non_members_of(bob.session_id());
        for (auto i : outsiders)
            ln.hostile(i, {{"mode", "deep_json"}, {"where", where}, {"methods", {"get_swarm", "get_snodes_for_pubkey", "info"}}});
        const auto deep_answers = [&] {
            std::uint64_t deep = 0;
            for (std::size_t i = 0; i < ln.net->node_count(); ++i) deep += ln.hostile_answers(i);
            return deep;
        };
        // Each fresh sender stores through a random member, a deep one 2 times in 5: 12 senders, and
        // more (up to 40) until one did, so a run where none happened to does not pass untested.
        std::vector<std::string> sent;
        for (int k = 0; k < 12 || (deep_answers() == 0 && k < 40); ++k) {
            auto alice = ln.client();
            auto r = alice.send(bob.session_id(), "z" + std::to_string(k));
            REQUIRE_OK(r);
            sent.push_back("z" + std::to_string(k));
        }
        REQUIRE(deep_answers() >= 1);
        // info straight to a deep-answering node: an error, and the clock offset untouched.
        REQUIRE_OK(bob.network().bootstrap());
        const auto before = bob.network().clock_offset_ms();
        const auto deep_before_info = deep_answers();
        CHECK_FALSE(bob.network().info(ln.snode(bob, outsiders[0])));
        CHECK(bob.network().clock_offset_ms() == before);
        CHECK(deep_answers() > deep_before_info);
        std::string last;
        CHECK(receive_all(bob, last) == sent);
    }
}
