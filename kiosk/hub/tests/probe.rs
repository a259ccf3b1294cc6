//! The outage detector against real sockets on 127.0.0.1: what counts as the business system
//! answering, and the hall going into outage mode (or the manager being told) after repeated failures.

mod common;

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
    assert_eq!(
        probe_once(&format!("tcp://127.0.0.1:{open_port}")).await,
        Ok(())
    );
    let closed = closed_port().await;
    assert!(
        probe_once(&format!("tcp://127.0.0.1:{closed}"))
            .await
            .is_err()
    );

    let ok = http_server("200 OK").await;
    assert_eq!(
        probe_once(&format!("http://127.0.0.1:{ok}/health")).await,
        Ok(())
    );
    let not_found = http_server("404 Not Found").await;
    assert_eq!(
        probe_once(&format!("http://127.0.0.1:{not_found}")).await,
        Ok(()),
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
    });
    c
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
async fn a_bad_probe_address_is_refused_with_a_clear_message() {
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
    config["probe"] = serde_json::json!({"address": "tcp://10.0.0.5:8080", "every_s": 20});
    let (st, b) = f
        .call("PUT", "/api/v1/config", Some(&f.manager), Some(config))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["probe"]["failures"], 3, "defaults filled in");
    assert_eq!(b["probe"]["action"], "propose");
}
