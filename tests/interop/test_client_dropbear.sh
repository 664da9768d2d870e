#!/usr/bin/env bash
# hashi (client) -> Dropbear server: chacha20-poly1305, aes128-ctr, aes256-ctr; curve25519 and
# ECDH kex; the ed25519 host key (strict known_hosts); exit status; 8 MiB both ways.
#
# Dropbear reads only the login user's ~/.ssh/authorized_keys, so as root the test logs in as a
# dedicated throw-away user (hashitest, created once and reused); an ordinary user cannot run it
# without touching their real ~/.ssh: the test exits 77, which ctest reports as Skipped.
#
#   bash tests/interop/test_client_dropbear.sh [BIN-DIR]
#   HASHI_CLIENT=ssh bash tests/interop/test_client_dropbear.sh     # check the harness itself
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$HASHI_CLIENT" dropbear dropbearconvert sha256sum timeout
it_setup
dropbear_login
start_dropbear || it_finish
P=$SERVER_PORT
LOG=$SERVER_LOG
DEST=$DROPBEAR_LOGIN@$HOST
echo "[$HOST]:$P $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$T/known_hosts"

hc() { KNOWN_HOSTS=$T/known_hosts run_client "$HASHI_CLIENT" "$P" "$@"; }

try_echo() {  # try_echo NAME ARGS...
  local name=$1 got
  shift
  got=$(hc "$@" "$DEST" 'echo ok' 2>"$T/err")
  expect_eq "$name" ok "$got" "$T/err" "$LOG"
}

for c in chacha20-poly1305@openssh.com aes128-ctr aes256-ctr; do
  try_echo "cipher:$c" -c "$c"
done
for k in curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256 ecdh-sha2-nistp384 ecdh-sha2-nistp521; do
  try_echo "kex:$k" -o KexAlgorithms="$k"
done
try_echo "hostkey:ssh-ed25519" -o HostKeyAlgorithms=ssh-ed25519

hc "$DEST" 'echo out; echo err >&2; exit 7' >"$T/out" 2>"$T/err"
rc=$?
expect_eq "exit-status-7" 7 "$rc" "$T/err" "$LOG"
if [ "$(cat "$T/out")" = out ] && grep -qx err "$T/err"; then pass stderr-separate
else fail stderr-separate "stdout '$(head -c 200 "$T/out")', stderr '$(head -c 200 "$T/err")'" "$LOG"; fi

make_blob "$T/blob" 8
chmod 644 "$T/blob"
want=$(sha <"$T/blob")
got=$(hc "$DEST" sha256sum <"$T/blob" 2>"$T/err" | cut -d' ' -f1)
expect_eq "push-8MiB" "$want" "$got" "$T/err" "$LOG"
got=$(hc "$DEST" "cat '$T/blob'" </dev/null 2>"$T/err" | sha)
expect_eq "pull-8MiB" "$want" "$got" "$T/err" "$LOG"
got=$(hc -c aes256-ctr "$DEST" cat <"$T/blob" 2>"$T/err" | sha)
expect_eq "echo-8MiB-aes256-ctr" "$want" "$got" "$T/err" "$LOG"

it_finish
