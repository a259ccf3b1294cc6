//! A fuzzer on stable Rust for the hub's decoders and the hall configuration: seeded, reproducible,
//! in-process, on every core. No libFuzzer: the hall's machines build with stable Rust only.
//!
//! Each input is made from `(seed, target, index)` alone, so one failure is replayed by its index
//! without running the inputs before it, and the thread count does not change what is tried.
//! Inputs come from valid seeds (real requests, the demo hall, `deploy/etc/hall.toml`) changed by
//! structure-aware mutations (values swapped for edge values, keys added, dropped or duplicated,
//! arrays grown) and by byte-level havoc, plus plain random bytes. A panic anywhere, or a broken
//! invariant checked by the targets (which panic too), is caught with `catch_unwind` and reported
//! with the seed, the index and the input.

pub mod make;
pub mod targets;

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use make::Rng;
pub use targets::{State, TARGETS, Target};

/// What one input reached, counted per target: how far the fuzzer gets past the decoders.
pub type Counts = BTreeMap<&'static str, u64>;

/// One input that panicked.
#[derive(Clone, Debug)]
pub struct Failure {
    pub target: &'static str,
    pub seed: u64,
    pub index: u64,
    pub message: String,
    pub input: Vec<u8>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "PANIC in target {} (seed {}, input {})",
            self.target, self.seed, self.index
        )?;
        writeln!(f, "  {}", self.message)?;
        writeln!(
            f,
            "  input ({} bytes): {}",
            self.input.len(),
            show(&self.input)
        )?;
        write!(
            f,
            "  replay: cargo run --profile fuzz -p hallq-tests --example fuzz -- --target {} --seed {} --index {}",
            self.target, self.seed, self.index
        )
    }
}

/// The input as a Rust byte-string literal body: printable ASCII kept, the rest escaped.
pub fn show(input: &[u8]) -> String {
    const MAX: usize = 4000;
    let mut s: String = input[..input.len().min(MAX)].escape_ascii().to_string();
    if input.len() > MAX {
        s.push_str(&format!("… ({} more bytes)", input.len() - MAX));
    }
    format!("b\"{s}\"")
}

/// The outcome of a run of one target.
#[derive(Debug)]
pub struct Outcome {
    pub target: &'static str,
    pub inputs: u64,
    pub elapsed: Duration,
    pub counts: Counts,
    pub failures: Vec<Failure>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Panics are caught and reported with their input; the default hook's message on standard error
/// would only repeat it (and millions of expected refusals must stay quiet).
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let msg = match (
                info.payload().downcast_ref::<&str>(),
                info.payload().downcast_ref::<String>(),
            ) {
                (Some(s), _) => (*s).to_string(),
                (_, Some(s)) => s.clone(),
                _ => "(no message)".to_string(),
            };
            let at = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg} at {at}")));
        }));
    });
}

/// The input number `index` of `target` under `seed`.
pub fn input(target: &Target, seed: u64, index: u64) -> Vec<u8> {
    let mut rng = Rng::for_input(seed, target.name, index);
    (target.generate)(&mut rng)
}

/// Run `target` on one input; `Err` holds the panic message.
pub fn run_one(target: &Target, state: &mut State, input: &[u8]) -> Result<(), String> {
    quiet_panics();
    let r = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(state, input)));
    r.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic".into())
    })
}

/// Run the inputs numbered `indices` of `target` from `seed` on `threads` threads (a long run
/// may be split into ranges: together they try the same inputs as one). Stops early after
/// `max_failures` distinct panics (by message). `progress` is called about every 10 s.
pub fn run(
    target: &'static Target,
    seed: u64,
    indices: std::ops::Range<u64>,
    threads: usize,
    max_failures: usize,
    progress: &(dyn Fn(u64, Duration) + Sync),
) -> Outcome {
    quiet_panics();
    let (start, inputs) = (indices.start, indices.end);
    let next = AtomicU64::new(start);
    let stop = AtomicBool::new(false);
    let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
    let counts: Mutex<Counts> = Mutex::new(Counts::new());
    let started = Instant::now();
    // Indices are handed out in blocks: workers share no input, and the set of inputs tried is the
    // same whatever the thread count.
    const BLOCK: u64 = 256;
    std::thread::scope(|s| {
        for t in 0..threads.max(1) {
            let (next, stop, failures, counts) = (&next, &stop, &failures, &counts);
            s.spawn(move || {
                let mut state = State::new();
                let mut last_report = Instant::now();
                'work: loop {
                    let first = next.fetch_add(BLOCK, Ordering::Relaxed);
                    if first >= inputs || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    for index in first..(first + BLOCK).min(inputs) {
                        let data = input(target, seed, index);
                        if let Err(message) = run_one(target, &mut state, &data) {
                            // A panic may leave the thread's state half-changed: start afresh.
                            state = State::new();
                            let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                            if !f.iter().any(|x| x.message == message) {
                                f.push(Failure {
                                    target: target.name,
                                    seed,
                                    index,
                                    message,
                                    input: data,
                                });
                            }
                            if f.len() >= max_failures {
                                stop.store(true, Ordering::Relaxed);
                                break 'work;
                            }
                        }
                    }
                    if t == 0 && last_report.elapsed() > Duration::from_secs(10) {
                        last_report = Instant::now();
                        progress(
                            next.load(Ordering::Relaxed).min(inputs) - start,
                            started.elapsed(),
                        );
                    }
                }
                let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
                for (k, v) in state.counts.iter() {
                    *c.entry(k).or_default() += v;
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    let done = if failures.is_empty() {
        inputs - start
    } else {
        next.load(Ordering::Relaxed).min(inputs) - start
    };
    Outcome {
        target: target.name,
        inputs: done,
        elapsed: started.elapsed(),
        counts: counts.into_inner().unwrap_or_else(|p| p.into_inner()),
        failures,
    }
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
