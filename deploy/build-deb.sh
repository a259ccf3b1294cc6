#!/bin/bash
# Builds the hall's Debian packages into one folder:
#   hallq-hub_<v>_<arch>.deb    the hub: hallq-hub (serve and administration), its unit, nightly
#                               backup and retention, /etc/hallq/hall.toml and hub.env
#   hallq-kiosk_<v>_<arch>.deb  the kiosk station: hallq-kiosk (touch screen, printer, buttons), its
#                               unit, the printer's udev rule, /etc/hallq/kiosk.env
#   hallq-board_<v>_<arch>.deb  hallq-board (display boards, counter screens), its unit, board.env
#   hallq-tools_<v>_all.deb     hallq-setup, hallq-update, hallq-rollback, the install guide
# plus a copy of hallq-setup, so the folder is all a hall needs on a USB stick.
#
#   deploy/build-deb.sh                                   # this machine's architecture
#   deploy/build-deb.sh --target aarch64-unknown-linux-gnu  # Raspberry Pi 4/5, 64-bit Pi OS
#
# Options: --target TRIPLE, --out DIR (default $CARGO_TARGET_DIR/hallq-debs or target/hallq-debs),
#          --fast (CI: release without LTO or optimisation — quicker to build, not for halls),
#          --version V (Debian version, default: the workspace version with revision 1).
# Features: the Pi build uses the crates' `kms` (full screen without a desktop) and `rpi` (GPIO)
# features when they exist; override with HALLQ_KIOSK_FEATURES / HALLQ_BOARD_FEATURES.
# Needs: cargo-deb (cargo install cargo-deb --locked), dpkg-dev, espeak-ng and sox (voice pack); for kms: libinput-dev libudev-dev
# libxkbcommon-dev (the :arm64 ones when cross-building, see docs/install.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
target=""
out=""
fast=0
version=""
while [ $# -gt 0 ]; do
    case "$1" in
    --target) target="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fast) fast=1; shift ;;
    --version) version="$2"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

if ! cargo deb --version >/dev/null 2>&1; then
    echo "build-deb.sh: cargo-deb is missing; install it with: cargo install cargo-deb --locked" >&2
    exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="${out:-$target_dir/hallq-debs}"
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -z "$version" ]; then
    crate_version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)
    version="$crate_version-1"
fi

# The features a crate declares, among those wanted.
features_of() {
    local manifest="$1" wanted="$2" have=()
    for f in $wanted; do
        if grep -q "^$f = " "$manifest"; then
            have+=("$f")
        fi
    done
    (IFS=,; echo "${have[*]}")
}

cargo_args=(--locked --deb-version "$version" --output "$out")
if [ -n "$target" ]; then
    cargo_args+=(--target "$target")
    case "$target" in
    aarch64-unknown-linux-gnu)
        export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}"
        export PKG_CONFIG_ALLOW_CROSS=1
        export PKG_CONFIG_LIBDIR="${PKG_CONFIG_LIBDIR:-/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig}"
        ;;
    esac
fi
# The hub is built with the `hub` profile (small: it stays resident all day, see Cargo.toml);
# --fast builds it like the rest, which is all CI needs to test the packages.
hub_profile=hub
if [ "$fast" = 1 ]; then
    export CARGO_PROFILE_RELEASE_LTO=off
    export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=0
    hub_profile=release
fi

build() {
    local crate="$1" features="$2" profile="${3:-release}"
    local args=("${cargo_args[@]}" -p "$crate" --profile "$profile")
    if [ -n "$features" ]; then
        args+=(--no-default-features --features "$features")
    fi
    echo "== cargo deb ${args[*]}" >&2
    (cd "$repo" && cargo deb "${args[@]}")
}

kiosk_features="${HALLQ_KIOSK_FEATURES-$(features_of "$repo/kiosk/Cargo.toml" "kms rpi")}"
board_features="${HALLQ_BOARD_FEATURES-$(features_of "$repo/display/Cargo.toml" "kms")}"
# The board's voice pack (deploy/voice): made here, byte for byte the same for the same espeak-ng
# and sox, and shipped in hallq-board so that a board speaks from its first call.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
    echo "build-deb.sh: espeak-ng and sox make the voice pack (apt-get install espeak-ng sox)" >&2
    exit 1
fi
rm -rf "$repo/target/hallq-voice-pack"
bash "$here/voice/make-voice-pack.sh" "$repo/target/hallq-voice-pack" >&2
build hallq-hub "" "$hub_profile"
build hallq-kiosk "$kiosk_features"
build hallq-board "$board_features"

# hallq-tools: shell scripts and documents only, the same on every architecture.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -d "$stage/DEBIAN" "$stage/usr/sbin" "$stage/usr/share/doc/hallq-tools/img"
for s in hallq-setup hallq-update hallq-rollback; do
    install -m 0755 "$here/$s" "$stage/usr/sbin/$s"
done
install -m 0644 "$repo/docs/install.md" "$stage/usr/share/doc/hallq-tools/install.md"
for img in "$repo"/docs/img/*.svg; do
    install -m 0644 "$img" "$stage/usr/share/doc/hallq-tools/img/"
done
cat >"$stage/DEBIAN/control" <<CONTROL
Package: hallq-tools
Version: $version
Architecture: all
Maintainer: hallq maintainers <hallq@example.invalid>
Section: misc
Priority: optional
Depends: dpkg, coreutils
Installed-Size: $(du -sk "$stage/usr" | cut -f1)
Description: set-up, update and rollback of the hallq queue system
 hallq-setup prepares a fresh Raspberry Pi OS for the hub or a display board,
 hallq-update installs new packages after a database backup, keeping the
 previous ones, and hallq-rollback returns to them.
CONTROL
dpkg-deb --root-owner-group --build "$stage" "$out/hallq-tools_${version}_all.deb" >/dev/null
install -m 0755 "$here/hallq-setup" "$out/hallq-setup"

echo "packages in $out:" >&2
ls -l "$out"/*.deb >&2
