//! A hall's business day in figures for the league table, computed by the hall's own report
//! ([`Report::build`]) so that "waited", "within target" and "satisfied" mean at central what they
//! mean in the hall; and the league table that adds those days up over a period.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use hallq_shared::config::HallConfig;
use hallq_shared::report::{EventBody, Fact, Period, Report, ReportInput, fact_of};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The share of called tickets within the target the rulebook asks for.
pub const TARGET_SHARE: f64 = 0.85;

/// A hall's current business day is rolled up again at most this often: its batches, a few
/// events every few seconds, only mark it (docs/central.md, "What central does with a batch").
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// Event types a day's report reads (the same list the hall's store selects).
pub const REPORT_EVENT_TYPES: &[&str] = &[
    "ticket_called",
    "ticket_finished",
    "ticket_no_show",
    "ticket_transferred",
    "counter_state_changed",
    "long_wait_began",
    "long_wait_ended",
    "outage_started",
    "outage_ended",
    "slow_system_started",
    "slow_system_ended",
    "callback_captured",
    "callback_updated",
];

/// What a report reads from one stored event (its type and its kind's JSON): the hall's own
/// [`fact_of`], so that central counts as the hall does; `None` for what reports ignore (and for a
/// body whose fields have types central does not know, from a newer hub).
pub fn fact(kind: &str, body: &Value) -> Option<Fact> {
    fact_of(kind, &EventBody::deserialize(body).ok()?)
}

/// The hall's configuration from the body of its latest `config_replaced` event; the demo
/// configuration (15-minute target, the hall's default time zone) when it has none or central
/// cannot read it (a newer hub's settings).
pub fn config_of(body: Option<&Value>) -> HallConfig {
    let Some(config) = body.and_then(|b| b.get("config")) else {
        return HallConfig::demo();
    };
    serde_json::from_value::<HallConfig>(config.clone()).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "a hall's configuration is not readable here: rollups use the default");
        HallConfig::demo()
    })
}

/// One hall's business day, as the `hall_days` table keeps it: counts and sums, so that any
/// period adds up exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HallDay {
    pub day: Option<NaiveDate>,
    pub target_wait_min: u32,
    pub issued: u32,
    pub called: u32,
    pub served: u32,
    pub no_shows: u32,
    pub never_called: u32,
    pub within_target: u32,
    pub wait_count: u32,
    pub wait_sum_ms: i64,
    pub service_count: u32,
    pub service_sum_ms: i64,
    pub rated: u32,
    pub satisfied: u32,
    pub score_sum: u32,
    pub outages: u32,
    /// Milliseconds the business system was down that day, as the hall's report counts them.
    pub outage_ms: i64,
    /// The longest part of one outage that day.
    pub outage_longest_ms: i64,
    pub long_waits: u32,
    pub long_wait_s: f64,
    pub callbacks_captured: u32,
    pub callbacks_resolved: u32,
}

impl HallDay {
    /// The figures of `day` from that day's rows (and the later resolutions of its callbacks),
    /// an outage going on counted up to `input.as_of`.
    pub fn build(day: NaiveDate, config: &HallConfig, input: &ReportInput) -> HallDay {
        let r = Report::build(Period::day(day), config, input);
        let t = &r.totals;
        // Sums rather than the report's rounded means, with the report's own definitions of a
        // ticket's wait and service, so that a month's mean is exact.
        let mut wait_sum_ms = 0;
        let mut service_sum_ms = 0;
        let mut service_count = 0;
        for ticket in input.tickets.iter().filter(|x| x.day == day) {
            wait_sum_ms += ticket.wait_ms().unwrap_or(0);
            if let Some(ms) = ticket.service_ms() {
                service_sum_ms += ms;
                service_count += 1;
            }
        }
        let count = |s: &str| t.satisfaction.counts.get(s).copied().unwrap_or(0);
        HallDay {
            day: Some(day),
            target_wait_min: r.target_wait_min,
            issued: t.issued,
            called: t.called,
            served: t.served,
            no_shows: t.no_shows,
            never_called: t.never_called,
            within_target: t
                .within_target
                .map_or(0, |s| (s * f64::from(t.wait.count)).round() as u32),
            wait_count: t.wait.count,
            wait_sum_ms,
            service_count,
            service_sum_ms,
            rated: t.satisfaction.rated,
            satisfied: count("4") + count("5"),
            score_sum: (1..=5u32).map(|s| s * count(&s.to_string())).sum(),
            outages: r.incidents.outages,
            // The report's seconds are whole milliseconds over 1000: back to the exact sum.
            outage_ms: (r.incidents.outage_total_s * 1000.0).round() as i64,
            outage_longest_ms: (r.incidents.outage_longest_s * 1000.0).round() as i64,
            long_waits: r.incidents.long_waits,
            long_wait_s: r.incidents.long_wait_total_s,
            callbacks_captured: r.callbacks.captured,
            callbacks_resolved: r.callbacks.resolved,
        }
    }

    fn add(&mut self, d: &HallDay) {
        self.target_wait_min = d.target_wait_min;
        self.issued += d.issued;
        self.called += d.called;
        self.served += d.served;
        self.no_shows += d.no_shows;
        self.never_called += d.never_called;
        self.within_target += d.within_target;
        self.wait_count += d.wait_count;
        self.wait_sum_ms += d.wait_sum_ms;
        self.service_count += d.service_count;
        self.service_sum_ms += d.service_sum_ms;
        self.rated += d.rated;
        self.satisfied += d.satisfied;
        self.score_sum += d.score_sum;
        self.outages += d.outages;
        self.outage_ms += d.outage_ms;
        self.outage_longest_ms = self.outage_longest_ms.max(d.outage_longest_ms);
        self.long_waits += d.long_waits;
        self.long_wait_s += d.long_wait_s;
        self.callbacks_captured += d.callbacks_captured;
        self.callbacks_resolved += d.callbacks_resolved;
    }
}

/// One hall's line of the league table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeagueRow {
    pub rank: u32,
    pub hall: String,
    pub business_days: u32,
    pub target_wait_min: u32,
    pub issued: u32,
    pub called: u32,
    pub served: u32,
    pub never_called: u32,
    /// Called within the target over called, as the hall's report defines it.
    pub within_target: Option<f64>,
    pub meets_target: bool,
    /// Mean wait of the called tickets, seconds rounded to the millisecond as the report does.
    pub mean_wait_s: Option<f64>,
    pub mean_service_s: Option<f64>,
    pub rated: u32,
    pub satisfied_share: Option<f64>,
    pub mean_score: Option<f64>,
    pub outages: u32,
    /// Seconds the business system was down in the period: the sum of its days', each as the
    /// hall's own report counts it.
    pub outage_s: f64,
    /// The longest part of one outage on one day of the period, seconds.
    pub outage_longest_s: f64,
    pub long_waits: u32,
    pub long_wait_s: f64,
    pub callbacks_captured: u32,
    pub callbacks_resolved: u32,
}

/// How fresh a league table is: the current business day of a hall is rolled up about once a
/// minute, every other day as its batch is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Freshness {
    /// How often a hall's current day is rolled up again, seconds.
    pub refresh_every_s: u64,
    /// Days of the period (one hall's each) with batches stored since their last rollup.
    pub days_pending: u32,
    /// The figures hold everything central had stored at this instant.
    pub as_of: Option<DateTime<Utc>>,
}

/// The league table of `period`: the halls' days added up, best share within target first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct League {
    pub period: Period,
    pub target_share: f64,
    #[serde(default)]
    pub freshness: Freshness,
    pub halls: Vec<LeagueRow>,
}

fn mean_s(sum_ms: i64, count: u32) -> Option<f64> {
    (count > 0).then(|| (sum_ms as f64 / f64::from(count)).round() / 1000.0)
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

impl League {
    /// From `(hall name, day)` lines; halls with no day in the period are listed with zeros.
    pub fn build(period: Period, halls: &[String], days: &[(String, HallDay)]) -> League {
        let mut sums: BTreeMap<&str, (u32, HallDay)> = halls
            .iter()
            .map(|h| (h.as_str(), (0, HallDay::default())))
            .collect();
        for (hall, d) in days {
            let e = sums.entry(hall.as_str()).or_default();
            e.0 += u32::from(d.issued > 0);
            e.1.add(d);
        }
        let mut rows: Vec<LeagueRow> = sums
            .into_iter()
            .map(|(hall, (business_days, s))| {
                let within = share(s.within_target, s.wait_count);
                LeagueRow {
                    rank: 0,
                    hall: hall.to_string(),
                    business_days,
                    target_wait_min: if s.target_wait_min == 0 {
                        15
                    } else {
                        s.target_wait_min
                    },
                    issued: s.issued,
                    called: s.called,
                    served: s.served,
                    never_called: s.never_called,
                    within_target: within,
                    meets_target: within.is_some_and(|w| w >= TARGET_SHARE),
                    mean_wait_s: mean_s(s.wait_sum_ms, s.wait_count),
                    mean_service_s: mean_s(s.service_sum_ms, s.service_count),
                    rated: s.rated,
                    satisfied_share: share(s.satisfied, s.rated),
                    mean_score: share(s.score_sum, s.rated),
                    outages: s.outages,
                    outage_s: s.outage_ms as f64 / 1000.0,
                    outage_longest_s: s.outage_longest_ms as f64 / 1000.0,
                    long_waits: s.long_waits,
                    long_wait_s: s.long_wait_s,
                    callbacks_captured: s.callbacks_captured,
                    callbacks_resolved: s.callbacks_resolved,
                }
            })
            .collect();
        // Best share first; halls that called nobody last; then the shorter mean wait, the name.
        rows.sort_by(|a, b| {
            let key = |r: &LeagueRow| r.within_target.unwrap_or(-1.0);
            key(b)
                .total_cmp(&key(a))
                .then(
                    a.mean_wait_s
                        .unwrap_or(f64::MAX)
                        .total_cmp(&b.mean_wait_s.unwrap_or(f64::MAX)),
                )
                .then(a.hall.cmp(&b.hall))
        });
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i as u32 + 1;
        }
        League {
            period,
            target_share: TARGET_SHARE,
            freshness: Freshness {
                refresh_every_s: REFRESH_EVERY.as_secs(),
                ..Freshness::default()
            },
            halls: rows,
        }
    }

    /// The table as CSV (UTF-8 with a byte-order mark, so that Excel reads the Chinese header).
    pub fn csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        out.push_str(
            "名次 rank,营业厅 hall,营业天数 days,取号 issued,叫号 called,办结 served,未叫号 never_called,\
             目标等候(分) target_min,目标内占比 within_target,达标 meets_85,平均等候(秒) mean_wait_s,\
             平均办理(秒) mean_service_s,评价数 rated,满意率 satisfied_share,平均评分 mean_score,\
             系统故障 outages,故障时长(分) outage_min,最长一次故障(分) outage_longest_min,\
             长时间等候 long_waits,长时间等候(秒) long_wait_s,回访登记 callbacks,\
             回访已解决 callbacks_resolved\r\n",
        );
        let opt = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
        for r in &self.halls {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.2},{:.2},{},{:.3},{},{}\r\n",
                r.rank,
                csv_field(&r.hall),
                r.business_days,
                r.issued,
                r.called,
                r.served,
                r.never_called,
                r.target_wait_min,
                opt(r.within_target),
                if r.meets_target { "yes" } else { "no" },
                opt(r.mean_wait_s),
                opt(r.mean_service_s),
                r.rated,
                opt(r.satisfied_share),
                opt(r.mean_score),
                r.outages,
                r.outage_s / 60.0,
                r.outage_longest_s / 60.0,
                r.long_waits,
                r.long_wait_s,
                r.callbacks_captured,
                r.callbacks_resolved,
            ));
        }
        out
    }
}

/// A CSV field quoted when needed, and never read by a spreadsheet as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_as_the_hall_reads_them() {
        assert_eq!(
            fact(
                "ticket_called",
                &json!({"type":"ticket_called","number":"A001","counter":2})
            ),
            Some(Fact::Called {
                number: "A001".into(),
                counter: 2
            })
        );
        assert_eq!(
            fact(
                "ticket_transferred",
                &json!({"number":"A001","from_counter":3,"to_service":"pay"})
            ),
            Some(Fact::Transferred {
                number: "A001".into(),
                from_counter: 3
            })
        );
        assert_eq!(
            fact("callback_updated", &json!({"id":4,"status":"resolved"})),
            Some(Fact::CallbackResolved { id: 4 })
        );
        assert_eq!(
            fact("callback_updated", &json!({"id":4,"status":"in_progress"})),
            None
        );
        assert_eq!(
            fact(
                "counter_state_changed",
                &json!({"counter":1,"state":"open"})
            ),
            Some(Fact::CounterOpened { counter: 1 })
        );
        assert_eq!(fact("day_started", &json!({"day":"2026-12-04"})), None);
    }

    #[test]
    fn a_periods_outage_time_is_the_sum_of_its_days_and_its_longest_the_longest() {
        let day = |d: u32, ms: i64, longest: i64| HallDay {
            day: NaiveDate::from_ymd_opt(2026, 12, d),
            issued: 10,
            outages: 1,
            outage_ms: ms,
            outage_longest_ms: longest,
            ..HallDay::default()
        };
        let hall = "城东厅".to_string();
        let days = vec![
            (hall.clone(), day(1, 90_000, 60_000)),
            (hall.clone(), day(2, 1_800_500, 1_800_500)),
            (hall.clone(), day(3, 0, 0)),
        ];
        let week = Period::week(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).unwrap();
        let league = League::build(week, std::slice::from_ref(&hall), &days);
        let r = &league.halls[0];
        assert_eq!(
            (r.outages, r.outage_s, r.outage_longest_s),
            (3, 1890.5, 1800.5)
        );
        assert_eq!(league.freshness.refresh_every_s, 60);
        let csv = league.csv();
        let line = csv.lines().nth(1).unwrap();
        assert!(line.contains(",3,31.51,30.01,0,"), "{line}");
    }

    #[test]
    fn csv_fields_are_safe() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("城东厅"), "城东厅");
    }
}
