#!/bin/bash
# Runs a command as root inside a throw-away Debian 12 root file system, so that a test which
# installs packages, adds users and sets the time zone (the set-up, update and rollback life cycle)
# changes that root and not the machine it runs on. The root lives in its own mount and process
# namespace (its /proc, a bind of /dev) and is deleted afterwards; it shares the network, so the
# hub it starts listens on this machine's loopback and apt in it reaches the package archive.
#
# The base root is built once with mmdebstrap from the archive apt uses here and cached outside the
# repository (HALLQ_TEST_CACHE, default /var/cache/hallq-test), named by a hash of its recipe: it is
# rebuilt when missing or when the recipe below changes.
#
#   deploy/in-scratch-root.sh [--copy SRC:DEST]... -- COMMAND [ARGS...]
#
# --copy copies SRC (a file or folder of this machine) to DEST inside the root before COMMAND runs.
set -euo pipefail

suite=bookworm
variant=minbase
# What the life cycle needs beyond a minimal system: the hub's dependencies (so that installing
# the packages does not download them each time), and the tools the test itself calls.
packages=ca-certificates,curl,sqlite3,fontconfig,fonts-wqy-microhei,passwd,tzdata,openssl,procps,python3

copies=()
while [ $# -gt 0 ]; do
    case "$1" in
        --copy) copies+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--copy SRC:DEST]... -- COMMAND [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "in-scratch-root.sh: run as root (it chroots)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "in-scratch-root.sh: mmdebstrap is missing (deploy/dev-setup.sh installs it)" >&2; exit 1; }

cache=${HALLQ_TEST_CACHE:-/var/cache/hallq-test}
key=$(printf '%s\n' "$suite" "$variant" "$packages" "$(dpkg --print-architecture)" | sha256sum | cut -c1-16)
tarball="$cache/scratch-root-$key.tar"
if [ ! -f "$tarball" ] || [ ! -s "$tarball" ]; then
    rm -rf "$tarball" "$tarball.partial"
    echo "building the scratch root ($suite, $variant + $packages) into $tarball"
    mkdir -p "$cache"
    log=$(mktemp)
    if ! mmdebstrap --format=tar --variant="$variant" --include="$packages" "$suite" "$tarball.partial" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$tarball.partial" "$log"
        echo "in-scratch-root.sh: could not build the scratch root" >&2
        exit 1
    fi
    rm -f "$log"
    mv "$tarball.partial" "$tarball"
    # Older recipes' roots are of no use any more.
    find "$cache" -maxdepth 1 -name 'scratch-root-*.tar' ! -name "$(basename "$tarball")" -delete
fi

root=$(mktemp -d /var/tmp/hallq-scratch-root.XXXXXX)
cleanup() { rm -rf --one-file-system "$root"; }
trap cleanup EXIT
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
for c in "${copies[@]}"; do
    src=${c%%:*}
    dest=$root/${c#*:}
    mkdir -p "$(dirname "$dest")"
    cp -a "$src" "$dest"
done

# A private mount namespace: the mounts below vanish with it, whatever happens to this script.
# A private process namespace: whatever the command leaves running is killed when it ends.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --pid --fork --kill-child -- bash -c '
    set -e
    root=$1
    shift
    mount --make-rprivate /
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
' in-scratch-root "$root" "$@"
