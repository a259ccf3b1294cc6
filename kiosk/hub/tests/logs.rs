//! The hub's log as an operator reads it: text a client sends (a login name) is escaped, so it
//! cannot write a line of its own into the journal. Runs the real binary on a loopback port and
//! reads what it writes to standard error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hallq-hub");

fn post_json(addr: SocketAddr, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

#[test]
fn a_login_name_with_a_line_break_stays_on_its_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the hub stopped logging")
    };
    let mut log = Vec::new();
    let addr: SocketAddr = loop {
        let line = next();
        let addr = line.split("addr=").nth(1).map(|r| {
            let r = r.split_whitespace().next().unwrap();
            r.trim_matches('"').parse().unwrap()
        });
        log.push(line);
        if let Some(a) = addr {
            break a;
        }
    };

    let reply = post_json(
        addr,
        "/api/v1/login",
        r#"{"login":"a\nFAKE line written by a client","password":"x"}"#,
    );
    assert!(reply.contains(" 401 "), "{reply}");
    loop {
        let line = next();
        let done = line.contains("sign-in refused");
        log.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();

    let refused = log.iter().find(|l| l.contains("sign-in refused")).unwrap();
    assert!(
        refused.contains(r#"login="a\nFAKE line written by a client""#),
        "{refused}"
    );
    assert!(
        !log.iter().any(|l| l.starts_with("FAKE")),
        "a client wrote a line of its own:\n{}",
        log.join("\n")
    );
}
