//! The board against the real hub (SQLite in a temp dir, real HTTP and WebSocket on loopback): a call
//! made through the hub's API becomes the board's current call, the board follows the next call, shows
//! the reconnecting state (never an old call as current) while the hub is down, and resynchronises when
//! the hub comes back on the same data and port.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hallq_board::http::{self, HubUrl};
use hallq_board::link::{Link, LinkConfig, LinkEvent};
use hallq_board::screen::{Kind, Screen};
use hallq_board::ui;
use hallq_hub::{self as hub, AppState, Hub, HubOptions, auth};
use hallq_shared::config::HallConfig;
use hallq_shared::protocol::PhoneCode;
use hallq_shared::qr::PhoneCodeFeed;
use hallq_shared::store::{Store, db_path};
use serde_json::json;
use slint::ComponentHandle;

const PASSWORD: &str = "correct horse";

/// Adds a manager and a display device; returns the display's token.
fn accounts(dir: &Path) -> String {
    let store = Store::open(&db_path(dir)).unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    store.add_account("boss", "manager", &hash, 0).unwrap();
    let display = auth::new_token();
    store
        .add_device("board-1", "display", &auth::token_hash(&display), 0)
        .unwrap();
    display
}

/// A hub serving on `addr` until told to stop.
struct RunningHub {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    addr: SocketAddr,
}

fn start_hub(rt: &tokio::runtime::Runtime, dir: &Path, addr: SocketAddr) -> RunningHub {
    // Open all day, whatever the hour in the hall's time zone when the test runs.
    let mut hall = HallConfig::demo();
    hall.hours.opening = chrono::NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    hall.hours.last_ticket = chrono::NaiveTime::from_hms_opt(23, 59, 0).unwrap();
    hall.hours.closing = hall.hours.last_ticket;
    let opts = HubOptions::new(dir, hall);
    let state: AppState = {
        let _guard = rt.enter();
        Hub::open(opts).unwrap()
    };
    let listener = rt.block_on(async {
        // The old socket may linger briefly after a stop; retry a few times.
        let mut tries = 0;
        loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot bind {addr} again: {e}"),
            }
        }
    });
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(async move {
        hub::run(listener, state.clone(), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
        // Let the writer finish and close the database before a new hub opens it.
        let mut state = state;
        for _ in 0..200 {
            match std::sync::Arc::try_unwrap(state) {
                Ok(h) => {
                    let _ = tokio::task::spawn_blocking(move || drop(h)).await;
                    return;
                }
                Err(s) => {
                    state = s;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        panic!("the hub's state is still held 4 s after it stopped");
    });
    RunningHub {
        stop: Some(tx),
        task,
        addr,
    }
}

fn stop_hub(rt: &tokio::runtime::Runtime, mut h: RunningHub) {
    let _ = h.stop.take().unwrap().send(());
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), &mut h.task)
            .await
            .expect("the hub did not stop within 10 s")
            .unwrap();
    });
}

fn post(
    hub: &HubUrl,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    let resp = http::post_json(hub, path, token, &body).unwrap();
    let text = String::from_utf8_lossy(&resp.body).into_owned();
    assert!(
        (200..300).contains(&resp.status),
        "POST {path}: {} {text}",
        resp.status
    );
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// The big call on the board: `(connected, number of the current call)`.
fn current(screen: &Screen) -> (bool, Option<String>) {
    let kind = screen.kind();
    let Kind::Board(w) = &*kind else {
        panic!("a board was made")
    };
    let g = w.global::<ui::Board>();
    let number = g
        .get_has_current()
        .then(|| g.get_current().number.to_string());
    (g.get_connected(), number)
}

/// Feeds link events to the screen until `done` holds; panics after 15 s. Every state the screen
/// passes through is checked with `each`.
fn until(
    rx: &mpsc::Receiver<LinkEvent>,
    screen: &Screen,
    what: &str,
    mut each: impl FnMut((bool, Option<String>)),
    done: impl Fn(&(bool, Option<String>)) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = current(screen);
        each(now.clone());
        if done(&now) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{what}: not within 15 s (board shows {now:?})"
        );
        if let Ok(event) = rx.recv_timeout(left.min(Duration::from_millis(200))) {
            screen.handle(event);
        }
    }
}

#[test]
fn the_board_follows_the_real_hub_through_a_restart() {
    i_slint_backend_testing::init_no_event_loop();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let display_token = accounts(dir.path());
    let running = start_hub(&rt, dir.path(), "127.0.0.1:0".parse().unwrap());
    let addr = running.addr;
    let hub = HubUrl::parse(&format!("http://{addr}")).unwrap();

    let login = post(
        &hub,
        "/api/v1/login",
        None,
        json!({"login": "boss", "password": PASSWORD}),
    );
    let manager = login["token"].as_str().unwrap().to_string();
    post(&hub, "/api/v1/counters/1/open", Some(&manager), json!({}));
    for _ in 0..3 {
        post(
            &hub,
            "/api/v1/tickets",
            Some(&manager),
            json!({"service": "pay"}),
        );
    }

    let screen = Screen::board(1920, 1080).unwrap();
    screen.set_animate(false);
    screen.lost();
    let (tx, rx) = mpsc::channel();
    let mut config = LinkConfig::new(hub.clone(), Some(display_token));
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(300);
    let link = Link::spawn(config, move |e| {
        let _ = tx.send(e);
    });
    until(&rx, &screen, "connected", |_| {}, |s| s.0);
    assert_eq!(current(&screen).1, None, "nothing called yet");

    let first = post(&hub, "/api/v1/counters/1/next", Some(&manager), json!({}));
    let first = first["number"].as_str().unwrap().to_string();
    until(
        &rx,
        &screen,
        "the first call shown",
        |_| {},
        |s| s.1.as_deref() == Some(first.as_str()),
    );

    let second = post(&hub, "/api/v1/counters/1/next", Some(&manager), json!({}));
    let second = second["number"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    until(
        &rx,
        &screen,
        "the second call shown",
        |_| {},
        |s| s.1.as_deref() == Some(second.as_str()),
    );

    stop_hub(&rt, running);
    until(&rx, &screen, "reconnecting shown", |_| {}, |s| !s.0);
    // While the hub is away, no call is shown as current.
    let away_until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < away_until {
        if let Ok(e) = rx.recv_timeout(Duration::from_millis(100)) {
            screen.handle(e);
        }
        let (connected, number) = current(&screen);
        assert!(!connected);
        assert_eq!(
            number, None,
            "an old call shown as current while disconnected"
        );
    }

    // The same data and port: the board resynchronises to the hub's state (its newest call, if the
    // reopened hub lists it; then the next call proves the board follows the new hub).
    let running = start_hub(&rt, dir.path(), addr);
    until(
        &rx,
        &screen,
        "resynchronised",
        |(connected, number)| {
            if !connected {
                assert_eq!(
                    number, None,
                    "an old call shown as current while disconnected"
                );
            }
        },
        |s| s.0,
    );
    let (_, shown) = current(&screen);
    assert!(
        shown.is_none() || shown.as_deref() == Some(second.as_str()),
        "after the restart the board shows {shown:?}, the hub's newest call was {second}"
    );
    let third = post(&hub, "/api/v1/counters/1/next", Some(&manager), json!({}));
    let third = third["number"].as_str().unwrap().to_string();
    until(
        &rx,
        &screen,
        "the call after the restart shown",
        |_| {},
        |s| s.1.as_deref() == Some(third.as_str()),
    );

    link.stop();
    stop_hub(&rt, running);
}

/// The has-phone-qr flag of a board.
fn shows_phone_code(screen: &Screen) -> bool {
    let kind = screen.kind();
    let Kind::Board(w) = &*kind else {
        panic!("a board was made")
    };
    w.global::<ui::Board>().get_has_phone_qr()
}

#[test]
fn the_board_shows_the_hubs_phone_code_and_a_phone_can_use_it() {
    i_slint_backend_testing::init_no_event_loop();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let display_token = accounts(dir.path());
    let running = start_hub(&rt, dir.path(), "127.0.0.1:0".parse().unwrap());
    let hub = HubUrl::parse(&format!("http://{}", running.addr)).unwrap();

    // Only a signed screen learns the code: read from anywhere, it would let people queue from home.
    let anonymous: Result<PhoneCode, _> = http::get_json(&hub, PhoneCode::PATH, None);
    assert!(
        matches!(anonymous, Err(http::HttpError::Status { status: 401, .. })),
        "{anonymous:?}"
    );

    let (tx, rx) = mpsc::channel();
    let fetch_hub = hub.clone();
    let feed = PhoneCodeFeed::spawn(
        "http://192.168.1.20:8080".into(),
        move || {
            http::get_json(&fetch_hub, PhoneCode::PATH, Some(&display_token))
                .map_err(|e| e.to_string())
        },
        move |qr| {
            let _ = tx.send(qr);
        },
    );
    let qr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the feed reports within 10 s")
        .expect("the demo hall takes tickets by phone: a code is shown");
    let code = qr
        .url
        .strip_prefix("http://192.168.1.20:8080/p/")
        .expect("the code opens the phone page at the public address")
        .to_string();
    let screen = Screen::board(1920, 1080).unwrap();
    assert!(!shows_phone_code(&screen));
    screen.set_phone_qr(Some(&qr.pixels));
    assert!(shows_phone_code(&screen));
    screen.set_phone_qr(None);
    assert!(!shows_phone_code(&screen));

    // The code on the board is one the hub accepts from a phone.
    let page: serde_json::Value =
        http::get_json(&hub, &format!("/api/v1/phone/{code}"), None).unwrap();
    assert!(page.is_object(), "{page}");
    let made_up: Result<serde_json::Value, _> =
        http::get_json(&hub, "/api/v1/phone/AAAAAAAA", None);
    assert!(made_up.is_err());

    feed.stop();
    stop_hub(&rt, running);
}
