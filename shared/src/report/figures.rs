//! What a report holds: the figures of each group, incidents, callbacks, estimate error,
//! counters' opening times, and the statistics they are made of.

use super::*;

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
    /// Outages begun in the period (`outage_started` events).
    pub outages: u32,
    /// Seconds the business system was down within the period, day by day (the module's
    /// definitions): whole milliseconds over 1000.
    #[serde(default)]
    pub outage_total_s: f64,
    /// The longest time one outage took of one business day, seconds.
    #[serde(default)]
    pub outage_longest_s: f64,
    /// Times staff said the business system was slow in the period (`slow_system_started`).
    #[serde(default)]
    pub slow_systems: u32,
    /// Seconds it was said to be slow, day by day as outages are; one still slow when its day's
    /// business ended counts to the day's last call or finish.
    #[serde(default)]
    pub slow_system_total_s: f64,
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
