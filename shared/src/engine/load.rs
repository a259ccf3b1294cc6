//! The hall's load as the staffing advice needs it: arrivals and service times per service, read
//! off the day's state, and a new customer's wait from the same replay as the printed estimate.

use super::Hall;
use super::wait::{Customer, LineReplay};
use crate::estimate::replay::Desk;
use crate::hall::{CounterId, Millis, Now, Text};
use crate::staffing::{Advice, Foresight, Pool, ServiceLoad, Standing, advise};

/// The hall's replay for one service, asked with counters added or taken away and for customers
/// who come later.
struct HallForesight {
    replay: LineReplay,
    /// The closed counters that call the service, those that call it first first: the ones to
    /// open, in order, before any counter for it alone is assumed.
    to_open: Vec<Desk>,
    /// The first of them with its name.
    first_to_open: Option<(CounterId, Text)>,
    /// People waiting for the service now.
    waiting: u32,
    /// Its arrivals per second, as the advice reads them.
    per_s: f64,
}

impl HallForesight {
    fn new(hall: &Hall, replay: LineReplay, waiting: u32, per_s: f64) -> HallForesight {
        let target = replay.target;
        let place = |d: &Desk| d.services.iter().position(|&s| s == target);
        // `configured` is in configuration order.
        let mut closed: Vec<(&crate::hall::Counter, &Desk)> = hall
            .config
            .counters
            .iter()
            .zip(&replay.configured)
            .filter(|(c, d)| !replay.open_ids.contains(&c.id) && place(d).is_some())
            .collect();
        // Stable: among counters that call it equally early, configuration order.
        closed.sort_by_key(|(_, d)| place(d));
        let first_to_open = closed.first().map(|(c, _)| (c.id, c.name.clone()));
        let to_open = closed.into_iter().map(|(_, d)| d.clone()).collect();
        HallForesight {
            replay,
            to_open,
            first_to_open,
            waiting,
            per_s,
        }
    }

    /// The counters open now with `extra` more, or fewer. More: the closed counters that call
    /// the service, those that call it first first, then counters for it alone, all free now.
    /// Fewer: of those that serve it, a free one first and the one that calls it last first;
    /// never the last one.
    fn desks(&self, extra: i32) -> Vec<Desk> {
        let target = self.replay.target;
        let mut desks = self.replay.open.clone();
        let more = usize::try_from(extra).unwrap_or(0);
        desks.extend(self.to_open.iter().take(more).cloned());
        for _ in self.to_open.len()..more {
            desks.push(Desk {
                services: vec![target],
                busy_with: None,
                off: Vec::new(),
                resumes_s: self.replay.resumes_s,
            });
        }
        for _ in 0..extra.saturating_neg().max(0) {
            // Counters away on a usual break are no counters to close.
            let closable = |d: &Desk| {
                d.services.contains(&target) && d.off.first().is_none_or(|(from, _)| *from > 0.0)
            };
            if desks.iter().filter(|d| closable(d)).count() < 2 {
                break;
            }
            let rank = |d: &Desk| {
                let place = d.services.iter().position(|&s| s == target).unwrap_or(0);
                (d.busy_with.is_none(), place)
            };
            let Some(i) = (0..desks.len())
                .filter(|&i| closable(&desks[i]))
                .max_by_key(|&i| rank(&desks[i]))
            else {
                break;
            };
            desks.remove(i);
        }
        desks
    }
}

impl Foresight for HallForesight {
    fn one_more(&self) -> Option<(CounterId, Text)> {
        self.first_to_open.clone()
    }

    fn wait_s(&self, extra: i32, later_s: f64) -> f64 {
        let later_s = later_s.max(0.0);
        let newcomers = (self.per_s * later_s).round().min(f64::from(u32::MAX)) as u32;
        let ahead = self.waiting.saturating_add(newcomers);
        (self.replay.wait_with(&self.desks(extra), ahead) - later_s).max(0.0)
    }
}

impl Hall {
    /// Arrivals in the last 30 and 60 minutes, the line, the counters open for `service` and its
    /// mean service time, at `now`.
    pub fn service_load(&self, service: &str, now: Now) -> ServiceLoad {
        self.load_with(service, self.arrivals(service, now))
    }

    /// Tickets of `service` issued in the last 30 and 60 minutes before `now`.
    fn arrivals(&self, service: &str, now: Now) -> (u32, u32) {
        let since =
            |minutes: Millis| self.issued_between(service, now.at - minutes * 60_000, now.at);
        (since(30), since(60))
    }

    fn load_with(&self, service: &str, (arrivals_30m, arrivals_60m): (u32, u32)) -> ServiceLoad {
        let at_counters = self
            .counters
            .values()
            .filter_map(|rt| rt.current.as_ref())
            .filter_map(|n| self.tickets.get(n))
            .filter(|t| t.service == service && t.state.is_current())
            .count() as u32;
        let open: Vec<&crate::hall::Counter> = self
            .config
            .counters
            .iter()
            .filter(|c| c.serves(service) && self.is_open(c.id))
            .collect();
        let counters_open = open.len() as u32;
        // A counter also configured for another enabled service is shared, waiting or not.
        let mean = self.mean_service_secs(service);
        let dedicated = open.iter().all(|c| {
            c.services
                .iter()
                .all(|s| s == service || !self.config.service(s).is_some_and(|x| x.enabled))
        });
        ServiceLoad {
            service: service.to_string(),
            arrivals_30m,
            arrivals_60m,
            waiting: self.waiting_count(service),
            at_counters,
            counters_open,
            dedicated,
            capacity: self.capacity_for(service),
            mean_service_s: mean,
            call_s: self.no_shows(service).call_secs(mean),
            pool: None,
        }
    }

    /// The services that share open counters with `service`, directly or through one another,
    /// with their arrival rates and mean call times taken together (see [`Pool`]). `loads` holds
    /// every enabled service's load; `None` when no open counter calls the service.
    fn pool(&self, service: &str, loads: &[ServiceLoad]) -> Option<Pool> {
        let open: Vec<&crate::hall::Counter> = self
            .config
            .counters
            .iter()
            .filter(|c| self.is_open(c.id))
            .collect();
        let mut members = vec![service.to_string()];
        let counters = loop {
            let calling: Vec<&&crate::hall::Counter> = open
                .iter()
                .filter(|c| c.services.iter().any(|s| members.contains(s)))
                .collect();
            let counters = calling.len() as u32;
            let before = members.len();
            for c in calling {
                for s in &c.services {
                    if !members.contains(s) && loads.iter().any(|l| &l.service == s) {
                        members.push(s.clone());
                    }
                }
            }
            if members.len() == before {
                break counters;
            }
        };
        if counters == 0 {
            return None;
        }
        let of_pool = || loads.iter().filter(|l| members.contains(&l.service));
        let arrivals: f64 = of_pool().map(ServiceLoad::arrivals_per_hour).sum();
        let work: f64 = of_pool()
            .map(|l| l.arrivals_per_hour() * l.rates().mean_service_s)
            .sum();
        let own = loads.iter().find(|l| l.service == service)?;
        Some(Pool {
            services: of_pool().map(|l| l.service.clone()).collect(),
            arrivals_per_hour: arrivals,
            call_s: if arrivals > 0.0 {
                work / arrivals
            } else {
                own.rates().mean_service_s
            },
            counters_open: counters,
        })
    }

    /// The staffing advice for every enabled service at `now`, in configuration order.
    pub fn staffing(&self, now: Now) -> Vec<Advice> {
        // Until the first command of a new day rolls the hall over, what it holds is yesterday's:
        // tickets left waiting overnight are no line to open a counter for.
        if now.day != self.day {
            return Vec::new();
        }
        let target = self.config.thresholds.target_wait_min;
        let down = self.outage.is_some();
        // As if the system were up: during an outage the figures say what the counters will face
        // when it is back.
        let hall = self.hall_replay(0, now.at);
        let enabled = || {
            self.config
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| s.enabled)
        };
        let loads: Vec<ServiceLoad> = enabled()
            .map(|(_, s)| self.load_with(&s.id, self.arrivals(&s.id, now)))
            .collect();
        enabled()
            .zip(&loads)
            .map(|((i, s), load)| {
                let load = ServiceLoad {
                    pool: self.pool(&s.id, &loads),
                    ..load.clone()
                };
                let foresight = HallForesight::new(
                    self,
                    hall.clone().for_customer(i, Customer::NEW),
                    load.waiting,
                    load.arrivals_per_hour() / 3600.0,
                );
                let mut a = advise(&s.name, &load, &foresight, target);
                if down {
                    a.standing = Standing::Outage;
                    a.message = None;
                }
                a
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;
    use crate::config::HallConfig;
    use crate::engine::{Actor, Command};
    use crate::hall::CounterState;
    use crate::protocol::Role;

    fn at(h: u32, m: u32) -> Now {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        Now::at_local(d, NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    fn run(hall: &mut Hall, cmd: Command, who: &Actor, now: Now) {
        hall.execute(&cmd, who, now).unwrap();
    }

    #[test]
    fn the_load_is_read_off_the_hall() {
        let mut hall = Hall::new(HallConfig::demo(), at(9, 0).day);
        let kiosk = Actor::new("kiosk-1", Role::Kiosk, None);
        let clerk = Actor::new("clerk2", Role::Staff, Some(2));
        let issue = || Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        };
        run(
            &mut hall,
            Command::SetCounter {
                counter: 2,
                state: CounterState::Open,
            },
            &clerk,
            at(9, 0),
        );
        // Two tickets at 9:00, three at 9:40; one of the first served from 9:40 to 9:50.
        for _ in 0..2 {
            run(&mut hall, issue(), &kiosk, at(9, 0));
        }
        for _ in 0..3 {
            run(&mut hall, issue(), &kiosk, at(9, 40));
        }
        run(
            &mut hall,
            Command::CallNext { counter: 2 },
            &clerk,
            at(9, 40),
        );
        run(&mut hall, Command::Start { counter: 2 }, &clerk, at(9, 40));
        run(&mut hall, Command::Finish { counter: 2 }, &clerk, at(9, 50));
        run(
            &mut hall,
            Command::CallNext { counter: 2 },
            &clerk,
            at(9, 50),
        );
        let l = hall.service_load("pay", at(9, 55));
        assert_eq!((l.arrivals_30m, l.arrivals_60m), (3, 5));
        assert_eq!((l.waiting, l.at_counters, l.counters_open), (3, 1, 1));
        assert_eq!(l.capacity, 1.0);
        assert_eq!(l.mean_service_s, hall.mean_service_secs("pay"));
        assert!(l.mean_service_s > 300.0, "{}", l.mean_service_s);
        // (3 + 1) people × over 5 min at one counter: past the target.
        let a = hall.staffing(at(9, 55));
        let pay = a.iter().find(|a| a.service == "pay").unwrap();
        assert_eq!(pay.standing, Standing::Over);
        assert!((pay.wait_now_s - 4.0 * l.mean_service_s).abs() < 0.01);
        // Of the closed counters that call payments, counter 1 calls them second, counter 4
        // last: counter 1 is the one to open.
        assert_eq!(pay.counter_to_open, Some(1));
        let m = pay.message.as_ref().unwrap();
        assert!(m.zh.contains("; 再开1号窗口约 "), "{}", m.zh);
        // Services nobody waits for or took a ticket for say nothing, though counter 2 calls
        // set-top boxes and accounts only after the three payments.
        assert!(
            a.iter()
                .filter(|a| a.service != "pay")
                .all(|a| a.message.is_none())
        );
        // The next morning, before anything rolls the hall over, yesterday's line is not advice.
        let tomorrow = Now::at_local(
            at(9, 0).day.succ_opt().unwrap(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        );
        assert!(hall.staffing(tomorrow).is_empty());
        // While the business system is down another counter would not help: nothing is said.
        let boss = Actor::new("boss", Role::Manager, None);
        let down = Command::StartOutage {
            expected_minutes: 20,
            message: None,
        };
        run(&mut hall, down, &boss, at(9, 56));
        let a = hall.staffing(at(9, 56));
        let pay = a.iter().find(|a| a.service == "pay").unwrap();
        assert_eq!((pay.standing, &pay.message), (Standing::Outage, &None));
        run(&mut hall, Command::EndOutage, &boss, at(10, 10));
        let a = hall.staffing(at(10, 10));
        let pay = a.iter().find(|a| a.service == "pay").unwrap();
        assert_eq!(pay.standing, Standing::Over, "the line is still there");
    }
}
