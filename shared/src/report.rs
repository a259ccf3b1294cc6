//! Reports and customer satisfaction for the manager: a period's tickets, calls, waits, services,
//! incidents, callbacks, estimate error, counters' opening times and ratings, grouped by service,
//! counter, clerk, day and hour — computed here from plain rows, with no I/O.
//!
//! The store (`Store::report`) selects the rows of the period with SQL; everything below is pure.
//!
//! # Definitions
//!
//! All durations come from the `tickets` table in milliseconds and are reported in seconds.
//!
//! - **Waiting time** of a ticket that was called: `first_called_at − issued_at`. A transfer keeps the
//!   customer's place, so only the first call ends the wait. Tickets never called (still waiting,
//!   expired overnight) have no waiting time; they are counted in `never_called`.
//! - **Service time** of a finished ticket: `finished_at − coalesce(started_at, called_at)` (the last
//!   service, at the counter that finished it).
//! - **Within target**: share of called tickets whose waiting time is at most
//!   `thresholds.target_wait_min` minutes (e.g. 0.85 = 85 % within 15 minutes). Denominator: called tickets.
//! - **Long service**: a finished ticket whose service time is over `thresholds.long_service_min` minutes.
//! - **Long wait incident**: a `long_wait_began` event, closed by the next `long_wait_ended` of the same
//!   service on the same day (an incident still open at the end of the period has no duration).
//! - **Median and 90th percentile**: linear interpolation between closest ranks on the sorted values,
//!   the same as Excel's `MEDIAN` and `PERCENTILE.INC`: `h = (n − 1)·p`, value = `v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])`.
//! - **Estimate error** of a called ticket: actual waiting time − `estimated_wait_s` (positive: the
//!   customer waited longer than the ticket promised). Mean signed and mean absolute error, RMSE,
//!   and the share called more than 5 minutes after the printed wait: the definitions of
//!   [`crate::estimate::ErrorStats`], which the day simulator measures with too.
//! - **Callbacks**: captured in the period (`callback_captured` events); resolved = the first
//!   `callback_updated` to `resolved` of such a callback, whenever it happened; resolve delay =
//!   resolved − captured.
//! - **Counter opening**: the first `counter_state_changed` to `open` of each counter on each day, in
//!   the hall's local time, against `hours.opening`: `before_opening_s` is positive when the counter
//!   opened early. Rulebook Ch.3 §1.1 wants staff in place 10 minutes before opening
//!   ([`STAFF_IN_PLACE_BEFORE_OPENING_S`]).
//! - **Satisfaction**: one rating (1–5) per finished ticket; `satisfied_share` = ratings of 4 or 5 over
//!   all ratings; `response_rate` = ratings over tickets served.
//!
//! # Attribution to groups
//!
//! - **Totals, by day, by hour**: every ticket in its business day and its local hour of issue (the
//!   hour the customer arrived), with everything that happened to it.
//! - **By service**: `issued`, `called`, `never_called`, waiting time and `transfers` go to the service
//!   the customer took a ticket for (`first_service`); `served`, `no_shows`, service time, long
//!   services and ratings go to the service the ticket ended in (`service`), where the work was done.
//! - **By counter / by clerk**: `called` and waiting time go to the counter / clerk of the first call;
//!   `served`, service time and long services to the one that finished the ticket; `no_shows` to the
//!   one that marked it; `transfers` to the one that transferred it (one per transfer); ratings to the
//!   counter the rating was given at (by clerk: the clerk who finished the ticket). `issued` and
//!   `never_called` are 0 there: counters and clerks do not issue tickets in this report. The clerk is
//!   the login that acted (the event's actor).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::{Datelike, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::hall::{CounterId, Lang, Millis, Now, TicketState};

/// Ch.3 §1.1: staff in place ten minutes before the hall opens.
pub const STAFF_IN_PLACE_BEFORE_OPENING_S: i64 = 600;

// ---------------------------------------------------------------------------------------------
// Period

/// Business days `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The first day a report may cover. Days are stored and compared as `YYYY-MM-DD` text, and
    /// every instant of the hall is after 1970, so nothing before can hold a ticket.
    pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };
    /// The last day a report may cover: four-digit years keep the stored day text in date order,
    /// and weeks and months around it stay far from the calendar's limits (a week around
    /// `-262143-01-01` overflowed).
    pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
        Some(d) => d,
        None => NaiveDate::MAX,
    };

    /// Whether `d` may be asked about: [`Period::FIRST_DAY`] to [`Period::LAST_DAY`].
    pub fn in_range(d: NaiveDate) -> bool {
        (Period::FIRST_DAY..=Period::LAST_DAY).contains(&d)
    }

    /// `from..=to`; the two are swapped if given in the wrong order.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Period {
        if from <= to {
            Period { from, to }
        } else {
            Period { from: to, to: from }
        }
    }

    pub fn day(d: NaiveDate) -> Period {
        Period { from: d, to: d }
    }

    /// The week (Monday to Sunday) holding `d`, cut to the range; `None` when `d` is out of it.
    pub fn week(d: NaiveDate) -> Option<Period> {
        let back = u64::from(d.weekday().num_days_from_monday());
        let from = d.checked_sub_days(chrono::Days::new(back))?;
        let to = from.checked_add_days(chrono::Days::new(6))?;
        Period::bounded(d, from, to)
    }

    /// The calendar month holding `d`; `None` when `d` is out of range.
    pub fn month(d: NaiveDate) -> Option<Period> {
        let from = d.with_day(1)?;
        let next = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year().checked_add(1)?, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        };
        Period::bounded(d, from, next?.pred_opt()?)
    }

    /// The calendar year holding `d`; `None` when `d` is out of range.
    pub fn year(d: NaiveDate) -> Option<Period> {
        Period::bounded(
            d,
            NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
            NaiveDate::from_ymd_opt(d.year(), 12, 31)?,
        )
    }

    fn bounded(d: NaiveDate, from: NaiveDate, to: NaiveDate) -> Option<Period> {
        Period::in_range(d).then(|| Period {
            from: from.max(Period::FIRST_DAY),
            to: to.min(Period::LAST_DAY),
        })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

// ---------------------------------------------------------------------------------------------
// Satisfaction

/// The five-level scale asked after a finished ticket, one rating per visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Satisfaction {
    VeryDissatisfied = 1,
    Dissatisfied = 2,
    Fair = 3,
    Satisfied = 4,
    VerySatisfied = 5,
}

impl Satisfaction {
    /// In the order the customer sees them: 非常满意 first.
    pub const ALL: [Satisfaction; 5] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Fair,
        Satisfaction::Dissatisfied,
        Satisfaction::VeryDissatisfied,
    ];

    pub fn from_score(score: u8) -> Option<Satisfaction> {
        Some(match score {
            1 => Satisfaction::VeryDissatisfied,
            2 => Satisfaction::Dissatisfied,
            3 => Satisfaction::Fair,
            4 => Satisfaction::Satisfied,
            5 => Satisfaction::VerySatisfied,
            _ => return None,
        })
    }

    pub fn score(self) -> u8 {
        self as u8
    }

    pub fn zh(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "非常满意",
            Satisfaction::Satisfied => "满意",
            Satisfaction::Fair => "基本满意",
            Satisfaction::Dissatisfied => "不满意",
            Satisfaction::VeryDissatisfied => "非常不满意",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Very satisfied",
            Satisfaction::Satisfied => "Satisfied",
            Satisfaction::Fair => "Fairly satisfied",
            Satisfaction::Dissatisfied => "Dissatisfied",
            Satisfaction::VeryDissatisfied => "Very dissatisfied",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            _ => self.en(),
        }
    }

    /// 满意 or 非常满意.
    pub fn is_satisfied(self) -> bool {
        self.score() >= 4
    }
}

impl From<Satisfaction> for u8 {
    fn from(s: Satisfaction) -> u8 {
        s.score()
    }
}

impl TryFrom<u8> for Satisfaction {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Satisfaction::from_score(v).ok_or_else(|| format!("a rating is 1 to 5, not {v}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Input rows

/// A ticket as the `tickets` table keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    pub day: NaiveDate,
    pub number: String,
    /// The service it ended in.
    pub service: String,
    /// The service it was issued for.
    pub first_service: String,
    pub state: TicketState,
    /// The last counter that had it.
    pub counter: Option<CounterId>,
    pub issued_at: Millis,
    pub first_called_at: Option<Millis>,
    pub called_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub transfers: u32,
    pub estimated_wait_s: u32,
}

impl TicketRow {
    pub fn wait_ms(&self) -> Option<i64> {
        self.first_called_at.map(|c| (c - self.issued_at).max(0))
    }

    pub fn service_ms(&self) -> Option<i64> {
        if self.state != TicketState::Finished {
            return None;
        }
        let from = self.started_at.or(self.called_at)?;
        self.finished_at.map(|f| (f - from).max(0))
    }
}

/// What a report needs from one event of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    Called {
        number: String,
        counter: CounterId,
    },
    Finished {
        number: String,
        counter: CounterId,
    },
    NoShow {
        number: String,
        counter: CounterId,
    },
    Transferred {
        number: String,
        from_counter: CounterId,
    },
    /// `counter_state_changed` to `open`.
    CounterOpened {
        counter: CounterId,
    },
    /// `counter_state_changed` to `paused` or `closed`.
    CounterLeft {
        counter: CounterId,
    },
    LongWaitBegan {
        service: String,
    },
    LongWaitEnded {
        service: String,
    },
    OutageStarted,
    CallbackCaptured {
        id: i64,
    },
    /// `callback_updated` to `resolved`.
    CallbackResolved {
        id: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: u64,
    pub day: NaiveDate,
    pub at: Millis,
    /// Who acted: a clerk's login for calls, finishes, no-shows and transfers.
    pub actor: String,
    pub fact: Fact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingRow {
    pub day: NaiveDate,
    pub number: String,
    pub counter: Option<CounterId>,
    pub score: Satisfaction,
    pub at: Millis,
}

/// The rows of a period. `events` in `seq` order; callback resolutions may come from after the period.
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    pub tickets: Vec<TicketRow>,
    pub events: Vec<EventRow>,
    pub ratings: Vec<RatingRow>,
}

// ---------------------------------------------------------------------------------------------
// Output

/// Count, mean, median, 90th percentile and maximum of durations, in seconds rounded to the
/// millisecond (`null` when empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    pub count: u32,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub max_s: Option<f64>,
}

impl Durations {
    /// From durations in milliseconds (sorted here).
    pub fn of_ms(mut ms: Vec<i64>) -> Durations {
        ms.sort_unstable();
        let v: Vec<f64> = ms.iter().map(|&m| m as f64).collect();
        // Interpolated in milliseconds and rounded to the millisecond: the clock's own precision.
        let secs = |x: Option<f64>| x.map(|ms| ms.round() / 1000.0);
        Durations {
            count: v.len() as u32,
            mean_s: secs(mean(&v)),
            median_s: secs(percentile_sorted(&v, 0.5)),
            p90_s: secs(percentile_sorted(&v, 0.9)),
            max_s: secs(v.last().copied()),
        }
    }
}

pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Percentile `p` (0–1) of sorted values, interpolated as Excel's `PERCENTILE.INC`.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// `part / whole`, `null` when there is nothing to divide.
pub fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionStats {
    pub rated: u32,
    /// Ratings per score, keys "1" to "5" always present.
    pub counts: BTreeMap<String, u32>,
    pub mean: Option<f64>,
    /// Ratings of 4 (满意) or 5 (非常满意) over all ratings.
    pub satisfied_share: Option<f64>,
    /// Ratings over tickets served.
    pub response_rate: Option<f64>,
}

/// The figures of one group (the whole period, a service, a counter, a clerk, a day or an hour).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub issued: u32,
    pub called: u32,
    pub served: u32,
    pub no_shows: u32,
    pub transfers: u32,
    pub never_called: u32,
    pub wait: Durations,
    /// Share of `wait.count` within the target; `null` when nothing was called.
    pub within_target: Option<f64>,
    pub service_time: Durations,
    pub long_services: u32,
    pub satisfaction: SatisfactionStats,
}

/// One line of a grouped table: `key` is the service id, counter number, clerk login, day
/// (`YYYY-MM-DD`) or hour (`"09"`); the labels are what a page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// The share of the hall's work each service takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadRow {
    pub service: String,
    pub label_zh: String,
    pub label_en: String,
    pub issued: u32,
    pub issued_share: Option<f64>,
    pub served: u32,
    pub service_time_total_s: f64,
    pub service_time_share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LongWait {
    pub day: NaiveDate,
    pub service: String,
    /// Local time of day, `HH:MM:SS`.
    pub began: String,
    pub ended: Option<String>,
    pub duration_s: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LongService {
    pub day: NaiveDate,
    pub number: String,
    pub service: String,
    pub counter: Option<CounterId>,
    pub clerk: Option<String>,
    pub service_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Incidents {
    pub long_waits: u32,
    /// Sum of the durations of the long waits that ended.
    pub long_wait_total_s: f64,
    pub long_wait_list: Vec<LongWait>,
    pub long_services: u32,
    pub long_service_list: Vec<LongService>,
    pub outages: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackStats {
    pub captured: u32,
    pub resolved: u32,
    /// Captured in the period and not resolved yet.
    pub open: u32,
    pub resolve_delay: Durations,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EstimateStats {
    pub count: u32,
    /// Mean of (actual wait − estimated wait); positive: customers waited longer than promised.
    pub mean_error_s: Option<f64>,
    pub mean_abs_error_s: Option<f64>,
    /// Root mean square of (actual − estimated).
    #[serde(default)]
    pub rmse_s: Option<f64>,
    /// Share (0–1) called more than 5 minutes after the estimated wait.
    #[serde(default)]
    pub late_share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterOpening {
    pub day: NaiveDate,
    pub counter: CounterId,
    /// Local time of the first opening that day, `HH:MM:SS`.
    pub opened: String,
    /// Seconds before `hours.opening` (negative: opened late).
    pub before_opening_s: i64,
    pub opened_by_opening: bool,
    /// At least [`STAFF_IN_PLACE_BEFORE_OPENING_S`] early.
    pub in_place: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenTimes {
    /// Counter-days with an opening.
    pub counter_days: u32,
    pub opened_by_opening: u32,
    pub in_place: u32,
    pub late: u32,
    pub mean_before_opening_s: Option<f64>,
    pub list: Vec<CounterOpening>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub score: u8,
    pub zh: String,
    pub en: String,
}

/// A period's report: the JSON the manager page reads and the CSV export writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub period: Period,
    pub time_zone: String,
    /// `hours.opening`, `HH:MM`.
    pub opening: String,
    pub target_wait_min: u32,
    pub long_service_min: u32,
    /// Business days of the period with at least one ticket.
    pub business_days: u32,
    pub totals: Stats,
    pub by_service: Vec<Row>,
    pub by_counter: Vec<Row>,
    pub by_clerk: Vec<Row>,
    pub by_day: Vec<Row>,
    /// Local hour of issue, only hours with tickets, in order.
    pub by_hour: Vec<Row>,
    pub load_by_service: Vec<LoadRow>,
    pub incidents: Incidents,
    pub callbacks: CallbackStats,
    pub estimate: EstimateStats,
    pub open_times: OpenTimes,
    /// The rating scale, 非常满意 first, for legends.
    pub satisfaction_levels: Vec<Level>,
    /// Hour by hour, counters open against counters needed for 85 % within the target.
    #[serde(default)]
    pub staffing_by_hour: Vec<StaffingHour>,
}

// ---------------------------------------------------------------------------------------------
// Computation

#[derive(Default)]
struct Acc {
    issued: u32,
    called: u32,
    served: u32,
    no_shows: u32,
    transfers: u32,
    never_called: u32,
    waits: Vec<i64>,
    services: Vec<i64>,
    long_services: u32,
    ratings: [u32; 5],
}

impl Acc {
    fn issue(&mut self, t: &TicketRow) {
        self.issued += 1;
        if t.first_called_at.is_none() {
            self.never_called += 1;
        }
    }

    fn first_call(&mut self, wait_ms: i64) {
        self.called += 1;
        self.waits.push(wait_ms);
    }

    fn finish(&mut self, service_ms: Option<i64>, long_ms: i64) {
        self.served += 1;
        if let Some(ms) = service_ms {
            self.services.push(ms);
            if ms > long_ms {
                self.long_services += 1;
            }
        }
    }

    fn rate(&mut self, s: Satisfaction) {
        self.ratings[usize::from(s.score() - 1)] += 1;
    }

    fn stats(self, target_ms: i64) -> Stats {
        let within = self.waits.iter().filter(|&&w| w <= target_ms).count() as u32;
        let rated: u32 = self.ratings.iter().sum();
        let satisfied = self.ratings[3] + self.ratings[4];
        let total: u32 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as u32 + 1) * n)
            .sum();
        Stats {
            issued: self.issued,
            called: self.called,
            served: self.served,
            no_shows: self.no_shows,
            transfers: self.transfers,
            never_called: self.never_called,
            within_target: share(within, self.waits.len() as u32),
            wait: Durations::of_ms(self.waits),
            service_time: Durations::of_ms(self.services),
            long_services: self.long_services,
            satisfaction: SatisfactionStats {
                rated,
                counts: (1..=5u8)
                    .map(|s| (s.to_string(), self.ratings[usize::from(s - 1)]))
                    .collect(),
                mean: share(total, rated),
                satisfied_share: share(satisfied, rated),
                response_rate: share(rated, self.served),
            },
        }
    }
}

/// Who did what to one ticket, from the events.
#[derive(Default)]
struct Deeds<'a> {
    first_call: Option<(CounterId, &'a str)>,
    finish: Option<(CounterId, &'a str)>,
    no_show: Option<(CounterId, &'a str)>,
}

fn local_hms(at: Millis, tz: &chrono_tz::Tz) -> String {
    Now::in_zone(at, tz).time.format("%H:%M:%S").to_string()
}

impl Report {
    /// Compute the report of `period` from its rows. Rows outside the period are ignored.
    pub fn build(period: Period, config: &HallConfig, input: &ReportInput) -> Report {
        let tz = config.time_zone();
        let target_ms = i64::from(config.thresholds.target_wait_min) * 60_000;
        let long_ms = i64::from(config.thresholds.long_service_min) * 60_000;

        let tickets: Vec<&TicketRow> = input
            .tickets
            .iter()
            .filter(|t| period.contains(t.day))
            .collect();
        let events: Vec<&EventRow> = input.events.iter().collect();

        // Who first called, finished or marked each ticket.
        let mut deeds: HashMap<(NaiveDate, &str), Deeds<'_>> = HashMap::new();
        for e in &events {
            match &e.fact {
                Fact::Called { number, counter } => {
                    let d = deeds.entry((e.day, number)).or_default();
                    if d.first_call.is_none() {
                        d.first_call = Some((*counter, &e.actor));
                    }
                }
                Fact::Finished { number, counter } => {
                    deeds.entry((e.day, number)).or_default().finish = Some((*counter, &e.actor));
                }
                Fact::NoShow { number, counter } => {
                    deeds.entry((e.day, number)).or_default().no_show = Some((*counter, &e.actor));
                }
                _ => {}
            }
        }
        let ratings: HashMap<(NaiveDate, &str), &RatingRow> = input
            .ratings
            .iter()
            .filter(|r| period.contains(r.day))
            .map(|r| ((r.day, r.number.as_str()), r))
            .collect();

        let mut totals = Acc::default();
        let mut by_service: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut by_counter: BTreeMap<CounterId, Acc> = BTreeMap::new();
        let mut by_clerk: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut by_day: BTreeMap<NaiveDate, Acc> = BTreeMap::new();
        let mut by_hour: BTreeMap<u32, Acc> = BTreeMap::new();
        let mut load: BTreeMap<&str, (u32, u32, i64)> = BTreeMap::new();
        let mut long_service_list = Vec::new();
        let mut estimate_errors: Vec<i64> = Vec::new();
        let none = Deeds::default();

        for t in &tickets {
            let d = deeds.get(&(t.day, t.number.as_str())).unwrap_or(&none);
            let hour = Now::in_zone(t.issued_at, &tz).time.hour();
            let wait = t.wait_ms();
            let service_ms = t.service_ms();
            let finished = t.state == TicketState::Finished;
            let no_show = t.state == TicketState::NoShow;
            let rating = ratings.get(&(t.day, t.number.as_str())).copied();
            let day_acc = by_day.entry(t.day).or_default();
            let hour_acc = by_hour.entry(hour).or_default();

            for acc in [&mut totals, &mut *day_acc, &mut *hour_acc] {
                acc.issue(t);
                acc.transfers += t.transfers;
                if let Some(w) = wait {
                    acc.first_call(w);
                }
                if finished {
                    acc.finish(service_ms, long_ms);
                }
                if no_show {
                    acc.no_shows += 1;
                }
                if let Some(r) = rating {
                    acc.rate(r.score);
                }
            }

            let first = by_service.entry(&t.first_service).or_default();
            first.issue(t);
            first.transfers += t.transfers;
            if let Some(w) = wait {
                first.first_call(w);
            }
            let last = by_service.entry(&t.service).or_default();
            if finished {
                last.finish(service_ms, long_ms);
            }
            if no_show {
                last.no_shows += 1;
            }
            if let Some(r) = rating {
                last.rate(r.score);
            }
            load.entry(&t.first_service).or_default().0 += 1;
            if finished {
                let l = load.entry(&t.service).or_default();
                l.1 += 1;
                l.2 += service_ms.unwrap_or(0);
            }

            // Counters and clerks: from the events, the ticket's last counter when events are missing.
            if let Some(w) = wait {
                let counter = d.first_call.map(|(c, _)| c).or(t.counter);
                if let Some(c) = counter {
                    by_counter.entry(c).or_default().first_call(w);
                }
                if let Some((_, clerk)) = d.first_call {
                    by_clerk.entry(clerk).or_default().first_call(w);
                }
                estimate_errors.push(w - i64::from(t.estimated_wait_s) * 1000);
            }
            if finished {
                if let Some(c) = d.finish.map(|(c, _)| c).or(t.counter) {
                    by_counter.entry(c).or_default().finish(service_ms, long_ms);
                }
                if let Some((_, clerk)) = d.finish {
                    by_clerk
                        .entry(clerk)
                        .or_default()
                        .finish(service_ms, long_ms);
                }
                if let Some(ms) = service_ms.filter(|&ms| ms > long_ms) {
                    long_service_list.push(LongService {
                        day: t.day,
                        number: t.number.clone(),
                        service: t.service.clone(),
                        counter: d.finish.map(|(c, _)| c).or(t.counter),
                        clerk: d.finish.map(|(_, a)| a.to_string()),
                        service_s: ms as f64 / 1000.0,
                    });
                }
            }
            if no_show {
                if let Some(c) = d.no_show.map(|(c, _)| c).or(t.counter) {
                    by_counter.entry(c).or_default().no_shows += 1;
                }
                if let Some((_, clerk)) = d.no_show {
                    by_clerk.entry(clerk).or_default().no_shows += 1;
                }
            }
            if let Some(r) = rating {
                if let Some(c) = r.counter.or(d.finish.map(|(c, _)| c)).or(t.counter) {
                    by_counter.entry(c).or_default().rate(r.score);
                }
                if let Some((_, clerk)) = d.finish {
                    by_clerk.entry(clerk).or_default().rate(r.score);
                }
            }
        }

        // Transfers, incidents, callbacks and openings straight from the events.
        let mut open_long: HashMap<(NaiveDate, &str), usize> = HashMap::new();
        let mut incidents = Incidents {
            long_services: long_service_list.len() as u32,
            long_service_list,
            ..Incidents::default()
        };
        let mut long_wait_at: Vec<Millis> = Vec::new();
        let mut captured: BTreeMap<i64, Millis> = BTreeMap::new();
        let mut resolved: HashMap<i64, Millis> = HashMap::new();
        let mut openings: BTreeMap<(NaiveDate, CounterId), Millis> = BTreeMap::new();
        for e in &events {
            let inside = period.contains(e.day);
            match &e.fact {
                Fact::Transferred { from_counter, .. } if inside => {
                    by_counter.entry(*from_counter).or_default().transfers += 1;
                    by_clerk.entry(e.actor.as_str()).or_default().transfers += 1;
                }
                Fact::CounterOpened { counter } if inside => {
                    openings.entry((e.day, *counter)).or_insert(e.at);
                }
                Fact::LongWaitBegan { service } if inside => {
                    open_long.insert((e.day, service), incidents.long_wait_list.len());
                    long_wait_at.push(e.at);
                    incidents.long_wait_list.push(LongWait {
                        day: e.day,
                        service: service.clone(),
                        began: local_hms(e.at, &tz),
                        ended: None,
                        duration_s: None,
                    });
                }
                Fact::LongWaitEnded { service } if inside => {
                    if let Some(i) = open_long.remove(&(e.day, service.as_str())) {
                        let lw = &mut incidents.long_wait_list[i];
                        let secs = (e.at - long_wait_at[i]).max(0) as f64 / 1000.0;
                        lw.ended = Some(local_hms(e.at, &tz));
                        lw.duration_s = Some(secs);
                        incidents.long_wait_total_s += secs;
                    }
                }
                Fact::OutageStarted if inside => incidents.outages += 1,
                Fact::CallbackCaptured { id } if inside => {
                    captured.entry(*id).or_insert(e.at);
                }
                Fact::CallbackResolved { id } => {
                    resolved.entry(*id).or_insert(e.at);
                }
                _ => {}
            }
        }
        incidents.long_waits = incidents.long_wait_list.len() as u32;

        let delays: Vec<i64> = captured
            .iter()
            .filter_map(|(id, at)| resolved.get(id).map(|r| (r - at).max(0)))
            .collect();
        let callbacks = CallbackStats {
            captured: captured.len() as u32,
            resolved: delays.len() as u32,
            open: (captured.len() - delays.len()) as u32,
            resolve_delay: Durations::of_ms(delays),
        };

        let errors_s: Vec<f64> = estimate_errors.iter().map(|&e| e as f64 / 1000.0).collect();
        let stats = crate::estimate::ErrorStats::of(&errors_s);
        let some = |v: f64| (stats.count > 0).then_some(v);
        let estimate = EstimateStats {
            count: stats.count,
            mean_error_s: some(stats.mean_s),
            mean_abs_error_s: some(stats.mean_abs_s),
            rmse_s: some(stats.rmse_s),
            late_share: some(stats.late_share),
        };

        let opening_s = i64::from(config.hours.opening.num_seconds_from_midnight());
        let list: Vec<CounterOpening> = openings
            .into_iter()
            .map(|((day, counter), at)| {
                let local = Now::in_zone(at, &tz);
                // An opening on another local date than the business day (clock trouble) counts by time.
                let before = opening_s - i64::from(local.time.num_seconds_from_midnight());
                CounterOpening {
                    day,
                    counter,
                    opened: local.time.format("%H:%M:%S").to_string(),
                    before_opening_s: before,
                    opened_by_opening: before >= 0,
                    in_place: before >= STAFF_IN_PLACE_BEFORE_OPENING_S,
                }
            })
            .collect();
        let open_times = OpenTimes {
            counter_days: list.len() as u32,
            opened_by_opening: list.iter().filter(|o| o.opened_by_opening).count() as u32,
            in_place: list.iter().filter(|o| o.in_place).count() as u32,
            late: list.iter().filter(|o| !o.opened_by_opening).count() as u32,
            mean_before_opening_s: mean(
                &list
                    .iter()
                    .map(|o| o.before_opening_s as f64)
                    .collect::<Vec<_>>(),
            ),
            list,
        };

        let service_label = |id: &str| match config.service(id) {
            Some(s) => (s.name.zh.clone(), s.name.en.clone()),
            None => (id.to_string(), id.to_string()),
        };
        let counter_label = |id: CounterId| match config.counters.iter().find(|c| c.id == id) {
            Some(c) => (c.name.zh.clone(), c.name.en.clone()),
            None => (format!("{id}号窗口"), format!("Counter {id}")),
        };
        let row = |key: String, (zh, en): (String, String), acc: Acc| Row {
            key,
            label_zh: zh,
            label_en: en,
            stats: acc.stats(target_ms),
        };

        let total_issued = totals.issued;
        let total_service_ms: i64 = load.values().map(|l| l.2).sum();
        let load_by_service = load
            .iter()
            .map(|(id, &(issued, served, ms))| {
                let (zh, en) = service_label(id);
                LoadRow {
                    service: id.to_string(),
                    label_zh: zh,
                    label_en: en,
                    issued,
                    issued_share: share(issued, total_issued),
                    served,
                    service_time_total_s: ms as f64 / 1000.0,
                    service_time_share: (total_service_ms > 0)
                        .then(|| ms as f64 / total_service_ms as f64),
                }
            })
            .collect();

        Report {
            period,
            time_zone: tz.name().to_string(),
            opening: config.hours.opening.format("%H:%M").to_string(),
            target_wait_min: config.thresholds.target_wait_min,
            long_service_min: config.thresholds.long_service_min,
            business_days: by_day.len() as u32,
            totals: totals.stats(target_ms),
            by_service: by_service
                .into_iter()
                .map(|(id, acc)| row(id.to_string(), service_label(id), acc))
                .collect(),
            by_counter: by_counter
                .into_iter()
                .map(|(id, acc)| row(id.to_string(), counter_label(id), acc))
                .collect(),
            by_clerk: by_clerk
                .into_iter()
                .map(|(login, acc)| row(login.to_string(), (login.into(), login.into()), acc))
                .collect(),
            by_day: by_day
                .into_iter()
                .map(|(d, acc)| {
                    let key = d.format("%Y-%m-%d").to_string();
                    row(key.clone(), (key.clone(), key), acc)
                })
                .collect(),
            by_hour: by_hour
                .into_iter()
                .map(|(h, acc)| {
                    let label = format!("{h:02}:00–{:02}:00", h + 1);
                    row(format!("{h:02}"), (label.clone(), label), acc)
                })
                .collect(),
            load_by_service,
            staffing_by_hour: staffing::by_hour(&period, config, &tickets, &input.events),
            incidents,
            callbacks,
            estimate,
            open_times,
            satisfaction_levels: Satisfaction::ALL
                .iter()
                .map(|s| Level {
                    score: s.score(),
                    zh: s.zh().into(),
                    en: s.en().into(),
                })
                .collect(),
        }
    }

    /// The whole report as one CSV table in long form — `section,key,label,metric,value` — UTF-8
    /// with a byte-order mark and CRLF line ends, so that Excel opens the Chinese labels correctly
    /// and a pivot table rebuilds any view. Metrics are the JSON field paths (`wait.p90_s`).
    pub fn to_csv(&self, mut w: impl Write) -> std::io::Result<()> {
        w.write_all("\u{feff}".as_bytes())?;
        csv_line(&mut w, &["section", "key", "label", "metric", "value"])?;
        let head = serde_json::json!({
            "from": self.period.from,
            "to": self.period.to,
            "time_zone": self.time_zone,
            "opening": self.opening,
            "target_wait_min": self.target_wait_min,
            "long_service_min": self.long_service_min,
            "business_days": self.business_days,
        });
        emit(&mut w, "report", "", "", &head)?;
        emit(&mut w, "totals", "all", "全部", &to_value(&self.totals))?;
        for (section, rows) in [
            ("by_service", &self.by_service),
            ("by_counter", &self.by_counter),
            ("by_clerk", &self.by_clerk),
            ("by_day", &self.by_day),
            ("by_hour", &self.by_hour),
        ] {
            for r in rows {
                emit(&mut w, section, &r.key, &r.label_zh, &to_value(&r.stats))?;
            }
        }
        for r in &self.load_by_service {
            emit(
                &mut w,
                "load_by_service",
                &r.service,
                &r.label_zh,
                &to_value(r),
            )?;
        }
        let mut inc = to_value(&self.incidents);
        if let Some(o) = inc.as_object_mut() {
            o.remove("long_wait_list");
            o.remove("long_service_list");
        }
        emit(&mut w, "incidents", "all", "", &inc)?;
        for lw in &self.incidents.long_wait_list {
            let key = format!("{} {} {}", lw.day, lw.began, lw.service);
            emit(&mut w, "long_wait", &key, &lw.service, &to_value(lw))?;
        }
        for ls in &self.incidents.long_service_list {
            let key = format!("{} {}", ls.day, ls.number);
            emit(&mut w, "long_service", &key, &ls.service, &to_value(ls))?;
        }
        emit(&mut w, "callbacks", "all", "", &to_value(&self.callbacks))?;
        emit(&mut w, "estimate", "all", "", &to_value(&self.estimate))?;
        let mut open = to_value(&self.open_times);
        if let Some(o) = open.as_object_mut() {
            o.remove("list");
        }
        emit(&mut w, "open_times", "all", "", &open)?;
        for o in &self.open_times.list {
            let key = format!("{} {}", o.day, o.counter);
            emit(&mut w, "counter_opening", &key, "", &to_value(o))?;
        }
        for r in &self.staffing_by_hour {
            emit(&mut w, "staffing_by_hour", &r.key, &r.label, &to_value(r))?;
        }
        for l in &self.satisfaction_levels {
            let key = l.score.to_string();
            csv_line(&mut w, &["satisfaction_levels", &key, &l.zh, "en", &l.en])?;
        }
        Ok(())
    }
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Every scalar of `v` as one line, its path joined with dots.
fn emit(
    w: &mut impl Write,
    section: &str,
    key: &str,
    label: &str,
    v: &serde_json::Value,
) -> std::io::Result<()> {
    fn walk(
        w: &mut impl Write,
        row: [&str; 3],
        path: &mut Vec<String>,
        v: &serde_json::Value,
    ) -> std::io::Result<()> {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(k.clone());
                    walk(w, row, path, x)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(w, row, path, x)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Null => csv_line(w, &[row[0], row[1], row[2], &path.join("."), ""]),
            Value::String(s) => csv_line(w, &[row[0], row[1], row[2], &path.join("."), s]),
            other => csv_line(
                w,
                &[row[0], row[1], row[2], &path.join("."), &other.to_string()],
            ),
        }
    }
    walk(w, [section, key, label], &mut Vec::new(), v)
}

fn csv_line(w: &mut impl Write, fields: &[&str]) -> std::io::Result<()> {
    let line: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        })
        .collect();
    write!(w, "{}\r\n", line.join(","))
}

mod staffing;

pub use staffing::StaffingHour;

#[cfg(test)]
mod tests;
