#!/usr/bin/env bash
# Interop checks of session-client against independent JavaScript code (see docs/interop.md).
#   scripts/interop/run.sh [--offline] [--no-build]
# Installs the npm packages into scripts/interop/node_modules (npm ci), builds session-cli and
# session-localnet into $BUILD_DIR (default build-interop), then prints PASS/FAIL per check.
# SESSION_CLI / SESSION_LOCALNET point at existing binaries instead (implies --no-build).
# Exit status: 0 when every check passed, 1 when one failed, 2 when the harness could not run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-interop}
offline_only=0
do_build=1
for a in "$@"; do
  case $a in
    --offline) offline_only=1 ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (node >= 18)" >&2; exit 2; }
done

echo "== npm ci (scripts/interop/node_modules)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "run.sh: npm ci failed" >&2; exit 2; }

if [[ -z ${SESSION_CLI:-} || -z ${SESSION_LOCALNET:-} ]]; then
  if [[ $do_build == 1 ]]; then
    echo "== building session-cli and session-localnet in $build"
    cmake -S "$root" -B "$build" -DSESSION_WERROR=ON >/dev/null
    cmake --build "$build" -j2 --target session-cli session-localnet >/dev/null
  fi
  export SESSION_CLI=${SESSION_CLI:-$build/session-cli}
  export SESSION_LOCALNET=${SESSION_LOCALNET:-$build/session-localnet}
fi
[[ -x $SESSION_CLI ]] || { echo "run.sh: no session-cli at $SESSION_CLI" >&2; exit 2; }

status=0
echo "== offline checks"
node "$here/offline.mjs" || status=1
if [[ $offline_only == 0 ]]; then
  [[ -x $SESSION_LOCALNET ]] || { echo "run.sh: no session-localnet at $SESSION_LOCALNET" >&2; exit 2; }
  echo "== online checks (session-localnet on 127.0.0.0/8)"
  node "$here/online.mjs" || status=1
fi
if [[ $status == 0 ]]; then echo "interop: ALL PASS"; else echo "interop: SOME CHECKS FAILED"; fi
exit $status
