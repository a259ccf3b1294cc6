//! Load benchmark of the hall hub, run against the real binary (`hallq-hub demo` on 127.0.0.1,
//! port 0, a temporary data dir):
//!
//! 1. durable ticket issues per second over HTTP with 16 concurrent keep-alive clients, p50/p99;
//! 2. with 500 WebSocket clients connected, the delay from a call's HTTP response to each client
//!    receiving the `called` event, p50/p99/max;
//! 3. start-up time (process start to the first successful `/health`) and resident memory (VmRSS)
//!    idle and with 500 clients;
//! 4. on a fresh hub, 300 phones following their tickets as `/t/{number}` does (the event stream,
//!    and a `GET /api/v1/tickets/{number}` on every update): the delay from a call's HTTP response
//!    to each phone holding its ticket's new status, and the hub's memory with them.
//!
//! `cargo bench -p hallq-hub --bench hub_load` measures the `release` build. The hub's package is
//! built with the smaller `hub` profile (Cargo.toml); to measure that binary, as `BENCHMARKS.md`
//! does: `cargo build --profile hub -p hallq-hub` then
//! `HALLQ_BIN=target/hub/hallq-hub cargo bench -p hallq-hub --bench hub_load`.
//! Every loop is bounded in count and time.

#[path = "../tests/common/net.rs"]
mod net;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use net::{Http, login};
use support::{bin, pct, spawn};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "bench-password";
const CLIENTS: usize = 16;
const ISSUES_PER_CLIENT: usize = 250;
const WS_CLIENTS: usize = 500;
const CALLS: usize = 40;
const PHONES: usize = 300;
const PHONE_CALLS: usize = 30;

/// `VmRSS` with its split: anonymous memory (the hub's own heap and stacks) and file pages (the
/// executable's code and data as mapped, shared with any other process running the same binary).
fn rss_kb(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    };
    format!(
        "{} (anonymous {} kB, file {} kB)",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:")
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    let tmp = tempfile::tempdir().unwrap();
    println!("hub_load: hub binary {}", bin());

    // (3a) Start-up on a fresh data dir and on an existing one.
    let fresh = tmp.path().join("startup");
    let mut startups = Vec::new();
    for i in 0..5 {
        let (hub, t) = spawn(&["serve"], &fresh).await;
        startups.push(t.as_secs_f64() * 1000.0);
        if i == 4 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            println!(
                "idle RSS (serve, demo hall, no clients): {} kB",
                rss_kb(hub.child.id())
            );
        }
    }
    println!(
        "start-up to first /health: first (new database) {:.1} ms, restarts {:?} ms",
        startups[0],
        startups[1..]
            .iter()
            .map(|t| format!("{t:.1}"))
            .collect::<Vec<_>>()
    );

    // The measured hub: the demo hall (open all day), its accounts and devices.
    let data = tmp.path().join("load");
    let (hub, _) = spawn(&["demo", "--password", PASSWORD], &data).await;
    let addr = hub.addr;
    let pid = hub.child.id();
    println!("idle RSS (demo): {} kB", rss_kb(pid));
    let token = Arc::new(login(addr, "manager", PASSWORD, None).await.unwrap());

    // (1) Durable ticket issues, 16 clients.
    let services = ["pay", "account", "repair", "stb", "consult", "complaint"];
    let run = |n: usize| {
        let token = token.clone();
        async move {
            let mut tasks = Vec::new();
            for c in 0..CLIENTS {
                let token = token.clone();
                tasks.push(tokio::spawn(async move {
                    let mut h = Http::connect(addr).await.unwrap();
                    let mut lat = Vec::with_capacity(n);
                    for i in 0..n {
                        let body =
                            format!(r#"{{"service":"{}"}}"#, services[(c + i) % services.len()]);
                        let t = Instant::now();
                        let (st, b) = h
                            .request("POST", "/api/v1/tickets", Some(&token), Some(&body))
                            .await
                            .unwrap();
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        assert_eq!(st, 201, "{b}");
                    }
                    lat
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all
        }
    };
    run(20).await; // warm-up
    let t = Instant::now();
    let mut lat = run(ISSUES_PER_CLIENT).await;
    let secs = t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "(1) {} durable ticket issues, {CLIENTS} clients: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        lat.len() as f64 / secs,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(0.0)
    );

    println!(
        "RSS after the issues (4,000 more tickets in the day): {} kB",
        rss_kb(pid)
    );

    // (2) 500 WebSocket clients; delay from a call's HTTP response to each client's event.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let mut ready = Vec::new();
    for _ in 0..WS_CLIENTS {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
            .await
            .unwrap();
        let (mut sink, mut stream) = ws.split();
        let tx = tx.clone();
        let (rtx, rrx) = tokio::sync::oneshot::channel::<()>();
        ready.push(rrx);
        tokio::spawn(async move {
            let mut rtx = Some(rtx);
            let _keep = &mut sink;
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(120), stream.next()).await
            {
                if let Message::Text(t) = m {
                    let at = Instant::now();
                    if let Some(r) = rtx.take() {
                        let _ = r.send(());
                    }
                    // Cheap scan: only updates carrying a call matter here.
                    if let Some(i) = t.find(r#""kind":"called""#) {
                        let rest = &t[i..];
                        if let Some(n) = rest.find(r#""number":""#) {
                            let num: String =
                                rest[n + 10..].chars().take_while(|c| *c != '"').collect();
                            let _ = tx.send((num, at));
                        }
                    }
                }
            }
        });
    }
    for r in ready {
        let _ = r.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "RSS with {WS_CLIENTS} event-stream clients: {} kB",
        rss_kb(pid)
    );
    let mut h = Http::connect(addr).await.unwrap();
    let (delays, missing) = calls_heard(
        &mut h,
        &token,
        &mut rx,
        CALLS,
        WS_CLIENTS,
        Duration::from_secs(5),
        Duration::from_millis(20),
    )
    .await;
    println!(
        "(2) {CALLS} calls × {WS_CLIENTS} clients = {} deliveries ({missing} missing): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms after the HTTP response",
        delays.len(),
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        delays.last().copied().unwrap_or(0.0)
    );
    println!("RSS after the run: {} kB", rss_kb(pid));
    drop(hub);
    phones(&tmp.path().join("phones")).await;
}

/// Step (4): `PHONES` phones follow their own tickets; the clerk calls `PHONE_CALLS` of them.
async fn phones(data: &Path) {
    let (hub, _) = spawn(&["demo", "--password", PASSWORD], data).await;
    let addr = hub.addr;
    let pid = hub.child.id();
    let token = login(addr, "manager", PASSWORD, None).await.unwrap();
    let mut h = Http::connect(addr).await.unwrap();
    // Empty the demo's line at counter 1 first, so that every call below is one of ours.
    while let Ok((200, _)) = h
        .request("POST", "/api/v1/counters/1/next", Some(&token), None)
        .await
    {}
    let mut numbers = Vec::new();
    for _ in 0..PHONES + PHONE_CALLS {
        let (st, b) = h
            .request(
                "POST",
                "/api/v1/tickets",
                Some(&token),
                Some(r#"{"service":"pay"}"#),
            )
            .await
            .unwrap();
        assert_eq!(st, 201, "{b}");
        numbers.push(
            serde_json::from_str::<serde_json::Value>(&b).unwrap()["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let before = rss_kb(pid);
    // Each phone: its own event stream and keep-alive connection; after every update it reads
    // its ticket and reports (the call it has seen, when its read came back).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let mut ready = Vec::new();
    for number in numbers.into_iter().skip(PHONE_CALLS).take(PHONES) {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
            .await
            .unwrap();
        let (mut sink, mut stream) = ws.split();
        let mut http = Http::connect(addr).await.unwrap();
        let tx = tx.clone();
        let (rtx, rrx) = tokio::sync::oneshot::channel::<()>();
        ready.push(rrx);
        tokio::spawn(async move {
            let mut rtx = Some(rtx);
            let _keep = &mut sink;
            let path = format!("/api/v1/tickets/{number}");
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(120), stream.next()).await
            {
                let Message::Text(t) = m else { continue };
                if let Some(r) = rtx.take() {
                    let _ = r.send(());
                    continue;
                }
                let called = t.find(r#""kind":"called""#).and_then(|i| {
                    let rest = &t[i..];
                    rest.find(r#""number":""#).map(|n| {
                        rest[n + 10..]
                            .chars()
                            .take_while(|c| *c != '"')
                            .collect::<String>()
                    })
                });
                let Ok((200, _)) = http.request("GET", &path, None, None).await else {
                    break;
                };
                if let Some(c) = called {
                    let _ = tx.send((c, Instant::now()));
                }
            }
        });
    }
    for r in ready {
        let _ = r.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with = rss_kb(pid);
    let (delays, missing) = calls_heard(
        &mut h,
        &token,
        &mut rx,
        PHONE_CALLS,
        PHONES,
        Duration::from_secs(10),
        Duration::from_millis(50),
    )
    .await;
    println!(
        "(4) {PHONE_CALLS} calls × {PHONES} phones = {} status reads after the update ({missing} missing): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms after the call's HTTP response",
        delays.len(),
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        delays.last().copied().unwrap_or(0.0)
    );
    println!("RSS before the phones: {before} kB; with {PHONES} phones following: {with} kB");
    drop(hub);
}

/// Call the next ticket at counter 1 `calls` times, `pause` apart; after each, wait up to `wait`
/// for `clients` reports of that number on `rx`. The delays from each call's HTTP response (ms,
/// sorted) and how many reports never came.
async fn calls_heard(
    h: &mut Http,
    token: &str,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    calls: usize,
    clients: usize,
    wait: Duration,
    pause: Duration,
) -> (Vec<f64>, usize) {
    let mut delays = Vec::new();
    let mut missing = 0usize;
    for _ in 0..calls {
        let (st, b) = h
            .request("POST", "/api/v1/counters/1/next", Some(token), None)
            .await
            .unwrap();
        let responded = Instant::now();
        assert_eq!(st, 200, "{b}");
        let number = serde_json::from_str::<serde_json::Value>(&b).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_string();
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + wait;
        while got < clients {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((n, at))) if n == number => {
                    got += 1;
                    delays.push(at.saturating_duration_since(responded).as_secs_f64() * 1000.0);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missing += clients - got;
        tokio::time::sleep(pause).await;
    }
    delays.sort_by(f64::total_cmp);
    (delays, missing)
}
