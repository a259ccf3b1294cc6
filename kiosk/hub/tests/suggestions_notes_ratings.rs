//! Suggestions with a phone number are followed up and deleted after the callback period; a
//! clerk's callback note never reaches the event log; only a counter's rating tablet may rate its
//! visits. Through the router on a real hub (real SQLite, real writer), and over loopback TCP.

mod common;

use axum::http::StatusCode;
use chrono::NaiveDate;
use common::{Fixture, code};
use hallq_hub::{self as hub, cli};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// The audit rows of `action`, newest first.
async fn audit_of(f: &Fixture, action: &str) -> Vec<(String, Value)> {
    let action = action.to_string();
    f.hub
        .read(move |s| s.audit_log(1000))
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, _, a, _)| *a == action)
        .map(|(_, actor, _, detail)| (actor, detail))
        .collect()
}

/// A rating tablet for `counter`, created by the manager: its token.
async fn tablet(f: &Fixture, name: &str, counter: u32) -> String {
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/devices",
            Some(&f.manager),
            Some(json!({"name": name, "role": "tablet", "counter": counter})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["role"].as_str(), b["counter"].as_u64()),
        (Some("tablet"), Some(counter as u64))
    );
    b["token"].as_str().unwrap().to_string()
}

/// Call, start and finish one ticket at counter 1.
async fn serve_one(f: &Fixture) {
    let number = f.issue("pay").await;
    for (path, body) in [
        ("/api/v1/counters/1/call", Some(json!({"number": number}))),
        ("/api/v1/counters/1/start", None),
        ("/api/v1/counters/1/finish", None),
    ] {
        let (st, b) = f.call("POST", path, Some(&f.clerk1), body).await;
        assert!(st.is_success(), "{path}: {st} {b}");
    }
}

// ---------------------------------------------------------------------------------------------
// Suggestions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggestion_left_with_a_number_is_answered_and_every_look_is_audited() {
    let f = Fixture::new().await;
    let tablet1 = tablet(&f, "tablet-1", 1).await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/suggestions",
            Some(&f.kiosk),
            Some(json!({"text": "等候时间太长", "contact": "138 1234 5678"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let with_number = b["id"].as_i64().unwrap();
    let (_, b) = f
        .call(
            "POST",
            "/api/v1/suggestions",
            Some(&f.kiosk),
            Some(json!({"text": "服务态度很好，表扬"})),
        )
        .await;
    let without = b["id"].as_i64().unwrap();
    // A number the hall could not call back is refused, and nothing is kept.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/suggestions",
            Some(&f.kiosk),
            Some(json!({"text": "多开窗口", "contact": "call me maybe"})),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::BAD_REQUEST, "bad_phone"),
        "{b}"
    );
    assert!(b["error"]["message_zh"].is_string());

    // Only staff and managers read suggestions; devices, the tablet and strangers are refused.
    for path in [
        "/api/v1/suggestions".to_string(),
        format!("/api/v1/suggestions/{with_number}/contact"),
    ] {
        for (who, want) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some(f.kiosk.as_str()), StatusCode::FORBIDDEN),
            (Some(f.display.as_str()), StatusCode::FORBIDDEN),
            (Some(tablet1.as_str()), StatusCode::FORBIDDEN),
        ] {
            let (st, b) = f.call("GET", &path, who, None).await;
            assert_eq!(st, want, "{path}: {b}");
        }
    }
    let (st, _) = f
        .call(
            "PATCH",
            &format!("/api/v1/suggestions/{with_number}"),
            Some(&f.kiosk),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The list: new ones first, the number masked, and the look is in the audit log.
    let (st, list) = f
        .call("GET", "/api/v1/suggestions", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert!(!list.to_string().contains("13812345678"), "{list}");
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == with_number)
        .unwrap();
    assert_eq!(mine["contact_masked"], "138****5678");
    assert_eq!(mine["status"], "new");
    assert_eq!(mine["source"], "kiosk-1");
    let other = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == without)
        .unwrap();
    assert!(other["contact_masked"].is_null());
    let viewed = audit_of(&f, "suggestions_viewed").await;
    assert_eq!(viewed.len(), 1);
    assert_eq!(viewed[0].0, "clerk1");

    // The full number, one suggestion at a time, audited.
    let (st, b) = f
        .call(
            "GET",
            &format!("/api/v1/suggestions/{with_number}/contact"),
            Some(&f.clerk1),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["contact"], "13812345678");
    let looked = audit_of(&f, "suggestion_contact_viewed").await;
    assert_eq!(looked.len(), 1);
    assert_eq!(looked[0].0, "clerk1");
    assert_eq!(looked[0].1["id"], with_number);
    let (st, b) = f
        .call(
            "GET",
            &format!("/api/v1/suggestions/{without}/contact"),
            Some(&f.clerk1),
            None,
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "no_contact"));
    let (st, b) = f
        .call(
            "GET",
            "/api/v1/suggestions/999/contact",
            Some(&f.clerk1),
            None,
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::NOT_FOUND, "unknown_suggestion")
    );

    // Answered needs a reply; then it is final.
    let patch = format!("/api/v1/suggestions/{with_number}");
    let (st, b) = f
        .call(
            "PATCH",
            &patch,
            Some(&f.clerk1),
            Some(json!({"status": "answered"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "reply_required"));
    let (st, b) = f
        .call(
            "PATCH",
            &patch,
            Some(&f.clerk1),
            Some(json!({"status": "answered", "reply": "已回电：下周起午间加开一个窗口"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "answered");
    assert_eq!(b["handled_by"], "clerk1");
    assert!(b["handled_at"].is_string());
    assert!(!b.to_string().contains("13812345678"));
    let (st, b) = f
        .call(
            "PATCH",
            &patch,
            Some(&f.manager),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "bad_status"));
    let (st, b) = f
        .call(
            "PATCH",
            "/api/v1/suggestions/999",
            Some(&f.manager),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::NOT_FOUND, "unknown_suggestion")
    );
    let (st, b) = f
        .call(
            "PATCH",
            &format!("/api/v1/suggestions/{without}"),
            Some(&f.manager),
            Some(json!({"status": "closed", "phone": "x"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_json"));
    // Who handled which, how: but not the reply, which goes with the suggestion.
    let handled = audit_of(&f, "suggestion_handled").await;
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].1["status"], "answered");
    assert!(!handled[0].1.to_string().contains("窗口"));

    let (_, list) = f
        .call(
            "GET",
            "/api/v1/suggestions?status=answered",
            Some(&f.manager),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["reply"], "已回电：下周起午间加开一个窗口");
    let (st, b) = f
        .call(
            "GET",
            "/api/v1/suggestions?status=lost",
            Some(&f.manager),
            None,
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::BAD_REQUEST, "bad_query"),
        "{b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handled_suggestion_is_deleted_with_its_number_after_the_callback_period() {
    let f = Fixture::new().await;
    let mut ids = Vec::new();
    for phone in ["13812345678", "13912345678", "13712345678"] {
        let (_, b) = f
            .call(
                "POST",
                "/api/v1/suggestions",
                Some(&f.kiosk),
                Some(json!({"text": "办理手续太复杂", "contact": phone})),
            )
            .await;
        ids.push(b["id"].as_i64().unwrap());
    }
    let handled_at = common::shanghai(10, 0);
    for (id, body) in [
        (ids[0], json!({"status": "answered", "reply": "已答复"})),
        (ids[1], json!({"status": "closed"})),
    ] {
        let (st, b) = f
            .call(
                "PATCH",
                &format!("/api/v1/suggestions/{id}"),
                Some(&f.clerk1),
                Some(body),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let days = i64::from(
        hallq_shared::config::HallConfig::demo()
            .policy
            .callback_retention_days,
    );
    let purge = |now: i64| {
        f.hub
            .writer
            .admin_blocking(move |s, hall| cli::purge(s, &hall.config, now).unwrap())
            .unwrap()
    };
    assert_eq!(purge(handled_at + (days - 1) * DAY_MS).suggestions, 0);
    let purged = purge(handled_at + (days + 1) * DAY_MS);
    assert_eq!(purged.suggestions, 2);
    let left = f.hub.read(|s| s.suggestion_list(None, 100)).await.unwrap();
    assert_eq!(
        left.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![ids[2]],
        "only the one nobody answered yet is kept"
    );
    for id in &ids[..2] {
        let id = *id;
        assert_eq!(f.hub.read(move |s| s.suggestion(id)).await.unwrap(), None);
    }
    let retention = audit_of(&f, "retention").await;
    assert_eq!(retention[0].1["suggestions"], 2);
}

// ---------------------------------------------------------------------------------------------
// Callback notes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_note_stays_with_the_callback_and_out_of_the_event_log() {
    let f = Fixture::new().await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/callbacks",
            Some(&f.kiosk),
            Some(json!({"phone": "13812345678", "consent": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let note = "客户住光谷路88号，另一号码13912345678";
    let (st, b) = f
        .call(
            "PATCH",
            &format!("/api/v1/callbacks/{id}"),
            Some(&f.clerk1),
            Some(json!({"status": "resolved", "note": note})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["notes"][0]["text"], note);
    let events = f.hub.read(|s| s.events_of_day(day())).await.unwrap();
    let log = serde_json::to_string(&events).unwrap();
    assert!(
        !log.contains("光谷路"),
        "the note is in the event log: {log}"
    );
    assert!(!log.contains("13912345678"), "{log}");
    let updated: Vec<&hallq_shared::engine::Event> = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                hallq_shared::engine::EventKind::CallbackUpdated { .. }
            )
        })
        .collect();
    assert_eq!(updated.len(), 1);
    assert!(
        matches!(
            updated[0].kind,
            hallq_shared::engine::EventKind::CallbackUpdated {
                note_added: true,
                ..
            }
        ),
        "{:?}",
        updated[0]
    );
    // The note lives in the callback, and goes with it.
    let (_, list) = f
        .call("GET", "/api/v1/callbacks", Some(&f.clerk1), None)
        .await;
    assert_eq!(list[0]["notes"][0]["text"], note);
    let days = i64::from(
        hallq_shared::config::HallConfig::demo()
            .policy
            .callback_retention_days,
    );
    let now = common::shanghai(10, 0) + (days + 1) * DAY_MS;
    let purged = f
        .hub
        .writer
        .admin_blocking(move |s, hall| cli::purge(s, &hall.config, now).unwrap())
        .unwrap();
    assert_eq!(purged.callbacks, 1);
    assert_eq!(f.hub.read(move |s| s.callback(id)).await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Ratings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_counters_tablet_rates_and_the_clerk_cannot_rate_first() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    // A tablet is bound to a counter that exists; other devices to none.
    for (body, st_want, code_want) in [
        (
            json!({"name": "t", "role": "tablet"}),
            StatusCode::BAD_REQUEST,
            "counter_required",
        ),
        (
            json!({"name": "t", "role": "tablet", "counter": 99}),
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            json!({"name": "t", "role": "kiosk", "counter": 1}),
            StatusCode::BAD_REQUEST,
            "bad_counter",
        ),
    ] {
        let (st, b) = f
            .call("POST", "/api/v1/devices", Some(&f.manager), Some(body))
            .await;
        assert_eq!((st, code(&b)), (st_want, code_want), "{b}");
    }
    let tablet1 = tablet(&f, "tablet-1", 1).await;
    let tablet2 = tablet(&f, "tablet-2", 2).await;
    let (_, devices) = f
        .call("GET", "/api/v1/devices", Some(&f.manager), None)
        .await;
    let t1 = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "tablet-1")
        .unwrap();
    assert_eq!(
        (t1["role"].as_str(), t1["counter"].as_u64()),
        (Some("tablet"), Some(1))
    );
    let (st, me) = f.call("GET", "/api/v1/me", Some(&tablet1), None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(
        (me["role"].as_str(), me["counter"].as_u64()),
        (Some("tablet"), Some(1))
    );

    serve_one(&f).await;
    let (_, prompt) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(prompt["prompt"], true);
    let finished_at = prompt["finished_at"].clone();
    let rating = json!({"counter": 1, "score": 1, "finished_at": finished_at});
    // Nobody but counter 1's tablet may rate: the clerk's PC least of all.
    for (who, st_want, code_want) in [
        (None, StatusCode::UNAUTHORIZED, "tablet_not_paired"),
        (
            Some(f.clerk1.as_str()),
            StatusCode::FORBIDDEN,
            "not_a_tablet",
        ),
        (
            Some(f.manager.as_str()),
            StatusCode::FORBIDDEN,
            "not_a_tablet",
        ),
        (
            Some(f.kiosk.as_str()),
            StatusCode::FORBIDDEN,
            "not_a_tablet",
        ),
        (
            Some(f.display.as_str()),
            StatusCode::FORBIDDEN,
            "not_a_tablet",
        ),
        (
            Some(tablet2.as_str()),
            StatusCode::FORBIDDEN,
            "other_counter",
        ),
    ] {
        let (st, b) = f
            .call("POST", "/api/v1/ratings", who, Some(rating.clone()))
            .await;
        assert_eq!((st, code(&b)), (st_want, code_want), "{b}");
        assert!(b["error"]["message_zh"].is_string(), "{b}");
    }
    let (_, prompt) = f
        .call("GET", "/api/v1/counters/1/rating-prompt", None, None)
        .await;
    assert_eq!(prompt["prompt"], true, "the refused tries used up nothing");

    // A rating is for the visit the tablet showed, not one finished since.
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet1),
            Some(json!({"counter": 1, "score": 5, "finished_at": "2026-11-25T01:00:00.000Z"})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "nothing_to_rate"));
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet1),
            Some(json!({"counter": 1, "score": 5, "finished_at": finished_at})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet1),
            Some(rating.clone()),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "already_rated"));

    // The tablet's token does nothing else.
    for (method, path, body) in [
        ("POST", "/api/v1/tickets", Some(json!({"service": "pay"}))),
        ("GET", "/api/v1/callbacks", None),
        ("GET", "/api/v1/alerts", None),
        ("POST", "/api/v1/suggestions", Some(json!({"text": "好"}))),
        (
            "POST",
            "/api/v1/callbacks",
            Some(json!({"phone": "13812345678", "consent": true})),
        ),
        ("POST", "/api/v1/counters/1/next", None),
        ("GET", "/api/v1/devices", None),
    ] {
        let (st, b) = f.call(method, path, Some(&tablet1), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {b}");
    }

    // Revoked: refused at once, and the page learns it must be paired again.
    let (st, _) = f
        .call(
            "POST",
            "/api/v1/devices/tablet-1/revoke",
            Some(&f.manager),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    serve_one(&f).await;
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/ratings",
            Some(&tablet1),
            Some(json!({"counter": 1, "score": 5})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_rates_over_loopback_tcp_and_a_clerk_cannot() {
    let f = Fixture::new().await;
    f.open_counter(1).await;
    let tablet1 = tablet(&f, "tablet-1", 1).await;
    serve_one(&f).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hub::run(listener, f.hub.clone(), async move {
        let _ = stopped.await;
    }));
    let body = json!({"counter": 1, "score": 4}).to_string();
    let mut http = common::net::Http::connect(addr).await.unwrap();
    let (st, b) = http
        .request("POST", "/api/v1/ratings", Some(&f.clerk1), Some(&body))
        .await
        .unwrap();
    assert_eq!(st, 403, "{b}");
    assert!(b.contains("not_a_tablet"), "{b}");
    let (st, b) = http
        .request("POST", "/api/v1/ratings", None, Some(&body))
        .await
        .unwrap();
    assert_eq!(st, 401, "{b}");
    assert!(b.contains("tablet_not_paired"), "{b}");
    let (st, b) = http
        .request("POST", "/api/v1/ratings", Some(&tablet1), Some(&body))
        .await
        .unwrap();
    assert_eq!(st, 201, "{b}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
}

#[test]
fn the_command_line_binds_a_tablet_to_one_counter() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let e =
        cli::device_add("tab", cli::DeviceRole::Tablet, None, dir.path(), &mut out).unwrap_err();
    assert!(e.to_string().contains("--counter"), "{e}");
    let e = cli::device_add(
        "door",
        cli::DeviceRole::Kiosk,
        Some(1),
        dir.path(),
        &mut out,
    )
    .unwrap_err();
    assert!(e.to_string().contains("tablet"), "{e}");
    let token = cli::device_add(
        "tab",
        cli::DeviceRole::Tablet,
        Some(3),
        dir.path(),
        &mut out,
    )
    .unwrap();
    assert_eq!(token.len(), 64);
    let mut listed = Vec::new();
    cli::device_list(dir.path(), &mut listed).unwrap();
    let listed = String::from_utf8(listed).unwrap();
    assert!(listed.contains("tab\ttablet\tcounter 3"), "{listed}");
}
