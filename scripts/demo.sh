#!/usr/bin/env bash
# `make demo`: a hashi-server on 127.0.0.1:2222 with throw-away keys, the hashi client talking to
# it, step by step; everything lives in a temp dir removed at the end. Exits 0 only if every step
# worked. Runs as the current user (no root needed, ~/.ssh untouched).
#
#   scripts/demo.sh                                         # after make build
#   HASHI_CLIENT=ssh HASHI_SERVER=/usr/sbin/sshd scripts/demo.sh   # the same story with OpenSSH
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
HASHI_CLIENT=${HASHI_CLIENT:-$BIN/hashi}
HASHI_SERVER=${HASHI_SERVER:-$BIN/hashi-server}
PORT=${DEMO_PORT:-2222}
HOST=127.0.0.1
LOGIN=$(id -un)

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else B= G= R= D= N=; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
good() { printf '    %s%s%s\n' "$G" "$*" "$N"; }
show() { sed "s/^/    $D|$N /"; }
die() { printf '    %sFAILED: %s%s\n' "$R" "$*" "$N"; [ -n "${LOG:-}" ] && [ -s "$LOG" ] && { echo "    server log (last lines):"; tail -n 15 "$LOG" | show; }; exit 1; }

for p in "$HASHI_CLIENT" "$HASHI_SERVER"; do
  command -v "$p" >/dev/null 2>&1 || { echo "demo: $p is missing; run 'make build' first" >&2; exit 1; }
done
case $HASHI_SERVER in /*) ;; *) HASHI_SERVER=$(readlink -f "$(command -v "$HASHI_SERVER")") ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/hashi-demo.XXXXXX") || exit 1
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "1. Throw-away keys in $T"
if [ -x "$BIN/hashi-keygen" ] && [ -z "${DEMO_KEYGEN:-}" ]; then KEYGEN=$BIN/hashi-keygen; else KEYGEN=${DEMO_KEYGEN:-ssh-keygen}; fi
for k in host_ed25519 id_ed25519; do
  "$KEYGEN" -q -t ed25519 -N '' -C "hashi-demo-$k" -f "$T/$k" </dev/null >/dev/null 2>"$T/keygen.err" ||
    { show <"$T/keygen.err"; die "$KEYGEN could not make $k"; }
done
cp "$T/id_ed25519.pub" "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
good "made with $(basename "$KEYGEN"): host key and user key (ed25519)"
HOST_FP=$(ssh-keygen -lf "$T/host_ed25519.pub" 2>/dev/null || "$KEYGEN" -lf "$T/host_ed25519.pub")
echo "    host key: $HOST_FP"

step "2. Server config (sshd_config syntax)"
{
  echo "Port $PORT"
  echo "ListenAddress $HOST"
  echo "HostKey $T/host_ed25519"
  echo "AuthorizedKeysFile $T/authorized_keys"
  echo "PubkeyAuthentication yes"
  echo "PidFile $T/server.pid"
  echo "LogLevel VERBOSE"
  echo "StrictModes no"
  case $(basename "$HASHI_SERVER") in sshd*) printf '%s\n' "UsePAM no" "PasswordAuthentication no" "KbdInteractiveAuthentication no" ;; esac
  if [ -x "$BIN/hashi-sftp-server" ]; then echo "Subsystem sftp $BIN/hashi-sftp-server"; fi
} >"$T/server_config"
show <"$T/server_config"

step "3. Start $(basename "$HASHI_SERVER") -D -e -f server_config (log: server.log)"
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  die "something already listens on $HOST:$PORT (set DEMO_PORT=... to use another port)"
fi
LOG=$T/server.log
"$HASHI_SERVER" -D -e -f "$T/server_config" 2>"$LOG" &
SERVER_PID=$!
for _ in $(seq 1 250); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start"
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
  sleep 0.02
done
(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null || die "the server does not listen on $HOST:$PORT"
good "listening on $HOST:$PORT (pid $SERVER_PID)"

OPTS=(-F /dev/null -p "$PORT" -i "$T/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
  -o "UserKnownHostsFile=$T/known_hosts")
run() { timeout -k 5 30 "$HASHI_CLIENT" "${OPTS[@]}" "$@"; }

if command -v expect >/dev/null 2>&1 && [ -z "${DEMO_NO_PROMPT:-}" ]; then
  step "4. First contact on a terminal: the client shows the host key's fingerprint and asks"
  echo "    \$ hashi -v $LOGIN@$HOST whoami      (expect answers 'yes' for you)"
  cat >"$T/prompt.exp" <<'EXP'
set timeout 30
spawn -noecho {*}$argv
expect {
  -re {\(yes/no[^)]*\)\? ?} { send "yes\r"; exp_continue }
  timeout { exit 124 }
  eof
}
catch wait result
exit [lindex $result 3]
EXP
  # no BatchMode here (it would refuse to ask); publickey only, so nothing else can prompt
  expect "$T/prompt.exp" timeout -k 5 40 "$HASHI_CLIENT" -F /dev/null -p "$PORT" -i "$T/id_ed25519" \
    -o IdentitiesOnly=yes -o PreferredAuthentications=publickey -o StrictHostKeyChecking=ask \
    -o "UserKnownHostsFile=$T/known_hosts" -v "$LOGIN@$HOST" whoami >"$T/v.err" 2>&1 ||
    { tr -d '\r' <"$T/v.err" | tail -n 20 | show; die "the first connection failed"; }
  tr -d '\r' <"$T/v.err" >"$T/v.txt" && mv "$T/v.txt" "$T/v.err"
  grep -Ei 'authenticity|fingerprint is|continue connecting|permanently added' "$T/v.err" | show
  grep -qx "$LOGIN" "$T/v.err" || die "whoami did not print '$LOGIN'"
  good "logged in as $LOGIN"
else
  step "4. First contact: the client learns the host key (StrictHostKeyChecking=accept-new)"
  echo "    \$ hashi -v -o StrictHostKeyChecking=accept-new $LOGIN@$HOST whoami"
  out=$(run -v -o StrictHostKeyChecking=accept-new "$LOGIN@$HOST" whoami 2>"$T/v.err") ||
    { show <"$T/v.err"; die "the first connection failed"; }
  echo "$out" | show
  [ "$out" = "$LOGIN" ] || die "whoami said '$out', expected '$LOGIN'"
  good "logged in as $out"
  grep -Ei 'permanently added|added .* known' "$T/v.err" | head -n 2 | show
fi
algos=$(grep -Ei 'kex: (algorithm|host key algorithm|server->client|client->server)|strict kex' "$T/v.err" | head -n 8)
if [ -n "$algos" ]; then echo "    negotiated (from -v):"; echo "$algos" | show; fi
echo "    known_hosts now holds:"
cut -c1-90 "$T/known_hosts" 2>/dev/null | show
[ -s "$T/known_hosts" ] || die "known_hosts was not written"

step "5. Second contact: the key must match known_hosts (StrictHostKeyChecking=yes)"
out=$(run -o StrictHostKeyChecking=yes "$LOGIN@$HOST" 'echo "hello from $(hostname)"' 2>"$T/err") ||
  { show <"$T/err"; die "the known host was not recognised"; }
echo "$out" | show
good "host key verified"

step "6. A pipe through the connection"
echo "    \$ printf 'hello\\nworld\\n' | hashi ... 'tr a-z A-Z'"
out=$(printf 'hello\nworld\n' | run -o StrictHostKeyChecking=yes "$LOGIN@$HOST" 'tr a-z A-Z' 2>"$T/err")
echo "$out" | show
[ "$out" = $'HELLO\nWORLD' ] || { show <"$T/err"; die "expected HELLO/WORLD"; }
echo "    \$ seq 1 100000 | hashi ... sha256sum"
local_sum=$(seq 1 100000 | sha256sum | cut -d' ' -f1)
remote_sum=$(seq 1 100000 | run -o StrictHostKeyChecking=yes "$LOGIN@$HOST" sha256sum 2>"$T/err" | cut -d' ' -f1)
echo "    remote: $remote_sum"
echo "    local:  $local_sum"
[ "$remote_sum" = "$local_sum" ] || { show <"$T/err"; die "checksums differ"; }
good "checksums agree ($(seq 1 100000 | wc -c) bytes)"

step "7. Exit status travels back"
run -o StrictHostKeyChecking=yes "$LOGIN@$HOST" 'exit 3' 2>"$T/err"
rc=$?
echo "    \$ hashi ... 'exit 3'; echo \$?  ->  $rc"
[ "$rc" = 3 ] || { show <"$T/err"; die "exit status $rc, expected 3"; }
good "exit status 3"

if [ -x "$BIN/hashi-sftp" ] && [ -x "$BIN/hashi-sftp-server" ] && [ -z "${DEMO_NO_SFTP:-}" ]; then
  step "8. SFTP: upload and download a file with hashi-sftp"
  head -c 1048576 /dev/urandom >"$T/upload.bin"
  printf 'put %s %s\nget %s %s\n' "$T/upload.bin" "$T/remote.bin" "$T/remote.bin" "$T/download.bin" >"$T/batch"
  timeout -k 5 30 "$BIN/hashi-sftp" -F /dev/null -P "$PORT" -i "$T/id_ed25519" -o IdentitiesOnly=yes \
    -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$T/known_hosts" \
    -b "$T/batch" "$LOGIN@$HOST" 2>&1 | show
  cmp -s "$T/upload.bin" "$T/download.bin" || die "the file did not survive the round trip"
  good "1 MiB up and down, identical"
fi

step "Server log: authentication"
grep -E 'Accepted publickey|Server listening|Starting session' "$LOG" | head -n 8 | show
grep -q 'Accepted publickey' "$LOG" || die "no 'Accepted publickey' line in the server log"

step "Stop the server"
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
good "stopped"
printf '\n%sdemo: all steps worked%s\n' "$G$B" "$N"
