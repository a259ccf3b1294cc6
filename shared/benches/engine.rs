//! The pure engine's cost per command (no I/O): what the writer spends deciding before it syncs.

use chrono::{NaiveDate, NaiveTime};
use criterion::{Criterion, criterion_group, criterion_main};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall};
use hallq_shared::hall::{CounterState, Now};
use hallq_shared::protocol::Role;

/// A hall at 10:00 with `waiting` people waiting and `served` already served today.
fn hall(waiting: usize, served: usize) -> (Hall, Now) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let mut now = Now::at_local(day, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    let mut h = Hall::new(HallConfig::demo(), day);
    let kiosk = Actor::new("kiosk", Role::Kiosk, None);
    let clerk = Actor::new("clerk", Role::Staff, Some(1));
    h.execute(
        &Command::SetCounter {
            counter: 1,
            state: CounterState::Open,
        },
        &clerk,
        now,
    )
    .unwrap();
    let services = ["account", "pay", "consult"];
    for i in 0..served + waiting {
        now = now.plus_ms(1000);
        h.execute(
            &Command::IssueTicket {
                service: services[i % 3].into(),
                priority: false,
            },
            &kiosk,
            now,
        )
        .unwrap();
    }
    for _ in 0..served {
        h.execute(&Command::CallNext { counter: 1 }, &clerk, now)
            .unwrap();
    }
    (h, now)
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    for (waiting, served) in [(50, 300), (300, 2000)] {
        let (h, now) = hall(waiting, served);
        let kiosk = Actor::new("kiosk", Role::Kiosk, None);
        let clerk = Actor::new("clerk", Role::Staff, Some(1));
        g.bench_function(
            format!("issue_ticket/{waiting}_waiting_{served}_served"),
            |b| {
                b.iter_batched_ref(
                    || h.clone(),
                    |h| {
                        h.execute(
                            &Command::IssueTicket {
                                service: "pay".into(),
                                priority: false,
                            },
                            &kiosk,
                            now,
                        )
                        .unwrap()
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
        g.bench_function(
            format!("call_next/{waiting}_waiting_{served}_served"),
            |b| {
                b.iter_batched_ref(
                    || h.clone(),
                    |h| {
                        h.execute(&Command::CallNext { counter: 1 }, &clerk, now)
                            .unwrap()
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
        g.bench_function(
            format!("board_live/{waiting}_waiting_{served}_served"),
            |b| b.iter(|| h.board_live(now)),
        );
    }
    g.finish();
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
