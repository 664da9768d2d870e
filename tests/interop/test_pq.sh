#!/usr/bin/env bash
# Post-quantum hybrid key exchange against real peers (issue 10):
#  - OpenSSH 9.2 (this system): sntrup761x25519-sha512 and its @openssh.com name, ssh -> hashi-server
#    and hashi -> sshd; with no kex option each side lands on sntrup761x25519-sha512.
#  - OpenSSH 10 (a Debian 13 root from scripts/openssh10-root.sh, run with `chroot ROOT`):
#    mlkem768x25519-sha256 both ways; with no kex option each side lands on it; strict kex and
#    ext-info as OpenSSH 10's ssh sees them from hashi-server.
#  - hashi <-> hashi-server with each hybrid name, and with no option (mlkem768x25519-sha256).
# The OpenSSH 10 root must exist or be made (as root, once per machine): if it cannot, the test
# fails with the reason; it is never skipped. Its ssh/sshd read keys and config from a unique dir
# under ROOT/tmp, removed on exit.
#
#   bash tests/interop/test_pq.sh [BIN-DIR]
#   HASHI_CLIENT=ssh HASHI_SERVER=/usr/sbin/sshd bash tests/interop/test_pq.sh  # harness check:
#     the rows OpenSSH 9.2 can play pass, the mlkem768 rows with 9.2 as "hashi" must fail
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$HASHI_CLIENT" "$(hashi_server_path)" sshd ssh chroot timeout
it_setup
DEST=$LOGIN@$HOST

# --- the OpenSSH 10 root ----------------------------------------------------------------------
ROOT10_SCRIPT=$(dirname "$0")/../../scripts/openssh10-root.sh
if ! R=$(bash "$ROOT10_SCRIPT" 2>"$T/root10.err") || [ -z "$R" ] || [ ! -x "$R/usr/sbin/sshd" ]; then
  fail "openssh10-root" "could not make the OpenSSH 10 root with $ROOT10_SCRIPT: $(tr '\n' ' ' <"$T/root10.err")"
  it_finish
fi
if [ "$(id -u)" != 0 ]; then
  fail "openssh10-root" "running OpenSSH 10 from $R needs chroot, i.e. root (running as $LOGIN)"
  it_finish
fi
if ! V10=$(chroot "$R" /usr/bin/ssh -V 2>&1) || ! grep -q 'OpenSSH_10' <<<"$V10"; then
  fail "openssh10-root" "$R/usr/bin/ssh is not OpenSSH 10: $V10"
  it_finish
fi
echo "# OpenSSH 10 root: $R ($V10)"
CT=$(mktemp -d "$R/tmp/hashi-pq.XXXXXX") || { fail "openssh10-root" "mktemp in $R/tmp"; it_finish; }
CTREL=${CT#"$R"}  # the same dir as the chroot sees it
pq_cleanup() {
  it_cleanup
  [ -n "$CT" ] && [ -d "$CT" ] && rm -rf "$CT"
}
trap pq_cleanup EXIT
cp -p "$T/host_ed25519" "$T/host_ed25519.pub" "$T/host_ecdsa256" "$T/host_rsa" "$T/id_ed25519" \
  "$T/id_ed25519.pub" "$T/authorized_keys" "$CT/"
mkdir -p "$R/run/sshd"

# sshd of OpenSSH 10 inside the root (lib.sh's _start calls _launch_<kind>); logs at DEBUG1 so
# the chosen kex shows ("kex: algorithm: ...")
_launch_sshd10() {
  local cfg=$CT/sshd10.$SERVER_PORT.conf line
  {
    for line in "$@"; do echo "$line"; done
    echo "Port $SERVER_PORT"
    echo "ListenAddress $HOST"
    echo "HostKey $CTREL/host_ed25519"
    echo "HostKey $CTREL/host_ecdsa256"
    echo "HostKey $CTREL/host_rsa"
    echo "AuthorizedKeysFile $CTREL/authorized_keys"
    echo "PidFile $CTREL/sshd10.$SERVER_PORT.pid"
    echo "LogLevel DEBUG1"
    echo "StrictModes no"
    echo "SetEnv SHLVL=1"
    _sshd_only_config
  } >"$cfg"
  cp "$cfg" "$SERVER_CFG"
  chroot "$R" /usr/sbin/sshd -D -e -f "$CTREL/sshd10.$SERVER_PORT.conf" 2>>"$SERVER_LOG" &
}
start_sshd10() { _start sshd10 "$@"; }

ssh10() {  # ssh10 PORT ARGS...: OpenSSH 10's ssh from the root, with the common options
  local port=$1
  shift
  timeout -k 5 "$IT_TIMEOUT" chroot "$R" /usr/bin/ssh -F /dev/null -i "$CTREL/id_ed25519" \
    -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -p "$port" "$@"
}
ssh92() { run_client ssh "$@"; }       # ssh92 PORT ARGS...
hashi() { run_client "$HASHI_CLIENT" "$@"; }  # hashi PORT ARGS...

# kex_of LOG [FROM-LINE]: the first "kex: algorithm: X" in LOG after line FROM-LINE
kex_of() {
  tail -n +"$((${2:-0} + 1))" "$1" 2>/dev/null | tr -d '\r' | sed -n 's/.*kex: algorithm: \([^ ]*\).*/\1/p' | head -n 1
}
lines() { wc -l <"$1" 2>/dev/null || echo 0; }

# try NAME CLIENT PORT SERVER-LOG ARGS...: 'echo ok' must come back
try_echo() {
  local name=$1 client=$2 port=$3 log=$4 got
  shift 4
  got=$("$client" "$port" "$@" "$DEST" 'echo ok' 2>"$T/err" </dev/null)
  expect_eq "$name" ok "$got" "$T/err" "$log"
}

# try_kex NAME CLIENT PORT SERVER-LOG WANT-KEX WHERE ARGS...: 'echo ok' comes back and the kex
# was WANT-KEX, read from the client's -v output (WHERE=client) or the server's log (server)
try_kex() {
  local name=$1 client=$2 port=$3 log=$4 want=$5 where=$6 got from k
  shift 6
  from=$(lines "$log")
  got=$("$client" "$port" -v "$@" "$DEST" 'echo ok' 2>"$T/err" </dev/null)
  if [ "$where" = client ]; then k=$(kex_of "$T/err"); else sleep 0.2; k=$(kex_of "$log" "$from"); fi
  expect_eq "$name" "ok/$want" "$got/$k" "$T/err" "$log"
}

SNTRUP=sntrup761x25519-sha512
SNTRUP_OSSH=sntrup761x25519-sha512@openssh.com
MLKEM=mlkem768x25519-sha256

# --- servers: hashi-server (its defaults), sshd 9.2 (its defaults), sshd 10 in the root -------
start_hashi_server "LogLevel DEBUG1" || it_finish
HP=$SERVER_PORT HLOG=$SERVER_LOG
start_sshd "LogLevel DEBUG1" || it_finish
SP=$SERVER_PORT SLOG=$SERVER_LOG
start_sshd10 || it_finish
S10P=$SERVER_PORT S10LOG=$SERVER_LOG

# --- OpenSSH 9.2 ssh -> hashi-server
try_kex "ssh92->hashi-server:$SNTRUP_OSSH" ssh92 "$HP" "$HLOG" "$SNTRUP_OSSH" client -o KexAlgorithms=$SNTRUP_OSSH
try_kex "ssh92->hashi-server:$SNTRUP" ssh92 "$HP" "$HLOG" "$SNTRUP" client -o KexAlgorithms=$SNTRUP
try_kex "ssh92->hashi-server:default-lands-on-$SNTRUP" ssh92 "$HP" "$HLOG" "$SNTRUP" client

# --- hashi -> OpenSSH 9.2 sshd
try_kex "hashi->sshd92:$SNTRUP_OSSH" hashi "$SP" "$SLOG" "$SNTRUP_OSSH" server -o KexAlgorithms=$SNTRUP_OSSH
try_kex "hashi->sshd92:$SNTRUP" hashi "$SP" "$SLOG" "$SNTRUP" server -o KexAlgorithms=$SNTRUP
try_kex "hashi->sshd92:default-lands-on-$SNTRUP" hashi "$SP" "$SLOG" "$SNTRUP" server

# --- hashi -> OpenSSH 10 sshd
try_kex "hashi->sshd10:$MLKEM" hashi "$S10P" "$S10LOG" "$MLKEM" server -o KexAlgorithms=$MLKEM
try_kex "hashi->sshd10:$SNTRUP" hashi "$S10P" "$S10LOG" "$SNTRUP" server -o KexAlgorithms=$SNTRUP
try_kex "hashi->sshd10:default-lands-on-$MLKEM" hashi "$S10P" "$S10LOG" "$MLKEM" server

# --- OpenSSH 10 ssh -> hashi-server
try_kex "ssh10->hashi-server:$MLKEM" ssh10 "$HP" "$HLOG" "$MLKEM" client -o KexAlgorithms=$MLKEM
try_kex "ssh10->hashi-server:$SNTRUP" ssh10 "$HP" "$HLOG" "$SNTRUP" client -o KexAlgorithms=$SNTRUP
try_kex "ssh10->hashi-server:default-lands-on-$MLKEM" ssh10 "$HP" "$HLOG" "$MLKEM" client
# strict kex (CVE-2023-48795 countermeasure) and ext-info, as OpenSSH 10's ssh reports them
got=$(ssh10 "$HP" -vvv "$DEST" 'echo ok' 2>"$T/err" </dev/null)
if [ "$got" = ok ] && grep -q 'will use strict KEX' "$T/err"; then pass "ssh10->hashi-server:strict-kex"
else fail "ssh10->hashi-server:strict-kex" "got '$got'; no 'will use strict KEX' in ssh -vvv" "$T/err" "$HLOG"; fi
if [ "$got" = ok ] && grep -q 'kex_ext_info_client_parse: server-sig-algs=<' "$T/err"; then
  pass "ssh10->hashi-server:ext-info-server-sig-algs"
else
  fail "ssh10->hashi-server:ext-info-server-sig-algs" "got '$got'; no server-sig-algs in ssh -vvv" "$T/err" "$HLOG"
fi
# and its rsa-sha2 user-key signature, which needs server-sig-algs to be honoured
cp -p "$T/id_rsa" "$CT/id_rsa"
got=$(timeout -k 5 "$IT_TIMEOUT" chroot "$R" /usr/bin/ssh -F /dev/null -i "$CTREL/id_rsa" \
  -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -p "$HP" "$DEST" 'echo ok' 2>"$T/err" </dev/null)
expect_eq "ssh10->hashi-server:rsa-user-key-after-ext-info" ok "$got" "$T/err" "$HLOG"

# --- hashi <-> hashi-server
for k in $MLKEM $SNTRUP $SNTRUP_OSSH; do
  try_kex "hashi->hashi-server:$k" hashi "$HP" "$HLOG" "$k" client -o KexAlgorithms=$k
done
try_kex "hashi->hashi-server:default-lands-on-$MLKEM" hashi "$HP" "$HLOG" "$MLKEM" client

# --- the harness: OpenSSH 10 against itself in the root (if this fails, so would the rest)
try_kex "harness:ssh10->sshd10:default-$MLKEM" ssh10 "$S10P" "$S10LOG" "$MLKEM" client

it_finish
