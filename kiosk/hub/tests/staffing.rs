//! The staffing advice as the hub serves it: nothing while the wait is within the target, the two
//! waits once a new customer would wait past it, on `GET /staffing` and in the clerks' alerts.

mod common;

use axum::http::StatusCode;
use common::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advice_speaks_only_past_the_target() {
    let f = Fixture::new().await;
    // Counter 2 alone calls payments; one customer waiting is well within 15 minutes.
    f.open_counter(2).await;
    f.issue("pay").await;
    let (st, s) = f
        .call("GET", "/api/v1/staffing", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert_eq!(s["target_wait_min"], 15);
    assert_eq!(s["target_share"], 0.85);
    let pay = s["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "pay")
        .cloned()
        .unwrap();
    assert_eq!(pay["standing"], "ok", "{pay}");
    assert!(pay["message"].is_null());
    assert_eq!(pay["load"]["waiting"], 1);
    assert_eq!(pay["load"]["counters_open"], 1);
    assert_eq!(pay["load"]["arrivals_30m"], 1);
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(a["staffing"], serde_json::json!([]), "{a}");

    // Seven waiting at one free counter, five minutes a service: a new customer is called after
    // seven services (35 min), past the target; with counter 1 open too (closed, it calls
    // payments after accounts, which nobody waits for), after three rounds of two (15 min).
    for _ in 0..6 {
        f.issue("pay").await;
    }
    let (_, s) = f
        .call("GET", "/api/v1/staffing", Some(&f.manager), None)
        .await;
    let pay = s["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "pay")
        .cloned()
        .unwrap();
    assert_eq!(pay["standing"], "over", "{pay}");
    let now = pay["wait_now_s"].as_f64().unwrap();
    let more = pay["wait_one_more_s"].as_f64().unwrap();
    assert!((now - 7.0 * 300.0).abs() < 1.0, "{pay}");
    assert!((more - 3.0 * 300.0).abs() < 1.0, "{pay}");
    // The same wait as the board and the kiosk's button show.
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    let line = board["waiting"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["service"] == "pay"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        line["estimated_wait_s"].as_f64(),
        Some(now.round()),
        "{board}"
    );
    let zh = pay["message"]["zh"].as_str().unwrap();
    assert!(
        zh.starts_with("缴费: 新取号预计等候 ") && zh.contains("; 再开1号窗口约 "),
        "{zh}"
    );
    assert!(pay["counters_needed"].as_u64().unwrap() >= 2);
    // Services with nobody waiting stay quiet.
    let quiet: Vec<_> = s["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["service"] != "pay")
        .filter(|a| !a["message"].is_null())
        .collect();
    assert!(quiet.is_empty(), "{quiet:?}");

    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    let list = a["staffing"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{a}");
    assert_eq!(list[0]["service"], "pay");
    assert_eq!(list[0]["message"]["zh"], zh);

    // Opening counters 1 and 4 (they call payments too) brings the wait back under the target.
    f.open_counter(1).await;
    f.open_counter(4).await;
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    let pay = &a["staffing"];
    assert!(
        pay.as_array()
            .unwrap()
            .iter()
            .all(|x| x["standing"] != "over"),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_counters_open_hour_by_hour_from_the_store() {
    let f = Fixture::new().await;
    // 10:00 in the hall: counter 1 opens; counter 2 opens at 10:15 and pauses at 10:45.
    f.open_counter(1).await;
    for _ in 0..4 {
        f.issue("pay").await;
    }
    // One service of 15 minutes at counter 1 gives the hour its mean service time.
    for action in ["next", "start"] {
        let (st, b) = f
            .call(
                "POST",
                &format!("/api/v1/counters/1/{action}"),
                Some(&f.manager),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{action}: {b}");
    }
    f.advance_ms(15 * 60_000);
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/finish", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    f.open_counter(2).await;
    f.advance_ms(30 * 60_000);
    let (st, b) = f
        .call("POST", "/api/v1/counters/2/pause", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    f.advance_ms(30 * 60_000);
    let (st, r) = f
        .call("GET", "/api/v1/reports?period=day", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let hours = r["staffing_by_hour"].as_array().unwrap();
    assert_eq!(hours.len(), 1, "{r}");
    assert_eq!(hours[0]["key"], "10");
    assert_eq!(hours[0]["issued"], 4);
    // Counter 1 all hour, counter 2 for half of it.
    assert!(
        (hours[0]["counters_open"].as_f64().unwrap() - 1.5).abs() < 1e-6,
        "{r}"
    );
    assert_eq!(hours[0]["mean_service_s"], 900.0);
    // 4 an hour of 15 minutes is a whole counter's work: one cannot keep up, two call 88 % within
    // 15 minutes; one and a half open is short.
    assert_eq!(hours[0]["counters_needed"], 2, "{r}");
    assert_eq!(hours[0]["short"], true);
}
