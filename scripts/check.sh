#!/usr/bin/env bash
# Runs every test: unit and in-memory session tests under ASan/UBSan, a short fuzz run of every
# target over its seed corpus, then the interop tests against real OpenSSH/Dropbear/PuTTY with the
# optimised build. Exits non-zero when anything fails.
set -u
cd "$(dirname "$0")/.."
fail=0
echo "== unit and session tests (ASan/UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j "$(nproc)" || fail=1
echo "== fuzz smoke (${FUZZ_SECONDS:-10}s per target)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh || fail=1
echo "== interop tests (real OpenSSH, Dropbear, PuTTY)"
ctest --test-dir build -L interop --output-on-failure || fail=1
exit $fail
