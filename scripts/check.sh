#!/usr/bin/env bash
# Runs every test: unit and in-memory session tests under ASan/UBSan, the slow unit suites
# (thousands of round trips) in the optimised build, a short fuzz run of every target over its
# seed corpus, a subset of the interop tests with the sanitized programs, then every interop test
# against real OpenSSH/Dropbear/PuTTY with the optimised build. Exits non-zero when anything
# fails. A label that selects no test is an error (--no-tests=error), and a skipped test is
# listed by ctest as "Skipped" in its summary.
set -u
cd "$(dirname "$0")/.."
fail=0
CTEST=(ctest --no-tests=error --output-on-failure)
echo "== unit and session tests (ASan/UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "${CTEST[@]}" --test-dir build-asan -L '^unit$' -j "$(nproc)" || fail=1
echo "== slow unit tests (optimised build)"
"${CTEST[@]}" --test-dir build -L '^slow$' -j "$(nproc)" || fail=1
echo "== fuzz smoke (${FUZZ_SECONDS:-10}s per target)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh || fail=1
echo "== interop tests with the sanitized programs (ASan/UBSan)"
"${CTEST[@]}" --test-dir build-asan -L '^interop-asan$' || fail=1
echo "== interop tests (real OpenSSH, Dropbear, PuTTY)"
"${CTEST[@]}" --test-dir build -L '^interop$' || fail=1
exit $fail
