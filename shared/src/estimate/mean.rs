//! The mean service time of one service, as the wait estimate needs it: unbiased for skewed
//! durations, quick to follow a change, and seeded from the hall's own history.
//!
//! - Every finished service weighs by its recency (half-life [`HALF_LIFE`] services by finish),
//!   nothing is trimmed: dropping the longest biases a skewed mean low.
//! - A change detector compares the most recent services with everything before (the likelihood
//!   ratio of an exponential mean); when it is clear that they differ, only the recent ones count.
//!   Here services still in progress count too, with their time so far and no completion (the
//!   exposure-over-completions estimate of censored durations), so a counter running long is seen
//!   before it finishes.
//! - The day starts from the history of the same weekday and hour (the last [`HISTORY_DAYS`] days),
//!   or of any hour, or [`DEFAULT_SERVICE_SECS`]; the seed weighs like [`SEED_WEIGHT`] services.
//!
//! Everything is a function of the finished services' (end, duration) pairs, the services in
//! progress and the history: the store rebuilds the same figures after a restart.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::DEFAULT_SERVICE_SECS;
use crate::hall::{Millis, ServiceId};

/// Days of history the seed is taken from.
pub const HISTORY_DAYS: i64 = 56;
/// Services (by start, newest first) after which a service counts half.
pub const HALF_LIFE: f64 = 80.0;
/// How many services the history's figure is worth at the start of a day.
pub const SEED_WEIGHT: f64 = 60.0;
/// The same for the default figure, when there is no history at all.
const DEFAULT_WEIGHT: f64 = 2.0;
/// A history cell needs this many services to seed on its own.
const SEED_MIN_COUNT: u32 = 8;
/// Log-likelihood ratio above which the recent services are taken to come from another mean.
pub const CHANGE_LLR: f64 = 10.0;
/// Fewest finished services the change detector judges on.
const CHANGE_MIN_DONE: usize = 5;
/// The detector looks at most this far back (services, by start).
const CHANGE_SPAN: usize = 60;
/// Services older than this (by start) weigh less than 1/500 and are not looked at.
const SPAN: usize = 360;

/// One recorded duration, clamped so that a counter left on "serving" over lunch does not poison
/// the afternoon (and a mis-press does not count as a service).
pub fn clamp_secs(secs: u32) -> u32 {
    secs.clamp(10, 3 * 3600)
}

/// What the history says of one service on one weekday: mean and count, by local hour and for
/// the whole day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seed {
    pub by_hour: BTreeMap<u32, (f64, u32)>,
    pub any_hour: Option<(f64, u32)>,
}

impl Seed {
    /// The figure for `hour` and the number of services it is worth.
    pub fn at(&self, hour: u32) -> (f64, f64) {
        let enough = |c: &(f64, u32)| c.1 >= SEED_MIN_COUNT;
        match self.by_hour.get(&hour).filter(|c| enough(c)) {
            Some(&(mean, _)) => (mean, SEED_WEIGHT),
            None => match self.any_hour.filter(enough) {
                Some((mean, _)) => (mean, SEED_WEIGHT),
                None => (f64::from(DEFAULT_SERVICE_SECS), DEFAULT_WEIGHT),
            },
        }
    }
}

/// Total seconds and count of some services.
type Cell = (u64, u32);
/// The same by local hour.
type Cells = BTreeMap<u32, Cell>;

/// Finished services of past days: total seconds and count per service, business day and local
/// hour of the finish.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    cells: BTreeMap<(ServiceId, NaiveDate, u32), (u64, u32)>,
}

impl History {
    pub fn add(&mut self, service: &str, day: NaiveDate, hour: u32, secs: u32) {
        let c = self
            .cells
            .entry((service.to_string(), day, hour))
            .or_default();
        c.0 += u64::from(clamp_secs(secs));
        c.1 += 1;
    }

    /// Keep only the [`HISTORY_DAYS`] days before `day`.
    pub fn keep_before(&mut self, day: NaiveDate) {
        let from = day - chrono::Duration::days(HISTORY_DAYS);
        self.cells.retain(|(_, d, _), _| *d >= from && *d < day);
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Each service's seed for `weekday`: the same weekday by hour, and its whole history.
    pub fn seeds(&self, weekday: Weekday) -> BTreeMap<ServiceId, Seed> {
        let mut sums: BTreeMap<&str, (Cells, Cell)> = BTreeMap::new();
        for ((service, day, hour), (total, count)) in &self.cells {
            let s = sums.entry(service.as_str()).or_default();
            s.1.0 += total;
            s.1.1 += count;
            if day.weekday() == weekday {
                let h = s.0.entry(*hour).or_default();
                h.0 += total;
                h.1 += count;
            }
        }
        let mean = |(t, c): (u64, u32)| (t as f64 / f64::from(c.max(1)), c);
        sums.into_iter()
            .map(|(s, (hours, all))| {
                let seed = Seed {
                    by_hour: hours.into_iter().map(|(h, c)| (h, mean(c))).collect(),
                    any_hour: (all.1 > 0).then(|| mean(all)),
                };
                (s.to_string(), seed)
            })
            .collect()
    }
}

/// One service's durations today and its seed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceTimes {
    /// Finished services as (finished at, seconds), sorted: the order in which a store rebuilds
    /// them is not the order they finished in when two finish in the same millisecond.
    done: Vec<(Millis, u32)>,
    seed: Seed,
}

/// A service still at a counter: when it began and how long it has taken so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Running {
    pub began: Millis,
    pub secs: f64,
}

impl ServiceTimes {
    pub fn new(seed: Seed) -> Self {
        ServiceTimes {
            done: Vec::new(),
            seed,
        }
    }

    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    pub fn set_seed(&mut self, seed: Seed) {
        self.seed = seed;
    }

    /// A service finished at `at` after `secs` seconds.
    pub fn record(&mut self, at: Millis, secs: u32) {
        let item = (at, clamp_secs(secs));
        let i = self.done.partition_point(|x| *x <= item);
        self.done.insert(i, item);
    }

    /// Today's finished services, (finished at, seconds), in time order.
    pub fn done(&self) -> &[(Millis, u32)] {
        &self.done
    }

    pub fn len(&self) -> usize {
        self.done.len()
    }

    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// How many service times the mean at `hour` rests on: the day's and the history's seed.
    pub fn samples(&self, hour: u32) -> u32 {
        let enough = |c: &(f64, u32)| c.1 >= SEED_MIN_COUNT;
        let seed = match self.seed.by_hour.get(&hour).filter(|c| enough(c)) {
            Some(c) => c.1,
            None => self.seed.any_hour.filter(enough).map_or(0, |c| c.1),
        };
        self.done.len() as u32 + seed
    }

    /// Forget the day's services (a new day starts from the seed).
    pub fn clear_day(&mut self) {
        self.done.clear();
    }

    /// The mean from finished services only, at the seed of no particular hour (for callers that
    /// have no clock).
    pub fn typical_secs(&self) -> u32 {
        self.mean_secs(u32::MAX, &[]).round() as u32
    }

    /// The estimated mean service time in seconds at local hour `hour`, with `running` the
    /// services of this kind in progress now.
    pub fn mean_secs(&self, hour: u32, running: &[Running]) -> f64 {
        let (prior, prior_weight) = self.seed.at(hour);
        // Newest first by start: (seconds so far or in all, finished?).
        let mut items: Vec<(Millis, f64, bool)> = self
            .done
            .iter()
            .rev()
            .take(SPAN)
            .map(|&(end, secs)| (end - i64::from(secs) * 1000, f64::from(secs), true))
            .chain(running.iter().map(|r| (r.began, r.secs.max(0.0), false)))
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
        items.truncate(SPAN);
        let n = items.len();
        let decay = 0.5f64.powf(1.0 / HALF_LIFE);
        // Suffix sums of the recency-weighted exposure and completions, the seed oldest of all.
        let mut exposure = vec![0.0; n + 1];
        let mut completions = vec![0.0; n + 1];
        exposure[n] = prior_weight * prior;
        completions[n] = prior_weight;
        for i in (0..n).rev() {
            exposure[i] = items[i].1 + decay * exposure[i + 1];
            completions[i] = f64::from(u8::from(items[i].2)) + decay * completions[i + 1];
        }
        // The settled figure counts finished services only: their time so far makes services in
        // progress follow the length of the line (long services now, long line now), which the
        // wait multiplies into a bias; the detector below uses them, to see a slowdown early.
        let (mut done_exposure, mut done_count) = (prior_weight * prior, prior_weight);
        // By finish, not start: the newest services to have started and finished are the short
        // ones, the long ones of that time still running.
        for &(_, secs) in self.done.iter().rev().take(SPAN).rev() {
            done_exposure = f64::from(secs) + decay * done_exposure;
            done_count = 1.0 + decay * done_count;
        }
        let whole = done_exposure / done_count;
        // Change detector: the newest r services against all before them.
        let (mut best, mut best_mean) = (CHANGE_LLR, None);
        let (mut recent_exposure, mut recent_done) = (0.0, 0usize);
        for (r, item) in items.iter().enumerate().take(CHANGE_SPAN) {
            recent_exposure += item.1;
            recent_done += usize::from(item.2);
            if recent_done < CHANGE_MIN_DONE {
                continue;
            }
            let recent = recent_exposure / recent_done as f64;
            let before = exposure[r + 1] / completions[r + 1];
            let ratio = recent / before;
            let llr = recent_done as f64 * (ratio - 1.0 - ratio.ln());
            if llr > best {
                best = llr;
                best_mean = Some(recent);
            }
        }
        best_mean.unwrap_or(whole).max(1.0)
    }
}
