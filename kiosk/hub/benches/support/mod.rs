//! What the benches that run the built hub share: its path, a free loopback port, percentiles,
//! and the hub started as a process and stopped with SIGTERM when dropped.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::net::Http;

/// The hub binary; `HALLQ_BIN` overrides it (the `hub` profile's build, or a copy).
pub fn bin() -> String {
    std::env::var("HALLQ_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hallq-hub").to_string())
}

pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// A server started as a process (the hub, or another server a bench compares it with), stopped
/// with SIGTERM when dropped and killed if it has not gone 5 s later.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

/// Spawn a hub and wait for `/health`; the time it took.
pub async fn spawn(args: &[&str], dir: &Path) -> (Server, Duration) {
    let addr = free_port();
    let started = Instant::now();
    let child = Command::new(bin())
        .args(args)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        // All 500 event-stream clients come from this one address.
        .env("HALLQ_MAX_CONNECTIONS_PER_CLIENT", "2048")
        // As the systemd unit runs it (deploy/systemd/hallq-hub.service).
        .env("MALLOC_ARENA_MAX", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hallq-hub");
    wait_healthy(addr).await;
    (Server { child, addr }, started.elapsed())
}

/// Wait until the server on `addr` answers `GET /health`, for up to 10 s.
pub async fn wait_healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut h) = Http::connect(addr).await
            && let Ok((200, _)) = h.request("GET", "/api/v1/health", None, None).await
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{addr} did not answer within 10 s"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}
