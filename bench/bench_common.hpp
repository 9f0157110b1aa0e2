#pragma once
// bench_common.hpp: shared by the benchmark files.
// Naming convention read by bench/run.sh: every operation is registered twice,
//   "<op>/ours[/<arg>]"       our library call, and
//   "<op>/primitive[/<arg>]"  the bare libsodium/OpenSSL calls it makes, on the same sizes,
// and run.sh prints ours / primitive. Keep both sides doing the same amount of work (the same
// message sizes, the same number of keys generated) so the ratio is the wrapper's overhead only.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "session/bytes.hpp"
#include "session/error.hpp"

namespace bench {

/// A library call that must succeed while being measured; a failure ends the run loudly.
template <class R>
decltype(auto) must(R&& r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "bench: %s failed: %s\n", what, r.error().message.c_str());
        std::abort();
    }
    return std::forward<R>(r);
}

inline void need(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "bench: %s failed\n", what);
        std::abort();
    }
}

inline session::Bytes pattern(std::size_t n, std::uint8_t salt = 0) {
    session::Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt);
    return b;
}

inline void init() { need(sodium_init() >= 0, "sodium_init"); }

// Every bench executable's main: libsodium first, then Google Benchmark with the command line.
inline int main(int argc, char** argv) {
    init();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace bench
