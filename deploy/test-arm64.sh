#!/bin/bash
# Runs the Pi's (arm64) packages on this PC under qemu's user-mode emulation: the check that the
# cross-built programs start, keep tickets across a kill, draw the board and the kiosk screen, and
# print a ticket, before the packages go to a hall. Not a speed test (emulation is far slower).
#
#   deploy/build-deb.sh --target aarch64-unknown-linux-gnu   # makes target/hallq-debs/*_arm64.deb
#   deploy/test-arm64.sh [DEB_DIR]                           # default: target/hallq-debs
#
# Steps: unpack hallq-hub, hallq-kiosk and hallq-board (arm64) into a scratch root; register a kiosk and a
# board; start the hub; issue three tickets with the kiosk's token and call one; kill the hub with
# SIGKILL and start it again; every ticket is still there in its state and numbering goes on; the
# board (hallq-board --screenshot) and the kiosk screen (hallq-kiosk --screenshot) draw
# the live hall into PNGs; print-test writes a ticket's ESC/POS bytes and their PNG. Artefacts
# stay in the printed directory, to look at.
# Needs: qemu-user (apt-get install qemu-user), libc6:arm64 and the packages' arm64 libraries
# (docs/install.md, "building the packages"), curl, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
debs="${1:-${CARGO_TARGET_DIR:-$repo/target}/hallq-debs}"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() {
    local what="$1"
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

command -v qemu-aarch64 >/dev/null || { echo "test-arm64.sh: qemu-aarch64 is missing (apt-get install qemu-user)" >&2; exit 1; }
# The programs run on the multiarch arm64 C library (libc6:arm64, which the build's :arm64
# packages bring). Not the cross toolchain's copy in /usr/aarch64-linux-gnu: its loader with the
# multiarch libc.so.6 the programs' other libraries pull in hangs in the first pthread_create.
[ -e /lib/ld-linux-aarch64.so.1 ] || { echo "test-arm64.sh: no arm64 C library (dpkg --add-architecture arm64; apt-get install libc6:arm64)" >&2; exit 1; }
newest() { find "$debs" -maxdepth 1 -name "$1" | sort -V | tail -n 1; }
hub_deb=$(newest 'hallq-hub_*_arm64.deb')
kiosk_deb=$(newest 'hallq-kiosk_*_arm64.deb')
board_deb=$(newest 'hallq-board_*_arm64.deb')
if [ -z "$hub_deb" ] || [ -z "$kiosk_deb" ] || [ -z "$board_deb" ]; then
    echo "test-arm64.sh: no arm64 packages in $debs (deploy/build-deb.sh --target aarch64-unknown-linux-gnu)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/hallq-arm64.XXXXXX)
root="$work/root"
data="$work/data"
dpkg-deb -x "$hub_deb" "$root"
dpkg-deb -x "$kiosk_deb" "$root"
dpkg-deb -x "$board_deb" "$root"
echo "packages: $(basename "$hub_deb") $(basename "$kiosk_deb") $(basename "$board_deb"); artefacts in $work"
run() {
    local prog="$1"
    shift
    qemu-aarch64 "$root/usr/bin/$prog" "$@"
}
check "the hub program is an arm64 executable" bash -c "file -L '$root/usr/bin/hallq-hub' | grep -q 'ARM aarch64'"
check "hallq-hub --version runs" run hallq-hub --version
check "hallq-kiosk --version runs" run hallq-kiosk --version

kiosk_token=$(run hallq-hub device add kiosk-1 --role kiosk --data-dir "$data" | awk 'NF { last = $NF } END { print last }')
board_token=$(run hallq-hub device add board-1 --role display --data-dir "$data" | awk 'NF { last = $NF } END { print last }')
echo arm64-pass-1 | run hallq-hub user add clerk1 --role staff --data-dir "$data" >/dev/null
check "devices registered" test -n "$kiosk_token" -a -n "$board_token"

# The packaged hall.toml with a business day that covers any hour this check runs at.
sed -e 's/^opening = .*/opening = "00:00"/' -e 's/^last_ticket = .*/last_ticket = "23:58"/' \
    -e 's/^closing = .*/closing = "23:59"/' "$root/etc/hallq/hall.toml" >"$work/hall.toml"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
hub_pid=""
start_hub() {
    # qemu itself in the background (not a function's subshell), so that $! is the hub.
    qemu-aarch64 "$root/usr/bin/hallq-hub" serve --data-dir "$data" --listen "127.0.0.1:$port" \
        --config "$work/hall.toml" --apply-config >>"$work/hub.log" 2>&1 &
    hub_pid=$!
    # Emulated start-up is slow; a minute at most.
    for _ in $(seq 1 300); do
        curl -fsS "$base/api/v1/health" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
cleanup() {
    [ -z "$hub_pid" ] || kill -9 "$hub_pid" 2>/dev/null || true
}
trap cleanup EXIT
api() { curl -sS --fail-with-body -H 'content-type: application/json' -H "Authorization: Bearer $kiosk_token" "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

check "the hub starts" start_hub
numbers=()
for _ in 1 2 3; do
    numbers+=("$(api -X POST -d '{"service":"pay"}' "$base/api/v1/tickets" | field number)")
done
echo "issued: ${numbers[*]}"
check "three tickets issued" test "${#numbers[@]}" = 3 -a -n "${numbers[2]}"

# The clerk signs in at counter 1 (which serves it in the demo hall), opens it and calls the next.
staff_token=$(curl -fsS -H 'content-type: application/json' -X POST \
    -d '{"login":"clerk1","password":"arm64-pass-1","counter":1}' "$base/api/v1/login" | field token)
staff() { curl -sS --fail-with-body -H 'content-type: application/json' -H "Authorization: Bearer $staff_token" -X POST "$@"; }
staff "$base/api/v1/counters/1/open" >/dev/null
called=$(staff "$base/api/v1/counters/1/next" | field number)
check "a clerk calls the first ticket" test "$called" = "${numbers[0]}"

# While it runs, a second hub on the same data is refused before it writes anything.
if run hallq-hub serve --data-dir "$data" --listen 127.0.0.1:0 >"$work/second.log" 2>&1; then
    fail "a second hub on the same data directory started"
else
    check "a second hub on the same data is refused, saying why" grep -q "in use by process $hub_pid" "$work/second.log"
fi

# (The braces keep bash's "Killed" job notice out of the output.)
{
    kill -9 "$hub_pid"
    wait "$hub_pid" || true
} 2>/dev/null
hub_pid=""
check "the hub starts again after SIGKILL" start_hub
state_of() { api "$base/api/v1/tickets/$1" | field state; }
check "the called ticket is still called" test "$(state_of "${numbers[0]}")" = called
check "the others still wait" test "$(state_of "${numbers[1]}")/$(state_of "${numbers[2]}")" = waiting/waiting
next=$(api -X POST -d '{"service":"pay"}' "$base/api/v1/tickets" | field number || true)
echo "after the restart: $next"
check "numbering goes on without a duplicate" \
    python3 -c "import sys; a = sys.argv[1:]; assert len(set(a)) == 4 and a[3] > a[2], a" "${numbers[@]}" "$next"

png_ok() {
    python3 - "$1" "$2" "$3" <<'EOF'
import struct, sys
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
got = struct.unpack(">II", data[16:24])
assert got == (w, h), f"size {got}"
assert len(data) > 20000, "suspiciously small (blank?)"
EOF
}
check "the board draws the live hall (1920x1080)" \
    run hallq-board --hub "$base" --token "$board_token" --screenshot "$work/board.png"
check "board.png is a full frame" png_ok "$work/board.png" 1920 1080
check "the kiosk screen draws its start screen (1024x600)" \
    run hallq-kiosk --hub "$base" --token "$kiosk_token" --size 1024x600 --screenshot "$work/kiosk.png"
check "kiosk.png is a full frame" png_ok "$work/kiosk.png" 1024 600
check "print-test writes ESC/POS bytes" \
    run hallq-kiosk print-test --printer "file:$work/ticket.bin" --png "$work/ticket.png"
check "the bytes start with the printer's reset (ESC @)" \
    bash -c "head -c 2 '$work/ticket.bin' | od -An -tx1 | grep -q '1b 40'"

kill "$hub_pid" 2>/dev/null || true
wait "$hub_pid" 2>/dev/null || true
hub_pid=""
if [ "$failures" -gt 0 ]; then
    echo "test-arm64.sh: $failures check(s) failed; the hub's log is $work/hub.log" >&2
    exit 1
fi
echo "test-arm64.sh: all checks passed; pictures in $work"
