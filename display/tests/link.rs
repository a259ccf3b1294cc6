//! The hub link against a fake hub on loopback: snapshot first, updates by `seq`, a gap forces a
//! resynchronisation, and the voice only hears calls that updates bring. Also the callback POST and
//! `--screenshot` from a live hub.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{FakeHub, TOKEN};
use hallq_board::demo::DemoHall;
use hallq_board::http::HubUrl;
use hallq_board::link::{Link, LinkConfig, LinkEvent};
use hallq_board::screen::{CallbackSender, HubCallbacks, SendError};
use hallq_shared::engine::{Actor, Command};
use hallq_shared::protocol::{CaptureCallbackRequest, Role, StreamMessage};

fn next(rx: &mpsc::Receiver<LinkEvent>) -> LinkEvent {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the link reported nothing within 10 s")
}

/// Runs one command on the demo hall and returns the stream message the hub would send.
fn update(d: &mut DemoHall, cmd: Command) -> StreamMessage {
    let prev_seq = d.hall.last_seq;
    d.advance_s(5);
    let actor = Actor::new("clerk", Role::Staff, None);
    let done = d.hall.execute(&cmd, &actor, d.now).unwrap();
    StreamMessage::Update {
        seq: d.hall.last_seq,
        prev_seq,
        events: d.hall.public_events(&done.events),
        live: d.hall.board_live(d.now),
    }
}

fn fast(hub: &FakeHub) -> LinkConfig {
    let mut c = LinkConfig::new(HubUrl::parse(&hub.url()).unwrap(), None);
    c.backoff_min = Duration::from_millis(50);
    c.backoff_max = Duration::from_millis(400);
    c
}

#[test]
fn the_link_follows_updates_and_resynchronises_after_a_gap() {
    let mut d = DemoHall::new();
    d.morning(chrono::NaiveTime::from_hms_opt(9, 40, 0).unwrap(), 10);
    let hub = FakeHub::start(d.snapshot());
    let (tx, rx) = mpsc::channel();
    let link = Link::spawn(fast(&hub), move |e| {
        let _ = tx.send(e);
    });

    let LinkEvent::Snapshot(first) = next(&rx) else {
        panic!("the first event must be the snapshot")
    };
    assert_eq!(first.seq, d.hall.last_seq);
    for _ in 0..100 {
        if hub.clients() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    hub.push_message(&update(&mut d, Command::CallNext { counter: 1 }));
    let LinkEvent::Update { board, new_calls } = next(&rx) else {
        panic!("expected the update")
    };
    assert_eq!(board.seq, d.hall.last_seq);
    assert_eq!(new_calls.len(), 1);
    assert_eq!(new_calls[0].counter, 1);
    assert_eq!(
        board.live.calls[0].id, new_calls[0].id,
        "the new call is current"
    );

    // An update that does not follow on: the link must drop and take a fresh snapshot.
    let _skipped = update(&mut d, Command::CallNext { counter: 2 });
    let after_gap = update(&mut d, Command::CallNext { counter: 3 });
    hub.set_board(d.snapshot());
    hub.push_message(&after_gap);
    assert!(matches!(next(&rx), LinkEvent::Lost { .. }));
    let LinkEvent::Snapshot(fresh) = next(&rx) else {
        panic!("expected a fresh snapshot after the gap")
    };
    assert_eq!(fresh.seq, d.hall.last_seq);
    assert_eq!(fresh.live.calls[0].counter, 3);

    // The hub goes away: reported once, and reconnected when it answers again.
    hub.push("close".into());
    assert!(matches!(next(&rx), LinkEvent::Lost { .. }));
    assert!(matches!(next(&rx), LinkEvent::Snapshot(_)));
    link.stop();
}

#[test]
fn an_unreachable_hub_is_reported_once_while_retrying() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = LinkConfig::new(
        HubUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
        None,
    );
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(60);
    let (tx, rx) = mpsc::channel();
    let link = Link::spawn(cfg, move |e| {
        let _ = tx.send(e);
    });
    assert!(matches!(next(&rx), LinkEvent::Lost { .. }));
    // Several retries happen in this time; none is reported again.
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
    link.stop();
}

fn request(phone: &str) -> CaptureCallbackRequest {
    CaptureCallbackRequest {
        phone: phone.into(),
        consent: true,
        ticket: None,
        address: None,
        reason: None,
    }
}

#[test]
fn callbacks_are_posted_with_the_device_token() {
    let hub = FakeHub::start(DemoHall::new().snapshot());
    let hub_url = HubUrl::parse(&hub.url()).unwrap();
    let sender = HubCallbacks {
        hub: hub_url.clone(),
        token: Some(TOKEN.into()),
    };
    let ok = sender.send(&request("13812345678")).unwrap();
    assert_eq!(ok.phone_masked, "138****5678");
    assert_eq!(hub.captured()[0].phone, "13812345678");

    let Err(SendError::Refused { zh, .. }) = sender.send(&request("1381234")) else {
        panic!("a bad number must be refused")
    };
    assert_eq!(zh, "手机号码应为以1开头的11位数字");

    let anonymous = HubCallbacks {
        hub: hub_url,
        token: None,
    };
    assert!(matches!(
        anonymous.send(&request("13812345678")),
        Err(SendError::Refused { .. })
    ));
    let gone = HubCallbacks {
        hub: HubUrl::parse("http://127.0.0.1:1").unwrap(),
        token: None,
    };
    assert!(matches!(
        gone.send(&request("13812345678")),
        Err(SendError::Unreachable(_))
    ));
}

#[test]
fn screenshot_renders_the_live_board_from_the_hub() {
    let mut d = DemoHall::new();
    d.morning(chrono::NaiveTime::from_hms_opt(9, 40, 0).unwrap(), 10);
    let hub = FakeHub::start(d.snapshot());
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-board.png");
    let _ = std::fs::remove_file(&out);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args(["--hub", &hub.url(), "--size", "1280x720", "--screenshot"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1280, 720));

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args(["--hub", "http://127.0.0.1:1", "--screenshot"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("cannot fetch the board"), "{err}");
}
