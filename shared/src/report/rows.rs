//! The rows a report is computed from, as the store selects them.

use super::*;

/// A ticket as the `tickets` table keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    pub day: NaiveDate,
    pub number: String,
    /// The service it ended in.
    pub service: String,
    /// The service it was issued for.
    pub first_service: String,
    pub state: TicketState,
    /// The last counter that had it.
    pub counter: Option<CounterId>,
    pub issued_at: Millis,
    pub first_called_at: Option<Millis>,
    pub called_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub transfers: u32,
    pub estimated_wait_s: u32,
}

impl TicketRow {
    pub fn wait_ms(&self) -> Option<i64> {
        self.first_called_at.map(|c| (c - self.issued_at).max(0))
    }

    pub fn service_ms(&self) -> Option<i64> {
        if self.state != TicketState::Finished {
            return None;
        }
        let from = self.started_at.or(self.called_at)?;
        self.finished_at.map(|f| (f - from).max(0))
    }
}

/// What a report needs from one event of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    Called {
        number: String,
        counter: CounterId,
    },
    Finished {
        number: String,
        counter: CounterId,
    },
    NoShow {
        number: String,
        counter: CounterId,
    },
    Transferred {
        number: String,
        from_counter: CounterId,
    },
    /// `counter_state_changed` to `open`.
    CounterOpened {
        counter: CounterId,
    },
    /// `counter_state_changed` to `paused` or `closed`.
    CounterLeft {
        counter: CounterId,
    },
    LongWaitBegan {
        service: String,
    },
    LongWaitEnded {
        service: String,
    },
    /// `outage_started`: the outage began at the event's instant.
    OutageStarted,
    /// `outage_ended`; `started_at` is the outage's id, which is the instant it began.
    OutageEnded {
        started_at: Option<Millis>,
    },
    /// `slow_system_started`: staff say the business system is slow.
    SlowSystemStarted,
    /// `slow_system_ended`: staff say it is back to normal.
    SlowSystemEnded,
    CallbackCaptured {
        id: i64,
    },
    /// `callback_updated` to `resolved`.
    CallbackResolved {
        id: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: u64,
    pub day: NaiveDate,
    pub at: Millis,
    /// Who acted: a clerk's login for calls, finishes, no-shows and transfers.
    pub actor: String,
    pub fact: Fact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingRow {
    pub day: NaiveDate,
    pub number: String,
    pub counter: Option<CounterId>,
    pub score: Satisfaction,
    pub at: Millis,
}

/// The rows of a period. `events` in `seq` order; callback resolutions may come from after the period.
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    pub tickets: Vec<TicketRow>,
    pub events: Vec<EventRow>,
    pub ratings: Vec<RatingRow>,
    /// When the rows were read: an outage still going on at the end of its day's events is
    /// counted up to this instant when it comes before the end of that day. `None`: up to the end
    /// of the day (the rows of a day that is over).
    pub as_of: Option<Millis>,
}
