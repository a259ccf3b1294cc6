//! What the staffing advice costs the hub: `Hall::staffing` (every service's load and advice, as
//! `GET /staffing` and every `/alerts` compute it) on a busy hall, timed over many rounds.
//!
//!     cargo run --release -p hallq-shared --example staffing_cost [WAITING] [SERVED]

use std::time::Instant;

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::Now;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u32>().unwrap_or(0));
    let waiting = args.next().unwrap_or(500);
    let served = args.next().unwrap_or(1000);
    let mut config = HallConfig::demo();
    // Room for a day's numbers of every prefix.
    config.policy.kiosk_tickets_per_minute = u32::MAX / 2;
    let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let mut now = Now::at_local(d, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    let mut hall = Hall::new(config.clone(), d);
    let kiosk = Actor::new("kiosk-1", Role::Kiosk, None);
    let clerk = |c| Actor::new(format!("clerk{c}"), Role::Staff, Some(c));
    for c in 1..=4 {
        let cmd = Command::SetCounter {
            counter: c,
            state: CounterState::Open,
        };
        hall.execute(&cmd, &clerk(c), now).unwrap();
    }
    let services: Vec<String> = config.services.iter().map(|s| s.id.clone()).collect();
    let issue = |hall: &mut Hall, i: u32, now: Now| {
        let cmd = Command::IssueTicket {
            service: services[i as usize % services.len()].clone(),
            priority: false,
        };
        hall.execute(&cmd, &kiosk, now).is_ok()
    };
    // The day so far: `served` customers through the four counters, then `waiting` in line.
    let mut i = 0;
    while i < served {
        now = now.plus_ms(1_000);
        if issue(&mut hall, i, now) {
            let c = 1 + i % 4;
            if hall
                .execute(&Command::CallNext { counter: c }, &clerk(c), now)
                .is_ok()
            {
                let _ = hall.execute(&Command::Start { counter: c }, &clerk(c), now);
                let _ = hall.execute(&Command::Finish { counter: c }, &clerk(c), now.plus_ms(500));
            }
        }
        i += 1;
    }
    let mut issued = 0;
    while issued < waiting {
        now = now.plus_ms(1_000);
        if issue(&mut hall, i, now) {
            issued += 1;
        }
        i += 1;
    }
    let rounds = 2000;
    let start = Instant::now();
    let mut speaking = 0;
    for _ in 0..rounds {
        speaking += hall
            .staffing(now)
            .iter()
            .filter(|a| a.message.is_some())
            .count();
    }
    let per = start.elapsed().as_secs_f64() / f64::from(rounds);
    // Of which the estimator's mean service time of every service.
    let start = Instant::now();
    let mut sum = 0.0;
    for _ in 0..rounds {
        sum += services
            .iter()
            .map(|s| hall.mean_service_secs(s))
            .sum::<f64>();
    }
    let means = start.elapsed().as_secs_f64() / f64::from(rounds);
    std::hint::black_box(sum);
    println!(
        "{} tickets today ({} waiting), {} services: Hall::staffing {:.1} µs a call, of which the \
         mean service times {:.1} µs ({} advice lines)",
        hall.tickets.len(),
        waiting,
        services.len(),
        per * 1e6,
        means * 1e6,
        speaking / rounds as usize
    );
}
