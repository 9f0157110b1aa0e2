#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs the whole test suite:
#   1. the suite (unit, localnet integration, CLI, install, fuzz-corpus replay, a 500-message soak);
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. every libFuzzer target for a short while (fuzz/run.sh, FUZZ_SECONDS each, default 5).
# Options (environment):
#   SESSION_QUICK=1   step 1 only
#   SESSION_FULL=1    also the hidden [.slow] cases and the full 5,000-message soak
#   FUZZ_SECONDS=N    fuzzing time per target in step 3
#   ASAN_CXX=...      the compiler for step 2 (default clang++-14, else clang++)
# .ci/run runs this script; it stays under 40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$(date +%s)
stamp() { printf '\n== [%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

ctest_args=(--output-on-failure -j "$jobs")
if [ "${SESSION_FULL:-0}" = 1 ]; then
  export SESSION_SOAK_MESSAGES=${SESSION_SOAK_MESSAGES:-5000}
else
  ctest_args+=(-LE slow)
fi

stamp "setup"
scripts/setup.sh

stamp "build (build/)"
# Debug (-O0): a third less compile time than the default RelWithDebInfo, which keeps the whole run
# within 40 minutes on 2 cores; the optimised build is what scripts/demo.sh and bench/run.sh make.
# -g1: line tables and function names (what a failure's backtrace and the sanitizers' reports
# print), no local variables: a fifth less compile time than -g for these builds (gcc 12, -O0,
# test_network.cpp 30.1 -> 23.7 s under ASan). Build with scripts/build.sh for a debugger's -g.
debug_flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1)
BUILD_DIR=build scripts/build.sh "${debug_flags[@]}"
stamp "test suite"
ctest --test-dir build "${ctest_args[@]}"

if [ "${SESSION_QUICK:-0}" = 1 ]; then stamp "done (quick)"; exit 0; fi

stamp "build with ASan + UBSan (build-asan/)"
# With clang (the fuzz step's compiler, which setup.sh installs): with the sanitizers at -O0 it
# compiles in 0.55-0.65 of gcc 12's time (tests/test_onion.cpp 19.6 -> 10.7 s), and the code meets a
# second compiler's warnings and checks. Step 1 stays with gcc, Debian's default. ASAN_CXX overrides.
asan_cxx=${ASAN_CXX:-$(command -v clang++-14 || command -v clang++ || echo c++)}
BUILD_DIR=build-asan scripts/build.sh -DCMAKE_CXX_COMPILER="$asan_cxx" -DSESSION_SANITIZE=ON "${debug_flags[@]}"
stamp "test suite under ASan + UBSan"
# The install test rebuilds a consumer against the instrumented library; it is covered in step 1.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan "${ctest_args[@]}" -E '^install_consumer$'

stamp "fuzz every target for ${FUZZ_SECONDS:-5} s"
# -O0: these runs are short, and the build is most of this step's time (at -O1 src/client.cpp
# takes 1.8x as long to compile with the sanitizers).
FUZZ_SECONDS=${FUZZ_SECONDS:-5} FUZZ_OPT=${FUZZ_OPT:--O0} fuzz/run.sh

stamp "all passed"
