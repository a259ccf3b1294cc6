//! The board's speed on this machine, release build, software renderer, 1920×1080:
//! a full frame, a partial repaint for a new call, hub event → frame shown, and resident memory.
//! Run: `cargo bench -p hallq-board --bench board`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::NaiveTime;
use hallq_board::demo::{DemoHall, Scenario};
use hallq_board::http::HubUrl;
use hallq_board::link::{Link, LinkConfig, LinkEvent};
use hallq_shared::engine::{Actor, Command};
use hallq_shared::protocol::{Role, StreamMessage};

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            samples: Vec::new(),
        }
    }
    fn add(&mut self, d: Duration) {
        self.samples.push(d);
    }
    fn report(&mut self, what: &str) {
        self.samples.sort();
        let n = self.samples.len();
        let at = |q: f64| self.samples[((n as f64 - 1.0) * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{what:<44} n={n:<4} median {:>7.3} ms   p90 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
            ms(at(0.5)),
            ms(at(0.9)),
            ms(at(0.99)),
            ms(at(1.0))
        );
    }
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn call_update(d: &mut DemoHall, counter: u32) -> StreamMessage {
    let prev_seq = d.hall.last_seq;
    d.advance_s(3);
    let actor = Actor::new("clerk", Role::Staff, None);
    let done = d
        .hall
        .execute(&Command::CallNext { counter }, &actor, d.now)
        .unwrap();
    StreamMessage::Update {
        seq: d.hall.last_seq,
        prev_seq,
        events: d.hall.public_events(&done.events),
        live: d.hall.board_live(d.now),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let (w, h) = (1920, 1080);
    let (mut headless, screen) = common::still_board(w, h);

    // A hall with many waiting tickets so that every update is a real call.
    let mut d = DemoHall::new();
    d.morning(NaiveTime::from_hms_opt(9, 40, 0).unwrap(), 10);
    for _ in 0..400 {
        d.run(Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        });
    }
    screen.show(&d.snapshot());
    screen.window_show().unwrap();

    let t = Instant::now();
    headless.render();
    println!(
        "first frame (fonts loaded, layout built)     {:>7.3} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );

    let mut full = Stats::new();
    for _ in 0..200 {
        let t = Instant::now();
        headless.render_full();
        full.add(t.elapsed());
    }
    full.report("full 1920x1080 repaint");

    // A new call: the adapter is updated, then only what changed is drawn.
    let mut partial = Stats::new();
    let mut card = Stats::new();
    let mut apply_and_draw = Stats::new();
    let mut area = 0u64;
    let mut drawn = 0u64;
    let mut rects = Vec::new();
    for i in 0..200 {
        let BoardMsg(snap) = BoardMsg::after(&mut d, (i % 2) + 1);
        // Calls come tens of seconds apart in a hall: the previous call has stopped blinking
        // (`FLASH`) and its card has been redrawn plain before the next one arrives.
        screen.end_flash();
        let t = Instant::now();
        headless.render();
        card.add(t.elapsed());
        let t0 = Instant::now();
        screen.show(&snap);
        let t1 = Instant::now();
        let region = headless.render();
        let t2 = Instant::now();
        partial.add(t2 - t1);
        apply_and_draw.add(t2 - t0);
        if let Some(r) = region {
            let b = r.bounding_box_size();
            area += u64::from(b.width) * u64::from(b.height);
            drawn += r
                .iter()
                .map(|(_, s)| u64::from(s.width) * u64::from(s.height))
                .sum::<u64>();
            if i == 199 {
                for (o, s) in r.iter() {
                    rects.push(format!("{}x{} at ({},{})", s.width, s.height, o.x, o.y));
                }
            }
        }
    }
    partial.report("partial repaint after a new call");
    card.report("the call card alone (its blink, its end)");
    apply_and_draw.report("new call: adapter update + partial repaint");
    println!(
        "mean repainted bounding box for a new call   {:.1} % of the frame",
        area as f64 / 200.0 / f64::from(w * h) * 100.0
    );
    println!(
        "mean area of the dirty rectangles drawn       {:.1} % of the frame (last call: {})",
        drawn as f64 / 200.0 / f64::from(w * h) * 100.0,
        rects.join(", ")
    );

    // Hub event → frame: a real WebSocket on loopback, the link thread, the adapter, the render.
    let hub = common::FakeHub::start(d.snapshot());
    let (tx, rx) = mpsc::channel();
    let link = Link::spawn(
        LinkConfig::new(HubUrl::parse(&hub.url()).unwrap(), None),
        move |e| {
            let _ = tx.send((e, Instant::now()));
        },
    );
    let (first, _) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    screen.handle(first);
    headless.render();
    while hub.clients() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut e2f = Stats::new();
    let mut wire = Stats::new();
    for i in 0..150 {
        let msg = call_update(&mut d, (i % 2) + 1);
        let text = serde_json::to_string(&msg).unwrap();
        let t0 = Instant::now();
        hub.push(text);
        let (event, received) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(event, LinkEvent::Update { .. }));
        screen.handle(event);
        headless.render();
        let t1 = Instant::now();
        e2f.add(t1 - t0);
        wire.add(received - t0);
        std::thread::sleep(Duration::from_millis(20));
    }
    wire.report("hub push -> link thread has the board");
    e2f.report("hub push -> frame drawn");
    link.stop();

    // Every mode once more, to include the largest screens in the peak.
    for s in Scenario::ALL {
        screen.show(&s.snapshot());
        headless.render();
    }
    println!(
        "resident memory: now {:.1} MB, peak {:.1} MB (this process includes the loopback hub)",
        status_kb("VmRSS:") as f64 / 1024.0,
        status_kb("VmHWM:") as f64 / 1024.0
    );
}

struct BoardMsg(hallq_shared::protocol::BoardSnapshot);

impl BoardMsg {
    fn after(d: &mut DemoHall, counter: u32) -> BoardMsg {
        d.advance_s(3);
        d.run(Command::CallNext { counter });
        BoardMsg(d.snapshot())
    }
}
