#pragma once
// rng.hpp: injectable randomness and time, so tests can be deterministic.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

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
