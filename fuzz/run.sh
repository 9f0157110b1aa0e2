#!/usr/bin/env bash
# fuzz/run.sh: builds every libFuzzer target with clang (ASan + UBSan, library instrumented) and runs
# each one for a bounded time, then prints executions and findings per target.
#
#   fuzz/run.sh                      every target, 60 s each
#   FUZZ_SECONDS=5 fuzz/run.sh       the CI variant
#   fuzz/run.sh fuzz_mnemonic ...    only the named targets
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_BUILD_DIR (build-fuzz), FUZZ_CXX (clang++-14, else
# clang++), JOBS (2), FUZZ_LOCALNET (ON when cpp-httplib and SQLite are installed), FUZZ_UNIT_TIMEOUT
# (seconds one input may take before it counts as a hang, default 10), FUZZ_RSS_MB (2048), FUZZ_OPT
# (the optimisation level, default -O2; CI's 5-second runs build with -O0, for fewer executions a
# second: CI's step took 664 s at -O1 before the precompiled headers, 296 s at -O0 with them).
#
# Each target starts from its committed seeds (fuzz/corpus/<name>/, never written to) plus a working
# corpus kept in the build directory, so repeated runs build on each other. Crashing inputs land in
# <build>/fuzz-artifacts/<name>/ (emptied at the start of each run). Known crashers (fuzz/regressions/<name>/) are replayed first.
# Exit status: 0 if every target built and nothing crashed, hung or leaked; 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
unit_timeout=${FUZZ_UNIT_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
opt=${FUZZ_OPT:--O2}
cxx=${FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
localnet=${FUZZ_LOCALNET:-}
if [ -z "$localnet" ]; then
  if pkg-config --exists cpp-httplib sqlite3 2>/dev/null; then localnet=ON; else localnet=OFF; fi
fi

mkdir -p "$build"
echo "fuzz: configuring $build with $cxx (localnet $localnet)"
CXX=$cxx cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -g -DNDEBUG" \
  -DSESSION_BUILD_FUZZ=ON -DSESSION_PCH=ON \
  -DSESSION_BUILD_TESTS=OFF -DSESSION_BUILD_EXAMPLES=OFF -DSESSION_BUILD_LOCALNET="$localnet" \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; echo "fuzz: configure failed"; exit 1; }
grep "fuzz: skipping" "$build/configure.log" || true

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets <"$build/fuzz/targets.txt"
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets"; exit 1; }

status=0
declare -A built
# One build of all targets keeps both jobs busy (built one at a time, each harness was compiled and
# linked with a job idle); only if it fails are they built one by one, to tell which ones fail.
echo "fuzz: building ${#targets[@]} targets"
if cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1; then
  for t in "${targets[@]}"; do built[$t]=1; done
else
  for t in "${targets[@]}"; do
    echo "fuzz: building $t"
    if cmake --build "$build" -j"$jobs" --target "$t" >"$build/build-$t.log" 2>&1; then
      built[$t]=1
    else
      built[$t]=0
      status=1
      tail -30 "$build/build-$t.log"
    fi
  done
fi

results="$build/fuzz-results.md"
{
  echo "| target | seconds | executions | exec/s | seeds | corpus after | coverage (edges) | findings |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
} >"$results"

for t in "${targets[@]}"; do
  name=${t#fuzz_}
  bin="$build/fuzz/$t"
  if [ "${built[$t]}" != 1 ]; then
    echo "| $t | - | - | - | - | - | - | BUILD FAILED |" >>"$results"
    continue
  fi
  seeds="$root/fuzz/corpus/$name"
  work="$build/fuzz-corpus/$name"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$work" "$artifacts" "$seeds"
  rm -f "$artifacts"/*  # this run's findings only; copy a crasher to fuzz/regressions/<name>/ to keep it
  log="$build/fuzz-$name.log"
  findings=()

  # 1. Known crashers: each file runs once; a still-failing one is a finding.
  regress="$root/fuzz/regressions/$name"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
    for f in "$regress"/*; do
      [ -f "$f" ] || continue
      case "$f" in *.md|*.txt.md) continue ;; esac
      if ! "$bin" -runs=1 "$f" >"$build/regress-$name.log" 2>&1; then
        findings+=("regression $(basename "$f") still fails")
      fi
    done
  fi

  # 2. Fuzz for a bounded time.
  echo "fuzz: running $t for ${seconds}s"
  nseeds=$(find "$seeds" -type f | wc -l)
  # Dictionaries: fuzz/dicts/<name>.dict plus the shared JSON tokens for JSON-reading targets.
  dict_args=()
  if [ -f "$root/fuzz/dicts/$name.dict" ]; then
    dict="$build/fuzz-$name.dict"
    cat "$root/fuzz/dicts/$name.dict" "$root/fuzz/dicts/json_common.dict" >"$dict"
    dict_args=(-dict="$dict")
  fi
  "$bin" "${dict_args[@]}" -max_total_time="$seconds" -timeout="$unit_timeout" -rss_limit_mb="$rss_mb" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corp=$(find "$work" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    # Sanitizer reports print "SUMMARY: ..."; libFuzzer's own (timeout, OOM, leak) print "==ERROR".
    what=$(grep -m1 -E '^SUMMARY: |==[0-9]+== ?ERROR: libFuzzer|ERROR: libFuzzer|fuzz property violated' "$log" |
           sed 's/|/\\|/g' | cut -c1-120)
    findings+=("exit $rc: ${what:-see $log}")
  fi
  for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [ -e "$a" ] && findings+=("artifact $a")
  done
  if [ ${#findings[@]} -gt 0 ]; then
    status=1
    summary=$(printf '%s; ' "${findings[@]}")
  else
    summary="none"
  fi
  echo "| $t | $seconds | ${execs:-?} | ${rate:-?} | $nseeds | $corp | ${cov:-?} | ${summary%; } |" >>"$results"
done

echo
echo "fuzz results ($(date -u +%Y-%m-%dT%H:%MZ), $cxx, ${seconds}s per target):"
cat "$results"
exit $status
