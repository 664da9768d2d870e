#!/usr/bin/env bash
# `make bench`: figures for hashi beside OpenSSH's from the same run, on 127.0.0.1.
#   1. build/bench/bench_packet (the packet path against the raw OpenSSL primitives), if built
#   2. one stream, push and pull, for chacha20-poly1305 and aes128-gcm: hashi -> hashi-server
#      beside ssh -> sshd; MB/s and the client's CPU seconds (user+sys)
#   3. connection setup: sequential `client ... true` (ed25519 host key, curve25519), conn/s
#   4. constant-time check of the KEMs (scripts/ct-check.sh under valgrind)
#   5. handshakes per second for mlkem768x25519-sha256, sntrup761x25519-sha512 and
#      curve25519-sha256 (BENCH_CONNS each, default 30), beside OpenSSH 9.2 / OpenSSH 10
#
#   scripts/bench.sh                                       # after make build
#   HASHI_CLIENT=ssh HASHI_SERVER=/usr/sbin/sshd scripts/bench.sh  # both columns OpenSSH (harness check)
#   BENCH_MIB=256 BENCH_CONNS=20 scripts/bench.sh          # a shorter run
# Everything lives in a temp dir removed on exit; ~/.ssh and the system sshd are not touched.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/interop/lib.sh" "${BIN:-$ROOT/build/bin}"
# A benchmark, not a test: it has no checks to count, so the harness's "ended without
# it_finish" guard does not apply.
IT_FINISHED=1
MIB=${BENCH_MIB:-1024}
CONNS=${BENCH_CONNS:-50}
IT_TIMEOUT=${BENCH_TIMEOUT:-600}
CIPHERS=(chacha20-poly1305@openssh.com aes128-gcm@openssh.com)

echo "hashi bench: $(nproc) cores, $(uname -sr), $(ssh -V 2>&1)"

# --- 1. the packet path ----------------------------------------------------------------------
echo
echo "== 1. packet path (build/bench/bench_packet)"
BENCH_PACKET=${BENCH_PACKET:-$ROOT/build/bench/bench_packet}
if [ -x "$BENCH_PACKET" ]; then
  "$BENCH_PACKET" 2>&1 || echo "(bench_packet exited with status $?)"
else
  echo "not built ($BENCH_PACKET missing); skipped"
fi

# --- set-up ------------------------------------------------------------------------------------
have_hashi=1
for p in "$HASHI_CLIENT" "$(hashi_server_path)"; do
  command -v "$p" >/dev/null 2>&1 || { echo "note: $p is missing: the hashi column stays empty"; have_hashi=0; }
done
command -v /usr/bin/time >/dev/null 2>&1 || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
it_setup
HOSTKEYS=("$T/host_ed25519")
ALGOS=("Ciphers $(_join "${CIPHERS[@]}")" "KexAlgorithms curve25519-sha256" "HostKeyAlgorithms ssh-ed25519")
start_sshd "${ALGOS[@]}" || exit 1
OPENSSH_PORT=$SERVER_PORT
HASHI_PORT=
if [ "$have_hashi" = 1 ]; then
  # a heavy ~/.bashrc would dominate the connection figure; sshd is told to skip it (SetEnv
  # SHLVL=1, see lib.sh), and so is hashi-server if its config accepts SetEnv
  extra=()
  SERVER_PORT=$(pick_port)
  { hashi_server_config "${ALGOS[@]}" "SetEnv SHLVL=1"; } >"$T/probe.conf"
  if timeout 20 "$(hashi_server_path)" -t -f "$T/probe.conf" >"$T/probe.out" 2>&1 && ! grep -qi setenv "$T/probe.out"; then
    extra=("SetEnv SHLVL=1")
  else
    echo "note: hashi-server does not take SetEnv; its sessions run the login shell's rc files (OpenSSH's do not)"
  fi
  if start_hashi_server "${ALGOS[@]}" ${extra[@]+"${extra[@]}"}; then HASHI_PORT=$SERVER_PORT
  else echo "note: hashi-server did not start: the hashi column stays empty"; fi
fi

# measure CLIENT PORT ARGS...: runs the client once under /usr/bin/time, its output dropped;
# prints "elapsed-seconds cpu-seconds" or "- -"
measure() {
  local prog=$1 port=$2
  shift 2
  client_opts
  if /usr/bin/time -f "%e %U %S" -o "$T/time" timeout -k 5 "$IT_TIMEOUT" "$prog" "${CLIENT_OPTS[@]}" \
    -o LogLevel=ERROR -p "$port" "$@" >/dev/null 2>"$T/bench.err"; then
    awk '{printf "%s %.2f\n", $1, $2 + $3}' "$T/time"
  else
    echo "- -"
    tail -n 3 "$T/bench.err" >&2
  fi
}
push() { head -c $((MIB * 1048576)) /dev/zero | measure "$@" "$LOGIN@$HOST" 'cat >/dev/null'; }
pull() { measure "$@" "$LOGIN@$HOST" "head -c $((MIB * 1048576)) /dev/zero" </dev/null; }
mbps() { [ "$1" = - ] && echo - || awk -v s="$1" -v m="$MIB" 'BEGIN { printf "%.0f", m * 1.048576 / s }'; }
ratio() { { [ "$1" = - ] || [ "$2" = - ]; } && echo - || awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# --- 2. one stream -----------------------------------------------------------------------------
echo
echo "== 2. one stream, $MIB MiB over loopback (MB/s; client CPU seconds user+sys)"
printf '%-36s %12s %9s %12s %9s %8s\n' test "hashi MB/s" "cpu s" "OpenSSH MB/s" "cpu s" speed
for c in "${CIPHERS[@]}"; do
  for dir in push pull; do
    if [ -n "$HASHI_PORT" ]; then read -r h_s h_cpu < <("$dir" "$HASHI_CLIENT" "$HASHI_PORT" -c "$c"); else h_s=- h_cpu=-; fi
    read -r o_s o_cpu < <("$dir" ssh "$OPENSSH_PORT" -c "$c")
    h=$(mbps "$h_s") o=$(mbps "$o_s")
    printf '%-36s %12s %9s %12s %9s %8s\n' "$dir $c" "$h" "$h_cpu" "$o" "$o_cpu" "$(ratio "$h" "$o")"
  done
done

# --- 3. connection setup -----------------------------------------------------------------------
conn_rate() {  # conn_rate CLIENT PORT: sequential `true` sessions per second, or "-"
  local prog=$1 port=$2 i start end
  client_opts
  start=$EPOCHREALTIME
  for ((i = 0; i < CONNS; i++)); do
    timeout -k 5 30 "$prog" "${CLIENT_OPTS[@]}" -o LogLevel=ERROR -p "$port" "$LOGIN@$HOST" true </dev/null 2>"$T/bench.err" ||
      { tail -n 3 "$T/bench.err" >&2; echo -; return; }
  done
  end=$EPOCHREALTIME
  awk -v n="$CONNS" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }'
}
echo
echo "== 3. connection setup: $CONNS sequential '$LOGIN@$HOST true' (ed25519 host key, curve25519-sha256)"
printf '%-36s %12s %12s %8s\n' test "hashi" "OpenSSH" speed
if [ -n "$HASHI_PORT" ]; then h=$(conn_rate "$HASHI_CLIENT" "$HASHI_PORT"); else h=-; fi
o=$(conn_rate ssh "$OPENSSH_PORT")
printf '%-36s %12s %12s %8s\n' "connections/s" "$h" "$o" "$(ratio "$h" "$o")"
echo
echo "hashi column: $HASHI_CLIENT -> $(hashi_server_path); OpenSSH column: ssh -> $SSHD"

# --- 4. constant-time check of the KEMs ------------------------------------------------------
echo
echo "== 4. constant-time check of KEM decapsulation/encapsulation (scripts/ct-check.sh, valgrind)"
"$ROOT/scripts/ct-check.sh" || echo "(ct-check failed: see the report above)"

# --- 5. handshakes per second by key exchange ------------------------------------------------
# hashi -> hashi-server beside ssh -> sshd for each method: OpenSSH 9.2 (this system) for
# sntrup761x25519-sha512 and curve25519-sha256, OpenSSH 10 (the Debian 13 root of
# scripts/openssh10-root.sh, run with chroot) for mlkem768x25519-sha256, which 9.2 lacks.
# N sequential '<user>@127.0.0.1 true' sessions each, ed25519 host key.
PQ_CONNS=${BENCH_CONNS:-30}
PQ_KEX=(mlkem768x25519-sha256 sntrup761x25519-sha512 curve25519-sha256)
echo
echo "== 5. handshakes per second by key exchange: $PQ_CONNS sequential '$LOGIN@$HOST true' (ed25519 host key)"
PQ_ALGOS=("KexAlgorithms $(_join "${PQ_KEX[@]}")" "HostKeyAlgorithms ssh-ed25519")
PQ_HASHI_PORT=
if [ "$have_hashi" = 1 ] && start_hashi_server "${PQ_ALGOS[@]}" ${extra[@]+"${extra[@]}"}; then
  PQ_HASHI_PORT=$SERVER_PORT
fi
PQ_SSHD_PORT=
if start_sshd "KexAlgorithms sntrup761x25519-sha512,curve25519-sha256" "HostKeyAlgorithms ssh-ed25519"; then
  PQ_SSHD_PORT=$SERVER_PORT
fi
# OpenSSH 10 in its root: keys and config in a unique dir under ROOT/tmp, removed on exit
PQ_R= PQ_CT= PQ_SSHD10_PORT= PQ_V10=
pq_cleanup() { it_cleanup; [ -n "$PQ_CT" ] && [ -d "$PQ_CT" ] && rm -rf "$PQ_CT"; }
trap pq_cleanup EXIT
if [ "$(id -u)" != 0 ]; then
  echo "note: OpenSSH 10 runs with chroot, which needs root: its column stays empty"
elif ! PQ_R=$("$ROOT/scripts/openssh10-root.sh" 2>"$T/root10.err") || [ ! -x "$PQ_R/usr/sbin/sshd" ]; then
  echo "note: no OpenSSH 10 root ($(tr '\n' ' ' <"$T/root10.err")): its column stays empty"
  PQ_R=
else
  PQ_V10=$(chroot "$PQ_R" /usr/bin/ssh -V 2>&1)
  PQ_CT=$(mktemp -d "$PQ_R/tmp/hashi-bench.XXXXXX")
  PQ_CTREL=${PQ_CT#"$PQ_R"}
  cp -p "$T/host_ed25519" "$T/id_ed25519" "$T/authorized_keys" "$PQ_CT/"
  mkdir -p "$PQ_R/run/sshd"
  _launch_sshd10() {
    {
      echo "Port $SERVER_PORT"
      echo "ListenAddress $HOST"
      echo "HostKey $PQ_CTREL/host_ed25519"
      echo "AuthorizedKeysFile $PQ_CTREL/authorized_keys"
      echo "PidFile $PQ_CTREL/sshd10.$SERVER_PORT.pid"
      echo "LogLevel ERROR"
      echo "StrictModes no"
      echo "SetEnv SHLVL=1"
      echo "KexAlgorithms mlkem768x25519-sha256"
      echo "HostKeyAlgorithms ssh-ed25519"
      _sshd_only_config
    } >"$PQ_CT/sshd10.$SERVER_PORT.conf"
    chroot "$PQ_R" /usr/sbin/sshd -D -e -f "$PQ_CTREL/sshd10.$SERVER_PORT.conf" 2>>"$SERVER_LOG" &
  }
  if _start sshd10; then PQ_SSHD10_PORT=$SERVER_PORT; else echo "note: OpenSSH 10 sshd did not start"; fi
fi
hs_rate() {  # hs_rate KEX CLIENT PORT [CLIENT-OPTS...]: sequential `true` sessions per second, or "-"
  local kex=$1 prog=$2 port=$3 i start end
  shift 3
  [ -n "$port" ] || { echo -; return; }
  start=$EPOCHREALTIME
  for ((i = 0; i < PQ_CONNS; i++)); do
    timeout -k 5 30 "$prog" "$@" -o LogLevel=ERROR -o KexAlgorithms="$kex" -p "$port" "$LOGIN@$HOST" true \
      </dev/null 2>"$T/bench.err" || { tail -n 3 "$T/bench.err" >&2; echo -; return; }
  done
  end=$EPOCHREALTIME
  awk -v n="$PQ_CONNS" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }'
}
client_opts
printf '%-26s %12s %12s %8s  %s\n' "kex" "hashi hs/s" "OpenSSH hs/s" speed "OpenSSH peer"
for k in "${PQ_KEX[@]}"; do
  if [ "$have_hashi" = 1 ]; then h=$(hs_rate "$k" "$HASHI_CLIENT" "$PQ_HASHI_PORT" "${CLIENT_OPTS[@]}"); else h=-; fi
  if [ "$k" = mlkem768x25519-sha256 ]; then
    if [ -n "$PQ_SSHD10_PORT" ]; then o=$(hs_rate "$k" chroot "$PQ_SSHD10_PORT" "$PQ_R" /usr/bin/ssh -F /dev/null \
      -i "$PQ_CTREL/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null); else o=-; fi
    peer="ssh -> sshd, ${PQ_V10:-OpenSSH 10 (not available)} (chroot)"
  else
    o=$(hs_rate "$k" ssh "$PQ_SSHD_PORT" "${CLIENT_OPTS[@]}")
    peer="ssh -> sshd, $(ssh -V 2>&1 | cut -d, -f1)"
  fi
  printf '%-26s %12s %12s %8s  %s\n' "$k" "$h" "$o" "$(ratio "$h" "$o")" "$peer"
done
