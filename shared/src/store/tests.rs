//! Store tests: migrations, opening bad files, rebuilding the hall, the writer's durability.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveTime};

use super::writer::{Clock, WriterOptions};
use super::*;
use crate::engine::{Actor, Command, Reply, TransferTo};
use crate::hall::{CallEnd, CounterState, Now};
use crate::protocol::Role;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// A clock standing at 09:00 Shanghai time on `day()`, moved by hand.
fn clock() -> (Clock, Arc<Mutex<i64>>) {
    let start = day()
        .and_time(NaiveTime::from_hms_opt(1, 0, 0).unwrap())
        .and_utc()
        .timestamp_millis();
    let t = Arc::new(Mutex::new(start));
    let c = t.clone();
    (Arc::new(move || *c.lock().unwrap()), t)
}

fn open_writer(path: &Path, clock: Clock) -> HallWriter {
    let mut store = Store::open(path).unwrap();
    let hall = store.load_hall(&HallConfig::demo(), day()).unwrap();
    HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions {
            tick_every: std::time::Duration::from_secs(3600),
            max_batch: 64,
        },
        |_| {},
    )
}

fn clerk(c: u32) -> Actor {
    Actor::new(format!("clerk{c}"), Role::Staff, Some(c))
}

fn kiosk() -> Actor {
    Actor::new("kiosk", Role::Kiosk, None)
}

/// A kiosk's ticket of `service`, without priority: the hall's reply.
fn issue(w: &HallWriter, service: &str) -> Reply {
    w.execute(
        Command::IssueTicket {
            service: service.into(),
            priority: false,
        },
        kiosk(),
    )
    .unwrap()
    .reply
}

#[test]
fn migrating_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::current_version());
    s.add_suggestion(1, "多开一个窗口", None, "kiosk").unwrap();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::current_version());
    assert_eq!(s.suggestions(10).unwrap().len(), 1);
}

#[test]
fn an_older_database_is_migrated_forward_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    {
        // A file as the first release wrote it: schema version 1 with a ticket in it.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO tickets (day, number, service, seq, priority, issued_at, state, recalls, transfers, issued_by, estimated_wait_s, apology, first_service)
             VALUES ('2026-11-25', 'B001', 'pay', 1, 0, 0, 'waiting', 0, 0, 'kiosk', 0, 0, 'pay')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('day', '2026-11-25')",
            [],
        )
        .unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::current_version());
    let hall = s.load_hall(&HallConfig::demo(), day()).unwrap();
    assert_eq!(
        hall.tickets["B001"].state,
        crate::hall::TicketState::Waiting
    );
    assert_eq!(hall.next_seq[&'B'], 1);
}

#[test]
fn a_phones_ticket_is_kept_for_its_day_and_older_days_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&db_path(dir.path())).unwrap();
    let d1 = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let d2 = d1.succ_opt().unwrap();
    s.hold_phone_ticket(&[1; 32], d1, "B004").unwrap();
    s.hold_phone_ticket(&[2; 32], d1, "A001").unwrap();
    s.hold_phone_ticket(&[2; 32], d1, "A009").unwrap();
    assert_eq!(
        {
            let mut v = s.phone_tickets(d1).unwrap();
            v.sort();
            v
        },
        vec![(vec![1; 32], "B004".into()), (vec![2; 32], "A009".into())]
    );
    s.hold_phone_ticket(&[3; 32], d2, "C001").unwrap();
    assert_eq!(
        s.phone_tickets(d2).unwrap(),
        vec![(vec![3; 32], "C001".into())]
    );
    let left: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM phone_tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1, "yesterday's rows are gone");
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }));
    assert!(err.to_string().contains("hallq.db"));
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let junk = b"this is not a database, it is a shopping list".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    let err = Store::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not a database"), "{msg}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        junk,
        "never replaced by a new empty database"
    );
}

#[test]
fn a_damaged_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    {
        let s = Store::open(&path).unwrap();
        for i in 0..2000 {
            s.add_suggestion(i, &"意见".repeat(50), None, "kiosk")
                .unwrap();
        }
        s.connection()
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    // Overwrite a stretch in the middle of the file, as a failing SD card might.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let msg = Store::open(&path).unwrap_err().to_string();
    assert!(msg.contains("hallq.db"), "{msg}");
}

#[test]
fn acknowledged_commands_are_in_the_file_and_the_hall_rebuilds_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let mut w = open_writer(&path, clock.clone());
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
    let mut numbers = vec![];
    for s in ["pay", "pay", "stb", "repair", "account", "pay"] {
        *time.lock().unwrap() += 30_000;
        match w
            .execute(
                Command::IssueTicket {
                    service: s.into(),
                    priority: false,
                },
                kiosk(),
            )
            .unwrap()
            .reply
        {
            Reply::Issued(t) => numbers.push(t.number),
            r => panic!("{r:?}"),
        }
    }
    w.execute(Command::CallNext { counter: 1 }, clerk(1))
        .unwrap();
    w.execute(Command::Start { counter: 1 }, clerk(1)).unwrap();
    *time.lock().unwrap() += 400_000;
    w.execute(
        Command::Transfer {
            counter: 1,
            to: TransferTo::Service("stb".into()),
        },
        clerk(1),
    )
    .unwrap();
    w.execute(Command::CallNext { counter: 2 }, clerk(2))
        .unwrap();
    *time.lock().unwrap() += 200_000;
    w.execute(Command::Finish { counter: 2 }, clerk(2)).unwrap();
    w.execute(Command::CallNext { counter: 3 }, clerk(3))
        .unwrap();
    w.execute(Command::Recall { counter: 3 }, clerk(3)).unwrap();
    *time.lock().unwrap() += 60_000;
    w.execute(Command::NoShow { counter: 3 }, clerk(3)).unwrap();
    w.execute(
        Command::StartOutage {
            expected_minutes: 45,
            message: Some("系统升级".into()),
        },
        Actor::new("boss", Role::Manager, None),
    )
    .unwrap();
    w.execute(
        Command::CaptureCallback {
            phone: "13812345678".into(),
            consent: true,
            ticket: Some("C001".into()),
            address: None,
            reason: None,
        },
        kiosk(),
    )
    .unwrap();
    let live = w.hall().read().unwrap().clone();
    w.shutdown();
    drop(w);

    let mut s = Store::open(&path).unwrap();
    let rebuilt = s.load_hall(&HallConfig::demo(), day()).unwrap();
    assert_eq!(rebuilt, live, "state after restart equals state before");
    // The no-show counts in today's share of those called who do not come, after the restart too.
    for service in &live.config.services {
        assert_eq!(rebuilt.no_shows(&service.id), live.no_shows(&service.id));
    }
    assert!(
        live.config
            .services
            .iter()
            .any(|s| live.no_shows(&s.id).share > 0.0)
    );
    assert_eq!(s.tickets_of_day(day()).unwrap().len(), numbers.len());
    let events = s.events_of_day(day()).unwrap();
    assert_eq!(events.len() as u64, live.last_seq);
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "gap-free history"
    );
    assert_eq!(
        s.callbacks(None, 10).unwrap()[0].phone.as_str(),
        "13812345678"
    );
    {
        // Each event's type column is the tag inside its body (reports select on it).
        let mut st = s.conn.prepare("SELECT type, body FROM events").unwrap();
        let rows: Vec<(String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len() as u64, live.last_seq);
        for (kind, body) in rows {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(Some(kind.as_str()), v["type"].as_str(), "{body}");
        }
    }
    // Numbering continues without a duplicate.
    let w = HallWriter::start(s, rebuilt, clock, WriterOptions::default(), |_| {});
    match w
        .execute(
            Command::IssueTicket {
                service: "pay".into(),
                priority: false,
            },
            kiosk(),
        )
        .unwrap()
        .reply
    {
        Reply::Issued(t) => assert_eq!(t.number, "B004"),
        r => panic!("{r:?}"),
    }
}

#[test]
fn concurrent_commands_are_committed_together_and_all_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, _) = clock();
    let commits = Arc::new(Mutex::new(Vec::new()));
    let seen = commits.clone();
    let mut store = Store::open(&path).unwrap();
    let hall = store.load_hall(&HallConfig::demo(), day()).unwrap();
    let w = Arc::new(HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions {
            tick_every: std::time::Duration::from_secs(3600),
            max_batch: 64,
        },
        move |c| seen.lock().unwrap().push((c.prev_seq, c.seq)),
    ));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| {
                        match w
                            .execute(
                                Command::IssueTicket {
                                    service: "pay".into(),
                                    priority: false,
                                },
                                kiosk(),
                            )
                            .unwrap()
                            .reply
                        {
                            Reply::Issued(t) => t.number,
                            r => panic!("{r:?}"),
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "no number given twice");
    // Callers are answered before the board is told; stopping the writer waits for the last telling.
    let Ok(mut w) = Arc::try_unwrap(w) else {
        panic!("every thread has finished with the writer")
    };
    w.shutdown();
    let commits = commits.lock().unwrap().clone();
    assert!(
        commits.windows(2).all(|w| w[1].0 == w[0].1),
        "each commit follows on from the last: {commits:?}"
    );
    assert_eq!(commits.last().unwrap().1, 400);
    let reader = Store::open_reader(&path).unwrap();
    assert_eq!(reader.tickets_of_day(day()).unwrap().len(), 400);
}

#[test]
fn callbacks_list_pending_first_and_purge_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let w = open_writer(&path, clock);
    for phone in ["13800000001", "13800000002", "13800000003"] {
        *time.lock().unwrap() += 1000;
        w.execute(
            Command::CaptureCallback {
                phone: phone.into(),
                consent: true,
                ticket: None,
                address: None,
                reason: None,
            },
            kiosk(),
        )
        .unwrap();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    w.update_callback(
        1,
        Some(CallbackStatus::Resolved),
        Some("已办结".into()),
        false,
        clerk(1),
        move |r| tx.send(r).unwrap(),
    );
    rx.recv().unwrap().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    w.update_callback(
        99,
        Some(CallbackStatus::Resolved),
        None,
        false,
        clerk(1),
        move |r| tx.send(r).unwrap(),
    );
    assert!(
        matches!(rx.recv().unwrap(), Err(WriterError::Refused(r)) if r.code == "unknown_callback")
    );
    let list = w
        .admin_blocking(|s, _| s.callbacks(None, 10).unwrap())
        .unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![2, 3, 1], "pending oldest first, then resolved");
    assert_eq!(
        w.admin_blocking(|s, _| s.pending_callbacks().unwrap())
            .unwrap(),
        2
    );
    let purged = w
        .admin_blocking(|s, _| s.purge_resolved_callbacks(i64::MAX).unwrap())
        .unwrap();
    assert_eq!(purged, 1);
    // Ids are never reused after a purge.
    let ex = w
        .execute(
            Command::CaptureCallback {
                phone: "13800000004".into(),
                consent: true,
                ticket: None,
                address: None,
                reason: None,
            },
            kiosk(),
        )
        .unwrap();
    assert_eq!(ex.callback.unwrap().id, 4);
}

#[test]
fn accounts_devices_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&db_path(dir.path())).unwrap();
    s.add_account("wang", "staff", "hash1", 0).unwrap();
    assert_eq!(
        s.account("wang").unwrap(),
        Some(("staff".into(), "hash1".into()))
    );
    s.add_session("tok", "wang", "staff", Some(2), 0, 100)
        .unwrap();
    assert_eq!(s.session("tok", 50).unwrap().unwrap().2, Some(2));
    assert_eq!(s.session("tok", 100).unwrap(), None, "expired");
    s.disable_account("wang").unwrap();
    assert_eq!(s.account("wang").unwrap(), None);
    s.add_device("door", "kiosk", "th", 0).unwrap();
    assert_eq!(
        s.device_by_token("th").unwrap(),
        Some(("door".into(), "kiosk".into(), None))
    );
    s.revoke_device("door").unwrap();
    assert_eq!(s.device_by_token("th").unwrap(), None);
}

#[test]
fn the_day_rolls_over_on_a_tick_and_is_remembered() {
    use crate::estimate::NoShows as NoShowsOf;
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let w = open_writer(&path, clock.clone());
    let set = |w: &HallWriter, counter: u32, state: CounterState| {
        w.execute(Command::SetCounter { counter, state }, clerk(counter))
            .unwrap();
    };
    set(&w, 1, CounterState::Open);
    let issue = || {
        issue(&w, "pay");
    };
    let run = |cmd: Command| {
        w.execute(cmd, clerk(1)).unwrap();
    };
    let seconds = |s: i64| *time.lock().unwrap() += s * 1000;
    // Three customers: one served, one who does not come (marked 90 s after the call), one
    // still waiting when the day closes.
    issue();
    issue();
    issue();
    run(Command::CallNext { counter: 1 });
    run(Command::Start { counter: 1 });
    seconds(300);
    run(Command::Finish { counter: 1 });
    run(Command::CallNext { counter: 1 });
    seconds(90);
    run(Command::NoShow { counter: 1 });
    seconds(3 * 3600 - 390);
    set(&w, 1, CounterState::Paused);
    *time.lock().unwrap() += 24 * 3600 * 1000;
    let ex = w.execute(Command::Tick, Actor::system()).unwrap();
    assert!(
        ex.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::DayClosed { .. }))
    );
    // The next day's first change, which a restart must not lose either.
    set(&w, 2, CounterState::Open);
    let live_history = w.hall().read().unwrap().history.clone();
    let live_changes = w.hall().read().unwrap().counter_changes.clone();
    assert_eq!(live_changes.len(), 1);
    drop(w);
    let mut s = Store::open(&path).unwrap();
    let next_day = day().succ_opt().unwrap();
    let hall = s.load_hall(&HallConfig::demo(), next_day).unwrap();
    assert_eq!(hall.day, next_day);
    // The day's tickets are in the history of arrivals (09:00 local), the served one's service
    // and the calls that ended (one served, one no-show), and counter 1's opening at 09:00 and
    // pause at 12:00 in its state changes, folded by the live hall and rebuilt from the file
    // alike.
    let mut expected = crate::estimate::History::default();
    for _ in 0..3 {
        expected.add_arrival("pay", day(), 9);
    }
    expected.add("pay", day(), 9, 300);
    expected.add_call_end("pay", day(), CallEnd::Served);
    expected.add_call_end("pay", day(), CallEnd::NoShow { after_secs: 90 });
    expected.add_counter_change(1, day(), 9 * 60, true);
    expected.add_counter_change(1, day(), 12 * 60, false);
    assert_eq!(live_history, expected);
    assert_eq!(hall.history, expected);
    assert_eq!(hall.counter_changes, live_changes);
    assert!(hall.tickets.is_empty());
    // The next day starts from the history's share: one in two called did not come.
    let history = NoShowsOf::of(&Default::default(), &hall.history.calls()["pay"]);
    assert_eq!(hall.no_shows("pay"), history);
    assert!((history.share - 0.5).abs() < 1e-9 && history.hold_s > 60.0);
    assert_eq!(
        s.tickets_of_day(day()).unwrap()[2].state,
        crate::hall::TicketState::Expired,
        "kept in history"
    );
    let _ = Now::in_zone(0, &chrono_tz::Asia::Shanghai);
}

#[test]
fn a_slow_systems_services_stay_out_of_the_history_and_a_restart_keeps_it_and_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let w = open_writer(&path, clock.clone());
    let run = |w: &HallWriter, cmd: Command, who: Actor| {
        w.execute(cmd, who).unwrap();
    };
    let minutes = |m: i64| *time.lock().unwrap() += m * 60_000;
    run(
        &w,
        Command::SetCounter {
            counter: 1,
            state: CounterState::Open,
        },
        clerk(1),
    );
    for _ in 0..2 {
        let issue = Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        };
        run(&w, issue, kiosk());
    }
    // One service of 5 minutes, then the system is said to be slow and one of 10.
    for (said_slow, length) in [(false, 5), (true, 10)] {
        if said_slow {
            run(&w, Command::SetSlowSystem { slow: true }, clerk(1));
        }
        run(&w, Command::CallNext { counter: 1 }, clerk(1));
        run(&w, Command::Start { counter: 1 }, clerk(1));
        minutes(length);
        run(&w, Command::Finish { counter: 1 }, clerk(1));
    }
    minutes(24 * 60);
    run(&w, Command::Tick, Actor::system());
    // The next day is slow too, from its start, and then the system goes down.
    run(&w, Command::SetSlowSystem { slow: true }, clerk(1));
    let boss = Actor::new("boss", Role::Manager, None);
    let down = Command::StartOutage {
        expected_minutes: 30,
        message: None,
    };
    run(&w, down, boss);
    let live = w.hall().read().unwrap().clone();
    assert_eq!(live.disruptions.len(), 2);
    drop(w);
    let mut s = Store::open(&path).unwrap();
    let hall = s
        .load_hall(&HallConfig::demo(), day().succ_opt().unwrap())
        .unwrap();
    // Only the 5-minute service seeds the next weeks, folded live and rebuilt alike.
    let seed = live.history.seeds(chrono::Datelike::weekday(&day()));
    assert_eq!(seed["pay"].any_hour, Some((300.0, 1)));
    assert_eq!(hall.history, live.history);
    assert_eq!(hall.disruptions, live.disruptions);
    assert_eq!(hall.slow_since(), live.slow_since());
}

#[test]
fn the_slow_mark_of_a_day_is_its_last_start_unless_ended_since() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let w = open_writer(&path, clock);
    let mark = || Store::open_reader(&path).unwrap().slow_mark(day()).unwrap();
    assert_eq!(mark(), None);
    let start = *time.lock().unwrap();
    w.execute(Command::SetSlowSystem { slow: true }, clerk(1))
        .unwrap();
    assert_eq!(mark(), Some((start, "clerk1".to_string())));
    *time.lock().unwrap() += 60_000;
    w.execute(Command::SetSlowSystem { slow: false }, clerk(1))
        .unwrap();
    assert_eq!(mark(), None, "ended");
    *time.lock().unwrap() += 60_000;
    let detector = Actor::new("outage-detector", Role::Manager, None);
    w.execute(Command::SetSlowSystem { slow: true }, detector)
        .unwrap();
    assert_eq!(
        mark(),
        Some((start + 120_000, "outage-detector".to_string())),
        "the newest mark and who made it"
    );
}

#[test]
fn the_detectors_answer_times_are_kept_across_a_restart_and_a_bad_value_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, _) = clock();
    let w = open_writer(&path, clock);
    let reader = || Store::open_reader(&path).unwrap();
    assert_eq!(reader().probe_answers().unwrap(), None);
    w.admin_blocking(|s, _| s.set_probe_answers("http://10.0.0.5/health", &[120, 95, 130]))
        .unwrap()
        .unwrap();
    w.admin_blocking(|s, _| s.set_probe_answers("http://10.0.0.5/health", &[95, 130, 110]))
        .unwrap()
        .unwrap();
    drop(w);
    assert_eq!(
        Store::open(&path).unwrap().probe_answers().unwrap(),
        Some(("http://10.0.0.5/health".to_string(), vec![95, 130, 110])),
        "the newest kept, after the writer is gone"
    );
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE meta SET value = 'not json' WHERE key = 'probe_answers'",
            [],
        )
        .unwrap();
    let err = reader().probe_answers().unwrap_err().to_string();
    assert!(err.contains("probe_answers"), "{err}");
}

#[test]
fn a_services_usual_minutes_are_kept_and_start_its_estimate_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, _) = clock();
    let w = open_writer(&path, clock);
    let mut config = HallConfig::demo();
    config.services[0].usual_minutes = Some(12);
    let id = config.services[0].id.clone();
    let boss = Actor::new("boss", Role::Manager, None);
    w.execute(
        Command::ReplaceConfig {
            config: Box::new(config),
        },
        boss,
    )
    .unwrap();
    let live = w.hall().read().unwrap().mean_service_secs(&id);
    assert_eq!(live.round(), 720.0);
    drop(w);
    let mut s = Store::open(&path).unwrap();
    let saved = s
        .saved_config()
        .unwrap()
        .expect("the configuration is saved");
    assert_eq!(saved.services[0].usual_minutes, Some(12));
    let hall = s.load_hall(&saved, day()).unwrap();
    assert_eq!(hall.mean_service_secs(&id), live);
}

#[test]
fn tickets_issued_while_the_clock_reads_an_earlier_day_are_there_after_a_restart() {
    // The hall's day begun, then the clock goes back a day (no real-time clock, or the time zone
    // moved west after the first start), tickets are issued, the hub restarts.
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, time) = clock();
    let w = open_writer(&path, clock.clone());
    let issue = |w: &HallWriter| match w
        .execute(
            Command::IssueTicket {
                service: "pay".into(),
                priority: false,
            },
            kiosk(),
        )
        .unwrap()
        .reply
    {
        Reply::Issued(t) => t.number,
        r => panic!("{r:?}"),
    };
    assert_eq!(issue(&w), "B001");
    *time.lock().unwrap() -= 24 * 3600 * 1000;
    assert_eq!(issue(&w), "B002");
    drop(w);
    let mut s = Store::open(&path).unwrap();
    let yesterday = day().pred_opt().unwrap();
    let hall = s.load_hall(&HallConfig::demo(), yesterday).unwrap();
    assert_eq!(hall.day, day(), "the hall's day is kept, not the clock's");
    assert!(
        hall.tickets.contains_key("B001") && hall.tickets.contains_key("B002"),
        "both tickets are in the rebuilt hall: {:?}",
        hall.tickets.keys().collect::<Vec<_>>()
    );
    assert!(s.tickets_of_day(yesterday).unwrap().is_empty());
    drop(s);
    // And numbering goes on after the restart.
    let w = open_writer(&path, clock);
    assert_eq!(issue(&w), "B003");
}

/// Capture a callback and resolve it with `note`, through the writer.
fn callback_with_note(w: &HallWriter, note: &str) {
    w.execute(
        Command::CaptureCallback {
            phone: "13800000001".into(),
            consent: true,
            ticket: None,
            address: Some("光谷路88号".into()),
            reason: None,
        },
        kiosk(),
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    w.update_callback(
        1,
        Some(CallbackStatus::Resolved),
        Some(note.into()),
        true,
        clerk(1),
        move |r| tx.send(r).unwrap(),
    );
    rx.recv().unwrap().unwrap();
}

fn event_bodies(s: &Store) -> String {
    let mut st = s
        .conn
        .prepare("SELECT body FROM events ORDER BY seq")
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_callback_note_is_kept_in_the_callback_and_not_in_the_event_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, _) = clock();
    let mut w = open_writer(&path, clock);
    callback_with_note(&w, "约好明早上门，备用电话13912345678");
    w.shutdown();
    let s = Store::open(&path).unwrap();
    let bodies = event_bodies(&s);
    assert!(!bodies.contains("13912345678"), "{bodies}");
    assert!(bodies.contains(r#""note_added":true"#), "{bodies}");
    let cb = s.callback(1).unwrap().unwrap();
    assert_eq!(cb.notes[0].text, "约好明早上门，备用电话13912345678");
    assert_eq!(s.purge_resolved_callbacks(i64::MAX).unwrap(), 1);
    assert_eq!(s.callback(1).unwrap(), None);
}

#[test]
fn migration_4_takes_old_notes_out_of_the_event_log_and_the_hall_rebuilds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let (clock, _) = clock();
    let mut w = open_writer(&path, clock);
    callback_with_note(&w, "客户住光谷路88号，备用电话13912345678");
    issue(&w, "pay");
    w.shutdown();
    let (hall_before, callbacks_before) = {
        let mut s = Store::open(&path).unwrap();
        let hall = s.load_hall(&HallConfig::demo(), day()).unwrap();
        (hall, s.callbacks(None, 10).unwrap())
    };
    {
        // Back to what version 3 wrote: the note's text inside the event, no migration-4 columns
        // (and none of the later migrations' tables).
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            r#"
            UPDATE events SET body = json_set(json_remove(body, '$.note_added'), '$.note',
                   '客户住光谷路88号，备用电话13912345678')
             WHERE type = 'callback_updated';
            DROP INDEX suggestions_by_status;
            ALTER TABLE suggestions DROP COLUMN status;
            ALTER TABLE suggestions DROP COLUMN reply;
            ALTER TABLE suggestions DROP COLUMN handled_by;
            ALTER TABLE suggestions DROP COLUMN handled_at;
            ALTER TABLE devices DROP COLUMN counter;
            DROP TABLE phone_tickets;
            DROP INDEX ratings_by_ship_seq;
            ALTER TABLE ratings DROP COLUMN ship_seq;
            INSERT INTO suggestions (at, text, contact, source)
                 VALUES (1, '等候时间太长', '13812345678', 'kiosk');
            PRAGMA user_version = 3;
            "#,
        )
        .unwrap();
        let old = Store {
            conn,
            path: path.clone(),
        };
        assert!(
            event_bodies(&old).contains("13912345678"),
            "the old log holds the note"
        );
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), schema::current_version());
    let bodies = event_bodies(&s);
    assert!(!bodies.contains("13912345678"), "{bodies}");
    assert!(!bodies.contains("光谷路"), "{bodies}");
    assert!(bodies.contains(r#""note_added":true"#), "{bodies}");
    let events = s.events_of_day(day()).unwrap();
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::CallbackUpdated {
            note_added: true,
            status: CallbackStatus::Resolved,
            ..
        }
    )));
    assert_eq!(s.callbacks(None, 10).unwrap(), callbacks_before);
    let hall_after = s.load_hall(&HallConfig::demo(), day()).unwrap();
    assert_eq!(hall_after, hall_before);
    // Not even the bytes of the old event bodies are left in the file or its log.
    let note_in_events = "客户住光谷路88号".as_bytes();
    let in_file = |s: &Store| {
        [s.path().to_path_buf(), s.path().with_extension("db-wal")]
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .any(|bytes| {
                bytes
                    .windows(note_in_events.len())
                    .any(|w| w == note_in_events)
            })
    };
    let callback_notes_kept = s.callback(1).unwrap().unwrap().notes;
    assert_eq!(
        callback_notes_kept.len(),
        1,
        "the note itself stays with the callback"
    );
    s.purge_resolved_callbacks(i64::MAX).unwrap();
    s.truncate_log();
    assert!(!in_file(&s), "the old note is still in the database file");
    // A suggestion left before the migration is new: someone still has to answer it.
    let list = s.suggestion_list(None, 10).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, crate::hall::SuggestionStatus::New);
    assert_eq!(list[0].contact.as_deref(), Some("13812345678"));
}
