#!/usr/bin/env bash
# Installs the Debian packages hashi needs to build, test and benchmark, when they are missing.
# Safe to run again: it asks apt only for what dpkg does not already have. Needs root on Debian 12.
set -eu
packages=(
  # build
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  # libraries
  libssl-dev libasio-dev libpam0g-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  # reference peers for the interop tests and benchmarks
  openssh-client openssh-server openssh-sftp-server dropbear-bin putty-tools
  # test helpers
  expect socat procps psmisc coreutils debootstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts its own sshd when the package arrives; tests start their own on other ports.
  if printf '%s\n' "${missing[@]}" | grep -qx openssh-server; then
    systemctl disable --now ssh >/dev/null 2>&1 || service ssh stop >/dev/null 2>&1 || true
  fi
fi
mkdir -p /run/sshd 2>/dev/null || true
