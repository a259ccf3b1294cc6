//! A real hub shipping to the real central on a real PostgreSQL (a cluster of the test's own on a
//! loopback port): the phone numbers of its callbacks stay in the hall until head office turns
//! them on for it at central; then the numbers of the callbacks still open arrive, and those
//! captured after come with their events, and the hub's `GET /api/v1/central` says they are being
//! shipped; turned off, central deletes them at once and the hub stops sending them.

mod common;
#[path = "../../../central/tests/common/mod.rs"]
mod pg;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::Fixture;
use hallq_hub::central::CentralOptions;
use serde_json::{Value, json};

const HALL: &str = "城东营业厅";

async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not within 30 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A hub on a loopback port of its own, shipping to `central_url`, its clock now.
async fn open_hall(central_url: &str, credential: &str) -> common::Serving {
    let clock = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp_millis()));
    let mut central = CentralOptions::new(central_url, credential).unwrap();
    central.idle = Duration::from_millis(100);
    central.heartbeat = Duration::from_millis(200);
    // Scaled down with the other waits: the 5 s a hub gathers commits for is not what these test.
    central.gather = Duration::from_millis(20);
    central.backoff_min = Duration::from_millis(20);
    central.backoff_max = Duration::from_millis(200);
    central.timeout = Duration::from_secs(5);
    common::Serving::open(tempfile::tempdir().unwrap(), clock, Some(central), true).await
}

async fn capture(f: &Fixture, phone: &str) -> i64 {
    let (st, b) = f
        .call(
            "POST",
            "/api/v1/callbacks",
            Some(&f.kiosk),
            Some(json!({"phone": phone, "consent": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["id"].as_i64().unwrap()
}

async fn status(f: &Fixture) -> Value {
    let (st, b) = f
        .call("GET", "/api/v1/central", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["central"].clone()
}

/// Whether central has the hall's callback `id` (its capture event stored).
async fn central_knows(store: &hallq_central::Store, id: i64) -> bool {
    let (open, _) = store.open_callbacks(0, 1000).await.unwrap();
    open.iter().any(|c| c.hall == HALL && c.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbers_reach_central_only_after_head_office_turns_them_on() {
    let Some(pg) = pg::Pg::start() else { return };
    let central = pg::Central::start(&pg.url()).await;
    let credential = central.hall(HALL).await;
    let hall = open_hall(&format!("http://{}", central.addr), &credential).await;
    let f = &hall.f;
    let store = central.store.clone();

    // Off: the callback reaches central, its number does not, heartbeat after heartbeat.
    let first = capture(f, "13812345678").await;
    wait_until("central has callback 1", || central_knows(&store, first)).await;
    wait_until("the hub heard central", || async {
        status(f).await["last_ok_at"].is_i64()
    })
    .await;
    let ok_before = status(f).await["last_ok_at"].as_i64().unwrap();
    f.advance_ms(1000);
    wait_until("another batch answered", || async {
        status(f).await["last_ok_at"].as_i64().unwrap() > ok_before
    })
    .await;
    let s = status(f).await;
    assert_eq!(s["callback_phones"], false, "{s}");
    assert_eq!(store.callback_phone_count(HALL).await.unwrap(), 0);

    // On at central: the hub hears it in the answer to its next batch, says so, and sends the
    // number of the callback still open.
    store
        .set_callback_phones(
            Some(HALL),
            true,
            "command line (admin)",
            "回访由总部统一拨打",
        )
        .await
        .unwrap();
    wait_until("the hub says numbers are shipped", || async {
        status(f).await["callback_phones"] == true
    })
    .await;
    wait_until("the open callback's number arrives", || async {
        store.callback_phone_count(HALL).await.unwrap() == 1
    })
    .await;
    assert_eq!(
        store
            .read_callback_phone(HALL, first, "zongbu")
            .await
            .unwrap()
            .as_deref(),
        Some("13812345678")
    );

    // A callback captured now comes with its event; its number with it.
    let second = capture(f, "027-87654321").await;
    wait_until("the new callback's number arrives", || async {
        store.callback_phone_count(HALL).await.unwrap() == 2
    })
    .await;
    assert_eq!(
        store
            .read_callback_phone(HALL, second, "zongbu")
            .await
            .unwrap()
            .as_deref(),
        Some("027-87654321")
    );

    // Off: central deletes them at once; the hub hears it and sends no more.
    let done = store
        .set_callback_phones(Some(HALL), false, "command line (admin)", "停止")
        .await
        .unwrap();
    assert_eq!(done[0].deleted, 2);
    assert_eq!(store.callback_phone_count(HALL).await.unwrap(), 0);
    wait_until("the hub says numbers are not shipped", || async {
        status(f).await["callback_phones"] == false
    })
    .await;
    let third = capture(f, "13912345678").await;
    wait_until("central has callback 3", || central_knows(&store, third)).await;
    assert_eq!(store.callback_phone_count(HALL).await.unwrap(), 0);

    hall.close().await;
}
