//! Random hall commands shared by the property tests.

use hallq_shared::engine::{Actor, Command, Hall, TransferTo};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::Role;
use proptest::prelude::*;

pub const SERVICES: [&str; 6] = ["account", "pay", "repair", "stb", "consult", "complaint"];

#[derive(Clone, Debug)]
pub enum Op {
    Issue(usize, bool),
    Next(u32),
    CallNumber(u32, usize),
    Recall(u32),
    Start(u32),
    Finish(u32),
    NoShow(u32),
    TransferService(u32, usize),
    TransferCounter(u32, u32),
    SetCounter(u32, u8),
    Tick,
    Wait(i64),
}

pub fn op() -> impl Strategy<Value = Op> {
    let c = 1u32..=4;
    prop_oneof![
        6 => (0..SERVICES.len(), prop::bool::weighted(0.15)).prop_map(|(s, p)| Op::Issue(s, p)),
        5 => c.clone().prop_map(Op::Next),
        1 => (c.clone(), 0usize..40).prop_map(|(c, i)| Op::CallNumber(c, i)),
        1 => c.clone().prop_map(Op::Recall),
        2 => c.clone().prop_map(Op::Start),
        3 => c.clone().prop_map(Op::Finish),
        1 => c.clone().prop_map(Op::NoShow),
        1 => (c.clone(), 0..SERVICES.len()).prop_map(|(c, s)| Op::TransferService(c, s)),
        1 => (c.clone(), 1u32..=4).prop_map(|(a, b)| Op::TransferCounter(a, b)),
        1 => (c, 0u8..3).prop_map(|(c, s)| Op::SetCounter(c, s)),
        1 => Just(Op::Tick),
        3 => (0i64..8).prop_map(Op::Wait),
    ]
}

pub fn clerk(c: u32) -> Actor {
    Actor::new(format!("clerk{c}"), Role::Staff, Some(c))
}

pub fn to_command(op: &Op, hall: &Hall) -> Option<(Command, Actor)> {
    Some(match op {
        Op::Issue(s, p) => (
            Command::IssueTicket {
                service: SERVICES[*s].into(),
                priority: *p,
            },
            Actor::new("kiosk", Role::Kiosk, None),
        ),
        Op::Next(c) => (Command::CallNext { counter: *c }, clerk(*c)),
        Op::CallNumber(c, i) => {
            let n = hall
                .tickets
                .keys()
                .nth(*i % hall.tickets.len().max(1))?
                .clone();
            (
                Command::CallNumber {
                    counter: *c,
                    number: n,
                },
                clerk(*c),
            )
        }
        Op::Recall(c) => (Command::Recall { counter: *c }, clerk(*c)),
        Op::Start(c) => (Command::Start { counter: *c }, clerk(*c)),
        Op::Finish(c) => (Command::Finish { counter: *c }, clerk(*c)),
        Op::NoShow(c) => (Command::NoShow { counter: *c }, clerk(*c)),
        Op::TransferService(c, s) => (
            Command::Transfer {
                counter: *c,
                to: TransferTo::Service(SERVICES[*s].into()),
            },
            clerk(*c),
        ),
        Op::TransferCounter(a, b) => (
            Command::Transfer {
                counter: *a,
                to: TransferTo::Counter(*b),
            },
            clerk(*a),
        ),
        Op::SetCounter(c, s) => {
            let state = [
                CounterState::Open,
                CounterState::Paused,
                CounterState::Closed,
            ][*s as usize];
            (Command::SetCounter { counter: *c, state }, clerk(*c))
        }
        Op::Tick => (Command::Tick, Actor::system()),
        Op::Wait(_) => return None,
    })
}
