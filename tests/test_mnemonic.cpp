#include "session/mnemonic.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "detail/crypto.hpp"
#include "session/rng.hpp"
#include "support/vectors.hpp"

using namespace session;

namespace {

// The checksum the word list is published with (tests/vectors/README.md, third_party/README.md).
constexpr const char* kWordListSha256 = "998df55cb16d2318130c5cf7e9d4408247c8c4674935ee6e07d53f2f00ccf19b";

mnemonic::Seed seed_from_hex(std::string_view hex) {
    auto b = test::unhex(hex);
    REQUIRE(b.size() == mnemonic::kSeedBytes);
    return mnemonic::Seed(std::span<const std::uint8_t, mnemonic::kSeedBytes>(b.data(), mnemonic::kSeedBytes));
}

std::string decode_hex(std::string_view phrase) {
    auto r = mnemonic::decode(phrase);
    REQUIRE(r);
    return to_hex(r->reveal());
}

std::size_t word_index(std::string_view word) {
    auto list = mnemonic::english_words();
    auto it = std::find(list.begin(), list.end(), word);
    REQUIRE(it != list.end());
    return static_cast<std::size_t>(it - list.begin());
}

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        auto j = s.find(' ', i);
        if (j == std::string_view::npos) j = s.size();
        out.emplace_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

// Phrases decoded by @session.js/mnemonic 1.0.6 `decode` (the same algorithm as session-desktop
// ts/session/crypto/mnemonic.ts mnDecode), run under node while writing this test. The first
// three contain a word triplet whose value exceeds 2^32 - 1. 5000 random phrases (20 of them
// overflowing) and 500 bad-checksum phrases were compared the same way; all agreed.
const std::pair<const char*, const char*> kDesktopDecoded[] = {
    {"humid unnoticed unmask across educated anvil payment bagpipe gimmick vain siblings cool cool",
     "cdaa28005372aed0c74fbc3f2aad3364"},
    {"darted gesture alarms nasty midst mews examine among comb elite push abyss examine",
     "a51084b31b3c13000aa8381ee1dc8a51"},
    {"otherwise rounded jewels unafraid ringing locker reduce runway rumble balding powder tumbling otherwise",
     "7879dfb514f329c72eb81500059f1834"},
    {"jogger nugget jaunt jaunt ablaze gulp anvil eight usual tutor rest galaxy tutor",
     "0e1b7ed9eab5b35a39e2b0adec24839b"},
    {"actress bevel elope tweezers tsunami asked towel utopia agreed ginger racetrack toffee tsunami",
     "22d46a24c976a3313cfd1c1b9977eb2a"},
    {"olive taken both swiftly update gesture asylum dinner phrases until easy nibs swiftly",
     "500c1a4ab996bf6cb1347a74a93f8357"},
};
const char* const kDesktopRejected[] = {
    "tepid upright catch elope vats fall roared hunter soprano utopia deepest joyous boldly",
    "kickoff cause both gnaw oatmeal hence when system cider rest website dwarf casket",
};

}  // namespace

TEST_CASE("mnemonic: the compiled word list is the checksummed Monero English list", "[mnemonic][wordlist]") {
    auto words = mnemonic::english_words();
    REQUIRE(words.size() == mnemonic::kWordListSize);
    CHECK(words.front() == "abbey");
    CHECK(words.back() == "zoom");
    std::string joined;
    for (auto w : words) {
        if (!joined.empty()) joined.push_back('\n');
        joined.append(w);
    }
    CHECK(to_hex(detail::sha256(as_bytes(joined))) == kWordListSha256);
    std::set<std::string_view> prefixes;
    for (auto w : words) {
        REQUIRE(w.size() >= mnemonic::kPrefixLength);
        CHECK(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
        prefixes.insert(w.substr(0, mnemonic::kPrefixLength));
    }
    CHECK(prefixes.size() == mnemonic::kWordListSize);
}

TEST_CASE("mnemonic: encode and decode match the sessionjs vectors", "[mnemonic][kat]") {
    auto enc = test::vector("mnemonic.json", "mnemonic_encode");
    auto phrase = mnemonic::encode(seed_from_hex(enc.at("seed16_hex").get<std::string>()));
    CHECK(std::string(phrase.view()) == enc.at("expected_mnemonic").get<std::string>());

    auto dec = test::vector("mnemonic.json", "mnemonic_decode");
    CHECK(decode_hex(dec.at("mnemonic").get<std::string>()) == dec.at("expected_seed16_hex").get<std::string>());

    for (const char* name :
         {"mnemonic_to_session_id_1", "mnemonic_to_session_id_2", "mnemonic_to_session_id_3", "mnemonic_to_session_id_4"}) {
        DYNAMIC_SECTION(name) {
            auto v = test::vector("mnemonic.json", name);
            auto phrase_in = v.at("mnemonic").get<std::string>();
            auto seed_hex = v.at("expected_seed16_hex").get<std::string>();
            CHECK(decode_hex(phrase_in) == seed_hex);
            // Every vector phrase is canonical, so encoding gives it back.
            CHECK(std::string(mnemonic::encode(seed_from_hex(seed_hex)).view()) == phrase_in);
        }
    }
}

TEST_CASE("mnemonic: decode agrees with the desktop algorithm on recorded phrases", "[mnemonic][kat]") {
    for (auto [phrase, seed] : kDesktopDecoded) CHECK(decode_hex(phrase) == seed);
    for (auto phrase : kDesktopRejected) {
        auto r = mnemonic::decode(phrase);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::mnemonic_bad_checksum);
    }
}

TEST_CASE("mnemonic: overflowing triplets keep the low 32 bits, like desktop", "[mnemonic][overflow]") {
    // x = w1 + n*((n - w1 + w2) mod n) + n^2*((n - w2 + w3) mod n) can reach n^3 - 1 = 4298942375,
    // above 2^32 - 1. Desktop keeps the last 8 hex digits of x (the low 32 bits) and writes them
    // little-endian; libsession-util rejects such phrases. Expected seeds were produced by the
    // desktop algorithm under node and are re-derived here by direct arithmetic.
    constexpr std::uint64_t n = mnemonic::kWordListSize;
    constexpr std::uint64_t two32 = std::uint64_t{1} << 32;
    struct Case {
        const char* triplet;
        const char* checksum;
        const char* desktop_seed_hex;
        std::uint64_t x;  // the untruncated value, from the word indices by hand
    };
    const Case cases[] = {
        // abbey=0, zoom=1625: x = 1625*n^2 = 4296298500
        {"abbey abbey zoom", "abbey", "0450140000000000dc04000037030000", 1625 * n * n},
        // zoom=1625, abbey=0, zoom=1625: x = 1625 + 1*n + 1625*n^2 = 4296301751
        {"zoom abbey zoom", "abbey", "b75c140000000000dc04000037030000", 1625 + n + 1625 * n * n},
        // zoom, zones=1624, zombie=1623: both differences are n-1, x = n^3 - 1 (the maximum)
        {"zoom zones zombie", "zones", "a7a73c0000000000dc04000037030000", n * n * n - 1},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.triplet) {
            auto t = split(c.triplet);
            const std::uint64_t w1 = word_index(t[0]), w2 = word_index(t[1]), w3 = word_index(t[2]);
            REQUIRE(w1 + n * ((n - w1 + w2) % n) + n * n * ((n - w2 + w3) % n) == c.x);
            REQUIRE(c.x >= two32);
            const auto low = static_cast<std::uint32_t>(c.x - two32);  // x < 2^33, so one subtraction
            std::string expected_group;
            for (int b = 0; b < 4; ++b) expected_group += to_hex(ByteArray<1>{static_cast<std::uint8_t>(low >> (8 * b))});
            // The remaining groups: abbey*3 = 0, session*3 = 0x04dc, love*3 = 0x0337 (mnemonic.json).
            const std::string expected = expected_group + "00000000" + "dc040000" + "37030000";
            CHECK(expected == c.desktop_seed_hex);
            const std::string phrase =
                std::string(c.triplet) + " abbey abbey abbey session session session love love love " + c.checksum;
            CHECK(decode_hex(phrase) == expected);
            // Such a phrase is not what encode produces for its seed (encode never overflows).
            auto canonical = mnemonic::encode(seed_from_hex(expected));
            CHECK(std::string(canonical.view()) != phrase);
            CHECK(decode_hex(canonical.view()) == expected);
        }
    }
}

TEST_CASE("mnemonic: encode/decode round trip over random seeds", "[mnemonic]") {
    auto rng = system_rng();
    for (int i = 0; i < 200; ++i) {
        mnemonic::Seed seed;
        rng->fill(seed.mutable_bytes());
        auto phrase = mnemonic::encode(seed);
        auto words = split(phrase.view());
        REQUIRE(words.size() == mnemonic::kPhraseWords);
        auto back = mnemonic::decode(phrase.view());
        REQUIRE(back);
        CHECK(back->equal_ct(seed));
    }
    for (std::uint8_t fill : {std::uint8_t{0x00}, std::uint8_t{0xff}, std::uint8_t{0x80}}) {
        ByteArray<16> b;
        b.fill(fill);
        mnemonic::Seed seed(b);
        auto back = mnemonic::decode(mnemonic::encode(seed).view());
        REQUIRE(back);
        CHECK(back->equal_ct(seed));
    }
}

TEST_CASE("mnemonic: decode accepts any case, extra whitespace and prefixes", "[mnemonic]") {
    const std::string seed = "39038c8988db02c1af44e8c847bd9713";
    for (const char* phrase : {
             "PUFFIN LUXURY ANNOYED RUSTLED MEMOIR FAXED SMIDGEN PUDDLE KIWI NYLON UTOPIA ZINGER KIWI",
             "Puffin luXury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger Kiwi",
             "  puffin\tluxury  annoyed\nrustled\r\nmemoir faxed smidgen puddle kiwi nylon utopia zinger kiwi \n",
             "puf lux ann rus mem fax smi pud kiw nyl uto zin kiw",
             "puffinx luxuryyy annoyedness rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwifruit",
         }) {
        CHECK(decode_hex(phrase) == seed);
    }
}

TEST_CASE("mnemonic: wrong word count is rejected with the count", "[mnemonic][reject]") {
    const std::string good = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    auto words = split(good);
    const std::pair<std::string, std::size_t> cases[] = {
        {"", 0}, {"   \t\n", 0}, {"puffin", 1},
        {join({words.begin(), words.begin() + 11}), 11},
        {good + " kiwi", 14},
        {good + " " + good, 26}};
    for (const auto& [phrase, count] : cases) {
        auto r = mnemonic::decode(phrase);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::mnemonic_word_count);
        CHECK(r.error().message ==
              "mnemonic: expected 13 words (or 12 without the checksum word), got " + std::to_string(count));
    }
}

TEST_CASE("mnemonic: 12 words (no checksum word) decode to the seed of the 13-word phrase", "[mnemonic]") {
    // libsession-util's words_to_bytes takes 12 words as the data words alone, with no checksum to
    // check; Session clients built on it accept such phrases.
    const std::string good = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    auto words = split(good);
    const std::vector<std::string> twelve(words.begin(), words.begin() + 12);
    CHECK(decode_hex(join(twelve)) == "39038c8988db02c1af44e8c847bd9713");
    CHECK(decode_hex("PUF lux  ann\trus mem fax smi pud kiw nyl uto zin\n") == "39038c8988db02c1af44e8c847bd9713");
    // Every vector phrase and random seeds: the first 12 words give the same seed.
    for (const char* name :
         {"mnemonic_to_session_id_1", "mnemonic_to_session_id_2", "mnemonic_to_session_id_3", "mnemonic_to_session_id_4"}) {
        auto v = test::vector("mnemonic.json", name);
        auto w = split(v.at("mnemonic").get<std::string>());
        REQUIRE(w.size() == 13);
        CHECK(decode_hex(join({w.begin(), w.begin() + 12})) == v.at("expected_seed16_hex").get<std::string>());
    }
    auto rng = system_rng();
    for (int i = 0; i < 200; ++i) {
        mnemonic::Seed seed;
        rng->fill(seed.mutable_bytes());
        auto w = split(mnemonic::encode(seed).view());
        auto back = mnemonic::decode(join({w.begin(), w.begin() + 12}));
        REQUIRE(back);
        CHECK(back->equal_ct(seed));
    }
    // The other rules stay: an unknown word is named by position, never by text.
    auto bad = twelve;
    bad[11] = "qqqzzz";
    auto r = mnemonic::decode(join(bad));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::mnemonic_unknown_word);
    CHECK(r.error().message == "mnemonic: word 12 is not in the English list");
}

TEST_CASE("mnemonic: an unknown word is named by position, never by text", "[mnemonic][reject]") {
    const std::string good = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    for (std::size_t pos = 0; pos < mnemonic::kPhraseWords; ++pos) {
        for (const char* bad : {"qqqzzz", "ki", "x", "pu\xc3\xa9", "p-uffin"}) {
            auto words = split(good);
            words[pos] = bad;
            auto r = mnemonic::decode(join(words));
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::mnemonic_unknown_word);
            CHECK(r.error().message == "mnemonic: word " + std::to_string(pos + 1) + " is not in the English list");
        }
    }
    // The first unknown word is the one reported.
    auto words = split(good);
    words[2] = "zzz";
    words[7] = "zzz";
    auto r = mnemonic::decode(join(words));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("word 3 ") != std::string::npos);
}

TEST_CASE("mnemonic: a wrong checksum word is rejected", "[mnemonic][reject]") {
    const std::string good = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    auto words = split(good);
    // Every other data word (and another list word) in the checksum slot fails.
    std::vector<std::string> wrong(words.begin(), words.begin() + 12);
    wrong.erase(std::remove(wrong.begin(), wrong.end(), "kiwi"), wrong.end());
    wrong.push_back("abbey");
    for (const auto& w : wrong) {
        auto changed = words;
        changed[12] = w;
        auto r = mnemonic::decode(join(changed));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::mnemonic_bad_checksum);
        CHECK(r.error().message.find("word 13") != std::string::npos);
        for (const auto& word : words) CHECK(r.error().message.find(word) == std::string::npos);
    }
    // A changed data word breaks the checksum too (rustled -> rabbits).
    auto changed = words;
    changed[3] = "rabbits";
    auto r = mnemonic::decode(join(changed));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::mnemonic_bad_checksum);
}

TEST_CASE("mnemonic: encode output is lower case, single-spaced, 13 list words", "[mnemonic]") {
    auto phrase = mnemonic::encode(seed_from_hex("00112233445566778899aabbccddeeff"));
    std::string_view v = phrase.view();
    CHECK(v.find("  ") == std::string_view::npos);
    CHECK(v.front() != ' ');
    CHECK(v.back() != ' ');
    auto words = split(v);
    REQUIRE(words.size() == 13);
    for (const auto& w : words) (void)word_index(w);
    // The checksum word repeats one of the first 12.
    CHECK(std::find(words.begin(), words.begin() + 12, words[12]) != words.begin() + 12);
}
