#!/usr/bin/env bash
# Runs the demo hall on this machine: installs what is missing, builds, then starts the hub with
# throw-away demo accounts, the display board and the kiosk screen. Where a display exists (DISPLAY
# is set) the board and kiosk open as windows; where none does, their screenshots are written and the
# staff page address is printed. Ctrl-C stops everything.
#
#   bash deploy/demo.sh [--listen 127.0.0.1:8080] [--data-dir hallq-data/demo]
set -euo pipefail
cd "$(dirname "$0")/.."

listen=127.0.0.1:8080
data=hallq-data/demo
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) listen=$2; shift 2 ;;
    --data-dir) data=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

HALLQ_SKIP_CARGO_DEB=1 bash deploy/dev-setup.sh
echo "== building (release; the first build takes a few minutes)"
cargo build --release --locked -p hallq-hub -p hallq-kiosk -p hallq-board
bin=${CARGO_TARGET_DIR:-target}/release

# The default Mandarin voice pack, made once with espeak-ng and sox.
voice=hallq-data/voice
if [ ! -f "$voice/manifest.toml" ]; then
  echo "== making the Mandarin voice pack in $voice"
  bash deploy/voice/make-voice-pack.sh "$voice"
fi
export HALLQ_VOICE_PACK=$PWD/$voice

# A fresh demo hall every run: the demo's accounts and tokens are throw-away.
rm -rf "$data"
mkdir -p "$data"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin/hallq-hub" demo --data-dir "$data" --listen "$listen" &
pids+=($!)
hub=http://$listen
for _ in $(seq 1 100); do
  curl -fsS "$hub/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$hub/api/v1/health" >/dev/null || { echo "the hub did not start" >&2; exit 1; }

token() { sed -n "s/.*\"$1\": *\"\\([0-9a-f]*\\)\".*/\\1/p" "$data/demo-tokens.json"; }
kiosk_token=$(token kiosk_token)
display_token=$(token display_token)
tickets=$data/tickets.escpos

if [ -n "${DISPLAY:-}" ]; then
  HALLQ_TOKEN=$display_token "$bin/hallq-board" --hub "$hub" --size 1280x720 &
  pids+=($!)
  HALLQ_KIOSK_TOKEN=$kiosk_token "$bin/hallq-kiosk" --hub "$hub" --printer "file:$tickets" --size 1024x600 &
  pids+=($!)
  echo
  echo "The board and the kiosk screen are open in windows."
else
  HALLQ_TOKEN=$display_token "$bin/hallq-board" --hub "$hub" --screenshot "$data/board.png"
  HALLQ_KIOSK_TOKEN=$kiosk_token "$bin/hallq-kiosk" --hub "$hub" --screenshot "$data/kiosk.png"
  echo
  echo "No display here: screenshots of the live board and kiosk are in $data/board.png and $data/kiosk.png."
fi
echo "Staff pages: $hub/staff/  (accounts and password above; clerk1 signs in at counter 1)"
echo "Printed tickets (ESC/POS bytes) go to $tickets. Ctrl-C stops the demo."
wait "${pids[0]}"
