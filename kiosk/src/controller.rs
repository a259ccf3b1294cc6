//! The kiosk's behaviour: what each touch, button press, hub answer and printer result does to the
//! screen. Slow work (the hub, the printer) runs on worker threads; every change ends with the whole
//! screen handed to the sink, which the Slint adapter applies on the UI thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hallq_shared::hall::{Lang, Phone};
use hallq_shared::protocol::{BoardMode, BoardSnapshot, CaptureCallbackRequest, TicketIssued};
use hallq_shared::qr::{PhoneCodeFeed, PhoneQr};

use super::hub::{HubClient, HubError};
use super::printing::PrinterDesk;
use super::view::{self, Notice, PrintState, Screen, State, StationView};
use super::words;
use crate::gpio::{ButtonSource, Buzzer, LightPattern, StatusLight};
use crate::printer::{PrinterHealth, TicketPrint};

/// Where finished screens go. The Slint adapter posts them to the UI thread; tests keep them.
pub type Sink = Box<dyn Fn(StationView) + Send + Sync>;

/// How long each screen waits untouched before going back to the start (and forgetting the customer).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub detail: Duration,
    pub issued: Duration,
    pub form: Duration,
    pub done: Duration,
    /// How often the board is fetched from the hub.
    pub poll: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            detail: Duration::from_secs(60),
            issued: Duration::from_secs(30),
            form: Duration::from_secs(90),
            done: Duration::from_secs(15),
            poll: Duration::from_secs(3),
        }
    }
}

/// The longest phone number the keypad accepts (landline with area code and extension digits cut).
const MAX_DIGITS: usize = 12;

pub struct Controller {
    inner: Arc<Inner>,
}

impl Clone for Controller {
    fn clone(&self) -> Self {
        Controller {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner {
    state: Mutex<State>,
    last_touch: Mutex<Instant>,
    hub: HubClient,
    printer: Option<PrinterDesk>,
    sink: Sink,
    timeouts: Timeouts,
    /// Worker threads still running (tests wait for zero).
    running: AtomicUsize,
    stop: AtomicBool,
    last_reported: Mutex<Option<PrinterHealth>>,
    /// The status light by the buttons, with what it shows now.
    light: Mutex<Option<(Box<dyn StatusLight>, LightPattern)>>,
    /// Where the ticket's QR code points: an address a customer's phone can open.
    public_url: Mutex<Option<String>>,
    /// The thread keeping the phone code current, once started.
    phone_code: Mutex<Option<PhoneCodeFeed>>,
}

impl Controller {
    pub fn new(
        hub: HubClient,
        printer: Option<PrinterDesk>,
        timeouts: Timeouts,
        sink: Sink,
    ) -> Controller {
        let c = Controller {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                last_touch: Mutex::new(Instant::now()),
                hub,
                printer,
                sink,
                timeouts,
                running: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
                last_reported: Mutex::new(None),
                light: Mutex::new(None),
                public_url: Mutex::new(None),
                phone_code: Mutex::new(None),
            }),
        };
        c.show(&c.lock());
        c
    }

    /// A copy of the state, for tests and diagnostics.
    pub fn state(&self) -> State {
        self.lock().clone()
    }

    /// The screen as it is now.
    pub fn view(&self) -> StationView {
        view::render(&self.lock())
    }

    // -----------------------------------------------------------------------------------------
    // From the hub

    pub fn board_updated(&self, board: BoardSnapshot) {
        let mut st = self.lock();
        st.board = Some(board);
        if !st.hub_ok {
            st.hub_ok = true;
            if st.notice == Some(words::HUB_DOWN.into()) {
                st.notice = None;
            }
        }
        // The form belongs to an apology that is over: the customer is not asked any more.
        if st.screen == Screen::Callback
            && !st.board.as_ref().is_some_and(|b| b.live.callback_capture)
        {
            st.screen = Screen::Start;
            st.clear_customer();
        }
        self.show(&st);
    }

    pub fn hub_lost(&self) {
        let mut st = self.lock();
        let down = Some(words::HUB_DOWN.into());
        if st.hub_ok || st.notice != down {
            st.hub_ok = false;
            // Outranks any older line: nothing can be done until the hub is back.
            st.notice = down;
            self.show(&st);
        }
    }

    /// Fetch the board once, now, on this thread.
    pub fn refresh(&self) {
        match self.inner.hub.board() {
            Ok(b) => self.board_updated(b),
            Err(_) => self.hub_lost(),
        }
    }

    /// Fetches the board every `poll` and reports the printer's state every minute, until `stop`.
    pub fn start_polling(&self) {
        let me = self.clone();
        thread::Builder::new()
            .name("hub-poll".into())
            .spawn(move || {
                let mut round: u64 = 0;
                while !me.inner.stop.load(Ordering::Relaxed) {
                    me.refresh();
                    let every = (60 / me.inner.timeouts.poll.as_secs().max(1)).max(1);
                    if round.is_multiple_of(every) {
                        me.check_printer();
                    }
                    round += 1;
                    thread::sleep(me.inner.timeouts.poll);
                }
            })
            .expect("spawn hub poll thread");
    }

    /// Keeps the start screen's phone code (扫码取号) current: asked of the hub each minute.
    pub fn start_phone_code(&self) {
        let hub = self.inner.hub.clone();
        let weak = Arc::downgrade(&self.inner);
        let feed = PhoneCodeFeed::spawn(
            self.public_base(),
            move || hub.phone_code().map_err(|e| e.to_string()),
            move |qr| {
                if let Some(inner) = weak.upgrade() {
                    Controller { inner }.phone_code(qr);
                }
            },
        );
        *self.inner.phone_code.lock().unwrap() = Some(feed);
    }

    /// Asks the hub for the phone code once (a still picture of the start screen).
    pub fn fetch_phone_code(&self) {
        let qr = match self.inner.hub.phone_code() {
            Ok(code) => PhoneQr::for_code(&code, &self.public_base()),
            Err(_) => None,
        };
        self.phone_code(qr);
    }

    /// The phone code to show, or none (phone tickets off, the hub not answering).
    pub fn phone_code(&self, qr: Option<PhoneQr>) {
        let mut st = self.lock();
        if st.phone_qr != qr {
            st.phone_qr = qr;
            if !st.phone_code_offered() && st.screen == Screen::PhoneCode {
                st.screen = Screen::Start;
            }
            self.show(&st);
        }
    }

    /// The start screen's 扫码取号 button: the phone code, large.
    pub fn open_phone_code(&self) {
        self.touched();
        let mut st = self.lock();
        if !st.phone_code_offered() {
            return;
        }
        st.clear_customer();
        st.screen = Screen::PhoneCode;
        self.show(&st);
    }

    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        // Out of the mutex before joining, so that nothing waits on it while the thread ends.
        let feed = self.inner.phone_code.lock().unwrap().take();
        if let Some(feed) = feed {
            feed.stop();
        }
    }

    /// Ask the printer how it is and tell the hub when that changed (staff see the alert).
    pub fn check_printer(&self) {
        if let Some(desk) = &self.inner.printer {
            let health = desk.health();
            self.report_printer(health, false);
        }
    }

    fn report_printer(&self, health: PrinterHealth, always: bool) {
        self.show_light(LightPattern::for_health(&health));
        let mut last = self.inner.last_reported.lock().unwrap();
        if always || *last != Some(health) {
            if self.inner.hub.report_printer(health).is_ok() {
                *last = Some(health);
            } else {
                *last = None;
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Buttons and light by the door

    /// The status light follows the printer's health from now on. Without a printer the number on
    /// screen is the ticket, so the light is steady; with one it starts dark until the printer
    /// has answered (the polling thread asks at once).
    pub fn attach_light(&self, mut light: Box<dyn StatusLight>) {
        let pattern = if self.inner.printer.is_some() {
            self.inner
                .last_reported
                .lock()
                .unwrap()
                .map(|h| LightPattern::for_health(&h))
                .unwrap_or(LightPattern::Off)
        } else {
            LightPattern::Steady
        };
        light.set(pattern);
        *self.inner.light.lock().unwrap() = Some((light, pattern));
    }

    fn show_light(&self, pattern: LightPattern) {
        if let Some((light, shown)) = self.inner.light.lock().unwrap().as_mut()
            && *shown != pattern
        {
            light.set(pattern);
            *shown = pattern;
        }
    }

    /// Takes a ticket for every button press, the same way a touch does, on a thread of its own
    /// until `stop` or until the source closes. The buzzer, if any, confirms each press at once.
    pub fn watch_buttons(
        &self,
        mut source: Box<dyn ButtonSource>,
        mut buzzer: Option<Box<dyn Buzzer>>,
    ) {
        let me = self.clone();
        thread::Builder::new()
            .name("buttons".into())
            .spawn(move || {
                while !me.inner.stop.load(Ordering::Relaxed) {
                    match source.next_press(Duration::from_millis(200)) {
                        Ok(Some(press)) => {
                            if let Some(b) = buzzer.as_mut() {
                                b.beep(80);
                            }
                            me.take_ticket(&press.service, false);
                        }
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            })
            .expect("spawn button thread");
    }

    /// The services on the start screen, in their order: button `1` is the first.
    pub fn service_ids(&self) -> Vec<String> {
        self.lock()
            .board
            .as_ref()
            .map(|b| {
                b.notices
                    .services
                    .iter()
                    .filter(|s| s.enabled)
                    .map(|s| s.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The address printed in the QR code instead of the hub's (see `--public-url`).
    /// An empty one (an unset `HALLQ_PUBLIC_URL=` line) leaves the hub's address in place.
    pub fn set_public_url(&self, url: &str) {
        if url.trim().is_empty() {
            return;
        }
        *self.inner.public_url.lock().unwrap() = Some(url.trim_end_matches('/').to_string());
    }

    fn public_base(&self) -> String {
        self.inner
            .public_url
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| self.inner.hub.base().trim_end_matches('/').to_string())
    }

    // -----------------------------------------------------------------------------------------
    // From the customer

    /// Any touch: keeps the current screen from timing out.
    pub fn touched(&self) {
        *self.inner.last_touch.lock().unwrap() = Instant::now();
    }

    pub fn toggle_lang(&self) {
        self.touched();
        let mut st = self.lock();
        st.lang = match st.lang {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        self.show(&st);
    }

    pub fn choose_service(&self, id: &str) {
        self.touched();
        let mut st = self.lock();
        if st.service(id).is_none() {
            return;
        }
        st.notice = None;
        st.screen = Screen::Detail(id.to_string());
        self.show(&st);
    }

    /// Back to the start; whatever was typed is forgotten.
    pub fn back(&self) {
        self.touched();
        let mut st = self.lock();
        st.screen = Screen::Start;
        st.clear_customer();
        self.show(&st);
    }

    /// The take-ticket button of the detail screen.
    pub fn take_ticket_here(&self) {
        let id = match &self.lock().screen {
            Screen::Detail(id) => id.clone(),
            _ => return,
        };
        self.take_ticket(&id, false);
    }

    /// Issue a ticket for `service`: the one path for touches and physical buttons. Returns at once;
    /// the number appears when the hub answers, and the paper follows (or a note says why not).
    pub fn take_ticket(&self, service: &str, priority: bool) {
        self.touched();
        {
            let mut st = self.lock();
            if st.busy {
                return; // a double tap or a bouncing button: one ticket only
            }
            if st.tickets_ended() {
                st.screen = Screen::Start;
                st.clear_customer();
                self.show(&st);
                return;
            }
            st.busy = true;
            st.notice = None;
            self.show(&st);
        }
        let service = service.to_string();
        self.spawn(move |me| me.issue(&service, priority));
    }

    fn issue(&self, service: &str, priority: bool) {
        let result = self.inner.hub.issue_ticket(service, priority);
        let ticket = {
            let mut st = self.lock();
            st.busy = false;
            match result {
                Ok(t) => {
                    st.clear_customer();
                    let print = if self.inner.printer.is_some() {
                        PrintState::Printing
                    } else {
                        PrintState::NoPrinter
                    };
                    st.issued = Some((t.clone(), print));
                    st.screen = Screen::Issued;
                    self.touched();
                    self.show(&st);
                    t
                }
                Err(e) => {
                    self.refused(&mut st, &e);
                    self.show(&st);
                    return;
                }
            }
        };
        let Some(desk) = &self.inner.printer else {
            return;
        };
        let paper = self.ticket_print(&ticket);
        let outcome = desk.print(paper);
        {
            let mut st = self.lock();
            if let Some((t, print)) = st.issued.as_mut()
                && t.number == ticket.number
            {
                *print = match &outcome {
                    Ok(()) => PrintState::Printed,
                    Err(f) => PrintState::Failed(f.health),
                };
                self.show(&st);
            }
        }
        match outcome {
            // Paper low shows only after a print: ask, so staff hear of it before it runs out.
            Ok(()) => self.report_printer(desk.health(), false),
            Err(f) => self.report_printer(f.health, true),
        }
    }

    fn refused(&self, st: &mut State, e: &HubError) {
        match e {
            HubError::Refused { code, .. } if code == "tickets_ended" => {
                // The hub knows the clock best: show the "tickets have ended" screen now.
                if let Some(b) = st.board.as_mut() {
                    b.live.day.phase = hallq_shared::hall::DayPhase::TicketsEnded;
                }
                st.screen = Screen::Start;
                st.clear_customer();
            }
            HubError::Refused { status: 429, .. } => st.notice = Some(words::RATE_LIMITED.into()),
            // The hub's storage is full: its own words say what to do (ask at a counter).
            HubError::Refused {
                code,
                message,
                message_zh: Some(zh),
                ..
            } if code == "disk_full" => {
                st.notice = Some(Notice {
                    zh: zh.clone(),
                    en: message.clone(),
                });
            }
            HubError::Refused {
                message,
                message_zh,
                status,
                ..
            } if *status < 500 && message_zh.is_some() => {
                st.notice = Some(Notice {
                    zh: message_zh.clone().unwrap_or_default(),
                    en: message.clone(),
                });
            }
            HubError::Unreachable(_) => {
                st.hub_ok = false;
                st.notice = Some(words::HUB_DOWN.into());
            }
            _ => st.notice = Some(words::FAILED.into()),
        }
    }

    /// The paper ticket, in the customer's language, from the ticket and the service's notices.
    fn ticket_print(&self, t: &TicketIssued) -> TicketPrint {
        let st = self.lock();
        let lang = st.lang;
        let notices = st.board.as_ref().map(|b| &b.notices);
        let service = st.service(&t.service);
        TicketPrint {
            hall_name: notices
                .map(|n| n.hall_name.get(lang).to_string())
                .unwrap_or_default(),
            number: t.number.clone(),
            service_name: t.service_name.get(lang).to_string(),
            priority: t.priority,
            ahead: t.ahead,
            estimated_wait_min: if t.estimated_wait_lo_s == 0 && t.estimated_wait_hi_s.is_none() {
                view::minutes(t.estimated_wait_s)
            } else {
                t.estimated_wait_lo_s / 60
            },
            estimated_wait_hi_min: t.estimated_wait_hi_s.map(|h| h / 60),
            estimated_wait_open: t.estimated_wait_lo_s > 0 && t.estimated_wait_hi_s.is_none(),
            issued_at: t
                .issued_at
                .with_timezone(&st.time_zone())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            documents: service
                .map(|s| {
                    s.documents
                        .iter()
                        .map(|d| d.get(lang).to_string())
                        .collect()
                })
                .unwrap_or_default(),
            reminder: service
                .and_then(|s| s.reminder.as_ref())
                .map(|r| r.get(lang).to_string()),
            complaint_hotline: notices
                .map(|n| n.complaint_hotline.clone())
                .unwrap_or_default(),
            consultation_hotline: notices
                .map(|n| n.consultation_hotline.clone())
                .unwrap_or_default(),
            status_url: format!("{}/t/{}", self.public_base(), t.number),
            lang,
            test: false,
        }
    }

    pub fn done(&self) {
        self.back();
    }

    // -----------------------------------------------------------------------------------------
    // Callback capture (Ch.3 §1.7) and suggestions (Ch.3 §1.2)

    pub fn open_callback(&self) {
        self.touched();
        let mut st = self.lock();
        if !st.board.as_ref().is_some_and(|b| b.live.callback_capture) {
            return;
        }
        st.clear_customer();
        st.screen = Screen::Callback;
        self.show(&st);
    }

    pub fn open_suggestion(&self) {
        self.touched();
        let mut st = self.lock();
        st.clear_customer();
        st.screen = Screen::Suggestion;
        self.show(&st);
    }

    /// A keypad key: `0`–`9`, `C` (clear) or `<` (delete the last digit).
    pub fn key(&self, k: &str) {
        self.touched();
        let mut st = self.lock();
        match k {
            "C" => st.phone.clear(),
            "<" => {
                st.phone.pop();
            }
            d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
                if st.phone.len() < MAX_DIGITS {
                    st.phone.push_str(d);
                }
            }
            _ => return,
        }
        st.phone_error = None;
        self.show(&st);
    }

    pub fn toggle_consent(&self) {
        self.touched();
        let mut st = self.lock();
        st.consent = !st.consent;
        if st.consent && st.phone_error == Some(words::CONSENT_NEEDED.into()) {
            st.phone_error = None;
        }
        self.show(&st);
    }

    pub fn toggle_phrase(&self, i: usize) {
        self.touched();
        let mut st = self.lock();
        if let Some(p) = st.phrases.get_mut(i) {
            *p = !*p;
            st.notice = None;
            self.show(&st);
        }
    }

    pub fn submit_callback(&self) {
        self.touched();
        let (phone, reason, ticket) = {
            let mut st = self.lock();
            if st.busy || st.screen != Screen::Callback {
                return;
            }
            if !st.consent {
                st.phone_error = Some(words::CONSENT_NEEDED.into());
                self.show(&st);
                return;
            }
            let phone = match Phone::parse(&st.phone) {
                Ok(p) => p,
                Err(e) => {
                    st.phone_error = Some(view::phone_problem(&e));
                    self.show(&st);
                    return;
                }
            };
            let reason = match st.board.as_ref().map(|b| b.live.mode) {
                Some(BoardMode::Outage) => "取号机留电话：系统故障",
                _ => "取号机留电话：等候时间长",
            };
            let ticket = st.issued.as_ref().map(|(t, _)| t.number.clone());
            st.busy = true;
            self.show(&st);
            (phone, reason, ticket)
        };
        self.spawn(move |me| {
            let req = CaptureCallbackRequest {
                phone: phone.as_str().to_string(),
                consent: true,
                ticket,
                address: None,
                reason: Some(reason.to_string()),
            };
            let result = me.inner.hub.capture_callback(&req);
            let mut st = me.lock();
            st.busy = false;
            match result {
                Ok(c) => {
                    let lang = st.lang;
                    st.clear_customer();
                    st.done_text =
                        words::callback_done(lang, &view::masked_or(&phone, &c.phone_masked));
                    st.screen = Screen::CallbackDone;
                }
                Err(HubError::Refused {
                    code,
                    message,
                    message_zh,
                    ..
                }) if code == "bad_phone" => {
                    st.phone_error = Some(Notice {
                        zh: message_zh.unwrap_or_else(|| words::FAILED.zh.into()),
                        en: message,
                    });
                }
                Err(e) => me.refused(&mut st, &e),
            }
            me.show(&st);
        });
    }

    pub fn submit_suggestion(&self) {
        self.touched();
        let (text, contact) = {
            let mut st = self.lock();
            if st.busy || st.screen != Screen::Suggestion {
                return;
            }
            // Staff read suggestions in Chinese whatever language the customer chose.
            let picked: Vec<&str> = words::PHRASES
                .iter()
                .zip(&st.phrases)
                .filter(|(_, t)| **t)
                .map(|(p, _)| p.zh)
                .collect();
            if picked.is_empty() {
                st.notice = Some(words::PICK_A_PHRASE.into());
                self.show(&st);
                return;
            }
            let contact = if st.phone.is_empty() {
                None
            } else {
                match Phone::parse(&st.phone) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        st.phone_error = Some(view::phone_problem(&e));
                        self.show(&st);
                        return;
                    }
                }
            };
            st.busy = true;
            self.show(&st);
            (picked.join("；"), contact)
        };
        self.spawn(move |me| {
            let result = me
                .inner
                .hub
                .suggest(&text, contact.as_ref().map(Phone::as_str));
            let mut st = me.lock();
            st.busy = false;
            match result {
                Ok(()) => {
                    st.clear_customer();
                    let mut text = words::THANKS_SUGGESTION.get(st.lang).to_string();
                    if let Some(p) = &contact {
                        text = match st.lang {
                            Lang::Zh => format!("{text}\n我们会打电话 {} 答复您。", p.masked()),
                            Lang::En => format!("{text}\nWe will answer you on {}.", p.masked()),
                        };
                    }
                    st.done_text = text;
                    st.screen = Screen::SuggestionDone;
                }
                Err(e) => me.refused(&mut st, &e),
            }
            me.show(&st);
        });
    }

    // -----------------------------------------------------------------------------------------
    // Time

    /// Called about once a second with the wall clock: the clock on screen and the idle return.
    pub fn tick(&self, now: Instant, wall: DateTime<Utc>) {
        let idle = now.saturating_duration_since(*self.inner.last_touch.lock().unwrap());
        let mut st = self.lock();
        let mut changed = false;
        let clock = st.local_hhmm(wall);
        if clock != st.clock {
            st.clock = clock;
            changed = true;
        }
        let t = &self.inner.timeouts;
        let limit = match st.screen {
            Screen::Start => None,
            Screen::Detail(_) | Screen::PhoneCode => Some(t.detail),
            Screen::Issued => Some(t.issued),
            Screen::Callback | Screen::Suggestion => Some(t.form),
            Screen::CallbackDone | Screen::SuggestionDone => Some(t.done),
        };
        // A request in flight finishes first; its answer starts a fresh timeout.
        // A line left for the previous customer ("too many tickets") is not meant for the next one.
        if st.screen == Screen::Start && st.hub_ok && st.notice.is_some() && idle >= t.detail {
            st.notice = None;
            changed = true;
        }
        if limit.is_some_and(|l| idle >= l) && !st.busy {
            st.screen = Screen::Start;
            st.clear_customer();
            // The next customer is greeted in the hall's language.
            st.lang = Lang::Zh;
            changed = true;
        }
        if changed {
            self.show(&st);
        }
    }

    /// Sets the clock text directly (screenshots and tests want a fixed time).
    pub fn set_clock(&self, clock: &str) {
        let mut st = self.lock();
        st.clock = clock.to_string();
        self.show(&st);
    }

    /// Waits until no worker thread is running, at most `limit`. True when all finished.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while self.inner.running.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= until {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
        true
    }

    // -----------------------------------------------------------------------------------------

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a worker must not take the screen down with it: keep the last good state.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands the screen to the sink while the state is still locked, so screens arrive in order.
    fn show(&self, st: &MutexGuard<'_, State>) {
        (self.inner.sink)(view::render(st));
    }

    fn spawn(&self, work: impl FnOnce(Controller) + Send + 'static) {
        let me = self.clone();
        self.inner.running.fetch_add(1, Ordering::SeqCst);
        let spawned = thread::Builder::new()
            .name("kiosk-work".into())
            .spawn(move || {
                let running = Arc::clone(&me.inner);
                work(me);
                running.running.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            self.inner.running.fetch_sub(1, Ordering::SeqCst);
            let mut st = self.lock();
            st.busy = false;
            st.notice = Some(words::FAILED.into());
            self.show(&st);
        }
    }
}
