#pragma once
// rng.hpp: injectable randomness and time, so tests can be deterministic.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace session {

/// A source of random bytes. The default is libsodium's randombytes_buf (a CSPRNG).
class Rng {
public:
    virtual ~Rng() = default;
    virtual void fill(std::span<std::uint8_t> out) = 0;
};

/// libsodium's CSPRNG. Thread-safe.
class SystemRng final : public Rng {
public:
    void fill(std::span<std::uint8_t> out) override;
};

/// A shared default instance of SystemRng.
std::shared_ptr<Rng> system_rng();

/// FOR TESTS AND REPRODUCIBLE TOOLS ONLY — NOT FOR KEYS, NONCES OR ANYTHING AN ATTACKER MAY SEE.
/// SplitMix64 (Steele, Lea, Flood 2014): the same seed gives the same byte stream on every run and
/// platform, so a fuzz crash, a self-test round trip or a test fixture replays exactly. The stream
/// is the 64-bit outputs in little-endian byte order; bytes left over from one fill() continue the
/// next, so fill(3) then fill(5) equals fill(8). Not thread-safe (one instance per thread).
class DeterministicRng final : public Rng {
public:
    explicit DeterministicRng(std::uint64_t seed) : state_(seed) {}
    void fill(std::span<std::uint8_t> out) override;

private:
    std::uint64_t state_;
    std::uint64_t word_ = 0;  // the current output, consumed from its low byte up
    int left_ = 0;            // bytes of word_ not handed out yet
};

/// A new DeterministicRng (see above: for tests and reproducible tools only — NOT for keys).
std::shared_ptr<Rng> deterministic_rng(std::uint64_t seed);

/// A uniform integer in [0, n) from `rng` (rejection sampling: no modulo bias).
/// Throws std::invalid_argument if n is 0 (a caller's bug).
std::size_t random_below(Rng& rng, std::size_t n);

/// Shuffles `v` in place (Fisher-Yates with `rng`).
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[random_below(rng, i)]);
}

/// Local wall-clock time in milliseconds since the Unix epoch.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now_ms() const = 0;
};

/// The system clock. Thread-safe.
class SystemClock final : public Clock {
public:
    std::int64_t now_ms() const override;
};

std::shared_ptr<Clock> system_clock();

}  // namespace session
