//! One screen (the hall's board or a counter's) and what it is showing: applies snapshots and link
//! changes to the Slint adapter, runs the callback form, and tells the voice about new calls.
//! Lives on the UI thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hallq_shared::hall::CounterId;
use hallq_shared::protocol::{
    BoardSnapshot, CallbackCaptured, CaptureCallbackRequest, ErrorBody, Notices,
};
use hallq_shared::qr::QrPixels;
use slint::{
    ComponentHandle, Image, Model, ModelRc, Rgb8Pixel, SharedPixelBuffer, Timer, TimerMode,
    VecModel,
};

use crate::form::{CallbackForm, FormState};
use crate::http::{self, HubUrl};
use crate::link::LinkEvent;
use crate::model;
use crate::ui;

/// How long a half-typed number may sit on a public screen untouched.
pub const IDLE_CLEAR: Duration = Duration::from_secs(45);
/// How long the masked confirmation stays up.
pub const CONFIRMATION_SHOWN: Duration = Duration::from_secs(10);
/// How long a new call blinks.
pub const FLASH: Duration = Duration::from_secs(6);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The hub said no, with a message for the customer.
    #[error("{en}")]
    Refused { zh: String, en: String },
    #[error("the hub cannot be reached: {0}")]
    Unreachable(String),
}

/// Sends a captured number to the hub.
pub trait CallbackSender: Send + Sync {
    fn send(&self, req: &CaptureCallbackRequest) -> Result<CallbackCaptured, SendError>;
}

/// The real one: `POST /api/v1/callbacks` with the display's device token.
pub struct HubCallbacks {
    pub hub: HubUrl,
    pub token: Option<String>,
}

impl CallbackSender for HubCallbacks {
    fn send(&self, req: &CaptureCallbackRequest) -> Result<CallbackCaptured, SendError> {
        let resp = http::post_json(&self.hub, "/api/v1/callbacks", self.token.as_deref(), req)
            .map_err(|e| SendError::Unreachable(e.to_string()))?;
        match resp.status {
            200 | 201 => serde_json::from_slice(&resp.body)
                .map_err(|e| SendError::Unreachable(format!("unreadable answer: {e}"))),
            401 | 403 => Err(SendError::Refused {
                zh: "本屏幕暂不能登记电话,请联系工作人员".into(),
                en: "This screen may not take numbers; please ask a member of staff".into(),
            }),
            400..=499 => match serde_json::from_slice::<ErrorBody>(&resp.body) {
                Ok(b) => Err(SendError::Refused {
                    zh: b
                        .error
                        .message_zh
                        .unwrap_or_else(|| "提交未成功,请核对后重试".into()),
                    en: b.error.message,
                }),
                Err(_) => Err(SendError::Unreachable(format!("status {}", resp.status))),
            },
            s => Err(SendError::Unreachable(format!("status {s}"))),
        }
    }
}

/// How a submission reaches the hub: on the UI thread (tests, stills) or on a worker whose answer
/// comes back through [`Screen::callback_answer`].
pub enum Submit {
    Inline(Arc<dyn CallbackSender>),
    Background(Box<dyn Fn(CaptureCallbackRequest)>),
}

pub enum Kind {
    Board(ui::BoardWindow),
    Counter(ui::CounterWindow, CounterId),
}

macro_rules! global {
    ($kind:expr, $g:ident => $body:expr) => {
        match $kind {
            Kind::Board(w) => {
                let $g = w.global::<ui::Board>();
                $body
            }
            Kind::Counter(w, _) => {
                let $g = w.global::<ui::Board>();
                $body
            }
        }
    };
}

struct State {
    kind: Kind,
    form: CallbackForm,
    board: Option<BoardSnapshot>,
    notices_shown: Option<(Notices, usize)>,
    current_shown: Option<String>,
    connected: bool,
    size: (u32, u32),
    submit: Option<Submit>,
    idle: Timer,
    flash: Timer,
    /// The lists on screen, kept for the screen's life and updated row by row: a new call then
    /// redraws only the rows whose text changed, not the whole list.
    recent: Rc<VecModel<ui::CallItem>>,
    waiting_services: Rc<VecModel<ui::WaitService>>,
    waiting: Rc<VecModel<ui::WaitCount>>,
}

/// Make `model` hold `rows`, touching only the rows that differ.
fn sync_rows<T: Clone + PartialEq + 'static>(model: &VecModel<T>, rows: Vec<T>) {
    let keep = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        if i >= model.row_count() {
            model.push(row);
        } else if model.row_data(i).as_ref() != Some(&row) {
            model.set_row_data(i, row);
        }
    }
    while model.row_count() > keep {
        model.remove(model.row_count() - 1);
    }
}

/// A screen and its state. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct Screen {
    state: Rc<RefCell<State>>,
}

impl Screen {
    /// The hall's board, `width`×`height` pixels (used to fit the notice pages).
    pub fn board(width: u32, height: u32) -> Result<Screen, slint::PlatformError> {
        let w = ui::BoardWindow::new()?;
        Ok(Screen::wrap(Kind::Board(w), (width, height)))
    }

    /// The small screen above counter `id`.
    pub fn counter(id: CounterId, width: u32, height: u32) -> Result<Screen, slint::PlatformError> {
        let w = ui::CounterWindow::new()?;
        Ok(Screen::wrap(Kind::Counter(w, id), (width, height)))
    }

    fn wrap(kind: Kind, size: (u32, u32)) -> Screen {
        let screen = Screen {
            state: Rc::new(RefCell::new(State {
                kind,
                form: CallbackForm::default(),
                board: None,
                notices_shown: None,
                current_shown: None,
                connected: false,
                size,
                submit: None,
                idle: Timer::default(),
                flash: Timer::default(),
                recent: Rc::new(VecModel::default()),
                waiting_services: Rc::new(VecModel::default()),
                waiting: Rc::new(VecModel::default()),
            })),
        };
        screen.wire();
        screen
    }

    fn wire(&self) {
        let st = self.state.borrow();
        global!(&st.kind, g => {
            g.set_recent(ModelRc::from(st.recent.clone()));
            g.set_waiting_services(ModelRc::from(st.waiting_services.clone()));
            g.set_waiting(ModelRc::from(st.waiting.clone()));
        });
        let weak = Rc::downgrade(&self.state);
        let with = move |f: &dyn Fn(&Screen)| {
            if let Some(state) = weak.upgrade() {
                f(&Screen { state });
            }
        };
        global!(&st.kind, g => {
            let w = with.clone();
            g.on_key_pressed(move |k| w(&|s| s.form_key(k.as_str())));
            let w = with.clone();
            g.on_toggle_consent(move || w(&|s| s.form_toggle_consent()));
            let w = with.clone();
            g.on_submit(move || w(&|s| s.form_submit()));
            let w = with.clone();
            g.on_cancel(move || w(&|s| s.form_clear(true)));
            let w = with.clone();
            g.on_open_form(move || w(&|s| s.form_open()));
        });
    }

    pub fn kind(&self) -> std::cell::Ref<'_, Kind> {
        std::cell::Ref::map(self.state.borrow(), |s| &s.kind)
    }

    pub fn window_show(&self) -> Result<(), slint::PlatformError> {
        match &self.state.borrow().kind {
            Kind::Board(w) => w.show(),
            Kind::Counter(w, _) => w.show(),
        }
    }

    pub fn run(&self) -> Result<(), slint::PlatformError> {
        let handle = match &self.state.borrow().kind {
            Kind::Board(w) => Ok(w.clone_strong()),
            Kind::Counter(w, _) => Err(w.clone_strong()),
        };
        match handle {
            Ok(w) => w.run(),
            Err(w) => w.run(),
        }
    }

    pub fn set_size(&self, width: u32, height: u32) {
        let mut st = self.state.borrow_mut();
        st.size = (width, height);
        let size = slint::PhysicalSize::new(width, height);
        match &st.kind {
            Kind::Board(w) => w.window().set_size(size),
            Kind::Counter(w, _) => w.window().set_size(size),
        }
    }

    pub fn set_fullscreen(&self, on: bool) {
        match &self.state.borrow().kind {
            Kind::Board(w) => w.window().set_fullscreen(on),
            Kind::Counter(w, _) => w.window().set_fullscreen(on),
        }
    }

    pub fn set_font_family(&self, family: &str) {
        global!(&self.state.borrow().kind, g => g.set_font_family(family.into()));
    }

    /// Still frames: no blinking, no marquee, no page turns.
    pub fn set_animate(&self, on: bool) {
        global!(&self.state.borrow().kind, g => g.set_animate(on));
    }

    /// The phone code to show (扫码取号), or none: phone tickets off, or the hub not answering.
    pub fn set_phone_qr(&self, qr: Option<&QrPixels>) {
        global!(&self.state.borrow().kind, g => {
            match qr {
                Some(q) => {
                    let side = q.side as u32;
                    let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(&q.rgb8(), side, side);
                    g.set_phone_qr(Image::from_rgb8(buffer));
                    g.set_has_phone_qr(true);
                }
                None => g.set_has_phone_qr(false),
            }
        });
    }

    pub fn set_submit(&self, submit: Submit) {
        self.state.borrow_mut().submit = Some(submit);
    }

    pub fn set_clock(&self, now: DateTime<Utc>) {
        let st = self.state.borrow();
        let tz = st
            .board
            .as_ref()
            .map(|b| model::hall_zone(&b.notices))
            .unwrap_or(chrono_tz::Asia::Shanghai);
        let (date, weekday, time) = model::clock_texts(now, tz);
        global!(&st.kind, g => {
            g.set_date_text(date.into());
            g.set_weekday_text(weekday.into());
            g.set_time_text(time.into());
        });
    }

    pub fn handle(&self, event: LinkEvent) {
        match event {
            LinkEvent::Snapshot(b) => self.show(&b),
            LinkEvent::Update { board, .. } => self.show(&board),
            LinkEvent::Lost { .. } => self.lost(),
        }
    }

    /// The link is down: calls are hidden until the next snapshot.
    pub fn lost(&self) {
        let mut st = self.state.borrow_mut();
        st.connected = false;
        // `current_shown` is kept: a resynchronised board whose newest call is the same does not
        // blink it again as if it were new.
        st.flash.stop();
        global!(&st.kind, g => {
            g.set_connected(false);
            g.set_flash(false);
            g.set_has_current(false);
        });
        sync_rows(&st.recent, vec![]);
    }

    /// Shows a board received from the hub.
    pub fn show(&self, snap: &BoardSnapshot) {
        let flash_now;
        {
            let mut st = self.state.borrow_mut();
            st.connected = true;
            let tz = model::hall_zone(&snap.notices);
            let banners = u32::from(matches!(
                snap.live.day.phase,
                hallq_shared::hall::DayPhase::TicketsEnded | hallq_shared::hall::DayPhase::Closed
            )) + u32::from(model::mode_name(snap) == "long-wait");
            let per_page =
                model::lines_per_page(st.size.0, st.size.1, banners, snap.live.waiting.len());
            let pages_source = model::pages_source(&snap.notices);
            let pages_stale = st
                .notices_shown
                .as_ref()
                .is_none_or(|(n, p)| *n != pages_source || *p != per_page);
            let counter_view = match &st.kind {
                // A counter the hub does not know reads as not in service, never as blank.
                Kind::Counter(_, id) => Some(model::counter_screen(snap, *id).unwrap_or_else(
                    || model::CounterScreen {
                        name: format!("{id}号窗口"),
                        name_en: format!("Counter {id}"),
                        state: "closed",
                        number: String::new(),
                        service: String::new(),
                        service_en: String::new(),
                    },
                )),
                Kind::Board(_) => None,
            };
            let current_key = match &st.kind {
                Kind::Board(_) => snap.live.calls.first().map(|c| c.id.to_string()),
                Kind::Counter(..) => counter_view
                    .as_ref()
                    .map(|c| c.number.clone())
                    .filter(|n| !n.is_empty()),
            };
            let call_changed = current_key != st.current_shown;
            flash_now = current_key.is_some() && call_changed && st.board.is_some();
            st.current_shown = current_key;
            global!(&st.kind, g => {
                if call_changed {
                    g.set_call_serial(g.get_call_serial().wrapping_add(1));
                }
                g.set_connected(true);
                g.set_ever_connected(true);
                g.set_hall_name(snap.notices.hall_name.zh.as_str().into());
                g.set_hall_name_en(snap.notices.hall_name.en.as_str().into());
                let calls: Vec<ui::CallItem> = snap
                    .live
                    .calls
                    .iter()
                    .map(|c| model::call_item(c, &snap.notices, tz))
                    .collect();
                g.set_has_current(!calls.is_empty());
                if let Some(c) = calls.first() {
                    g.set_current(c.clone());
                }
                sync_rows(&st.recent, calls.into_iter().skip(1).collect());
                // Names first: a line added to `waiting` reads its name by index.
                sync_rows(&st.waiting_services, model::waiting_services(snap));
                sync_rows(&st.waiting, model::waiting_counts(snap));
                if pages_stale {
                    g.set_pages(ModelRc::new(VecModel::from(model::notice_pages(snap, per_page))));
                    g.set_page(0);
                }
                g.set_scrolling(model::scrolling_line(&snap.notices).into());
                g.set_complaint_hotline(snap.notices.complaint_hotline.as_str().into());
                g.set_consultation_hotline(snap.notices.consultation_hotline.as_str().into());
                let d = &snap.live.day;
                g.set_hours_text(format!("{}–{}", d.opening, d.closing).into());
                g.set_mode(model::mode_name(snap).into());
                let (lw, lw_en) = model::long_wait_services(snap);
                g.set_long_wait_services(lw.into());
                g.set_long_wait_services_en(lw_en.into());
                let (aff, aff_en) = model::outage_affected(snap);
                g.set_outage_affected(aff.into());
                g.set_outage_affected_en(aff_en.into());
                g.set_outage_until(
                    snap.live
                        .outage
                        .as_ref()
                        .map(|o| model::local_hhmm(o.expected_end, tz))
                        .unwrap_or_default()
                        .into(),
                );
                g.set_phase(model::phase_name(d.phase).into());
                g.set_callback_capture(snap.live.callback_capture);
                g.set_slow_system(snap.live.slow_since.is_some());
                g.set_retention_days(snap.notices.callback_retention_days as i32);
                if let Some(c) = &counter_view {
                    g.set_counter_name(c.name.as_str().into());
                    g.set_counter_name_en(c.name_en.as_str().into());
                    g.set_counter_state(c.state.into());
                    g.set_counter_number(c.number.as_str().into());
                    g.set_counter_service(c.service.as_str().into());
                    g.set_counter_service_en(c.service_en.as_str().into());
                }
            });
            if pages_stale {
                st.notices_shown = Some((pages_source, per_page));
            }
            let capture_ended = !snap.live.callback_capture;
            st.board = Some(snap.clone());
            drop(st);
            if capture_ended && !matches!(self.state.borrow().form.state(), FormState::Done { .. })
            {
                // Nothing typed stays on screen once the hall stops taking numbers.
                self.form_clear(true);
            }
        }
        if flash_now {
            self.start_flash();
        }
    }

    fn start_flash(&self) {
        let st = self.state.borrow();
        global!(&st.kind, g => g.set_flash(true));
        let weak = Rc::downgrade(&self.state);
        st.flash.start(TimerMode::SingleShot, FLASH, move || {
            if let Some(state) = weak.upgrade() {
                global!(&state.borrow().kind, g => g.set_flash(false));
            }
        });
    }

    /// Ends the newest call's blinking now, as its timer does `FLASH` after the call.
    pub fn end_flash(&self) {
        let st = self.state.borrow();
        st.flash.stop();
        global!(&st.kind, g => g.set_flash(false));
    }

    // ----------------------------------------------------------------------------------------
    // The callback form

    fn form_open(&self) {
        global!(&self.state.borrow().kind, g => g.set_form_open(true));
        self.touch();
    }

    fn form_key(&self, key: &str) {
        self.state.borrow_mut().form.key(key);
        self.sync_form();
        self.touch();
    }

    fn form_toggle_consent(&self) {
        self.state.borrow_mut().form.toggle_consent();
        self.sync_form();
        self.touch();
    }

    fn form_submit(&self) {
        let req = {
            let mut st = self.state.borrow_mut();
            if !st.connected {
                st.form.refused(
                    "正在重新连接,请稍后再提交",
                    "Reconnecting; please submit again in a moment",
                );
                None
            } else {
                st.form.submit()
            }
        };
        self.sync_form();
        self.touch();
        let Some(req) = req else { return };
        let inline = {
            let st = self.state.borrow();
            match &st.submit {
                Some(Submit::Inline(sender)) => Some(sender.clone()),
                Some(Submit::Background(f)) => {
                    f(req.clone());
                    None
                }
                None => None,
            }
        };
        match inline {
            Some(sender) => self.callback_answer(sender.send(&req)),
            None if self.state.borrow().submit.is_none() => {
                self.callback_answer(Err(SendError::Unreachable("no hub to send to".into())))
            }
            None => {}
        }
    }

    /// The hub's answer to a submission.
    pub fn callback_answer(&self, answer: Result<CallbackCaptured, SendError>) {
        {
            let mut st = self.state.borrow_mut();
            match answer {
                Ok(c) => st.form.accepted(&c.phone_masked),
                Err(SendError::Refused { zh, en }) => st.form.refused(&zh, &en),
                Err(SendError::Unreachable(_)) => st.form.refused(
                    "暂时无法提交,请稍后再试或咨询工作人员",
                    "Cannot submit right now; please try again or ask a member of staff",
                ),
            }
        }
        self.sync_form();
        self.touch();
    }

    /// Clears the form; `close` also folds the panel away on a board that opened it on request.
    fn form_clear(&self, close: bool) {
        let mut st = self.state.borrow_mut();
        st.form.clear();
        st.idle.stop();
        drop(st);
        self.sync_form();
        if close {
            global!(&self.state.borrow().kind, g => g.set_form_open(false));
        }
    }

    /// Restarts the idle clock: a confirmation is read, then goes; anything typed goes when left.
    fn touch(&self) {
        let st = self.state.borrow();
        let wait = match st.form.state() {
            FormState::Done { .. } => CONFIRMATION_SHOWN,
            _ => IDLE_CLEAR,
        };
        let weak = Rc::downgrade(&self.state);
        st.idle.start(TimerMode::SingleShot, wait, move || {
            if let Some(state) = weak.upgrade() {
                let s = Screen { state };
                if *s.state.borrow().form.state() != FormState::Sending {
                    s.form_clear(true);
                }
            }
        });
    }

    fn sync_form(&self) {
        let st = self.state.borrow();
        let f = &st.form;
        global!(&st.kind, g => {
            g.set_phone_display(f.display().into());
            g.set_consent(f.consent());
            g.set_form_error(f.error().map(|e| e.zh.as_str()).unwrap_or("").into());
            g.set_form_error_en(f.error().map(|e| e.en.as_str()).unwrap_or("").into());
            let (state, masked) = match f.state() {
                FormState::Entry => ("entry", ""),
                FormState::Sending => ("sending", ""),
                FormState::Done { masked } => ("done", masked.as_str()),
            };
            g.set_form_state(state.into());
            g.set_confirmed_masked(masked.into());
        });
    }

    /// The form as it stands (for tests).
    pub fn form(&self) -> CallbackForm {
        self.state.borrow().form.clone()
    }

    pub fn is_connected(&self) -> bool {
        self.state.borrow().connected
    }
}
