#!/usr/bin/env bash
# Installs what building and testing hallq needs on a fresh Debian machine (run as root, or with
# sudo available). Safe to run again: it only installs what is missing.
set -euo pipefail

# Fonts for Chinese on the screens and tickets, fontconfig for Slint, a browser for the staff-page
# tests, speech synthesis for the default voice pack, and the deployment checkers.
packages=(
  pkg-config libfontconfig1-dev fontconfig fonts-noto-cjk fonts-wqy-microhei
  espeak-ng sox alsa-utils
  chromium
  shellcheck systemd dpkg-dev passwd xvfb imagemagick curl
  # The throw-away Debian root the set-up life cycle runs in (deploy/in-scratch-root.sh).
  mmdebstrap
  # The Pi's full-screen (KMS) backend, built into the packages that deploy/test.sh makes.
  libinput-dev libudev-dev libxkbcommon-dev
  # The central service's tests start a PostgreSQL cluster of their own (hallq-central).
  postgresql
)
# The hall in a box (deploy/vm/test-hall.sh, run by deploy/check.sh unless HALLQ_VM=0): an arm64
# machine emulated by QEMU, its Debian image made with debootstrap, and the Pi's packages
# cross-built for it (docs/install.md "Building the packages").
arm64=()
if [ "${HALLQ_VM:-1}" != 0 ]; then
  packages+=(qemu-system-arm qemu-utils debootstrap gpgv e2fsprogs kmod openssh-client
             gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  arm64=(libfontconfig1-dev:arm64 libinput-dev:arm64 libudev-dev:arm64 libxkbcommon-dev:arm64)
fi
# Node.js may come from elsewhere than Debian: an npm on the PATH is enough.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

# The packages of the lists above that are not installed, into `missing`.
find_missing() {
  missing=()
  for p in "${packages[@]}" "${arm64[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
}

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

install_missing() {
  echo "installing: ${missing[*]}"
  if ((${#sudo_cmd[@]})) && ! command -v sudo >/dev/null 2>&1; then
    echo "need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  local log
  log=$(mktemp)
  # The arm64 libraries the cross-build links come from Debian's arm64 archive (multiarch).
  if ((${#arm64[@]})) && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  if ! { "${sudo_cmd[@]}" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "could not install: ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
}

find_missing
if ((${#missing[@]})); then
  install_missing
  # An install may take away a package that was there: a machine that came with a newer
  # qemu-utils (qemu-img) from backports loses it to Debian's qemu-system-arm, which it does not
  # go with. A second pass puts back Debian's own.
  find_missing
  if ((${#missing[@]})); then
    install_missing
    find_missing
  fi
  if ((${#missing[@]})); then
    echo "still not installed after installing: ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs (stable) and run this again" >&2
  exit 1
fi

# Debian packages of hallq are built with cargo-deb (deploy/build-deb.sh, checked by deploy/test.sh).
if [ "${HALLQ_SKIP_CARGO_DEB:-0}" != 1 ] && ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb"
  cargo install cargo-deb --locked --quiet
fi

if ((${#arm64[@]})) && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  echo "adding the Rust target aarch64-unknown-linux-gnu (the Pi's packages)"
  rustup target add aarch64-unknown-linux-gnu
fi
