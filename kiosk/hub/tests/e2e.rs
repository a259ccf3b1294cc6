//! End to end through the real binary on a random loopback port: accounts and devices from the
//! command line, issue, call, transfer, outage, callback, SIGTERM, restart — state intact and
//! event-stream clients resynchronised.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::net::{Http, login};
use futures_util::StreamExt;
use hallq_shared::protocol::{BoardSnapshot, PublicEvent, StreamMessage};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_hallq-hub");
const PASSWORD: &str = "counter-pass-1";

fn cli(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Start `serve` on port 0 and read the address it reports.
fn start(dir: &Path, config: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // Keep draining the log so the hub never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, addr)
}

fn sigterm(child: &mut Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "hub exit status {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("hub did not stop within 5 s of SIGTERM");
}

async fn req(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut h = Http::connect(addr).await.unwrap();
    let b = body.map(|b| b.to_string());
    let (st, text) = h.request(method, path, token, b.as_deref()).await.unwrap();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_msg(ws: &mut Ws) -> Option<StreamMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_survives_a_restart_with_everything_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let dir_s = dir.to_str().unwrap();
    let config = tmp.path().join("hall.toml");
    std::fs::write(&config, hallq_hub::cli::demo_config().to_toml()).unwrap();

    cli(
        &[
            "user",
            "add",
            "boss",
            "--role",
            "manager",
            "--data-dir",
            dir_s,
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    cli(
        &[
            "user",
            "add",
            "clerk1",
            "--role",
            "staff",
            "--data-dir",
            dir_s,
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let kiosk = cli(
        &[
            "device",
            "add",
            "kiosk-door",
            "--role",
            "kiosk",
            "--data-dir",
            dir_s,
        ],
        None,
    )
    .trim()
    .to_string();
    assert_eq!(kiosk.len(), 64);
    let listed = cli(&["user", "list", "--data-dir", dir_s], None);
    assert!(
        listed.contains("boss\tmanager") && listed.contains("clerk1\tstaff"),
        "{listed}"
    );

    let (mut hub, addr) = start(&dir, &config);
    let (st, h) = req(addr, "GET", "/api/v1/health", None, None).await;
    assert_eq!((st, h), (200, json!({"status": "ok"})));
    let boss = login(addr, "boss", PASSWORD, None).await.unwrap();
    let clerk = login(addr, "clerk1", PASSWORD, Some(1)).await.unwrap();

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
        .await
        .unwrap();
    let mut board = match next_msg(&mut ws).await.unwrap() {
        StreamMessage::Snapshot { board } => board,
        m => panic!("{m:?}"),
    };

    for c in [1, 3] {
        let (st, b) = req(
            addr,
            "POST",
            &format!("/api/v1/counters/{c}/open"),
            Some(&boss),
            None,
        )
        .await;
        assert_eq!(st, 200, "{b}");
    }
    let mut numbers = Vec::new();
    for svc in ["pay", "pay", "repair"] {
        let (st, t) = req(
            addr,
            "POST",
            "/api/v1/tickets",
            Some(&kiosk),
            Some(json!({"service": svc})),
        )
        .await;
        assert_eq!(st, 201, "{t}");
        numbers.push(t["number"].as_str().unwrap().to_string());
    }
    let (st, called) = req(addr, "POST", "/api/v1/counters/1/next", Some(&clerk), None).await;
    assert_eq!(st, 200, "{called}");
    assert_eq!(called["number"], numbers[0].as_str());
    let (st, b) = req(
        addr,
        "POST",
        "/api/v1/counters/1/transfer",
        Some(&clerk),
        Some(json!({"counter": 3})),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = req(addr, "POST", "/api/v1/counters/1/next", Some(&clerk), None).await;
    assert_eq!((st, b["number"].as_str()), (200, Some(numbers[1].as_str())));
    let (st, b) = req(
        addr,
        "POST",
        "/api/v1/outage",
        Some(&boss),
        Some(json!({"expected_minutes": 45, "message": "省网计费系统故障"})),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = req(addr, "POST", "/api/v1/callbacks", Some(&kiosk), Some(json!({"phone": "13912345678", "consent": true, "ticket": numbers[2], "reason": "报修"}))).await;
    assert_eq!(st, 201, "{b}");

    // The stream saw both calls and the outage, in order.
    let target = req(addr, "GET", "/api/v1/board", None, None).await.1["seq"]
        .as_u64()
        .unwrap();
    let mut calls = Vec::new();
    let mut outage = false;
    while board.seq < target {
        let msg = next_msg(&mut ws).await.expect("stream ended");
        if let StreamMessage::Update { events, .. } = &msg {
            for e in events {
                match e {
                    PublicEvent::Called { call } => calls.push(call.number.clone()),
                    PublicEvent::OutageStarted => outage = true,
                    _ => {}
                }
            }
        }
        assert!(board.apply(msg));
    }
    assert_eq!(calls, numbers[..2].to_vec());
    assert!(outage);
    assert_eq!(board.live.mode, hallq_shared::protocol::BoardMode::Outage);

    sigterm(&mut hub);
    // The stream was told the hub is going away.
    let mut saw_close = false;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Ok(Message::Close(Some(f))) = m {
            saw_close = u16::from(f.code) == 1001;
            break;
        }
    }
    assert!(saw_close, "event stream closed with 1001 on SIGTERM");

    // Restart on the same data.
    let (mut hub, addr) = start(&dir, &config);
    let (st, me) = req(addr, "GET", "/api/v1/me", Some(&clerk), None).await;
    assert_eq!(
        (st, &me["login"]),
        (200, &json!("clerk1")),
        "sessions survive a restart"
    );
    let (_, counters) = req(addr, "GET", "/api/v1/counters", None, None).await;
    assert_eq!(counters[0]["state"], "open");
    assert_eq!(counters[0]["current"], numbers[1].as_str());
    let (_, t0) = req(
        addr,
        "GET",
        &format!("/api/v1/tickets/{}", numbers[0]),
        None,
        None,
    )
    .await;
    assert_eq!(t0["state"], "waiting");
    let (_, q) = req(addr, "GET", "/api/v1/counters/3/queue", Some(&boss), None).await;
    assert_eq!(
        q["queue"][0]["number"],
        numbers[0].as_str(),
        "the transfer kept its place: {q}"
    );
    let (_, cbs) = req(addr, "GET", "/api/v1/callbacks", Some(&clerk), None).await;
    assert_eq!(cbs[0]["phone"], "13912345678");
    assert_eq!(cbs[0]["origin"], "outage");
    let (_, t) = req(
        addr,
        "POST",
        "/api/v1/tickets",
        Some(&kiosk),
        Some(json!({"service": "pay"})),
    )
    .await;
    assert_eq!(t["number"], "B003", "numbering continues after a restart");

    // A client that reconnects with its last seq gets a snapshot holding the calls.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events?since={}", board.seq))
            .await
            .unwrap();
    let again: BoardSnapshot = match next_msg(&mut ws).await.unwrap() {
        StreamMessage::Snapshot { board } => board,
        m => panic!("{m:?}"),
    };
    assert!(again.seq > board.seq);
    assert_eq!(again.live.calls.len(), board.live.calls.len());
    assert_eq!(again.live.calls[0].number, numbers[1]);
    assert_eq!(again.live.mode, hallq_shared::protocol::BoardMode::Outage);

    let (st, _) = req(addr, "DELETE", "/api/v1/outage", Some(&boss), None).await;
    assert_eq!(st, 204);
    let (_, alerts) = req(addr, "GET", "/api/v1/alerts", Some(&clerk), None).await;
    assert_eq!(alerts["last_outage"]["callbacks_open"], 1, "{alerts}");
    assert!(!alerts.to_string().contains("13912345678"));
    let page = Http::connect(addr)
        .await
        .unwrap()
        .request("GET", &format!("/t/{}", numbers[0]), None, None)
        .await
        .unwrap();
    assert_eq!(page.0, 200);
    assert!(page.1.contains("等候中"));
    sigterm(&mut hub);

    let out = cli(&["retention", "--data-dir", dir_s], None);
    assert!(out.contains("deleted 0 resolved callbacks"), "{out}");
}

#[test]
fn help_explains_every_flag() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in ["--data-dir", "--listen", "--config", "--apply-config"] {
        assert!(help.contains(flag), "{help}");
    }
    let out = Command::new(BIN).args(["--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "demo", "user", "device", "retention"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn a_short_password_is_refused_and_a_corrupt_database_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["user", "add", "x", "--role", "staff", "--data-dir"])
        .arg(tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
    std::fs::write(
        tmp.path().join("hallq.db"),
        b"this is not a database at all, not even close....",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hallq.db"), "{err}");
}
