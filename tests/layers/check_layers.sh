#!/usr/bin/env bash
# Checks that the build enforces DESIGN.md's layer rules: each layer's include view (made by
# CMakeLists.txt under <build>/layers/<layer>) lets it include what it may use and refuses what it
# may not. Usage: check_layers.sh <build-dir> <c++ compiler>. Exits non-zero on any failure.
set -u
build=$1
cxx=$2
src=$(cd "$(dirname "$0")/../../src" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# compiles LAYER HEADER: 0 if a file in LAYER's view that includes HEADER compiles.
compiles() {
  printf '#include "%s"\n' "$2" >"$tmp/probe.cpp"
  "$cxx" -std=c++20 -fsyntax-only -DASIO_STANDALONE -I"$build/layers/$1" "$tmp/probe.cpp" \
    >"$tmp/out" 2>&1
}

# expect_refused LAYER HEADER: the include must fail, and because the file is not visible.
expect_refused() {
  if compiles "$1" "$2"; then
    echo "FAIL $1 may not include $2, yet it compiled"
    failed=$((failed + 1))
  elif grep -q "No such file or directory" "$tmp/out"; then
    echo "ok $1 cannot include $2"
    passed=$((passed + 1))
  else
    echo "FAIL $1 including $2 failed for another reason:"
    head -5 "$tmp/out"
    failed=$((failed + 1))
  fi
}

expect_allowed() {
  if compiles "$1" "$2"; then
    echo "ok $1 includes $2"
    passed=$((passed + 1))
  else
    echo "FAIL $1 should include $2:"
    head -5 "$tmp/out"
    failed=$((failed + 1))
  fi
}

# A header of each folder that exists, to probe with.
header_of() { ls "$src/$1"/*.h 2>/dev/null | head -1 | sed "s|$src/||"; }

for layer in "$build"/layers/*; do
  layer=$(basename "$layer")
  for other in wire crypto keys config transport auth connection session sftp net server client; do
    h=$(header_of "$other")
    [ -n "$h" ] || continue
    if [ -e "$build/layers/$layer/$other" ]; then
      expect_allowed "$layer" "$h"
    else
      expect_refused "$layer" "$h"
    fi
  done
done

# The rules themselves (DESIGN.md), not only what the views happen to hold.
for pair in wire:crypto wire:keys crypto:transport keys:transport transport:net transport:server \
  auth:client connection:transport session:net session:server session:client server:client \
  client:server; do
  layer=${pair%%:*}
  other=${pair#*:}
  [ -d "$build/layers/$layer" ] || continue
  h=$(header_of "$other")
  [ -n "$h" ] && expect_refused "$layer" "$h"
done
# wire knows no cryptography: no OpenSSL header anywhere in it.
if grep -rn '#include <openssl/' "$src/wire" >/dev/null; then
  echo "FAIL wire includes OpenSSL"; failed=$((failed + 1))
else
  echo "ok wire includes no OpenSSL header"; passed=$((passed + 1))
fi
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
