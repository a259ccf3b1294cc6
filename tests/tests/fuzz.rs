//! Every fuzz target for a short, fixed run (same seed each time), so that `cargo test` keeps the
//! targets building and catches a decoder that starts panicking on a common input. The long runs
//! are `cargo run --profile fuzz -p hallq-tests --example fuzz` (BENCHMARKS.md).

use hallq_tests::fuzz::{self, TARGETS};

/// Inputs per target: about a second each in a debug build.
const INPUTS: u64 = 3_000;

#[test]
fn no_fuzz_target_panics_on_a_short_fixed_run() {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(2));
    let mut report = String::new();
    for t in TARGETS {
        let out = fuzz::run(t, 20261125, 0..INPUTS, threads, 4, &|_, _| {});
        assert_eq!(out.inputs, INPUTS, "{}", t.name);
        for f in &out.failures {
            report.push_str(&format!("{f}\n"));
        }
        // The generators must reach past the decoders, not only be refused by them.
        assert!(
            out.counts.values().any(|&n| n > 0),
            "target {}: no input got past decoding",
            t.name
        );
    }
    assert!(report.is_empty(), "{report}");
}
