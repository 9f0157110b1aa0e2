#include "network/batch_scan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/parse.hpp"

using namespace session;
namespace nd = session::network::detail;
using nlohmann::json;

namespace {

std::string key_of(char c) { return std::string(64, c); }

// Now and then (one text in 8) cuts `text` short or puts a stray byte in it; true when it did.
bool damage(std::string& text, std::mt19937& rng) {
    if (rng() % 8 != 0) return false;
    if (rng() % 2) text.resize(rng() % (text.size() + 1));
    else text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng() % (text.size() + 1)), "\"\\{}[]:,x1"[rng() % 10]);
    return true;
}

// Random pieces for the generated texts: mostly plain ones, and one in `odd_one_in` a piece the scans
// leave to the full parse, which clears `plain`.
struct Pieces {
    std::mt19937 rng;
    unsigned odd_one_in;
    bool plain = true;

    std::string pick(const std::vector<std::string>& v) { return v[rng() % v.size()]; }
    // One of `good`, or now and then one of `bad`.
    std::string value(const std::vector<std::string>& good, const std::vector<std::string>& bad) {
        if (!bad.empty() && rng() % odd_one_in == 0) {
            plain = false;
            return pick(bad);
        }
        return pick(good);
    }
};

// What the full parse reads from `text` (nlohmann, then the reading parse.cpp does on a tree: the
// results' codes, their bodies as text, a 2xx object body as store_answer_of reads it, the "t"s),
// or nullopt when the text is not a batch reply that reading accepts.
std::optional<nd::ScannedBatch> tree_model(const std::string& text) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    const auto results = j.find("results");
    if (results == j.end() || !results->is_array() || results->empty() || results->size() > nd::kMaxBatchResults)
        return std::nullopt;
    nd::ScannedBatch b;
    if (auto t = j.find("t"); t != j.end() && t->is_number_integer()) b.t = t->get<std::int64_t>();
    for (const json& r : *results) {
        if (!r.is_object()) return std::nullopt;
        const auto code = r.find("code");
        if (code == r.end() || !code->is_number_integer() || code->get<std::int64_t>() < 0 || code->get<std::int64_t>() > 999)
            return std::nullopt;
        nd::ScannedResult s;
        s.status = static_cast<int>(code->get<std::int64_t>());
        const auto body = r.find("body");
        if (body == r.end()) s.body = "null";
        else if (body->is_object() && s.status >= 200 && s.status < 300) s.store = nd::store_answer_of(*body);
        else s.body = body->is_string() ? body->get<std::string>() : body->dump();
        b.results.push_back(std::move(s));
    }
    return b;
}

}  // namespace

TEST_CASE("batch_scan: a storage server's batch reply of stores is read without a tree", "[batch_scan]") {
    const std::string text =
        R"({"results":[{"body":{"hash":"H1","hf":[19,1],"swarm":{)"
        R"(")" + key_of('b') + R"(":{"expiry":1700000000123,"hash":"H1","signature":"c2ln"},)"
        R"(")" + key_of('a') + R"(":{"already":true,"expiry":5,"hash":"H1","signature":"c2lnMg=="},)"
        R"(")" + key_of('c') + R"(":{"code":503,"failed":true,"reason":"busy \"now\""},)"
        R"(")" + key_of('d') + R"(":{"failed":true,"timeout":true},)"
        R"(")" + key_of('e') + R"(":"not an object"},"t":1700000000000},"code":200},)"
        R"({"body":"moved","code":421},{"code":500}]})";
    const auto b = nd::scan_store_batch(text);
    REQUIRE(b);
    CHECK_FALSE(b->t);
    REQUIRE(b->results.size() == 3);
    const auto& first = b->results[0];
    CHECK(first.status == 200);
    CHECK(first.body.empty());
    REQUIRE(first.store);
    CHECK(first.store->t == 1700000000000);
    const auto& e = first.store->entries;
    REQUIRE(e.size() == 5);
    // In key order, as a tree's map keeps them.
    CHECK(e[0].key == key_of('a'));
    CHECK(e[0].already);
    CHECK(e[0].expiry == 5);
    CHECK(e[0].signature == "c2lnMg==");
    CHECK(e[1].key == key_of('b'));
    CHECK(e[1].hash == "H1");
    CHECK(e[1].expiry == 1700000000123);
    CHECK_FALSE(e[1].already);
    CHECK(e[2].failed);
    CHECK(e[2].code == "503");  // an integer as its JSON text
    CHECK(e[2].reason == "busy \"now\"");
    CHECK_FALSE(e[2].hash);
    CHECK(e[3].failed);
    CHECK(e[3].timeout);
    CHECK_FALSE(e[4].object);
    CHECK(b->results[1].status == 421);
    CHECK(b->results[1].body == "moved");
    CHECK_FALSE(b->results[1].store);
    CHECK(b->results[2].body == "null");
    CHECK(*b == *tree_model(text));

    // Through parse_body, the network reads the same results and the same timestamp.
    auto parsed = nd::parse_body(text);
    REQUIRE(parsed);
    CHECK(nd::find_timestamp(parsed.get()) == 1700000000000);
    const std::string refused = R"({"results":[{"code":406,"body":"clock"},{"code":406}]})";
    REQUIRE(nd::scan_store_batch(refused));
    auto f = nd::uniform_batch_failure(refused);
    REQUIRE(f);
    CHECK(f->status == 406);
    CHECK(f->body == "clock");  // the first result's
    CHECK_FALSE(nd::uniform_batch_failure(R"({"results":[{"code":406},{"code":421}]})"));
    CHECK_FALSE(nd::uniform_batch_failure(R"({"results":[{"code":200},{"code":200}]})"));
}

TEST_CASE("batch_scan: a swarm of more than kMaxSwarmEntries is cut in key order", "[batch_scan]") {
    std::string swarm;
    for (int i = 99; i >= 0; --i) {
        if (!swarm.empty()) swarm += ",";
        char hex[8];
        std::snprintf(hex, sizeof hex, "%02d", i);
        swarm += "\"" + std::string(hex) + std::string(62, 'f') + R"(":{"hash":"h"})";
    }
    const std::string text = R"({"results":[{"code":200,"body":{"swarm":{)" + swarm + "}}}]}";
    const auto b = nd::scan_store_batch(text);
    REQUIRE(b);
    const auto& e = b->results[0].store->entries;
    REQUIRE(e.size() == nd::kMaxSwarmEntries);
    CHECK(e.front().key.substr(0, 2) == "00");
    CHECK(e.back().key.substr(0, 2) == "63");
    CHECK(*b == *tree_model(text));
}

TEST_CASE("batch_scan: anything but the plain form is left to the full parse", "[batch_scan]") {
    const std::string k = "\"" + key_of('a') + "\"";
    const std::vector<std::string> others = {
        "",
        "[]",
        R"({})",
        R"({"results":[]})",                                  // nothing to read
        R"({"t":1,"results":[{"code":200}]})",                // "results" not first
        R"({"results":[{"code":200}],"results":[{"code":200}]})",  // a repeated key
        R"({"results":[{"code":200,"code":201}]})",
        R"({"results":[{"code":200,"body":"a","body":"b"}]})",
        R"({"results":[{"code":200,"body":{"swarm":{},"swarm":{}}}]})",
        R"({"results":[{"code":200,"body":{"swarm":{)" + k + ":{}," + k + ":{}}}}]})",  // a member twice
        R"({"results":[{"code":200,"body":{"swarm":{)" + k + R"(:{"hash":"a","hash":"b"}}}}]})",
        R"({"results":[{"code":"200"}]})",                    // a code that is not an integer
        R"({"results":[{"code":1000}]})",
        R"({"results":[{"code":-1}]})",
        R"({"results":[{"body":"x"}]})",                      // no code
        R"({"results":[{"code":421,"body":{"snodes":[]}}]})",  // a failure's object body (its text: a dump)
        R"({"results":[{"code":200,"body":5}]})",
        R"({"results":[{"code":200,"body":[1]}]})",
        R"({"results":[{"code":200,"body":true}]})",
        R"({"results":[5]})",
        R"({"results":[{"code":200,"body":{"t":1.5}}]})",     // a float
        R"({"results":[{"code":200,"body":{"t":1e3}}]})",
        R"({"results":[{"code":200,"body":{"t":01}}]})",      // not JSON
        R"({"results":[{"code":200,"body":{"t":1234567890123456789}}]})",  // 19 digits
        R"({"results":[{"code":200,"body":"\u0041"}]})",      // a \u escape
        "{\"results\":[{\"code\":200,\"body\":\"\xc3\xa9\"}]}",  // not ASCII
        "{\"results\":[{\"code\":200,\"body\":\"\x01\"}]}",      // a control character
        R"({"results":[{"code":200,"body":{"swarm":{)" + k + R"(:{"code":[1]}}}}]})",  // a code whose text is a dump
        R"({"results":[{"code":200,"body":{"x":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}}]})",  // too deep for the scan
        R"({"results":[{"code":200}]} x)",                    // trailing bytes
        R"({"results":[{"code":200}])",                       // cut short
        R"({"results":[{"code":200},]})",                     // a trailing comma
        R"({"results":[{"code":200}]},)",
        R"({"results":[{"code":200 "body":"x"}]})",
        R"({"results":[{"code":200}]}})",
        R"({"results":[{"code":200,"body":tru}]})",
        R"({"results":[{"code":200,"body":{"swarm":{)" + k + R"(:{"failed":truex}}}}]})",
        "\xef\xbb\xbf{\"results\":[{\"code\":200}]}",         // a byte-order mark
    };
    for (const auto& text : others) {
        INFO(text);
        CHECK_FALSE(nd::scan_store_batch(text));
    }
    std::string many = R"({"results":[)";
    for (std::size_t i = 0; i <= nd::kMaxBatchResults; ++i) many += std::string(i ? "," : "") + R"({"code":200})";
    CHECK_FALSE(nd::scan_store_batch(many + "]}"));
    // The full parse still reads what is valid JSON among them.
    auto parsed = nd::parse_body(R"({"results":[{"code":200,"body":{"t":1.5,"x":"\u0041"}}],"t":9})");
    REQUIRE(parsed);
    CHECK(nd::find_timestamp(parsed.get()) == 9);
}

TEST_CASE("batch_scan: what the scan reads is what the full parse reads", "[batch_scan]") {
    // Batch replies from pieces that are mostly plain, sometimes not, then sometimes cut or given
    // a stray byte: whenever the scan answers, the reading of nlohmann's tree must agree; and a
    // text made only of plain pieces must be answered.
    Pieces g{std::mt19937(2026), 25};
    const std::vector<std::string> spaces = {"", "", " ", "\n", "\t ", "\r"};
    // An object of the fields given (each with a probability), in a random order.
    const auto object = [&](std::vector<std::pair<std::string, std::string>> fields) {
        std::shuffle(fields.begin(), fields.end(), g.rng);
        std::string out = "{" + g.pick(spaces);
        bool first = true;
        for (auto& [k, v] : fields) {
            if (v.empty()) continue;
            out += (first ? "" : "," + g.pick(spaces)) + "\"" + k + "\"" + g.pick(spaces) + ":" + g.pick(spaces) + v + g.pick(spaces);
            first = false;
        }
        return out + "}";
    };
    const auto maybe = [&](int percent, const std::string& v) { return static_cast<int>(g.rng() % 100) < percent ? v : ""; };
    const std::vector<std::string> keys = {key_of('a'), key_of('b'), key_of('c'), key_of('d'), key_of('e'), key_of('f'),
                                           "zz", "A" + key_of('a').substr(1)};
    const std::vector<std::string> flags = {"true", "false", "1", "null", R"("true")"};
    const std::vector<std::string> texts = {R"("h")", R"("")", R"("a\"b\\c\/d\n")", "5", "null", "[]", "{}"};
    const std::vector<std::string> odd_texts = {R"("\u00e9")", "1.5", "\"\xe2\x82\xac\""};
    const std::vector<std::string> ints = {"0", "7", "1700000000000", "-3", R"("7")", "null"};
    const std::vector<std::string> odd_ints = {"1e3", "01", "12345678901234567890", "-"};
    const std::vector<std::string> codes = {"200", "200", "200", "201", "421", "406", "500", "0", "999"};
    const std::vector<std::string> odd_codes = {R"("200")", "1000", "-200", "2.0"};
    const std::vector<std::string> junk = {"[]", R"({"a":[1,{"b":null}]})", R"("x")", "-0", "false"};
    const std::vector<std::string> odd_junk = {"0.25", R"(["\u0041"])", std::string(20, '[') + std::string(20, ']')};
    std::size_t answered = 0;
    for (int i = 0; i < 4'000; ++i) {
        g.plain = true;
        const auto entry = [&] {
            if (g.rng() % 10 == 0) return g.value(texts, odd_texts);  // not an object: a malformed entry
            return object({{"hash", maybe(80, g.value(texts, odd_texts))},
                           {"signature", maybe(70, g.value(texts, odd_texts))},
                           {"expiry", maybe(60, g.value(ints, odd_ints))},
                           {"failed", maybe(25, g.value(flags, {}))},
                           {"timeout", maybe(10, g.value(flags, {}))},
                           {"bad_peer_response", maybe(10, g.value(flags, {}))},
                           {"query_failure", maybe(10, g.value(flags, {}))},
                           {"already", maybe(15, g.value(flags, {}))},
                           {"code", maybe(15, g.value({R"("404")", "503", "-1", "null", "true", R"("")"}, {"[1]", "{}"}))},
                           {"reason", maybe(15, g.value(texts, odd_texts))},
                           {"z", maybe(10, g.value(junk, odd_junk))}});
        };
        const auto swarm = [&] {
            std::vector<std::string> members;
            std::string out = "{";
            const std::size_t n = g.rng() % 7;
            for (std::size_t m = 0; m < n; ++m) {
                const std::string k = g.pick(keys);
                if (std::find(members.begin(), members.end(), k) != members.end()) g.plain = false;  // a member twice
                members.push_back(k);
                out += (m ? "," : "") + g.pick(spaces) + "\"" + k + "\":" + g.pick(spaces) + entry();
            }
            return out + "}";
        };
        const auto result = [&] {
            const std::string code = g.value(codes, odd_codes);
            const bool ok = code.size() == 3 && code[0] == '2';
            std::string body;
            switch (g.rng() % 6) {
                case 0: body = ""; break;
                case 1: body = g.value({R"("moved")", "null", R"("a\"b")"}, {"5", "[1]"}); break;
                default:
                    if (!ok) {
                        body = g.value({R"("stored")"}, {R"({"snodes":[]})"});
                        break;
                    }
                    body = object({{"hash", maybe(80, g.value(texts, odd_texts))},
                                   {"hf", maybe(50, "[19,1]")},
                                   {"swarm", maybe(90, g.rng() % 15 ? swarm() : g.value({"5", "null", R"("s")"}, {}))},
                                   {"t", maybe(70, g.value(ints, odd_ints))},
                                   {"x", maybe(10, g.value(junk, odd_junk))}});
            }
            return object({{"code", maybe(98, code)}, {"body", body}, {"y", maybe(5, g.value(junk, odd_junk))}});
        };
        std::string text = g.pick(spaces) + "{" + g.pick(spaces) + R"("results")" + g.pick(spaces) + ":" + g.pick(spaces) + "[";
        const std::size_t n = 1 + g.rng() % 5;
        for (std::size_t r = 0; r < n; ++r) text += (r ? "," + g.pick(spaces) : "") + result();
        text += "]";
        if (g.rng() % 3 == 0) text += R"(,"t":)" + g.value(ints, odd_ints);
        text += "}" + g.pick(spaces);
        if (damage(text, g.rng)) g.plain = false;
        INFO(text);
        const auto scanned = nd::scan_store_batch(text);
        const auto model = tree_model(text);
        // A plain text the tree reading accepts is answered (a result without a code is not plain).
        if (g.plain && model) CHECK(scanned);
        if (!scanned) continue;
        ++answered;
        REQUIRE(model);
        CHECK(*scanned == *model);
    }
    CHECK(answered > 1'000);
}

namespace {

// The "t" nlohmann's tree gives a reply that is not a batch (timestamp_in in parse.cpp), or
// nullopt for a text the tree does not read as an object.
std::optional<std::optional<std::int64_t>> tree_time(const std::string& text) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    const auto t = j.find("t");
    if (t != j.end() && t->is_number_integer()) return std::optional<std::int64_t>(t->get<std::int64_t>());
    return std::optional<std::int64_t>();
}

}  // namespace

TEST_CASE("batch_scan: a reply that is not a batch is read for its time alone", "[batch_scan]") {
    const std::string page =
            R"({"hf":[19,1],"messages":[{"data":"CAES","expiration":1700000999000,"hash":"h1","timestamp":1700000000001},)"
            R"({"data":"CAE\/","expiration":1700000999001,"hash":"h2","timestamp":1700000000002}],"more":false,"t":1700000000999})";
    const auto time = nd::scan_reply_time(page);
    REQUIRE(time);
    CHECK(time->t == 1700000000999);
    CHECK(nd::find_timestamp(nd::parse_body(page).get()) == 1700000000999);
    CHECK_FALSE(nd::uniform_batch_failure(page, nd::parse_body(page).get()));
    const auto as_batch = nd::parse_batch_results(network::RpcReply{200, page, network::Snode{}, nd::parse_body(page)}, 1);
    REQUIRE_FALSE(as_batch);
    CHECK(as_batch.error().code == Errc::net_bad_response);

    const auto swarm = nd::scan_reply_time(R"({"snodes":[{"ip":"127.0.0.1","port":"1"}],"swarm":"ab"})");
    REQUIRE(swarm);
    CHECK_FALSE(swarm->t);
    CHECK(nd::scan_reply_time(R"( { "t" : -5 } )") == nd::ScannedTime{-5});
    CHECK(nd::scan_reply_time(R"({"t":"5"})") == nd::ScannedTime{});  // not an integer: no time, as the tree reads it
    CHECK(nd::scan_reply_time(R"({})") == nd::ScannedTime{});

    // Left to the full parse, which then decides.
    const std::vector<std::string> others = {
            "",
            "[]",
            R"({"results":[],"t":1})",           // a batch (its first result's body may carry the time)
            R"({"t":1,"results":[{"code":200}]})",
            R"({"t":1,"t":2})",                  // a repeated "t" (nlohmann keeps the last)
            R"({"t":1.5})",
            R"({"t":12345678901234567890})",
            R"({"x":"\u0041","t":3})",
            "{\"x\":\"\xc3\xa9\",\"t\":3}",
            R"({"x":[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]],"t":3})",  // deeper than the scan goes
            R"({"t":3} x)",
            R"({"t":3)",
            R"({"t":3,})",
    };
    for (const auto& text : others) {
        INFO(text);
        CHECK_FALSE(nd::scan_reply_time(text));
    }
    CHECK(nd::find_timestamp(nd::parse_body(R"({"x":"\u0041","t":3})").get()) == 3);
    CHECK(nd::find_timestamp(nd::parse_body(R"({"t":1,"t":2})").get()) == 2);
    CHECK(nd::find_timestamp(nd::parse_body(R"({"t":1.5})").get()) == std::nullopt);
    CHECK(nd::parse_body(R"({"t":3)") == nullptr);
}

TEST_CASE("batch_scan: the time the scan reads is the time the full parse reads", "[batch_scan]") {
    // Replies that are not batches (retrieve pages, swarm lists, info), mostly plain, sometimes
    // not, sometimes cut or given a stray byte: whenever the scan answers, nlohmann's tree must
    // read the same "t"; a plain text must be answered; and parse_body (whichever way it reads the
    // text) must give the tree's "t" for every text the tree reads.
    Pieces g{std::mt19937(2027), 20};
    const std::vector<std::string> spaces = {"", "", " ", "\n"};
    const std::vector<std::string> ints = {"0", "7", "1700000000000", "-3", R"("7")", "null", "true", "[]"};
    const std::vector<std::string> odd_ints = {"1e3", "01", "12345678901234567890", "1.0"};
    const std::vector<std::string> junk = {R"("CAES\/+=")", "[19,1]", R"({"a":[1,{"b":null}]})", "false", "-0", R"("")"};
    const std::vector<std::string> odd_junk = {"0.25", R"("\u0041")", "\"\xe2\x82\xac\"", std::string(20, '[') + std::string(20, ']')};
    std::size_t answered = 0;
    for (int i = 0; i < 3'000; ++i) {
        g.plain = true;
        std::vector<std::string> members;
        const std::size_t n = g.rng() % 6;
        bool has_t = false;
        for (std::size_t m = 0; m < n; ++m) {
            switch (g.rng() % 6) {
                case 0:
                case 1: {
                    if (has_t) g.plain = false;  // a repeated "t"
                    has_t = true;
                    members.push_back(R"("t":)" + g.pick(spaces) + g.value(ints, odd_ints));
                    break;
                }
                case 2: {
                    std::string msgs = "[";
                    for (std::size_t k = 0, c = g.rng() % 4; k < c; ++k)
                        msgs += (k ? "," : "") + std::string(R"({"data":)") + g.value(junk, odd_junk) + R"(,"hash":"h","timestamp":)" +
                                g.value(ints, odd_ints) + "}";
                    members.push_back(R"("messages":)" + msgs + "]");
                    break;
                }
                case 3:
                    if (g.rng() % 8 == 0) {
                        g.plain = false;  // a batch: left to the parse
                        members.push_back(R"("results":[])");
                    } else {
                        members.push_back(R"("more":)" + g.value({"true", "false"}, {}));
                    }
                    break;
                default: members.push_back("\"" + std::string(1, static_cast<char>('a' + m)) + "\":" + g.value(junk, odd_junk));
            }
        }
        std::string text = g.pick(spaces) + "{";
        for (std::size_t m = 0; m < members.size(); ++m) text += (m ? "," + g.pick(spaces) : g.pick(spaces)) + members[m];
        text += g.pick(spaces) + "}" + g.pick(spaces);
        if (damage(text, g.rng)) g.plain = false;
        INFO(text);
        const auto scanned = nd::scan_reply_time(text);
        const auto tree = tree_time(text);
        if (g.plain) CHECK(scanned);
        if (tree) CHECK(nd::find_timestamp(nd::parse_body(text).get()) == *tree);
        else CHECK(nd::parse_body(text) == nullptr);
        if (!scanned) continue;
        ++answered;
        REQUIRE(tree);
        CHECK(scanned->t == *tree);
    }
    CHECK(answered > 1'000);
}
