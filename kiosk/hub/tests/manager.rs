//! The manager's API and the counter tablet's rating, through the router on a real hub: every new
//! route × every role, the audited configuration, accounts and devices, reports checked against
//! the hand-worked sample day, and one rating per finished visit.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::NaiveDate;
use common::{Fixture, PASSWORD, code, shanghai};
use hallq_hub::{self as hub, Hub, HubOptions, sample_day};
use hallq_shared::config::HallConfig;
use hallq_shared::store::db_path;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use Who::*;
use common::who::{ALL, Who, token};

const MANAGER: &[Who] = &[Manager];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_manager_route_admits_only_managers_and_the_rating_prompt_is_public() {
    let f = Fixture::new().await;
    let config = serde_json::to_value(HallConfig::demo()).unwrap();
    let table: Vec<(&str, &str, Option<Value>, &[Who])> = vec![
        ("GET", "/api/v1/config", None, MANAGER),
        ("PUT", "/api/v1/config", Some(config), MANAGER),
        ("GET", "/api/v1/accounts", None, MANAGER),
        (
            "POST",
            "/api/v1/accounts",
            Some(json!({"login": "zhou", "role": "staff", "password": "long enough pw"})),
            MANAGER,
        ),
        (
            "POST",
            "/api/v1/accounts/nobody-here/disable",
            None,
            MANAGER,
        ),
        ("GET", "/api/v1/devices", None, MANAGER),
        (
            "POST",
            "/api/v1/devices",
            Some(json!({"name": "kiosk-2", "role": "kiosk"})),
            MANAGER,
        ),
        (
            "POST",
            "/api/v1/devices/no-such-device/revoke",
            None,
            MANAGER,
        ),
        ("GET", "/api/v1/audit", None, MANAGER),
        ("GET", "/api/v1/reports?period=day", None, MANAGER),
        (
            "GET",
            "/api/v1/reports?period=month&date=2026-11-25&format=csv",
            None,
            MANAGER,
        ),
        // Ratings come from the counter's rating tablet only (suggestions_notes_ratings.rs).
        ("GET", "/api/v1/counters/1/rating-prompt", None, ALL),
    ];
    for (method, path, body, allowed) in &table {
        for who in ALL {
            let (st, b) = f
                .call(method, path, token(&f, *who).as_deref(), body.clone())
                .await;
            if allowed.contains(who) {
                assert!(
                    st != StatusCode::UNAUTHORIZED
                        && st != StatusCode::FORBIDDEN
                        && !st.is_server_error(),
                    "{method} {path} as {who:?}: {st} {b}"
                );
            } else if *who == Nobody {
                assert_eq!(st, StatusCode::UNAUTHORIZED, "{method} {path}: {b}");
                assert_eq!(code(&b), "unauthorized");
            } else {
                assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path} as {who:?}: {b}");
                assert_eq!(code(&b), "forbidden");
            }
        }
    }
    // The tablet's page is public and is the embedded rating page.
    let (st, page) = f.call("GET", "/rate/3", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("rate.js"), "{page}");
    let (st, page) = f.call("GET", "/staff/manager.html", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("manager.js"));
}

fn fee_of(board: &Value, item: &str) -> Option<String> {
    board["notices"]["fee_schedule"]
        .as_array()?
        .iter()
        .find(|f| f["item"]["zh"] == item)
        .and_then(|f| f["amount"]["zh"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_change_reaches_the_board_and_is_audited_with_before_and_after() {
    let f = Fixture::new().await;
    let (st, mut config) = f
        .call("GET", "/api/v1/config", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(fee_of(&board, "宽带100M").as_deref(), Some("50元/月"));

    let fees = config["fee_schedule"].as_array_mut().unwrap();
    let broadband = fees
        .iter_mut()
        .find(|x| x["item"]["zh"] == "宽带100M")
        .unwrap();
    broadband["amount"] = json!({"zh": "45元/月", "en": "45 yuan/month"});
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(config.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(fee_of(&board, "宽带100M").as_deref(), Some("45元/月"));

    let (st, audit) = f
        .call("GET", "/api/v1/audit?limit=5", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let row = &audit[0];
    assert_eq!(row["action"], "config_replaced");
    assert_eq!(row["actor"], "boss");
    assert_eq!(row["detail"]["changed"], json!(["fee_schedule"]));
    let amount = |side: &str| {
        row["detail"][side]["fee_schedule"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["item"]["zh"] == "宽带100M")
            .unwrap()["amount"]["zh"]
            .clone()
    };
    assert_eq!(amount("before"), "50元/月");
    assert_eq!(amount("after"), "45元/月");
    assert!(row["at"].as_str().unwrap().starts_with("2026-11-25T02:00"));

    // Refused: two services with one letter (400, in Chinese too), nothing changes.
    let mut bad = config.clone();
    bad["services"][1]["prefix"] = json!("A");
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(bad))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(code(&b), "bad_config");
    assert!(b["error"]["message"].as_str().unwrap().contains("prefix A"));
    let zh = b["error"]["message_zh"].as_str().unwrap();
    assert!(
        zh.starts_with("配置未保存:号码字母A被两项业务同时使用"),
        "{zh}"
    );
    // An empty Chinese hall name.
    let mut bad = config.clone();
    bad["hall"]["name"]["zh"] = json!("  ");
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(bad))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        b["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("营业厅中文名称不能为空")
    );
    // An unknown field is a typo, not ignored.
    let mut bad = config.clone();
    bad["hall"]["colour"] = json!("red");
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(bad))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(code(&b), "bad_json");
    // Removing a service that still has tickets today: 409, disable it instead.
    f.issue("repair").await;
    let mut bad = config.clone();
    bad["services"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["id"] != "repair");
    for c in bad["counters"].as_array_mut().unwrap() {
        c["services"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s != "repair");
    }
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(bad))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    assert_eq!(code(&b), "service_in_use");
    let (_, audit) = f
        .call("GET", "/api/v1/audit?limit=5", Some(&f.manager), None)
        .await;
    assert_eq!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "config_replaced")
            .count(),
        1,
        "refused changes are not recorded as changes"
    );
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(fee_of(&board, "宽带100M").as_deref(), Some("45元/月"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_added_reset_and_disabled_and_devices_get_a_token_once() {
    let f = Fixture::new().await;
    let m = Some(f.manager.as_str());
    let add = |login: &str, role: &str, password: &str| json!({"login": login, "role": role, "password": password});
    for (body, want) in [
        (add("zhou", "staff", "short"), "weak_password"),
        (add("zhou wei", "staff", "long enough pw"), "bad_name"),
        (add("", "staff", "long enough pw"), "bad_name"),
        (add("zhou", "kiosk", "long enough pw"), "bad_role"),
    ] {
        let (st, b) = f.call("POST", "/api/v1/accounts", m, Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(code(&b), want);
        assert!(b["error"]["message_zh"].is_string());
    }
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/accounts",
            m,
            Some(add("zhou", "staff", "long enough pw")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, login) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "zhou", "password": "long enough pw", "counter": 3})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{login}");
    let zhou = login["token"].as_str().unwrap().to_string();
    let (st, _) = f
        .call("POST", "/api/v1/counters/3/open", Some(&zhou), None)
        .await;
    assert_eq!(st, StatusCode::OK);

    let (_, list) = f.call("GET", "/api/v1/accounts", m, None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["login"] == "zhou" && a["role"] == "staff" && a["disabled"] == false)
    );

    // Own account: refused, so the hall cannot lock its manager out by a slip.
    let (st, b) = f
        .call("POST", "/api/v1/accounts/boss/disable", m, None)
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(code(&b), "own_account");
    let (st, b) = f
        .call("POST", "/api/v1/accounts/ghost/disable", m, None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(code(&b), "unknown_account");

    let (st, _) = f
        .call("POST", "/api/v1/accounts/zhou/disable", m, None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, b) = f.call("GET", "/api/v1/me", Some(&zhou), None).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "the session ends at once: {b}"
    );
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "zhou", "password": "long enough pw"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Devices.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/devices",
            m,
            Some(json!({"name": "kiosk-2", "role": "staff"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(code(&b), "bad_role");
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/devices",
            m,
            Some(json!({"name": "kiosk-2", "role": "kiosk"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let kiosk2 = b["token"].as_str().unwrap().to_string();
    assert!(kiosk2.len() >= 32);
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&kiosk2),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, list) = f.call("GET", "/api/v1/devices", m, None).await;
    assert!(
        !list.to_string().contains(&kiosk2),
        "the token is shown only once"
    );
    let (st, _) = f
        .call("POST", "/api/v1/devices/kiosk-2/revoke", m, None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&kiosk2),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops at once"
    );
    let (_, list) = f.call("GET", "/api/v1/devices", m, None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "kiosk-2" && d["revoked"] == true)
    );

    let (_, audit) = f.call("GET", "/api/v1/audit", m, None).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "boss")
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for a in [
        "account_added",
        "account_disabled",
        "device_added",
        "device_revoked",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        !audit.to_string().contains("long enough pw"),
        "no password in the log"
    );
}

/// A hub whose database already holds the sample day of 2026-11-02; now is 2026-11-25 10:00.
async fn hub_with_sample_day() -> (tempfile::TempDir, axum::Router, String) {
    let dir = tempfile::tempdir().unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    sample_day::play(&db_path(dir.path()), &HallConfig::demo(), day).unwrap();
    common::add_accounts(dir.path());
    let clock = Arc::new(AtomicI64::new(shanghai(10, 0)));
    let c = clock.clone();
    let mut opts = HubOptions::new(dir.path(), HallConfig::demo());
    opts.clock = Arc::new(move || c.load(Ordering::SeqCst));
    let app = hub::app(Hub::open(opts).unwrap());
    let (_, login) = send(
        &app,
        "POST",
        "/api/v1/login",
        None,
        Some(json!({"login": "boss", "password": PASSWORD})),
    )
    .await;
    let token = login["token"].as_str().unwrap().to_string();
    (dir, app, token)
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (st, _, bytes) = send_raw(app, method, uri, token, body).await;
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (st, v)
}

async fn send_raw(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    let st = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (st, headers, bytes)
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-6)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_give_the_hand_worked_figures_of_the_sample_day() {
    let (_dir, app, m) = hub_with_sample_day().await;
    for period in ["day", "week", "month"] {
        let (st, r) = send(
            &app,
            "GET",
            &format!("/api/v1/reports?period={period}&date=2026-11-02"),
            Some(&m),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        let t = &r["totals"];
        assert_eq!(t["issued"], 5, "{period}");
        assert_eq!(t["served"], 4);
        assert_eq!(t["no_shows"], 1);
        assert_eq!(t["transfers"], 1);
        assert!(close(&t["wait"]["mean_s"], 432.0), "{}", t["wait"]);
        assert!(close(&t["wait"]["median_s"], 300.0));
        assert!(close(&t["wait"]["p90_s"], 864.0));
        assert!(close(&t["within_target"], 0.8));
        assert!(close(&t["service_time"]["mean_s"], 510.0));
        assert_eq!(t["long_services"], 1);
        assert_eq!(t["satisfaction"]["rated"], 3);
        assert!(close(&t["satisfaction"]["mean"], 4.0));
        assert!(close(&t["satisfaction"]["satisfied_share"], 2.0 / 3.0));
        let hours: Vec<(String, f64)> = r["by_hour"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["key"].as_str().unwrap().to_string(),
                    h["wait"]["mean_s"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(hours, vec![("09".into(), 300.0), ("10".into(), 630.0)]);
        let clerk = |login: &str| {
            r["by_clerk"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["key"] == login)
                .unwrap()["served"]
                .clone()
        };
        assert_eq!(clerk("li"), 3);
        assert_eq!(clerk("wang"), 1);
        assert_eq!(r["open_times"]["in_place"], 1);
        assert_eq!(r["open_times"]["late"], 1);
        assert_eq!(r["incidents"]["slow_systems"], 1);
        assert!(close(&r["incidents"]["slow_system_total_s"], 1200.0));
        assert_eq!(r["incidents"]["outages"], 0);
    }
    let (_, r) = send(
        &app,
        "GET",
        "/api/v1/reports?period=week&date=2026-11-02",
        Some(&m),
        None,
    )
    .await;
    assert_eq!(r["period"]["from"], "2026-11-02");
    assert_eq!(r["period"]["to"], "2026-11-08");
    // Another day is empty, not an error.
    let (st, r) = send(
        &app,
        "GET",
        "/api/v1/reports?period=day&date=2026-11-03",
        Some(&m),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["totals"]["issued"], 0);

    let (st, headers, bytes) = send_raw(
        &app,
        "GET",
        "/api/v1/reports?period=day&date=2026-11-02&format=csv",
        Some(&m),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"hallq-report-day-2026-11-02.csv\""
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("\u{feff}section,key,label,metric,value\r\n"));
    assert!(text.contains("totals"), "{text}");

    for (q, want) in [
        ("period=year", "bad_query"),
        ("period=day&date=2026-13-01", "bad_date"),
        ("period=day&format=pdf", "bad_query"),
        ("date=2026-11-02", "bad_query"),
    ] {
        let (st, b) = send(&app, "GET", &format!("/api/v1/reports?{q}"), Some(&m), None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {b}");
        assert_eq!(code(&b), want, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_dates_outside_the_calendar_range_get_a_json_400() {
    let f = Fixture::new().await;
    // The first of these made the report's week computation overflow and drop the connection.
    for q in [
        "period=week&date=-262143-01-01",
        "period=month&date=-262143-01-01",
        "period=week&date=%2B262142-12-31",
        "period=day&date=1969-12-31",
        "period=month&date=%2B10000-01-01",
    ] {
        let (st, b) = send(
            &f.app,
            "GET",
            &format!("/api/v1/reports?{q}"),
            Some(&f.manager),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {b}");
        assert_eq!(code(&b), "date_out_of_range", "{q}");
        assert!(b["error"]["message_zh"].is_string(), "{q}: {b}");
    }
    // The range's own ends still answer.
    for q in [
        "period=week&date=1970-01-01",
        "period=month&date=9999-12-31",
    ] {
        let (st, b) = send(
            &f.app,
            "GET",
            &format!("/api/v1/reports?{q}"),
            Some(&f.manager),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{q}: {b}");
    }
}

/// Counter 1's rating tablet, created by the manager: its token.
async fn tablet_of_counter_1(f: &Fixture) -> String {
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/devices",
            Some(&f.manager),
            Some(json!({"name": "tablet-1", "role": "tablet", "counter": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["token"].as_str().unwrap().to_string()
}

/// Call, start and finish one `pay` ticket at counter 1.
async fn serve_one(f: &Fixture) -> String {
    let number = f.issue("pay").await;
    for action in ["call", "start", "finish"] {
        let (path, body) = match action {
            "call" => ("/api/v1/counters/1/call", Some(json!({"number": number}))),
            other => (
                if other == "start" {
                    "/api/v1/counters/1/start"
                } else {
                    "/api/v1/counters/1/finish"
                },
                None,
            ),
        };
        let (st, b) = f.call("POST", path, Some(&f.clerk1), body).await;
        assert!(st.is_success(), "{action}: {st} {b}");
    }
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_visit_is_rated_once_within_the_window() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    let tablet = tablet_of_counter_1(&f).await;
    let (_, p) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(p["prompt"], false, "nothing finished yet");
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet),
            Some(json!({"counter": 1, "score": 5})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(code(&b), "nothing_to_rate");

    let number = serve_one(&f).await;
    let (_, p) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(p["prompt"], true, "{p}");
    assert_eq!(p["expires_in_s"], 180);
    assert!(
        !p.to_string().contains(&number),
        "the public prompt does not show the number"
    );
    let (_, p2) = f
        .call("GET", "/api/v1/counters/2/rating-prompt", None, None)
        .await;
    assert_eq!(p2["prompt"], false, "only the counter that served");

    for (body, st_want, code_want) in [
        (
            json!({"counter": 1, "score": 0}),
            StatusCode::BAD_REQUEST,
            "bad_score",
        ),
        (
            json!({"counter": 1, "score": 6}),
            StatusCode::BAD_REQUEST,
            "bad_score",
        ),
        (
            json!({"counter": 99, "score": 5}),
            StatusCode::FORBIDDEN,
            "other_counter",
        ),
        (
            json!({"counter": 1, "score": 5, "phone": "138"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
    ] {
        let (st, b) = f
            .call("POST", "/api/v1/ratings", Some(&tablet), Some(body))
            .await;
        assert_eq!(st, st_want, "{b}");
        assert_eq!(code(&b), code_want);
    }

    f.advance_ms(20_000);
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet),
            Some(json!({"counter": 1, "score": 4})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["label_zh"], "满意");
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet),
            Some(json!({"counter": 1, "score": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "one rating per visit: {b}");
    assert_eq!(code(&b), "already_rated");
    let (_, p) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(p["prompt"], false);

    // Kept, with the score given first.
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let kept = f
        .hub
        .read(move |s| s.rating(day, &number))
        .await
        .unwrap()
        .map(|s| s.score());
    assert_eq!(kept, Some(4));

    // Too late: the window has passed.
    serve_one(&f).await;
    f.advance_ms(hallq_hub::manager::RATING_WINDOW_MS + 1_000);
    let (_, p) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(p["prompt"], false);
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet),
            Some(json!({"counter": 1, "score": 5})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(code(&b), "nothing_to_rate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_tablet_is_rate_limited() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    let tablet = tablet_of_counter_1(&f).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        serve_one(&f).await;
        f.advance_ms(1_000);
        let (st, _) = f
            .call(
                "POST",
                "/api/v1/ratings",
                Some(&tablet),
                Some(json!({"counter": 1, "score": 5})),
            )
            .await;
        statuses.push(st.as_u16());
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 201, 429]);
    f.advance_ms(61_000);
    serve_one(&f).await;
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet),
            Some(json!({"counter": 1, "score": 5})),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::CREATED,
        "a minute later the tablet may rate again"
    );
}

#[test]
fn every_validation_message_has_a_chinese_reading() {
    use hallq_hub::manager::config_message_zh;
    let mut c = HallConfig::demo();
    let mut cases: Vec<(HallConfig, &str)> = Vec::new();
    let mut x = c.clone();
    x.counters[1].id = 1;
    cases.push((x, "窗口编号1重复"));
    let mut x = c.clone();
    x.counters[0].services.push("nope".into());
    cases.push((x, "1号窗口办理的业务不存在"));
    let mut x = c.clone();
    x.services[2].name.zh = String::new();
    cases.push((x, "业务“repair”的中文名称不能为空"));
    let mut x = c.clone();
    x.services[2].usual_minutes = Some(600);
    cases.push((x, "业务“repair”的通常办理时长应为1至240分钟"));
    let mut x = c.clone();
    x.services[2].prefix = 'c';
    cases.push((x, "业务“repair”的号码字母必须是一个大写英文字母"));
    let mut x = c.clone();
    x.hall.time_zone = "Mars/Olympus".into();
    cases.push((x, "时区不正确"));
    let mut x = c.clone();
    x.hours.last_ticket = x.hours.closing + chrono::Duration::minutes(5);
    cases.push((x, "营业时间应满足"));
    c.counters[2].name.zh = " ".into();
    cases.push((c, "3号窗口的中文名称不能为空"));
    for (config, want) in cases {
        let m = config.validate().unwrap_err();
        let zh = config_message_zh(&m);
        assert!(zh.starts_with(want), "{m} → {zh}");
        assert!(
            zh.ends_with(&format!("({m})")),
            "the English stays for the record"
        );
    }
}

/// The installer edits `/etc/hallq/hall.toml` and restarts the hub (install.md, and hallq-setup
/// right after the package's first start): the edit takes effect. A restart with the file
/// unchanged keeps what the manager changed on the manager page since.
#[test]
fn an_edited_configuration_file_takes_effect_at_restart_and_an_unchanged_one_keeps_the_managers_edits()
 {
    use hallq_shared::engine::{Actor, Command};
    use hallq_shared::protocol::Role;

    let dir = tempfile::tempdir().unwrap();
    let named = |zh: &str| {
        let mut c = HallConfig::demo();
        c.hall.name.zh = zh.to_string();
        c
    };
    // The file's fingerprint stands for its text: here the name is all that differs.
    let start = |file: HallConfig| {
        let mark = file.hall.name.zh.clone();
        let mut opts = HubOptions::new(dir.path(), file);
        opts.config_file_mark = Some(mark);
        Hub::open(opts).unwrap()
    };
    let name_of = |hub: &hallq_hub::AppState| {
        hub.writer
            .hall()
            .read()
            .unwrap()
            .config
            .hall
            .name
            .zh
            .clone()
    };
    let stop = |hub: hallq_hub::AppState| drop(Arc::into_inner(hub).expect("one holder"));

    // The package starts the hub on the shipped file; setup then writes the hall's name.
    let hub = start(named("演示营业厅"));
    assert_eq!(name_of(&hub), "演示营业厅");
    stop(hub);
    let hub = start(named("测试营业厅"));
    assert_eq!(
        name_of(&hub),
        "测试营业厅",
        "the edited file was not applied"
    );
    // The manager renames the hall on the manager page.
    hub.writer
        .execute(
            Command::ReplaceConfig {
                config: Box::new(named("经理改的名字")),
            },
            Actor::new("boss", Role::Manager, None),
        )
        .unwrap();
    stop(hub);
    let hub = start(named("测试营业厅"));
    assert_eq!(
        name_of(&hub),
        "经理改的名字",
        "an unchanged file overwrote the manager's edit"
    );
    stop(hub);
    // Without the file (the demo), nothing is replaced either.
    let hub = Hub::open(HubOptions::new(dir.path(), named("别的"))).unwrap();
    assert_eq!(name_of(&hub), "经理改的名字");
    stop(hub);
    // The next edit of the file wins again.
    let hub = start(named("第三个名字"));
    assert_eq!(name_of(&hub), "第三个名字");
}
