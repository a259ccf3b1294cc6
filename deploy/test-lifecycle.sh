#!/bin/bash
# A hub's life on this machine, as root, with the real packages and scripts: hallq-setup of the last
# release before the renames of 0.2 on a fresh system (with a display board's package beside it),
# the hub started as the unit starts it (as user hallq, on 127.0.0.1), a callback taken, hallq-setup
# run again (changes nothing); then that release's own hallq-update to the renamed packages (the
# hub's program becomes hallq-hub, the kiosk its own package hallq-kiosk, the board's program
# hallq-board) with data, accounts, device tokens and switched-on units kept, and hallq-rollback
# back to it; then, on the renamed release, hallq-update to a newer version (online backup first),
# the hub started again on the same data, and hallq-rollback twice: once with the schema unchanged
# (the database is kept) and once as if the update had moved the schema forward (the pre-update
# backup is restored and the newer database kept beside it). Systemd need not run.
#
# It installs packages, creates the hallq user, sets the time zone and writes /etc/hallq and
# /var/lib/hallq: it belongs on a throw-away system. deploy/test.sh runs it (when CI=true or
# HALLQ_TEST_LIFECYCLE=1) inside a throw-away Debian root made by deploy/in-scratch-root.sh.
#
#   deploy/test-lifecycle.sh DIR_WITH_PRE_0.2_DEBS DIR_WITH_VERSION_A_DEBS DIR_WITH_VERSION_B_DEBS
set -euo pipefail

old="$1"
a="$2"
b="$3"
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
port=$((20000 + RANDOM % 20000))
hub_pid=""
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() {
    local what="$1"
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
cleanup() {
    if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null || true; fi
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq hallq-hub hallq-kiosk hallq-board hallq-tools >/dev/null 2>&1 || true
    userdel hallq 2>/dev/null || true
    groupdel hallq 2>/dev/null || true
    rm -rf /var/lib/hallq /var/lib/hallq-packages /etc/hallq
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "test-lifecycle.sh: run as root" >&2; exit 1; }
if id hallq >/dev/null 2>&1 || dpkg-query -W hallq-hub >/dev/null 2>&1; then
    echo "test-lifecycle.sh: hallq is already installed on this machine; refusing to touch it" >&2
    trap - EXIT
    exit 1
fi

# The hub's program: hallq-hub since 0.2, hallq-kiosk before.
hub_program() {
    if [ -x /usr/bin/hallq-hub ]; then echo /usr/bin/hallq-hub; else echo /usr/bin/hallq-kiosk; fi
}
start_hub() {
    runuser -u hallq -- "$(hub_program)" serve --data-dir /var/lib/hallq \
        --listen "127.0.0.1:$port" --config /etc/hallq/hall.toml >>/tmp/hallq-lifecycle-hub.log 2>&1 &
    hub_pid=$!
    # Up to 30 s: on a 2-core machine busy with builds a start took longer than 10 s.
    for _ in $(seq 1 150); do
        curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
stop_hub() {
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
    hub_pid=""
}
api() { curl -fsS -H 'content-type: application/json' "$@"; }
manager_token() {
    api -X POST -d '{"login":"manager","password":"manager-pass-1"}' \
        "http://127.0.0.1:$port/api/v1/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
callback_reasons() {
    api -H "Authorization: Bearer $(manager_token)" "http://127.0.0.1:$port/api/v1/callbacks" |
        python3 -c 'import json,sys; print(" ".join(sorted(c["reason"] for c in json.load(sys.stdin))))'
}
take_callback() {
    local token
    token=$(sed -n 's/^HALLQ_KIOSK_TOKEN=//p' /etc/hallq/kiosk.env | tr -d '"')
    api -X POST -H "Authorization: Bearer $token" \
        -d "{\"phone\":\"13812345678\",\"consent\":true,\"reason\":\"$1\"}" \
        "http://127.0.0.1:$port/api/v1/callbacks" >/dev/null
}
version() { dpkg-query -W -f='${Version}' "$1"; }
not_installed() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
switched_on() { [ -L "/etc/systemd/system/multi-user.target.wants/$1" ] && [ -f "/usr/lib/systemd/system/$1" ]; }

vo=$(dpkg-deb -f "$(ls "$old"/hallq-hub_*_"$arch".deb)" Version)
va=$(dpkg-deb -f "$(ls "$a"/hallq-hub_*_"$arch".deb)" Version)
vb=$(dpkg-deb -f "$(ls "$b"/hallq-hub_*_"$arch".deb)" Version)
cp "$here/hallq-setup" "$a/"
old_board=$(ls "$old"/hallq-board_*_"$arch".deb)

echo "--- setup of the last release before the renames ($vo), as its own guide said"
check "hallq-setup ($vo) on a fresh system" env HALLQ_MANAGER_PASSWORD=manager-pass-1 \
    bash "$old/hallq-setup" --role hub --debs "$old" --hall-name 测试营业厅 --hall-name-en "Test Hall" \
    --kiosk yes --yes
check "hub $vo installed" test "$(version hallq-hub)" = "$vo"
check "the kiosk has a device token" grep -q '^HALLQ_KIOSK_TOKEN=.' /etc/hallq/kiosk.env
check "the hub starts as user hallq (hallq-kiosk serve)" start_hub
check "the hall's name is on the board" \
    bash -c "curl -fsS http://127.0.0.1:$port/api/v1/board | grep -q 测试营业厅"
check "the kiosk's token takes a callback" take_callback before-update
check "the manager signs in and sees it" test "$(callback_reasons)" = before-update
token_before=$(grep '^HALLQ_KIOSK_TOKEN=' /etc/hallq/kiosk.env)
check "hallq-setup ($vo) again" env HALLQ_MANAGER_PASSWORD=manager-pass-1 \
    bash "$old/hallq-setup" --role hub --debs "$old" --hall-name 测试营业厅 --kiosk yes --yes
check "a second setup keeps the kiosk's token" test "$(grep '^HALLQ_KIOSK_TOKEN=' /etc/hallq/kiosk.env)" = "$token_before"
# What hallq-setup does where systemd runs (it switches the screen on), and a board's package beside
# the hub, as on a hall whose hub Pi also drives a TV.
check "the kiosk screen switched on" systemctl enable hallq-kiosk.service
check "a board package ($vo) beside the hub" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$old_board"
cp "$old_board" /var/lib/hallq-packages/
sed -i 's/^HALLQ_TOKEN=.*/HALLQ_TOKEN=board-token-kept/' /etc/hallq/board.env
check "the board switched on" systemctl enable hallq-board.service
stop_hub

echo "--- update $vo -> $va (the renamed packages), with $vo's own hallq-update"
schema_of() { sqlite3 -readonly /var/lib/hallq/hallq.db 'PRAGMA user_version'; }
schema_before=$(schema_of)
check "the hub runs" start_hub
check "hallq-update ($vo) with every package of $va" /usr/sbin/hallq-update \
    "$a"/hallq-hub_*_"$arch".deb "$a"/hallq-kiosk_*_"$arch".deb "$a"/hallq-board_*_"$arch".deb \
    "$a"/hallq-tools_*_all.deb
stop_hub
for p in hallq-hub hallq-kiosk hallq-board hallq-tools; do
    check "$p $va installed" test "$(version $p)" = "$va"
done
check "the hub's program is hallq-hub" test -x /usr/bin/hallq-hub
check "hallq-hub starts on the same data" start_hub
check "nothing lost in the update" test "$(callback_reasons)" = before-update
# A rollback keeps the database when the update left its schema alone, and puts the pre-update
# backup back when it moved it (the old hub cannot open a newer schema): what was taken between
# update and rollback is then in the newer database kept beside it, not in the hall's.
schema_after=$(schema_of)
if [ "$schema_after" = "$schema_before" ]; then kept="after-update "; else kept=""; fi
echo "schema $schema_before before the update, $schema_after after it"
check "the manager's account and password kept" test -n "$(manager_token)"
check "the kiosk's token kept in kiosk.env" test "$(grep '^HALLQ_KIOSK_TOKEN=' /etc/hallq/kiosk.env)" = "$token_before"
check "the kiosk's token still accepted" take_callback after-update
check "the board's token kept in board.env" grep -qx 'HALLQ_TOKEN=board-token-kept' /etc/hallq/board.env
check "the kiosk screen still switched on" switched_on hallq-kiosk.service
check "the board still switched on" switched_on hallq-board.service
check "the kiosk unit runs the kiosk program" grep -q '^ExecStart=/usr/bin/hallq-kiosk --hub' /usr/lib/systemd/system/hallq-kiosk.service
check "hallq-kiosk is the kiosk now" bash -c "/usr/bin/hallq-kiosk --help | grep -q print-test"
check "hallq-kiosk serve says where the hub went" bash -c \
    "/usr/bin/hallq-kiosk serve --data-dir /var/lib/hallq 2>&1 | grep -q 'Run instead:  hallq-hub serve --data-dir /var/lib/hallq'"
check "hallq-display says where the board went" bash -c "hallq-display 2>&1 | grep -q 'Run instead:  hallq-board'"
check "the board's program is hallq-board" bash -c "/usr/bin/hallq-board --help | grep -q -- --hub"
stop_hub

echo "--- rollback to $vo (with $va's hallq-rollback)"
check "hallq-rollback" hallq-rollback
for p in hallq-hub hallq-board hallq-tools; do
    check "$p $vo back" test "$(version $p)" = "$vo"
done
check "the kiosk package the update added is gone" not_installed hallq-kiosk
check "no hallq-hub program" test ! -e /usr/bin/hallq-hub
check "the old hub starts (hallq-kiosk serve)" start_hub
if [ -n "$kept" ]; then
    check "both callbacks there" test "$(callback_reasons)" = "after-update before-update"
else
    check "the update moved the schema: the pre-update data is back" test "$(callback_reasons)" = before-update
    check "the newer database is kept beside it" bash -c 'ls /var/lib/hallq/hallq.db.replaced-* >/dev/null'
fi
check "the kiosk's token kept" test "$(grep '^HALLQ_KIOSK_TOKEN=' /etc/hallq/kiosk.env)" = "$token_before"
check "the kiosk's screen program back" test -x /usr/bin/hallq-kiosk-screen
check "the board's token kept" grep -qx 'HALLQ_TOKEN=board-token-kept' /etc/hallq/board.env
check "the kiosk screen switched on again" switched_on hallq-kiosk.service
check "the board switched on again" switched_on hallq-board.service
stop_hub

refuses_without_kiosk() {
    local out
    if out=$(bash "$here/hallq-update" "$a"/hallq-hub_*_"$arch".deb "$a"/hallq-tools_*_all.deb 2>&1); then
        return 1
    fi
    grep -q "add hallq-kiosk_" <<<"$out" && [ "$(version hallq-hub)" = "$vo" ]
}
check "$va's hallq-update refuses a $vo hub without the kiosk package, and installs nothing" \
    refuses_without_kiosk

echo "--- update $vo -> $va again; then life on the renamed release"
check "hallq-update ($vo) again" /usr/sbin/hallq-update \
    "$a"/hallq-hub_*_"$arch".deb "$a"/hallq-kiosk_*_"$arch".deb "$a"/hallq-board_*_"$arch".deb \
    "$a"/hallq-tools_*_all.deb
check "hub $va installed" test "$(version hallq-hub)" = "$va"
check "hallq-setup ($va) on the updated hall" env HALLQ_MANAGER_PASSWORD=manager-pass-1 \
    bash "$a/hallq-setup" --role hub --debs "$a" --hall-name 测试营业厅 --kiosk yes --yes
check "setup ($va) keeps the kiosk's token" test "$(grep '^HALLQ_KIOSK_TOKEN=' /etc/hallq/kiosk.env)" = "$token_before"

echo "--- update to $vb (the hub keeps running during the backup)"
check "the hub runs" start_hub
check "hallq-update" hallq-update "$b"/hallq-hub_*_"$arch".deb "$b"/hallq-kiosk_*_"$arch".deb "$b"/hallq-tools_*_all.deb
check "hub $vb installed" test "$(version hallq-hub)" = "$vb"
check "kiosk $vb installed" test "$(version hallq-kiosk)" = "$vb"
check "pre-update backup taken" bash -c 'ls /var/lib/hallq/backups/pre-update/hallq-*.db >/dev/null'
check "previous packages kept" test -f "/var/lib/hallq-packages/hallq-hub_${va}_$arch.deb"
stop_hub
check "the new hub starts on the same data" start_hub
check "nothing lost in the update" test "$(callback_reasons)" = "${kept}before-update"
take_callback after-vb
stop_hub

echo "--- rollback, schema unchanged"
check "hallq-rollback" hallq-rollback
check "hub $va back" test "$(version hallq-hub)" = "$va"
check "kiosk $va back" test "$(version hallq-kiosk)" = "$va"
check "the kiosk screen still switched on" switched_on hallq-kiosk.service
check "the old hub starts" start_hub
check "the database was kept (every callback)" test "$(callback_reasons)" = "${kept}after-vb before-update"
stop_hub

echo "--- rollback after an update that moved the schema forward"
check "hallq-update again" hallq-update "$b"/hallq-hub_*_"$arch".deb "$b"/hallq-kiosk_*_"$arch".deb "$b"/hallq-tools_*_all.deb
check "the new hub starts" start_hub
take_callback after-second-update
stop_hub
# Pretend the backup was taken at an older schema: rollback must then restore it.
sed -i 's/^schema=.*/schema=0/' /var/lib/hallq-packages/last-update
check "hallq-rollback restores the pre-update backup" hallq-rollback
check "the newer database is kept beside it" bash -c 'ls /var/lib/hallq/hallq.db.replaced-* >/dev/null'
check "the old hub starts on the restored database" start_hub
check "restored data is the pre-update data" test "$(callback_reasons)" = "${kept}after-vb before-update"
stop_hub

echo "$failures failure(s)"
[ "$failures" = 0 ]
