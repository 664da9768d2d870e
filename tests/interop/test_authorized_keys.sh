#!/bin/bash
# hashi-server applies authorized_keys options, checked with OpenSSH's ssh: command= (forced,
# SSH_ORIGINAL_COMMAND), from= (address patterns), expiry-time=, environment= (with
# PermitUserEnvironment), and a bad line that does not lock out the good key after it.
# Usage: bash test_authorized_keys.sh <build>/bin
. "$(dirname "$0")/lib.sh" "$@"
it_setup
need_prog ssh ssh-keygen

PUB=$(cat "$T/id_ed25519.pub")
AK=$T/authorized_keys
start_hashi_server "PermitUserEnvironment yes" || it_finish
PORT=$SERVER_PORT

login() {  # login COMMAND...: ssh to hashi-server with $KEY; stdout and "rc=N" (stderr: $T/ssh.err)
  run_client ssh "$PORT" "$HOST" "$@" 2>>"$T/ssh.err"
  echo "rc=$?"
}

# command=: the forced command runs; the client's command is in SSH_ORIGINAL_COMMAND
echo "command=\"echo forced; echo orig=\$SSH_ORIGINAL_COMMAND\" $PUB" >"$AK"
expect_eq "command= forces the command, SSH_ORIGINAL_COMMAND holds the original" "forced
orig=echo client-command
rc=0" "$(login echo client-command)" "$SERVER_LOG"

# from=
echo "from=\"10.0.0.1\" $PUB" >"$AK"
out=$(login echo in)
expect_eq "from=\"10.0.0.1\" refuses a client on $HOST" "rc=255" "$(tail -n 1 <<<"$out")" "$SERVER_LOG"
grep -q "not from a permitted host" "$SERVER_LOG" && pass "from= refusal is logged" ||
  fail "from= refusal is logged" "no log line" "$SERVER_LOG"
echo "from=\"127.0.0.1\" $PUB" >"$AK"
expect_eq "from=\"127.0.0.1\" accepts" "in
rc=0" "$(login echo in)" "$SERVER_LOG"
echo "from=\"10.*,127.0.0.0/8\" $PUB" >"$AK"
expect_eq "from= with a CIDR block accepts" "in
rc=0" "$(login echo in)" "$SERVER_LOG"
echo "from=\"*,!127.0.0.1\" $PUB" >"$AK"
expect_eq "from= with a matching negation refuses" "rc=255" "$(login echo in | tail -n 1)" "$SERVER_LOG"

# expiry-time
echo "expiry-time=\"20000101\" $PUB" >"$AK"
expect_eq "expiry-time in the past refuses" "rc=255" "$(login echo in | tail -n 1)" "$SERVER_LOG"
echo "expiry-time=\"29991231\" $PUB" >"$AK"
expect_eq "expiry-time in the future accepts" "in
rc=0" "$(login echo in)" "$SERVER_LOG"

# environment= (PermitUserEnvironment yes)
echo "environment=\"HASHI_FROM_KEY=hello\" $PUB" >"$AK"
expect_eq "environment= sets the variable (PermitUserEnvironment yes)" "hello
rc=0" "$(login 'echo $HASHI_FROM_KEY')" "$SERVER_LOG"

# a bad line before the good key: skipped with file:line in the log, the good key still works
{ echo "command=\"unterminated $PUB"; echo "$PUB"; } >"$AK"
expect_eq "a bad line before a good key still lets the good key in" "in
rc=0" "$(login echo in)" "$SERVER_LOG"
grep -q "$AK:1" "$SERVER_LOG" && pass "the bad line is logged with file:line" ||
  fail "the bad line is logged with file:line" "no '$AK:1' in the log" "$SERVER_LOG"

# restrict / no-pty etc. are accepted (they apply to features as they arrive)
echo "restrict,no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,permitopen=\"h:1\",permitlisten=\"2\" $PUB" >"$AK"
expect_eq "restrict and the no-* options leave a command working" "in
rc=0" "$(login echo in)" "$SERVER_LOG"

stop_server "$SERVER_PID"
# environment= is ignored without PermitUserEnvironment
start_hashi_server || it_finish
PORT=$SERVER_PORT
echo "environment=\"HASHI_FROM_KEY=hello\" $PUB" >"$AK"
expect_eq "environment= ignored when PermitUserEnvironment is no" "
rc=0" "$(login 'echo $HASHI_FROM_KEY')" "$SERVER_LOG"

it_finish
