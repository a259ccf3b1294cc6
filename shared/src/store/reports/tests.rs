//! A scripted business day played through the real writer with a hand-moved clock, then reported:
//! every figure below was worked out by hand from the script, not by the code under test.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::engine::{Actor, Command, Reply, TransferTo};
use crate::hall::{CallbackStatus, CounterState};
use crate::protocol::Role;
use crate::report::{Durations, Row};
use crate::store::db_path;
use crate::store::writer::{Clock, HallWriter, WriterOptions};

fn d() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// Shanghai local time on `day` as UTC milliseconds.
fn local(day: NaiveDate, h: u32, m: u32) -> i64 {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000
}

fn staff(login: &str, counter: u32) -> Actor {
    Actor::new(login, Role::Staff, Some(counter))
}

struct Script {
    writer: HallWriter,
    clock: Arc<Mutex<i64>>,
}

impl Script {
    fn at(&self, day: NaiveDate, h: u32, m: u32) -> &Self {
        *self.clock.lock().unwrap() = local(day, h, m);
        self
    }

    fn run(&self, actor: Actor, cmd: Command) -> Reply {
        match self.writer.execute(cmd.clone(), actor) {
            Ok(ex) => ex.reply,
            Err(e) => panic!("{cmd:?} refused: {e}"),
        }
    }

    fn issue(&self, service: &str) -> String {
        match self.run(
            Actor::new("kiosk", Role::Kiosk, None),
            Command::IssueTicket {
                service: service.into(),
                priority: false,
            },
        ) {
            Reply::Issued(t) => t.number,
            other => panic!("{other:?}"),
        }
    }

    fn call(&self, login: &str, counter: u32, number: &str) {
        self.run(
            staff(login, counter),
            Command::CallNumber {
                counter,
                number: number.into(),
            },
        );
    }

    fn callback(&self, phone: &str) -> i64 {
        match self.run(
            staff("li", 1),
            Command::CaptureCallback {
                phone: phone.into(),
                consent: true,
                ticket: None,
                address: None,
                reason: Some("系统故障".into()),
            },
        ) {
            Reply::CallbackCaptured(c) => c.id,
            other => panic!("{other:?}"),
        }
    }

    fn resolve(&self, id: i64) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.writer.update_callback(
            id,
            Some(CallbackStatus::Resolved),
            Some("已回电告知恢复".into()),
            false,
            staff("li", 1),
            move |r| {
                let _ = tx.send(r.map(|_| ()));
            },
        );
        rx.recv().unwrap().unwrap();
    }
}

/// The day, as the comments tell it (local Shanghai time).
fn play(path: &std::path::Path) {
    let mut store = Store::open(path).unwrap();
    let hall = store.load_hall(&HallConfig::demo(), d()).unwrap();
    let t = Arc::new(Mutex::new(local(d(), 8, 0)));
    let c = t.clone();
    let clock: Clock = Arc::new(move || *c.lock().unwrap());
    let writer = HallWriter::start(
        store,
        hall,
        clock,
        WriterOptions {
            tick_every: std::time::Duration::from_secs(3600),
            max_batch: 64,
        },
        |_| {},
    );
    let s = Script { writer, clock: t };
    let open = |login: &str, counter: u32| {
        s.run(
            staff(login, counter),
            Command::SetCounter {
                counter,
                state: CounterState::Open,
            },
        );
    };
    let day = d();
    // Openings: counter 1 fifteen minutes early, 2 five minutes early, 3 ten minutes late.
    s.at(day, 8, 15);
    open("li", 1);
    s.at(day, 8, 25);
    open("wang", 2);
    s.at(day, 8, 40);
    open("zhao", 3);

    s.at(day, 9, 0);
    assert_eq!(s.issue("pay"), "B001");
    s.at(day, 9, 1);
    assert_eq!(s.issue("pay"), "B002");
    s.at(day, 9, 2);
    assert_eq!(s.issue("account"), "A001");
    s.call("li", 1, "B001"); // waited 2 min
    s.at(day, 9, 3);
    assert_eq!(s.issue("repair"), "C001");
    s.run(staff("li", 1), Command::Start { counter: 1 });
    s.at(day, 9, 5);
    s.call("wang", 2, "B002"); // waited 4 min
    s.at(day, 9, 8);
    s.run(staff("li", 1), Command::Finish { counter: 1 }); // B001: 5 min from start
    s.call("li", 1, "A001"); // waited 6 min
    s.at(day, 9, 10);
    s.run(staff("li", 1), Command::NoShow { counter: 1 });
    assert_eq!(s.issue("pay"), "B003");
    s.at(day, 9, 11);
    s.call("li", 1, "B003"); // waited 1 min
    s.at(day, 9, 12);
    s.run(staff("li", 1), Command::Finish { counter: 1 }); // B003: 1 min from the call
    s.at(day, 9, 20);
    s.call("zhao", 3, "C001"); // waited 17 min: over the 15-minute target
    s.at(day, 9, 21);
    s.run(staff("zhao", 3), Command::Start { counter: 3 });
    s.at(day, 9, 25);
    s.run(staff("wang", 2), Command::Finish { counter: 2 }); // B002: 20 min, a long service
    s.at(day, 9, 30);
    s.run(
        staff("zhao", 3),
        Command::Transfer {
            counter: 3,
            to: TransferTo::Service("pay".into()),
        },
    );
    s.at(day, 9, 40);
    s.call("chen", 2, "C001"); // chen took over counter 2; the wait stays 17 min
    s.at(day, 9, 41);
    s.run(staff("chen", 2), Command::Start { counter: 2 });
    s.at(day, 9, 45);
    s.run(staff("chen", 2), Command::Finish { counter: 2 }); // C001: 4 min at counter 2

    s.at(day, 10, 0);
    assert_eq!(s.issue("consult"), "E001");
    s.at(day, 10, 5);
    assert_eq!(s.issue("pay"), "B004"); // never called: expires overnight
    s.at(day, 10, 31);
    s.run(Actor::system(), Command::Tick); // consult's oldest has waited 31 min
    s.at(day, 10, 45);
    s.call("li", 1, "E001"); // waited 45 min
    s.at(day, 10, 46);
    s.run(Actor::system(), Command::Tick); // consult ends (15 min); pay begins (B004, 41 min)
    s.at(day, 10, 47);
    s.run(staff("li", 1), Command::Finish { counter: 1 }); // E001: 2 min

    s.at(day, 11, 0);
    s.run(
        Actor::new("boss", Role::Manager, None),
        Command::StartOutage {
            expected_minutes: 10,
            message: None,
        },
    );
    s.at(day, 11, 2);
    let cb1 = s.callback("13800138000");
    s.at(day, 11, 3);
    let cb2 = s.callback("13900139000");
    s.at(day, 11, 5);
    s.run(Actor::new("boss", Role::Manager, None), Command::EndOutage);
    s.at(day, 11, 32);
    s.resolve(cb1); // 30 min after capture
    let next = day.succ_opt().unwrap();
    s.at(next, 9, 3);
    s.resolve(cb2); // the next morning: 22 h after capture
}

fn row<'a>(rows: &'a [Row], key: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

fn durations(count: u32, mean: f64, median: f64, p90: f64, max: f64) -> Durations {
    Durations {
        count,
        mean_s: Some(mean),
        median_s: Some(median),
        p90_s: Some(p90),
        max_s: Some(max),
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn a_scripted_day_gives_the_figures_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    play(&path);

    let store = Store::open(&path).unwrap();
    let day = d();
    // Ratings: one per finished visit.
    store
        .add_rating(day, "B001", Some(1), Satisfaction::VerySatisfied, 1)
        .unwrap();
    store
        .add_rating(day, "B002", Some(2), Satisfaction::Dissatisfied, 2)
        .unwrap();
    store
        .add_rating(day, "B003", Some(1), Satisfaction::Satisfied, 3)
        .unwrap();
    store
        .add_rating(day, "C001", None, Satisfaction::VerySatisfied, 4)
        .unwrap();
    let again = store.add_rating(day, "B001", Some(1), Satisfaction::Fair, 5);
    assert!(
        matches!(again, Err(RatingError::AlreadyRated { .. })),
        "{again:?}"
    );
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("already been rated")
    );
    let no_show = store.add_rating(day, "A001", Some(1), Satisfaction::Fair, 6);
    assert!(matches!(no_show, Err(RatingError::NotFinished { .. })));
    let expired = store.add_rating(day, "B004", None, Satisfaction::Fair, 6);
    assert!(
        matches!(expired, Err(RatingError::NotFinished { ref state, .. }) if state == "expired")
    );
    let unknown = store.add_rating(day, "Z999", None, Satisfaction::Fair, 7);
    assert_eq!(unknown.unwrap_err().code(), "unknown_ticket");
    assert_eq!(
        store.rating(day, "B001").unwrap(),
        Some(Satisfaction::VerySatisfied)
    );
    assert_eq!(store.rating(day, "B004").unwrap(), None);

    let config = HallConfig::demo();
    let r = store.report(Period::day(day), &config).unwrap();
    assert_eq!(r.business_days, 1);
    assert_eq!(r.time_zone, "Asia/Shanghai");

    // Totals. Waits (s): 60 120 240 360 1020 2700. Services (s): 60 120 240 300 1200.
    let t = &r.totals;
    assert_eq!(
        (
            t.issued,
            t.called,
            t.served,
            t.no_shows,
            t.transfers,
            t.never_called
        ),
        (7, 6, 5, 1, 1, 1)
    );
    assert_eq!(t.wait, durations(6, 750.0, 300.0, 1860.0, 2700.0));
    assert!(close(t.within_target, 4.0 / 6.0));
    assert_eq!(t.service_time, durations(5, 384.0, 240.0, 840.0, 1200.0));
    assert_eq!(t.long_services, 1);
    let sat = &t.satisfaction;
    assert_eq!(sat.rated, 4);
    assert_eq!(
        sat.counts.values().copied().collect::<Vec<_>>(),
        vec![0, 1, 0, 1, 2]
    );
    assert_eq!(sat.mean, Some(4.0));
    assert_eq!(sat.satisfied_share, Some(0.75));
    assert_eq!(sat.response_rate, Some(0.8));

    // By service: waits and transfers where the customer came for, work where it was done.
    let keys: Vec<&str> = r.by_service.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["account", "consult", "pay", "repair"]);
    let pay = &row(&r.by_service, "pay").stats;
    assert_eq!((pay.issued, pay.called, pay.never_called), (4, 3, 1));
    assert_eq!(pay.wait, durations(3, 140.0, 120.0, 216.0, 240.0));
    assert_eq!((pay.served, pay.long_services, pay.transfers), (4, 1, 0));
    assert_eq!(pay.service_time, durations(4, 450.0, 270.0, 930.0, 1200.0));
    assert_eq!(pay.satisfaction.mean, Some(4.0));
    let repair = &row(&r.by_service, "repair").stats;
    assert_eq!(
        (
            repair.issued,
            repair.called,
            repair.served,
            repair.transfers
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(repair.within_target, Some(0.0));
    let account = &row(&r.by_service, "account").stats;
    assert_eq!((account.no_shows, account.served), (1, 0));
    assert_eq!(row(&r.by_service, "pay").label_zh, "缴费");

    // By counter: first calls, finishes, no-shows and transfers where they happened.
    let c1 = &row(&r.by_counter, "1").stats;
    assert_eq!(
        (c1.called, c1.served, c1.no_shows, c1.transfers),
        (4, 3, 1, 0)
    );
    assert_eq!(c1.wait, durations(4, 810.0, 240.0, 1998.0, 2700.0));
    assert_eq!(c1.within_target, Some(0.75));
    assert_eq!(c1.service_time, durations(3, 160.0, 120.0, 264.0, 300.0));
    assert_eq!(c1.satisfaction.mean, Some(4.5));
    let c2 = &row(&r.by_counter, "2").stats;
    assert_eq!((c2.called, c2.served, c2.long_services), (1, 2, 1));
    assert_eq!(c2.service_time.mean_s, Some(720.0));
    assert_eq!(c2.satisfaction.mean, Some(3.5));
    assert_eq!(c2.satisfaction.satisfied_share, Some(0.5));
    let c3 = &row(&r.by_counter, "3").stats;
    assert_eq!((c3.called, c3.served, c3.transfers), (1, 0, 1));
    assert_eq!(c3.wait.mean_s, Some(1020.0));

    // By clerk: chen took counter 2 after wang, so the two split its figures.
    let keys: Vec<&str> = r.by_clerk.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["chen", "li", "wang", "zhao"]);
    let chen = &row(&r.by_clerk, "chen").stats;
    assert_eq!((chen.called, chen.served), (0, 1));
    assert_eq!(chen.within_target, None);
    assert_eq!(chen.service_time.mean_s, Some(240.0));
    assert_eq!(chen.satisfaction.mean, Some(5.0));
    let wang = &row(&r.by_clerk, "wang").stats;
    assert_eq!((wang.called, wang.served, wang.long_services), (1, 1, 1));
    assert_eq!(wang.satisfaction.mean, Some(2.0));
    assert_eq!(row(&r.by_clerk, "li").stats, *c1);
    assert_eq!(row(&r.by_clerk, "zhao").stats, *c3);

    // By hour of issue (local).
    let keys: Vec<&str> = r.by_hour.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["09", "10"]);
    let h9 = &row(&r.by_hour, "09").stats;
    assert_eq!((h9.issued, h9.called), (5, 5));
    assert_eq!(h9.wait, durations(5, 360.0, 240.0, 756.0, 1020.0));
    let h10 = &row(&r.by_hour, "10").stats;
    assert_eq!(
        (h10.issued, h10.called, h10.never_called, h10.served),
        (2, 1, 1, 1)
    );
    assert_eq!(row(&r.by_hour, "09").label_zh, "09:00–10:00");
    assert_eq!(r.by_day.len(), 1);
    assert_eq!(row(&r.by_day, "2026-11-25").stats, r.totals);

    // Load by service.
    let load = |id: &str| r.load_by_service.iter().find(|l| l.service == id).unwrap();
    assert!(close(load("pay").issued_share, 4.0 / 7.0));
    assert_eq!(load("pay").service_time_total_s, 1800.0);
    assert_eq!(load("pay").service_time_share, Some(0.9375));
    assert_eq!(load("consult").service_time_share, Some(0.0625));
    assert_eq!(load("repair").served, 0);

    // Incidents.
    let inc = &r.incidents;
    assert_eq!(inc.long_waits, 2);
    assert_eq!(inc.long_wait_list[0].service, "consult");
    assert_eq!(inc.long_wait_list[0].began, "10:31:00");
    assert_eq!(inc.long_wait_list[0].ended.as_deref(), Some("10:46:00"));
    assert_eq!(inc.long_wait_list[0].duration_s, Some(900.0));
    assert_eq!(inc.long_wait_list[1].service, "pay");
    assert_eq!(inc.long_wait_list[1].ended, None);
    assert_eq!(inc.long_wait_total_s, 900.0);
    assert_eq!(inc.long_services, 1);
    let ls = &inc.long_service_list[0];
    assert_eq!(
        (
            ls.number.as_str(),
            ls.counter,
            ls.clerk.as_deref(),
            ls.service_s
        ),
        ("B002", Some(2), Some("wang"), 1200.0)
    );
    assert_eq!(inc.outages, 1);
    // 11:00 to 11:05, read from the outage's two events.
    assert_eq!((inc.outage_total_s, inc.outage_longest_s), (300.0, 300.0));

    // Callbacks: one resolved after 30 min, the other the next morning (22 h).
    let cb = &r.callbacks;
    assert_eq!((cb.captured, cb.resolved, cb.open), (2, 2, 0));
    assert_eq!(
        cb.resolve_delay,
        durations(2, 40_500.0, 40_500.0, 71_460.0, 79_200.0)
    );

    // Estimate error against the promise printed on each ticket.
    let tickets = store.tickets_of_day(day).unwrap();
    let errors: Vec<f64> = tickets
        .iter()
        .filter_map(|t| {
            let first = match t.number.as_str() {
                "C001" => local(day, 9, 20),
                _ => t.called_at?,
            };
            Some((first - t.issued_at) as f64 / 1000.0 - f64::from(t.estimated_wait_s))
        })
        .collect();
    assert_eq!(errors.len(), 6);
    assert_eq!(r.estimate.count, 6);
    assert!(close(
        r.estimate.mean_error_s,
        errors.iter().sum::<f64>() / 6.0
    ));
    assert!(close(
        r.estimate.mean_abs_error_s,
        errors.iter().map(|e| e.abs()).sum::<f64>() / 6.0
    ));

    // Counters' openings against 08:30.
    let o = &r.open_times;
    assert_eq!(
        (o.counter_days, o.opened_by_opening, o.in_place, o.late),
        (3, 2, 1, 1)
    );
    assert_eq!(o.mean_before_opening_s, Some(200.0));
    let firsts: Vec<(u32, &str, i64, bool)> = o
        .list
        .iter()
        .map(|x| (x.counter, x.opened.as_str(), x.before_opening_s, x.in_place))
        .collect();
    assert_eq!(
        firsts,
        [
            (1, "08:15:00", 900, true),
            (2, "08:25:00", 300, false),
            (3, "08:40:00", -600, false)
        ]
    );

    // The next day holds only the second resolution: nothing captured, nothing issued.
    let next = store
        .report(Period::day(day.succ_opt().unwrap()), &config)
        .unwrap();
    assert_eq!((next.totals.issued, next.callbacks.captured), (0, 0));
    assert_eq!(next.business_days, 0);
    // The week and the month hold the same day.
    let week = store.report(Period::week(day).unwrap(), &config).unwrap();
    assert_eq!(
        week.period.from,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    );
    assert_eq!(week.totals, r.totals);
    assert_eq!(week.callbacks, r.callbacks);
    let month = store.report(Period::month(day).unwrap(), &config).unwrap();
    assert_eq!(month.by_clerk, r.by_clerk);

    // The JSON the manager page reads.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["period"]["from"], "2026-11-25");
    assert_eq!(json["totals"]["wait"]["p90_s"], 1860.0);
    assert_eq!(json["by_clerk"][0]["key"], "chen");
    assert_eq!(json["by_clerk"][0]["served"], 1);
    assert_eq!(json["totals"]["satisfaction"]["counts"]["5"], 2);
    assert_eq!(json["satisfaction_levels"][0]["zh"], "非常满意");
    let back: Report = serde_json::from_str(&json.to_string()).unwrap();
    assert_eq!(back, r);

    // CSV for Excel.
    let mut csv = Vec::new();
    r.to_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{feff}section,key,label,metric,value\r\n"));
    assert!(csv.contains("\r\nby_clerk,wang,wang,service_time.max_s,1200.0\r\n"));
    assert!(csv.contains("\r\nby_service,pay,缴费,wait.p90_s,216.0\r\n"));
    assert!(csv.contains("\r\ncallbacks,all,,resolve_delay.mean_s,40500.0\r\n"));
    assert!(csv.contains("\r\ncounter_opening,2026-11-25 3,,before_opening_s,-600\r\n"));
    assert!(csv.contains("\r\nsatisfaction_levels,3,基本满意,en,Fairly satisfied\r\n"));
}

#[test]
fn a_day_without_history_reports_zeros_and_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(dir.path())).unwrap();
    let r = store
        .report(Period::month(d()).unwrap(), &HallConfig::demo())
        .unwrap();
    assert_eq!(r.totals.issued, 0);
    assert_eq!(r.totals.wait.mean_s, None);
    assert_eq!(r.totals.within_target, None);
    assert_eq!(r.totals.satisfaction.counts.len(), 5);
    assert!(r.by_service.is_empty() && r.open_times.list.is_empty());
    let mut csv = Vec::new();
    r.to_csv(&mut csv).unwrap();
    assert!(
        String::from_utf8(csv)
            .unwrap()
            .contains("totals,all,全部,wait.mean_s,\r\n")
    );
}
