#!/usr/bin/env bash
# Several session channels on one connection, against real OpenSSH sshd: examples/multi_exec
# runs commands at once over ONE connection (client::Client), each on its own channel.
#   - two commands that can only finish if they run concurrently (the first waits for a file the
#     second creates): both outputs, stderr apart, both exit statuses; sshd logs one login;
#   - four channels moving 4 MiB each at once, every byte accounted for.
#
#   bash tests/interop/test_client_channels.sh [BIN-DIR]   # multi_exec is in BIN-DIR/../examples
. "$(dirname "$0")/lib.sh" "$@"
EXAMPLES=$(cd "$BIN/../examples" 2>/dev/null && pwd || echo "$BIN/../examples")
need_prog "$EXAMPLES/multi_exec" sshd sha256sum timeout
it_setup
start_sshd || it_finish
P=$SERVER_PORT
LOG=$SERVER_LOG
me() { timeout -k 5 "$IT_TIMEOUT" "$EXAMPLES/multi_exec" -p "$P" -i "$KEY" "$@"; }
logins() { grep -c 'Accepted publickey' "$LOG"; }

# --- two exec channels at once on one connection
flag=$T/flag
before=$(logins)
me -o "$T/two" "$LOGIN@$HOST" \
  "while [ ! -e '$flag' ]; do sleep 0.05; done; echo one; echo one-err >&2; exit 4" \
  "touch '$flag'; echo two; exit 3" >"$T/status" 2>"$T/err"
rc=$?
expect_eq "two-channels:exit" 1 "$rc" "$T/err" "$LOG"
expect_eq "two-channels:statuses" "1 exit 4/2 exit 3" "$(paste -sd/ "$T/status")" "$T/err" "$LOG"
expect_eq "two-channels:stdout-1" one "$(cat "$T/two.1.out" 2>/dev/null)" "$T/err"
expect_eq "two-channels:stderr-1" one-err "$(cat "$T/two.1.err" 2>/dev/null)" "$T/err"
expect_eq "two-channels:stdout-2" two "$(cat "$T/two.2.out" 2>/dev/null)" "$T/err"
expect_eq "two-channels:stderr-2-empty" "" "$(cat "$T/two.2.err" 2>/dev/null)" "$T/err"
expect_eq "two-channels:one-connection" $((before + 1)) "$(logins)" "$LOG"

# --- four bulk channels at once: 4 MiB down each, every byte
make_blob "$T/blob" 4
want=$(sha <"$T/blob")
before=$(logins)
me -o "$T/four" "$LOGIN@$HOST" "cat '$T/blob'" "cat '$T/blob'" "cat '$T/blob'" \
  "cat '$T/blob'" >"$T/status" 2>"$T/err"
expect_eq "four-channels:exit" 0 "$?" "$T/err" "$LOG"
for i in 1 2 3 4; do
  expect_eq "four-channels:pull-4MiB-$i" "$want" "$(sha <"$T/four.$i.out")" "$T/err"
done
expect_eq "four-channels:one-connection" $((before + 1)) "$(logins)" "$LOG"
it_finish
