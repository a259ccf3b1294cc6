//! Taking a ticket by phone: the code a kiosk shows, the page it opens, a ticket in the same line
//! as paper tickets, one waiting ticket per phone, an expired code refused, the switch off.

mod common;

use axum::http::StatusCode;
use common::{Fixture, code};
use serde_json::json;

const PHONE_A: &str = "0123456789abcdef0123456789abcdef";
const PHONE_B: &str = "fedcba9876543210fedcba9876543210";

async fn current_code(f: &Fixture) -> String {
    let (st, b) = f
        .call("GET", "/api/v1/phone/code", Some(&f.kiosk), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["enabled"], true);
    let c = b["code"].as_str().unwrap().to_string();
    assert_eq!(b["path"], format!("/p/{c}"));
    c
}

/// A phone asks for a ticket with code `c`.
async fn take(f: &Fixture, c: &str, service: &str, phone: &str) -> (StatusCode, serde_json::Value) {
    f.call(
        "POST",
        &format!("/api/v1/phone/{c}/tickets"),
        None,
        Some(json!({"service": service, "phone": phone})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_code_gives_a_ticket_in_the_same_line() {
    let f = Fixture::new().await;
    // Only screens ask for the code.
    let (st, _) = f.call("GET", "/api/v1/phone/code", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let paper = f.issue("pay").await;
    let c = current_code(&f).await;

    // The page the code opens, and what it shows.
    let (st, html) = f.call("GET", &format!("/p/{c}"), None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.as_str().unwrap().contains("/staff/phone.js"));
    let (st, board) = f
        .call("GET", &format!("/api/v1/phone/{c}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK, "{board}");
    let pay = board["notices"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "pay")
        .unwrap();
    assert_eq!(pay["waiting"], 1);

    // A ticket behind the paper one.
    let (st, t) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["ahead"], 1);
    let mine = t["number"].as_str().unwrap().to_string();
    assert_ne!(mine, paper);
    let (_, s) = f
        .call("GET", &format!("/api/v1/tickets/{mine}"), None, None)
        .await;
    assert_eq!(
        (s["state"].as_str(), s["ahead"].as_u64()),
        (Some("waiting"), Some(1))
    );

    // One waiting ticket per phone; another phone may take its own.
    let (st, b) = take(&f, &c, "account", PHONE_A).await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "phone_has_ticket"));
    assert!(b["error"]["message"].as_str().unwrap().contains(&mine));
    let (st, _) = take(&f, &c, "pay", PHONE_B).await;
    assert_eq!(st, StatusCode::CREATED);

    // Once the phone's ticket is served, it may take another.
    f.open_counter(1).await;
    for _ in 0..2 {
        let (st, b) = f
            .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        f.call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
            .await;
    }
    let (_, s) = f
        .call("GET", &format!("/api/v1/tickets/{mine}"), None, None)
        .await;
    assert_eq!(s["state"], "finished", "{s}");
    let (st, b) = take(&f, &c, "account", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_expires_and_bad_requests_are_refused_clearly() {
    let f = Fixture::new().await;
    let c = current_code(&f).await;
    // Still good a minute on (a customer who scanned just before it changed)…
    f.advance_ms(60_000);
    let (st, _) = f
        .call("GET", &format!("/api/v1/phone/{c}"), None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(current_code(&f).await, c, "the code changes every minute");
    // …not two minutes on: a photo of the code does not let people queue from home.
    f.advance_ms(60_000);
    let (st, b) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!((st, code(&b)), (StatusCode::GONE, "code_expired"));
    assert_eq!(
        b["error"]["message_zh"],
        "二维码已过期,请重新扫描大厅内的二维码"
    );
    let (st, b) = f.call("GET", "/api/v1/phone/NOTACODE", None, None).await;
    assert_eq!((st, code(&b)), (StatusCode::GONE, "code_expired"));

    let c = current_code(&f).await;
    for (body, want) in [
        (json!({"service": "pay", "phone": "short"}), "bad_phone_id"),
        (
            json!({"service": "pay", "phone": "<script>alert(1)</script>x"}),
            "bad_phone_id",
        ),
        (json!({"service": "nope", "phone": PHONE_A}), ""),
        (json!({"service": "pay"}), ""),
    ] {
        let (st, b) = f
            .call(
                "POST",
                &format!("/api/v1/phone/{c}/tickets"),
                None,
                Some(body),
            )
            .await;
        assert!(st.is_client_error(), "{st} {b}");
        if !want.is_empty() {
            assert_eq!(code(&b), want);
        }
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (_, board) = f.call("GET", "/api/v1/board", Some(&f.display), None).await;
    let waiting: u64 = board["notices"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["waiting"].as_u64().unwrap())
        .sum();
    assert_eq!(waiting, 0, "nothing was issued by the refused requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_still_holds_its_ticket_after_a_hub_restart() {
    let f = Fixture::new().await;
    let c = current_code(&f).await;
    let (st, t) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let mine = t["number"].as_str().unwrap().to_string();

    let f = f.restart().await;
    let (st, b) = take(&f, &c, "account", PHONE_A).await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "phone_has_ticket"));
    assert!(b["error"]["message"].as_str().unwrap().contains(&mine));
    let (st, _) = take(&f, &c, "pay", PHONE_B).await;
    assert_eq!(st, StatusCode::CREATED);

    // Served, the phone may take the next one.
    f.open_counter(1).await;
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/next", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["number"], mine.as_str());
    let (st, b) = f
        .call("POST", "/api/v1/counters/1/finish", Some(&f.clerk1), None)
        .await;
    assert!(st.is_success(), "{b}");
    let (st, b) = take(&f, &c, "account", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codes_survive_a_restart_a_poster_may_keep_one_and_a_hall_may_switch_them_off() {
    let mut config = hallq_shared::config::HallConfig::demo();
    let f = Fixture::with(config.clone(), 256).await;
    let c = current_code(&f).await;
    let key = std::fs::read(f.dir.path().join("phone-code.key")).unwrap();
    assert_eq!(key.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f.dir.path().join("phone-code.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "readable by the hub only: {mode:o}");
    }
    let again = hallq_hub::phone::PhoneDesk::open(f.dir.path()).unwrap();
    assert!(again.accepts(&c, f.clock.load(std::sync::atomic::Ordering::SeqCst)));

    // A hall with its code on a poster: the code no longer changes, and is accepted an hour on.
    config.policy.phone_code_rotates = false;
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(serde_json::to_value(&config).unwrap()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let poster = current_code(&f).await;
    assert_ne!(poster, c);
    f.advance_ms(3_600_000);
    assert_eq!(current_code(&f).await, poster, "the poster's code stays");
    let (st, t) = take(&f, &poster, "pay", PHONE_B).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    // Back to a code on the screens: the poster's code is refused, the minute's works.
    config.policy.phone_code_rotates = true;
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(serde_json::to_value(&config).unwrap()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = take(&f, &poster, "account", PHONE_A).await;
    assert_eq!((st, code(&b)), (StatusCode::GONE, "code_expired"));
    let minute = current_code(&f).await;
    assert_ne!(minute, poster);

    config.policy.phone_tickets = false;
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(serde_json::to_value(&config).unwrap()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, b) = f
        .call("GET", "/api/v1/phone/code", Some(&f.kiosk), None)
        .await;
    assert_eq!(b["enabled"], false);
    let (st, b) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!((st, code(&b)), (StatusCode::FORBIDDEN, "phone_tickets_off"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_outage_the_phone_leaves_a_number_with_consent_and_sees_it_masked() {
    let f = Fixture::new().await;
    let c = current_code(&f).await;
    let url = format!("/api/v1/phone/{c}/callbacks");
    let (st, b) = f
        .call(
            "POST",
            &url,
            None,
            Some(json!({"phone": "13812345678", "consent": true})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "no_callback_offer"));

    let (st, b) = f
        .call(
            "POST",
            "/api/v1/outage",
            Some(&f.manager),
            Some(json!({"expected_minutes": 60})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = f
        .call(
            "POST",
            &url,
            None,
            Some(json!({"phone": "13812345678", "consent": false})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "no_consent"));
    let (st, b) = f
        .call(
            "POST",
            &url,
            None,
            Some(json!({"phone": "12345", "consent": true})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "bad_phone"));
    let (st, b) = f
        .call(
            "POST",
            &url,
            None,
            Some(json!({"phone": "138 1234 5678", "consent": true, "ticket": "Z999"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let masked = b["phone_masked"].as_str().unwrap();
    assert!(
        !masked.contains("12345678") && masked.starts_with("138"),
        "{masked}"
    );
    assert_eq!(
        b.as_object().unwrap().len(),
        2,
        "id and the masked number only: {b}"
    );

    // Staff see it on the audited list, as one of this outage's callbacks.
    let (st, list) = f
        .call("GET", "/api/v1/callbacks", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let cb = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == b["id"])
        .unwrap();
    assert_eq!(cb["phone"], "13812345678");
    assert!(cb["outage_id"].as_i64().is_some(), "{cb}");
    assert_eq!(cb["captured_by"], "phone");

    // An expired code is refused here too.
    f.advance_ms(180_000);
    let (st, b) = f
        .call(
            "POST",
            &url,
            None,
            Some(json!({"phone": "13812345678", "consent": true})),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::GONE, "code_expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yesterdays_ticket_does_not_hold_a_phone_today() {
    let f = Fixture::new().await;
    let c = current_code(&f).await;
    let (st, t) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    // The next morning numbers start again: someone else's paper ticket has the same number.
    f.advance_ms(24 * 3600 * 1000);
    let (st, paper) = f
        .call(
            "POST",
            "/api/v1/tickets",
            Some(&f.kiosk),
            Some(json!({"service": "pay"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{paper}");
    assert_eq!(paper["number"], t["number"]);
    let c = current_code(&f).await;
    let (st, b) = take(&f, &c, "pay", PHONE_A).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}
