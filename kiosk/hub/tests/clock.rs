//! A Pi without a real-time clock: the hub restarted with its clock a day behind, then set right.
//! Tickets stay on the hall's business day, numbers are not given twice, staff see why.

mod common;

use axum::http::StatusCode;
use common::{Fixture, shanghai};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_the_clock_a_day_behind_keeps_the_day_and_tells_the_staff() {
    let f = Fixture::new().await;
    assert_eq!(f.issue("pay").await, "B001");
    let (st, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(st, StatusCode::OK, "{alerts}");
    assert!(alerts["clock"]["problem"].is_null(), "{alerts}");

    // Power cut; the Pi boots with yesterday's time (the one it last saved).
    f.set_time(shanghai(10, 5) - DAY_MS);
    let f = f.restart().await;
    let (st, t) = f.call("GET", "/api/v1/tickets/B001", None, None).await;
    assert_eq!(st, StatusCode::OK, "the day's ticket is still there: {t}");
    assert_eq!(
        f.issue("pay").await,
        "B002",
        "numbering goes on, no second B001"
    );
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    let problem = alerts["clock"]["problem"]["zh"]
        .as_str()
        .unwrap_or_default();
    assert!(
        problem.contains("2026-11-24") && problem.contains("2026-11-25"),
        "staff are told the clock reads the wrong day: {alerts}"
    );
    assert_eq!(alerts["clock"]["business_day"], "2026-11-25");

    // Another restart before NTP answers: B002 is still on the hall's day.
    let f = f.restart().await;
    let (st, t) = f.call("GET", "/api/v1/tickets/B002", None, None).await;
    assert_eq!(st, StatusCode::OK, "{t}");

    // NTP sets the clock right: the same business day goes on and the alert is gone.
    f.set_time(shanghai(10, 20));
    assert_eq!(f.issue("pay").await, "B003");
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert!(alerts["clock"]["problem"].is_null(), "{alerts}");
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    let waiting: u64 = board["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["waiting"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(waiting, 3, "all three customers still wait: {board}");
}
