#!/bin/bash
# The deployment's CI check (Debian 12, as root, no running systemd needed). Exits non-zero on any
# failure. Steps:
#   1. shellcheck on every script (setup, update, rollback, build, this one, maintainer scripts);
#      the common block of the postinst scripts is the same in every package;
#   2. the default hall.toml parses (cargo test, hallq-tests deploy_config; with the workspace's
#      features, like step 3, so that nothing is compiled again);
#   3. the backup-restore round trip on a real database with a writer running
#      (the workspace's library tests named "backup": built with the workspace's features, so
#      after `cargo test --workspace` nothing is compiled again);
#   4. the host architecture's packages build (deploy/build-deb.sh; --fast unless HALLQ_TEST_FULL=1);
#   5. they install into a scratch root with dpkg --root (maintainer scripts run chrootless with
#      DPKG_ROOT) and the result is checked: files, the hallq user and its groups, directory owners
#      and modes, token files 0600, enabled units; systemd-analyze verify --root on the installed
#      units (which also checks the ExecStart binaries are there), systemd-analyze security scores
#      under a threshold; a second configure changes
#      nothing; reinstall (upgrade path) works; purge removes the units and keeps the data.
#   6. with CI=true (or HALLQ_TEST_LIFECYCLE=1): test-lifecycle.sh — setup, update, rollback with
#      the real packages — inside a throw-away Debian root (deploy/in-scratch-root.sh), so that
#      installing them, adding the hallq user and setting the time zone leave this machine as it was.
# Needs: shellcheck, systemd (systemd-analyze), dpkg-dev, passwd, cargo-deb (see build-deb.sh),
# mmdebstrap (step 6).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
failures=0
step() { printf '\n=== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() {
    local what="$1"
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
# Run a command and say how long it took; its exit status is the command's (a check around it
# must see a failure).
timed() {
    local start=$SECONDS rc=0
    "$@" || rc=$?
    echo "(took $((SECONDS - start)) s)"
    return "$rc"
}

# None of the hall's packages is installed on this machine.
none_installed() {
    local p
    for p in hallq-hub hallq-kiosk hallq-board hallq-tools; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then return 1; fi
    done
}

# The last release before the renames of 0.2 (hub program hallq-kiosk, kiosk screen inside the
# hallq-hub package, board program hallq-display). HALLQ_PRE_RENAME_DEBS may name a folder with
# its packages already built.
PRE_RENAME_COMMIT=c4191fdc9a9348ff3c16fd8b2356cbc39dbc1896
old_debs() {
    local dest="$1"
    if [ -n "${HALLQ_PRE_RENAME_DEBS:-}" ]; then
        cp -a "$HALLQ_PRE_RENAME_DEBS" "$dest"
        return 0
    fi
    if ! git -C "$repo" cat-file -e "$PRE_RENAME_COMMIT^{commit}" 2>/dev/null; then
        fail "the commit of the last release before the renames ($PRE_RENAME_COMMIT) is not in this clone's history: clone the repository whole (not --depth), or set HALLQ_PRE_RENAME_DEBS"
        return 1
    fi
    local src
    src=$(mktemp -d)
    git -C "$repo" archive "$PRE_RENAME_COMMIT" | tar -x -C "$src"
    # Same target folder: only the workspace's own crates are compiled again.
    if ! HALLQ_DISPLAY_FEATURES="${HALLQ_BOARD_FEATURES-}" timed "$src/deploy/build-deb.sh" "${fast[@]}" --out "$dest" >/dev/null; then
        fail "building the packages of the last release before the renames"
        rm -rf "$src"
        return 1
    fi
    rm -rf "$src"
}

step "1. shellcheck"
scripts=("$here"/hallq-setup "$here"/hallq-update "$here"/hallq-rollback "$here"/build-deb.sh "$here"/test.sh "$here"/test-lifecycle.sh "$here"/test-arm64.sh "$here"/in-scratch-root.sh "$here"/vm/image.sh "$here"/vm/test-hall.sh)
maint=("$here"/debian/hub/* "$here"/debian/kiosk/* "$here"/debian/board/* "$here"/compat/*)
check "shellcheck bash scripts" shellcheck "${scripts[@]}"
check "shellcheck maintainer scripts (POSIX sh)" shellcheck -s sh "${maint[@]}"
common_block() { sed -n '/^# --- common/,/^# --- end common/p' "$1"; }
for p in kiosk board; do
    check "postinst common block identical (hub, $p)" \
        cmp -s <(common_block "$here/debian/hub/postinst") <(common_block "$here/debian/$p/postinst")
done

step "1b. the setup script's file edits"
edits=$(mktemp -d)
cp "$here/etc/hall.toml" "$here/etc/board.env" "$edits/"
# The helper functions of hallq-setup, without its main part.
sed -n '/^# set_env FILE/,/^systemd_up()/p' "$here/hallq-setup" >"$edits/fns.sh"
edit_check() {
    # shellcheck disable=SC1091
    . "$edits/fns.sh"
    local name='武汉"光谷"营业厅 \ 一号' token='ab/c+d=\e'
    toml_set "$edits/hall.toml" hall.name zh "$name"
    toml_set "$edits/hall.toml" hall time_zone Asia/Urumqi
    set_env "$edits/board.env" HALLQ_TOKEN "$token"
    set_env "$edits/board.env" HALLQ_BOARD_ARGS "--counter 3"
    [ "$(toml_get "$edits/hall.toml" hall.name zh)" = "$name" ] &&
        [ "$(toml_get "$edits/hall.toml" hall time_zone)" = Asia/Urumqi ] &&
        [ "$(toml_get "$edits/hall.toml" hall.name en)" = "Chutian Video Network, Yingshan Service Hall" ] &&
        [ "$(get_env "$edits/board.env" HALLQ_TOKEN)" = "$token" ] &&
        [ "$(get_env "$edits/board.env" HALLQ_BOARD_ARGS)" = "--counter 3" ] &&
        [ "$(diff "$here/etc/hall.toml" "$edits/hall.toml" | grep -c '^>')" = 2 ] &&
        grep -qx 'zh = "武汉\\"光谷\\"营业厅 \\\\ 一号"' "$edits/hall.toml"
}
check "hall.toml and .env edits round-trip and touch only their lines" edit_check
rm -rf "$edits"

step "2. default configuration"
check "deploy/etc/hall.toml parses and is the demo hall" \
    cargo test -q --locked --workspace --test deploy_config

step "3. backup-restore round trip"
check "backup tests" timed cargo test -q --locked --workspace --lib backup

step "4. build the host packages"
out=$(mktemp -d)
root=$(mktemp -d)
trap 'rm -rf "$out" "$root"' EXIT
fast=(--fast)
[ "${HALLQ_TEST_FULL:-0}" = 1 ] && fast=()
if ! timed "$here/build-deb.sh" "${fast[@]}" --out "$out"; then
    fail "build-deb.sh"
    echo "$failures failure(s)"
    exit 1
fi
arch=$(dpkg --print-architecture)
hub_deb=$(ls "$out"/hallq-hub_*_"$arch".deb)
kiosk_deb=$(ls "$out"/hallq-kiosk_*_"$arch".deb)
board_deb=$(ls "$out"/hallq-board_*_"$arch".deb)
tools_deb=$(ls "$out"/hallq-tools_*_all.deb)
for d in "$hub_deb" "$kiosk_deb" "$board_deb" "$tools_deb"; do
    echo "  $(basename "$d"): $(du -k "$d" | cut -f1) KiB"
done
check "hub package lists its conffiles" \
    bash -c "dpkg-deb --ctrl-tarfile '$hub_deb' | tar -xO ./conffiles | grep -qx /etc/hallq/hall.toml"
check "kiosk package lists its conffile" \
    bash -c "dpkg-deb --ctrl-tarfile '$kiosk_deb' | tar -xO ./conffiles | grep -qx /etc/hallq/kiosk.env"
check "kiosk package takes its files over from a hub package before 0.2" \
    bash -c "dpkg-deb -f '$kiosk_deb' Replaces Breaks | grep -c 'hallq-hub (<< 0.2.0~)' | grep -qx 2"
check "the hub package no longer carries the kiosk" \
    bash -c "! dpkg-deb -c '$hub_deb' | grep -E 'hallq-kiosk|kiosk.env|udev'"

step "5. install into a scratch root"
# The scratch root is a base system as far as our scripts care: accounts, login.defs, systemd's own
# units (for systemd-analyze), an empty dpkg database.
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/usr/lib/systemd/system"
touch "$root/var/lib/dpkg/status"
for f in passwd group shadow gshadow login.defs; do
    cp -p "/etc/$f" "$root/etc/$f"
done
for g in video render input audio lp dialout; do
    grep -q "^$g:" "$root/etc/group" || groupadd --prefix "$root" --system "$g"
done
cp -a /lib/systemd/system/. "$root/usr/lib/systemd/system/"
dpkg_root() {
    dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root "$@"
}
check "dpkg --root -i tools, hub, kiosk, board" dpkg_root -i "$tools_deb" "$hub_deb" "$kiosk_deb" "$board_deb"

for f in usr/bin/hallq-hub usr/bin/hallq-kiosk usr/bin/hallq-board usr/bin/hallq-kiosk-screen usr/bin/hallq-display usr/sbin/hallq-setup \
    usr/sbin/hallq-update usr/sbin/hallq-rollback usr/lib/udev/rules.d/60-hallq-printer.rules etc/hallq/hall.toml \
    etc/hallq/hub.env etc/hallq/kiosk.env etc/hallq/board.env usr/share/doc/hallq-tools/install.md; do
    check "installed /$f" test -e "$root/$f"
done
for u in hallq-hub.service hallq-kiosk.service hallq-board.service hallq-backup.service \
    hallq-backup.timer hallq-retention.service hallq-retention.timer; do
    check "installed unit $u" test -f "$root/usr/lib/systemd/system/$u"
done
check "hallq system user, no login shell" grep -q '^hallq:x:[0-9]*:[0-9]*:[^:]*:/var/lib/hallq:/usr/sbin/nologin$' "$root/etc/passwd"
uid=$(awk -F: '$1 == "hallq" { print $3 }' "$root/etc/passwd")
for g in video render input audio lp dialout; do
    check "hallq in group $g" bash -c "grep '^$g:' '$root/etc/group' | cut -d: -f4 | tr , '\n' | grep -qx hallq"
done
check "hallq not in group sudo" bash -c "! grep '^sudo:' '$root/etc/group' | cut -d: -f4 | tr , '\n' | grep -qx hallq"
mode_owner() { stat -c '%a %u' "$root$1"; }
check "/var/lib/hallq 750 hallq" test "$(mode_owner /var/lib/hallq)" = "750 $uid"
check "/var/lib/hallq/backups 750 hallq" test "$(mode_owner /var/lib/hallq/backups)" = "750 $uid"
check "/var/lib/hallq-packages 755 root" test "$(mode_owner /var/lib/hallq-packages)" = "755 0"
check "kiosk.env 600 root" test "$(mode_owner /etc/hallq/kiosk.env)" = "600 0"
check "board.env 600 root" test "$(mode_owner /etc/hallq/board.env)" = "600 0"
check "hub enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/hallq-hub.service"
check "backup timer enabled" test -L "$root/etc/systemd/system/timers.target.wants/hallq-backup.timer"
check "retention timer enabled" test -L "$root/etc/systemd/system/timers.target.wants/hallq-retention.timer"
check "kiosk screen left to hallq-setup" test ! -e "$root/etc/systemd/system/multi-user.target.wants/hallq-kiosk.service"
check "board left to hallq-setup" test ! -e "$root/etc/systemd/system/multi-user.target.wants/hallq-board.service"
check "systemd-analyze verify --root on the installed units" \
    systemd-analyze verify --root="$root" hallq-hub.service hallq-kiosk.service hallq-board.service \
    hallq-backup.service hallq-backup.timer hallq-retention.service hallq-retention.timer
# systemd's own exposure score (0 = locked down, 10 = none): the hub and the jobs must stay below 2.0,
# the screens (which need devices and the network) below 2.5.
for u in hallq-hub:20 hallq-backup:20 hallq-retention:20 hallq-kiosk:25 hallq-board:25; do
    check "systemd-analyze security ${u%%:*} <= ${u##*:}/10" \
        systemd-analyze security --offline=yes --root="$root" --threshold="${u##*:}" --no-pager "${u%%:*}.service"
done

snapshot() { cat "$root/etc/passwd" "$root/etc/group"; find "$root/etc/systemd" "$root/var/lib/hallq" | sort; }
before=$(snapshot)
check "postinst configure again" env DPKG_ROOT="$root" sh "$root/var/lib/dpkg/info/hallq-hub.postinst" configure 0.0.1
check "kiosk postinst configure again" env DPKG_ROOT="$root" sh "$root/var/lib/dpkg/info/hallq-kiosk.postinst" configure 0.0.1
check "board postinst configure again" env DPKG_ROOT="$root" sh "$root/var/lib/dpkg/info/hallq-board.postinst" configure 0.0.1
check "a second configure changes nothing" test "$before" = "$(snapshot)"
echo "hall data" >"$root/var/lib/hallq/hallq.db"
check "reinstall over itself (upgrade path)" dpkg_root -i "$hub_deb" "$kiosk_deb" "$board_deb"
check "the user is still there once" test "$(grep -c '^hallq:' "$root/etc/passwd")" = 1
check "the old program names say where the new ones are" bash -c \
    "sh '$root/usr/bin/hallq-display' --hub x 2>&1 | grep -q 'Run instead:  hallq-board --hub x' &&
     sh '$root/usr/bin/hallq-kiosk-screen' 2>&1 | grep -q 'hallq-kiosk-screen is now hallq-kiosk'"
check "purge hub, kiosk and board" dpkg_root -P hallq-hub hallq-kiosk hallq-board
check "units gone" test ! -e "$root/usr/lib/systemd/system/hallq-hub.service" -a ! -e "$root/usr/lib/systemd/system/hallq-kiosk.service"
check "no dangling enable links" bash -c "! ls '$root'/etc/systemd/system/*.wants/hallq-* 2>/dev/null"
check "the hall's data kept on purge" grep -q "hall data" "$root/var/lib/hallq/hallq.db"

step "6. setup, update and rollback, in a throw-away root"
if [ "${CI:-}" = true ] || [ "${HALLQ_TEST_LIFECYCLE:-0}" = 1 ]; then
    # The packages a hall runs before the renames of 0.2, built from that release's source (the
    # last commit before them): the update from those is the one every installed hall makes.
    old="$out/pre-0.2"
    if old_debs "$old"; then
        # A second, newer version of the same build: what a later update installs.
        next="$out/next"
        version=$(dpkg-deb -f "$hub_deb" Version)
        if timed "$here/build-deb.sh" "${fast[@]}" --out "$next" --version "$version+next" >/dev/null; then
            tz_before=$(readlink /etc/localtime 2>/dev/null || true)
            check "a hub's life: setup at 0.1, update to the renamed packages, rollback, updates, rollbacks" \
                timed "$here/in-scratch-root.sh" --copy "$old:/work/old" --copy "$out:/work/a" \
                --copy "$next:/work/b" --copy "$here:/work/deploy" -- \
                /work/deploy/test-lifecycle.sh /work/old /work/a /work/b
            check "this machine's time zone unchanged" \
                test "$(readlink /etc/localtime 2>/dev/null || true)" = "$tz_before"
            check "no hallq user on this machine" bash -c '! id hallq >/dev/null 2>&1'
            check "no hallq package on this machine" none_installed
        else
            fail "build-deb.sh --version $version+next"
        fi
    fi
else
    # Building the throw-away root downloads a small Debian system once: only when asked.
    echo "not run here (CI=true or HALLQ_TEST_LIFECYCLE=1 runs it, in a throw-away root)"
fi

echo
if [ "$failures" -gt 0 ]; then
    echo "deploy/test.sh: $failures failure(s)"
    exit 1
fi
echo "deploy/test.sh: all passed"
