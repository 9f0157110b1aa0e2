// mnemonic.cpp: 13-word recovery phrase <-> 16-byte seed (protocol.md §1.1).
//
// Encoding, per 4-byte group read as little-endian uint32 x (n = 1626 words):
//   w1 = x mod n;  w2 = (x div n + w1) mod n;  w3 = (x div n div n + w2) mod n
// then a 13th word: the data word at index CRC-32(first 3 letters of words 1..12) mod 12.
// Decoding inverts: x = w1 + n*((n - w1 + w2) mod n) + n^2*((n - w2 + w3) mod n).
//
// Compatibility with session-desktop ts/session/crypto/mnemonic.ts (mnDecode), which decides
// which phrases exist in the wild:
//  * x can reach n^3 - 1 > 2^32 - 1 for some word triplets. Desktop computes x as a JS number and
//    keeps the last 8 hex digits, i.e. the low 32 bits; its `x % n !== w1` check can never fire.
//    We keep the low 32 bits too (libsession-util rejects these phrases; desktop accepts them).
//  * Words match on their first 3 letters; the rest of a word is ignored. A word shorter than
//    3 letters matches nothing.
//  * The checksum word is compared by its 3-letter prefix with the expected data word.
//  * 12 words (the data words without the checksum word) decode to the same seed with nothing to
//    check, as libsession-util's words_to_bytes (used by current Session clients) accepts them;
//    every other word count is refused.
//  * Desktop splits on single spaces and matches lower-case only; we also accept any letter case
//    and any run of ASCII whitespace, which only widens what is accepted to obvious typing slips.
#include "session/mnemonic.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "detail/wordlist_english.hpp"

namespace session::mnemonic {

static_assert(detail::kEnglishWordCount == kWordListSize);

namespace {

constexpr std::uint32_t kN = kWordListSize;
constexpr std::size_t kDataWords = 12;
constexpr std::size_t kWordsPerGroup = 3;
constexpr std::size_t kGroupBytes = 4;
static_assert(kDataWords / kWordsPerGroup * kGroupBytes == kSeedBytes);

// CRC-32/ISO-HDLC (zlib's crc32; desktop uses buffer-crc32): reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto kCrcTable = make_crc_table();

// Index of the checksum word among the 12 data words.
std::size_t checksum_index(const std::array<std::uint16_t, kDataWords>& words) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (auto w : words) {
        auto word = detail::kEnglishWords[w];
        for (std::size_t i = 0; i < kPrefixLength; ++i)
            crc = kCrcTable[(crc ^ static_cast<std::uint8_t>(word[i])) & 0xFF] ^ (crc >> 8);
    }
    crc ^= 0xFFFFFFFFu;
    return crc % kDataWords;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The list index whose 3-letter prefix matches `token` (any case), or -1. Scans the whole list
// without stopping early, so the time taken does not depend on which word it is.
int find_word(std::string_view token) {
    if (token.size() < kPrefixLength) return -1;
    char p[kPrefixLength];
    for (std::size_t i = 0; i < kPrefixLength; ++i) p[i] = ascii_lower(token[i]);
    int found = -1;
    for (std::size_t w = 0; w < kWordListSize; ++w) {
        auto word = detail::kEnglishWords[w];
        unsigned diff = 0;
        for (std::size_t i = 0; i < kPrefixLength; ++i) diff |= static_cast<unsigned char>(word[i] ^ p[i]);
        found = diff == 0 ? static_cast<int>(w) : found;
    }
    session::detail::wipe(p, sizeof p);
    return found;
}

std::string word_position(std::size_t zero_based) { return "word " + std::to_string(zero_based + 1); }

}  // namespace

std::span<const std::string_view> english_words() { return detail::kEnglishWords; }

Result<Seed> decode(std::string_view phrase) {
    // Split on ASCII whitespace; tokens are views into `phrase`, never copied.
    std::array<std::string_view, kPhraseWords> tokens{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < phrase.size();) {
        if (is_space(phrase[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < phrase.size() && !is_space(phrase[j])) ++j;
        if (count < kPhraseWords) tokens[count] = phrase.substr(i, j - i);
        ++count;
        i = j;
    }
    // 13 words: 12 data words and the checksum word. 12 words: the data words alone, accepted as
    // libsession-util's words_to_bytes accepts them (no checksum word, so nothing to check).
    if (count != kPhraseWords && count != kDataWords)
        return unexpected(Errc::mnemonic_word_count, "mnemonic: expected 13 words (or 12 without the checksum word), got " +
                                                         std::to_string(count));
    const bool has_checksum = count == kPhraseWords;

    std::array<std::uint16_t, kDataWords> words{};
    auto wipe_words = [&] { session::detail::wipe(words.data(), sizeof words); };
    for (std::size_t i = 0; i < kDataWords; ++i) {
        int w = find_word(tokens[i]);
        if (w < 0) {
            wipe_words();
            return unexpected(Errc::mnemonic_unknown_word,
                              "mnemonic: " + word_position(i) + " is not in the English list");
        }
        words[i] = static_cast<std::uint16_t>(w);
    }
    const int check = has_checksum ? find_word(tokens[kDataWords]) : 0;
    if (check < 0) {
        wipe_words();
        return unexpected(Errc::mnemonic_unknown_word,
                          "mnemonic: " + word_position(kDataWords) + " is not in the English list");
    }
    const std::size_t expected = checksum_index(words);
    // Prefixes are unique, so equal prefixes (desktop's comparison) means equal list indices.
    const bool checksum_ok = !has_checksum || words[expected] == static_cast<std::uint16_t>(check);
    if (!checksum_ok) {
        wipe_words();
        return unexpected(Errc::mnemonic_bad_checksum,
                          "mnemonic: " + word_position(kDataWords) +
                              " (the checksum word) does not match words 1-12; one of them is mistyped");
    }

    Seed seed;
    auto out = seed.mutable_bytes();
    for (std::size_t g = 0; g < kDataWords / kWordsPerGroup; ++g) {
        const std::uint64_t w1 = words[3 * g], w2 = words[3 * g + 1], w3 = words[3 * g + 2];
        std::uint64_t x = w1 + kN * ((kN - w1 + w2) % kN) + std::uint64_t{kN} * kN * ((kN - w2 + w3) % kN);
        // Low 32 bits, little-endian: what desktop produces when x >= 2^32 (see top of file).
        for (std::size_t b = 0; b < kGroupBytes; ++b) out[kGroupBytes * g + b] = static_cast<std::uint8_t>(x >> (8 * b));
        session::detail::wipe(&x, sizeof x);
    }
    wipe_words();
    return seed;
}

SecretBuffer encode(const Seed& seed) {
    const auto in = seed.reveal();
    std::array<std::uint16_t, kDataWords> words{};
    for (std::size_t g = 0; g < kDataWords / kWordsPerGroup; ++g) {
        std::uint32_t x = 0;
        for (std::size_t b = 0; b < kGroupBytes; ++b) x |= std::uint32_t{in[kGroupBytes * g + b]} << (8 * b);
        const std::uint32_t w1 = x % kN;
        const std::uint32_t w2 = (x / kN + w1) % kN;
        const std::uint32_t w3 = (x / kN / kN + w2) % kN;
        words[3 * g] = static_cast<std::uint16_t>(w1);
        words[3 * g + 1] = static_cast<std::uint16_t>(w2);
        words[3 * g + 2] = static_cast<std::uint16_t>(w3);
        session::detail::wipe(&x, sizeof x);
    }
    const std::size_t check = checksum_index(words);

    SecretBuffer phrase;  // wipes its old storage whenever it grows
    for (std::size_t i = 0; i < kDataWords; ++i) {
        phrase.append(detail::kEnglishWords[words[i]]);
        phrase.push_back(' ');
    }
    phrase.append(detail::kEnglishWords[words[check]]);
    session::detail::wipe(words.data(), sizeof words);
    return phrase;
}

}  // namespace session::mnemonic
