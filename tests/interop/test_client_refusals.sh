#!/bin/bash
# hashi says no instead of pretending: flags and ssh_config keywords it does not implement are
# refused (exit 255) before any connection, which a listener that counts its connections proves;
# malformed destinations and ports are clear errors. And what it does implement here works
# against OpenSSH's sshd and hashi-server: HostKeyAlias (the key stored and looked up under the
# alias alone, UpdateHostKeys too) and -N (no session, stays up, SIGTERM ends it with 0).
# Usage: bash test_client_refusals.sh <build>/bin
. "$(dirname "$0")/lib.sh" "$@"
it_setup
need_prog python3 sshd ssh-keygen timeout

DEST=$LOGIN@$HOST

# --- refusals before any connection -----------------------------------------------------------

# A listener that appends one line to $T/accepts per connection it accepts, then hangs up.
cat >"$T/listener.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("accept\n")
    c.close()
PY
LPORT=$(pick_port)
: >"$T/accepts"
bg_job python3 "$T/listener.py" "$LPORT" "$T/accepts" 2>"$T/listener.log"
LPID=$!
wait_listening "$LPORT" "$LPID" || { fail "listener started" "no listener on $LPORT" "$T/listener.log"; it_finish; }
accepts() { wc -l <"$T/accepts" | tr -d ' '; }

# hashi_raw ARGS...: hashi with no config and no prompts, bounded in time; stderr to $T/err.
hashi_raw() {
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" -F /dev/null -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "$@" </dev/null >/dev/null 2>"$T/err"
}

# The listener counts: a plain connection attempt is seen (else the checks below prove nothing).
hashi_raw -p "$LPORT" "$HOST" true
expect_eq "listener counts a plain connection" 1 "$(accepts)"

printf 'Host *\n  ControlMaster auto\n  ControlPath %s/cm-%%C\n' "$T" >"$T/cm_config"
# no_connection NAME WANT-RE ARGS...: hashi exits 255 with stderr matching the extended regex
# WANT-RE and no sign of a crash, and the listener saw no new connection.
no_connection() {
  local name=$1 want=$2 before rc
  shift 2
  before=$(accepts)
  hashi_raw "$@"
  rc=$?
  expect_eq "$name: exit" 255 "$rc" "$T/err"
  if grep -qE "$want" "$T/err" && ! grep -qiE "terminate called|abort|what\(\)" "$T/err"; then
    pass "$name: message"
  else
    fail "$name: message" "$(head -c 300 "$T/err")"
  fi
  expect_eq "$name: no connection" "$before" "$(accepts)"
}
refuse() { local name=$1; shift; no_connection "refused $name" "not implemented" "$@"; }
refuse "-J" -J "bastion" -p "$LPORT" "$HOST" true
refuse "ProxyCommand" -o "ProxyCommand=nc %h %p" -p "$LPORT" "$HOST" true
refuse "ProxyJump" -o "ProxyJump=bastion" -p "$LPORT" "$HOST" true
refuse "-L" -L 18080:localhost:80 -p "$LPORT" "$HOST" true
refuse "-R" -R 18080:localhost:80 -p "$LPORT" "$HOST" true
refuse "-D" -D 11080 -p "$LPORT" "$HOST" true
refuse "-W" -W localhost:22 -p "$LPORT" "$HOST"
refuse "-A" -A -p "$LPORT" "$HOST" true
refuse "-t" -t -p "$LPORT" "$HOST" true
refuse "-f" -f -p "$LPORT" "$HOST" true
refuse "-C" -C -p "$LPORT" "$HOST" true
refuse "ForwardAgent yes" -o ForwardAgent=yes -p "$LPORT" "$HOST" true
refuse "ControlMaster in -F" -F "$T/cm_config" -p "$LPORT" "$HOST" true
grep -q "cm_config:2: Unsupported option \"controlmaster\"" "$T/err" &&
  pass "ControlMaster refusal names file:line" ||
  fail "ControlMaster refusal names file:line" "$(cat "$T/err")"

# Harmless values of refused keywords are accepted (the connection is then attempted).
before=$(accepts)
hashi_raw -J none -o ProxyCommand=none -o ForwardAgent=no -o ControlMaster=no -a -x -p "$LPORT" "$HOST" true
expect_eq "harmless values connect" $((before + 1)) "$(accepts)" "$T/err"

# Nothing listening: the refusal, not "Connection refused".
DEAD=$(pick_port)
hashi_raw -J bastion -p "$DEAD" "$HOST" true
rc=$?
expect_eq "refusal with nothing listening: exit" 255 "$rc"
if grep -q "not implemented" "$T/err" && ! grep -qi "connection refused" "$T/err"; then
  pass "refusal with nothing listening: message"
else
  fail "refusal with nothing listening: message" "$(cat "$T/err")"
fi

# --- malformed destinations and ports ----------------------------------------------------------

malformed() { local name=$1; shift; no_connection "malformed $name" "." "$@"; }
malformed "ssh://host:abc" "ssh://$HOST:abc" true
malformed "ssh://host:99999" "ssh://$HOST:99999" true
malformed "ssh://host:" "ssh://$HOST:" true
malformed "-p 99999" -p 99999 "$HOST" true
malformed "-p abc" -p abc "$HOST" true
malformed "-p 0" -p 0 "$HOST" true
malformed "empty host" "" true
malformed "user@" "user@" true
malformed "ssh://user@" "ssh://user@" true

# --- HostKeyAlias and -N, against sshd and hashi-server ---------------------------------------

alias_case() {  # alias_case KIND PORT
  local kind=$1 port=$2 kh=$T/kh.alias.$1 rc
  local base=(-F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o "UserKnownHostsFile=$kh"
    -o GlobalKnownHostsFile=/dev/null -p "$port")
  rm -f "$kh"
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" "${base[@]}" -o StrictHostKeyChecking=accept-new \
    -o HostKeyAlias=Interop-Alias -o UpdateHostKeys=yes "$DEST" true </dev/null 2>"$T/err"
  expect_eq "$kind HostKeyAlias accept-new: exit" 0 "$?" "$T/err"
  local names
  names=$(cut -d' ' -f1 "$kh" 2>/dev/null | sort -u | tr '\n' ' ')
  expect_eq "$kind HostKeyAlias: stored only under the alias" "interop-alias " "$names" "$kh"
  [ "$kind" = sshd ] && {
    # sshd announces all its host keys (hostkeys-00); UpdateHostKeys adds them under the alias.
    local n
    n=$(wc -l <"$kh")
    if [ "$n" -ge 2 ]; then pass "$kind UpdateHostKeys stores under the alias ($n keys)"; else fail "$kind UpdateHostKeys stores under the alias" "$n keys" "$kh" "$T/err"; fi
  }
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" "${base[@]}" -o StrictHostKeyChecking=yes \
    -o HostKeyAlias=interop-alias "$DEST" true </dev/null 2>"$T/err"
  expect_eq "$kind HostKeyAlias strict second connection" 0 "$?" "$T/err"
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" "${base[@]}" -o StrictHostKeyChecking=yes \
    "$DEST" true </dev/null 2>"$T/err"
  rc=$?
  expect_eq "$kind without the alias: refused under strict checking" 255 "$rc" "$T/err"
  grep -q "host key is known for \[$HOST\]:$port" "$T/err" &&
    pass "$kind without the alias: looked up as [$HOST]:$port" ||
    fail "$kind without the alias: looked up as [$HOST]:$port" "$(cat "$T/err")"
}

no_session_case() {  # no_session_case KIND PORT: -N stays up, runs nothing, SIGTERM -> 0
  local kind=$1 port=$2 pid rc
  rm -f "$T/marker"
  # Not under timeout(1): the SIGTERM must reach hashi itself, and timeout would report 143.
  client_opts
  "$HASHI_CLIENT" "${CLIENT_OPTS[@]}" -p "$port" -N "$DEST" </dev/null >/dev/null 2>"$T/err.N" &
  pid=$!
  sleep 2
  if kill -0 "$pid" 2>/dev/null; then pass "$kind -N stays connected"; else fail "$kind -N stays connected" "exited" "$T/err.N"; fi
  kill -TERM "$pid" 2>/dev/null
  ( sleep "$IT_TIMEOUT"; kill -KILL "$pid" 2>/dev/null ) &
  local guard=$!
  wait "$pid"
  rc=$?
  kill "$guard" 2>/dev/null
  expect_eq "$kind -N ends cleanly on SIGTERM" 0 "$rc" "$T/err.N"
}

# sshd: ForceCommand touches a marker for any session; -N must leave it absent.
start_sshd "ForceCommand touch $T/marker" || it_finish
run_client "$HASHI_CLIENT" "$SERVER_PORT" "$DEST" true </dev/null >/dev/null 2>"$T/err"
if [ -e "$T/marker" ]; then pass "sshd ForceCommand marker works for a session"; else fail "sshd ForceCommand marker works for a session" "no marker" "$T/err" "$SERVER_LOG"; fi
no_session_case sshd "$SERVER_PORT"
if [ -e "$T/marker" ]; then fail "sshd -N opened no session" "marker created" "$SERVER_LOG"; else pass "sshd -N opened no session"; fi
grep -q "Accepted publickey" "$SERVER_LOG" && pass "sshd -N authenticated" || fail "sshd -N authenticated" "" "$SERVER_LOG"
stop_server "$SERVER_PID"
start_sshd || it_finish
alias_case sshd "$SERVER_PORT"
stop_server "$SERVER_PID"

start_hashi_server || it_finish
alias_case hashi-server "$SERVER_PORT"
no_session_case hashi-server "$SERVER_PORT"
stop_server "$SERVER_PID"

it_finish
