//! Running the display: a window (desktop or full screen on a Pi) fed by the hub link, or a single
//! still frame written to PNG.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use hallq_shared::hall::CounterId;
use hallq_shared::protocol::{BoardSnapshot, PhoneCode};
use hallq_shared::qr::{PhoneCodeFeed, QrPixels};
use hallq_shared::sd_notify;
use slint::{Timer, TimerMode};

use crate::demo::Scenario;
use crate::fonts;
use crate::headless::Headless;
use crate::http::{self, HubUrl};
use crate::link::{Link, LinkConfig, LinkEvent};
use crate::screen::{CallbackSender, HubCallbacks, Screen, Submit};

pub const BOARD_PATH: &str = "/api/v1/board";

/// The hook for the voice: called on the link thread with every link event before the screen sees
/// it. [`crate::voice::BoardVoice::hear`] speaks each live call once (never a snapshot's history) and
/// takes the hall's voice settings from every board. Keep it quick: queue and return.
pub type OnLink = Box<dyn FnMut(&LinkEvent) + Send>;

#[derive(Clone, Debug)]
pub struct Options {
    pub hub: Option<HubUrl>,
    pub token: Option<String>,
    pub counter: Option<CounterId>,
    pub size: (u32, u32),
    pub fullscreen: bool,
    /// The hub as customers' phones reach it, for the phone code (`--public-url`); the hub's own
    /// address when not given.
    pub public_url: Option<String>,
}

impl Options {
    fn public_base(&self) -> Option<String> {
        self.public_url.clone().or_else(|| {
            self.hub
                .as_ref()
                .map(|h| format!("http://{}", h.authority()))
        })
    }
}

/// The phone code of the hub now, as a signed screen may ask for it.
fn fetch_phone_code(hub: &HubUrl, token: Option<&str>) -> Result<PhoneCode, String> {
    http::get_json(hub, PhoneCode::PATH, token).map_err(|e| e.to_string())
}

thread_local! {
    // The screen, reachable from closures posted to the UI thread by other threads.
    static SCREEN: RefCell<Option<Screen>> = const { RefCell::new(None) };
}

fn on_screen(f: impl FnOnce(&Screen)) {
    SCREEN.with(|s| {
        if let Some(screen) = s.borrow().as_ref() {
            f(screen);
        }
    });
}

fn make_screen(opts: &Options) -> Result<Screen> {
    let (w, h) = opts.size;
    let screen = match opts.counter {
        Some(id) => Screen::counter(id, w, h),
        None => Screen::board(w, h),
    }
    .context("cannot create the screen")?;
    Ok(screen)
}

/// Shows the live board until the window is closed.
pub fn run(opts: Options, mut on_link: Option<OnLink>) -> Result<()> {
    let font = fonts::find_chinese_font()?;
    let Some(hub) = opts.hub.clone() else {
        bail!("--hub http://HOST:PORT is needed to show the live board");
    };
    let screen = make_screen(&opts)?;
    screen.set_font_family(&font.family);
    screen.set_size(opts.size.0, opts.size.1);
    if opts.fullscreen {
        screen.set_fullscreen(true);
    }
    let sender: Arc<dyn CallbackSender> = Arc::new(HubCallbacks {
        hub: hub.clone(),
        token: opts.token.clone(),
    });
    screen.set_submit(Submit::Background(Box::new(move |req| {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let answer = sender.send(&req);
            let _ = slint::invoke_from_event_loop(move || {
                on_screen(|s| s.callback_answer(answer));
            });
        });
    })));
    screen.lost();
    screen.set_clock(Utc::now());
    SCREEN.with(|s| *s.borrow_mut() = Some(screen.clone()));

    let clock = Timer::default();
    clock.start(TimerMode::Repeated, Duration::from_secs(1), || {
        on_screen(|s| s.set_clock(Utc::now()));
    });

    // `screen.run()` shows the window and then turns the event loop: this first turn means it is up.
    Timer::single_shot(Duration::ZERO, || {
        tell_systemd("READY=1", sd_notify::ready())
    });
    // From the UI thread, so that a hung UI (not only a dead process) gets the board restarted.
    let watchdog = Timer::default();
    if let Some(every) = sd_notify::watchdog_interval() {
        watchdog.start(TimerMode::Repeated, every, || {
            tell_systemd("WATCHDOG=1", sd_notify::watchdog())
        });
    }

    // The hall board shows the phone code; a counter's screen has no room for it and no need.
    let phone_code = match (opts.counter, opts.public_base()) {
        (None, Some(base)) => {
            let (hub, token) = (hub.clone(), opts.token.clone());
            Some(PhoneCodeFeed::spawn(
                base,
                move || fetch_phone_code(&hub, token.as_deref()),
                |qr| {
                    let _ = slint::invoke_from_event_loop(move || {
                        on_screen(|s| s.set_phone_qr(qr.as_ref().map(|q| &q.pixels)))
                    });
                },
            ))
        }
        _ => None,
    };

    let link = Link::spawn(LinkConfig::new(hub, opts.token.clone()), move |event| {
        if let LinkEvent::Snapshot(board) = &event {
            fonts::warn_missing(&font, board);
        }
        if let Some(f) = on_link.as_mut() {
            f(&event);
        }
        let _ = slint::invoke_from_event_loop(move || on_screen(|s| s.handle(event)));
    });

    let result = screen.run();
    tell_systemd("STOPPING=1", sd_notify::stopping());
    watchdog.stop();
    link.stop();
    if let Some(feed) = phone_code {
        feed.stop();
    }
    SCREEN.with(|s| s.borrow_mut().take());
    result.context("the display's event loop failed")
}

fn tell_systemd(what: &str, sent: std::io::Result<bool>) {
    if let Err(e) = sent {
        tracing::warn!("cannot tell systemd {what}: {e}");
    }
}

/// What a still frame shows.
#[derive(Clone, Debug)]
pub enum Source {
    /// `GET /api/v1/board` of the hub.
    Hub,
    /// A demo scenario; `connected: false` shows the reconnecting state.
    Demo { scenario: Scenario, connected: bool },
}

/// Renders one frame of the board to `png` with the software renderer; no display server needed.
pub fn screenshot(opts: &Options, source: &Source, png: &Path) -> Result<()> {
    let font = fonts::find_chinese_font()?;
    let snapshot: BoardSnapshot = match source {
        Source::Hub => {
            let Some(hub) = &opts.hub else {
                bail!("--hub http://HOST:PORT (or --demo NAME) is needed for a screenshot");
            };
            http::get_json(hub, BOARD_PATH, opts.token.as_deref())
                .with_context(|| format!("cannot fetch the board from {}", hub.authority()))?
        }
        Source::Demo { scenario, .. } => scenario.snapshot(),
    };
    fonts::warn_missing(&font, &snapshot);
    let mut headless = Headless::install(opts.size.0, opts.size.1)?;
    let screen = make_screen(opts)?;
    screen.set_font_family(&font.family);
    screen.set_animate(false);
    screen.show(&snapshot);
    let clock = match source {
        Source::Hub => Utc::now(),
        // The demo hall's clock: just after its newest call.
        Source::Demo { .. } => snapshot
            .live
            .calls
            .first()
            .map(|c| c.at + chrono::Duration::seconds(20))
            .unwrap_or_else(Utc::now),
    };
    screen.set_clock(clock);
    if opts.counter.is_none() {
        screen.set_phone_qr(still_phone_qr(opts, source).as_ref());
    }
    if let Source::Demo {
        connected: false, ..
    } = source
    {
        screen.lost();
    }
    screen.window_show()?;
    headless.render();
    let file =
        std::fs::File::create(png).with_context(|| format!("cannot create {}", png.display()))?;
    headless.write_png(std::io::BufWriter::new(file))?;
    Ok(())
}

/// The phone code in a still frame: the hub's now, or for a demo a code like a hall's.
fn still_phone_qr(opts: &Options, source: &Source) -> Option<QrPixels> {
    let url = match (source, &opts.hub) {
        (Source::Hub, Some(hub)) => match fetch_phone_code(hub, opts.token.as_deref()) {
            Ok(code) if code.enabled => code.url(&opts.public_base()?),
            Ok(_) => return None,
            Err(e) => {
                tracing::warn!("no phone code in the picture: {e}");
                return None;
            }
        },
        (Source::Demo { .. }, _) => {
            let base = opts.public_url.as_deref().unwrap_or(DEMO_PUBLIC_URL);
            format!("{}/p/K7QD4WMX", base.trim_end_matches('/'))
        }
        (Source::Hub, None) => return None,
    };
    QrPixels::encode(&url).ok()
}

/// Where the demo's phone code points: a hall hub's usual address.
const DEMO_PUBLIC_URL: &str = "http://192.168.1.20:8080";
