//! Callbacks' phone numbers at central against a real PostgreSQL: off by default (a number a hub
//! sends is not stored), kept only while head office's switch for the hall is on and never in
//! events or rollups, each one read on its own with an audit row, deleted as the hall deletes it
//! (resolved longer ago than its retention: at the hall's next batch and by the task of `serve`),
//! all of a hall's deleted when the switch goes off or the hall is revoked; and what is deleted is
//! gone from the table's file too (at once, or at the task's next round after a batch).

mod common;

use chrono::Utc;
use common::{Central, Pg};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn event(seq: u64, at: i64, kind: Value) -> Value {
    let day = chrono::DateTime::from_timestamp_millis(at)
        .unwrap()
        .date_naive()
        .to_string();
    json!({"seq": seq, "day": day, "at": at, "actor": "clerk1", "counter": null, "kind": kind})
}

fn captured(id: i64) -> Value {
    json!({"type": "callback_captured", "id": id, "phone_masked": "138****5678",
           "origin": "request", "outage_id": null, "ticket": null})
}

fn resolved(id: i64) -> Value {
    json!({"type": "callback_updated", "id": id, "status": "resolved", "owner": "clerk1",
           "note_added": true})
}

fn batch(events: &[Value], phones: Option<Value>) -> Value {
    let mut b = json!({"version": 1, "hub": "0.2.0", "events": events});
    if let Some(p) = phones {
        b["callback_phones"] = p;
    }
    b
}

fn phones(days: u32, numbers: &[(i64, &str)]) -> Value {
    json!({"retention_days": days,
           "numbers": numbers.iter().map(|(id, p)| json!({"id": id, "phone": p})).collect::<Vec<_>>()})
}

/// Ship and return central's answer (`stored_through`, `callback_phones`).
async fn ship(central: &Central, credential: &str, b: &Value) -> (u64, bool) {
    let r = central.ship(credential, b).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    (
        v["stored_through"].as_u64().unwrap(),
        v["callback_phones"].as_bool().unwrap(),
    )
}

/// Rows anywhere in central, outside `callback_phones`, whose text holds `digits`.
async fn elsewhere(central: &Central, digits: &str) -> i64 {
    let c = central.store.conn().await.unwrap();
    let pattern = format!("%{digits}%");
    let mut n = 0;
    for table in [
        "events",
        "callbacks",
        "hall_days",
        "hall_status",
        "tickets",
        "audit",
    ] {
        let sql = format!("SELECT count(*) FROM {table} t WHERE t::text LIKE $1");
        n += c
            .query_one(&sql, &[&pattern])
            .await
            .unwrap()
            .get::<_, i64>(0);
    }
    n
}

/// Whether the bytes of `digits` are in the file of the `callback_phones` table (after a
/// checkpoint, so that what PostgreSQL holds in memory is on disk).
async fn in_table_file(pg: &Pg, central: &Central, digits: &str) -> bool {
    let c = central.store.conn().await.unwrap();
    c.batch_execute("CHECKPOINT").await.unwrap();
    let rel: String = c
        .query_one("SELECT pg_relation_filepath('callback_phones')", &[])
        .await
        .unwrap()
        .get(0);
    let bytes = std::fs::read(pg.data().join(rel)).unwrap_or_default();
    bytes.windows(digits.len()).any(|w| w == digits.as_bytes())
}

async fn audit(central: &Central, action: &str) -> Vec<(String, Value)> {
    central
        .store
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, a, _)| a == action)
        .map(|(who, _, detail)| (who, detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_kept_only_while_switched_on_read_audited_and_deleted_with_the_hall() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let east = central.hall("城东营业厅").await;
    let town = central.hall("石头咀服务点").await;
    let cookie = central.sign_in_operator().await;
    let now = Utc::now().timestamp_millis();

    // Off by default: a number a hub sends anyway is not kept, and the answer says off.
    let (through, on) = ship(
        &central,
        &east,
        &batch(
            &[event(1, now - 3 * DAY, captured(1))],
            Some(phones(30, &[(1, "13812345678")])),
        ),
    )
    .await;
    assert_eq!((through, on), (1, false));
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        0
    );
    assert_eq!(elsewhere(&central, "12345678").await, 0);

    // Head office turns them on for one hall, saying why: audited.
    let done = central
        .store
        .set_callback_phones(
            Some("城东营业厅"),
            true,
            "command line (admin)",
            "回访由总部呼叫中心统一拨打",
        )
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert!(!done[0].was_on);
    let switched = audit(&central, "callback_phones").await;
    assert_eq!(switched.len(), 1);
    assert_eq!(switched[0].0, "command line (admin)");
    assert_eq!(switched[0].1["hall"], "城东营业厅");
    assert_eq!(switched[0].1["on"], true);
    assert_eq!(switched[0].1["why"], "回访由总部呼叫中心统一拨打");
    // A hall that does not exist is refused.
    assert!(
        central
            .store
            .set_callback_phones(Some("没有这个厅"), true, "x", "y")
            .await
            .is_err()
    );

    // On: the hub's numbers are kept, in the hall's own form; one for a callback central has not
    // seen captured is not; the other hall's stay out.
    let (through, on) = ship(
        &central,
        &east,
        &batch(
            &[
                event(2, now - 2 * DAY, captured(2)),
                event(3, now - DAY, captured(3)),
            ],
            Some(phones(
                30,
                &[
                    (1, "13812345678"),
                    (2, "139 1234 5678"),
                    (3, "02787654321"),
                    (99, "13700000000"),
                ],
            )),
        ),
    )
    .await;
    assert_eq!((through, on), (3, true));
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        3
    );
    let (_, on) = ship(
        &central,
        &town,
        &batch(
            &[event(1, now - DAY, captured(1))],
            Some(phones(30, &[(1, "13655556666")])),
        ),
    )
    .await;
    assert!(!on);
    assert_eq!(
        central
            .store
            .callback_phone_count("石头咀服务点")
            .await
            .unwrap(),
        0
    );
    // Never in events, callbacks, rollups, the live status or the audit log.
    for digits in ["12345678", "87654321", "13700000000", "13655556666"] {
        assert_eq!(elsewhere(&central, digits).await, 0, "{digits}");
    }

    // The ordinary list says which numbers central has, and shows none.
    let v = central
        .request("GET", "/api/v1/callbacks", &[("Cookie", &cookie)], b"")
        .await
        .json();
    assert_eq!(v["phone_halls"], json!(["城东营业厅"]));
    let east_rows: Vec<&Value> = v["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["hall"] == "城东营业厅")
        .collect();
    assert_eq!(east_rows.len(), 3);
    assert!(east_rows.iter().all(|c| c["phone_at_central"] == true));
    assert!(
        v["callbacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["hall"] == "石头咀服务点" && c["phone_at_central"] == false)
    );
    let text = v.to_string();
    assert!(
        !text.contains("12345678") && !text.contains("8765"),
        "{text}"
    );
    let page = central
        .request("GET", "/callbacks", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("显示号码"), "{}", page.body);
    assert!(!page.body.contains("12345678") && !page.body.contains("87654321"));
    assert!(audit(&central, "callback_phone_read").await.is_empty());

    // Reading one is an act of its own, with an audit row: operator, hall, callback (and when).
    let ask = |hall: &str, id: i64| json!({"hall": hall, "id": id}).to_string();
    let r = central
        .request(
            "POST",
            "/api/v1/callbacks/phone",
            &[("Content-Type", "application/json")],
            ask("城东营业厅", 2).as_bytes(),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = central
        .request(
            "POST",
            "/api/v1/callbacks/phone",
            &[("Cookie", &cookie), ("Content-Type", "application/json")],
            ask("城东营业厅", 2).as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        r.json(),
        json!({"hall": "城东营业厅", "id": 2, "phone": "13912345678"})
    );
    let reads = audit(&central, "callback_phone_read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].0, "zongbu");
    assert_eq!(reads[0].1, json!({"hall": "城东营业厅", "callback": 2}));
    // The page's button.
    let r = central
        .request(
            "POST",
            "/callbacks/phone",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "hall=%E5%9F%8E%E4%B8%9C%E8%90%A5%E4%B8%9A%E5%8E%85&id=3".as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("027-87654321"), "{}", r.body);
    assert!(r.body.contains("已记入总部操作记录"));
    assert_eq!(audit(&central, "callback_phone_read").await.len(), 2);
    // No number held (the other hall, or no such callback): 404, nothing recorded as read.
    for (hall, id) in [("石头咀服务点", 1), ("城东营业厅", 99)] {
        let r = central
            .request(
                "POST",
                "/api/v1/callbacks/phone",
                &[("Cookie", &cookie), ("Content-Type", "application/json")],
                ask(hall, id).as_bytes(),
            )
            .await;
        assert_eq!(r.status, 404, "{hall} {id}: {}", r.body);
    }
    assert_eq!(audit(&central, "callback_phone_read").await.len(), 2);

    // The hall's retention: #1 resolved 31 days ago under a 30-day retention goes at that batch;
    // #2 resolved 2 days ago stays until the task of `serve` finds it past 30 days.
    assert!(in_table_file(&pg, &central, "13812345678").await);
    let (_, on) = ship(
        &central,
        &east,
        &batch(
            &[
                event(4, now - 31 * DAY, resolved(1)),
                event(5, now - 2 * DAY, resolved(2)),
            ],
            Some(phones(30, &[])),
        ),
    )
    .await;
    assert!(on);
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        2
    );
    // The batch leaves the table's rewrite to the task's next round (a minute at most).
    assert!(in_table_file(&pg, &central, "13812345678").await);
    assert_eq!(central.store.purge_callback_phones(now).await.unwrap(), 0);
    assert!(
        !in_table_file(&pg, &central, "13812345678").await,
        "a deleted number is gone from the table's file"
    );
    assert!(in_table_file(&pg, &central, "13912345678").await);
    assert_eq!(
        central
            .store
            .purge_callback_phones(now + 29 * DAY)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        1
    );
    assert!(!in_table_file(&pg, &central, "13912345678").await);
    // #3 is not resolved: the hall keeps it, and so does central.
    assert_eq!(
        central
            .store
            .purge_callback_phones(now + 3650 * DAY)
            .await
            .unwrap(),
        0
    );

    // Off: the hall's numbers are deleted at once, audited; its next answer says off, and a
    // number it sends before it hears is not kept.
    let done = central
        .store
        .set_callback_phones(
            Some("城东营业厅"),
            false,
            "command line (admin)",
            "呼叫中心合同到期",
        )
        .await
        .unwrap();
    assert_eq!(done[0].deleted, 1);
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        0
    );
    assert!(!in_table_file(&pg, &central, "87654321").await);
    let switched = audit(&central, "callback_phones").await;
    assert_eq!(switched[0].1["on"], false);
    assert_eq!(switched[0].1["deleted"], 1);
    let (_, on) = ship(
        &central,
        &east,
        &batch(
            &[event(6, now, captured(4))],
            Some(phones(30, &[(4, "13811112222")])),
        ),
    )
    .await;
    assert!(!on);
    assert_eq!(
        central
            .store
            .callback_phone_count("城东营业厅")
            .await
            .unwrap(),
        0
    );
    let r = central
        .request(
            "POST",
            "/api/v1/callbacks/phone",
            &[("Cookie", &cookie), ("Content-Type", "application/json")],
            ask("城东营业厅", 3).as_bytes(),
        )
        .await;
    assert_eq!(r.status, 404);

    // Every hall at once, then a revoked hall takes its numbers with it.
    let done = central
        .store
        .set_callback_phones(None, true, "command line (admin)", "全省统一回访")
        .await
        .unwrap();
    assert_eq!(done.len(), 2);
    ship(
        &central,
        &town,
        &batch(&[], Some(phones(30, &[(1, "13655556666")]))),
    )
    .await;
    assert_eq!(
        central
            .store
            .callback_phone_count("石头咀服务点")
            .await
            .unwrap(),
        1
    );
    assert!(central.store.revoke_hall("石头咀服务点").await.unwrap());
    assert_eq!(
        central
            .store
            .callback_phone_count("石头咀服务点")
            .await
            .unwrap(),
        0
    );
    assert!(!in_table_file(&pg, &central, "13655556666").await);
    let switched = audit(&central, "callback_phones").await;
    assert_eq!(switched[0].0, "system");
    assert_eq!(switched[0].1["why"], "hall revoked");
}

/// A batch's numbers are checked like the hall's own input; a bad one refuses the batch with a
/// message that does not repeat it, and nothing of the batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_that_is_not_a_phone_number_refuses_the_batch() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let east = central.hall("城东营业厅").await;
    central
        .store
        .set_callback_phones(Some("城东营业厅"), true, "admin", "test")
        .await
        .unwrap();
    let now = Utc::now().timestamp_millis();
    let r = central
        .ship(
            &east,
            &batch(
                &[event(1, now, captured(1))],
                Some(phones(30, &[(1, "555-12")])),
            ),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("callback 1"), "{}", r.body);
    assert!(!r.body.contains("555-12"), "{}", r.body);
    assert_eq!(central.store.event_count("城东营业厅").await.unwrap(), 0);
}
