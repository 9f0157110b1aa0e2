#!/usr/bin/env bash
# Installs the Debian 12 packages session-client needs, only those that are missing; packages named
# as arguments too (a tool's own: bench/instructions.sh asks for valgrind).
set -euo pipefail
packages=(build-essential cmake pkg-config git libsodium-dev libssl-dev libcurl4-openssl-dev
          nlohmann-json3-dev catch2 libcpp-httplib-dev libsqlite3-dev libbenchmark-dev clang
          libclang-rt-14-dev python3 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
