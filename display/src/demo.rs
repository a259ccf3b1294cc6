//! Realistic boards of the demo hall, made by running the real queue engine: for screenshots,
//! tests and benchmarks, and for `--demo` when no hub is at hand.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use hallq_shared::Now;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall};
use hallq_shared::hall::CounterState;
use hallq_shared::protocol::{BoardSnapshot, Role};

/// The situations the board must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A busy morning: calls, one apology, queues of a few minutes.
    Normal,
    /// Payments have waited over half an hour: apology banner and callback offer.
    LongWait,
    /// The business system is down, back in about 20 minutes.
    ShortOutage,
    /// The business system is down for long: apology and callback capture.
    LongOutage,
    /// After the last-ticket time: no more tickets, the waiting are still served.
    TicketsEnded,
    /// A clerk has said the business system is slow: apology banner, longer estimates.
    SlowSystem,
    /// A normal board whose counter 4 is paused (for the counter screen).
    CounterPaused,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Normal,
        Scenario::LongWait,
        Scenario::ShortOutage,
        Scenario::LongOutage,
        Scenario::TicketsEnded,
        Scenario::CounterPaused,
        Scenario::SlowSystem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::LongWait => "long-wait",
            Scenario::ShortOutage => "short-outage",
            Scenario::LongOutage => "long-outage",
            Scenario::TicketsEnded => "tickets-ended",
            Scenario::CounterPaused => "counter-paused",
            Scenario::SlowSystem => "slow-system",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }

    pub fn snapshot(self) -> BoardSnapshot {
        let mut d = DemoHall::new();
        match self {
            Scenario::Normal | Scenario::CounterPaused => {
                d.morning(hm(9, 40), 10);
            }
            Scenario::LongWait => {
                d.morning(hm(9, 5), 45);
            }
            Scenario::SlowSystem => {
                d.morning(hm(9, 40), 10);
                d.run(Command::SetSlowSystem { slow: true });
            }
            Scenario::ShortOutage => {
                d.morning(hm(9, 40), 10);
                d.run(Command::StartOutage {
                    expected_minutes: 20,
                    message: None,
                });
            }
            Scenario::LongOutage => {
                d.morning(hm(9, 40), 10);
                d.run(Command::StartOutage {
                    expected_minutes: 90,
                    message: Some(
                        "业务系统故障,缴费、开户、换机顶盒暂停办理;咨询和报修登记照常".into(),
                    ),
                });
            }
            Scenario::TicketsEnded => {
                d.now = local(hm(16, 20));
                d.morning(hm(16, 20), 10);
                d.now = local(hm(17, 6));
                d.run(Command::CallNext { counter: 3 });
            }
        }
        if self == Scenario::CounterPaused {
            d.run(Command::Finish { counter: 4 });
            d.run(Command::SetCounter {
                counter: 4,
                state: CounterState::Paused,
            });
        }
        d.run(Command::Tick);
        d.snapshot()
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// The demo hall's local time on its day, as a real instant in its zone.
fn local(t: NaiveTime) -> Now {
    let tz = chrono_tz::Asia::Shanghai;
    let at = tz
        .from_local_datetime(&day().and_time(t))
        .single()
        .map(|d| d.timestamp_millis())
        .unwrap_or_default();
    Now::in_zone(at, &tz)
}

/// The demo hall and a clock that moves on as commands are run.
pub struct DemoHall {
    pub hall: Hall,
    pub now: Now,
}

impl Default for DemoHall {
    fn default() -> Self {
        DemoHall::new()
    }
}

impl DemoHall {
    pub fn new() -> DemoHall {
        DemoHall {
            hall: Hall::new(HallConfig::demo(), day()),
            now: local(hm(8, 25)),
        }
    }

    /// Runs a command as the hall's own staff would; a refusal is a bug in the scenario.
    pub fn run(&mut self, cmd: Command) {
        let actor = Actor::new("demo", Role::Manager, None);
        if let Err(r) = self.hall.execute(&cmd, &actor, self.now) {
            panic!("demo scenario refused {cmd:?}: {r:?}");
        }
    }

    pub fn advance_s(&mut self, secs: i64) {
        self.now = Now::in_zone(self.now.at + secs * 1000, &chrono_tz::Asia::Shanghai);
    }

    /// Counters open, tickets issued from `from` for `minutes`, several calls (two in one second).
    pub fn morning(&mut self, from: NaiveTime, minutes: i64) {
        self.now = local(from);
        for c in 1..=4 {
            self.run(Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            });
        }
        let services = [
            "pay",
            "account",
            "pay",
            "repair",
            "stb",
            "pay",
            "consult",
            "complaint",
        ];
        let steps = 24;
        for i in 0..steps {
            self.run(Command::IssueTicket {
                service: services[i % services.len()].into(),
                priority: false,
            });
            self.advance_s(minutes * 60 / steps as i64);
        }
        for (c, pause) in [(1, 40), (2, 35), (3, 50), (4, 30), (1, 20), (2, 0)] {
            self.run(Command::CallNext { counter: c });
            self.advance_s(pause);
        }
        // Two counters call in the same second: both calls stay on the board.
        self.run(Command::CallNext { counter: 3 });
        self.run(Command::CallNext { counter: 4 });
    }

    pub fn snapshot(&self) -> BoardSnapshot {
        BoardSnapshot {
            seq: self.hall.last_seq,
            live: self.hall.board_live(self.now),
            notices: self.hall.notices(self.now.at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_shared::protocol::BoardMode;

    #[test]
    fn scenarios_show_what_they_say() {
        let n = Scenario::Normal.snapshot();
        assert_eq!(n.live.mode, BoardMode::Normal);
        assert!(n.live.calls.len() >= 6);
        assert_eq!(
            n.live.calls[0].at, n.live.calls[1].at,
            "two calls in one second"
        );
        assert_eq!(Scenario::LongWait.snapshot().live.mode, BoardMode::LongWait);
        let long = Scenario::LongOutage.snapshot();
        assert!(long.live.callback_capture);
        let short = Scenario::ShortOutage.snapshot();
        assert_eq!(short.live.mode, BoardMode::Outage);
        assert!(!short.live.callback_capture);
        assert_eq!(
            Scenario::TicketsEnded.snapshot().live.day.phase,
            hallq_shared::hall::DayPhase::TicketsEnded
        );
    }
}
