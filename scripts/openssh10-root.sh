#!/usr/bin/env bash
# Makes, once per machine, a minimal Debian 13 root holding OpenSSH 10 (with OpenSSL 3.5 and its
# ML-KEM), the way a user would get a second distribution: debootstrap from the Debian mirror apt
# already uses. Prints the root's path. Tests run its ssh/sshd with `chroot ROOT` on 127.0.0.1.
#   OPENSSH10_ROOT=/opt/openssh10 (default)
set -u
root=${OPENSSH10_ROOT:-/opt/openssh10}
if [ -x "$root/usr/sbin/sshd" ]; then echo "$root"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "openssh10-root: need root to create $root with debootstrap" >&2
  exit 1
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
if [ -z "$mirror" ]; then
  echo "openssh10-root: no Debian mirror found in the apt sources" >&2
  exit 1
fi
log=/tmp/openssh10-debootstrap.log
rm -rf "$root.tmp"
if ! debootstrap --variant=minbase --include=openssh-client,openssh-server,openssh-sftp-server \
    trixie "$root.tmp" "$mirror" >"$log" 2>&1; then
  echo "openssh10-root: debootstrap of Debian 13 from $mirror failed (see $log)" >&2
  exit 1
fi
mv "$root.tmp" "$root"
echo "$root"
