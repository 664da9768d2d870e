#!/bin/bash
# hashi-server applies the sshd_config settings it accepts and refuses the others (issue 13),
# checked with OpenSSH's ssh: AllowUsers/DenyUsers/AllowGroups/DenyGroups, Match + ForceCommand,
# MaxSessions, RevokedKeys, AuthorizedKeysFile none, AcceptEnv, PermitRootLogin; refused keywords
# at -t, -T printing only what is in force, Debian's stock sshd_config; SIGTERM, SIGHUP and -E.
# Usage: bash test_server_policy.sh <build>/bin
. "$(dirname "$0")/lib.sh" "$@"
it_setup
need_prog ssh ssh-keygen

ME=$LOGIN
MYGROUP=$(id -gn)
SERVER_BIN=$(hashi_server_path)

login() {  # login COMMAND...: ssh to the running server as $ME; stdout, then "rc=N"
  run_client ssh "$SERVER_PORT" "$ME@$HOST" "$@" 2>>"$T/ssh.err"
  echo "rc=$?"
}

start() {  # start [CONFIG-LINE...]: a server that does not start is a FAIL
  start_hashi_server "$@" && return 0
  fail "hashi-server starts with: $*" "did not start" "$SERVER_LOG"
  return 1
}

stop() { stop_server "$SERVER_PID"; HASHI_SERVER_EXTRA=; }

expect_in() { expect_eq "$1" "in
rc=0" "$(login echo in)" "$SERVER_LOG"; }
expect_denied() { expect_eq "$1" "rc=255" "$(login echo in | tail -n 1)" "$SERVER_LOG"; }
expect_log() {  # expect_log NAME TEXT
  grep -qF -- "$2" "$SERVER_LOG" && pass "$1" || fail "$1" "no '$2' in the log" "$SERVER_LOG"
}

# --- AllowUsers / DenyUsers / AllowGroups / DenyGroups ----------------------------------------
if start "DenyUsers nobody $ME"; then
  expect_denied "DenyUsers $ME refuses $ME"
  expect_log "DenyUsers refusal is logged as sshd" \
    "User $ME from $HOST not allowed because listed in DenyUsers"
  stop
fi
if start "AllowUsers nobody" "DenyUsers nobody"; then
  expect_denied "AllowUsers not listing $ME refuses $ME"
  expect_log "AllowUsers refusal is logged as sshd" \
    "User $ME from $HOST not allowed because not listed in AllowUsers"
  stop
fi
if start "AllowUsers nobody $ME@127.0.0.0/8"; then
  expect_in "AllowUsers $ME@127.0.0.0/8 lets $ME in from $HOST"
  stop
fi
if start "AllowUsers $ME@10.0.0.0/8"; then
  expect_denied "AllowUsers $ME@10.0.0.0/8 refuses $ME from $HOST"
  stop
fi
if start "DenyGroups $MYGROUP"; then
  expect_denied "DenyGroups $MYGROUP refuses $ME"
  expect_log "DenyGroups refusal is logged as sshd" \
    "User $ME from $HOST not allowed because a group is listed in DenyGroups"
  stop
fi
if start "AllowGroups hashi-no-such-group"; then
  expect_denied "AllowGroups without $ME's groups refuses $ME"
  expect_log "AllowGroups refusal is logged as sshd" \
    "User $ME from $HOST not allowed because none of user's groups are listed in AllowGroups"
  stop
fi
if start "AllowGroups hashi-no-such-group $MYGROUP"; then
  expect_in "AllowGroups $MYGROUP lets $ME in"
  stop
fi

# --- Match + ForceCommand, AcceptEnv ------------------------------------------------------------
HASHI_SERVER_EXTRA="Match User $ME Address 127.0.0.0/8
  ForceCommand echo forced orig=\$SSH_ORIGINAL_COMMAND
Match Address 10.0.0.0/8
  ForceCommand echo wrong-block"
if start; then
  expect_eq "Match User/Address + ForceCommand runs the forced command with SSH_ORIGINAL_COMMAND" \
    "forced orig=echo client
rc=0" "$(login echo client)" "$SERVER_LOG"
  expect_log "the forced command is logged as sshd" "Starting session: forced-command (config) 'echo forced"
  stop
fi
HASHI_SERVER_EXTRA="Match User nobody
  ForceCommand echo wrong-user"
if start; then
  expect_in "a Match block for another user does not apply"
  stop
fi
echo "command=\"echo key-command\" $(cat "$T/id_ed25519.pub")" >"$T/ak_command"
if start "ForceCommand echo plain-forced" "AuthorizedKeysFile $T/ak_command"; then
  expect_eq "ForceCommand replaces the command and wins over authorized_keys command=" \
    "plain-forced
rc=0" "$(login echo in)" "$SERVER_LOG"
  stop
fi
if start "AcceptEnv HASHI_OK_*"; then
  expect_eq "AcceptEnv passes a matching variable and drops another" "yes-
rc=0" "$(HASHI_OK_A=yes HASHI_NO=no run_client ssh "$SERVER_PORT" -o SendEnv='HASHI_*' \
    "$ME@$HOST" 'echo $HASHI_OK_A-$HASHI_NO' 2>>"$T/ssh.err"; echo "rc=$?")" "$SERVER_LOG"
  stop
fi

# --- LoginGraceTime and the connection's log lines in sshd's words ------------------------------
if start "LoginGraceTime 1"; then
  expect_in "LoginGraceTime 1 lets a prompt client in"
  expect_log "a session start is logged as sshd" "Starting session: command 'echo in' for $ME from $HOST port"
  expect_log "the client's DISCONNECT is logged as sshd" "Received disconnect from $HOST port"
  expect_log "the end of a session is logged as sshd" "Disconnected from user $ME $HOST port"
  # a client that connects and says nothing is cut off after the grace time
  timeout 10 bash -c "exec 3<>/dev/tcp/$HOST/$SERVER_PORT && cat <&3 >/dev/null" 2>/dev/null
  expect_eq "LoginGraceTime ends a silent connection" 0 $? "$SERVER_LOG"
  expect_log "the grace timeout is logged as sshd" "Timeout before authentication for $HOST port"
  stop
fi

# --- MaxSessions, RevokedKeys, AuthorizedKeysFile none -------------------------------------------
if start "MaxSessions 0"; then
  expect_denied "MaxSessions 0 refuses the session"
  stop
fi
if start "MaxSessions 1"; then
  expect_in "MaxSessions 1 allows one session"
  stop
fi
cp "$T/id_ecdsa.pub" "$T/revoked"
if start "RevokedKeys $T/revoked"; then
  expect_eq "a key listed in RevokedKeys is refused" "rc=255" \
    "$(KEY=$T/id_ecdsa login echo in | tail -n 1)" "$SERVER_LOG"
  expect_log "the revoked key is logged as sshd" "Authentication key ECDSA SHA256:"
  expect_log "the revocation names the file" "revoked by file $T/revoked"
  expect_in "a key not in RevokedKeys still works"
  stop
fi
if start "RevokedKeys $T/no-such-revoked-file"; then
  expect_denied "an unreadable RevokedKeys file refuses every key"
  stop
fi
if start "AuthorizedKeysFile none"; then
  expect_denied "AuthorizedKeysFile none refuses every key"
  stop
fi

# --- PermitRootLogin (only testable as root) ------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
  if start "PermitRootLogin no"; then
    expect_denied "PermitRootLogin no refuses root"
    stop
  fi
  if start "PermitRootLogin forced-commands-only"; then
    expect_denied "PermitRootLogin forced-commands-only refuses a key without command="
    stop
  fi
  if start "PermitRootLogin forced-commands-only" "AuthorizedKeysFile $T/ak_command"; then
    expect_eq "PermitRootLogin forced-commands-only accepts a key with command=" "key-command
rc=0" "$(login echo in)" "$SERVER_LOG"
    stop
  fi
  if start "PermitRootLogin yes"; then
    expect_in "PermitRootLogin yes lets root in"
    stop
  fi
else
  echo "skip PermitRootLogin: not running as root"
fi

# --- refused keywords: -t, -T, Debian's stock config --------------------------------------------
CFG=$T/refused.conf
printf '%s\n' "HostKey $T/host_ed25519" "MaxStartups 10:30:100" "PubkeyAuthentication yes" \
  "X11Forwarding yes" "ClientAliveInterval 30" "UsePAM yes" "PasswordAuthentication yes" \
  "AllowTcpForwarding yes" "TrustedUserCAKeys /etc/ssh/ca.pub" >"$CFG"
out=$("$SERVER_BIN" -t -f "$CFG" 2>&1)
expect_eq "-t exits 255 on refused keywords" 255 "$("$SERVER_BIN" -t -f "$CFG" >/dev/null 2>&1; echo $?)"
for line in 2 4 5 6 7 8 9; do
  grep -q "^$CFG:$line: Unsupported option" <<<"$out" && pass "-t names $CFG:$line" ||
    fail "-t names $CFG:$line" "$out"
done
expect_eq "-o with a refused keyword exits 255" 255 \
  "$("$SERVER_BIN" -t -f /dev/null -o HostKey="$T/host_ed25519" -o PermitTunnel=yes >/dev/null 2>&1; echo $?)"
expect_eq "a refused flag (-c) exits 255" 255 \
  "$("$SERVER_BIN" -t -f /dev/null -o HostKey="$T/host_ed25519" -c /x >/dev/null 2>&1; echo $?)"
ssh-keygen -q -k -f "$T/krl" "$T/id_ecdsa.pub" 2>/dev/null
if [ -s "$T/krl" ]; then
  out=$("$SERVER_BIN" -t -f /dev/null -o HostKey="$T/host_ed25519" -o RevokedKeys="$T/krl" 2>&1)
  rc=$?
  expect_eq "a KRL RevokedKeys file is refused at start-up" 255 "$rc"
  grep -q "KRL" <<<"$out" && pass "the KRL refusal says why" || fail "the KRL refusal says why" "$out"
fi

dump=$("$SERVER_BIN" -T -f /dev/null -o HostKey="$T/host_ed25519" 2>&1)
expect_eq "-T succeeds" 0 "$?"
for kw in maxstartups clientaliveinterval x11displayoffset hostcertificate permitopen modulifile; do
  grep -q "^$kw " <<<"$dump" && fail "-T does not print refused $kw" "$(grep "^$kw " <<<"$dump")" ||
    pass "-T does not print refused $kw"
done
grep -qx "usepam no" <<<"$dump" && pass "-T prints the value in force (usepam no)" ||
  fail "-T prints the value in force (usepam no)" "$dump"

mkdir -p "$T/sshd_config.d"
DEB=$T/debian_sshd_config
sed "s|^Include /etc/ssh/sshd_config.d/\*.conf|Include $T/sshd_config.d/*.conf|" \
  "$IT_ROOT/tests/fixtures/debian-sshd_config" >"$DEB"
out=$("$SERVER_BIN" -t -f "$DEB" 2>&1)
rc=$?
expect_eq "Debian's stock sshd_config: -t exits 255" 255 "$rc"
expect_eq "Debian's stock sshd_config: -t lists every refused line and nothing else" \
  "$DEB:85: Unsupported option UsePAM yes: hashi-server supports only UsePAM no
$DEB:90: Unsupported option X11Forwarding yes: hashi-server supports only X11Forwarding no" "$out"
echo "$out" >"$T/debian-t.out"

# --- lifecycle: SIGTERM, SIGHUP, -E -----------------------------------------------------------------
if start "DenyUsers hashi-nobody"; then
  PIDFILE=$T/hashi.$SERVER_PORT.pid
  [ -s "$PIDFILE" ] && pass "the PID file is written" || fail "the PID file is written" "no $PIDFILE"
  expect_in "before SIGHUP $ME is let in"
  sed -i "s|^DenyUsers hashi-nobody|DenyUsers $ME|" "$SERVER_CFG"
  kill -HUP "$SERVER_PID"
  sleep 0.3
  if wait_port "$SERVER_PORT" "$SERVER_PID"; then
    pass "after SIGHUP the same process listens again"
    expect_denied "after SIGHUP the new DenyUsers line applies"
    expect_log "SIGHUP is logged" "Received SIGHUP; restarting."
  else
    fail "after SIGHUP the same process listens again" "not listening" "$SERVER_LOG"
  fi
  kill -TERM "$SERVER_PID"
  gone=no
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || { gone=yes; break; }; sleep 0.1; done
  expect_eq "SIGTERM stops the server" yes "$gone" "$SERVER_LOG"
  [ -e "$PIDFILE" ] && fail "SIGTERM removes the PID file" "$PIDFILE still there" ||
    pass "SIGTERM removes the PID file"
  wait "$SERVER_PID" 2>/dev/null
fi
ELOG=$T/elog
echo "an earlier line" >"$ELOG"
HASHI_SERVER_ARGS=(-E "$ELOG")
if start; then
  expect_in "with -E the server works"
  stop
  grep -qx "an earlier line" "$ELOG" && pass "-E appends to the file" ||
    fail "-E appends to the file" "earlier content lost" "$ELOG"
  grep -q "Accepted publickey for $ME" "$ELOG" && pass "-E writes the log to the file" ||
    fail "-E writes the log to the file" "no Accepted line" "$ELOG"
fi
HASHI_SERVER_ARGS=()

it_finish
