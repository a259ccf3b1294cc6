//! Unit tests of the queue rules, with an injected clock.

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::config::HallConfig;
use crate::hall::CallbackStatus;
use crate::staffing::Standing;

const MIN: i64 = 60_000;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn at(h: u32, m: u32) -> Now {
    Now::at_local(day(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

struct T {
    hall: Hall,
    now: Now,
}

fn clerk(counter: CounterId) -> Actor {
    Actor::new(format!("clerk{counter}"), Role::Staff, Some(counter))
}

fn kiosk() -> Actor {
    Actor::new("kiosk-1", Role::Kiosk, None)
}

impl T {
    fn new() -> T {
        let mut t = T {
            hall: Hall::new(HallConfig::demo(), day()),
            now: at(9, 0),
        };
        for c in 1..=4 {
            t.ok(
                Command::SetCounter {
                    counter: c,
                    state: CounterState::Open,
                },
                clerk(c),
            );
        }
        t
    }

    fn run(&mut self, cmd: Command, actor: Actor) -> Result<Executed, Refusal> {
        self.hall.execute(&cmd, &actor, self.now)
    }

    fn ok(&mut self, cmd: Command, actor: Actor) -> Executed {
        self.run(cmd.clone(), actor)
            .unwrap_or_else(|e| panic!("{cmd:?} refused: {e}"))
    }

    fn issue(&mut self, service: &str) -> String {
        self.issue_p(service, false)
    }

    fn issue_p(&mut self, service: &str, priority: bool) -> String {
        match self
            .ok(
                Command::IssueTicket {
                    service: service.into(),
                    priority,
                },
                kiosk(),
            )
            .reply
        {
            Reply::Issued(t) => t.number,
            r => panic!("unexpected {r:?}"),
        }
    }

    fn next(&mut self, counter: CounterId) -> Option<TicketView> {
        match self.ok(Command::CallNext { counter }, clerk(counter)).reply {
            Reply::Called(t) => t,
            r => panic!("unexpected {r:?}"),
        }
    }

    /// The arrivals an hour foreseen for `service`.
    fn per_hour(&self, service: &str) -> f64 {
        let i = self
            .hall
            .config
            .services
            .iter()
            .position(|s| s.id == service);
        self.hall.arrival_rates()[i.unwrap()] * 3600.0
    }

    fn advance(&mut self, minutes: i64) {
        self.now = self.now.plus_ms(minutes * MIN);
    }

    /// One customer of `service` taken, called at `counter`, served for `minutes` and finished.
    fn serve(&mut self, service: &str, counter: CounterId, minutes: i64) {
        self.issue(service);
        self.next(counter);
        self.advance(minutes);
        self.ok(Command::Finish { counter }, clerk(counter));
    }

    /// The demo hall with counter 4 closed: repairs are served at counter 3 alone.
    fn repairs_at_counter_3_alone() -> T {
        let mut t = T::new();
        t.ok(
            Command::SetCounter {
                counter: 4,
                state: CounterState::Closed,
            },
            clerk(4),
        );
        t
    }

    /// Repairs at counter 3 alone: six served this morning, ten minutes each, and with
    /// `no_shows` four more who did not come, each marked a minute after the call; then one at
    /// the counter and two waiting.
    fn repairs_this_morning(no_shows: bool) -> T {
        let mut t = T::repairs_at_counter_3_alone();
        for i in 0..6 {
            t.serve("repair", 3, 10);
            if no_shows && i % 3 == 0 {
                for _ in 0..2 {
                    t.issue("repair");
                    t.next(3);
                    t.advance(1);
                    t.ok(Command::NoShow { counter: 3 }, clerk(3));
                }
            }
        }
        t.repair_at_counter_3_and_two_waiting();
        t
    }

    /// Three repair tickets more: one called to counter 3, two waiting.
    fn repair_at_counter_3_and_two_waiting(&mut self) {
        for _ in 0..3 {
            self.issue("repair");
        }
        self.next(3);
    }

    fn state(&self, number: &str) -> TicketState {
        self.hall.tickets[number].state
    }
}

#[test]
fn numbers_are_per_service_and_never_reused() {
    let mut t = T::new();
    assert_eq!(t.issue("account"), "A001");
    assert_eq!(t.issue("account"), "A002");
    assert_eq!(t.issue("pay"), "B001");
    t.next(1);
    t.ok(Command::Finish { counter: 1 }, clerk(1));
    assert_eq!(
        t.issue("account"),
        "A003",
        "a finished number is not given again"
    );
}

#[test]
fn numbering_restarts_the_next_business_day_and_leftovers_expire() {
    let mut t = T::new();
    t.issue("pay");
    let left = t.issue("pay");
    t.next(2);
    t.now = Now::at_local(
        day().succ_opt().unwrap(),
        NaiveTime::from_hms_opt(8, 40, 0).unwrap(),
    );
    let ex = t.ok(
        Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        },
        kiosk(),
    );
    assert!(
        matches!(&ex.events[0].kind, EventKind::DayClosed { expired, .. } if expired.contains(&left) && expired.len() == 2)
    );
    assert!(matches!(ex.events[1].kind, EventKind::DayStarted { .. }));
    assert!(matches!(&ex.reply, Reply::Issued(i) if i.number == "B001"));
    assert_eq!(t.hall.day, day().succ_opt().unwrap());
    assert!(
        t.hall
            .counters
            .values()
            .all(|c| c.state == CounterState::Closed && c.current.is_none())
    );
    assert!(
        t.hall.recent_calls.is_empty(),
        "yesterday's calls are never shown as current"
    );
}

#[test]
fn a_clock_that_reads_an_earlier_day_files_tickets_under_the_halls_day_and_numbering_goes_on() {
    let mut t = T::new();
    assert_eq!(t.issue("pay"), "B001");
    // The clock goes back a whole day (a Pi without a real-time clock, booted after a power cut).
    t.now = Now::at_local(
        day().pred_opt().unwrap(),
        NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
    );
    let ex = t.ok(
        Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        },
        kiosk(),
    );
    assert!(
        !ex.events.iter().any(|e| matches!(
            e.kind,
            EventKind::DayStarted { .. } | EventKind::DayClosed { .. }
        )),
        "an earlier day is never reopened: {:?}",
        ex.events
    );
    match &ex.events[0].kind {
        EventKind::TicketIssued { ticket } => {
            assert_eq!(ticket.number, "B002", "no number twice in a business day");
            assert_eq!(
                ticket.day,
                day(),
                "filed under the hall's day, not the clock's"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.hall.day, day());
    // Set right again (NTP): the same day goes on.
    t.now = at(11, 0);
    assert_eq!(t.issue("pay"), "B003");
    assert_eq!(t.hall.day, day());
}

#[test]
fn a_time_zone_set_before_the_first_ticket_takes_the_business_day_back_with_it() {
    use chrono::TimeZone;
    let utc = |d: u32, h: u32, m: u32| {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .timestamp_millis()
    };
    let shanghai: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let urumqi_config = || {
        let mut c = HallConfig::demo();
        c.hall.time_zone = "Asia/Urumqi".into();
        c
    };
    // The package's first start in Shanghai's zone at 00:30 on the 26th: 22:30 on the 25th in Urumqi.
    let install = utc(25, 16, 30);
    let mut hall = Hall::new(HallConfig::demo(), Now::in_zone(install, &shanghai).day);
    assert_eq!(hall.day, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
    let ex = hall
        .execute(
            &Command::ReplaceConfig {
                config: Box::new(urumqi_config()),
            },
            &Actor::new("installer", Role::Manager, None),
            Now::in_zone(install + MIN, &shanghai),
        )
        .unwrap();
    assert!(
        matches!(ex.events.last().map(|e| &e.kind), Some(EventKind::DayStarted { day }) if *day == NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        "{:?}",
        ex.events
    );
    assert_eq!(hall.day, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
    // The next morning in Urumqi is a new business day, numbered from 001.
    let urumqi: chrono_tz::Tz = "Asia/Urumqi".parse().unwrap();
    let morning = Now::in_zone(utc(26, 3, 0), &urumqi);
    let issue = Command::IssueTicket {
        service: "pay".into(),
        priority: false,
    };
    let ex = hall.execute(&issue, &kiosk(), morning).unwrap();
    assert!(matches!(&ex.reply, Reply::Issued(i) if i.number == "B001"));
    assert_eq!(hall.day, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());

    // Once a ticket has been issued, a day is never reopened, whatever the zone does.
    let mut c = urumqi_config();
    c.hall.time_zone = "America/Los_Angeles".into();
    let ex = hall
        .execute(
            &Command::ReplaceConfig {
                config: Box::new(c),
            },
            &Actor::new("boss", Role::Manager, None),
            morning,
        )
        .unwrap();
    assert!(
        !ex.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::DayStarted { .. })),
        "{:?}",
        ex.events
    );
    assert_eq!(hall.day, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
}

#[test]
fn life_of_a_ticket() {
    let mut t = T::new();
    let n = t.issue("pay");
    let called = t.next(1).unwrap();
    assert_eq!(called.number, n);
    assert_eq!(t.state(&n), TicketState::Called);
    t.ok(Command::Recall { counter: 1 }, clerk(1));
    assert_eq!(t.hall.tickets[&n].recalls, 1);
    assert_eq!(
        t.hall.recent_calls.len(),
        2,
        "a recall shows on the board again"
    );
    assert!(t.hall.recent_calls[0].recall);
    t.ok(Command::Start { counter: 1 }, clerk(1));
    assert_eq!(t.state(&n), TicketState::Serving);
    assert_eq!(
        t.run(Command::Recall { counter: 1 }, clerk(1))
            .unwrap_err()
            .code,
        "already_serving"
    );
    assert_eq!(
        t.run(Command::NoShow { counter: 1 }, clerk(1))
            .unwrap_err()
            .code,
        "already_serving"
    );
    t.advance(7);
    let ex = t.ok(Command::Finish { counter: 1 }, clerk(1));
    assert!(matches!(
        ex.events[0].kind,
        EventKind::TicketFinished {
            service_secs: 420,
            ..
        }
    ));
    assert_eq!(t.state(&n), TicketState::Finished);
    assert_eq!(t.hall.counters[&1].current, None);
    assert_eq!(
        t.run(Command::Finish { counter: 1 }, clerk(1))
            .unwrap_err()
            .code,
        "no_current_ticket"
    );
}

#[test]
fn no_show_only_for_someone_who_has_not_come() {
    let mut t = T::new();
    let n = t.issue("consult");
    t.next(1);
    t.ok(Command::NoShow { counter: 1 }, clerk(1));
    assert_eq!(t.state(&n), TicketState::NoShow);
    assert!(t.next(1).is_none());
}

#[test]
fn call_next_finishes_the_customer_at_the_desk() {
    let mut t = T::new();
    let a = t.issue("pay");
    let b = t.issue("pay");
    t.next(1);
    t.ok(Command::Start { counter: 1 }, clerk(1));
    assert_eq!(t.next(1).unwrap().number, b);
    assert_eq!(t.state(&a), TicketState::Finished);
}

#[test]
fn nobody_waiting_is_not_an_error() {
    let mut t = T::new();
    assert!(t.next(1).is_none());
    let ex = t.ok(Command::CallNext { counter: 1 }, clerk(1));
    assert!(ex.events.is_empty());
}

#[test]
fn call_next_follows_priority_preference_and_wait() {
    let mut t = T::new();
    // Counter 2 serves pay, stb, account in that order.
    let a = t.issue("account");
    t.advance(1);
    let d = t.issue("stb");
    t.advance(1);
    let b = t.issue("pay");
    t.advance(1);
    let old = t.issue_p("account", true);
    assert_eq!(t.next(2).unwrap().number, old, "priority first");
    assert_eq!(
        t.next(2).unwrap().number,
        b,
        "then the counter's preferred service"
    );
    assert_eq!(t.next(2).unwrap().number, d);
    assert_eq!(t.next(2).unwrap().number, a);
}

#[test]
fn fifo_within_a_service() {
    let mut t = T::new();
    let ns: Vec<String> = (0..5)
        .map(|_| {
            t.advance(1);
            t.issue("repair")
        })
        .collect();
    for n in &ns {
        assert_eq!(&t.next(3).unwrap().number, n);
    }
}

#[test]
fn a_counter_only_calls_its_services_and_one_ticket_at_a_time() {
    let mut t = T::new();
    t.issue("repair");
    assert!(t.next(1).is_none(), "counter 1 does not serve repairs");
    let n = t.issue("pay");
    t.next(1);
    t.next(2);
    let at_counter: Vec<_> = t
        .hall
        .tickets
        .values()
        .filter(|x| x.state.is_current())
        .collect();
    assert_eq!(at_counter.len(), 1);
    assert_eq!(t.hall.counters[&1].current.as_deref(), Some(n.as_str()));
    assert_eq!(t.hall.counters[&2].current, None);
}

#[test]
fn transfer_to_a_service_keeps_the_original_place() {
    let mut t = T::new();
    let first = t.issue("pay");
    t.advance(5);
    let others: Vec<String> = (0..3).map(|_| t.issue("stb")).collect();
    t.next(1); // counter 1 takes the payment customer
    t.ok(
        Command::Transfer {
            counter: 1,
            to: TransferTo::Service("stb".into()),
        },
        clerk(1),
    );
    let tk = &t.hall.tickets[&first];
    assert_eq!(tk.state, TicketState::Waiting);
    assert_eq!(tk.service, "stb");
    assert_eq!(tk.transfers, 1);
    assert_eq!(t.hall.counters[&1].current, None);
    // Counter 3 serves stb: the transferred customer is first, not at the back.
    assert_eq!(t.next(3).unwrap().number, first);
    assert_eq!(t.next(3).unwrap().number, others[0]);
    assert_eq!(t.hall.ticket_status(&others[1], t.now.at).unwrap().ahead, 0);
}

#[test]
fn transfer_to_a_counter_goes_to_the_front_there_and_only_there() {
    let mut t = T::new();
    t.issue("complaint");
    let n = t.issue("pay");
    t.next(2);
    t.ok(
        Command::Transfer {
            counter: 2,
            to: TransferTo::Counter(4),
        },
        clerk(2),
    );
    assert_eq!(t.hall.tickets[&n].for_counter, Some(4));
    assert!(
        t.next(1).is_none(),
        "counter 1 serves pay but the ticket is for counter 4"
    );
    assert_eq!(
        t.next(4).unwrap().number,
        n,
        "ahead of counter 4's own complaint ticket"
    );
    let err = t
        .run(
            Command::Transfer {
                counter: 4,
                to: TransferTo::Counter(4),
            },
            clerk(4),
        )
        .unwrap_err();
    assert_eq!(err.code, "same_counter");
}

#[test]
fn closing_a_counter_releases_tickets_transferred_to_it() {
    let mut t = T::new();
    let n = t.issue("pay");
    t.next(2);
    t.ok(
        Command::Transfer {
            counter: 2,
            to: TransferTo::Counter(3),
        },
        clerk(2),
    );
    t.ok(
        Command::SetCounter {
            counter: 3,
            state: CounterState::Closed,
        },
        clerk(3),
    );
    assert_eq!(t.hall.tickets[&n].for_counter, None);
    assert_eq!(t.next(1).unwrap().number, n);
}

#[test]
fn transfer_to_a_closed_counter_is_refused() {
    let mut t = T::new();
    t.ok(
        Command::SetCounter {
            counter: 3,
            state: CounterState::Closed,
        },
        clerk(3),
    );
    t.issue("pay");
    t.next(1);
    let err = t
        .run(
            Command::Transfer {
                counter: 1,
                to: TransferTo::Counter(3),
            },
            clerk(1),
        )
        .unwrap_err();
    assert_eq!(err.code, "counter_closed");
}

#[test]
fn call_a_specific_number_out_of_order() {
    let mut t = T::new();
    t.issue("pay");
    let second = t.issue("pay");
    let ex = t.ok(
        Command::CallNumber {
            counter: 1,
            number: second.to_lowercase(),
        },
        clerk(1),
    );
    assert!(matches!(&ex.reply, Reply::Called(Some(v)) if v.number == second));
    let err = t
        .run(
            Command::CallNumber {
                counter: 2,
                number: second.clone(),
            },
            clerk(2),
        )
        .unwrap_err();
    assert_eq!(err.code, "not_waiting");
    assert_eq!(
        t.run(
            Command::CallNumber {
                counter: 2,
                number: "Z999".into()
            },
            clerk(2)
        )
        .unwrap_err()
        .kind,
        RefusalKind::NotFound
    );
    assert_eq!(
        t.run(
            Command::CallNumber {
                counter: 2,
                number: "hello".into()
            },
            clerk(2)
        )
        .unwrap_err()
        .kind,
        RefusalKind::BadInput
    );
}

#[test]
fn paused_and_closed_counters_do_not_call() {
    let mut t = T::new();
    t.issue("pay");
    t.ok(
        Command::SetCounter {
            counter: 1,
            state: CounterState::Paused,
        },
        clerk(1),
    );
    assert_eq!(
        t.run(Command::CallNext { counter: 1 }, clerk(1))
            .unwrap_err()
            .code,
        "counter_paused"
    );
    t.ok(
        Command::SetCounter {
            counter: 1,
            state: CounterState::Open,
        },
        clerk(1),
    );
    t.next(1);
    let err = t
        .run(
            Command::SetCounter {
                counter: 1,
                state: CounterState::Paused,
            },
            clerk(1),
        )
        .unwrap_err();
    assert_eq!(
        err.code, "ticket_in_progress",
        "a customer at the desk is never abandoned"
    );
    assert_eq!(
        t.run(Command::CallNext { counter: 9 }, clerk(9))
            .unwrap_err()
            .kind,
        RefusalKind::NotFound
    );
}

#[test]
fn last_ticket_time_stops_issuing_but_not_serving() {
    let mut t = T::new();
    t.now = at(16, 55);
    let late = t.issue("pay");
    t.now = at(17, 0);
    let err = t
        .run(
            Command::IssueTicket {
                service: "pay".into(),
                priority: false,
            },
            kiosk(),
        )
        .unwrap_err();
    assert_eq!(err.code, "tickets_ended");
    assert_eq!(err.kind, RefusalKind::Conflict);
    assert!(err.message_zh.contains("今日取号已结束"));
    t.now = at(17, 45); // past closing, still serving
    assert_eq!(t.next(1).unwrap().number, late);
    assert_eq!(t.hall.board_live(t.now).day.phase, DayPhase::Closed);
}

#[test]
fn early_customers_may_take_tickets_an_hour_before_opening() {
    let mut t = T::new();
    t.now = at(7, 0);
    assert_eq!(
        t.run(
            Command::IssueTicket {
                service: "pay".into(),
                priority: false
            },
            kiosk()
        )
        .unwrap_err()
        .code,
        "not_open"
    );
    t.now = at(7, 45);
    t.issue("pay");
}

#[test]
fn unknown_or_disabled_services_are_refused() {
    let mut t = T::new();
    assert_eq!(
        t.run(
            Command::IssueTicket {
                service: "nope".into(),
                priority: false
            },
            kiosk()
        )
        .unwrap_err()
        .kind,
        RefusalKind::NotFound
    );
    let mut c = t.hall.config.clone();
    c.services[4].enabled = false;
    t.ok(
        Command::ReplaceConfig {
            config: Box::new(c),
        },
        Actor::new("boss", Role::Manager, None),
    );
    assert_eq!(
        t.run(
            Command::IssueTicket {
                service: "consult".into(),
                priority: false
            },
            kiosk()
        )
        .unwrap_err()
        .code,
        "service_disabled"
    );
}

#[test]
fn apology_after_a_long_service_or_a_long_wait() {
    let mut t = T::new();
    t.issue("pay");
    let second = t.issue("pay");
    t.next(1);
    t.ok(Command::Start { counter: 1 }, clerk(1));
    t.advance(20); // past the 15-minute long-service threshold
    let called = t.next(1).unwrap();
    assert_eq!(called.number, second);
    assert!(
        called.apology,
        "the next customer hears an apology (Ch.3 §1.6)"
    );
    assert!(t.hall.recent_calls[0].apology);
    // A quick service after that: no apology for the next one.
    let third = t.issue("pay");
    t.advance(2);
    let c = t.next(1).unwrap();
    assert_eq!(c.number, third);
    assert!(!c.apology);
    // A customer who waited past the long-wait threshold gets an apology too.
    let fourth = t.issue("pay");
    t.ok(Command::Finish { counter: 1 }, clerk(1));
    t.advance(31);
    let c = t.next(2).unwrap();
    assert_eq!(c.number, fourth);
    assert!(c.apology);
}

#[test]
fn a_service_without_history_starts_from_its_configured_usual_time() {
    let mut t = T::new();
    // No history: five minutes a service, until the manager says accounts take about twelve.
    assert_eq!(t.hall.mean_service_secs("account").round(), 300.0);
    let boss = Actor::new("boss", Role::Manager, None);
    let mut c = t.hall.config.clone();
    c.services
        .iter_mut()
        .find(|s| s.id == "account")
        .unwrap()
        .usual_minutes = Some(12);
    t.ok(
        Command::ReplaceConfig {
            config: Box::new(c),
        },
        boss.clone(),
    );
    assert_eq!(t.hall.mean_service_secs("account").round(), 720.0);
    assert_eq!(t.hall.mean_service_secs("pay").round(), 300.0);
    // A new day keeps it while there is still no history; the day's own services soon outweigh
    // it (it counts like two of them).
    t.hall.reseed();
    assert_eq!(t.hall.mean_service_secs("account").round(), 720.0);
    for _ in 0..6 {
        t.serve("account", 1, 4);
    }
    let mean = t.hall.mean_service_secs("account");
    assert!((240.0..400.0).contains(&mean), "{mean}");
    // Said back to none: the five minutes again, under the same six services.
    let mut c = t.hall.config.clone();
    for s in &mut c.services {
        s.usual_minutes = None;
    }
    t.ok(
        Command::ReplaceConfig {
            config: Box::new(c),
        },
        boss,
    );
    assert!(t.hall.mean_service_secs("account") < mean);
    // Out of range: refused with the reason.
    let mut c = t.hall.config.clone();
    c.services[0].usual_minutes = Some(0);
    let e = c.validate().unwrap_err();
    assert!(e.contains("usual_minutes is 0; it must be 1–240"), "{e}");
}

#[test]
fn estimates_use_recent_service_times_and_open_counters() {
    let mut t = T::new();
    for _ in 0..4 {
        t.issue("repair");
    }
    // No history: 5 minutes a service. Repairs are served by counters 3 and 4 (shared with others).
    let est = t.hall.ticket_status("C004", t.now.at).unwrap();
    assert_eq!(est.ahead, 3);
    assert!(est.estimated_wait_s > 0);
    // Twenty quick services of one minute: clearly not the 5-minute default any more (which
    // counts like two services: (2·300 + 20·60) / 22 = 82 s).
    for _ in 0..20 {
        t.serve("repair", 3, 1);
    }
    assert_eq!(t.hall.service_times["repair"].typical_secs(), 82);
    let mean = t.hall.mean_service_secs("repair").round() as u32;
    assert_eq!(mean, 82);
    // Four waiting, counters 3 and 4 free: two are called at once, two a service later, and a
    // new customer after them.
    assert_eq!(t.hall.waiting_count("repair"), 4);
    assert!(t.hall.wait_for("repair", 4).abs_diff(2 * mean) <= 1);
    // Closing one of the two repair counters makes the wait longer.
    t.ok(
        Command::SetCounter {
            counter: 4,
            state: CounterState::Closed,
        },
        clerk(4),
    );
    assert!(t.hall.wait_for("repair", 4).abs_diff(4 * mean) <= 2);
}

#[test]
fn nobody_ahead_still_waits_when_every_counter_is_busy() {
    let mut t = T::new();
    // Complaints are served by counters 4 (first choice) and 3 (third).
    t.issue("complaint");
    t.next(4);
    assert_eq!(t.hall.wait_for("complaint", 0), 0, "counter 3 is free");
    t.issue("repair");
    t.next(3);
    let w = t.hall.wait_for("complaint", 0);
    assert!(
        (100..=200).contains(&w),
        "the first of two busy counters frees in about half a service: {w}"
    );
    let issued = t.issue("complaint");
    assert_eq!(
        t.hall
            .ticket_status(&issued, t.now.at)
            .unwrap()
            .estimated_wait_s,
        w
    );
}

#[test]
fn customers_ahead_who_may_not_come_count_for_part_of_a_service() {
    // Two halls alike but for four repair customers this morning who did not come, each marked a
    // minute after the call. Repairs are served by counter 3 alone (counter 4 closed), ten
    // minutes a customer.
    let hall = T::repairs_this_morning;
    let (plain, with_no_shows) = (hall(false), hall(true));
    let mean = plain.hall.mean_service_secs("repair");
    assert_eq!(with_no_shows.hall.mean_service_secs("repair"), mean);
    assert_eq!(plain.hall.no_shows("repair").share, 0.0);
    let n = with_no_shows.hall.no_shows("repair");
    // Four of ten calls, with a prior of twenty calls of which none failed to come.
    assert!((n.share - 4.0 / 30.0).abs() < 1e-9, "{n:?}");
    assert!((n.hold_s - 60.0).abs() < 1e-9, "{n:?}");
    // The customer at the counter has come and takes a whole service; each of the two waiting
    // counts for what a call takes on average.
    let without = plain.hall.wait_for("repair", 2);
    assert!(
        (f64::from(without) - 3.0 * mean).abs() < 1.01,
        "{without} vs {mean}"
    );
    let with = with_no_shows.hall.wait_for("repair", 2);
    let expected = mean + 2.0 * n.call_secs(mean);
    assert!(
        (f64::from(with) - expected).abs() < 1.01,
        "{with} vs {expected}"
    );
    assert!(with + 100 < without);
}

#[test]
fn the_staffing_advice_tells_a_new_customer_the_wait_the_kiosk_shows() {
    // The demo hall, its four counters open, each calling several services in its own order, with
    // lines of every kind and some customers who did not come: the wait a new customer is told
    // is not (k + 1) × mean / capacity, and the advice must say the same as the kiosk's button.
    let mut t = T::new();
    for (i, s) in ["pay", "account", "repair", "pay", "stb", "pay"]
        .iter()
        .enumerate()
    {
        let counter = 1 + (i as u32) % 4;
        if t.hall.config.counters[counter as usize - 1].serves(s) {
            t.serve(s, counter, 6);
        }
    }
    t.issue("repair");
    t.next(3);
    t.advance(1);
    t.ok(Command::NoShow { counter: 3 }, clerk(3));
    for s in [
        "pay",
        "pay",
        "pay",
        "account",
        "repair",
        "stb",
        "consult",
        "pay",
        "complaint",
    ] {
        t.issue(s);
    }
    for c in 1..=3 {
        t.next(c);
    }
    for s in [
        "pay", "pay", "account", "repair", "stb", "pay", "pay", "pay",
    ] {
        t.issue(s);
    }
    let advice = t.hall.staffing(t.now);
    assert_eq!(
        advice.len(),
        t.hall.config.services.iter().filter(|s| s.enabled).count()
    );
    for a in &advice {
        let kiosk = t
            .hall
            .wait_for(&a.service, t.hall.waiting_count(&a.service));
        assert!(
            (a.wait_now_s - f64::from(kiosk)).abs() <= 0.5,
            "{}: advice {} s, kiosk {kiosk} s",
            a.service,
            a.wait_now_s
        );
        // A counter more for the service never makes its wait longer, now or in half an hour.
        assert!(a.wait_one_more_s <= a.wait_now_s, "{a:?}");
        assert!(a.wait_soon_one_more_s <= a.wait_soon_s, "{a:?}");
        // Every counter here also calls other services: closing one is not offered, and the long
        // run is the four counters' for all six services' customers together.
        assert!(!a.load.dedicated);
        let pool = a.load.pool.as_ref().expect("open counters call it");
        assert_eq!(
            (pool.services.len(), pool.counters_open),
            (6, 4),
            "{pool:?}"
        );
        assert_eq!(
            (a.wait_one_fewer_s, a.wait_soon_one_fewer_s),
            (a.wait_now_s, a.wait_soon_s)
        );
        assert_ne!(a.standing, Standing::Spare);
        let minutes = (a.wait_now_s / 60.0).round().max(1.0);
        if a.standing == Standing::Over {
            let m = a.message.as_ref().expect("a line to show");
            assert!(
                m.zh.contains(&format!("新取号预计等候 {minutes} 分钟")),
                "{}",
                m.zh
            );
            assert!(a.counters_needed > a.load.counters_open, "{a:?}");
        }
    }
    let pay = advice.iter().find(|a| a.service == "pay").unwrap();
    assert_eq!(pay.standing, Standing::Over, "{pay:?}");
    // Every counter is open: one more is a counter for payments alone.
    assert_eq!(pay.counter_to_open, None);
    assert!(pay.message.as_ref().unwrap().zh.contains("; 再开一个窗口"));
    // Repairs' one no-show among seven calls: a call takes less than a whole service.
    let repair = advice.iter().find(|a| a.service == "repair").unwrap();
    assert!(
        repair.load.call_s < repair.load.mean_service_s,
        "{repair:?}"
    );
}

#[test]
fn the_staffing_advice_counts_customers_who_may_not_come_as_the_kiosk_does() {
    // Repairs at counter 3 alone, two waiting and one at the counter; in one hall four of this
    // morning's repair customers did not come. The advice's wait for a new customer is the one the
    // kiosk shows in each, so the hall with no-shows is told less.
    let hall = T::repairs_this_morning;
    let told = |t: &T| {
        let a = t.hall.staffing(t.now);
        let repair = a.into_iter().find(|a| a.service == "repair").unwrap();
        let kiosk = t.hall.wait_for("repair", 2);
        assert!(
            (repair.wait_now_s - f64::from(kiosk)).abs() <= 0.5,
            "{repair:?} vs {kiosk}"
        );
        repair
    };
    let (plain, with_no_shows) = (told(&hall(false)), told(&hall(true)));
    assert!(with_no_shows.wait_now_s + 100.0 < plain.wait_now_s);
    assert!(with_no_shows.load.call_s < plain.load.call_s);
    assert_eq!(plain.load.call_s, plain.load.mean_service_s);
    // Counter 4, closed, also calls repairs (after complaints and consultations, which nobody
    // waits for): opened, it calls the first of the two waiting at once; counter 3 then calls
    // the second, and the new customer is called when the first is done.
    assert_eq!(plain.counter_to_open, Some(4));
    assert!(
        (plain.wait_one_more_s - plain.load.mean_service_s).abs() < 1.0,
        "{plain:?}"
    );
    assert_eq!(plain.standing, Standing::Over);
    let m = plain.message.as_ref().unwrap();
    assert!(m.zh.contains("; 再开4号窗口约 "), "{}", m.zh);
    assert!(m.en.contains("; open Counter 4: about "), "{}", m.en);
}

#[test]
fn priority_tickets_yet_to_come_are_foreseen_before_those_without() {
    // Two halls alike but for the priority of three of the last hour's six repair tickets. Repairs
    // are served by counter 3 alone (counter 4 closed), ten minutes a customer.
    let hall = |priority_share: bool| {
        let mut t = T::repairs_at_counter_3_alone();
        for i in 0..6 {
            t.issue_p("repair", priority_share && i % 2 == 1);
            t.next(3);
            t.advance(10);
            t.ok(Command::Finish { counter: 3 }, clerk(3));
        }
        t.repair_at_counter_3_and_two_waiting();
        t
    };
    let (mut plain, mut with_priority) = (hall(false), hall(true));
    let mean = plain.hall.mean_service_secs("repair").round() as u32;
    assert_eq!(
        with_priority.hall.mean_service_secs("repair").round() as u32,
        mean
    );
    // Without priority tickets a new customer is called after the counter's customer and the
    // two waiting. With three of ten an hour (the new customer the tenth), newcomers come every
    // six minutes and the 2nd and the 5th hold priority (as many as are due on average): the
    // first is foreseen 12 minutes on, before the new customer's turn at 3 services, and goes
    // first; the second 30 minutes on, before the turn has come at 4, and goes first too.
    let without = plain.hall.wait_for("repair", 2);
    assert!(without.abs_diff(3 * mean) <= 1, "{without} vs {mean}");
    let foreseen = with_priority.hall.wait_for("repair", 2);
    assert!(foreseen.abs_diff(5 * mean) <= 3, "{foreseen} vs {mean}");
    // The board, the printed ticket and its status say the same: the one who takes the ticket
    // counts among the hour's arrivals in each.
    let board = with_priority.hall.service_views(with_priority.now.at);
    let repair = board.iter().find(|v| v.id == "repair").unwrap();
    assert_eq!(repair.estimated_wait_s, foreseen);
    let normal = with_priority.issue("repair");
    let status = with_priority
        .hall
        .ticket_status(&normal, with_priority.now.at)
        .unwrap();
    assert_eq!(status.estimated_wait_s, foreseen);
    assert_eq!(
        with_priority.hall.tickets[&normal].estimated_wait_s,
        foreseen
    );
    // A customer with priority goes before everyone without: the priority tickets yet to come
    // queue behind theirs, so both halls tell them the same.
    let a = plain.issue_p("repair", true);
    let b = with_priority.issue_p("repair", true);
    assert_eq!(
        plain.hall.tickets[&a].estimated_wait_s,
        with_priority.hall.tickets[&b].estimated_wait_s
    );
    assert!(
        with_priority.hall.tickets[&b]
            .estimated_wait_s
            .abs_diff(mean)
            <= 1
    );
}

#[test]
fn services_running_long_raise_the_mean_before_they_finish() {
    let mut t = T::new();
    for _ in 0..20 {
        t.serve("complaint", 4, 1);
    }
    let before = t.hall.mean_service_secs("complaint");
    assert_eq!(
        before.round(),
        82.0,
        "twenty 1-minute services and the default worth two"
    );
    // Both complaint counters start a service that goes on and on.
    for c in [4, 3] {
        t.issue("complaint");
        t.next(c);
        t.ok(Command::Start { counter: c }, clerk(c));
    }
    t.advance(30);
    // Any event moves the hall's clock.
    t.issue("pay");
    let after = t.hall.mean_service_secs("complaint");
    assert!(after > 3.0 * before, "{before} → {after}");
}

#[test]
fn a_new_day_starts_from_the_same_weekday_in_the_history() {
    let mut t = T::new();
    // A day of 10-minute payments, 09:00–13:00.
    for _ in 0..24 {
        t.issue("pay");
        t.next(2);
        t.ok(Command::Start { counter: 2 }, clerk(2));
        t.advance(10);
        t.ok(Command::Finish { counter: 2 }, clerk(2));
    }
    let today = t.hall.mean_service_secs("pay");
    assert!(
        (today - 600.0).abs() < 30.0,
        "the default's weight fades: {today}"
    );
    // A week later at 09:00 nothing has finished yet, and the estimate is the history's.
    t.now = Now::at_local(day() + chrono::Duration::days(7), t.now.time);
    t.now = Now::at_local(t.now.day, chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    t.issue("pay");
    assert!(t.hall.service_times["pay"].is_empty());
    assert_eq!(t.hall.mean_service_secs("pay").round(), 600.0);
    // The next day, another weekday: the service's whole history, still 10 minutes.
    t.now = Now::at_local(t.now.day.succ_opt().unwrap(), t.now.time);
    t.issue("pay");
    assert_eq!(t.hall.mean_service_secs("pay").round(), 600.0);
    // A service without history starts from the default.
    assert_eq!(
        t.hall.mean_service_secs("complaint").round(),
        f64::from(crate::estimate::DEFAULT_SERVICE_SECS)
    );
}

#[test]
fn long_wait_begins_and_ends_with_time() {
    let mut t = T::new();
    let n = t.issue("complaint");
    assert!(t.ok(Command::Tick, Actor::system()).events.is_empty());
    t.advance(31);
    let ex = t.ok(Command::Tick, Actor::system());
    assert!(
        matches!(&ex.events[..], [Event { kind: EventKind::LongWaitBegan { service }, .. }] if service == "complaint")
    );
    let live = t.hall.board_live(t.now);
    assert_eq!(live.mode, BoardMode::LongWait);
    assert!(live.callback_capture);
    assert!(
        live.waiting
            .iter()
            .any(|w| w.service == "complaint" && w.long_wait)
    );
    t.ok(
        Command::CallNumber {
            counter: 3,
            number: n,
        },
        clerk(3),
    );
    let ex = t.ok(Command::Tick, Actor::system());
    assert!(matches!(
        &ex.events[..],
        [Event {
            kind: EventKind::LongWaitEnded { .. },
            ..
        }]
    ));
    assert_eq!(t.hall.board_live(t.now).mode, BoardMode::Normal);
}

#[test]
fn outages_short_and_long() {
    let mut t = T::new();
    let boss = Actor::new("boss", Role::Manager, None);
    assert_eq!(
        t.run(
            Command::StartOutage {
                expected_minutes: 0,
                message: None
            },
            boss.clone()
        )
        .unwrap_err()
        .kind,
        RefusalKind::BadInput
    );
    t.ok(
        Command::StartOutage {
            expected_minutes: 10,
            message: Some("营账系统升级".into()),
        },
        boss.clone(),
    );
    let live = t.hall.board_live(t.now);
    assert_eq!(live.mode, BoardMode::Outage);
    assert_eq!(live.outage.as_ref().unwrap().kind, OutageKind::Short);
    assert!(
        !live.callback_capture,
        "short outage: apologise and ask to wait"
    );
    assert_eq!(
        t.run(
            Command::StartOutage {
                expected_minutes: 5,
                message: None
            },
            boss.clone()
        )
        .unwrap_err()
        .code,
        "outage_active"
    );
    t.advance(11);
    let ex = t.ok(Command::Tick, Actor::system());
    assert!(
        ex.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::OutageBecameLong { .. })),
        "overran its expected end"
    );
    assert!(t.hall.board_live(t.now).callback_capture);
    t.ok(Command::EndOutage, boss.clone());
    assert_eq!(t.hall.board_live(t.now).mode, BoardMode::Normal);
    assert_eq!(
        t.run(Command::EndOutage, boss.clone()).unwrap_err().code,
        "no_outage"
    );
    t.ok(
        Command::StartOutage {
            expected_minutes: 120,
            message: None,
        },
        boss,
    );
    assert!(
        t.hall.board_live(t.now).callback_capture,
        "expected to be long: take numbers at once"
    );
}

#[test]
fn an_outage_holds_every_wait_until_its_expected_end_and_promises_no_upper_end() {
    let mut t = T::new();
    let boss = Actor::new("boss", Role::Manager, None);
    // Repairs go to counters 3 and 4: both busy, two waiting.
    for _ in 0..4 {
        t.issue("repair");
    }
    t.next(3);
    t.next(4);
    let before = t.hall.wait_for("repair", 2);
    assert!(before > 0);
    t.ok(
        Command::StartOutage {
            expected_minutes: 20,
            message: None,
        },
        boss.clone(),
    );
    // Nobody is served until the system is back: the line starts 20 minutes from now.
    let during = t.hall.wait_for("repair", 2);
    assert!(
        during.abs_diff(before + 20 * 60) <= 1,
        "{before} → {during}"
    );
    let number = t.issue("repair");
    let status = t.hall.ticket_status(&number, t.now.at).unwrap();
    assert!(status.estimated_wait_s.abs_diff(during) <= 1);
    assert_eq!(status.estimated_wait_hi_s, None, "the end is a guess");
    assert!(status.estimated_wait_lo_s >= 20 * 60, "{status:?}");
    // The board's line says the same, and the outage alone makes no long-wait period.
    let view = t
        .hall
        .service_views(t.now.at)
        .into_iter()
        .find(|s| s.id == "repair")
        .unwrap();
    assert_eq!(view.estimated_wait_hi_s, None);
    assert!(view.estimated_wait_lo_s >= 20 * 60);
    // Read eight minutes later with no event in between (a kiosk polling the board, a phone on
    // the ticket's page): eight minutes less, and still no upper end.
    let later = t.now.plus_ms(8 * 60_000);
    let board = t.hall.board_live(later);
    let line = board
        .waiting
        .iter()
        .find(|w| w.service == "repair")
        .unwrap();
    assert!(
        line.estimated_wait_s
            .abs_diff(view.estimated_wait_s - 8 * 60)
            <= 1,
        "{} → {}",
        view.estimated_wait_s,
        line.estimated_wait_s
    );
    assert!(line.estimated_wait_lo_s >= 12 * 60 && line.estimated_wait_lo_s < 20 * 60);
    assert_eq!(line.estimated_wait_hi_s, None);
    let status_later = t.hall.ticket_status(&number, later.at).unwrap();
    assert!(
        status_later
            .estimated_wait_s
            .abs_diff(status.estimated_wait_s - 8 * 60)
            <= 1,
        "{status:?} → {status_later:?}"
    );
    assert!(status_later.estimated_wait_lo_s < status.estimated_wait_lo_s);
    // What the hall was told at its last event is unchanged by reading it later.
    assert_eq!(t.hall.ticket_status(&number, t.now.at).unwrap(), status);
    t.ok(Command::Tick, Actor::system());
    assert!(t.hall.long_wait.is_empty());
    // Ten minutes on, ten minutes left; once overrun, a minute at least and never "no wait".
    t.advance(10);
    // (The estimates read the hall's clock, which the next event moves: a payment customer.)
    t.issue("pay");
    let later = t.hall.wait_for("repair", 3);
    let line = t.hall.line_wait_for("repair", 3, 0);
    assert!(later.abs_diff(line + 10 * 60) <= 1, "{line} → {later}");
    t.advance(15);
    t.issue("pay");
    let overrun = t.hall.wait_for("repair", 0);
    assert!(overrun >= 60, "{overrun}");
    let r = t.hall.wait_range_for("repair", overrun, 0);
    assert_eq!(r.hi_s, None);
    assert!(r.lo_s >= 60);
    let overrun = t.hall.wait_for("repair", 3);
    // Back: the line's own wait again, with its range.
    t.ok(Command::EndOutage, boss);
    let after = t.hall.wait_for("repair", 3);
    assert!(after.abs_diff(overrun - 60) <= 1, "{overrun} → {after}");
    // (Nothing has finished today and there is no history: no upper end for that reason alone.)
    assert_eq!(
        t.hall.wait_range_for("repair", after, 3),
        crate::estimate::wait_range(after, 3, 0)
    );
}

#[test]
fn a_slow_system_is_said_once_ended_once_and_forgotten_the_next_day() {
    let mut t = T::new();
    let slow = |slow| Command::SetSlowSystem { slow };
    assert_eq!(
        t.run(slow(false), clerk(1)).unwrap_err().code,
        "no_slow_system"
    );
    t.ok(slow(true), clerk(1));
    let since = t.now.at;
    assert_eq!(t.hall.slow_since(), Some(since));
    assert!(t.hall.board_live(t.now).slow_since.is_some());
    assert_eq!(
        t.run(slow(true), clerk(2)).unwrap_err().code,
        "slow_system_active"
    );
    // The board's mode is unchanged: a slow system is apologised for, not a stop.
    assert_eq!(t.hall.board_live(t.now).mode, BoardMode::Normal);
    t.advance(30);
    t.ok(slow(false), clerk(2));
    assert_eq!(t.hall.slow_since(), None);
    assert_eq!(
        t.hall.disruptions,
        [Disruption {
            kind: DisruptionKind::Slow,
            start: since,
            end: Some(t.now.at)
        }]
    );
    t.ok(slow(true), clerk(1));
    let next_day = t.hall.day.succ_opt().unwrap();
    let events = t.hall.rollover(next_day);
    for (i, kind) in events.into_iter().enumerate() {
        t.hall.apply(&Event {
            seq: t.hall.last_seq + 1 + i as u64,
            at: t.now.at,
            actor: "system".into(),
            counter: None,
            kind,
        });
    }
    assert!(
        t.hall.disruptions.is_empty(),
        "a new day starts at its usual speed"
    );
}

#[test]
fn callbacks_are_validated_and_only_masked_in_events() {
    let mut t = T::new();
    let cap = |phone: &str, consent: bool| Command::CaptureCallback {
        phone: phone.into(),
        consent,
        ticket: None,
        address: None,
        reason: None,
    };
    assert_eq!(
        t.run(cap("13812345678", false), kiosk()).unwrap_err().code,
        "no_consent"
    );
    let err = t.run(cap("1381234", true), kiosk()).unwrap_err();
    assert_eq!(err.code, "bad_phone");
    assert!(!err.message_zh.is_empty());
    t.ok(
        Command::StartOutage {
            expected_minutes: 60,
            message: None,
        },
        Actor::new("boss", Role::Manager, None),
    );
    let ex = t.ok(
        Command::CaptureCallback {
            phone: "138 1234 5678".into(),
            consent: true,
            ticket: None,
            address: Some("  ".into()),
            reason: Some("开户".into()),
        },
        kiosk(),
    );
    let cb = ex.callback.clone().unwrap();
    assert_eq!(cb.id, 1);
    assert_eq!(cb.origin, CallbackOrigin::Outage);
    assert_eq!(cb.address, None, "blank address is no address");
    assert!(matches!(&ex.reply, Reply::CallbackCaptured(c) if c.phone_masked == "138****5678"));
    let json = serde_json::to_string(&ex.events).unwrap();
    assert!(
        !json.contains("13812345678"),
        "the event log never holds a full number"
    );
    let ex2 = t.ok(cap("027-87654321", true), kiosk());
    assert_eq!(ex2.callback.unwrap().id, 2);
    let long = "很".repeat(MAX_ADDRESS_CHARS + 1);
    let err = t
        .run(
            Command::CaptureCallback {
                phone: "13812345678".into(),
                consent: true,
                ticket: None,
                address: Some(long),
                reason: None,
            },
            kiosk(),
        )
        .unwrap_err();
    assert_eq!(err.code, "too_long");
    let err = t
        .run(
            Command::CaptureCallback {
                phone: "13812345678".into(),
                consent: true,
                ticket: Some("A999".into()),
                address: None,
                reason: None,
            },
            kiosk(),
        )
        .unwrap_err();
    assert_eq!(err.code, "unknown_ticket");
}

#[test]
fn callback_follow_up() {
    let mut t = T::new();
    let ex = t.ok(
        Command::CaptureCallback {
            phone: "13812345678".into(),
            consent: true,
            ticket: None,
            address: None,
            reason: None,
        },
        kiosk(),
    );
    let cb = ex.callback.unwrap();
    assert_eq!(cb.origin, CallbackOrigin::Request);
    let upd = |current: &Callback, status: Option<CallbackStatus>, note: Option<&str>| {
        Command::UpdateCallback {
            current: Box::new(current.clone()),
            status,
            note: note.map(str::to_string),
            take: false,
        }
    };
    assert_eq!(
        t.run(upd(&cb, None, None), clerk(1)).unwrap_err().code,
        "empty_update"
    );
    assert_eq!(
        t.run(upd(&cb, Some(CallbackStatus::Resolved), None), clerk(1))
            .unwrap_err()
            .code,
        "note_required"
    );
    let c1 = t
        .ok(
            upd(
                &cb,
                Some(CallbackStatus::Contacted),
                Some("已电话联系,约明天来厅"),
            ),
            clerk(1),
        )
        .callback
        .unwrap();
    assert_eq!(c1.owner.as_deref(), Some("clerk1"));
    assert_eq!(c1.notes.len(), 1);
    let c2 = t
        .ok(upd(&c1, Some(CallbackStatus::Resolved), None), clerk(2))
        .callback
        .unwrap();
    assert_eq!(c2.status, CallbackStatus::Resolved);
    assert!(c2.resolved_at.is_some());
    assert_eq!(
        c2.owner.as_deref(),
        Some("clerk1"),
        "the first owner keeps the case"
    );
    assert_eq!(
        t.run(upd(&c2, Some(CallbackStatus::Pending), None), clerk(1))
            .unwrap_err()
            .code,
        "bad_status"
    );
}

#[test]
fn refused_commands_change_nothing() {
    let mut t = T::new();
    t.issue("pay");
    let before = t.hall.clone();
    let _ = t.run(Command::Recall { counter: 1 }, clerk(1));
    let _ = t.run(
        Command::IssueTicket {
            service: "zzz".into(),
            priority: false,
        },
        kiosk(),
    );
    let _ = t.run(Command::EndOutage, Actor::system());
    assert_eq!(t.hall, before);
}

#[test]
fn config_edits_cannot_strand_customers() {
    let mut t = T::new();
    t.issue("complaint");
    let boss = Actor::new("boss", Role::Manager, None);
    let mut c = t.hall.config.clone();
    c.services.retain(|s| s.id != "complaint");
    for k in &mut c.counters {
        k.services.retain(|s| s != "complaint");
    }
    assert_eq!(
        t.run(
            Command::ReplaceConfig {
                config: Box::new(c)
            },
            boss.clone()
        )
        .unwrap_err()
        .code,
        "service_in_use"
    );
    let mut c = t.hall.config.clone();
    c.hotlines.complaint = "0713-7000000".into();
    let ex = t.ok(
        Command::ReplaceConfig {
            config: Box::new(c),
        },
        boss,
    );
    assert_eq!(
        t.hall.public_events(&ex.events),
        vec![PublicEvent::NoticesChanged]
    );
    assert_eq!(t.hall.notices(t.now.at).complaint_hotline, "0713-7000000");
}

#[test]
fn simultaneous_calls_are_all_on_the_board() {
    let mut t = T::new();
    for s in ["pay", "pay", "repair", "complaint"] {
        t.issue(s);
    }
    for c in 1..=4 {
        t.next(c);
    }
    let live = t.hall.board_live(t.now);
    assert_eq!(
        live.calls.len(),
        4,
        "calls in the same second do not replace one another"
    );
    let ids: std::collections::BTreeSet<u64> = live.calls.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(live.calls[0].counter, 4, "newest first");
}

#[test]
fn sequence_numbers_are_gap_free() {
    let mut t = T::new();
    let start = t.hall.last_seq;
    t.issue("pay");
    t.next(1);
    t.next(1); // finishes, nobody else waiting
    let seqs: Vec<u64> = (start + 1..=t.hall.last_seq).collect();
    assert_eq!(seqs.len(), 3);
}

#[test]
fn people_ahead_at_issue_follow_priority_and_transfers() {
    let mut t = T::new();
    let issued = |t: &mut T, priority: bool| match t
        .ok(
            Command::IssueTicket {
                service: "pay".into(),
                priority,
            },
            kiosk(),
        )
        .reply
    {
        Reply::Issued(i) => (i.number, i.ahead),
        r => panic!("unexpected {r:?}"),
    };
    assert_eq!(issued(&mut t, false).1, 0);
    assert_eq!(issued(&mut t, false).1, 1);
    let (elder, ahead) = issued(&mut t, true);
    assert_eq!(ahead, 0, "a priority ticket goes before the regular ones");
    assert_eq!(issued(&mut t, false).1, 3);
    assert_eq!(
        t.hall.ticket_status("B001", t.now.at).unwrap().ahead,
        1,
        "{elder} is ahead"
    );
    assert!(t.hall.waiting_index_is_consistent());
    // Calling takes a ticket out of the line; the ones behind move up.
    t.next(1);
    assert_eq!(t.hall.ticket_status("B001", t.now.at).unwrap().ahead, 0);
    assert!(t.hall.waiting_index_is_consistent());
}

#[test]
fn places_before_counts_from_either_end_alike() {
    let place = |anywhere: bool, priority: bool, at: i64, n: u32| Place {
        anywhere,
        line: (!priority, at, n),
        number: format!("B{n:03}"),
    };
    let mut line = BTreeSet::new();
    for n in 0..57u32 {
        line.insert(place(n % 7 != 0, n % 5 == 0, i64::from(n * 13 % 31), n));
    }
    for (i, p) in line.iter().enumerate() {
        assert_eq!(places_before(&line, p), i, "{p:?}");
    }
    // A place not in the line: where it would go.
    let outside = place(true, false, 1_000, 999);
    assert_eq!(
        places_before(&line, &outside),
        line.range(..&outside).count()
    );
    assert_eq!(places_before(&BTreeSet::new(), &outside), 0);
}

#[test]
fn a_long_service_threshold_beyond_any_service_does_not_overflow() {
    // Found by the fuzzer: the apology rule multiplied the threshold's minutes by 60 in u32, which
    // overflowed (a panic in a debug build, a wrong apology in release) for a stored configuration
    // with a huge threshold. Validation now bounds it; the rule must hold without it.
    let mut t = T::new();
    t.hall.config.thresholds.long_service_min = u32::MAX;
    t.hall.config.thresholds.long_wait_min = u32::MAX;
    t.hall.config.policy.estimate_window = u32::MAX;
    t.issue("pay");
    t.issue("pay");
    t.next(1).unwrap();
    t.ok(Command::Start { counter: 1 }, clerk(1));
    t.now = t.now.plus_ms(30 * MIN);
    t.ok(Command::Finish { counter: 1 }, clerk(1));
    let second = t.next(1).unwrap();
    assert!(
        !second.apology,
        "a 30-minute service is not long against a huge threshold"
    );
}

/// Other services' customers yet to come are foreseen at their last hour's rate read over the
/// whole hour, so the first minutes of a busy morning are not taken for a rush that lasts. Read
/// over a quarter hour, the demo hall's morning told set-top-box customers 45 minutes with 3
/// ahead and raised the long-wait apology (the board's demo test checks that it no longer does).
#[test]
fn a_morning_burst_is_read_as_the_hours_rate() {
    let mut t = T::new();
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
    for (i, s) in services.iter().cycle().take(24).enumerate() {
        t.issue(s);
        if i % 3 == 2 {
            t.advance(1);
        }
    }
    // 9 payments in 8 minutes: 9 an hour, not 67.
    assert!((t.per_hour("pay") - 9.0).abs() < 1e-9);
    assert!((t.per_hour("stb") - 3.0).abs() < 1e-9);
    // An hour after the last ticket nobody is foreseen any more.
    t.advance(60);
    t.ok(Command::Tick, Actor::system());
    assert_eq!(t.per_hour("pay"), 0.0);
}

/// Before the day has an hour of its own, the part of the hour before its first ticket is filled
/// with what the same weekday issued in this hour of the day.
#[test]
fn the_first_hour_borrows_its_arrivals_from_the_same_weekday() {
    let mut t = T::new();
    // 09:00–10:00: 12 payments and 6 set-top boxes.
    for i in 0..12 {
        t.issue("pay");
        if i % 2 == 0 {
            t.issue("stb");
        }
        t.advance(5);
    }
    // A week later, the day's first ticket at 09:00: the history's hour, and that ticket.
    let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    t.now = Now::at_local(day() + chrono::Duration::days(7), nine);
    t.issue("pay");
    assert!(
        (t.per_hour("pay") - 13.0).abs() < 1e-9,
        "{}",
        t.per_hour("pay")
    );
    assert!((t.per_hour("stb") - 6.0).abs() < 1e-9);
    // Half an hour on, half the hour is the day's own.
    t.advance(30);
    t.issue("pay");
    assert!(
        (t.per_hour("pay") - 8.0).abs() < 1e-9,
        "{}",
        t.per_hour("pay")
    );
    assert!((t.per_hour("stb") - 3.0).abs() < 1e-9);
    // The next day is another weekday, without history: only its own ticket counts.
    t.now = Now::at_local(t.now.day.succ_opt().unwrap(), nine);
    t.issue("pay");
    assert!(
        (t.per_hour("pay") - 1.0).abs() < 1e-9,
        "{}",
        t.per_hour("pay")
    );
}

#[test]
fn a_counters_usual_lunch_is_foreseen_and_so_is_its_return() {
    let set = |t: &mut T, c: CounterId, state: CounterState| {
        t.ok(Command::SetCounter { counter: c, state }, clerk(c));
    };
    // Last Wednesday counter 1 lunched 12:00–13:00; the others worked on.
    let mut t = T::new();
    t.now = at(12, 0);
    set(&mut t, 1, CounterState::Paused);
    t.now = at(13, 0);
    set(&mut t, 1, CounterState::Open);
    // Today, 11:40: the counters open and idle, 40 payments waiting, 5 minutes each (the seed
    // without history). Counters 1, 2 and 4 serve payments: three are called every 5 minutes
    // until 12:00, when counter 1 frees up and goes to lunch; then two every 5 minutes. The 40th
    // is called at 11:40 + 85 min, not + 65 min.
    let week = chrono::Duration::days(7);
    let today =
        |h: u32, m: u32| Now::at_local(day() + week, NaiveTime::from_hms_opt(h, m, 0).unwrap());
    t.now = today(9, 0);
    for c in 1..=4 {
        set(&mut t, c, CounterState::Open);
    }
    t.now = today(11, 40);
    for _ in 0..40 {
        t.issue("pay");
    }
    assert_eq!(t.hall.wait_for("pay", 39), 85 * 60);
    // A hall that does not know the habit says 65 minutes.
    let mut unaware = t.hall.clone();
    unaware.history = Default::default();
    unaware.reseed();
    assert_eq!(unaware.wait_for("pay", 39), 65 * 60);
    // Counter 1 goes to lunch at 12:02 and is expected back an hour later, at 13:02. At 12:05,
    // counters 2 and 4 call two every 5 minutes (24 by 13:00), counter 1 one more at 13:02 and
    // every 5 minutes after: the 30th at 13:10 (65 min), where without counter 1's return it would
    // be 13:15; the 40th at 13:27.
    t.now = today(12, 2);
    set(&mut t, 1, CounterState::Paused);
    t.now = today(12, 5);
    t.issue("pay");
    assert_eq!(t.hall.wait_for("pay", 29), 65 * 60);
    assert_eq!(t.hall.wait_for("pay", 39), 82 * 60);
}
