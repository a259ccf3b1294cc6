//! Crash-test child: issues and calls tickets as fast as it can from several threads and prints
//! every acknowledged result, one line each, until it is killed.
//!
//! `hallq-crash-child DATA_DIR` — lines are `issued NUMBER` and `called NUMBER COUNTER`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Reply};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;
use hallq_shared::store::writer::{Clock, WriterOptions};
use hallq_shared::store::{HallWriter, Store, db_path};

/// The whole test happens on one business day at a fixed hour, whatever the wall clock says.
pub fn test_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: hallq-crash-child DATA_DIR");
    let mut store = Store::open(&db_path(std::path::Path::new(&dir))).expect("open store");
    let mut config = HallConfig::demo();
    config.hours.opening = NaiveTime::from_hms_opt(0, 0, 0).unwrap_or_default();
    config.hours.last_ticket = NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default();
    config.hours.closing = config.hours.last_ticket;
    let hall = store.load_hall(&config, test_day()).expect("load hall");
    // 10:00 in Shanghai, moving with real time.
    let base = test_day()
        .and_time(NaiveTime::from_hms_opt(2, 0, 0).unwrap_or_default())
        .and_utc()
        .timestamp_millis();
    let started = Instant::now();
    let clock: Clock = Arc::new(move || base + started.elapsed().as_millis() as i64);
    let writer = Arc::new(HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions::default(),
        |_| {},
    ));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    for c in 1..=4 {
        let _ = writer.execute(
            Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            Actor::new("clerk", Role::Staff, Some(c)),
        );
    }
    let services = ["account", "pay", "repair", "stb", "consult", "complaint"];
    let threads: Vec<_> = (0..4u32)
        .map(|k| {
            let writer = writer.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                let kiosk = Actor::new(format!("kiosk{k}"), Role::Kiosk, None);
                let clerk = Actor::new(format!("clerk{}", k + 1), Role::Staff, Some(k + 1));
                for i in 0usize.. {
                    let cmd = Command::IssueTicket {
                        service: services[(i + k as usize) % services.len()].into(),
                        priority: i % 7 == 0,
                    };
                    if let Ok(ex) = writer.execute(cmd, kiosk.clone())
                        && let Reply::Issued(t) = ex.reply
                    {
                        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = writeln!(o, "issued {}", t.number);
                        let _ = o.flush();
                    }
                    if i % 2 == 1
                        && let Ok(ex) =
                            writer.execute(Command::CallNext { counter: k + 1 }, clerk.clone())
                        && let Reply::Called(Some(t)) = ex.reply
                    {
                        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = writeln!(o, "called {} {}", t.number, k + 1);
                        let _ = o.flush();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
