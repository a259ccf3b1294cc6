//! Taking a ticket by phone (扫码取号): the kiosk and the board show a code that changes every
//! minute; scanning it opens `/p/{code}`, where the customer picks a service and gets a ticket in
//! the same line as paper tickets, then follows it on `/t/{number}`.
//!
//! The code is a keyed hash of the minute, so that a photo of it stops working a minute or two
//! later and nobody queues from home. Nothing personal is asked: a phone is known only by a random
//! id its page keeps, which holds one waiting ticket at a time.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use hallq_shared::config::Policy;
use hallq_shared::engine::{Actor, Command, Reply};
use hallq_shared::hall::{Millis, TicketState};
use hallq_shared::protocol::{BoardSnapshot, PhoneCode, Role};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Path as UrlPath};
use super::state::AppState;
use super::throttle::ClientAddr;

/// A code is shown for one minute and accepted for one more: a customer who scanned it just
/// before it changed still gets their ticket.
pub const CODE_MINUTES_ACCEPTED: i64 = 2;
/// Phone tickets one client address may take in ten minutes (a family on one phone, a few
/// phones behind one address).
pub const TICKETS_PER_ADDRESS: usize = 6;
const ADDRESS_WINDOW_MS: Millis = 10 * 60_000;
const CODE_LEN: usize = 8;
/// Letters and digits that cannot be mistaken for each other when read aloud or typed.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// The phone desk's state: the key behind the codes, and who holds which ticket.
#[derive(Debug)]
pub struct PhoneDesk {
    key: [u8; 32],
    /// The last ticket each phone took and its business day (numbers start again each day), by
    /// the hash of the phone's id.
    tickets: Mutex<HashMap<[u8; 32], (NaiveDate, String)>>,
    /// Recent phone tickets per client address.
    ticket_times: PerAddress,
    /// Recent callback numbers per client address.
    callback_times: PerAddress,
}

/// When each client address last did something, over the last [`ADDRESS_WINDOW_MS`].
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, VecDeque<Millis>>>);

impl PerAddress {
    /// Count one more for `client` at `now` unless it already has `limit` in the window.
    fn admit(&self, client: IpAddr, now: Millis, limit: usize) -> bool {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() > 10_000 {
            all.retain(|_, q| q.back().is_some_and(|t| now - t < ADDRESS_WINDOW_MS));
        }
        let q = all.entry(client).or_default();
        while q.front().is_some_and(|t| now - t >= ADDRESS_WINDOW_MS) {
            q.pop_front();
        }
        if q.len() >= limit {
            return false;
        }
        q.push_back(now);
        true
    }
}

impl PhoneDesk {
    /// The key kept in `data_dir/phone-code.key` (made on first start, readable by the hub only),
    /// so that a code on a screen stays valid across a hub restart.
    pub fn open(data_dir: &Path) -> anyhow::Result<PhoneDesk> {
        let path = data_dir.join("phone-code.key");
        let read = std::fs::read(&path);
        if let Ok(key) = read.as_deref().map(<[u8; 32]>::try_from) {
            if let Ok(key) = key {
                return Ok(PhoneDesk::with_key(key));
            }
            // Codes on the screens change once; nothing else depends on the key.
            tracing::warn!(path = %path.display(), "phone code key of the wrong length: made anew");
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        super::file_modes::write_secret(&path, &key)?;
        Ok(PhoneDesk::with_key(key))
    }

    pub fn with_key(key: [u8; 32]) -> PhoneDesk {
        PhoneDesk {
            key,
            tickets: Mutex::new(HashMap::new()),
            ticket_times: PerAddress::default(),
            callback_times: PerAddress::default(),
        }
    }

    /// The tickets phones held on `day` before a restart (from the store).
    pub fn remember(&self, day: NaiveDate, held: Vec<(Vec<u8>, String)>) {
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        for (key, number) in held {
            if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                tickets.insert(key, (day, number));
            }
        }
    }

    /// The code of the minute that holds `now`.
    pub fn code_at(&self, now: Millis) -> String {
        self.code_of_minute(now.div_euclid(60_000))
    }

    /// The code that never changes, for a hall that prints it on a poster
    /// (`policy.phone_code_rotates = false`).
    pub fn fixed_code(&self) -> String {
        self.code_of(b"phone-code-fixed", 0)
    }

    fn code_of_minute(&self, minute: i64) -> String {
        self.code_of(b"phone-code", minute)
    }

    fn code_of(&self, label: &[u8], minute: i64) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(label);
        h.update(minute.to_le_bytes());
        let digest = h.finalize();
        digest
            .iter()
            .take(CODE_LEN)
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect()
    }

    /// Whether `code` was shown within the last [`CODE_MINUTES_ACCEPTED`] minutes.
    pub fn accepts(&self, code: &str, now: Millis) -> bool {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != CODE_LEN {
            return false;
        }
        let minute = now.div_euclid(60_000);
        (0..CODE_MINUTES_ACCEPTED).any(|back| same_code(&self.code_of_minute(minute - back), &code))
    }

    /// Whether `code` is the [`PhoneDesk::fixed_code`].
    pub fn accepts_fixed(&self, code: &str) -> bool {
        let code = code.trim().to_ascii_uppercase();
        code.len() == CODE_LEN && same_code(&self.fixed_code(), &code)
    }

    fn phone_key(&self, phone: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(b"phone-id");
        h.update(phone.as_bytes());
        h.finalize().into()
    }
}

/// Two codes of the same length compared byte by byte to the end, so that the time taken does
/// not tell how much of a guess matched.
fn same_code(expected: &str, code: &str) -> bool {
    expected.len() == code.len()
        && expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `GET /api/v1/phone/code`: the code a kiosk or board shows now.
pub async fn code(State(hub): State<AppState>, caller: Caller) -> ApiResult<Json<PhoneCode>> {
    caller.need(&[Role::Kiosk, Role::Display, Role::Staff, Role::Manager])?;
    let now = (hub.clock)();
    let policy = phone_policy(&hub);
    let code = if policy.phone_code_rotates {
        hub.phone.code_at(now)
    } else {
        hub.phone.fixed_code()
    };
    Ok(Json(PhoneCode {
        enabled: policy.phone_tickets,
        path: format!("/p/{code}"),
        code,
        next_at_ms: (now.div_euclid(60_000) + 1) * 60_000,
    }))
}

fn phone_policy(hub: &AppState) -> Policy {
    hub.writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .config
        .policy
        .clone()
}

fn check_code(hub: &AppState, code: &str) -> ApiResult<()> {
    let policy = phone_policy(hub);
    if !policy.phone_tickets {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "phone_tickets_off",
            "this hall does not give tickets by phone: please take one at the kiosk",
        )
        .zh("本厅暂不支持手机取号,请到取号机取号"));
    }
    let accepted = if policy.phone_code_rotates {
        hub.phone.accepts(code, (hub.clock)())
    } else {
        hub.phone.accepts_fixed(code)
    };
    if !accepted {
        return Err(ApiError::new(
            StatusCode::GONE,
            "code_expired",
            "this code has expired: please scan the code in the hall again",
        )
        .zh("二维码已过期,请重新扫描大厅内的二维码"));
    }
    Ok(())
}

/// `GET /api/v1/phone/{code}`: what the phone page shows before a ticket is taken — the hall's
/// public board (services, waits, what to bring, fees, an outage, the day's hours).
pub async fn hall(
    State(hub): State<AppState>,
    UrlPath(code): UrlPath<String>,
) -> ApiResult<Json<BoardSnapshot>> {
    check_code(&hub, &code)?;
    Ok(Json(hub.snapshot()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneTicketRequest {
    pub service: String,
    /// The random id the phone's page keeps (16–64 letters, digits, `-` or `_`).
    pub phone: String,
}

/// `POST /api/v1/phone/{code}/tickets`: a ticket in the same line as the kiosk's.
pub async fn take_ticket(
    State(hub): State<AppState>,
    ClientAddr(client): ClientAddr,
    UrlPath(code): UrlPath<String>,
    Body(req): Body<PhoneTicketRequest>,
) -> ApiResult<Response> {
    check_code(&hub, &code)?;
    let phone = req.phone.trim();
    if !(16..=64).contains(&phone.len())
        || !phone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_phone_id",
            "phone must be 16–64 letters, digits, '-' or '_' (the page makes one)",
        )
        .zh("页面出错,请刷新后重试"));
    }
    let who = hub.phone.phone_key(phone);
    let today = hub.now().day;
    // One waiting ticket per phone: the one it holds today, if still in line, is the answer.
    let held = hub
        .phone
        .tickets
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&who)
        .filter(|(day, _)| *day == today)
        .map(|(_, number)| number.clone());
    if let Some(number) = held {
        let at = hub.now().at;
        let state = hub
            .writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .ticket_status(&number, at)
            .map(|s| s.state);
        if matches!(state, Some(TicketState::Waiting | TicketState::Called)) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "phone_has_ticket",
                format!("this phone already holds ticket {number}: one at a time"),
            )
            .zh(format!("您已取号 {number},请办理完毕后再取")));
        }
    }
    if !hub
        .phone
        .ticket_times
        .admit(client, (hub.clock)(), TICKETS_PER_ADDRESS)
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many tickets from this address: please take one at the kiosk",
        )
        .zh("取号过于频繁,请到取号机取号"));
    }
    let ex = hub
        .exec(
            Command::IssueTicket {
                service: req.service,
                priority: false,
            },
            Actor::new("phone", Role::Kiosk, None),
        )
        .await?;
    match ex.reply {
        Reply::Issued(t) => {
            {
                let mut held = hub.phone.tickets.lock().unwrap_or_else(|p| p.into_inner());
                // Yesterday's phones need no remembering.
                if held.len() > 10_000 {
                    held.retain(|_, (day, _)| *day == today);
                }
                held.insert(who, (today, t.number.clone()));
            }
            // Kept across a restart too. The ticket itself is already durable: if this write
            // fails the customer still has it, and only the one-per-phone rule is weaker.
            let number = t.number.clone();
            if let Err(e) = hub
                .admin(move |s| s.hold_phone_ticket(&who, today, &number))
                .await
            {
                tracing::warn!(number = %t.number, "phone's ticket not saved: {e:?}");
            }
            tracing::debug!(number = %t.number, "ticket taken by phone");
            Ok((StatusCode::CREATED, Json(t)).into_response())
        }
        other => Err(ApiError::unavailable(format!("unexpected reply {other:?}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneCallbackRequest {
    pub phone: String,
    /// Must be `true`: the customer ticked the same consent box as on the kiosk.
    pub consent: bool,
    /// The ticket the phone holds, if any, so that staff see whom they call back.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Callback numbers one client address may leave in ten minutes.
pub const CALLBACKS_PER_ADDRESS: usize = 3;

/// `POST /api/v1/phone/{code}/callbacks`: during an outage or a long wait (when the board offers
/// it), the phone page takes a number to call back, with the kiosk's consent and validation rules.
/// The answer carries only the masked number.
pub async fn leave_callback(
    State(hub): State<AppState>,
    ClientAddr(client): ClientAddr,
    UrlPath(code): UrlPath<String>,
    Body(req): Body<PhoneCallbackRequest>,
) -> ApiResult<Response> {
    check_code(&hub, &code)?;
    if !hub.snapshot().live.callback_capture {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_callback_offer",
            "callbacks are taken during an outage or a long wait only",
        )
        .zh("目前无需登记回访电话"));
    }
    // A number the phone kept from another day is no reason to refuse the callback: drop it.
    let at = hub.now().at;
    let ticket = req.ticket.filter(|t| {
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .ticket_status(t.trim(), at)
            .is_some()
    });
    if !hub
        .phone
        .callback_times
        .admit(client, (hub.clock)(), CALLBACKS_PER_ADDRESS)
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many callback numbers from this address",
        )
        .zh("登记过于频繁,请稍候再试"));
    }
    let ex = hub
        .exec(
            Command::CaptureCallback {
                phone: req.phone,
                consent: req.consent,
                ticket,
                address: None,
                reason: None,
            },
            Actor::new("phone", Role::Kiosk, None),
        )
        .await?;
    match ex.reply {
        Reply::CallbackCaptured(c) => {
            tracing::info!(id = c.id, by = "phone", "callback number taken");
            Ok((StatusCode::CREATED, Json(c)).into_response())
        }
        other => Err(ApiError::unavailable(format!("unexpected reply {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_accepted_in_its_minute_and_the_next_only() {
        let desk = PhoneDesk::with_key([7; 32]);
        let t = 1_800_000_000_000; // a whole minute
        let code = desk.code_at(t + 5_000);
        assert_eq!(code.len(), CODE_LEN);
        assert!(desk.accepts(&code, t + 59_999));
        assert!(desk.accepts(&code.to_lowercase(), t + 60_000 + 59_999));
        assert!(!desk.accepts(&code, t + 120_000));
        assert!(!desk.accepts(&code, t - 1));
        assert_ne!(desk.code_at(t), desk.code_at(t + 60_000));
        assert!(!desk.accepts("", t));
        assert!(!desk.accepts("AAAAAAAAA", t));
    }

    #[test]
    fn another_key_gives_other_codes() {
        let t = 1_800_000_000_000;
        let a = PhoneDesk::with_key([1; 32]);
        let b = PhoneDesk::with_key([2; 32]);
        assert_ne!(a.code_at(t), b.code_at(t));
        assert!(!b.accepts(&a.code_at(t), t));
        // The poster's code: one per key, accepted only where rotation is off.
        assert_eq!(a.fixed_code(), a.fixed_code());
        assert_ne!(a.fixed_code(), b.fixed_code());
        assert!(a.accepts_fixed(&a.fixed_code().to_lowercase()));
        assert!(!a.accepts_fixed(&a.code_at(t)) && !b.accepts_fixed(&a.fixed_code()));
        assert!(!a.accepts(&a.fixed_code(), t));
    }
}
