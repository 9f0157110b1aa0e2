#!/usr/bin/env bash
# bench/configure.sh: configures the benchmarks' Release build in $BENCH_BUILD_DIR (build-bench), as
# bench/run.sh and bench/instructions.sh use it. BENCH_LOCALNET (ON when cpp-httplib and SQLite are
# installed) builds the local network the end-to-end benchmarks need.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BENCH_BUILD_DIR:-build-bench}
localnet=${BENCH_LOCALNET:-}
if [ -z "$localnet" ]; then
  if pkg-config --exists cpp-httplib sqlite3 2>/dev/null; then localnet=ON; else localnet=OFF; fi
fi

mkdir -p "$build"
echo "bench: configuring $build (Release, localnet $localnet)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSESSION_BUILD_BENCH=ON -DSESSION_BUILD_TESTS=OFF \
  -DSESSION_BUILD_EXAMPLES=OFF -DSESSION_BUILD_LOCALNET="$localnet" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; echo "bench: configure failed"; exit 1; }
grep "bench: skipping" "$build/configure.log" || true
