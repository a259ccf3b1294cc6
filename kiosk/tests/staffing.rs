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

    // Seven waiting at one counter: past the target, and one more counter roughly halves it.
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
    assert!(now > 15.0 * 60.0 && (more - now / 2.0).abs() < 1.0, "{pay}");
    let zh = pay["message"]["zh"].as_str().unwrap();
    assert!(
        zh.starts_with("缴费: 新取号预计等候 ") && zh.contains("; 再开一个窗口约 "),
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
