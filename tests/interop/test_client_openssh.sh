#!/usr/bin/env bash
# hashi (client) -> OpenSSH sshd with every algorithm enabled: every kex x cipher, every MAC,
# every host-key algorithm (checked against a strict known_hosts), ed25519/ecdsa/rsa user keys,
# exit status, stderr, 16 MiB both ways, a command that ignores a flood of stdin, -q, -T, -F,
# -o Port=, -l, and 255 on connection refused and on authentication failure.
#
#   bash tests/interop/test_client_openssh.sh [BIN-DIR]
#   HASHI_CLIENT=ssh bash tests/interop/test_client_openssh.sh     # check the harness itself
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$HASHI_CLIENT" sshd sha256sum timeout expect
it_setup
start_sshd "${ALL_ALGO_LINES[@]}" || it_finish
P=$SERVER_PORT
LOG=$SERVER_LOG
DEST=$LOGIN@$HOST

hc() { run_client "$HASHI_CLIENT" "$P" "$@"; }  # hc ARGS... DEST COMMAND

try_echo() {  # try_echo NAME ARGS...: 'echo ok' must come back
  local name=$1 got
  shift
  got=$(hc "$@" "$DEST" 'echo ok' 2>"$T/err")
  expect_eq "$name" ok "$got" "$T/err" "$LOG"
}

# --- kex x cipher, MACs, host-key algorithms
algorithm_matrix try_echo "$P"
# ... and a known_hosts entry for another key must be refused (255)
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host" </dev/null
echo "[$HOST]:$P $(cut -d' ' -f1,2 "$T/other_host.pub")" >"$T/known_hosts.wrong"
KNOWN_HOSTS=$T/known_hosts.wrong hc -o HostKeyAlgorithms=ssh-ed25519 "$DEST" 'echo ok' >/dev/null 2>"$T/err"
expect_eq "hostkey:changed-key-refused" 255 $? "$T/err"

# --- user keys
for u in ed25519 ecdsa rsa; do KEY=$T/id_$u try_echo "userkey:$u"; done

# --- exit status, stderr apart from stdout
hc "$DEST" 'echo out; exit 7' >/dev/null 2>"$T/err"
expect_eq "exit-status-7" 7 $? "$T/err" "$LOG"
hc "$DEST" 'exit 0' >/dev/null 2>"$T/err"
expect_eq "exit-status-0" 0 $? "$T/err" "$LOG"
out=$(hc "$DEST" 'echo out; echo err >&2' 2>"$T/err")
if [ "$out" = out ] && grep -qx err "$T/err" && ! grep -q out "$T/err"; then pass stderr-separate
else fail stderr-separate "stdout '$out', stderr '$(head -c 200 "$T/err")'" "$LOG"; fi

# --- 16 MiB both ways
make_blob "$T/blob" 16
want=$(sha <"$T/blob")
got=$(hc "$DEST" sha256sum <"$T/blob" 2>"$T/err" | cut -d' ' -f1)
expect_eq "push-16MiB" "$want" "$got" "$T/err" "$LOG"
got=$(hc "$DEST" "cat '$T/blob'" 2>"$T/err" </dev/null | sha)
expect_eq "pull-16MiB" "$want" "$got" "$T/err" "$LOG"
got=$(hc "$DEST" cat <"$T/blob" 2>"$T/err" | sha)
expect_eq "echo-16MiB" "$want" "$got" "$T/err" "$LOG"

# --- a command that reads no stdin while we keep sending: must end with the command
cat /dev/zero | hc "$DEST" 'echo done; exit 3' >"$T/out" 2>"$T/err"
rc=${PIPESTATUS[1]}
expect_eq "unread-stdin-flood" "done/3" "$(cat "$T/out")/$rc" "$T/err" "$LOG"

# --- -q: nothing of ours on stderr, only the command's
hc -q "$DEST" 'echo err >&2' >/dev/null 2>"$T/err"
expect_eq "quiet" err "$(cat "$T/err")" "$LOG"

# --- -T: no terminal for the command even when the client runs on one. The client gets a
# pseudo-terminal from expect (under ctest it has none, and a client without a terminal would
# never ask for one, -T or not). The control case shows that this setup does give a command a
# terminal when one is asked for: hashi refuses -t (no pty support yet), so OpenSSH's ssh asks,
# with the same options against the same server. "not a tty" can then only come from -T.
cat >"$T/pty.exp" <<'EXP'
set timeout 25
spawn -noecho {*}$argv
expect eof
catch wait result
exit [lindex $result 3]
EXP
in_pty() {  # in_pty PROG ARGS...: PROG ARGS... on a pseudo-terminal; its output (stderr too), no CRs
  local prog=$1
  shift
  client_opts
  timeout -k 5 "$IT_TIMEOUT" expect "$T/pty.exp" "$prog" "${CLIENT_OPTS[@]}" -p "$P" "$@" \
    </dev/null 2>&1 | tr -d '\r'
}
in_pty ssh -t "$DEST" 'tty' >"$T/out"
if grep -qx '/dev/pts/[0-9]*' "$T/out"; then pass tty-forced-control
else fail tty-forced-control "ssh -t on a terminal: want a /dev/pts/N line from tty" "$T/out" "$LOG"; fi
in_pty "$HASHI_CLIENT" -T "$DEST" 'tty' >"$T/out"
if grep -qx 'not a tty' "$T/out" && ! grep -q '^/dev/' "$T/out"; then pass no-tty
else fail no-tty "-T on a terminal: want 'not a tty' from tty" "$T/out" "$LOG"; fi

# --- destination forms: -l, -o Port=, -F with a real config
got=$(hc -l "$LOGIN" "$HOST" 'echo ok' 2>"$T/err")
expect_eq "login-flag" ok "$got" "$T/err" "$LOG"
client_opts
got=$(timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" "${CLIENT_OPTS[@]}" -o Port="$P" "$DEST" 'echo ok' 2>"$T/err")
expect_eq "port-option" ok "$got" "$T/err" "$LOG"
cat >"$T/client_config" <<EOF
Host hashi-interop-alias
  HostName $HOST
  Port $P
  User $LOGIN
  IdentityFile $KEY
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
EOF
got=$(timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" -F "$T/client_config" hashi-interop-alias 'echo ok' 2>"$T/err")
expect_eq "config-file" ok "$got" "$T/err" "$LOG"

# --- 255 on SSH errors: nothing listening; a key the server does not accept
closed=$(pick_port)
run_client "$HASHI_CLIENT" "$closed" "$DEST" 'echo ok' >/dev/null 2>"$T/err"
expect_eq "refused-255" 255 $? "$T/err"
ssh-keygen -q -t ed25519 -N '' -f "$T/id_stranger" </dev/null
KEY=$T/id_stranger hc "$DEST" 'echo ok' >/dev/null 2>"$T/err"
expect_eq "auth-failure-255" 255 $? "$T/err" "$LOG"

it_finish
