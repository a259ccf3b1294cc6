//! What the kiosk screen shows, as plain Rust values: the controller's state turned into words in the
//! customer's language. The Slint adapter copies this into the `Station` global one field at a time;
//! nothing here knows about widgets, so the tests can read a screen without drawing it.

use chrono::{DateTime, Utc};
use hallq_shared::hall::{DayPhase, Lang, OutageKind, Phone};
use hallq_shared::protocol::{BoardMode, BoardSnapshot, ServiceView, TicketIssued};
use hallq_shared::qr::PhoneQr;

use super::words::{self, Said};

/// The screens, one at a time. Every screen but `Start` returns to `Start` after a while untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    Start,
    Detail(String),
    Issued,
    Callback,
    CallbackDone,
    Suggestion,
    SuggestionDone,
    /// The phone code, large (扫码取号).
    PhoneCode,
}

impl Screen {
    /// The name the `.slint` file switches on.
    pub fn name(&self) -> &'static str {
        match self {
            Screen::Start => "start",
            Screen::Detail(_) => "detail",
            Screen::Issued => "issued",
            Screen::Callback => "callback",
            Screen::CallbackDone => "callback-done",
            Screen::Suggestion => "suggestion",
            Screen::SuggestionDone => "suggestion-done",
            Screen::PhoneCode => "phone-code",
        }
    }
}

/// How the paper ticket went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintState {
    Printing,
    Printed,
    /// The number is on screen only; the note says why.
    Failed(crate::printer::PrinterHealth),
    /// This kiosk has no printer configured.
    NoPrinter,
}

/// The controller's state: everything the screen depends on.
#[derive(Clone, Debug)]
pub struct State {
    pub lang: Lang,
    pub screen: Screen,
    /// The latest board from the hub (kept while the hub is unreachable).
    pub board: Option<BoardSnapshot>,
    pub hub_ok: bool,
    /// A request is in flight: buttons that would start another are disabled.
    pub busy: bool,
    pub notice: Option<Notice>,
    pub issued: Option<(TicketIssued, PrintState)>,
    /// Digits typed on the keypad, nothing else.
    pub phone: String,
    pub phone_error: Option<Notice>,
    pub consent: bool,
    pub done_text: String,
    pub phrases: Vec<bool>,
    pub clock: String,
    /// The phone code of the minute (扫码取号), while the hall offers tickets by phone.
    pub phone_qr: Option<PhoneQr>,
}

/// A message to the customer, kept in both languages so that the language switch applies to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub zh: String,
    pub en: String,
}

impl Notice {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl From<Said> for Notice {
    fn from(s: Said) -> Notice {
        Notice {
            zh: s.zh.into(),
            en: s.en.into(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State {
            lang: Lang::Zh,
            screen: Screen::Start,
            board: None,
            hub_ok: true,
            busy: false,
            notice: None,
            issued: None,
            phone: String::new(),
            phone_error: None,
            consent: false,
            done_text: String::new(),
            phrases: vec![false; words::PHRASES.len()],
            clock: String::new(),
            phone_qr: None,
        }
    }
}

impl State {
    pub fn service(&self, id: &str) -> Option<&ServiceView> {
        self.board
            .as_ref()?
            .notices
            .services
            .iter()
            .find(|s| s.id == id)
    }

    /// Whether the phone code is offered now: known, the hub answering, tickets still taken.
    pub fn phone_code_offered(&self) -> bool {
        self.phone_qr.is_some() && self.hub_ok && self.board.is_some() && !self.tickets_ended()
    }

    pub fn tickets_ended(&self) -> bool {
        self.board
            .as_ref()
            .is_some_and(|b| matches!(b.live.day.phase, DayPhase::TicketsEnded | DayPhase::Closed))
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.board
            .as_ref()
            .and_then(|b| b.notices.time_zone.parse().ok())
            .unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// `HH:MM` in the hall's time zone.
    pub fn local_hhmm(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone())
            .format("%H:%M")
            .to_string()
    }

    /// Forget everything the last customer typed or saw.
    pub fn clear_customer(&mut self) {
        self.phone.clear();
        self.phone_error = None;
        self.consent = false;
        self.done_text.clear();
        self.phrases.iter_mut().for_each(|p| *p = false);
        self.notice = None;
        self.issued = None;
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tile {
    pub id: String,
    pub letter: String,
    pub name: String,
    pub load: String,
    pub long_wait: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    pub id: String,
    pub letter: String,
    pub name: String,
    pub documents: Vec<String>,
    pub steps: Vec<String>,
    pub fees: Vec<(String, String)>,
    pub reminder: String,
    pub load: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issued {
    pub number: String,
    pub service: String,
    pub load: String,
    pub print_note: String,
    /// 0 printing, 1 printed, 2 number on screen only.
    pub print_state: i32,
}

/// The fixed words of the screen (see `Labels` in `kiosk.slint`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    pub lang_switch: String,
    pub back: String,
    pub take_ticket: String,
    pub documents: String,
    pub steps: String,
    pub fees: String,
    pub no_documents: String,
    pub no_fees: String,
    pub your_number: String,
    pub done: String,
    pub choose_service: String,
    pub suggestion: String,
    pub callback: String,
    pub ended_title: String,
    pub ended_body: String,
    pub hotlines: String,
    pub phone_label: String,
    pub consent: String,
    pub submit: String,
    pub clear: String,
    pub delete: String,
    pub suggestion_title: String,
    pub suggestion_hint: String,
    pub suggestion_phone: String,
    pub scan_button: String,
    pub scan_title: String,
    pub scan_hint: String,
}

/// One whole screen's worth of values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StationView {
    pub screen: &'static str,
    pub labels: Labels,
    pub hall_name: String,
    pub clock: String,
    pub services: Vec<Tile>,
    pub tickets_ended: bool,
    pub banner: String,
    pub callback_offer: bool,
    pub notice: String,
    pub busy: bool,
    pub detail: Detail,
    pub issued: Issued,
    pub apology: String,
    pub purpose: String,
    pub phone_shown: String,
    pub phone_error: String,
    pub consent: bool,
    pub done_text: String,
    pub phrases: Vec<(String, bool)>,
    /// The phone code (the start screen's button and its own screen): only while the hub answers
    /// and tickets can be taken (a code that leads to a refusal is worse than none).
    pub phone_qr: Option<PhoneQr>,
}

/// The wait as the customer is told it: the hub's range ("约15–20分钟", "20分钟以上"), or from a
/// hub that sends none the single figure in minutes; `None` for no wait.
pub fn wait_words(lang: Lang, secs: u32, lo_s: u32, hi_s: Option<u32>) -> Option<String> {
    let range = if lo_s == 0 && hi_s.is_none() {
        let m = minutes(secs) * 60;
        hallq_shared::estimate::WaitRange {
            lo_s: m,
            hi_s: Some(m),
        }
    } else {
        hallq_shared::estimate::WaitRange { lo_s, hi_s }
    };
    if range.hi_s == Some(0) {
        return None;
    }
    Some(match lang {
        Lang::Zh => range.zh(),
        Lang::En => range.en(),
    })
}

/// A new customer's wait for `service`, as the tile and the service's page say it.
fn service_wait_words(lang: Lang, service: &ServiceView) -> Option<String> {
    wait_words(
        lang,
        service.estimated_wait_s,
        service.estimated_wait_lo_s,
        service.estimated_wait_hi_s,
    )
}

/// Minutes shown to a customer: rounded up, so "about 0 minutes" is never promised for a real wait.
pub fn minutes(secs: u32) -> u32 {
    secs.div_ceil(60)
}

/// Keypad digits grouped as a customer reads them: `138 1234 5678`, `0713 876 5432`.
pub fn group_digits(d: &str) -> String {
    // Mobiles read 3-4-4; three-digit area codes (010, 02x) likewise; other landlines 4-3-4.
    let cuts: &[usize] = if d.starts_with('1') || d.starts_with("010") || d.starts_with("02") {
        &[3, 7]
    } else if d.starts_with('0') {
        &[4, 7]
    } else {
        &[]
    };
    let mut out = String::with_capacity(d.len() + 2);
    for (i, c) in d.chars().enumerate() {
        if cuts.contains(&i) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

pub fn render(st: &State) -> StationView {
    let lang = st.lang;
    let g = |s: Said| s.get(lang).to_string();
    let board = st.board.as_ref();
    let notices = board.map(|b| &b.notices);
    let (consultation, complaint) = notices
        .map(|n| {
            (
                n.consultation_hotline.as_str(),
                n.complaint_hotline.as_str(),
            )
        })
        .unwrap_or(("", ""));
    let opening = board.map(|b| b.live.day.opening.as_str()).unwrap_or("");

    let services = notices
        .map(|n| {
            n.services
                .iter()
                .filter(|s| s.enabled)
                .map(|s| Tile {
                    id: s.id.clone(),
                    letter: s.prefix.to_string(),
                    name: s.name.get(lang).to_string(),
                    load: words::load(lang, s.waiting, service_wait_words(lang, s).as_deref()),
                    long_wait: s.long_wait,
                })
                .collect()
        })
        .unwrap_or_default();

    let banner = match board {
        Some(b) => match (b.live.mode, &b.live.outage) {
            (BoardMode::Outage, Some(o)) => {
                let end = st.local_hhmm(o.expected_end);
                let mut text =
                    words::outage_apology(lang, o.kind == OutageKind::Long, Some(end.as_str()));
                if let Some(m) = o.message.as_ref().filter(|m| !m.is_blank()) {
                    text = format!("{text}\n{}", m.get(lang));
                }
                text
            }
            (BoardMode::LongWait, _) if b.live.slow_since.is_some() => {
                words::slow_system_apology(lang, true)
            }
            (BoardMode::LongWait, _) => words::long_wait_apology(lang).to_string(),
            _ if b.live.slow_since.is_some() => words::slow_system_apology(lang, false),
            _ if b.live.day.phase == DayPhase::BeforeOpening => {
                words::before_opening(lang, &b.live.day.opening)
            }
            _ => String::new(),
        },
        None => String::new(),
    };

    let mut notice = st
        .notice
        .as_ref()
        .map(|n| n.get(lang).to_string())
        .unwrap_or_default();
    if !st.hub_ok && notice.is_empty() {
        notice = g(words::HUB_DOWN);
    }

    let detail = match &st.screen {
        Screen::Detail(id) => st
            .service(id)
            .map(|s| Detail {
                id: s.id.clone(),
                letter: s.prefix.to_string(),
                name: s.name.get(lang).to_string(),
                documents: s
                    .documents
                    .iter()
                    .map(|d| d.get(lang).to_string())
                    .collect(),
                steps: s.steps.iter().map(|d| d.get(lang).to_string()).collect(),
                fees: s
                    .fees
                    .iter()
                    .map(|f| (f.item.get(lang).to_string(), f.amount.get(lang).to_string()))
                    .collect(),
                reminder: s
                    .reminder
                    .as_ref()
                    .map(|r| r.get(lang).to_string())
                    .unwrap_or_default(),
                load: words::ahead(lang, s.waiting, service_wait_words(lang, s).as_deref()),
            })
            .unwrap_or_default(),
        _ => Detail::default(),
    };

    let issued = st
        .issued
        .as_ref()
        .map(|(t, print)| {
            let (note, state) = match print {
                PrintState::Printing => (g(words::PRINTING), 0),
                PrintState::Printed => (g(words::PRINTED), 1),
                PrintState::Failed(h) => (
                    format!(
                        "{}{}{}",
                        h.customer_note(lang),
                        if lang == Lang::En { " " } else { "" },
                        g(words::PRINTER_PROBLEM_TAIL)
                    ),
                    2,
                ),
                PrintState::NoPrinter => (g(words::NO_PRINTER), 2),
            };
            Issued {
                number: t.number.clone(),
                service: t.service_name.get(lang).to_string(),
                load: words::ahead(
                    lang,
                    t.ahead,
                    wait_words(
                        lang,
                        t.estimated_wait_s,
                        t.estimated_wait_lo_s,
                        t.estimated_wait_hi_s,
                    )
                    .as_deref(),
                ),
                print_note: note,
                print_state: state,
            }
        })
        .unwrap_or_default();

    let retention = notices.map(|n| n.callback_retention_days).unwrap_or(30);
    let apology = match board {
        Some(b) if b.live.mode == BoardMode::Outage => words::outage_apology(lang, true, None),
        _ => words::long_wait_apology(lang).to_string(),
    };

    StationView {
        screen: st.screen.name(),
        labels: Labels {
            lang_switch: g(words::LANG_SWITCH),
            back: g(words::BACK),
            take_ticket: g(words::TAKE_TICKET),
            documents: g(words::DOCUMENTS),
            steps: g(words::STEPS),
            fees: g(words::FEES),
            no_documents: g(words::NO_DOCUMENTS),
            no_fees: g(words::NO_FEES),
            your_number: g(words::YOUR_NUMBER),
            done: g(words::DONE),
            choose_service: g(words::CHOOSE_SERVICE),
            suggestion: g(words::SUGGESTION),
            callback: g(words::CALLBACK),
            ended_title: g(words::ENDED_TITLE),
            ended_body: words::ended_body(lang, opening),
            hotlines: words::hotlines(lang, consultation, complaint),
            phone_label: g(words::PHONE_LABEL),
            consent: words::consent(lang).to_string(),
            submit: g(words::SUBMIT),
            clear: g(words::CLEAR),
            delete: g(words::DELETE),
            suggestion_title: g(words::SUGGESTION_TITLE),
            suggestion_hint: g(words::SUGGESTION_HINT),
            suggestion_phone: words::suggestion_phone(lang, retention),
            scan_button: g(words::SCAN_BUTTON),
            scan_title: g(words::SCAN_TITLE),
            scan_hint: g(words::SCAN_HINT),
        },
        hall_name: notices
            .map(|n| n.hall_name.get(lang).to_string())
            .unwrap_or_default(),
        clock: st.clock.clone(),
        services,
        tickets_ended: st.tickets_ended(),
        banner,
        callback_offer: board.is_some_and(|b| b.live.callback_capture),
        notice,
        busy: st.busy,
        detail,
        issued,
        apology,
        purpose: words::purpose(lang, retention, consultation),
        phone_shown: group_digits(&st.phone),
        phone_error: st
            .phone_error
            .as_ref()
            .map(|n| n.get(lang).to_string())
            .unwrap_or_default(),
        consent: st.consent,
        done_text: st.done_text.clone(),
        phrases: words::PHRASES
            .iter()
            .zip(&st.phrases)
            .map(|(p, t)| (p.get(lang).to_string(), *t))
            .collect(),
        phone_qr: st.phone_qr.clone().filter(|_| st.phone_code_offered()),
    }
}

/// A phone number that did not parse, as the customer is told.
pub fn phone_problem(e: &hallq_shared::hall::PhoneError) -> Notice {
    Notice {
        zh: e.zh().to_string(),
        en: format!(
            "{}{}",
            e.to_string()[..1].to_uppercase(),
            &e.to_string()[1..]
        ),
    }
}

/// The confirmation text never holds the full number.
pub fn masked_or(p: &Phone, from_hub: &str) -> String {
    if from_hub.is_empty() {
        p.masked()
    } else {
        from_hub.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_for_reading() {
        assert_eq!(group_digits("13812345678"), "138 1234 5678");
        assert_eq!(group_digits("138"), "138");
        assert_eq!(group_digits("07138765432"), "0713 876 5432");
        assert_eq!(group_digits("02787654321"), "027 8765 4321");
        assert_eq!(group_digits(""), "");
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes(0), 0);
        assert_eq!(minutes(1), 1);
        assert_eq!(minutes(600), 10);
        assert_eq!(minutes(601), 11);
    }
}
