//! Durable queue operations: issue and call through the single writer (each acknowledged only after
//! its batch is committed with `synchronous=FULL`), one client at a time and sixteen at once, against
//! a bare SQLite commit on the same disk as the floor.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use criterion::{Criterion, criterion_group, criterion_main};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;
use hallq_shared::store::writer::{Clock, WriterOptions};
use hallq_shared::store::{HallWriter, Store, db_path};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// Commands in one simulated business day: a very busy hall issues about 2,000 tickets a day, each
/// called and finished; the clock then jumps to 10:00 the next day, as in a real hall, so that the
/// day's list never grows beyond what a hall sees.
const COMMANDS_PER_DAY: i64 = 6000;

/// A writer on a fresh database in the target directory's filesystem (not tmpfs), 10:00 Shanghai,
/// whose day turns every `COMMANDS_PER_DAY` commands.
fn writer(dir: &std::path::Path) -> Arc<HallWriter> {
    writer_days(dir, COMMANDS_PER_DAY, Arc::new(AtomicI64::new(0)))
}

/// A writer whose clock moves 1 ms per reading, turns the day every `per_day` readings, and adds
/// `extra_days` (to turn the day on demand).
fn writer_days(dir: &std::path::Path, per_day: i64, extra_days: Arc<AtomicI64>) -> Arc<HallWriter> {
    let mut store = Store::open(&db_path(dir)).unwrap();
    let hall = store.load_hall(&HallConfig::demo(), day()).unwrap();
    let t0 = day()
        .and_time(NaiveTime::from_hms_opt(2, 0, 0).unwrap())
        .and_utc()
        .timestamp_millis();
    let calls = Arc::new(Mutex::new(0i64));
    let clock: Clock = Arc::new(move || {
        let mut n = calls.lock().unwrap();
        *n += 1;
        let days = *n / per_day + extra_days.load(Ordering::Relaxed);
        t0 + days * 86_400_000 + (*n % per_day)
    });
    let w = HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions {
            tick_every: Duration::from_secs(3600),
            max_batch: 256,
        },
        |_| {},
    );
    Arc::new(w)
}

fn clerk(c: u32) -> Actor {
    Actor::new(format!("clerk{c}"), Role::Staff, Some(c))
}

fn issue() -> Command {
    Command::IssueTicket {
        service: "pay".into(),
        priority: false,
    }
}

fn scratch() -> tempfile::TempDir {
    // Benchmarks must sync to a real disk: the target directory, not /tmp (which may be tmpfs).
    let base = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "../target".into());
    std::fs::create_dir_all(&base).unwrap();
    tempfile::tempdir_in(base).unwrap()
}

/// `clients` threads issue `total` tickets, while 4 counter threads keep calling if `calling`.
/// Closed loop (`rate` None): each client sends its next ticket as soon as the last is acknowledged.
/// Open loop (`rate` Some): the tickets are due on a fixed schedule of `rate` a second (the counters
/// call at the same pace), and latency counts from when each was due, so a stalled writer cannot
/// hide its queue. Returns every issue's latency and the wall time.
fn load(
    w: &Arc<HallWriter>,
    clients: usize,
    total: usize,
    rate: Option<f64>,
    calling: bool,
) -> (Vec<Duration>, Duration) {
    let start = Instant::now() + Duration::from_millis(20);
    let due = move |k: usize| rate.map(|r| start + Duration::from_secs_f64(k as f64 / r));
    let wait = move |k: usize| {
        if let Some(at) = due(k) {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
        }
    };
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let w = w.clone();
            std::thread::spawn(move || {
                let kiosk = Actor::new("kiosk", Role::Kiosk, None);
                (i..total)
                    .step_by(clients)
                    .map(|k| {
                        wait(k);
                        let sent = due(k).unwrap_or_else(Instant::now);
                        w.execute(issue(), kiosk.clone()).unwrap();
                        sent.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let callers: Vec<_> = (1..=4u32)
        .filter(|_| calling)
        .map(|c| {
            let w = w.clone();
            std::thread::spawn(move || {
                for k in (c as usize - 1..total).step_by(4) {
                    wait(k);
                    let _ = w.execute(
                        Command::SetCounter {
                            counter: c,
                            state: CounterState::Open,
                        },
                        clerk(c),
                    );
                    let _ = w.execute(Command::CallNext { counter: c }, clerk(c));
                }
            })
        })
        .collect();
    let lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let wall = start.elapsed();
    for c in callers {
        c.join().unwrap();
    }
    (lat, wall)
}

fn print_latencies(what: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    let n = lat.len();
    println!(
        "{what}: {n} tickets in {:.2} s = {:.0}/s; latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat[n - 1].as_secs_f64() * 1e3,
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Printed once before the criterion groups: throughput and tail latency need the whole sample.
fn report_percentiles() {
    let dir = scratch();
    let floor = rusqlite_floor(dir.path());
    let start = Instant::now();
    let lat: Vec<Duration> = (0..4000i64)
        .map(|i| {
            let t = Instant::now();
            floor.execute("INSERT INTO t (v) VALUES (?1)", [i]).unwrap();
            t.elapsed()
        })
        .collect();
    print_latencies("bare SQLite commit, 1 row", lat, start.elapsed());
    for clients in [1usize, 16] {
        let dir = scratch();
        let w = writer(dir.path());
        load(&w, clients, 200, None, true); // warm up
        let (lat, wall) = load(&w, clients, 8000, None, true);
        print_latencies(&format!("durable issue, {clients:>2} client(s)"), lat, wall);
    }
    // The target as set: tickets alone, 4,000 a second, in one day (the line grows to 16,000:
    // far beyond a hall, and nobody is called, so the day's turn is left to the next figure).
    {
        let dir = scratch();
        let w = writer_days(dir.path(), i64::MAX / 2, Arc::new(AtomicI64::new(0)));
        load(&w, 16, 200, None, false); // warm up
        let (lat, wall) = load(&w, 16, 16_000, Some(4000.0), false);
        print_latencies("durable issue, 16 clients offering 4000/s", lat, wall);
    }
    // The day's turn: the first command of a new day closes the old one, marking every ticket
    // still waiting as expired. In a hall it comes at midnight with nobody waiting; here 2,000 are
    // left waiting, the worst a hall could leave.
    {
        let dir = scratch();
        let next_day = Arc::new(AtomicI64::new(0));
        let w = writer_days(dir.path(), i64::MAX / 2, next_day.clone());
        let kiosk = Actor::new("kiosk", Role::Kiosk, None);
        for _ in 0..2000 {
            w.execute(issue(), kiosk.clone()).unwrap();
        }
        next_day.store(1, Ordering::Relaxed);
        let t = Instant::now();
        w.execute(issue(), kiosk.clone()).unwrap();
        println!(
            "the day's turn with 2000 tickets left waiting: {:.2} ms for the first ticket of the day",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    // The realistic mix: as many calls as issues, so the line stays the size of a real hall's.
    for rate in [4000.0, 6000.0] {
        let dir = scratch();
        let w = writer(dir.path());
        load(&w, 16, 200, None, true); // warm up
        let (lat, wall) = load(&w, 16, 16_000, Some(rate), true);
        print_latencies(
            &format!("durable issue, 16 clients offering {rate}/s + as many calls"),
            lat,
            wall,
        );
    }
}

fn benches(c: &mut Criterion) {
    report_percentiles();
    let mut g = c.benchmark_group("durable");
    g.sample_size(30).measurement_time(Duration::from_secs(4));

    let dir = scratch();
    let conn = rusqlite_floor(dir.path());
    g.bench_function("bare_sqlite_commit", |b| {
        let mut i = 0i64;
        b.iter(|| {
            i += 1;
            conn.execute("INSERT INTO t (v) VALUES (?1)", [i]).unwrap();
        })
    });

    let dir = scratch();
    let w = writer(dir.path());
    let kiosk = Actor::new("kiosk", Role::Kiosk, None);
    g.bench_function("issue_ticket", |b| {
        b.iter(|| w.execute(issue(), kiosk.clone()).unwrap())
    });

    let dir = scratch();
    let w = writer(dir.path());
    g.bench_function("issue_then_call_next", |b| {
        b.iter(|| {
            w.execute(issue(), kiosk.clone()).unwrap();
            let _ = w.execute(
                Command::SetCounter {
                    counter: 1,
                    state: CounterState::Open,
                },
                clerk(1),
            );
            w.execute(Command::CallNext { counter: 1 }, clerk(1))
                .unwrap();
        })
    });

    let dir = scratch();
    let w = writer(dir.path());
    g.bench_function("issue_ticket_16_clients_x50", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| load(&w, 16, 800, None, true).1).sum())
    });
    g.finish();
}

/// One row per transaction, WAL, synchronous=FULL: the cost of one durable commit on this disk.
fn rusqlite_floor(dir: &std::path::Path) -> hallq_shared::store::Store {
    let s = Store::open(&dir.join("floor.db")).unwrap();
    s.connection()
        .execute_batch("CREATE TABLE t (v INTEGER)")
        .unwrap();
    s
}

trait Exec {
    fn execute(&self, sql: &str, p: [i64; 1]) -> Result<usize, String>;
}

impl Exec for hallq_shared::store::Store {
    fn execute(&self, sql: &str, p: [i64; 1]) -> Result<usize, String> {
        self.connection().execute(sql, p).map_err(|e| e.to_string())
    }
}

criterion_group!(store_benches, benches);
criterion_main!(store_benches);
