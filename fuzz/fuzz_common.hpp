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

/// splitmix64: the same bytes on every run, so a crash replays exactly.
class FuzzRng final : public session::Rng {
public:
    explicit FuzzRng(std::uint64_t seed = 0x5e55'10e0'f022'0001ULL) : state_(seed) {}
    void fill(std::span<std::uint8_t> out) override {
        for (auto& b : out) {
            if (left_ == 0) {
                state_ += 0x9e3779b97f4a7c15ULL;
                std::uint64_t z = state_;
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
                word_ = z ^ (z >> 31);
                left_ = 8;
            }
            b = static_cast<std::uint8_t>(word_);
            word_ >>= 8;
            --left_;
        }
    }

private:
    std::uint64_t state_;
    std::uint64_t word_ = 0;
    int left_ = 0;
};

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
