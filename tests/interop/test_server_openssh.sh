#!/usr/bin/env bash
# OpenSSH ssh -> hashi-server: every kex x cipher, MAC and host-key algorithm (chosen from the
# client side), ed25519/ecdsa/rsa user keys, exit status, stderr, 16 MiB both ways, strict kex and
# the negotiated algorithms in `ssh -vvv`, ssh-keyscan returning exactly our host keys, and the
# config checker (`-t`): an unknown keyword is an error naming file and line, a known but
# unsupported one only a warning.
#
#   bash tests/interop/test_server_openssh.sh [BIN-DIR]
#   HASHI_SERVER=/usr/sbin/sshd bash tests/interop/test_server_openssh.sh   # check the harness
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$(hashi_server_path)" ssh ssh-keyscan sha256sum timeout
it_setup
start_hashi_server "${ALL_ALGO_LINES[@]}" || it_finish
P=$SERVER_PORT
LOG=$SERVER_LOG
DEST=$LOGIN@$HOST

oc() { run_client ssh "$P" "$@"; }  # OpenSSH's client: oc ARGS... DEST COMMAND

try_echo() {  # try_echo NAME ARGS...
  local name=$1 got
  shift
  got=$(oc "$@" "$DEST" 'echo ok' 2>"$T/err")
  expect_eq "$name" ok "$got" "$T/err" "$LOG"
}

# --- kex x cipher, MACs, host-key algorithms
algorithm_matrix try_echo "$P"

# --- user keys; a key not in authorized_keys is refused
for u in ed25519 ecdsa rsa; do KEY=$T/id_$u try_echo "userkey:$u"; done
ssh-keygen -q -t ed25519 -N '' -f "$T/id_stranger" </dev/null
KEY=$T/id_stranger oc "$DEST" 'echo ok' >"$T/out" 2>"$T/err"
expect_eq "unknown-userkey-refused" "255/" "$?/$(cat "$T/out")" "$T/err" "$LOG"

# --- exit status, stderr apart from stdout
oc "$DEST" 'echo out; exit 7' >/dev/null 2>"$T/err"
expect_eq "exit-status-7" 7 $? "$T/err" "$LOG"
oc "$DEST" 'exit 0' >/dev/null 2>"$T/err"
expect_eq "exit-status-0" 0 $? "$T/err" "$LOG"
out=$(oc -o LogLevel=ERROR "$DEST" 'echo out; echo err >&2' 2>"$T/err")
expect_eq "stderr-separate" "out/err" "$out/$(cat "$T/err")" "$LOG"

# --- 16 MiB both ways, and echoed
make_blob "$T/blob" 16
want=$(sha <"$T/blob")
got=$(oc "$DEST" sha256sum <"$T/blob" 2>"$T/err" | cut -d' ' -f1)
expect_eq "push-16MiB" "$want" "$got" "$T/err" "$LOG"
got=$(oc "$DEST" "cat '$T/blob'" </dev/null 2>"$T/err" | sha)
expect_eq "pull-16MiB" "$want" "$got" "$T/err" "$LOG"
got=$(oc "$DEST" cat <"$T/blob" 2>"$T/err" | sha)
expect_eq "echo-16MiB" "$want" "$got" "$T/err" "$LOG"
cat /dev/zero | oc "$DEST" 'echo done; exit 3' >"$T/out" 2>"$T/err"
rc=${PIPESTATUS[1]}
expect_eq "unread-stdin-flood" "done/3" "$(cat "$T/out")/$rc" "$T/err" "$LOG"

# --- the client goes away while its program runs: the program is hung up and reaped (neither
# left running nor a zombie)
nap="sleep 3$RANDOM.5"
oc "$DEST" "$nap" </dev/null >/dev/null 2>"$T/err" &
cpid=$!
prog=
for _ in $(seq 100); do prog=$(pgrep -f "^$nap\$" | head -1); [ -n "$prog" ] && break; sleep 0.1; done
kill_tree "$cpid"
wait "$cpid" 2>/dev/null
for _ in $(seq 50); do [ -z "$(ps -o stat= -p "${prog:-0}")" ] && break; sleep 0.1; done
expect_eq "hangup-reaps-program" "started/gone" \
  "$([ -n "$prog" ] && echo started)/$([ -n "$prog" ] && [ -z "$(ps -o stat= -p "$prog")" ] && echo gone || ps -o stat= -p "${prog:-0}")" \
  "$T/err" "$LOG"

# --- ssh -vvv: strict kex, and the algorithms asked for are the ones negotiated
oc -vvv -o KexAlgorithms=curve25519-sha256 -c aes256-gcm@openssh.com -o HostKeyAlgorithms=ssh-ed25519 \
  "$DEST" true >/dev/null 2>"$T/vvv"
if grep -q 'will use strict KEX' "$T/vvv"; then pass strict-kex
else fail strict-kex "ssh -vvv does not say 'will use strict KEX'" "$T/vvv" "$LOG"; fi
for want_line in 'kex: algorithm: curve25519-sha256' 'kex: host key algorithm: ssh-ed25519' \
  'kex: server->client cipher: aes256-gcm@openssh.com' 'kex: client->server cipher: aes256-gcm@openssh.com'; do
  if grep -qF "$want_line" "$T/vvv"; then pass "vvv:${want_line#kex: }"
  else fail "vvv:${want_line#kex: }" "not in ssh -vvv: $want_line" "$T/vvv" "$LOG"; fi
done

# --- ssh-keyscan returns our three kinds of host key, byte for byte
timeout 30 ssh-keyscan -p "$P" -t ed25519,ecdsa,rsa "$HOST" 2>"$T/err" | grep "^\[$HOST\]:$P " |
  cut -d' ' -f2,3 | sort >"$T/scanned"
cat "$T"/host_*.pub | cut -d' ' -f1,2 | sort >"$T/host_pubs"
bad=$(comm -23 "$T/scanned" "$T/host_pubs" | wc -l)
types=$(cut -d' ' -f1 "$T/scanned" | sed 's/ecdsa-sha2-nistp.*/ecdsa/' | sort -u | tr '\n' ' ')
expect_eq "keyscan" "3 keys: ecdsa ssh-ed25519 ssh-rsa /0 unknown" \
  "$(wc -l <"$T/scanned") keys: $types/$bad unknown" "$T/err" "$LOG"

# --- command-line flags: -p and -h instead of Port/HostKey lines; -d serves one connection
flag_server() {  # flag_server NAME FLAGS...: a server from a config with no Port and no HostKey
  local name=$1 port
  shift
  port=$(pick_port)
  SERVER_PORT=$port
  hashi_server_config | grep -Ev '^(Port|HostKey) ' >"$T/$name.conf"
  "$(hashi_server_path)" -e -f "$T/$name.conf" -p "$port" -h "$T/host_ed25519" "$@" 2>"$T/$name.log" &
  FLAG_PID=$!
  FLAG_PORT=$port
  IT_PIDS+=("$FLAG_PID")
  wait_listening "$port" "$FLAG_PID"
}
echo "[$HOST]:PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$T/known_hosts.flags"
if flag_server flags-p-h -D; then
  sed -i "s/:PORT /:$FLAG_PORT /" "$T/known_hosts.flags"
  got=$(KNOWN_HOSTS=$T/known_hosts.flags run_client ssh "$FLAG_PORT" "$DEST" 'echo ok' 2>"$T/err")
  expect_eq "flags:-p-h" ok "$got" "$T/err" "$T/flags-p-h.log"
  stop_server "$FLAG_PID"
else
  fail "flags:-p-h" "did not listen with -p $FLAG_PORT -h host_ed25519" "$T/flags-p-h.log"
fi
if flag_server flags-d -d; then
  got=$(run_client ssh "$FLAG_PORT" "$DEST" 'echo ok' 2>"$T/err")
  # in debug mode the server handles this one connection and exits
  for _ in $(seq 1 100); do kill -0 "$FLAG_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$FLAG_PID" 2>/dev/null; then alive=running; else alive=exited; fi
  expect_eq "flags:-d-one-connection" "ok/exited" "$got/$alive" "$T/err" "$T/flags-d.log"
  stop_server "$FLAG_PID"
else
  fail "flags:-d-one-connection" "did not listen with -d" "$T/flags-d.log"
fi

# --- the config checker
server=$(hashi_server_path)
{ hashi_server_config; echo "FrobnicateWidgets yes"; } >"$T/bad.conf"
line=$(wc -l <"$T/bad.conf")
timeout 20 "$server" -t -f "$T/bad.conf" >"$T/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -Eq "bad\.conf(:| line |: line )$line\b" "$T/out"; then pass config-unknown-keyword
else fail config-unknown-keyword "exit $rc, want non-zero and 'bad.conf:$line' in the message" "$T/out"; fi
# GSSAPIAuthentication no is the value in force in hashi (accepted); UseLogin is one OpenSSH
# dropped (a warning, as sshd); refused keywords are checked in test_server_policy.sh
{ hashi_server_config; echo "GSSAPIAuthentication no"; echo "UseLogin no"; } >"$T/warn.conf"
timeout 20 "$server" -t -f "$T/warn.conf" >"$T/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -Eq 'GSSAPIAuthentication|UseLogin' "$T/out"; then pass config-unsupported-warns
else fail config-unsupported-warns "exit $rc, want 0 and a warning naming the keyword" "$T/out"; fi
{ hashi_server_config "${ALL_ALGO_LINES[@]}"; } >"$T/good.conf"
timeout 20 "$server" -t -f "$T/good.conf" >"$T/out" 2>&1
expect_eq "config-good" 0 $? "$T/out"

it_finish
