//! The SQL behind reports and customer ratings: select a period's tickets, events and ratings by
//! business day (indexed ranges), hand them to the pure [`crate::report`] module, and keep one
//! rating per finished ticket.

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::config::HallConfig;
use crate::hall::{CounterId, Millis, TicketState};
use crate::report::{
    EventBody, EventRow, Period, RatingRow, Report, ReportInput, Satisfaction, TicketRow, fact_of,
};

/// Why a rating was not kept.
#[derive(Debug, thiserror::Error)]
pub enum RatingError {
    #[error("ticket {number} of {day} is not known")]
    UnknownTicket { day: NaiveDate, number: String },
    #[error(
        "ticket {number} of {day} is not finished ({state}): only a finished visit can be rated"
    )]
    NotFinished {
        day: NaiveDate,
        number: String,
        state: String,
    },
    #[error("ticket {number} of {day} has already been rated: one rating per visit")]
    AlreadyRated { day: NaiveDate, number: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RatingError {
    /// Short stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            RatingError::UnknownTicket { .. } => "unknown_ticket",
            RatingError::NotFinished { .. } => "not_finished",
            RatingError::AlreadyRated { .. } => "already_rated",
            RatingError::Store(_) => "store",
        }
    }
}

fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("day {s:?}: {e}")))
}

fn parse_state(s: &str) -> Result<TicketState, StoreError> {
    Ok(match s {
        "waiting" => TicketState::Waiting,
        "called" => TicketState::Called,
        "serving" => TicketState::Serving,
        "finished" => TicketState::Finished,
        "no_show" => TicketState::NoShow,
        "expired" => TicketState::Expired,
        other => return Err(StoreError::Corrupt(format!("ticket state {other:?}"))),
    })
}

/// Turn one `(seq, day, at, actor, type, body)` row into a report fact, skipping what reports ignore.
fn push_event(
    r: &rusqlite::Row<'_>,
    last_day: &mut Option<(String, NaiveDate)>,
    out: &mut Vec<EventRow>,
) -> Result<(), StoreError> {
    let kind = r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?;
    let text = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
    let b: EventBody<'_> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("event body {text:?}: {e}")))?;
    let Some(fact) = fact_of(kind, &b) else {
        return Ok(());
    };
    let d = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
    let day = match last_day {
        Some((s, day)) if s == d => *day,
        _ => {
            let day = parse_day(d)?;
            *last_day = Some((d.to_string(), day));
            day
        }
    };
    out.push(EventRow {
        seq: r.get::<_, i64>(0)? as u64,
        day,
        at: r.get(2)?,
        actor: r.get(3)?,
        fact,
    });
    Ok(())
}

/// Event types a report reads; everything else in the history is skipped by the index.
const REPORT_EVENT_TYPES: &str = "'ticket_called', 'ticket_finished', 'ticket_no_show', \
     'ticket_transferred', 'counter_state_changed', 'long_wait_began', 'long_wait_ended', \
     'outage_started', 'outage_ended', 'slow_system_started', 'slow_system_ended', \
     'callback_captured'";

impl Store {
    /// The report of `period` as `config` defines targets, hours and names, for a period that is
    /// over (an outage still going on counts to the end of its day).
    pub fn report(&self, period: Period, config: &HallConfig) -> Result<Report, StoreError> {
        let input = self.report_input(period)?;
        Ok(Report::build(period, config, &input))
    }

    /// The report of `period` read at `now`: an outage going on today counts up to `now`.
    pub fn report_as_of(
        &self,
        period: Period,
        config: &HallConfig,
        now: Millis,
    ) -> Result<Report, StoreError> {
        let mut input = self.report_input(period)?;
        input.as_of = Some(now);
        Ok(Report::build(period, config, &input))
    }

    /// The rows a report of `period` is computed from.
    pub fn report_input(&self, period: Period) -> Result<ReportInput, StoreError> {
        let (from, to) = (day_str(period.from), day_str(period.to));
        // Read everything from one snapshot, so that a commit in between cannot mix two states.
        let tx = self.conn.unchecked_transaction()?;

        let mut tickets = Vec::new();
        {
            let mut st = tx.prepare_cached(
                "SELECT day, number, service, first_service, state, counter, issued_at, first_called_at,
                        called_at, started_at, finished_at, transfers, estimated_wait_s
                 FROM tickets WHERE day BETWEEN ?1 AND ?2",
            )?;
            let mut rows = st.query(params![from, to])?;
            // Days repeat for a thousand rows in a row: parse each once.
            let mut last_day: Option<(String, NaiveDate)> = None;
            while let Some(r) = rows.next()? {
                let d: String = r.get(0)?;
                let day = match &last_day {
                    Some((s, day)) if *s == d => *day,
                    _ => {
                        let day = parse_day(&d)?;
                        last_day = Some((d, day));
                        day
                    }
                };
                let state: String = r.get(4)?;
                tickets.push(TicketRow {
                    day,
                    number: r.get(1)?,
                    service: r.get(2)?,
                    first_service: r.get(3)?,
                    state: parse_state(&state)?,
                    counter: r.get(5)?,
                    issued_at: r.get(6)?,
                    first_called_at: r.get(7)?,
                    called_at: r.get(8)?,
                    started_at: r.get(9)?,
                    finished_at: r.get(10)?,
                    transfers: r.get(11)?,
                    estimated_wait_s: r.get(12)?,
                });
            }
        }

        let mut events = Vec::new();
        {
            // The body is parsed here rather than with json_extract: one serde pass over borrowed
            // text costs less than SQLite re-reading the JSON for every field.
            let mut st = tx.prepare_cached(&format!(
                "SELECT seq, day, at, actor, type, body FROM events
                 WHERE day BETWEEN ?1 AND ?2 AND type IN ({REPORT_EVENT_TYPES})"
            ))?;
            let mut rows = st.query(params![from, to])?;
            let mut last_day: Option<(String, NaiveDate)> = None;
            while let Some(r) = rows.next()? {
                push_event(r, &mut last_day, &mut events)?;
            }
            // Resolutions of callbacks captured in the period may come any day after it.
            let mut st = tx.prepare_cached(
                "SELECT seq, day, at, actor, type, body FROM events
                 WHERE day >= ?1 AND type = 'callback_updated'",
            )?;
            let mut rows = st.query(params![from])?;
            while let Some(r) = rows.next()? {
                push_event(r, &mut last_day, &mut events)?;
            }
            events.sort_unstable_by_key(|e| e.seq);
        }

        let mut ratings = Vec::new();
        {
            let mut st = tx.prepare_cached(
                "SELECT day, number, counter, score, at FROM ratings WHERE day BETWEEN ?1 AND ?2",
            )?;
            let mut rows = st.query(params![from, to])?;
            while let Some(r) = rows.next()? {
                let d: String = r.get(0)?;
                let score: u8 = r.get(3)?;
                ratings.push(RatingRow {
                    day: parse_day(&d)?,
                    number: r.get(1)?,
                    counter: r.get(2)?,
                    score: Satisfaction::from_score(score)
                        .ok_or_else(|| StoreError::Corrupt(format!("rating score {score}")))?,
                    at: r.get(4)?,
                });
            }
        }
        tx.finish()?;
        Ok(ReportInput {
            tickets,
            events,
            ratings,
            as_of: None,
        })
    }

    /// Keep the customer's rating of a finished ticket. `counter` is where it was given (the
    /// ticket's last counter when `None`). Refused: an unknown or unfinished ticket, or a second
    /// rating of the same ticket. It writes: in the hub, call it on the writer's store
    /// (`HallWriter::admin`), not on a read-only connection.
    pub fn add_rating(
        &self,
        day: NaiveDate,
        number: &str,
        counter: Option<CounterId>,
        score: Satisfaction,
        at: Millis,
    ) -> Result<(), RatingError> {
        let d = day_str(day);
        // Immediate: a deferred transaction that reads and then writes fails at once (busy, no
        // wait) when another connection, such as the shipping task's cursor, wrote in between.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(StoreError::from)?;
        let ticket: Option<(String, Option<CounterId>)> = tx
            .query_row(
                "SELECT state, counter FROM tickets WHERE day = ?1 AND number = ?2",
                params![d, number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(StoreError::from)?;
        let Some((state, last_counter)) = ticket else {
            return Err(RatingError::UnknownTicket {
                day,
                number: number.to_string(),
            });
        };
        if state != "finished" {
            return Err(RatingError::NotFinished {
                day,
                number: number.to_string(),
                state,
            });
        }
        let inserted = tx
            .execute(
                // Ratings are never deleted, so the next `ship_seq` is one past the highest, and
                // the immediate transaction makes it this rating's alone.
                "INSERT INTO ratings (day, number, counter, score, at, ship_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(ship_seq), 0) + 1 FROM ratings))
                 ON CONFLICT (day, number) DO NOTHING",
                params![d, number, counter.or(last_counter), score.score(), at],
            )
            .map_err(StoreError::from)?;
        if inserted == 0 {
            return Err(RatingError::AlreadyRated {
                day,
                number: number.to_string(),
            });
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(())
    }

    /// The rating of one ticket, if given.
    pub fn rating(&self, day: NaiveDate, number: &str) -> Result<Option<Satisfaction>, StoreError> {
        let score: Option<u8> = self
            .conn
            .query_row(
                "SELECT score FROM ratings WHERE day = ?1 AND number = ?2",
                params![day_str(day), number],
                |r| r.get(0),
            )
            .optional()?;
        Ok(score.and_then(Satisfaction::from_score))
    }
}

#[cfg(test)]
mod tests;
