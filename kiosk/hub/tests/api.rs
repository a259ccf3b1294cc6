//! API tests through the router on a real hub: every route × every role, every bad input, and
//! the hall's rules as the API shows them.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Fixture, code, shanghai};
use hallq_shared::config::HallConfig;
use serde_json::{Value, json};

use Who::*;
use common::who::{ALL, Who, token};

const PUBLIC: &[Who] = ALL;
const STAFF: &[Who] = &[Clerk, Manager];
const DEVICES_AND_STAFF: &[Who] = &[Kiosk, Display, Clerk, Manager];
const ANY_TOKEN: &[Who] = &[Kiosk, Display, Tablet, Clerk, Manager];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_its_roles() {
    let f = Fixture::new().await;
    f.issue("pay").await;
    let config = serde_json::to_value(HallConfig::demo()).unwrap();
    let table: Vec<(&str, &str, Option<Value>, &[Who])> = vec![
        ("GET", "/api/v1/health", None, PUBLIC),
        ("GET", "/api/v1/services", None, PUBLIC),
        ("GET", "/api/v1/counters", None, PUBLIC),
        ("GET", "/api/v1/board", None, PUBLIC),
        ("GET", "/api/v1/tickets/B001", None, PUBLIC),
        ("GET", "/api/v1/me", None, ANY_TOKEN),
        ("GET", "/api/v1/counters/1/queue", None, STAFF),
        ("POST", "/api/v1/counters/1/open", None, STAFF),
        ("POST", "/api/v1/counters/1/next", None, STAFF),
        ("POST", "/api/v1/counters/1/recall", None, STAFF),
        ("POST", "/api/v1/counters/1/start", None, STAFF),
        (
            "POST",
            "/api/v1/counters/1/transfer",
            Some(json!({"service": "stb"})),
            STAFF,
        ),
        (
            "POST",
            "/api/v1/counters/1/call",
            Some(json!({"number": "B001"})),
            STAFF,
        ),
        ("POST", "/api/v1/counters/1/no-show", None, STAFF),
        ("POST", "/api/v1/counters/1/finish", None, STAFF),
        ("POST", "/api/v1/counters/1/pause", None, STAFF),
        ("POST", "/api/v1/counters/1/close", None, STAFF),
        (
            "POST",
            "/api/v1/tickets",
            Some(json!({"service": "pay"})),
            &[Kiosk, Clerk, Manager],
        ),
        ("GET", "/api/v1/tickets", None, STAFF),
        (
            "POST",
            "/api/v1/outage",
            Some(json!({"expected_minutes": 10})),
            &[Manager],
        ),
        ("DELETE", "/api/v1/outage", None, &[Manager]),
        ("POST", "/api/v1/slow-system", None, STAFF),
        ("DELETE", "/api/v1/slow-system", None, STAFF),
        (
            "POST",
            "/api/v1/callbacks",
            Some(json!({"phone": "13812345678", "consent": true})),
            DEVICES_AND_STAFF,
        ),
        ("GET", "/api/v1/callbacks", None, STAFF),
        (
            "PATCH",
            "/api/v1/callbacks/1",
            Some(json!({"note": "called, no answer"})),
            STAFF,
        ),
        (
            "POST",
            "/api/v1/suggestions",
            Some(json!({"text": "多开一个窗口"})),
            DEVICES_AND_STAFF,
        ),
        ("GET", "/api/v1/suggestions", None, STAFF),
        ("GET", "/api/v1/suggestions/1/contact", None, STAFF),
        (
            "PATCH",
            "/api/v1/suggestions/1",
            Some(json!({"status": "closed"})),
            STAFF,
        ),
        (
            "PUT",
            "/api/v1/kiosk/status",
            Some(json!({"printer": "ready"})),
            &[Kiosk],
        ),
        ("GET", "/api/v1/alerts", None, STAFF),
        ("GET", "/api/v1/staffing", None, STAFF),
        ("GET", "/api/v1/config", None, &[Manager]),
        ("PUT", "/api/v1/config", Some(config), &[Manager]),
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
                assert_eq!(
                    st,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} as nobody: {b}"
                );
                assert_eq!(code(&b), "unauthorized");
            } else {
                assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path} as {who:?}: {b}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_acts_only_at_their_own_counter_and_a_manager_anywhere() {
    let f = Fixture::new().await;
    for action in [
        "open", "next", "recall", "start", "finish", "no-show", "pause", "close",
    ] {
        let (st, b) = f
            .call(
                "POST",
                &format!("/api/v1/counters/2/{action}"),
                Some(&f.clerk1),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{action}: {b}");
        assert_eq!(code(&b), "other_counter");
    }
    let (st, _) = f
        .call("GET", "/api/v1/counters/2/queue", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, b) = f
        .call("POST", "/api/v1/counters/2/open", Some(&f.clerk2), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = f
        .call("POST", "/api/v1/counters/3/open", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["counter"]["state"], "open");
    // A clerk signed in without a counter acts on none.
    let desk = f.login("clerk2", None).await;
    let (st, b) = f
        .call("POST", "/api/v1/counters/2/next", Some(&desk), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::FORBIDDEN, "other_counter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_is_issued_called_served_and_finished() {
    let f = Fixture::new().await;
    let (st, t) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["number"], "B001");
    assert_eq!(t["ahead"], 0);
    assert!(
        t["issued_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T02:00")
    );
    let (_, t2) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(json!({"service": "pay", "priority": false})),
        )
        .await;
    assert_eq!(t2["number"], "B002");
    assert_eq!(t2["ahead"], 1);

    let (st, s) = f.call("GET", "/api/v1/tickets/b002", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s["state"], "waiting");
    assert_eq!(s["ahead"], 1);
    assert!(
        s.get("issued_by").is_none(),
        "nothing personal or internal: {s}"
    );

    // Nobody waits at a closed counter: open it first.
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "counter_closed"));
    f.open_counter(1).await;
    let (st, called) = f
        .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{called}");
    assert_eq!(called["number"], "B001");
    assert_eq!(called["state"], "called");

    let (_, q) = f
        .call("GET", "/api/v1/counters/1/queue", Some(&f.clerk1), None)
        .await;
    assert_eq!(q["current"]["number"], "B001");
    assert_eq!(q["current_service"]["id"], "pay");
    assert!(
        q["current_service"]["reminder"]["zh"]
            .as_str()
            .unwrap()
            .contains("机顶盒")
    );
    assert_eq!(q["queue"][0]["number"], "B002");

    let (st, s) = f.call("GET", "/api/v1/tickets/B001", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s["counter"], 1);
    assert_eq!(s["counter_name"]["zh"], "1号窗口");

    let (st, b) = f
        .call("POST", "/api/v1/counters/1/recall", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/start", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["current"]["state"], "serving");
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/recall", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "already_serving"));
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/no-show", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "already_serving"));
    f.advance_ms(5 * 60_000);
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(b["current"].is_null());
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "no_current_ticket"));

    // Calling B002, then no-show; then nobody waits: 204.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/call",
            Some(&f.clerk1),
            Some(json!({"number": "B002"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, _) = f
        .call("POST", "/api/v1/counters/1/no-show", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (_, s) = f.call("GET", "/api/v1/tickets/B002", None, None).await;
    assert_eq!(s["state"], "no_show");

    // Staff actions are recorded with who and which counter.
    let events = f
        .hub
        .read(|s| s.events_of_day(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()))
        .await
        .unwrap();
    let called = events
        .iter()
        .find(|e| matches!(e.kind, hallq_shared::engine::EventKind::TicketCalled { .. }))
        .unwrap();
    assert_eq!(called.actor, "clerk1");
    assert_eq!(called.counter, Some(1));
    let issued = events
        .iter()
        .find(|e| matches!(e.kind, hallq_shared::engine::EventKind::TicketIssued { .. }))
        .unwrap();
    assert_eq!(issued.actor, "kiosk-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_with_clear_codes() {
    let f = Fixture::new().await;
    let m = Some(f.manager.as_str());
    let cases: Vec<(&str, &str, Value, StatusCode, &str)> = vec![
        (
            "POST",
            "/api/v1/tickets",
            json!({"service": "pay", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            json!({"service": 7}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            json!({}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            json!({"service": "pay", "priority": "yes"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            json!({"service": "nope"}),
            StatusCode::NOT_FOUND,
            "unknown_service",
        ),
        (
            "POST",
            "/api/v1/counters/abc/next",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "POST",
            "/api/v1/counters/99/next",
            Value::Null,
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            "GET",
            "/api/v1/counters/99/queue",
            Value::Null,
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            "POST",
            "/api/v1/counters/1/call",
            json!({"number": "???"}),
            StatusCode::CONFLICT,
            "counter_closed",
        ),
        (
            "POST",
            "/api/v1/counters/1/transfer",
            json!({}),
            StatusCode::BAD_REQUEST,
            "bad_transfer",
        ),
        (
            "POST",
            "/api/v1/counters/1/transfer",
            json!({"service": "pay", "counter": 2}),
            StatusCode::BAD_REQUEST,
            "bad_transfer",
        ),
        (
            "POST",
            "/api/v1/outage",
            json!({"expected_minutes": 0}),
            StatusCode::BAD_REQUEST,
            "bad_duration",
        ),
        (
            "POST",
            "/api/v1/outage",
            json!({"expected_minutes": -5}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "DELETE",
            "/api/v1/outage",
            Value::Null,
            StatusCode::CONFLICT,
            "no_outage",
        ),
        (
            "POST",
            "/api/v1/callbacks",
            json!({"phone": "13812345678", "consent": false}),
            StatusCode::BAD_REQUEST,
            "no_consent",
        ),
        (
            "POST",
            "/api/v1/callbacks",
            json!({"phone": "12345", "consent": true}),
            StatusCode::BAD_REQUEST,
            "bad_phone",
        ),
        (
            "POST",
            "/api/v1/callbacks",
            json!({"phone": "13812345678"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/callbacks",
            json!({"phone": "13812345678", "consent": true, "ticket": "Z999"}),
            StatusCode::NOT_FOUND,
            "unknown_ticket",
        ),
        (
            "POST",
            "/api/v1/callbacks",
            json!({"phone": "13812345678", "consent": true, "address": "长".repeat(201)}),
            StatusCode::BAD_REQUEST,
            "too_long",
        ),
        (
            "PATCH",
            "/api/v1/callbacks/999",
            json!({"note": "x"}),
            StatusCode::NOT_FOUND,
            "unknown_callback",
        ),
        (
            "PATCH",
            "/api/v1/callbacks/abc",
            json!({"note": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "GET",
            "/api/v1/callbacks?status=lost",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
        (
            "GET",
            "/api/v1/tickets/xyz",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "bad_number",
        ),
        (
            "GET",
            "/api/v1/tickets/A999",
            Value::Null,
            StatusCode::NOT_FOUND,
            "unknown_ticket",
        ),
        (
            "POST",
            "/api/v1/suggestions",
            json!({"text": "  "}),
            StatusCode::BAD_REQUEST,
            "bad_text",
        ),
        (
            "POST",
            "/api/v1/suggestions",
            json!({"text": "好".repeat(501)}),
            StatusCode::BAD_REQUEST,
            "bad_text",
        ),
        (
            "POST",
            "/api/v1/suggestions",
            json!({"text": "ok", "email": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "POST",
            "/api/v1/login",
            json!({"login": "", "password": "x"}),
            StatusCode::BAD_REQUEST,
            "bad_login",
        ),
        (
            "POST",
            "/api/v1/login",
            json!({"login": "clerk1", "password": common::PASSWORD, "counter": 42}),
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            "PUT",
            "/api/v1/config",
            json!({"hall": 1}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "GET",
            "/api/v1/nothing-here",
            Value::Null,
            StatusCode::NOT_FOUND,
            "no_route",
        ),
    ];
    for (method, path, body, status, want) in cases {
        let body = (!body.is_null()).then_some(body);
        let (st, b) = f.call(method, path, m, body).await;
        assert_eq!((st, code(&b)), (status, want), "{method} {path}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{b}"
        );
    }
    // Kiosk-only bad input.
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/kiosk/status",
            Some(&f.kiosk),
            Some(json!({"printer": "on_fire"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_json"));
    // Not JSON at all, and JSON without the content type.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/tickets")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.kiosk))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (st, b) = f.send(req).await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_json"));
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/tickets")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.kiosk))
        .body(Body::from(r#"{"service":"pay"}"#))
        .unwrap();
    let (st, b) = f.send(req).await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_json"));
    // Too large.
    let big = json!({"text": "x".repeat(hallq_hub::MAX_BODY_BYTES + 10)});
    let (st, b) = f
        .call("POST", "/api/v1/suggestions", Some(&f.kiosk), Some(big))
        .await;
    assert_eq!((st, code(&b)), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    // Without the right role, the answer is 401/403 whatever the body.
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/outage",
            Some(&f.clerk1),
            Some(json!({"nonsense": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/tickets",
            None,
            Some(json!({"nonsense": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A bad token is refused even on a public route.
    let (st, b) = f.call("GET", "/api/v1/board", Some("0000"), None).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hall_rules_refuse_with_409() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    let n = f.issue("pay").await;
    f.call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/call",
            Some(&f.clerk1),
            Some(json!({"number": n})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "not_waiting"));
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/pause", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "ticket_in_progress"));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/transfer",
            Some(&f.clerk1),
            Some(json!({"counter": 3})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "counter_closed"));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/transfer",
            Some(&f.clerk1),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "same_service"));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/transfer",
            Some(&f.clerk1),
            Some(json!({"service": "nope"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "unknown_service"));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/outage",
            Some(&f.manager),
            Some(json!({"expected_minutes": 10, "message": "省网系统故障"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["outage"]["kind"], "short");
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/outage",
            Some(&f.manager),
            Some(json!({"expected_minutes": 10})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "outage_active"));
    // After the last-ticket time no ticket is issued, with a polite Chinese message.
    f.set_time(shanghai(17, 5));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "tickets_ended"));
    assert!(
        b["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("取号已结束")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transferred_ticket_keeps_its_place() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    f.open_counter(3).await;
    let first = f.issue("pay").await; // B001, issued first
    f.advance_ms(60_000);
    f.issue("repair").await; // C001
    f.advance_ms(60_000);
    f.issue("repair").await; // C002
    let (_, called) = f
        .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    assert_eq!(called["number"], first);
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/counters/1/transfer",
            Some(&f.clerk1),
            Some(json!({"service": "repair"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, q) = f
        .call("GET", "/api/v1/counters/3/queue", Some(&f.manager), None)
        .await;
    assert_eq!(
        q["queue"][0]["number"], first,
        "the transferred ticket goes first: {q}"
    );
    assert_eq!(q["queue"][0]["transfers"], 1);
    let (_, all) = f
        .call("GET", "/api/v1/tickets", Some(&f.clerk1), None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosks_are_rate_limited_but_staff_are_not() {
    let f = Fixture::new().await;
    let body = json!({"service": "consult"});
    for i in 0..30 {
        let (st, b) = f
            .call(
                "POST",
                "/api/v1/tickets",
                Some(&f.kiosk),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "ticket {i}: {b}");
    }
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    for _ in 0..35 {
        let (st, _) = f
            .call(
                "POST",
                "/api/v1/tickets",
                Some(&f.clerk1),
                Some(json!({"service": "consult", "priority": true})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    f.advance_ms(61_000);
    let (st, _) = f
        .call("POST", "/api/v1/tickets", Some(&f.kiosk), Some(body))
        .await;
    assert_eq!(st, StatusCode::CREATED, "the limit is per minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_sign_in_out_and_expire() {
    let f = Fixture::new().await;
    let (st, me) = f.call("GET", "/api/v1/me", Some(&f.clerk1), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        me,
        json!({"login": "clerk1", "role": "staff", "counter": 1, "expires_at": me["expires_at"]})
    );
    let (_, me) = f.call("GET", "/api/v1/me", Some(&f.kiosk), None).await;
    assert_eq!(me["role"], "kiosk");
    assert_eq!(me["login"], "kiosk-1");

    let (st, b) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "clerk1", "password": "wrong"})),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::UNAUTHORIZED, "bad_credentials")
    );
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "ghost", "password": "wrong"})),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::UNAUTHORIZED, "bad_credentials")
    );
    // Devices cannot sign in with a password; tokens are not passwords.
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "kiosk-1", "password": f.kiosk})),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let t = f.login("clerk2", Some(2)).await;
    let (st, _) = f.call("POST", "/api/v1/logout", Some(&t), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, b) = f.call("GET", "/api/v1/me", Some(&t), None).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));

    // Twelve hours later the session is over.
    f.advance_ms(12 * 3_600_000 + 1000);
    let (st, b) = f.call("GET", "/api/v1/me", Some(&f.clerk1), None).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let (st, _) = f.call("GET", "/api/v1/me", Some(&f.kiosk), None).await;
    assert_eq!(st, StatusCode::OK, "device tokens do not expire");

    // Failed sign-ins are limited per login.
    for _ in 0..5 {
        f.call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "boss", "password": "nope"})),
        )
        .await;
    }
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"login": "boss", "password": common::PASSWORD})),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_stay_private_and_every_look_is_audited() {
    let f = Fixture::new().await;
    let n = f.issue("repair").await;
    let (st, b) = f.call(
        "POST",
        "/api/v1/callbacks",
        Some(&f.kiosk),
        Some(json!({"phone": "138 1234 5678", "consent": true, "ticket": n, "address": "温泉镇", "reason": "宽带断网"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b, json!({"id": 1, "phone_masked": "138****5678"}));
    for path in [
        "/api/v1/board",
        "/api/v1/services",
        "/api/v1/counters",
        &format!("/api/v1/tickets/{n}"),
    ] {
        let (_, body) = f.call("GET", path, None, None).await;
        assert!(
            !body.to_string().contains("12345678"),
            "{path} shows a phone: {body}"
        );
    }
    let (st, list) = f
        .call(
            "GET",
            "/api/v1/callbacks?status=pending",
            Some(&f.clerk1),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list[0]["phone"], "13812345678");
    assert_eq!(list[0]["origin"], "request");
    let audit = f.hub.read(|s| s.audit_log(10)).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|(_, who, what, _)| who == "clerk1" && what == "callbacks_viewed"),
        "{audit:?}"
    );

    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/callbacks/1",
            Some(&f.clerk1),
            Some(json!({})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "empty_update"));
    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/callbacks/1",
            Some(&f.clerk1),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "note_required"));
    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/callbacks/1",
            Some(&f.clerk1),
            Some(json!({"status": "contacted", "take": true, "note": "约明早上门"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["owner"], "clerk1");
    assert_eq!(b["notes"][0]["text"], "约明早上门");
    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/callbacks/1",
            Some(&f.manager),
            Some(json!({"status": "resolved", "note": "已修复"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/callbacks/1",
            Some(&f.manager),
            Some(json!({"status": "pending"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "bad_status"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_show_printers_long_waits_outages_and_their_callbacks() {
    let f = Fixture::new().await;
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(a["printers"], json!([]));
    assert_eq!(a["callbacks_pending"], 0);
    assert!(a["last_outage"].is_null());

    let (st, _) = f
        .call(
            "PUT",
            "/api/v1/kiosk/status",
            Some(&f.kiosk),
            Some(json!({"printer": "paper_out"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    f.call(
        "POST",
        "/api/v1/outage",
        Some(&f.manager),
        Some(json!({"expected_minutes": 60})),
    )
    .await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/callbacks",
            Some(&f.display),
            Some(json!({"phone": "027-87654321", "consent": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(a["printers"][0]["device"], "kiosk-1");
    assert_eq!(a["printers"][0]["printer"], "paper_out");
    assert_eq!(a["outage"]["kind"], "long");
    assert_eq!(a["callbacks_pending"], 1);
    let (st, _) = f
        .call("DELETE", "/api/v1/outage", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert!(a["outage"].is_null());
    // Counts and ids only: a full number is read on the audited callback list, never here.
    assert_eq!(a["last_outage"]["callbacks_open"], 1, "{a}");
    assert_eq!(a["last_outage"]["callbacks_total"], 1);
    assert_eq!(
        a["last_outage"]["callback_ids"].as_array().unwrap().len(),
        1
    );
    assert!(a["last_outage"].get("callbacks").is_none());
    assert!(!a.to_string().contains("87654321"), "{a}");

    // Printer fixed: no alert. A kiosk silent for minutes: no_answer.
    f.call(
        "PUT",
        "/api/v1/kiosk/status",
        Some(&f.kiosk),
        Some(json!({"printer": "ready"})),
    )
    .await;
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(a["printers"], json!([]));
    f.advance_ms(4 * 60_000);
    let (_, a) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(a["printers"][0]["printer"], "no_answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_and_configuration_are_kept() {
    let f = Fixture::new().await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/suggestions",
            Some(&f.kiosk),
            Some(json!({"text": "希望增加周末营业时间", "contact": "138-1234-5678"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let saved = f.hub.read(|s| s.suggestions(10)).await.unwrap();
    assert_eq!(saved[0].2, "希望增加周末营业时间");
    assert_eq!(
        saved[0].3.as_deref(),
        Some("13812345678"),
        "kept as a number to call"
    );
    assert_eq!(saved[0].4, "kiosk-1");

    let (_, mut config) = f
        .call("GET", "/api/v1/config", Some(&f.manager), None)
        .await;
    config["hotlines"]["complaint"] = json!("0713-7000000");
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
    assert_eq!(board["notices"]["complaint_hotline"], "0713-7000000");
    let stored = f.hub.read(|s| s.saved_config()).await.unwrap().unwrap();
    assert_eq!(stored.hotlines.complaint, "0713-7000000");
    config["hours"]["opening"] = json!("18:00");
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(config))
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_config"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_ticket_status_and_staff_assets() {
    let f = Fixture::new().await;
    let n = f.issue("pay").await;
    let (st, html) = f.call("GET", &format!("/t/{n}"), None, None).await;
    assert_eq!(st, StatusCode::OK);
    let html = html.as_str().unwrap();
    assert!(
        html.contains("等候中") && html.contains(&n) && html.contains("http-equiv=refresh"),
        "{html}"
    );
    assert!(
        html.find("等候中").unwrap() < html.find("Waiting").unwrap(),
        "Chinese first"
    );
    let (st, html) = f.call("GET", "/t/%3Cscript%3E", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.as_str().unwrap().contains("<script>"), "escaped");
    let resp = tower::ServiceExt::oneshot(
        f.app.clone(),
        Request::get("/").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/staff/");
    for (path, bytes) in hallq_hub::pages::WEB_FILES {
        let resp = tower::ServiceExt::oneshot(
            f.app.clone(),
            Request::get(format!("/staff/{path}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let got = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&got[..], *bytes);
    }
    let (st, _) = f.call("GET", "/staff/no-such-file.js", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_hub_on_the_same_data_is_refused_and_the_first_keeps_working() {
    use hallq_hub::{Hub, HubError, HubOptions};
    use hallq_shared::store::StoreError;

    let f = Fixture::new().await;
    f.issue("pay").await;
    let second = Hub::open(HubOptions::new(f.dir.path(), HallConfig::demo()));
    let err = second.expect_err("a second hub opened the same database");
    let msg = err.to_string();
    assert!(
        matches!(err, HubError::Store(StoreError::InUse { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("hallq.db") && msg.contains("stop that one first"),
        "{msg}"
    );
    // Nothing was written by the refused one: the first still numbers on.
    assert_eq!(f.issue("pay").await, "B002");
}

#[tokio::test]
async fn a_slow_mark_left_on_while_counters_serve_at_the_usual_speed_is_proposed_for_ending() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    let (st, b) = f
        .call("POST", "/api/v1/slow-system", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // Thirty customers since, five minutes each: the usual (no history, nothing before the mark).
    let usual_again = |a: &Value| a["slow_pace"]["usual_again"].as_bool().unwrap();
    for served in 1..=30 {
        f.issue("pay").await;
        f.counter_steps(1, &f.clerk1, &["next", "start"]).await;
        f.advance_ms(5 * 60_000);
        f.call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
            .await;
        let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
        assert_eq!(alerts["slow_pace"]["services"], served, "{alerts}");
        if served < 30 {
            // Too few to say the system is quick again.
            assert!(alerts["slow_pace"]["recent"].is_null(), "{alerts}");
            assert!(!usual_again(&alerts), "{alerts}");
        } else {
            let recent = alerts["slow_pace"]["recent"].as_f64().unwrap();
            assert!((0.95..=1.05).contains(&recent), "{alerts}");
            assert!(usual_again(&alerts), "{alerts}");
            // The proposal is the counters' own: no detector is configured.
            assert_eq!(alerts["slow_end_proposed"], false, "{alerts}");
        }
    }
    // A customer held for 40 minutes since is among the newest: not yet quick again. The mark
    // stays on all the while: only a person ends it.
    f.issue("pay").await;
    f.counter_steps(1, &f.clerk1, &["next", "start"]).await;
    f.advance_ms(40 * 60_000);
    // The hall's clock moves with its events (in a running hub, the writer's tick as well).
    f.issue("pay").await;
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert!(!usual_again(&alerts), "{alerts}");
    let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
    assert!(board["slow_since"].is_string(), "{board}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_says_the_business_system_is_slow_and_the_waits_allow_for_it() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    for _ in 0..5 {
        f.issue("pay").await;
    }
    f.call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    f.call("POST", "/api/v1/counters/1/start", Some(&f.clerk1), None)
        .await;
    // The first customer has been at the counter for 12 minutes when the clerk says so.
    f.advance_ms(12 * 60_000);
    let pay_wait = |b: &Value| {
        let w = b["waiting"].as_array().unwrap();
        let pay = w.iter().find(|w| w["service"] == "pay").unwrap();
        pay["estimated_wait_s"].as_u64().unwrap()
    };
    let (_, before) = f.call("GET", "/api/v1/board", None, None).await;
    assert!(before["slow_since"].is_null(), "{before}");

    let (st, started) = f
        .call("POST", "/api/v1/slow-system", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{started}");
    assert!(started["slow_since"].is_string(), "{started}");
    let (st, b) = f
        .call("POST", "/api/v1/slow-system", Some(&f.clerk2), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "slow_system_active"));
    let (_, after) = f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(after["slow_since"], started["slow_since"]);
    // The four still waiting are told longer: the service in progress says how slow it is.
    assert!(
        pay_wait(&after) * 10 >= pay_wait(&before) * 13,
        "{} → {}",
        pay_wait(&before),
        pay_wait(&after)
    );

    // What the mark rests on, for the clerk: nothing begun since it has finished yet.
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(alerts["slow_pace"]["services"], 0, "{alerts}");
    assert!(alerts["slow_pace"]["ratio"].is_null(), "{alerts}");

    // A restart keeps the slow system and the same estimate.
    let f = f.restart().await;
    let (_, again) = f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(again["slow_since"], after["slow_since"]);
    assert_eq!(pay_wait(&again), pay_wait(&after));

    // The customer begun before the mark counts on neither side; the next, begun after it, takes
    // 15 minutes: three times the usual 5 (no service finished before the mark: the default).
    f.counter_steps(1, &f.clerk1, &["finish", "next", "start"])
        .await;
    f.advance_ms(15 * 60_000);
    f.call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
        .await;
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(alerts["slow_pace"]["services"], 1, "{alerts}");
    let ratio = alerts["slow_pace"]["ratio"].as_f64().unwrap();
    assert!((2.9..=3.1).contains(&ratio), "{alerts}");

    let (st, _) = f
        .call("DELETE", "/api/v1/slow-system", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, b) = f
        .call("DELETE", "/api/v1/slow-system", Some(&f.clerk1), None)
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "no_slow_system"));
    let (_, done) = f.call("GET", "/api/v1/board", None, None).await;
    assert!(done["slow_since"].is_null(), "{done}");
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert!(alerts["slow_pace"].is_null(), "{alerts}");
    // Back to about the estimate from before (the service in progress now counts with its 12
    // minutes so far, which the board before the clerk spoke had not seen yet).
    assert!(
        pay_wait(&done) * 10 <= pay_wait(&before) * 11,
        "{} → {}",
        pay_wait(&before),
        pay_wait(&done)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_in_every_wait_told_until_it_ends() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    f.issue("pay").await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/outage",
            Some(&f.manager),
            Some(json!({"expected_minutes": 20})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // Five minutes into it: fifteen minutes at least before anyone is served.
    f.advance_ms(5 * 60_000);
    let (st, t) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let wait = t["estimated_wait_s"].as_u64().unwrap();
    assert!(wait >= 15 * 60, "{t}");
    assert!(t["estimated_wait_hi_s"].is_null(), "no upper end: {t}");
    assert!(t["estimated_wait_lo_s"].as_u64().unwrap() >= 15 * 60, "{t}");
    let number = t["number"].as_str().unwrap().to_string();
    let (_, html) = f.call("GET", &format!("/t/{number}"), None, None).await;
    let html = html.as_str().unwrap();
    assert!(html.contains("分钟以上"), "{html}");
    // The board's line for payments, as the kiosk polls it.
    let pay_line = async || {
        let (_, board) = f.call("GET", "/api/v1/board", None, None).await;
        board["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["service"] == "pay")
            .unwrap()
            .clone()
    };
    let pay = pay_line().await;
    assert!(
        pay["estimated_wait_s"].as_u64().unwrap() >= 15 * 60,
        "{pay}"
    );
    assert!(pay["estimated_wait_hi_s"].is_null(), "{pay}");
    // Six minutes on with nothing done in the hall: the kiosk's next poll of the board and the
    // customer's ticket page count down with the outage.
    f.advance_ms(6 * 60_000);
    let later = pay_line().await;
    let secs = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    let shrunk = secs(&pay, "estimated_wait_s") - secs(&later, "estimated_wait_s");
    assert!(shrunk.abs_diff(6 * 60) <= 1, "{pay} → {later}");
    assert!(secs(&later, "estimated_wait_lo_s") < secs(&pay, "estimated_wait_lo_s"));
    assert!(later["estimated_wait_hi_s"].is_null(), "{later}");
    let (_, s) = f
        .call("GET", &format!("/api/v1/tickets/{number}"), None, None)
        .await;
    assert!(
        (wait - secs(&s, "estimated_wait_s")).abs_diff(6 * 60) <= 1,
        "{wait} → {s}"
    );
    // Back: the line's own wait, a few minutes.
    let (st, _) = f
        .call("DELETE", "/api/v1/outage", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, s) = f
        .call("GET", &format!("/api/v1/tickets/{number}"), None, None)
        .await;
    let after = s["estimated_wait_s"].as_u64().unwrap();
    assert!(after < 15 * 60 && after + 10 * 60 < wait, "{wait} → {s}");
}
