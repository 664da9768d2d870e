#!/usr/bin/env bash
# Re-keying under load: 1 GiB each way with RekeyLimit 1M, hashi as client (against OpenSSH sshd,
# `hashi -o RekeyLimit=1M`) and as server (against OpenSSH ssh, `RekeyLimit 1M` in its config);
# the checksums must match and the peer's log must show the re-keys really happened.
#
#   bash tests/interop/test_rekey.sh [BIN-DIR]
#   HASHI_CLIENT=ssh HASHI_SERVER=/usr/sbin/sshd bash tests/interop/test_rekey.sh  # check the harness
#   REKEY_MIB=256 ...                                                              # a smaller run
. "$(dirname "$0")/lib.sh" "$@"
need_prog "$HASHI_CLIENT" "$(hashi_server_path)" ssh sshd sha256sum timeout
MIB=${REKEY_MIB:-1024}
# a 1M limit re-keys about once per MiB (OpenSSH as the asked side manages about half of that
# while data keeps flowing); demand a quarter, so that an implementation that counts a little
# differently passes and one that never re-keys does not
MIN_REKEYS=$((MIB / 4))
IT_TIMEOUT=${IT_TIMEOUT_REKEY:-420}
# curve25519 on every server: what hashi speaks with OpenSSH, and far cheaper per re-key than
# OpenSSH's default sntrup761x25519 when OpenSSH is on both sides (the harness check)
KEX="KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org"
it_setup
make_blob "$T/blob" "$MIB"
want=$(sha <"$T/blob")

rekeys() { grep -c 'SSH2_MSG_KEXINIT received' "$1"; }  # rekeys LOG: kex count (first one included)
check_transfer() {  # check_transfer NAME LOG-WITH-KEXINITS ERR-FILE SERVER-LOG  (sum in $T/NAME.sum)
  local name=$1 log=$2 err=$3 slog=$4 n got
  got=$(cat "$T/$name.sum")
  n=$(rekeys "$log")
  if [ "$got" != "$want" ]; then
    fail "$name" "checksum: want $want, got '${got:0:64}' (kexinits seen: $n)" "$err" "$slog"
  elif [ "$n" -lt "$MIN_REKEYS" ]; then
    fail "$name" "only $n KEXINITs received for $MIB MiB with RekeyLimit 1M (want >= $MIN_REKEYS)" "$err" "$slog"
  else
    pass "$name ($((n - 1)) re-keys)"
  fi
}

# The four transfers run at once: re-keying is bound by round trips and process wake-ups, not by
# the CPU, so this keeps the wall time near that of the slowest one. Each has its own server so
# that each log counts one connection.
# hashi -> sshd: the client asks for the re-keys; sshd's debug log counts the KEXINITs
start_sshd "LogLevel DEBUG1" "$KEX" || it_finish
P_CPUSH=$SERVER_PORT L_CPUSH=$SERVER_LOG
start_sshd "LogLevel DEBUG1" "$KEX" || it_finish
P_CPULL=$SERVER_PORT L_CPULL=$SERVER_LOG
# ssh -> hashi-server with RekeyLimit 1M: the server asks; ssh -vvv counts the KEXINITs
start_hashi_server "RekeyLimit 1M" "$KEX" || it_finish
P_S=$SERVER_PORT L_S=$SERVER_LOG

N=${MIB}MiB
# each transfer is a function run as a tracked background job (killed with its children on exit)
t_cpush() { run_client "$HASHI_CLIENT" "$P_CPUSH" -o RekeyLimit=1M "$LOGIN@$HOST" sha256sum <"$T/blob" 2>"$T/err.cpush" | cut -d' ' -f1 >"$T/client-push-$N.sum"; }
t_cpull() { run_client "$HASHI_CLIENT" "$P_CPULL" -o RekeyLimit=1M "$LOGIN@$HOST" "cat '$T/blob'" </dev/null 2>"$T/err.cpull" | sha >"$T/client-pull-$N.sum"; }
t_spush() { run_client ssh "$P_S" -vvv "$LOGIN@$HOST" sha256sum <"$T/blob" 2>"$T/vvv.push" | cut -d' ' -f1 >"$T/server-push-$N.sum"; }
t_spull() { run_client ssh "$P_S" -vvv "$LOGIN@$HOST" "cat '$T/blob'" </dev/null 2>"$T/vvv.pull" | sha >"$T/server-pull-$N.sum"; }
for t in t_cpush t_cpull t_spush t_spull; do bg_job "$t"; done
for j in "${IT_JOBS[@]}"; do wait "$j"; done

check_transfer "client-push-$N" "$L_CPUSH" "$T/err.cpush" "$L_CPUSH"
check_transfer "client-pull-$N" "$L_CPULL" "$T/err.cpull" "$L_CPULL"
check_transfer "server-push-$N" "$T/vvv.push" "$T/vvv.push" "$L_S"
check_transfer "server-pull-$N" "$T/vvv.pull" "$T/vvv.pull" "$L_S"

it_finish
