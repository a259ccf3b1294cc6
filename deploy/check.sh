#!/usr/bin/env bash
# Runs every test of hallq on this machine: installs what is missing, then the Rust tests (unit,
# property, crash, end-to-end, screenshot), the browser tests of the staff pages, the deployment
# checks and, beside them, the hall in a box (two booted virtual Raspberry Pis, deploy/vm/test-hall.sh).
# Exits non-zero if anything fails; with CI=true a missing prerequisite is a failure, and so is
# leaving the virtual Pis out (HALLQ_VM=0 is for a developer's quick run).
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
# A step's heading, with the minutes since the start (where the time goes).
step() { printf '== [%s] %s\n' "$(date -u -d "@$(( $(date +%s) - started ))" +%H:%M:%S)" "$*"; }

bash deploy/dev-setup.sh

# A run from a clean clone builds everything once: incremental compilation's caches would only
# add gigabytes to the target folder and minutes to the build.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

# The hall in a box runs beside the other tests: it is mostly an emulated machine's CPU and waiting
# on it, and would add over half an hour after them. Its arm64 build has a target folder of its own,
# so that it does not wait for the other cargo runs' lock. Its report comes at the end.
vm_pid=""
if [ "${HALLQ_VM:-1}" = 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "HALLQ_VM=0 with CI=true: the booted virtual Pis may not be left out" >&2
    exit 1
  fi
  step "The hall in a box is left out (HALLQ_VM=0)"
else
  vm_log=$(mktemp /tmp/hallq-vm-check.XXXXXX.log)
  vm_tools=$(mktemp -d /tmp/hallq-vm-tools.XXXXXX)
  step "The hall in a box starts beside the other tests (its log: $vm_log)"
  HALLQ_VM_CARGO_TARGET_DIR="${HALLQ_VM_CARGO_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/vm}" \
    HALLQ_VM_HOST_TOOLS="$vm_tools" bash deploy/vm/test-hall.sh >"$vm_log" 2>&1 &
  vm_pid=$!
  # If the other tests fail first, the virtual Pis are switched off rather than left running; the
  # copies of the host tools (about 100 MB) never outlive the run.
  trap '[ -z "$vm_pid" ] || { kill "$vm_pid" 2>/dev/null || true; wait "$vm_pid" 2>/dev/null || true; }; rm -rf "$vm_tools"' EXIT
fi

step "Rust build (the tests' programs; the hall in a box takes its host-side tools from it)"
cargo build --workspace --locked --bins --examples
# The steps below run these programs as built here. A `cargo run -p` of one package would build
# its dependencies again with that package's features alone (several minutes each).
target_dir=$(realpath "${CARGO_TARGET_DIR:-target}")
if [ -n "$vm_pid" ]; then
  # Copies: a later cargo run may rebuild these files while the virtual Pis' test uses them.
  cp "$target_dir/debug/hallq-board" "$target_dir/debug/examples/read-ticket" "$vm_tools/"
  touch "$vm_tools/ready"
fi

step "Rust tests"
cargo test --workspace --locked

step "Fuzzing the hub's decoders and the hall configuration (short run; long runs: BENCHMARKS.md)"
# A new seed each day, printed, so that a failure can be replayed (`--seed S --index I`).
FUZZ_SEED=${HALLQ_FUZZ_SEED:-$(date -u +%Y%m%d)}
"$target_dir/debug/examples/fuzz" --seed "$FUZZ_SEED" --inputs 100000 \
  --target json --target query --target path --target text
"$target_dir/debug/examples/fuzz" --seed "$FUZZ_SEED" --inputs 10000 --target config

step "The Pi screen's pixel blend (kms-blend): blend agreement and a call's partial repaints"
# The whole workspace with the feature added, not `-p hallq-board`: one package alone resolves its
# dependencies' features afresh and built them all again (ten minutes on two cores). The other
# packages' unit tests run once more; they take seconds.
cargo test --workspace --features hallq-board/kms-blend --locked --lib --test repaint

step "Browser tests (staff and manager pages, headless Chromium)"
HALLQ_HUB_BIN="$target_dir/debug/hallq-hub" HALLQ_CENTRAL_BIN="$target_dir/debug/hallq-central" \
  HALLQ_SAMPLE_DAY_BIN="$target_dir/debug/examples/sample_day" bash tests/browser/run.sh

step "Deployment checks"
# The host packages are built with the default (desktop) features here; the Pi's kms and rpi
# builds are made by deploy/build-deb.sh --target aarch64-unknown-linux-gnu (docs/install.md).
HALLQ_KIOSK_FEATURES=${HALLQ_KIOSK_FEATURES-} HALLQ_BOARD_FEATURES=${HALLQ_BOARD_FEATURES-} \
  bash deploy/test.sh

if [ -n "$vm_pid" ]; then
  step "The hall in a box (two booted virtual Raspberry Pis): waiting for it to finish"
  vm_status=0
  wait "$vm_pid" || vm_status=$?
  vm_pid=""
  cat "$vm_log"
  rm -f "$vm_log"
  if [ "$vm_status" != 0 ]; then
    echo "FAIL: the hall in a box: $vm_status failure(s) (log above; artefacts in the folder it names)" >&2
    exit 1
  fi
fi
# What the run left on the disk, so that a machine short of space is seen coming.
step "target folder: $(du -sh "$target_dir" 2>/dev/null | cut -f1)"
step "all checks passed"
