//! The speed of a call, against a reference: a lone clerk calls the next ticket on an otherwise
//! idle hub with one board connected, and the bench measures the call request alone and the time
//! from sending the call to the board receiving it.
//!
//! In the same run, alternating with the hub round by round so that a noisy machine hits both
//! alike, it measures a minimal in-memory server of the same shape (axum, a bearer token checked,
//! a call numbered under a mutex, one JSON frame broadcast to each WebSocket, nothing on disk),
//! started as a second process of this same program. The hub keeps every call durable (synced to
//! disk before the answer); the reference keeps nothing.
//!
//! It also measures floors that split the hub's time: `GET /health` (HTTP on loopback),
//! `GET /me` with a token (authentication), and a refused call (the hand-off to the writer and
//! back without a commit). The hub writes where each batch's time went on the writer thread
//! (`HALLQ_WRITER_TIMING`), printed as medians and 99th percentiles per step, and the bench times
//! one synced 4 KiB write in the same directory, the floor of any durable commit on this disk.
//!
//! With `HALLQ_CALL_PATH_MIX=1` it measures the hall's busy mix instead: 16 kiosks issuing, 8
//! clerks calling (two on each of the demo hall's four counters), 50 boards connected; every call's
//! time to each board, and whether every board saw every call once and in `seq` order.
//!
//! `cargo bench -p hallq-hub --bench call_path` (the `release` build; `HALLQ_BIN` may name the
//! `hub` profile's binary, as in `hub_load`). Every loop is bounded in count and time.

#[path = "../tests/common/net.rs"]
mod net;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use net::{Http, login};
use support::{Server, bin, free_port, pct, wait_healthy};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "bench-password";
/// Calls per round, one every `GAP`.
const CALLS: usize = 300;
const GAP: Duration = Duration::from_millis(10);
const ROUNDS: usize = 3;
/// Set in the second process: serve the reference on this address until killed.
const REFERENCE_ENV: &str = "HALLQ_CALL_PATH_REFERENCE";

async fn spawn_hub(dir: &Path) -> Server {
    let addr = free_port();
    let child = Command::new(bin())
        .args(["demo", "--password", PASSWORD, "--listen"])
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .env("MALLOC_ARENA_MAX", "1")
        .env("HALLQ_WRITER_TIMING", timing_file(dir))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hallq-hub");
    wait_healthy(addr).await;
    Server { child, addr }
}

fn timing_file(dir: &Path) -> std::path::PathBuf {
    dir.with_extension("timing")
}

/// The writer's per-batch lines written since `skip` lines, as step → sorted µs.
fn writer_steps(dir: &Path, skip: usize) -> Vec<(String, Vec<f64>)> {
    let text = std::fs::read_to_string(timing_file(dir)).unwrap_or_default();
    let mut steps: Vec<(String, Vec<f64>)> = Vec::new();
    for line in text.lines().skip(skip) {
        for pair in line.split_whitespace() {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<f64>() else { continue };
            match steps.iter_mut().find(|(name, _)| name == k) {
                Some((_, vs)) => vs.push(v),
                None => steps.push((k.to_string(), vec![v])),
            }
        }
    }
    for (_, vs) in &mut steps {
        vs.sort_by(f64::total_cmp);
    }
    steps
}

fn timing_lines(dir: &Path) -> usize {
    std::fs::read_to_string(timing_file(dir))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// One 4 KiB write and `fdatasync`, as a commit of one page does, in `dir`: (p50, p99, max) ms.
fn synced_write(dir: &Path) -> (f64, f64, f64) {
    use std::io::{Seek, Write};
    let mut f = std::fs::File::create(dir.join("sync-probe")).unwrap();
    let page = [7u8; 4096];
    let mut t = Vec::new();
    for i in 0..CALLS {
        f.seek(std::io::SeekFrom::Start((i % 16) as u64 * 4096))
            .unwrap();
        let at = Instant::now();
        f.write_all(&page).unwrap();
        f.sync_data().unwrap();
        t.push(at.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(GAP / 5);
    }
    t.sort_by(f64::total_cmp);
    (pct(&t, 0.5), pct(&t, 0.99), t[t.len() - 1])
}

async fn spawn_reference() -> Server {
    let addr = free_port();
    let child = Command::new(std::env::current_exe().unwrap())
        .env(REFERENCE_ENV, addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the reference server");
    wait_healthy(addr).await;
    Server { child, addr }
}

/// The in-memory reference: the same routes a call uses, nothing durable.
mod reference {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use tokio::sync::broadcast;

    struct Hall {
        next: Mutex<u64>,
        board: broadcast::Sender<Arc<str>>,
    }

    pub async fn serve(addr: SocketAddr) {
        let hall = Arc::new(Hall {
            next: Mutex::new(0),
            board: broadcast::channel(256).0,
        });
        let app = Router::new()
            .route(
                "/api/v1/health",
                get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            )
            .route("/api/v1/counters/{id}/next", post(call_next))
            .route("/api/v1/events", get(events))
            .with_state(hall);
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    }

    async fn call_next(
        State(hall): State<Arc<Hall>>,
        Path(counter): Path<u32>,
        headers: HeaderMap,
    ) -> Response {
        if !headers.contains_key("authorization") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let seq = {
            let mut n = hall.next.lock().unwrap();
            *n += 1;
            *n
        };
        let number = format!("A{:03}", seq % 1000);
        let frame = serde_json::json!({
            "type": "update", "seq": seq, "prev_seq": seq - 1,
            "events": [{"kind": "called", "number": number, "counter": counter}],
        })
        .to_string();
        let _ = hall.board.send(frame.into());
        axum::Json(serde_json::json!({"number": number, "counter": counter})).into_response()
    }

    async fn events(State(hall): State<Arc<Hall>>, ws: WebSocketUpgrade) -> Response {
        let rx = hall.board.subscribe();
        ws.on_upgrade(move |socket| forward(socket, rx))
    }

    async fn forward(mut socket: WebSocket, mut rx: broadcast::Receiver<Arc<str>>) {
        while let Ok(frame) = rx.recv().await {
            if socket
                .send(Message::Text(frame.as_ref().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// Numbers called, as the board client sees them, with the instant each arrived.
type Seen = tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>;

async fn board(addr: SocketAddr) -> Seen {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _keep = &mut sink;
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_secs(300), stream.next()).await
        {
            if let Message::Text(t) = m {
                let at = Instant::now();
                let mut rest = t.as_str();
                while let Some(i) = rest.find(r#""kind":"called""#) {
                    rest = &rest[i..];
                    let Some(n) = rest.find(r#""number":""#) else {
                        break;
                    };
                    let num: String = rest[n + 10..].chars().take_while(|c| *c != '"').collect();
                    let _ = tx.send((num, at));
                    rest = &rest[n + 10..];
                }
            }
        }
    });
    // The first frame (a snapshot on the hub) says the stream is live.
    tokio::time::sleep(Duration::from_millis(200)).await;
    rx
}

#[derive(Default)]
struct Figures {
    request: Vec<f64>,
    to_board: Vec<f64>,
    lost: usize,
}

impl Figures {
    fn line(&mut self, name: &str) -> String {
        self.request.sort_by(f64::total_cmp);
        self.to_board.sort_by(f64::total_cmp);
        format!(
            "{name:<10} call request p50 {:.2} ms p99 {:.2} ms | call → board p50 {:.2} ms p99 {:.2} ms max {:.2} ms ({} calls, {} not seen)",
            pct(&self.request, 0.5),
            pct(&self.request, 0.99),
            pct(&self.to_board, 0.5),
            pct(&self.to_board, 0.99),
            self.to_board.last().copied().unwrap_or(f64::NAN),
            self.request.len(),
            self.lost
        )
    }
}

/// `CALLS` calls on counter 1, one every `GAP`, with one board watching.
async fn calls(addr: SocketAddr, token: &str, figures: &mut Figures) {
    let mut seen = board(addr).await;
    let mut h = Http::connect(addr).await.unwrap();
    for _ in 0..CALLS {
        let sent = Instant::now();
        let (st, b) = h
            .request("POST", "/api/v1/counters/1/next", Some(token), None)
            .await
            .unwrap();
        let answered = Instant::now();
        assert_eq!(st, 200, "{b}");
        let number = serde_json::from_str::<serde_json::Value>(&b).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_string();
        figures
            .request
            .push(answered.duration_since(sent).as_secs_f64() * 1000.0);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some((n, at))) if n == number => {
                    figures
                        .to_board
                        .push(at.duration_since(sent).as_secs_f64() * 1000.0);
                    break;
                }
                Ok(Some(_)) => {}
                _ => {
                    figures.lost += 1;
                    break;
                }
            }
        }
        tokio::time::sleep(GAP).await;
    }
}

/// Median of `n` requests on one keep-alive connection.
async fn floor(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (f64, f64) {
    let mut h = Http::connect(addr).await.unwrap();
    let mut t = Vec::new();
    for _ in 0..CALLS {
        let sent = Instant::now();
        h.request(method, path, token, None).await.unwrap();
        t.push(sent.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(GAP / 5).await;
    }
    t.sort_by(f64::total_cmp);
    (pct(&t, 0.5), pct(&t, 0.99))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(addr) = std::env::var(REFERENCE_ENV) {
        rt.block_on(reference::serve(addr.parse().unwrap()));
        return;
    }
    if std::env::var_os("HALLQ_CALL_PATH_MIX").is_some() {
        rt.block_on(mix());
    } else {
        rt.block_on(bench());
    }
}

const MIX_KIOSKS: usize = 16;
const MIX_CLERKS: usize = 8;
const MIX_BOARDS: usize = 50;
const MIX_FOR: Duration = Duration::from_secs(10);
/// Each kiosk issues a ticket this often, each clerk calls this often: far busier than a real hall.
const MIX_ISSUE_EVERY: Duration = Duration::from_millis(250);
const MIX_CALL_EVERY: Duration = Duration::from_millis(200);

/// What one board saw: each frame's `seq` and the numbers called in it, with its arrival.
type Frames = Arc<std::sync::Mutex<Vec<(u64, Vec<String>, Instant)>>>;

async fn mix_board(addr: SocketAddr, frames: Frames) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    tokio::spawn(async move {
        let _keep = &mut sink;
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_secs(60), stream.next()).await
        {
            if let Message::Text(t) = m {
                let at = Instant::now();
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                let seq = v["seq"].as_u64().unwrap_or(0);
                let called = v["events"]
                    .as_array()
                    .map(|es| {
                        es.iter()
                            .filter(|e| e["kind"] == "called")
                            .filter_map(|e| e["call"]["number"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                frames.lock().unwrap().push((seq, called, at));
            }
        }
    });
}

async fn mix() {
    let tmp = tempfile::tempdir().unwrap();
    println!("call_path mix: hub binary {}", bin());
    let hub = spawn_hub(&tmp.path().join("hub")).await;
    let addr = hub.addr;
    let clerk = login(addr, "manager", PASSWORD, None).await.unwrap();
    {
        let mut h = Http::connect(addr).await.unwrap();
        for i in 0..300 {
            let service = ["pay", "account", "consult", "repair", "stb", "complaint"][i % 6];
            let body = format!(r#"{{"service":"{service}"}}"#);
            h.request("POST", "/api/v1/tickets", Some(&clerk), Some(&body))
                .await
                .unwrap();
        }
    }
    let boards: Vec<Frames> = (0..MIX_BOARDS).map(|_| Frames::default()).collect();
    for b in &boards {
        mix_board(addr, b.clone()).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let end = Instant::now() + MIX_FOR;
    let mut tasks = Vec::new();
    for k in 0..MIX_KIOSKS {
        let clerk = clerk.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Http::connect(addr).await.unwrap();
            let service = ["pay", "account", "consult", "repair", "stb", "complaint"][k % 6];
            let body = format!(r#"{{"service":"{service}"}}"#);
            while Instant::now() < end {
                h.request("POST", "/api/v1/tickets", Some(&clerk), Some(&body))
                    .await
                    .unwrap();
                tokio::time::sleep(MIX_ISSUE_EVERY).await;
            }
            Vec::new()
        }));
    }
    for c in 0..MIX_CLERKS {
        let clerk = clerk.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Http::connect(addr).await.unwrap();
            let path = format!("/api/v1/counters/{}/next", c % 4 + 1);
            let mut sent_calls = Vec::new();
            tokio::time::sleep(MIX_CALL_EVERY * c as u32 / MIX_CLERKS as u32).await;
            while Instant::now() < end {
                let sent = Instant::now();
                let (st, b) = h.request("POST", &path, Some(&clerk), None).await.unwrap();
                if st == 200 {
                    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
                    sent_calls.push((v["number"].as_str().unwrap().to_string(), sent));
                }
                tokio::time::sleep(MIX_CALL_EVERY).await;
            }
            sent_calls
        }));
    }
    let mut sent_calls = Vec::new();
    for t in tasks {
        sent_calls.extend(t.await.unwrap());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut to_board = Vec::new();
    let (mut lost, mut twice, mut out_of_order) = (0, 0, 0);
    for b in &boards {
        let frames = b.lock().unwrap();
        out_of_order += frames.windows(2).filter(|w| w[1].0 <= w[0].0).count();
        for (number, sent) in &sent_calls {
            let seen: Vec<&Instant> = frames
                .iter()
                .filter(|(_, called, _)| called.contains(number))
                .map(|(_, _, at)| at)
                .collect();
            match seen.as_slice() {
                [] => lost += 1,
                [at] => to_board.push(at.duration_since(*sent).as_secs_f64() * 1000.0),
                _ => twice += 1,
            }
        }
    }
    to_board.sort_by(f64::total_cmp);
    println!(
        "mix: {} kiosks, {} clerks, {} boards for {:?}: {} calls answered; call → each board p50 {:.2} ms p99 {:.2} ms max {:.2} ms ({} deliveries); not seen {lost}, seen twice {twice}, frames out of seq order {out_of_order}",
        MIX_KIOSKS,
        MIX_CLERKS,
        MIX_BOARDS,
        MIX_FOR,
        sent_calls.len(),
        pct(&to_board, 0.5),
        pct(&to_board, 0.99),
        to_board.last().copied().unwrap_or(f64::NAN),
        to_board.len()
    );
    println!("hub writer thread per batch (µs, p50/p99/max):");
    for (step, vs) in writer_steps(&tmp.path().join("hub"), 0) {
        println!(
            "  {step:<10} {:>7.0} {:>7.0} {:>7.0}  ({} samples)",
            pct(&vs, 0.5),
            pct(&vs, 0.99),
            vs[vs.len() - 1],
            vs.len()
        );
    }
}

async fn bench() {
    let tmp = tempfile::tempdir().unwrap();
    println!("call_path: hub binary {}", bin());
    let hub = spawn_hub(&tmp.path().join("hub")).await;
    let reference = spawn_reference().await;
    let clerk = login(hub.addr, "manager", PASSWORD, None).await.unwrap();
    // Enough waiting for every round's calls (counter 1 serves account, pay, consult).
    {
        let mut h = Http::connect(hub.addr).await.unwrap();
        for i in 0..(CALLS * ROUNDS + 10) {
            let service = ["pay", "account", "consult"][i % 3];
            let (st, b) = h
                .request(
                    "POST",
                    "/api/v1/tickets",
                    Some(&clerk),
                    Some(&format!(r#"{{"service":"{service}"}}"#)),
                )
                .await
                .unwrap();
            assert_eq!(st, 201, "{b}");
        }
    }
    let hub_dir = tmp.path().join("hub");
    let skip = timing_lines(&hub_dir);
    let mut hallq = Figures::default();
    let mut memory = Figures::default();
    for _ in 0..ROUNDS {
        calls(hub.addr, &clerk, &mut hallq).await;
        calls(reference.addr, "any", &mut memory).await;
    }
    println!("{}", hallq.line("hallq"));
    println!("{}", memory.line("reference"));
    println!("hub writer thread per batch (µs, p50/p99/max):");
    for (step, vs) in writer_steps(&hub_dir, skip) {
        println!(
            "  {step:<10} {:>7.0} {:>7.0} {:>7.0}  ({} samples)",
            pct(&vs, 0.5),
            pct(&vs, 0.99),
            vs[vs.len() - 1],
            vs.len()
        );
    }
    let (s50, s99, smax) = synced_write(&hub_dir);
    println!(
        "one 4 KiB write + fdatasync beside the database: p50 {s50:.3} ms p99 {s99:.3} ms max {smax:.3} ms"
    );
    let (h50, h99) = floor(hub.addr, "GET", "/api/v1/health", None).await;
    let (m50, m99) = floor(hub.addr, "GET", "/api/v1/me", Some(&clerk)).await;
    // Counter 9 does not exist: authenticated, parsed and refused before the writer.
    let (r50, r99) = floor(hub.addr, "POST", "/api/v1/counters/9/next", Some(&clerk)).await;
    // Counter 2 has nobody to recall: the writer decides and refuses, nothing is committed.
    let (w50, w99) = floor(hub.addr, "POST", "/api/v1/counters/2/recall", Some(&clerk)).await;
    println!(
        "hub floors (p50/p99 ms): GET /health {h50:.3}/{h99:.3} | GET /me with a token {m50:.3}/{m99:.3} | \
         call refused before the writer {r50:.3}/{r99:.3} | refused by the writer {w50:.3}/{w99:.3}"
    );
}
