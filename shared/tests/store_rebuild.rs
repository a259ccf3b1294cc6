//! Property test: whatever the hall went through, the state rebuilt from the database after a
//! restart is exactly the state that was live before it.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::Command;
use hallq_shared::hall::CounterState;
use hallq_shared::store::writer::{Clock, WriterOptions};
use hallq_shared::store::{HallWriter, Store, db_path};
use proptest::prelude::*;

mod common;
use common::{Op, clerk, op, to_command};

fn run(ops: &[Op]) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    // 08:00 in Shanghai.
    let start = day
        .and_time(NaiveTime::from_hms_opt(0, 0, 0).unwrap())
        .and_utc()
        .timestamp_millis();
    let time = Arc::new(Mutex::new(start));
    let t = time.clone();
    let clock: Clock = Arc::new(move || *t.lock().unwrap());
    let mut store = Store::open(&path).unwrap();
    let hall = store.load_hall(&HallConfig::demo(), day).unwrap();
    let options = WriterOptions {
        tick_every: std::time::Duration::from_secs(3600),
        max_batch: 32,
    };
    let mut w = HallWriter::start(store, hall, clock, options, |_| {});
    for c in 1..=4 {
        w.execute(
            Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            clerk(c),
        )
        .unwrap();
    }
    for op in ops {
        if let Op::Wait(m) = op {
            *time.lock().unwrap() += m * 60_000;
            continue;
        }
        let snapshot = w.hall().read().unwrap().clone();
        if let Some((cmd, actor)) = to_command(op, &snapshot) {
            let _ = w.execute(cmd, actor);
        }
    }
    let live = w.hall().read().unwrap().clone();
    w.shutdown();
    let mut store = Store::open(&path).unwrap();
    let rebuilt = store.load_hall(&HallConfig::demo(), live.day).unwrap();
    assert_same(&rebuilt, &live);
}

/// Field by field, so that a failure names what differs.
fn assert_same(a: &hallq_shared::engine::Hall, b: &hallq_shared::engine::Hall) {
    assert_eq!(a.day, b.day, "day");
    assert_eq!(a.tickets, b.tickets, "tickets");
    assert_eq!(a.counters, b.counters, "counters");
    assert_eq!(a.outage, b.outage, "outage");
    assert_eq!(a.outage_long, b.outage_long, "outage_long");
    assert_eq!(a.long_wait, b.long_wait, "long_wait");
    assert_eq!(a.next_seq, b.next_seq, "next_seq");
    assert_eq!(a.recent_calls, b.recent_calls, "recent_calls");
    assert_eq!(a.service_times, b.service_times, "service_times");
    assert_eq!(a.last_seq, b.last_seq, "last_seq");
    assert_eq!(a.last_callback_id, b.last_callback_id, "last_callback_id");
    assert_eq!(a.config, b.config, "config");
    assert!(a.waiting_index_is_consistent(), "rebuilt waiting index");
    assert!(b.waiting_index_is_consistent(), "live waiting index");
    assert_eq!(a, b);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn restart_rebuilds_the_same_hall(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops);
    }
}
