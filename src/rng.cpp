#include "session/rng.hpp"

#include <sodium.h>

#include "detail/crypto.hpp"

namespace session {

void SystemRng::fill(std::span<std::uint8_t> out) {
    detail::sodium_ready();
    randombytes_buf(out.data(), out.size());
}

std::shared_ptr<Rng> system_rng() {
    static auto rng = std::make_shared<SystemRng>();
    return rng;
}

std::int64_t SystemClock::now_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::shared_ptr<Clock> system_clock() {
    static auto clock = std::make_shared<SystemClock>();
    return clock;
}

}  // namespace session
