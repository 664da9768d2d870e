#!/usr/bin/env bash
# Constant-time check of the KEMs' secret-key operations (ctgrind style): build/bench/ct_check
# marks secret inputs undefined with valgrind's client requests, and memcheck reports every
# branch or memory index that depends on them. Checks: decapsulation of a valid and a tampered
# ciphertext (secret key undefined) and encapsulation (random input undefined), for
# mlkem768 and sntrup761; first a self-test that a deliberate leak is reported.
#   scripts/ct-check.sh                  # after make build
#   CT_CHECK=path/to/ct_check scripts/ct-check.sh
# Exit 0 when all are clean; 1 with valgrind's report otherwise.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CT_CHECK=${CT_CHECK:-$ROOT/build/bench/ct_check}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "ct-check: valgrind not found (apt-get install valgrind)" >&2
  exit 1
fi
if [ ! -x "$CT_CHECK" ]; then
  echo "ct-check: $CT_CHECK not built (make build)" >&2
  exit 1
fi
log=$(mktemp "${TMPDIR:-/tmp}/ct-check.XXXXXX")
trap 'rm -f "$log"' EXIT
vg() { valgrind --error-exitcode=1 --track-origins=yes "$CT_CHECK" "$1" >"$log" 2>&1; }

# the check must be able to fail: a branch and an index on a secret byte
if vg selftest-leak; then
  echo "ct-check: self-test: valgrind did not report a deliberate secret-dependent branch; the check is blind"
  cat "$log"
  exit 1
fi
if ! grep -q 'depends on uninitialised value' "$log" || ! grep -q 'Use of uninitialised value' "$log"; then
  echo "ct-check: self-test: valgrind's report lacks the expected branch/index errors"
  cat "$log"
  exit 1
fi
echo "ct-check: self-test: a deliberate secret-dependent branch and index are reported"

fail=0
for c in mlkem768-decaps sntrup761-decaps mlkem768-encaps sntrup761-encaps; do
  kem=${c%-*} op=${c#*-}
  if vg "$c"; then
    echo "ct-check: $kem $op: no secret-dependent branches or indexes"
  else
    echo "ct-check: $kem $op: FAILED (valgrind report follows)"
    cat "$log"
    fail=1
  fi
done
exit $fail
