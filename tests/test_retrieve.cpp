#include "session/retrieve.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "session/swarm.hpp"
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

// The account the polls read (test_identity(9)): stored items carry their real hash for it.
const SessionId& account() {
    static const SessionId id = test_identity(9).session_id();
    return id;
}

retrieve::StoredMessage fake_message(int n, std::int64_t ts) {
    Bytes data{static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8), 1, 2, 3};
    return {swarm::message_hash(account().bytes(), 0, data), data, ts, ts + 1000};
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

Ed25519PublicKey key(std::uint8_t fill) {
    Ed25519PublicKey k;
    k.bytes.fill(fill);
    return k;
}

network::Snode member(std::uint8_t fill) {
    network::Snode n;
    n.ip = "127.0.0." + std::to_string(fill);
    n.https_port = 22000;
    n.keys.ed25519 = key(fill);
    return n;
}

// The swarm as a SwarmReader: get_swarm returns `order`'s members (in that order); each member's
// retrieve is answered by its FakeNode. `moved_to` makes every member answer 421 and get_swarm
// return the swarm `moved_to` from the next lookup on.
struct FakeSwarm final : retrieve::SwarmReader {
    std::map<Ed25519PublicKey, FakeNode, retrieve::NodeKeyLess> nodes;
    std::vector<std::uint8_t> order;
    std::int64_t now = 1700000000000;
    int lookups = 0;
    std::optional<Error> swarm_error;
    std::optional<std::vector<std::uint8_t>> moved_to;
    bool always_moved = false;  // every member answers 421
    std::vector<std::uint8_t> asked;  // members asked, in order (moved ones included)

    FakeNode& operator[](std::uint8_t n) { return nodes[key(n)]; }

    Result<network::Swarm> get_swarm(const SessionId&) override {
        ++lookups;
        if (swarm_error) return unexpected(*swarm_error);
        network::Swarm s;
        for (auto n : order) s.nodes.push_back(member(n));
        return s;
    }
    Result<std::string> retrieve(const SessionId& account, const network::Snode& m,
                                 const retrieve::RequestBuilder& build) override {
        auto req = build(now);
        if (!req) return unexpected(std::move(req).error());
        REQUIRE(req->pubkey == account.hex());
        asked.push_back(m.ed25519().bytes[0]);
        if (always_moved) return unexpected(Errc::net_swarm_moved, "network: retrieve: 421");
        if (moved_to && std::find(moved_to->begin(), moved_to->end(), m.ed25519().bytes[0]) == moved_to->end()) {
            order = *moved_to;
            return unexpected(Errc::net_swarm_moved, "network: retrieve: 421");
        }
        auto it = nodes.find(m.ed25519());
        REQUIRE(it != nodes.end());
        return it->second.answer_request(*req);
    }
};

// Wraps another reader; `hook` may answer in its place (nullopt = ask the inner reader).
struct HookedReader final : retrieve::SwarmReader {
    retrieve::SwarmReader& inner;
    std::function<std::optional<Result<std::string>>(const Ed25519PublicKey&)> hook;
    HookedReader(retrieve::SwarmReader& r, decltype(hook) h) : inner(r), hook(std::move(h)) {}
    Result<network::Swarm> get_swarm(const SessionId& a) override { return inner.get_swarm(a); }
    Result<std::string> retrieve(const SessionId& a, const network::Snode& m,
                                 const retrieve::RequestBuilder& b) override {
        if (auto answer = hook(m.ed25519())) return std::move(*answer);
        return inner.retrieve(a, m, b);
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

TEST_CASE("retrieve: parse_response refuses deep JSON before walking it", "[retrieve][reject]") {
    // A hostile member answers a page whose extra field nests 300,000 arrays: copying or dumping
    // such a value recurses once per level. Refused by the depth scan, whatever else the page holds.
    const std::size_t depth = 300'000;
    std::string deep = answer({fake_message(1, 1700000000001)}, false).dump();
    deep.pop_back();
    deep += ",\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    auto r = retrieve::parse_response(deep);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::retrieve_bad_response);
    CHECK(r.error().message.find("nested deeper than 64 levels") != std::string::npos);
    // Deep but unbalanced, as a stream of '[' with nothing else: refused the same way.
    auto open_only = retrieve::parse_response(std::string(depth, '['));
    REQUIRE_FALSE(open_only);
    CHECK(open_only.error().message.find("nested deeper") != std::string::npos);
    // 64 levels (the limit) is still parsed.
    std::string ok = answer({}, false).dump();
    ok.pop_back();
    ok += ",\"x\":" + std::string(62, '[') + std::string(62, ']') + "}";
    CHECK(retrieve::parse_response(ok));
}

TEST_CASE("retrieve: parse_response refuses a page larger than kMaxPageBytes before parsing", "[retrieve][reject]") {
    // Whitespace is valid JSON padding: without the size check this page would parse.
    std::string huge = answer({fake_message(1, 1700000000001)}, false).dump();
    huge.insert(1, retrieve::kMaxPageBytes, ' ');
    auto r = retrieve::parse_response(huge);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::retrieve_bad_response);
    CHECK(r.error().message.find("expected at most 10485760 bytes") != std::string::npos);
}

TEST_CASE("retrieve: poll re-issues while more and tracks last_hash per node", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 25; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm[0xaa].stored = all;
    swarm[0xaa].page = 10;
    swarm[0xbb].stored = all;
    swarm[0xbb].page = 7;
    swarm.order = {0xaa, 0xbb};

    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, swarm, cursor, "");
    REQUIRE(r);
    CHECK(hashes(r->messages) == hashes(all));  // merged and de-duplicated, in order
    CHECK(swarm[0xaa].requests == 3);            // 10 + 10 + 5
    CHECK(swarm[0xbb].requests == 4);            // 7 + 7 + 7 + 4
    CHECK(swarm.lookups == 1);
    REQUIRE(r->nodes.size() == 2);
    CHECK(r->nodes[0].node == key(0xaa));
    CHECK(r->nodes[0].pages == 3);
    CHECK(r->nodes[0].messages == 25);
    CHECK(r->nodes[1].messages == 25);
    CHECK(r->server_time_ms == 1700000000123);
    CHECK(cursor.last_hash.at(key(0xaa)) == all.back().hash);
    CHECK(cursor.last_hash.at(key(0xbb)) == all.back().hash);
    // Every page after the first resumed after the previous page's last hash.
    CHECK(swarm[0xaa].last_hashes_seen == std::vector<std::string>{"", all[9].hash, all[19].hash});

    // Nothing new: each node is asked once, from its own last hash.
    auto again = retrieve::poll(self, swarm, cursor, "");
    REQUIRE(again);
    CHECK(again->messages.empty());
    CHECK(swarm[0xaa].last_hashes_seen.back() == all.back().hash);

    // One new message on one node only (replication lag): still delivered once.
    auto extra = fake_message(100, 1700000000100);
    swarm[0xbb].stored.push_back(extra);
    auto third = retrieve::poll(self, swarm, cursor, "");
    REQUIRE(third);
    CHECK(hashes(third->messages) == std::vector<std::string>{extra.hash});
    CHECK(cursor.last_hash.at(key(0xaa)) == all.back().hash);
    CHECK(cursor.last_hash.at(key(0xbb)) == extra.hash);
}

TEST_CASE("retrieve: poll merges out-of-sync nodes in storage order", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000001), m2 = fake_message(2, 1700000000002), m3 = fake_message(3, 1700000000003);
    swarm[0xaa].stored = {m1, m3};
    swarm[0xbb].stored = {m2, m1};
    swarm.order = {0xaa, 0xbb};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, swarm, cursor, "");
    REQUIRE(r);
    // bb stored m2 before m1: m2 goes before m1, not after m3 (and timestamps do not reorder).
    CHECK(hashes(r->messages) == std::vector<std::string>{m2.hash, m1.hash, m3.hash});
    CHECK(cursor.last_hash.at(key(0xaa)) == m3.hash);
    CHECK(cursor.last_hash.at(key(0xbb)) == m1.hash);
}

TEST_CASE("retrieve: poll keeps storage order when timestamps go backwards", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000005), m2 = fake_message(2, 1700000000003), m3 = fake_message(3, 1700000000004);
    auto m4 = fake_message(4, 1700000000001);
    swarm[0xaa].stored = {m1, m2, m4};
    swarm[0xbb].stored = {m1, m2, m3, m4};  // aa missed m3
    swarm.order = {0xaa, 0xbb};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, swarm, cursor, "");
    REQUIRE(r);
    CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash, m2.hash, m3.hash, m4.hash});
}

TEST_CASE("retrieve: a concurrent poll asks the nodes at once and merges as the sequential one",
          "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 30; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm[0xaa].stored = std::vector(all.begin(), all.begin() + 20);  // missed the last 10
    swarm[0xbb].stored = all;
    std::swap(swarm[0xbb].stored[3], swarm[0xbb].stored[4]);    // another arrival order
    swarm[0xbb].stored.erase(swarm[0xbb].stored.begin() + 7);  // and missed one
    swarm[0xaa].page = 6;
    swarm[0xbb].page = 4;
    swarm[0xcc].fail = Error{Errc::net_timeout, "timeout"};
    swarm.order = {0xaa, 0xbb};

    retrieve::NodeCursor seq_cursor;
    auto seq = retrieve::poll(self, swarm, seq_cursor, "", {.want_answers = 2});
    REQUIRE(seq);

    // Each node's first request waits (up to 5 s) until the other node's first request has come:
    // only a concurrent poll lets both through at once.
    auto pool = make_thread_pool();
    std::mutex mu;
    std::condition_variable cv;
    std::map<Ed25519PublicKey, int, retrieve::NodeKeyLess> calls;
    int first_requests = 0;
    bool waited_out = false;
    struct Gated final : retrieve::SwarmReader {
        FakeSwarm& inner;
        std::function<void(std::unique_lock<std::mutex>&, const Ed25519PublicKey&)> gate;
        std::mutex& mu;
        Gated(FakeSwarm& s, std::mutex& m, decltype(gate) g) : inner(s), gate(std::move(g)), mu(m) {}
        Result<network::Swarm> get_swarm(const SessionId& a) override { return inner.get_swarm(a); }
        Result<std::string> retrieve(const SessionId& a, const network::Snode& m,
                                     const retrieve::RequestBuilder& b) override {
            std::unique_lock lock(mu);
            gate(lock, m.ed25519());
            return inner.retrieve(a, m, b);  // the fake swarm is not thread-safe: under the lock
        }
    } gated(swarm, mu, [&](std::unique_lock<std::mutex>& lock, const Ed25519PublicKey& node) {
        if (calls[node]++ == 0) {
            ++first_requests;
            cv.notify_all();
            if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return first_requests >= 2; })) waited_out = true;
        }
    });
    retrieve::NodeCursor cursor;
    auto con = retrieve::poll(self, gated, cursor, "", {.want_answers = 2, .executor = pool.get()});
    REQUIRE(con);
    CHECK_FALSE(waited_out);
    CHECK(hashes(con->messages) == hashes(seq->messages));
    CHECK(hashes(con->messages).size() == 30);
    CHECK(cursor == seq_cursor);
    REQUIRE(con->nodes.size() == 2);
    CHECK(con->nodes[0].node == key(0xaa));
    CHECK(con->nodes[0].pages == 4);  // 6 + 6 + 6 + 2
    CHECK(con->nodes[1].pages == 8);  // 29 in pages of 4
    CHECK(con->server_time_ms == seq->server_time_ms);

    // A failing node is replaced by the next spare; the poll still wants 2 answers.
    swarm.order = {0xcc, 0xaa, 0xbb};
    retrieve::NodeCursor c2;
    auto spare = retrieve::poll(self, swarm, c2, "", {.want_answers = 2, .executor = pool.get()});
    REQUIRE(spare);
    REQUIRE(spare->nodes.size() == 3);
    CHECK(spare->nodes[0].error);
    CHECK(spare->nodes[0].error->code == Errc::net_timeout);
    CHECK_FALSE(spare->nodes[1].error);
    CHECK_FALSE(spare->nodes[2].error);
    CHECK(hashes(spare->messages).size() == 30);
    CHECK_FALSE(c2.last_hash.contains(key(0xcc)));

    // Every node failing: the first node's error, as in the sequential poll.
    retrieve::NodeCursor c3;
    swarm[0xdd].fail = Error{Errc::net_path_failed, "no path"};
    swarm.order = {0xcc, 0xdd};
    auto none = retrieve::poll(self, swarm, c3, "", {.want_answers = 2, .executor = pool.get()});
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::net_timeout);
}

namespace {
/// Two members holding the same 25 messages (aa pages of 10; bb pages of 7, with one more message,
/// only_bb, fourth in its list), asked aa first.
struct TwoPagedMembers {
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    retrieve::StoredMessage only_bb = fake_message(100, 1700000000100);
    TwoPagedMembers() {
        for (int i = 0; i < 25; ++i) all.push_back(fake_message(i, 1700000000000 + i));
        swarm[0xaa].stored = all;
        swarm[0xaa].page = 10;
        swarm[0xbb].stored = all;
        swarm[0xbb].stored.insert(swarm[0xbb].stored.begin() + 3, only_bb);
        swarm[0xbb].page = 7;
        swarm.order = {0xaa, 0xbb};
    }
};
}  // namespace

TEST_CASE("retrieve: poll_pages hands each page over as it arrives, de-duplicated", "[retrieve][poll]") {
    const auto self = test_identity(9);
    TwoPagedMembers two;
    auto& swarm = two.swarm;
    const auto& all = two.all;
    const auto& only_bb = two.only_bb;

    struct Seen {
        Ed25519PublicKey node;
        std::vector<std::string> hashes;
        std::string cursor_for_node;
    };
    std::vector<Seen> pages;
    const retrieve::PageSink sink = [&](const Ed25519PublicKey& node, retrieve::FreshPage& fresh,
                                        const retrieve::NodeCursor& cursor) {
        CHECK(fresh.rejected.empty());
        pages.push_back(Seen{node, hashes(fresh.messages), cursor.last_hash.at(node)});
        return true;
    };
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll_pages(self, swarm, cursor, "", sink);
    REQUIRE(r);
    CHECK_FALSE(r->stopped);
    // aa: 10 + 10 + 5; bb: 4 pages of which only the first holds something new (only_bb).
    REQUIRE(pages.size() == 4);
    CHECK(pages[0].hashes == hashes(std::vector(all.begin(), all.begin() + 10)));
    CHECK(pages[0].cursor_for_node == all[9].hash);  // the sink sees the cursor past its page
    CHECK(pages[2].hashes == hashes(std::vector(all.begin() + 20, all.end())));
    CHECK(pages[3].node == key(0xbb));
    CHECK(pages[3].hashes == std::vector<std::string>{only_bb.hash});  // after aa's items, not beside them
    REQUIRE(r->nodes.size() == 2);
    CHECK(r->nodes[1].pages == 4);
    CHECK(r->server_time_ms == 1700000000123);
    CHECK(cursor.last_hash.at(key(0xbb)) == all.back().hash);

    // A sink that says stop ends the poll after that page; the cursor covers exactly what was seen.
    retrieve::NodeCursor c2;
    std::size_t calls = 0;
    auto stop = retrieve::poll_pages(self, swarm, c2, "",
                                     [&](const Ed25519PublicKey&, retrieve::FreshPage&,
                                         const retrieve::NodeCursor&) { return ++calls < 2; });
    REQUIRE(stop);
    CHECK(stop->stopped);
    CHECK(calls == 2);
    CHECK(stop->nodes.size() == 1);  // bb never asked
    CHECK(c2.last_hash.at(key(0xaa)) == all[19].hash);
    CHECK_FALSE(c2.last_hash.contains(key(0xbb)));

    // Same errors as poll.
    retrieve::NodeCursor c3;
    CHECK(retrieve::poll_pages(self, swarm, c3, "short", sink).error().code == Errc::invalid_argument);
    swarm.order.clear();
    CHECK(retrieve::poll_pages(self, swarm, c3, "", sink).error().code == Errc::net_no_nodes);
}

namespace {
// A FakeSwarm safe to read from several threads: requests are logged (member, in order) under a
// lock; `gate` runs before a request is answered, without the lock.
struct LoggedSwarm final : retrieve::SwarmReader {
    FakeSwarm& inner;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::uint8_t> log;
    std::function<void(std::uint8_t member, std::size_t nth_of_member)> gate;
    explicit LoggedSwarm(FakeSwarm& s) : inner(s) {}
    std::size_t count(std::uint8_t m) const { return static_cast<std::size_t>(std::count(log.begin(), log.end(), m)); }
    Result<network::Swarm> get_swarm(const SessionId& a) override {
        std::lock_guard lock(mu);
        return inner.get_swarm(a);
    }
    Result<std::string> retrieve(const SessionId& a, const network::Snode& m, const retrieve::RequestBuilder& b) override {
        const std::uint8_t id = m.ed25519().bytes[0];
        std::size_t nth = 0;
        {
            std::lock_guard lock(mu);
            log.push_back(id);
            nth = count(id);
            cv.notify_all();
        }
        if (gate) gate(id, nth);
        std::lock_guard lock(mu);
        return inner.retrieve(a, m, b);
    }
};

// Holds posted tasks without running them (until run_all): every task of a poll then runs on the
// calling thread.
struct ParkedExecutor final : Executor {
    std::vector<std::function<void()>> tasks;
    void post(std::function<void()> task) override { tasks.push_back(std::move(task)); }
    void run_all() {
        for (auto& t : tasks) t();
        tasks.clear();
    }
};

struct PageSeen {
    Ed25519PublicKey node;
    std::vector<std::string> hashes;
};

std::vector<PageSeen> stream_all(const Identity& self, retrieve::SwarmReader& reader, retrieve::NodeCursor& cursor,
                                 Executor* executor) {
    std::vector<PageSeen> pages;
    auto r = retrieve::poll_pages(
        self, reader, cursor, "",
        [&](const Ed25519PublicKey& node, retrieve::FreshPage& fresh, const retrieve::NodeCursor&) {
            pages.push_back(PageSeen{node, hashes(fresh.messages)});
            return true;
        },
        {.executor = executor});
    REQUIRE(r);
    CHECK_FALSE(r->stopped);
    return pages;
}

// poll_pages with a sink that says stop on its second page (which it must reach).
Result<retrieve::StreamResult> stop_at_second_page(const Identity& self, retrieve::SwarmReader& reader,
                                                   retrieve::NodeCursor& cursor, Executor* executor) {
    std::size_t calls = 0;
    auto r = retrieve::poll_pages(
        self, reader, cursor, "",
        [&](const Ed25519PublicKey&, retrieve::FreshPage&, const retrieve::NodeCursor&) { return ++calls < 2; },
        {.executor = executor});
    CHECK(calls == 2);
    return r;
}

void check_same_pages(const std::vector<PageSeen>& a, const std::vector<PageSeen>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].node == b[i].node);
        CHECK(a[i].hashes == b[i].hashes);
    }
}
}  // namespace

TEST_CASE("retrieve: poll_pages with an executor asks for the next page while the sink handles this one",
          "[retrieve][poll]") {
    const auto self = test_identity(9);
    TwoPagedMembers two;
    auto& swarm = two.swarm;
    const auto& all = two.all;

    LoggedSwarm counted(swarm);  // its log (under its lock) counts the requests

    const auto run = [&](Executor* executor, bool wait_for_next) {
        std::vector<PageSeen> pages;
        bool asked_ahead = true, on_caller = true;
        const auto caller = std::this_thread::get_id();
        const std::size_t start = [&] {
            std::lock_guard lock(counted.mu);
            return counted.log.size();
        }();
        const retrieve::PageSink sink = [&](const Ed25519PublicKey& node, retrieve::FreshPage& fresh,
                                            const retrieve::NodeCursor&) {
            on_caller &= std::this_thread::get_id() == caller;
            pages.push_back(PageSeen{node, hashes(fresh.messages)});
            if (wait_for_next && pages.size() == 1) {
                // aa's second page is asked for while this sink runs (up to 5 s): a second request
                // of this poll, which may have gone out before the sink started.
                std::unique_lock lock(counted.mu);
                asked_ahead = counted.cv.wait_for(lock, std::chrono::seconds(5), [&] { return counted.log.size() >= start + 2; });
            }
            return true;
        };
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll_pages(self, counted, cursor, "", sink, {.executor = executor});
        REQUIRE(r);
        CHECK(asked_ahead);
        CHECK(on_caller);
        CHECK(cursor.last_hash.at(key(0xbb)) == all.back().hash);
        return pages;
    };
    auto pool = make_thread_pool();
    const auto plain = run(nullptr, false);
    const auto ahead = run(pool.get(), true);
    // The same pages, in the same order, to the same sink calls.
    REQUIRE(plain.size() == 4);
    check_same_pages(ahead, plain);

    // A sink that says stop: the page asked for ahead is dropped, the cursor covers what was seen.
    retrieve::NodeCursor c2;
    auto stop = stop_at_second_page(self, counted, c2, pool.get());
    REQUIRE(stop);
    CHECK(stop->stopped);
    CHECK(stop->nodes.size() == 1);
    CHECK(c2.last_hash.at(key(0xaa)) == all[19].hash);
}


TEST_CASE("retrieve: poll_pages with an executor reads the next member while the first one's pages are handed on",
          "[retrieve][poll]") {
    const auto self = test_identity(9);
    TwoPagedMembers two;  // aa: 25 items in pages of 10; bb: the same plus only_bb, in pages of 7
    auto& swarm = two.swarm;
    const auto& all = two.all;
    auto pool = make_thread_pool();

    retrieve::NodeCursor plain_cursor;
    const auto plain = stream_all(self, swarm, plain_cursor, nullptr);
    REQUIRE(plain.size() == 4);

    SECTION("members with the same messages: the second one keeps pace, nothing is handed on twice") {
        swarm[0xbb].stored = all;  // no only_bb: every page of bb holds what aa already handed on
        LoggedSwarm logged(swarm);
        // aa's second request waits (up to 5 s) for bb's first: the one-after-the-other poll would
        // ask bb only once aa is done, and fail here.
        bool bb_asked_early = false;
        logged.gate = [&](std::uint8_t m, std::size_t nth) {
            if (m != 0xaa || nth != 2) return;
            std::unique_lock lock(logged.mu);
            bb_asked_early = logged.cv.wait_for(lock, std::chrono::seconds(5), [&] { return logged.count(0xbb) >= 1; });
        };
        retrieve::NodeCursor cursor;
        const auto pages = stream_all(self, logged, cursor, pool.get());
        CHECK(bb_asked_early);
        // aa's three pages; bb brought nothing new, so the sink saw nothing of it.
        REQUIRE(pages.size() == 3);
        for (const auto& p : pages) CHECK(p.node == key(0xaa));
        CHECK(pages[0].hashes == hashes(std::vector(all.begin(), all.begin() + 10)));
        CHECK(pages[2].hashes == hashes(std::vector(all.begin() + 20, all.end())));
        // The same requests as one after the other, and both cursors at the end.
        CHECK(logged.count(0xaa) == 3);
        CHECK(logged.count(0xbb) == 4);
        CHECK(cursor.last_hash.at(key(0xaa)) == all.back().hash);
        CHECK(cursor.last_hash.at(key(0xbb)) == all.back().hash);
    }
    SECTION("an item only the second member holds comes after the first member's items, as without an executor") {
        LoggedSwarm logged(swarm);
        retrieve::NodeCursor cursor;
        check_same_pages(stream_all(self, logged, cursor, pool.get()), plain);
        CHECK(cursor == plain_cursor);
    }
    SECTION("an executor that never starts the read: the member is read in its turn, on the caller") {
        ParkedExecutor parked;
        retrieve::NodeCursor cursor;
        check_same_pages(stream_all(self, swarm, cursor, &parked), plain);
        CHECK(cursor == plain_cursor);
        const auto asked = swarm.asked.size();
        parked.run_all();  // the parked read finds itself taken and asks nothing
        CHECK(swarm.asked.size() == asked);
    }
    SECTION("a sink that stops: the second member's unseen pages are dropped, its cursor has not moved") {
        LoggedSwarm logged(swarm);
        // bb's first page (with only_bb) is answered before aa's first page is handed on.
        logged.gate = [&](std::uint8_t m, std::size_t nth) {
            if (m != 0xaa || nth != 1) return;
            std::unique_lock lock(logged.mu);
            logged.cv.wait_for(lock, std::chrono::seconds(5), [&] { return logged.count(0xbb) >= 1; });
        };
        retrieve::NodeCursor cursor;
        auto r = stop_at_second_page(self, logged, cursor, pool.get());
        REQUIRE(r);
        CHECK(r->stopped);
        CHECK(r->nodes.size() == 1);  // bb handed on nothing: reported as not asked
        CHECK(cursor.last_hash.at(key(0xaa)) == all[19].hash);
        CHECK_FALSE(cursor.last_hash.contains(key(0xbb)));
    }
    SECTION("members with the same messages and a sink that stops: the second one's cursor never passes what was handed on") {
        swarm[0xbb].stored = all;
        LoggedSwarm logged(swarm);
        retrieve::NodeCursor cursor;
        auto r = stop_at_second_page(self, logged, cursor, pool.get());
        REQUIRE(r);
        CHECK(r->stopped);
        CHECK(cursor.last_hash.at(key(0xaa)) == all[19].hash);
        // bb's pages are 0-6, 7-13, 14-20, 21-24: only the first two hold nothing beyond aa's 0-19.
        if (auto it = cursor.last_hash.find(key(0xbb)); it != cursor.last_hash.end())
            CHECK((it->second == all[6].hash || it->second == all[13].hash));
    }
    SECTION("a sink that throws: the exception comes out, the second member's read is stopped first") {
        LoggedSwarm logged(swarm);
        retrieve::NodeCursor cursor;
        CHECK_THROWS_AS(retrieve::poll_pages(
                            self, logged, cursor, "",
                            [&](const Ed25519PublicKey&, retrieve::FreshPage&, const retrieve::NodeCursor&) -> bool {
                                throw std::runtime_error("sink failed");
                            },
                            {.executor = pool.get()}),
                        std::runtime_error);
        std::lock_guard lock(logged.mu);
        CHECK(logged.count(0xbb) <= 1);  // stopped after its page in flight, if any
    }
}

TEST_CASE("retrieve: poll uses the fallback hash for nodes without a cursor entry", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    std::vector<retrieve::StoredMessage> all;
    for (int i = 0; i < 5; ++i) all.push_back(fake_message(i, 1700000000000 + i));
    swarm[0xaa].stored = all;
    swarm[0xbb].stored = all;
    swarm.order = {0xaa, 0xbb};
    retrieve::NodeCursor cursor;
    cursor.last_hash[key(0xbb)] = all[3].hash;
    auto r = retrieve::poll(self, swarm, cursor, all[1].hash);
    REQUIRE(r);
    CHECK(swarm[0xaa].last_hashes_seen.front() == all[1].hash);
    CHECK(swarm[0xbb].last_hashes_seen.front() == all[3].hash);
    CHECK(hashes(r->messages) == std::vector<std::string>{all[2].hash, all[3].hash, all[4].hash});

    auto bad = retrieve::poll(self, swarm, cursor, "short");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::invalid_argument);
}

TEST_CASE("retrieve: poll tolerates one failing node and reports it", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    auto m1 = fake_message(1, 1700000000001);
    swarm[0xaa].fail = Error{Errc::net_timeout, "network: timeout"};
    swarm[0xbb].stored = {m1};
    swarm[0xcc].stored = {m1};
    swarm.order = {0xaa, 0xbb, 0xcc};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, swarm, cursor, "", {.want_answers = 1});
    REQUIRE(r);
    CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash});
    REQUIRE(r->nodes.size() == 2);  // stopped after one answer: cc was a spare
    REQUIRE(r->nodes[0].error);
    CHECK(r->nodes[0].error->code == Errc::net_timeout);
    CHECK_FALSE(r->nodes[1].error);
    CHECK(swarm[0xcc].requests == 0);
    CHECK_FALSE(cursor.last_hash.contains(key(0xaa)));

    // A node answering garbage counts as failed, with the parse error and the node named.
    swarm[0xaa].fail.reset();
    swarm[0xaa].stored = {m1};
    HookedReader garbage(swarm, [](const Ed25519PublicKey& node) -> std::optional<Result<std::string>> {
        if (node == key(0xaa)) return Result<std::string>(std::string(R"({"messages":[{"hash":"x"}]})"));
        return std::nullopt;
    });
    swarm.order = {0xaa, 0xbb};
    retrieve::NodeCursor c2;
    auto g = retrieve::poll(self, garbage, c2, "");
    REQUIRE(g);
    REQUIRE(g->nodes[0].error);
    CHECK(g->nodes[0].error->code == Errc::retrieve_bad_response);
    CHECK(g->nodes[0].error->message.find("(from node aaaaaaaa") != std::string::npos);
    CHECK(hashes(g->messages) == std::vector<std::string>{m1.hash});
}

TEST_CASE("retrieve: poll fails with the first error when no node answers", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    swarm[0xaa].fail = Error{Errc::net_path_failed, "network: no path"};
    swarm[0xbb].fail = Error{Errc::net_timeout, "network: timeout"};
    swarm.order = {0xaa, 0xbb};
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, swarm, cursor, "");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::net_path_failed);
    CHECK(swarm.lookups == 1);  // not a moved swarm: no second round

    // An empty swarm, and a failed swarm lookup, are errors too.
    swarm.order.clear();
    auto none = retrieve::poll(self, swarm, cursor, "");
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::net_no_nodes);
    swarm.swarm_error = Error{Errc::net_no_nodes, "network: no seed answered"};
    auto lookup = retrieve::poll(self, swarm, cursor, "");
    REQUIRE_FALSE(lookup);
    CHECK(lookup.error().message == "network: no seed answered");
}

TEST_CASE("retrieve: a moved swarm (421) is asked again once, with its new members", "[retrieve][poll]") {
    const auto self = test_identity(9);
    auto pool = make_thread_pool();
    for (bool concurrent : {false, true}) {
        DYNAMIC_SECTION((concurrent ? "concurrent" : "one after the other")) {
            FakeSwarm swarm;
            auto m1 = fake_message(1, 1700000000001);
            for (std::uint8_t n : {0x01, 0x02, 0x03, 0xdd, 0xee}) swarm[n].stored = {m1};
            swarm.order = {0x01, 0x02, 0x03};
            swarm.moved_to = std::vector<std::uint8_t>{0xdd, 0xee};
            retrieve::NodeCursor cursor;
            retrieve::PollOptions o{.want_answers = 2, .executor = concurrent ? pool.get() : nullptr};
            auto r = retrieve::poll(self, swarm, cursor, "", o);
            REQUIRE(r);
            CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash});
            CHECK(swarm.lookups == 2);
            // The stale swarm: after the first 421 its other members are not asked (a concurrent
            // wave asks up to 2 at once, so at most those 2 answered 421).
            const auto stale = std::count_if(swarm.asked.begin(), swarm.asked.end(), [](auto n) { return n < 0x10; });
            CHECK(stale >= 1);
            CHECK(stale <= (concurrent ? 2 : 1));
            REQUIRE(r->nodes.size() == 2);  // the new swarm's members; the failed round is not reported
            CHECK(r->nodes[0].node == key(0xdd));
            CHECK(r->nodes[1].node == key(0xee));
            CHECK(cursor.last_hash.size() == 2);

            // A swarm that keeps moving: net_swarm_moved after kSwarmRounds lookups.
            swarm.always_moved = true;
            swarm.lookups = 0;
            auto moving = retrieve::poll(self, swarm, cursor, "", o);
            REQUIRE_FALSE(moving);
            CHECK(moving.error().code == Errc::net_swarm_moved);
            CHECK(swarm.lookups == static_cast<int>(retrieve::kSwarmRounds));
        }
    }
}

TEST_CASE("retrieve: poll asks members in the order drawn from its rng", "[retrieve][poll]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    swarm.order = {0x01, 0x02, 0x03, 0x04, 0x05};
    for (auto n : swarm.order) swarm[n].stored = {fake_message(n, 1700000000000 + n)};
    std::set<std::vector<std::uint8_t>> orders;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        DeterministicRng rng(seed);
        swarm.asked.clear();
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, swarm, cursor, "", {.want_answers = 2, .rng = &rng});
        REQUIRE(r);
        REQUIRE(swarm.asked.size() == 2);
        CHECK(r->messages.size() == 2);
        orders.insert(swarm.asked);
        // The same seed draws the same members.
        const auto first = swarm.asked;
        DeterministicRng again(seed);
        swarm.asked.clear();
        retrieve::NodeCursor c2;
        REQUIRE(retrieve::poll(self, swarm, c2, "", {.want_answers = 2, .rng = &again}));
        CHECK(swarm.asked == first);
    }
    CHECK(orders.size() > 5);  // not always the first two of the swarm
}

TEST_CASE("retrieve: an item whose hash does not match its data is rejected, never merged", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    auto pool = make_thread_pool();
    auto m1 = fake_message(1, 1700000000001), m2 = fake_message(2, 1700000000002), m3 = fake_message(3, 1700000000003);
    // The first member forges: it claims m2's hash for junk data (front-running the genuine copy)
    // and adds junk under a made-up hash.
    auto forged_m2 = m2;
    forged_m2.data = Bytes{0xde, 0xad};
    auto junk = m3;
    junk.hash = fake_hash(77);
    for (bool concurrent : {false, true}) {
        DYNAMIC_SECTION((concurrent ? "concurrent" : "one after the other")) {
            FakeSwarm swarm;
            swarm[0xaa].stored = {m1, forged_m2, junk};
            swarm[0xbb].stored = {m1, m2, m3};
            swarm.order = {0xaa, 0xbb};
            retrieve::NodeCursor cursor;
            auto r = retrieve::poll(self, swarm, cursor, "", {.executor = concurrent ? pool.get() : nullptr});
            REQUIRE(r);
            // The genuine m2 (from bb) is delivered; the forgeries are reported, once each.
            CHECK(hashes(r->messages) == std::vector<std::string>{m1.hash, m2.hash, m3.hash});
            CHECK(r->messages[1].data == m2.data);
            REQUIRE(r->rejected.size() == 2);
            CHECK(r->rejected[0].hash == m2.hash);
            CHECK(r->rejected[1].hash == junk.hash);
            for (const auto& x : r->rejected) {
                CHECK(x.reason.code == Errc::retrieve_hash_mismatch);
                CHECK(x.reason.message.find("from node aaaaaaaa") != std::string::npos);
            }
            CHECK(r->nodes[0].rejected == 2);
            CHECK(r->nodes[1].rejected == 0);
            // The forging member's cursor still moves past what it returned.
            CHECK(cursor.last_hash.at(key(0xaa)) == junk.hash);
        }
    }
    // poll_pages: the same split, page by page; the genuine copy is fresh on the second member.
    FakeSwarm swarm;
    swarm[0xaa].stored = {m1, forged_m2};
    swarm[0xbb].stored = {m1, m2};
    swarm.order = {0xaa, 0xbb};
    std::vector<std::string> fresh, rejected;
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll_pages(self, swarm, cursor, "",
                                  [&](const Ed25519PublicKey&, retrieve::FreshPage& page, const retrieve::NodeCursor&) {
                                      for (auto& m : page.messages) fresh.push_back(m.hash);
                                      for (auto& x : page.rejected) rejected.push_back(x.hash);
                                      return true;
                                  });
    REQUIRE(r);
    CHECK(fresh == std::vector<std::string>{m1.hash, m2.hash});
    CHECK(rejected == std::vector<std::string>{m2.hash});
}

TEST_CASE("retrieve: endless `more` with fresh junk ends at the poll's budget", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    // Anyone can compute a storage hash, so the junk passes the hash check: only the budget stops it.
    struct ManualClock final : Clock {
        std::atomic<std::int64_t> now{1'000'000};
        std::int64_t now_ms() const override { return now.load(); }
    } clock;
    FakeSwarm swarm;
    swarm.order = {0xaa, 0xbb};
    std::atomic<int> calls{0}, next{0};
    std::mutex mu;
    std::vector<Ed25519PublicKey> asked;
    HookedReader endless(swarm, [&](const Ed25519PublicKey& node) -> std::optional<Result<std::string>> {
        std::vector<retrieve::StoredMessage> page;
        for (int i = 0; i < 10; ++i) {
            const int n = 1000 + next++;
            page.push_back(fake_message(n, 1700000000000 + n));
        }
        ++calls;
        clock.now += 1000;  // each answer takes a second
        std::lock_guard lock(mu);
        asked.push_back(node);
        return Result<std::string>(answer(page, true).dump());
    });
    const std::size_t page_bytes = answer(std::vector<retrieve::StoredMessage>(10, fake_message(1000, 1700000001000)), true)
                                       .dump()
                                       .size();

    SECTION("items") {
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, endless, cursor, "", {.want_answers = 2, .budget = {.max_items = 95}});
        REQUIRE(r);
        CHECK(r->truncated == retrieve::Truncation::item_budget);
        // aa is not followed past the 100th item; bb still gets its first request (every wanted
        // member is read a little in every call), and is not followed either.
        CHECK(calls == 11);
        CHECK(r->messages.size() == 110);
        auto expected = std::vector<Ed25519PublicKey>(10, key(0xaa));
        expected.push_back(key(0xbb));
        CHECK(asked == expected);
        // The cursor covers what was kept: the next poll continues after it.
        CHECK(cursor.last_hash.at(key(0xaa)) == r->messages[99].hash);
        CHECK(cursor.last_hash.at(key(0xbb)) == r->messages.back().hash);
        CHECK(to_string(r->truncated) == "item_budget");
    }
    SECTION("bytes") {
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, endless, cursor, "", {.budget = {.max_bytes = 5 * page_bytes}});
        REQUIRE(r);
        CHECK(r->truncated == retrieve::Truncation::byte_budget);
        CHECK(calls == 6);  // aa: 5 pages; bb: its first
        CHECK(r->messages.size() == 60);
    }
    SECTION("deadline") {
        retrieve::NodeCursor cursor;
        std::size_t sunk = 0;
        auto r = retrieve::poll_pages(
            self, endless, cursor, "",
            [&](const Ed25519PublicKey&, retrieve::FreshPage& page, const retrieve::NodeCursor&) {
                sunk += page.messages.size();
                return true;
            },
            {.budget = {.deadline_ms = clock.now + 7'500, .clock = &clock}});
        REQUIRE(r);
        CHECK(r->truncated == retrieve::Truncation::deadline);
        CHECK(calls == 8);  // started at +0 s … +7 s; none at +8 s, not even bb's first
        CHECK(sunk == 80);
        CHECK_FALSE(r->stopped);
        REQUIRE(r->nodes.size() == 1);  // bb was not asked, so it has no outcome
        CHECK(r->nodes[0].pages == 8);
        // A deadline already past: no request at all, an empty (not failed) poll.
        calls = 0;
        retrieve::NodeCursor c2;
        auto late = retrieve::poll(self, endless, c2, "", {.budget = {.deadline_ms = clock.now, .clock = &clock}});
        REQUIRE(late);
        CHECK(late->truncated == retrieve::Truncation::deadline);
        CHECK(calls == 0);
        CHECK(late->messages.empty());
        CHECK(late->nodes.empty());
        CHECK_THROWS_AS(retrieve::poll(self, endless, c2, "", {.budget = {.deadline_ms = 5}}), std::invalid_argument);
    }
    SECTION("members asked at once share the budget") {
        auto pool = make_thread_pool();
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, endless, cursor, "",
                                {.want_answers = 2, .executor = pool.get(), .budget = {.max_items = 100}});
        REQUIRE(r);
        CHECK(r->truncated == retrieve::Truncation::item_budget);
        CHECK(calls >= 10);
        CHECK(calls <= 11);  // at most one page in flight on the other member when the limit is reached
        CHECK(r->messages.size() == static_cast<std::size_t>(calls) * 10);
    }
    SECTION("a limit reached on a member's last page cuts nothing") {
        int pages = 0;
        HookedReader finite(swarm, [&](const Ed25519PublicKey&) -> std::optional<Result<std::string>> {
            ++pages;
            return Result<std::string>(answer({fake_message(pages, 1700000000000 + pages)}, false).dump());
        });
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, finite, cursor, "", {.budget = {.max_items = 1}});
        REQUIRE(r);
        CHECK(pages == 2);
        CHECK(r->truncated == retrieve::Truncation::none);
    }
    SECTION("no budget: the per-member page cap still ends it") {
        retrieve::NodeCursor cursor;
        auto r = retrieve::poll(self, endless, cursor, "", {.max_pages_per_node = 30, .want_answers = 1});
        REQUIRE(r);
        CHECK(r->truncated == retrieve::Truncation::none);
        CHECK(calls == 30);
    }
}

TEST_CASE("retrieve: poll stops a node that always says more", "[retrieve][poll][reject]") {
    const auto self = test_identity(9);
    FakeSwarm swarm;
    swarm.order = {0xaa};
    int calls = 0;
    int n = 0;
    HookedReader endless(swarm, [&](const Ed25519PublicKey&) -> std::optional<Result<std::string>> {
        ++calls;
        ++n;
        return Result<std::string>(answer({fake_message(n, 1700000000000 + n)}, true).dump());
    });
    retrieve::NodeCursor cursor;
    auto r = retrieve::poll(self, endless, cursor, "", {.max_pages_per_node = 50});
    REQUIRE(r);
    CHECK(calls == 50);
    CHECK(r->messages.size() == 50);

    // A member that ignores last_hash and repeats the same page with `more` is followed once more
    // (the second page shows it brought nothing new), then no longer.
    calls = 0;
    const auto same = answer({fake_message(1, 1700000000001), fake_message(2, 1700000000002)}, true).dump();
    HookedReader repeating(swarm, [&](const Ed25519PublicKey&) -> std::optional<Result<std::string>> {
        ++calls;
        return Result<std::string>(same);
    });
    retrieve::NodeCursor c2;
    auto rep = retrieve::poll(self, repeating, c2, "", {.max_pages_per_node = 50});
    REQUIRE(rep);
    CHECK(calls == 2);
    CHECK(rep->messages.size() == 2);
    CHECK(rep->nodes[0].pages == 2);
    // The same through poll_pages, whose sink sees the first page only (the second holds nothing fresh).
    calls = 0;
    int sunk = 0;
    retrieve::NodeCursor c3;
    auto rep_pages = retrieve::poll_pages(self, repeating, c3, "",
                                          [&](const Ed25519PublicKey&, retrieve::FreshPage&,
                                              const retrieve::NodeCursor&) { return ++sunk > 0; },
                                          {.max_pages_per_node = 50});
    REQUIRE(rep_pages);
    CHECK(calls == 2);
    CHECK(sunk == 1);

    // `more` with an empty page must not loop.
    calls = 0;
    HookedReader empty_more(swarm, [&](const Ed25519PublicKey&) -> std::optional<Result<std::string>> {
        ++calls;
        return Result<std::string>(std::string(R"({"messages":[],"more":true})"));
    });
    auto e = retrieve::poll(self, empty_more, cursor, "");
    REQUIRE(e);
    CHECK(calls == 1);
}
