//! What a hub ships to the operator's central service (docs/central.md): the committed events
//! after a cursor with the ticket rows they touched, the ratings given since the last batch, the
//! hall's status now, and the two cursors kept in `meta`.
//!
//! Batches are read on a read-only connection, so shipping never holds the writer's lock; the
//! cursors are written beside the writer on a short connection of their own.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use super::{Store, StoreError, upsert_meta};
use crate::hall::Millis;

/// `meta` key of the highest `seq` central holds every event up to.
pub const EVENTS_CURSOR: &str = "central_cursor";
/// The version of central's published texts the hall runs (docs/central.md, "Published texts").
pub const PUBLISHED_VERSION: &str = "published_version";
/// `meta` key of the `ship_seq` of the last rating central accepted.
pub const RATINGS_CURSOR: &str = "central_ratings_seq";

/// Ratings are few (one per finished ticket at most); a batch carries at most this many.
pub const RATINGS_PER_BATCH: usize = 1000;

/// Where the ratings already shipped end: the `ship_seq` of the last one central has. Ratings are
/// numbered in the order they were committed, not by the time they carry: a rating given while
/// the clock read earlier than one already shipped must still be shipped.
pub type RatingMark = u64;

/// One event as central takes it: the stored event with the business day it was filed under.
#[derive(Clone, Debug, Serialize)]
pub struct ShipEvent {
    pub seq: u64,
    pub day: String,
    pub at: Millis,
    pub actor: String,
    pub counter: Option<u32>,
    /// The stored body (`EventKind`), kept as JSON so that whatever the hub stored is shipped.
    pub kind: Value,
}

/// The current `tickets` row of a ticket some shipped event touched.
#[derive(Clone, Debug, Serialize)]
pub struct ShipTicket {
    pub day: String,
    pub number: String,
    pub service: String,
    pub first_service: String,
    pub state: String,
    pub counter: Option<u32>,
    pub issued_at: Millis,
    pub first_called_at: Option<Millis>,
    pub called_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub transfers: u32,
    pub estimated_wait_s: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShipRating {
    /// Not part of the protocol: the ratings cursor once central has this one.
    #[serde(skip)]
    pub ship_seq: u64,
    pub day: String,
    pub number: String,
    pub counter: Option<u32>,
    pub score: u8,
    pub at: Millis,
}

/// The hall right now, for central's "live" page.
#[derive(Clone, Debug, Serialize)]
pub struct ShipStatus {
    pub at: Millis,
    pub day: Option<String>,
    pub waiting: u32,
    pub long_waits: Vec<String>,
    pub outage: Option<Value>,
    /// Since when the business system is marked slow today (by staff or the outage detector).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_since: Option<Millis>,
    pub callbacks_open: u32,
    pub config_version: Option<String>,
}

/// One batch, read in one read transaction so that its parts agree with each other.
#[derive(Clone, Debug)]
pub struct ShipBatch {
    pub events: Vec<ShipEvent>,
    pub tickets: Vec<ShipTicket>,
    pub ratings: Vec<ShipRating>,
    pub status: ShipStatus,
    /// The highest `seq` committed when the batch was read (how far behind shipping is).
    pub committed: u64,
}

impl ShipBatch {
    /// The last rating in the batch: the ratings cursor once central has it.
    pub fn ratings_mark(&self) -> Option<RatingMark> {
        self.ratings.last().map(|r| r.ship_seq)
    }
}

impl Store {
    /// (events cursor, ratings cursor) as last stored; (0, None) before the first shipment.
    pub fn central_cursors(&self) -> Result<(u64, Option<RatingMark>), StoreError> {
        let events = match self.meta(EVENTS_CURSOR)? {
            Some(v) => v
                .parse::<u64>()
                .map_err(|e| StoreError::Corrupt(format!("meta.{EVENTS_CURSOR} {v:?}: {e}")))?,
            None => 0,
        };
        let ratings =
            match self.meta(RATINGS_CURSOR)? {
                Some(v) => Some(v.parse::<RatingMark>().map_err(|e| {
                    StoreError::Corrupt(format!("meta.{RATINGS_CURSOR} {v:?}: {e}"))
                })?),
                None => None,
            };
        Ok((events, ratings))
    }

    /// The batch after the cursors: at most `limit` events with `seq > after`, in order, the
    /// tickets they touched, the ratings after `ratings_after` and the status at `now`.
    pub fn ship_batch(
        &self,
        after: u64,
        ratings_after: Option<RatingMark>,
        limit: usize,
        now: Millis,
    ) -> Result<ShipBatch, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let events = events_after(&tx, after, limit)?;
        let tickets = touched_tickets(&tx, &events)?;
        let ratings = ratings_after_mark(&tx, ratings_after)?;
        let status = status(&tx, now)?;
        let committed = super::rows::last_seq(&tx)?;
        tx.finish()?;
        Ok(ShipBatch {
            events,
            tickets,
            ratings,
            status,
            committed,
        })
    }

    /// The version of central's published texts this hall last applied, if any.
    pub fn published_version(&self) -> Result<Option<u64>, StoreError> {
        self.meta(PUBLISHED_VERSION)?
            .map(|v| {
                v.parse::<u64>().map_err(|e| {
                    StoreError::Corrupt(format!("meta.{PUBLISHED_VERSION} {v:?}: {e}"))
                })
            })
            .transpose()
    }

    /// Record the published version applied, beside a running writer. Written after the
    /// configuration's own commit: a crash between the two only applies the same document again.
    pub fn set_published_version_beside(path: &Path, version: u64) -> Result<(), StoreError> {
        let conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        upsert_meta(&conn, PUBLISHED_VERSION, &version.to_string())?;
        Ok(())
    }

    /// Store the cursors beside a running writer, on a short connection of its own. The commit
    /// is not synced (`synchronous=NORMAL`): a cursor lost in a power cut only resends events
    /// central stores once anyway, while a sync here would hold the write lock the ticket
    /// commits wait for.
    pub fn set_central_cursors_beside(
        path: &Path,
        events: u64,
        ratings: Option<RatingMark>,
    ) -> Result<(), StoreError> {
        let conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let tx = conn.unchecked_transaction()?;
        upsert_meta(&tx, EVENTS_CURSOR, &events.to_string())?;
        if let Some(r) = ratings {
            upsert_meta(&tx, RATINGS_CURSOR, &r.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn events_after(conn: &Connection, after: u64, limit: usize) -> Result<Vec<ShipEvent>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT seq, day, at, actor, counter, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = st.query_map(params![after as i64, limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Millis>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<u32>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (seq, day, at, actor, counter, body) = r?;
        let mut kind: Value = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
        blank_phone(&mut kind);
        out.push(ShipEvent {
            seq: seq as u64,
            day,
            at,
            actor,
            counter,
            kind,
        });
    }
    Ok(out)
}

/// Central keeps no phone number, not even the masked one the event carries.
fn blank_phone(kind: &mut Value) {
    if let Some(o) = kind.as_object_mut()
        && o.get("type").and_then(Value::as_str) == Some("callback_captured")
        && o.contains_key("phone_masked")
    {
        o.insert("phone_masked".into(), Value::String(String::new()));
    }
}

/// (day, number) of every ticket an event touches, read off its body.
fn tickets_of_event(e: &ShipEvent, into: &mut BTreeSet<(String, String)>) {
    let k = &e.kind;
    let text = |v: &Value| v.as_str().map(str::to_string);
    let day_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match k.get("type").and_then(Value::as_str).unwrap_or("") {
        "ticket_issued" => {
            let t = &k["ticket"];
            if let Some(n) = t.get("number").and_then(text) {
                into.insert((day_of(t.get("day")).unwrap_or_else(|| e.day.clone()), n));
            }
        }
        "day_closed" => {
            let day = day_of(k.get("day")).unwrap_or_else(|| e.day.clone());
            for n in k["expired"].as_array().into_iter().flatten() {
                if let Some(n) = text(n) {
                    into.insert((day.clone(), n));
                }
            }
        }
        "counter_state_changed" => {
            for n in k["released"].as_array().into_iter().flatten() {
                if let Some(n) = text(n) {
                    into.insert((e.day.clone(), n));
                }
            }
        }
        _ => {
            if let Some(n) = k.get("number").and_then(text) {
                into.insert((e.day.clone(), n));
            }
        }
    }
}

fn touched_tickets(conn: &Connection, events: &[ShipEvent]) -> Result<Vec<ShipTicket>, StoreError> {
    let mut keys = BTreeSet::new();
    for e in events {
        tickets_of_event(e, &mut keys);
    }
    let mut st = conn.prepare_cached(
        "SELECT day, number, service, first_service, state, counter, issued_at, first_called_at,
                called_at, started_at, finished_at, transfers, estimated_wait_s
         FROM tickets WHERE day = ?1 AND number = ?2",
    )?;
    let mut out = Vec::with_capacity(keys.len());
    for (day, number) in &keys {
        let row = st
            .query_row(params![day, number], |r| {
                Ok(ShipTicket {
                    day: r.get(0)?,
                    number: r.get(1)?,
                    service: r.get(2)?,
                    first_service: r.get(3)?,
                    state: r.get(4)?,
                    counter: r.get(5)?,
                    issued_at: r.get(6)?,
                    first_called_at: r.get(7)?,
                    called_at: r.get(8)?,
                    started_at: r.get(9)?,
                    finished_at: r.get(10)?,
                    transfers: r.get(11)?,
                    estimated_wait_s: r.get(12)?,
                })
            })
            .optional()?;
        // A ticket purged by retention since its event was written has no row left to send.
        out.extend(row);
    }
    out.sort_by(|a, b| (a.issued_at, &a.day, &a.number).cmp(&(b.issued_at, &b.day, &b.number)));
    Ok(out)
}

fn ratings_after_mark(
    conn: &Connection,
    after: Option<RatingMark>,
) -> Result<Vec<ShipRating>, StoreError> {
    let after = after.unwrap_or(0) as i64;
    let mut st = conn.prepare_cached(
        "SELECT ship_seq, day, number, counter, score, at FROM ratings
         WHERE ship_seq > ?1 ORDER BY ship_seq LIMIT ?2",
    )?;
    let rows = st.query_map(params![after, RATINGS_PER_BATCH as i64], |r| {
        Ok(ShipRating {
            ship_seq: r.get::<_, i64>(0)? as u64,
            day: r.get(1)?,
            number: r.get(2)?,
            counter: r.get(3)?,
            score: r.get(4)?,
            at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn status(conn: &Connection, now: Millis) -> Result<ShipStatus, StoreError> {
    let day: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'day'", [], |r| r.get(0))
        .optional()?;
    let waiting: u32 = match &day {
        Some(d) => conn.query_row(
            "SELECT count(*) FROM tickets WHERE day = ?1 AND state = 'waiting'",
            [d],
            |r| r.get(0),
        )?,
        None => 0,
    };
    let slow_since = match &day {
        Some(d) => super::rows::slow_mark(conn, d)?.map(|(since, _)| since),
        None => None,
    };
    let long_waits = {
        let mut st = conn.prepare_cached("SELECT service FROM long_wait ORDER BY service")?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<Result<Vec<String>, _>>()?
    };
    let outage: Option<(String, bool)> = conn
        .query_row("SELECT body, long FROM outage WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let outage = match outage {
        Some((body, long)) => {
            let mut v: Value = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("outage {body:?}: {e}")))?;
            if let Some(o) = v.as_object_mut() {
                o.insert("long".into(), Value::Bool(long));
            }
            Some(v)
        }
        None => None,
    };
    let config_version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [PUBLISHED_VERSION],
            |r| r.get(0),
        )
        .optional()?;
    let callbacks_open: u32 = conn.query_row(
        "SELECT count(*) FROM callbacks WHERE status != 'resolved'",
        [],
        |r| r.get(0),
    )?;
    Ok(ShipStatus {
        at: now,
        day,
        waiting,
        long_waits,
        outage,
        slow_since,
        callbacks_open,
        config_version,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::*;
    use crate::config::HallConfig;
    use crate::engine::{Actor, Command};
    use crate::hall::CounterState;
    use crate::protocol::Role;
    use crate::report::Satisfaction;
    use crate::store::writer::{HallWriter, WriterOptions};

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    /// A hall that opened a counter, issued two tickets, served one, was marked slow and took a
    /// callback.
    fn hall_with_history(dir: &Path) -> std::path::PathBuf {
        let path = super::super::db_path(dir);
        let mut store = Store::open(&path).unwrap();
        let hall = store.load_hall(&HallConfig::demo(), day()).unwrap();
        // 09:00 in Shanghai.
        let at = day()
            .and_hms_opt(1, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let writer = HallWriter::start(
            store,
            hall,
            Arc::new(move || at),
            WriterOptions {
                tick_every: std::time::Duration::from_secs(3600),
                max_batch: 64,
            },
            |_| {},
        );
        let clerk = Actor::new("clerk1", Role::Staff, Some(1));
        let kiosk = Actor::new("kiosk", Role::Kiosk, None);
        let issue = || Command::IssueTicket {
            service: "pay".into(),
            priority: false,
        };
        for (cmd, who) in [
            (
                Command::SetCounter {
                    counter: 1,
                    state: CounterState::Open,
                },
                &clerk,
            ),
            (issue(), &kiosk),
            (issue(), &kiosk),
            (Command::CallNext { counter: 1 }, &clerk),
            (Command::Finish { counter: 1 }, &clerk),
            (Command::SetSlowSystem { slow: true }, &clerk),
            (
                Command::CaptureCallback {
                    phone: "13812345678".into(),
                    consent: true,
                    ticket: None,
                    address: None,
                    reason: None,
                },
                &clerk,
            ),
        ] {
            writer.execute(cmd, who.clone()).unwrap();
        }
        drop(writer);
        path
    }

    #[test]
    fn a_batch_carries_events_in_order_their_tickets_and_no_phone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_reader(&hall_with_history(dir.path())).unwrap();
        let all = store.ship_batch(0, None, 500, 1).unwrap();
        let seqs: Vec<u64> = all.events.iter().map(|e| e.seq).collect();
        assert!(seqs.len() >= 6, "{seqs:?}");
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        assert_eq!(all.committed, *seqs.last().unwrap());
        let captured = all
            .events
            .iter()
            .find(|e| e.kind["type"] == "callback_captured")
            .expect("a callback event");
        assert_eq!(captured.kind["phone_masked"], "");
        assert_eq!(all.tickets.len(), 2, "{:?}", all.tickets);
        assert!(all.tickets.iter().any(|t| t.state == "finished"));
        assert!(all.tickets.iter().any(|t| t.state == "waiting"));
        assert_eq!(all.status.waiting, 1);
        assert_eq!(all.status.callbacks_open, 1);
        assert_eq!(all.status.day.as_deref(), Some("2026-11-25"));
        assert_eq!(
            all.status.slow_since,
            Some(
                day()
                    .and_hms_opt(1, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_millis()
            ),
            "marked slow at 09:00"
        );

        // A limit cuts the batch; the next one starts after the cursor.
        let first = store.ship_batch(0, None, 2, 1).unwrap();
        assert_eq!(first.events.len(), 2);
        let rest = store.ship_batch(2, None, 500, 1).unwrap();
        assert_eq!(rest.events.first().unwrap().seq, 3);
        assert_eq!(first.events.len() + rest.events.len(), all.events.len());
    }

    #[test]
    fn cursors_are_kept_beside_the_writer_and_ratings_come_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = hall_with_history(dir.path());
        let store = Store::open(&path).unwrap();
        assert_eq!(store.central_cursors().unwrap(), (0, None));
        let finished = store
            .tickets_of_day(day())
            .unwrap()
            .into_iter()
            .find(|t| t.finished_at.is_some())
            .unwrap();
        store
            .add_rating(
                day(),
                &finished.number,
                None,
                Satisfaction::from_score(5).unwrap(),
                42,
            )
            .unwrap();
        let b = store.ship_batch(0, None, 500, 1).unwrap();
        assert_eq!(b.ratings.len(), 1);
        assert_eq!(b.ratings[0].score, 5);
        let mark = b.ratings_mark().unwrap();
        Store::set_central_cursors_beside(&path, 3, Some(mark)).unwrap();
        let reader = Store::open_reader(&path).unwrap();
        assert_eq!(reader.central_cursors().unwrap(), (3, Some(mark)));
        let next = reader.ship_batch(3, Some(mark), 500, 1).unwrap();
        assert!(next.ratings.is_empty());
        assert_eq!(next.events.first().unwrap().seq, 4);
    }

    #[test]
    fn a_rating_given_while_the_clock_reads_earlier_is_still_shipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = hall_with_history(dir.path());
        let store = Store::open(&path).unwrap();
        let tickets = store.tickets_of_day(day()).unwrap();
        let served = tickets.iter().find(|t| t.finished_at.is_some()).unwrap();
        let other = tickets.iter().find(|t| t.finished_at.is_none()).unwrap();
        let rate = |number: &str, at: Millis| {
            store
                .add_rating(
                    day(),
                    number,
                    None,
                    Satisfaction::from_score(4).unwrap(),
                    at,
                )
                .unwrap()
        };
        rate(&served.number, 1_000_000);
        let b = store.ship_batch(0, None, 500, 1).unwrap();
        assert_eq!(b.ratings.len(), 1);
        let mark = b.ratings_mark();
        // The other ticket is served too, and rated after the clock was set back (an NTP
        // correction): its rating carries an earlier time than the one already shipped.
        store
            .connection()
            .execute(
                "UPDATE tickets SET state = 'finished', finished_at = 5 WHERE day = ?1 AND number = ?2",
                params![day().format("%Y-%m-%d").to_string(), other.number],
            )
            .unwrap();
        rate(&other.number, 10);
        let next = store.ship_batch(0, mark, 500, 1).unwrap();
        assert_eq!(
            next.ratings
                .iter()
                .map(|r| r.number.as_str())
                .collect::<Vec<_>>(),
            [other.number.as_str()],
            "the rating with the earlier time comes after the cursor"
        );
        assert!(next.ratings_mark() > mark);
    }

    #[test]
    fn an_old_ratings_cursor_becomes_the_sequence_of_the_last_rating_it_covered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hallq.db");
        {
            // Schema 5, as the last release wrote it: three ratings, two of them shipped.
            let conn = Connection::open(&path).unwrap();
            for sql in &super::super::schema::MIGRATIONS[..5] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute_batch(
                "INSERT INTO ratings (day, number, counter, score, at) VALUES
                     ('2026-12-04', 'B002', 1, 5, 200),
                     ('2026-12-04', 'A001', 1, 4, 100),
                     ('2026-12-04', 'A003', 2, 3, 300);
                 INSERT INTO meta (key, value) VALUES
                     ('central_ratings_cursor', '{\"at\":200,\"day\":\"2026-12-04\",\"number\":\"B002\"}');",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let (_, mark) = store.central_cursors().unwrap();
        assert_eq!(mark, Some(2));
        let rest = store.ship_batch(0, mark, 500, 1).unwrap();
        assert_eq!(
            rest.ratings
                .iter()
                .map(|r| r.number.as_str())
                .collect::<Vec<_>>(),
            ["A003"]
        );
        let old: Option<String> = store.meta("central_ratings_cursor").unwrap();
        assert_eq!(old, None);
    }

    #[test]
    fn the_tickets_a_day_closes_are_shipped_under_their_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = hall_with_history(dir.path());
        let before = Store::open_reader(&path)
            .unwrap()
            .ship_batch(0, None, 500, 1)
            .unwrap()
            .committed;
        // The next morning: the waiting ticket of the day before expires.
        let next = day().succ_opt().unwrap();
        let mut store = Store::open(&path).unwrap();
        let hall = store.load_hall(&HallConfig::demo(), day()).unwrap();
        let at = next
            .and_hms_opt(1, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let writer = HallWriter::start(
            store,
            hall,
            Arc::new(move || at),
            WriterOptions {
                tick_every: std::time::Duration::from_secs(3600),
                max_batch: 64,
            },
            |_| {},
        );
        writer
            .execute(Command::Tick, Actor::new("clock", Role::Manager, None))
            .unwrap();
        drop(writer);
        let b = Store::open_reader(&path)
            .unwrap()
            .ship_batch(before, None, 500, 1)
            .unwrap();
        assert!(
            b.events.iter().any(|e| e.kind["type"] == "day_closed"),
            "{:?}",
            b.events
        );
        let expired: Vec<_> = b.tickets.iter().filter(|t| t.state == "expired").collect();
        assert_eq!(expired.len(), 1, "{:?}", b.tickets);
        assert_eq!(expired[0].day, "2026-11-25");
    }
}
