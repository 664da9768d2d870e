#!/usr/bin/env bash
# The examples against real OpenSSH: ssh into examples/tiny_server (exec, exit status, stderr,
# 4 MiB both ways), and examples/exec_client into a throw-away sshd on 127.0.0.1.
#
#   bash tests/interop/test_examples.sh [BIN-DIR]     # the examples are in BIN-DIR/../examples
. "$(dirname "$0")/lib.sh" "$@"
EXAMPLES=$(cd "$BIN/../examples" 2>/dev/null && pwd || echo "$BIN/../examples")
need_prog "$EXAMPLES/tiny_server" "$EXAMPLES/exec_client" ssh sha256sum timeout
it_setup
make_blob "$T/blob" 4
want=$(sha <"$T/blob")

# --- ssh -> tiny_server
_launch_tiny() {
  "$EXAMPLES/tiny_server" -p "$SERVER_PORT" -h "$T/host_ed25519" -a "$T/authorized_keys" \
    2>>"$SERVER_LOG" &
}
if _start tiny; then
  P=$SERVER_PORT
  LOG=$SERVER_LOG
  got=$(run_client ssh "$P" "$LOGIN@$HOST" 'echo hello' 2>"$T/err")
  expect_eq "ssh-tiny:exec" hello "$got" "$T/err" "$LOG"
  run_client ssh "$P" "$LOGIN@$HOST" 'exit 7' >/dev/null 2>"$T/err"
  expect_eq "ssh-tiny:exit-status" 7 $? "$T/err" "$LOG"
  out=$(run_client ssh "$P" -o LogLevel=ERROR "$LOGIN@$HOST" 'echo out; echo err >&2' 2>"$T/err")
  expect_eq "ssh-tiny:stderr" "out/err" "$out/$(cat "$T/err")" "$LOG"
  got=$(run_client ssh "$P" "$LOGIN@$HOST" cat <"$T/blob" 2>"$T/err" | sha)
  expect_eq "ssh-tiny:echo-4MiB" "$want" "$got" "$T/err" "$LOG"
  ssh-keygen -q -t ed25519 -N '' -f "$T/id_stranger" </dev/null
  KEY=$T/id_stranger run_client ssh "$P" "$LOGIN@$HOST" 'echo no' >"$T/out" 2>"$T/err"
  expect_eq "ssh-tiny:stranger-refused" "255/" "$?/$(cat "$T/out")" "$T/err" "$LOG"
  stop_server "$SERVER_PID"
else
  IT_FAILED=$((IT_FAILED + 1))
fi

# --- exec_client -> sshd
if start_sshd; then
  P=$SERVER_PORT
  LOG=$SERVER_LOG
  ec() { timeout -k 5 "$IT_TIMEOUT" "$EXAMPLES/exec_client" -p "$P" -i "$KEY" "$LOGIN@$HOST" "$@"; }
  got=$(ec 'echo hello' 2>"$T/err")
  expect_eq "exec_client-sshd:exec" hello "$got" "$T/err" "$LOG"
  ec 'echo out; exit 5' >/dev/null 2>"$T/err"
  expect_eq "exec_client-sshd:exit-status" 5 $? "$T/err" "$LOG"
  got=$(ec "cat '$T/blob'" 2>"$T/err" | sha)
  expect_eq "exec_client-sshd:pull-4MiB" "$want" "$got" "$T/err" "$LOG"
  got=$(ec 'echo err >&2' 2>&1 >/dev/null | grep -v '^host key')
  expect_eq "exec_client-sshd:stderr" err "$got" "$LOG"
else
  IT_FAILED=$((IT_FAILED + 1))
fi
it_finish
