#!/bin/bash
# hashi's host-key trust against hashi-server (and UpdateHostKeys both ways with OpenSSH): the
# first-contact prompt through a pseudo-terminal, "yes" / the fingerprint / "no", a replaced key
# refused before authentication with file:line and the -R command, accept-new, BatchMode,
# hashed entries from ssh-keygen -H, @revoked, [host]:port names, hostkeys-00 rotation.
# Usage: bash test_known_hosts.sh <build>/bin
. "$(dirname "$0")/lib.sh" "$@"
it_setup
need_prog expect ssh-keygen ssh

start_hashi_server || it_finish
PORT=$SERVER_PORT
NAME="[$HOST]:$PORT"
FP=$(ssh-keygen -l -f "$T/host_ed25519.pub" | cut -d' ' -f2)
# Only the ed25519 key is negotiated unless a case asks otherwise.
HK=(-o HostKeyAlgorithms=ssh-ed25519)

# hashi_tty KH ANSWER [ARGS...]: runs hashi in a pseudo-terminal with known_hosts KH, answers the
# first prompt with ANSWER; prints the terminal transcript, then "rc=N".
hashi_tty() {
  local kh=$1 answer=$2
  shift 2
  HASHI_ANSWER=$answer timeout -k 5 "$IT_TIMEOUT" expect "$T/drive.exp" \
    "$HASHI_CLIENT" -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o "UserKnownHostsFile=$kh" \
    -o UpdateHostKeys=no "${HK[@]}" -p "$PORT" "$@" "$HOST" echo connected 2>&1
}

cat >"$T/drive.exp" <<'EXP'
set timeout 20
spawn {*}$argv
expect {
  -ex "(yes/no/\[fingerprint\])? " { send "$env(HASHI_ANSWER)\r"; exp_continue }
  eof
}
catch wait result
puts "rc=[lindex $result 3]"
EXP

# hashi_plain KH [ARGS...]: no terminal at all (setsid: no controlling tty); stdout+stderr, rc=N
hashi_plain() {
  local kh=$1
  shift
  setsid -w timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" -F /dev/null -i "$KEY" -o IdentitiesOnly=yes \
    -o "UserKnownHostsFile=$kh" -o UpdateHostKeys=no "${HK[@]}" -p "$PORT" "$@" "$HOST" echo connected \
    </dev/null 2>&1
  echo "rc=$?"
}

has() { grep -qaF -- "$2" <<<"$1"; }
has_line() { tr -d '\r' <<<"$1" | grep -qaxF -- "$2"; }
check() {  # check NAME CONDITION-RESULT OUTPUT
  if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "unexpected output" ; printf '%s\n' "$3" | tail -n 15 | sed 's/^/  | /'; fi
}

# --- first contact: the prompt, "yes" stores the key, the second connection is silent ---------
KH=$T/kh_yes
out=$(hashi_tty "$KH" yes)
has "$out" "The authenticity of host '$NAME ($NAME)' can't be established." &&
  has "$out" "ED25519 key fingerprint is $FP." &&
  has "$out" "Are you sure you want to continue connecting (yes/no/[fingerprint])?" &&
  has "$out" "Warning: Permanently added '$NAME' (ED25519) to the list of known hosts." &&
  has_line "$out" "connected" && has "$out" "rc=0"
check "first-contact: prompt shown, yes connects" $? "$out"
expect_eq "first-contact: key stored" "$NAME $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" "$(cat "$KH" 2>/dev/null)"
out=$(hashi_plain "$KH")
expect_eq "second connection: silent" "connected
rc=0" "$out"

# --- the pasted fingerprint also accepts --------------------------------------------------------
KH=$T/kh_fp
out=$(hashi_tty "$KH" "$FP")
has_line "$out" "connected" && has "$out" "rc=0" && [ -s "$KH" ]
check "first-contact: pasted fingerprint accepts and stores" $? "$out"

# --- "no" aborts with 255 -------------------------------------------------------------------
KH=$T/kh_no
out=$(hashi_tty "$KH" no)
has "$out" "Host key verification failed." && has "$out" "rc=255" && ! has_line "$out" "connected" &&
  [ ! -s "$KH" ]
check "first-contact: no aborts with 255, nothing stored" $? "$out"

# --- BatchMode=yes with an unknown key: refused without asking -------------------------------
out=$(hashi_tty "$T/kh_batch" yes -o BatchMode=yes)
has "$out" "Host key verification failed." && has "$out" "rc=255" && ! has "$out" "authenticity"
check "BatchMode=yes: unknown key refused without a prompt" $? "$out"

# --- StrictHostKeyChecking=yes: unknown refused ----------------------------------------------
out=$(hashi_plain "$T/kh_strict" -o StrictHostKeyChecking=yes)
has "$out" "No ED25519 host key is known for $NAME and you have requested strict checking." &&
  has "$out" "rc=255"
check "StrictHostKeyChecking=yes: unknown key refused" $? "$out"

# --- accept-new: adds an unknown key without asking -------------------------------------------
KH=$T/kh_acceptnew
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=accept-new)
has "$out" "Warning: Permanently added '$NAME' (ED25519)" && has "$out" "rc=0" && [ -s "$KH" ]
check "accept-new: unknown key added without a prompt" $? "$out"

# --- the server's key replaced: refused before authentication ---------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/other_ed25519"
KH=$T/kh_changed
{ echo "# a comment line"; echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/other_ed25519.pub")"; } >"$KH"
before=$(grep -c "Accepted publickey\|Failed publickey\|Postponed publickey" "$SERVER_LOG")
out=$(hashi_tty "$KH" yes)
after=$(grep -c "Accepted publickey\|Failed publickey\|Postponed publickey" "$SERVER_LOG")
has "$out" "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" &&
  has "$out" "Offending ED25519 key in $KH:2" &&
  has "$out" "hashi-keygen -f \"$KH\" -R \"$NAME\"" &&
  has "$out" "Host key verification failed." && has "$out" "rc=255" && ! has_line "$out" "connected"
check "changed key: warning with file:line and the -R command, exit 255" $? "$out"
expect_eq "changed key: no authentication reached the server" "$before" "$after" "$SERVER_LOG"
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=accept-new)
has "$out" "rc=255" && has "$out" "has changed and you have requested strict checking"
check "changed key: accept-new refuses too" $? "$out"
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=no)
has "$out" "REMOTE HOST IDENTIFICATION HAS CHANGED" && has_line "$out" "connected" && has "$out" "rc=0"
check "changed key: StrictHostKeyChecking=no warns and goes on (as ssh)" $? "$out"

# --- a key of another type known for the host: treated as changed (OpenSSH 9.x) ---------------
KH=$T/kh_othertype
echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/host_ecdsa256.pub")" >"$KH"
out=$(hashi_plain "$KH")
has "$out" "Offending ECDSA key in $KH:1" && has "$out" "rc=255"
check "other key type known: refused as changed, naming that entry" $? "$out"

# --- hashed entries written by ssh-keygen -H match ----------------------------------------------
KH=$T/kh_hashed
echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$KH"
ssh-keygen -q -H -f "$KH" >/dev/null 2>&1
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=yes)
grep -q '^|1|' "$KH" && expect_eq "hashed known_hosts entry (ssh-keygen -H) matches" "connected
rc=0" "$out"
KH=$T/kh_hashnew
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=accept-new -o HashKnownHosts=yes)
grep -q '^|1|' "$KH" && [ "$(ssh-keygen -F "$NAME" -f "$KH" | grep -vc '^#')" = 1 ]
check "HashKnownHosts=yes: the new entry is hashed and ssh-keygen -F finds it" $? "$out"

# --- @revoked: always refused, whatever StrictHostKeyChecking says -------------------------------
KH=$T/kh_revoked
{ echo "@revoked * $(cut -d' ' -f1,2 "$T/host_ed25519.pub")"
  echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")"; } >"$KH"
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=no)
has "$out" "WARNING: REVOKED HOST KEY DETECTED!" && has "$out" "rc=255" && ! has_line "$out" "connected"
check "@revoked: refused even with StrictHostKeyChecking=no" $? "$out"

# --- [host]:port naming: an entry for another port does not match ----------------------------------
KH=$T/kh_port
echo "$HOST $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$KH"
out=$(hashi_plain "$KH" -o StrictHostKeyChecking=yes)
has "$out" "No ED25519 host key is known for $NAME" && has "$out" "rc=255"
check "[host]:port: a port-22 entry does not vouch for port $PORT" $? "$out"

# --- several UserKnownHostsFile and GlobalKnownHostsFile ----------------------------------------
echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$T/kh_global"
out=$(hashi_plain "$T/kh_none1 $T/kh_none2" -o StrictHostKeyChecking=yes -o "GlobalKnownHostsFile=$T/kh_global")
expect_eq "GlobalKnownHostsFile vouches for the host" "connected
rc=0" "$out"
out=$(hashi_plain "$T/kh_none3 $T/kh_global" -o StrictHostKeyChecking=yes)
expect_eq "second UserKnownHostsFile vouches for the host" "connected
rc=0" "$out"

# --- UpdateHostKeys: OpenSSH ssh learns hashi-server's other keys ----------------------------------
KH=$T/kh_update_ssh
echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$KH"
timeout -k 5 "$IT_TIMEOUT" ssh -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
  -o "UserKnownHostsFile=$KH" -o UpdateHostKeys=yes -p "$PORT" "$HOST" true >"$T/update_ssh.log" 2>&1
n=0
for k in "${HOSTKEYS[@]}"; do grep -qF "$(cut -d' ' -f2 "$k.pub")" "$KH" && n=$((n + 1)); done
expect_eq "UpdateHostKeys: ssh learns all ${#HOSTKEYS[@]} keys of hashi-server (incl. RSA proof)" "${#HOSTKEYS[@]}" "$n" "$T/update_ssh.log"

# --- UpdateHostKeys: hashi learns an OpenSSH sshd's other keys, drops a retired one -------------
KH=$T/kh_update_hashi
if start_sshd "${ALL_ALGO_LINES[@]}"; then
  { echo "[$HOST]:$SERVER_PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")"
    echo "[$HOST]:$SERVER_PORT $(cut -d' ' -f1,2 "$T/other_ed25519.pub")"; } >"$KH"
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o "UserKnownHostsFile=$KH" -o UpdateHostKeys=yes -v \
    -p "$SERVER_PORT" "$HOST" true >"$T/update_hashi.log" 2>&1
  n=0
  for k in "${HOSTKEYS[@]}"; do grep -qF "$(cut -d' ' -f2 "$k.pub")" "$KH" && n=$((n + 1)); done
  expect_eq "UpdateHostKeys: hashi learns all ${#HOSTKEYS[@]} keys of sshd" "${#HOSTKEYS[@]}" "$n" "$T/update_hashi.log"
  expect_eq "UpdateHostKeys: the key sshd no longer offers is removed" "0" \
    "$(grep -cF "$(cut -d' ' -f2 "$T/other_ed25519.pub")" "$KH")" "$T/update_hashi.log"
  # with only ed25519 allowed, the other types are not learned (HostKeyAlgorithms filters)
  KH2=$T/kh_update_filter
  echo "[$HOST]:$SERVER_PORT $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$KH2"
  timeout -k 5 "$IT_TIMEOUT" "$HASHI_CLIENT" -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o "UserKnownHostsFile=$KH2" -o UpdateHostKeys=yes -o HostKeyAlgorithms=ssh-ed25519 \
    -p "$SERVER_PORT" "$HOST" true >/dev/null 2>&1
  expect_eq "UpdateHostKeys: keys HostKeyAlgorithms does not allow are not learned" 1 "$(wc -l <"$KH2")"
  [ -f "$KH.old" ] && pass "UpdateHostKeys: the previous file is kept as .old" || fail "UpdateHostKeys: .old" "missing"
fi

it_finish
