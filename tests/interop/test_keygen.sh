# hashi-keygen against ssh-keygen and puttygen: keys each one writes are read by the others with
# identical output; known_hosts -F / -R / -H give ssh-keygen's results; -p and -e / -i round trips.
# Usage: bash tests/interop/test_keygen.sh <build>/bin   (everything happens in a temp dir)
. "$(dirname "$0")/lib.sh" "$@"

HK=${HASHI_KEYGEN:-$BIN/hashi-keygen}
need_prog ssh-keygen "$HK"
T=$(mktemp -d "${TMPDIR:-/tmp}/hashi-keygen.XXXXXX") || { echo "FAIL setup: mktemp"; exit 1; }
trap it_cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
export HOME=$T  # nothing may read or write the real ~/.ssh
PASS=hashi-pass-1
NEWPASS=hashi-pass-2

# same NAME CMD...: run CMD with ssh-keygen and with hashi-keygen; stdout and exit status must match.
same() {
  local name=$1 want got
  shift
  want=$(ssh-keygen "$@" 2>"$T/err.ssh"; echo "rc=$?")
  got=$("$HK" "$@" 2>"$T/err.hashi"; echo "rc=$?")
  expect_eq "$name" "$want" "$got" "$T/err.hashi"
}

# --- keys written by ssh-keygen, read by hashi-keygen ---------------------------------------
SPECS=("ed25519 -" "ecdsa 256" "ecdsa 384" "ecdsa 521" "rsa 3072")
mkdir -p ossh alone
for spec in "${SPECS[@]}"; do
  set -- $spec
  for fmt in openssh PEM PKCS8; do
    for pw in "" "$PASS"; do
      f=ossh/$1${2#-}-$fmt${pw:+-enc}
      margs=()
      [ "$fmt" = openssh ] || margs=(-m "$fmt")
      bargs=()
      [ "$2" = - ] || bargs=(-b "$2")
      ( ssh-keygen -q -t "$1" "${bargs[@]}" "${margs[@]}" -N "$pw" -C "c-$1-$fmt" -f "$f" \
          </dev/null >/dev/null ) &
    done
  done
done
wait
for f in ossh/*; do
  case $f in *.pub) continue ;; esac
  cp "$f" "alone/$(basename "$f")"  # without the .pub next to it
  P=(); case $f in *-enc) P=(-P "$PASS") ;; esac
  same "ssh-keygen key -y $f" -y -f "$f" "${P[@]}"
  for g in "$f" "alone/$(basename "$f")"; do
    same "ssh-keygen key -l $g" -l -f "$g"
    same "ssh-keygen key -l -E md5 $g" -l -E md5 -f "$g"
    same "ssh-keygen key -lv $g" -lv -f "$g"
  done
  same "ssh-keygen key -l $f.pub" -l -f "$f.pub"
  same "ssh-keygen key -lv -E md5 $f.pub" -lv -E md5 -f "$f.pub"
done
same "wrong passphrase -y" -y -f ossh/ed25519-openssh-enc -P wrong
cat ossh/*.pub >authorized_keys
sed 's/^/command="echo hi",no-pty /' ossh/ed25519-openssh.pub >>authorized_keys
same "authorized_keys -l" -l -f authorized_keys
same "authorized_keys -lv" -lv -f authorized_keys

# --- keys written by hashi-keygen, read by ssh-keygen and puttygen ---------------------------
mkdir -p hk
for spec in "${SPECS[@]}"; do
  set -- $spec
  for fmt in openssh PEM PKCS8; do
    for pw in "" "$PASS"; do
      f=hk/$1${2#-}-$fmt${pw:+-enc}
      margs=()
      [ "$fmt" = openssh ] || margs=(-m "$fmt")
      bargs=()
      [ "$2" = - ] || bargs=(-b "$2")
      ( "$HK" -q -t "$1" "${bargs[@]}" "${margs[@]}" -N "$pw" -C "h-$1-$fmt" -f "$f" </dev/null \
          >/dev/null 2>"$f.err" ) &
    done
  done
done
wait
printf '%s\n' "$PASS" >passfile
for f in hk/*; do
  case $f in *.pub | *.err) continue ;; esac
  P=(); case $f in *-enc) P=(-P "$PASS") ;; esac
  expect_eq "hashi key mode $f" "600 644" "$(stat -c %a "$f") $(stat -c %a "$f.pub")"
  expect_eq "hashi key ssh-keygen -y $f" "$(cut -d' ' -f1,2 "$f.pub")" \
    "$(ssh-keygen -y -f "$f" "${P[@]}" 2>&1 | cut -d' ' -f1,2)"
  same "hashi key -l $f" -l -f "$f"
  same "hashi key -lv $f.pub" -lv -f "$f.pub"
  same "hashi key -y $f" -y -f "$f" "${P[@]}"
  case $f in
    *-openssh*) head -1 "$f" | grep -q 'BEGIN OPENSSH PRIVATE KEY' && pass "format $f" || fail "format $f" "$(head -1 "$f")" ;;
    *ed25519*) head -1 "$f" | grep -q 'BEGIN OPENSSH PRIVATE KEY' && pass "format $f (ssh-keygen writes ed25519 as OpenSSH)" || fail "format $f" "$(head -1 "$f")" ;;
    *rsa*-PEM*) head -1 "$f" | grep -q 'BEGIN RSA PRIVATE KEY' && pass "format $f" || fail "format $f" "$(head -1 "$f")" ;;
    *ecdsa*-PEM*) head -1 "$f" | grep -q 'BEGIN EC PRIVATE KEY' && pass "format $f" || fail "format $f" "$(head -1 "$f")" ;;
    *-PKCS8-enc) head -1 "$f" | grep -q 'BEGIN ENCRYPTED PRIVATE KEY' && pass "format $f" || fail "format $f" "$(head -1 "$f")" ;;
    *-PKCS8) head -1 "$f" | grep -q 'BEGIN PRIVATE KEY' && pass "format $f" || fail "format $f" "$(head -1 "$f")" ;;
  esac
  # puttygen (0.78) reads OpenSSH and traditional PEM keys, not PKCS#8. A missing puttygen
  # fails these checks (it is one of the test's dependencies), it does not drop them.
  if ! head -1 "$f" | grep -Eq 'BEGIN (ENCRYPTED )?PRIVATE KEY'; then
    PP=(); case $f in *-enc) PP=(--old-passphrase passfile) ;; esac
    expect_eq "puttygen reads $f" "$(cut -d' ' -f1,2 "$f.pub")" \
      "$(puttygen "$f" "${PP[@]}" -O public-openssh -o /dev/stdout 2>&1 | cut -d' ' -f1,2)"
  fi
done
# ssh-keygen's own generation messages and refusals.
out=$("$HK" -t ed25519 -N '' -C me -f hk/verbose </dev/null)
expect_eq "generate messages" "Generating public/private ed25519 key pair.
Your identification has been saved in hk/verbose
Your public key has been saved in hk/verbose.pub
The key fingerprint is:
$(ssh-keygen -l -f hk/verbose.pub | cut -d' ' -f2) me
The key's randomart image is:
$(ssh-keygen -lv -f hk/verbose.pub | tail -n +2)" "$out"
before=$(cat hk/verbose)
out=$("$HK" -t ed25519 -N '' -f hk/verbose </dev/null; echo "rc=$?")
expect_eq "no overwrite without a yes" "Generating public/private ed25519 key pair.
hk/verbose already exists.
Overwrite (y/n)? rc=1" "$out"
expect_eq "file kept" "$before" "$(cat hk/verbose)"
out=$(echo y | "$HK" -q -t ecdsa -N '' -f hk/verbose; echo "rc=$?")
expect_eq "overwrite with y" "hk/verbose already exists.
Overwrite (y/n)? rc=0" "$out"
expect_eq "overwritten" "ECDSA" "$(ssh-keygen -l -f hk/verbose | sed 's/.*(\(.*\))/\1/')"
got=$("$HK" -q -t rsa -b 1024 -N '' -f hk/small 2>&1; echo "rc=$?")
expect_eq "rsa 1024 refused" "$(printf 'Invalid RSA key length: minimum is 2048 bits\r\nrc=255')" "$got"
want=$(ssh-keygen -q -t ecdsa -b 300 -N '' -f hk/x 2>&1; echo "rc=$?")
expect_eq "ecdsa bad size" "$want" "$("$HK" -q -t ecdsa -b 300 -N '' -f hk/x 2>&1; echo "rc=$?")"
mkdir -p short.ssh short.hashi
want=$(cd short.ssh && ssh-keygen -q -t rsa -m PEM -N abc -f k 2>&1 </dev/null; echo "rc=$?")
expect_eq "short PEM passphrase" "$want" "$(cd short.hashi && "$HK" -q -t rsa -m PEM -N abc -f k 2>&1 </dev/null; echo "rc=$?")"
"$HK" -q -t ed25519 -a 64 -N "$PASS" -f hk/rounds </dev/null
expect_eq "-a rounds readable" "$(cut -d' ' -f1,2 hk/rounds.pub)" "$(ssh-keygen -y -P "$PASS" -f hk/rounds | cut -d' ' -f1,2)"

# --- -p ------------------------------------------------------------------------------------
for f in ossh/ed25519-openssh-enc ossh/rsa3072-openssh ossh/ecdsa384-PEM-enc hk/ecdsa256-openssh-enc hk/rsa3072-PKCS8-enc; do
  g=p-$(basename "$f")
  cp "$f" "$g"
  OLD=(); case $f in *-enc) OLD=(-P "$PASS") ;; esac
  fmt=(); case $f in *PEM*) fmt=(-m PEM) ;; *PKCS8*) fmt=(-m PKCS8) ;; esac
  "$HK" -p -f "$g" "${OLD[@]}" -N "$NEWPASS" "${fmt[@]}" >"$g.out" 2>&1
  expect_eq "-p $f new passphrase works" "$(cut -d' ' -f1,2 "$f.pub")" \
    "$(ssh-keygen -y -P "$NEWPASS" -f "$g" 2>&1 | cut -d' ' -f1,2)" "$g.out"
  expect_eq "-p $f old passphrase fails" "fail" "$(ssh-keygen -y -P "${OLD[1]:-x}" -f "$g" >/dev/null 2>&1 && echo works || echo fail)"
  expect_eq "-p $f mode" "600" "$(stat -c %a "$g")"
  "$HK" -p -f "$g" -P "$NEWPASS" -N '' "${fmt[@]}" >/dev/null 2>&1
  expect_eq "-p $f passphrase removed" "$(cut -d' ' -f1,2 "$f.pub")" "$(ssh-keygen -y -f "$g" </dev/null 2>&1 | cut -d' ' -f1,2)"
done
cp ossh/ed25519-openssh-enc pw-wrong
same "-p wrong old passphrase" -p -f pw-wrong -P wrong -N x

# --- -e / -i -------------------------------------------------------------------------------
for f in ossh/ed25519-openssh ossh/ecdsa256-openssh ossh/ecdsa384-PEM ossh/ecdsa521-PKCS8 ossh/rsa3072-openssh hk/rsa3072-PEM; do
  for m in RFC4716 PKCS8 PEM; do
    same "-e -m $m $f" -e -m "$m" -f "$f.pub"
    ssh-keygen -e -m "$m" -f "$f.pub" >"exp.$m" 2>/dev/null || continue
    "$HK" -e -m "$m" -f "$f.pub" >"hexp.$m" 2>/dev/null
    same "-i -m $m $f (ssh-keygen's export)" -i -m "$m" -f "exp.$m"
    # ssh-keygen -i -m PEM reads PKCS#1 RSA only, so its own ECDSA export does not come back either.
    ssh-keygen -i -m "$m" -f "exp.$m" >/dev/null 2>&1 || continue
    expect_eq "ssh-keygen -i reads hashi -e -m $m $f" "$(cut -d' ' -f1,2 "$f.pub")" \
      "$(ssh-keygen -i -m "$m" -f "hexp.$m" 2>&1)"
  done
  same "-e from private $f" -e -f "$f"
done
same "-e ed25519 -m PKCS8 refused" -e -m PKCS8 -f ossh/ed25519-openssh.pub

# --- known_hosts -F / -R / -H ----------------------------------------------------------------
K1=$(cut -d' ' -f1,2 ossh/ed25519-openssh.pub)
K2=$(cut -d' ' -f1,2 ossh/rsa3072-openssh.pub)
K3=$(cut -d' ' -f1,2 ossh/ecdsa256-openssh.pub)
{
  echo "# known hosts"
  echo "host1 $K1"
  echo "host2,host3,10.0.0.1 $K2 a comment"
  echo "[host4]:2222 $K3"
  echo ""
  echo "@cert-authority *.example.com $K1"
  echo "@revoked host1 $K3"
  echo "*.wild.com $K2"
  echo "!bad,host5 $K1"
  echo "  host6	$K1 # trailing"
  echo "HOST7,[host7]:22 $K3"
  echo "host1 $K2"
} >kh.plain
cp kh.plain kh.tmp
ssh-keygen -H -f kh.tmp >/dev/null 2>&1
{ cat kh.plain; grep '^|1|' kh.tmp | head -3; } >kh.mixed
HOSTS=(host1 host2 host3 10.0.0.1 "[host4]:2222" host4 host5 bad host6 host7 "[host7]:22" x.wild.com
  a.example.com nothere)
for kh in kh.plain kh.mixed kh.tmp; do
  for h in "${HOSTS[@]}"; do
    same "-F $h $kh" -F "$h" -f "$kh"
    rm -rf A B && mkdir A B && cp "$kh" A/k && cp "$kh" B/k
    want=$(cd A && ssh-keygen -R "$h" -f k 2>/dev/null; echo "rc=$?"; cat k; echo ---; cat k.old 2>/dev/null; ls)
    got=$(cd B && "$HK" -R "$h" -f k 2>/dev/null; echo "rc=$?"; cat k; echo ---; cat k.old 2>/dev/null; ls)
    expect_eq "-R $h $kh" "$want" "$got"
  done
done
rm -rf A B && mkdir A B && cp kh.mixed A/k && cp kh.mixed B/k
(cd A && ssh-keygen -H -f k >out 2>err; echo "rc=$?" >>out)
(cd B && "$HK" -H -f k >out 2>err; echo "rc=$?" >>out)
expect_eq "-H output" "$(cat A/out A/err)" "$(cat B/out B/err)"
expect_eq "-H same lines modulo salts" "$(sed 's/|1|[^ ]*/HASHED/' A/k)" "$(sed 's/|1|[^ ]*/HASHED/' B/k)"
expect_eq "-H keeps .old" "$(cat kh.mixed)" "$(cat B/k.old)"
for h in host1 host2 host3 10.0.0.1 "[host4]:2222" host6 host7 "[host7]:22"; do
  expect_eq "ssh-keygen -F finds $h in hashi's hashed file" "$(ssh-keygen -F "$h" -f A/k | grep -c '^# Host')" \
    "$(ssh-keygen -F "$h" -f B/k | grep -c '^# Host')"
  expect_eq "hashi -F finds $h in ssh-keygen's hashed file" "$(ssh-keygen -F "$h" -f A/k | grep -v '^#')" \
    "$("$HK" -F "$h" -f A/k | grep -v '^#')"
done
printf 'host1 %s\n@bogus host2 %s\nhost3\n' "$K1" "$K2" >kh.bad
for h in host1 host3; do
  rm -rf A B && mkdir A B && cp kh.bad A/k && cp kh.bad B/k
  want=$(cd A && ssh-keygen -R "$h" -f k 2>&1; echo "rc=$?"; cat k; ls)
  got=$(cd B && "$HK" -R "$h" -f k 2>&1; echo "rc=$?"; cat k; ls)
  expect_eq "-R $h on a bad file" "$want" "$got"
done
same "-F missing file" -F host1 -f nonexistent

it_finish
