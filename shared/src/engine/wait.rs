//! Who is ahead and how long they wait: counter capacity per service, the estimator's running
//! services, wait estimates, and the tickets a counter may call next.

use super::*;
use crate::estimate::breaks;

/// The window the arrival rates are read over.
const HOUR: Millis = 60 * 60_000;

/// Issues of `service` counted in `issued` after `from`, up to and including `to`.
fn count_between(
    issued: &HashMap<ServiceId, BTreeMap<Millis, u32>>,
    service: &str,
    from: Millis,
    to: Millis,
) -> u32 {
    if from >= to {
        return 0;
    }
    issued
        .get(service)
        .map_or(0, |t| t.range(from + 1..=to).map(|(_, n)| n).sum())
}

/// The customer a wait is for, beyond their service and place in line.
#[derive(Clone, Copy, Debug)]
pub(super) struct Customer {
    /// Holds a priority ticket: the own service's priority tickets yet to come queue behind.
    pub priority: bool,
    /// Not yet among the hall's tickets (being issued, or one who would take a ticket now), but
    /// one of the last hour's arrivals all the same: so the board, the printed ticket and the
    /// ticket's status at the same instant agree.
    pub issuing: bool,
}

impl Customer {
    /// Someone who would take a ticket without priority now: the board's and the kiosk's figure.
    pub const NEW: Customer = Customer {
        priority: false,
        issuing: true,
    };
}

/// Everything the replay ([`replay::wait_secs`]) needs to play the hall forward for one customer
/// of `target`, read off the hall at one instant; the staffing advice plays it again with
/// counters added or taken away.
#[derive(Clone)]
pub(super) struct LineReplay {
    /// The counters open now, and those expected back from a usual break or at their usual
    /// opening.
    pub open: Vec<replay::Desk>,
    /// The ids of `open`, in the same order: the configured counters not among them are those
    /// the staffing advice may ask to open.
    pub open_ids: Vec<CounterId>,
    /// Every configured counter, free, in configuration order: assumed when none of `open`
    /// serves the service (before a counter for it opens).
    pub configured: Vec<replay::Desk>,
    pub lines: Vec<replay::Line>,
    pub means: Vec<f64>,
    pub rates: Vec<f64>,
    pub priority_rates: Vec<f64>,
    /// The customer's service, an index into the others (0 before [`LineReplay::for_customer`]).
    pub target: usize,
    /// Seconds before the counters call again: the rest of an outage.
    pub resumes_s: f64,
}

impl LineReplay {
    /// The replay for `customer` of the service `target` (an index into the services).
    pub fn for_customer(mut self, target: usize, customer: Customer) -> LineReplay {
        self.target = target;
        if customer.issuing {
            let one = 1000.0 / HOUR as f64;
            self.rates[target] += one;
            if customer.priority {
                self.priority_rates[target] += one;
            }
        }
        if customer.priority {
            // The own service's priority tickets yet to come queue behind this one.
            self.priority_rates[target] = 0.0;
        }
        self
    }

    /// Seconds until the customer with `ahead` people before them in line is called, with the
    /// counters open now.
    pub fn wait_secs(&self, ahead: u32) -> f64 {
        self.wait_with(&self.open, ahead)
    }

    /// The same with `desks` for the counters open; the configured ones when none of them
    /// serves the service.
    pub fn wait_with(&self, desks: &[replay::Desk], ahead: u32) -> f64 {
        let replay = |desks: &[replay::Desk]| {
            replay::wait_secs(
                desks,
                &self.lines,
                &self.means,
                &self.rates,
                &self.priority_rates,
                self.target,
                ahead,
            )
        };
        replay(desks)
            .or_else(|| replay(&self.configured))
            .unwrap_or_else(|| f64::from(ahead) * self.means[self.target])
    }
}

/// Local minutes of the day of the instant `at`, with their fraction: the clock of the usual
/// breaks' windows.
fn local_minutes(at: Millis, tz: &chrono_tz::Tz) -> f64 {
    f64::from(Now::in_zone(at, tz).time.num_seconds_from_midnight()) / 60.0
}

impl Hall {
    /// Counter `id` is open now (not paused, not closed).
    pub(super) fn is_open(&self, id: CounterId) -> bool {
        self.counters
            .get(&id)
            .is_some_and(|r| r.state == CounterState::Open)
    }

    /// Counters that share `service`: each open counter counts for its share among the services it
    /// has people waiting for. Before any counter opens, the configured ones are assumed.
    pub(super) fn capacity_for(&self, service: &str) -> f64 {
        let waiting: BTreeSet<&str> = self.waiting.keys().map(String::as_str).collect();
        let share = |c: &crate::hall::Counter| {
            let busy = c
                .services
                .iter()
                .filter(|s| waiting.contains(s.as_str()) || s.as_str() == service)
                .count();
            1.0 / busy.max(1) as f64
        };
        let serving = self.config.counters.iter().filter(|c| c.serves(service));
        let open: f64 = serving
            .clone()
            .filter(|c| self.is_open(c.id))
            .map(share)
            .sum();
        if open > 0.0 {
            open
        } else {
            serving.map(share).sum()
        }
    }

    /// Start the day's estimates from the history of this weekday: each service's seed, nothing
    /// of the day yet.
    pub fn reseed(&mut self) {
        self.arrivals_seed = self.history.arrivals_by_hour(self.day.weekday());
        self.calls_seed = self.history.calls();
        self.breaks_seed = self.history.usual_breaks(self.day.weekday());
        let mut seeds = self.history.seeds(self.day.weekday());
        for s in &self.config.services {
            seeds.entry(s.id.clone()).or_default();
        }
        for times in self.service_times.values_mut() {
            times.clear_day();
        }
        for (service, mut seed) in seeds {
            seed.usual = self.usual_secs(&service);
            self.service_times
                .entry(service)
                .or_default()
                .set_seed(seed);
        }
    }

    /// What the configuration says one service of `service` usually takes, in seconds.
    pub(super) fn usual_secs(&self, service: &str) -> Option<f64> {
        let minutes = self.config.service(service)?.usual_minutes?;
        Some(f64::from(minutes) * 60.0)
    }

    /// Local hour of the clock, for the history's seed (none before the first event).
    pub(super) fn hour_now(&self) -> u32 {
        self.hour_at(self.clock)
    }

    /// Local hour at the instant `at` (none before the first event).
    fn hour_at(&self, at: Millis) -> u32 {
        if at == 0 {
            return u32::MAX;
        }
        Now::in_zone(at, &self.config.time_zone()).time.hour()
    }

    /// Counter `id`'s state now, as its usual breaks' windows need it: open, or not open since its
    /// last change today, or not open at all today.
    fn break_now(&self, id: CounterId, open: bool, tz: &chrono_tz::Tz) -> breaks::Now {
        let last = self.counter_changes.iter().rev().find(|c| c.0 == id);
        match last {
            _ if open => breaks::Now::Open(last.filter(|c| c.2).map(|c| local_minutes(c.1, tz))),
            Some(&(_, at, false)) => breaks::Now::NotOpenSince(local_minutes(at, tz)),
            _ => breaks::Now::NotOpenYet,
        }
    }

    /// Services of `service` at a counter now, with their time so far.
    pub(super) fn running(&self, service: &str) -> Vec<Running> {
        self.counters
            .values()
            .filter_map(|rt| self.tickets.get(rt.current.as_ref()?))
            .filter(|t| t.service == service)
            .filter_map(|t| {
                let began = t.started_at.or(t.called_at)?;
                Some(Running {
                    began,
                    secs: (self.clock - began) as f64 / 1000.0,
                })
            })
            .collect()
    }

    /// Of `service`'s customers called, the share who do not come and how long a counter waits
    /// for one: today's calls, with the history's share as the prior.
    pub fn no_shows(&self, service: &str) -> NoShows {
        let none = Calls::default();
        NoShows::of(
            self.calls.get(service).unwrap_or(&none),
            self.calls_seed.get(service).unwrap_or(&none),
        )
    }

    /// Since when staff say the business system is slow, if they do now.
    pub fn slow_since(&self) -> Option<Millis> {
        Disruption::slow_since(&self.disruptions)
    }

    /// While staff say the business system is slow: how the services since compare with before.
    pub fn slow_pace(&self) -> Option<SlowPace> {
        let since = self.slow_since()?;
        let none = ServiceTimes::default();
        let services: Vec<(&ServiceTimes, Vec<Running>)> = self
            .config
            .services
            .iter()
            .map(|s| {
                let times = self.service_times.get(&s.id).unwrap_or(&none);
                (times, self.running(&s.id))
            })
            .collect();
        Some(SlowPace::of(
            services.iter().map(|(t, r)| (*t, r.as_slice())),
            since,
            self.hour_now(),
            &self.disruptions,
        ))
    }

    /// The estimator's mean service time of `service` now, in seconds: the day's services (those
    /// in progress with their time so far), seeded from the same weekday and hour of the history.
    pub fn mean_service_secs(&self, service: &str) -> f64 {
        let running = self.running(service);
        let hour = self.hour_now();
        match self.service_times.get(service) {
            Some(t) => t.mean_secs(hour, &running, &self.disruptions),
            None => ServiceTimes::default().mean_secs(hour, &running, &self.disruptions),
        }
    }

    /// How a wait of `secs` for `service` with `ahead` people ahead is told to the customer.
    pub fn wait_range_for(&self, service: &str, secs: u32, ahead: u32) -> WaitRange {
        self.wait_range_at(service, secs, ahead, self.clock)
    }

    /// [`Hall::wait_range_for`] at the instant `at`, now or later: during an outage the time
    /// left to its expected end shrinks between events too.
    pub(super) fn wait_range_at(
        &self,
        service: &str,
        secs: u32,
        ahead: u32,
        at: Millis,
    ) -> WaitRange {
        let samples = self
            .service_times
            .get(service)
            .map_or(0, |t| t.samples(self.hour_now()));
        let range = wait_range(secs, ahead, samples);
        match self.outage_rest_s(at.max(self.clock)) {
            // The outage's end is the manager's guess, not a promise: "more than" the time it
            // leaves, and never "no wait" while no counter can do business.
            Some(rest) if secs > 0 => WaitRange {
                lo_s: range.lo_s.max(rest / 60 * 60).max(60),
                hi_s: None,
            },
            _ => range,
        }
    }

    /// Seconds until the business system is expected back, while it is down: at least a minute,
    /// since an outage that has overrun its expected end may end at any moment but not this one.
    fn outage_rest_s(&self, at: Millis) -> Option<u32> {
        self.outage.as_ref().map(|o| {
            ((o.expected_end - at).max(0) / 1000)
                .clamp(60, i64::from(u32::MAX))
                .try_into()
                .unwrap_or(u32::MAX)
        })
    }

    /// Expected wait for someone with `ahead` people before them in `service` (a new customer
    /// when `ahead` is everyone waiting): the line played forward with the open counters' call
    /// order ([`replay`]). Before any counter serving it opens, the configured ones are assumed.
    /// During an outage no counter does business until the system is back: the counters start
    /// from its expected end ([`Hall::outage_rest_s`]).
    pub fn wait_for(&self, service: &str, ahead: u32) -> u32 {
        self.wait_at(service, ahead, self.clock)
    }

    /// [`Hall::wait_for`] at the instant `at`, now or later: a ticket's printed wait is decided
    /// before its own event moves the clock. The customer is a new one ([`Customer::NEW`]): the
    /// board and the kiosk's buttons tell what the ticket then prints.
    pub(super) fn wait_at(&self, service: &str, ahead: u32, at: Millis) -> u32 {
        self.ticket_wait_at(service, ahead, Customer::NEW, at)
    }

    /// [`Hall::wait_at`] for `customer`: priority tickets yet to come go before one without
    /// priority, and one being issued counts among the last hour's arrivals.
    pub(super) fn ticket_wait_at(
        &self,
        service: &str,
        ahead: u32,
        customer: Customer,
        at: Millis,
    ) -> u32 {
        let at = at.max(self.clock);
        let resumes_s = self.outage_rest_s(at).unwrap_or(0);
        self.line_wait_at(service, ahead, customer, resumes_s, at)
    }

    /// A new customer's wait in the line alone now, with the counters starting `resumes_s`
    /// seconds from now (0: as if the system were up).
    pub(super) fn line_wait_for(&self, service: &str, ahead: u32, resumes_s: u32) -> u32 {
        self.line_wait_at(service, ahead, Customer::NEW, resumes_s, self.clock)
    }

    /// The wait at the instant `at`, with the counters starting `resumes_s` seconds after it.
    fn line_wait_at(
        &self,
        service: &str,
        ahead: u32,
        customer: Customer,
        resumes_s: u32,
        at: Millis,
    ) -> u32 {
        let Some(replay) = self.line_replay(service, customer, resumes_s, at) else {
            return 0;
        };
        replay.wait_secs(ahead).round().min(f64::from(u32::MAX)) as u32
    }

    /// The hall at the instant `at` as the replay plays it forward for a customer of `service`
    /// ([`LineReplay`]); `None` for a service the hall does not have.
    pub(super) fn line_replay(
        &self,
        service: &str,
        customer: Customer,
        resumes_s: u32,
        at: Millis,
    ) -> Option<LineReplay> {
        let target = self.config.services.iter().position(|s| s.id == service)?;
        Some(
            self.hall_replay(resumes_s, at)
                .for_customer(target, customer),
        )
    }

    /// The hall at the instant `at` as the replay plays it forward, for no customer yet: what
    /// every service's [`LineReplay`] shares ([`LineReplay::for_customer`] makes it one).
    pub(super) fn hall_replay(&self, resumes_s: u32, at: Millis) -> LineReplay {
        let services = &self.config.services;
        let index = |id: &str| services.iter().position(|s| s.id == id);
        let resumes_s = f64::from(resumes_s);
        let desk = |c: &crate::hall::Counter, rt: Option<&CounterRuntime>| replay::Desk {
            services: c.services.iter().filter_map(|s| index(s)).collect(),
            busy_with: rt
                .and_then(|r| r.current.as_ref())
                .and_then(|n| self.tickets.get(n))
                .and_then(|t| index(&t.service)),
            off: Vec::new(),
            resumes_s,
        };
        // The counters open now, with their usual breaks to come, and those on a usual break or
        // not yet at their usual opening, from when they are expected back.
        // Only a hall with usual breaks reads its clock in local minutes (none before the first
        // event).
        let zone = (!self.breaks_seed.is_empty() && at != 0).then(|| {
            let tz = self.config.time_zone();
            (local_minutes(at, &tz), tz)
        });
        let foreseen: Vec<(CounterId, replay::Desk)> = self
            .config
            .counters
            .iter()
            .filter_map(|c| {
                let rt = self.counters.get(&c.id)?;
                let is_open = rt.state == CounterState::Open;
                let usual = zone.as_ref().and_then(|(m, tz)| {
                    let b = self.breaks_seed.get(&c.id)?;
                    Some(breaks::windows(b, *m, self.break_now(c.id, is_open, tz)))
                });
                match usual {
                    None => is_open.then(|| desk(c, Some(rt))),
                    Some(None) => None,
                    Some(Some(off)) if is_open => Some(replay::Desk {
                        off,
                        ..desk(c, Some(rt))
                    }),
                    Some(Some(off)) => Some(replay::Desk {
                        off,
                        ..desk(c, None)
                    }),
                }
                .map(|d| (c.id, d))
            })
            .collect();
        let (open_ids, open): (Vec<CounterId>, Vec<replay::Desk>) = foreseen.into_iter().unzip();
        let configured: Vec<replay::Desk> =
            self.config.counters.iter().map(|c| desk(c, None)).collect();
        let lines: Vec<replay::Line> = services
            .iter()
            .map(|s| {
                let w = self.waiting.get(&s.id);
                let priority = w.map_or(0, |w| w.iter().filter(|p| p.priority()).count() as u32);
                replay::Line {
                    priority,
                    normal: w.map_or(0, |w| w.len() as u32) - priority,
                    no_shows: self.no_shows(&s.id),
                }
            })
            .collect();
        // The mean as of the last event, as the board shows it: read at the instant of a ticket,
        // the services in progress count a little longer, which told the steady days' customers
        // 1–5 s more on average (day_sim; the estimate already errs that way).
        let means: Vec<f64> = services
            .iter()
            .map(|s| self.mean_service_secs(&s.id))
            .collect();
        LineReplay {
            open,
            open_ids,
            configured,
            lines,
            means,
            rates: self.arrival_rates_at(at),
            priority_rates: self.priority_rates_at(at),
            target: 0,
            resumes_s,
        }
    }

    /// Each configured service's arrivals per second: its tickets of the last hour over the whole
    /// hour. A morning's first burst is thereby spread over the hour rather than read as a rush
    /// that lasts: the demo hall's 24 tickets in 10 minutes, read over a quarter hour, told
    /// set-top-box customers 45 minutes with 3 people ahead, because every counter calls payments
    /// first. The part of the hour before the day's first ticket is filled with what the same
    /// weekday's history issued in this hour of the day, so that the first hour is not read as
    /// quiet; a hall without history leans towards not foreseeing newcomers there.
    pub fn arrival_rates(&self) -> Vec<f64> {
        self.arrival_rates_at(self.clock)
    }

    fn arrival_rates_at(&self, at: Millis) -> Vec<f64> {
        let first = self
            .issued
            .values()
            .filter_map(|t| t.keys().next())
            .min()
            .copied();
        let seen = first.map_or(0, |f| (at - f).clamp(0, HOUR));
        let unseen_share = (HOUR - seen) as f64 / HOUR as f64;
        let hour = self.hour_at(at);
        self.config
            .services
            .iter()
            .map(|s| {
                let today = self.issued_between(&s.id, at - HOUR, at);
                let before = self
                    .arrivals_seed
                    .get(&s.id)
                    .and_then(|h| h.get(&hour))
                    .copied()
                    .unwrap_or(0.0);
                (f64::from(today) + before * unseen_share) / (HOUR as f64 / 1000.0)
            })
            .collect()
    }

    /// Each configured service's priority tickets per second: those of the last hour over the
    /// hour. The history keeps no count of them, so the day's first hour foresees fewer.
    fn priority_rates_at(&self, at: Millis) -> Vec<f64> {
        self.config
            .services
            .iter()
            .map(|s| {
                let n = count_between(&self.issued_priority, &s.id, at - HOUR, at);
                f64::from(n) / (HOUR as f64 / 1000.0)
            })
            .collect()
    }

    /// Tickets of `service` issued after `from`, up to and including `to`.
    pub(super) fn issued_between(&self, service: &str, from: Millis, to: Millis) -> u32 {
        count_between(&self.issued, service, from, to)
    }

    /// People waiting for `service` now.
    pub fn waiting_count(&self, service: &str) -> u32 {
        self.waiting.get(service).map_or(0, |w| w.len() as u32)
    }

    /// Waiting tickets of `service` that will be called before `t` (same order as call-next within
    /// one service).
    pub(super) fn ahead_of(&self, t: &Ticket) -> u32 {
        self.waiting
            .get(&t.service)
            .map_or(0, |w| places_before(w, &Place::of(t)) as u32)
    }

    /// People a new ticket of `service` would have ahead of it: everyone waiting, or for a priority
    /// ticket the priority ones (who come first in the line, after tickets sent to one counter).
    pub(super) fn ahead_of_new(&self, service: &str, priority: bool) -> u32 {
        match self.waiting.get(service) {
            None => 0,
            Some(w) if priority => w
                .iter()
                .take_while(|p| !p.anywhere || p.priority())
                .filter(|p| p.priority())
                .count() as u32,
            Some(w) => w.len() as u32,
        }
    }

    /// Every waiting ticket of the day.
    pub(super) fn all_waiting(&self) -> impl Iterator<Item = &Ticket> + '_ {
        self.waiting
            .values()
            .flatten()
            .filter_map(|p| self.tickets.get(&p.number))
    }

    /// The few waiting tickets among which `counter`'s next call is decided: those sent to it, and
    /// the head of the line of each service it serves (within one service the line order is the
    /// call order).
    pub(super) fn call_candidates(&self, counter: &crate::hall::Counter) -> Vec<&Ticket> {
        let mut out = Vec::new();
        for (service, line) in &self.waiting {
            let mut head = None;
            for p in line {
                if p.anywhere {
                    head = Some(p);
                    break;
                }
                if let Some(t) = self.tickets.get(&p.number)
                    && t.for_counter == Some(counter.id)
                {
                    out.push(t);
                }
            }
            if counter.serves(service)
                && let Some(t) = head.and_then(|p| self.tickets.get(&p.number))
            {
                out.push(t);
            }
        }
        out
    }
}
