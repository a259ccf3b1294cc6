//! Callbacks open across halls against a real PostgreSQL: from the shipped callback events, per
//! hall those not resolved with their age, overdue past 24 hours; a batch sent again or out of its
//! day changes nothing; no phone number reaches the page.

mod common;

use chrono::Utc;
use common::{Central, Pg};
use serde_json::{Value, json};

fn event(seq: u64, at: i64, kind: Value) -> Value {
    let day = chrono::DateTime::from_timestamp_millis(at)
        .unwrap()
        .date_naive()
        .to_string();
    json!({"seq": seq, "day": day, "at": at, "actor": "clerk1", "counter": null, "kind": kind})
}

fn captured(id: i64, origin: &str, ticket: Option<&str>) -> Value {
    json!({"type": "callback_captured", "id": id, "phone_masked": "138****0000",
           "origin": origin, "outage_id": null, "ticket": ticket})
}

fn updated(id: i64, status: &str) -> Value {
    json!({"type": "callback_updated", "id": id, "status": status, "owner": "clerk1",
           "note_added": false})
}

fn batch(events: &[Value]) -> Value {
    json!({"version": 1, "hub": "0.2.0", "events": events})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_callbacks_are_listed_with_their_age_and_overdue_ones_flagged() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let east = central.hall("城东营业厅").await;
    let town = central.hall("石头咀服务点").await;
    let h = 3_600_000;
    let now = Utc::now().timestamp_millis();

    // East: #1 captured 30 h ago and still open (overdue), #2 30 h ago and resolved, #3 2 h ago
    // and contacted (open, not overdue).
    let east_events = vec![
        event(1, now - 30 * h, captured(1, "outage", None)),
        event(2, now - 30 * h + 1000, captured(2, "request", Some("A007"))),
        event(3, now - 29 * h, updated(2, "contacted")),
        event(4, now - 28 * h, updated(2, "resolved")),
        event(5, now - 2 * h, captured(3, "long_wait", Some("B012"))),
        event(6, now - h, updated(3, "contacted")),
    ];
    assert_eq!(
        central
            .ship(&east, &batch(&east_events))
            .await
            .stored_through(),
        6
    );
    // Sent again, and a part of it again later: stored once, nothing moves back.
    central
        .ship(&east, &batch(&east_events))
        .await
        .stored_through();
    central
        .ship(&east, &batch(&east_events[2..4]))
        .await
        .stored_through();
    // Town: one open for 50 hours, followed up in a later batch but not resolved.
    central
        .ship(
            &town,
            &batch(&[event(1, now - 50 * h, captured(9, "request", None))]),
        )
        .await
        .stored_through();
    central
        .ship(
            &town,
            &batch(&[event(2, now - 3 * h, updated(9, "contacted"))]),
        )
        .await
        .stored_through();

    let cookie = central.sign_in_operator().await;
    assert_eq!(
        central
            .request("GET", "/api/v1/callbacks", &[], b"")
            .await
            .status,
        401
    );
    let v = central
        .request("GET", "/api/v1/callbacks", &[("Cookie", &cookie)], b"")
        .await
        .json();
    assert_eq!(v["promise_hours"], 24);
    assert_eq!(v["truncated"], false);
    let halls = v["halls"].as_array().unwrap();
    assert_eq!(halls.len(), 2, "{v}");
    assert_eq!(halls[0]["hall"], "城东营业厅");
    assert_eq!(
        (halls[0]["open"].as_i64(), halls[0]["overdue"].as_i64()),
        (Some(2), Some(1))
    );
    let oldest = halls[0]["oldest_age_s"].as_i64().unwrap();
    assert!((30 * 3600..30 * 3600 + 60).contains(&oldest), "{oldest}");
    assert_eq!(
        (halls[1]["open"].as_i64(), halls[1]["overdue"].as_i64()),
        (Some(1), Some(1))
    );

    // Oldest first: town #9, east #1, east #3.
    let list = v["callbacks"].as_array().unwrap();
    let ids: Vec<(String, i64, bool, String)> = list
        .iter()
        .map(|c| {
            (
                c["hall"].as_str().unwrap().to_string(),
                c["id"].as_i64().unwrap(),
                c["overdue"].as_bool().unwrap(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("石头咀服务点".into(), 9, true, "contacted".into()),
            ("城东营业厅".into(), 1, true, "pending".into()),
            ("城东营业厅".into(), 3, false, "contacted".into()),
        ]
    );
    assert_eq!(list[2]["ticket"], "B012");
    assert_eq!(list[2]["origin"], "long_wait");

    let page = central
        .request("GET", "/callbacks", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("超时") && page.body.contains("B012"),
        "{}",
        page.body
    );
    assert!(page.body.contains("2 天 2 小时"), "{}", page.body);
    assert!(!page.body.contains("138"), "no phone number, masked or not");
    assert!(!v.to_string().contains("138"));

    // Resolved later: gone from the list.
    central
        .ship(&east, &batch(&[event(7, now, updated(1, "resolved"))]))
        .await
        .stored_through();
    let v = central
        .request("GET", "/api/v1/callbacks", &[("Cookie", &cookie)], b"")
        .await
        .json();
    assert_eq!(v["halls"][0]["open"], 1);
    assert_eq!(v["halls"][0]["overdue"], 0);
}
