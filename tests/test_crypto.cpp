// Tests for the private primitives in src/detail/crypto.hpp.
#include "detail/crypto.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "support/vectors.hpp"

using namespace session;

TEST_CASE("crypto: blake2b matches the libsession vectors and rejects bad sizes", "[crypto][kat]") {
    int n = 0;
    for (const auto& v : test::vectors("blake2b.json")) {
        DYNAMIC_SECTION(v.at("name").get<std::string>()) {
            const auto size = v.at("size").get<std::size_t>();
            const auto msg = test::hex(v, "message_hex");
            const Bytes key = v.contains("key_hex") ? test::hex(v, "key_hex") : Bytes{};
            if (v.contains("expected_error")) {
                CHECK_THROWS_AS(detail::blake2b(size, msg, key), std::invalid_argument);
                CHECK_THROWS_AS(detail::blake2b_parts(size, {msg}, key), std::invalid_argument);
            } else {
                const auto expected = test::hex(v, "expected_hash_hex");
                CHECK(detail::blake2b(size, msg, key) == expected);
                // Hashing in parts is hashing the concatenation.
                const ByteView whole(msg);
                CHECK(detail::blake2b_parts(size, {whole.first(4), whole.subspan(4, 0), whole.subspan(4)}, key) ==
                      expected);
            }
        }
        ++n;
    }
    CHECK(n == 7);
}

TEST_CASE("crypto: blake2b accepts exactly the sizes 16..64 and keys up to 64 bytes", "[crypto]") {
    const auto msg = as_bytes("TestMessage");
    CHECK(detail::blake2b(16, msg).size() == 16);
    CHECK(detail::blake2b(64, msg).size() == 64);
    CHECK_THROWS_AS(detail::blake2b(15, msg), std::invalid_argument);
    CHECK_THROWS_AS(detail::blake2b(65, msg), std::invalid_argument);
    CHECK_THROWS_AS(detail::blake2b(0, msg), std::invalid_argument);
    const Bytes key64(64, 0x4b), key65(65, 0x4b);
    CHECK(detail::blake2b(32, msg, key64).size() == 32);
    CHECK(detail::blake2b(32, msg, key64) != detail::blake2b(32, msg));
    CHECK_THROWS_AS(detail::blake2b(32, msg, key65), std::invalid_argument);
}

TEST_CASE("crypto: SHA-256 matches FIPS 180-2 examples", "[crypto][kat]") {
    CHECK(to_hex(detail::sha256(as_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(detail::sha256({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(detail::sha256(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("crypto: HMAC-SHA256 matches RFC 4231", "[crypto][kat]") {
    SECTION("test case 1") {
        const Bytes key(20, 0x0b);
        CHECK(to_hex(detail::hmac_sha256(key, as_bytes("Hi There"))) ==
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    }
    SECTION("test case 2") {
        CHECK(to_hex(detail::hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))) ==
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
    SECTION("test case 6 (key longer than the block size)") {
        const Bytes key(131, 0xaa);
        CHECK(to_hex(detail::hmac_sha256(key, as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))) ==
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
}

TEST_CASE("crypto: onion hop key derivation uses HMAC-SHA256 keyed with LOKI", "[crypto][kat]") {
    // The aes-gcm hop key is HMAC-SHA256(key = "LOKI", msg = shared secret) (onion_hop_encryption.json).
    const auto v = test::vector("onion_hop_encryption.json", "aesgcm_key_alice_bob");
    const auto key = detail::hmac_sha256(test::hex(v, "hmac_key_hex"), test::hex(v, "shared_secret_hex"));
    CHECK(Bytes(key.begin(), key.end()) == test::hex(v, "expected_key_hex"));
    CHECK(to_string(test::hex(v, "hmac_key_hex")) == "LOKI");
}
