//! A hall whose database was restored from an older backup ships new events under seqs central
//! already holds for the events the hall lost. Against a real PostgreSQL: central keeps the lost
//! events and stores the new ones after them, answers in the hall's own seqs, stores a batch sent
//! again once, and follows a second restore from an even older backup.

mod common;

use common::{Central, HallHistory, Pg};
use serde_json::{Value, json};

const HALL: &str = "城东营业厅";

/// The hall after a restore: its events up to `backup` as they were, then `new`'s events as the
/// restored database numbers them (from `backup + 1`), later in the day.
fn restored(before: &[Value], backup: u64, new: &HallHistory) -> Vec<Value> {
    let mut events: Vec<Value> = before[..backup as usize].to_vec();
    let shift = before.last().unwrap()["at"].as_i64().unwrap() + 60_000
        - new.events[0]["at"].as_i64().unwrap();
    for (i, e) in new.events.iter().enumerate() {
        let mut e = e.clone();
        e["seq"] = json!(backup + 1 + i as u64);
        e["at"] = json!(e["at"].as_i64().unwrap() + shift);
        e["day"] = before[0]["day"].clone();
        events.push(e);
    }
    events
}

fn batch(events: &[Value], from: u64, to: u64) -> Value {
    let events: Vec<&Value> = events
        .iter()
        .filter(|e| (from..=to).contains(&e["seq"].as_u64().unwrap()))
        .collect();
    json!({ "version": 1, "hub": "0.2.0", "events": events })
}

/// Central's events of the hall as (seq, at), in seq order.
async fn held(central: &Central) -> Vec<(i64, i64)> {
    let c = central.store.conn().await.unwrap();
    c.query(
        "SELECT e.seq, e.at FROM events e JOIN halls h ON h.id = e.hall_id
         WHERE h.name = $1 ORDER BY e.seq",
        &[&HALL],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_restored_from_an_older_backup_loses_nothing_at_central() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall(HALL).await;

    // The hall's day until the restore: every event reached central.
    let lost = HallHistory::build(&["2026-12-01"], 30, 1);
    let n = lost.last_seq();
    let reply = central.ship(&cred, &lost.batch(1, n)).await;
    assert_eq!(reply.stored_through(), n);

    // Its database is put back from a backup taken at seq `backup`, and it works on; its cursor
    // (kept in the database) is older still, so it sends some of the common history again.
    let backup = n / 2;
    let new = HallHistory::build(&["2026-12-01"], 40, 2);
    let after = restored(&lost.events, backup, &new);
    let top = after.len() as u64;
    assert!(
        top > n,
        "the restored hall must reach past what central held"
    );
    let reply = central.ship(&cred, &batch(&after, backup - 5, top)).await;
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert_eq!(
        reply.stored_through(),
        top,
        "central answers in the hall's own seqs"
    );

    let rows = held(&central).await;
    assert_eq!(rows.len() as u64, n + (top - backup), "{rows:?}");
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>());
    // The lost events are kept as they were…
    for (i, e) in lost.events.iter().enumerate() {
        assert_eq!(rows[i].1, e["at"].as_i64().unwrap(), "lost event {}", i + 1);
    }
    // …and the restored hall's new ones follow them, in order.
    for (k, e) in after[backup as usize..].iter().enumerate() {
        assert_eq!(
            rows[n as usize + k].1,
            e["at"].as_i64().unwrap(),
            "new event {}",
            backup as usize + 1 + k
        );
    }

    // Sent again (an answer lost): stored once.
    let reply = central.ship(&cred, &batch(&after, backup + 1, top)).await;
    assert_eq!(reply.stored_through(), top);
    assert_eq!(held(&central).await.len(), rows.len());

    // The hall goes on: its next events follow under the same fork.
    let more = HallHistory::build(&["2026-12-01"], 3, 3);
    let later = restored(&after, top, &more);
    let end = later.len() as u64;
    let reply = central.ship(&cred, &batch(&later, top + 1, end)).await;
    assert_eq!(reply.stored_through(), end);
    assert_eq!(held(&central).await.len() as u64, n + (end - backup));

    // Restored again, from a backup older than the first one: the history since is lost again
    // at the hall, kept at central, and the newest events go after everything.
    let before = held(&central).await.len() as u64;
    let older = backup / 2;
    let again = restored(
        &lost.events,
        older,
        &HallHistory::build(&["2026-12-01"], 4, 4),
    );
    let last = again.len() as u64;
    let reply = central.ship(&cred, &batch(&again, 1, last)).await;
    assert_eq!(reply.stored_through(), last);
    let rows = held(&central).await;
    assert_eq!(rows.len() as u64, before + (last - older));
    assert_eq!(
        rows.last().unwrap().1,
        again.last().unwrap()["at"].as_i64().unwrap()
    );
    assert_eq!(
        central.store.event_count(HALL).await.unwrap(),
        rows.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sent_again_after_a_lost_answer_starts_no_fork() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall(HALL).await;
    let h = HallHistory::build(&["2026-12-01"], 20, 5);
    let n = h.last_seq();
    for _ in 0..3 {
        assert_eq!(
            central.ship(&cred, &h.batch(1, n)).await.stored_through(),
            n
        );
        assert_eq!(
            central
                .ship(&cred, &h.batch(n / 3, n))
                .await
                .stored_through(),
            n
        );
    }
    assert_eq!(held(&central).await.len() as u64, n);
    let c = central.store.conn().await.unwrap();
    let forks: i64 = c
        .query_one("SELECT count(*) FROM seq_forks", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(forks, 0);
}
