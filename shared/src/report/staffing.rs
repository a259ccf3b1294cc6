//! The report's staffing section: hour by hour, how many counters were open and how many would have
//! called 85 % of customers within the target wait — Erlang C ([`crate::staffing`]) on the hour's
//! measured arrivals and mean service time.
//!
//! # Definitions
//!
//! - **Hour**: the local hour of issue, as in `by_hour`; only hours with tickets.
//! - **Arrivals per hour**: tickets issued in that hour over the period, divided by the period's
//!   business days (days with at least one ticket).
//! - **Mean service time**: of the finished tickets issued in that hour; an hour with none takes the
//!   period's mean.
//! - **Counters open**: the time each counter was open during that hour (from
//!   `counter_state_changed` events: open until paused or closed), summed over the counters and
//!   divided by the business days: 1.5 means one counter all hour and another for half of it. A
//!   counter whose first change of the day is a pause or a close was open since midnight (it was
//!   left open overnight); one never closed stays open until midnight.
//! - **Mean call time**: what the counters needed are reckoned on, as the live advice reckons
//!   them: of that hour's tickets that were called, the service time of those served and, of
//!   those who did not come, the time from the call to the mark (at most
//!   [`crate::estimate::no_show::MAX_HOLD_SECS`]); an hour with none takes the period's.
//! - **Counters needed**: the fewest whole counters for which the M/M/s queue on those arrivals and
//!   that mean call time calls [`crate::staffing::TARGET_SHARE`] of customers within
//!   `thresholds.target_wait_min`. The whole hall is treated as one pool of counters, as if every
//!   counter could call every service: with counters kept to a few services it is a lower bound.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

use super::{EventRow, Fact, Period, TicketRow};
use crate::config::HallConfig;
use crate::estimate::no_show::MAX_HOLD_SECS;
use crate::hall::{CallEnd, CounterId, Millis, Now};
use crate::staffing::Rates;

/// One local hour of the staffing section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffingHour {
    /// `09`.
    pub key: String,
    /// `09:00–10:00`.
    pub label: String,
    pub issued: u32,
    pub arrivals_per_hour: f64,
    pub mean_service_s: Option<f64>,
    /// Mean number of counters open during the hour.
    pub counters_open: f64,
    /// Fewest counters for 85 % within the target at this hour's rates.
    pub counters_needed: Option<u32>,
    /// Fewer counters were open than needed (by at least half a counter).
    pub short: bool,
}

/// Local midnight of `day` and `hour` o'clock, as instants (the earlier one across a clock change).
pub(super) fn local_ms(tz: &chrono_tz::Tz, day: NaiveDate, hour: u32) -> Millis {
    let t = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    let at = tz
        .from_local_datetime(&day.and_time(t))
        .earliest()
        .map_or_else(
            || day.and_time(t).and_utc().timestamp_millis(),
            |d| d.timestamp_millis(),
        );
    if hour >= 24 {
        at + Millis::from(hour - 23) * 3_600_000
    } else {
        at
    }
}

/// Each counter's open intervals per business day, from the period's events.
fn open_intervals(
    tz: &chrono_tz::Tz,
    period: &Period,
    events: &[EventRow],
) -> BTreeMap<(NaiveDate, CounterId), Vec<(Millis, Millis)>> {
    let mut out: BTreeMap<(NaiveDate, CounterId), Vec<(Millis, Millis)>> = BTreeMap::new();
    let mut since: BTreeMap<(NaiveDate, CounterId), Option<Millis>> = BTreeMap::new();
    for e in events.iter().filter(|e| period.contains(e.day)) {
        let (counter, open) = match e.fact {
            Fact::CounterOpened { counter } => (counter, true),
            Fact::CounterLeft { counter } => (counter, false),
            _ => continue,
        };
        let key = (e.day, counter);
        let first = !since.contains_key(&key);
        let state = since.entry(key).or_insert(None);
        match (open, *state) {
            (true, None) => *state = Some(e.at),
            (false, Some(from)) => {
                out.entry(key).or_default().push((from, e.at));
                *state = None;
            }
            (false, None) if first => {
                out.entry(key)
                    .or_default()
                    .push((local_ms(tz, e.day, 0), e.at));
            }
            _ => {}
        }
    }
    for (key, state) in since {
        if let Some(from) = state {
            out.entry(key)
                .or_default()
                .push((from, local_ms(tz, key.0, 24)));
        }
    }
    out
}

/// The staffing section of a report of `period`.
pub fn by_hour(
    period: &Period,
    config: &HallConfig,
    tickets: &[&TicketRow],
    events: &[EventRow],
) -> Vec<StaffingHour> {
    let tz = config.time_zone();
    let target_s = f64::from(config.thresholds.target_wait_min) * 60.0;
    let days: BTreeSet<NaiveDate> = tickets.iter().map(|t| t.day).collect();
    if days.is_empty() {
        return Vec::new();
    }
    let n_days = days.len() as f64;
    // Per hour: tickets issued, services, and calls (services and no-shows' holds).
    let mut hours: BTreeMap<u32, (u32, Vec<i64>, Vec<i64>)> = BTreeMap::new();
    let mut all_services: Vec<i64> = Vec::new();
    let mut all_calls: Vec<i64> = Vec::new();
    for t in tickets {
        let hour = Now::in_zone(t.issued_at, &tz).time.hour();
        let h = hours.entry(hour).or_default();
        h.0 += 1;
        if let Some(ms) = t.service_ms() {
            h.1.push(ms);
            all_services.push(ms);
        }
        let call = match CallEnd::of(t.state, t.called_at, t.finished_at) {
            Some(CallEnd::Served) => t.service_ms(),
            Some(CallEnd::NoShow { after_secs }) => {
                Some(i64::from(after_secs.min(MAX_HOLD_SECS)) * 1000)
            }
            None => None,
        };
        if let Some(ms) = call {
            h.2.push(ms);
            all_calls.push(ms);
        }
    }
    let mean_s = |v: &[i64]| {
        (!v.is_empty())
            .then(|| v.iter().map(|&ms| ms.max(0) as f64).sum::<f64>() / v.len() as f64 / 1000.0)
    };
    let period_mean = mean_s(&all_services);
    let period_call = mean_s(&all_calls);
    let intervals = open_intervals(&tz, period, events);
    hours
        .into_iter()
        .map(|(hour, (issued, services, calls))| {
            let open_ms: i64 = days
                .iter()
                .map(|&d| {
                    let (from, to) = (local_ms(&tz, d, hour), local_ms(&tz, d, hour + 1));
                    intervals
                        .range((d, CounterId::MIN)..=(d, CounterId::MAX))
                        .flat_map(|(_, v)| v)
                        .map(|&(a, b)| (b.min(to) - a.max(from)).max(0))
                        .sum::<i64>()
                })
                .sum();
            let counters_open = open_ms as f64 / 3_600_000.0 / n_days;
            let arrivals_per_hour = f64::from(issued) / n_days;
            let mean_service_s = mean_s(&services).or(period_mean);
            let counters_needed = mean_s(&calls).or(period_call).map(|m| {
                Rates {
                    arrivals_per_hour,
                    mean_service_s: m,
                }
                .counters_needed(target_s)
            });
            StaffingHour {
                key: format!("{hour:02}"),
                label: format!("{hour:02}:00–{:02}:00", hour + 1),
                issued,
                arrivals_per_hour,
                mean_service_s,
                counters_open,
                counters_needed,
                short: counters_needed.is_some_and(|n| counters_open + 0.5 <= f64::from(n)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Report, ReportInput};
    use super::*;
    use crate::hall::TicketState;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    /// Shanghai local time on the test day.
    fn at(h: u32, m: u32) -> Millis {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        tz.from_local_datetime(&day().and_hms_opt(h, m, 0).unwrap())
            .unwrap()
            .timestamp_millis()
    }

    fn ticket(i: u32, issued_at: Millis) -> TicketRow {
        TicketRow {
            day: day(),
            number: format!("B{i:03}"),
            service: "pay".into(),
            first_service: "pay".into(),
            state: TicketState::Finished,
            counter: Some(1),
            issued_at,
            first_called_at: Some(issued_at + 60_000),
            called_at: Some(issued_at + 60_000),
            started_at: Some(issued_at + 60_000),
            finished_at: Some(issued_at + 60_000 + 300_000),
            transfers: 0,
            estimated_wait_s: 0,
        }
    }

    fn event(seq: u64, at: Millis, fact: Fact) -> EventRow {
        EventRow {
            seq,
            day: day(),
            at,
            actor: "clerk".into(),
            fact,
        }
    }

    #[test]
    fn counters_open_and_needed_hour_by_hour() {
        let mut config = HallConfig::demo();
        config.hall.time_zone = "Asia/Shanghai".into();
        // 20 tickets between 9 and 10, 6 between 10 and 11, five minutes of service each.
        let mut tickets: Vec<TicketRow> = (0..20)
            .map(|i| ticket(i, at(9, 0) + i64::from(i) * 180_000))
            .collect();
        tickets.extend((0..6).map(|i| ticket(20 + i, at(10, 0) + i64::from(i) * 600_000)));
        let events = vec![
            // Counter 3 was left open overnight: its first change of the day is a close.
            event(1, at(9, 30), Fact::CounterLeft { counter: 3 }),
            event(2, at(8, 50), Fact::CounterOpened { counter: 1 }),
            event(3, at(9, 30), Fact::CounterOpened { counter: 2 }),
            event(4, at(9, 45), Fact::CounterLeft { counter: 2 }),
            event(5, at(10, 30), Fact::CounterOpened { counter: 2 }),
            event(6, at(12, 0), Fact::CounterLeft { counter: 1 }),
        ];
        let mut events = events;
        events.sort_by_key(|e| e.at);
        let input = ReportInput {
            tickets,
            events,
            ratings: vec![],
            as_of: None,
        };
        let r = Report::build(Period::day(day()), &config, &input);
        let h = &r.staffing_by_hour;
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(
            (h[0].key.as_str(), h[0].label.as_str()),
            ("09", "09:00–10:00")
        );
        // Counter 1 all hour, counter 2 a quarter of it, counter 3 half of it.
        assert!((h[0].counters_open - 1.75).abs() < 1e-9, "{:?}", h[0]);
        assert_eq!(h[0].issued, 20);
        assert_eq!(h[0].mean_service_s, Some(300.0));
        // 20 an hour of 5 minutes: 2 counters call 72 %, 3 call 99 % within 15 minutes.
        assert_eq!(h[0].counters_needed, Some(3));
        assert!(h[0].short);
        // Counter 1 all hour, counter 2 from 10:30 to the end of the day.
        assert!((h[1].counters_open - 1.5).abs() < 1e-9, "{:?}", h[1]);
        // 6 an hour: one counter calls 89 %.
        assert_eq!(h[1].counters_needed, Some(1));
        assert!(!h[1].short);

        let mut csv = Vec::new();
        r.to_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.contains("staffing_by_hour,09,09:00–10:00,counters_needed,3"),
            "{csv}"
        );
    }

    #[test]
    fn customers_who_did_not_come_count_for_the_time_they_held_a_counter() {
        let mut config = HallConfig::demo();
        config.hall.time_zone = "Asia/Shanghai".into();
        // 20 tickets between 9 and 10: every other one did not come, marked a minute after the
        // call; one never called (left, expired) counts as an arrival but took no counter time.
        let mut tickets: Vec<TicketRow> = (0..20)
            .map(|i| {
                let mut t = ticket(i, at(9, 0) + i64::from(i) * 180_000);
                if i % 2 == 1 {
                    t.state = TicketState::NoShow;
                    t.started_at = None;
                    t.finished_at = t.called_at.map(|c| c + 60_000);
                }
                t
            })
            .collect();
        let mut left = ticket(20, at(9, 59));
        left.state = TicketState::Expired;
        (
            left.first_called_at,
            left.called_at,
            left.started_at,
            left.finished_at,
        ) = (None, None, None, None);
        tickets.push(left);
        let input = ReportInput {
            tickets,
            events: vec![event(1, at(8, 50), Fact::CounterOpened { counter: 1 })],
            ratings: vec![],
            as_of: None,
        };
        let r = Report::build(Period::day(day()), &config, &input);
        let h = &r.staffing_by_hour[0];
        assert_eq!(h.issued, 21);
        // The service time is of those served.
        assert_eq!(h.mean_service_s, Some(300.0));
        // A call takes (10 × 5 min + 10 × 1 min) / 20 = 3 minutes: 21 an hour is 1.05 counters'
        // work, and two counters call 85 % within 15 minutes (at five minutes a call it would be
        // three).
        assert_eq!(h.counters_needed, Some(2), "{h:?}");
        let served_only = Rates {
            arrivals_per_hour: 21.0,
            mean_service_s: 300.0,
        };
        assert_eq!(served_only.counters_needed(900.0), 3);
    }

    #[test]
    fn a_period_without_tickets_has_no_hours() {
        let r = Report::build(
            Period::day(day()),
            &HallConfig::demo(),
            &ReportInput::default(),
        );
        assert!(r.staffing_by_hour.is_empty());
    }
}
