#!/usr/bin/env bash
# Packaging test: installs the build tree into a temporary prefix, then builds and runs the same
# consumer (consumer/main.cpp) twice: with CMake's find_package(SessionClient) and with pkg-config.
#   tests/install/run.sh BUILD_DIR [WORK_DIR]
# Registered in ctest as install_consumer. Exits non-zero on the first failing step.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${2:-}" ]; then
  work=$2; mkdir -p "$work"
else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
prefix="$work/prefix"
rm -rf "$prefix" "$work/cmake" "$work/pkgconfig"
mkdir -p "$work/pkgconfig"

expected='73657373696f6e c2Vzc2lvbg==
0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12
store ok'

step() { echo "install-test: $*"; }

# A sanitizer build installs an instrumented library: consumers must link the same runtimes.
san_flags=""
if grep -q '^SESSION_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  san_flags="-fsanitize=address,undefined"
fi

step "cmake --install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

for f in include/session/bytes.hpp include/session/keys.hpp bin/session-cli bin/session-selftest \
         share/man/man1/session-cli.1 share/bash-completion/completions/session-cli \
         share/zsh/site-functions/_session-cli; do
  [ -e "$prefix/$f" ] || { echo "install-test: missing $f in the install tree" >&2; exit 1; }
done
# The installed man page and completions are the ones the installed binary generates.
cmp -s "$prefix/share/man/man1/session-cli.1" <("$prefix/bin/session-cli" --print-man) \
  || { echo "install-test: the installed man page differs from session-cli --print-man" >&2; exit 1; }
# Installs are stripped by default (SESSION_INSTALL_STRIP): no debug sections in the binaries.
if grep -q '^SESSION_INSTALL_STRIP:BOOL=ON' "$build_dir/CMakeCache.txt" && command -v readelf >/dev/null; then
  for f in "$prefix"/bin/session-cli "$prefix"/bin/session-selftest; do
    if readelf -S "$f" | grep -q '\.debug_info'; then
      echo "install-test: $f still has debug info after cmake --install" >&2; exit 1
    fi
  done
fi
# Private headers must not be installed.
if find "$prefix/include" -path '*detail*' | grep -q .; then
  echo "install-test: private detail/ headers were installed" >&2; exit 1
fi

# Shared builds need the library directory at run time.
libdir=$(dirname "$(find "$prefix" -name 'libsession-client.*' | head -n1)")
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "find_package(SessionClient) consumer"
cmake -S "$here/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="$san_flags" -DCMAKE_EXE_LINKER_FLAGS="$san_flags" >/dev/null
cmake --build "$work/cmake" >/dev/null
out=$("$work/cmake/consumer")
[ "$out" = "$expected" ] || { printf 'install-test: cmake consumer printed\n%s\nexpected\n%s\n' "$out" "$expected" >&2; exit 1; }

step "pkg-config consumer"
pcdir=$(dirname "$(find "$prefix" -name session-client.pc | head -n1)")
export PKG_CONFIG_PATH="$pcdir"
# Plain --libs must be enough for both a static and a shared library.
flags=$(pkg-config --cflags --libs session-client)
# shellcheck disable=SC2086
${CXX:-c++} $san_flags -o "$work/pkgconfig/consumer" "$here/consumer/main.cpp" $flags
out=$("$work/pkgconfig/consumer")
[ "$out" = "$expected" ] || { printf 'install-test: pkg-config consumer printed\n%s\nexpected\n%s\n' "$out" "$expected" >&2; exit 1; }

step "installed tools run without LD_LIBRARY_PATH"
env -u LD_LIBRARY_PATH "$prefix/bin/session-cli" --version >/dev/null
env -u LD_LIBRARY_PATH "$prefix/bin/session-selftest" >/dev/null
step "ok"
