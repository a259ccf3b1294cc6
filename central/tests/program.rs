//! The built `hallq-central` program: registering a hall prints a credential that ships, an
//! operator's password comes from standard input, phone numbers are switched on only with a
//! reason, a revoked hall is refused, and SIGTERM stops the server cleanly.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{HallHistory, Pg};

const BIN: &str = env!("CARGO_BIN_EXE_hallq-central");

fn central(url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("HALLQ_CENTRAL_DB", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn the_program_registers_halls_and_serves_them() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.url();
    let (ok, out, err) = central(&url, &["hall", "add", "城北营业厅"], "");
    assert!(ok, "{err}");
    let credential = out.trim().to_string();
    assert_eq!(credential.len(), 64, "{out}");
    let (ok, _, err) = central(&url, &["hall", "add", "城北营业厅"], "");
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = central(&url, &["operator", "add", "zongbu"], "short\n");
    assert!(!ok, "{err}");
    let (ok, _, err) = central(&url, &["operator", "add", "zongbu"], "a-long-password\n");
    assert!(ok, "{err}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(BIN)
        .args(["serve"])
        .env("HALLQ_CENTRAL_DB", &url)
        .env("HALLQ_CENTRAL_LISTEN", &listen)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "central did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let h = HallHistory::build(&["2026-12-01"], 10, 1);
    let body = h.batch(1, h.last_seq()).to_string();
    let ship = |credential: &str| {
        let req = format!(
            "POST /api/v1/ship HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {credential}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        common::http(addr, req.as_bytes())
    };
    assert_eq!(ship(&credential).stored_through(), h.last_seq());

    let (ok, out, _) = central(&url, &["hall", "list"], "");
    assert!(
        ok && out.contains("城北营业厅\t") && out.contains("live") && out.contains("phones-off"),
        "{out}"
    );
    // Phone numbers: on only with a reason; the answer to the hall's next batch says so.
    let (ok, _, err) = central(&url, &["hall", "phones", "城北营业厅", "on"], "");
    assert!(!ok && err.contains("--why"), "{err}");
    let (ok, _, err) = central(
        &url,
        &["hall", "phones", "城南营业厅", "on", "--why", "x"],
        "",
    );
    assert!(!ok && err.contains("no live hall"), "{err}");
    let (ok, out, err) = central(
        &url,
        &[
            "hall",
            "phones",
            "城北营业厅",
            "on",
            "--why",
            "回访由总部统一拨打",
        ],
        "",
    );
    assert!(ok && out.contains("phone numbers on"), "{out} {err}");
    assert_eq!(ship(&credential).json()["callback_phones"], true);
    let (ok, out, _) = central(&url, &["hall", "list"], "");
    assert!(ok && out.contains("phones-on"), "{out}");
    let (ok, out, err) = central(&url, &["hall", "phones", "--all", "off"], "");
    assert!(ok && out.contains("phone numbers off"), "{out} {err}");
    assert_eq!(ship(&credential).json()["callback_phones"], false);
    let (ok, _, err) = central(&url, &["hall", "revoke", "城北营业厅"], "");
    assert!(ok, "{err}");
    assert_eq!(ship(&credential).status, 401);

    let kill = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "central did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(err.contains("hallq-central stopped"), "{err}");
}
