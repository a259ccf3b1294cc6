//! The outage detector against real sockets on 127.0.0.1: what counts as the business system
//! answering, the hall going into outage mode (or the manager being told) after repeated failures,
//! and the business system marked slow (or the manager told) after repeated slow answers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use common::Fixture;
use hallq_hub::probe::{self, probe_once};
use hallq_shared::config::{HallConfig, ProbeAction, ProbeSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// A tiny HTTP server answering every request with `status`.
async fn http_server(status: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                .await;
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_tells_an_answering_system_from_a_silent_or_failing_one() {
    let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    assert!(
        probe_once(&format!("tcp://127.0.0.1:{open_port}"))
            .await
            .is_ok()
    );
    let closed = closed_port().await;
    assert!(
        probe_once(&format!("tcp://127.0.0.1:{closed}"))
            .await
            .is_err()
    );

    let ok = http_server("200 OK").await;
    assert!(
        probe_once(&format!("http://127.0.0.1:{ok}/health"))
            .await
            .is_ok()
    );
    let not_found = http_server("404 Not Found").await;
    assert!(
        probe_once(&format!("http://127.0.0.1:{not_found}"))
            .await
            .is_ok(),
        "any answer below 500 means the system is up"
    );
    let failing = http_server("503 Service Unavailable").await;
    let e = probe_once(&format!("http://127.0.0.1:{failing}/"))
        .await
        .unwrap_err();
    assert!(e.contains("503"), "{e}");
    assert!(
        probe_once(&format!("http://127.0.0.1:{closed}/"))
            .await
            .is_err()
    );
    assert!(probe_once("ftp://127.0.0.1:21").await.is_err());
}

fn with_probe(address: String, action: ProbeAction) -> HallConfig {
    let mut c = HallConfig::demo();
    c.probe = Some(ProbeSettings {
        address,
        every_s: 1,
        failures: 2,
        action,
        expected_minutes: 45,
        slow_ms: None,
    });
    c
}

/// An HTTP server answering 200 after the delay (milliseconds) `delay` holds at the time.
async fn http_server_with_delay(delay: Arc<AtomicU64>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let delay = delay.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let ms = delay.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    port
}

/// Polls `ready` every 100 ms for at most `secs` seconds.
async fn within(secs: u64, mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 10 {
        if ready() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ready()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_mark_the_system_slow_and_quick_ones_end_what_the_detector_marked() {
    let delay = Arc::new(AtomicU64::new(0));
    let port = http_server_with_delay(delay.clone()).await;
    let mut config = with_probe(
        format!("http://127.0.0.1:{port}/health"),
        ProbeAction::Start,
    );
    config.probe.as_mut().unwrap().slow_ms = Some(400);
    let f = Fixture::with(config, 256).await;
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    assert!(
        within(10, || probe::status(&f.hub).answer_ms.is_some()).await,
        "a first answer"
    );
    assert!(f.hub.snapshot().live.slow_since.is_none());

    // The business system slows down: two slow answers in a row mark it slow.
    delay.store(700, Ordering::SeqCst);
    assert!(
        within(15, || f.hub.snapshot().live.slow_since.is_some()).await,
        "marked slow within 15 s: {:?}",
        probe::status(&f.hub)
    );
    let s = probe::status(&f.hub);
    assert!(s.started_slow && s.slow_answers >= 2, "{s:?}");
    assert!(
        s.answer_ms.unwrap() >= 400 && s.slow_limit_ms == Some(400),
        "{s:?}"
    );
    assert!(
        f.hub.snapshot().live.outage.is_none(),
        "slow is not down: no outage"
    );
    assert!(probe::slowness_is_ours(&f.hub).await);
    let (st, body) = f
        .call("GET", "/api/v1/outage/probe", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["started_slow"], true, "{body}");

    // Quick again: four quick answers in a row (twice the threshold) end it.
    delay.store(0, Ordering::SeqCst);
    assert!(
        within(20, || f.hub.snapshot().live.slow_since.is_none()).await,
        "back to usual within 20 s: {:?}",
        probe::status(&f.hub)
    );
    assert!(!probe::status(&f.hub).started_slow);

    // A slowness staff mark is theirs to end: quick answers leave it.
    let (st, _) = f
        .call("POST", "/api/v1/slow-system", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(!probe::slowness_is_ours(&f.hub).await);
    // ...but after as many quick answers as would end its own, ending it is proposed to staff.
    assert!(
        within(15, || probe::status(&f.hub).slow_end_proposed).await,
        "{:?}",
        probe::status(&f.hub)
    );
    let (st, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(alerts["slow_end_proposed"], true, "{alerts}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        f.hub.snapshot().live.slow_since.is_some(),
        "proposed, not ended: {:?}",
        probe::status(&f.hub)
    );
    // A slow answer withdraws the proposal.
    delay.store(700, Ordering::SeqCst);
    assert!(
        within(10, || !probe::status(&f.hub).slow_end_proposed).await,
        "{:?}",
        probe::status(&f.hub)
    );
    let (_, alerts) = f.call("GET", "/api/v1/alerts", Some(&f.clerk1), None).await;
    assert_eq!(alerts["slow_end_proposed"], false, "{alerts}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_slow_answers_are_only_proposed_and_a_restart_keeps_whose_slowness_it_is() {
    let delay = Arc::new(AtomicU64::new(600));
    let port = http_server_with_delay(delay.clone()).await;
    let mut config = with_probe(format!("http://127.0.0.1:{port}/"), ProbeAction::Propose);
    config.probe.as_mut().unwrap().slow_ms = Some(300);
    let f = Fixture::with(config, 256).await;
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    assert!(
        within(15, || probe::status(&f.hub).slow_proposed).await,
        "proposed within 15 s: {:?}",
        probe::status(&f.hub)
    );
    assert!(
        f.hub.snapshot().live.slow_since.is_none(),
        "not marked by itself"
    );
    // A quick answer withdraws the proposal.
    delay.store(0, Ordering::SeqCst);
    assert!(
        within(10, || !probe::status(&f.hub).slow_proposed).await,
        "{:?}",
        probe::status(&f.hub)
    );
    task.abort();

    // What the detector marked stays its own after a restart, and so is still ended by it.
    f.hub
        .exec(
            hallq_shared::engine::Command::SetSlowSystem { slow: true },
            hallq_shared::engine::Actor::new(
                "outage-detector",
                hallq_shared::protocol::Role::Manager,
                None,
            ),
        )
        .await
        .unwrap();
    let f = f.restart().await;
    assert!(f.hub.snapshot().live.slow_since.is_some());
    assert!(probe::slowness_is_ours(&f.hub).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_usual_answer_is_kept_so_a_restarted_hub_still_ends_the_slowness_it_marked() {
    let delay = Arc::new(AtomicU64::new(0));
    let port = http_server_with_delay(delay.clone()).await;
    // No slow_ms: what is slow comes only from the usual answer the detector has learnt.
    let config = with_probe(format!("http://127.0.0.1:{port}/"), ProbeAction::Start);
    let f = Fixture::with(config, 256).await;
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    assert!(
        within(15, || probe::status(&f.hub).usual_ms.is_some()).await,
        "the usual answer learnt: {:?}",
        probe::status(&f.hub)
    );
    // Slow: at least a second, four times the usual.
    delay.store(1_300, Ordering::SeqCst);
    assert!(
        within(20, || f.hub.snapshot().live.slow_since.is_some()).await,
        "marked slow: {:?}",
        probe::status(&f.hub)
    );
    task.abort();

    // The hub restarts while its mark is on; the business system is quick again.
    let f = f.restart().await;
    delay.store(0, Ordering::SeqCst);
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    assert!(
        within(20, || f.hub.snapshot().live.slow_since.is_none()).await,
        "the restarted detector ends its own mark: {:?}",
        probe::status(&f.hub)
    );
    let s = probe::status(&f.hub);
    assert!(s.usual_ms.is_some() && !s.started_slow, "{s:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_start_the_outage_mode_when_so_configured() {
    let port = closed_port().await;
    let f = Fixture::with(
        with_probe(format!("tcp://127.0.0.1:{port}"), ProbeAction::Start),
        256,
    )
    .await;
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    let mut outage = None;
    for _ in 0..100 {
        outage = f.hub.snapshot().live.outage;
        if outage.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    task.abort();
    let outage = outage.expect("the outage mode within 10 s");
    assert!(outage.message.is_some());
    let s = probe::status(&f.hub);
    assert!(s.started_outage && s.failures >= 2, "{s:?}");
    let (st, body) = f
        .call("GET", "/api/v1/outage/probe", Some(&f.manager), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["started_outage"], true);
    assert_eq!(body["threshold"], 2);
    let (st, _) = f
        .call("GET", "/api/v1/outage/probe", Some(&f.clerk1), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_the_detector_only_proposes_and_forgets_after_a_good_probe() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let f = Fixture::with(
        with_probe(format!("tcp://127.0.0.1:{port}"), ProbeAction::Propose),
        256,
    )
    .await;
    let task = tokio::spawn(probe::probe_loop(f.hub.clone()));
    let mut proposed = false;
    for _ in 0..100 {
        proposed = probe::status(&f.hub).proposed;
        if proposed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        proposed,
        "proposed within 10 s: {:?}",
        probe::status(&f.hub)
    );
    assert!(
        f.hub.snapshot().live.outage.is_none(),
        "not started by itself"
    );

    // The system answers again: the proposal is withdrawn.
    let back = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let mut withdrawn = false;
    for _ in 0..100 {
        let s = probe::status(&f.hub);
        if !s.proposed && s.failures == 0 {
            withdrawn = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    task.abort();
    drop(back);
    assert!(withdrawn, "{:?}", probe::status(&f.hub));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_probe_address_or_slow_limit_is_refused_with_a_clear_message() {
    let f = Fixture::new().await;
    let (_, mut config) = f
        .call("GET", "/api/v1/config", Some(&f.manager), None)
        .await;
    config["probe"] = serde_json::json!({"address": "bss.local:8080"});
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(config.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("探测地址"),
        "{b}"
    );
    // A probe gives up after 5 s: a slower answer could never count as slow.
    config["probe"] = serde_json::json!({"address": "tcp://10.0.0.5:8080", "slow_ms": 5000});
    let (st, b) = f
        .call(
            "PUT",
            "/api/v1/config",
            Some(&f.manager),
            Some(config.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["error"]["message_zh"].to_string().contains("slow_ms"),
        "{b}"
    );
    config["probe"] =
        serde_json::json!({"address": "tcp://10.0.0.5:8080", "every_s": 20, "slow_ms": 1500});
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(config))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["probe"]["failures"], 3, "defaults filled in");
    assert_eq!(b["probe"]["action"], "propose");
    assert_eq!(b["probe"]["slow_ms"], 1500);
}
