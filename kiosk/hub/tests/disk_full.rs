//! A full disk under the real hub: the `hallq-hub` program runs in a private mount namespace on a
//! small tmpfs of its own (nothing on this machine is mounted or filled), the test fills that file
//! system through `/proc/PID/root`, and the hub must refuse new tickets clearly, keep everything
//! it acknowledged, alert the staff, and take tickets again once space is freed.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::net::{Http, login};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hallq-hub");
const PASSWORD: &str = "counter-pass-1";

fn cli(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(BIN)
        .args(args)
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

/// Whether this machine lets an unprivileged process have its own mount namespace.
fn namespaces_work() -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Hub {
    child: Child,
    addr: SocketAddr,
    /// The hub's data directory as this process reaches it: through the hub's own root.
    data: PathBuf,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hub on a tmpfs of `size` mounted at `mount` in its own namespace, with `prepared` copied in.
fn start(mount: &Path, prepared: &Path, config: &Path, size: &str) -> Hub {
    let script = r#"mount -t tmpfs -o "size=$1" tmpfs "$2" && cp -a "$3/." "$2/" &&
        exec "$4" serve --listen 127.0.0.1:0 --data-dir "$2" --config "$5""#;
    let mut child = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
            size,
        ])
        .arg(mount)
        .arg(prepared)
        .arg(BIN)
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
            .expect("the hub exited before listening")
            .unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    // `unshare` and `sh` exec, so the child's id is the hub's.
    let data =
        PathBuf::from(format!("/proc/{}/root", child.id())).join(mount.strip_prefix("/").unwrap());
    Hub { child, addr, data }
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

/// Write zeros into `path` until the file system refuses; the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let mut written = 0;
    for chunk in [1 << 20, 4096, 512] {
        let zeros = vec![0u8; chunk];
        // Bounded: the file system is megabytes.
        for _ in 0..4096 {
            if f.write_all(&zeros).and_then(|_| f.sync_data()).is_err() {
                break;
            }
            written += chunk as u64;
        }
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_new_tickets_clearly_keeps_every_acknowledged_one_and_recovers() {
    if !namespaces_work() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "this test needs `unshare --user --mount` (unprivileged user namespaces)"
        );
        eprintln!("skipped: no unprivileged mount namespaces here (`unshare --user --mount`)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let prepared = tmp.path().join("prepared");
    let mount = tmp.path().join("data");
    std::fs::create_dir_all(&mount).unwrap();
    let config = tmp.path().join("hall.toml");
    std::fs::write(&config, hallq_hub::cli::demo_config().to_toml()).unwrap();
    let p = prepared.to_str().unwrap();
    cli(
        &["user", "add", "boss", "--role", "manager", "--data-dir", p],
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
            p,
        ],
        None,
    )
    .trim()
    .to_string();

    let hub = start(&mount, &prepared, &config, "8m");
    let boss = login(hub.addr, "boss", PASSWORD, None).await.unwrap();
    let issue = || {
        req(
            hub.addr,
            "POST",
            "/api/v1/tickets",
            Some(&kiosk),
            Some(json!({"service": "pay"})),
        )
    };
    let mut issued = Vec::new();
    for _ in 0..5 {
        let (st, t) = issue().await;
        assert_eq!(st, 201, "{t}");
        issued.push(t["number"].as_str().unwrap().to_string());
    }

    // The partition fills up (a log gone wild, a backup too many).
    let filler = hub.data.join("filler");
    assert!(
        fill(&filler) > 0,
        "the filler wrote nothing into {}",
        filler.display()
    );
    let mut refusal = None;
    for _ in 0..2000 {
        let (st, t) = issue().await;
        match st {
            201 => issued.push(t["number"].as_str().unwrap().to_string()),
            _ => {
                refusal = Some((st, t));
                break;
            }
        }
    }
    let (st, body) = refusal.expect("2000 tickets on a full disk and none refused");
    eprintln!(
        "{} tickets acknowledged, then refused: {st} {body}",
        issued.len()
    );
    assert_eq!(st, 507, "{body}");
    assert_eq!(body["error"]["code"], "disk_full", "{body}");
    assert!(
        body["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("存储空间已满"),
        "the kiosk shows why: {body}"
    );
    // Still refused, and the same way, on the next try: nothing half-written in between.
    let (st, body) = issue().await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (507, Some("disk_full")),
        "{body}"
    );

    // A clerk who signs in now is told why it fails (a session is a row to write).
    let (st, body) = req(
        hub.addr,
        "POST",
        "/api/v1/login",
        None,
        Some(json!({"login": "boss", "password": PASSWORD})),
    )
    .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (507, Some("disk_full")),
        "{body}"
    );
    let (st, alerts) = req(hub.addr, "GET", "/api/v1/alerts", Some(&boss), None).await;
    assert_eq!(st, 200, "{alerts}");
    assert!(
        alerts["storage"]["problem"]["zh"]
            .as_str()
            .unwrap_or_default()
            .contains("已满"),
        "the staff are told: {alerts}"
    );
    for n in &issued {
        let (st, t) = req(hub.addr, "GET", &format!("/api/v1/tickets/{n}"), None, None).await;
        assert_eq!(st, 200, "acknowledged ticket {n} is gone: {t}");
        assert_eq!(t["state"], "waiting", "{t}");
    }

    // Space is freed: tickets again, numbering on after the last acknowledged one.
    std::fs::remove_file(&filler).unwrap();
    let mut again = None;
    for _ in 0..50 {
        let (st, t) = issue().await;
        if st == 201 {
            again = Some(t["number"].as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = again.expect("no ticket within 5 s of freeing space");
    let seq = |n: &str| {
        n.trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(
        seq(&again),
        seq(issued.last().unwrap()) + 1,
        "{again} after {issued:?}"
    );
    let (_, alerts) = req(hub.addr, "GET", "/api/v1/alerts", Some(&boss), None).await;
    assert!(alerts["storage"]["full_since"].is_null(), "{alerts}");
}
