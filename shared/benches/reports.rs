//! Reports over a year of history: 300 business days of about 1,000 tickets each, played through the
//! real engine and written by the store's own row code (one transaction per day), then day, week,
//! month and year reports timed. The database is generated once and kept under the target directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall, Reply};
use hallq_shared::hall::{CallbackStatus, Counter, CounterState, Now, Text};
use hallq_shared::protocol::Role;
use hallq_shared::report::{Period, Satisfaction};
use hallq_shared::store::Store;

/// Bump when the generated history changes, so that an old cached file is not reused.
const VERSION: u32 = 1;
const BUSINESS_DAYS: usize = 300;
/// Mean seconds between two arrivals: 8.5 hours / 1,000 tickets.
const MEAN_ARRIVAL_S: f64 = 30.6;

/// A small xorshift generator: the history must be the same on every machine and every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with mean `m`.
    fn exp(&mut self, m: f64) -> f64 {
        -m * (1.0 - self.unit()).ln()
    }
}

/// The demo hall with eight counters, enough for a thousand visitors a day.
fn config() -> HallConfig {
    let mut c = HallConfig::demo();
    let all: Vec<String> = c.services.iter().map(|s| s.id.clone()).collect();
    for id in 5..=8u32 {
        let mut services = all.clone();
        services.rotate_left(id as usize % all.len());
        c.counters.push(Counter {
            id,
            name: Text::new(format!("{id}号窗口"), format!("Counter {id}")),
            services,
        });
    }
    c
}

fn business_days() -> Vec<NaiveDate> {
    let mut d = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
    let mut out = Vec::new();
    while out.len() < BUSINESS_DAYS {
        if d.weekday() != Weekday::Sun {
            out.push(d);
        }
        d = d.succ_opt().unwrap();
    }
    out
}

fn cache_path() -> PathBuf {
    let base = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "../target".into());
    PathBuf::from(base).join(format!("hallq-bench/reports-year-v{VERSION}.db"))
}

/// Local time on `day` (Asia/Shanghai, UTC+8) as UTC milliseconds.
fn local(day: NaiveDate, secs: i64) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis() + (secs - 8 * 3600) * 1000
}

struct Generator {
    hall: Hall,
    tz: chrono_tz::Tz,
    rng: Rng,
    tickets: u64,
}

impl Generator {
    fn exec(
        &mut self,
        batch: &hallq_shared::store::Batch<'_>,
        at: i64,
        actor: &Actor,
        cmd: Command,
    ) -> Option<Reply> {
        let now = Now::in_zone(at, &self.tz);
        match self.hall.execute(&cmd, actor, now) {
            Ok(ex) => {
                batch.record(&ex, &self.hall).expect("record");
                Some(ex.reply)
            }
            Err(_) => None,
        }
    }

    fn day(&mut self, store: &mut Store, day: NaiveDate) {
        let batch = store.batch().expect("batch");
        let counters: Vec<u32> = self.hall.config.counters.iter().map(|c| c.id).collect();
        let services: Vec<String> = self
            .hall
            .config
            .services
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let clerk = |c: u32, day: NaiveDate| {
            Actor::new(
                format!("clerk{}", (c + day.ordinal()) % 12),
                Role::Staff,
                Some(c),
            )
        };
        // Openings around 08:20, a few late.
        let mut events: Vec<(i64, u32)> = Vec::new(); // (time s, counter) when the counter is free
        for &c in &counters {
            let open_s = 8 * 3600 + 20 * 60 + (self.rng.unit() * 900.0) as i64 - 300;
            self.exec(
                &batch,
                local(day, open_s),
                &clerk(c, day),
                Command::SetCounter {
                    counter: c,
                    state: CounterState::Open,
                },
            );
            events.push((8 * 3600 + 30 * 60, c));
        }
        let closing = 17 * 3600 + 30 * 60;
        let last_ticket = 17 * 3600;
        let mut next_arrival = 8 * 3600 + 30 * 60 + self.rng.exp(MEAN_ARRIVAL_S) as i64;
        let mut next_tick = 8 * 3600 + 35 * 60;
        let kiosk = Actor::new("kiosk", Role::Kiosk, None);
        let mut callbacks: Vec<(i64, i64)> = Vec::new();
        loop {
            events.sort_unstable();
            let (free_at, c) = events[0];
            let t = next_arrival.min(free_at).min(next_tick);
            if t > closing + 3600 {
                break;
            }
            if t == next_tick {
                self.exec(&batch, local(day, t), &Actor::system(), Command::Tick);
                next_tick += 300;
                continue;
            }
            if t == next_arrival && next_arrival < last_ticket {
                // Busier around lunch: the pay line doubles.
                let lunch = (11 * 3600..13 * 3600).contains(&t);
                let pick = self.rng.unit();
                let service = if pick < (if lunch { 0.6 } else { 0.4 }) {
                    "pay".to_string()
                } else {
                    services[(self.rng.next() % services.len() as u64) as usize].clone()
                };
                let priority = self.rng.unit() < 0.05;
                let issued = self.exec(
                    &batch,
                    local(day, t),
                    &kiosk,
                    Command::IssueTicket { service, priority },
                );
                if issued.is_some() {
                    self.tickets += 1;
                }
                let mean = if lunch {
                    MEAN_ARRIVAL_S * 0.6
                } else {
                    MEAN_ARRIVAL_S * 1.2
                };
                next_arrival = t + 1 + self.rng.exp(mean) as i64;
                continue;
            }
            if t == next_arrival {
                next_arrival = i64::MAX / 4;
                continue;
            }
            // Counter `c` is free at `t`: end its current customer, then call the next one.
            let actor = clerk(c, day);
            let at = local(day, t);
            if self
                .hall
                .counters
                .get(&c)
                .is_some_and(|r| r.current.is_some())
            {
                let roll = self.rng.unit();
                let cmd = if roll < 0.03 {
                    Command::NoShow { counter: c }
                } else if roll < 0.05 {
                    Command::Transfer {
                        counter: c,
                        to: hallq_shared::engine::TransferTo::Service("pay".into()),
                    }
                } else {
                    Command::Finish { counter: c }
                };
                if self.exec(&batch, at, &actor, cmd).is_none() {
                    self.exec(&batch, at, &actor, Command::Finish { counter: c });
                }
                if roll > 0.995 {
                    let phone = format!("138{:08}", self.rng.next() % 100_000_000);
                    if let Some(Reply::CallbackCaptured(cb)) = self.exec(
                        &batch,
                        at,
                        &actor,
                        Command::CaptureCallback {
                            phone,
                            consent: true,
                            ticket: None,
                            address: None,
                            reason: Some("宽带故障".into()),
                        },
                    ) {
                        callbacks.push((cb.id, t + 1800 + (self.rng.unit() * 7200.0) as i64));
                    }
                }
            }
            let called = self.exec(&batch, at, &actor, Command::CallNext { counter: c });
            let got = matches!(called, Some(Reply::Called(Some(_))));
            let busy = if got {
                if self.rng.unit() < 0.7 {
                    self.exec(
                        &batch,
                        local(day, t + 20),
                        &actor,
                        Command::Start { counter: c },
                    );
                }
                // Service times: mostly 1–4 minutes, a few long ones.
                let mean = if self.rng.unit() < 0.03 { 900.0 } else { 120.0 };
                let s = 30.0 + self.rng.exp(mean);
                t + 20 + s as i64
            } else if t > last_ticket && self.hall.waiting_tickets().is_empty() {
                i64::MAX / 4
            } else {
                t + 30
            };
            events[0] = (busy, c);
        }
        for &c in &counters {
            let at = local(day, closing + 3600);
            self.exec(
                &batch,
                at,
                &clerk(c, day),
                Command::SetCounter {
                    counter: c,
                    state: CounterState::Closed,
                },
            );
        }
        // Callbacks resolved later the same day (the stored record is what the update starts from).
        batch.commit().expect("commit");
        let stored: Vec<_> = callbacks
            .into_iter()
            .filter_map(|(id, s)| store.callback(id).expect("callback").map(|cb| (cb, s)))
            .collect();
        let batch = store.batch().expect("batch");
        for (current, resolve_s) in stored {
            {
                self.exec(
                    &batch,
                    local(day, resolve_s.min(closing + 3000)),
                    &Actor::new("manager", Role::Manager, None),
                    Command::UpdateCallback {
                        current: Box::new(current),
                        status: Some(CallbackStatus::Resolved),
                        note: Some("已回电".into()),
                        take: true,
                    },
                );
            }
        }
        batch.commit().expect("commit");
        // About a third of the finished visits are rated.
        let finished: Vec<(String, Option<u32>)> = self
            .hall
            .tickets
            .values()
            .filter(|t| t.state == hallq_shared::hall::TicketState::Finished)
            .map(|t| (t.number.clone(), t.counter))
            .collect();
        for (number, counter) in finished {
            if self.rng.unit() < 0.33 {
                let score = [5, 5, 5, 4, 4, 4, 3, 2, 1][(self.rng.next() % 9) as usize];
                store
                    .add_rating(
                        day,
                        &number,
                        counter,
                        Satisfaction::from_score(score).unwrap(),
                        local(day, closing),
                    )
                    .expect("rating");
            }
        }
    }
}

fn generate(path: &Path) {
    let started = Instant::now();
    let tmp = path.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(tmp.with_extension("partial-wal"));
    let mut store = Store::open(&tmp).expect("open");
    // Generation only: the history is rebuilt from scratch if the run is interrupted.
    store
        .connection()
        .pragma_update(None, "synchronous", "OFF")
        .unwrap();
    let days = business_days();
    let config = config();
    store.save_config(&config, 0, "bench").unwrap();
    let hall = store.load_hall(&config, days[0]).expect("hall");
    let tz = config.time_zone();
    let mut g = Generator {
        hall,
        tz,
        rng: Rng(0x9E37_79B9_7F4A_7C15),
        tickets: 0,
    };
    for &d in &days {
        g.day(&mut store, d);
    }
    let conn = store.connection();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    eprintln!(
        "generated {} business days: {} tickets, {} events, {} ratings, {} callbacks in {:.1} s",
        days.len(),
        count("SELECT count(*) FROM tickets"),
        count("SELECT count(*) FROM events"),
        count("SELECT count(*) FROM ratings"),
        count("SELECT count(*) FROM callbacks"),
        started.elapsed().as_secs_f64()
    );
    drop(store);
    std::fs::rename(&tmp, path).expect("rename");
}

fn reports(c: &mut Criterion) {
    let path = cache_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if !path.exists() {
        generate(&path);
    }
    let store = Store::open_reader(&path).expect("reader");
    let config = config();
    let mid = NaiveDate::from_ymd_opt(2025, 6, 18).unwrap();
    let periods = [
        ("day", Period::day(mid)),
        ("week", Period::week(mid).unwrap()),
        ("month", Period::month(mid).unwrap()),
        ("year", Period::year(mid).unwrap()),
    ];
    for (name, p) in periods {
        let r = store.report(p, &config).unwrap();
        let input = store.report_input(p).unwrap();
        let mut csv = Vec::new();
        r.to_csv(&mut csv).unwrap();
        eprintln!(
            "{name}: {} tickets, {} events read, {} ratings; wait median {:?} s, p90 {:?} s, within target {:.3}; {} long waits, {} long services; JSON {} kB, CSV {} kB",
            r.totals.issued,
            input.events.len(),
            input.ratings.len(),
            r.totals.wait.median_s,
            r.totals.wait.p90_s,
            r.totals.within_target.unwrap_or(0.0),
            r.incidents.long_waits,
            r.incidents.long_services,
            serde_json::to_vec(&r).unwrap().len() / 1024,
            csv.len() / 1024,
        );
    }
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    for (name, p) in periods {
        g.bench_function(format!("{name}/total"), |b| {
            b.iter(|| store.report(p, &config).unwrap())
        });
        g.bench_function(format!("{name}/sql"), |b| {
            b.iter(|| store.report_input(p).unwrap())
        });
        let input = store.report_input(p).unwrap();
        g.bench_function(format!("{name}/compute"), |b| {
            b.iter(|| hallq_shared::report::Report::build(p, &config, &input))
        });
    }
    g.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
