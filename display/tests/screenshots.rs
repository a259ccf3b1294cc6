//! Every mode rendered with the software renderer, as in `--screenshot`, and checked: not blank,
//! the called number drawn in its place, and Chinese text inked (with no font Chinese renders as
//! nothing at all). The PNGs are left in the target directory for inspection.

use hallq_board::demo::Scenario;
use hallq_board::fonts;
use hallq_board::headless::Headless;
use hallq_board::screen::Screen;
use hallq_shared::qr::QrPixels;
use slint::Rgb8Pixel;

struct Shot {
    name: &'static str,
    scenario: Scenario,
    connected: bool,
    counter: Option<u32>,
    size: (u32, u32),
}

const fn shot(name: &'static str, scenario: Scenario, size: (u32, u32)) -> Shot {
    Shot {
        name,
        scenario,
        connected: true,
        counter: None,
        size,
    }
}

fn near(p: Rgb8Pixel, hex: u32, tol: i32) -> bool {
    let (r, g, b) = (
        (hex >> 16) as i32,
        ((hex >> 8) & 0xff) as i32,
        (hex & 0xff) as i32,
    );
    (p.r as i32 - r).abs() <= tol && (p.g as i32 - g).abs() <= tol && (p.b as i32 - b).abs() <= tol
}

/// Pixels of colour `hex` in the box given as fractions of the frame.
fn count(h: &Headless, hex: u32, x0: f32, y0: f32, x1: f32, y1: f32) -> usize {
    let (w, ht) = h.size();
    let (xa, xb) = ((x0 * w as f32) as u32, (x1 * w as f32) as u32);
    let (ya, yb) = ((y0 * ht as f32) as u32, (y1 * ht as f32) as u32);
    let mut n = 0;
    for y in ya..yb {
        for x in xa..xb {
            if near(h.pixel(x, y), hex, 24) {
                n += 1;
            }
        }
    }
    n
}

/// Pixels exactly of colour `hex` in the box given as fractions of the frame.
fn count_exact(h: &Headless, hex: u32, x0: f32, y0: f32, x1: f32, y1: f32) -> usize {
    let (w, ht) = h.size();
    let xs = (x0 * w as f32) as u32..(x1.min(1.0) * w as f32) as u32;
    let ys = (y0 * ht as f32) as u32..(y1 * ht as f32) as u32;
    ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = h.pixel(x, y);
            (p.r as u32) << 16 | (p.g as u32) << 8 | p.b as u32 == hex
        })
        .count()
}

const NUMBER: u32 = 0xffd23f;
const COUNTER: u32 = 0x5fd4ff;
const TEXT: u32 = 0xf3f6fb;
const DANGER: u32 = 0xff6b6b;
const WARN: u32 = 0xffb020;

#[test]
fn every_mode_renders_readably() {
    let font = match fonts::find_chinese_font() {
        Ok(f) => f,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping outside CI: {e}");
            return;
        }
        Err(e) => panic!("CI must have a Chinese font: {e}"),
    };
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&out).unwrap();
    let mut headless = Headless::install(1920, 1080).unwrap();
    let phone_qr = QrPixels::encode("http://192.168.1.20:8080/p/K7QD4WMX").unwrap();
    let shots = [
        shot("normal", Scenario::Normal, (1920, 1080)),
        shot("long-wait", Scenario::LongWait, (1920, 1080)),
        shot("short-outage", Scenario::ShortOutage, (1920, 1080)),
        shot("long-outage", Scenario::LongOutage, (1920, 1080)),
        shot("tickets-ended", Scenario::TicketsEnded, (1920, 1080)),
        shot("slow-system", Scenario::SlowSystem, (1920, 1080)),
        Shot {
            connected: false,
            ..shot("reconnecting", Scenario::Normal, (1920, 1080))
        },
        shot("portrait", Scenario::Normal, (1080, 1920)),
        shot("1280x720", Scenario::Normal, (1280, 720)),
        Shot {
            counter: Some(2),
            ..shot("counter", Scenario::Normal, (1280, 720))
        },
        Shot {
            counter: Some(4),
            ..shot("counter-paused", Scenario::CounterPaused, (1280, 720))
        },
    ];
    for s in &shots {
        headless.set_size(s.size.0, s.size.1);
        let screen = match s.counter {
            Some(id) => Screen::counter(id, s.size.0, s.size.1),
            None => Screen::board(s.size.0, s.size.1),
        }
        .unwrap();
        screen.set_font_family(&font.family);
        screen.set_animate(false);
        let snap = s.scenario.snapshot();
        screen.show(&snap);
        screen.set_phone_qr(Some(&phone_qr));
        if !s.connected {
            screen.lost();
        }
        screen.window_show().unwrap();
        headless.render().expect("a first frame is drawn");
        let file = std::fs::File::create(out.join(format!("board-{}.png", s.name))).unwrap();
        headless.write_png(std::io::BufWriter::new(file)).unwrap();

        // Not blank: many colours, and plenty of ink on the dark background.
        let mut colours: Vec<u32> = headless
            .pixels()
            .map(|p| (p.r as u32) << 16 | (p.g as u32) << 8 | p.b as u32)
            .collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(
            colours.len() > 100,
            "{}: only {} colours",
            s.name,
            colours.len()
        );

        let portrait = s.size.1 > s.size.0;
        match (s.counter, s.name) {
            (Some(_), "counter-paused") => {
                // 暂停服务: Chinese only, in red, in the middle.
                assert!(
                    count(&headless, DANGER, 0.1, 0.3, 0.9, 0.8) > 5000,
                    "{}",
                    s.name
                );
            }
            (Some(_), _) => {
                assert!(
                    count(&headless, NUMBER, 0.1, 0.3, 0.9, 0.85) > 5000,
                    "{}: number",
                    s.name
                );
                // 号窗口 in the header, beside one digit.
                assert!(
                    count(&headless, COUNTER, 0.2, 0.0, 0.8, 0.22) > 2500,
                    "{}: name",
                    s.name
                );
            }
            (None, "reconnecting") => {
                assert_eq!(
                    count(&headless, NUMBER, 0.0, 0.1, 0.55, 0.9),
                    0,
                    "no old call"
                );
                assert!(
                    count(&headless, WARN, 0.0, 0.1, 0.55, 0.6) > 2000,
                    "reconnecting"
                );
            }
            (None, _) => {
                let (x1, y0, y1) = if portrait {
                    (1.0, 0.05, 0.35)
                } else {
                    (0.55, 0.08, 0.7)
                };
                assert!(
                    count(&headless, NUMBER, 0.0, y0, x1, y1) > 8000,
                    "{}: the called number",
                    s.name
                );
                // 请到 N号窗口 under it: mostly Chinese, in the counter colour.
                assert!(
                    count(&headless, COUNTER, 0.0, y0, x1, y1) > 3000,
                    "{}",
                    s.name
                );
            }
        }
        if s.counter.is_none() && !portrait {
            // The apology banner under the header, in the warning colour: for a long wait and a
            // slow business system, not on an ordinary morning.
            let banner = count(&headless, WARN, 0.0, 0.09, 1.0, 0.2);
            match s.name {
                "long-wait" | "slow-system" => {
                    assert!(banner > 3000, "{}: apology banner {banner}", s.name)
                }
                "normal" => assert!(banner < 500, "{}: no banner {banner}", s.name),
                _ => {}
            }
        }
        if s.counter.is_none() {
            // The phone code: pure black and white modules beside the recent calls, while tickets
            // can be taken and the hub is in reach.
            let (x0, y0) = if portrait { (0.7, 0.3) } else { (0.3, 0.55) };
            let black = count_exact(&headless, 0x000000, x0, y0, 0.6_f32.max(x0 + 0.3), 0.95);
            if s.name == "tickets-ended" || !s.connected {
                assert_eq!(black, 0, "{}: no phone code", s.name);
            } else {
                assert!(black > 3000, "{}: phone code {black} black pixels", s.name);
            }
            // The hall's name, Chinese only, top left of the header.
            let ink = count(
                &headless,
                TEXT,
                0.0,
                0.0,
                0.3,
                if portrait { 0.025 } else { 0.055 },
            );
            assert!(ink > 1500, "{}: hall name ink {ink}", s.name);
        }
        drop(screen);
    }
    let _ = font;
    let _ = (WARN, DANGER);
}
