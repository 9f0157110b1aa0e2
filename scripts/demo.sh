#!/usr/bin/env bash
# The main job, end to end on one machine (Debian 12):
#   1. install missing packages, build session-cli, session-localnet and session-selftest;
#   2. run the offline self-check;
#   3. start a local Session network on 127.0.0.0/8 (never the live network);
#   4. create two identities, Alice and Bob;
#   5. Alice sends Bob a 1:1 message; Bob receives it and prints it.
# Exits non-zero if any step fails or Bob does not get exactly the text Alice sent.
# BUILD_DIR (default build) chooses the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}

step() { printf '\n== %s\n' "$*"; }

step "setup and build"
scripts/setup.sh
cmake -S . -B "$build_dir" -DSESSION_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target session-cli session-localnet session-selftest
cli="$build_dir/session-cli"

step "offline self-check"
"$build_dir/session-selftest"

step "start a local Session network"
work=$(mktemp -d)
net_pid=""
cleanup() {
  if [ -n "$net_pid" ]; then kill "$net_pid" 2>/dev/null || true; wait "$net_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$build_dir/session-localnet" --network-file "$work/network.json" --quiet &
net_pid=$!
for _ in $(seq 100); do
  [ -s "$work/network.json" ] && break
  kill -0 "$net_pid" 2>/dev/null || { echo "demo: session-localnet exited early" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/network.json" ] || { echo "demo: session-localnet did not write its network file" >&2; exit 1; }
echo "local network up (pid $net_pid), described in $work/network.json"

step "create two identities"
# `session-cli new` prints the phrase, then the Session ID. The phrases stay in shell variables and
# reach session-cli through SESSION_MNEMONIC, never through argv.
{ read -r alice_phrase; read -r alice_id; } < <("$cli" new 2>/dev/null)
{ read -r bob_phrase; read -r bob_id; } < <("$cli" new 2>/dev/null)
echo "Alice: $alice_id"
echo "Bob:   $bob_id"

step "Alice sends Bob a message"
text="Hello Bob! This is Alice, over a local Session network. ✓"
hash=$(SESSION_MNEMONIC=$alice_phrase "$cli" --network "$work/network.json" send "$bob_id" "$text")
echo "message hash: $hash"

step "Bob receives it"
SESSION_MNEMONIC=$bob_phrase "$cli" --network "$work/network.json" receive -o json > "$work/inbox.jsonl"
SESSION_MNEMONIC=$bob_phrase "$cli" --network "$work/network.json" receive
python3 - "$work/inbox.jsonl" "$alice_id" "$text" <<'EOF'
import json, sys
path, sender, text = sys.argv[1:]
msgs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
ok = [m for m in msgs if m.get("sender_session_id") == sender and m.get("body") == text]
if len(ok) != 1:
    sys.exit(f"demo: expected Alice's message in Bob's inbox exactly once, got {len(ok)} of {len(msgs)} items")
print("\ndemo: ok, Bob received Alice's message from", sender[:10] + "…")
EOF
