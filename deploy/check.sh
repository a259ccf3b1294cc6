#!/usr/bin/env bash
# Runs every test of hallq on this machine: installs what is missing, then the Rust tests (unit,
# property, crash, end-to-end, screenshot), the browser tests of the staff pages and the deployment
# checks. Exits non-zero if anything fails; with CI=true a missing prerequisite is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/dev-setup.sh

echo "== Rust tests"
cargo test --workspace --locked

echo "== Fuzzing the hub's decoders and the hall configuration (short run; long runs: BENCHMARKS.md)"
# A new seed each day, printed, so that a failure can be replayed (`--seed S --index I`).
FUZZ_SEED=${HALLQ_FUZZ_SEED:-$(date -u +%Y%m%d)}
cargo run -p hallq-tests --example fuzz --locked -q -- --seed "$FUZZ_SEED" --inputs 100000 \
  --target json --target query --target path --target text
cargo run -p hallq-tests --example fuzz --locked -q -- --seed "$FUZZ_SEED" --inputs 10000 --target config

echo "== The Pi screen's pixel blend (kms-blend): blend agreement and a call's partial repaints"
cargo test -p hallq-board --features kms-blend --locked --lib --test repaint

echo "== Browser tests (staff and manager pages, headless Chromium)"
bash tests/browser/run.sh

echo "== Deployment checks"
# The host packages are built with the default (desktop) features here; the Pi's kms and rpi
# builds are made by deploy/build-deb.sh --target aarch64-unknown-linux-gnu (docs/install.md).
HALLQ_KIOSK_FEATURES=${HALLQ_KIOSK_FEATURES-} HALLQ_BOARD_FEATURES=${HALLQ_BOARD_FEATURES-} \
  bash deploy/test.sh
echo "== all checks passed"
