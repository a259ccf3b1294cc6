#!/usr/bin/env bash
# The staff pages' end-to-end tests: builds the hub, starts it on a free loopback port with a fresh
# data dir and test accounts, drives headless Chromium through tests/browser/*.test.mjs, stops the
# hub. Exits non-zero when a test fails. With CI=true a missing chromium is a failure, not a skip.
# central.test.mjs starts a PostgreSQL cluster and hallq-central of its own (built here too); without
# PostgreSQL it is skipped, and with CI=true that is a failure as well.
#
#   tests/browser/run.sh                          # all tests; screenshots in tests/browser/out/
#   HALLQ_SHOTS="$PWD/docs/img" tests/browser/run.sh   # refresh the README's screenshots
#   HALLQ_HUB_BIN=path/to/hallq-hub tests/browser/run.sh   # use an already built hub
#   HALLQ_SAMPLE_DAY_BIN=path/to/examples/sample_day           # and an already built sample day
#   HALLQ_CENTRAL_BIN=path/to/hallq-central tests/browser/run.sh # and an already built central
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: chromium not found at $CHROMIUM (apt-get install chromium)" >&2
    exit 1
  fi
  echo "SKIP: chromium not found at $CHROMIUM (with CI=true this is a failure)" >&2
  exit 0
fi
for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed" >&2; exit 1; }
done

cd "$here"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi

if [ -n "${HALLQ_HUB_BIN:-}" ]; then
  bin=$HALLQ_HUB_BIN # a hub built elsewhere (e.g. by an earlier CI step)
else
  (cd "$root" && cargo build -p hallq-hub)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/hallq-hub"
fi

if [ -z "${HALLQ_CENTRAL_BIN:-}" ]; then
  (cd "$root" && cargo build -p hallq-central)
  HALLQ_CENTRAL_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/hallq-central"
fi
export HALLQ_CENTRAL_BIN
if [ "${CI:-}" = true ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "FAIL: PostgreSQL 15 not found (apt-get install postgresql) for central.test.mjs" >&2
  exit 1
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/hallq-browser.XXXXXX")
hub_pid=
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

# The demo hall, in a time zone where it is now about noon: the tests issue tickets, which the hall
# only does during business hours, whenever they run.
utc_hour=$((10#$(date -u +%H)))
offset=$((12 - utc_hour))
if [ "$offset" -gt 0 ]; then zone="Etc/GMT-$offset"
elif [ "$offset" -lt 0 ]; then zone="Etc/GMT+$((-offset))"
else zone="Etc/UTC"; fi
sed "s#^time_zone = .*#time_zone = \"$zone\"#" "$here/hall.toml" > "$data/hall.toml"

clerk=clerk1
clerk_password="pw-$RANDOM-$RANDOM-browser"
printf '%s\n' "$clerk_password" | "$bin" user add "$clerk" --role staff --data-dir "$data" >/dev/null
manager=manager1
printf '%s\n' "$clerk_password" | "$bin" user add "$manager" --role manager --data-dir "$data" >/dev/null
kiosk_token=$("$bin" device add kiosk-1 --role kiosk --data-dir "$data" | tail -n 1 | awk '{print $NF}')
[ -n "$kiosk_token" ] || { echo "FAIL: no device token from 'hallq-hub device add'" >&2; exit 1; }

# A past business day with hand-worked figures (hallq_hub::sample_day), for the report
# page's test in manager.test.mjs.
sample_day=$(date -u -d '10 days ago' +%F)
if [ -n "${HALLQ_SAMPLE_DAY_BIN:-}" ]; then
  sample_bin=$HALLQ_SAMPLE_DAY_BIN
else
  (cd "$root" && cargo build -p hallq-hub --example sample_day)
  sample_bin="${CARGO_TARGET_DIR:-$root/target}/debug/examples/sample_day"
fi
"$sample_bin" "$data" "$data/hall.toml" "$sample_day" >/dev/null

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
url="http://127.0.0.1:$port"
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --config "$data/hall.toml" >"$data/hub.log" 2>&1 &
hub_pid=$!

# Bounded wait for the hub to answer.
if ! node -e '
  const url = process.argv[1]; const end = Date.now() + 30000;
  (async () => { while (Date.now() < end) {
    try { if ((await fetch(url + "/api/v1/board")).ok) process.exit(0); } catch {}
    await new Promise((r) => setTimeout(r, 200)); } process.exit(1); })();' "$url"; then
  echo "FAIL: the hub did not start; its log:" >&2
  cat "$data/hub.log" >&2
  exit 1
fi

export HALLQ_URL=$url HALLQ_CLERK=$clerk HALLQ_CLERK_PASSWORD=$clerk_password HALLQ_CLERK_COUNTER=1
export HALLQ_SAMPLE_DAY=$sample_day
export HALLQ_KIOSK_TOKEN=$kiosk_token HALLQ_MANAGER=$manager HALLQ_MANAGER_PASSWORD=$clerk_password
export HALLQ_SHOTS=${HALLQ_SHOTS-$here/out}

status=0
node --test --test-reporter=spec "$here"/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- hub log (last 40 lines) ---" >&2
  tail -n 40 "$data/hub.log" >&2
fi
exit "$status"
