//! Real hubs shipping to the real central on a real PostgreSQL (a cluster of the test's own on a
//! loopback port): central cut off while the halls keep issuing, calling, finishing and rating,
//! central's process killed (SIGKILL) mid-stream and started again on the same database, a hub
//! stopped mid-stream and opened again on its data. In the end central holds every event of every
//! hall once, under the hall's seqs, and its league table for the day equals each hall's own
//! report. The built `hallq-hub` killed (SIGKILL) six times while it issues and ships, and
//! started again on its data: central holds each of its events once and every ticket it
//! acknowledged. And a document published at central reaches the hall's board, while one the
//! hall cannot take is refused whole.

mod common;
#[path = "../../../central/tests/common/mod.rs"]
mod pg;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::shanghai;
use hallq_central::rollup::League;
use hallq_hub::central::CentralOptions;
use hallq_shared::config::HallConfig;
use hallq_shared::report::Period;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The environment that makes this test program serve central instead of testing (see
/// [`central_process_of_the_kill_test`]): the database's URL and the address to serve on.
const CHILD_DB: &str = "HALLQ_TEST_CENTRAL_CHILD_DB";
const CHILD_ADDR: &str = "HALLQ_TEST_CENTRAL_CHILD_ADDR";

/// Central as a process of its own at a fixed loopback address, so that it can come back where the
/// hubs look for it: this test program run again with only [`central_process_of_the_kill_test`],
/// which serves central's real code (`hallq_central::run`). `kill` is SIGKILL: the listener, the
/// hubs' open connections, batches half stored in their transactions and the database
/// connections all go at once, as when a server loses its power.
struct CentralServer {
    child: std::process::Child,
}

async fn serve_central(url: &str, addr: SocketAddr) -> CentralServer {
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "central_process_of_the_kill_test",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, url)
        .env(CHILD_ADDR, addr.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start central's process");
    let start = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "central's process does not listen on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    CentralServer { child }
}

impl CentralServer {
    fn kill(mut self) {
        // `Child::kill` is SIGKILL.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for CentralServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test: central's process for the kill test, when run with [`CHILD_DB`] set (it serves
/// until killed); without it, it returns at once.
#[test]
fn central_process_of_the_kill_test() {
    let (Ok(url), Ok(addr)) = (std::env::var(CHILD_DB), std::env::var(CHILD_ADDR)) else {
        return;
    };
    let addr: SocketAddr = addr.parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        // The port was the killed process's a moment ago.
        let start = Instant::now();
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "bind {addr}: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let store = hallq_central::Store::open(&url, 8).await.unwrap();
        let state = hallq_central::AppState::new(store, false);
        hallq_central::run(listener, state, std::future::pending())
            .await
            .unwrap();
    });
}

/// The issue asks for central cut off "for minutes": the hubs' back-off is shortened to 20–400 ms,
/// so that the same states (many failed tries, the back-off at its ceiling, a long backlog) are
/// reached in seconds.
fn options(url: &str, credential: &str) -> CentralOptions {
    let mut o = CentralOptions::new(url, credential).unwrap();
    o.idle = Duration::from_millis(100);
    o.heartbeat = Duration::from_millis(300);
    // Scaled down with the other waits: the 5 s a hub gathers commits for is not what these test.
    o.gather = Duration::from_millis(20);
    o.backoff_min = Duration::from_millis(20);
    o.backoff_max = Duration::from_millis(400);
    o.timeout = Duration::from_secs(2);
    // Small batches, so that a kill is likely to fall between batches of one backlog.
    o.batch = 7;
    o
}

type Hall = common::Serving;

async fn open_hall(
    dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    central: CentralOptions,
    fresh: bool,
) -> Hall {
    Hall::open(dir, clock, Some(central), fresh).await
}

impl Hall {
    async fn post(&self, path: &str, token: &str, body: Option<Value>) {
        let (st, b) = self.f.call("POST", path, Some(token), body).await;
        assert!(st.is_success(), "{path}: {st} {b}");
    }

    /// The manager starts (`true`) or ends the outage of the hall's business system.
    async fn outage(&self, start: bool) {
        let f = &self.f;
        let (st, b) = if start {
            f.call(
                "POST",
                "/api/v1/outage",
                Some(&f.manager),
                Some(json!({"expected_minutes": 20})),
            )
            .await
        } else {
            f.call("DELETE", "/api/v1/outage", Some(&f.manager), None)
                .await
        };
        assert!(st.is_success(), "outage {start}: {st} {b}");
    }

    /// A few minutes of a working hall: tickets issued, called at both counters after a wait
    /// that depends on `round` (some past the 15-minute target), served and now and then rated.
    async fn work(&self, round: u32) {
        let f = &self.f;
        for s in ["pay", "pay", "account"] {
            f.issue(s).await;
        }
        f.advance_ms(i64::from(3 + round % 4 * 5) * 60_000);
        for counter in [1, 2] {
            let token = if counter == 1 { &f.clerk1 } else { &f.clerk2 };
            let (st, _) = f
                .call(
                    "POST",
                    &format!("/api/v1/counters/{counter}/next"),
                    Some(token),
                    None,
                )
                .await;
            if st == StatusCode::OK {
                f.advance_ms(90_000);
                self.post(&format!("/api/v1/counters/{counter}/finish"), token, None)
                    .await;
                if counter == 1 && round.is_multiple_of(2) {
                    self.post(
                        "/api/v1/ratings",
                        &f.tablet,
                        Some(json!({"counter": 1, "score": 3 + round % 3})),
                    )
                    .await;
                }
            }
        }
        f.advance_ms(60_000);
    }
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn halls_ship_through_cuts_and_kills_and_central_agrees_with_their_reports() {
    let Some(pg) = pg::Pg::start() else { return };
    let url = pg.url();
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let central_url = format!("http://{addr}");
    // Opened first: it creates the tables, which two opening at once would race to do.
    let store = hallq_central::Store::open(&url, 4).await.unwrap();
    let central = serve_central(&url, addr).await;

    let names = ["城东营业厅", "城西营业厅", "乡镇服务点"];
    let mut halls = Vec::new();
    let mut credentials = Vec::new();
    for name in names {
        let credential = hallq_central::auth::new_secret();
        store
            .add_hall(name, &hallq_central::auth::sha256_hex(&credential))
            .await
            .unwrap();
        let clock = Arc::new(AtomicI64::new(shanghai(9, 30)));
        let dir = tempfile::tempdir().unwrap();
        let h = open_hall(dir, clock, options(&central_url, &credential), true).await;
        for c in [1, 2] {
            h.f.open_counter(c).await;
        }
        credentials.push(credential);
        halls.push(h);
    }

    for round in 0..3 {
        for h in &halls {
            h.work(round).await;
        }
    }
    // Central cut off while the halls keep working; the first hall's business system down for
    // a while meanwhile.
    central.kill();
    halls[0].outage(true).await;
    for round in 3..8 {
        for h in &halls {
            h.work(round).await;
        }
    }
    halls[0].outage(false).await;
    let failing = halls[0].central_status().await;
    assert!(failing["behind"].as_u64().unwrap() > 0, "{failing}");
    assert!(failing["failures"].as_u64().unwrap() > 0, "{failing}");
    let central = serve_central(&url, addr).await;
    // A hub stopped while its backlog is being shipped, then opened again on its data.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let h = halls.remove(1);
    let clock = h.f.clock.clone();
    let tablet = h.f.tablet.clone();
    let dir = h.close().await;
    let mut h = open_hall(dir, clock, options(&central_url, &credentials[1]), false).await;
    // Device tokens are kept in the hall's database; only the test's copy has to be carried.
    h.f.tablet = tablet;
    halls.insert(1, h);
    for round in 8..10 {
        for h in &halls {
            h.work(round).await;
        }
    }
    // Central killed mid-stream, its batches in flight cut, and back on the same database; the
    // third hall's business system down to the end.
    tokio::time::sleep(Duration::from_millis(15)).await;
    central.kill();
    halls[2].outage(true).await;
    for round in 10..12 {
        for h in &halls {
            h.work(round).await;
        }
    }
    let _central = serve_central(&url, addr).await;

    for h in &halls {
        wait_until("every hub caught up", Duration::from_secs(60), || async {
            h.central_status().await["behind"] == 0
        })
        .await;
    }

    let day: chrono::NaiveDate = "2026-11-25".parse().unwrap();
    let period = Period::day(day);
    // The halls' current day is rolled up by central's refresh about once a minute: now.
    store.refresh_rollups(Duration::ZERO).await.unwrap();
    let (league_names, days) = store.league_days(period).await.unwrap();
    let league = League::build(period, &league_names, &days);
    for (name, h) in names.iter().zip(&halls) {
        let last = h.last_seq();
        assert!(last > 60, "{name}: only {last} events");
        let c = store.conn().await.unwrap();
        let rows = c
            .query(
                "SELECT e.seq, count(*) FROM events e JOIN halls h ON h.id = e.hall_id \
                 WHERE h.name = $1 GROUP BY e.seq ORDER BY e.seq",
                &[name],
            )
            .await
            .unwrap();
        let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let expected: Vec<i64> = (1..=last as i64).collect();
        assert_eq!(seqs, expected, "{name}: the events central holds");
        assert!(rows.iter().all(|r| r.get::<_, i64>(1) == 1), "{name}");

        let hall_store = hallq_shared::store::Store::open_reader(h.f.hub.data_path()).unwrap();
        // Read at the hall's clock, which its last batch carried: an outage going on counts to it.
        let now = h.f.clock.load(Ordering::SeqCst);
        let r = hall_store
            .report_as_of(period, &HallConfig::demo(), now)
            .unwrap();
        let t = &r.totals;
        let row = league
            .halls
            .iter()
            .find(|r| r.hall == *name)
            .unwrap_or_else(|| panic!("{name} is in the league table"));
        assert!(t.issued > 30 && t.called > 20, "{name}: {t:?}");
        assert_eq!(row.issued, t.issued, "{name}");
        assert_eq!(row.called, t.called, "{name}");
        assert_eq!(row.served, t.served, "{name}");
        assert!(
            close(row.within_target, t.within_target),
            "{name}: {:?} {:?}",
            row.within_target,
            t.within_target
        );
        assert!(t.within_target.is_some_and(|s| s > 0.0 && s < 1.0), "{t:?}");
        assert!(close(row.mean_wait_s, t.wait.mean_s), "{name}");
        assert!(close(row.mean_service_s, t.service_time.mean_s), "{name}");
        assert_eq!(row.rated, t.satisfaction.rated, "{name}");
        assert!(t.satisfaction.rated > 0);
        assert!(close(row.satisfied_share, t.satisfaction.satisfied_share));
        assert_eq!(row.outages, r.incidents.outages, "{name}");
        assert_eq!(row.outage_s, r.incidents.outage_total_s, "{name}");
        // The first hall's outage ended, the third's goes on; the second had none.
        assert_eq!(
            row.outage_s > 0.0,
            *name != names[1],
            "{name}: {}",
            row.outage_s
        );
        assert_eq!(row.outage_longest_s, r.incidents.outage_longest_s, "{name}");
        assert_eq!(row.long_waits, r.incidents.long_waits, "{name}");
    }
}

/// A document published at central reaches the hall within a pull: the board's notices carry it,
/// the hub says which version it runs, and central's halls page finds the hall current. A
/// document the hall cannot take (central's checks passed by writing it straight into central's
/// table) is refused whole, shown in `GET /api/v1/central`, and the hall keeps what it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hall_pulls_what_central_publishes() {
    let Some(pg) = pg::Pg::start() else { return };
    let url = pg.url();
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let store = hallq_central::Store::open(&url, 4).await.unwrap();
    let central = serve_central(&url, addr).await;
    let credential = hallq_central::auth::new_secret();
    store
        .add_hall("城东营业厅", &hallq_central::auth::sha256_hex(&credential))
        .await
        .unwrap();
    let mut o = options(&format!("http://{addr}"), &credential);
    o.pull_every = Duration::from_millis(200);
    let clock = Arc::new(AtomicI64::new(shanghai(9, 30)));
    let h = open_hall(tempfile::tempdir().unwrap(), clock, o, true).await;
    assert!(h.central_status().await["published"]["version"].is_null());

    let toml = "notices = [ { zh = \"本月起缴费可用数字人民币\", en = \"Pay with e-CNY from this month\" } ]\n";
    let doc = hallq_shared::published::Published::from_toml(toml).unwrap();
    let v1 = store
        .publish(None, &serde_json::to_value(&doc).unwrap(), toml, "zongbu")
        .await
        .unwrap();
    wait_until("the hall runs v1", Duration::from_secs(20), || async {
        h.central_status().await["published"]["version"] == json!(v1)
    })
    .await;
    let (st, board) = h.f.call("GET", "/api/v1/board", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        board.to_string().contains("本月起缴费可用数字人民币"),
        "{board}"
    );
    // What the hall keeps is its own.
    assert_eq!(
        h.f.hub.writer.hall().read().unwrap().config.hall.name,
        HallConfig::demo().hall.name
    );
    wait_until(
        "central finds the hall current",
        Duration::from_secs(20),
        || async {
            let halls = store.halls_now().await.unwrap();
            let hall = halls.iter().find(|x| x.name == "城东营业厅").unwrap();
            hall.published_latest == Some(v1)
                && hall
                    .status
                    .as_ref()
                    .is_some_and(|s| s["config_version"] == json!(v1.to_string()))
        },
    )
    .await;

    let bad = json!({"notices": [{"zh": "x"}], "hall": {"name": "别的厅"}});
    let v2 = store.publish(None, &bad, "", "zongbu").await.unwrap();
    wait_until("the refusal is shown", Duration::from_secs(20), || async {
        h.central_status().await["published"]["error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("version {v2}")))
    })
    .await;
    let status = h.central_status().await;
    assert_eq!(status["published"]["version"], json!(v1), "{status}");
    // Central out of reach: the next ask fails, and the refusal still shows beside that.
    central.kill();
    wait_until(
        "the failed ask is shown",
        Duration::from_secs(20),
        || async { h.central_status().await["published"]["ask_error"].is_string() },
    )
    .await;
    let status = h.central_status().await;
    assert!(
        status["published"]["error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("version {v2}"))),
        "{status}"
    );
    let (_, board) = h.f.call("GET", "/api/v1/board", None, None).await;
    assert!(board.to_string().contains("本月起缴费可用数字人民币"));
    h.close().await;
}

// ---- a hub killed mid-batch ---------------------------------------------------------------------

const HUB_BIN: &str = env!("CARGO_BIN_EXE_hallq-hub");

/// `hallq-hub serve` on a loopback port, shipping to central: the process and its address.
fn start_hub(
    data: &std::path::Path,
    config: &std::path::Path,
    url: &str,
    key: &std::path::Path,
) -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(HUB_BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .arg("--central-url")
        .arg(url)
        .arg("--central-credential-file")
        .arg(key)
        // Every commit shipped at once, so that the kills fall on batches in flight.
        .arg("--central-gather-ms")
        .arg("0")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the hub exited before listening")
            .unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // The log is drained, so that the hub never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, addr)
}

fn hub_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(HUB_BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_mid_batch_again_and_again_ships_every_event_once() {
    let Some(pg) = pg::Pg::start() else { return };
    let url = pg.url();
    let store = hallq_central::Store::open(&url, 4).await.unwrap();
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let _central = serve_central(&url, addr).await;
    let credential = hallq_central::auth::new_secret();
    store
        .add_hall("城南营业厅", &hallq_central::auth::sha256_hex(&credential))
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    let config = tmp.path().join("hall.toml");
    std::fs::write(&config, hallq_hub::cli::demo_config().to_toml()).unwrap();
    let key = tmp.path().join("central.key");
    std::fs::write(&key, format!("{credential}\n")).unwrap();
    let kiosk = hub_cli(&[
        "device",
        "add",
        "kiosk-door",
        "--role",
        "kiosk",
        "--data-dir",
        data_s,
    ])
    .trim()
    .to_string();

    // Each round: the hub issues tickets as fast as the kiosk asks, shipping as it commits, and
    // is killed (SIGKILL) after a while that differs from round to round.
    let mut acknowledged = Vec::new();
    for round in 0..6u64 {
        let (mut hub, hub_addr) = start_hub(&data, &config, &format!("http://{addr}"), &key);
        let kiosk = kiosk.clone();
        let issuing = tokio::spawn(async move {
            let mut numbers = Vec::new();
            let Ok(mut h) = common::net::Http::connect(hub_addr).await else {
                return numbers;
            };
            for i in 0..400 {
                let body = json!({"service": if i % 3 == 0 { "account" } else { "pay" }});
                match h
                    .request(
                        "POST",
                        "/api/v1/tickets",
                        Some(&kiosk),
                        Some(&body.to_string()),
                    )
                    .await
                {
                    Ok((201, b)) => {
                        let t: Value = serde_json::from_str(&b).unwrap();
                        numbers.push(t["number"].as_str().unwrap().to_string());
                    }
                    // The hub was killed under the request: not acknowledged.
                    _ => break,
                }
            }
            numbers
        });
        tokio::time::sleep(Duration::from_millis(120 + round * 37 % 150)).await;
        hub.kill().unwrap();
        hub.wait().unwrap();
        acknowledged.extend(issuing.await.unwrap());
    }
    assert!(
        acknowledged.len() > 50,
        "only {} tickets",
        acknowledged.len()
    );

    // Started once more, the hub catches up.
    let (mut hub, _) = start_hub(&data, &config, &format!("http://{addr}"), &key);
    let db = hallq_shared::store::db_path(&data);
    let last = hallq_shared::store::Store::open_reader(&db)
        .unwrap()
        .ship_batch(0, None, 1, 0)
        .unwrap()
        .committed;
    wait_until(
        "central holds every event",
        Duration::from_secs(60),
        || async {
            store
                .halls_now()
                .await
                .unwrap()
                .iter()
                .any(|h| h.name == "城南营业厅" && h.stored_through as u64 >= last)
        },
    )
    .await;
    hub.kill().unwrap();
    hub.wait().unwrap();

    let c = store.conn().await.unwrap();
    let rows = c
        .query(
            "SELECT e.seq, count(*) FROM events e JOIN halls h ON h.id = e.hall_id \
             WHERE h.name = $1 GROUP BY e.seq ORDER BY e.seq",
            &[&"城南营业厅"],
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        seqs,
        (1..=last as i64).collect::<Vec<_>>(),
        "every event, once"
    );
    assert!(rows.iter().all(|r| r.get::<_, i64>(1) == 1));
    // Every acknowledged ticket is at central too.
    let held: std::collections::HashSet<String> = c
        .query(
            "SELECT t.number FROM tickets t JOIN halls h ON h.id = t.hall_id WHERE h.name = $1",
            &[&"城南营业厅"],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for n in &acknowledged {
        assert!(
            held.contains(n),
            "ticket {n} was acknowledged by the hall but is not at central"
        );
    }
}
