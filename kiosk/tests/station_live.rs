//! The kiosk screen's controller against the REAL hub (router, SQLite, writer thread) served over
//! HTTP on 127.0.0.1: tickets taken by touch and by the (simulated) buttons, the status light, the
//! QR address, and the ESC/POS bytes a `file:` printer receives.

#[path = "../hub/tests/common/mod.rs"]
mod common;

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::Fixture;
use hallq_kiosk::gpio::{self, LightPattern, SimLight};
use hallq_kiosk::printer::{self, TicketPrinter};
use hallq_kiosk::view::Screen;
use hallq_kiosk::{
    Controller, HubClient, MemoryPrinter, PrinterDesk, PrinterHealth, StationView, Timeouts,
};

const WAIT: Duration = Duration::from_secs(10);

/// A real hub on 127.0.0.1:0; the runtime serving it lives as long as this value.
struct LiveHub {
    f: Fixture,
    url: String,
    rt: tokio::runtime::Runtime,
}

impl LiveHub {
    fn start() -> LiveHub {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let f = rt.block_on(Fixture::new());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = f.app.clone();
        rt.spawn(async move { axum::serve(listener, app).await });
        LiveHub { f, url, rt }
    }

    fn ticket(&self, number: &str) -> (StatusCode, serde_json::Value) {
        self.rt.block_on(
            self.f
                .call("GET", &format!("/api/v1/tickets/{number}"), None, None),
        )
    }
}

struct Kiosk {
    c: Controller,
    shown: Arc<Mutex<Vec<StationView>>>,
}

impl Kiosk {
    fn new(hub: &LiveHub, printer: Option<Box<dyn TicketPrinter>>) -> Kiosk {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&shown);
        let c = Controller::new(
            HubClient::new(&hub.url, &hub.f.kiosk, Duration::from_secs(5)),
            printer.map(|p| PrinterDesk::start(p, WAIT)),
            Timeouts::default(),
            Box::new(move |v| keep.lock().unwrap().push(v)),
        );
        c.refresh();
        Kiosk { c, shown }
    }

    fn last(&self) -> StationView {
        self.shown.lock().unwrap().last().cloned().unwrap()
    }

    /// Waits (bounded) until the screen shows an issued ticket, and returns its number.
    fn issued_number(&self) -> String {
        for _ in 0..200 {
            assert!(self.c.wait_idle(WAIT), "the kiosk's work did not finish");
            let st = self.c.state();
            if st.screen == Screen::Issued
                && let Some((t, _)) = &st.issued
            {
                return t.number.clone();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no ticket issued; screen: {:?}", self.last());
    }
}

#[test]
fn touch_prints_escpos_that_the_real_hub_knows() {
    let hub = LiveHub::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.bin");
    let addr = format!("file:{}", out.display());
    let k = Kiosk::new(
        &hub,
        Some(printer::open(&addr, printer::WIDTH_58MM).unwrap()),
    );
    assert!(k.last().services.iter().any(|s| s.id == "pay"));

    k.c.take_ticket("pay", false);
    let number = k.issued_number();
    assert_eq!(
        k.last().issued.print_state,
        1,
        "printed: {:?}",
        k.last().issued
    );

    let (st, body) = hub.ticket(&number);
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["number"], number.as_str(), "{body}");

    let bytes = std::fs::read(&out).unwrap();
    let tickets = printer::decode_tickets(&bytes).unwrap();
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert_eq!(t.width(), printer::WIDTH_58MM);
    assert!(
        t.height() > 200,
        "a ticket is taller than that: {}",
        t.height()
    );
    let ink = t.data().iter().map(|b| b.count_ones() as u64).sum::<u64>();
    let all = t.width() as u64 * t.height() as u64;
    assert!(
        ink > all / 100 && ink < all / 2,
        "ink on {ink} of {all} dots"
    );
}

#[test]
fn simulated_buttons_take_tickets_through_the_controller() {
    let hub = LiveHub::start();
    let paper = MemoryPrinter::default();
    let k = Kiosk::new(&hub, Some(Box::new(paper.clone())));
    let light = SimLight::new();
    k.c.attach_light(Box::new(light.clone()));

    let ids = k.c.service_ids();
    assert!(ids.len() >= 2, "{ids:?}");
    let c = k.c.clone();
    // "2" is the second service on the screen; "pay" by its id; "0" and "nonsense" are ignored.
    let keys = gpio::key_buttons_with(Cursor::new("0\nnonsense\n2\n"), move || c.service_ids());
    k.c.watch_buttons(Box::new(keys), None);
    let first = k.issued_number();
    let (st, body) = hub.ticket(&first);
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["service"], ids[1].as_str(), "{body}");

    k.c.back();
    let c = k.c.clone();
    let keys = gpio::key_buttons_with(Cursor::new("pay\n"), move || c.service_ids());
    k.c.watch_buttons(Box::new(keys), None);
    let mut second = first.clone();
    for _ in 0..200 {
        second = k.issued_number();
        if second != first {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_ne!(second, first);
    let (st, body) = hub.ticket(&second);
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["service"], "pay", "{body}");
    assert_eq!(paper.printed().len(), 2);

    // The light followed the printer: steady once it printed, blinking when the paper ran out.
    assert_eq!(
        light.current(),
        LightPattern::Steady,
        "{:?}",
        light.history()
    );
    paper.set_health(PrinterHealth::PaperOut);
    k.c.check_printer();
    assert_eq!(
        light.current(),
        LightPattern::Blink,
        "{:?}",
        light.history()
    );
    k.c.stop();
}

#[test]
fn the_qr_code_points_at_the_public_address() {
    let hub = LiveHub::start();
    let paper = MemoryPrinter::default();
    let k = Kiosk::new(&hub, Some(Box::new(paper.clone())));
    k.c.take_ticket("pay", false);
    let a = k.issued_number();
    k.c.back();
    k.c.set_public_url("http://192.168.1.10:8080/");
    k.c.take_ticket("pay", false);
    let mut b = a.clone();
    for _ in 0..200 {
        b = k.issued_number();
        if b != a {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let printed = paper.printed();
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[0].status_url, format!("{}/t/{a}", hub.url));
    assert_eq!(
        printed[1].status_url,
        format!("http://192.168.1.10:8080/t/{b}")
    );
}

#[test]
fn the_start_screen_shows_the_hubs_phone_code_at_the_public_address() {
    let hub = LiveHub::start();
    let k = Kiosk::new(&hub, None);
    assert_eq!(k.last().phone_qr, None, "nothing before the hub is asked");
    k.c.set_public_url("http://192.168.1.10:8080/");
    k.c.fetch_phone_code();
    let qr = k
        .last()
        .phone_qr
        .expect("the demo hall takes tickets by phone");
    let code = qr
        .url
        .strip_prefix("http://192.168.1.10:8080/p/")
        .expect("the phone page at the public address")
        .to_string();
    // The code shown is one the hub accepts from a phone.
    let (st, body) =
        hub.rt.block_on(
            hub.f
                .call("GET", &format!("/api/v1/phone/{code}"), None, None),
        );
    assert_eq!(st, StatusCode::OK, "{body}");

    // Through the feed thread as the running kiosk does: the same code, once.
    k.c.start_phone_code();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(k.last().phone_qr.map(|q| q.url), Some(qr.url));
    k.c.stop();

    // With the hub out of reach the code goes: a phone could not reach the hub either.
    k.c.hub_lost();
    assert_eq!(k.last().phone_qr, None);
}
