# Shared helpers for the interop tests: hashi's programs against real OpenSSH, Dropbear and PuTTY,
# all on 127.0.0.1 with throw-away keys in a temp dir that is removed on exit.
#
# A test script does:
#   . "$(dirname "$0")/lib.sh" "$@"     # $1 = the bin dir (ctest passes <build>/bin)
#   it_setup                            # temp dir $T, keys, authorized_keys, trap
#   start_sshd [CONFIG-LINE...]         # -> SERVER_PORT SERVER_PID SERVER_LOG
#   start_hashi_server [CONFIG-LINE...] # same, with $HASHI_SERVER
#   start_dropbear [ARGS...]            # same, with dropbear (see dropbear_login)
#   run_client PROG PORT ARGS...        # PROG with -F /dev/null -i $KEY ... (KEY=, KNOWN_HOSTS= to vary)
#   algorithm_matrix TRY PORT           # TRY NAME ARGS... over kex x cipher, MACs, host-key algorithms
#   expect_eq NAME WANT GOT [LOG]       # prints "ok NAME" or "FAIL NAME: ..." with the log's tail
#   bg_job FUNCTION                     # background work that cleanup kills with its children
#   it_finish                           # "N passed, N failed"; exit status
#   it_skip REASON                      # "SKIP REASON", exit 77 (ctest shows the test as Skipped)
#
# Nothing drops checks silently: a server that does not start is a FAIL (start-KIND), a script
# that reaches it_finish with no check run fails, a script that exits 0 without it_finish fails,
# and a sanitizer report written by any program under test (ASAN_OPTIONS/UBSAN_OPTIONS log_path
# points into the temp dir) is a FAIL with the report's head.
#
# hashi-server extras: HASHI_SERVER_ARGS=(-o Key=Value) for its command line, HASHI_SERVER_EXTRA
# (newline-separated config lines) for its config file.
#
# The programs under test are variables, so the harness itself can be checked with OpenSSH on
# both sides:  HASHI_CLIENT=ssh HASHI_SERVER=/usr/sbin/sshd bash tests/interop/test_x.sh
#
# Nothing here touches ~/.ssh, /etc/ssh or the system sshd: every server reads its keys and
# authorized_keys from $T and listens on a free port in 22000-22999 (the acceptance checks use
# 2500-2599, so both can run at once).

set -u

IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-${BIN:-$IT_ROOT/build/bin}}
BIN=$(cd "$BIN" 2>/dev/null && pwd || echo "$BIN")
HASHI_CLIENT=${HASHI_CLIENT:-$BIN/hashi}
HASHI_SERVER=${HASHI_SERVER:-$BIN/hashi-server}
HOST=127.0.0.1
LOGIN=$(id -un)
# Seconds one client invocation may take before it counts as hung.
IT_TIMEOUT=${IT_TIMEOUT:-30}

# Every algorithm the transport promises; the reference sshd is started with all of them, and
# hashi-server is given the same lists.
ALL_KEX=(curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256 ecdh-sha2-nistp384
  ecdh-sha2-nistp521 diffie-hellman-group14-sha256 diffie-hellman-group16-sha512
  diffie-hellman-group18-sha512 diffie-hellman-group-exchange-sha256)
ALL_CIPHERS=(chacha20-poly1305@openssh.com aes128-gcm@openssh.com aes256-gcm@openssh.com
  aes128-ctr aes192-ctr aes256-ctr)
ALL_MACS=(hmac-sha2-256 hmac-sha2-512 hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com)
ALL_HOSTKEY_ALGS=(ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521
  rsa-sha2-256 rsa-sha2-512)

_join() { local IFS=,; echo "$*"; }
ALL_ALGO_LINES=("KexAlgorithms $(_join "${ALL_KEX[@]}")" "Ciphers $(_join "${ALL_CIPHERS[@]}")"
  "MACs $(_join "${ALL_MACS[@]}")" "HostKeyAlgorithms $(_join "${ALL_HOSTKEY_ALGS[@]}")")

IT_PASSED=0
IT_FAILED=0
IT_PIDS=()
T=

# --- results ----------------------------------------------------------------------------------

pass() { echo "ok $1"; IT_PASSED=$((IT_PASSED + 1)); }

fail() {  # fail NAME DETAIL [LOG...]: one FAIL line, then the tail of each log, indented
  local name=$1 detail=$2 log
  shift 2
  echo "FAIL $name: $detail"
  for log in "$@"; do
    [ -s "$log" ] || continue
    echo "  --- tail of $(basename "$log")"
    tail -n 12 "$log" | sed 's/^/  | /'
  done
  IT_FAILED=$((IT_FAILED + 1))
}

expect_eq() {  # expect_eq NAME WANT GOT [LOG...]
  local name=$1 want=$2 got=$3
  shift 3
  if [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "want '$want', got '$(printf %s "$got" | head -c 200)'" "$@"; fi
}

IT_FINISHED=
it_finish() {
  # servers and background jobs end first, so their sanitizer reports (written at exit) count
  it_stop_all
  check_sanitizer_logs
  if [ $((IT_PASSED + IT_FAILED)) -eq 0 ]; then fail "harness" "no check ran"; fi
  echo "$IT_PASSED passed, $IT_FAILED failed"
  IT_FINISHED=1
  [ "$IT_FAILED" -eq 0 ]
  exit $?
}

# Exit status 77 is registered as SKIP_RETURN_CODE for every interop test, so ctest reports the
# test as skipped (with this line in its output) instead of passed. A failure already recorded
# wins over the skip.
it_skip() {  # it_skip REASON
  if [ "$IT_FAILED" -ne 0 ]; then it_finish; fi
  echo "SKIP: $1"
  IT_FINISHED=1
  exit 77
}

need_prog() {  # need_prog PROGRAM...: stop with one FAIL line if a program is missing
  local p
  for p in "$@"; do
    if ! command -v "$p" >/dev/null 2>&1; then
      fail "setup" "program not found: $p"
      it_finish
    fi
  done
}

# --- temp dir, keys ---------------------------------------------------------------------------

kill_tree() {  # kill_tree PID: the process and its descendants, by id, children first
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null
}

IT_JOBS=()
bg_job() {  # bg_job COMMAND...: run in the background, killed (with its children) at cleanup
  "$@" &
  IT_JOBS+=($!)
}

it_stop_all() {  # kills the background jobs and the servers, and waits for the servers
  local p
  for p in ${IT_JOBS[@]+"${IT_JOBS[@]}"}; do kill_tree "$p"; done
  IT_JOBS=()
  for p in ${IT_PIDS[@]+"${IT_PIDS[@]}"}; do kill "$p" 2>/dev/null; done
  for p in ${IT_PIDS[@]+"${IT_PIDS[@]}"}; do wait "$p" 2>/dev/null; done
  IT_PIDS=()
}

it_cleanup() {
  local rc=$?
  it_stop_all
  if [ -n "$T" ] && [ -d "$T" ]; then rm -rf "$T"; fi
  # a script that ends (exit 0, or falls off its end) without it_finish has dropped its checks
  if [ -z "$IT_FINISHED" ] && [ "$rc" -eq 0 ]; then
    echo "FAIL harness: the script ended without it_finish ($IT_PASSED passed, $IT_FAILED failed so far)"
    exit 1
  fi
}

# Sanitizer reports of the programs under test go to files in the temp dir (their stderr is a
# log nobody reads when the test passes): log_path is appended to the caller's options.
IT_SAN_DIR=
sanitizer_logs_setup() {
  IT_SAN_DIR=$T/sanitizer
  mkdir -p "$IT_SAN_DIR"
  # a privilege-separated child running as another user must be able to write its report
  chmod 711 "$T"
  chmod 1777 "$IT_SAN_DIR"
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$IT_SAN_DIR/asan"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$IT_SAN_DIR/ubsan:print_stacktrace=1"
}

check_sanitizer_logs() {  # one FAIL per report file, with its head
  local f
  [ -n "$IT_SAN_DIR" ] && [ -d "$IT_SAN_DIR" ] || return 0
  for f in "$IT_SAN_DIR"/*; do
    [ -e "$f" ] || continue
    echo "FAIL sanitizer: report $(basename "$f")"
    head -n 30 "$f" | sed 's/^/  | /'
    IT_FAILED=$((IT_FAILED + 1))
  done
}

keygen() {  # keygen TYPE BITS FILE
  ssh-keygen -q -t "$1" ${2:+-b "$2"} -N '' -C "hashi-interop-$1" -f "$3" </dev/null >/dev/null
}

it_setup() {  # temp dir, host keys, user keys, authorized_keys, cleanup trap
  T=$(mktemp -d "${TMPDIR:-/tmp}/hashi-interop.XXXXXX") || { echo "FAIL setup: mktemp"; exit 1; }
  trap it_cleanup EXIT
  trap 'exit 130' INT TERM
  sanitizer_logs_setup
  need_prog ssh-keygen
  # RSA generation is the slow part: generate everything at once
  keygen ed25519 "" "$T/host_ed25519" &
  keygen ecdsa 256 "$T/host_ecdsa256" &
  keygen ecdsa 384 "$T/host_ecdsa384" &
  keygen ecdsa 521 "$T/host_ecdsa521" &
  keygen rsa 3072 "$T/host_rsa" &
  keygen ed25519 "" "$T/id_ed25519" &
  keygen ecdsa 256 "$T/id_ecdsa" &
  keygen rsa 3072 "$T/id_rsa" &
  wait
  HOSTKEYS=("$T/host_ed25519" "$T/host_ecdsa256" "$T/host_ecdsa384" "$T/host_ecdsa521" "$T/host_rsa")
  cat "$T/id_ed25519.pub" "$T/id_ecdsa.pub" "$T/id_rsa.pub" >"$T/authorized_keys"
  chmod 600 "$T/authorized_keys"
  KEY=$T/id_ed25519
  if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
}

# Options every client invocation gets: key $KEY only, no prompts, no user config, and (unless
# KNOWN_HOSTS names a file to check against strictly) no known_hosts at all.  OpenSSH keeps the
# first value given for an option, so a case that needs other values sets these variables
# (KEY=... run_client ...) instead of appending options.
KNOWN_HOSTS=
client_opts() {  # -> CLIENT_OPTS array
  CLIENT_OPTS=(-F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes)
  if [ -n "$KNOWN_HOSTS" ]; then
    CLIENT_OPTS+=(-o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$KNOWN_HOSTS")
  else
    CLIENT_OPTS+=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null)
  fi
}

run_client() {  # run_client PROGRAM PORT ARGS... : PROGRAM with the common options, bounded in time
  local prog=$1 port=$2
  shift 2
  client_opts
  timeout -k 5 "$IT_TIMEOUT" "$prog" "${CLIENT_OPTS[@]}" -p "$port" "$@"
}

# --- ports, servers ---------------------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# port_listening PORT: a listening socket exists, found without connecting to it (a server in
# debug mode serves exactly one connection, which a probe would use up)
port_listening() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

wait_listening() {  # wait_listening PORT PID [SECONDS]: like wait_port, without connecting
  local port=$1 pid=$2 tries=$(( ${3:-15} * 50 ))
  while ((tries-- > 0)); do
    kill -0 "$pid" 2>/dev/null || return 1
    port_listening "$port" && return 0
    sleep 0.02
  done
  return 1
}

pick_port() {  # a port in 22000-22999 that nothing listens on
  local port n
  for n in $(seq 1 200); do
    port=$((22000 + (RANDOM * 32768 + RANDOM) % 1000))
    port_busy "$port" || { echo "$port"; return 0; }
  done
  echo "no free port in 22000-22999" >&2
  return 1
}

wait_port() {  # wait_port PORT PID [SECONDS]: until something accepts on PORT while PID lives
  local port=$1 pid=$2 tries=$(( ${3:-15} * 50 ))
  while ((tries-- > 0)); do
    kill -0 "$pid" 2>/dev/null || return 1
    port_busy "$port" && return 0
    sleep 0.02
  done
  return 1
}

stop_server() {  # stop_server PID
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# _start KIND CONFIG-WRITER ARGS...: picks a port, writes the config, starts, retries when the
# port was taken in between (parallel runs) -> SERVER_PORT SERVER_PID SERVER_LOG SERVER_CFG
_start() {
  local kind=$1 try
  shift
  for try in 1 2 3 4 5; do
    SERVER_PORT=$(pick_port) || return 1
    SERVER_LOG=$T/$kind.$SERVER_PORT.log
    SERVER_CFG=$T/$kind.$SERVER_PORT.conf
    "_launch_$kind" "$@"
    SERVER_PID=$!
    if wait_port "$SERVER_PORT" "$SERVER_PID"; then
      IT_PIDS+=("$SERVER_PID")
      return 0
    fi
    stop_server "$SERVER_PID"
    # a server that could not bind retries on another port; any other death is final
    grep -qi 'address already in use' "$SERVER_LOG" 2>/dev/null || break
  done
  # counted here, so a caller that gives up on the rest of its checks still fails
  fail "start-$kind" "did not start listening" "$SERVER_LOG"
  return 1
}

# sshd_config lines shared by sshd and hashi-server; the caller's lines come first because sshd
# keeps the first value it reads for most keywords.
_server_config() {  # _server_config PREFIX [LINE...]
  local prefix=$1 line key
  shift
  for line in "$@"; do echo "$line"; done
  echo "Port $SERVER_PORT"
  echo "ListenAddress $HOST"
  for key in "${HOSTKEYS[@]}"; do echo "HostKey $key"; done
  echo "AuthorizedKeysFile $T/authorized_keys"
  echo "PubkeyAuthentication yes"
  echo "PidFile $T/$prefix.$SERVER_PORT.pid"
  echo "LogLevel VERBOSE"
  echo "StrictModes no"
  # bash sources ~/.bashrc for commands run by sshd when SHLVL < 2; a developer's heavy bashrc
  # (pyenv, nvm...) would cost seconds per connection and nothing here tests it
  echo "SetEnv SHLVL=1"
}

# OpenSSH-only lines: no PAM (runs as any user, no /etc/pam.d), keys only, many connections.
_sshd_only_config() {
  echo "UsePAM no"
  echo "PasswordAuthentication no"
  echo "KbdInteractiveAuthentication no"
  echo "MaxStartups 1000:30:1000"
  echo "MaxSessions 100"
}

is_openssh_sshd() { case $(basename "$1") in sshd*) return 0 ;; *) return 1 ;; esac; }

SSHD=${SSHD:-$(command -v sshd || echo /usr/sbin/sshd)}
SSHD=$(readlink -f "$SSHD")  # sshd refuses to re-exec itself from a relative path

_launch_sshd() {
  { _server_config sshd "$@"; _sshd_only_config; } >"$SERVER_CFG"
  "$SSHD" -D -e -f "$SERVER_CFG" 2>>"$SERVER_LOG" &
}

start_sshd() { _start sshd "$@"; }  # start_sshd [CONFIG-LINE...]: the reference OpenSSH sshd

hashi_server_path() {  # the server under test as an absolute path (sshd insists on one)
  local server=$HASHI_SERVER
  case $server in */*) ;; *) server=$(command -v "$server" || echo "$server") ;; esac
  is_openssh_sshd "$server" && server=$(readlink -f "$server")
  echo "$server"
}

hashi_server_config() {  # hashi_server_config [LINE...]: the config for $HASHI_SERVER on $SERVER_PORT
  _server_config hashi "$@"
  if is_openssh_sshd "$HASHI_SERVER"; then
    _sshd_only_config
  elif [ -n "${HASHI_SERVER_EXTRA:-}" ]; then
    # HASHI_SERVER_EXTRA: more config lines (newline-separated) for hashi-server only
    printf '%s\n' "$HASHI_SERVER_EXTRA"
  fi
}

_launch_hashi() {
  hashi_server_config "$@" >"$SERVER_CFG"
  # HASHI_SERVER_ARGS (array): more command-line flags for this start, e.g. (-o Ciphers=aes256-ctr)
  "$(hashi_server_path)" -D -e -f "$SERVER_CFG" ${HASHI_SERVER_ARGS[@]+"${HASHI_SERVER_ARGS[@]}"} 2>>"$SERVER_LOG" &
}

start_hashi_server() { _start hashi "$@"; }  # start_hashi_server [CONFIG-LINE...]

# Dropbear reads only the login user's ~/.ssh/authorized_keys (2022.83 has no option to point it
# elsewhere). As root we log in as a dedicated throw-away user whose authorized_keys we own; as
# an ordinary user there is no way without touching the real ~/.ssh, so the caller skips
# (it_skip: exit 77, shown by ctest as Skipped).
DROPBEAR_USER=hashitest
dropbear_login() {  # sets DROPBEAR_LOGIN; not root: it_skip; a failed set-up: FAIL and it_finish
  if [ "$(id -u)" != 0 ]; then
    it_skip "dropbear-server: not root, and Dropbear only reads the real ~/.ssh/authorized_keys"
  fi
  if ! id "$DROPBEAR_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/sh "$DROPBEAR_USER" >/dev/null 2>&1 ||
      { fail "dropbear-login" "useradd $DROPBEAR_USER failed"; it_finish; }
  fi
  # '*' = no password but key logins allowed ('!' would lock the account)
  usermod -p '*' "$DROPBEAR_USER" >/dev/null 2>&1
  local home
  home=$(getent passwd "$DROPBEAR_USER" | cut -d: -f6)
  install -d -m 700 -o "$DROPBEAR_USER" "$home/.ssh"
  install -m 600 -o "$DROPBEAR_USER" "$T/authorized_keys" "$home/.ssh/authorized_keys"
  chmod 711 "$T"  # so the test user can read files we hand it by path
  DROPBEAR_LOGIN=$DROPBEAR_USER
}

_launch_dropbear() {
  [ -f "$T/dropbear_ed25519" ] ||
    dropbearconvert openssh dropbear "$T/host_ed25519" "$T/dropbear_ed25519" >/dev/null 2>&1
  dropbear -F -E -s -m -W 1048576 -p "$HOST:$SERVER_PORT" -r "$T/dropbear_ed25519" \
    -P "$T/dropbear.$SERVER_PORT.pid" "$@" 2>>"$SERVER_LOG" &
}

start_dropbear() { _start dropbear "$@"; }  # start_dropbear [DROPBEAR-ARG...]

# --- the algorithm matrix, shared by the client and the server tests -------------------------

# algorithm_matrix TRY PORT: calls "TRY NAME CLIENT-ARGS..." for the full kex x cipher product
# (whatever the machine's speed: a slow machine takes longer, it does not test less), each MAC
# with both CTR key sizes, and each host-key algorithm with KNOWN_HOSTS holding only the key it
# must prove.
algorithm_matrix() {
  local try=$1 port=$2 k c m h
  for c in "${ALL_CIPHERS[@]}"; do
    for k in "${ALL_KEX[@]}"; do "$try" "kex:$k+$c" -o KexAlgorithms="$k" -c "$c"; done
  done
  for m in "${ALL_MACS[@]}"; do
    for c in aes128-ctr aes256-ctr; do "$try" "mac:$m+$c" -c "$c" -m "$m"; done
  done
  for h in "${ALL_HOSTKEY_ALGS[@]}"; do
    echo "[$HOST]:$port $(cut -d' ' -f1,2 "$(hostkey_file "$h").pub")" >"$T/known_hosts.$h"
    KNOWN_HOSTS=$T/known_hosts.$h "$try" "hostkey:$h" -o HostKeyAlgorithms="$h"
  done
}

hostkey_file() {  # hostkey_file ALGORITHM: the private host key that algorithm signs with
  case $1 in
    ssh-ed25519) echo "$T/host_ed25519" ;;
    ecdsa-sha2-nistp256) echo "$T/host_ecdsa256" ;;
    ecdsa-sha2-nistp384) echo "$T/host_ecdsa384" ;;
    ecdsa-sha2-nistp521) echo "$T/host_ecdsa521" ;;
    rsa-sha2-256 | rsa-sha2-512 | ssh-rsa) echo "$T/host_rsa" ;;
  esac
}

# --- data -------------------------------------------------------------------------------------

make_blob() {  # make_blob FILE MiB: random bytes, fast (AES-CTR keystream of a random key)
  local file=$1 mib=$2
  if command -v openssl >/dev/null 2>&1; then
    head -c $((mib * 1048576)) /dev/zero |
      openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" -iv "$(openssl rand -hex 16)" >"$file"
  else
    head -c $((mib * 1048576)) /dev/urandom >"$file"
  fi
}

sha() { sha256sum | cut -d' ' -f1; }
