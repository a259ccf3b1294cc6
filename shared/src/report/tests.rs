//! Pure report tests: percentiles, periods, the rating scale, attribution without events and the CSV form.

use chrono::NaiveDate;

use super::csv::csv_line;
use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn percentiles_interpolate_as_excel_does() {
    let v = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(percentile_sorted(&v, 0.5), Some(2.5));
    // PERCENTILE.INC({1,2,3,4}, 0.9) = 3.7
    assert!((percentile_sorted(&v, 0.9).unwrap() - 3.7).abs() < 1e-12);
    assert_eq!(percentile_sorted(&v, 0.0), Some(1.0));
    assert_eq!(percentile_sorted(&v, 1.0), Some(4.0));
    assert_eq!(percentile_sorted(&[7.0], 0.9), Some(7.0));
    assert_eq!(percentile_sorted(&[], 0.5), None);
    let d = Durations::of_ms(vec![4000, 1000, 3000, 2000]);
    assert_eq!(
        d,
        Durations {
            count: 4,
            mean_s: Some(2.5),
            median_s: Some(2.5),
            p90_s: Some(3.7),
            max_s: Some(4.0),
        }
    );
    assert_eq!(Durations::of_ms(vec![]).mean_s, None);
    assert_eq!(share(3, 4), Some(0.75));
    assert_eq!(share(0, 0), None);
}

#[test]
fn periods_cover_day_week_month_and_year() {
    let d = day(2026, 11, 25); // a Wednesday
    assert_eq!(Period::day(d).days(), 1);
    assert_eq!(
        Period::week(d),
        Some(Period::new(day(2026, 11, 29), day(2026, 11, 23)))
    );
    let week = |d| Period::week(d).unwrap();
    let month = |d| Period::month(d).unwrap();
    assert_eq!(week(day(2026, 11, 23)).from, day(2026, 11, 23));
    assert_eq!(week(day(2026, 11, 29)).from, day(2026, 11, 23));
    assert_eq!(month(d), Period::new(day(2026, 11, 1), day(2026, 11, 30)));
    assert_eq!(month(day(2026, 12, 31)).to, day(2026, 12, 31));
    assert_eq!(month(day(2028, 2, 10)).to, day(2028, 2, 29));
    assert_eq!(Period::year(d).unwrap().days(), 365);
    assert!(week(d).contains(day(2026, 11, 29)));
    assert!(!week(d).contains(day(2026, 11, 30)));
}

#[test]
fn periods_near_the_calendars_limits_are_refused_not_computed() {
    // `-262143-01-01` is chrono's first day: its week began before it and the subtraction panicked.
    for d in [
        NaiveDate::MIN,
        NaiveDate::MAX,
        day(1969, 12, 31),
        day(10000, 1, 1),
    ] {
        assert!(!Period::in_range(d), "{d}");
        assert_eq!(Period::week(d), None, "{d}");
        assert_eq!(Period::month(d), None, "{d}");
        assert_eq!(Period::year(d), None, "{d}");
    }
    // 1970-01-01 was a Thursday: its week is cut to start on that day.
    assert_eq!(
        Period::week(Period::FIRST_DAY).unwrap().from,
        Period::FIRST_DAY
    );
    assert_eq!(
        Period::month(Period::FIRST_DAY).unwrap().from,
        Period::FIRST_DAY
    );
    assert_eq!(Period::year(Period::LAST_DAY).unwrap().to, Period::LAST_DAY);
    assert_eq!(
        Period::month(Period::LAST_DAY).unwrap().to,
        Period::LAST_DAY
    );
    // 9999-12-31 is a Friday: its week is cut to end on that day.
    assert_eq!(Period::week(Period::LAST_DAY).unwrap().to, Period::LAST_DAY);
}

#[test]
fn the_rating_scale_has_five_levels_in_chinese_and_english() {
    let zh: Vec<&str> = Satisfaction::ALL.iter().map(|s| s.zh()).collect();
    assert_eq!(zh, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
    for s in Satisfaction::ALL {
        assert_eq!(Satisfaction::from_score(s.score()), Some(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), s.score().to_string());
        assert_eq!(s.is_satisfied(), s.score() >= 4);
        assert!(!s.label(Lang::En).is_empty());
    }
    assert_eq!(Satisfaction::from_score(0), None);
    assert_eq!(Satisfaction::from_score(6), None);
    assert!(serde_json::from_str::<Satisfaction>("6").is_err());
    assert_eq!(
        serde_json::from_str::<Satisfaction>("3").unwrap(),
        Satisfaction::Fair
    );
}

/// Shanghai local time on 2026-11-25 as UTC milliseconds.
fn at(h: i64, m: i64) -> Millis {
    day(2026, 11, 25)
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        + ((h - 8) * 60 + m) * 60_000
}

fn ticket(number: &str, issued: Millis, called: Option<Millis>, estimated_s: u32) -> TicketRow {
    TicketRow {
        day: day(2026, 11, 25),
        number: number.into(),
        service: "pay".into(),
        first_service: "pay".into(),
        state: if called.is_some() {
            TicketState::Finished
        } else {
            TicketState::Expired
        },
        counter: called.map(|_| 4),
        issued_at: issued,
        first_called_at: called,
        called_at: called,
        started_at: None,
        finished_at: called.map(|c| c + 90_000),
        transfers: 0,
        estimated_wait_s: estimated_s,
    }
}

#[test]
fn rows_without_events_fall_back_to_the_tickets_counter_and_outside_days_are_ignored() {
    let mut outside = ticket("B009", at(9, 0), Some(at(9, 1)), 0);
    outside.day = day(2026, 11, 24);
    let input = ReportInput {
        tickets: vec![
            ticket("B001", at(8, 50), Some(at(8, 52)), 300), // waited 120 s, promised 300 s
            ticket("B002", at(9, 10), Some(at(9, 20)), 300), // waited 600 s
            ticket("B003", at(9, 30), None, 60),
            outside,
        ],
        events: vec![],
        ratings: vec![RatingRow {
            day: day(2026, 11, 25),
            number: "B002".into(),
            counter: None,
            score: Satisfaction::Fair,
            at: at(9, 25),
        }],
        as_of: None,
    };
    let r = Report::build(Period::day(day(2026, 11, 25)), &HallConfig::demo(), &input);
    assert_eq!(
        (r.totals.issued, r.totals.called, r.totals.never_called),
        (3, 2, 1)
    );
    assert_eq!(r.estimate.count, 2);
    assert_eq!(r.estimate.mean_error_s, Some(60.0)); // (-180 + 300) / 2
    assert_eq!(r.estimate.mean_abs_error_s, Some(240.0));
    // The simulator's definitions: RMSE, and late only past five minutes (300 s is not).
    let rmse = r.estimate.rmse_s.unwrap();
    assert!((rmse - 61_200f64.sqrt()).abs() < 1e-9, "{rmse}");
    assert_eq!(r.estimate.late_share, Some(0.0));
    assert_eq!(r.totals.service_time.mean_s, Some(90.0));
    let hours: Vec<&str> = r.by_hour.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(hours, ["08", "09"]);
    assert_eq!(r.by_counter.len(), 1);
    assert_eq!(r.by_counter[0].key, "4");
    assert_eq!(r.by_counter[0].label_zh, "4号窗口");
    assert_eq!(r.by_counter[0].stats.served, 2);
    assert_eq!(r.by_counter[0].stats.satisfaction.rated, 1);
    assert!(r.by_clerk.is_empty(), "no events, no clerk");
}

#[test]
fn csv_quotes_what_needs_quoting_and_starts_with_a_bom() {
    let mut w = Vec::new();
    csv_line(&mut w, &["a,b", "say \"hi\"", "plain", "两行\n文字"]).unwrap();
    assert_eq!(
        String::from_utf8(w).unwrap(),
        "\"a,b\",\"say \"\"hi\"\"\",plain,\"两行\n文字\"\r\n"
    );
    let r = Report::build(
        Period::day(day(2026, 11, 25)),
        &HallConfig::demo(),
        &ReportInput::default(),
    );
    let mut out = Vec::new();
    r.to_csv(&mut out).unwrap();
    assert_eq!(&out[..3], b"\xef\xbb\xbf");
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\r\nreport,,,from,2026-11-25\r\n"));
    assert!(text.split_terminator('\n').all(|l| l.ends_with('\r')));
}

/// Shanghai local time `h:m` on `d` as UTC milliseconds (`h` may be 24: the next midnight).
fn local(d: NaiveDate, h: i64, m: i64) -> Millis {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis() + ((h - 8) * 60 + m) * 60_000
}

fn outage_event(seq: u64, d: NaiveDate, at: Millis, fact: Fact) -> EventRow {
    EventRow {
        seq,
        day: d,
        at,
        actor: "manager".into(),
        fact,
    }
}

fn outage_report(period: Period, events: &[EventRow], as_of: Option<Millis>) -> Incidents {
    let input = ReportInput {
        events: events.to_vec(),
        as_of,
        ..ReportInput::default()
    };
    Report::build(period, &HallConfig::demo(), &input).incidents
}

#[test]
fn an_outage_across_midnight_is_split_between_its_two_days() {
    let (d1, d2) = (day(2026, 11, 25), day(2026, 11, 26));
    let began = local(d1, 23, 0);
    // Filed under the day the hall was on: the start under the first, the end under the second.
    let events = [
        outage_event(1, d1, began, Fact::OutageStarted),
        outage_event(
            2,
            d2,
            local(d2, 1, 30),
            Fact::OutageEnded {
                started_at: Some(began),
            },
        ),
    ];
    let first = outage_report(Period::day(d1), &events, None);
    assert_eq!(first.outages, 1);
    assert_eq!(first.outage_total_s, 3600.0, "23:00 to midnight");
    assert_eq!(first.outage_longest_s, 3600.0);
    let second = outage_report(Period::day(d2), &events, None);
    assert_eq!(second.outages, 0, "begun the day before");
    assert_eq!(second.outage_total_s, 5400.0, "midnight to 01:30");
    // The two days together are the sum of their days, the longest the longest of their parts.
    let both = outage_report(Period::new(d1, d2), &events, None);
    assert_eq!(both.outages, 1);
    assert_eq!(both.outage_total_s, 9000.0);
    assert_eq!(both.outage_longest_s, 5400.0);
    // Read at 00:20 on the second day: the first day is over and counts to its midnight.
    let now = local(d2, 0, 20);
    let first_now = outage_report(Period::day(d1), &events[..1], Some(now));
    assert_eq!(first_now.outage_total_s, 3600.0);
}

#[test]
fn two_outages_on_one_day_add_up_and_the_longer_is_the_longest() {
    let d = day(2026, 11, 25);
    let (a, b) = (local(d, 9, 10), local(d, 14, 0));
    let events = [
        outage_event(1, d, a, Fact::OutageStarted),
        outage_event(
            2,
            d,
            a + 10 * 60_000 + 500,
            Fact::OutageEnded {
                started_at: Some(a),
            },
        ),
        outage_event(3, d, b, Fact::OutageStarted),
        outage_event(
            4,
            d,
            b + 25 * 60_000,
            Fact::OutageEnded {
                started_at: Some(b),
            },
        ),
    ];
    let inc = outage_report(Period::day(d), &events, Some(local(d, 18, 0)));
    assert_eq!(inc.outages, 2);
    assert_eq!(inc.outage_total_s, 2100.5);
    assert_eq!(inc.outage_longest_s, 1500.0);
    // The days around it hold none of it.
    let next = outage_report(Period::day(day(2026, 11, 26)), &events, None);
    assert_eq!((next.outages, next.outage_total_s), (0, 0.0));
}

#[test]
fn an_outage_still_going_on_counts_to_now_today_and_to_midnight_once_the_day_is_over() {
    let d = day(2026, 11, 25);
    let began = local(d, 15, 0);
    let events = [outage_event(1, d, began, Fact::OutageStarted)];
    let today = outage_report(Period::day(d), &events, Some(local(d, 15, 40)));
    assert_eq!(today.outages, 1);
    assert_eq!(today.outage_total_s, 2400.0, "15:00 to now, 15:40");
    assert_eq!(today.outage_longest_s, 2400.0);
    let over = outage_report(Period::day(d), &events, None);
    assert_eq!(over.outage_total_s, 9.0 * 3600.0, "15:00 to midnight");
    let later = outage_report(Period::day(d), &events, Some(local(d, 24, 30)));
    assert_eq!(later.outage_total_s, 9.0 * 3600.0, "read after midnight");
    // A clock read before the outage began counts nothing rather than less than nothing.
    let behind = outage_report(Period::day(d), &events, Some(began - 60_000));
    assert_eq!(behind.outage_total_s, 0.0);
    // The end's own start, when later than midnight, is where an end without a start that day
    // counts from (a day rolled over a moment late).
    let late = local(d, 0, 5);
    let end_only = [outage_event(
        2,
        d,
        local(d, 0, 35),
        Fact::OutageEnded {
            started_at: Some(late),
        },
    )];
    assert_eq!(
        outage_report(Period::day(d), &end_only, None).outage_total_s,
        1800.0
    );
}

#[test]
fn slow_systems_staff_declared_add_up_by_day_and_one_left_on_ends_with_the_days_business() {
    let d = day(2026, 11, 25);
    let finished = |seq, at| EventRow {
        seq,
        day: d,
        at,
        actor: "clerk1".into(),
        fact: Fact::Finished {
            number: "A001".into(),
            counter: 1,
        },
    };
    let events = [
        outage_event(1, d, local(d, 10, 0), Fact::SlowSystemStarted),
        outage_event(2, d, local(d, 10, 45), Fact::SlowSystemEnded),
        outage_event(3, d, local(d, 15, 0), Fact::SlowSystemStarted),
        finished(4, local(d, 17, 20)),
    ];
    // Today at 16:00: 45 minutes, and the second one to now.
    let today = outage_report(Period::day(d), &events, Some(local(d, 16, 0)));
    assert_eq!(today.slow_systems, 2);
    assert_eq!(today.slow_system_total_s, (45.0 + 60.0) * 60.0);
    // The day over: the second one to the last finish at 17:20, not to midnight.
    let over = outage_report(Period::day(d), &events, None);
    assert_eq!(over.slow_system_total_s, (45.0 + 140.0) * 60.0);
    // Neither is an outage.
    assert_eq!((over.outages, over.outage_total_s), (0, 0.0));
    let body = |json: &'static str| serde_json::from_str::<EventBody<'_>>(json).unwrap();
    assert_eq!(
        fact_of(
            "slow_system_started",
            &body(r#"{"type":"slow_system_started"}"#)
        ),
        Some(Fact::SlowSystemStarted)
    );
    assert_eq!(
        fact_of(
            "slow_system_ended",
            &body(r#"{"type":"slow_system_ended"}"#)
        ),
        Some(Fact::SlowSystemEnded)
    );
}

#[test]
fn outage_events_read_as_the_report_reads_them() {
    let body = |json: &'static str| serde_json::from_str::<EventBody<'_>>(json).unwrap();
    assert_eq!(
        fact_of(
            "outage_ended",
            &body(r#"{"type":"outage_ended","id":1764054000000}"#)
        ),
        Some(Fact::OutageEnded {
            started_at: Some(1_764_054_000_000)
        })
    );
    assert_eq!(
        fact_of(
            "outage_started",
            &body(r#"{"type":"outage_started","outage":{"id":5,"started_at":5}}"#)
        ),
        Some(Fact::OutageStarted)
    );
    assert_eq!(fact_of("outage_became_long", &body(r#"{"id":5}"#)), None);
}
