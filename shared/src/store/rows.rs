//! Row mapping: engine values to and from SQLite rows. Private to the store.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{StoreError, touched_ticket};
use crate::engine::{CounterRuntime, Event, EventKind, Hall};
use crate::estimate::{Disruption, DisruptionKind};
use crate::hall::{
    CallEnd, Callback, CallbackStatus, CounterId, CounterState, Millis, Outage, Ticket, TicketState,
};

pub(super) fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| StoreError::Corrupt(format!("{s:?}: {e}")))
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

const TICKET_COLUMNS: &str = "day, number, service, seq, priority, issued_at, state, counter, for_counter, called_at, \
     started_at, finished_at, recalls, transfers, issued_by, estimated_wait_s, apology";

fn ticket_from_row(r: &Row<'_>) -> rusqlite::Result<(Ticket, String, String)> {
    let day: String = r.get(0)?;
    let state: String = r.get(6)?;
    Ok((
        Ticket {
            number: r.get(1)?,
            service: r.get(2)?,
            day: NaiveDate::MIN,
            seq: r.get(3)?,
            priority: r.get::<_, i64>(4)? != 0,
            issued_at: r.get(5)?,
            state: TicketState::Waiting,
            counter: r.get(7)?,
            for_counter: r.get(8)?,
            called_at: r.get(9)?,
            started_at: r.get(10)?,
            finished_at: r.get(11)?,
            recalls: r.get(12)?,
            transfers: r.get(13)?,
            issued_by: r.get(14)?,
            estimated_wait_s: r.get(15)?,
            apology: r.get::<_, i64>(16)? != 0,
        },
        day,
        state,
    ))
}

pub(super) fn tickets_of_day(conn: &Connection, day: NaiveDate) -> Result<Vec<Ticket>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE day = ?1 ORDER BY issued_at, number"
    ))?;
    let rows = st.query_map([day_str(day)], ticket_from_row)?;
    let mut out = Vec::new();
    for r in rows {
        let (mut t, d, state) = r?;
        t.day = NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(corrupt)?;
        t.state = enum_from(&state)?;
        out.push(t);
    }
    Ok(out)
}

fn upsert_ticket(conn: &Connection, t: &Ticket) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "INSERT INTO tickets ({TICKET_COLUMNS}, first_called_at, first_service)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?10, ?3)
         ON CONFLICT (day, number) DO UPDATE SET service = excluded.service, state = excluded.state,
           counter = excluded.counter, for_counter = excluded.for_counter, called_at = excluded.called_at,
           started_at = excluded.started_at, finished_at = excluded.finished_at, recalls = excluded.recalls,
           transfers = excluded.transfers, apology = excluded.apology,
           first_called_at = COALESCE(tickets.first_called_at, excluded.called_at)"
    ))?;
    st.execute(params![
        day_str(t.day),
        t.number,
        t.service,
        t.seq,
        t.priority,
        t.issued_at,
        enum_str(&t.state),
        t.counter,
        t.for_counter,
        t.called_at,
        t.started_at,
        t.finished_at,
        t.recalls,
        t.transfers,
        t.issued_by,
        t.estimated_wait_s,
        t.apology,
    ])?;
    Ok(())
}

pub(super) fn insert_event(conn: &Connection, e: &Event, day: NaiveDate) -> Result<(), StoreError> {
    let body = serde_json::to_string(&e.kind).map_err(corrupt)?;
    let kind = type_tag(&body).unwrap_or_default().to_string();
    let mut st = conn.prepare_cached("INSERT INTO events (seq, at, day, actor, counter, type, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    st.execute(params![
        e.seq as i64,
        e.at,
        day_str(day),
        e.actor,
        e.counter,
        kind,
        body
    ])?;
    Ok(())
}

/// The `type` of a serialised event: serde writes an internally tagged enum's tag first, so it is
/// read off the front of the body instead of serialising the event a second time.
pub(super) fn type_tag(body: &str) -> Option<&str> {
    body.strip_prefix("{\"type\":\"")?.split('"').next()
}

/// Bring the materialised rows in line with `hall` for what `e` touched.
pub(super) fn write_effects(conn: &Connection, e: &Event, hall: &Hall) -> Result<(), StoreError> {
    if let Some(number) = touched_ticket(&e.kind) {
        match (&e.kind, hall.tickets.get(number)) {
            (_, Some(t)) => upsert_ticket(conn, t)?,
            (EventKind::TicketIssued { ticket }, None) => upsert_ticket(conn, ticket)?,
            _ => {}
        }
    }
    let counter_row = |id: CounterId| -> Result<(), StoreError> {
        let rt = hall.counters.get(&id).cloned().unwrap_or_default();
        conn.prepare_cached(
            "INSERT INTO counters (id, state, current, last_service_secs) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, current = excluded.current, last_service_secs = excluded.last_service_secs",
        )?
        .execute(params![id, enum_str(&rt.state), rt.current, rt.last_service_secs])?;
        Ok(())
    };
    match &e.kind {
        EventKind::TicketCalled { counter, .. }
        | EventKind::TicketFinished { counter, .. }
        | EventKind::TicketNoShow { counter, .. }
        | EventKind::TicketTransferred {
            from_counter: counter,
            ..
        } => counter_row(*counter)?,
        EventKind::CounterStateChanged {
            counter, released, ..
        } => {
            counter_row(*counter)?;
            for n in released {
                if let Some(t) = hall.tickets.get(n) {
                    upsert_ticket(conn, t)?;
                }
            }
        }
        EventKind::DayClosed { day, expired } => {
            let mut st = conn.prepare_cached(
                "UPDATE tickets SET state = 'expired' WHERE day = ?1 AND number = ?2",
            )?;
            for n in expired {
                st.execute(params![day_str(*day), n])?;
            }
        }
        EventKind::DayStarted { day } => {
            conn.execute("INSERT INTO meta (key, value) VALUES ('day', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [day_str(*day)])?;
            conn.execute("DELETE FROM counters", [])?;
            conn.execute("DELETE FROM long_wait", [])?;
        }
        EventKind::OutageStarted { .. }
        | EventKind::OutageBecameLong { .. }
        | EventKind::OutageEnded { .. } => {
            conn.execute("DELETE FROM outage", [])?;
            if let Some(o) = &hall.outage {
                conn.execute(
                    "INSERT INTO outage (id, body, long) VALUES (1, ?1, ?2)",
                    params![serde_json::to_string(o).map_err(corrupt)?, hall.outage_long],
                )?;
            }
        }
        EventKind::LongWaitBegan { service } => {
            conn.execute(
                "INSERT OR IGNORE INTO long_wait (service) VALUES (?1)",
                [service],
            )?;
        }
        EventKind::LongWaitEnded { service } => {
            conn.execute("DELETE FROM long_wait WHERE service = ?1", [service])?;
        }
        EventKind::ConfigReplaced { config } => {
            conn.execute(
                "INSERT INTO config (id, toml, updated_at, updated_by) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![config.to_toml(), e.at, e.actor],
            )?;
            conn.execute("DELETE FROM counters", [])?;
            for id in hall.counters.keys() {
                counter_row(*id)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(super) fn counters(conn: &Connection) -> Result<Vec<(CounterId, CounterRuntime)>, StoreError> {
    let mut st = conn.prepare("SELECT id, state, current, last_service_secs FROM counters")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, CounterId>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (id, state, current, last_service_secs) = r?;
        let state: CounterState = enum_from(&state)?;
        out.push((
            id,
            CounterRuntime {
                state,
                current,
                last_service_secs,
            },
        ));
    }
    Ok(out)
}

pub(super) fn outage(conn: &Connection) -> Result<Option<(Outage, bool)>, StoreError> {
    let row: Option<(String, bool)> = conn
        .query_row("SELECT body, long FROM outage WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    row.map(|(b, long)| Ok((serde_json::from_str(&b).map_err(corrupt)?, long)))
        .transpose()
}

pub(super) fn long_wait(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare("SELECT service FROM long_wait")?;
    let rows = st.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A ticket as the estimates' history needs it.
pub(super) struct HistoryTicket {
    pub service: String,
    pub day: NaiveDate,
    pub issued_at: i64,
    /// When it was finished, and the seconds it took at the counter, counted as the engine
    /// counts them when a ticket finishes.
    pub finished: Option<(i64, u32)>,
    /// How its call ended, as [`Ticket::call_end`] says.
    pub call_end: Option<CallEnd>,
}

/// The tickets of the business days from `from` up to `to` (excluded), in one pass over the
/// table: the arrivals and the finished services of the estimates' history.
pub(super) fn history_tickets(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<HistoryTicket>, StoreError> {
    let mut st = conn.prepare(
        "SELECT service, day, issued_at,
                CASE WHEN state = 'finished' THEN finished_at END,
                (finished_at - COALESCE(started_at, called_at, finished_at)) / 1000,
                state, called_at, finished_at
         FROM tickets WHERE day >= ?1 AND day < ?2",
    )?;
    let rows = st.query_map([day_str(from), day_str(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<i64>>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (service, day, issued_at, finished_at, secs, state, called_at, ended_at) = r?;
        let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(corrupt)?;
        let finished = finished_at.map(|at| {
            let secs = secs.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
            (at, secs)
        });
        let call_end = CallEnd::of(enum_from(&state)?, called_at, ended_at);
        out.push(HistoryTicket {
            service,
            day,
            issued_at,
            finished,
            call_end,
        });
    }
    Ok(out)
}

/// The events of `types` (a quoted SQL list) of the business days from `from` up to `to`
/// (excluded), with their day, in the order they happened.
fn events_of_days(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    types: &str,
) -> Result<Vec<(NaiveDate, Event)>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT day, seq, at, actor, counter, body FROM events
         WHERE day >= ?1 AND day < ?2 AND type IN ({types}) ORDER BY seq"
    ))?;
    let rows = st.query_map([day_str(from), day_str(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (day, row) = r?;
        let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(corrupt)?;
        out.push((day, to_event(row)?));
    }
    Ok(out)
}

/// The counters' state changes of the business days from `from` up to `to` (excluded), in the
/// order they happened: (day, at, counter, open after it).
pub(super) fn counter_changes(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64, CounterId, bool)>, StoreError> {
    let mut out = Vec::new();
    for (day, e) in events_of_days(conn, from, to, "'counter_state_changed'")? {
        if let EventKind::CounterStateChanged { counter, state, .. } = e.kind {
            out.push((day, e.at, counter, state == CounterState::Open));
        }
    }
    Ok(out)
}

/// Each business day's slow business systems and outages from `from` up to `to` (excluded), in
/// the order they began, as the live hall keeps them: an outage that ends on a day it did not
/// begin on is that day's from its start.
pub(super) fn disruptions(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, Vec<Disruption>>, StoreError> {
    let types = "'slow_system_started', 'slow_system_ended', 'outage_started', 'outage_ended'";
    let mut out: BTreeMap<NaiveDate, Vec<Disruption>> = BTreeMap::new();
    for (day, e) in events_of_days(conn, from, to, types)? {
        let list = out.entry(day).or_default();
        let (kind, start) = match &e.kind {
            EventKind::SlowSystemStarted => (DisruptionKind::Slow, Some(e.at)),
            EventKind::OutageStarted { outage } => {
                (DisruptionKind::Outage, Some(outage.started_at))
            }
            EventKind::SlowSystemEnded => (DisruptionKind::Slow, None),
            EventKind::OutageEnded { .. } => (DisruptionKind::Outage, None),
            _ => continue,
        };
        if let Some(start) = start {
            list.push(Disruption {
                kind,
                start,
                end: None,
            });
            continue;
        }
        match list.iter_mut().rev().find(|d| d.kind == kind) {
            Some(d) if d.end.is_none() => d.end = Some(e.at),
            _ => {
                // An outage begun on an earlier day; its id is its start.
                if let EventKind::OutageEnded { id } = e.kind {
                    let earlier = Disruption {
                        kind,
                        start: id,
                        end: Some(e.at),
                    };
                    list.insert(0, earlier);
                }
            }
        }
    }
    Ok(out)
}

/// The business system's slow mark going on on business day `day` (`YYYY-MM-DD`): when it began
/// and who made it. A mark lasts until it is ended or the day ends, so the day's last start or end
/// says.
pub(super) fn slow_mark(
    conn: &Connection,
    day: &str,
) -> Result<Option<(Millis, String)>, StoreError> {
    let last = conn
        .query_row(
            "SELECT type, at, actor FROM events WHERE day = ?1
               AND type IN ('slow_system_started', 'slow_system_ended')
             ORDER BY seq DESC LIMIT 1",
            [day],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Millis>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    Ok(last
        .filter(|(kind, ..)| kind == "slow_system_started")
        .map(|(_, at, actor)| (at, actor)))
}

/// The instant of the latest event, 0 when there is none.
pub(super) fn last_event_at(conn: &Connection) -> Result<i64, StoreError> {
    let at: Option<i64> = conn.query_row("SELECT max(at) FROM events", [], |r| r.get(0))?;
    Ok(at.unwrap_or(0))
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, i64, String, Option<CounterId>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_event(
    (seq, at, actor, counter, body): (i64, i64, String, Option<CounterId>, String),
) -> Result<Event, StoreError> {
    Ok(Event {
        seq: seq as u64,
        at,
        actor,
        counter,
        kind: serde_json::from_str(&body).map_err(corrupt)?,
    })
}

/// The last `n` calls and recalls of `day`, oldest first.
pub(super) fn recent_call_events(
    conn: &Connection,
    day: NaiveDate,
    n: usize,
) -> Result<Vec<Event>, StoreError> {
    let mut st = conn.prepare(
        "SELECT seq, at, actor, counter, body FROM (
            SELECT * FROM events WHERE day = ?1 AND type IN ('ticket_called', 'ticket_recalled') ORDER BY seq DESC LIMIT ?2
         ) ORDER BY seq",
    )?;
    let rows = st.query_map(params![day_str(day), n as i64], event_from_row)?;
    rows.map(|r| to_event(r?)).collect()
}

pub(super) fn events_of_day(conn: &Connection, day: NaiveDate) -> Result<Vec<Event>, StoreError> {
    let mut st = conn
        .prepare("SELECT seq, at, actor, counter, body FROM events WHERE day = ?1 ORDER BY seq")?;
    let rows = st.query_map([day_str(day)], event_from_row)?;
    rows.map(|r| to_event(r?)).collect()
}

/// The highest sequence number ever given (AUTOINCREMENT remembers it even if history was purged).
pub(super) fn last_seq(conn: &Connection) -> Result<u64, StoreError> {
    let max: Option<i64> = conn.query_row("SELECT max(seq) FROM events", [], |r| r.get(0))?;
    let ever: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(max.unwrap_or(0).max(ever.unwrap_or(0)) as u64)
}

/// Whether any ticket was ever issued (on any day still kept).
pub(super) fn any_ticket(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM tickets)", [], |r| r.get(0))?)
}

pub(super) fn last_callback_id(conn: &Connection) -> Result<i64, StoreError> {
    let max: Option<i64> = conn.query_row("SELECT max(id) FROM callbacks", [], |r| r.get(0))?;
    let ever: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'callbacks'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(max.unwrap_or(0).max(ever.unwrap_or(0)))
}

const CALLBACK_COLUMNS: &str = "id, phone, address, reason, origin, ticket, outage_id, status, owner, notes, captured_at, captured_by, updated_at, resolved_at";

pub(super) fn upsert_callback(conn: &Connection, cb: &Callback) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "INSERT INTO callbacks ({CALLBACK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, owner = excluded.owner, notes = excluded.notes,
           updated_at = excluded.updated_at, resolved_at = excluded.resolved_at"
    ))?;
    st.execute(params![
        cb.id,
        cb.phone.as_str(),
        cb.address,
        cb.reason,
        enum_str(&cb.origin),
        cb.ticket,
        cb.outage_id,
        enum_str(&cb.status),
        cb.owner,
        serde_json::to_string(&cb.notes).map_err(corrupt)?,
        cb.captured_at,
        cb.captured_by,
        cb.updated_at,
        cb.resolved_at,
    ])?;
    Ok(())
}

type CallbackRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    String,
    i64,
    String,
    i64,
    Option<i64>,
);

fn callback_from_row(r: &Row<'_>) -> rusqlite::Result<CallbackRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

fn to_callback(row: CallbackRow) -> Result<Callback, StoreError> {
    let (
        id,
        phone,
        address,
        reason,
        origin,
        ticket,
        outage_id,
        status,
        owner,
        notes,
        captured_at,
        captured_by,
        updated_at,
        resolved_at,
    ) = row;
    Ok(Callback {
        id,
        phone: crate::hall::Phone::parse(&phone)
            .map_err(|e| StoreError::Corrupt(format!("callback {id}: {e}")))?,
        address,
        reason,
        origin: enum_from(&origin)?,
        ticket,
        outage_id,
        status: enum_from(&status)?,
        owner,
        notes: serde_json::from_str(&notes).map_err(corrupt)?,
        captured_at,
        captured_by,
        updated_at,
        resolved_at,
    })
}

pub(super) fn callback(conn: &Connection, id: i64) -> Result<Option<Callback>, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = ?1"),
            [id],
            callback_from_row,
        )
        .optional()?;
    row.map(to_callback).transpose()
}

pub(super) fn callbacks(
    conn: &Connection,
    status: Option<CallbackStatus>,
    limit: u32,
) -> Result<Vec<Callback>, StoreError> {
    let filter = status.map(|s| enum_str(&s));
    let mut st = conn.prepare(&format!(
        "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE (?1 IS NULL OR status = ?1)
         ORDER BY status = 'resolved', CASE WHEN status = 'resolved' THEN -captured_at ELSE captured_at END
         LIMIT ?2"
    ))?;
    let rows = st.query_map(params![filter, limit], callback_from_row)?;
    rows.map(|r| to_callback(r?)).collect()
}

pub(super) fn callbacks_of_outage(
    conn: &Connection,
    outage_id: i64,
) -> Result<Vec<Callback>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE outage_id = ?1 ORDER BY captured_at"
    ))?;
    let rows = st.query_map([outage_id], callback_from_row)?;
    rows.map(|r| to_callback(r?)).collect()
}
