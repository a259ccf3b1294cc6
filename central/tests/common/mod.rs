//! The fixture of central's tests: a real PostgreSQL cluster of its own in a temporary folder on a
//! loopback port, central served on another, a small HTTP client, and batches as a hub builds them.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hallq_central::{AppState, Store};
use serde_json::{Value, json};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server for one test, stopped (immediately: the data is thrown away) on drop.
pub struct Pg {
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Pg {
    /// A fresh cluster, or `None` (with the reason printed) when PostgreSQL is not installed;
    /// with `CI=true` that is a failure instead.
    pub fn start() -> Option<Pg> {
        let bin = Path::new(PG_BIN);
        if !bin.join("initdb").exists() {
            let why = format!(
                "PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): apt-get install postgresql, \
                 or run deploy/dev-setup.sh"
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}");
            }
            eprintln!("skipped: {why}");
            return None;
        }
        // PostgreSQL refuses to run as root: as root (CI), the cluster belongs to `postgres`, in
        // /tmp, which that user can reach whatever TMPDIR says.
        let as_postgres = is_root();
        let builder = tempfile::Builder::new().prefix("hallq-central-pg").clone();
        let dir = if as_postgres {
            builder.tempdir_in("/tmp")
        } else {
            builder.tempdir()
        }
        .expect("a temporary folder");
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the cluster's folder to postgres");
        }
        let pg = Pg {
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let opts = format!(
            "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
             -c synchronous_commit=off -c max_connections=60",
            pg.dir.path().display(),
            pg.port
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                pg.dir.path().join("log").to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        Some(pg)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = Path::new(PG_BIN).join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL program");
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
            panic!(
                "{program} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.data();
        let path = Path::new(PG_BIN).join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = cmd
            .args([
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

/// Central served on a loopback port from its own task; dropping it stops it at once, as a
/// killed process would (requests in flight are cut).
pub struct Central {
    pub addr: SocketAddr,
    pub store: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Central {
    pub async fn start(url: &str) -> Central {
        let store = Store::open(url, 8)
            .await
            .expect("open the central database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(store.clone(), false);
        let task = tokio::spawn(async move {
            let _ = hallq_central::run(listener, state, std::future::pending()).await;
        });
        Central { addr, store, task }
    }

    /// Register a hall; its credential.
    pub async fn hall(&self, name: &str) -> String {
        let credential = hallq_central::auth::new_secret();
        self.store
            .add_hall(name, &hallq_central::auth::sha256_hex(&credential))
            .await
            .unwrap();
        credential
    }

    /// Adds the head-office operator `zongbu` and signs in: the session cookie.
    pub async fn sign_in_operator(&self) -> String {
        self.store
            .set_operator(
                "zongbu",
                &hallq_central::auth::hash_password("head-office-pw").unwrap(),
            )
            .await
            .unwrap();
        let r = self
            .request(
                "POST",
                "/signin",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                b"login=zongbu&password=head-office-pw",
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        r.header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string()
    }

    /// The row of hall `name` in `GET /api/v1/halls`, as the signed-in operator sees it.
    pub async fn hall_now(&self, cookie: &str, name: &str) -> Value {
        let halls = self
            .request("GET", "/api/v1/halls", &[("Cookie", cookie)], b"")
            .await
            .json();
        halls
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hall"] == name)
            .unwrap_or_else(|| panic!("{name} in {halls}"))
            .clone()
    }

    pub async fn ship(&self, credential: &str, batch: &Value) -> Reply {
        self.request(
            "POST",
            "/api/v1/ship",
            &[
                ("Authorization", &format!("Bearer {credential}")),
                ("Content-Type", "application/json"),
            ],
            batch.to_string().as_bytes(),
        )
        .await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let addr = self.addr;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        )
        .into_bytes();
        for (k, v) in headers {
            req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        tokio::task::spawn_blocking(move || http(addr, &req))
            .await
            .unwrap()
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn stored_through(&self) -> u64 {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()["stored_through"].as_u64().unwrap()
    }
}

/// One HTTP/1.1 exchange with `Connection: close`: the answer is read to the end of the stream.
pub fn http(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let body = if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A hall's simulated history, as a hub would ship it: events numbered from 1, each ticket's
/// current row, ratings.
pub struct HallHistory {
    pub events: Vec<Value>,
    pub tickets: Vec<Value>,
    pub ratings: Vec<Value>,
}

/// Milliseconds of 09:00 Shanghai time on `day` (`YYYY-MM-DD`).
pub fn nine_am(day: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    d.and_hms_opt(1, 0, 0).unwrap().and_utc().timestamp_millis()
}

impl HallHistory {
    /// `days` business days of `per_day` tickets each, with waits spread around the target so
    /// that shares within 15 minutes are neither 0 nor 1; `seed` varies the halls.
    pub fn build(days: &[&str], per_day: u32, seed: u64) -> HallHistory {
        let mut h = HallHistory {
            events: Vec::new(),
            tickets: Vec::new(),
            ratings: Vec::new(),
        };
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut rnd = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut callback_id = 0;
        for day in days {
            let base = nine_am(day);
            let push =
                |h: &mut HallHistory, at: i64, actor: &str, counter: Option<u32>, kind: Value| {
                    let seq = h.events.len() as u64 + 1;
                    h.events
                        .push(json!({"seq": seq, "day": day, "at": at, "actor": actor,
                                     "counter": counter, "kind": kind}));
                };
            push(
                &mut h,
                base - 600_000,
                "system",
                None,
                json!({"type": "day_started", "day": day}),
            );
            push(
                &mut h,
                base - 300_000,
                "clerk1",
                Some(1),
                json!({"type": "counter_state_changed", "counter": 1, "state": "open", "released": []}),
            );
            for i in 0..per_day {
                let service = if i % 3 == 0 { "pay" } else { "account" };
                let prefix = if service == "pay" { "B" } else { "A" };
                let number = format!("{prefix}{:03}", i + 1);
                let issued = base + i64::from(i) * 120_000;
                let wait = (rnd(30 * 60) as i64) * 1000;
                let service_ms = (60 + rnd(900) as i64) * 1000;
                let counter = 1 + (i % 2);
                push(
                    &mut h,
                    issued,
                    "kiosk",
                    None,
                    json!({"type": "ticket_issued",
                    "ticket": {"number": number, "service": service}}),
                );
                let called = issued + wait;
                let outcome = rnd(10);
                if outcome == 0 {
                    // Never called: still waiting.
                    h.tickets
                        .push(json!({"day": day, "number": number, "service": service,
                        "first_service": service, "state": "waiting", "counter": null,
                        "issued_at": issued, "first_called_at": null, "called_at": null,
                        "started_at": null, "finished_at": null, "transfers": 0,
                        "estimated_wait_s": 300}));
                    continue;
                }
                push(
                    &mut h,
                    called,
                    "clerk1",
                    Some(counter),
                    json!({"type": "ticket_called",
                    "number": number, "service": service, "counter": counter,
                    "apology": false, "specific": false}),
                );
                if outcome == 1 {
                    push(
                        &mut h,
                        called + 60_000,
                        "clerk1",
                        Some(counter),
                        json!({"type": "ticket_no_show",
                        "number": number, "counter": counter}),
                    );
                    h.tickets
                        .push(json!({"day": day, "number": number, "service": service,
                        "first_service": service, "state": "no_show", "counter": counter,
                        "issued_at": issued, "first_called_at": called, "called_at": called,
                        "started_at": null, "finished_at": null, "transfers": 0,
                        "estimated_wait_s": 300}));
                    continue;
                }
                let finished = called + service_ms;
                push(
                    &mut h,
                    finished,
                    "clerk1",
                    Some(counter),
                    json!({"type": "ticket_finished",
                    "number": number, "counter": counter, "service_secs": service_ms / 1000}),
                );
                h.tickets
                    .push(json!({"day": day, "number": number, "service": service,
                    "first_service": service, "state": "finished", "counter": counter,
                    "issued_at": issued, "first_called_at": called, "called_at": called,
                    "started_at": called + 5_000, "finished_at": finished, "transfers": 0,
                    "estimated_wait_s": 300}));
                if outcome < 8 {
                    h.ratings
                        .push(json!({"day": day, "number": number, "counter": counter,
                        "score": 1 + rnd(5), "at": finished + 10_000}));
                }
            }
            push(
                &mut h,
                base + 3_600_000,
                "system",
                None,
                json!({"type": "outage_started",
                "outage": {"id": 1, "started_at": base + 3_600_000}}),
            );
            push(
                &mut h,
                base + 3_700_000,
                "system",
                None,
                json!({"type": "long_wait_began", "service": "pay"}),
            );
            push(
                &mut h,
                base + 4_000_000,
                "system",
                None,
                json!({"type": "long_wait_ended", "service": "pay"}),
            );
            callback_id += 1;
            push(
                &mut h,
                base + 4_100_000,
                "kiosk",
                None,
                json!({"type": "callback_captured",
                "id": callback_id, "phone_masked": "138****0000", "origin": "kiosk",
                "outage_id": null, "ticket": null}),
            );
            if callback_id % 2 == 1 {
                push(
                    &mut h,
                    base + 5_000_000,
                    "clerk1",
                    None,
                    json!({"type": "callback_updated",
                    "id": callback_id, "status": "resolved", "owner": "clerk1", "note_added": false}),
                );
            }
        }
        h
    }

    /// The batch of events `from..=to` (seq), with the tickets their events touch (here: every
    /// ticket of their days) and the ratings of those days.
    pub fn batch(&self, from: u64, to: u64) -> Value {
        let events: Vec<&Value> = self
            .events
            .iter()
            .filter(|e| (from..=to).contains(&e["seq"].as_u64().unwrap()))
            .collect();
        let days: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e["day"].as_str().unwrap()).collect();
        let of_days = |v: &Vec<Value>| -> Vec<Value> {
            v.iter()
                .filter(|t| days.contains(t["day"].as_str().unwrap()))
                .cloned()
                .collect()
        };
        // The hub's clock when it sends: at least its latest event's.
        let clock = self.clock(to);
        json!({
            "version": 1,
            "hub": "0.2.0",
            "events": events,
            "tickets": of_days(&self.tickets),
            "ratings": of_days(&self.ratings),
            "status": {"at": clock, "day": days.iter().next_back(), "waiting": 3,
                       "long_waits": ["pay"], "outage": null, "callbacks_open": 1,
                       "config_version": null},
        })
    }

    /// The batch of events `from..=to` as a live hub sends it: with the rows of only the tickets
    /// those events name (and their ratings), not every ticket of their days.
    pub fn live_batch(&self, from: u64, to: u64) -> Value {
        let mut b = self.batch(from, to);
        let named: std::collections::BTreeSet<(String, String)> = b["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| {
                let k = &e["kind"];
                let number = k["number"].as_str().or(k["ticket"]["number"].as_str())?;
                Some((e["day"].as_str()?.to_string(), number.to_string()))
            })
            .collect();
        for rows in ["tickets", "ratings"] {
            let kept: Vec<Value> = b[rows]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| {
                    let key = (
                        t["day"].as_str().unwrap().to_string(),
                        t["number"].as_str().unwrap().to_string(),
                    );
                    named.contains(&key)
                })
                .cloned()
                .collect();
            b[rows] = json!(kept);
        }
        b
    }

    pub fn last_seq(&self) -> u64 {
        self.events.len() as u64
    }

    /// The latest instant among events `1..=to`: the hub's clock in the status of a batch
    /// ending there, which central counts an outage going on up to.
    pub fn clock(&self, to: u64) -> i64 {
        self.events
            .iter()
            .take(to as usize)
            .map(|e| e["at"].as_i64().unwrap())
            .max()
            .unwrap_or(0)
    }

    /// Put `event` (without its `seq`) before the event at `index`, numbering the events again.
    pub fn insert(&mut self, index: usize, mut event: Value) {
        event["seq"] = json!(0);
        self.events.insert(index, event);
        for (i, e) in self.events.iter_mut().enumerate() {
            e["seq"] = json!(i as u64 + 1);
        }
    }
}
