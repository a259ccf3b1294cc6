//! The mean service time of one service, as the wait estimate needs it: unbiased for skewed
//! durations, quick to follow a change, and seeded from the hall's own history.
//!
//! - Every finished service weighs by its recency (half-life [`HALF_LIFE`] services by finish),
//!   nothing is trimmed: dropping the longest biases a skewed mean low.
//! - A change may have happened before any of the most recent services. Every such point is
//!   weighed by how much better it explains the recent services than no change at all (a Bayes
//!   factor: exponential durations, the new mean drawn from a gamma prior centred on the old one),
//!   and the figure is the average of the means each point implies. A clear change moves the
//!   figure at once; a run of a few long or short services, which happens every day, moves it a
//!   little. Services still in progress count too, with their time so far and no completion (the
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
use super::breaks::{self, Breaks, DayChanges};
use super::no_show::Calls;
use crate::hall::{CallEnd, CounterId, Millis, ServiceId};

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
/// How sure the estimate is, before seeing them, that services after a change take about as
/// long as before: the gamma prior of the new rate is centred on the old mean and worth this many
/// services at it. A weaker prior mistakes every ordinary run of long services for a change (on
/// `sim`'s days a prior of 2 made RMSE 10–40 % worse, and a second, weaker kind of change beside
/// this one pushed the steady days' mean error past half a minute); the price is that a doubling
/// nobody declares is followed over one to two hours rather than at once (BENCHMARKS.md).
pub const CHANGE_PRIOR_SERVICES: f64 = 16.0;
/// The chance that the mean changes between one service and the next, staff saying nothing (once
/// in 5,000 services: a few weeks of one service in a hall). A slow business system is followed at
/// once when staff say so; an undeclared one more slowly than at once in 500, which cost every
/// steady day a little: the two-counter day 1.18× the known-μ estimator's RMSE against 1.14×
/// (BENCHMARKS.md).
pub const CHANGE_HAZARD: f64 = 0.0002;
/// How much surer a change is once staff said the business system is slow: the odds of "a change
/// shortly before they said so" against "no change" before any service is seen.
pub const DECLARED_ODDS: f64 = 20.0;
/// What the new mean's prior is worth after such a declaration: little, because how much slower
/// the system runs is not said.
pub const DECLARED_PRIOR_SERVICES: f64 = 4.0;
/// A declared slowdown may have begun this long before staff said so (they notice it on a
/// customer or two first).
pub const DECLARED_LOOKBACK_MS: Millis = 15 * 60_000;
/// Change points are looked for at most this far back (services, by start).
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
    /// What the hall's configuration says one service usually takes (seconds), for when the
    /// history has too little: a new hall, a new service.
    pub usual: Option<f64>,
}

impl Seed {
    /// The figure for `hour` and the number of services it is worth.
    pub fn at(&self, hour: u32) -> (f64, f64) {
        let enough = |c: &(f64, u32)| c.1 >= SEED_MIN_COUNT;
        match self.by_hour.get(&hour).filter(|c| enough(c)) {
            Some(&(mean, _)) => (mean, SEED_WEIGHT),
            None => match self.any_hour.filter(enough) {
                Some((mean, _)) => (mean, SEED_WEIGHT),
                None => (
                    self.usual.unwrap_or(f64::from(DEFAULT_SERVICE_SECS)),
                    DEFAULT_WEIGHT,
                ),
            },
        }
    }
}

/// Total seconds and count of some services.
type Cell = (u64, u32);
/// The same by local hour.
type Cells = BTreeMap<u32, Cell>;

/// Past days: finished services (total seconds and count per service, business day and local
/// hour of the finish), tickets issued (count per service, business day and local hour of the
/// issue), calls that ended (served or not come, per service and business day) and the counters'
/// state changes (by counter and business day, local minute of the day).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    cells: BTreeMap<(ServiceId, NaiveDate, u32), (u64, u32)>,
    arrivals: BTreeMap<(ServiceId, NaiveDate, u32), u32>,
    calls: BTreeMap<(ServiceId, NaiveDate), Calls>,
    counter_changes: BTreeMap<(CounterId, NaiveDate), DayChanges>,
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

    /// A ticket of `service` issued on `day` in the local `hour`.
    pub fn add_arrival(&mut self, service: &str, day: NaiveDate, hour: u32) {
        *self
            .arrivals
            .entry((service.to_string(), day, hour))
            .or_default() += 1;
    }

    /// A call of `service` on `day` that ended.
    pub fn add_call_end(&mut self, service: &str, day: NaiveDate, end: CallEnd) {
        self.calls
            .entry((service.to_string(), day))
            .or_default()
            .add(end);
    }

    /// Each service's calls that ended, over the whole history.
    pub fn calls(&self) -> BTreeMap<ServiceId, Calls> {
        let mut out: BTreeMap<ServiceId, Calls> = BTreeMap::new();
        for ((service, _), c) in &self.calls {
            out.entry(service.clone()).or_default().merge(c);
        }
        out
    }

    /// Counter `counter` opened (`open`) or stopped calling (paused or closed) on `day` at the
    /// local `minute` of the day. Changes of one counter and day come in the order they happened.
    pub fn add_counter_change(
        &mut self,
        counter: CounterId,
        day: NaiveDate,
        minute: u16,
        open: bool,
    ) {
        self.counter_changes
            .entry((counter, day))
            .or_default()
            .push((minute, open));
    }

    /// Keep only the [`HISTORY_DAYS`] days before `day`.
    pub fn keep_before(&mut self, day: NaiveDate) {
        let from = day - chrono::Duration::days(HISTORY_DAYS);
        self.cells.retain(|(_, d, _), _| *d >= from && *d < day);
        self.arrivals.retain(|(_, d, _), _| *d >= from && *d < day);
        self.calls.retain(|(_, d), _| *d >= from && *d < day);
        self.counter_changes
            .retain(|(_, d), _| *d >= from && *d < day);
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
            && self.arrivals.is_empty()
            && self.calls.is_empty()
            && self.counter_changes.is_empty()
    }

    /// Each counter's usual breaks on `weekday` ([`breaks`](super::breaks)), over the days of
    /// that weekday on which the hall issued a ticket or a counter changed state.
    pub fn usual_breaks(&self, weekday: Weekday) -> BTreeMap<CounterId, Breaks> {
        let days = breaks::of_weekday(
            self.arrivals
                .keys()
                .map(|(_, d, _)| *d)
                .chain(self.counter_changes.keys().map(|(_, d)| *d)),
            weekday,
        );
        breaks::usual_breaks(&self.counter_changes, &days)
    }

    /// Tickets issued per service and local hour on an average `weekday`: over the days of that
    /// weekday on which the hall issued any ticket, so that a closed day does not dilute them.
    pub fn arrivals_by_hour(&self, weekday: Weekday) -> BTreeMap<ServiceId, BTreeMap<u32, f64>> {
        let days: std::collections::BTreeSet<NaiveDate> = self
            .arrivals
            .keys()
            .map(|(_, d, _)| *d)
            .filter(|d| d.weekday() == weekday)
            .collect();
        let mut out: BTreeMap<ServiceId, BTreeMap<u32, f64>> = BTreeMap::new();
        if days.is_empty() {
            return out;
        }
        let share = 1.0 / days.len() as f64;
        for ((service, day, hour), n) in &self.arrivals {
            if day.weekday() == weekday {
                *out.entry(service.clone())
                    .or_default()
                    .entry(*hour)
                    .or_default() += f64::from(*n) * share;
            }
        }
        out
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
                    usual: None,
                };
                (s.to_string(), seed)
            })
            .collect()
    }
}

/// What kind of stretch of the day a [`Disruption`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisruptionKind {
    /// Staff said the business system is slow: services take longer, and the estimate should
    /// follow at once.
    Slow,
    /// The business system was down: a customer at a counter then waited for it, and the time
    /// says nothing of how long a service takes.
    Outage,
}

/// A stretch of the day whose services do not speak for the usual speed, from `start` until `end`
/// (still going on when `None`).
///
/// - While a slow system lasts, a change shortly before `start` is taken as likely; once it is
///   over, the services that ran in it no longer count.
/// - The services that ran in an outage never count.
/// - Neither's count in the history that seeds later days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disruption {
    pub kind: DisruptionKind,
    pub start: Millis,
    pub end: Option<Millis>,
}

impl Disruption {
    /// Did a service from `began` to `ended` run in this stretch (or since it began, while it goes
    /// on)?
    pub fn overlaps(&self, began: Millis, ended: Millis) -> bool {
        began < self.end.unwrap_or(Millis::MAX) && ended > self.start
    }

    /// Does a service from `began` to `ended` stay out of today's mean now? A slow system's
    /// services are the evidence of it until it is over.
    fn leaves_out_today(&self, began: Millis, ended: Millis) -> bool {
        (self.kind == DisruptionKind::Outage || self.end.is_some()) && self.overlaps(began, ended)
    }

    /// Does a service that finished at `end` after `secs` seconds stay out of the history, among
    /// its day's `disruptions` (one still going on at the day's close lasted to it)?
    pub fn left_out(disruptions: &[Disruption], end: Millis, secs: u32) -> bool {
        let began = end - i64::from(clamp_secs(secs)) * 1000;
        disruptions.iter().any(|p| p.overlaps(began, end))
    }

    /// Since when staff say the business system is slow, if they do now, among `disruptions`
    /// (in the order they began).
    pub fn slow_since(disruptions: &[Disruption]) -> Option<Millis> {
        disruptions
            .iter()
            .rev()
            .find(|d| d.kind == DisruptionKind::Slow)
            .filter(|d| d.end.is_none())
            .map(|d| d.start)
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

    /// The configured usual time ([`Seed::usual`]) changed.
    pub fn set_usual(&mut self, secs: Option<f64>) {
        self.seed.usual = secs;
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
        self.mean_secs(u32::MAX, &[], &[]).round() as u32
    }

    /// The estimated mean service time in seconds at local hour `hour`, with `running` the
    /// services of this kind in progress now and `disruptions` today's slow systems and outages.
    pub fn mean_secs(&self, hour: u32, running: &[Running], disruptions: &[Disruption]) -> f64 {
        let (prior, prior_weight) = self.seed.at(hour);
        let left_out =
            |began: Millis, end: Millis| disruptions.iter().any(|p| p.leaves_out_today(began, end));
        let counts = |end: Millis, secs: u32| !left_out(end - i64::from(secs) * 1000, end);
        // Newest first by start: (seconds so far or in all, finished?).
        let mut items: Vec<(Millis, f64, bool)> = self
            .done
            .iter()
            .rev()
            .filter(|&&(end, secs)| counts(end, secs))
            .take(SPAN)
            .map(|&(end, secs)| (end - i64::from(secs) * 1000, f64::from(secs), true))
            .chain(
                running
                    .iter()
                    // One that has stood through an outage tells nothing of how long they take.
                    .filter(|r| !left_out(r.began, r.began + (r.secs.max(0.0) * 1000.0) as Millis))
                    .map(|r| (r.began, r.secs.max(0.0), false)),
            )
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
        // By finish, not start: the newest services to have started and finished are the short
        // ones, the long ones of that time still running. Newest first, each weighing `decay`
        // less than the one after it, the seed behind the oldest.
        let (mut done_exposure, mut done_count, mut weight) = (0.0, 0.0, 1.0);
        let done = self
            .done
            .iter()
            .rev()
            .filter(|&&(end, secs)| counts(end, secs));
        for &(_, secs) in done.take(SPAN) {
            done_exposure += weight * f64::from(secs);
            done_count += weight;
            weight *= decay;
        }
        let whole =
            (done_exposure + weight * prior_weight * prior) / (done_count + weight * prior_weight);
        let slow_since = Disruption::slow_since(disruptions);
        change_weighted(&items, &exposure, &completions, whole, slow_since).max(1.0)
    }
}

/// How the services since staff marked the business system slow compare with before it: the
/// facts a clerk keeps or ends the mark on. Only services begun after the mark count, and each
/// is set against what its own service took before (today's services begun and finished before
/// the mark and outside any outage or earlier slowness, seeded from the history as the estimate
/// is), so that a mix of quick and long services does not pass for a change. Those still at a
/// counter count with their time so far and no completion (as in the mean estimate): counted
/// only once finished, the first to finish after a mark are the short ones, and a real doubling
/// read at a quarter of an hour looked like no change at all (`day_sim --declared`, BENCHMARKS.md).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlowPace {
    /// Services begun since the mark and finished.
    pub services: u32,
    /// Their time, and that of those begun since and still at a counter, over what the same
    /// services took before the mark, per service finished; `None` before the first finishes.
    pub ratio: Option<f64>,
    /// The same over the newest [`RECENT_SERVICES`] finished (by start, with those begun among
    /// them and still at a counter): whether the system is slow *now*, which the whole stretch
    /// since the mark, its slow hours included, is slow to say once it has recovered. `None`
    /// until that many have finished.
    #[serde(default)]
    pub recent: Option<f64>,
    /// `recent` is at most [`RECENT_USUAL_RATIO`]: the newest services run about as quickly as
    /// before the mark, and ending it is proposed (the system may have recovered, and the mark
    /// been forgotten).
    #[serde(default)]
    pub usual_again: bool,
}

/// How many of the newest services since a slow mark [`SlowPace::recent`] reads.
pub const RECENT_SERVICES: u32 = 30;
/// At or under this [`SlowPace::recent`], the services run about as quickly as before the mark,
/// and ending it is proposed ([`SlowPace::usual_again`]). On `sim`'s days (`day_sim --declared
/// 2`, looked at every 5 minutes for 4 hours, three sets of 100 seeds), a mark on a system that
/// was not slow is proposed for ending on every day, first at about an hour (median +65 min at
/// three counters); a real doubling wrongly on 3–4 days in 100 (a ×1.8 day on 0–2), hours into
/// it and while it lasts only. Twenty services at ×1.2 had proposed ending 20 doublings in 100
/// (BENCHMARKS.md).
pub const RECENT_USUAL_RATIO: f64 = 1.15;

impl SlowPace {
    /// The pace since `since` of every service: its times today with those of it at a counter
    /// now; `hour` the local hour (for the history's seed), `disruptions` the day's outages and
    /// slow systems.
    pub fn of<'a>(
        services: impl IntoIterator<Item = (&'a ServiceTimes, &'a [Running])>,
        since: Millis,
        hour: u32,
        disruptions: &[Disruption],
    ) -> SlowPace {
        // Every service begun since the mark: (began, time in units of its own usual, finished).
        let mut begun: Vec<(Millis, f64, bool)> = Vec::new();
        for (t, running) in services {
            let began = |&(end, secs): &(Millis, u32)| end - i64::from(secs) * 1000;
            let (after, before): (Vec<_>, Vec<_>) = t.done.iter().partition(|d| began(d) >= since);
            let still: Vec<&Running> = running.iter().filter(|r| r.began >= since).collect();
            if after.is_empty() && still.is_empty() {
                continue;
            }
            let (prior, weight) = t.seed.at(hour);
            let (sum, n) = before
                .iter()
                .filter(|&&&(end, secs)| {
                    end < since && !Disruption::left_out(disruptions, end, secs)
                })
                .fold((prior * weight, weight), |(s, n), &&(_, secs)| {
                    (s + f64::from(secs), n + 1.0)
                });
            let usual = sum / n;
            if usual <= 0.0 {
                continue;
            }
            begun.extend(
                after
                    .iter()
                    .map(|d| (began(d), f64::from(d.1) / usual, true)),
            );
            begun.extend(
                still
                    .iter()
                    .map(|r| (r.began, r.secs.max(0.0) / usual, false)),
            );
        }
        let pace = |items: &[(Millis, f64, bool)]| {
            let finished = items.iter().filter(|i| i.2).count() as u32;
            let took: f64 = items.iter().map(|i| i.1).sum();
            (finished, (finished > 0).then(|| took / f64::from(finished)))
        };
        let (services, ratio) = pace(&begun);
        // Newest first by start, up to the RECENT_SERVICES-th finished one.
        begun.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut seen = 0;
        let window = begun
            .iter()
            .position(|i| {
                seen += u32::from(i.2);
                seen == RECENT_SERVICES
            })
            .map(|last| &begun[..=last]);
        let recent = window.and_then(|w| pace(w).1);
        SlowPace {
            services,
            ratio,
            recent,
            usual_again: recent.is_some_and(|r| r <= RECENT_USUAL_RATIO),
        }
    }
}

/// The mean service time averaged over "no change" (the settled figure `whole`) and "a change
/// just before the newest r services", for every r up to [`CHANGE_SPAN`], each weighed by its
/// prior chance times its Bayes factor against no change.
///
/// `items` are the services newest first by start as (start, seconds so far or in all, finished);
/// `exposure` and `completions` the recency-weighted suffix sums over them (the seed oldest of
/// all), whose ratio at r + 1 is the mean before a change at r.
///
/// While staff say the system is slow (since `slow_since`), the changes that put every service
/// started since then after the change, and perhaps some started up to
/// [`DECLARED_LOOKBACK_MS`] before, are also weighed as declared: more likely
/// ([`DECLARED_ODDS`]), with a weak prior of the new mean ([`DECLARED_PRIOR_SERVICES`]), and
/// never faster than before.
fn change_weighted(
    items: &[(Millis, f64, bool)],
    exposure: &[f64],
    completions: &[f64],
    whole: f64,
    slow_since: Option<Millis>,
) -> f64 {
    let declared = |r: usize| {
        slow_since.is_some_and(|s| {
            items[r].0 >= s - DECLARED_LOOKBACK_MS && items.get(r + 1).is_none_or(|i| i.0 < s)
        })
    };
    let span = items.len().min(CHANGE_SPAN);
    let declared_count = (0..span).filter(|&r| declared(r)).count();
    let declared_prior = (DECLARED_ODDS / declared_count.max(1) as f64).ln();
    // (log weight, mean) of each hypothesis; "no change" has prior weight about 1.
    let mut hypotheses: Vec<(f64, f64)> = Vec::with_capacity(CHANGE_SPAN + 1);
    hypotheses.push((0.0, whole));
    // Recent exposure (seconds) and completions.
    let (mut x, mut d) = (0.0f64, 0.0f64);
    // The last (a, d, ln Γ(a + d) − ln Γ(a)).
    let mut last: Option<(f64, f64, f64)> = None;
    for (r, item) in items.iter().enumerate().take(CHANGE_SPAN) {
        x += item.1;
        d += f64::from(u8::from(item.2));
        let before = exposure[r + 1] / completions[r + 1];
        if before.is_nan() || before <= 0.0 {
            continue;
        }
        // Without a change the recent services' likelihood is λ^d·e^(−λx) with λ = 1/before.
        let unchanged = -d * before.ln() - x / before;
        // The prior is no surer of the old mean than the services behind it: a day that starts
        // from the default figure alone takes its own services as they come.
        let a = CHANGE_PRIOR_SERVICES.min(completions[r + 1]);
        let b = a * before;
        // The same likelihood with λ ~ Gamma(shape a, rate b) integrated out.
        let log_gamma_ratio = match last {
            // Mostly the prior stays put and d grows by one or not at all: Γ(z + 1) = z·Γ(z).
            Some((la, ld, v)) if la == a && ld == d => v,
            Some((la, ld, v)) if la == a && ld + 1.0 == d => v + (a + ld).ln(),
            _ => ln_gamma(a + d) - ln_gamma(a),
        };
        last = Some((a, d, log_gamma_ratio));
        let marginal = a * b.ln() + log_gamma_ratio - (a + d) * (b + x).ln();
        // The new mean as the prior and the recent services say it together.
        let mean = (b + x) / (a + d);
        hypotheses.push((CHANGE_HAZARD.ln() + marginal - unchanged, mean));
        if declared(r) {
            let a = DECLARED_PRIOR_SERVICES.min(completions[r + 1]);
            let b = a * before;
            let marginal = a * b.ln() + ln_gamma(a + d) - ln_gamma(a) - (a + d) * (b + x).ln();
            let mean = ((b + x) / (a + d)).max(before);
            hypotheses.push((declared_prior + marginal - unchanged, mean));
        }
    }
    let top = hypotheses
        .iter()
        .map(|h| h.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut weights, mut sum) = (0.0, 0.0);
    for (log_weight, mean) in hypotheses {
        let w = (log_weight - top).exp();
        weights += w;
        sum += w * mean;
    }
    sum / weights
}

/// ln Γ(x) for x > 0 (Lanczos' approximation, g = 7, nine terms; relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let sum = C[0]
        + C[1..]
            .iter()
            .enumerate()
            .map(|(i, c)| c / (x + i as f64 + 1.0))
            .sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod change_tests {
    use super::*;

    #[test]
    fn ln_gamma_agrees_with_factorials() {
        let mut factorial = 1.0f64;
        for n in 1..30u32 {
            // Γ(n) = (n − 1)!
            assert!(
                (ln_gamma(f64::from(n)) - factorial.ln()).abs() < 1e-10,
                "{n}"
            );
            factorial *= f64::from(n);
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn the_pace_since_a_slow_mark_sets_each_service_against_its_own_usual() {
        // Quick payments (2 min) and long accounts (10 min) before the mark at 10_000 s; after
        // it, payments take 4 minutes and accounts 20: twice as long, whatever the mix.
        let mark: Millis = 10_000_000;
        let mut pay = ServiceTimes::new(Seed::default());
        let mut account = ServiceTimes::new(Seed::default());
        for i in 0..40 {
            pay.record(1_000_000 + i * 120_000, 120);
        }
        for i in 0..10 {
            account.record(2_000_000 + i * 600_000, 600);
        }
        // A service begun before the mark and finished after it counts on neither side.
        pay.record(mark + 60_000, 180);
        let none = SlowPace::of([(&pay, &[][..]), (&account, &[][..])], mark, 10, &[]);
        assert_eq!(
            (none.services, none.ratio),
            (0, None),
            "nothing finished since"
        );
        for i in 1..=6 {
            pay.record(mark + i * 240_000, 240);
        }
        account.record(mark + 1_200_000, 1_200);
        let pace = SlowPace::of([(&pay, &[][..]), (&account, &[][..])], mark, 10, &[]);
        assert_eq!(pace.services, 7);
        // The default seed (5 minutes, worth two services) pulls "before" a little towards 5.
        let r = pace.ratio.unwrap();
        assert!((1.8..=2.05).contains(&r), "{r}");
        // The same durations pooled would read (6×240 + 1200) / (7 × mean of all before) ≈ 1.4.

        // Services that ran in an outage before the mark do not make "before" look slow.
        let outage = Disruption {
            kind: DisruptionKind::Outage,
            start: 1_000_000,
            end: Some(4_000_000),
        };
        let mut slow_before = pay.clone();
        slow_before.record(3_900_000, 2_400);
        let with = SlowPace::of(
            [(&slow_before, &[][..]), (&account, &[][..])],
            mark,
            10,
            &[outage],
        );
        let without = SlowPace::of([(&pay, &[][..]), (&account, &[][..])], mark, 10, &[outage]);
        assert_eq!(with.ratio, without.ratio);

        // A service begun since the mark and still at a counter counts with its time so far: 30
        // minutes of an account (three of its usual) lift the figure though it has not finished.
        let at_counter = [Running {
            began: mark + 100_000,
            secs: 1_800.0,
        }];
        let longer = SlowPace::of(
            [(&pay, &[][..]), (&account, &at_counter[..])],
            mark,
            10,
            &[],
        );
        assert_eq!(longer.services, 7, "still counted as seven finished");
        let (r, r2) = (pace.ratio.unwrap(), longer.ratio.unwrap());
        assert!(r2 > r + 0.35, "{r} → {r2}");
        // One begun before the mark counts on neither side.
        let earlier = [Running {
            began: mark - 1,
            secs: 1_800.0,
        }];
        let same = SlowPace::of([(&pay, &[][..]), (&account, &earlier[..])], mark, 10, &[]);
        assert_eq!(same, pace);
    }

    #[test]
    fn a_slowness_that_ended_under_a_forgotten_mark_is_proposed_for_ending_by_the_newest_services()
    {
        // Payments take 4 minutes before a mark at 10_000 s, then 8 minutes for 40 services,
        // then 4 again. Nobody ends the mark.
        let window = i64::from(RECENT_SERVICES);
        let mark: Millis = 10_000_000;
        let mut pay = ServiceTimes::new(Seed::default());
        for i in 0..60 {
            pay.record(1_000_000 + i * 80_000, 240);
        }
        for i in 0..40 {
            pay.record(mark + i * 160_000 + 480_000, 480);
        }
        let slow = SlowPace::of([(&pay, &[][..])], mark, 10, &[]);
        let (whole, recent) = (slow.ratio.unwrap(), slow.recent.unwrap());
        assert!(whole > 1.8 && recent > 1.8, "{whole} {recent}");
        assert!(!slow.usual_again);

        // All but five of the newest quick: those five slow ones keep it above the line.
        let back = mark + 40 * 160_000;
        for i in 0..window - 5 {
            pay.record(back + i * 80_000 + 240_000, 240);
        }
        let mixed = SlowPace::of([(&pay, &[][..])], mark, 10, &[]);
        assert!(!mixed.usual_again, "{mixed:?}");
        // All the newest quick: they read as before the mark, though the whole stretch since it,
        // with its forty slow services, still reads about 1.6.
        for i in window - 5..window {
            pay.record(back + i * 80_000 + 240_000, 240);
        }
        let quick = SlowPace::of([(&pay, &[][..])], mark, 10, &[]);
        let (whole, recent) = (quick.ratio.unwrap(), quick.recent.unwrap());
        assert!(whole > 1.5, "{whole}");
        assert!(recent < 1.05, "{recent}");
        assert!(quick.usual_again);
        assert_eq!(i64::from(quick.services), 40 + window);

        // A counter that has held a customer for 40 minutes since is among the newest, with its
        // time so far: not yet the usual speed.
        let long = [Running {
            began: back + window * 80_000,
            secs: 2_400.0,
        }];
        let held = SlowPace::of([(&pay, &long[..])], mark, 10, &[]);
        assert!(held.recent.unwrap() > RECENT_USUAL_RATIO, "{held:?}");
        assert!(!held.usual_again);

        // Fewer than the window since the mark: no recent pace, whatever the ratio.
        let mut few = ServiceTimes::new(Seed::default());
        for i in 0..60 {
            few.record(1_000_000 + i * 80_000, 240);
        }
        for i in 0..window - 1 {
            few.record(mark + i * 80_000 + 240_000, 240);
        }
        let early = SlowPace::of([(&few, &[][..])], mark, 10, &[]);
        assert_eq!(early.recent, None);
        assert_eq!(i64::from(early.services), window - 1);
        assert!(!early.usual_again);
    }

    fn times(secs: &[u32]) -> ServiceTimes {
        let mut t = ServiceTimes::new(Seed::default());
        let mut at = 0;
        for &s in secs {
            at += i64::from(s) * 1000;
            t.record(at, s);
        }
        t
    }

    #[test]
    fn a_clear_change_is_followed_and_an_ordinary_run_barely_moves_the_mean() {
        // 200 services of 5 minutes, then 20 of 10: on the way to the new figure; 40 of 10: most of
        // the way (the prior still holds it back by about a fifth; BENCHMARKS.md).
        let mut secs = vec![300; 200];
        secs.extend([600; 20]);
        let m = times(&secs).mean_secs(10, &[], &[]);
        assert!((350.0..=620.0).contains(&m), "{m}");
        secs.extend([600; 20]);
        let m = times(&secs).mean_secs(10, &[], &[]);
        assert!((480.0..=620.0).contains(&m), "{m}");
        // 200 of 5 minutes, then three of 8: long services happen; the mean stays near 5 min.
        let mut secs = vec![300; 200];
        secs.extend([480; 3]);
        let m = times(&secs).mean_secs(10, &[], &[]);
        assert!((300.0..=330.0).contains(&m), "{m}");
    }

    #[test]
    fn a_declared_slow_system_is_followed_at_once_and_forgotten_when_it_is_over() {
        // 200 services of 5 minutes, then staff say the system is slow, then three of 10.
        let mut secs = vec![300; 200];
        let said_at = 200 * 300_000;
        secs.extend([600; 3]);
        let t = times(&secs);
        let ongoing = [Disruption {
            kind: DisruptionKind::Slow,
            start: said_at,
            end: None,
        }];
        let unsaid = t.mean_secs(10, &[], &[]);
        let said = t.mean_secs(10, &[], &ongoing);
        assert!(
            unsaid < 340.0,
            "three long services are no change: {unsaid}"
        );
        // A prior worth four services of the old mean beside them: 400 s, on the way to 600.
        assert!(
            said > 380.0 && said > 1.2 * unsaid,
            "but they are once staff said so: {said} ({unsaid})"
        );
        // Nothing seen yet: the declaration alone does not move the figure.
        let before = times(&[300; 200]);
        let m = before.mean_secs(10, &[], &ongoing);
        assert!((m - before.mean_secs(10, &[], &[])).abs() < 1.0, "{m}");
        // Over: the three slow services no longer count, nor lengthen the figure.
        let over = [Disruption {
            kind: DisruptionKind::Slow,
            start: said_at,
            end: Some(said_at + 1_800_000),
        }];
        let m = t.mean_secs(10, &[], &over);
        assert!((m - before.mean_secs(10, &[], &[])).abs() < 1.0, "{m}");
        // A service that overlaps it stays out of the history too; one before it does not.
        assert!(Disruption::left_out(&over, said_at + 60_000, 300));
        assert!(!Disruption::left_out(&over, said_at, 300));
    }

    #[test]
    fn a_service_stretched_by_an_outage_does_not_count() {
        // 200 services of 5 minutes; the next one at a counter waits out a 40-minute outage.
        let mut secs = vec![300; 200];
        secs.push(45 * 60);
        let t = times(&secs);
        let settled = times(&[300; 200]).mean_secs(10, &[], &[]);
        let down_at = 200 * 300_000 + 60_000;
        let mut outage = Disruption {
            kind: DisruptionKind::Outage,
            start: down_at,
            end: None,
        };
        assert!(t.mean_secs(10, &[], &[]) > settled + 10.0);
        // Going on or over, it is left out alike.
        assert!((t.mean_secs(10, &[], &[outage]) - settled).abs() < 1.0);
        outage.end = Some(down_at + 40 * 60_000);
        assert!((t.mean_secs(10, &[], &[outage]) - settled).abs() < 1.0);
        assert_eq!(Disruption::slow_since(&[outage]), None);
    }

    #[test]
    fn counters_running_long_are_seen_before_they_finish() {
        let t = times(&[300; 200]);
        let settled = t.mean_secs(10, &[], &[]);
        let at = |n: i64, secs: f64| -> Vec<Running> {
            (0..n)
                .map(|i| Running {
                    began: 200 * 300_000 + i,
                    secs,
                })
                .collect()
        };
        // Two counters at 25 minutes where 200 services took 5 move the figure a little: a change
        // is rare ([`CHANGE_HAZARD`]), and two long customers are not one yet. Three at 40 minutes
        // are: the figure doubles before any of them finishes.
        let two = t.mean_secs(10, &at(2, 1500.0), &[]);
        assert!(two > settled && two < 1.05 * settled, "{two}");
        let running = at(3, 2400.0);
        assert!(t.mean_secs(10, &running, &[]) > 2.0 * settled);
        // Not when they have stood through an outage, going on or over.
        let mut outage = Disruption {
            kind: DisruptionKind::Outage,
            start: 200 * 300_000 + 60_000,
            end: None,
        };
        assert!((t.mean_secs(10, &running, &[outage]) - settled).abs() < 1.0);
        outage.end = Some(outage.start + 20 * 60_000);
        assert!((t.mean_secs(10, &running, &[outage]) - settled).abs() < 1.0);
    }
}
