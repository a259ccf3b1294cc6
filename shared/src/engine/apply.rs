//! Applying events: the only place the hall's state changes, one event at a time, and the
//! indexes of waiting tickets kept in step with it.

use super::*;

impl Hall {
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
                self.counter_changes.clear();
                self.disruptions.clear();
                if let Some(o) = &self.outage {
                    self.disruptions.push(Disruption {
                        kind: DisruptionKind::Outage,
                        start: o.started_at,
                        end: None,
                    });
                }
                self.long_wait.clear();
                for rt in self.counters.values_mut() {
                    *rt = CounterRuntime::default();
                }
            }
            EventKind::DayClosed { day, .. } => {
                let tz = self.config.time_zone();
                for (service, times) in &self.service_times {
                    // A slow system's or an outage's services would lengthen next week's seed.
                    let done = times.done().iter();
                    for &(end, secs) in
                        done.filter(|d| !Disruption::left_out(&self.disruptions, d.0, d.1))
                    {
                        let hour = Now::in_zone(end, &tz).time.hour();
                        self.history.add(service, *day, hour, secs);
                    }
                }
                for t in self.tickets.values() {
                    let hour = Now::in_zone(t.issued_at, &tz).time.hour();
                    self.history.add_arrival(&t.service, *day, hour);
                    if let Some(end) = t.call_end() {
                        self.history.add_call_end(&t.service, *day, end);
                    }
                }
                for &(counter, at, open) in &self.counter_changes {
                    self.history
                        .add_counter_change(counter, *day, minute_of_day(at, &tz), open);
                }
                self.counter_changes.clear();
                // Expired tickets stay in the store's history; the live hall starts empty.
                self.tickets.clear();
                self.waiting.clear();
                self.issued.clear();
                self.issued_priority.clear();
                self.calls.clear();
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
                self.counter_changes
                    .push((*counter, e.at, *state == CounterState::Open));
                for n in released {
                    self.update_ticket(n, |t| t.for_counter = None);
                }
            }
            EventKind::OutageStarted { outage } => {
                self.disruptions.push(Disruption {
                    kind: DisruptionKind::Outage,
                    start: outage.started_at,
                    end: None,
                });
                self.outage = Some(outage.clone());
                self.outage_long =
                    outage.kind(e.at, self.config.thresholds.long_outage_min) == OutageKind::Long;
            }
            EventKind::OutageBecameLong { .. } => self.outage_long = true,
            EventKind::OutageEnded { .. } => {
                self.end_disruption(DisruptionKind::Outage, e.at);
                self.outage = None;
                self.outage_long = false;
            }
            EventKind::SlowSystemStarted => self.disruptions.push(Disruption {
                kind: DisruptionKind::Slow,
                start: e.at,
                end: None,
            }),
            EventKind::SlowSystemEnded => self.end_disruption(DisruptionKind::Slow, e.at),
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
                for s in &self.config.services {
                    let usual = self.usual_secs(&s.id);
                    if let Some(t) = self.service_times.get_mut(&s.id) {
                        t.set_usual(usual);
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

    pub(super) fn push_call(
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

    pub(super) fn counter_name(&self, id: CounterId) -> Text {
        self.config
            .counter(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| Text::new(format!("{id}号窗口"), format!("Counter {id}")))
    }

    /// Put a ticket read back from the store (or just issued) into the hall.
    pub fn restore_ticket(&mut self, ticket: Ticket) {
        self.ticket_ever_issued = true;
        self.note_number(&ticket.number);
        if let Some(old) = self.tickets.remove(&ticket.number) {
            self.unindex(&old);
        }
        self.index(&ticket);
        self.tickets.insert(ticket.number.clone(), ticket);
    }

    /// Change one ticket, keeping the waiting index in step.
    pub(super) fn update_ticket<R>(
        &mut self,
        number: &str,
        f: impl FnOnce(&mut Ticket) -> R,
    ) -> Option<R> {
        let mut t = self.tickets.remove(number)?;
        self.unindex(&t);
        let r = f(&mut t);
        self.index(&t);
        self.tickets.insert(t.number.clone(), t);
        Some(r)
    }

    pub(super) fn index(&mut self, t: &Ticket) {
        count_issue(&mut self.issued, t);
        if t.priority {
            count_issue(&mut self.issued_priority, t);
        }
        if let Some(end) = t.call_end() {
            self.calls.entry(t.service.clone()).or_default().add(end);
        }
        if t.state == TicketState::Waiting {
            self.waiting
                .entry(t.service.clone())
                .or_default()
                .insert(Place::of(t));
        }
    }

    pub(super) fn unindex(&mut self, t: &Ticket) {
        uncount_issue(&mut self.issued, t);
        if t.priority {
            uncount_issue(&mut self.issued_priority, t);
        }
        if let Some(end) = t.call_end()
            && let Some(c) = self.calls.get_mut(&t.service)
        {
            c.remove(end);
            if *c == Calls::default() {
                self.calls.remove(&t.service);
            }
        }
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
        let mut issued = HashMap::new();
        let mut issued_priority = HashMap::new();
        let mut calls: HashMap<ServiceId, Calls> = HashMap::new();
        for t in self.tickets.values() {
            count_issue(&mut issued, t);
            if t.priority {
                count_issue(&mut issued_priority, t);
            }
            if let Some(end) = t.call_end() {
                calls.entry(t.service.clone()).or_default().add(end);
            }
        }
        scanned == self.waiting
            && calls == self.calls
            && issued == self.issued
            && issued_priority == self.issued_priority
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
}

impl Hall {
    /// The `kind` of disruption going on ends at `at`.
    fn end_disruption(&mut self, kind: DisruptionKind, at: Millis) {
        let going_on = self.disruptions.iter_mut().rev().find(|d| d.kind == kind);
        if let Some(d) = going_on.filter(|d| d.end.is_none()) {
            d.end = Some(at);
        }
    }
}

/// Count ticket `t` among the issues of its service at its instant.
fn count_issue(issued: &mut HashMap<ServiceId, BTreeMap<Millis, u32>>, t: &Ticket) {
    match issued.get_mut(&t.service) {
        Some(times) => *times.entry(t.issued_at).or_default() += 1,
        None => {
            issued.insert(t.service.clone(), BTreeMap::from([(t.issued_at, 1)]));
        }
    }
}

/// Take ticket `t` off the issues [`count_issue`] counted.
fn uncount_issue(issued: &mut HashMap<ServiceId, BTreeMap<Millis, u32>>, t: &Ticket) {
    if let Some(times) = issued.get_mut(&t.service)
        && let Some(n) = times.get_mut(&t.issued_at)
    {
        *n -= 1;
        if *n == 0 {
            times.remove(&t.issued_at);
            if times.is_empty() {
                issued.remove(&t.service);
            }
        }
    }
}
