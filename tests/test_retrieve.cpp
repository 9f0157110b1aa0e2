#include "session/retrieve.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "support/vectors.hpp"

using namespace session;
using nlohmann::json;

namespace {

Identity identity_from_vector(const json& v) {
    auto seed = test::hex(v, "ed25519_seed_hex");
    REQUIRE(seed.size() == 32);
    return Identity::from_ed25519_seed(Secret<32>(std::span<const std::uint8_t, 32>(seed.data(), 32)));
}

Identity test_identity(std::uint8_t fill) {
    ByteArray<32> seed{};
    seed.fill(fill);
    return Identity::from_ed25519_seed(Secret<32>(std::span<const std::uint8_t, 32>(seed)));
}

// A 43-character hash made from a number (the storage server's alphabet, unpadded base64).
std::string fake_hash(int n) {
    ByteArray<32> b{};
    b[0] = static_cast<std::uint8_t>(n);
    b[1] = static_cast<std::uint8_t>(n >> 8);
    b[31] = 0x5a;
    return base64_encode_unpadded(b);
}

retrieve::StoredMessage fake_message(int n, std::int64_t ts) {
    return {fake_hash(n), Bytes{static_cast<std::uint8_t>(n), 1, 2, 3}, ts, ts + 1000};
}

json answer(const std::vector<retrieve::StoredMessage>& msgs, bool more, std::int64_t t = 1700000000123) {
    json arr = json::array();
    for (const auto& m : msgs)
        arr.push_back({{"hash", m.hash}, {"data", base64_encode(m.data)}, {"timestamp", m.timestamp_ms},
                       {"expiration", m.expiry_ms}});
    return {{"messages", arr}, {"more", more}, {"t", t}, {"hf", {19, 3}}};
}

// One storage node: verifies the signed request like oxenss does and answers pages of messages after
// last_hash in its own insertion order.
struct FakeNode {
    std::vector<retrieve::StoredMessage> stored;
    std::size_t page = 1000;
    int requests = 0;
    std::vector<std::string> last_hashes_seen;
    std::optional<Error> fail;

    Result<std::string> answer_request(const retrieve::Request& r) {
        ++requests;
        if (fail) return unexpected(*fail);
        auto ed = from_hex_array<32>(r.pubkey_ed25519);
        REQUIRE(ed);
        auto sig = base64_decode(r.signature);
        REQUIRE(sig);
        REQUIRE(verify(Ed25519PublicKey{*ed}, as_bytes(retrieve::signature_message(r.ns, r.timestamp_ms)), *sig));
        last_hashes_seen.push_back(r.last_hash);
        std::size_t start = 0;
        for (std::size_t i = 0; i < stored.size(); ++i)
            if (stored[i].hash == r.last_hash) start = i + 1;
        std::size_t limit = r.max_count > 0 ? static_cast<std::size_t>(r.max_count) : page;
        std::size_t end = std::min(stored.size(), start + limit);
        std::vector<retrieve::StoredMessage> out(stored.begin() + start, stored.begin() + end);
        return answer(out, end < stored.size()).dump();
    }
};

struct FakeSwarm {
    std::map<std::string, FakeNode, std::less<>> nodes;
    std::int64_t now = 1700000000000;
    retrieve::Fetch fetch() {
        return [this](std::string_view node, const retrieve::RequestBuilder& build) -> Result<std::string> {
            auto req = build(now);
            if (!req) return unexpected(std::move(req).error());
            auto it = nodes.find(node);
            REQUIRE(it != nodes.end());
            return it->second.answer_request(*req);
        };
    }
};

std::vector<std::string> hashes(const std::vector<retrieve::StoredMessage>& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back(m.hash);
    return out;
}

}  // namespace

TEST_CASE("retrieve: signed request matches storage_signatures vectors", "[retrieve][kat]") {
    for (const char* name : {"retrieve_ns_0", "retrieve_ns_2", "retrieve_ns_minus_10"}) {
        DYNAMIC_SECTION(name) {
            const auto v = test::vector("storage_signatures.json", name);
            const auto self = identity_from_vector(v);
            const auto ns = v.at("namespace").get<std::int16_t>();
            const auto ts = v.at("timestamp_ms").get<std::int64_t>();
            CHECK(retrieve::signature_message(ns, ts) == v.at("expected_signed_message_utf8").get<std::string>());

            auto req = retrieve::sign_request(self, ns, ts);
            REQUIRE(req);
            CHECK(req->signature == v.at("expected_signature_b64").get<std::string>());
            CHECK(req->signature.size() == 88);
            CHECK(req->pubkey == v.at("account_pubkey_hex").get<std::string>());
            CHECK(req->pubkey_ed25519 == v.at("ed25519_pk_hex").get<std::string>());

            const auto p = json::parse(req->params_json());
            CHECK(p.at("pubkey") == v.at("account_pubkey_hex"));
            CHECK(p.at("pubkey_ed25519") == v.at("ed25519_pk_hex"));
            CHECK(p.at("timestamp").get<std::int64_t>() == ts);
            CHECK(p.at("namespace").get<int>() == ns);
            CHECK(p.at("signature") == v.at("expected_signature_b64"));
            CHECK_FALSE(p.contains("last_hash"));
            CHECK_FALSE(p.contains("max_count"));
            const auto body = json::parse(req->body_json());
            CHECK(body.at("method") == "retrieve");
            CHECK(body.at("params") == p);
        }
    }
}

TEST_CASE("retrieve: request carries last_hash and page limits", "[retrieve]") {
    const auto self = test_identity(7);
    const auto h = fake_hash(3);
    auto req = retrieve::sign_request(self, 0, 1700000000000, h, {.max_count = 100, .max_size = -2});
    REQUIRE(req);
    const auto p = json::parse(req->params_json());
    CHECK(p.at("last_hash") == h);
    CHECK(p.at("max_count") == 100);
    CHECK(p.at("max_size") == -2);
    // Signature does not cover last_hash: the same as without it.
    auto plain = retrieve::sign_request(self, 0, 1700000000000);
    REQUIRE(plain);
    CHECK(plain->signature == req->signature);
}

TEST_CASE("retrieve: sign_request rejects a malformed last_hash", "[retrieve][reject]") {
    const auto self = test_identity(7);
    for (std::string bad : {std::string("abc"), std::string(43, '='), fake_hash(1) + "A", std::string(43, '-')}) {
        auto r = retrieve::sign_request(self, 0, 1700000000000, bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
    }
    CHECK_FALSE(retrieve::sign_request(self, 0, -1));
}

TEST_CASE("retrieve: parse_response decodes a well-formed answer", "[retrieve]") {
    std::vector<retrieve::StoredMessage> msgs{fake_message(1, 1700000000001), fake_message(2, 1700000000002)};
    auto page = retrieve::parse_response(answer(msgs, true).dump());
    REQUIRE(page);
    CHECK(page->messages == msgs);
    CHECK(page->more);
    CHECK(page->server_time_ms == 1700000000123);

    auto empty = retrieve::parse_response(R"({"messages":[]})");
    REQUIRE(empty);
    CHECK(empty->messages.empty());
    CHECK_FALSE(empty->more);
    CHECK_FALSE(empty->server_time_ms);
}

TEST_CASE("retrieve: parse_response rejects each malformed field with its position", "[retrieve][reject]") {
    const auto good = answer({fake_message(1, 1700000000001), fake_message(2, 1700000000002)}, false);
    struct Case {
        const char* name;
        std::function<void(json&)> mutate;
        const char* expect;
    };
    const std::vector<Case> cases{
        {"messages missing", [](json& j) { j.erase("messages"); }, "`messages` missing"},
        {"messages not array", [](json& j) { j["messages"] = "x"; }, "messages: expected an array"},
        {"item not object", [](json& j) { j["messages"][1] = 5; }, "messages[1]: expected an object"},
        {"hash missing", [](json& j) { j["messages"][1].erase("hash"); }, "messages[1].hash: missing"},
        {"hash number", [](json& j) { j["messages"][0]["hash"] = 5; }, "messages[0].hash: expected a string"},
        {"hash short", [](json& j) { j["messages"][1]["hash"] = "abc"; }, "messages[1].hash: expected 43"},
        {"hash bad char", [](json& j) { j["messages"][1]["hash"] = std::string(42, 'a') + "!"; },
         "non-base64"},
        {"data missing", [](json& j) { j["messages"][0].erase("data"); }, "messages[0].data: missing"},
        {"data not base64", [](json& j) { j["messages"][0]["data"] = "@@@@"; }, "messages[0].data:"},
        {"data too large",
         [](json& j) { j["messages"][0]["data"] = base64_encode(Bytes(retrieve::kMaxMessageBytes + 10, 1)); },
         "messages[0].data: expected at most 76800 bytes"},
        {"timestamp negative", [](json& j) { j["messages"][1]["timestamp"] = -5; },
         "messages[1].timestamp: expected a non-negative integer"},
        {"timestamp string", [](json& j) { j["messages"][1]["timestamp"] = "17"; },
         "messages[1].timestamp: expected an integer"},
        {"timestamp float", [](json& j) { j["messages"][1]["timestamp"] = 1.5; },
         "messages[1].timestamp: expected an integer"},
        {"expiration missing", [](json& j) { j["messages"][0].erase("expiration"); },
         "messages[0].expiration: missing"},
        {"more not bool", [](json& j) { j["more"] = 1; }, "more: expected a boolean"},
        {"t not integer", [](json& j) { j["t"] = "now"; }, "answer.t: expected an integer"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            json j = good;
            c.mutate(j);
            auto r = retrieve::parse_response(j.dump());
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::retrieve_bad_response);
            INFO(r.error().message);
            CHECK(r.error().message.find(c.expect) != std::string::npos);
            CHECK(r.error().message.rfind("retrieve: ", 0) == 0);
        }
    }
    for (const char* body : {"", "not json", "[1,2]", "{\"messages\":[", "null"}) {
        auto r = retrieve::parse_response(body);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::retrieve_bad_response);
    }
}

TEST_CASE("retrieve: poll re-issues while more and tracks last_hash per node", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 25; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm.nodes["aa"].stored = all;
    swarm.nodes["aa"].page = 10;
    swarm.nodes["bb"].stored = all;
    swarm.nodes["bb"].page = 7;
    const std::vector<std::string> nodes{"aa", "bb"};

    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, nodes, cursor, "", swarm.fetch());
    REQUIRE(r);
    CHECK(hashes(r->messages) == hashes(all));  // merged and de-duplicated, in order
    CHECK(swarm.nodes["aa"].requests == 3);      // 10 + 10 + 5
    CHECK(swarm.nodes["bb"].requests == 4);      // 7 + 7 + 7 + 4
    REQUIRE(r->nodes.size() == 2);
    CHECK(r->nodes[0].pages == 3);
    CHECK(r->nodes[0].messages == 25);
    CHECK(r->nodes[1].messages == 25);
    CHECK(r->server_time_ms == 1700000000123);
    CHECK(cursor.last_hash.at("aa") == all.back().hash);
    CHECK(cursor.last_hash.at("bb") == all.back().hash);
    // Every page after the first resumed after the previous page's last hash.
    CHECK(swarm.nodes["aa"].last_hashes_seen ==
          std::vector<std::string>{"", all[9].hash, all[19].hash});

    // Nothing new: each node is asked once, from its own last hash.
    auto again = retrieve::poll(self, nodes, cursor, "", swarm.fetch());
    REQUIRE(again);
    CHECK(again->messages.empty());
    CHECK(swarm.nodes["aa"].last_hashes_seen.back() == all.back().hash);

    // One new message on one node only (replication lag): still delivered once.
    auto extra = fake_message(100, 1700000000100);
    swarm.nodes["bb"].stored.push_back(extra);
    auto third = retrieve::poll(self, nodes, cursor, "", swarm.fetch());
    REQUIRE(third);
    CHECK(hashes(third->messages) == std::vector<std::string>{extra.hash});
    CHECK(cursor.last_hash.at("aa") == all.back().hash);
    CHECK(cursor.last_hash.at("bb") == extra.hash);
}

TEST_CASE("retrieve: poll merges out-of-sync nodes in storage order", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000001), m2 = fake_message(2, 1700000000002), m3 = fake_message(3, 1700000000003);
    swarm.nodes["aa"].stored = {m1, m3};
    swarm.nodes["bb"].stored = {m2, m1};
    const std::vector<std::string> nodes{"aa", "bb"};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, nodes, cursor, "", swarm.fetch());
    REQUIRE(r);
    // bb stored m2 before m1: m2 goes before m1, not after m3 (and timestamps do not reorder).
    CHECK(hashes(r->messages) == std::vector<std::string>{m2.hash, m1.hash, m3.hash});
    CHECK(cursor.last_hash.at("aa") == m3.hash);
    CHECK(cursor.last_hash.at("bb") == m1.hash);
}

TEST_CASE("retrieve: poll keeps storage order when timestamps go backwards", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000005), m2 = fake_message(2, 1700000000003), m3 = fake_message(3, 1700000000004);
    auto m4 = fake_message(4, 1700000000001);
    swarm.nodes["aa"].stored = {m1, m2, m4};
    swarm.nodes["bb"].stored = {m1, m2, m3, m4};  // aa missed m3
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, std::vector<std::string>{"aa", "bb"}, cursor, "", swarm.fetch());
    REQUIRE(r);
    CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash, m2.hash, m3.hash, m4.hash});
}

TEST_CASE("retrieve: a concurrent poll asks the nodes at once and merges as the sequential one",
          "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 30; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm.nodes["aa"].stored = std::vector(all.begin(), all.begin() + 20);        // missed the last 10
    swarm.nodes["bb"].stored = all;
    std::swap(swarm.nodes["bb"].stored[3], swarm.nodes["bb"].stored[4]);          // another arrival order
    swarm.nodes["bb"].stored.erase(swarm.nodes["bb"].stored.begin() + 7);        // and missed one
    swarm.nodes["aa"].page = 6;
    swarm.nodes["bb"].page = 4;
    swarm.nodes["cc"].fail = Error{Errc::net_timeout, "timeout"};
    const std::vector<std::string> nodes{"aa", "bb"};

    retrieve::NodeCursor seq_cursor;
    auto seq = retrieve::poll(self, nodes, seq_cursor, "", swarm.fetch(), {.want_answers = 2});
    REQUIRE(seq);

    // Each node's first request waits (up to 5 s) until the other node's first request has come:
    // only a concurrent poll lets both through at once.
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, int, std::less<>> calls;
    int first_requests = 0;
    bool waited_out = false;
    const auto inner = swarm.fetch();
    const retrieve::Fetch fetch = [&](std::string_view node, const retrieve::RequestBuilder& build) {
        std::unique_lock lock(mu);
        if (calls[std::string(node)]++ == 0) {
            ++first_requests;
            cv.notify_all();
            if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return first_requests >= 2; })) waited_out = true;
        }
        return inner(node, build);  // the fake swarm is not thread-safe: under the lock
    };
    retrieve::NodeCursor cursor;
    auto con = retrieve::poll(self, nodes, cursor, "", fetch, {.want_answers = 2, .concurrent = true});
    REQUIRE(con);
    CHECK_FALSE(waited_out);
    CHECK(hashes(con->messages) == hashes(seq->messages));
    CHECK(hashes(con->messages).size() == 30);
    CHECK(cursor == seq_cursor);
    REQUIRE(con->nodes.size() == 2);
    CHECK(con->nodes[0].node == "aa");
    CHECK(con->nodes[0].pages == 4);  // 6 + 6 + 6 + 2
    CHECK(con->nodes[1].pages == 8);  // 29 in pages of 4
    CHECK(con->server_time_ms == seq->server_time_ms);

    // A failing node is replaced by the next spare; the poll still wants 2 answers.
    retrieve::NodeCursor c2;
    auto spare = retrieve::poll(self, std::vector<std::string>{"cc", "aa", "bb"}, c2, "", swarm.fetch(),
                                {.want_answers = 2, .concurrent = true});
    REQUIRE(spare);
    REQUIRE(spare->nodes.size() == 3);
    CHECK(spare->nodes[0].error);
    CHECK(spare->nodes[0].error->code == Errc::net_timeout);
    CHECK_FALSE(spare->nodes[1].error);
    CHECK_FALSE(spare->nodes[2].error);
    CHECK(hashes(spare->messages).size() == 30);
    CHECK_FALSE(c2.last_hash.contains("cc"));

    // Every node failing: the first node's error, as in the sequential poll.
    retrieve::NodeCursor c3;
    swarm.nodes["dd"].fail = Error{Errc::net_path_failed, "no path"};
    auto none = retrieve::poll(self, std::vector<std::string>{"cc", "dd"}, c3, "", swarm.fetch(),
                               {.want_answers = 2, .concurrent = true});
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::net_timeout);
}

TEST_CASE("retrieve: poll_pages hands each page over as it arrives, de-duplicated", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 25; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    auto only_bb = fake_message(100, 1700000000100);
    swarm.nodes["aa"].stored = all;
    swarm.nodes["aa"].page = 10;
    swarm.nodes["bb"].stored = all;
    swarm.nodes["bb"].stored.insert(swarm.nodes["bb"].stored.begin() + 3, only_bb);
    swarm.nodes["bb"].page = 7;
    const std::vector<std::string> nodes{"aa", "bb"};

    struct Seen {
        std::string node;
        std::vector<std::string> hashes;
        std::string cursor_for_node;
    };
    std::vector<Seen> pages;
    const retrieve::PageSink sink = [&](std::string_view node, std::vector<retrieve::StoredMessage>& fresh,
                                        const retrieve::NodeCursor& cursor) {
        pages.push_back(Seen{std::string(node), hashes(fresh), cursor.last_hash.at(std::string(node))});
        return true;
    };
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll_pages(self, nodes, cursor, "", swarm.fetch(), sink);
    REQUIRE(r);
    CHECK_FALSE(r->stopped);
    // aa: 10 + 10 + 5; bb: 4 pages of which only the first holds something new (only_bb).
    REQUIRE(pages.size() == 4);
    CHECK(pages[0].hashes == hashes(std::vector(all.begin(), all.begin() + 10)));
    CHECK(pages[0].cursor_for_node == all[9].hash);  // the sink sees the cursor past its page
    CHECK(pages[2].hashes == hashes(std::vector(all.begin() + 20, all.end())));
    CHECK(pages[3].node == "bb");
    CHECK(pages[3].hashes == std::vector<std::string>{only_bb.hash});  // after aa's items, not beside them
    REQUIRE(r->nodes.size() == 2);
    CHECK(r->nodes[1].pages == 4);
    CHECK(r->server_time_ms == 1700000000123);
    CHECK(cursor.last_hash.at("bb") == all.back().hash);

    // A sink that says stop ends the poll after that page; the cursor covers exactly what was seen.
    retrieve::NodeCursor c2;
    std::size_t calls = 0;
    auto stop = retrieve::poll_pages(self, nodes, c2, "", swarm.fetch(),
                                     [&](std::string_view, std::vector<retrieve::StoredMessage>&,
                                         const retrieve::NodeCursor&) { return ++calls < 2; });
    REQUIRE(stop);
    CHECK(stop->stopped);
    CHECK(calls == 2);
    CHECK(stop->nodes.size() == 1);  // bb never asked
    CHECK(c2.last_hash.at("aa") == all[19].hash);
    CHECK_FALSE(c2.last_hash.contains("bb"));

    // Same errors as poll.
    retrieve::NodeCursor c3;
    CHECK(retrieve::poll_pages(self, std::vector<std::string>{}, c3, "", swarm.fetch(), sink).error().code ==
          Errc::invalid_argument);
    CHECK(retrieve::poll_pages(self, nodes, c3, "short", swarm.fetch(), sink).error().code == Errc::invalid_argument);
}

TEST_CASE("retrieve: poll uses the fallback hash for nodes without a cursor entry", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 5; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm.nodes["aa"].stored = all;
    swarm.nodes["bb"].stored = all;
    retrieve::NodeCursor cursor;
    cursor.last_hash["bb"] = all[3].hash;
    const std::vector<std::string> nodes{"aa", "bb"};
    auto r = retrieve::poll(self, nodes, cursor, all[1].hash, swarm.fetch());
    REQUIRE(r);
    CHECK(swarm.nodes["aa"].last_hashes_seen.front() == all[1].hash);
    CHECK(swarm.nodes["bb"].last_hashes_seen.front() == all[3].hash);
    CHECK(hashes(r->messages) == std::vector<std::string>{all[2].hash, all[3].hash, all[4].hash});

    auto bad = retrieve::poll(self, nodes, cursor, "short", swarm.fetch());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::invalid_argument);
}

TEST_CASE("retrieve: poll tolerates one failing node and reports it", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000001);
    swarm.nodes["aa"].fail = Error{Errc::net_timeout, "network: timeout"};
    swarm.nodes["bb"].stored = {m1};
    swarm.nodes["cc"].stored = {m1};
    const std::vector<std::string> nodes{"aa", "bb", "cc"};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, nodes, cursor, "", swarm.fetch(), {.want_answers = 1});
    REQUIRE(r);
    CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash});
    REQUIRE(r->nodes.size() == 2);  // stopped after one answer: cc was a spare
    REQUIRE(r->nodes[0].error);
    CHECK(r->nodes[0].error->code == Errc::net_timeout);
    CHECK_FALSE(r->nodes[1].error);
    CHECK(swarm.nodes["cc"].requests == 0);
    CHECK_FALSE(cursor.last_hash.contains("aa"));

    // A node answering garbage counts as failed, with the parse error.
    swarm.nodes["aa"].fail.reset();
    swarm.nodes["aa"].stored = {m1};
    auto garbage = [&](std::string_view node, const retrieve::RequestBuilder& b) -> Result<std::string> {
        if (node == "aa") return std::string(R"({"messages":[{"hash":"x"}]})");
        return swarm.fetch()(node, b);
    };
    retrieve::NodeCursor c2;
    auto g = retrieve::poll(self, std::vector<std::string>{"aa", "bb"}, c2, "", garbage);
    REQUIRE(g);
    REQUIRE(g->nodes[0].error);
    CHECK(g->nodes[0].error->code == Errc::retrieve_bad_response);
    CHECK(hashes(g->messages) == std::vector<std::string>{m1.hash});
}

TEST_CASE("retrieve: poll fails with the first error when no node answers", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    swarm.nodes["aa"].fail = Error{Errc::net_swarm_moved, "network: 421"};
    swarm.nodes["bb"].fail = Error{Errc::net_timeout, "network: timeout"};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, std::vector<std::string>{"aa", "bb"}, cursor, "", swarm.fetch());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_swarm_moved);
    auto none = retrieve::poll(self, std::vector<std::string>{}, cursor, "", swarm.fetch());
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::invalid_argument);
}

TEST_CASE("retrieve: poll stops a node that always says more", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    int calls = 0;
    int n = 0;
    auto endless = [&](std::string_view, const retrieve::RequestBuilder& b) -> Result<std::string> {
        REQUIRE(b(1700000000000));
        ++calls;
        ++n;
        return answer({fake_message(n, 1700000000000 + n)}, true).dump();
    };
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, std::vector<std::string>{"aa"}, cursor, "", endless, {.max_pages_per_node = 50});
    REQUIRE(r);
    CHECK(calls == 50);
    CHECK(r->messages.size() == 50);

    // `more` with an empty page must not loop.
    calls = 0;
    auto empty_more = [&](std::string_view, const retrieve::RequestBuilder&) -> Result<std::string> {
        ++calls;
        return std::string(R"({"messages":[],"more":true})");
    };
    auto e = retrieve::poll(self, std::vector<std::string>{"aa"}, cursor, "", empty_more);
    REQUIRE(e);
    CHECK(calls == 1);
}
