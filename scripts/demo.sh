#!/usr/bin/env bash
# The main job: set up, build, then run the offline self-check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/session-selftest
