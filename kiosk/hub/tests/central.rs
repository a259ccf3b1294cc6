//! Shipping to central against a small receiver of the test's own on a loopback port (not the
//! product's central): it stores batches in memory, keyed by `seq` as the protocol asks, answers
//! `stored_through`, and can be told to lose answers, be down, hang, refuse the credential or call
//! a batch too large. Every event arrives once and in order, tickets keep coming while central is
//! away, the cursor survives a restart, a 413 halves the batch, no phone number leaves the hall,
//! and a 401 or 400 loses nothing. The built program stops at start on a credential it cannot read.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::shanghai;
use hallq_hub::central::CentralOptions;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const CREDENTIAL: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Up,
    /// Every other batch is stored but its answer is lost (a 500 instead).
    LoseHalfTheAnswers,
    Down,
    /// Takes the request and never answers.
    Hang,
    Unauthorized,
    Malformed,
    /// 413 for a batch of more events than this.
    TooLargeAbove(usize),
}

#[derive(Default)]
struct Held {
    events: BTreeMap<u64, Value>,
    tickets: BTreeMap<(String, String), Value>,
    ratings: BTreeMap<(String, String), Value>,
    /// The seqs of every batch stored, as they came (duplicates included).
    batches: Vec<Vec<u64>>,
    /// Every `callback_captured` kind received.
    callbacks: Vec<Value>,
    /// Batches carrying phone numbers (this receiver, like an older central, never asks for them).
    with_numbers: u32,
    /// Batches that started past the first event not held yet (a hole the hub would have made).
    skips: Vec<(u64, u64)>,
    statuses: u32,
}

impl Held {
    fn stored_through(&self) -> u64 {
        let mut n = 0;
        while self.events.contains_key(&(n + 1)) {
            n += 1;
        }
        n
    }
}

struct Peer {
    mode: Mutex<Mode>,
    held: Mutex<Held>,
    posts: AtomicU64,
}

impl Peer {
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    fn held<R>(&self, f: impl FnOnce(&Held) -> R) -> R {
        f(&self.held.lock().unwrap())
    }
}

async fn ship(State(peer): State<Arc<Peer>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = peer.posts.fetch_add(1, Ordering::SeqCst);
    let mode = *peer.mode.lock().unwrap();
    let error = |st: StatusCode, m: &str| (st, axum::Json(json!({"error": {"message": m}})));
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {CREDENTIAL}"));
    if !authorised || mode == Mode::Unauthorized {
        return error(StatusCode::UNAUTHORIZED, "unknown credential").into_response();
    }
    match mode {
        Mode::Down => return error(StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
        Mode::Malformed => return error(StatusCode::BAD_REQUEST, "bad batch").into_response(),
        _ => {}
    }
    let batch: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()).into_response(),
    };
    assert_eq!(batch["version"], 1);
    let events = batch["events"].as_array().cloned().unwrap_or_default();
    if let Mode::TooLargeAbove(max) = mode
        && events.len() > max
    {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
    }
    let through = {
        let mut held = peer.held.lock().unwrap();
        if batch.get("callback_phones").is_some()
            || String::from_utf8_lossy(&body).contains("13812345678")
        {
            held.with_numbers += 1;
        }
        let mut seqs = Vec::new();
        let before = held.stored_through();
        if let Some(first) = events.first().and_then(|e| e["seq"].as_u64())
            && first > before + 1
        {
            held.skips.push((before, first));
        }
        for e in events {
            let seq = e["seq"].as_u64().expect("seq");
            assert!(e["day"].is_string() && e["kind"]["type"].is_string(), "{e}");
            if e["kind"]["type"] == "callback_captured" {
                held.callbacks.push(e["kind"].clone());
            }
            seqs.push(seq);
            held.events.entry(seq).or_insert(e);
        }
        if !seqs.is_empty() {
            held.batches.push(seqs);
        }
        for t in batch["tickets"].as_array().into_iter().flatten() {
            let key = (
                t["day"].as_str().unwrap().into(),
                t["number"].as_str().unwrap().into(),
            );
            held.tickets.insert(key, t.clone());
        }
        for r in batch["ratings"].as_array().into_iter().flatten() {
            let key = (
                r["day"].as_str().unwrap().into(),
                r["number"].as_str().unwrap().into(),
            );
            held.ratings.insert(key, r.clone());
        }
        if batch["status"].is_object() {
            held.statuses += 1;
        }
        held.stored_through()
    };
    if mode == Mode::LoseHalfTheAnswers && n % 2 == 1 {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "answer lost").into_response();
    }
    axum::Json(json!({ "stored_through": through })).into_response()
}

/// The receiver's routes.
fn receiver(mode: Mode) -> (Router, Arc<Peer>) {
    let peer = Arc::new(Peer {
        mode: Mutex::new(mode),
        held: Mutex::new(Held::default()),
        posts: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/api/v1/ship", axum::routing::post(ship))
        .layer(DefaultBodyLimit::max(8 << 20))
        .with_state(peer.clone());
    (app, peer)
}

/// The receiver on 127.0.0.1, port 0: its address and its state.
async fn peer(mode: Mode) -> (String, Arc<Peer>) {
    let (app, peer) = receiver(mode);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), peer)
}

fn central(url: &str) -> CentralOptions {
    let mut o = CentralOptions::new(url, CREDENTIAL).unwrap();
    o.idle = Duration::from_millis(100);
    o.heartbeat = Duration::from_millis(300);
    // Scaled down with the other waits: the 5 s a hub gathers commits for is not what these test.
    o.gather = Duration::from_millis(20);
    o.backoff_min = Duration::from_millis(20);
    o.backoff_max = Duration::from_millis(200);
    o.timeout = Duration::from_secs(1);
    o
}

/// A hub serving on a loopback port, shipping to `url`.
type Hall = common::Serving;

async fn open_hall(dir: tempfile::TempDir, url: Option<&str>, fresh: bool) -> Hall {
    open_hall_with(dir, url.map(central), fresh).await
}

async fn open_hall_with(
    dir: tempfile::TempDir,
    central: Option<CentralOptions>,
    fresh: bool,
) -> Hall {
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(shanghai(10, 0)));
    Hall::open(dir, clock, central, fresh).await
}

impl Hall {
    /// Open counter 1, serve one ticket there and rate the visit on its tablet.
    async fn serve_and_rate(&self) {
        let f = &self.f;
        f.open_counter(1).await;
        f.issue("pay").await;
        for path in ["/api/v1/counters/1/next", "/api/v1/counters/1/finish"] {
            let (st, b) = f.call("POST", path, Some(&f.clerk1), None).await;
            assert_eq!(st, StatusCode::OK, "{path}: {b}");
        }
        let (st, b) = f
            .call(
                "POST",
                "/api/v1/ratings",
                Some(&f.tablet),
                Some(json!({"counter": 1, "score": 4})),
            )
            .await;
        assert!(st.is_success(), "{st}: {b}");
    }

    async fn capture_callback(&self) {
        let (st, b) = self
            .f
            .call(
                "POST",
                "/api/v1/callbacks",
                Some(&self.f.clerk1),
                Some(json!({"phone": "13812345678", "consent": true})),
            )
            .await;
        assert!(st.is_success(), "{st}: {b}");
    }
}

/// Wait (bounded) until `done`.
async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait (bounded) until central holds every event the hall committed, then check that each is
/// held once, under its seq, as the hall has it, with the tickets' current rows. (The hall's
/// own time-driven events, a long wait beginning, may come after the test's last command.)
async fn all_held_as_the_hall_has_it(hall: &Hall, peer: &Peer) {
    let store = hallq_shared::store::Store::open_reader(hall.f.hub.data_path()).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let start = Instant::now();
    let (events, tickets) = loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "central holds {} of {} events after 30 s",
            peer.held(|h| h.stored_through()),
            hall.last_seq()
        );
        let last = hall.last_seq();
        if peer.held(|h| h.stored_through()) == last {
            let events = store.events_of_day(day).unwrap();
            if events.len() as u64 == last {
                break (events, store.tickets_of_day(day).unwrap());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    peer.held(|h| {
        assert_eq!(h.events.len(), events.len());
        for e in &events {
            let got = &h.events[&e.seq];
            let kind = serde_json::to_value(&e.kind).unwrap();
            assert_eq!(got["kind"]["type"], kind["type"], "seq {}", e.seq);
            assert_eq!(got["at"], json!(e.at));
            assert_eq!(got["actor"], json!(e.actor));
            assert_eq!(got["day"], "2026-11-25");
        }
        for t in &tickets {
            let got = &h.tickets[&("2026-11-25".to_string(), t.number.clone())];
            assert_eq!(
                got["state"],
                serde_json::to_value(t.state).unwrap(),
                "{}",
                t.number
            );
            assert_eq!(got["called_at"], json!(t.called_at), "{}", t.number);
            assert_eq!(got["finished_at"], json!(t.finished_at), "{}", t.number);
        }
        assert_eq!(h.tickets.len(), tickets.len());
        // Each batch came in seq order, without holes, and none started past what central lacked.
        for b in &h.batches {
            assert!(b.windows(2).all(|w| w[1] == w[0] + 1), "{b:?}");
        }
        assert!(
            h.skips.is_empty(),
            "(held through, batch from): {:?}",
            h.skips
        );
    });
}

/// The hub's `/api/v1/central` once `ok` says so (bounded), or as it stands after 10 s.
async fn central_status_when(hall: &Hall, ok: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let status = hall.central_status().await;
        if ok(&status) || start.elapsed() > Duration::from_secs(10) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_once_in_order_though_half_the_answers_are_lost() {
    let (url, peer) = peer(Mode::LoseHalfTheAnswers).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    hall.serve_and_rate().await;
    hall.capture_callback().await;
    for _ in 0..40 {
        hall.f.issue("pay").await;
    }
    all_held_as_the_hall_has_it(&hall, &peer).await;
    // The hub moves its cursor only on an answer that came through.
    let last = hall.last_seq();
    let status = central_status_when(&hall, |s| s["shipped_through"] == json!(last)).await;
    assert_eq!(status["shipped_through"], json!(last), "{status}");
    assert_eq!(status["behind"], 0, "{status}");
    assert_eq!(status["url"], json!(url));
    assert!(status["last_ok_at"].is_i64(), "{status}");
    assert_eq!(
        status["last_error"],
        "central answered 500 Internal Server Error: answer lost"
    );
    peer.held(|h| {
        let received: usize = h.batches.iter().map(Vec::len).sum();
        assert!(
            received > h.events.len(),
            "lost answers made the hub send again"
        );
        assert_eq!(h.ratings.len(), 1, "{:?}", h.ratings);
        let r = h.ratings.values().next().unwrap();
        assert_eq!(
            (r["score"].as_u64(), r["counter"].as_u64()),
            (Some(4), Some(1))
        );
        assert!(!h.callbacks.is_empty());
        for c in &h.callbacks {
            assert_eq!(c["phone_masked"], "", "{c}");
            assert!(!c.to_string().contains("5678"), "{c}");
        }
        // Its answers never say `callback_phones`, as an older central's do not.
        assert_eq!(h.with_numbers, 0);
        assert!(h.statuses > 0);
    });
    hall.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_keep_coming_at_their_speed_while_central_is_away() {
    const N: usize = 60;
    // The same work on a hub that ships nowhere, for the speed to compare with.
    let alone = open_hall(tempfile::tempdir().unwrap(), None, true).await;
    let start = Instant::now();
    for _ in 0..N {
        alone.f.issue("pay").await;
    }
    let baseline = start.elapsed();
    alone.close().await;

    let (url, peer) = peer(Mode::Hang).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    for mode in [Mode::Hang, Mode::Down] {
        peer.set(mode);
        let start = Instant::now();
        let mut slowest = Duration::ZERO;
        for _ in 0..N {
            let one = Instant::now();
            hall.f.issue("pay").await;
            slowest = slowest.max(one.elapsed());
        }
        let took = start.elapsed();
        assert!(
            took < baseline * 3 + Duration::from_millis(500),
            "{mode:?}: {N} tickets took {took:?}, {baseline:?} without central"
        );
        assert!(
            slowest < Duration::from_millis(500),
            "{mode:?}: {slowest:?}"
        );
    }
    let status = central_status_when(&hall, |s| {
        s["behind"].as_u64() > Some(100) && s["last_error"].is_string()
    })
    .await;
    assert!(status["behind"].as_u64().unwrap() > 100, "{status}");
    assert!(status["last_error"].is_string(), "{status}");
    assert_eq!(peer.held(|h| h.events.len()), 0);

    // Central back: everything that waited goes.
    peer.set(Mode::Up);
    all_held_as_the_hall_has_it(&hall, &peer).await;
    hall.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_survives_a_restart() {
    let (url, peer) = peer(Mode::Up).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    for _ in 0..10 {
        hall.f.issue("pay").await;
    }
    let first = hall.last_seq();
    until(
        "the first tickets are stored",
        Duration::from_secs(20),
        || peer.held(|h| h.stored_through()) >= first,
    )
    .await;
    // Closed only once the hub has the answer too: a batch whose answer the stop cuts off is
    // rightly sent again.
    let status = central_status_when(&hall, |s| s["shipped_through"].as_u64() >= Some(first)).await;
    assert!(
        status["shipped_through"].as_u64() >= Some(first),
        "{status}"
    );
    let first = status["shipped_through"].as_u64().unwrap();
    let dir = hall.close().await;
    let sent_before = peer.held(|h| h.batches.len());

    let hall = open_hall(dir, Some(&url), false).await;
    for _ in 0..3 {
        hall.f.issue("pay").await;
    }
    all_held_as_the_hall_has_it(&hall, &peer).await;
    peer.held(|h| {
        let again: Vec<u64> = h.batches[sent_before..]
            .iter()
            .flatten()
            .copied()
            .filter(|s| *s <= first)
            .collect();
        assert!(again.is_empty(), "sent again after the restart: {again:?}");
    });
    hall.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_is_halved_until_it_fits() {
    let (url, peer) = peer(Mode::Down).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    for _ in 0..120 {
        hall.f.issue("pay").await;
    }
    peer.set(Mode::TooLargeAbove(40));
    assert!(hall.last_seq() >= 120);
    all_held_as_the_hall_has_it(&hall, &peer).await;
    peer.held(|h| {
        let largest = h.batches.iter().map(Vec::len).max().unwrap();
        assert!(largest <= 40, "{largest}");
        assert!(largest >= 20, "halved no further than needed: {largest}");
    });
    let status = hall.central_status().await;
    assert!(status["batch_limit"].as_u64().unwrap() <= 40, "{status}");
    hall.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_or_batch_loses_nothing() {
    let (url, peer) = peer(Mode::Unauthorized).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    for mode in [Mode::Unauthorized, Mode::Malformed] {
        peer.set(mode);
        let posts = peer.posts.load(Ordering::SeqCst);
        for _ in 0..5 {
            hall.f.issue("pay").await;
        }
        until("the hub tries again", Duration::from_secs(10), || {
            peer.posts.load(Ordering::SeqCst) >= posts + 3
        })
        .await;
        let status = hall.central_status().await;
        let error = status["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want = if mode == Mode::Unauthorized {
            "401"
        } else {
            "400: bad batch"
        };
        assert!(error.contains(want), "{mode:?}: {status}");
        assert_eq!(status["shipped_through"], 0, "{status}");
        assert!(status["failures"].as_u64().unwrap() >= 1, "{status}");
    }
    assert_eq!(peer.held(|h| h.events.len()), 0);
    peer.set(Mode::Up);
    all_held_as_the_hall_has_it(&hall, &peer).await;
    hall.close().await;
}

#[test]
fn a_credential_file_that_cannot_be_read_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("central.key");
    let e = CentralOptions::from_file("https://central.example", &missing).unwrap_err();
    assert!(format!("{e:#}").contains("central.key"), "{e:#}");
    std::fs::write(&missing, "\n").unwrap();
    let e = CentralOptions::from_file("https://central.example", &missing).unwrap_err();
    assert!(format!("{e:#}").contains("credential"), "{e:#}");
    std::fs::write(&missing, format!("{CREDENTIAL}\n")).unwrap();
    let o = CentralOptions::from_file("https://central.example/", &missing).unwrap();
    assert_eq!(o.url, "https://central.example");
    assert!(CentralOptions::new("ftp://central.example", CREDENTIAL).is_err());
}

#[test]
fn the_program_stops_at_start_when_the_credential_cannot_be_read() {
    let bin = env!("CARGO_BIN_EXE_hallq-hub");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("central.key");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .env_remove("HALLQ_CENTRAL_URL")
            .env_remove("HALLQ_CENTRAL_CREDENTIAL_FILE")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} started");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&[
        "--central-url",
        "http://127.0.0.1:9",
        "--central-credential-file",
        missing.to_str().unwrap(),
    ]);
    assert!(
        err.contains("cannot read the central credential file") && err.contains("central.key"),
        "{err}"
    );
    // One without the other is a mistake on the command line, not a hall that ships nowhere.
    let err = run(&["--central-url", "http://127.0.0.1:9"]);
    assert!(err.contains("--central-credential-file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_cursor_costs_one_batch_sent_again() {
    let (url, peer) = peer(Mode::Up).await;
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    for _ in 0..30 {
        hall.f.issue("pay").await;
    }
    all_held_as_the_hall_has_it(&hall, &peer).await;
    let first = hall.last_seq();
    let status = central_status_when(&hall, |s| s["shipped_through"].as_u64() >= Some(first)).await;
    assert!(
        status["shipped_through"].as_u64() >= Some(first),
        "{status}"
    );
    let first = status["shipped_through"].as_u64().unwrap();
    let dir = hall.close().await;
    // As after a power cut that took the unsynced cursor with it.
    let db = hallq_shared::store::db_path(dir.path());
    hallq_shared::store::Store::set_central_cursors_beside(&db, 0, None).unwrap();
    let sent_before = peer.held(|h| h.batches.len());

    let hall = open_hall(dir, Some(&url), false).await;
    // A time-driven event (a long wait beginning) may come with the restart.
    let status = central_status_when(&hall, |s| s["shipped_through"].as_u64() >= Some(first)).await;
    assert!(
        status["shipped_through"].as_u64() >= Some(first),
        "central's word is taken: {status}"
    );
    hall.f.issue("pay").await;
    all_held_as_the_hall_has_it(&hall, &peer).await;
    peer.held(|h| {
        let again = h.batches[sent_before..]
            .iter()
            .filter(|b| b.first().is_some_and(|s| *s <= first))
            .count();
        assert_eq!(again, 1, "{:?}", &h.batches[sent_before..]);
    });
    hall.close().await;
}

/// The receiver behind TLS, as central is behind an operator's reverse proxy: its certificate
/// for 127.0.0.1 is issued by a certificate authority of the test's own, whose certificate is
/// written to `ca_file` as PEM.
async fn tls_peer(ca_file: &std::path::Path) -> (String, Arc<Peer>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "营业厅运营商内部证书机构");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    std::fs::write(ca_file, ca_cert.pem()).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (app, peer) = receiver(Mode::Up);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(tls),
                        hyper_util::service::TowerToHyperService::new(app),
                    )
                    .await;
            });
        }
    });
    (format!("https://{addr}"), peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_behind_the_operators_own_certificate_authority_is_reached_with_its_ca_file() {
    let certs = tempfile::tempdir().unwrap();
    let ca_file = certs.path().join("operator-ca.pem");
    let (url, peer) = tls_peer(&ca_file).await;

    // Without the CA file the hub refuses the certificate, says why, and ships nothing.
    let hall = open_hall(tempfile::tempdir().unwrap(), Some(&url), true).await;
    hall.f.issue("pay").await;
    let status = central_status_when(&hall, |s| s["failures"].as_u64() > Some(0)).await;
    let why = status["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(why.contains("certificate"), "{status}");
    peer.held(|h| assert!(h.events.is_empty()));
    let dir = hall.close().await;

    // With it, the same hall ships everything it holds.
    let opts = central(&url).trust_ca_file(&ca_file).unwrap();
    let hall = open_hall_with(dir, Some(opts), false).await;
    all_held_as_the_hall_has_it(&hall, &peer).await;
    hall.close().await;

    // A file with no certificate in it stops the start, naming the file.
    let empty = certs.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let e = central(&url).trust_ca_file(&empty).unwrap_err();
    assert!(format!("{e:#}").contains("empty.pem"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_hall_ships_several_commits_a_batch() {
    let (url, peer) = peer(Mode::Up).await;
    let mut o = central(&url);
    o.gather = Duration::from_millis(400);
    // No heartbeats in between: every request counted is a batch.
    o.heartbeat = Duration::from_secs(600);
    o.idle = Duration::from_secs(600);
    let hall = open_hall_with(tempfile::tempdir().unwrap(), Some(o), true).await;
    // Caught up first (the accounts' and the day's first events).
    all_held_as_the_hall_has_it(&hall, &peer).await;
    let before = peer.posts.load(Ordering::SeqCst);
    for _ in 0..30 {
        hall.f.issue("pay").await;
    }
    all_held_as_the_hall_has_it(&hall, &peer).await;
    let posts = peer.posts.load(Ordering::SeqCst) - before;
    assert!(
        posts <= 4,
        "30 tickets, each its own commit, went in {posts} batches"
    );
    hall.close().await;
}
