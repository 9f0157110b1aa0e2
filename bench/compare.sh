#!/usr/bin/env bash
# bench/compare.sh: session-client side by side with a JavaScript session.js-style client
# (bench/compare/js_client.mjs on scripts/interop's libsodium.js + protobufjs code), on the same
# machine and one session-localnet process with the same per-hop latency for both.
# See docs/performance.md "Side by side". Dev-only (needs node >= 18 and npm), not part of CI.
#
#   bench/compare.sh
#   COMPARE_N=500 COMPARE_M=2000 bench/compare.sh
#
# Environment: COMPARE_BUILD_DIR (build-compare), JOBS (2), COMPARE_N (messages sealed and opened,
# 200), COMPARE_BODY_BYTES (100), COMPARE_M (stored messages received, 1000), COMPARE_COLD (cold
# sends, each by a new client, 5), COMPARE_WARM (warm sends, 20), COMPARE_HOP_LATENCY_MS (20, on
# every node), COMPARE_JS_ONION (1: also run the JS client through onion requests; 0: direct only),
# COMPARE_PAGE (messages per retrieve page for session-client's receive_pages; 0 = the server's
# byte budget, as the JS client gets).
# Prints one table and writes it to $COMPARE_BUILD_DIR/compare.md (+ the raw JSON lines beside it).
# Timings are reported, never asserted. Exit status: 0 when every run finished, 1 when a build or
# a run failed, 2 when node/npm are missing or the npm packages cannot be installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${COMPARE_BUILD_DIR:-$root/build-compare}
case $build in /*) ;; *) build=$root/$build ;; esac
jobs=${JOBS:-2}
N=${COMPARE_N:-200}
BODY=${COMPARE_BODY_BYTES:-100}
M=${COMPARE_M:-1000}
COLD=${COMPARE_COLD:-5}
WARM=${COMPARE_WARM:-20}
LAT=${COMPARE_HOP_LATENCY_MS:-20}
JS_ONION=${COMPARE_JS_ONION:-1}
interop=$root/scripts/interop
compare=$root/bench/compare

for tool in node npm; do
  command -v "$tool" >/dev/null || {
    echo "compare.sh: '$tool' is not installed; the side-by-side run needs node >= 18 and npm (dev-only, see docs/performance.md)" >&2
    exit 2
  }
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  { echo "compare.sh: node $(node --version) is too old; node >= 18 is needed" >&2; exit 2; }
if [[ ! -f $interop/node_modules/.package-lock.json || $interop/package-lock.json -nt $interop/node_modules/.package-lock.json ]]; then
  echo "compare: npm ci (scripts/interop/node_modules)"
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error) || { echo "compare.sh: npm ci failed" >&2; exit 2; }
fi

mkdir -p "$build"
echo "compare: building session-localnet and compare_driver in $build (Release)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSESSION_BUILD_BENCH=ON -DSESSION_BUILD_TESTS=OFF \
  -DSESSION_BUILD_EXAMPLES=OFF -DSESSION_BUILD_LOCALNET=ON >"$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log"; echo "compare.sh: configure failed" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target session-localnet compare_driver >"$build/build.log" 2>&1 ||
  { tail -30 "$build/build.log"; echo "compare.sh: build failed" >&2; exit 1; }
driver=$build/bench/compare_driver
localnet_bin=$build/session-localnet
js=(node "$compare/js_client.mjs")

work=$(mktemp -d "${TMPDIR:-/tmp}/session-compare.XXXXXX")
localnet_pid=
cleanup() {
  if [[ -n $localnet_pid ]]; then kill "$localnet_pid" 2>/dev/null || true; wait "$localnet_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
results=$build/compare.jsonl
: >"$results"
started=$(date +%s)

# One line of JSON from a run, tagged, appended to the results.
run() {
  local tag=$1; shift
  local line
  if ! line=$("$@" 2>"$work/stderr"); then
    cat "$work/stderr" >&2; echo "compare.sh: $tag failed" >&2; exit 1
  fi
  line=$(tail -1 <<<"$line")
  node -e 'const o = JSON.parse(process.argv[1]); o.tag = process.argv[2]; console.log(JSON.stringify(o))' "$line" "$tag" >>"$results"
  echo "  $tag: done"
}

echo "compare: crypto, $N messages of $BODY bytes (seal, then open)"
run crypto/ours "$driver" crypto "$N" "$BODY"
run crypto/js "${js[@]}" crypto "$N" "$BODY"

echo "compare: starting one session-localnet (10 nodes, swarms of 5)"
net=$work/net.json
"$localnet_bin" --network-file "$net" --quiet &
localnet_pid=$!
for _ in $(seq 300); do [[ -s $net ]] && break; sleep 0.1; done
[[ -s $net ]] || { echo "compare.sh: session-localnet did not write $net" >&2; exit 1; }
control=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).control)' "$net")
nodes=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).nodes.length)' "$net")
latency() {
  for ((i = 0; i < nodes; i++)); do
    curl -sf -X POST "$control" -H 'Content-Type: application/json' -d "{\"cmd\":\"set_latency\",\"node\":$i,\"ms\":$1}" >/dev/null ||
      { echo "compare.sh: control set_latency failed" >&2; exit 1; }
  done
}

echo "compare: storing $M messages for one account (setup, latency 0)"
latency 0
"${js[@]}" new "$work/inbox.phrase" >"$work/inbox.json"
inbox=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).session_id)' "$work/inbox.json")
"${js[@]}" fill "$net" "$inbox" "$M" >/dev/null
"${js[@]}" new "$work/to.phrase" >"$work/to.json"
to=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).session_id)' "$work/to.json")

echo "compare: network runs, $LAT ms per hop on every node"
latency "$LAT"
transports=(direct)
[[ $JS_ONION == 1 ]] && transports+=(onion)
for sync in 1 0; do
  run "send/ours/sync$sync" "$driver" send "$net" "$to" "$COLD" "$WARM" "$sync"
  for t in "${transports[@]}"; do
    run "send/js-$t/sync$sync" "${js[@]}" send "$net" "$to" "$COLD" "$WARM" "$sync" "$t"
  done
done
run receive/ours "$driver" receive "$net" "$work/inbox.phrase"
run receive/ours-all "$driver" receive "$net" "$work/inbox.phrase" all
for t in "${transports[@]}"; do
  run "receive/js-$t" "${js[@]}" receive "$net" "$work/inbox.phrase" "$t"
done

elapsed=$(( $(date +%s) - started ))
meta=$(printf '{"tag":"meta","n":%s,"body_bytes":%s,"m":%s,"cold":%s,"warm":%s,"hop_latency_ms":%s,"nodes":%s,"seconds":%s,"date":"%s","commit":"%s","node":"%s","cpus":%s,"cxx":"%s"}' \
  "$N" "$BODY" "$M" "$COLD" "$WARM" "$LAT" "$nodes" "$elapsed" "$(date -u +%Y-%m-%dT%H:%MZ)" \
  "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(node --version)" "$(nproc)" \
  "$(c++ --version | head -1)")
echo "$meta" >>"$results"
echo
node "$compare/table.mjs" "$results" "$build/compare.md"
echo
echo "compare: table written to $build/compare.md (raw results: $results), runs took ${elapsed} s"
