//! Many halls shipping at once into one central: every event of every hall stored exactly once,
//! and the rate printed. `HALLQ_CENTRAL_INGEST_HALLS` and `HALLQ_CENTRAL_INGEST_TICKETS` (per
//! hall and day) make it the ingest figure of BENCHMARKS.md; the defaults keep it a quick test.

mod common;

use std::time::Instant;

use common::{Central, HallHistory, Pg};

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_halls_ship_at_once_and_every_event_arrives_once() {
    let Some(pg) = Pg::start() else { return };
    let halls = env_or("HALLQ_CENTRAL_INGEST_HALLS", 8);
    let per_day = env_or("HALLQ_CENTRAL_INGEST_TICKETS", 60);
    let central = std::sync::Arc::new(Central::start(&pg.url()).await);
    let days = ["2026-11-30", "2026-12-01"];
    let mut work = Vec::new();
    for i in 0..halls {
        let name = format!("厅{i:03}");
        let cred = central.hall(&name).await;
        work.push((name, cred, HallHistory::build(&days, per_day, u64::from(i))));
    }
    let total: u64 = work.iter().map(|(_, _, h)| h.last_seq()).sum();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (name, cred, h) in work {
        let central = central.clone();
        tasks.push(tokio::spawn(async move {
            let mut cursor = 0;
            let mut batches = 0;
            while cursor < h.last_seq() {
                batches += 1;
                assert!(batches < 1_000, "{name}: shipping does not progress");
                let batch = h.batch(cursor + 1, (cursor + 500).min(h.last_seq()));
                cursor = central.ship(&cred, &batch).await.stored_through();
            }
            (name, h.last_seq())
        }));
    }
    let mut shipped = Vec::new();
    for t in tasks {
        shipped.push(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{halls} halls shipping at once: {total} events in {secs:.2} s, {:.0} events/s",
        total as f64 / secs
    );
    for (name, n) in shipped {
        assert_eq!(
            central.store.event_count(&name).await.unwrap(),
            n as i64,
            "{name}"
        );
    }
}
