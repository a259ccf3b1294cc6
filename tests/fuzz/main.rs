//! The fuzzer's command line: run the decoder targets of `hallq_tests::fuzz` for a number of inputs
//! on every core, or replay one input.
//!
//! ```text
//! cargo run --profile fuzz -p hallq-tests --example fuzz -- [--target NAME]... [--inputs N]
//!     [--first F] [--seed S] [--threads T] [--index I]
//! ```
//!
//! Without `--seed` a seed is drawn from the clock and printed; with `--index` only that input is
//! run (and printed); `--first` starts at input F, so that a long run can be split into ranges.
//! Exits 1 if any input panicked.

use std::process::ExitCode;
use std::time::Duration;

use hallq_tests::fuzz::{self, State, TARGETS};

struct Args {
    targets: Vec<String>,
    inputs: u64,
    first: u64,
    seed: u64,
    threads: usize,
    index: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        targets: Vec::new(),
        inputs: 100_000,
        first: 0,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        index: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{v}: {e}"))
        };
        match flag.as_str() {
            "--target" => a.targets.push(value()?),
            "--inputs" => a.inputs = num(value()?)?,
            "--first" => a.first = num(value()?)?,
            "--seed" => a.seed = num(value()?)?,
            "--threads" => a.threads = num(value()?)? as usize,
            "--index" => a.index = Some(num(value()?)?),
            "--list" => {
                for t in TARGETS {
                    println!("{:8} {}", t.name, t.about);
                }
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (see --list)")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let targets: Vec<&'static fuzz::Target> = if args.targets.is_empty() {
        TARGETS.iter().collect()
    } else {
        let mut v = Vec::new();
        for name in &args.targets {
            match fuzz::target(name) {
                Some(t) => v.push(t),
                None => {
                    eprintln!("fuzz: no target {name} (see --list)");
                    return ExitCode::from(2);
                }
            }
        }
        v
    };

    if let Some(index) = args.index {
        let mut failed = false;
        for t in targets {
            let input = fuzz::input(t, args.seed, index);
            println!(
                "{} seed {} input {index}: {}",
                t.name,
                args.seed,
                fuzz::show(&input)
            );
            let mut state = State::new();
            match fuzz::run_one(t, &mut state, &input) {
                Ok(()) => println!("  ok"),
                Err(m) => {
                    failed = true;
                    println!("  PANIC: {m}");
                }
            }
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }

    println!(
        "fuzz: seed {} · {} inputs per target from input {} · {} threads",
        args.seed, args.inputs, args.first, args.threads
    );
    let mut failed = false;
    for t in targets {
        let progress = |done: u64, el: Duration| {
            eprintln!(
                "  {}: {done} inputs, {:.0}/s",
                t.name,
                done as f64 / el.as_secs_f64().max(1e-9)
            );
        };
        let range = args.first..args.first + args.inputs;
        let out = fuzz::run(t, args.seed, range, args.threads, 8, &progress);
        println!(
            "{:8} {:>11} inputs in {:>7.1} s = {:>8.0}/s · {} panics",
            out.target,
            out.inputs,
            out.elapsed.as_secs_f64(),
            out.rate(),
            out.failures.len()
        );
        let reached: Vec<String> = out.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("         reached: {}", reached.join(", "));
        for f in &out.failures {
            failed = true;
            println!("{f}");
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
