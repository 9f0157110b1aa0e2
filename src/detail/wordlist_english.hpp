#pragma once
// detail/wordlist_english.hpp: the Monero English recovery-phrase word list, compiled in.
// The definition is generated (scripts/gen_wordlist.py -> wordlist_english.cpp); the public
// accessor is session::mnemonic::english_words(). (In session::detail, not mnemonic::detail, so
// that session::detail::wipe stays reachable unqualified from namespace session::mnemonic.)
#include <array>
#include <cstddef>
#include <string_view>

namespace session::detail {

inline constexpr std::size_t kEnglishWordCount = 1626;
extern const std::array<std::string_view, kEnglishWordCount> kEnglishWords;

}  // namespace session::detail
