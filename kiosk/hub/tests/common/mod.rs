//! Test fixture: a real hub (real SQLite in a temp dir, real writer thread) with a fake clock,
//! accounts and devices for every role, driven through the router.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{NaiveDate, NaiveTime, TimeZone};
use hallq_hub::{self as hub, AppState, Hub, HubOptions, auth};
use hallq_shared::config::HallConfig;
use hallq_shared::store::{Store, db_path};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse";

pub struct Fixture {
    pub hub: AppState,
    pub app: Router,
    pub dir: tempfile::TempDir,
    pub clock: Arc<AtomicI64>,
    pub kiosk: String,
    pub display: String,
    /// The rating tablet of counter 1.
    pub tablet: String,
    /// Clerk signed in at counter 1.
    pub clerk1: String,
    /// Clerk signed in at counter 2.
    pub clerk2: String,
    pub manager: String,
}

/// Milliseconds of a local time in Shanghai on 2026-11-25.
pub fn shanghai(h: u32, m: u32) -> i64 {
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let local = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap());
    tz.from_local_datetime(&local).unwrap().timestamp_millis()
}

/// Accounts and devices of every role: (kiosk, display, counter 1's rating tablet) tokens.
pub fn add_accounts(dir: &std::path::Path) -> (String, String, String) {
    let store = Store::open(&db_path(dir)).unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    for (login, role) in [
        ("clerk1", "staff"),
        ("clerk2", "staff"),
        ("boss", "manager"),
    ] {
        store.add_account(login, role, &hash, 0).unwrap();
    }
    let kiosk = auth::new_token();
    let display = auth::new_token();
    store
        .add_device("kiosk-1", "kiosk", &auth::token_hash(&kiosk), 0)
        .unwrap();
    store
        .add_device("display-1", "display", &auth::token_hash(&display), 0)
        .unwrap();
    let tablet = auth::new_token();
    store
        .add_device_at("tablet-1", "tablet", Some(1), &auth::token_hash(&tablet), 0)
        .unwrap();
    (kiosk, display, tablet)
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture::with(HallConfig::demo(), 256).await
    }

    pub async fn with(config: HallConfig, stream_buffer: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (kiosk, display, tablet) = add_accounts(dir.path());
        let clock = Arc::new(AtomicI64::new(shanghai(10, 0)));
        let c = clock.clone();
        let mut opts = HubOptions::new(dir.path(), config);
        opts.clock = Arc::new(move || c.load(Ordering::SeqCst));
        opts.stream_buffer = stream_buffer;
        let hub = Hub::open(opts).unwrap();
        Fixture::signed_in(hub, dir, clock, (kiosk, display, tablet)).await
    }

    /// A fixture on an open `hub` with the device tokens, its clerks and manager signed in.
    async fn signed_in(
        hub: AppState,
        dir: tempfile::TempDir,
        clock: Arc<AtomicI64>,
        (kiosk, display, tablet): (String, String, String),
    ) -> Fixture {
        let app = hub::app(hub.clone());
        let mut f = Fixture {
            hub,
            app,
            dir,
            clock,
            kiosk,
            display,
            tablet,
            clerk1: String::new(),
            clerk2: String::new(),
            manager: String::new(),
        };
        f.clerk1 = f.login("clerk1", Some(1)).await;
        f.clerk2 = f.login("clerk2", Some(2)).await;
        f.manager = f.login("boss", None).await;
        f
    }

    /// Stops this hub and opens a new one on the same data directory and clock, as after a
    /// restart: accounts, device tokens and sessions carry over (they are in the database).
    pub async fn restart(self) -> Fixture {
        let Fixture {
            hub,
            app,
            dir,
            clock,
            kiosk,
            display,
            tablet,
            clerk1,
            clerk2,
            manager,
        } = self;
        drop(app);
        let_go(hub, "its router went").await;
        let c = clock.clone();
        let mut opts = HubOptions::new(dir.path(), HallConfig::demo());
        opts.clock = Arc::new(move || c.load(Ordering::SeqCst));
        let hub = Hub::open(opts).unwrap();
        let app = hub::app(hub.clone());
        Fixture {
            hub,
            app,
            dir,
            clock,
            kiosk,
            display,
            tablet,
            clerk1,
            clerk2,
            manager,
        }
    }

    pub async fn login(&self, login: &str, counter: Option<u32>) -> String {
        let (st, body) = self
            .call(
                "POST",
                "/api/v1/login",
                None,
                Some(serde_json::json!({"login": login, "password": PASSWORD, "counter": counter})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_time(&self, at: i64) {
        self.clock.store(at, Ordering::SeqCst);
    }

    /// One request through the router; the body, parsed as JSON when it is JSON (else a string).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, v)
    }

    /// The clerk at `counter` presses `steps` in turn ("next", "start", "finish"…), each accepted.
    pub async fn counter_steps(&self, counter: u32, token: &str, steps: &[&str]) {
        for step in steps {
            let (st, b) = self
                .call(
                    "POST",
                    &format!("/api/v1/counters/{counter}/{step}"),
                    Some(token),
                    None,
                )
                .await;
            assert!(st.is_success(), "{step}: {b}");
        }
    }

    pub async fn open_counter(&self, id: u32) {
        let (st, b) = self
            .call(
                "POST",
                &format!("/api/v1/counters/{id}/open"),
                Some(&self.manager),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }

    pub async fn issue(&self, service: &str) -> String {
        let (st, b) = self
            .call(
                "POST",
                "/api/v1/tickets",
                Some(&self.manager),
                Some(serde_json::json!({"service": service})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        b["number"].as_str().unwrap().to_string()
    }
}

/// Drop the last hold on `hub` (its database and writer thread close with it) once its other
/// holders, the router's clones and tasks, have gone: waited for up to 4 s. `after` says what
/// should have let go of it, for the failure message.
async fn let_go(hub: AppState, after: &str) {
    let mut hub = Some(hub);
    for _ in 0..200 {
        match Arc::try_unwrap(hub.take().unwrap()) {
            Ok(h) => {
                tokio::task::spawn_blocking(move || drop(h)).await.unwrap();
                return;
            }
            Err(h) => {
                hub = Some(h);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
    panic!("the hub is still held 4 s after {after}");
}

/// The error code of an error body.
pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}
pub mod net;
pub mod who;

/// A hub serving on a loopback port of its own, so that its background tasks (shipping to
/// central, pulling published texts) run as in `serve`; driven through `f` like any fixture.
pub struct Serving {
    pub f: Fixture,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Serving {
    /// Open the hub on `dir` with `clock` and `central`; `fresh` adds the accounts and devices
    /// (a reopened hall has them in its database; the test carries its copies of the tokens).
    pub async fn open(
        dir: tempfile::TempDir,
        clock: Arc<AtomicI64>,
        central: Option<hallq_hub::central::CentralOptions>,
        fresh: bool,
    ) -> Serving {
        let (kiosk, display, tablet) = if fresh {
            add_accounts(dir.path())
        } else {
            Default::default()
        };
        let c = clock.clone();
        let mut opts = HubOptions::new(dir.path(), HallConfig::demo());
        opts.clock = Arc::new(move || c.load(Ordering::SeqCst));
        opts.central = central;
        let hub = Hub::open(opts).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(hub::run_on(
            listener,
            None,
            hub.clone(),
            async {
                let _ = rx.await;
            },
            hub::ServeOptions::for_this_process(),
        ));
        let f = Fixture::signed_in(hub, dir, clock, (kiosk, display, tablet)).await;
        Serving {
            f,
            stop: Some(stop),
            task,
        }
    }

    /// Stop serving (the background tasks stop with it, a request in flight is dropped) and let
    /// go of the database.
    pub async fn close(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.task)
            .await
            .expect("the hub stops within 10 s")
            .unwrap()
            .unwrap();
        let Fixture { hub, app, dir, .. } = self.f;
        drop(app);
        let_go(hub, "it stopped").await;
        dir
    }

    /// The last committed seq (the published hall has it before any caller hears "done").
    pub fn last_seq(&self) -> u64 {
        self.f.hub.writer.hall().read().unwrap().last_seq
    }

    /// `GET /api/v1/central`, as a manager.
    pub async fn central_status(&self) -> Value {
        let (st, b) = self
            .f
            .call("GET", "/api/v1/central", Some(&self.f.manager), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        b["central"].clone()
    }
}
