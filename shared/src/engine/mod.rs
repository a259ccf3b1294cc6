//! The queue engine: commands in, events out, state evolved by events only. Pure: the time of every
//! command is passed in, nothing here reads a clock, a file or a socket.
//!
//! `Hall::execute` decides a command against the state, assigns each event its sequence number and
//! applies it. A refused command changes nothing. The store persists the events (and the rows they
//! touch) before anyone hears the outcome.
//!
//! The rooms: this file holds the types (commands, events, refusals, the hall) and `execute`;
//! `decide.rs` turns a command into events or a refusal without changing anything; `apply.rs` is
//! the only place the hall's state changes, one event at a time; `wait.rs` counts who is ahead and
//! estimates waits; `views.rs` is what screens and APIs are shown; `load.rs` rebuilds a hall from
//! the store's rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{Datelike, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::estimate::{
    Calls, Disruption, DisruptionKind, History, NoShows, Running, ServiceTimes, SlowPace,
    WaitRange, replay, wait_range,
};
use crate::hall::callback::CallbackNote;
use crate::hall::time::to_rfc3339;
use crate::hall::{
    Callback, CallbackOrigin, CallbackStatus, CounterId, CounterState, DayPhase, Millis, Now,
    Outage, OutageKind, Phone, ServiceId, Text, Ticket, TicketState, format_number, parse_number,
};
use crate::protocol::{
    BoardLive, BoardMode, CallView, CallbackCaptured, CounterView, DayView, Notices, OutageView,
    PublicEvent, Role, ServiceView, TicketIssued, TicketStatus, TicketView, WaitingView,
};
use crate::queue;

/// How many calls the board keeps on screen (newest first).
pub const RECENT_CALLS: usize = 12;
/// Tickets may be taken this long before opening, so that early customers keep their place.
pub const EARLY_TICKETS_MIN: i64 = 60;
/// Limits on free text a customer types at a public screen.
pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_NOTE_CHARS: usize = 1000;

/// Who asked for a command: recorded with every event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// A clerk's or manager's login, a device name, or `system`.
    pub name: String,
    pub role: Option<Role>,
    /// The counter a clerk is signed in at.
    pub counter: Option<CounterId>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: None,
            counter: None,
        }
    }

    pub fn new(name: impl Into<String>, role: Role, counter: Option<CounterId>) -> Actor {
        Actor {
            name: name.into(),
            role: Some(role),
            counter,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferTo {
    Service(ServiceId),
    Counter(CounterId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    IssueTicket {
        service: ServiceId,
        priority: bool,
    },
    CallNext {
        counter: CounterId,
    },
    CallNumber {
        counter: CounterId,
        number: String,
    },
    Recall {
        counter: CounterId,
    },
    Start {
        counter: CounterId,
    },
    Finish {
        counter: CounterId,
    },
    NoShow {
        counter: CounterId,
    },
    Transfer {
        counter: CounterId,
        to: TransferTo,
    },
    SetCounter {
        counter: CounterId,
        state: CounterState,
    },
    StartOutage {
        expected_minutes: u32,
        message: Option<String>,
    },
    EndOutage,
    /// Staff say the business system is slow (`slow`), or that it is back to its usual speed:
    /// the wait estimates take the change as likely and the public screens apologise.
    SetSlowSystem {
        slow: bool,
    },
    CaptureCallback {
        phone: String,
        consent: bool,
        ticket: Option<String>,
        address: Option<String>,
        reason: Option<String>,
    },
    /// `current` is the stored record, loaded by the store before deciding.
    UpdateCallback {
        current: Box<Callback>,
        status: Option<CallbackStatus>,
        note: Option<String>,
        take: bool,
    },
    ReplaceConfig {
        config: Box<HallConfig>,
    },
    /// Time passes: day rollover, long waits beginning and ending, outages turning long.
    Tick,
}

/// One recorded change. `seq` is global, gap-free and never reused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub at: Millis,
    pub actor: String,
    pub counter: Option<CounterId>,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    DayStarted {
        day: NaiveDate,
    },
    /// Tickets still open overnight are kept in history as expired.
    DayClosed {
        day: NaiveDate,
        expired: Vec<String>,
    },
    TicketIssued {
        ticket: Ticket,
    },
    TicketCalled {
        number: String,
        service: ServiceId,
        counter: CounterId,
        apology: bool,
        specific: bool,
    },
    TicketRecalled {
        number: String,
        service: ServiceId,
        counter: CounterId,
        apology: bool,
    },
    ServiceStarted {
        number: String,
        counter: CounterId,
    },
    TicketFinished {
        number: String,
        counter: CounterId,
        service_secs: u32,
    },
    TicketNoShow {
        number: String,
        counter: CounterId,
    },
    TicketTransferred {
        number: String,
        from_counter: CounterId,
        to_service: ServiceId,
        to_counter: Option<CounterId>,
    },
    /// `released`: tickets that were transferred to this counter go back to the general line.
    CounterStateChanged {
        counter: CounterId,
        state: CounterState,
        released: Vec<String>,
    },
    OutageStarted {
        outage: Outage,
    },
    OutageBecameLong {
        id: i64,
    },
    OutageEnded {
        id: i64,
    },
    /// Staff said the business system is slow.
    SlowSystemStarted,
    /// Staff said the business system is back to its usual speed.
    SlowSystemEnded,
    LongWaitBegan {
        service: ServiceId,
    },
    LongWaitEnded {
        service: ServiceId,
    },
    /// The phone number is not in the event (it is deleted after the retention period).
    CallbackCaptured {
        id: i64,
        phone_masked: String,
        origin: CallbackOrigin,
        outage_id: Option<i64>,
        ticket: Option<String>,
    },
    /// The note's text is not in the event: it lives in the callback record, deleted with it,
    /// while events are kept for years.
    CallbackUpdated {
        id: i64,
        status: CallbackStatus,
        owner: Option<String>,
        #[serde(default)]
        note_added: bool,
    },
    ConfigReplaced {
        config: Box<HallConfig>,
    },
}

/// Why a command was refused. `kind` decides the HTTP status at the edge.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub code: &'static str,
    pub message: String,
    pub message_zh: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    BadInput,
    NotFound,
    /// A hall rule refuses it now (e.g. past the last-ticket time).
    Conflict,
}

fn refuse(
    kind: RefusalKind,
    code: &'static str,
    message: impl Into<String>,
    zh: impl Into<String>,
) -> Refusal {
    Refusal {
        kind,
        code,
        message: message.into(),
        message_zh: zh.into(),
    }
}

/// What the caller of a command is told once it is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Issued(TicketIssued),
    /// `None`: nobody is waiting for this counter.
    Called(Option<TicketView>),
    Counter(CounterView, Option<TicketView>),
    CallbackCaptured(CallbackCaptured),
    Callback(Box<Callback>),
    Done,
}

/// The outcome of one accepted command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    pub events: Vec<Event>,
    /// A callback record to insert or update (kept out of the event log).
    pub callback: Option<Callback>,
    pub reply: Reply,
}

/// A counter as the engine tracks it during the day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterRuntime {
    pub state: CounterState,
    pub current: Option<String>,
    /// Length of the counter's last finished service, for the apology rule.
    pub last_service_secs: Option<u32>,
}

/// The whole live state of the hall. Rebuilt from the store on start.
#[derive(Clone, Debug, PartialEq)]
pub struct Hall {
    pub config: HallConfig,
    pub day: NaiveDate,
    /// Tickets of the business day, by number. Read freely; change only through [`Hall::apply`] or
    /// [`Hall::restore_ticket`], which keep the waiting index below in step.
    pub tickets: BTreeMap<String, Ticket>,
    /// The waiting tickets by service, in line order ([`Place`]): derived from `tickets` on every
    /// change so that counts, estimates and call-next look at the people still waiting, not the
    /// whole day.
    waiting: BTreeMap<ServiceId, BTreeSet<Place>>,
    /// How many of the day's tickets were issued at each instant, by service: derived from
    /// `tickets` like `waiting`, for the arrival rates the wait estimates foresee.
    issued: HashMap<ServiceId, BTreeMap<Millis, u32>>,
    /// The same for priority tickets alone: those yet to come go before the line.
    issued_priority: HashMap<ServiceId, BTreeMap<Millis, u32>>,
    /// Today's calls that ended, served or not come, by service: derived from `tickets` like
    /// `waiting`, for the share of those called who do not come.
    calls: HashMap<ServiceId, Calls>,
    pub counters: BTreeMap<CounterId, CounterRuntime>,
    pub outage: Option<Outage>,
    pub outage_long: bool,
    pub long_wait: BTreeSet<ServiceId>,
    /// Last sequence number issued per ticket prefix today. Keyed by prefix, not service, so that
    /// a number is never issued twice even when the manager moves a prefix to another service.
    pub next_seq: HashMap<char, u32>,
    pub recent_calls: VecDeque<CallView>,
    /// Each service's durations today and its seed from `history`.
    pub service_times: HashMap<ServiceId, ServiceTimes>,
    /// Finished services and issued tickets of the days before, the seed of each day's estimates.
    pub history: History,
    /// Tickets issued per service and local hour on an average day of today's weekday, from
    /// `history`: the arrival rates foreseen before the day has an hour of its own.
    arrivals_seed: BTreeMap<ServiceId, BTreeMap<u32, f64>>,
    /// Each service's calls that ended over the whole `history`: the prior of its no-show share.
    calls_seed: BTreeMap<ServiceId, Calls>,
    /// Each counter's usual breaks on today's weekday, from `history`.
    breaks_seed: BTreeMap<CounterId, crate::estimate::breaks::Breaks>,
    /// The counters' state changes today, (counter, at, open after it), in order: folded into
    /// `history` when the day closes.
    pub counter_changes: Vec<(CounterId, Millis, bool)>,
    /// Today's slow business systems (as staff said) and outages, in the order they began; an
    /// outage going on since an earlier day is first. Their services leave the estimates.
    pub disruptions: Vec<Disruption>,
    /// The instant of the latest event: "now" for the estimates of views that are not given one
    /// (services in progress count with their time so far).
    pub clock: Millis,
    pub last_seq: u64,
    pub last_callback_id: i64,
    /// Whether this hall has ever issued a ticket, on any day: until it has, its business day may
    /// follow a change of time zone backwards (see `Command::ReplaceConfig`).
    pub ticket_ever_issued: bool,
}

/// A waiting ticket's place in its service's line, in the order "people ahead" counts: tickets sent
/// to a particular counter first, then [`Ticket::line_key`], then the number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    anywhere: bool,
    line: (bool, Millis, u32),
    number: String,
}

impl Place {
    fn of(t: &Ticket) -> Place {
        Place {
            anywhere: t.for_counter.is_none(),
            line: t.line_key(),
            number: t.number.clone(),
        }
    }

    fn priority(&self) -> bool {
        !self.line.0
    }

    fn issued_at(&self) -> Millis {
        self.line.1
    }
}

/// How many places of `line` come before `place`, walking from whichever end is nearer: a new
/// ticket is at the back of a long line, and a ticket being checked is usually near the front.
fn places_before(line: &BTreeSet<Place>, place: &Place) -> usize {
    let mut before = line.range(..place);
    let mut after = line.range(place..);
    let mut n = 0;
    loop {
        match (before.next(), after.next()) {
            (Some(_), Some(_)) => n += 1,
            (None, _) => return n,
            (Some(_), None) => return line.len() - n,
        }
    }
}

impl Hall {
    /// A hall with no history, on business day `day`.
    pub fn new(config: HallConfig, day: NaiveDate) -> Hall {
        let counters = config
            .counters
            .iter()
            .map(|c| (c.id, CounterRuntime::default()))
            .collect();
        let mut hall = Hall {
            config,
            day,
            tickets: BTreeMap::new(),
            waiting: BTreeMap::new(),
            issued: HashMap::new(),
            issued_priority: HashMap::new(),
            calls: HashMap::new(),
            counters,
            outage: None,
            outage_long: false,
            long_wait: BTreeSet::new(),
            next_seq: HashMap::new(),
            recent_calls: VecDeque::new(),
            service_times: HashMap::new(),
            history: History::default(),
            arrivals_seed: BTreeMap::new(),
            calls_seed: BTreeMap::new(),
            breaks_seed: BTreeMap::new(),
            counter_changes: Vec::new(),
            disruptions: Vec::new(),
            clock: 0,
            last_seq: 0,
            last_callback_id: 0,
            ticket_ever_issued: false,
        };
        hall.reseed();
        hall
    }

    // -----------------------------------------------------------------------------------------
    // Commands

    /// Decide and apply one command. On refusal nothing changes.
    pub fn execute(&mut self, cmd: &Command, actor: &Actor, now: Now) -> Result<Executed, Refusal> {
        // A business day, once begun, is never reopened: going back to it would restart its
        // numbering (a second A001) and lose the day's state. A clock that reads an earlier day
        // (a Pi without a real-time clock booting with the time it last saved, a time zone moved
        // west after the first start) is wrong, and the day goes on under the hall's day until
        // the clock catches up. The hub logs and shows it (`hallq_hub`'s clock watch).
        let now = if now.day < self.day {
            Now {
                day: self.day,
                ..now
            }
        } else {
            now
        };
        let mut kinds = Vec::new();
        if now.day > self.day {
            kinds.extend(self.rollover(now.day));
        }
        // Decide on a state that already has the rollover applied, without touching `self` on refusal.
        let (decided, callback) = if kinds.is_empty() {
            self.decide(cmd, actor, now)?
        } else {
            let mut probe = self.clone();
            probe.apply_all(&kinds, actor, now);
            probe.decide(cmd, actor, now)?
        };
        kinds.extend(decided);
        let events = self.apply_all(&kinds, actor, now);
        let reply = self.reply_for(cmd, &events, callback.as_ref(), now);
        Ok(Executed {
            events,
            callback,
            reply,
        })
    }

    fn apply_all(&mut self, kinds: &[EventKind], actor: &Actor, now: Now) -> Vec<Event> {
        kinds
            .iter()
            .map(|k| {
                self.last_seq += 1;
                let counter = event_counter(k).or(actor.counter);
                let e = Event {
                    seq: self.last_seq,
                    at: now.at,
                    actor: actor.name.clone(),
                    counter,
                    kind: k.clone(),
                };
                self.apply(&e);
                e
            })
            .collect()
    }
}

fn event_counter(k: &EventKind) -> Option<CounterId> {
    match k {
        EventKind::TicketCalled { counter, .. }
        | EventKind::TicketRecalled { counter, .. }
        | EventKind::ServiceStarted { counter, .. }
        | EventKind::TicketFinished { counter, .. }
        | EventKind::TicketNoShow { counter, .. }
        | EventKind::CounterStateChanged { counter, .. } => Some(*counter),
        EventKind::TicketTransferred { from_counter, .. } => Some(*from_counter),
        _ => None,
    }
}

mod apply;
mod decide;
mod load;
mod views;
mod wait;

pub use decide::update_callback;

/// The local minute of the day of the instant `at` in `tz`: the clock of the counters' usual
/// breaks.
pub fn minute_of_day(at: Millis, tz: &chrono_tz::Tz) -> u16 {
    let t = Now::in_zone(at, tz).time;
    (t.hour() * 60 + t.minute()) as u16
}

#[cfg(test)]
mod tests;
