//! The kiosk screens drawn by Slint's software renderer, as a customer would see them at 1024×600 and
//! 800×480: every screen renders, Chinese text really appears (a missing font fails, never skips),
//! and a tap at a service button's place on the screen opens that service.
//!
//! `HALLQ_WRITE_DOCS=1 cargo test -p hallq-kiosk --test station_screens` refreshes `docs/img/kiosk-*.png`.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_kiosk::headless::{Frame, Headless};
use hallq_kiosk::printing::MemoryPrinter;
use hallq_kiosk::{
    Controller, HubClient, PrinterDesk, PrinterHealth, StationView, Timeouts, fonts, ui,
};
use hallq_shared::engine::Command;
use hallq_shared::protocol::PhoneCode;
use hallq_shared::qr::PhoneQr;
use i_slint_backend_testing::ElementHandle;
use support::{FakeHub, TOKEN, busy_morning};

const SIZES: [(u32, u32); 2] = [(1024, 600), (800, 480)];

fn out_dir() -> PathBuf {
    if std::env::var_os("HALLQ_WRITE_DOCS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/img")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiosk-screens")
    }
}

struct Kiosk {
    c: Controller,
    latest: Arc<Mutex<Option<StationView>>>,
}

impl Kiosk {
    fn new(hub: &FakeHub, printer: Option<&MemoryPrinter>) -> Kiosk {
        let latest = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&latest);
        let c = Controller::new(
            HubClient::new(&hub.url, TOKEN, Duration::from_secs(2)),
            printer.map(|p| PrinterDesk::start(Box::new(p.clone()), Duration::from_secs(5))),
            Timeouts::default(),
            Box::new(move |v| *keep.lock().unwrap() = Some(v)),
        );
        c.refresh();
        c.set_clock("09:41");
        Kiosk { c, latest }
    }

    fn view(&self) -> StationView {
        assert!(self.c.wait_idle(Duration::from_secs(10)));
        self.latest.lock().unwrap().clone().unwrap()
    }
}

/// Dark-on-light or light-on-dark: how many pixels differ between two frames of the same size.
fn differing(a: &Frame, b: &Frame) -> usize {
    a.pixels
        .iter()
        .zip(&b.pixels)
        .filter(|(p, q)| {
            p.r.abs_diff(q.r) as u32 + p.g.abs_diff(q.g) as u32 + p.b.abs_diff(q.b) as u32 > 60
        })
        .count()
}

fn distinct_colours(f: &Frame) -> usize {
    let mut seen: Vec<(u8, u8, u8)> = f.pixels.iter().map(|p| (p.r, p.g, p.b)).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[test]
fn every_kiosk_screen_renders_at_both_sizes() {
    let font = fonts::find_chinese_font()
        .expect("a Chinese font is required (Debian: fonts-noto-cjk or fonts-wqy-microhei)");
    eprintln!("Chinese font: {}", font.display());
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let screen = Headless::new(1024, 600).unwrap();

    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let printer = MemoryPrinter::default();
    let k = Kiosk::new(&hub, Some(&printer));
    let code = PhoneCode {
        enabled: true,
        code: "K7QD4WMX".into(),
        path: "/p/K7QD4WMX".into(),
        next_at_ms: 0,
    };
    k.c.phone_code(PhoneQr::for_code(&code, "http://192.168.1.20:8080"));

    let mut shots: Vec<(&str, StationView)> = Vec::new();
    shots.push(("start", k.view()));
    k.c.open_phone_code();
    shots.push(("phone-code", k.view()));
    k.c.back();
    k.c.choose_service("account");
    shots.push(("service-detail", k.view()));
    k.c.take_ticket_here();
    shots.push(("ticket-issued", k.view()));
    k.c.done();
    printer.set_health(PrinterHealth::PaperOut);
    k.c.take_ticket("pay", false);
    shots.push(("printer-problem", k.view()));
    k.c.done();
    k.c.toggle_lang();
    k.c.choose_service("pay");
    shots.push(("service-detail-en", k.view()));
    k.c.back();
    // As the kiosk's poll would: the two tickets just issued are in the counts.
    k.c.refresh();
    shots.push(("start-en", k.view()));
    k.c.toggle_lang();
    k.c.open_suggestion();
    k.c.toggle_phrase(1);
    k.c.toggle_phrase(2);
    for d in "139123".chars() {
        k.c.key(&d.to_string());
    }
    shots.push(("suggestion", k.view()));
    k.c.back();

    hub.run(Command::SetSlowSystem { slow: true });
    k.c.refresh();
    shots.push(("slow-system", k.view()));
    hub.run(Command::SetSlowSystem { slow: false });

    hub.run(Command::StartOutage {
        expected_minutes: 90,
        message: None,
    });
    k.c.refresh();
    shots.push(("outage", k.view()));
    k.c.open_callback();
    for d in "1381234567".chars() {
        k.c.key(&d.to_string());
    }
    k.c.toggle_consent();
    k.c.submit_callback();
    shots.push(("callback-keypad", k.view()));
    k.c.key("8");
    k.c.submit_callback();
    shots.push(("callback-done", k.view()));
    k.c.done();
    hub.run(Command::EndOutage);

    hub.set_time(17, 10);
    k.c.refresh();
    shots.push(("tickets-ended", k.view()));

    for (w, h) in SIZES {
        screen.resize(w, h);
        for (name, view) in &shots {
            ui::apply(&screen.ui, view);
            let frame = screen.frame();
            assert_eq!((frame.width, frame.height), (w, h));
            assert!(
                distinct_colours(&frame) > 20,
                "{name} at {w}x{h} looks empty"
            );
            frame
                .write_png(&dir.join(format!("kiosk-{name}-{w}x{h}.png")))
                .unwrap();
        }
    }

    // Chinese really shows: the start screen without its service names differs where they were.
    screen.resize(1024, 600);
    let start = &shots[0].1;
    assert!(
        start.phone_qr.is_some(),
        "the start screen offers the phone code"
    );
    assert!(
        shots
            .iter()
            .any(|(n, v)| *n == "tickets-ended" && v.phone_qr.is_none()),
        "no phone code once tickets have ended"
    );
    let phone = &shots.iter().find(|(n, _)| *n == "phone-code").unwrap().1;
    assert_eq!(phone.screen, "phone-code");
    ui::apply(&screen.ui, phone);
    let black = |f: &Frame| {
        f.pixels
            .iter()
            .filter(|p| (p.r, p.g, p.b) == (0, 0, 0))
            .count()
    };
    assert!(
        black(&screen.frame()) > 20_000,
        "the phone code is drawn large"
    );
    ui::apply(&screen.ui, start);
    let with_names = screen.frame();
    let mut nameless = start.clone();
    for t in &mut nameless.services {
        t.name.clear();
    }
    ui::apply(&screen.ui, &nameless);
    let without = screen.frame();
    assert!(
        differing(&with_names, &without) > 2000,
        "the Chinese service names drew nothing: is a CJK font installed?"
    );
}

#[test]
fn a_tap_on_a_service_button_opens_that_service() {
    let screen = Headless::new(800, 480).unwrap();
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let k = Kiosk::new(&hub, None);
    ui::connect(&screen.ui, &k.c);
    ui::apply(&screen.ui, &k.view());
    screen.frame();

    let pay = ElementHandle::find_by_accessible_label(&screen.ui, "缴费")
        .next()
        .expect("the payments button");
    let at = pay.absolute_position();
    let size = pay.size();
    assert!(
        size.width >= 150.0 && size.height >= 100.0,
        "a big button: {size:?}"
    );
    screen.tap(at.x + size.width / 2.0, at.y + size.height / 2.0);
    let v = k.view();
    assert_eq!(v.screen, "detail");
    assert_eq!(v.detail.id, "pay");

    // The take-ticket button sits where a finger finds it, and works by touch too.
    ui::apply(&screen.ui, &v);
    screen.frame();
    let take = ElementHandle::find_by_accessible_label(&screen.ui, "取号")
        .next()
        .expect("the take-ticket button");
    let at = take.absolute_position();
    let size = take.size();
    screen.tap(at.x + size.width / 2.0, at.y + size.height / 2.0);
    let v = k.view();
    assert_eq!(v.screen, "issued");
    assert_eq!(v.issued.number, "B006");
}
