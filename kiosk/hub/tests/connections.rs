//! The hub's accept loop on a loopback port: a flood of idle and half-sent connections does not
//! stop it (caps, header timeout), a stop is bounded however many requests are half-sent, every
//! request carries the client's address, TLS works with a real client, and every answer carries
//! the security headers and a JSON body for 405/414/431.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Request, StatusCode, header};
use common::{Fixture, PASSWORD, code};
use hallq_hub::{self as hub, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Ask the hub to stop; how long `run_with` took to return.
    async fn stop(mut self, limit: Duration) -> Duration {
        let asked = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(limit, &mut self.task)
            .await
            .unwrap_or_else(|_| panic!("the hub did not stop within {limit:?}"))
            .unwrap()
            .unwrap();
        asked.elapsed()
    }
}

fn options(cap: usize, per_client: usize, header_timeout: Duration) -> ServeOptions {
    ServeOptions {
        max_connections: cap,
        max_connections_per_client: per_client,
        header_read_timeout: header_timeout,
        drain: Duration::from_secs(1),
        tls: None,
    }
}

async fn start(f: &Fixture, opts: ServeOptions) -> Running {
    start_also_plain(f, opts, None).await
}

async fn start_also_plain(f: &Fixture, opts: ServeOptions, plain: Option<TcpListener>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(hub::run_on(
        listener,
        plain,
        f.hub.clone(),
        async {
            let _ = rx.await;
        },
        opts,
    ));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// A connection from `from` (another loopback address stands for another machine of the hall).
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    s.connect(to).await
}

/// The attacker: `n` connections from 127.0.0.2, every other one with a request head cut short.
async fn flood(to: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for i in 0..n {
        let Ok(mut s) = connect_from(Ipv4Addr::new(127, 0, 0, 2), to).await else {
            continue;
        };
        if i % 2 == 0 {
            let _ = s
                .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\nX-Slow: ")
                .await;
        }
        held.push(s);
    }
    held
}

/// One request on a fresh connection; status and body, or an error if the hub is not answering.
async fn request(to: SocketAddr, raw: String) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(to).await?;
    s.write_all(raw.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
}

fn sign_in() -> String {
    let body =
        serde_json::json!({"login": "clerk2", "password": PASSWORD, "counter": 2}).to_string();
    format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: hub\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Retry `raw` until it is answered `want`; how long that took.
async fn answered_within(to: SocketAddr, raw: String, want: u16, limit: Duration) -> Duration {
    let t = Instant::now();
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(5), request(to, raw.clone())).await;
        if let Ok(Ok((status, body))) = attempt {
            assert_eq!(status, want, "{body}");
            return t.elapsed();
        }
        assert!(
            t.elapsed() < limit,
            "no answer within {limit:?} (last: {attempt:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the hub has closed `s` (read gives end of file or an error) within `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 or the like before the close is fine.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_and_half_sent_connections_does_not_stop_the_hub() {
    let f = Fixture::new().await;
    // One client may take the whole cap here: the header timeout alone has to free the hub.
    let cap = 40;
    let header_timeout = Duration::from_secs(1);
    let hub = start(&f, options(cap, cap, header_timeout)).await;
    let mut held = flood(hub.addr, cap * 2).await;
    assert!(held.len() > cap, "the test could not open its connections");

    let health = answered_within(
        hub.addr,
        get("/api/v1/health"),
        200,
        Duration::from_secs(10),
    )
    .await;
    let signed_in = answered_within(hub.addr, sign_in(), 200, Duration::from_secs(20)).await;
    eprintln!("under the flood: /health after {health:?}, sign-in after {signed_in:?}");

    // Every flood connection is closed: those past the cap at once, the rest by the timeout.
    for s in &mut held {
        assert!(
            closed_within(s, header_timeout + Duration::from_secs(4)).await,
            "a half-sent or idle connection was left open past the header timeout"
        );
    }
    hub.stop(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_address_cannot_take_every_connection() {
    let f = Fixture::new().await;
    // A header timeout far longer than the test: whatever answers, answers because of the caps.
    let hub = start(&f, options(40, 10, Duration::from_secs(60))).await;
    let held = flood(hub.addr, 40).await;
    assert!(held.len() >= 30);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health =
        answered_within(hub.addr, get("/api/v1/health"), 200, Duration::from_secs(5)).await;
    assert!(health < Duration::from_secs(5));
    answered_within(hub.addr, sign_in(), 200, Duration::from_secs(20)).await;
    drop(held);
    hub.stop(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_half_sent_requests_open_is_bounded() {
    let f = Fixture::new().await;
    // Half-sent heads that the header timeout would not end before the test does.
    let hub = start(&f, options(200, 200, Duration::from_secs(120))).await;
    let addr = hub.addr;
    let held = flood(addr, 100).await;
    // An event stream is open too: it is asked to close.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/events"))
        .await
        .unwrap();
    use futures_util::StreamExt;
    assert!(ws.next().await.unwrap().unwrap().is_text());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = hub.stop(Duration::from_secs(10)).await;
    eprintln!(
        "stop with {} half-sent connections took {took:?}",
        held.len()
    );
    // The drain is one second in this test; the unit allows thirty.
    assert!(took < Duration::from_secs(5), "stop took {took:?}");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_carries_the_client_address() {
    use axum::extract::ConnectInfo;
    let app = axum::Router::new().route(
        "/who",
        axum::routing::get(|ConnectInfo(a): ConnectInfo<SocketAddr>| async move { a.to_string() }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(hub::accept::serve_connections(
        listener,
        None,
        app,
        options(8, 8, Duration::from_secs(5)),
        async {
            let _ = rx.await;
        },
        || {},
    ));
    let mut s = connect_from(Ipv4Addr::new(127, 0, 0, 3), addr)
        .await
        .unwrap();
    let me = s.local_addr().unwrap();
    s.write_all(get("/who").as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.ends_with(&me.to_string()), "{text}");
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

#[test]
fn the_connection_cap_stays_well_below_the_file_limit() {
    use hub::accept::connection_cap;
    assert!(connection_cap(1024) <= 1024 / 2);
    assert!(connection_cap(8192) <= 8192 / 2);
    assert_eq!(connection_cap(1 << 20), 2048);
    assert!(connection_cap(0) >= 16);
    // The process's own limit was raised to its hard limit.
    let raised = hub::accept::raise_file_limit();
    assert!(raised >= 1024, "{raised}");
}

// ---- TLS ---------------------------------------------------------------------------------------

/// A self-signed certificate for 127.0.0.1 and localhost, as PEM files; the certificate in DER.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join("hub.crt");
    let key_path = dir.join("hub.key");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path, cert.der().to_vec())
}

async fn tls_connect(addr: SocketAddr, der: &[u8]) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der.to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_the_api_and_the_event_stream() {
    let f = Fixture::new().await;
    let certs = tempfile::tempdir().unwrap();
    let (cert, key, der) = certificate(certs.path());
    let mut opts = options(64, 64, Duration::from_secs(5));
    opts.tls = Some(hub::accept::load_tls(&cert, &key).unwrap());
    // Beside it, plain HTTP for the kiosk screen on the hub's own machine.
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let hub = start_also_plain(&f, opts, Some(plain)).await;

    let mut s = tls_connect(hub.addr, &der).await;
    s.write_all(get("/api/v1/health").as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("x-frame-options: deny"),
        "{text}"
    );

    // The event stream upgrades over TLS as well.
    let mut s = tls_connect(hub.addr, &der).await;
    s.write_all(
        b"GET /api/v1/events HTTP/1.1\r\nHost: hub\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&head[..n]);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");

    // Plain HTTP on the TLS port gets no answer.
    let plain = tokio::time::timeout(
        Duration::from_secs(5),
        request(hub.addr, get("/api/v1/health")),
    )
    .await
    .unwrap();
    assert!(
        plain.is_err() || plain.as_ref().is_ok_and(|(st, _)| *st != 200),
        "{plain:?}"
    );
    let (st, body) = request(plain_addr, get("/api/v1/health")).await.unwrap();
    assert_eq!(st, 200, "{body}");
    hub.stop(Duration::from_secs(10)).await;
}

#[test]
fn tls_files_that_are_not_pem_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("x.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let e = hub::accept::load_tls(&bogus, &bogus).unwrap_err();
    assert!(format!("{e:#}").contains("x.pem"), "{e:#}");
}

// ---- headers and JSON errors -------------------------------------------------------------------

fn assert_security_headers(h: &axum::http::HeaderMap, what: &str) {
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{what}");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{what}");
}

async fn raw(f: &Fixture, req: Request<axum::body::Body>) -> axum::response::Response {
    use tower::ServiceExt;
    f.app.clone().oneshot(req).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let f = Fixture::new().await;
    f.issue("pay").await;
    for path in [
        "/api/v1/health",
        "/api/v1/board",
        "/api/v1/nothing-here",
        "/api/v1/me",
        "/staff/",
        "/staff/console.js",
        "/staff/no-such-file",
        "/t/A001",
        "/t/Z999",
        "/",
    ] {
        let req = Request::get(path).body(axum::body::Body::empty()).unwrap();
        let resp = raw(&f, req).await;
        assert_security_headers(resp.headers(), path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_page_style_is_allowed_by_its_hash() {
    let f = Fixture::new().await;
    let number = f.issue("pay").await;
    let req = Request::get(format!("/t/{number}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = raw(&f, req).await;
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    use http_body_util::BodyExt;
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let style = html
        .split_once("<style>")
        .and_then(|(_, r)| r.split_once("</style>"))
        .map(|(s, _)| s)
        .expect("the ticket page has its style block");
    use sha2::Digest;
    let hash = format!(
        "'sha256-{}'",
        hub::edge::base64(&sha2::Sha256::digest(style.as_bytes()))
    );
    assert!(csp.contains(&hash), "{csp} lacks {hash}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_long_uri_and_large_headers_get_json_errors() {
    let f = Fixture::new().await;
    for (method, path) in [
        ("DELETE", "/api/v1/health"),
        ("PUT", "/api/v1/tickets"),
        ("POST", "/staff/"),
        ("DELETE", "/t/A001"),
    ] {
        let (st, body) = f.call(method, path, None, None).await;
        assert_eq!(
            st,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        assert_eq!(code(&body), "method_not_allowed", "{method} {path}: {body}");
        assert!(body["error"]["message_zh"].is_string(), "{body}");
    }

    let long = format!("/api/v1/tickets/A001?x={}", "a".repeat(9000));
    let (st, body) = f.call("GET", &long, None, None).await;
    assert_eq!(st, StatusCode::URI_TOO_LONG, "{body}");
    assert_eq!(code(&body), "uri_too_long");

    let mut b = Request::get("/api/v1/health");
    for i in 0..40 {
        b = b.header(format!("x-filler-{i}"), "v".repeat(500));
    }
    let (st, body) = f.send(b.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "headers_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_wire_a_long_uri_gets_a_json_error_too() {
    let f = Fixture::new().await;
    let hub = start(&f, options(16, 16, Duration::from_secs(5))).await;
    let (st, body) = request(
        hub.addr,
        get(&format!("/api/v1/board?x={}", "a".repeat(12_000))),
    )
    .await
    .unwrap();
    assert_eq!(st, 414, "{body}");
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    assert_eq!(code(&v), "uri_too_long", "{body}");
    hub.stop(Duration::from_secs(10)).await;
}
