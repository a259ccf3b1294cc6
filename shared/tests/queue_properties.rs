//! Property tests over random sequences of hall commands: no ticket lost, no number issued twice,
//! one current ticket per counter, transfers keep their place, FIFO within a service and priority
//! class, and the closing rule.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Command, Hall, Reply};
use hallq_shared::hall::{CounterState, DayPhase, Millis, Now, TicketState};
use proptest::prelude::*;

mod common;
use common::{Op, clerk, op, to_command};

/// Every invariant the hall must keep after any command.
fn check_invariants(hall: &Hall, issued: &BTreeMap<String, Millis>) {
    // No ticket lost: every number ever issued today is still known, with its original place.
    for (n, at) in issued {
        let t = hall
            .tickets
            .get(n)
            .unwrap_or_else(|| panic!("ticket {n} lost"));
        assert_eq!(t.issued_at, *at, "{n} kept its place in line");
    }
    assert_eq!(
        hall.tickets.len(),
        issued.len(),
        "no ticket appears from nowhere"
    );
    // One current ticket per counter, one counter per ticket.
    let mut holders: BTreeMap<&str, u32> = BTreeMap::new();
    for (id, rt) in &hall.counters {
        if let Some(n) = &rt.current {
            let t = &hall.tickets[n];
            assert!(
                t.state.is_current(),
                "counter {id} holds {n} in state {:?}",
                t.state
            );
            assert_eq!(t.counter, Some(*id));
            assert!(holders.insert(n, *id).is_none(), "{n} at two counters");
        }
    }
    let current = hall
        .tickets
        .values()
        .filter(|t| t.state.is_current())
        .count();
    assert_eq!(
        current,
        holders.len(),
        "every called or serving ticket is some counter's current"
    );
    assert!(
        hall.waiting_index_is_consistent(),
        "the waiting index matches the tickets"
    );
}

fn run_day(ops: &[Op]) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let mut now = Now::at_local(day, NaiveTime::from_hms_opt(8, 0, 0).unwrap());
    let mut hall = Hall::new(HallConfig::demo(), day);
    for c in 1..=4 {
        hall.execute(
            &Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            &clerk(c),
            now,
        )
        .unwrap();
    }
    let mut issued: BTreeMap<String, Millis> = BTreeMap::new();
    let mut numbers_seen: BTreeSet<String> = BTreeSet::new();
    for op in ops {
        if let Op::Wait(m) = op {
            now = now.plus_ms(m * 60_000);
            if now.day != day {
                break;
            }
            continue;
        }
        let Some((cmd, actor)) = to_command(op, &hall) else {
            continue;
        };
        let before = hall.clone();
        let phase = hall.config.hours.phase(now.time);
        match hall.execute(&cmd, &actor, now) {
            Ok(ex) => {
                match (&cmd, &ex.reply) {
                    (Command::IssueTicket { .. }, Reply::Issued(t)) => {
                        assert!(
                            matches!(phase, DayPhase::Open | DayPhase::BeforeOpening),
                            "issued in phase {phase:?}"
                        );
                        assert!(
                            numbers_seen.insert(t.number.clone()),
                            "number {} issued twice",
                            t.number
                        );
                        issued.insert(t.number.clone(), now.at);
                    }
                    (Command::CallNext { counter }, Reply::Called(Some(t))) => {
                        // FIFO within the service and priority class among tickets in the general line.
                        let called = &before.tickets[&t.number];
                        if called.for_counter.is_none() {
                            let jumped = before.tickets.values().find(|o| {
                                o.state == TicketState::Waiting
                                    && o.for_counter.is_none()
                                    && o.service == called.service
                                    && o.priority == called.priority
                                    && o.line_key() < called.line_key()
                            });
                            assert!(
                                jumped.is_none(),
                                "counter {counter} called {} before {:?}",
                                t.number,
                                jumped.map(|o| &o.number)
                            );
                            assert!(
                                !before
                                    .tickets
                                    .values()
                                    .any(|o| o.state == TicketState::Waiting
                                        && o.for_counter == Some(*counter)),
                                "a ticket transferred to counter {counter} waits, yet it called {}",
                                t.number
                            );
                        }
                    }
                    (Command::CallNext { counter }, Reply::Called(None)) => {
                        let c = hall.config.counter(*counter).unwrap();
                        assert!(
                            !hall
                                .tickets
                                .values()
                                .any(|o| hallq_shared::queue::callable_at(c, o)),
                            "counter {counter} found nobody although someone waits for it"
                        );
                    }
                    _ => {}
                }
                if let Command::Transfer { counter, .. } = &cmd {
                    let n = before.counters[counter].current.clone().unwrap();
                    assert_eq!(hall.tickets[&n].state, TicketState::Waiting);
                    assert_eq!(
                        hall.tickets[&n].issued_at, before.tickets[&n].issued_at,
                        "transfer keeps the place"
                    );
                }
            }
            Err(refusal) => {
                assert_eq!(
                    hall, before,
                    "a refused command changed the hall: {refusal}"
                );
                if let Command::IssueTicket { .. } = &cmd
                    && matches!(phase, DayPhase::TicketsEnded | DayPhase::Closed)
                {
                    assert_eq!(refusal.code, "tickets_ended");
                }
            }
        }
        check_invariants(&hall, &issued);
    }
    // The day never closes on a waiting customer: with all counters open, everyone is called.
    let late = now;
    for c in 1..=4 {
        let _ = hall.execute(
            &Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            &clerk(c),
            late,
        );
    }
    for _ in 0..(issued.len() * 2 + 8) {
        for c in 1..=4 {
            let _ = hall.execute(&Command::CallNext { counter: c }, &clerk(c), late);
        }
    }
    assert!(
        hall.tickets
            .values()
            .all(|t| t.state != TicketState::Waiting),
        "waiting customers left behind: {:?}",
        hall.tickets
            .values()
            .filter(|t| t.state == TicketState::Waiting)
            .map(|t| (&t.number, t.for_counter))
            .collect::<Vec<_>>()
    );
    check_invariants(&hall, &issued);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_queue_keeps_its_promises(ops in prop::collection::vec(op(), 1..250)) {
        run_day(&ops);
    }
}
