#!/bin/bash
# The hall in a box: boots two virtual Raspberry Pis (arm64, qemu-system-aarch64 -M virt under
# emulation) from the base image of deploy/vm/image.sh, installs the hall on them exactly as
# docs/install.md tells an installer, and does to them what a real hall does.
#
#   deploy/vm/test-hall.sh [DEB_DIR]     # DEB_DIR: the arm64 release folder (default: built here
#                                        # with deploy/build-deb.sh --target aarch64-unknown-linux-gnu)
#
# Two machines, as in a hall (install.md "What you need"): the door Pi (hub, kiosk touch screen,
# printer) and a board Pi (hall board, speaker). Two guests rather than one with both roles: a
# Pi's screen belongs to one program (DRM master), so the kiosk and the board on one machine would
# need a second card; and the board's way to the hub then crosses a network (the host, standing in
# for the hall's switch: the board Pi reaches the door Pi's forwarded port at 10.0.2.2).
#
# Each check prints ok/FAIL with what was expected; the exit status is the number of failures.
# Artefacts (screens as PNG, the printed ticket's bytes, the board's sound, both consoles and
# journals) stay in the folder printed at the start. Nothing on this machine is changed: the
# guests' disks are copy-on-write overlays in that folder, their ports are on 127.0.0.1.
# Needs: what image.sh needs, plus ssh, scp, curl.
#
# The checks' functions are run by `check` and the EXIT trap, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
debs="${1:-}"
POWER_CUTS=${HALLQ_VM_POWER_CUTS:-10}
failures=0
started=$(date +%s)
# A part of the test, with the minutes and seconds since the start (where the time goes).
part() { printf -- '--- [%s] %s\n' "$(date -u -d "@$(( $(date +%s) - started ))" +%M:%S)" "$*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# The command's output into a file (the check's own line stays on the terminal).
into() {
    local out="$1"
    shift
    "$@" >"$out" 2>&1
}
check() {
    local what="$1"
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

work=$(mktemp -d /tmp/hallq-vm.XXXXXX)
echo "hall in a box: artefacts in $work"
# The base image (built when missing: mostly emulated CPU) and the arm64 packages (this machine's
# compiler) are made side by side. HALLQ_VM_BASE names an image folder made earlier instead;
# HALLQ_VM_CARGO_TARGET_DIR a target folder of its own for this test's builds, so that they need
# not wait for another cargo run's lock (deploy/check.sh runs this beside the other tests).
base=${HALLQ_VM_BASE:-}
if [ -z "$base" ]; then
    bash "$here/image.sh" >"$work/image.out" &
    image_pid=$!
fi
export CARGO_TARGET_DIR="${HALLQ_VM_CARGO_TARGET_DIR:-${CARGO_TARGET_DIR:-$repo/target}}"
if [ -z "$debs" ]; then
    debs="$CARGO_TARGET_DIR/hallq-debs-arm64"
    bash "$repo/deploy/build-deb.sh" --target aarch64-unknown-linux-gnu --fast --out "$debs" >&2
fi
# This machine's side: the board program that draws the reference pictures, and the ticket reader.
# HALLQ_VM_HOST_TOOLS: a folder where another run puts them (deploy/check.sh, from its own build of
# the workspace), with a file `ready` once they are there; waited for (bounded), not built again.
if [ -n "${HALLQ_VM_HOST_TOOLS:-}" ]; then
    for _ in $(seq 1 1800); do [ -e "$HALLQ_VM_HOST_TOOLS/ready" ] && break; sleep 2; done
    host_board="$HALLQ_VM_HOST_TOOLS/hallq-board"
    read_ticket="$HALLQ_VM_HOST_TOOLS/read-ticket"
    if ! [ -x "$host_board" ] || ! [ -x "$read_ticket" ]; then
        echo "FAIL: hallq-board and read-ticket never came to $HALLQ_VM_HOST_TOOLS" >&2
        exit 1
    fi
else
    cargo build -q --locked -p hallq-board --bin hallq-board --manifest-path "$repo/Cargo.toml"
    cargo build -q --locked -p hallq-tests --example read-ticket --manifest-path "$repo/Cargo.toml"
    host_board="$CARGO_TARGET_DIR/debug/hallq-board"
    read_ticket="$CARGO_TARGET_DIR/debug/examples/read-ticket"
fi
if [ -z "$base" ]; then
    wait "$image_pid" || { echo "FAIL: the base image could not be made (deploy/vm/image.sh)" >&2; exit 1; }
    base=$(tail -n 1 "$work/image.out")
fi
part "the base image ($base) and the arm64 packages are ready"
mkdir -p "$work/release"
cp "$debs"/hallq-hub_*_arm64.deb "$debs"/hallq-kiosk_*_arm64.deb "$debs"/hallq-board_*_arm64.deb \
    "$debs"/hallq-tools_*_all.deb "$work/release/"
cp "$repo/deploy/hallq-setup" "$work/release/"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
W=1280
H=720
declare -A ssh_port qmp pidfile
hub_port=$(free_port)
printer_port=$(free_port)

# A guest: its overlay disk, forwarded ports, screen, touch, sound and monitor.
boot() {
    local name="$1" extra=()
    [ -f "$work/$name.qcow2" ] || qemu-img create -q -f qcow2 -b "$base/root.qcow2" -F qcow2 "$work/$name.qcow2" 8G
    [ -n "${ssh_port[$name]:-}" ] || ssh_port[$name]=$(free_port)
    qmp[$name]="$work/$name.qmp"
    pidfile[$name]="$work/$name.pid"
    local fwd="hostfwd=tcp:127.0.0.1:${ssh_port[$name]}-:22"
    if [ "$name" = door ]; then fwd="$fwd,hostfwd=tcp:127.0.0.1:$hub_port-:8080"; fi
    if [ "$name" = board ]; then
        extra=(-audiodev "wav,id=snd,path=$work/board-$(date +%s).wav" -device intel-hda -device "hda-output,audiodev=snd")
    fi
    # The Pi 4's own processor (Cortex-A72). QEMU's "max" model also emulates pointer
    # authentication, which Debian's kernel uses on every function call: its boot alone takes
    # 6 times longer to start init.
    # RTC_BASE: where the machine's clock starts (a Pi has no real-time clock: see the clock checks).
    if [ -n "${RTC_BASE:-}" ]; then extra+=(-rtc "base=$RTC_BASE"); fi
    qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 1 -m 1024 \
        -kernel "$base/vmlinuz" -initrd "$base/initrd.gz" -append "root=/dev/vda console=ttyAMA0 rw ${BOOT_ARGS:-}" \
        -drive "file=$work/$name.qcow2,format=qcow2,if=none,id=root,cache=writethrough" -device virtio-blk-pci,drive=root \
        -netdev "user,id=net,$fwd" -device virtio-net-pci,netdev=net,romfile= \
        -device "virtio-gpu-pci,xres=$W,yres=$H" -device virtio-tablet-pci -device virtio-keyboard-pci \
        "${extra[@]}" \
        -qmp "unix:${qmp[$name]},server=on,wait=off" -serial "file:$work/$name-console-$(date +%s).log" \
        -display none -daemonize -pidfile "${pidfile[$name]}"
}
# One SSH connection per guest, shared by the commands sent to it: a key exchange costs an
# emulated Pi seconds of CPU.
ssh_opts() {
    echo -i "$base/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=10 -o ServerAliveInterval=5 \
        -o ControlMaster=auto -o "ControlPath=$work/ssh-$1" -o ControlPersist=120
}
on() {
    local name="$1"
    shift
    # shellcheck disable=SC2046 # the options are words without spaces
    ssh -q $(ssh_opts "$name") -p "${ssh_port[$name]}" pi@127.0.0.1 "$@"
}
# Copies a folder of this machine into the pi user's home on a guest.
copy_to() {
    # shellcheck disable=SC2046 # the options are words without spaces
    scp -q -r $(ssh_opts "$1") -P "${ssh_port[$1]}" "$2" "pi@127.0.0.1:$3"
}
# Copies a folder of a guest to this machine.
copy_from() {
    # shellcheck disable=SC2046 # the options are words without spaces
    scp -q -r $(ssh_opts "$1") -P "${ssh_port[$1]}" "pi@127.0.0.1:$2" "$3"
}
# The board Pi stands still while only the door Pi is exercised: an emulated board drawing its
# notices takes a whole core of this machine. Resumed, its clock is set right as NTP would.
pause_board() { python3 "$here/qmp.py" "${qmp[board]}" stop; }
resume_board() {
    python3 "$here/qmp.py" "${qmp[board]}" cont
    on board "sudo date -s @$(date +%s)" >/dev/null || true
}
# Waits (bounded) until a guest answers on SSH.
wait_up() {
    local name="$1"
    for _ in $(seq 1 120); do
        if on "$name" true 2>/dev/null; then return 0; fi
        sleep 3
    done
    return 1
}
power_cut() { kill -KILL "$(cat "${pidfile[$1]}")" 2>/dev/null || true; sleep 1; }
cleanup() {
    for name in door board; do
        if [ -n "${pidfile[$name]:-}" ] && [ -f "${pidfile[$name]}" ]; then
            on "$name" sudo journalctl -b --no-pager >"$work/$name-journal.log" 2>/dev/null || true
            power_cut "$name"
        fi
    done
    if [ -n "${printer_pid:-}" ]; then kill "$printer_pid" 2>/dev/null || true; fi
    rm -f "$work"/*.qcow2
    # The pictures, journals and logs are for finding out why something failed; a run that
    # passed leaves nothing behind (HALLQ_VM_KEEP_ARTEFACTS=1 keeps them all the same).
    if [ "$failures" = 0 ] && [ -z "${HALLQ_VM_KEEP_ARTEFACTS:-}" ] && [ "${finished:-}" = yes ]; then
        rm -rf "$work"
    else
        echo "hall in a box: artefacts kept in $work"
    fi
}
trap cleanup EXIT
# Stopped by a signal (CI giving up), the guests are still switched off by the EXIT trap.
trap 'exit 143' TERM INT HUP

hub() { curl -fsS -m 20 -H 'content-type: application/json' "$@"; }
healthy() {
    for _ in $(seq 1 "${1:-100}"); do
        hub "http://127.0.0.1:$hub_port/api/v1/health" >/dev/null 2>&1 && return 0
        sleep 3
    done
    return 1
}
screen() { python3 "$here/qmp.py" "${qmp[$1]}" screendump "$work/$2.ppm" && python3 "$here/pixels.py" png "$work/$2.ppm" "$work/$2.png" && rm -f "$work/$2.ppm"; }

part "two Pis boot from blank copies of the base image"
boot door
boot board
check "the door Pi boots and answers on SSH" wait_up door
check "the board Pi boots and answers on SSH" wait_up board
systemd_runs() { on "$1" systemctl is-system-running --wait | grep -Eq 'running|degraded'; }
check "the door Pi runs systemd" systemd_runs door

part "installed as docs/install.md says"
# The hall's local time is put in business hours (a hall elsewhere, setup's --time-zone), so the test
# can take tickets whenever it runs: UTC+N is Etc/GMT-N.
offset=$(( 11 - 10#$(date -u +%H) ))
if [ "$offset" -ge 0 ]; then tz="Etc/GMT-$offset"; else tz="Etc/GMT+$(( -offset ))"; fi
for name in door board; do copy_to "$name" "$work/release" hallq-release; done
check "hallq-setup on the door Pi (hub with the kiosk screen)" into "$work/setup-door.log" on door \
    "cd ~/hallq-release && sudo HALLQ_MANAGER_PASSWORD=manager-pass-1 ./hallq-setup --role hub \
     --time-zone $tz --hall-name 测试营业厅 --hall-name-en 'Test Hall' --manager manager \
     --kiosk yes --tls no --yes"
check "the hub answers from the host (forwarded port)" healthy
board_token=$(on door sudo runuser -u hallq -- hallq-hub device add board-1 --role display \
    --data-dir /var/lib/hallq | awk 'NF { last = $NF } END { print last }')
check "a board is registered on the hub" test -n "$board_token"
check "hallq-setup on the board Pi" into "$work/setup-board.log" on board \
    "cd ~/hallq-release && sudo ./hallq-setup --role board --hub http://10.0.2.2:$hub_port \
     --token $board_token --time-zone $tz --yes"
check "the board's service runs" on board systemctl is-active --quiet hallq-board
check "the kiosk's service runs" on door systemctl is-active --quiet hallq-kiosk

# What the board shows is compared with what the same board program draws on this machine from
# the same hub, with the guest's own fonts: the same software renderer, so the pixels agree except
# where the clock is.
mkdir -p "$work/fonts" "$work/fc-cache"
copy_from board /usr/share/fonts "$work/fonts/"
printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir><cachedir>%s</cachedir></fontconfig>\n' \
    "$work/fonts" "$work/fc-cache" >"$work/fonts.conf"
reference() {
    FONTCONFIG_FILE="$work/fonts.conf" "$host_board" --hub "http://127.0.0.1:$hub_port" \
        --token "$board_token" --size "${W}x$H" --no-voice --screenshot "$work/$1.png" >/dev/null 2>&1
}
# The share of the box's pixels where the board's screen and this machine's drawing differ.
differ() { python3 "$here/pixels.py" differ "$work/$1.png" "$work/$2.png" "${@:3}"; }
below() { python3 -c "import sys; sys.exit(0 if float('$1') <= float('$2') else 1)"; }
# Waits (bounded) until the board's screen agrees with the drawing in the box.
screen_agrees() {
    local name="$1" box=("${@:2}") d=1
    for _ in $(seq 1 20); do
        screen board "$name"
        reference "$name-reference"
        d=$(differ "$name" "$name-reference" "${box[@]}")
        if below "$d" 0.02; then return 0; fi
        sleep 3
    done
    echo "  $name: $d of the box differs from the drawing (artefacts $name.png, $name-reference.png)" >&2
    return 1
}
# Boxes at 1280×720: the hall's name (left of the clock), the current call.
TITLE=(0 0 700 66)
CALL=(12 156 710 440)
check "the board shows the hall's name the installer gave (测试营业厅)" screen_agrees board-hall "${TITLE[@]}"
cp "$work/board-hall.png" "$work/board-before-call.png"

part "a clerk calls; the board shows it and speaks"
manager=$(hub -X POST -d '{"login":"manager","password":"manager-pass-1"}' \
    "http://127.0.0.1:$hub_port/api/v1/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
auth=(-H "Authorization: Bearer $manager")
hub "${auth[@]}" -X POST "http://127.0.0.1:$hub_port/api/v1/counters/1/open" >/dev/null || true
first=$(hub "${auth[@]}" -X POST -d '{"service":"pay"}' "http://127.0.0.1:$hub_port/api/v1/tickets" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
called=$(hub "${auth[@]}" -X POST "http://127.0.0.1:$hub_port/api/v1/counters/1/next" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
check "the clerk's call is answered with the ticket ($first)" test "$called" = "$first"
sleep 12
check "the board shows the call as drawn here" screen_agrees board-called "${CALL[@]}"
check "the call changed the board where calls show" bash -c \
    "! python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.02 else 1)' \
       \$(python3 '$here/pixels.py' differ '$work/board-before-call.png' '$work/board-called.png' ${CALL[*]})"
loud() {
    local wav
    wav=$(find "$work" -maxdepth 1 -name 'board-*.wav' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
    ! below "$(python3 "$here/pixels.py" loud "$wav")" 0.01
}
check "the board spoke the call (the captured sound is not silent)" loud

part "a customer takes a ticket on the kiosk's touch screen; the ticket is printed"
# A network printer on this machine's side (install.md "The printer": tcp:ADDRESS:9100) that
# answers as a ready printer and keeps every byte it is sent.
python3 "$here/traffic.py" printer "$printer_port" "$work/printed.bin" &
printer_pid=$!
on door "sudo sed -i 's|^HALLQ_PRINTER=.*|HALLQ_PRINTER=tcp:10.0.2.2:$printer_port|' /etc/hallq/kiosk.env && sudo systemctl restart hallq-kiosk"
sleep 15
screen door kiosk-start
before=$(hub "http://127.0.0.1:$hub_port/api/v1/board" | python3 -c 'import json,sys; print(sum(w["waiting"] for w in json.load(sys.stdin)["waiting"]))')
# At 1280×720 the kiosk's layout is scaled by 1.2: 缴费 is the second button of the first row,
# and the detail screen's 取号 button sits at the bottom right.
python3 "$here/qmp.py" "${qmp[door]}" tap 640 272 "$W" "$H"
sleep 4
screen door kiosk-detail
python3 "$here/qmp.py" "${qmp[door]}" tap 1035 640 "$W" "$H"
sleep 12
screen door kiosk-ticket
after=$(hub "http://127.0.0.1:$hub_port/api/v1/board" | python3 -c 'import json,sys; print(sum(w["waiting"] for w in json.load(sys.stdin)["waiting"]))')
check "two touches on the kiosk issued a ticket (waiting $before -> $after)" test "$after" = "$((before + 1))"
printed() { [ -s "$work/printed.bin" ] && python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(0 if b"\x1dv0" in b and b"\x1dV" in b else 1)' "$work/printed.bin"; }
check "the ticket reached the printer as an ESC/POS raster and a cut" printed
# The number on the paper, read from the ticket's QR code (its /t/NUMBER address) in the raster.
printed_url=$("$read_ticket" "$work/printed.bin" | tail -n 1 || true)
printed_number=${printed_url##*/t/}
just_issued() {
    hub "http://127.0.0.1:$hub_port/api/v1/tickets/$printed_number" | python3 -c '
import json, sys, time, datetime
t = json.load(sys.stdin)
issued = datetime.datetime.fromisoformat(t["issued_at"].replace("Z", "+00:00")).timestamp()
sys.exit(0 if t["service"] == "pay" and t["state"] == "waiting" and time.time() - issued < 300 else 1)'
}
check "the printed ticket is the one the hub just issued for the touches (${printed_number:-no QR read})" just_issued

part "figures (BENCHMARKS.md, \"The hall on virtual Pis\")"
figures="$work/figures.txt"
rss_kb() { on "$1" "ps -C $2 -o rss= | awk '{ s += \$1 } END { print s + 0 }'"; }
hub_kb=$(rss_kb door hallq-hub)
kiosk_kb=$(rss_kb door hallq-kiosk)
board_kb=$(rss_kb board hallq-board)
echo "resident memory: hub $hub_kb kB, kiosk screen $kiosk_kb kB, board $board_kb kB, together $((hub_kb + kiosk_kb + board_kb)) kB" | tee -a "$figures"
# The board idle with its notices scrolling: CPU ticks (1/100 s) over 60 s, as a share of one core.
board_ticks() { on board "awk '{ print \$14 + \$15 }' /proc/\$(pidof hallq-board)/stat"; }
t0=$(board_ticks)
sleep 60
t1=$(board_ticks)
echo "board idle CPU in the guest: $(( (t1 - t0) * 100 / 6000 )) % of one emulated core (60 s)" | tee -a "$figures"
# The emulator's slow-down: the same CPU-bound program (an awk loop) here and in the guest.
spin='BEGIN { s = 0; for (i = 0; i < 10000000; i++) s += i % 7; print s }'
timed() { s=$(date +%s.%N); mawk "$spin" >/dev/null; e=$(date +%s.%N); mawk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }
native_s=$(timed)
guest_s=$(on board "spin='$spin'; $(declare -f timed); timed")
echo "CPU-bound mawk loop: native $native_s s, guest $guest_s s" | tee -a "$figures"

part "watchdog: the hub hangs"
hub_pid() { on door systemctl show -p MainPID --value hallq-hub; }
frozen=$(hub_pid)
on door sudo kill -STOP "$frozen"
frozen_at=$(date +%s)
reconnecting() {
    local d
    for _ in $(seq 1 30); do
        screen board board-reconnecting
        # "正在重新连接" takes the place of the current call.
        d=$(differ board-reconnecting board-called "${CALL[@]}")
        if ! below "$d" 0.05; then return 0; fi
        sleep 2
    done
    return 1
}
restarted() {
    local pid
    for _ in $(seq 1 40); do
        pid=$(hub_pid 2>/dev/null || true)
        if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$frozen" ] && healthy 1; then return 0; fi
        sleep 3
    done
    return 1
}
check "the board says it is reconnecting while the hub hangs" reconnecting
check "systemd's watchdog restarts the hung hub (WatchdogSec=30s)" restarted
echo "  restarted $(( $(date +%s) - frozen_at )) s after the hub froze"
watchdog_logged() { on door sudo journalctl -u hallq-hub --no-pager | grep -q 'Watchdog timeout'; }
check "the journal says the watchdog fired" watchdog_logged
check "the called ticket is still called after the restart" bash -c \
    "curl -fsS http://127.0.0.1:$hub_port/api/v1/tickets/$first | grep -q '\"state\":\"called\"'"
check "the board is back on the live hall" screen_agrees board-after-watchdog "${CALL[@]}"

url="http://127.0.0.1:$hub_port"
part "an update and a rollback with customers waiting (install.md \"Updates and rollback\")"
# The update is this release again under a higher version (+update1): what is checked is the path
# (backup, install, services back, board reconnects, nothing waiting lost), not new code.
mkdir -p "$work/update"
for deb in "$work"/release/*.deb; do
    unpacked=$(mktemp -d "$work/repack.XXXXXX")
    dpkg-deb -R "$deb" "$unpacked/p"
    sed -i 's/^Version: .*/&+update1/' "$unpacked/p/DEBIAN/control"
    dpkg-deb -b -Zgzip "$unpacked/p" "$work/update/" >/dev/null
    rm -rf "$unpacked"
done
copy_to door "$work/update" hallq-update
for _ in 1 2 3; do
    n=$(python3 "$here/traffic.py" issue "$url" || true)
    printf '{"issued": "%s"}\n' "$n" >>"$work/acknowledged.jsonl"
done
waiting_before=$(hub "$url/api/v1/board" | python3 -c 'import json,sys; print(sum(w["waiting"] for w in json.load(sys.stdin)["waiting"]))')
check "hallq-update installs the new version on the running door Pi" into "$work/update.log" on door \
    "cd ~/hallq-update && sudo hallq-update hallq-hub_*.deb hallq-kiosk_*.deb hallq-tools_*.deb"
# shellcheck disable=SC2016 # expanded by dpkg-query on the guest
installed() { on door dpkg-query -W -f='\${Version}' hallq-hub; }
check "the hub runs the new version ($(installed))" bash -c "[[ '$(installed)' == *+update1 ]]"
healthy 100 || true
check "nobody waiting was lost in the update" python3 "$here/traffic.py" verify-kept "$url" "$work/acknowledged.jsonl"
waiting_after=$(hub "$url/api/v1/board" | python3 -c 'import json,sys; print(sum(w["waiting"] for w in json.load(sys.stdin)["waiting"]))')
check "the same customers wait after the update ($waiting_before, then $waiting_after)" test "$waiting_before" = "$waiting_after"
sleep 20
check "the board reconnected by itself after the update" screen_agrees board-after-update "${CALL[@]}"
check "hallq-rollback goes back to the previous version" into "$work/rollback.log" on door "sudo hallq-rollback"
check "the hub runs the previous version again ($(installed))" bash -c "[[ '$(installed)' != *+update1 ]]"
healthy 100 || true
check "nobody waiting was lost in the rollback, and numbering goes on" \
    python3 "$here/traffic.py" verify "$url" "$work/acknowledged.jsonl"
sleep 20
check "the board reconnected by itself after the rollback" screen_agrees board-after-rollback "${CALL[@]}"

pause_board
part "power cuts while tickets are issued and called ($POWER_CUTS times)"
cuts_ok=0
for cut in $(seq 1 "$POWER_CUTS"); do
    rm -f "$work/acknowledged.jsonl.ready"
    python3 "$here/traffic.py" run "http://127.0.0.1:$hub_port" "$work/acknowledged.jsonl" 120 &
    traffic=$!
    for _ in $(seq 1 100); do [ -e "$work/acknowledged.jsonl.ready" ] && break; sleep 0.2; done
    # A random moment in the next 2–12 s of traffic.
    sleep "$(python3 -c 'import random; print(round(random.uniform(2, 12), 2))')"
    power_cut door
    wait "$traffic" || true
    boot door
    # Back by itself: the hub answers without anyone logging in to the machine.
    if healthy 100 &&
        python3 "$here/traffic.py" verify "http://127.0.0.1:$hub_port" "$work/acknowledged.jsonl" >"$work/cut-$cut.txt" 2>&1; then
        cuts_ok=$((cuts_ok + 1))
    else
        echo "  power cut $cut: $(tail -n 3 "$work/cut-$cut.txt" 2>/dev/null)" >&2
    fi
done
echo "  $(tail -n 1 "$work/cut-$POWER_CUTS.txt" 2>/dev/null)"
check "after each of $POWER_CUTS power cuts the hall came back by itself with nothing acknowledged lost" \
    test "$cuts_ok" = "$POWER_CUTS"

check "the door Pi answers on SSH again" wait_up door

part "the data partition fills up"
# As root, fallocate takes what ordinary users may still use; the hub (user hallq) then has nothing,
# while root keeps ext4's reserve, so the machine itself goes on.
fill_disk() {
    # shellcheck disable=SC2016 # expanded on the guest
    on door 'avail=$(df --output=avail -B1 /var/lib/hallq | tail -n 1)
             sudo fallocate -l "$avail" /var/lib/hallq/filler || sudo fallocate -l "$((avail - 1048576))" /var/lib/hallq/filler'
}
HALLQ_TOKEN=$(python3 "$here/traffic.py" token "$url")
export HALLQ_TOKEN
check "the data partition is filled" fill_disk
# SQLite may still reuse room inside its log for a few tickets: issue until refused (bounded).
refused=""
for _ in $(seq 1 300); do
    n=$(python3 "$here/traffic.py" issue "$url" || true)
    case "$n" in
    refused*) refused=$n; break ;;
    "") break ;;
    *) printf '{"issued": "%s"}\n' "$n" >>"$work/acknowledged.jsonl" ;;
    esac
done
check "new tickets are refused with the disk-full answer (${refused:-none refused})" test "$refused" = "refused 507 disk_full"
check "the staff are told the disk is full" test -n "$(python3 "$here/traffic.py" storage "$url")"
check "with the disk full every acknowledged ticket is still there" \
    python3 "$here/traffic.py" verify-kept "$url" "$work/acknowledged.jsonl"
on door sudo rm -f /var/lib/hallq/filler
check "once space is freed tickets are taken again and numbering goes on" \
    python3 "$here/traffic.py" verify "$url" "$work/acknowledged.jsonl"
unset HALLQ_TOKEN

part "no real-time clock: the door Pi boots with its clock a day behind, then NTP sets it right"
# A Pi has no real-time clock: at boot systemd-timesyncd sets the clock to the time it last saved
# (/var/lib/systemd/timesync/clock), so after a night without power the Pi starts at yesterday's
# time until NTP answers (this network has no NTP). That is made here: timesyncd stopped (it saves
# on stop), its saved time put a day back, and -M virt's own real-time clock started a day behind.
clock_problem() { python3 "$here/traffic.py" clock "$url"; }
hub_logged() { on door sudo journalctl -u hallq-hub -b --no-pager | grep -q "$1"; }
ticket_seq() { echo "$1" | tr -dc '0-9' | sed 's/^0*//'; }
# The saved time is synced to the disk before the cut, or the cut takes it back.
on door "sudo systemctl stop systemd-timesyncd && sudo touch -d '-1 day' /var/lib/systemd/timesync/clock && sync" || true
power_cut door
RTC_BASE=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%S) boot door
if wait_up door; then healthy 100 || true; fi
yesterday=$(TZ=$tz date -d '-1 day' +%F)
guest_now=$(on door "date '+%F %T %z'" || true)
check "the door Pi's clock reads yesterday ($yesterday; the guest says $guest_now)" test "${guest_now%% *}" = "$yesterday"
check "with the clock a day behind every acknowledged ticket is there and numbering goes on" \
    python3 "$here/traffic.py" verify "$url" "$work/acknowledged.jsonl"
check "the staff are told the clock reads a day before the business day" test -n "$(clock_problem)"
check "the hub's log says what it saw" hub_logged "before the business day"
on door "sudo date -s @$(date +%s)" >/dev/null
sleep 15
check "the hub's log says the clock jumped when it was set right" hub_logged "the clock jumped"
check "with the clock set right nothing acknowledged is lost and numbering goes on" \
    python3 "$here/traffic.py" verify "$url" "$work/acknowledged.jsonl"
left=$(clock_problem || true)
on door sudo journalctl -u hallq-hub -b --no-pager >"$work/hub-journal-clock-behind.log" 2>&1 || true
check "the staff's clock alert is gone once the clock is right (${left:-gone})" test -z "$left"

part "... and the other way round: a day ahead, then set right"
# Nobody can tell a clock a day ahead from a new morning without NTP: the hall begins that day.
# Once the clock is set right, numbering must not start again and the staff must hear of it.
power_cut door
RTC_BASE=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S) boot door
if wait_up door; then healthy 100 || true; fi
ahead=$(python3 "$here/traffic.py" issue "$url" || true)
on door "sudo date -s @$(date +%s)" >/dev/null
sleep 15
after=$(python3 "$here/traffic.py" issue "$url" || true)
check "no number is given twice when the clock comes back from a day ahead ($ahead, then $after)" \
    test "$(ticket_seq "$after")" -gt "$(ticket_seq "$ahead")"
check "the staff are told the clock reads before the newest recorded event" test -n "$(clock_problem)"

resume_board
check "the board is back on the live hall after the power cuts and clock changes, by itself" \
    screen_agrees board-after-cuts "${CALL[@]}"

part "the board Pi is switched off and on: the board comes back by itself"
on board sudo systemctl reboot || true
sleep 10
if wait_up board; then
    sleep 20
    # The board program's start, counted from the kernel's: the uptime less the program's age.
    started_s=$(on board "echo \$(cut -d' ' -f1 /proc/uptime) \$(ps -o etimes= -C hallq-board | head -n 1)" | awk '{ printf "%.0f", $1 - $2 }')
    echo "board Pi: boot to the board program running: $started_s s (emulated)" | tee -a "$figures"
fi
sleep 10
check "after the board Pi's reboot the board shows the live hall by itself" screen_agrees board-after-reboot "${CALL[@]}"
cat "$figures"

if [ -n "${HALLQ_VM_KEEP:-}" ]; then
    echo "the guests stay up for $HALLQ_VM_KEEP s: door SSH ${ssh_port[door]}, board SSH ${ssh_port[board]}, hub $hub_port"
    sleep "$HALLQ_VM_KEEP"
fi
finished=yes
exit "$failures"
