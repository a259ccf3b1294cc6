//! The queue engine: commands in, events out, state evolved by events only. Pure: the time of every
//! command is passed in, nothing here reads a clock, a file or a socket.
//!
//! `Hall::execute` decides a command against the state, assigns each event its sequence number and
//! applies it. A refused command changes nothing. The store persists the events (and the rows they
//! touch) before anyone hears the outcome.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{Datelike, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::estimate::{History, Running, ServiceTimes, WaitRange, replay, wait_range};
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
    /// Finished services of the days before, the seed of each day's estimates.
    pub history: History,
    /// The instant of the latest event: "now" for the estimates of views that are not given one
    /// (services in progress count with their time so far).
    pub clock: Millis,
    pub last_seq: u64,
    pub last_callback_id: i64,
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
            counters,
            outage: None,
            outage_long: false,
            long_wait: BTreeSet::new(),
            next_seq: HashMap::new(),
            recent_calls: VecDeque::new(),
            service_times: HashMap::new(),
            history: History::default(),
            clock: 0,
            last_seq: 0,
            last_callback_id: 0,
        };
        hall.reseed();
        hall
    }

    // -----------------------------------------------------------------------------------------
    // Commands

    /// Decide and apply one command. On refusal nothing changes.
    pub fn execute(&mut self, cmd: &Command, actor: &Actor, now: Now) -> Result<Executed, Refusal> {
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

    fn rollover(&self, day: NaiveDate) -> Vec<EventKind> {
        let expired = self
            .tickets
            .values()
            .filter(|t| !t.state.is_terminal())
            .map(|t| t.number.clone())
            .collect();
        vec![
            EventKind::DayClosed {
                day: self.day,
                expired,
            },
            EventKind::DayStarted { day },
        ]
    }

    fn decide(
        &self,
        cmd: &Command,
        actor: &Actor,
        now: Now,
    ) -> Result<(Vec<EventKind>, Option<Callback>), Refusal> {
        use RefusalKind::*;
        let events = match cmd {
            Command::IssueTicket { service, priority } => {
                let s = self.config.service(service).ok_or_else(|| {
                    refuse(
                        NotFound,
                        "unknown_service",
                        format!("no service {service:?}"),
                        "没有这项业务",
                    )
                })?;
                if !s.enabled {
                    return Err(refuse(
                        Conflict,
                        "service_disabled",
                        "this service is not offered today",
                        "该业务今日暂停办理",
                    ));
                }
                self.check_tickets_open(now)?;
                let seq = self.next_seq.get(&s.prefix).copied().unwrap_or(0) + 1;
                let ahead = self.ahead_of_new(service, *priority);
                let ticket = Ticket {
                    number: format_number(s.prefix, seq),
                    service: service.clone(),
                    day: now.day,
                    seq,
                    priority: *priority,
                    issued_at: now.at,
                    state: TicketState::Waiting,
                    counter: None,
                    for_counter: None,
                    called_at: None,
                    started_at: None,
                    finished_at: None,
                    recalls: 0,
                    transfers: 0,
                    issued_by: actor.name.clone(),
                    estimated_wait_s: self.wait_for(service, ahead),
                    apology: false,
                };
                vec![EventKind::TicketIssued { ticket }]
            }
            Command::CallNext { counter } => {
                let c = self.open_counter(*counter)?;
                let mut ev = self.release_current(*counter, now);
                let next =
                    queue::next_for_counter(c, &self.config.services, self.call_candidates(c));
                if let Some(t) = next {
                    let apology = self.apology_due(*counter, &ev, t, now);
                    ev.push(EventKind::TicketCalled {
                        number: t.number.clone(),
                        service: t.service.clone(),
                        counter: *counter,
                        apology,
                        specific: false,
                    });
                }
                ev
            }
            Command::CallNumber { counter, number } => {
                self.open_counter(*counter)?;
                let t = self.ticket_today(number)?;
                if t.state != TicketState::Waiting {
                    return Err(refuse(
                        Conflict,
                        "not_waiting",
                        format!("{} is not waiting", t.number),
                        format!("{}号不在等候中", t.number),
                    ));
                }
                if t.for_counter.is_some_and(|c| c != *counter) {
                    return Err(refuse(
                        Conflict,
                        "for_other_counter",
                        format!("{} was transferred to another counter", t.number),
                        format!("{}号已转至其他窗口", t.number),
                    ));
                }
                let mut ev = self.release_current(*counter, now);
                let apology = self.apology_due(*counter, &ev, t, now);
                ev.push(EventKind::TicketCalled {
                    number: t.number.clone(),
                    service: t.service.clone(),
                    counter: *counter,
                    apology,
                    specific: true,
                });
                ev
            }
            Command::Recall { counter } => {
                let t = self.current_of(*counter)?;
                if t.state != TicketState::Called {
                    return Err(refuse(
                        Conflict,
                        "already_serving",
                        "the customer is already being served",
                        "已在办理中,无需重呼",
                    ));
                }
                vec![EventKind::TicketRecalled {
                    number: t.number.clone(),
                    service: t.service.clone(),
                    counter: *counter,
                    apology: t.apology,
                }]
            }
            Command::Start { counter } => {
                let t = self.current_of(*counter)?;
                if t.state != TicketState::Called {
                    return Err(refuse(
                        Conflict,
                        "already_serving",
                        "service has already started",
                        "已开始办理",
                    ));
                }
                vec![EventKind::ServiceStarted {
                    number: t.number.clone(),
                    counter: *counter,
                }]
            }
            Command::Finish { counter } => {
                self.current_of(*counter)?;
                self.release_current(*counter, now)
            }
            Command::NoShow { counter } => {
                let t = self.current_of(*counter)?;
                if t.state != TicketState::Called {
                    return Err(refuse(
                        Conflict,
                        "already_serving",
                        "the customer came: finish or transfer instead",
                        "客户已到,请办结或转移",
                    ));
                }
                vec![EventKind::TicketNoShow {
                    number: t.number.clone(),
                    counter: *counter,
                }]
            }
            Command::Transfer { counter, to } => {
                let t = self.current_of(*counter)?;
                let (to_service, to_counter) = match to {
                    TransferTo::Service(s) => {
                        let svc = self.config.service(s).ok_or_else(|| {
                            refuse(
                                NotFound,
                                "unknown_service",
                                format!("no service {s:?}"),
                                "没有这项业务",
                            )
                        })?;
                        if svc.id == t.service {
                            return Err(refuse(
                                BadInput,
                                "same_service",
                                "the ticket is already for this service",
                                "已是该业务",
                            ));
                        }
                        (svc.id.clone(), None)
                    }
                    TransferTo::Counter(c) => {
                        if self.config.counter(*c).is_none() {
                            return Err(refuse(
                                NotFound,
                                "unknown_counter",
                                format!("no counter {c}"),
                                "没有这个窗口",
                            ));
                        }
                        if c == counter {
                            return Err(refuse(
                                BadInput,
                                "same_counter",
                                "the ticket is already at this counter",
                                "已在本窗口",
                            ));
                        }
                        if self.counters.get(c).map(|r| r.state) == Some(CounterState::Closed) {
                            return Err(refuse(
                                Conflict,
                                "counter_closed",
                                format!("counter {c} is closed"),
                                format!("{c}号窗口已关闭"),
                            ));
                        }
                        (t.service.clone(), Some(*c))
                    }
                };
                vec![EventKind::TicketTransferred {
                    number: t.number.clone(),
                    from_counter: *counter,
                    to_service,
                    to_counter,
                }]
            }
            Command::SetCounter { counter, state } => {
                let rt = self.counter_rt(*counter)?;
                if rt.state == *state {
                    return Ok((vec![], None));
                }
                if *state != CounterState::Open && rt.current.is_some() {
                    return Err(refuse(
                        Conflict,
                        "ticket_in_progress",
                        "finish or transfer the current ticket first",
                        "请先办结或转移当前号码",
                    ));
                }
                let released = if *state == CounterState::Closed {
                    self.all_waiting()
                        .filter(|t| t.for_counter == Some(*counter))
                        .map(|t| t.number.clone())
                        .collect()
                } else {
                    vec![]
                };
                vec![EventKind::CounterStateChanged {
                    counter: *counter,
                    state: *state,
                    released,
                }]
            }
            Command::StartOutage {
                expected_minutes,
                message,
            } => {
                if *expected_minutes == 0 || *expected_minutes > 24 * 60 {
                    return Err(refuse(
                        BadInput,
                        "bad_duration",
                        "expected_minutes must be 1–1440",
                        "预计时长应为1至1440分钟",
                    ));
                }
                if self.outage.is_some() {
                    return Err(refuse(
                        Conflict,
                        "outage_active",
                        "an outage is already in progress: end it first",
                        "系统故障已在进行中",
                    ));
                }
                let message = message.as_ref().map(|m| m.trim()).filter(|m| !m.is_empty());
                if message.is_some_and(|m| m.chars().count() > MAX_REASON_CHARS) {
                    return Err(refuse(
                        BadInput,
                        "too_long",
                        "the message is too long",
                        "说明文字过长",
                    ));
                }
                let outage = Outage {
                    id: now.at,
                    started_at: now.at,
                    expected_end: now.at + i64::from(*expected_minutes) * 60_000,
                    message: message.map(|m| Text::new(m, "")),
                    started_by: actor.name.clone(),
                };
                vec![EventKind::OutageStarted { outage }]
            }
            Command::EndOutage => {
                let o = self.outage.as_ref().ok_or_else(|| {
                    refuse(
                        Conflict,
                        "no_outage",
                        "no outage is in progress",
                        "当前没有系统故障",
                    )
                })?;
                vec![EventKind::OutageEnded { id: o.id }]
            }
            Command::CaptureCallback {
                phone,
                consent,
                ticket,
                address,
                reason,
            } => {
                let cb = self.new_callback(phone, *consent, ticket, address, reason, actor, now)?;
                let ev = EventKind::CallbackCaptured {
                    id: cb.id,
                    phone_masked: cb.phone.masked(),
                    origin: cb.origin,
                    outage_id: cb.outage_id,
                    ticket: cb.ticket.clone(),
                };
                return Ok((vec![ev], Some(cb)));
            }
            Command::UpdateCallback {
                current,
                status,
                note,
                take,
            } => {
                let cb = update_callback(current, *status, note.as_deref(), *take, actor, now)?;
                let ev = EventKind::CallbackUpdated {
                    id: cb.id,
                    status: cb.status,
                    owner: cb.owner.clone(),
                    note_added: cb.notes.len() > current.notes.len(),
                };
                return Ok((vec![ev], Some(cb)));
            }
            Command::ReplaceConfig { config } => {
                config
                    .validate()
                    .map_err(|m| refuse(BadInput, "bad_config", m.clone(), m))?;
                for (id, rt) in &self.counters {
                    if rt.current.is_some() && config.counter(*id).is_none() {
                        return Err(refuse(
                            Conflict,
                            "counter_busy",
                            format!("counter {id} has a ticket in progress"),
                            format!("{id}号窗口正在办理业务"),
                        ));
                    }
                }
                for t in self.tickets.values().filter(|t| !t.state.is_terminal()) {
                    if config.service(&t.service).is_none() {
                        return Err(refuse(
                            Conflict,
                            "service_in_use",
                            format!(
                                "service {} still has tickets today: disable it instead",
                                t.service
                            ),
                            "该业务今日仍有号码,请改为停用",
                        ));
                    }
                }
                vec![EventKind::ConfigReplaced {
                    config: config.clone(),
                }]
            }
            Command::Tick => self.tick(now),
        };
        Ok((events, None))
    }

    fn tick(&self, now: Now) -> Vec<EventKind> {
        let mut ev = Vec::new();
        if let Some(o) = &self.outage
            && !self.outage_long
            && o.kind(now.at, self.config.thresholds.long_outage_min) == OutageKind::Long
        {
            ev.push(EventKind::OutageBecameLong { id: o.id });
        }
        let long_now = self.long_wait_services(now);
        for s in long_now.difference(&self.long_wait) {
            ev.push(EventKind::LongWaitBegan { service: s.clone() });
        }
        for s in self.long_wait.difference(&long_now) {
            ev.push(EventKind::LongWaitEnded { service: s.clone() });
        }
        ev
    }

    fn check_tickets_open(&self, now: Now) -> Result<(), Refusal> {
        let h = &self.config.hours;
        match h.phase(now.time) {
            DayPhase::Open => Ok(()),
            DayPhase::BeforeOpening => {
                let early = h.opening - chrono::Duration::minutes(EARLY_TICKETS_MIN);
                if now.time >= early && early < h.opening {
                    Ok(())
                } else {
                    let at = h.opening.format("%H:%M");
                    Err(refuse(
                        RefusalKind::Conflict,
                        "not_open",
                        format!(
                            "tickets are issued from {early} (the hall opens at {at})",
                            early = early.format("%H:%M")
                        ),
                        format!("营业时间{at}开始,请稍后取号"),
                    ))
                }
            }
            DayPhase::TicketsEnded | DayPhase::Closed => Err(refuse(
                RefusalKind::Conflict,
                "tickets_ended",
                format!(
                    "today's tickets have ended (last ticket at {}); everyone already waiting will be served",
                    h.last_ticket.format("%H:%M")
                ),
                "今日取号已结束,已取号的客户我们将继续为您办理",
            )),
        }
    }

    fn counter_rt(&self, id: CounterId) -> Result<&CounterRuntime, Refusal> {
        self.counters.get(&id).ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                "unknown_counter",
                format!("no counter {id}"),
                "没有这个窗口",
            )
        })
    }

    fn open_counter(&self, id: CounterId) -> Result<&crate::hall::Counter, Refusal> {
        let rt = self.counter_rt(id)?;
        let c = self.config.counter(id).ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                "unknown_counter",
                format!("no counter {id}"),
                "没有这个窗口",
            )
        })?;
        match rt.state {
            CounterState::Open => Ok(c),
            CounterState::Paused => Err(refuse(
                RefusalKind::Conflict,
                "counter_paused",
                "the counter is paused: resume it first",
                "窗口暂停中,请先恢复服务",
            )),
            CounterState::Closed => Err(refuse(
                RefusalKind::Conflict,
                "counter_closed",
                "the counter is closed: open it first",
                "窗口未开启,请先开启",
            )),
        }
    }

    fn current_of(&self, counter: CounterId) -> Result<&Ticket, Refusal> {
        let rt = self.counter_rt(counter)?;
        rt.current
            .as_ref()
            .and_then(|n| self.tickets.get(n))
            .ok_or_else(|| {
                refuse(
                    RefusalKind::Conflict,
                    "no_current_ticket",
                    "no ticket is at this counter",
                    "本窗口当前没有号码",
                )
            })
    }

    fn ticket_today(&self, number: &str) -> Result<&Ticket, Refusal> {
        let (p, seq) = parse_number(number).ok_or_else(|| {
            refuse(
                RefusalKind::BadInput,
                "bad_number",
                format!("{number:?} is not a ticket number (e.g. A007)"),
                "号码格式不正确(例如A007)",
            )
        })?;
        self.tickets.get(&format_number(p, seq)).ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                "unknown_ticket",
                format!("no ticket {} today", format_number(p, seq)),
                "今日没有这个号码",
            )
        })
    }

    /// Finishing the current ticket, if any, when the counter moves on (the caller keypad's "next"
    /// means the customer at the desk is done).
    fn release_current(&self, counter: CounterId, now: Now) -> Vec<EventKind> {
        let Some(t) = self
            .counters
            .get(&counter)
            .and_then(|rt| rt.current.as_ref())
            .and_then(|n| self.tickets.get(n))
        else {
            return vec![];
        };
        let from = t.started_at.or(t.called_at).unwrap_or(now.at);
        let service_secs = ((now.at - from).max(0) / 1000) as u32;
        vec![EventKind::TicketFinished {
            number: t.number.clone(),
            counter,
            service_secs,
        }]
    }

    /// Ch.3 §1.6: apologise when the counter's previous customer took too long, or when this
    /// customer waited past the long-wait threshold.
    fn apology_due(&self, counter: CounterId, pending: &[EventKind], t: &Ticket, now: Now) -> bool {
        let th = &self.config.thresholds;
        let just_finished = pending.iter().find_map(|e| match e {
            EventKind::TicketFinished { service_secs, .. } => Some(*service_secs),
            _ => None,
        });
        let last = just_finished.or(self
            .counters
            .get(&counter)
            .and_then(|r| r.last_service_secs));
        let long_service =
            last.is_some_and(|s| u64::from(s) >= u64::from(th.long_service_min) * 60);
        let long_wait = now.at - t.issued_at >= i64::from(th.long_wait_min) * 60_000;
        long_service || long_wait
    }

    #[allow(clippy::too_many_arguments)]
    fn new_callback(
        &self,
        phone: &str,
        consent: bool,
        ticket: &Option<String>,
        address: &Option<String>,
        reason: &Option<String>,
        actor: &Actor,
        now: Now,
    ) -> Result<Callback, Refusal> {
        use RefusalKind::*;
        if !consent {
            return Err(refuse(
                BadInput,
                "no_consent",
                "the customer must agree to leave the number",
                "请勾选同意后提交",
            ));
        }
        let phone = Phone::parse(phone)
            .map_err(|e| refuse(BadInput, "bad_phone", e.to_string(), e.zh()))?;
        let clean =
            |s: &Option<String>, max: usize, what: &str| -> Result<Option<String>, Refusal> {
                let v = s
                    .as_ref()
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty());
                if v.as_ref().is_some_and(|x| x.chars().count() > max) {
                    return Err(refuse(
                        BadInput,
                        "too_long",
                        format!("the {what} is longer than {max} characters"),
                        "填写内容过长",
                    ));
                }
                Ok(v)
            };
        let address = clean(address, MAX_ADDRESS_CHARS, "address")?;
        let reason = clean(reason, MAX_REASON_CHARS, "reason")?;
        let ticket = match ticket.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(n) => Some(self.ticket_today(n)?.number.clone()),
            None => None,
        };
        let origin = if self.outage.is_some() {
            CallbackOrigin::Outage
        } else if !self.long_wait.is_empty() {
            CallbackOrigin::LongWait
        } else {
            CallbackOrigin::Request
        };
        Ok(Callback {
            id: self.last_callback_id + 1,
            phone,
            address,
            reason,
            origin,
            ticket,
            outage_id: self.outage.as_ref().map(|o| o.id),
            status: CallbackStatus::Pending,
            owner: None,
            notes: vec![],
            captured_at: now.at,
            captured_by: actor.name.clone(),
            updated_at: now.at,
            resolved_at: None,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Evolution: the only place state changes.

    pub fn apply(&mut self, e: &Event) {
        self.last_seq = self.last_seq.max(e.seq);
        self.clock = self.clock.max(e.at);
        match &e.kind {
            EventKind::DayStarted { day } => {
                self.day = *day;
                self.history.keep_before(*day);
                self.reseed();
                self.next_seq.clear();
                self.recent_calls.clear();
                self.long_wait.clear();
                for rt in self.counters.values_mut() {
                    *rt = CounterRuntime::default();
                }
            }
            EventKind::DayClosed { day, .. } => {
                let tz = self.config.time_zone();
                for (service, times) in &self.service_times {
                    for &(end, secs) in times.done() {
                        let hour = Now::in_zone(end, &tz).time.hour();
                        self.history.add(service, *day, hour, secs);
                    }
                }
                // Expired tickets stay in the store's history; the live hall starts empty.
                self.tickets.clear();
                self.waiting.clear();
                for rt in self.counters.values_mut() {
                    rt.current = None;
                }
            }
            EventKind::TicketIssued { ticket } => {
                self.restore_ticket(ticket.clone());
            }
            EventKind::TicketCalled {
                number,
                service,
                counter,
                apology,
                ..
            } => {
                self.update_ticket(number, |t| {
                    t.state = TicketState::Called;
                    t.counter = Some(*counter);
                    t.for_counter = None;
                    t.called_at = Some(e.at);
                    t.started_at = None;
                    t.apology = *apology;
                });
                if let Some(rt) = self.counters.get_mut(counter) {
                    rt.current = Some(number.clone());
                }
                self.push_call(e, number, service, *counter, *apology, false);
            }
            EventKind::TicketRecalled {
                number,
                service,
                counter,
                apology,
            } => {
                self.update_ticket(number, |t| t.recalls += 1);
                self.push_call(e, number, service, *counter, *apology, true);
            }
            EventKind::ServiceStarted { number, .. } => {
                self.update_ticket(number, |t| {
                    t.state = TicketState::Serving;
                    t.started_at = Some(e.at);
                });
            }
            EventKind::TicketFinished {
                number,
                counter,
                service_secs,
            } => {
                let service = self.update_ticket(number, |t| {
                    t.state = TicketState::Finished;
                    t.finished_at = Some(e.at);
                    t.service.clone()
                });
                if let Some(rt) = self.counters.get_mut(counter) {
                    rt.current = None;
                    rt.last_service_secs = Some(*service_secs);
                }
                if let Some(s) = service {
                    self.service_times
                        .entry(s)
                        .or_default()
                        .record(e.at, *service_secs);
                }
            }
            EventKind::TicketNoShow { number, counter } => {
                self.update_ticket(number, |t| {
                    t.state = TicketState::NoShow;
                    t.finished_at = Some(e.at);
                });
                if let Some(rt) = self.counters.get_mut(counter) {
                    rt.current = None;
                }
            }
            EventKind::TicketTransferred {
                number,
                from_counter,
                to_service,
                to_counter,
            } => {
                self.update_ticket(number, |t| {
                    t.state = TicketState::Waiting;
                    t.service = to_service.clone();
                    t.for_counter = *to_counter;
                    t.transfers += 1;
                    t.started_at = None;
                });
                if let Some(rt) = self.counters.get_mut(from_counter) {
                    rt.current = None;
                }
            }
            EventKind::CounterStateChanged {
                counter,
                state,
                released,
            } => {
                if let Some(rt) = self.counters.get_mut(counter) {
                    rt.state = *state;
                }
                for n in released {
                    self.update_ticket(n, |t| t.for_counter = None);
                }
            }
            EventKind::OutageStarted { outage } => {
                self.outage = Some(outage.clone());
                self.outage_long =
                    outage.kind(e.at, self.config.thresholds.long_outage_min) == OutageKind::Long;
            }
            EventKind::OutageBecameLong { .. } => self.outage_long = true,
            EventKind::OutageEnded { .. } => {
                self.outage = None;
                self.outage_long = false;
            }
            EventKind::LongWaitBegan { service } => {
                self.long_wait.insert(service.clone());
            }
            EventKind::LongWaitEnded { service } => {
                self.long_wait.remove(service);
            }
            EventKind::CallbackCaptured { id, .. } => {
                self.last_callback_id = self.last_callback_id.max(*id)
            }
            EventKind::CallbackUpdated { .. } => {}
            EventKind::ConfigReplaced { config } => {
                self.config = (**config).clone();
                let keep: BTreeSet<CounterId> = self.config.counters.iter().map(|c| c.id).collect();
                self.counters.retain(|id, _| keep.contains(id));
                for id in keep {
                    self.counters.entry(id).or_default();
                }
                self.long_wait.retain(|s| self.config.service(s).is_some());
                if self
                    .config
                    .services
                    .iter()
                    .any(|s| !self.service_times.contains_key(&s.id))
                {
                    let mut seeds = self.history.seeds(self.day.weekday());
                    for s in &self.config.services {
                        let seed = seeds.remove(&s.id).unwrap_or_default();
                        self.service_times
                            .entry(s.id.clone())
                            .or_insert_with(|| ServiceTimes::new(seed));
                    }
                }
            }
        }
    }

    /// Numbering continues after `number` (used when rebuilding from the store, too).
    pub fn note_number(&mut self, number: &str) {
        if let Some((prefix, seq)) = parse_number(number) {
            let last = self.next_seq.entry(prefix).or_default();
            *last = (*last).max(seq);
        }
    }

    /// Put a stored call or recall event back on the board when rebuilding.
    pub fn restore_call(&mut self, e: &Event) {
        match &e.kind {
            EventKind::TicketCalled {
                number,
                service,
                counter,
                apology,
                ..
            } => self.push_call(e, number, service, *counter, *apology, false),
            EventKind::TicketRecalled {
                number,
                service,
                counter,
                apology,
            } => self.push_call(e, number, service, *counter, *apology, true),
            _ => {}
        }
    }

    fn push_call(
        &mut self,
        e: &Event,
        number: &str,
        service: &str,
        counter: CounterId,
        apology: bool,
        recall: bool,
    ) {
        let service = service.to_string();
        let counter_name = self.counter_name(counter);
        self.recent_calls.push_front(CallView {
            id: e.seq,
            number: number.to_string(),
            service,
            counter,
            counter_name,
            at: to_rfc3339(e.at),
            apology,
            recall,
        });
        self.recent_calls.truncate(RECENT_CALLS);
    }

    fn counter_name(&self, id: CounterId) -> Text {
        self.config
            .counter(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| Text::new(format!("{id}号窗口"), format!("Counter {id}")))
    }

    // -----------------------------------------------------------------------------------------
    // Views: what screens and APIs show.

    /// Counters that share `service`: each open counter counts for its share among the services it
    /// has people waiting for. Before any counter opens, the configured ones are assumed.
    fn capacity_for(&self, service: &str) -> f64 {
        let waiting: BTreeSet<&str> = self.waiting.keys().map(String::as_str).collect();
        let share = |c: &crate::hall::Counter| {
            let busy = c
                .services
                .iter()
                .filter(|s| waiting.contains(s.as_str()) || s.as_str() == service)
                .count();
            1.0 / busy.max(1) as f64
        };
        let serving = self.config.counters.iter().filter(|c| c.serves(service));
        let open: f64 = serving
            .clone()
            .filter(|c| {
                self.counters
                    .get(&c.id)
                    .is_some_and(|r| r.state == CounterState::Open)
            })
            .map(share)
            .sum();
        if open > 0.0 {
            open
        } else {
            serving.map(share).sum()
        }
    }

    /// Start the day's estimates from the history of this weekday: each service's seed, nothing
    /// of the day yet.
    pub fn reseed(&mut self) {
        let mut seeds = self.history.seeds(self.day.weekday());
        for s in &self.config.services {
            seeds.entry(s.id.clone()).or_default();
        }
        for times in self.service_times.values_mut() {
            times.clear_day();
        }
        for (service, seed) in seeds {
            self.service_times
                .entry(service)
                .or_default()
                .set_seed(seed);
        }
    }

    /// Local hour of the clock, for the history's seed (none before the first event).
    fn hour_now(&self) -> u32 {
        if self.clock == 0 {
            return u32::MAX;
        }
        Now::in_zone(self.clock, &self.config.time_zone())
            .time
            .hour()
    }

    /// Services of `service` at a counter now, with their time so far.
    fn running(&self, service: &str) -> Vec<Running> {
        self.counters
            .values()
            .filter_map(|rt| self.tickets.get(rt.current.as_ref()?))
            .filter(|t| t.service == service)
            .filter_map(|t| {
                let began = t.started_at.or(t.called_at)?;
                Some(Running {
                    began,
                    secs: (self.clock - began) as f64 / 1000.0,
                })
            })
            .collect()
    }

    /// The estimator's mean service time of `service` now, in seconds: the day's services (those
    /// in progress with their time so far), seeded from the same weekday and hour of the history.
    pub fn mean_service_secs(&self, service: &str) -> f64 {
        let running = self.running(service);
        let hour = self.hour_now();
        match self.service_times.get(service) {
            Some(t) => t.mean_secs(hour, &running),
            None => ServiceTimes::default().mean_secs(hour, &running),
        }
    }

    /// How a wait of `secs` for `service` with `ahead` people ahead is told to the customer.
    pub fn wait_range_for(&self, service: &str, secs: u32, ahead: u32) -> WaitRange {
        let samples = self
            .service_times
            .get(service)
            .map_or(0, |t| t.samples(self.hour_now()));
        wait_range(secs, ahead, samples)
    }

    /// Expected wait for someone with `ahead` people before them in `service` (a new customer
    /// when `ahead` is everyone waiting): the line played forward with the open counters' call
    /// order ([`replay`]). Before any counter serving it opens, the configured ones are assumed.
    pub fn wait_for(&self, service: &str, ahead: u32) -> u32 {
        let services = &self.config.services;
        let index = |id: &str| services.iter().position(|s| s.id == id);
        let Some(target) = index(service) else {
            return 0;
        };
        let desk = |c: &crate::hall::Counter, rt: Option<&CounterRuntime>| replay::Desk {
            services: c.services.iter().filter_map(|s| index(s)).collect(),
            busy_with: rt
                .and_then(|r| r.current.as_ref())
                .and_then(|n| self.tickets.get(n))
                .and_then(|t| index(&t.service)),
        };
        let open: Vec<replay::Desk> = self
            .config
            .counters
            .iter()
            .filter_map(|c| {
                let rt = self.counters.get(&c.id)?;
                (rt.state == CounterState::Open).then(|| desk(c, Some(rt)))
            })
            .collect();
        let lines: Vec<replay::Line> = services
            .iter()
            .map(|s| {
                let w = self.waiting.get(&s.id);
                let priority = w.map_or(0, |w| w.iter().filter(|p| p.priority()).count() as u32);
                replay::Line {
                    priority,
                    normal: w.map_or(0, |w| w.len() as u32) - priority,
                }
            })
            .collect();
        let means: Vec<f64> = services
            .iter()
            .map(|s| self.mean_service_secs(&s.id))
            .collect();
        let secs = replay::wait_secs(&open, &lines, &means, target, ahead).or_else(|| {
            let all: Vec<replay::Desk> =
                self.config.counters.iter().map(|c| desk(c, None)).collect();
            replay::wait_secs(&all, &lines, &means, target, ahead)
        });
        secs.unwrap_or_else(|| f64::from(ahead) * means[target])
            .round()
            .min(f64::from(u32::MAX)) as u32
    }

    /// People waiting for `service` now.
    pub fn waiting_count(&self, service: &str) -> u32 {
        self.waiting.get(service).map_or(0, |w| w.len() as u32)
    }

    /// Waiting tickets of `service` that will be called before `t` (same order as call-next within
    /// one service).
    fn ahead_of(&self, t: &Ticket) -> u32 {
        self.waiting
            .get(&t.service)
            .map_or(0, |w| places_before(w, &Place::of(t)) as u32)
    }

    /// People a new ticket of `service` would have ahead of it: everyone waiting, or for a priority
    /// ticket the priority ones (who come first in the line, after tickets sent to one counter).
    fn ahead_of_new(&self, service: &str, priority: bool) -> u32 {
        match self.waiting.get(service) {
            None => 0,
            Some(w) if priority => w
                .iter()
                .take_while(|p| !p.anywhere || p.priority())
                .filter(|p| p.priority())
                .count() as u32,
            Some(w) => w.len() as u32,
        }
    }

    /// Every waiting ticket of the day.
    fn all_waiting(&self) -> impl Iterator<Item = &Ticket> + '_ {
        self.waiting
            .values()
            .flatten()
            .filter_map(|p| self.tickets.get(&p.number))
    }

    /// The few waiting tickets among which `counter`'s next call is decided: those sent to it, and
    /// the head of the line of each service it serves (within one service the line order is the
    /// call order).
    fn call_candidates(&self, counter: &crate::hall::Counter) -> Vec<&Ticket> {
        let mut out = Vec::new();
        for (service, line) in &self.waiting {
            let mut head = None;
            for p in line {
                if p.anywhere {
                    head = Some(p);
                    break;
                }
                if let Some(t) = self.tickets.get(&p.number)
                    && t.for_counter == Some(counter.id)
                {
                    out.push(t);
                }
            }
            if counter.serves(service)
                && let Some(t) = head.and_then(|p| self.tickets.get(&p.number))
            {
                out.push(t);
            }
        }
        out
    }

    /// Put a ticket read back from the store (or just issued) into the hall.
    pub fn restore_ticket(&mut self, ticket: Ticket) {
        self.note_number(&ticket.number);
        if let Some(old) = self.tickets.remove(&ticket.number) {
            self.unindex(&old);
        }
        self.index(&ticket);
        self.tickets.insert(ticket.number.clone(), ticket);
    }

    /// Change one ticket, keeping the waiting index in step.
    fn update_ticket<R>(&mut self, number: &str, f: impl FnOnce(&mut Ticket) -> R) -> Option<R> {
        let mut t = self.tickets.remove(number)?;
        self.unindex(&t);
        let r = f(&mut t);
        self.index(&t);
        self.tickets.insert(t.number.clone(), t);
        Some(r)
    }

    fn index(&mut self, t: &Ticket) {
        if t.state == TicketState::Waiting {
            self.waiting
                .entry(t.service.clone())
                .or_default()
                .insert(Place::of(t));
        }
    }

    fn unindex(&mut self, t: &Ticket) {
        if let Some(w) = self.waiting.get_mut(&t.service) {
            w.remove(&Place::of(t));
            if w.is_empty() {
                self.waiting.remove(&t.service);
            }
        }
    }

    /// Does the waiting index say exactly what a scan of the day's tickets says? (Checked by the
    /// property tests after every command.)
    pub fn waiting_index_is_consistent(&self) -> bool {
        let mut scanned: BTreeMap<ServiceId, BTreeSet<Place>> = BTreeMap::new();
        for t in self.tickets.values() {
            if t.state == TicketState::Waiting {
                scanned
                    .entry(t.service.clone())
                    .or_default()
                    .insert(Place::of(t));
            }
        }
        scanned == self.waiting
            && self
                .all_waiting()
                .all(|t| self.ahead_of(t) == queue::ahead_of(t, self.tickets.values()))
            && self.config.counters.iter().all(|c| {
                let services = &self.config.services;
                queue::next_for_counter(c, services, self.call_candidates(c)).map(|t| &t.number)
                    == queue::next_for_counter(c, services, self.tickets.values())
                        .map(|t| &t.number)
            })
    }

    fn long_wait_services(&self, now: Now) -> BTreeSet<ServiceId> {
        let limit_ms = i64::from(self.config.thresholds.long_wait_min) * 60_000;
        self.config
            .services
            .iter()
            .filter(|s| {
                let oldest = self
                    .waiting
                    .get(&s.id)
                    .and_then(|w| w.iter().map(Place::issued_at).min());
                let waited_long = oldest.is_some_and(|at| now.at - at >= limit_ms);
                let estimate_long =
                    i64::from(self.wait_for(&s.id, self.waiting_count(&s.id))) * 1000 >= limit_ms;
                waited_long || estimate_long
            })
            .map(|s| s.id.clone())
            .collect()
    }

    pub fn service_views(&self) -> Vec<ServiceView> {
        self.config
            .services
            .iter()
            .map(|s| {
                let w = self.waiting_view(s);
                ServiceView {
                    id: w.service,
                    prefix: w.prefix,
                    name: w.name,
                    documents: s.documents.clone(),
                    steps: s.steps.clone(),
                    fees: s.fees.clone(),
                    reminder: s.reminder.clone(),
                    enabled: s.enabled,
                    waiting: w.waiting,
                    estimated_wait_s: w.estimated_wait_s,
                    estimated_wait_lo_s: w.estimated_wait_lo_s,
                    estimated_wait_hi_s: w.estimated_wait_hi_s,
                    long_wait: w.long_wait,
                }
            })
            .collect()
    }

    /// How one service's line stands: what the board's waiting rows show.
    fn waiting_view(&self, s: &crate::hall::Service) -> WaitingView {
        let waiting = self.waiting_count(&s.id);
        let secs = self.wait_for(&s.id, waiting);
        let range = self.wait_range_for(&s.id, secs, waiting);
        WaitingView {
            service: s.id.clone(),
            prefix: s.prefix,
            name: s.name.clone(),
            waiting,
            estimated_wait_s: secs,
            estimated_wait_lo_s: range.lo_s,
            estimated_wait_hi_s: range.hi_s,
            long_wait: self.long_wait.contains(&s.id),
        }
    }

    pub fn counter_views(&self) -> Vec<CounterView> {
        self.config
            .counters
            .iter()
            .map(|c| {
                let rt = self.counters.get(&c.id).cloned().unwrap_or_default();
                let current_service = rt
                    .current
                    .as_ref()
                    .and_then(|n| self.tickets.get(n))
                    .map(|t| t.service.clone());
                CounterView {
                    id: c.id,
                    name: c.name.clone(),
                    state: rt.state,
                    services: c.services.clone(),
                    current: rt.current,
                    current_service,
                }
            })
            .collect()
    }

    pub fn counter_view(&self, id: CounterId) -> Option<CounterView> {
        self.counter_views().into_iter().find(|c| c.id == id)
    }

    pub fn ticket_view(&self, t: &Ticket) -> TicketView {
        TicketView {
            number: t.number.clone(),
            service: t.service.clone(),
            priority: t.priority,
            state: t.state,
            counter: t.counter,
            for_counter: t.for_counter,
            issued_at: to_rfc3339(t.issued_at),
            called_at: t.called_at.map(to_rfc3339),
            started_at: t.started_at.map(to_rfc3339),
            recalls: t.recalls,
            transfers: t.transfers,
            apology: t.apology,
        }
    }

    pub fn current_ticket(&self, counter: CounterId) -> Option<TicketView> {
        let n = self.counters.get(&counter)?.current.as_ref()?;
        self.tickets.get(n).map(|t| self.ticket_view(t))
    }

    /// The waiting tickets `counter` may call, in the order it would call them.
    pub fn queue_for_counter(&self, counter: CounterId) -> Vec<TicketView> {
        let Some(c) = self.config.counter(counter) else {
            return vec![];
        };
        let mut rest: Vec<&Ticket> = self
            .all_waiting()
            .filter(|t| queue::callable_at(c, t))
            .collect();
        let mut out = Vec::with_capacity(rest.len());
        while let Some(next) =
            queue::next_for_counter(c, &self.config.services, rest.iter().copied())
        {
            let n = next.number.clone();
            out.push(self.ticket_view(next));
            rest.retain(|t| t.number != n);
        }
        out
    }

    /// All waiting tickets of the day in line order (for staff overviews).
    pub fn waiting_tickets(&self) -> Vec<TicketView> {
        let mut v: Vec<&Ticket> = self.all_waiting().collect();
        v.sort_by_key(|t| (t.for_counter.is_none(), t.line_key()));
        v.into_iter().map(|t| self.ticket_view(t)).collect()
    }

    pub fn ticket_status(&self, number: &str) -> Option<TicketStatus> {
        let (p, seq) = parse_number(number)?;
        let t = self.tickets.get(&format_number(p, seq))?;
        let ahead = if t.state == TicketState::Waiting {
            self.ahead_of(t)
        } else {
            0
        };
        let secs = if t.state == TicketState::Waiting {
            self.wait_for(&t.service, ahead)
        } else {
            0
        };
        let range = self.wait_range_for(&t.service, secs, ahead);
        let service_name = self
            .config
            .service(&t.service)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        Some(TicketStatus {
            number: t.number.clone(),
            service: t.service.clone(),
            service_name,
            state: t.state,
            ahead,
            estimated_wait_s: secs,
            estimated_wait_lo_s: range.lo_s,
            estimated_wait_hi_s: range.hi_s,
            counter: t.counter.filter(|_| t.state.is_current()),
            counter_name: t
                .counter
                .filter(|_| t.state.is_current())
                .map(|c| self.counter_name(c)),
            issued_at: to_rfc3339(t.issued_at),
        })
    }

    pub fn board_live(&self, now: Now) -> BoardLive {
        let h = &self.config.hours;
        let outage = self.outage.as_ref().map(|o| OutageView {
            kind: if self.outage_long {
                OutageKind::Long
            } else {
                OutageKind::Short
            },
            started_at: to_rfc3339(o.started_at),
            expected_end: to_rfc3339(o.expected_end),
            message: o.message.clone(),
        });
        let mode = if outage.is_some() {
            BoardMode::Outage
        } else if !self.long_wait.is_empty() {
            BoardMode::LongWait
        } else {
            BoardMode::Normal
        };
        BoardLive {
            mode,
            day: DayView {
                phase: h.phase(now.time),
                opening: h.opening.format("%H:%M").to_string(),
                last_ticket: h.last_ticket.format("%H:%M").to_string(),
                closing: h.closing.format("%H:%M").to_string(),
                date: self.day.format("%Y-%m-%d").to_string(),
            },
            calls: self.recent_calls.iter().cloned().collect(),
            counters: self.counter_views(),
            // Built once per committed batch: only what the board shows, not each service's
            // documents, steps and fees.
            waiting: self
                .config
                .services
                .iter()
                .filter_map(|s| {
                    let w = self.waiting_view(s);
                    // A service switched off still shows while tickets issued before still wait for it.
                    (s.enabled || w.waiting > 0).then_some(w)
                })
                .collect(),
            callback_capture: self.outage_long
                || (self.outage.is_none() && !self.long_wait.is_empty()),
            outage,
        }
    }

    pub fn notices(&self) -> Notices {
        let c = &self.config;
        Notices {
            hall_name: c.hall.name.clone(),
            time_zone: c.hall.time_zone.clone(),
            complaint_hotline: c.hotlines.complaint.clone(),
            consultation_hotline: c.hotlines.consultation.clone(),
            services: self
                .service_views()
                .into_iter()
                .filter(|s| s.enabled)
                .collect(),
            fee_schedule: c.fee_schedule.clone(),
            commitments: c.commitments.clone(),
            scrolling: c.notices.clone(),
            voice: c.voice.clone(),
            callback_retention_days: c.policy.callback_retention_days,
        }
    }

    fn reply_for(
        &self,
        cmd: &Command,
        events: &[Event],
        callback: Option<&Callback>,
        now: Now,
    ) -> Reply {
        match cmd {
            Command::IssueTicket { .. } => {
                let t = events.iter().find_map(|e| match &e.kind {
                    EventKind::TicketIssued { ticket } => Some(ticket),
                    _ => None,
                });
                match t {
                    Some(t) => Reply::Issued({
                        let ahead = self.ahead_of(t);
                        let range = self.wait_range_for(&t.service, t.estimated_wait_s, ahead);
                        TicketIssued {
                            number: t.number.clone(),
                            service: t.service.clone(),
                            service_name: self
                                .config
                                .service(&t.service)
                                .map(|s| s.name.clone())
                                .unwrap_or_default(),
                            priority: t.priority,
                            ahead,
                            estimated_wait_s: t.estimated_wait_s,
                            estimated_wait_lo_s: range.lo_s,
                            estimated_wait_hi_s: range.hi_s,
                            issued_at: to_rfc3339(t.issued_at),
                        }
                    }),
                    None => Reply::Done,
                }
            }
            Command::CallNext { counter } | Command::CallNumber { counter, .. } => {
                let called = events
                    .iter()
                    .any(|e| matches!(e.kind, EventKind::TicketCalled { .. }));
                Reply::Called(if called {
                    self.current_ticket(*counter)
                } else {
                    None
                })
            }
            Command::Recall { counter }
            | Command::Start { counter }
            | Command::Finish { counter }
            | Command::NoShow { counter }
            | Command::Transfer { counter, .. }
            | Command::SetCounter { counter, .. } => match self.counter_view(*counter) {
                Some(v) => Reply::Counter(v, self.current_ticket(*counter)),
                None => Reply::Done,
            },
            Command::CaptureCallback { .. } => match callback {
                Some(cb) => Reply::CallbackCaptured(CallbackCaptured {
                    id: cb.id,
                    phone_masked: cb.phone.masked(),
                }),
                None => Reply::Done,
            },
            Command::UpdateCallback { .. } => {
                callback.map_or(Reply::Done, |cb| Reply::Callback(Box::new(cb.clone())))
            }
            _ => {
                let _ = now;
                Reply::Done
            }
        }
    }

    /// What public screens may know of `events` (already applied to this hall).
    pub fn public_events(&self, events: &[Event]) -> Vec<PublicEvent> {
        events.iter().map(|e| self.public_event(e)).collect()
    }

    fn public_event(&self, e: &Event) -> PublicEvent {
        let call = || self.recent_calls.iter().find(|c| c.id == e.seq).cloned();
        match &e.kind {
            EventKind::TicketCalled { .. } => {
                call().map_or(PublicEvent::Private, |call| PublicEvent::Called { call })
            }
            EventKind::TicketRecalled { .. } => {
                call().map_or(PublicEvent::Private, |call| PublicEvent::Recalled { call })
            }
            _ => public_event(e),
        }
    }
}

fn public_event(e: &Event) -> PublicEvent {
    match &e.kind {
        EventKind::DayStarted { .. } | EventKind::DayClosed { .. } => PublicEvent::DayChanged,
        EventKind::TicketIssued { ticket } => PublicEvent::TicketIssued {
            number: ticket.number.clone(),
            service: ticket.service.clone(),
        },
        EventKind::TicketCalled { .. } | EventKind::TicketRecalled { .. } => PublicEvent::Private,
        EventKind::ServiceStarted { number, counter } => PublicEvent::ServiceStarted {
            number: number.clone(),
            counter: *counter,
        },
        EventKind::TicketFinished {
            number, counter, ..
        } => PublicEvent::TicketFinished {
            number: number.clone(),
            counter: *counter,
        },
        EventKind::TicketNoShow { number, counter } => PublicEvent::TicketNoShow {
            number: number.clone(),
            counter: *counter,
        },
        EventKind::TicketTransferred { number, .. } => PublicEvent::TicketTransferred {
            number: number.clone(),
        },
        EventKind::CounterStateChanged { counter, state, .. } => PublicEvent::CounterChanged {
            counter: *counter,
            state: *state,
        },
        EventKind::OutageStarted { .. } | EventKind::OutageBecameLong { .. } => {
            PublicEvent::OutageStarted
        }
        EventKind::OutageEnded { .. } => PublicEvent::OutageEnded,
        EventKind::LongWaitBegan { .. } | EventKind::LongWaitEnded { .. } => {
            PublicEvent::LongWaitChanged
        }
        EventKind::CallbackCaptured { .. } | EventKind::CallbackUpdated { .. } => {
            PublicEvent::Private
        }
        EventKind::ConfigReplaced { .. } => PublicEvent::NoticesChanged,
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

/// The follow-up rules of a callback (one-call service, Ch.2 §3).
pub fn update_callback(
    current: &Callback,
    status: Option<CallbackStatus>,
    note: Option<&str>,
    take: bool,
    actor: &Actor,
    now: Now,
) -> Result<Callback, Refusal> {
    use RefusalKind::*;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if status.is_none() && note.is_none() && !take {
        return Err(refuse(
            BadInput,
            "empty_update",
            "give a status, a note or take the case",
            "请填写状态或备注",
        ));
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(refuse(
            BadInput,
            "too_long",
            format!("a note is at most {MAX_NOTE_CHARS} characters"),
            "备注过长",
        ));
    }
    let mut cb = current.clone();
    if let Some(s) = status {
        if !current.status.may_become(s) {
            return Err(refuse(
                Conflict,
                "bad_status",
                format!("a {:?} callback cannot become {:?}", current.status, s),
                "回访状态不能这样变更",
            ));
        }
        if s == CallbackStatus::Resolved && note.is_none() && current.notes.is_empty() {
            return Err(refuse(
                BadInput,
                "note_required",
                "say how it was resolved in a note",
                "请填写处理结果",
            ));
        }
        cb.status = s;
        if s == CallbackStatus::Resolved {
            cb.resolved_at = Some(now.at);
        }
    } else if current.status == CallbackStatus::Resolved && take {
        return Err(refuse(
            Conflict,
            "bad_status",
            "the callback is already resolved",
            "该回访已办结",
        ));
    }
    if take || (cb.owner.is_none() && status.is_some()) {
        cb.owner = Some(actor.name.clone());
    }
    if let Some(n) = note {
        cb.notes.push(CallbackNote {
            at: now.at,
            by: actor.name.clone(),
            text: n.to_string(),
        });
    }
    cb.updated_at = now.at;
    Ok(cb)
}

mod load;

#[cfg(test)]
mod tests;
