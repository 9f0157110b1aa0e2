#pragma once
// fuzz_common.hpp: helpers shared by the fuzz harnesses.
//   FUZZ_CHECK(cond, what): a property every input must satisfy (a round trip, an error code from
//     the documented set). A violation aborts, so libFuzzer saves the input as a crash.
//   FuzzRng: deterministic randomness (a harness must behave the same on every replay).
//   Input: consumes the fuzz data piece by piece (a selector byte, then the rest).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <span>
#include <string_view>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

#define FUZZ_CHECK(cond, what)                                                               \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            std::fprintf(stderr, "fuzz property violated at %s:%d: %s\n", __FILE__, __LINE__, \
                         (what));                                                            \
            std::abort();                                                                    \
        }                                                                                    \
    } while (0)

namespace fuzz {

/// The same bytes on every run, so a crash replays exactly (session::DeterministicRng, SplitMix64).
using FuzzRng = session::DeterministicRng;

/// True if `e` has one of the listed codes and a non-empty message.
inline bool error_in(const session::Error& e, std::initializer_list<session::Errc> allowed) {
    if (e.message.empty()) return false;
    for (auto c : allowed)
        if (e.code == c) return true;
    return false;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fuzz
