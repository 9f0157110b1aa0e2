#include "detail/bencode.hpp"

#include <catch2/catch.hpp>

#include "support/vectors.hpp"

using namespace session;
namespace bt = session::detail::bencode;

TEST_CASE("bencode: encodes each type canonically", "[bencode]") {
    CHECK(bt::encode(bt::Value("spam")) == "4:spam");
    CHECK(bt::encode(bt::Value("")) == "0:");
    CHECK(bt::encode(bt::Value(std::int64_t{0})) == "i0e");
    CHECK(bt::encode(bt::Value(-42)) == "i-42e");
    CHECK(bt::encode(bt::Value(std::numeric_limits<std::int64_t>::min())) == "i-9223372036854775808e");
    CHECK(bt::encode(bt::Value(bt::List{bt::Value("a"), bt::Value(1)})) == "l1:ai1ee");
    // Dict keys come out sorted whatever order they were given in.
    bt::Dict d{{"foo", bt::Value(42)}, {"bar", bt::Value("spam")}, {"", bt::Value(bt::List{})}};
    CHECK(bt::encode(bt::Value(d)) == "d0:le3:bar4:spam3:fooi42ee");
}

TEST_CASE("bencode: decode round trips nested values and binary strings", "[bencode]") {
    const std::string bin("a\0b\xff", 4);
    bt::Value v(bt::Dict{{"d", bt::Value(bin)},
                         {"ek", bt::Value(bt::List{bt::Value(1), bt::Value(bt::List{bt::Value(-7)}), bt::Value("x")})},
                         {"nh", bt::Value(15)}});
    const std::string enc = bt::encode(v);
    auto back = bt::decode(enc);
    REQUIRE(back);
    CHECK(bt::encode(*back) == enc);
    REQUIRE(back->find("d"));
    CHECK(*back->find("d")->string() == bin);
    CHECK(*back->find("nh")->integer() == 15);
    CHECK(back->find("missing") == nullptr);
    CHECK(back->find("ek")->list()->size() == 3);
    CHECK(bt::Value(1).find("d") == nullptr);  // not a dict
    // The ByteView overload reads the same bytes.
    auto from_bytes = bt::decode(as_bytes(enc));
    REQUIRE(from_bytes);
    CHECK(bt::encode(*from_bytes) == enc);
    CHECK(*bt::decode("i9223372036854775807e")->integer() == std::numeric_limits<std::int64_t>::max());
    CHECK(*bt::decode("i-9223372036854775808e")->integer() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("bencode: decode rejects malformed input with a position", "[bencode][reject]") {
    const char* bad[] = {
        "",                        // nothing
        "i03e",                    // leading zero
        "i-0e",                    // negative zero
        "ie",                      // no digits
        "i12",                     // unterminated
        "i9223372036854775808e",   // overflow
        "i-9223372036854775809e",  // underflow
        "i1x",                     // bad terminator
        "03:abc",                  // leading zero in a length
        "5:abc",                   // string past the end
        "99999999999999999999:a",  // length overflow
        "3abc",                    // no colon
        "-1:a",                    // negative length
        "l",                       // unterminated list
        "l1:a",                    // unterminated list
        "d1:bi1e1:ai1ee",          // unsorted keys
        "d1:ai1e1:ai2ee",          // duplicate key
        "di1ei1ee",                // non-string key
        "d1:ae",                   // key without value
        "i1ei2e",                  // trailing value
        "4:spamx",                 // trailing byte
        "x",                       // unknown type
        "e",                       // stray end
    };
    for (const char* in : bad) {
        INFO("input: " << in);
        auto r = bt::decode(std::string_view(in));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::bencode_invalid);
        CHECK(r.error().message.find("at byte") != std::string::npos);
    }
}

TEST_CASE("bencode: nesting is limited", "[bencode][reject]") {
    std::string deep(100, 'l');
    deep += std::string(100, 'e');
    CHECK_FALSE(bt::decode(deep));
    CHECK(bt::decode(deep, 100));
    std::string at_limit = std::string(bt::kDefaultMaxDepth, 'l') + std::string(bt::kDefaultMaxDepth, 'e');
    CHECK(bt::decode(at_limit));
    std::string over = "l" + at_limit + "e";
    auto r = bt::decode(over);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("nesting") != std::string::npos);
}

TEST_CASE("bencode: storage server message serialization vectors", "[bencode][kat]") {
    // serialize_messages v1: 0x01 then l[ l[pubkey(33), hash, timestamp, expiry, data] ... ]
    for (const auto& v : test::vectors("snode_serialization.json")) {
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            bt::List messages;
            for (int i = 0; i < v.at("count").get<int>(); ++i)
                messages.emplace_back(bt::List{bt::Value(ByteView(test::hex(v, "pubkey_hex"))),
                                               bt::Value(ByteView(test::hex(v, "hash_hex"))),
                                               bt::Value(v.at("timestamp_ms").get<std::int64_t>()),
                                               bt::Value(v.at("expiry_ms").get<std::int64_t>()),
                                               bt::Value(ByteView(test::hex(v, "data_hex")))});
            std::string out("\x01");
            bt::encode_to(out, bt::Value(std::move(messages)));
            CHECK(to_hex(as_bytes(out)) == v.at("expected_serialized_hex").get<std::string>());
            // And it decodes back after the version byte.
            auto back = bt::decode(std::string_view(out).substr(1));
            REQUIRE(back);
            REQUIRE(back->list());
            CHECK(back->list()->size() == v.at("count").get<std::size_t>());
            const auto& first = *(*back->list())[0].list();
            CHECK(first.size() == 5);
            CHECK(*first[2].integer() == v.at("timestamp_ms").get<std::int64_t>());
        }
    }
}
