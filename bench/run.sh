#!/usr/bin/env bash
# bench/run.sh: builds the benchmarks (Release) and runs them, then prints each operation beside the
# bare libsodium/OpenSSL primitives it calls, with the ratio and its target (bench/report.py).
#
#   bench/run.sh                       everything
#   bench/run.sh bench_envelope        only the named executables
#   BENCH_FILTER='seal|open' bench/run.sh
#
# Environment: BENCH_BUILD_DIR (build-bench), JOBS (2), BENCH_REPS (repetitions, median reported;
# default 5), BENCH_MIN_TIME (seconds per repetition, default 0.2), BENCH_FILTER (regex),
# BENCH_LOCALNET (ON when cpp-httplib and SQLite are installed; the end-to-end benchmarks need it),
# plus the end-to-end knobs documented in bench/bench_e2e.cpp (E2E_HOP_LATENCY_MS, ...) and
# BENCH_STORE_DIR (where bench_store puts its SQLite files; default the temporary directory, whose
# disk and fsync cost are what bench_store measures).
# Timings are reported, never asserted: the exit status is non-zero only if a build or a run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD_DIR:-build-bench}
jobs=${JOBS:-2}
reps=${BENCH_REPS:-5}
min_time=${BENCH_MIN_TIME:-0.2}
filter=${BENCH_FILTER:-.}
BENCH_BUILD_DIR=$build bench/configure.sh || exit 1

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets <"$build/bench/targets.txt"; fi
status=0
jsons=()
for t in "${targets[@]}"; do
  echo "bench: building $t"
  if ! cmake --build "$build" -j"$jobs" --target "$t" >"$build/build-$t.log" 2>&1; then
    tail -30 "$build/build-$t.log"; status=1; continue
  fi
  out="$build/$t.json"
  echo "bench: running $t"
  extra=()
  # End-to-end runs are single long iterations with their own counters: no repetitions.
  case "$t" in *e2e*) extra=(--benchmark_repetitions=1) ;;
               *) extra=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
                         --benchmark_min_time="$min_time") ;; esac
  if "$build/bench/$t" --benchmark_filter="$filter" "${extra[@]}" \
       --benchmark_out="$out" --benchmark_out_format=json >"$build/$t.log" 2>&1; then
    jsons+=("$out")
  else
    tail -20 "$build/$t.log"; status=1
  fi
done

echo
echo "bench results ($(date -u +%Y-%m-%dT%H:%MZ), $(c++ --version | head -1), $(nproc) CPUs):"
[ ${#jsons[@]} -gt 0 ] && python3 bench/report.py "${jsons[@]}"
[ ${#jsons[@]} -gt 0 ] && python3 bench/report.py --markdown "${jsons[@]}" >"$build/bench-results.md"
exit $status
