#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs the whole test suite.
#   scripts/test.sh            everything except the long soak (CI's variant: soak runs 500 messages)
#   SESSION_FULL=1 scripts/test.sh   also the [.slow] cases and the full 5,000-message soak
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
if [ "${SESSION_FULL:-0}" = 1 ]; then
  SESSION_SOAK_MESSAGES=${SESSION_SOAK_MESSAGES:-5000} ctest --output-on-failure -j 2
else
  ctest --output-on-failure -j 2 -LE slow
fi
