//! A busy day through the real engine with simulated time: clerks who open a reserve counter
//! whenever the staffing advice (`Hall::staffing`) speaks keep 85 % of customers called within
//! 15 minutes; the same day with the morning's three counters does not.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::Now;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall, Reply};
use hallq_shared::hall::{Counter, CounterId, CounterState, Text};
use hallq_shared::protocol::Role;
use hallq_shared::sim::Rng;
use hallq_shared::staffing::Standing;

const COUNTERS: u32 = 10;
const FIRST_OPEN: u32 = 3;
const DAY_MS: i64 = 8 * 3_600_000;
const MEAN_S: f64 = 300.0;
/// The advice is looked at every five minutes; a clerk needs five more to get to the counter.
const LOOK_MS: i64 = 5 * 60_000;
const WALK_MS: i64 = 5 * 60_000;

/// Tickets an hour, `ms` after opening: a quiet start, a rush from the third to the fifth hour.
fn per_hour(ms: i64) -> f64 {
    match ms / 3_600_000 {
        0 | 1 => 30.0,
        2..=4 => 66.0,
        _ => 40.0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Open(CounterId),
    Finish(CounterId),
    Look,
    Arrival,
}

struct Outcome {
    within: f64,
    opened: u32,
    /// Counter-hours open over the day.
    counter_hours: f64,
}

fn config() -> HallConfig {
    let mut c = HallConfig::demo();
    c.counters = (1..=COUNTERS)
        .map(|id| Counter {
            id,
            name: Text::new(format!("{id}号窗口"), format!("Counter {id}")),
            services: vec!["pay".into()],
        })
        .collect();
    c
}

fn day(seed: u64, follow_advice: bool, close_when_spare: bool) -> Outcome {
    let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let opening = Now::at_local(d, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    let mut hall = Hall::new(config(), d);
    let mut rng = Rng::new(seed);
    let kiosk = Actor::new("kiosk", Role::Kiosk, None);
    let clerk = |c: CounterId| Actor::new(format!("clerk{c}"), Role::Staff, Some(c));
    let mut agenda: BinaryHeap<Reverse<(i64, u64, Happening)>> = BinaryHeap::new();
    let mut n = 0u64;
    let mut push = |agenda: &mut BinaryHeap<_>, at: i64, h: Happening| {
        n += 1;
        agenda.push(Reverse((at, n, h)));
    };
    for c in 1..=FIRST_OPEN {
        push(&mut agenda, 0, Happening::Open(c));
    }
    push(&mut agenda, LOOK_MS, Happening::Look);
    // Arrivals by thinning a Poisson stream at the rush's rate.
    let peak = 66.0 / 3_600_000.0;
    let mut t = 0.0;
    loop {
        t += rng.exponential(1.0 / peak);
        if t >= DAY_MS as f64 {
            break;
        }
        if rng.chance(per_hour(t as i64) / 66.0) {
            push(&mut agenda, t as i64, Happening::Arrival);
        }
    }
    let mut open = 0u32;
    let mut most_open = 0u32;
    let mut counter_ms = 0i64;
    let mut last_at = 0i64;
    let mut busy = vec![false; COUNTERS as usize + 1];
    let mut opening_one = false;
    let mut waits: Vec<i64> = Vec::new();
    let mut issued_at = std::collections::HashMap::new();
    while let Some(Reverse((at, _, what))) = agenda.pop() {
        counter_ms += i64::from(open) * (at - last_at);
        last_at = at;
        let now = opening.plus_ms(at);
        let exec = |hall: &mut Hall, cmd: Command, who: &Actor| {
            hall.execute(&cmd, who, now).map(|e| e.reply).ok()
        };
        match what {
            Happening::Open(c) => {
                exec(
                    &mut hall,
                    Command::SetCounter {
                        counter: c,
                        state: CounterState::Open,
                    },
                    &clerk(c),
                );
                open += 1;
                most_open = most_open.max(open);
                opening_one = false;
            }
            Happening::Arrival => {
                if let Some(Reply::Issued(t)) = exec(
                    &mut hall,
                    Command::IssueTicket {
                        service: "pay".into(),
                        priority: false,
                    },
                    &kiosk,
                ) {
                    issued_at.insert(t.number, at);
                }
            }
            Happening::Finish(c) => {
                exec(&mut hall, Command::Finish { counter: c }, &clerk(c));
                busy[c as usize] = false;
            }
            Happening::Look => {
                if at + LOOK_MS < DAY_MS {
                    push(&mut agenda, at + LOOK_MS, Happening::Look);
                }
                let advice = hall.staffing(now);
                let pay = advice.iter().find(|a| a.service == "pay").unwrap();
                let speaks = matches!(pay.standing, Standing::Over | Standing::Soon);
                if follow_advice && speaks && !opening_one && open < COUNTERS {
                    opening_one = true;
                    push(&mut agenda, at + WALK_MS, Happening::Open(open + 1));
                }
                // The last counter opened closes when the advice allows it and it is free.
                if close_when_spare
                    && pay.standing == Standing::Spare
                    && !opening_one
                    && !busy[open as usize]
                {
                    exec(
                        &mut hall,
                        Command::SetCounter {
                            counter: open,
                            state: CounterState::Closed,
                        },
                        &clerk(open),
                    );
                    open -= 1;
                }
            }
        }
        // Every open counter that is free calls the next customer.
        for c in 1..=open {
            if busy[c as usize] {
                continue;
            }
            let Some(Reply::Called(Some(t))) =
                exec(&mut hall, Command::CallNext { counter: c }, &clerk(c))
            else {
                continue;
            };
            waits.push(at - issued_at[&t.number]);
            exec(&mut hall, Command::Start { counter: c }, &clerk(c));
            busy[c as usize] = true;
            let ms = (rng.exponential(MEAN_S) * 1000.0).max(1000.0) as i64;
            push(&mut agenda, at + ms, Happening::Finish(c));
        }
    }
    assert_eq!(
        waits.len(),
        issued_at.len(),
        "everyone is called by the end"
    );
    Outcome {
        within: waits.iter().filter(|&&w| w <= 15 * 60_000).count() as f64 / waits.len() as f64,
        opened: most_open,
        counter_hours: counter_ms as f64 / 3_600_000.0,
    }
}

#[test]
fn following_the_advice_keeps_85_percent_within_15_minutes() {
    let mut opened = 0;
    for seed in 1..=8 {
        let fixed = day(seed, false, false);
        let advised = day(seed, true, false);
        assert!(
            fixed.within < 0.85,
            "seed {seed}: three counters alone should miss the target ({:.3})",
            fixed.within
        );
        assert!(
            advised.within >= 0.85,
            "seed {seed}: following the advice called {:.3} within 15 minutes with {} counters",
            advised.within,
            advised.opened
        );
        // The rush is 5.5 counters' work (7 for 85 % within 15 minutes in the long run); with the
        // morning's line to clear and a walk to the counter the advice opens one more at most.
        assert!(
            advised.opened <= 8,
            "seed {seed}: {} counters opened",
            advised.opened
        );
        opened += advised.opened;
    }
    assert!(
        opened < 8 * 8,
        "{opened} counters over 8 days: not the most every day"
    );
}

#[test]
fn closing_a_counter_when_the_advice_allows_keeps_the_target_and_saves_counter_time() {
    let (mut with, mut without) = (0.0, 0.0);
    for seed in 1..=8 {
        let opening = day(seed, true, false);
        let both = day(seed, true, true);
        assert!(
            both.within >= 0.85,
            "seed {seed}: opening and closing as advised called {:.3} within 15 minutes",
            both.within
        );
        with += both.counter_hours;
        without += opening.counter_hours;
        eprintln!(
            "seed {seed}: within {:.3} / {:.3}, counter-hours {:.1} / {:.1} (opening only / and closing)",
            opening.within, both.within, opening.counter_hours, both.counter_hours
        );
    }
    assert!(
        with < without * 0.9,
        "closing as advised: {with:.1} counter-hours over 8 days, {without:.1} without"
    );
}
