//! Busy days through the real engine with simulated time: clerks who open a reserve counter
//! whenever the staffing advice (`Hall::staffing`) speaks, the one it names first, keep 85 % of
//! customers called within 15 minutes; the same days with the morning's three counters do not.
//! One day has one service; on the other two services share every counter, each counter calling
//! them in its own order.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

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
/// The advice is looked at every five minutes; a clerk needs five more to get to the counter.
const LOOK_MS: i64 = 5 * 60_000;
const WALK_MS: i64 = 5 * 60_000;

/// One service of a simulated day: its mean service time and its tickets an hour in the day's
/// three parts (a quiet start of two hours, a rush of three, an afternoon).
struct Line {
    service: &'static str,
    mean_s: f64,
    per_hour: [f64; 3],
}

impl Line {
    fn per_hour(&self, ms: i64) -> f64 {
        match ms / 3_600_000 {
            0 | 1 => self.per_hour[0],
            2..=4 => self.per_hour[1],
            _ => self.per_hour[2],
        }
    }
}

/// Payments alone, five minutes each: the rush is 5.5 counters' work (7 for 85 % within 15
/// minutes in the long run).
const ONE_SERVICE: &[Line] = &[Line {
    service: "pay",
    mean_s: 300.0,
    per_hour: [30.0, 66.0, 40.0],
}];

/// Payments (four minutes) and account changes (eight) on shared counters: the odd counters call
/// payments first, the even ones accounts. The rush is 3.3 + 3.2 counters' work.
const TWO_SERVICES: &[Line] = &[
    Line {
        service: "pay",
        mean_s: 240.0,
        per_hour: [30.0, 50.0, 35.0],
    },
    Line {
        service: "account",
        mean_s: 480.0,
        per_hour: [12.0, 24.0, 15.0],
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Open(CounterId),
    Finish(CounterId),
    Look,
    /// A customer of the day's line with this index takes a ticket.
    Arrival(usize),
}

struct Outcome {
    within: f64,
    /// Each line's share called within 15 minutes, in the day's order.
    within_by_line: Vec<f64>,
    opened: u32,
    /// Counter-hours open over the day.
    counter_hours: f64,
}

fn config(lines: &[Line]) -> HallConfig {
    let mut c = HallConfig::demo();
    c.counters = (1..=COUNTERS)
        .map(|id| {
            let mut services: Vec<String> = lines.iter().map(|l| l.service.into()).collect();
            let turn = (id as usize - 1) % services.len();
            services.rotate_left(turn);
            Counter {
                id,
                name: Text::new(format!("{id}号窗口"), format!("Counter {id}")),
                services,
            }
        })
        .collect();
    c
}

fn day(lines: &[Line], seed: u64, follow_advice: bool, close_when_spare: bool) -> Outcome {
    let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let opening = Now::at_local(d, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    let mut hall = Hall::new(config(lines), d);
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
    // Each line's arrivals by thinning a Poisson stream at its rush's rate.
    for (i, line) in lines.iter().enumerate() {
        let peak = line.per_hour[1] / 3_600_000.0;
        let mut t = 0.0;
        loop {
            t += rng.exponential(1.0 / peak);
            if t >= DAY_MS as f64 {
                break;
            }
            if rng.chance(line.per_hour(t as i64) / line.per_hour[1]) {
                push(&mut agenda, t as i64, Happening::Arrival(i));
            }
        }
    }
    // The counters open, and the order they opened in (the last to open is the first to close).
    let mut open: BTreeSet<CounterId> = BTreeSet::new();
    let mut opened_order: Vec<CounterId> = Vec::new();
    // Counters on their way to open.
    let mut coming: BTreeSet<CounterId> = (1..=FIRST_OPEN).collect();
    let mut most_open = 0u32;
    let mut counter_ms = 0i64;
    let mut last_at = 0i64;
    let mut busy = vec![false; COUNTERS as usize + 1];
    // Each call's wait and the index of its line.
    let mut waits: Vec<(i64, usize)> = Vec::new();
    let mut issued_at = std::collections::HashMap::new();
    let line_of = |service: &str| lines.iter().position(|l| l.service == service).unwrap();
    while let Some(Reverse((at, _, what))) = agenda.pop() {
        counter_ms += open.len() as i64 * (at - last_at);
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
                open.insert(c);
                opened_order.push(c);
                most_open = most_open.max(open.len() as u32);
                coming.remove(&c);
            }
            Happening::Arrival(i) => {
                if let Some(Reply::Issued(t)) = exec(
                    &mut hall,
                    Command::IssueTicket {
                        service: lines[i].service.into(),
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
                let mut pressing: Vec<_> = advice
                    .iter()
                    .filter(|a| matches!(a.standing, Standing::Over | Standing::Soon))
                    .collect();
                // The service past the target now before the one that will be soon, then the
                // longest wait: its named counter opens first.
                pressing.sort_by(|a, b| {
                    (b.standing == Standing::Over)
                        .cmp(&(a.standing == Standing::Over))
                        .then(b.wait_now_s.total_cmp(&a.wait_now_s))
                });
                // As many as the advice says are missing (at least one where it speaks).
                let missing = pressing
                    .iter()
                    .map(|a| {
                        a.counters_needed
                            .saturating_sub(a.load.counters_open)
                            .max(1)
                    })
                    .max()
                    .unwrap_or(0) as usize;
                if follow_advice && coming.is_empty() {
                    // The counters the advice names, then the others in order.
                    let named = pressing.iter().filter_map(|a| a.counter_to_open);
                    let closed = (1..=COUNTERS).filter(|c| !open.contains(c));
                    let mut chosen: Vec<CounterId> = Vec::new();
                    for c in named.chain(closed) {
                        if chosen.len() < missing && !open.contains(&c) && !chosen.contains(&c) {
                            chosen.push(c);
                        }
                    }
                    for c in chosen {
                        push(&mut agenda, at + WALK_MS, Happening::Open(c));
                        coming.insert(c);
                    }
                }
                // One service on counters of its own: the advice may say one can close.
                let pay = advice.iter().find(|a| a.service == "pay").unwrap();
                // The last counter opened closes when the advice allows it and it is free.
                if let Some(&last) = opened_order.last()
                    && close_when_spare
                    && pay.standing == Standing::Spare
                    && coming.is_empty()
                    && !busy[last as usize]
                {
                    exec(
                        &mut hall,
                        Command::SetCounter {
                            counter: last,
                            state: CounterState::Closed,
                        },
                        &clerk(last),
                    );
                    open.remove(&last);
                    opened_order.pop();
                }
            }
        }
        // Every open counter that is free calls the next customer.
        for &c in &open {
            if busy[c as usize] {
                continue;
            }
            let Some(Reply::Called(Some(t))) =
                exec(&mut hall, Command::CallNext { counter: c }, &clerk(c))
            else {
                continue;
            };
            let line = line_of(&t.service);
            waits.push((at - issued_at[&t.number], line));
            exec(&mut hall, Command::Start { counter: c }, &clerk(c));
            busy[c as usize] = true;
            let ms = (rng.exponential(lines[line].mean_s) * 1000.0).max(1000.0) as i64;
            push(&mut agenda, at + ms, Happening::Finish(c));
        }
    }
    assert_eq!(
        waits.len(),
        issued_at.len(),
        "everyone is called by the end"
    );
    let within = |of: &mut dyn Iterator<Item = i64>| {
        let (mut n, mut ok) = (0, 0);
        for w in of {
            n += 1;
            ok += usize::from(w <= 15 * 60_000);
        }
        ok as f64 / n.max(1) as f64
    };
    Outcome {
        within: within(&mut waits.iter().map(|w| w.0)),
        within_by_line: (0..lines.len())
            .map(|i| within(&mut waits.iter().filter(|w| w.1 == i).map(|w| w.0)))
            .collect(),
        opened: most_open,
        counter_hours: counter_ms as f64 / 3_600_000.0,
    }
}

#[test]
fn following_the_advice_keeps_85_percent_within_15_minutes() {
    let mut opened = 0;
    for seed in 1..=8 {
        let fixed = day(ONE_SERVICE, seed, false, false);
        let advised = day(ONE_SERVICE, seed, true, false);
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
        let opening = day(ONE_SERVICE, seed, true, false);
        let both = day(ONE_SERVICE, seed, true, true);
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

#[test]
fn on_shared_counters_following_the_advice_keeps_each_service_within_the_target() {
    let (mut opened, mut counter_hours) = (0, 0.0);
    for seed in 1..=6 {
        let fixed = day(TWO_SERVICES, seed, false, false);
        let advised = day(TWO_SERVICES, seed, true, false);
        eprintln!(
            "seed {seed}: within {:.3} {:.3?} with three counters, {:.3} {:.3?} as advised with {} \
             ({:.1} counter-hours)",
            fixed.within,
            fixed.within_by_line,
            advised.within,
            advised.within_by_line,
            advised.opened,
            advised.counter_hours
        );
        assert!(
            fixed.within < 0.85,
            "seed {seed}: three counters alone should miss the target ({:.3})",
            fixed.within
        );
        // Each service, not only the hall: the one the counters call last must not pay for it.
        for (line, within) in TWO_SERVICES.iter().zip(&advised.within_by_line) {
            assert!(
                *within >= 0.85,
                "seed {seed}: following the advice called {within:.3} of {} within 15 minutes \
                 with {} counters",
                line.service,
                advised.opened
            );
        }
        opened += advised.opened;
        counter_hours += advised.counter_hours;
    }
    // The rush is 6.5 counters' work; 8 call 85 % within 15 minutes in the long run (Erlang C on
    // the pooled line). The morning's line and the walk to the counter may ask for one more.
    assert!(
        f64::from(opened) / 6.0 <= 9.0,
        "{opened} counters over 6 days ({counter_hours:.1} counter-hours)"
    );
}
