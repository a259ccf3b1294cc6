//! The wait of one customer: the line played forward on expected values, with the hall's own call
//! order.
//!
//! Each open counter frees up after the expected rest of its current service and then calls as the
//! hall does: a priority ticket of any of its services first, then its services in preference
//! order. Services take their mean. The counters busy now free up one after another, spaced by
//! their mean over the number busy (for exponential services the time to the first of s busy
//! counters is 1/(s·μ), whatever each has taken so far); so with one service and every counter
//! busy the replay gives the M/M/s answer (k + 1)/(s·μ), and 0 only when a counter is free and
//! nobody is ahead. Counters that serve several services give each the time their call order
//! leaves it, and that order is also given to customers yet to come: other services' customers
//! arrive at their measured rate for [`HORIZON_S`] and are called before the customer whenever a
//! counter prefers their service (the customer's own service's newcomers queue behind); the
//! priority tickets among them, of the customer's own service too, go first wherever they are
//! served, as they will (not before a customer who holds priority). A counter
//! calls no one in its usual breaks ([`Desk::off`]), nor during an outage of the business system
//! ([`Desk::resumes_s`]): then every counter starts from the outage's expected end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::NoShows;

/// A counter as the replay sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desk {
    /// Indices into the services, most preferred first.
    pub services: Vec<usize>,
    /// The service of the customer at the counter now, if any.
    pub busy_with: Option<usize>,
    /// Windows in which it calls no one, seconds from now `[from, to)`, in order: its usual breaks
    /// ([`breaks`](super::breaks)). A counter busy when one begins finishes its customer first,
    /// as a clerk does, and is back after the window's length from when it freed up.
    pub off: Vec<(f64, f64)>,
    /// Seconds from now before which it calls no one and its customer's service does not go on:
    /// the rest of an outage of the business system, to its expected end.
    pub resumes_s: f64,
}

impl Desk {
    /// When the counter calls again if it frees up at `secs` inside a window without calls.
    fn back_at(&self, secs: f64) -> Option<f64> {
        self.off
            .iter()
            .find(|(from, to)| *from <= secs && secs < *to)
            .map(|(from, to)| secs + (to - from))
    }
}

/// One service's line: priority tickets (called first) and the others, and how many of those
/// called, these and the service's customers yet to come, do not come.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Line {
    pub priority: u32,
    pub normal: u32,
    pub no_shows: NoShows,
}

impl Line {
    fn len(self) -> u32 {
        self.priority + self.normal
    }

    fn pop(&mut self) {
        if self.priority > 0 {
            self.priority -= 1;
        } else {
            self.normal = self.normal.saturating_sub(1);
        }
    }
}

/// How far ahead customers yet to come are foreseen. The last hour's rates hold for about that
/// long; foreseen further, they starve the services a counter calls last and read a morning rush
/// as lasting. Before the counters' usual breaks were foreseen, an hour's horizon told the shared
/// day's account customers 2.4 min too much on average, half an hour 0.9 min, and no foresight at
/// all 2.7 min too little; with the breaks, an hour still takes the opening rush day's RMSE from
/// 0.88× to 1.02× the known-μ estimator's (BENCHMARKS.md). Half an hour was chosen while every
/// customer ahead counted as a whole service; with those who do not come counted for what they
/// take, the services called last were told too little, and three quarters of an hour moves every
/// shared-counter day's mean error towards 0 (the rush day's RMSE 0.92× → 0.95×). Bounded, it
/// also ends the replay when a counter's preferred services arrive faster than it serves them.
pub const HORIZON_S: f64 = 45.0 * 60.0;

/// Seconds until the customer of service `target` with `ahead` people before them is called.
/// `lines` hold everyone waiting, the customer included; `means` are each service's mean service
/// time, `rates` its arrivals per second and `priority_rates` the part of them with priority
/// tickets (missing ones count as none). Priority newcomers go before everyone not priority, of
/// the customer's own service too: a caller whose customer holds a priority ticket leaves the own
/// service's priority rate at 0. `None` when no counter in `desks` serves the service.
pub fn wait_secs(
    desks: &[Desk],
    lines: &[Line],
    means: &[f64],
    rates: &[f64],
    priority_rates: &[f64],
    target: usize,
    ahead: u32,
) -> Option<f64> {
    if !desks.iter().any(|d| d.services.contains(&target)) {
        return None;
    }
    let mut lines = lines.to_vec();
    if let Some(l) = lines.get_mut(target)
        && l.len() <= ahead
    {
        l.normal = ahead + 1 - l.priority.min(ahead + 1);
    }
    let mean = |s: usize| means.get(s).copied().unwrap_or(300.0).max(1.0);
    let busy = desks
        .iter()
        .filter(|d| d.busy_with.is_some())
        .count()
        .max(1) as f64;
    // (time free, counter), earliest first; times in milliseconds to order them exactly.
    let mut free: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut rank = 0.0;
    for (i, d) in desks.iter().enumerate() {
        let at = d.resumes_s.max(0.0)
            + match d.busy_with {
                Some(s) => {
                    rank += 1.0;
                    rank / busy * mean(s)
                }
                None => 0.0,
            };
        free.push(Reverse(((at * 1000.0) as u64, i)));
    }
    let mut newcomers = Newcomers::new(rates, priority_rates, target);
    let mut ahead = ahead;
    while let Some(Reverse((at, i))) = free.pop() {
        let d = &desks[i];
        let secs = at as f64 / 1000.0;
        if let Some(back) = d.back_at(secs) {
            free.push(Reverse((((back * 1000.0).ceil() as u64).max(at + 1), i)));
            continue;
        }
        // Who it calls: a priority ticket of any of its services first, one waiting before one
        // yet to come; then its services in order.
        let next = d
            .services
            .iter()
            .copied()
            .find_map(|s| {
                if lines.get(s).is_some_and(|l| l.priority > 0) {
                    Some((s, Call::Line))
                } else {
                    newcomers
                        .waiting(s, Kind::Priority, secs)
                        .then_some((s, Call::Newcomer(Kind::Priority)))
                }
            })
            .or_else(|| {
                d.services.iter().copied().find_map(|s| {
                    if lines.get(s).is_some_and(|l| l.len() > 0) {
                        Some((s, Call::Line))
                    } else {
                        newcomers
                            .waiting(s, Kind::Normal, secs)
                            .then_some((s, Call::Newcomer(Kind::Normal)))
                    }
                })
            });
        let Some((s, call)) = next else {
            // Nothing this counter may call: it waits for the next newcomer it serves, if any.
            if let Some(t) = newcomers.next_arrival(&d.services) {
                // Strictly later, so that a rounding of the arrival time cannot spin in place.
                free.push(Reverse((((t * 1000.0).ceil() as u64).max(at + 1), i)));
            }
            continue;
        };
        match call {
            Call::Line => {
                if s == target {
                    if ahead == 0 {
                        return Some(secs);
                    }
                    ahead -= 1;
                }
                if let Some(l) = lines.get_mut(s) {
                    l.pop();
                }
            }
            Call::Newcomer(kind) => newcomers.call(s, kind),
        }
        let call_secs = lines
            .get(s)
            .map_or(mean(s), |l| l.no_shows.call_secs(mean(s)));
        free.push(Reverse((at + (call_secs * 1000.0) as u64, i)));
    }
    None
}

/// Whom a counter calls next in the replay: the head of a line, or a customer yet to come.
#[derive(Clone, Copy)]
enum Call {
    Line,
    Newcomer(Kind),
}

/// A customer yet to come holds a priority ticket or not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Priority,
    Normal,
}

/// Customers yet to come: each service's arrivals run at their rate up to [`HORIZON_S`], the
/// priority ones spread evenly among them, and those already called are counted off. The n-th
/// newcomer of a service arrives at n / rate and holds priority when the priority share times n,
/// rounded to the nearest whole number, steps up: so splitting the newcomers by kind foresees as
/// many as before, not one fewer of each kind for the rounding. Rounded down instead, the first
/// of a few priority newcomers came a whole interval between them late (one in twelve: the 12th
/// newcomer, after most waits were over), and every priority ticket half an interval late on
/// average, which left them out of most waits: the customers without priority were told 0.3–0.6
/// min too little with 15 % priority tickets (BENCHMARKS.md). The customer's own service's
/// newcomers without priority queue behind the customer and are not foreseen.
struct Newcomers {
    /// Arrivals per second and the share with priority, per service.
    rates: Vec<(f64, f64)>,
    target: usize,
    /// Per service, how many arrive within the horizon.
    foreseen: Vec<u32>,
    /// Per service and kind (priority, not), how many are called so far and the index among
    /// all the service's newcomers of the next one to come ([`NONE`] when no more come in the
    /// horizon): the replay asks after them at every call, so they are kept, not searched.
    called: Vec<[u32; 2]>,
    next: Vec<[u32; 2]>,
}

/// No newcomer of this kind within the horizon.
const NONE: u32 = u32::MAX;

impl Newcomers {
    fn new(rates: &[f64], priority_rates: &[f64], target: usize) -> Newcomers {
        let rates: Vec<(f64, f64)> = rates
            .iter()
            .enumerate()
            .map(|(s, &r)| {
                let r = r.max(0.0);
                let p = priority_rates.get(s).copied().unwrap_or(0.0).max(0.0);
                (r, if r > 0.0 { (p / r).min(1.0) } else { 0.0 })
            })
            .collect();
        let foreseen = rates
            .iter()
            .map(|r| (r.0 * HORIZON_S + 1e-6).floor().min(f64::from(NONE - 1)) as u32)
            .collect();
        let mut n = Newcomers {
            called: vec![[0; 2]; rates.len()],
            next: vec![[NONE; 2]; rates.len()],
            rates,
            target,
            foreseen,
        };
        for s in 0..n.rates.len() {
            for kind in [Kind::Priority, Kind::Normal] {
                n.next[s][kind as usize] = n.index_of(s, kind, 1);
            }
        }
        n
    }

    /// Of the first `n` newcomers of `s`, how many are of `kind`.
    fn of_kind(&self, s: usize, kind: Kind, n: u32) -> u32 {
        let share = self.rates.get(s).map_or(0.0, |r| r.1);
        let priority = ((f64::from(n) * share + 0.5 + 1e-9).floor() as u32).min(n);
        match kind {
            Kind::Priority => priority,
            Kind::Normal if s == self.target => 0,
            Kind::Normal => n - priority,
        }
    }

    /// The index among all of `s`'s newcomers of its `wanted`-th one of `kind`, or [`NONE`].
    fn index_of(&self, s: usize, kind: Kind, wanted: u32) -> u32 {
        let foreseen = self.foreseen[s];
        if self.rates[s].0 <= 0.0 || self.of_kind(s, kind, foreseen) < wanted {
            return NONE;
        }
        // The count of a kind grows by at most one with each newcomer.
        let (mut lo, mut hi) = (wanted, foreseen);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.of_kind(s, kind, mid) >= wanted {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// Has a newcomer of `s` of this kind arrived by `secs` and not been called yet?
    fn waiting(&self, s: usize, kind: Kind, secs: f64) -> bool {
        let next = self.next.get(s).map_or(NONE, |n| n[kind as usize]);
        // The tolerance takes the arrival at the instant `next_arrival` gave, rounded to the ms.
        next != NONE && self.rates[s].0 * secs + 1e-6 >= f64::from(next)
    }

    fn call(&mut self, s: usize, kind: Kind) {
        if s < self.called.len() {
            self.called[s][kind as usize] += 1;
            let wanted = self.called[s][kind as usize] + 1;
            self.next[s][kind as usize] = self.index_of(s, kind, wanted);
        }
    }

    /// When the next newcomer of `s` of this kind arrives, within the horizon.
    fn next_at(&self, s: usize, kind: Kind) -> Option<f64> {
        let next = self.next.get(s).map_or(NONE, |n| n[kind as usize]);
        (next != NONE).then(|| f64::from(next) / self.rates[s].0)
    }

    /// When the next newcomer of any of `services` arrives, within the horizon.
    fn next_arrival(&self, services: &[usize]) -> Option<f64> {
        services
            .iter()
            .flat_map(|&s| [(s, Kind::Priority), (s, Kind::Normal)])
            .filter_map(|(s, kind)| self.next_at(s, kind))
            .min_by(f64::total_cmp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desks(n: usize, busy: bool) -> Vec<Desk> {
        (0..n).map(|_| desk(&[0], busy.then_some(0))).collect()
    }

    fn line(n: u32) -> Vec<Line> {
        vec![Line {
            priority: 0,
            normal: n,
            ..Default::default()
        }]
    }

    /// A counter that calls `services` in this order, busy with one of them or free.
    fn desk(services: &[usize], busy_with: Option<usize>) -> Desk {
        Desk {
            services: services.to_vec(),
            busy_with,
            off: vec![],
            resumes_s: 0.0,
        }
    }

    /// The customer next in line for service 0, nobody for service 1.
    fn next_of_two() -> Vec<Line> {
        vec![
            Line {
                priority: 0,
                normal: 1,
                ..Default::default()
            },
            Line::default(),
        ]
    }

    #[test]
    fn a_customer_ahead_who_may_not_come_counts_for_part_of_a_service() {
        // One busy counter, 300 s a service, four ahead; one in five called does not come and
        // holds the counter a minute: each ahead counts 0.8·300 + 0.2·60 = 252 s.
        let mut lines = line(4);
        lines[0].no_shows = NoShows {
            share: 0.2,
            hold_s: 60.0,
        };
        let w = wait_secs(&desks(1, true), &lines, &[300.0], &[], &[], 0, 4).unwrap();
        assert!((w - (300.0 + 4.0 * 252.0)).abs() < 0.01, "{w}");
        // The customer at the counter has come: the rest of their service is a whole mean.
        let w = wait_secs(&desks(1, true), &lines, &[300.0], &[], &[], 0, 0).unwrap();
        assert!((w - 300.0).abs() < 0.01, "{w}");
    }

    #[test]
    fn all_busy_gives_the_mms_wait() {
        // 3 busy counters, 5 minutes a service: k ahead waits (k + 1)·300/3.
        for k in [0u32, 1, 2, 5, 11] {
            let w = wait_secs(&desks(3, true), &line(k + 1), &[300.0], &[], &[], 0, k).unwrap();
            assert!((w - f64::from(k + 1) * 100.0).abs() < 0.01, "k={k}: {w}");
        }
    }

    #[test]
    fn a_free_counter_means_no_wait_only_with_nobody_ahead() {
        let mut d = desks(3, true);
        d[1].busy_with = None;
        assert_eq!(wait_secs(&d, &line(1), &[300.0], &[], &[], 0, 0), Some(0.0));
        let w = wait_secs(&d, &line(2), &[300.0], &[], &[], 0, 1).unwrap();
        assert!(w > 0.0, "the one ahead takes the free counter: {w}");
    }

    #[test]
    fn a_counter_on_its_break_calls_no_one_until_it_ends() {
        // Two idle counters, 5 minutes a service, the customer sixth in line. Without breaks the
        // counters call at 0, 300 and 600 s: the customer at 600 s. Counter 0's break from 600 s
        // to 2400 s leaves the sixth to counter 1 at 900 s.
        let mut d = desks(2, false);
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 5),
            Some(600.0)
        );
        d[0].off = vec![(600.0, 2400.0)];
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 5),
            Some(900.0)
        );
        // A break that begins while the counter serves lasts its usual length from the end of
        // the service.
        let d = vec![
            Desk {
                off: vec![(400.0, 2400.0)],
                resumes_s: 0.0,
                ..desks(1, false)[0].clone()
            },
            Desk {
                off: vec![(600.0, 2900.0)],
                resumes_s: 0.0,
                ..desks(1, false)[0].clone()
            },
        ];
        // Counter 0 frees at 600 s (in its window: back at 2600 s), counter 1 at 600 s (back at
        // 2900 s): the fifth is called at 2600 s and the sixth at 2900 s.
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 4),
            Some(2600.0)
        );
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 5),
            Some(2900.0)
        );
        // A counter back from its break at 400 s takes the third at 400 s and the fifth at 700 s.
        let mut d = desks(2, false);
        d[0].off = vec![(0.0, 400.0)];
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 2),
            Some(400.0)
        );
        assert_eq!(
            wait_secs(&d, &line(6), &[300.0], &[], &[], 0, 4),
            Some(700.0)
        );
    }

    #[test]
    fn preferred_services_are_called_first_and_priority_before_all() {
        // One counter prefers service 1 over 0; two people wait for 1, one for 0.
        let d = vec![desk(&[1, 0], Some(0))];
        let lines = vec![
            Line {
                priority: 0,
                normal: 1,
                ..Default::default()
            },
            Line {
                priority: 0,
                normal: 2,
                ..Default::default()
            },
        ];
        let w = wait_secs(&d, &lines, &[100.0, 200.0], &[], &[], 0, 0).unwrap();
        assert!(
            (w - (100.0 + 400.0)).abs() < 0.01,
            "after both of service 1: {w}"
        );
        // A priority ticket of service 0 goes before the preferred service.
        let lines = vec![
            Line {
                priority: 1,
                normal: 0,
                ..Default::default()
            },
            lines[1],
        ];
        let w = wait_secs(&d, &lines, &[100.0, 200.0], &[], &[], 0, 0).unwrap();
        assert!((w - 100.0).abs() < 0.01, "{w}");
    }

    #[test]
    fn newcomers_of_a_preferred_service_go_first_until_the_horizon() {
        // One idle counter prefers service 1 (arriving every 100 s, served in 50 s) over 0.
        let d = vec![desk(&[1, 0], None)];
        let lines = next_of_two();
        let means = [60.0, 50.0];
        // Nobody of service 1 is there yet: the customer is called at once.
        assert_eq!(
            wait_secs(&d, &lines, &means, &[0.0, 0.01], &[], 0, 0),
            Some(0.0)
        );
        // A counter busy with service 1 frees at 50 s, before the first newcomer (100 s).
        let busy = vec![Desk {
            busy_with: Some(1),
            ..d[0].clone()
        }];
        let w = wait_secs(&busy, &lines, &means, &[0.0, 0.01], &[], 0, 0).unwrap();
        assert!((w - 50.0).abs() < 0.01, "{w}");
        // Newcomers faster than the counter serves them (every 20 s) hold the customer back
        // until those who came within the horizon are served, and no longer.
        let w = wait_secs(&busy, &lines, &means, &[0.0, 0.05], &[], 0, 0).unwrap();
        let foreseen = (0.05 * HORIZON_S).floor();
        assert!((w - (50.0 + foreseen * 50.0)).abs() < 0.01, "{w}");
        // The customer's own service's newcomers queue behind.
        let w = wait_secs(&busy, &lines, &means, &[1.0, 0.0], &[], 0, 0).unwrap();
        assert!((w - 50.0).abs() < 0.01, "{w}");
    }

    #[test]
    fn an_idle_counter_takes_the_newcomers_it_prefers() {
        // Counter 0 serves only service 1; counter 1 serves 1 before 0. Newcomers of 1 arrive
        // every 30 s and take 50 s: the idle counter 0 takes every other one, so counter 1 is
        // held back by the rest.
        let d = vec![desk(&[1], None), desk(&[1, 0], Some(1))];
        let lines = next_of_two();
        let alone = wait_secs(
            &d[1..],
            &lines,
            &[60.0, 50.0],
            &[0.0, 1.0 / 30.0],
            &[],
            0,
            0,
        )
        .unwrap();
        let helped = wait_secs(&d, &lines, &[60.0, 50.0], &[0.0, 1.0 / 30.0], &[], 0, 0).unwrap();
        assert!(alone >= HORIZON_S, "{alone}");
        assert!(helped < alone, "{helped} < {alone}");
    }

    #[test]
    fn priority_newcomers_go_before_a_customer_without_priority() {
        // One counter busy for another 100 s, 100 s a service, the customer third in line. A
        // priority ticket every 150 s: they arrive at 150, 300 and 450 s and are called at 200,
        // 300 and 500 s, between the two ahead (100 and 400 s); the customer at 700 s.
        let d = desks(1, true);
        let rate = [1.0 / 150.0];
        assert_eq!(
            wait_secs(&d, &line(3), &[100.0], &rate, &[], 0, 2),
            Some(300.0)
        );
        assert_eq!(
            wait_secs(&d, &line(3), &[100.0], &rate, &rate, 0, 2),
            Some(700.0)
        );
        // A customer who holds priority: the caller leaves the own service's priority rate out.
        assert_eq!(
            wait_secs(&d, &line(3), &[100.0], &rate, &[0.0], 0, 2),
            Some(300.0)
        );
    }

    #[test]
    fn another_services_priority_newcomers_go_before_the_preferred_service() {
        // One counter prefers service 0 (the customer's, next in line) over 1 and frees at 100 s;
        // a customer of 1 arrives every 50 s. Without priority they wait behind the customer.
        let d = vec![desk(&[0, 1], Some(0))];
        let lines = next_of_two();
        let (rates, means) = ([0.0, 1.0 / 50.0], [100.0, 30.0]);
        let w = wait_secs(&d, &lines, &means, &rates, &[], 0, 0);
        assert_eq!(w, Some(100.0));
        // Every other one holds priority: the one that came at 50 s goes first, for 30 s; the
        // next one comes at 150 s, after the customer is called.
        let w = wait_secs(&d, &lines, &means, &rates, &[0.0, 0.01], 0, 0);
        assert_eq!(w, Some(130.0));
    }

    #[test]
    fn newcomers_split_by_kind_are_as_many_as_all_together() {
        // A newcomer every 100 s, one in four with priority: the 2nd, 6th, 10th, … .
        let (rates, priority) = ([0.0, 0.01], [0.0, 0.0025]);
        let mut n = Newcomers::new(&rates, &priority, 0);
        assert_eq!(n.of_kind(1, Kind::Priority, 8), 2);
        assert_eq!(n.of_kind(1, Kind::Normal, 8), 6);
        assert_eq!(n.next_at(1, Kind::Normal), Some(100.0));
        assert_eq!(n.of_kind(1, Kind::Priority, 1), 0);
        assert_eq!(n.of_kind(1, Kind::Priority, 2), 1);
        assert_eq!(n.next_at(1, Kind::Priority), Some(200.0));
        assert!(!n.waiting(1, Kind::Priority, 199.0));
        assert!(n.waiting(1, Kind::Priority, 200.0));
        for _ in 0..3 {
            n.call(1, Kind::Normal);
        }
        assert_eq!(n.next_at(1, Kind::Normal), Some(500.0));
        assert_eq!(n.next_arrival(&[1]), Some(200.0));
        // The customer's own service: only its priority newcomers are foreseen.
        let n = Newcomers::new(&rates, &priority, 1);
        assert_eq!(n.next_at(1, Kind::Normal), None);
        assert_eq!(n.next_arrival(&[1]), Some(200.0));
        // Within the horizon and no further.
        let last = (0.0025 * HORIZON_S + 0.5).floor();
        let mut n = Newcomers::new(&rates, &priority, 0);
        for _ in 0..last as u32 {
            n.call(1, Kind::Priority);
        }
        assert_eq!(n.next_at(1, Kind::Priority), None);
    }

    #[test]
    fn no_counter_for_the_service_gives_none() {
        assert_eq!(
            wait_secs(&desks(2, true), &line(1), &[300.0], &[], &[], 1, 0),
            None
        );
    }
}
