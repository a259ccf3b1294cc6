//! What the wait estimate costs with 500 people waiting: per new ticket (the estimate and its
//! range for the back of the line) and per board update (every service's line), in µs.
//!
//! `cargo run --release -p hallq-shared --example estimate_cost`

use std::time::Instant;

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::Now;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;

fn main() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let mut now = Now::at_local(day, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    let mut hall = Hall::new(HallConfig::demo(), day);
    let clerk = |c: u32| Actor::new(format!("clerk{c}"), Role::Staff, Some(c));
    let kiosk = Actor::new("kiosk", Role::Kiosk, None);
    for c in 1..=4 {
        let cmd = Command::SetCounter {
            counter: c,
            state: CounterState::Open,
        };
        hall.execute(&cmd, &clerk(c), now).unwrap();
    }
    let services: Vec<String> = hall.config.services.iter().map(|s| s.id.clone()).collect();
    // A morning of finished services behind every estimate (the mean looks at up to 360).
    for i in 0..400u32 {
        let service = services[(i % 4) as usize].clone();
        let c = 1 + i % 4;
        let issue = Command::IssueTicket {
            service,
            priority: false,
        };
        hall.execute(&issue, &kiosk, now).unwrap();
        // Not every counter serves every service: a refused call or finish changes nothing.
        let _ = hall.execute(&Command::CallNext { counter: c }, &clerk(c), now);
        now = now.plus_ms(20_000);
        let _ = hall.execute(&Command::Finish { counter: c }, &clerk(c), now);
    }
    // Every counter busy, 500 waiting, most of them for one service.
    for i in 0..504u32 {
        let service = if i % 5 == 0 {
            services[(i as usize / 5) % services.len()].clone()
        } else {
            "pay".to_string()
        };
        hall.execute(
            &Command::IssueTicket {
                service,
                priority: i % 40 == 0,
            },
            &kiosk,
            now,
        )
        .unwrap();
    }
    for c in 1..=4 {
        hall.execute(&Command::CallNext { counter: c }, &clerk(c), now)
            .unwrap();
    }
    let waiting: u32 = services.iter().map(|s| hall.waiting_count(s)).sum();
    println!(
        "{waiting} waiting, {} of them for pay",
        hall.waiting_count("pay")
    );

    let per = |name: &str, n: u32, mut f: Box<dyn FnMut() -> u32 + '_>| {
        let mut runs = Vec::new();
        let mut sink = 0u32;
        for _ in 0..7 {
            let t = Instant::now();
            for _ in 0..n {
                sink = sink.wrapping_add(f());
            }
            runs.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
        }
        runs.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} µs | {:.1}–{:.1} µs | ({sink}) |",
            runs[3], runs[0], runs[6]
        );
    };
    println!("| what | median of 7 runs | range |");
    println!("|---|---|---|");
    let pay_waiting = hall.waiting_count("pay");
    per(
        "new ticket at the back of pay's line: estimate + range",
        2000,
        Box::new(|| {
            let secs = hall.wait_for("pay", pay_waiting);
            secs + hall.wait_range_for("pay", secs, pay_waiting).lo_s
        }),
    );
    per(
        "new ticket: the whole IssueTicket command (on a copy of the hall)",
        200,
        Box::new(|| {
            let mut h = hall.clone();
            let cmd = Command::IssueTicket {
                service: "pay".into(),
                priority: false,
            };
            u32::from(h.execute(&cmd, &kiosk, now).is_ok())
        }),
    );
    per(
        "board update: every service's estimate and range",
        1000,
        Box::new(|| board_update(&hall, now)),
    );
    per(
        "mean service time of one service",
        20000,
        Box::new(|| hall.mean_service_secs("pay") as u32),
    );
    // Staff say the business system is slow: the declared change points are weighed too.
    let mut slow = hall.clone();
    let manager = Actor::new("manager", Role::Manager, None);
    slow.execute(&Command::SetSlowSystem { slow: true }, &manager, now)
        .unwrap();
    per(
        "board update, the system declared slow",
        1000,
        Box::new(|| board_update(&slow, now)),
    );
    per(
        "mean service time of one service, the system declared slow",
        20000,
        Box::new(|| slow.mean_service_secs("pay") as u32),
    );
}

/// What a board update computes: every service's estimate (summed, so that it is not optimised
/// away).
fn board_update(hall: &Hall, now: Now) -> u32 {
    hall.board_live(now)
        .waiting
        .iter()
        .map(|w| w.estimated_wait_s)
        .sum()
}
