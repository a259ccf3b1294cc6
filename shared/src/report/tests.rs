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
