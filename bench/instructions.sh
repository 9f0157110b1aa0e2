#!/usr/bin/env bash
# bench/instructions.sh: the client's instructions per message in the batched end-to-end runs, beside
# the CPU target's base (one seal plus a twentieth of an onion build), counted by callgrind.
#
#   bench/instructions.sh                        e2e_broadcast_unchecked e2e_send_many_unchecked e2e_broadcast
#   bench/instructions.sh e2e_send_many          only the named e2e cases
#
# Instructions, unlike CPU seconds, do not depend on what else the machine does or on how warm its
# caches are: the same binary gives the same base to 0.01 % and the same client count to about 1 %
# (how the threads interleave moves it a little). They count only user-space work (no kernel time:
# the system calls of the I/O thread are not in them).
# Each case runs twice under callgrind (INSTR_SMALL = 500 and INSTR_LARGE = 1,500 messages to 100
# recipients, E2E_BATCHES_IN_FLIGHT = 2 so that callgrind's slowness causes no timeouts); the
# difference, divided by the 1,000 messages between them, is the client's cost of one more message,
# without its bootstrap. A run with a failed attempt (a retry adds work) is reported and fails the
# script. About 4.5 minutes for the three default cases on a 2-core machine.
# Output: a table, and the JSON lines in $BENCH_BUILD_DIR/instructions.jsonl (build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD_DIR:-build-bench}
small=${INSTR_SMALL:-500}
large=${INSTR_LARGE:-1500}
if [ $# -gt 0 ]; then cases=("$@"); else cases=(e2e_broadcast_unchecked e2e_send_many_unchecked e2e_broadcast); fi
[ "$large" -gt "$small" ] || { echo "instructions: INSTR_LARGE must be more than INSTR_SMALL" >&2; exit 2; }

command -v valgrind >/dev/null || scripts/setup.sh valgrind
[ -f "$build/CMakeCache.txt" ] || BENCH_BUILD_DIR=$build bench/configure.sh
echo "instructions: building bench_envelope bench_onion bench_e2e in $build"
cmake --build "$build" -j"$(nproc)" --target bench_envelope bench_onion bench_e2e >"$build/build-instructions.log" 2>&1 ||
  { tail -30 "$build/build-instructions.log"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$build/instructions.jsonl"
callgrind() { valgrind --tool=callgrind --log-file="$work/valgrind.log" "$@"; }

echo "instructions: the base (seal/ours/100, onion_build/ours/xchacha20), each run twice"
for t in 0.05 0.5; do
  callgrind --callgrind-out-file="$work/envelope-$t.out" "$build/bench/bench_envelope" \
    --benchmark_filter='^seal/ours/100$' --benchmark_min_time=$t >"$work/envelope.log" 2>&1 ||
    { tail -20 "$work/envelope.log"; exit 1; }
  callgrind --callgrind-out-file="$work/onion-$t.out" "$build/bench/bench_onion" \
    --benchmark_filter='^onion_build/ours/xchacha20$' --benchmark_min_time=$t >"$work/onion.log" 2>&1 ||
    { tail -20 "$work/onion.log"; exit 1; }
done
python3 bench/instructions.py base "$work/envelope-0.05.out" "$work/envelope-0.5.out" \
  "$work/onion-0.05.out" "$work/onion-0.5.out" >"$work/base.json"
cp "$work/base.json" "$out"

status=0
for c in "${cases[@]}"; do
  for n in "$small" "$large"; do
    echo "instructions: $c, $n messages"
    if ! E2E_MANY_MESSAGES=$n E2E_MANY_RECIPIENTS=100 E2E_BATCHES_IN_FLIGHT=2 \
        callgrind --separate-threads=yes --callgrind-out-file="$work/$c-$n.out" \
        "$build/bench/bench_e2e" --benchmark_filter="^$c/" >"$work/$c-$n.log" 2>&1; then
      tail -20 "$work/$c-$n.log"; exit 1
    fi
    failed=$(grep -o 'client_failed_attempts=[0-9]*' "$work/$c-$n.log" | head -1 | cut -d= -f2)
    if [ -z "$failed" ]; then
      echo "instructions: $c printed no client_failed_attempts (no such case?)" >&2; tail -5 "$work/$c-$n.log"; exit 1
    fi
    if [ "$failed" != 0 ]; then
      echo "instructions: $c, $n messages: $failed failed attempts (retries add work); the count is not clean" >&2
      status=1
    fi
  done
  # callgrind names the per-thread files <out>-01, -02, ...
  python3 bench/instructions.py client "$work/base.json" "$c" "$small" "$work/$c-$small.out" \
    "$large" "$work/$c-$large.out" >>"$out"
done

echo
python3 bench/instructions.py table "$out"
echo "(JSON lines: $out)"
exit $status
