//! Many halls shipping at once into one central: every event of every hall stored exactly once,
//! and the rate printed. `HALLQ_CENTRAL_INGEST_HALLS` and `HALLQ_CENTRAL_INGEST_TICKETS` (per
//! hall and day) make it the ingest figure of BENCHMARKS.md; the defaults keep it a quick test.

mod common;

use std::time::{Duration, Instant};

use common::{Central, HallHistory, Pg};
use hallq_central::rollup::League;
use hallq_shared::report::Period;

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
    // The halls' current days were only marked: their rollups are part of the work.
    central.store.refresh_rollups(Duration::ZERO).await.unwrap();
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
    // What a year of history will take on disk (docs/central.md's plan): bytes per stored row,
    // indexes included.
    let c = central.store.conn().await.unwrap();
    for table in ["events", "tickets", "ratings", "hall_days"] {
        let r = c
            .query_one(
                &format!("SELECT pg_total_relation_size('{table}'), count(*) FROM {table}"),
                &[],
            )
            .await
            .unwrap();
        let (bytes, rows): (i64, i64) = (r.get(0), r.get(1));
        println!(
            "{table}: {rows} rows, {bytes} bytes with indexes, {:.0} bytes a row",
            bytes as f64 / rows.max(1) as f64
        );
    }
}

/// A hall shipping as a live hub does, a few events per commit into a day that already holds
/// most of its tickets. Into the hall's current day a batch only marks the day, and the refresh
/// (`serve`'s, about once a minute) recomputes it from the whole day's rows; into any other day
/// (late history, a backlog) a batch recomputes that day's rollup itself, so its cost follows the
/// day's size, not the batch's. Two halls with the same history, one of each: the per-batch
/// figures and the refresh's of docs/central.md's plan, and the two halls' rollups equal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_batches_into_a_busy_day() {
    let Some(pg) = Pg::start() else { return };
    let per_day = env_or("HALLQ_CENTRAL_INGEST_TICKETS", 60);
    let central = Central::start(&pg.url()).await;
    let h = HallHistory::build(&["2026-12-01"], per_day, 3);
    let live = 200.min(h.last_seq() / 2);
    // The hall's status on that day (its current day), or already on the next (the day is late
    // history, recomputed by each batch as every batch's day was before). That hall goes first,
    // so that the refresh timed at the end has the other's day to do.
    let status_day = |b: &mut serde_json::Value, late: bool| {
        if late {
            b["status"]["day"] = serde_json::json!("2026-12-02");
        }
    };
    for (hall, late) in [("城西营业厅", true), ("城东营业厅", false)] {
        let cred = central.hall(hall).await;
        let mut cursor = 0;
        while cursor < h.last_seq() - live {
            let mut b = h.batch(cursor + 1, (cursor + 500).min(h.last_seq() - live));
            status_day(&mut b, late);
            cursor = central.ship(&cred, &b).await.stored_through();
        }
        // Rolled up just now: `serve`'s refresh leaves the day alone for a minute.
        central.store.refresh_rollups(Duration::ZERO).await.unwrap();
        // Built before the clock starts: only central's work is timed.
        let mut small = Vec::new();
        while cursor < h.last_seq() {
            let to = (cursor + 4).min(h.last_seq());
            let mut b = h.live_batch(cursor + 1, to);
            status_day(&mut b, late);
            small.push(b);
            cursor = to;
        }
        let batches = small.len() as u32;
        let started = Instant::now();
        for b in &small {
            central.ship(&cred, b).await.stored_through();
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(batches);
        println!(
            "{hall}: {batches} batches of at most 4 events into a day of {per_day} tickets, \
             the day {}: {ms:.1} ms a batch",
            if late {
                "recomputed by each batch"
            } else {
                "marked for the refresh"
            }
        );
        assert_eq!(
            central.store.event_count(hall).await.unwrap(),
            h.last_seq() as i64
        );
    }
    let started = Instant::now();
    let refreshed = central.store.refresh_rollups(Duration::ZERO).await.unwrap();
    println!(
        "the refresh of the marked day: {:.1} ms ({refreshed} day)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let period = Period::day("2026-12-01".parse().unwrap());
    let (_, days) = central.store.league_days(period).await.unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(
        days[0].1, days[1].1,
        "marked and refreshed, or recomputed each time"
    );
    assert_eq!(days[0].1.issued, per_day);
}

/// A year's league table over 100 halls reads 36,500 rollup lines, whatever the tickets behind
/// them (about 4.5 million a month at 1,500 a hall a day): the figure of BENCHMARKS.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_years_league_table_reads_only_the_rollups() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    for i in 0..100 {
        central.hall(&format!("厅{i:03}")).await;
    }
    let c = central.store.conn().await.unwrap();
    c.batch_execute(
        "INSERT INTO hall_days (hall_id, day, target_wait_min, issued, called, served, no_shows,
             never_called, within_target, wait_count, wait_sum_ms, service_count, service_sum_ms,
             rated, satisfied, score_sum, outages, long_waits, long_wait_s, callbacks_captured,
             callbacks_resolved)
         SELECT h.id, d::date, 15, 1500, 1450, 1400, 50, 50, 1200 + (h.id % 200)::int, 1450,
                1450 * 400000::bigint, 1400, 1400 * 300000::bigint, 700, 600, 3000, 1, 2, 600.0,
                3, 2
         FROM halls h, generate_series('2026-01-01'::date, '2026-12-31'::date, '1 day') d;
         ANALYZE hall_days;",
    )
    .await
    .unwrap();
    drop(c);
    let year = Period::year("2026-06-01".parse().unwrap()).unwrap();
    let month = Period::month("2026-06-01".parse().unwrap()).unwrap();
    for (what, period) in [("year", year), ("month", month)] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let (names, days) = central.store.league_days(period).await.unwrap();
            let league = League::build(period, &names, &days);
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(league.halls.len(), 100);
            assert_eq!(
                league.halls[0].issued,
                1500 * period.days() as u32,
                "{what}"
            );
        }
        println!(
            "league table of a {what} over 100 halls: {:.1} ms",
            best * 1000.0
        );
        // What makes it fast: the plan reads the rollup lines of the period by day, never a
        // ticket or an event.
        let c = central.store.conn().await.unwrap();
        let plan: Vec<String> = c
            .query(
                &format!(
                    "EXPLAIN (ANALYZE, BUFFERS) {}",
                    hallq_central::Store::LEAGUE_DAYS_SQL
                ),
                &[&period.from, &period.to],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        println!("plan of the {what}:\n{}", plan.join("\n"));
        let plan = plan.join("\n");
        assert!(
            !plan.contains("tickets") && !plan.contains("events"),
            "{plan}"
        );
        assert!(plan.contains("hall_days"), "{plan}");
    }
}
