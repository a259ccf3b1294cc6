//! Staffing advice: when a service's wait for a new customer passes the hall's target, or soon will at
//! the rate tickets are being taken, how long it is and how long it would be with one more counter.
//!
//! The waits come from the same model as the wait printed on a ticket: the hall's line played
//! forward with its counters' call order, their usual breaks and the customers who do not come
//! ([`crate::estimate::replay`]), asked through [`Foresight`] with a counter more or fewer, or for a
//! customer who comes in half an hour. So the advice and the kiosk's button never disagree about
//! a new customer's wait.
//!
//! The long run is the M/M/s queue (Erlang C) on measured rates: `s` counters, arrivals `λ` per
//! second, mean time a call takes `1/μ` (a service, or the wait for a customer who does not come),
//! offered load `a = λ/μ`.
//!
//! - probability that a new customer waits at all: `C(s, a)`, from the Erlang B recursion
//!   `B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))` and `C = s·B / (s − a·(1 − B))` — no factorials or
//!   powers, so it stays exact for hundreds of counters;
//! - expected wait of a new arrival in the long run: `C / (s·μ − λ)`;
//! - share called within `T`: `P(W ≤ T) = 1 − C·exp(−(s·μ − λ)·T)`.
//!
//! The hall's target is "85 % of customers called within `target_wait_min`" (15 minutes by default).
//! Everything here is pure; [`crate::engine::Hall::staffing`] reads the inputs off the live hall.

use serde::{Deserialize, Serialize};

use crate::hall::{CounterId, Text};

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
    /// Mean time a call takes, seconds: a service, or for a customer who does not come the wait
    /// until the clerk marks it (`NoShows::call_secs`). 0 when unknown: the mean service time.
    #[serde(default)]
    pub call_s: f64,
    /// The services this one shares open counters with, taken together (see [`Pool`]); absent
    /// when no open counter calls it.
    #[serde(default)]
    pub pool: Option<Pool>,
}

/// Services that share counters, taken together: where counters call several services, the long
/// run of one depends on the others' arrivals as much as on its own, and a counter that is free
/// calls whichever has people waiting. Erlang C is evaluated on the pool as one line (the M/M/s
/// queue of all its customers), not on a service's share of each counter: those shares, rounded
/// to whole counters, asked for a ninth and tenth counter for 6.5 counters' work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// The services, this one among them, in configuration order: those called by the open
    /// counters that call this one, and so on.
    pub services: Vec<String>,
    /// Their arrivals per hour, each as [`ServiceLoad::arrivals_per_hour`] reads it.
    pub arrivals_per_hour: f64,
    /// Mean time a call takes over their arrivals, seconds.
    pub call_s: f64,
    /// Open counters that call any of them.
    pub counters_open: u32,
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

    /// The rates Erlang C is evaluated on: a counter is taken for a call's time, not a whole
    /// service, by a customer who does not come.
    pub fn rates(&self) -> Rates {
        Rates {
            arrivals_per_hour: self.arrivals_per_hour(),
            mean_service_s: if self.call_s > 0.0 {
                self.call_s
            } else {
                self.mean_service_s
            },
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
    /// A new customer's predicted wait with the counters open now, and with one more, seconds
    /// ([`Foresight`]: the wait the kiosk shows, with and without it). One more is
    /// `counter_to_open`, or a counter for this service alone where no closed one calls it.
    pub wait_now_s: f64,
    pub wait_one_more_s: f64,
    /// The same for a customer who comes in [`LOOKAHEAD_S`], people arriving at the current
    /// rate meanwhile.
    pub wait_soon_s: f64,
    pub wait_soon_one_more_s: f64,
    /// A new customer's predicted wait with one counter fewer, now and in [`LOOKAHEAD_S`]
    /// (seconds; equal to the waits above where no counter may close: only one open, or shared
    /// with other services).
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
    /// The closed counter to open first: of those configured for the service, the one that calls
    /// it earliest in its order (then configuration order). `None` when no closed counter calls
    /// it.
    #[serde(default)]
    pub counter_to_open: Option<CounterId>,
    pub load: ServiceLoad,
    /// One line for the console and the manager page; absent when the standing is `Ok` or
    /// `NoCounter`. (The console shows `Over` and `Soon`; the manager page also `Spare`.)
    pub message: Option<Text>,
}

/// A new customer's predicted wait, as the hall's wait model gives it.
pub trait Foresight {
    /// The counter the waits with one more assume opens first: a closed counter that calls the
    /// service, with its name; `None` for a counter for the service alone.
    fn one_more(&self) -> Option<(CounterId, Text)> {
        None
    }

    /// Seconds until a new customer of the service is called if they take a ticket `later_s`
    /// seconds from now (the line grown at [`ServiceLoad::arrivals_per_hour`] meanwhile), with
    /// `extra` more counters for the service than are open now, or fewer when negative.
    fn wait_s(&self, extra: i32, later_s: f64) -> f64;
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
fn counters_needed(load: &ServiceLoad, foresight: &impl Foresight, target_s: f64) -> u32 {
    let (rates, capacity) = long_run(load);
    let for_85_percent = if load.rates().arrivals_per_hour > 0.0 {
        rates.counters_needed(target_s)
    } else {
        0
    };
    if load.waiting == 0 && for_85_percent == 0 {
        return 0;
    }
    let open = i64::from(load.counters_open);
    // For the line as it is now: the fewest counters with which a new customer is called within
    // the target (none needed for an empty line).
    let for_the_line = if load.waiting == 0 {
        0
    } else {
        let within = |extra: i64| {
            let extra = extra.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            foresight.wait_s(extra, 0.0) <= target_s
        };
        open + fewest_extra(within, 1 - open, i64::from(MAX_COUNTERS) - open)
    };
    // The counters the long run counts beyond this service's own open ones (a pool's others), or
    // short of them (their shares of other services): what it needs in all, counted like
    // `counters_open`. A hair of slack so that a capacity computed as 1.9999 does not ask for a
    // third counter.
    let for_the_rate = if for_85_percent == 0 {
        0
    } else {
        (open as f64 - capacity.max(0.0) + f64::from(for_85_percent) - 1e-9).ceil() as i64
    };
    for_the_line
        .max(for_the_rate)
        .clamp(1, i64::from(MAX_COUNTERS)) as u32
}

/// The least `n` in `lo..=hi` for which `ok(n)` holds, `ok` being false below some point and true
/// from it on (more counters never make a wait longer); `hi` when none does. From 0 outwards, by
/// doubling and then halving, since each look plays the line forward once.
fn fewest_extra(ok: impl Fn(i64) -> bool, lo: i64, hi: i64) -> i64 {
    let lo = lo.min(hi);
    // The boundary lies in (bad, good]: `bad` fails (or is below the range), `good` holds.
    let (mut bad, mut good) = if ok(0.clamp(lo, hi)) {
        let mut good = 0.clamp(lo, hi);
        let mut step = 1;
        loop {
            let next = (good - step).max(lo);
            if next == good {
                break (lo - 1, good);
            }
            if !ok(next) {
                break (next, good);
            }
            good = next;
            step *= 2;
        }
    } else {
        let mut bad = 0.clamp(lo, hi);
        let mut step = 1;
        loop {
            let next = (bad + step).min(hi);
            if next == bad {
                return hi;
            }
            if ok(next) {
                break (bad, next);
            }
            bad = next;
            step *= 2;
        }
    };
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
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

/// "Open counter 4", or "one more counter" where no closed counter calls the service.
fn open_words(counter: Option<&Text>) -> Text {
    match counter {
        Some(c) => Text::new(format!("再开{}", c.zh), format!("open {}", c.en)),
        None => Text::new("再开一个窗口", "one more counter"),
    }
}

/// The wait with one more counter, in words, naming the counter to open where there is one: it
/// may call a new customer at once.
fn one_more_words(counter: Option<&Text>, secs: f64) -> Text {
    let Text { zh, en } = open_words(counter);
    if secs < 30.0 {
        Text::new(format!("{zh}即可随到随办"), format!("{en}: no wait"))
    } else {
        let m = minutes(secs);
        Text::new(format!("{zh}约 {m} 分钟"), format!("{en}: about {m} min"))
    }
}

fn percent(share: f64) -> u64 {
    (share * 100.0).floor().clamp(0.0, 100.0) as u64
}

/// The long run's rates and counters: the pool's where the service has one with a counter open,
/// else the service's own with its capacity.
fn long_run(load: &ServiceLoad) -> (Rates, f64) {
    match &load.pool {
        Some(p) if p.counters_open > 0 => (
            Rates {
                arrivals_per_hour: p.arrivals_per_hour,
                mean_service_s: p.call_s,
            },
            f64::from(p.counters_open),
        ),
        _ => (load.rates(), load.capacity),
    }
}

/// The advice for one service from its load, the hall's wait model for it and the hall's target
/// wait in minutes.
pub fn advise(
    name: &Text,
    load: &ServiceLoad,
    foresight: &impl Foresight,
    target_wait_min: u32,
) -> Advice {
    let target_s = f64::from(target_wait_min) * 60.0;
    let (rates, cap) = long_run(load);
    let cap = cap.max(0.05);
    let wait_now = foresight.wait_s(0, 0.0);
    let wait_one_more = foresight.wait_s(1, 0.0);
    // A customer who comes in half an hour, people arriving as now and every counter serving.
    let wait_soon = foresight.wait_s(0, LOOKAHEAD_S);
    let wait_soon_one_more = foresight.wait_s(1, LOOKAHEAD_S);
    let share_within = share_for_capacity(rates, cap, target_s);
    let share_within_one_more = share_for_capacity(rates, cap + 1.0, target_s);
    // One counter fewer, where that is a question at all: two or more open, all of them this
    // service's alone (closing a shared counter slows other lines, and each of those services
    // would be told the same counter may go).
    let may_close = load.counters_open >= 2 && load.dedicated;
    let fewer = if may_close { cap - 1.0 } else { cap };
    let (wait_one_fewer, wait_soon_one_fewer) = if may_close {
        (foresight.wait_s(-1, 0.0), foresight.wait_s(-1, LOOKAHEAD_S))
    } else {
        (wait_now, wait_soon)
    };
    let needed = counters_needed(load, foresight, target_s);
    // Half the target, so that closing does not bring the next look straight back to "open one".
    let spare = may_close
        && needed < load.counters_open
        && wait_one_fewer <= target_s / 2.0
        && wait_soon_one_fewer <= target_s / 2.0
        && share_for_capacity(rates, fewer, target_s) >= TARGET_SHARE;
    // A service nobody waits for and nobody took a ticket for in the last hour may have a long
    // wait for a new customer (its counters call other services first), but no customer to open
    // a counter for.
    let no_one = load.waiting == 0 && load.arrivals_per_hour() <= 0.0;
    let standing = if load.counters_open == 0 {
        Standing::NoCounter
    } else if wait_now > target_s && !no_one {
        Standing::Over
    } else if !no_one && (wait_soon > target_s || share_within < TARGET_SHARE) {
        Standing::Soon
    } else if spare {
        Standing::Spare
    } else {
        Standing::Ok
    };
    let one_more = foresight.one_more();
    let to_open = one_more.as_ref().map(|(_, name)| name);
    let message = match standing {
        Standing::Over => {
            let more = one_more_words(to_open, wait_one_more);
            Some(Text::new(
                format!(
                    "{}: 新取号预计等候 {} 分钟; {}",
                    name.zh,
                    minutes(wait_now),
                    more.zh
                ),
                format!(
                    "{}: a new ticket waits about {} min; {}",
                    name.en,
                    minutes(wait_now),
                    more.en
                ),
            ))
        }
        Standing::Soon if wait_soon > target_s => {
            let more = one_more_words(to_open, wait_soon_one_more);
            Some(Text::new(
                format!(
                    "{}: 按目前取号速度, 30 分钟后新取号将等候约 {} 分钟; {}",
                    name.zh,
                    minutes(wait_soon),
                    more.zh
                ),
                format!(
                    "{}: at the current rate a new ticket waits about {} min in 30 min; {}",
                    name.en,
                    minutes(wait_soon),
                    more.en
                ),
            ))
        }
        Standing::Soon => {
            let Text { zh, en } = open_words(to_open);
            Some(Text::new(
                format!(
                    "{}: 按目前取号速度, 只有 {}% 能在 {} 分钟内叫到; {zh}可达 {}%",
                    name.zh,
                    percent(share_within),
                    target_wait_min,
                    percent(share_within_one_more)
                ),
                format!(
                    "{}: at the current rate only {}% are called within {} min; {en}: {}%",
                    name.en,
                    percent(share_within),
                    target_wait_min,
                    percent(share_within_one_more)
                ),
            ))
        }
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
        counter_to_open: one_more.as_ref().map(|(id, _)| *id),
        load: load.clone(),
        message,
    }
}

#[cfg(test)]
mod tests;
