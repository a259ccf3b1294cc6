//! Views: what screens and APIs are shown of the hall — services, counters, tickets, the board,
//! notices, command replies and the public events of the board's stream.

use super::*;

impl Hall {
    pub(super) fn long_wait_services(&self, now: Now) -> BTreeSet<ServiceId> {
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
                // The line's own wait: an outage is an incident of its own, with its apology.
                let estimate_long =
                    i64::from(self.line_wait_for(&s.id, self.waiting_count(&s.id), 0)) * 1000
                        >= limit_ms;
                waited_long || estimate_long
            })
            .map(|s| s.id.clone())
            .collect()
    }

    /// Every service with its line as it stands at the instant `at` (the hall's last event or
    /// later).
    pub fn service_views(&self, at: Millis) -> Vec<ServiceView> {
        self.config
            .services
            .iter()
            .map(|s| {
                let w = self.waiting_view(s, at);
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

    /// How one service's line stands at the instant `at` (the hall's last event or later): what
    /// the board's waiting rows show, and what a ticket taken then is told.
    pub(super) fn waiting_view(&self, s: &crate::hall::Service, at: Millis) -> WaitingView {
        let waiting = self.waiting_count(&s.id);
        let secs = self.wait_at(&s.id, waiting, at);
        let range = self.wait_range_at(&s.id, secs, waiting, at);
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

    /// Where ticket `number` stands at the instant `at` (now: the hall's last event or later).
    pub fn ticket_status(&self, number: &str, at: Millis) -> Option<TicketStatus> {
        let (p, seq) = parse_number(number)?;
        let t = self.tickets.get(&format_number(p, seq))?;
        let ahead = if t.state == TicketState::Waiting {
            self.ahead_of(t)
        } else {
            0
        };
        let secs = if t.state == TicketState::Waiting {
            let customer = wait::Customer {
                priority: t.priority,
                issuing: false,
            };
            self.ticket_wait_at(&t.service, ahead, customer, at)
        } else {
            0
        };
        let range = self.wait_range_at(&t.service, secs, ahead, at);
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
                    let w = self.waiting_view(s, now.at);
                    // A service switched off still shows while tickets issued before still wait for it.
                    (s.enabled || w.waiting > 0).then_some(w)
                })
                .collect(),
            callback_capture: self.outage_long
                || (self.outage.is_none() && !self.long_wait.is_empty()),
            outage,
            slow_since: self.slow_since().map(to_rfc3339),
        }
    }

    /// The hall's public notices, its services' lines read at the instant `at`.
    pub fn notices(&self, at: Millis) -> Notices {
        let c = &self.config;
        Notices {
            hall_name: c.hall.name.clone(),
            time_zone: c.hall.time_zone.clone(),
            complaint_hotline: c.hotlines.complaint.clone(),
            consultation_hotline: c.hotlines.consultation.clone(),
            services: self
                .service_views(at)
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

    pub(super) fn reply_for(
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

    pub(super) fn public_event(&self, e: &Event) -> PublicEvent {
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

pub(super) fn public_event(e: &Event) -> PublicEvent {
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
        EventKind::SlowSystemStarted | EventKind::SlowSystemEnded => PublicEvent::SlowSystemChanged,
        EventKind::LongWaitBegan { .. } | EventKind::LongWaitEnded { .. } => {
            PublicEvent::LongWaitChanged
        }
        EventKind::CallbackCaptured { .. } | EventKind::CallbackUpdated { .. } => {
            PublicEvent::Private
        }
        EventKind::ConfigReplaced { .. } => PublicEvent::NoticesChanged,
    }
}
