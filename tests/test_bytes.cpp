#include "session/bytes.hpp"

#include <catch2/catch.hpp>

#include "support/vectors.hpp"

using namespace session;

TEST_CASE("bytes: hex round trip and rejects bad input", "[bytes]") {
    Bytes b{0x00, 0x01, 0xab, 0xff};
    CHECK(to_hex(b) == "0001abff");
    CHECK(*from_hex("0001ABff") == b);
    auto odd = from_hex("abc");
    REQUIRE_FALSE(odd);
    CHECK(odd.error().code == Errc::hex_invalid);
    auto bad = from_hex("zz");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("position 0") != std::string::npos);
    CHECK_FALSE(from_hex_array<4>("0011"));
    CHECK(from_hex_array<2>("0011").value() == ByteArray<2>{0x00, 0x11});
}

TEST_CASE("bytes: base64 matches RFC 4648 test vectors", "[bytes]") {
    const std::pair<const char*, const char*> cases[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (auto [plain, enc] : cases) {
        CHECK(base64_encode(as_bytes(plain)) == enc);
        CHECK(to_string(*base64_decode(enc)) == plain);
        std::string unpadded = enc;
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
        CHECK(base64_encode_unpadded(as_bytes(plain)) == unpadded);
        CHECK(to_string(*base64_decode(unpadded)) == plain);
    }
}

TEST_CASE("bytes: base64 rejects garbage with a position", "[bytes]") {
    auto r = base64_decode("Zm9v!mFy");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::base64_invalid);
    CHECK(r.error().message.find("position 4") != std::string::npos);
    CHECK_FALSE(base64_decode("Z"));
    CHECK_FALSE(base64_decode("Zm9=v"));
    CHECK_FALSE(base64_decode("Zh=="));  // non-zero trailing bits
    CHECK(*base64_decode("-_8") == *base64_decode("+/8"));
}

TEST_CASE("bytes: base64 decodes every length and both alphabets, and names the first bad character", "[bytes]") {
    Bytes data(300);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
    for (std::size_t n = 0; n <= data.size(); ++n) {
        const ByteView part(data.data(), n);
        const std::string padded = base64_encode(part), unpadded = base64_encode_unpadded(part);
        REQUIRE(base64_decode(padded).value() == Bytes(part.begin(), part.end()));
        REQUIRE(base64_decode(unpadded).value() == Bytes(part.begin(), part.end()));
        std::string url = unpadded;
        for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
        REQUIRE(base64_decode(url).value() == Bytes(part.begin(), part.end()));
    }
    // A bad character inside a whole group, and in the last partial group.
    std::string text = base64_encode(ByteView(data.data(), 99));  // 132 characters, no padding
    for (std::size_t at : {0u, 41u, 130u, 131u}) {
        std::string bad = text;
        bad[at] = '.';
        auto r = base64_decode(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "base64: invalid character at position " + std::to_string(at));
    }
    text = base64_encode_unpadded(ByteView(data.data(), 11));  // 15 characters: a partial group of 3
    text[13] = '*';
    CHECK(base64_decode(text).error().message == "base64: invalid character at position 13");
    CHECK(base64_decode("Zm9vYmE=").value() == Bytes{'f', 'o', 'o', 'b', 'a'});
    CHECK_FALSE(base64_decode("Zm9vYmF="));  // non-zero trailing bits in a padded group
    CHECK_FALSE(base64_decode("Zm=vYmE="));  // '=' inside
}

TEST_CASE("bytes: Secret wipes its source on move and compares in constant time", "[bytes]") {
    ByteArray<4> raw{1, 2, 3, 4};
    Secret<4> a{std::span<const std::uint8_t, 4>(raw)};
    Secret<4> b{std::span<const std::uint8_t, 4>(raw)};
    CHECK(a.equal_ct(b));
    Secret<4> c{std::move(a)};
    CHECK(c.equal_ct(b));
    for (auto x : a.reveal()) CHECK(x == 0);
}

TEST_CASE("bytes: SecretBuffer keeps content across growth and clears", "[bytes]") {
    SecretBuffer s;
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        s.push_back(static_cast<char>('a' + i % 26));
        expected.push_back(static_cast<char>('a' + i % 26));
    }
    CHECK(s.view() == expected);
    SecretBuffer t{std::move(s)};
    CHECK(s.empty());
    CHECK(t.view() == expected);
    t.clear();
    CHECK(t.empty());
}
