//! Deciding: a command against the hall's state becomes events or a refusal. Nothing here
//! changes the hall; `apply.rs` does, event by event.

use super::*;

impl Hall {
    pub(super) fn rollover(&self, day: NaiveDate) -> Vec<EventKind> {
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

    pub(super) fn decide(
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
                    estimated_wait_s: self.ticket_wait_at(
                        service,
                        ahead,
                        wait::Customer {
                            priority: *priority,
                            issuing: true,
                        },
                        now.at,
                    ),
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
            Command::SetSlowSystem { slow } => {
                let now_slow = self.slow_since().is_some();
                match (*slow, now_slow) {
                    (true, false) => vec![EventKind::SlowSystemStarted],
                    (false, true) => vec![EventKind::SlowSystemEnded],
                    (true, true) => {
                        return Err(refuse(
                            Conflict,
                            "slow_system_active",
                            "the business system is already marked slow",
                            "已标记为系统缓慢",
                        ));
                    }
                    (false, false) => {
                        return Err(refuse(
                            Conflict,
                            "no_slow_system",
                            "the business system is not marked slow",
                            "当前没有标记系统缓慢",
                        ));
                    }
                }
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
                let mut events = vec![EventKind::ConfigReplaced {
                    config: config.clone(),
                }];
                // An installer sets the hall's time zone after the package's first start, which
                // ran in the default zone: where that zone is already on the next date (Shanghai
                // at 00:30 is 22:30 the day before in Urumqi), the hall would stay a day ahead of
                // its own clock until midnight and then run two days as one. Before the first
                // ticket nothing can be numbered twice, so the day follows the new zone back.
                let new_day = Now::in_zone(now.at, &config.time_zone()).day;
                if !self.ticket_ever_issued
                    && config.time_zone() != self.config.time_zone()
                    && new_day < self.day
                {
                    events.push(EventKind::DayStarted { day: new_day });
                }
                events
            }
            Command::Tick => self.tick(now),
        };
        Ok((events, None))
    }

    pub(super) fn tick(&self, now: Now) -> Vec<EventKind> {
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

    pub(super) fn check_tickets_open(&self, now: Now) -> Result<(), Refusal> {
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

    pub(super) fn counter_rt(&self, id: CounterId) -> Result<&CounterRuntime, Refusal> {
        self.counters.get(&id).ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                "unknown_counter",
                format!("no counter {id}"),
                "没有这个窗口",
            )
        })
    }

    pub(super) fn open_counter(&self, id: CounterId) -> Result<&crate::hall::Counter, Refusal> {
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

    pub(super) fn current_of(&self, counter: CounterId) -> Result<&Ticket, Refusal> {
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

    pub(super) fn ticket_today(&self, number: &str) -> Result<&Ticket, Refusal> {
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
    pub(super) fn release_current(&self, counter: CounterId, now: Now) -> Vec<EventKind> {
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
    pub(super) fn apology_due(
        &self,
        counter: CounterId,
        pending: &[EventKind],
        t: &Ticket,
        now: Now,
    ) -> bool {
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
    pub(super) fn new_callback(
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
