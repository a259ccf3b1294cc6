//! When central's rollups are recomputed: a batch into a hall's current business day only marks
//! the day, and the refresh that `serve` runs (about once a minute, and when it stops) brings it
//! up to date; late history and a day that is over are rolled up with their batch. Against the
//! store itself, with no server whose refresh could run beside the test's, and once through
//! `run` stopped gracefully.

mod common;

use std::time::Duration;

use common::{HallHistory, Pg};
use hallq_central::auth::{new_secret, sha256_hex};
use hallq_central::rollup::{HallDay, REFRESH_EVERY};
use hallq_central::wire::Batch;
use hallq_central::{AppState, Store};
use hallq_shared::report::Period;
use serde_json::{Value, json};

const DAYS: [&str; 2] = ["2026-12-01", "2026-12-02"];

async fn ship(store: &Store, hall: i64, batch: Value) {
    let mut b: Batch = serde_json::from_value(batch).unwrap();
    b.sanitise().unwrap();
    store.ship(hall, &mut b).await.unwrap();
}

/// The hall's rollup of `day`, if it has one.
async fn rollup(store: &Store, day: &str) -> Option<HallDay> {
    let (_, days) = store
        .league_days(Period::day(day.parse().unwrap()))
        .await
        .unwrap();
    days.into_iter().next().map(|(_, d)| d)
}

async fn issued(store: &Store, day: &str) -> Option<u32> {
    rollup(store, day).await.map(|d| d.issued)
}

async fn pending(store: &Store, day: &str) -> u32 {
    store
        .rollups_pending(Period::day(day.parse().unwrap()))
        .await
        .unwrap()
        .0
}

/// Events `from..=to` as a hub ships them: with the rows of the tickets issued so far only.
fn batch(h: &HallHistory, from: u64, to: u64) -> Value {
    let issued: Vec<(Value, Value)> = h
        .events
        .iter()
        .take(to as usize)
        .filter(|e| e["kind"]["type"] == "ticket_issued")
        .map(|e| (e["day"].clone(), e["kind"]["ticket"]["number"].clone()))
        .collect();
    let mut b = h.batch(from, to);
    for rows in ["tickets", "ratings"] {
        let kept: Vec<Value> = b[rows]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| issued.contains(&(t["day"].clone(), t["number"].clone())))
            .cloned()
            .collect();
        b[rows] = json!(kept);
    }
    b
}

/// Tickets of `day` issued by events `1..=to`.
fn issued_by(h: &HallHistory, day: &str, to: u64) -> u32 {
    h.events
        .iter()
        .take(to as usize)
        .filter(|e| e["day"] == day && e["kind"]["type"] == "ticket_issued")
        .count() as u32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_into_the_current_day_waits_for_the_refresh_and_other_days_do_not() {
    let Some(pg) = Pg::start() else { return };
    let store = Store::open(&pg.url(), 4).await.unwrap();
    let hall = store
        .add_hall("城东营业厅", &sha256_hex(&new_secret()))
        .await
        .unwrap();
    let h = HallHistory::build(&DAYS, 40, 2);
    let day2_from = h.events.iter().position(|e| e["day"] == DAYS[1]).unwrap() as u64;
    let split = day2_from + 30;
    ship(&store, hall, batch(&h, 1, split)).await;

    // The first day is over for the hall (its status is on the second): rolled up at once.
    assert_eq!(issued(&store, DAYS[0]).await, Some(40));
    assert_eq!(pending(&store, DAYS[0]).await, 0);
    // The second is its current day: only marked.
    assert_eq!(issued(&store, DAYS[1]).await, None);
    assert_eq!(pending(&store, DAYS[1]).await, 1);
    // A day never rolled up is due at the serve loop's next round.
    assert_eq!(store.refresh_rollups(REFRESH_EVERY).await.unwrap(), 1);
    let so_far = issued_by(&h, DAYS[1], split);
    assert!(so_far > 0 && so_far < 40, "{so_far}");
    assert_eq!(issued(&store, DAYS[1]).await, Some(so_far));
    assert_eq!(pending(&store, DAYS[1]).await, 0);

    // The rest of the day: marked again, and not rolled up again within the minute …
    ship(&store, hall, batch(&h, split + 1, h.last_seq())).await;
    assert_eq!(pending(&store, DAYS[1]).await, 1);
    let (_, as_of) = store
        .rollups_pending(Period::day(DAYS[1].parse().unwrap()))
        .await
        .unwrap();
    assert!(as_of <= chrono::Utc::now());
    assert_eq!(store.refresh_rollups(REFRESH_EVERY).await.unwrap(), 0);
    assert_eq!(issued(&store, DAYS[1]).await, Some(so_far));
    // … unless every marked day is asked for, as when `serve` stops.
    assert_eq!(store.refresh_rollups(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(issued(&store, DAYS[1]).await, Some(40));
    assert_eq!(store.refresh_rollups(Duration::ZERO).await.unwrap(), 0);

    // Late history of the day that is over, with the hall on the second: rolled up at once.
    let unrated = h
        .tickets
        .iter()
        .find(|t| {
            t["day"] == DAYS[0]
                && t["state"] == "finished"
                && !h
                    .ratings
                    .iter()
                    .any(|r| r["day"] == DAYS[0] && r["number"] == t["number"])
        })
        .unwrap();
    let rated = rollup(&store, DAYS[0]).await.unwrap().rated;
    let clock = h.clock(h.last_seq());
    ship(
        &store,
        hall,
        json!({"version": 1,
               "ratings": [{"day": DAYS[0], "number": unrated["number"], "counter": 1,
                            "score": 5, "at": clock}],
               "status": {"at": clock, "day": DAYS[1], "outage": null}}),
    )
    .await;
    assert_eq!(rollup(&store, DAYS[0]).await.unwrap().rated, rated + 1);
    assert_eq!(
        pending(&store, DAYS[0]).await + pending(&store, DAYS[1]).await,
        0
    );

    // An outage going on (the day's began at 10:00, never ended): a heartbeat without events
    // marks the day, whose figure follows the hub's clock.
    let began = common::nine_am(DAYS[1]) + 3_600_000;
    assert_eq!(
        rollup(&store, DAYS[1]).await.unwrap().outage_ms,
        clock - began
    );
    let later = clock + 10 * 60_000;
    ship(
        &store,
        hall,
        json!({"version": 1,
               "status": {"at": later, "day": DAYS[1], "outage": {"id": began, "long": true}}}),
    )
    .await;
    assert_eq!(pending(&store, DAYS[1]).await, 1);
    assert_eq!(store.refresh_rollups(Duration::ZERO).await.unwrap(), 1);
    let d = rollup(&store, DAYS[1]).await.unwrap();
    assert_eq!(
        (d.outage_ms, d.outage_longest_ms),
        (later - began, later - began)
    );
    // Without an outage a heartbeat marks nothing.
    ship(
        &store,
        hall,
        json!({"version": 1, "status": {"at": later + 60_000, "day": DAYS[1], "outage": null}}),
    )
    .await;
    assert_eq!(pending(&store, DAYS[1]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rolls_up_the_marked_days_when_it_stops() {
    let Some(pg) = Pg::start() else { return };
    let store = Store::open(&pg.url(), 4).await.unwrap();
    let hall = store
        .add_hall("城西营业厅", &sha256_hex(&new_secret()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hallq_central::run(
        listener,
        AppState::new(store.clone(), false),
        async move {
            let _ = stopped.await;
        },
    ));
    let h = HallHistory::build(&DAYS[..1], 25, 4);
    // Rolled up by `serve`'s refresh, or at the latest when it stops.
    ship(&store, hall, h.batch(1, h.last_seq())).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve stops")
        .unwrap()
        .unwrap();
    assert_eq!(pending(&store, DAYS[0]).await, 0);
    assert_eq!(issued(&store, DAYS[0]).await, Some(25));
}
