// test_network_parse.cpp: parsing what seeds and nodes answer (src/network/parse.hpp): node lists,
// swarms, the "t" timestamp, relay errors, pool cache lines.
#include "network/parse.hpp"

#include <algorithm>

#include "test_network_support.hpp"

using namespace session;
using namespace session::network;
using namespace fakenet;
using nlohmann::json;
namespace nd = session::network::detail;

// ---- parsers -----------------------------------------------------------------------------------------

TEST_CASE("network: seed reply parsing drops 0.0.0.0 and malformed nodes", "[network][parse]") {
    const std::string ed(64, '1'), x(64, '2'), ed2(64, '3');
    json states = json::array({
        {{"public_ip", "10.0.0.1"}, {"storage_port", 22021}, {"pubkey_ed25519", ed}, {"pubkey_x25519", x}, {"swarm_id", 7}},
        {{"public_ip", "0.0.0.0"}, {"storage_port", 22021}, {"pubkey_ed25519", ed2}, {"pubkey_x25519", x}},
        {{"public_ip", "10.0.0.3"}, {"storage_port", 22021}, {"pubkey_ed25519", "zz"}, {"pubkey_x25519", x}},
        {{"storage_port", 22021}, {"pubkey_ed25519", ed2}, {"pubkey_x25519", x}},
    });
    auto r = nd::parse_seed_reply(json{{"result", {{"service_node_states", states}}}}.dump());
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].ip == "10.0.0.1");
    CHECK((*r)[0].https_port == 22021);
    CHECK((*r)[0].swarm_id == 7u);

    CHECK(nd::parse_seed_reply("not json").error().code == Errc::net_bad_response);
    CHECK(nd::parse_seed_reply(R"({"result":{}})").error().code == Errc::net_bad_response);
    json only_bad = json::array({states[1]});
    CHECK_FALSE(nd::parse_seed_reply(json{{"result", {{"service_node_states", only_bad}}}}.dump()));
}

TEST_CASE("network: node parsing names the bad field", "[network][parse]") {
    json n = {{"ip", "1.2.3.4"}, {"port", "70000"}, {"pubkey_ed25519", std::string(64, 'a')}, {"pubkey_x25519", std::string(64, 'b')}};
    auto r = nd::parse_node(n);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("port") != std::string::npos);
    n["port"] = "22021";
    n["ip"] = "1.2.3";
    r = nd::parse_node(n);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("public_ip") != std::string::npos);
    n["ip"] = "1.2.3.4";
    n["swarm"] = "ffffffffffffffff";  // INVALID_SWARM_ID: decommissioned, no swarm
    r = nd::parse_node(n);
    REQUIRE(r);
    CHECK_FALSE(r->swarm_id);
}

TEST_CASE("network: 'Next node not found' names the node", "[network][parse]") {
    const std::string hex = std::string(62, 'a') + "0f";
    auto k = nd::next_node_not_found("502 Bad Gateway\n\nNext node not found: " + hex);
    REQUIRE(k);
    CHECK(to_hex(k->bytes) == hex);
    CHECK(nd::next_node_not_found("Next node not found: " + hex));
    CHECK_FALSE(nd::next_node_not_found("Next node not found: 1234"));
    CHECK_FALSE(nd::next_node_not_found("504 Gateway Timeout"));
}

TEST_CASE("network: pool cache lines round-trip", "[network][parse]") {
    FakeNet net(loopback_ips(2), 1);
    auto a = net.node(0).info;
    auto b = net.node(1).info;
    b.swarm_id.reset();
    for (const auto& n : {a, b}) {
        auto back = nd::parse_pool_line(nd::pool_line(n));
        REQUIRE(back);
        CHECK(*back == n);
    }
    CHECK_FALSE(nd::parse_pool_line("abc|def"));
}

// ---- hostile replies ---------------------------------------------------------------------------------

TEST_CASE("network: every reply parser refuses JSON nested deeper than 64 levels", "[network][parse]") {
    FakeNet net(loopback_ips(1), 1);
    const auto& node = net.node(0).info;
    const std::string deep = deep_json(300'000);
    // Deep nesting where each parser would walk, copy or dump it.
    const std::string seed = R"({"result":{"service_node_states":)" + deep + "}}";
    const std::string swarm = R"({"snodes":)" + deep + "}";
    const std::string store = R"({"swarm":{")" + node.ed25519_hex() + R"(":{"failed":true,"code":)" + deep + "}}}";
    const std::string info = R"({"version":)" + deep + R"(,"t":1})";
    const std::string batch = R"({"results":[{"code":421,"body":)" + deep + R"(},{"code":421,"body":1}]})";
    auto deeper = [](const Error& e) { return e.message.find("deeper than 64") != std::string::npos; };
    CHECK(deeper(nd::parse_seed_reply(seed).error()));
    CHECK(deeper(nd::parse_oxend_reply(seed).error()));
    CHECK(deeper(nd::parse_swarm_reply(swarm).error()));
    CHECK(deeper(nd::parse_store_reply(store, "h", node, {}).error()));
    CHECK(deeper(nd::parse_info_reply(info, node).error()));
    CHECK_FALSE(nd::uniform_batch_failure(batch));
    CHECK_FALSE(nd::find_timestamp(R"({"results":[{"body":)" + deep + R"(}],"t":5})"));
    // 64 levels are fine.
    CHECK(nd::find_timestamp(R"({"t":5,"x":)" + deep_json(62) + "}") == 5);
}

TEST_CASE("network: a uniform batch failure keeps its first body as text, within limits", "[network][parse]") {
    auto f = nd::uniform_batch_failure(R"({"results":[{"code":421,"body":{"snodes":[]}},{"code":421,"body":"x"}]})");
    REQUIRE(f);
    CHECK(f->status == 421);
    CHECK(json::parse(f->body) == json{{"snodes", json::array()}});
    CHECK_FALSE(nd::uniform_batch_failure(R"({"results":[{"code":421},{"code":406}]})"));  // mixed
    CHECK_FALSE(nd::uniform_batch_failure(R"({"results":[{"code":200},{"code":200}]})"));  // success
    CHECK_FALSE(nd::uniform_batch_failure(R"({"results":[{"code":-421}]})"));
    json many = {{"results", json::array()}};
    for (std::size_t i = 0; i <= nd::kMaxBatchResults; ++i) many["results"].push_back({{"code", 421}});
    CHECK_FALSE(nd::uniform_batch_failure(many.dump()));  // more results than requests can exist
}

TEST_CASE("network: a body parsed once reads as its text does", "[network][parse]") {
    FakeNet net(loopback_ips(1), 1);
    const Snode from = net.node(0).info;
    // Only a JSON object within the depth limit is kept parsed; anything else stays text.
    CHECK_FALSE(nd::parse_body("[1,2]"));
    CHECK_FALSE(nd::parse_body("not json"));
    CHECK_FALSE(nd::parse_body(R"({"x":)" + deep_json(80) + "}"));
    const std::string batch =
        R"({"results":[{"code":200,"body":{"hash":"h","t":7}},{"code":421,"body":"moved"},{"code":500}]})";
    auto parsed = nd::parse_body(batch);
    REQUIRE(parsed);
    CHECK(nd::find_timestamp(parsed.get()) == nd::find_timestamp(batch));
    CHECK(nd::find_timestamp(parsed.get()) == 7);
    CHECK_FALSE(nd::find_timestamp(nullptr));
    CHECK_FALSE(nd::uniform_batch_failure(batch, parsed.get()));
    const std::string refused = R"({"results":[{"code":406,"body":"clock"},{"code":406,"body":"clock"}]})";
    auto f = nd::uniform_batch_failure(refused, nd::parse_body(refused).get());
    REQUIRE(f);
    CHECK(f->status == 406);
    CHECK(f->body == nd::uniform_batch_failure(refused)->body);
    // Given a parse, it reads the parse and not the text.
    CHECK(nd::uniform_batch_failure("not json", nd::parse_body(refused).get()));
    CHECK_FALSE(nd::uniform_batch_failure(refused, parsed.get()));

    // A reply carrying its parse reads the same results, pointing into that parse (not a copy).
    // This plain batch reply was scanned (batch_scan.hpp): its 2xx object body is a StoreAnswer.
    RpcReply with{200, batch, from, parsed};
    auto a = nd::parse_batch_results(with, 3);
    auto b = nd::parse_batch_results(RpcReply{200, batch, from}, 3);
    REQUIRE(a);
    REQUIRE(b);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK((*a)[i].status == (*b)[i].status);
        CHECK((*a)[i].body == (*b)[i].body);
        CHECK((*a)[i].object == nullptr);
        CHECK(((*a)[i].store == nullptr) == ((*b)[i].object == nullptr));
        if ((*b)[i].object) CHECK(*(*a)[i].store == nd::store_answer_of(*(*b)[i].object));
    }
    REQUIRE((*a)[0].store);
    parsed.reset();
    with = RpcReply{};
    CHECK((*a)[0].store->t == 7);  // kept alive by the result

    // A reply the scan leaves to the full parse (a float) keeps the parsed object instead.
    const std::string unusual = R"({"results":[{"code":200,"body":{"hash":"h","t":7,"x":1.5}}]})";
    RpcReply parsed_in_full{200, unusual, from, nd::parse_body(unusual)};
    auto c = nd::parse_batch_results(parsed_in_full, 1);
    REQUIRE(c);
    REQUIRE((*c)[0].object);
    CHECK_FALSE((*c)[0].store);
    CHECK((*c)[0].object->at("hash") == "h");
    CHECK(nd::find_timestamp(parsed_in_full.parsed.get()) == 7);
    // Without a parse, errors name what is wrong, as before.
    auto bad = nd::parse_batch_results(RpcReply{200, "[]", from}, 1);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("not a JSON object") != std::string::npos);
}

TEST_CASE("network: node lists are read up to a limit", "[network][parse]") {
    FakeNet net(loopback_ips(3), 1);
    json arr = json::array();
    for (int rep = 0; rep < 30; ++rep)
        for (auto& n : net.nodes())
            arr.push_back({{"ip", n->info.ip}, {"port", n->info.https_port}, {"pubkey_ed25519", n->info.ed25519_hex()},
                           {"pubkey_x25519", to_hex(n->info.keys.x25519.bytes)}});
    std::size_t skipped = 0;
    auto all = nd::parse_node_list(arr, 1000, &skipped);
    REQUIRE(all);
    CHECK(all->size() == 3);  // repeated keys once
    CHECK(skipped == 87);
    auto first = nd::parse_node_list(arr, 2, &skipped);
    REQUIRE(first);
    CHECK(first->size() == 2);
    CHECK(skipped == 88);
    // A swarm reply lists at most kMaxSwarmEntries members.
    json big = json::array();
    for (int i = 0; i < 1000; ++i) {
        ByteArray<32> k{};
        k[0] = static_cast<std::uint8_t>(i);
        k[1] = static_cast<std::uint8_t>(i >> 8);
        big.push_back({{"ip", "10.0.0.1"}, {"port", 1}, {"pubkey_ed25519", to_hex(k)}, {"pubkey_x25519", to_hex(k)}});
    }
    auto sw = nd::parse_swarm_reply(json{{"snodes", big}}.dump());
    REQUIRE(sw);
    CHECK(sw->nodes.size() == nd::kMaxSwarmEntries);
}

TEST_CASE("network: a store reply counts only the recipient's swarm, reads a bounded number of entries and quotes "
          "node text",
          "[network][parse]") {
    FakeNet net(loopback_ips(4), 1);
    const std::string hash = "0123456789012345678901234567890123456789012";
    std::vector<Snode> members{net.node(0).info, net.node(1).info};
    json swarm = json::object();
    for (std::size_t i = 0; i < 4; ++i) swarm[net.node(i).info.ed25519_hex()] = signed_entry(net.node(i), hash, 99);
    auto r = nd::parse_store_reply(json{{"swarm", swarm}}.dump(), hash, members[0], members);
    REQUIRE(r);
    CHECK(r->confirmed() == 2);  // nodes 2 and 3 signed, validly, but are not members
    for (const auto& n : r->nodes) {
        const bool member = n.node == members[0].ed25519() || n.node == members[1].ed25519();
        CHECK(n.signature_valid);
        CHECK(n.ok == member);
        if (!member) CHECK(n.failure == "not a member of the recipient's swarm");
    }
    // Only non-members signed: nothing is confirmed.
    json outsiders = json::object();
    outsiders[net.node(3).info.ed25519_hex()] = signed_entry(net.node(3), hash, 99);
    CHECK(nd::parse_store_reply(json{{"swarm", outsiders}}.dump(), hash, members[0], members).error().code ==
          Errc::net_bad_response);

    json junk = swarm;
    for (int i = 0; i < 1000; ++i) {
        ByteArray<32> k{};  // sorts after the members: an object's keys are read in order
        k[0] = 0xff;
        k[1] = static_cast<std::uint8_t>(i);
        k[2] = static_cast<std::uint8_t>(i >> 8);
        junk[to_hex(k)] = {{"failed", true}, {"code", "\x1b[2J" + std::string(5000, 'x')}, {"reason", std::string(9000, '\n')}};
    }
    auto bounded = nd::parse_store_reply(json{{"swarm", junk}}.dump(), hash, members[0], members);
    INFO((bounded ? std::string() : bounded.error().message));
    REQUIRE(bounded);
    CHECK(bounded->nodes.size() == nd::kMaxSwarmEntries);
    for (const auto& n : bounded->nodes) {
        CHECK(n.failure.size() < 2 * nd::kQuoteBytes + 32);
        CHECK(std::none_of(n.failure.begin(), n.failure.end(), [](char c) { return c == '\x1b' || c == '\n'; }));
    }
}

TEST_CASE("network: quote bounds and escapes a node's text", "[network][parse]") {
    CHECK(nd::quote("plain") == "plain");
    CHECK(nd::quote("a\nb\x1b[31mc") == "a?b?[31mc");
    const auto q = nd::quote(std::string(10'000, 'x'));
    CHECK(q.size() == nd::kQuoteBytes + std::string("…").size());
}

TEST_CASE("network: store checks verify every member, the first member or none", "[network][parse]") {
    FakeNet net(loopback_ips(4), 1);
    const std::string hash = "0123456789012345678901234567890123456789012";
    std::vector<Snode> members{net.node(0).info, net.node(1).info, net.node(2).info};
    json swarm = json::object();
    for (std::size_t i = 0; i < 3; ++i) swarm[net.node(i).info.ed25519_hex()] = signed_entry(net.node(i), hash, 99);
    // A forged entry: a member's key with our hash and another member's signature.
    json forged = swarm;
    forged[net.node(2).info.ed25519_hex()]["signature"] = swarm[net.node(0).info.ed25519_hex()]["signature"];
    const auto parse = [&](const json& sw, StoreChecks checks) {
        return nd::parse_store_reply(json{{"swarm", sw}}.dump(), hash, members[0], members, checks);
    };
    const auto checked = [](const StoreResult& r) {
        return static_cast<std::size_t>(
            std::count_if(r.nodes.begin(), r.nodes.end(), [](const StoreNodeResult& n) { return n.signature_checked; }));
    };

    auto every = parse(forged, StoreChecks::every_member);
    REQUIRE(every);
    CHECK(every->confirmed() == 2);
    CHECK(checked(*every) == 3);
    for (const auto& n : every->nodes)
        if (n.node == members[2].ed25519()) CHECK(n.failure == "bad signature");

    auto first = parse(swarm, StoreChecks::first_member);
    REQUIRE(first);
    CHECK(first->confirmed() == 1);  // one proof; the others are listed unchecked
    CHECK(checked(*first) == 1);
    for (const auto& n : first->nodes)
        if (!n.ok) CHECK(n.failure == "signature not checked");
    // The first member's signature is bad: checking goes on until one verifies.
    json first_bad = swarm;
    json& lead = first_bad.begin().value();  // an object's keys are read in order
    std::string sig = lead["signature"];
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    lead["signature"] = sig;
    auto second = parse(first_bad, StoreChecks::first_member);
    REQUIRE(second);
    CHECK(second->confirmed() == 1);
    CHECK(checked(*second) == 2);
    // No member's signature verifies: no proof, no store.
    json none_valid = json::object();
    none_valid[net.node(1).info.ed25519_hex()] = forged[net.node(2).info.ed25519_hex()];
    CHECK(parse(none_valid, StoreChecks::first_member).error().code == Errc::net_bad_response);
    CHECK(parse(none_valid, StoreChecks::every_member).error().code == Errc::net_bad_response);

    // none: members' entries with our hash count unchecked (the forged one too); others still do not.
    auto none = parse(forged, StoreChecks::none);
    REQUIRE(none);
    CHECK(none->confirmed() == 3);
    CHECK(checked(*none) == 0);
    json outsider = swarm;
    outsider[net.node(3).info.ed25519_hex()] = signed_entry(net.node(3), hash, 99);
    outsider[net.node(1).info.ed25519_hex()]["hash"] = "another";
    auto partly = parse(outsider, StoreChecks::none);
    REQUIRE(partly);
    CHECK(partly->confirmed() == 2);
    for (const auto& n : partly->nodes) {
        if (n.node == net.node(3).info.ed25519()) CHECK(n.failure == "not a member of the recipient's swarm");
        if (n.node == members[1].ed25519()) CHECK(n.failure.rfind("hash mismatch", 0) == 0);
    }
}

TEST_CASE("network: store signatures checked together count as checked one by one", "[network][parse]") {
    FakeNet net(loopback_ips(3), 1);
    std::vector<Snode> members{net.node(0).info, net.node(1).info, net.node(2).info};
    // Three answers of a batch, each signed by the three members.
    std::vector<std::string> hashes;
    std::vector<json> answers;
    for (int a = 0; a < 3; ++a) {
        hashes.push_back(std::string(42, static_cast<char>('a' + a)) + "0");
        json swarm = json::object();
        for (std::size_t i = 0; i < 3; ++i) swarm[net.node(i).info.ed25519_hex()] = signed_entry(net.node(i), hashes.back(), 99);
        answers.push_back(json{{"swarm", swarm}});
    }
    const auto key = [&](std::size_t i) { return net.node(i).info.ed25519_hex(); };
    const auto sig_of = [&](const json& answer, std::size_t i) { return answer["swarm"][key(i)]["signature"].get<std::string>(); };
    const auto read = [&](std::size_t a, const nd::StoreSignatures* checked) {
        auto r = nd::parse_store_object(answers[a], hashes[a], members[0], members, StoreChecks::every_member, checked);
        REQUIRE(r);
        return *r;
    };

    SECTION("all valid: every entry is found valid together") {
        nd::StoreSignatures sigs;
        for (const auto& a : answers) sigs.collect(a);
        sigs.check();
        for (std::size_t a = 0; a < 3; ++a) {
            for (std::size_t i = 0; i < 3; ++i) CHECK(sigs.valid(net.node(i).info.ed25519(), hashes[a], sig_of(answers[a], i)));
            CHECK_FALSE(sigs.valid(net.node(0).info.ed25519(), hashes[(a + 1) % 3], sig_of(answers[a], 0)));
            CHECK(read(a, &sigs).confirmed() == 3);
        }
    }
    SECTION("one forged signature: its answer is checked one by one, the others together") {
        // Member 2's entry in answer 1 carries member 0's signature.
        answers[1]["swarm"][key(2)]["signature"] = answers[1]["swarm"][key(0)]["signature"];
        nd::StoreSignatures sigs;
        for (const auto& a : answers) sigs.collect(a);
        sigs.check();
        CHECK(sigs.valid(net.node(1).info.ed25519(), hashes[0], sig_of(answers[0], 1)));
        CHECK(sigs.valid(net.node(2).info.ed25519(), hashes[2], sig_of(answers[2], 2)));
        CHECK_FALSE(sigs.valid(net.node(0).info.ed25519(), hashes[1], sig_of(answers[1], 0)));  // not found valid here
        CHECK(read(0, &sigs).confirmed() == 3);
        CHECK(read(2, &sigs).confirmed() == 3);
        const auto forged = read(1, &sigs);
        CHECK(forged.confirmed() == 2);  // members 0 and 1, checked one by one
        for (const auto& n : forged.nodes)
            if (n.node == members[2].ed25519()) CHECK(n.failure == "bad signature");
    }
    SECTION("signatures never collected are checked one by one") {
        nd::StoreSignatures empty;
        empty.check();
        CHECK(read(0, &empty).confirmed() == 3);
        CHECK(read(1, nullptr).confirmed() == 3);
    }
}
