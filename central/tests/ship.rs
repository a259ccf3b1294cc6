//! Shipping against a real PostgreSQL: batches stored exactly once whatever is retried or
//! restarted, halls kept apart, credentials checked, gaps held at, and the league table equal to
//! the halls' own report on the same rows.

mod common;

use std::time::Duration;

use common::{Central, HallHistory, Pg};
use hallq_central::rollup::League;
use hallq_shared::config::HallConfig;
use hallq_shared::report::{Period, Report};
use serde_json::json;

const DAYS: [&str; 3] = ["2026-11-30", "2026-12-01", "2026-12-02"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sent_twice_is_stored_once() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("城东营业厅").await;
    let h = HallHistory::build(&DAYS[..1], 40, 1);
    let batch = h.batch(1, h.last_seq());
    assert_eq!(
        central.ship(&cred, &batch).await.stored_through(),
        h.last_seq()
    );
    assert_eq!(
        central.ship(&cred, &batch).await.stored_through(),
        h.last_seq()
    );
    assert_eq!(
        central.store.event_count("城东营业厅").await.unwrap(),
        h.last_seq() as i64
    );
    // The masked number stays in the hall.
    let input = central.store.halls_now().await.unwrap();
    assert_eq!(input[0].events_stored, h.last_seq() as i64);
    assert_eq!(input[0].stored_through, h.last_seq() as i64);
    let c = central.store.conn().await.unwrap();
    let masked: Vec<String> = c
        .query(
            "SELECT body->>'phone_masked' FROM events WHERE type = 'callback_captured'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!masked.is_empty());
    assert!(masked.iter().all(String::is_empty), "{masked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halls_cannot_touch_each_others_rows() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let a = central.hall("A厅").await;
    let b = central.hall("B厅").await;
    // The same seqs, days and ticket numbers, different histories.
    let ha = HallHistory::build(&DAYS[..1], 30, 1);
    let hb = HallHistory::build(&DAYS[..1], 20, 2);
    assert_eq!(
        central
            .ship(&a, &ha.batch(1, ha.last_seq()))
            .await
            .stored_through(),
        ha.last_seq()
    );
    assert_eq!(
        central
            .ship(&b, &hb.batch(1, hb.last_seq()))
            .await
            .stored_through(),
        hb.last_seq()
    );
    // B sending A's history again with its own credential only ever writes B's rows.
    central
        .ship(&b, &ha.batch(1, ha.last_seq()))
        .await
        .stored_through();
    let period = Period::day(DAYS[0].parse().unwrap());
    let ra = central.store.report_input("A厅", period).await.unwrap();
    let rb = central.store.report_input("B厅", period).await.unwrap();
    assert_eq!(ra.tickets.len(), 30);
    assert_eq!(
        central.store.event_count("A厅").await.unwrap(),
        ha.last_seq() as i64
    );
    // B's events are its own: what it held stays, and a different history under the same seqs
    // is stored after it (as for a hall restored from a backup); its tickets the last rows it sent.
    // (The two histories begin alike: the day's first events are the same ones, stored once.)
    let alike = ha
        .events
        .iter()
        .zip(&hb.events)
        .take_while(|(x, y)| x == y)
        .count();
    assert!(alike < hb.events.len());
    assert_eq!(
        central.store.event_count("B厅").await.unwrap(),
        (ha.last_seq() + hb.last_seq()) as i64 - alike as i64
    );
    assert_eq!(rb.tickets.len(), 30);
    let first_b: Vec<_> = rb.events.iter().map(|e| e.seq).collect();
    assert!(!first_b.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_revoked_and_missing_credentials_are_refused() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("城西营业厅").await;
    let h = HallHistory::build(&DAYS[..1], 5, 1);
    let batch = h.batch(1, 3);
    assert_eq!(central.ship(&cred, &batch).await.stored_through(), 3);
    assert_eq!(central.ship("not-a-credential", &batch).await.status, 401);
    let r = central
        .request(
            "POST",
            "/api/v1/ship",
            &[("Content-Type", "application/json")],
            batch.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    assert!(central.store.revoke_hall("城西营业厅").await.unwrap());
    let r = central.ship(&cred, &h.batch(1, h.last_seq())).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(central.store.event_count("城西营业厅").await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_batches_are_refused() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("北厅").await;
    for bad in [
        json!({"version": 2}),
        json!({"version": 1, "events": [{"seq": 0, "day": "2026-12-01", "at": 1, "actor": "x", "kind": {"type": "a"}}]}),
        json!({"version": 1, "events": [{"seq": 1, "day": "2026-12-01", "at": 1, "actor": "x", "kind": 5}]}),
        json!({"version": 1, "ratings": [{"day": "2026-12-01", "number": "A1", "score": 0, "at": 1}]}),
        json!({"version": 1, "tickets": [{"day": "2026-12-01", "number": "A1", "state": "lost"}]}),
        json!("nothing"),
    ] {
        let r = central.ship(&cred, &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"]["code"].is_string());
    }
    let huge = json!({"version": 1, "hub": "x".repeat(hallq_central::MAX_BATCH_BYTES + 1)});
    assert_eq!(central.ship(&cred, &huge).await.status, 413);
    // An empty batch is a heartbeat: the answer is where central stands.
    assert_eq!(
        central
            .ship(&cred, &json!({"version": 1}))
            .await
            .stored_through(),
        0
    );
    // PostgreSQL cannot keep U+0000: it is replaced rather than stopping the hall's shipping.
    let nul = json!({"version": 1, "events": [{"seq": 1, "day": "2026-12-01", "at": 1,
        "actor": "a\u{0}b", "kind": {"type": "day_started", "day": "2026-12-01", "x\u{0}": "\u{0}"}}]});
    assert_eq!(central.ship(&cred, &nul).await.stored_through(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_through_stops_at_a_gap() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("南厅").await;
    let h = HallHistory::build(&DAYS[..2], 20, 3);
    let n = h.last_seq();
    assert_eq!(
        central.ship(&cred, &h.batch(1, 10)).await.stored_through(),
        10
    );
    assert_eq!(
        central.ship(&cred, &h.batch(15, 30)).await.stored_through(),
        10
    );
    assert_eq!(
        central.ship(&cred, &h.batch(40, n)).await.stored_through(),
        10
    );
    assert_eq!(
        central.ship(&cred, &h.batch(11, 14)).await.stored_through(),
        30
    );
    assert_eq!(
        central.ship(&cred, &h.batch(31, 39)).await.stored_through(),
        n
    );
    assert_eq!(central.store.event_count("南厅").await.unwrap(), n as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_killed_mid_stream_stores_every_event_exactly_once() {
    let Some(pg) = Pg::start() else { return };
    let h = HallHistory::build(&DAYS, 60, 4);
    let n = h.last_seq();
    let cred;
    {
        let central = Central::start(&pg.url()).await;
        cred = central.hall("东厅").await;
        assert_eq!(
            central.ship(&cred, &h.batch(1, 100)).await.stored_through(),
            100
        );
        // A batch cut off half-way (the hub or the line died), then a batch in flight when
        // central is killed.
        let body = h.batch(101, 200).to_string();
        let head = format!(
            "POST /api/v1/ship HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cred}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let addr = central.addr;
        let half = body[..body.len() / 2].to_string();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(half.as_bytes()).unwrap();
        })
        .await
        .unwrap();
        let in_flight = {
            let c = &central;
            let b = h.batch(101, 250);
            let cred = cred.clone();
            async move { c.ship(&cred, &b).await }
        };
        // Whatever the race gives (stored or not), the database is left consistent.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(5), in_flight).await;
    } // central dropped: killed.
    let central = Central::start(&pg.url()).await;
    // The hub did not hear an answer: it sends again from its cursor, 100, in batches that overlap.
    let mut cursor = 100;
    let mut rounds = 0;
    while cursor < n {
        rounds += 1;
        assert!(rounds < 50, "shipping does not progress");
        let to = (cursor + 120).min(n);
        cursor = central
            .ship(&cred, &h.batch(cursor.saturating_sub(20) + 1, to))
            .await
            .stored_through();
    }
    assert_eq!(cursor, n);
    assert_eq!(central.store.event_count("东厅").await.unwrap(), n as i64);
    let now = central.store.halls_now().await.unwrap();
    assert_eq!(now[0].stored_through, n as i64);
    assert_eq!(now[0].events_stored, n as i64);
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_league_table_equals_the_halls_own_reports() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let mut halls = Vec::new();
    let mut clocks = std::collections::HashMap::new();
    // Each day's outage begins at 10:00 and is not ended that day; the first hall's first one
    // ends at 00:30 the next day.
    let ten_am = |d: &str| common::nine_am(d) + 3_600_000;
    let midnight = |d: &str| common::nine_am(d) - 9 * 3_600_000;
    for (i, name) in ["一厅", "二厅", "三厅"].iter().enumerate() {
        let cred = central.hall(name).await;
        let mut h = HallHistory::build(&DAYS, 50 + 10 * i as u32, 10 + i as u64);
        if i == 0 {
            let first_of_day2 = h.events.iter().position(|e| e["day"] == DAYS[1]).unwrap();
            h.insert(
                first_of_day2,
                json!({"day": DAYS[1], "at": midnight(DAYS[1]) + 1_800_000, "actor": "manager",
                       "counter": null, "kind": {"type": "outage_ended", "id": ten_am(DAYS[0])}}),
            );
        }
        // A callback captured on the second day, followed up on the third: it counts as
        // resolved in the second day.
        let seq = h.last_seq() + 1;
        h.events.push(json!({"seq": seq, "day": DAYS[2], "at": common::nine_am(DAYS[2]) + 9_000_000,
            "actor": "clerk1", "counter": null,
            "kind": {"type": "callback_updated", "id": 2, "status": "resolved", "owner": "clerk1", "note_added": false}}));
        // Shipped in small batches, so rollups are refreshed many times over.
        let mut cursor = 0;
        while cursor < h.last_seq() {
            cursor = central
                .ship(&cred, &h.batch(cursor + 1, (cursor + 37).min(h.last_seq())))
                .await
                .stored_through();
        }
        clocks.insert(name.to_string(), h.clock(h.last_seq()));
        halls.push(name.to_string());
    }
    // The current day's rollup waits for the refresh that `serve` runs once a minute.
    central.store.refresh_rollups(Duration::ZERO).await.unwrap();
    let config = HallConfig::demo();
    let week = Period::week(DAYS[0].parse().unwrap()).unwrap();
    for period in [
        week,
        Period::day(DAYS[1].parse().unwrap()),
        Period::month(DAYS[0].parse().unwrap()).unwrap(),
    ] {
        let (names, days) = central.store.league_days(period).await.unwrap();
        let league = League::build(period, &names, &days);
        assert_eq!(league.halls.len(), 3);
        for row in &league.halls {
            let mut input = central.store.report_input(&row.hall, period).await.unwrap();
            // Read as the hall would at its last batch: an outage going on counts to its clock.
            input.as_of = Some(clocks[&row.hall]);
            let r = Report::build(period, &config, &input);
            let t = &r.totals;
            assert_eq!(row.issued, t.issued, "{}", row.hall);
            assert_eq!(row.called, t.called);
            assert_eq!(row.served, t.served);
            assert_eq!(row.never_called, t.never_called);
            assert!(
                close(row.within_target, t.within_target),
                "{:?} {:?}",
                row.within_target,
                t.within_target
            );
            assert!(
                close(row.mean_wait_s, t.wait.mean_s),
                "{:?} {:?}",
                row.mean_wait_s,
                t.wait.mean_s
            );
            assert!(close(row.mean_service_s, t.service_time.mean_s));
            assert_eq!(row.rated, t.satisfaction.rated);
            assert!(close(row.satisfied_share, t.satisfaction.satisfied_share));
            assert!(close(row.mean_score, t.satisfaction.mean));
            assert_eq!(row.outages, r.incidents.outages);
            assert_eq!(row.outage_s, r.incidents.outage_total_s, "{}", row.hall);
            assert_eq!(row.outage_longest_s, r.incidents.outage_longest_s);
            assert_eq!(row.long_waits, r.incidents.long_waits);
            assert!((row.long_wait_s - r.incidents.long_wait_total_s).abs() < 1e-6);
            assert_eq!(row.callbacks_captured, r.callbacks.captured);
            assert_eq!(row.callbacks_resolved, r.callbacks.resolved);
            assert_eq!(row.business_days, r.business_days);
        }
        // Ranked by the share within the target.
        let shares: Vec<f64> = league
            .halls
            .iter()
            .map(|r| r.within_target.unwrap())
            .collect();
        assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
    }
    // The late follow-up of the second day's callback is in the second day's figures.
    let day2 = Period::day(DAYS[1].parse().unwrap());
    let (names, days) = central.store.league_days(day2).await.unwrap();
    let league = League::build(day2, &names, &days);
    assert!(
        league
            .halls
            .iter()
            .all(|r| r.callbacks_captured == 1 && r.callbacks_resolved == 1)
    );
    // The outage across midnight: 10:00 to midnight on the first day, midnight to 00:30 on the
    // second, beside the second day's own from 10:00 to midnight. The last day's goes on, and
    // counts up to the hall's clock at its last batch.
    let all_days = Period::new(DAYS[0].parse().unwrap(), DAYS[2].parse().unwrap());
    let (_, all) = central.store.league_days(all_days).await.unwrap();
    let outage = |hall: &str, day: &str| days_of(&all, hall, Period::day(day.parse().unwrap()));
    assert_eq!(outage("一厅", DAYS[0]), (14 * 3_600_000, 14 * 3_600_000));
    assert_eq!(
        outage("一厅", DAYS[1]),
        (1_800_000 + 14 * 3_600_000, 14 * 3_600_000)
    );
    assert_eq!(outage("二厅", DAYS[1]), (14 * 3_600_000, 14 * 3_600_000));
    let last = clocks["一厅"] - ten_am(DAYS[2]);
    assert!(last > 0 && last < 14 * 3_600_000, "{last}");
    assert_eq!(outage("一厅", DAYS[2]), (last, last));
}

/// A hall's outage milliseconds and longest outage on the days of `period`, from league lines.
fn days_of(
    days: &[(String, hallq_central::rollup::HallDay)],
    hall: &str,
    period: Period,
) -> (i64, i64) {
    days.iter()
        .filter(|(h, d)| h == hall && d.day.is_some_and(|d| period.contains(d)))
        .fold((0, 0), |(sum, longest), (_, d)| {
            (sum + d.outage_ms, longest.max(d.outage_longest_ms))
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_follow_the_halls_own_configuration() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("西厅").await;
    let mut config = HallConfig::demo();
    config.thresholds.target_wait_min = 10;
    // The hall's configuration, as its hub records it, before the day's tickets.
    let h = HallHistory::build(&DAYS[..1], 40, 5);
    let mut events = vec![
        json!({"seq": 1, "day": DAYS[0], "at": 0, "actor": "manager",
        "counter": null, "kind": {"type": "config_replaced", "config": config}}),
    ];
    for e in &h.events {
        let mut e = e.clone();
        e["seq"] = json!(e["seq"].as_u64().unwrap() + 1);
        events.push(e);
    }
    let mut batch = h.batch(1, h.last_seq());
    batch["events"] = json!(events);
    assert_eq!(
        central.ship(&cred, &batch).await.stored_through(),
        h.last_seq() + 1
    );
    assert_eq!(central.store.hall_config("西厅").await.unwrap(), config);
    central.store.refresh_rollups(Duration::ZERO).await.unwrap();

    let period = Period::day(DAYS[0].parse().unwrap());
    let (names, days) = central.store.league_days(period).await.unwrap();
    let row = &League::build(period, &names, &days).halls[0];
    assert_eq!(row.target_wait_min, 10);
    let input = central.store.report_input("西厅", period).await.unwrap();
    let own = Report::build(period, &config, &input);
    let demo = Report::build(period, &HallConfig::demo(), &input);
    assert!(close(row.within_target, own.totals.within_target));
    assert_ne!(own.totals.within_target, demo.totals.within_target);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_row_moves_forward_only() {
    let Some(pg) = Pg::start() else { return };
    let central = Central::start(&pg.url()).await;
    let cred = central.hall("中厅").await;
    let t0 = common::nine_am(DAYS[0]);
    let row = |state: &str,
               called: Option<i64>,
               started: Option<i64>,
               finished: Option<i64>,
               transfers: u32| {
        json!({"day": DAYS[0], "number": "A001", "service": "pay", "first_service": "account",
               "state": state, "counter": 1, "issued_at": t0, "first_called_at": t0 + 60_000,
               "called_at": called, "started_at": started, "finished_at": finished,
               "transfers": transfers, "estimated_wait_s": 60})
    };
    let serving = row("serving", Some(t0 + 60_000), Some(t0 + 70_000), None, 0);
    // A transfer sends the ticket back to the line and clears its start.
    let transferred = row("waiting", Some(t0 + 60_000), None, None, 1);
    let finished = row(
        "finished",
        Some(t0 + 200_000),
        Some(t0 + 210_000),
        Some(t0 + 400_000),
        1,
    );
    let state = || async {
        central
            .store
            .report_input("中厅", Period::day(DAYS[0].parse().unwrap()))
            .await
            .unwrap()
            .tickets[0]
            .state
    };
    use hallq_shared::hall::TicketState;
    for (rows, expected) in [
        (vec![serving.clone()], TicketState::Serving),
        (vec![transferred.clone()], TicketState::Waiting),
        // The serving row again, late: ignored.
        (vec![serving.clone()], TicketState::Waiting),
        (vec![finished.clone()], TicketState::Finished),
        (
            vec![transferred.clone(), serving.clone()],
            TicketState::Finished,
        ),
    ] {
        let batch = json!({"version": 1, "tickets": rows});
        central.ship(&cred, &batch).await.stored_through();
        assert_eq!(state().await, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_batches_of_one_hall_at_once_are_stored_once() {
    let Some(pg) = Pg::start() else { return };
    let central = std::sync::Arc::new(Central::start(&pg.url()).await);
    let cred = central.hall("双发厅").await;
    let h = std::sync::Arc::new(HallHistory::build(&DAYS[..2], 40, 9));
    let n = h.last_seq();
    // A hub restarted while its old process still had a batch on the wire: the same and
    // overlapping ranges arrive together, in any order.
    let mut tasks = Vec::new();
    for (from, to) in [(1, n / 2), (1, n / 2), (n / 4, n), (n / 2 + 1, n), (1, n)] {
        let (central, cred, h) = (central.clone(), cred.clone(), h.clone());
        tasks.push(tokio::spawn(async move {
            central
                .ship(&cred, &h.batch(from, to))
                .await
                .stored_through()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        central
            .ship(&cred, &serde_json::json!({"version": 1}))
            .await
            .stored_through(),
        n
    );
    assert_eq!(central.store.event_count("双发厅").await.unwrap(), n as i64);
    assert_eq!(
        central.store.halls_now().await.unwrap()[0].events_stored,
        n as i64
    );
}
