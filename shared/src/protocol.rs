//! The wire: JSON bodies of the hub's API and the board's event stream. The display, the kiosk screen
//! and outside systems depend on these shapes; change them only by adding optional fields.
//!
//! Nothing here carries a full phone number: every type in this module may be sent to a public screen,
//! except [`CallbackView`], which only the staff routes send.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::VoiceSettings;
use crate::hall::{
    CallbackOrigin, CallbackStatus, CounterId, CounterState, DayPhase, Fee, OutageKind, ServiceId,
    Text, TicketState,
};

/// Instants on the wire are RFC 3339 in UTC.
pub type Timestamp = DateTime<Utc>;

/// `{"error":{"code","message"}}` — every refused request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `tickets_ended`, `bad_phone`, `no_current_ticket`.
    pub code: String,
    pub message: String,
    /// The same message in Chinese, for public screens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_zh: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Requests

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<CounterId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub role: Role,
    pub counter: Option<CounterId>,
    pub expires_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    Manager,
    Kiosk,
    Display,
    /// The rating tablet at one counter: it may only send that counter's customer ratings.
    Tablet,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueTicketRequest {
    pub service: ServiceId,
    #[serde(default)]
    pub priority: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallNumberRequest {
    pub number: String,
}

/// Exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<CounterId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOutageRequest {
    pub expected_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureCallbackRequest {
    pub phone: String,
    /// Must be `true`: the customer ticked the consent box.
    pub consent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCallbackRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallbackStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Take the case over (the signed-in clerk becomes the owner).
    #[serde(default)]
    pub take: bool,
}

// ---------------------------------------------------------------------------------------------
// Responses

/// 201 body of `POST /api/v1/tickets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketIssued {
    pub number: String,
    pub service: ServiceId,
    pub service_name: Text,
    pub priority: bool,
    /// People waiting before this ticket for the same service.
    pub ahead: u32,
    pub estimated_wait_s: u32,
    /// The range a customer is told ([`crate::estimate::wait_range`]): from, and up to (none when
    /// no upper end can be promised). Seconds.
    #[serde(default)]
    pub estimated_wait_lo_s: u32,
    #[serde(default)]
    pub estimated_wait_hi_s: Option<u32>,
    pub issued_at: Timestamp,
}

/// `GET /api/v1/tickets/{number}`: public, nothing personal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStatus {
    pub number: String,
    pub service: ServiceId,
    pub service_name: Text,
    pub state: TicketState,
    pub ahead: u32,
    pub estimated_wait_s: u32,
    /// The range a customer is told ([`crate::estimate::wait_range`]): from, and up to (none when
    /// no upper end can be promised). Seconds.
    #[serde(default)]
    pub estimated_wait_lo_s: u32,
    #[serde(default)]
    pub estimated_wait_hi_s: Option<u32>,
    pub counter: Option<CounterId>,
    pub counter_name: Option<Text>,
    pub issued_at: Timestamp,
}

/// A ticket as staff see it at their counter or in the waiting list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub number: String,
    pub service: ServiceId,
    pub priority: bool,
    pub state: TicketState,
    pub counter: Option<CounterId>,
    pub for_counter: Option<CounterId>,
    pub issued_at: Timestamp,
    pub called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub recalls: u32,
    pub transfers: u32,
    /// Set when this call carries the apology of Ch.3 §1.6.
    #[serde(default)]
    pub apology: bool,
}

/// A service with everything a customer must be told, and how busy it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    pub id: ServiceId,
    pub prefix: char,
    pub name: Text,
    pub documents: Vec<Text>,
    pub steps: Vec<Text>,
    pub fees: Vec<Fee>,
    pub reminder: Option<Text>,
    pub enabled: bool,
    pub waiting: u32,
    pub estimated_wait_s: u32,
    /// The range a customer is told ([`crate::estimate::wait_range`]): from, and up to (none when
    /// no upper end can be promised). Seconds.
    #[serde(default)]
    pub estimated_wait_lo_s: u32,
    #[serde(default)]
    pub estimated_wait_hi_s: Option<u32>,
    pub long_wait: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterView {
    pub id: CounterId,
    pub name: Text,
    pub state: CounterState,
    pub services: Vec<ServiceId>,
    /// The ticket called to or served at this counter now.
    pub current: Option<String>,
    pub current_service: Option<ServiceId>,
}

/// One call on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    /// Event id of the call: distinct for every call and recall, even in the same second.
    pub id: u64,
    pub number: String,
    pub service: ServiceId,
    pub counter: CounterId,
    pub counter_name: Text,
    pub at: Timestamp,
    pub apology: bool,
    pub recall: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingView {
    pub service: ServiceId,
    pub prefix: char,
    pub name: Text,
    pub waiting: u32,
    pub estimated_wait_s: u32,
    /// The range a customer is told ([`crate::estimate::wait_range`]): from, and up to (none when
    /// no upper end can be promised). Seconds.
    #[serde(default)]
    pub estimated_wait_lo_s: u32,
    #[serde(default)]
    pub estimated_wait_hi_s: Option<u32>,
    pub long_wait: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardMode {
    Normal,
    LongWait,
    Outage,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutageView {
    pub kind: OutageKind,
    pub started_at: Timestamp,
    pub expected_end: Timestamp,
    pub message: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayView {
    pub phase: DayPhase,
    /// `"08:30"`.
    pub opening: String,
    pub last_ticket: String,
    pub closing: String,
    /// Local date of the business day, `"2026-11-25"`.
    pub date: String,
}

/// The part of the board that changes with every call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardLive {
    pub mode: BoardMode,
    pub day: DayView,
    /// Newest first; every call and recall of the last while, none replacing another.
    pub calls: Vec<CallView>,
    pub counters: Vec<CounterView>,
    pub waiting: Vec<WaitingView>,
    pub outage: Option<OutageView>,
    /// Since when staff say the business system is slow (services take longer than usual), if
    /// they do: the public screens apologise.
    #[serde(default)]
    pub slow_since: Option<Timestamp>,
    /// True when the public screens should offer to take a phone number for a callback.
    pub callback_capture: bool,
}

/// The hall's public notices (Ch.3 §1.2, §1.5). Changes only when the manager edits them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notices {
    pub hall_name: Text,
    pub time_zone: String,
    pub complaint_hotline: String,
    pub consultation_hotline: String,
    pub services: Vec<ServiceView>,
    pub fee_schedule: Vec<Fee>,
    pub commitments: Vec<Text>,
    pub scrolling: Vec<Text>,
    pub voice: VoiceSettings,
    /// How long a resolved callback number is kept, told to customers who leave one.
    pub callback_retention_days: u32,
}

/// `GET /api/v1/board` and the first message of the event stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSnapshot {
    pub seq: u64,
    #[serde(flatten)]
    pub live: BoardLive,
    pub notices: Notices,
}

/// What happened, as much as a public screen may know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PublicEvent {
    Called {
        call: CallView,
    },
    Recalled {
        call: CallView,
    },
    TicketIssued {
        number: String,
        service: ServiceId,
    },
    TicketFinished {
        number: String,
        counter: CounterId,
    },
    TicketNoShow {
        number: String,
        counter: CounterId,
    },
    TicketTransferred {
        number: String,
    },
    ServiceStarted {
        number: String,
        counter: CounterId,
    },
    CounterChanged {
        counter: CounterId,
        state: CounterState,
    },
    OutageStarted,
    OutageEnded,
    SlowSystemChanged,
    LongWaitChanged,
    DayChanged,
    NoticesChanged,
    /// A change with nothing public in it (e.g. a callback was updated): keeps `seq` contiguous.
    Private,
}

/// One message of `GET /api/v1/events` (WebSocket, JSON text frames).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Snapshots are rare and updates are built once per commit: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum StreamMessage {
    /// Sent first, after a notice change, and to a client that fell behind.
    Snapshot { board: BoardSnapshot },
    /// One committed command. `prev_seq` is the `seq` the client must hold for this to follow on;
    /// if it holds another, it has missed something and must take the next snapshot (reconnect).
    Update {
        seq: u64,
        prev_seq: u64,
        events: Vec<PublicEvent>,
        live: BoardLive,
    },
}

/// A callback as staff see it — the only type with the full phone number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackView {
    pub id: i64,
    pub phone: String,
    pub phone_masked: String,
    pub address: Option<String>,
    pub reason: Option<String>,
    pub origin: CallbackOrigin,
    pub ticket: Option<String>,
    pub outage_id: Option<i64>,
    pub status: CallbackStatus,
    pub owner: Option<String>,
    pub notes: Vec<CallbackNoteView>,
    pub captured_at: Timestamp,
    pub captured_by: String,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackNoteView {
    pub at: Timestamp,
    pub by: String,
    pub text: String,
}

/// 201 body of `POST /api/v1/callbacks`: only the masked number comes back to a public screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackCaptured {
    pub id: i64,
    pub phone_masked: String,
}

/// `GET /api/v1/phone/code`: the code for taking a ticket by phone that a kiosk or board shows now.
/// Signed screens only: a code read from a public page would let people queue from home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCode {
    /// False when the hall has switched taking tickets by phone off: show no code.
    pub enabled: bool,
    pub code: String,
    /// The page the code opens, relative to the hub (`/p/{code}`).
    pub path: String,
    /// When the next code starts (ms since the epoch); screens fetch again then.
    pub next_at_ms: i64,
}

impl PhoneCode {
    /// The hub's path of phone codes.
    pub const PATH: &'static str = "/api/v1/phone/code";

    /// How long a screen waits before asking again, from its own clock: until the next code
    /// starts (a second late, so that the hub has turned the minute), within [5 s, 60 s] so that
    /// a screen whose clock is off still follows the minute closely enough — a code is accepted
    /// for a minute after the next one appears.
    pub fn refetch_after(&self, now_ms: i64) -> std::time::Duration {
        let ms = (self.next_at_ms + 1_000 - now_ms).clamp(5_000, 60_000);
        std::time::Duration::from_millis(ms as u64)
    }

    /// The address a phone opens: `public_base` (how phones reach the hub) and the code's path.
    pub fn url(&self, public_base: &str) -> String {
        format!("{}{}", public_base.trim_end_matches('/'), self.path)
    }
}

impl BoardSnapshot {
    /// Apply one stream message. Returns `false` when the client missed something and must resync.
    pub fn apply(&mut self, msg: StreamMessage) -> bool {
        match msg {
            StreamMessage::Snapshot { board } => {
                *self = board;
                true
            }
            StreamMessage::Update {
                seq,
                prev_seq,
                live,
                ..
            } => {
                if prev_seq != self.seq {
                    return false;
                }
                self.seq = seq;
                self.live = live;
                true
            }
        }
    }
}
