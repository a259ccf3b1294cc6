#!/bin/sh
# Renders every mode of the board from the demo hall into docs/img/ (no hub, no display server).
set -eu
cd "$(dirname "$0")/.."
bin=${HALLQ_DISPLAY:-target/debug/hallq-board}
[ -x "$bin" ] || bin="${CARGO_TARGET_DIR:-target}/debug/hallq-board"
out=docs/img
mkdir -p "$out"
for mode in normal long-wait short-outage long-outage tickets-ended reconnecting; do
    "$bin" --demo "$mode" --screenshot "$out/board-$mode.png"
done
"$bin" --demo normal --size 1080x1920 --screenshot "$out/board-portrait.png"
"$bin" --demo normal --size 1280x720 --screenshot "$out/board-1280x720.png"
"$bin" --demo normal --counter 2 --screenshot "$out/board-counter.png"
"$bin" --demo counter-paused --counter 4 --screenshot "$out/board-counter-paused.png"
echo "screenshots written to $out/"
