//! A small hub for the kiosk's tests: real HTTP on 127.0.0.1 (port 0) in front of the real queue engine
//! of `hallq-shared`, with the demo hall and a clock the test sets. It answers the routes the kiosk
//! uses and remembers what the kiosk sent, so tests can check both the screen and the wire.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Hall, Reply};
use hallq_shared::hall::{CounterState, Now};
use hallq_shared::protocol::{BoardSnapshot, Role};
use serde_json::{Value, json};

pub const TOKEN: &str = "kiosk-door-token";

/// One request as the hub received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub auth: Option<String>,
    pub body: String,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub struct HubState {
    pub hall: Hall,
    pub now: Now,
    pub seen: Vec<Seen>,
    /// Answer `POST /api/v1/tickets` with 429 (the rate limit).
    pub rate_limited: bool,
    /// Stop answering (accept, then close without a reply).
    pub silent: bool,
}

pub struct FakeHub {
    pub url: String,
    pub state: Arc<Mutex<HubState>>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

pub fn at(h: u32, m: u32) -> Now {
    Now::at_local(day(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// The demo hall (on UTC) at 09:41 with its counters open and a realistic morning queue.
pub fn busy_morning() -> (Hall, Now) {
    let mut config = HallConfig::demo();
    // The test clock is local time counted as UTC (`Now::at_local`): a hall on UTC reads it as set.
    config.hall.time_zone = "UTC".into();
    let mut hall = Hall::new(config, day());
    let sys = Actor::system();
    let kiosk = Actor::new("kiosk-door", Role::Kiosk, None);
    let t0 = at(8, 30);
    for c in 1..=4 {
        hall.execute(
            &Command::SetCounter {
                counter: c,
                state: CounterState::Open,
            },
            &sys,
            t0,
        )
        .unwrap();
    }
    let queue = [
        ("pay", 5),
        ("account", 3),
        ("repair", 2),
        ("stb", 1),
        ("complaint", 1),
    ];
    let mut minute = 0;
    for (service, n) in queue {
        for _ in 0..n {
            minute += 1;
            hall.execute(
                &Command::IssueTicket {
                    service: service.into(),
                    priority: false,
                },
                &kiosk,
                t0.plus_ms(minute * 60_000),
            )
            .unwrap();
        }
    }
    (hall, at(9, 41))
}

impl FakeHub {
    pub fn start(hall: Hall, now: Now) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(HubState {
            hall,
            now,
            seen: Vec::new(),
            rate_limited: false,
            silent: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stopping) = (Arc::clone(&state), Arc::clone(&stop));
        thread::spawn(move || {
            // Bounded by the hub's life: the test drops it and this loop ends.
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let st = Arc::clone(&st);
                        thread::spawn(move || serve(stream, &st));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeHub { url, state, stop }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut HubState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn run(&self, cmd: Command) {
        self.with(|s| {
            let now = s.now;
            s.hall.execute(&cmd, &Actor::system(), now).unwrap();
        });
    }

    pub fn set_time(&self, h: u32, m: u32) {
        self.with(|s| {
            s.now = at(h, m);
            let now = s.now;
            s.hall
                .execute(&Command::Tick, &Actor::system(), now)
                .unwrap();
        });
    }

    pub fn board(&self) -> BoardSnapshot {
        self.with(|s| snapshot(s))
    }

    pub fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.with(|s| {
            s.seen
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .cloned()
                .collect()
        })
    }
}

pub fn snapshot(s: &HubState) -> BoardSnapshot {
    BoardSnapshot {
        seq: s.hall.last_seq,
        live: s.hall.board_live(s.now),
        notices: s.hall.notices(s.now.at),
    }
}

fn serve(stream: TcpStream, state: &Mutex<HubState>) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "authorization" => auth = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let seen = Seen {
        method,
        path,
        auth,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, reply) = {
        let mut s = state.lock().unwrap();
        s.seen.push(seen.clone());
        if s.silent {
            return;
        }
        route(&mut s, &seen)
    };
    let text = reply.map(|v| v.to_string()).unwrap_or_default();
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        401 => "Unauthorized",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        _ => "Other",
    };
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = out.flush();
}

fn error(code: &str, message: &str, zh: &str) -> Option<Value> {
    Some(json!({"error": {"code": code, "message": message, "message_zh": zh}}))
}

fn route(s: &mut HubState, r: &Seen) -> (u16, Option<Value>) {
    let device = Actor::new("kiosk-door", Role::Kiosk, None);
    let authorised = r.auth.as_deref() == Some(&format!("Bearer {TOKEN}"));
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/v1/board") => (200, Some(serde_json::to_value(snapshot(s)).unwrap())),
        _ if !authorised => (401, error("unauthorized", "bad device token", "设备未授权")),
        ("POST", "/api/v1/tickets") => {
            if s.rate_limited {
                return (429, error("rate_limited", "too many tickets", "取号太频繁"));
            }
            let v = r.json();
            let cmd = Command::IssueTicket {
                service: v["service"].as_str().unwrap_or("").into(),
                priority: v["priority"].as_bool().unwrap_or(false),
            };
            let now = s.now;
            match s.hall.execute(&cmd, &device, now) {
                Ok(done) => match done.reply {
                    Reply::Issued(t) => (201, Some(serde_json::to_value(t).unwrap())),
                    _ => (500, None),
                },
                Err(e) => (409, error(e.code, &e.message, &e.message_zh)),
            }
        }
        ("POST", "/api/v1/callbacks") => {
            let v = r.json();
            let cmd = Command::CaptureCallback {
                phone: v["phone"].as_str().unwrap_or("").into(),
                consent: v["consent"].as_bool().unwrap_or(false),
                ticket: v["ticket"].as_str().map(Into::into),
                address: v["address"].as_str().map(Into::into),
                reason: v["reason"].as_str().map(Into::into),
            };
            let now = s.now;
            match s.hall.execute(&cmd, &device, now) {
                Ok(done) => match done.reply {
                    Reply::CallbackCaptured(c) => (201, Some(serde_json::to_value(c).unwrap())),
                    _ => (500, None),
                },
                Err(e) => (422, error(e.code, &e.message, &e.message_zh)),
            }
        }
        ("POST", "/api/v1/suggestions") => (201, Some(json!({"id": s.seen.len()}))),
        ("PUT", "/api/v1/kiosk/status") => (204, None),
        _ => (404, error("not_found", "no such route", "没有这个地址")),
    }
}
