#!/usr/bin/env bash
# Dropbear's dbclient and PuTTY's plink -> hashi-server: dbclient with chacha20-poly1305,
# aes128-ctr and aes256-ctr; plink pinned to our ed25519 host key with the server's default
# algorithms and with algorithms narrowed by hashi-server's -o flags; exit status and 8 MiB.
#
#   bash tests/interop/test_server_dropbear_putty.sh [BIN-DIR]
#   HASHI_SERVER=/usr/sbin/sshd bash tests/interop/test_server_dropbear_putty.sh  # check the harness
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$(hashi_server_path)" dbclient dropbearconvert plink puttygen ssh-keygen sha256sum timeout
it_setup
start_hashi_server || it_finish
P=$SERVER_PORT
LOG=$SERVER_LOG
DEST=$LOGIN@$HOST
make_blob "$T/blob" 8
want=$(sha <"$T/blob")

# --- dbclient: HOME is the temp dir (it writes ~/.ssh/known_hosts), -y -y accepts any host key
dropbearconvert openssh dropbear "$KEY" "$T/id_dropbear" >"$T/err" 2>&1 ||
  fail dropbearconvert "cannot convert the user key" "$T/err"
db() { HOME=$T timeout -k 5 "$IT_TIMEOUT" dbclient -y -y -i "$T/id_dropbear" -p "$P" "$@"; }
for c in chacha20-poly1305@openssh.com aes128-ctr aes256-ctr; do
  got=$(db -c "$c" "$DEST" 'echo ok' </dev/null 2>"$T/err")
  expect_eq "dbclient:$c" ok "$got" "$T/err" "$LOG"
done
for m in hmac-sha2-256; do  # Dropbear 2022.83 has no hmac-sha2-512
  got=$(db -c aes128-ctr -m "$m" "$DEST" 'echo ok' </dev/null 2>"$T/err")
  expect_eq "dbclient:aes128-ctr+$m" ok "$got" "$T/err" "$LOG"
done
db "$DEST" 'exit 7' </dev/null >/dev/null 2>"$T/err"
expect_eq "dbclient:exit-status-7" 7 $? "$T/err" "$LOG"
got=$(db "$DEST" sha256sum <"$T/blob" 2>"$T/err" | cut -d' ' -f1)
expect_eq "dbclient:push-8MiB" "$want" "$got" "$T/err" "$LOG"
got=$(db "$DEST" "cat '$T/blob'" </dev/null 2>"$T/err" | sha)
expect_eq "dbclient:pull-8MiB" "$want" "$got" "$T/err" "$LOG"

# --- plink: the user key as .ppk, the host key pinned by its SHA256 fingerprint
puttygen "$KEY" -O private -o "$T/id.ppk" >"$T/err" 2>&1 || fail puttygen "cannot convert the user key" "$T/err"
fp=$(ssh-keygen -lf "$T/host_ed25519.pub" | awk '{print $2}')
pl() {  # pl PORT ARGS...
  local port=$1
  shift
  HOME=$T timeout -k 5 "$IT_TIMEOUT" plink -batch -ssh -P "$port" -i "$T/id.ppk" -hostkey "$fp" "$@"
}
got=$(pl "$P" -v "$DEST" 'echo ok' </dev/null 2>"$T/err")
expect_eq "plink:defaults" ok "$got" "$T/err" "$LOG"
pl "$P" "$DEST" 'echo out; echo err >&2; exit 7' </dev/null >"$T/out" 2>"$T/err"
expect_eq "plink:exit-status-stderr" "7/out/err" "$?/$(cat "$T/out")/$(cat "$T/err")" "$LOG"
got=$(pl "$P" "$DEST" sha256sum <"$T/blob" 2>"$T/err" | cut -d' ' -f1)
expect_eq "plink:push-8MiB" "$want" "$got" "$T/err" "$LOG"
got=$(pl "$P" "$DEST" "cat '$T/blob'" </dev/null 2>"$T/err" | sha)
expect_eq "plink:pull-8MiB" "$want" "$got" "$T/err" "$LOG"
# a server whose algorithms are narrowed by -o on its command line: plink must land on them
# (and a plink pinned to the wrong host key must be refused)
for combo in "aes256-ctr ecdh-sha2-nistp256 AES-256 SDCTR" "aes128-gcm@openssh.com diffie-hellman-group14-sha256 AES-128 GCM"; do
  read -r c k label <<<"$combo"
  HASHI_SERVER_ARGS=(-o "Ciphers=$c" -o "KexAlgorithms=$k")
  start_hashi_server || continue
  HASHI_SERVER_ARGS=()
  pl "$SERVER_PORT" -v "$DEST" 'echo ok' </dev/null >"$T/out" 2>"$T/err"
  if [ "$(cat "$T/out")" = ok ] && grep -q "Initialised $label" "$T/err"; then pass "plink:server-o:$c+$k"
  else fail "plink:server-o:$c+$k" "want 'ok' and plink saying 'Initialised $label'" "$T/err" "$SERVER_LOG"; fi
  stop_server "$SERVER_PID"
done
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host" </dev/null
fp=$(ssh-keygen -lf "$T/other_host.pub" | awk '{print $2}')
got=$(pl "$P" "$DEST" 'echo ok' </dev/null 2>"$T/err")
expect_eq "plink:wrong-hostkey-refused" "" "$got" "$LOG"

it_finish
