#pragma once
// mnemonic.hpp: the 13-word recovery phrase <-> 16-byte seed (Monero English word list,
// unique prefix length 3, CRC-32 checksum word). Source: session-desktop ts/session/crypto/mnemonic.ts,
// libsession-util src/mnemonics/mnemonics.cpp.
#include <cstddef>
#include <span>
#include <string_view>

#include "session/bytes.hpp"
#include "session/error.hpp"

namespace session::mnemonic {

inline constexpr std::size_t kWordListSize = 1626;
inline constexpr std::size_t kPrefixLength = 3;
inline constexpr std::size_t kPhraseWords = 13;  // 12 data words + 1 checksum word
inline constexpr std::size_t kSeedBytes = 16;

using Seed = Secret<kSeedBytes>;

/// Decodes a 13-word phrase (or its first 12 words alone: no checksum word, so no checksum check,
/// as libsession-util accepts them) into its 16-byte seed, exactly as the official client does
/// (overflowing word triplets keep the low 32 bits). Words match on their first 3 letters, any
/// letter case; any run of ASCII whitespace separates words.
/// Errors (the message names the position, never the word itself):
///   mnemonic_word_count, mnemonic_unknown_word, mnemonic_bad_checksum.
[[nodiscard]] Result<Seed> decode(std::string_view phrase);

/// Encodes a 16-byte seed as 13 lower-case words separated by single spaces.
SecretBuffer encode(const Seed& seed);

/// The 1626-word English list, in order.
std::span<const std::string_view> english_words();

}  // namespace session::mnemonic
