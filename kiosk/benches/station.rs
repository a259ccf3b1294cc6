//! How fast the kiosk screen answers: a full software-rendered frame of each screen at 1024×600 and
//! 800×480, and a touch on "take a ticket" until the number is ready to show (hub on 127.0.0.1).
//! Run: `cargo bench -p hallq-kiosk --bench station` (release; debug frames are far slower).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hallq_kiosk::headless::Headless;
use hallq_kiosk::{Controller, HubClient, StationView, Timeouts, ui};
use support::{FakeHub, TOKEN, busy_morning};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "{what:<40} n={:<4} mean {mean:7.2} ms  p50 {:7.2} ms  p99 {:7.2} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
}

fn main() {
    let screen = Headless::new(1024, 600).unwrap();
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let latest: Arc<Mutex<Option<StationView>>> = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&latest);
    let c = Controller::new(
        HubClient::new(&hub.url, TOKEN, Duration::from_secs(2)),
        None,
        Timeouts::default(),
        Box::new(move |v| *keep.lock().unwrap() = Some(v)),
    );
    c.refresh();
    c.set_clock("09:41");
    let view = || latest.lock().unwrap().clone().unwrap();

    let start = view();
    c.choose_service("account");
    let detail = view();
    c.take_ticket_here();
    c.wait_idle(Duration::from_secs(10));
    let issued = view();

    let first = Instant::now();
    ui::apply(&screen.ui, &start);
    screen.frame();
    println!(
        "first frame incl. fonts: {:.2} ms",
        first.elapsed().as_secs_f64() * 1e3
    );

    for (w, h) in [(1024, 600), (800, 480)] {
        screen.resize(w, h);
        for (name, v) in [("start", &start), ("detail", &detail), ("issued", &issued)] {
            let mut ms = Vec::new();
            for i in 0..60 {
                // Alternate screens so every frame is a full change, as a touch makes it.
                ui::apply(&screen.ui, if i % 2 == 0 { v } else { &start });
                let t = Instant::now();
                screen.frame();
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            report(&format!("full frame {name} {w}x{h}"), ms);
        }
    }

    let mut ms = Vec::new();
    for _ in 0..100 {
        c.done();
        let t = Instant::now();
        c.take_ticket("pay", false);
        c.wait_idle(Duration::from_secs(10));
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("touch -> ticket number ready (HTTP)", ms);
}
