#include "session/rng.hpp"

#include <sodium.h>

#include <stdexcept>

#include "detail/crypto.hpp"

namespace session {

void SystemRng::fill(std::span<std::uint8_t> out) {
    detail::sodium_ready();
    randombytes_buf(out.data(), out.size());
}

std::size_t random_below(Rng& rng, std::size_t n) {
    if (n == 0) throw std::invalid_argument("rng: random_below: expected n >= 1, got 0");
    // Rejection sampling: values at or above the largest multiple of n are drawn again.
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    while (true) {
        std::uint64_t v = 0;
        rng.fill(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&v), sizeof v));
        if (v < limit) return static_cast<std::size_t>(v % n);
    }
}

std::shared_ptr<Rng> system_rng() {
    static auto rng = std::make_shared<SystemRng>();
    return rng;
}

void DeterministicRng::fill(std::span<std::uint8_t> out) {
    for (auto& b : out) {
        if (left_ == 0) {
            // SplitMix64's step and output mix (the constants are the published ones).
            std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
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

std::shared_ptr<Rng> deterministic_rng(std::uint64_t seed) { return std::make_shared<DeterministicRng>(seed); }

std::int64_t SystemClock::now_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::shared_ptr<Clock> system_clock() {
    static auto clock = std::make_shared<SystemClock>();
    return clock;
}

}  // namespace session
