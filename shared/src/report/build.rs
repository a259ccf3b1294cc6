//! Computing a report from its rows: every ticket followed through its events, its figures
//! added to each group it belongs to.

use super::*;

#[derive(Default)]
struct Acc {
    issued: u32,
    called: u32,
    served: u32,
    no_shows: u32,
    transfers: u32,
    never_called: u32,
    waits: Vec<i64>,
    services: Vec<i64>,
    long_services: u32,
    ratings: [u32; 5],
}

impl Acc {
    fn issue(&mut self, t: &TicketRow) {
        self.issued += 1;
        if t.first_called_at.is_none() {
            self.never_called += 1;
        }
    }

    fn first_call(&mut self, wait_ms: i64) {
        self.called += 1;
        self.waits.push(wait_ms);
    }

    fn finish(&mut self, service_ms: Option<i64>, long_ms: i64) {
        self.served += 1;
        if let Some(ms) = service_ms {
            self.services.push(ms);
            if ms > long_ms {
                self.long_services += 1;
            }
        }
    }

    fn rate(&mut self, s: Satisfaction) {
        self.ratings[usize::from(s.score() - 1)] += 1;
    }

    fn stats(self, target_ms: i64) -> Stats {
        let within = self.waits.iter().filter(|&&w| w <= target_ms).count() as u32;
        let rated: u32 = self.ratings.iter().sum();
        let satisfied = self.ratings[3] + self.ratings[4];
        let total: u32 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as u32 + 1) * n)
            .sum();
        Stats {
            issued: self.issued,
            called: self.called,
            served: self.served,
            no_shows: self.no_shows,
            transfers: self.transfers,
            never_called: self.never_called,
            within_target: share(within, self.waits.len() as u32),
            wait: Durations::of_ms(self.waits),
            service_time: Durations::of_ms(self.services),
            long_services: self.long_services,
            satisfaction: SatisfactionStats {
                rated,
                counts: (1..=5u8)
                    .map(|s| (s.to_string(), self.ratings[usize::from(s - 1)]))
                    .collect(),
                mean: share(total, rated),
                satisfied_share: share(satisfied, rated),
                response_rate: share(rated, self.served),
            },
        }
    }
}

/// Who did what to one ticket, from the events.
#[derive(Default)]
struct Deeds<'a> {
    first_call: Option<(CounterId, &'a str)>,
    finish: Option<(CounterId, &'a str)>,
    no_show: Option<(CounterId, &'a str)>,
}

fn local_hms(at: Millis, tz: &chrono_tz::Tz) -> String {
    Now::in_zone(at, tz).time.format("%H:%M:%S").to_string()
}

/// A stretch of clock time the report adds up day by day: how its events begin and end it, and
/// where one its day's events leave going on stops.
struct Stretch {
    begins: fn(&Fact) -> bool,
    /// `Some(began)` for the event that ends it, `began` when the event says.
    ends: fn(&Fact) -> Option<Option<Millis>>,
    /// One not ended on its day: to the day's last event the report reads (a slow system is
    /// forgotten when the day ends; the hall's business ended with its last call), or else to
    /// midnight (an outage goes on overnight).
    unended_to_last_event: bool,
}

const OUTAGE: Stretch = Stretch {
    begins: |f| matches!(f, Fact::OutageStarted),
    ends: |f| match f {
        Fact::OutageEnded { started_at } => Some(*started_at),
        _ => None,
    },
    unended_to_last_event: false,
};

const SLOW_SYSTEM: Stretch = Stretch {
    begins: |f| matches!(f, Fact::SlowSystemStarted),
    ends: |f| matches!(f, Fact::SlowSystemEnded).then_some(None),
    unended_to_last_event: true,
};

/// The parts of each `stretch` (outages, slow systems) within the period, one per stretch and day,
/// in milliseconds (the module's definitions).
fn stretch_parts(
    stretch: &Stretch,
    period: &Period,
    tz: &chrono_tz::Tz,
    events: &[&EventRow],
    as_of: Option<Millis>,
) -> Vec<i64> {
    let midnight = |day: NaiveDate| staffing::local_ms(tz, day, 0);
    let mut parts = Vec::new();
    // The stretch going on at this point of each day's events: since when.
    let mut open: BTreeMap<NaiveDate, Millis> = BTreeMap::new();
    let mut last_event: BTreeMap<NaiveDate, Millis> = BTreeMap::new();
    for e in events.iter().filter(|e| period.contains(e.day)) {
        let last = last_event.entry(e.day).or_insert(e.at);
        *last = (*last).max(e.at);
        if (stretch.begins)(&e.fact) {
            // The engine starts none while one goes on; rows that do end the first here.
            if let Some(since) = open.insert(e.day, e.at) {
                parts.push((e.at - since).max(0));
            }
        } else if let Some(started_at) = (stretch.ends)(&e.fact) {
            let since = open.remove(&e.day).unwrap_or_else(|| {
                let day_began = midnight(e.day);
                started_at.map_or(day_began, |s| s.max(day_began))
            });
            parts.push((e.at - since).max(0));
        }
    }
    for (day, since) in open {
        let day_ended = staffing::local_ms(tz, day, 24);
        let until = match as_of {
            // Today, still going on: up to now.
            Some(now) if now < day_ended => now,
            _ if stretch.unended_to_last_event => last_event.get(&day).copied().unwrap_or(since),
            _ => day_ended,
        };
        parts.push((until - since).max(0));
    }
    parts
}

impl Report {
    /// Compute the report of `period` from its rows. Rows outside the period are ignored.
    pub fn build(period: Period, config: &HallConfig, input: &ReportInput) -> Report {
        let tz = config.time_zone();
        let target_ms = i64::from(config.thresholds.target_wait_min) * 60_000;
        let long_ms = i64::from(config.thresholds.long_service_min) * 60_000;

        let tickets: Vec<&TicketRow> = input
            .tickets
            .iter()
            .filter(|t| period.contains(t.day))
            .collect();
        let events: Vec<&EventRow> = input.events.iter().collect();

        // Who first called, finished or marked each ticket.
        let mut deeds: HashMap<(NaiveDate, &str), Deeds<'_>> = HashMap::new();
        for e in &events {
            match &e.fact {
                Fact::Called { number, counter } => {
                    let d = deeds.entry((e.day, number)).or_default();
                    if d.first_call.is_none() {
                        d.first_call = Some((*counter, &e.actor));
                    }
                }
                Fact::Finished { number, counter } => {
                    deeds.entry((e.day, number)).or_default().finish = Some((*counter, &e.actor));
                }
                Fact::NoShow { number, counter } => {
                    deeds.entry((e.day, number)).or_default().no_show = Some((*counter, &e.actor));
                }
                _ => {}
            }
        }
        let ratings: HashMap<(NaiveDate, &str), &RatingRow> = input
            .ratings
            .iter()
            .filter(|r| period.contains(r.day))
            .map(|r| ((r.day, r.number.as_str()), r))
            .collect();

        let mut totals = Acc::default();
        let mut by_service: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut by_counter: BTreeMap<CounterId, Acc> = BTreeMap::new();
        let mut by_clerk: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut by_day: BTreeMap<NaiveDate, Acc> = BTreeMap::new();
        let mut by_hour: BTreeMap<u32, Acc> = BTreeMap::new();
        let mut load: BTreeMap<&str, (u32, u32, i64)> = BTreeMap::new();
        let mut long_service_list = Vec::new();
        let mut estimate_errors: Vec<i64> = Vec::new();
        let none = Deeds::default();

        for t in &tickets {
            let d = deeds.get(&(t.day, t.number.as_str())).unwrap_or(&none);
            let hour = Now::in_zone(t.issued_at, &tz).time.hour();
            let wait = t.wait_ms();
            let service_ms = t.service_ms();
            let finished = t.state == TicketState::Finished;
            let no_show = t.state == TicketState::NoShow;
            let rating = ratings.get(&(t.day, t.number.as_str())).copied();
            let day_acc = by_day.entry(t.day).or_default();
            let hour_acc = by_hour.entry(hour).or_default();

            for acc in [&mut totals, &mut *day_acc, &mut *hour_acc] {
                acc.issue(t);
                acc.transfers += t.transfers;
                if let Some(w) = wait {
                    acc.first_call(w);
                }
                if finished {
                    acc.finish(service_ms, long_ms);
                }
                if no_show {
                    acc.no_shows += 1;
                }
                if let Some(r) = rating {
                    acc.rate(r.score);
                }
            }

            let first = by_service.entry(&t.first_service).or_default();
            first.issue(t);
            first.transfers += t.transfers;
            if let Some(w) = wait {
                first.first_call(w);
            }
            let last = by_service.entry(&t.service).or_default();
            if finished {
                last.finish(service_ms, long_ms);
            }
            if no_show {
                last.no_shows += 1;
            }
            if let Some(r) = rating {
                last.rate(r.score);
            }
            load.entry(&t.first_service).or_default().0 += 1;
            if finished {
                let l = load.entry(&t.service).or_default();
                l.1 += 1;
                l.2 += service_ms.unwrap_or(0);
            }

            // Counters and clerks: from the events, the ticket's last counter when events are missing.
            if let Some(w) = wait {
                let counter = d.first_call.map(|(c, _)| c).or(t.counter);
                if let Some(c) = counter {
                    by_counter.entry(c).or_default().first_call(w);
                }
                if let Some((_, clerk)) = d.first_call {
                    by_clerk.entry(clerk).or_default().first_call(w);
                }
                estimate_errors.push(w - i64::from(t.estimated_wait_s) * 1000);
            }
            if finished {
                if let Some(c) = d.finish.map(|(c, _)| c).or(t.counter) {
                    by_counter.entry(c).or_default().finish(service_ms, long_ms);
                }
                if let Some((_, clerk)) = d.finish {
                    by_clerk
                        .entry(clerk)
                        .or_default()
                        .finish(service_ms, long_ms);
                }
                if let Some(ms) = service_ms.filter(|&ms| ms > long_ms) {
                    long_service_list.push(LongService {
                        day: t.day,
                        number: t.number.clone(),
                        service: t.service.clone(),
                        counter: d.finish.map(|(c, _)| c).or(t.counter),
                        clerk: d.finish.map(|(_, a)| a.to_string()),
                        service_s: ms as f64 / 1000.0,
                    });
                }
            }
            if no_show {
                if let Some(c) = d.no_show.map(|(c, _)| c).or(t.counter) {
                    by_counter.entry(c).or_default().no_shows += 1;
                }
                if let Some((_, clerk)) = d.no_show {
                    by_clerk.entry(clerk).or_default().no_shows += 1;
                }
            }
            if let Some(r) = rating {
                if let Some(c) = r.counter.or(d.finish.map(|(c, _)| c)).or(t.counter) {
                    by_counter.entry(c).or_default().rate(r.score);
                }
                if let Some((_, clerk)) = d.finish {
                    by_clerk.entry(clerk).or_default().rate(r.score);
                }
            }
        }

        // Transfers, incidents, callbacks and openings straight from the events.
        let mut open_long: HashMap<(NaiveDate, &str), usize> = HashMap::new();
        let mut incidents = Incidents {
            long_services: long_service_list.len() as u32,
            long_service_list,
            ..Incidents::default()
        };
        let mut long_wait_at: Vec<Millis> = Vec::new();
        let mut captured: BTreeMap<i64, Millis> = BTreeMap::new();
        let mut resolved: HashMap<i64, Millis> = HashMap::new();
        let mut openings: BTreeMap<(NaiveDate, CounterId), Millis> = BTreeMap::new();
        for e in &events {
            let inside = period.contains(e.day);
            match &e.fact {
                Fact::Transferred { from_counter, .. } if inside => {
                    by_counter.entry(*from_counter).or_default().transfers += 1;
                    by_clerk.entry(e.actor.as_str()).or_default().transfers += 1;
                }
                Fact::CounterOpened { counter } if inside => {
                    openings.entry((e.day, *counter)).or_insert(e.at);
                }
                Fact::LongWaitBegan { service } if inside => {
                    open_long.insert((e.day, service), incidents.long_wait_list.len());
                    long_wait_at.push(e.at);
                    incidents.long_wait_list.push(LongWait {
                        day: e.day,
                        service: service.clone(),
                        began: local_hms(e.at, &tz),
                        ended: None,
                        duration_s: None,
                    });
                }
                Fact::LongWaitEnded { service } if inside => {
                    if let Some(i) = open_long.remove(&(e.day, service.as_str())) {
                        let lw = &mut incidents.long_wait_list[i];
                        let secs = (e.at - long_wait_at[i]).max(0) as f64 / 1000.0;
                        lw.ended = Some(local_hms(e.at, &tz));
                        lw.duration_s = Some(secs);
                        incidents.long_wait_total_s += secs;
                    }
                }
                Fact::OutageStarted if inside => incidents.outages += 1,
                Fact::SlowSystemStarted if inside => incidents.slow_systems += 1,
                Fact::CallbackCaptured { id } if inside => {
                    captured.entry(*id).or_insert(e.at);
                }
                Fact::CallbackResolved { id } => {
                    resolved.entry(*id).or_insert(e.at);
                }
                _ => {}
            }
        }
        incidents.long_waits = incidents.long_wait_list.len() as u32;
        let outages = stretch_parts(&OUTAGE, &period, &tz, &events, input.as_of);
        incidents.outage_total_s = outages.iter().sum::<i64>() as f64 / 1000.0;
        incidents.outage_longest_s = outages.iter().max().copied().unwrap_or(0) as f64 / 1000.0;
        let slow = stretch_parts(&SLOW_SYSTEM, &period, &tz, &events, input.as_of);
        incidents.slow_system_total_s = slow.iter().sum::<i64>() as f64 / 1000.0;

        let delays: Vec<i64> = captured
            .iter()
            .filter_map(|(id, at)| resolved.get(id).map(|r| (r - at).max(0)))
            .collect();
        let callbacks = CallbackStats {
            captured: captured.len() as u32,
            resolved: delays.len() as u32,
            open: (captured.len() - delays.len()) as u32,
            resolve_delay: Durations::of_ms(delays),
        };

        let errors_s: Vec<f64> = estimate_errors.iter().map(|&e| e as f64 / 1000.0).collect();
        let stats = crate::estimate::ErrorStats::of(&errors_s);
        let some = |v: f64| (stats.count > 0).then_some(v);
        let estimate = EstimateStats {
            count: stats.count,
            mean_error_s: some(stats.mean_s),
            mean_abs_error_s: some(stats.mean_abs_s),
            rmse_s: some(stats.rmse_s),
            late_share: some(stats.late_share),
        };

        let opening_s = i64::from(config.hours.opening.num_seconds_from_midnight());
        let list: Vec<CounterOpening> = openings
            .into_iter()
            .map(|((day, counter), at)| {
                let local = Now::in_zone(at, &tz);
                // An opening on another local date than the business day (clock trouble) counts by time.
                let before = opening_s - i64::from(local.time.num_seconds_from_midnight());
                CounterOpening {
                    day,
                    counter,
                    opened: local.time.format("%H:%M:%S").to_string(),
                    before_opening_s: before,
                    opened_by_opening: before >= 0,
                    in_place: before >= STAFF_IN_PLACE_BEFORE_OPENING_S,
                }
            })
            .collect();
        let open_times = OpenTimes {
            counter_days: list.len() as u32,
            opened_by_opening: list.iter().filter(|o| o.opened_by_opening).count() as u32,
            in_place: list.iter().filter(|o| o.in_place).count() as u32,
            late: list.iter().filter(|o| !o.opened_by_opening).count() as u32,
            mean_before_opening_s: mean(
                &list
                    .iter()
                    .map(|o| o.before_opening_s as f64)
                    .collect::<Vec<_>>(),
            ),
            list,
        };

        let service_label = |id: &str| match config.service(id) {
            Some(s) => (s.name.zh.clone(), s.name.en.clone()),
            None => (id.to_string(), id.to_string()),
        };
        let counter_label = |id: CounterId| match config.counters.iter().find(|c| c.id == id) {
            Some(c) => (c.name.zh.clone(), c.name.en.clone()),
            None => (format!("{id}号窗口"), format!("Counter {id}")),
        };
        let row = |key: String, (zh, en): (String, String), acc: Acc| Row {
            key,
            label_zh: zh,
            label_en: en,
            stats: acc.stats(target_ms),
        };

        let total_issued = totals.issued;
        let total_service_ms: i64 = load.values().map(|l| l.2).sum();
        let load_by_service = load
            .iter()
            .map(|(id, &(issued, served, ms))| {
                let (zh, en) = service_label(id);
                LoadRow {
                    service: id.to_string(),
                    label_zh: zh,
                    label_en: en,
                    issued,
                    issued_share: share(issued, total_issued),
                    served,
                    service_time_total_s: ms as f64 / 1000.0,
                    service_time_share: (total_service_ms > 0)
                        .then(|| ms as f64 / total_service_ms as f64),
                }
            })
            .collect();

        Report {
            period,
            time_zone: tz.name().to_string(),
            opening: config.hours.opening.format("%H:%M").to_string(),
            target_wait_min: config.thresholds.target_wait_min,
            long_service_min: config.thresholds.long_service_min,
            business_days: by_day.len() as u32,
            totals: totals.stats(target_ms),
            by_service: by_service
                .into_iter()
                .map(|(id, acc)| row(id.to_string(), service_label(id), acc))
                .collect(),
            by_counter: by_counter
                .into_iter()
                .map(|(id, acc)| row(id.to_string(), counter_label(id), acc))
                .collect(),
            by_clerk: by_clerk
                .into_iter()
                .map(|(login, acc)| row(login.to_string(), (login.into(), login.into()), acc))
                .collect(),
            by_day: by_day
                .into_iter()
                .map(|(d, acc)| {
                    let key = d.format("%Y-%m-%d").to_string();
                    row(key.clone(), (key.clone(), key), acc)
                })
                .collect(),
            by_hour: by_hour
                .into_iter()
                .map(|(h, acc)| {
                    let label = format!("{h:02}:00–{:02}:00", h + 1);
                    row(format!("{h:02}"), (label.clone(), label), acc)
                })
                .collect(),
            load_by_service,
            staffing_by_hour: staffing::by_hour(&period, config, &tickets, &input.events),
            incidents,
            callbacks,
            estimate,
            open_times,
            satisfaction_levels: Satisfaction::ALL
                .iter()
                .map(|s| Level {
                    score: s.score(),
                    zh: s.zh().into(),
                    en: s.en().into(),
                })
                .collect(),
        }
    }
}
