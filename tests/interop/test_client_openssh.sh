#!/usr/bin/env bash
# hashi (client) -> OpenSSH sshd with every algorithm enabled: every kex x cipher, every MAC,
# every host-key algorithm (checked against a strict known_hosts), ed25519/ecdsa/rsa user keys,
# exit status, stderr, 16 MiB both ways, a command that ignores a flood of stdin, -q, -T, -F,
# -o Port=, -l, and 255 on connection refused and on authentication failure.
#
#   bash tests/interop/test_client_openssh.sh [BIN-DIR]
#   HASHI_CLIENT=ssh bash tests/interop/test_client_openssh.sh     # check the harness itself
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$HASHI_CLIENT" sshd sha256sum timeout
it_setup
start_sshd "${ALL_ALGO_LINES[@]}" || { IT_FAILED=$((IT_FAILED + 1)); it_finish; }
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

# --- kex x cipher: the full product when connections are fast, else each list plus a diagonal
start=${EPOCHREALTIME/./}
for k in "${ALL_KEX[@]}"; do
  try_echo "kex:$k+${ALL_CIPHERS[0]}" -o KexAlgorithms="$k" -c "${ALL_CIPHERS[0]}"
done
per_conn_us=$(( (${EPOCHREALTIME/./} - start) / ${#ALL_KEX[@]} ))
if [ "$per_conn_us" -lt 300000 ]; then
  for c in "${ALL_CIPHERS[@]:1}"; do
    for k in "${ALL_KEX[@]}"; do try_echo "kex:$k+$c" -o KexAlgorithms="$k" -c "$c"; done
  done
else
  echo "# $((per_conn_us / 1000)) ms per connection: kex and cipher lists plus a diagonal, not the full product"
  for c in "${ALL_CIPHERS[@]:1}"; do
    try_echo "cipher:$c+${ALL_KEX[0]}" -o KexAlgorithms="${ALL_KEX[0]}" -c "$c"
  done
  for i in "${!ALL_KEX[@]}"; do
    ((i == 0)) && continue
    c=${ALL_CIPHERS[i % ${#ALL_CIPHERS[@]}]}
    [ "$c" = "${ALL_CIPHERS[0]}" ] && c=${ALL_CIPHERS[1]}
    try_echo "kex:${ALL_KEX[i]}+$c" -o KexAlgorithms="${ALL_KEX[i]}" -c "$c"
  done
fi

# --- MACs with both CTR key sizes
for m in "${ALL_MACS[@]}"; do
  for c in aes128-ctr aes256-ctr; do try_echo "mac:$m+$c" -c "$c" -m "$m"; done
done

# --- host-key algorithms: the key the server proves must be the one in a strict known_hosts
declare -A hostkey_file=([ssh-ed25519]=host_ed25519 [ecdsa-sha2-nistp256]=host_ecdsa256
  [ecdsa-sha2-nistp384]=host_ecdsa384 [ecdsa-sha2-nistp521]=host_ecdsa521
  [rsa-sha2-256]=host_rsa [rsa-sha2-512]=host_rsa)
for h in "${ALL_HOSTKEY_ALGS[@]}"; do
  echo "[$HOST]:$P $(cut -d' ' -f1,2 "$T/${hostkey_file[$h]}.pub")" >"$T/known_hosts.$h"
  KNOWN_HOSTS=$T/known_hosts.$h try_echo "hostkey:$h" -o HostKeyAlgorithms="$h"
done
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

# --- -T: no terminal for the command
got=$(hc -T "$DEST" 'tty' 2>"$T/err" </dev/null)
expect_eq "no-tty" "not a tty" "$got" "$T/err" "$LOG"

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
