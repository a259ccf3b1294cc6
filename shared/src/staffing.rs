//! Staffing advice: when a service's wait for a new customer passes the hall's target, or soon will at
//! the rate tickets are being taken, how long it is and how long it would be with one more counter.
//!
//! The model is the M/M/s queue (Erlang C) on measured rates: `s` counters, arrivals `λ` per second,
//! mean service time `1/μ`, offered load `a = λ/μ`.
//!
//! - probability that a new customer waits at all: `C(s, a)`, from the Erlang B recursion
//!   `B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))` and `C = s·B / (s − a·(1 − B))` — no factorials or
//!   powers, so it stays exact for hundreds of counters;
//! - expected wait of a new arrival in the long run: `C / (s·μ − λ)`;
//! - share called within `T`: `P(W ≤ T) = 1 − C·exp(−(s·μ − λ)·T)`;
//! - a new customer's wait *now*, with `k` people waiting and every counter busy: `(k + 1) / (s·μ)`
//!   (first come, first served: the `k` ahead and then the first counter to free up), 0 when a counter
//!   is free and nobody waits.
//!
//! The hall's target is "85 % of customers called within `target_wait_min`" (15 minutes by default).
//! Everything here is pure; [`crate::engine::Hall::service_load`] reads the inputs off the live hall.

use serde::{Deserialize, Serialize};

use crate::hall::Text;

/// Share of customers the hall means to call within the target wait.
pub const TARGET_SHARE: f64 = 0.85;

/// How far ahead the advice looks at the current arrival rate.
pub const LOOKAHEAD_S: f64 = 30.0 * 60.0;

/// No hall has more counters than this; the search for enough counters stops here.
pub const MAX_COUNTERS: u32 = 10_000;

/// Erlang B: the share of arrivals finding all `servers` busy in a loss system with offered load
/// `load` (erlangs).
pub fn erlang_b(servers: u32, load: f64) -> f64 {
    if load.is_nan() || load <= 0.0 {
        return if servers == 0 { 1.0 } else { 0.0 };
    }
    let mut b = 1.0;
    for k in 1..=servers {
        let ab = load * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// Erlang C: the probability that a new customer has to wait, with `servers` counters and offered
/// load `load` (erlangs). 1 when the counters cannot keep up (`load ≥ servers`).
pub fn erlang_c(servers: u32, load: f64) -> f64 {
    if load.is_nan() || load <= 0.0 {
        return 0.0;
    }
    let s = f64::from(servers);
    if load >= s {
        return 1.0;
    }
    let b = erlang_b(servers, load);
    (s * b / (s - load * (1.0 - b))).clamp(0.0, 1.0)
}

/// A queue's measured rates: what the Erlang formulas are evaluated on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// Arrivals per hour.
    pub arrivals_per_hour: f64,
    /// Mean service time, seconds.
    pub mean_service_s: f64,
}

impl Rates {
    fn lambda(&self) -> f64 {
        self.arrivals_per_hour.max(0.0) / 3600.0
    }

    fn mu(&self) -> f64 {
        1.0 / self.mean_service_s.max(1.0)
    }

    /// Offered load in erlangs (counters' worth of work arriving).
    pub fn load(&self) -> f64 {
        self.lambda() / self.mu()
    }

    /// Expected wait of a new arrival in the long run with `counters` counters, seconds; infinite
    /// when they cannot keep up.
    pub fn mean_wait_s(&self, counters: u32) -> f64 {
        let slack = f64::from(counters) * self.mu() - self.lambda();
        if slack <= 0.0 {
            return f64::INFINITY;
        }
        erlang_c(counters, self.load()) / slack
    }

    /// Share of customers called within `target_s` seconds, in the long run with `counters`.
    pub fn share_within(&self, counters: u32, target_s: f64) -> f64 {
        let slack = f64::from(counters) * self.mu() - self.lambda();
        if slack <= 0.0 {
            return 0.0;
        }
        1.0 - erlang_c(counters, self.load()) * (-slack * target_s.max(0.0)).exp()
    }

    /// The fewest counters that call [`TARGET_SHARE`] of customers within `target_s`; 0 when nobody
    /// arrives.
    pub fn counters_needed(&self, target_s: f64) -> u32 {
        if self.lambda() <= 0.0 {
            return 0;
        }
        // Below the load the queue grows without bound: start just above it.
        let first = (self.load().floor() as u32).saturating_add(1).max(1);
        (first..=MAX_COUNTERS)
            .find(|&s| self.share_within(s, target_s) >= TARGET_SHARE)
            .unwrap_or(MAX_COUNTERS)
    }
}

/// One service's load as the live hall sees it (see `Hall::service_load`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceLoad {
    pub service: String,
    /// Tickets of the service taken in the last 30 and 60 minutes.
    pub arrivals_30m: u32,
    pub arrivals_60m: u32,
    /// Tickets waiting to be called.
    pub waiting: u32,
    /// Tickets of the service at a counter now (called or being served).
    pub at_counters: u32,
    /// Open counters that call this service.
    pub counters_open: u32,
    /// None of those counters is configured for another enabled service: closing one affects
    /// this service's line alone (the only case where the advice says a counter may close).
    #[serde(default)]
    pub dedicated: bool,
    /// Their capacity for it: a counter calling several services that all have people waiting
    /// gives each a share.
    pub capacity: f64,
    /// Mean service time, seconds.
    pub mean_service_s: f64,
}

impl ServiceLoad {
    /// The arrival rate the advice uses, per hour: the last hour's, or the last half hour's when
    /// that is clearly faster (by more than two standard deviations of a Poisson count), so that a
    /// rush shows within half an hour and a chance cluster of tickets does not open a counter.
    pub fn arrivals_per_hour(&self) -> f64 {
        let hour = f64::from(self.arrivals_60m);
        let half = f64::from(self.arrivals_30m);
        let expected = hour / 2.0;
        if half - expected > 2.0 * (expected + 1.0).sqrt() {
            half * 2.0
        } else {
            hour
        }
    }

    pub fn rates(&self) -> Rates {
        Rates {
            arrivals_per_hour: self.arrivals_per_hour(),
            mean_service_s: self.mean_service_s,
        }
    }
}

/// Where a service stands against the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Within the target now and for the next half hour: nothing to say.
    Ok,
    /// A new customer's wait passes the target now.
    Over,
    /// Within the target now, but not at the current arrival rate.
    Soon,
    /// No counter open for it: the clerks know, there is nothing to compute.
    NoCounter,
    /// The business system is down: no counter can serve, one more would not help, and the
    /// outage has its own alert. The figures stay for whoever looks.
    Outage,
    /// Well within the target with one counter fewer, now and at the current arrival rate: one
    /// may close. Never said of the last open counter, nor where the service's counters also
    /// call other services (closing one would slow those lines too).
    Spare,
}

/// The advice for one service: numbers for the screens and one line to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub service: String,
    pub name: Text,
    pub standing: Standing,
    pub target_wait_min: u32,
    /// A new customer's predicted wait with the counters open now, and with one more, seconds.
    pub wait_now_s: f64,
    pub wait_one_more_s: f64,
    /// The same in [`LOOKAHEAD_S`] at the current arrival rate (the line grows or shrinks by
    /// `λ − s·μ`).
    pub wait_soon_s: f64,
    pub wait_soon_one_more_s: f64,
    /// A new customer's predicted wait with one counter fewer, now and in [`LOOKAHEAD_S`]
    /// (seconds; equal to the waits above when only one counter is open).
    pub wait_one_fewer_s: f64,
    pub wait_soon_one_fewer_s: f64,
    /// Long-run share called within the target at the current rates, with the counters open now
    /// and with one more.
    pub share_within: f64,
    pub share_within_one_more: f64,
    /// Fewest whole counters for both: a new customer called within the target now (the people
    /// already waiting included), and 85 % within it in the long run at the current rates.
    /// Counted like `load.counters_open` (counters shared with other services count whole), so
    /// the difference is the number of counters to open.
    pub counters_needed: u32,
    pub load: ServiceLoad,
    /// One line for the console and the manager page; absent when the standing is `Ok` or
    /// `NoCounter`. (The console shows `Over` and `Soon`; the manager page also `Spare`.)
    pub message: Option<Text>,
}

/// A new customer's wait with `waiting` people in line, `at_counters` being served and `capacity`
/// counters' worth of service, each taking `mean_service_s` on average.
pub fn wait_for_new_s(waiting: f64, at_counters: u32, capacity: f64, mean_service_s: f64) -> f64 {
    let capacity = capacity.max(0.05);
    if waiting < 0.5 && f64::from(at_counters) < capacity {
        return 0.0;
    }
    (waiting + 1.0) * mean_service_s.max(1.0) / capacity
}

/// Long-run share within `target_s` for a fractional capacity: whole counters, each serving at the
/// rate that gives the same total capacity.
fn share_for_capacity(rates: Rates, capacity: f64, target_s: f64) -> f64 {
    if rates.arrivals_per_hour <= 0.0 {
        return 1.0;
    }
    let servers = capacity.round().max(1.0);
    let scaled = Rates {
        mean_service_s: rates.mean_service_s * servers / capacity.max(0.05),
        ..rates
    };
    scaled.share_within(servers as u32, target_s)
}

/// See [`Advice::counters_needed`]. Counted like `counters_open`: where the open counters also
/// call other services (their capacity for this one is less than their number), the counters
/// still missing are added to those open, so that "needed 3, open 2" always means "one more".
fn counters_needed(load: &ServiceLoad, target_s: f64) -> u32 {
    let mean = load.mean_service_s.max(1.0);
    let waiting = f64::from(load.waiting);
    // (k + 1)·mean / c ≤ T, for the line as it is now.
    let for_the_line = if waiting < 0.5 {
        0.0
    } else {
        (waiting + 1.0) * mean / target_s.max(1.0)
    };
    let required = for_the_line.max(f64::from(load.rates().counters_needed(target_s)));
    if required <= 0.0 {
        return 0;
    }
    let open = f64::from(load.counters_open);
    let capacity = load.capacity.clamp(0.0, open);
    // A hair of slack so that a capacity computed as 1.9999 does not ask for a third counter.
    (open - capacity + required - 1e-9)
        .ceil()
        .clamp(1.0, f64::from(MAX_COUNTERS)) as u32
}

fn minutes(secs: f64) -> u64 {
    (secs / 60.0).round().max(1.0) as u64
}

/// A new customer's wait in words: none under half a minute, else whole minutes.
fn wait_words(secs: f64) -> Text {
    if secs < 30.0 {
        Text::new("无需等候", "waits not at all")
    } else {
        let m = minutes(secs);
        Text::new(format!("约 {m} 分钟"), format!("waits about {m} min"))
    }
}

fn percent(share: f64) -> u64 {
    (share * 100.0).floor().clamp(0.0, 100.0) as u64
}

/// The advice for one service from its load and the hall's target wait in minutes.
pub fn advise(name: &Text, load: &ServiceLoad, target_wait_min: u32) -> Advice {
    let target_s = f64::from(target_wait_min) * 60.0;
    let rates = load.rates();
    let cap = load.capacity.max(0.05);
    let mean = load.mean_service_s.max(1.0);
    let waiting = f64::from(load.waiting);
    let wait_now = wait_for_new_s(waiting, load.at_counters, cap, mean);
    let wait_one_more = wait_for_new_s(waiting, load.at_counters, cap + 1.0, mean);
    // The line in half an hour if people keep arriving as now and every counter keeps serving.
    let soon = |c: f64| {
        let line = (waiting + (rates.lambda() - c / mean) * LOOKAHEAD_S).max(0.0);
        wait_for_new_s(line, load.at_counters, c, mean)
    };
    let wait_soon = soon(cap);
    let wait_soon_one_more = soon(cap + 1.0);
    let share_within = share_for_capacity(rates, cap, target_s);
    let share_within_one_more = share_for_capacity(rates, cap + 1.0, target_s);
    // One counter fewer, where that is a question at all: two or more open, all of them this
    // service's alone (closing a shared counter slows other lines, and each of those services
    // would be told the same counter may go).
    let may_close = load.counters_open >= 2 && load.dedicated;
    let fewer = if may_close { cap - 1.0 } else { cap };
    let wait_one_fewer = wait_for_new_s(waiting, load.at_counters, fewer, mean);
    let wait_soon_one_fewer = soon(fewer);
    let needed = counters_needed(load, target_s);
    // Half the target, so that closing does not bring the next look straight back to "open one".
    let spare = may_close
        && needed < load.counters_open
        && wait_one_fewer <= target_s / 2.0
        && wait_soon_one_fewer <= target_s / 2.0
        && share_for_capacity(rates, fewer, target_s) >= TARGET_SHARE;
    let standing = if load.counters_open == 0 {
        Standing::NoCounter
    } else if wait_now > target_s {
        Standing::Over
    } else if wait_soon > target_s || share_within < TARGET_SHARE {
        Standing::Soon
    } else if spare {
        Standing::Spare
    } else {
        Standing::Ok
    };
    let message = match standing {
        Standing::Over => Some(Text::new(
            format!(
                "{}: 新取号预计等候 {} 分钟; 再开一个窗口约 {} 分钟",
                name.zh,
                minutes(wait_now),
                minutes(wait_one_more)
            ),
            format!(
                "{}: a new ticket waits about {} min; one more counter: about {} min",
                name.en,
                minutes(wait_now),
                minutes(wait_one_more)
            ),
        )),
        Standing::Soon if wait_soon > target_s => Some(Text::new(
            format!(
                "{}: 按目前取号速度, 30 分钟后新取号将等候约 {} 分钟; 再开一个窗口约 {} 分钟",
                name.zh,
                minutes(wait_soon),
                minutes(wait_soon_one_more)
            ),
            format!(
                "{}: at the current rate a new ticket waits about {} min in 30 min; one more counter: about {} min",
                name.en,
                minutes(wait_soon),
                minutes(wait_soon_one_more)
            ),
        )),
        Standing::Soon => Some(Text::new(
            format!(
                "{}: 按目前取号速度, 只有 {}% 能在 {} 分钟内叫到; 再开一个窗口可达 {}%",
                name.zh,
                percent(share_within),
                target_wait_min,
                percent(share_within_one_more)
            ),
            format!(
                "{}: at the current rate only {}% are called within {} min; one more counter: {}%",
                name.en,
                percent(share_within),
                target_wait_min,
                percent(share_within_one_more)
            ),
        )),
        Standing::Spare => {
            let (now, soon) = (wait_words(wait_one_fewer), wait_words(wait_soon_one_fewer));
            Some(Text::new(
                format!(
                    "{}: 等候的人少, 可以少开一个窗口: 少开一个后新取号{}, 30 分钟后{}",
                    name.zh, now.zh, soon.zh
                ),
                format!(
                    "{}: few waiting, one counter may close: with one fewer a new ticket {}, in 30 min {}",
                    name.en, now.en, soon.en
                ),
            ))
        }
        Standing::Ok | Standing::NoCounter | Standing::Outage => None,
    };
    Advice {
        service: load.service.clone(),
        name: name.clone(),
        standing,
        target_wait_min,
        wait_now_s: wait_now,
        wait_one_more_s: wait_one_more,
        wait_soon_s: wait_soon,
        wait_soon_one_more_s: wait_soon_one_more,
        wait_one_fewer_s: wait_one_fewer,
        wait_soon_one_fewer_s: wait_soon_one_fewer,
        share_within,
        share_within_one_more,
        counters_needed: needed,
        load: load.clone(),
        message,
    }
}

#[cfg(test)]
mod tests;
