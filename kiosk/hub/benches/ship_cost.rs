//! What shipping to central costs a hall: the hub's ticket latency with and without shipping,
//! measured on the real binary (`hallq-hub serve` on 127.0.0.1) in alternating rounds, so that a
//! noisy machine hits both alike.
//!
//! Central is a receiver in this program that answers each batch at once (`stored_through` the
//! batch's last seq), so that what is measured is the hub's own work (the shipping task's reads
//! of the database beside the writer, building and sending the batches), not central's or the
//! network's. Two loads: a hall's pace (one kiosk, a ticket every 20 ms) and a burst (16 kiosks
//! issuing as fast as they are answered). Every round starts from a copy of the same demo hall.
//!
//! `cargo bench -p hallq-hub --bench ship_cost` (the `release` build; `HALLQ_BIN` may name the
//! `hub` profile's binary). Every loop is bounded in count and time.

#[path = "../tests/common/net.rs"]
mod net;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use net::{Http, login};
use serde_json::{Value, json};
use support::{bin, pct, spawn};

const PASSWORD: &str = "bench-password";
const CREDENTIAL: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ROUNDS: usize = 3;
const PACED: usize = 500;
const PACE: Duration = Duration::from_millis(20);
const BURST_CLIENTS: usize = 16;
const BURST_EACH: usize = 150;

/// What the receiver got.
#[derive(Default)]
struct Received {
    batches: AtomicU64,
    events: AtomicU64,
    through: AtomicU64,
}

async fn ship(State(r): State<Arc<Received>>, Json(batch): Json<Value>) -> Json<Value> {
    let events = batch["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    r.batches.fetch_add(1, Ordering::Relaxed);
    r.events.fetch_add(events.len() as u64, Ordering::Relaxed);
    if let Some(last) = events.last().and_then(|e| e["seq"].as_u64()) {
        r.through.fetch_max(last, Ordering::Relaxed);
    }
    Json(json!({ "stored_through": r.through.load(Ordering::Relaxed) }))
}

async fn receiver() -> (String, Arc<Received>) {
    let r = Arc::new(Received::default());
    let app = axum::Router::new()
        .route("/api/v1/ship", axum::routing::post(ship))
        .layer(DefaultBodyLimit::max(8 << 20))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), r)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

async fn issue(h: &mut Http, token: &str, i: usize) -> f64 {
    let services = ["pay", "account", "repair", "stb", "consult", "complaint"];
    let body = format!(r#"{{"service":"{}"}}"#, services[i % services.len()]);
    let t = Instant::now();
    let (st, b) = h
        .request("POST", "/api/v1/tickets", Some(token), Some(&body))
        .await
        .unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(st, 201, "{b}");
    ms
}

/// One round on a fresh copy of the demo hall: (paced latencies, burst latencies), in ms.
async fn round(
    template: &Path,
    scratch: &Path,
    central: Option<&(String, Arc<Received>)>,
) -> (Vec<f64>, Vec<f64>) {
    let _ = std::fs::remove_dir_all(scratch);
    copy_dir(template, scratch);
    let key = scratch.join("central.key");
    std::fs::write(&key, CREDENTIAL).unwrap();
    let mut args = vec!["serve".to_string()];
    if let Some((url, _)) = central {
        args.extend([
            "--central-url".to_string(),
            url.clone(),
            "--central-credential-file".to_string(),
            key.display().to_string(),
            // Every commit shipped as it comes: the most a hub can spend on shipping (by default
            // it waits 5 s for more and ships fewer, larger batches).
            "--central-gather-ms".to_string(),
            "0".to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (hub, _) = spawn(&args, scratch).await;
    let addr = hub.addr;
    let token = Arc::new(login(addr, "manager", PASSWORD, None).await.unwrap());

    let mut h = Http::connect(addr).await.unwrap();
    let mut paced = Vec::with_capacity(PACED);
    let mut next = Instant::now();
    for i in 0..PACED {
        tokio::time::sleep_until(next.into()).await;
        next += PACE;
        paced.push(issue(&mut h, &token, i).await);
    }

    let mut tasks = Vec::new();
    for c in 0..BURST_CLIENTS {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Http::connect(addr).await.unwrap();
            let mut lat = Vec::with_capacity(BURST_EACH);
            for i in 0..BURST_EACH {
                lat.push(issue(&mut h, &token, c + i).await);
            }
            lat
        }));
    }
    let mut burst = Vec::new();
    for t in tasks {
        burst.extend(t.await.unwrap());
    }
    if let Some((_, r)) = central {
        // Every event reached the receiver before the hub is stopped (bounded).
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut h = Http::connect(addr).await.unwrap();
        loop {
            let (_, b) = h
                .request("GET", "/api/v1/central", Some(&token), None)
                .await
                .unwrap();
            let b: Value = serde_json::from_str(&b).unwrap_or_default();
            if b["central"]["behind"] == 0 && r.through.load(Ordering::Relaxed) > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "shipping did not catch up: {b}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(hub);
    paced.sort_by(f64::total_cmp);
    burst.sort_by(f64::total_cmp);
    (paced, burst)
}

fn line(what: &str, v: &[f64]) -> String {
    format!(
        "{what}: p50 {:.3} ms, p90 {:.3}, p99 {:.3}, max {:.3} ({} tickets)",
        pct(v, 0.5),
        pct(v, 0.9),
        pct(v, 0.99),
        v.last().copied().unwrap_or(f64::NAN),
        v.len()
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
    println!("ship_cost: hub binary {}", bin());
    // The demo hall (open all day, its accounts), made once and copied for every round.
    let template = tmp.path().join("template");
    {
        let _demo = spawn(&["demo", "--password", PASSWORD], &template).await;
    }
    let central = receiver().await;
    let scratch = tmp.path().join("round");
    let (mut paced, mut burst) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for r in 0..ROUNDS {
        for with in [false, true] {
            // Alternate which goes first, so neither always runs on a warmer machine.
            let with = with ^ (r % 2 == 1);
            let i = usize::from(with);
            // Each round's hall numbers its events from the template's on.
            central.1.through.store(0, Ordering::Relaxed);
            let (p, b) = round(&template, &scratch, with.then_some(&central)).await;
            println!(
                "round {r} {}: paced p50 {:.3} p99 {:.3}, burst p50 {:.3} p99 {:.3} ms",
                if with { "shipping" } else { "alone" },
                pct(&p, 0.5),
                pct(&p, 0.99),
                pct(&b, 0.5),
                pct(&b, 0.99)
            );
            paced[i].extend(p);
            burst[i].extend(b);
        }
    }
    for v in paced.iter_mut().chain(burst.iter_mut()) {
        v.sort_by(f64::total_cmp);
    }
    println!("{}", line("paced, alone   ", &paced[0]));
    println!("{}", line("paced, shipping", &paced[1]));
    println!("{}", line("burst, alone   ", &burst[0]));
    println!("{}", line("burst, shipping", &burst[1]));
    let r = &central.1;
    println!(
        "received: {} events in {} batches ({:.1} a batch)",
        r.events.load(Ordering::Relaxed),
        r.batches.load(Ordering::Relaxed),
        r.events.load(Ordering::Relaxed) as f64 / r.batches.load(Ordering::Relaxed).max(1) as f64
    );
}
