#!/usr/bin/env bash
# Runs every libFuzzer target in build-fuzz/bin for FUZZ_SECONDS over its seed corpus
# (tests/fuzz/corpus/<target>); new inputs go to a scratch dir so the checked-in corpus stays small.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-10}
fail=0 n=0
for f in build-fuzz/bin/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  seeds=tests/fuzz/corpus/$name
  scratch=$(mktemp -d)
  n=$((n + 1))
  if "$f" -max_total_time="$secs" -max_len=70000 -rss_limit_mb=2048 -print_final_stats=1 \
       "$scratch" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} >"$scratch.log" 2>&1; then
    echo "fuzz $name: ok ($(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch.log" | head -n 1) runs)"
  else
    echo "fuzz $name: FAILED"; tail -40 "$scratch.log"; fail=1
  fi
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $n targets"
[ $n -gt 0 ] || { echo "fuzz: no targets built" >&2; fail=1; }
exit $fail
