//! All of central's SQL: connections to PostgreSQL, halls and their credentials, storing a
//! shipped batch, the rollups, the live view, the league table's rows, head office's accounts and
//! sessions. Nothing outside this module writes a query.

mod fork;
mod phones;
mod publish;
mod rollups;
mod schema;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use hallq_shared::report::{EventRow, Period, RatingRow, ReportInput, Satisfaction, TicketRow};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, GenericClient, NoTls, Transaction};

use crate::rollup::{self, HallDay, REPORT_EVENT_TYPES};
use crate::wire::{Batch, parse_state, state_name};

pub use phones::{PhoneSetting, PhoneSwitch, PhoneSwitchError};
pub use publish::{Group, Publication, PublishError};
pub use rollups::refresh_loop;
pub use schema::VERSION as SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("database connection: {0}")]
    Connect(String),
    #[error("stored data: {0}")]
    Corrupt(String),
}

/// A few connections, reused: each request takes one for its transaction and gives it back.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

struct Inner {
    url: String,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
    /// Phone numbers were deleted since `callback_phones` was last rewritten (see `phones.rs`).
    phones_vacuum_owed: std::sync::atomic::AtomicBool,
}

/// A connection on loan from the [`Store`]; it goes back when dropped, unless it broke.
pub struct Conn {
    client: Option<Client>,
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(c) = self.client.take()
            && !c.is_closed()
            && let Ok(mut idle) = self.inner.idle.lock()
        {
            idle.push(c);
        }
    }
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a loaned connection is present until dropped")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a loaned connection is present until dropped")
    }
}

/// A hall as `hall list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct HallEntry {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub group: Option<String>,
    /// Head office's switch: the hall ships its callbacks' phone numbers.
    pub callback_phones: bool,
}

/// A hall right now, for the "halls now" view.
#[derive(Clone, Debug, Serialize)]
pub struct HallNow {
    pub name: String,
    pub revoked: bool,
    pub last_contact: Option<DateTime<Utc>>,
    pub hub_version: Option<String>,
    /// The hub's own `status` of its last batch.
    pub status: Option<Value>,
    pub stored_through: i64,
    pub events_stored: i64,
    pub group: Option<String>,
    /// The latest published version that applies to the hall.
    pub published_latest: Option<i64>,
}

/// A callback captured in a hall and not resolved: no phone number, which stays in the hall.
#[derive(Clone, Debug, Serialize)]
pub struct OpenCallback {
    pub hall: String,
    /// The hall's own id of the callback (its callback list shows the same).
    pub id: i64,
    pub day: NaiveDate,
    pub captured_at: i64,
    /// `outage`, `long_wait` or `request`.
    pub origin: String,
    pub ticket: Option<String>,
    /// `pending` or `contacted`.
    pub status: String,
    /// Central holds its phone number (the hall's switch is on); reading it is audited.
    pub phone_at_central: bool,
}

/// What central answers a stored batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    pub stored_through: u64,
    /// Head office turned phone numbers on for the hall.
    pub callback_phones: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HallAddError {
    #[error("a hall named {0:?} exists already")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Connect (at most `max` connections at once) and bring the schema up to date.
    pub async fn open(url: &str, max: usize) -> Result<Store, StoreError> {
        let store = Store {
            inner: Arc::new(Inner {
                url: url.to_string(),
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max.max(1))),
                // A central stopped before its last rewrite leaves one owed.
                phones_vacuum_owed: std::sync::atomic::AtomicBool::new(true),
            }),
        };
        let mut c = store.conn().await?;
        schema::migrate(&mut c).await?;
        Ok(store)
    }

    pub async fn conn(&self) -> Result<Conn, StoreError> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let idle = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
        let client = match idle.filter(|c| !c.is_closed()) {
            Some(c) => c,
            None => {
                let (client, connection) = tokio_postgres::connect(&self.inner.url, NoTls)
                    .await
                    .map_err(|e| StoreError::Connect(e.to_string()))?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "database connection ended");
                    }
                });
                client
            }
        };
        Ok(Conn {
            client: Some(client),
            inner: self.inner.clone(),
            _permit: permit,
        })
    }

    // ---- halls ----

    pub async fn add_hall(&self, name: &str, credential_sha256: &str) -> Result<i64, HallAddError> {
        let c = self.conn().await?;
        let row = c
            .query_opt(
                "INSERT INTO halls (name, credential_sha256) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &credential_sha256],
            )
            .await
            .map_err(StoreError::from)?;
        row.map(|r| r.get(0))
            .ok_or_else(|| HallAddError::Exists(name.to_string()))
    }

    /// Whether a hall of that name was live and is now revoked. Its phone numbers go with it: a
    /// hall that no longer ships never resolves its callbacks at central.
    pub async fn revoke_hall(&self, name: &str) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(id) = tx
            .query_opt(
                "UPDATE halls SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL
                 RETURNING id",
                &[&name],
            )
            .await?
            .map(|r| r.get::<_, i64>(0))
        else {
            return Ok(false);
        };
        let deleted = phones::forget_hall(&tx, id, name, "hall revoked").await?;
        tx.commit().await?;
        drop(c);
        if deleted > 0 {
            self.vacuum_callback_phones().await?;
        }
        Ok(true)
    }

    pub async fn list_halls(&self) -> Result<Vec<HallEntry>, StoreError> {
        let c = self.conn().await?;
        let rows = c
            .query(
                "SELECT id, name, created_at, revoked_at, group_name, callback_phones FROM halls
                 ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| HallEntry {
                id: r.get(0),
                name: r.get(1),
                created_at: r.get(2),
                revoked_at: r.get(3),
                group: r.get(4),
                callback_phones: r.get(5),
            })
            .collect())
    }

    /// The live hall holding this credential: `(id, name)`.
    pub async fn hall_by_credential(
        &self,
        credential_sha256: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let c = self.conn().await?;
        let row = c
            .query_opt(
                "SELECT id, name FROM halls WHERE credential_sha256 = $1 AND revoked_at IS NULL",
                &[&credential_sha256],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    // ---- shipping ----

    /// Store one sanitised batch of hall `hall_id` in one transaction: the highest seq up to
    /// which every event of the hall is stored, and whether the hall ships phone numbers.
    pub async fn ship(&self, hall_id: i64, batch: &mut Batch) -> Result<Stored, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The hall's status row is its lock: two batches of one hall are stored one after the
        // other, so `stored_through` is advanced from what the other committed.
        tx.execute(
            "INSERT INTO hall_status (hall_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&hall_id],
        )
        .await?;
        let through: i64 = tx
            .query_one(
                "SELECT stored_through FROM hall_status WHERE hall_id = $1 FOR UPDATE",
                &[&hall_id],
            )
            .await?
            .get(0);
        // From here on the events carry central's seqs: the hall's own, unless its database
        // was restored from an older backup (see `fork`).
        let forks = fork::place(&tx, hall_id, &mut batch.events).await?;

        let mut touched: BTreeSet<NaiveDate> = BTreeSet::new();
        let mut inserted = 0u64;
        if !batch.events.is_empty() {
            let mut seqs = Vec::with_capacity(batch.events.len());
            let mut days = Vec::with_capacity(batch.events.len());
            let mut ats = Vec::with_capacity(batch.events.len());
            let mut actors = Vec::with_capacity(batch.events.len());
            let mut counters: Vec<Option<i64>> = Vec::with_capacity(batch.events.len());
            let mut types = Vec::with_capacity(batch.events.len());
            let mut bodies = Vec::with_capacity(batch.events.len());
            let mut resolved_ids: Vec<i64> = Vec::new();
            for e in &batch.events {
                seqs.push(e.seq as i64);
                days.push(e.day);
                ats.push(e.at);
                actors.push(e.actor.as_str());
                counters.push(e.counter.map(i64::from));
                types.push(e.kind_type());
                bodies.push(e.kind.clone());
                touched.insert(e.day);
                if e.kind_type() == "callback_updated"
                    && let Some(id) = e.kind.get("id").and_then(Value::as_i64)
                {
                    resolved_ids.push(id);
                }
            }
            inserted = tx
                .execute(
                    "INSERT INTO events (hall_id, seq, day, at, actor, counter, type, body)
                     SELECT $1, * FROM UNNEST($2::bigint[], $3::date[], $4::bigint[], $5::text[],
                                              $6::bigint[], $7::text[], $8::jsonb[])
                     ON CONFLICT (hall_id, seq) DO NOTHING",
                    &[
                        &hall_id, &seqs, &days, &ats, &actors, &counters, &types, &bodies,
                    ],
                )
                .await?;
            callbacks(&tx, hall_id, &batch.events).await?;
            // A callback followed up today counts in the day it was captured.
            if !resolved_ids.is_empty() {
                for r in tx
                    .query(
                        "SELECT DISTINCT day FROM events
                         WHERE hall_id = $1 AND type = 'callback_captured'
                           AND (body->>'id')::bigint = ANY($2)",
                        &[&hall_id, &resolved_ids],
                    )
                    .await?
                {
                    touched.insert(r.get(0));
                }
            }
        }

        if !batch.tickets.is_empty() {
            // The last row of a ticket in the batch wins, as the protocol says; PostgreSQL refuses
            // to update one row twice in one statement.
            let mut last: HashMap<(NaiveDate, &str), usize> = HashMap::new();
            for (i, t) in batch.tickets.iter().enumerate() {
                last.insert((t.day, t.number.as_str()), i);
                touched.insert(t.day);
            }
            let mut idx: Vec<usize> = last.into_values().collect();
            idx.sort_unstable();
            let ts: Vec<_> = idx.iter().map(|&i| &batch.tickets[i]).collect();
            let col = |f: &dyn Fn(&crate::wire::WireTicket) -> Option<i64>| -> Vec<Option<i64>> {
                ts.iter().map(|t| f(t)).collect()
            };
            let days: Vec<NaiveDate> = ts.iter().map(|t| t.day).collect();
            let numbers: Vec<&str> = ts.iter().map(|t| t.number.as_str()).collect();
            let services: Vec<&str> = ts.iter().map(|t| t.service.as_str()).collect();
            let firsts: Vec<&str> = ts.iter().map(|t| t.first_service.as_str()).collect();
            let states: Vec<&str> = ts.iter().map(|t| state_name(t.state)).collect();
            let counters = col(&|t| t.counter.map(i64::from));
            let issued: Vec<i64> = ts.iter().map(|t| t.issued_at).collect();
            let first_called = col(&|t| t.first_called_at);
            let called = col(&|t| t.called_at);
            let started = col(&|t| t.started_at);
            let finished = col(&|t| t.finished_at);
            let transfers: Vec<i64> = ts.iter().map(|t| i64::from(t.transfers)).collect();
            let estimated: Vec<i64> = ts.iter().map(|t| i64::from(t.estimated_wait_s)).collect();
            // A row never goes back: a batch delayed on the network and retried after a newer one
            // must not undo a call or a finish. A ticket moves forward in its number of transfers
            // and, between two transfers, in its latest timestamp (a transfer clears `started_at`,
            // so the timestamp alone would refuse it).
            tx.execute(
                "INSERT INTO tickets (hall_id, day, number, service, first_service, state, counter,
                                      issued_at, first_called_at, called_at, started_at, finished_at,
                                      transfers, estimated_wait_s)
                 SELECT $1, * FROM UNNEST($2::date[], $3::text[], $4::text[], $5::text[], $6::text[],
                                          $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
                                          $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
                 ON CONFLICT (hall_id, day, number) DO UPDATE SET
                     service = EXCLUDED.service, first_service = EXCLUDED.first_service,
                     state = EXCLUDED.state, counter = EXCLUDED.counter,
                     issued_at = EXCLUDED.issued_at, first_called_at = EXCLUDED.first_called_at,
                     called_at = EXCLUDED.called_at, started_at = EXCLUDED.started_at,
                     finished_at = EXCLUDED.finished_at, transfers = EXCLUDED.transfers,
                     estimated_wait_s = EXCLUDED.estimated_wait_s
                 WHERE (EXCLUDED.transfers,
                        GREATEST(EXCLUDED.issued_at, EXCLUDED.first_called_at, EXCLUDED.called_at,
                                 EXCLUDED.started_at, EXCLUDED.finished_at))
                    >= (tickets.transfers,
                        GREATEST(tickets.issued_at, tickets.first_called_at, tickets.called_at,
                                 tickets.started_at, tickets.finished_at))",
                &[
                    &hall_id,
                    &days,
                    &numbers,
                    &services,
                    &firsts,
                    &states,
                    &counters,
                    &issued,
                    &first_called,
                    &called,
                    &started,
                    &finished,
                    &transfers,
                    &estimated,
                ],
            )
            .await?;
        }

        if !batch.ratings.is_empty() {
            let mut last: HashMap<(NaiveDate, &str), usize> = HashMap::new();
            for (i, r) in batch.ratings.iter().enumerate() {
                last.insert((r.day, r.number.as_str()), i);
                touched.insert(r.day);
            }
            let mut idx: Vec<usize> = last.into_values().collect();
            idx.sort_unstable();
            let rs: Vec<_> = idx.iter().map(|&i| &batch.ratings[i]).collect();
            let days: Vec<NaiveDate> = rs.iter().map(|r| r.day).collect();
            let numbers: Vec<&str> = rs.iter().map(|r| r.number.as_str()).collect();
            let counters: Vec<Option<i64>> = rs.iter().map(|r| r.counter.map(i64::from)).collect();
            let scores: Vec<i16> = rs.iter().map(|r| i16::from(r.score)).collect();
            let ats: Vec<i64> = rs.iter().map(|r| r.at).collect();
            tx.execute(
                "INSERT INTO ratings (hall_id, day, number, counter, score, at)
                 SELECT $1, * FROM UNNEST($2::date[], $3::text[], $4::bigint[], $5::smallint[],
                                          $6::bigint[])
                 ON CONFLICT (hall_id, day, number) DO UPDATE SET
                     counter = EXCLUDED.counter, score = EXCLUDED.score, at = EXCLUDED.at",
                &[&hall_id, &days, &numbers, &counters, &scores, &ats],
            )
            .await?;
        }

        // After the callback events, so that a batch's numbers find their callbacks.
        let callback_phones =
            phones::store_batch_phones(&tx, hall_id, batch.callback_phones.as_ref()).await?;
        // A hall switched off holds none (they went with the switch), and its batches leave the
        // table alone, so the table's rewrite never holds them up.
        let phones_deleted = if callback_phones {
            phones::delete_expired(&tx, Some(hall_id), Utc::now().timestamp_millis()).await?
        } else {
            0
        };

        // Everything from `through` up (the hall's seqs): only the events past a gap are read
        // again, and a hub sends from `stored_through`, so there are few of them.
        let new_through = fork::stored_through(&tx, hall_id, &forks, through).await?;
        tx.execute(
            "UPDATE hall_status SET last_contact = now(),
                 hub_version = coalesce($2, hub_version),
                 body = coalesce($3, body),
                 stored_through = $4,
                 events_stored = events_stored + $5
             WHERE hall_id = $1",
            &[
                &hall_id,
                &batch.hub,
                &batch.status.as_ref().filter(|s| s.is_object()),
                &new_through,
                &(inserted as i64),
            ],
        )
        .await?;

        rollups::after_batch(&tx, hall_id, &touched).await?;
        tx.commit().await?;
        drop(c);
        if phones_deleted > 0 {
            self.owe_phones_vacuum();
        }
        Ok(Stored {
            stored_through: new_through as u64,
            callback_phones,
        })
    }

    // ---- reading ----

    /// The rows of one hall over `period`, as the hall's own report reads them.
    pub async fn report_input(
        &self,
        hall: &str,
        period: Period,
    ) -> Result<ReportInput, StoreError> {
        let c = self.conn().await?;
        let Some(row) = c
            .query_opt("SELECT id FROM halls WHERE name = $1", &[&hall])
            .await?
        else {
            return Ok(ReportInput::default());
        };
        report_input(&*c, row.get(0), period).await
    }

    /// The configuration central reads the hall's rollups with.
    pub async fn hall_config(
        &self,
        hall: &str,
    ) -> Result<hallq_shared::config::HallConfig, StoreError> {
        let c = self.conn().await?;
        let body: Option<Value> = c
            .query_opt(
                "SELECT e.body FROM events e JOIN halls h ON h.id = e.hall_id
                 WHERE h.name = $1 AND e.type = 'config_replaced' ORDER BY e.seq DESC LIMIT 1",
                &[&hall],
            )
            .await?
            .map(|r| r.get(0));
        Ok(rollup::config_of(body.as_ref()))
    }

    pub async fn halls_now(&self) -> Result<Vec<HallNow>, StoreError> {
        let c = self.conn().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT h.name, h.revoked_at IS NOT NULL, s.last_contact, s.hub_version, s.body,
                            coalesce(s.stored_through, 0), coalesce(s.events_stored, 0),
                            h.group_name, {}
                     FROM halls h LEFT JOIN hall_status s ON s.hall_id = h.id
                     ORDER BY h.name",
                    publish::LATEST_FOR_HALL
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| HallNow {
                name: r.get(0),
                revoked: r.get(1),
                last_contact: r.get(2),
                hub_version: r.get(3),
                status: r.get(4),
                stored_through: r.get(5),
                events_stored: r.get(6),
                group: r.get(7),
                published_latest: r.get(8),
            })
            .collect())
    }

    /// The live halls' names and their days in `period`, for the league table.
    /// The rollup lines of every live hall from `$1` to `$2`: all a league table reads (the
    /// figures of BENCHMARKS.md show its plan).
    pub const LEAGUE_DAYS_SQL: &'static str =
        "SELECT h.name, d.day, d.target_wait_min, d.issued, d.called, d.served, d.no_shows,
                d.never_called, d.within_target, d.wait_count, d.wait_sum_ms,
                d.service_count, d.service_sum_ms, d.rated, d.satisfied, d.score_sum,
                d.outages, d.long_waits, d.long_wait_s, d.callbacks_captured,
                d.callbacks_resolved, d.outage_ms, d.outage_longest_ms
         FROM hall_days d JOIN halls h ON h.id = d.hall_id
         WHERE d.day BETWEEN $1 AND $2 AND h.revoked_at IS NULL
         ORDER BY h.name, d.day";

    pub async fn league_days(
        &self,
        period: Period,
    ) -> Result<(Vec<String>, Vec<(String, HallDay)>), StoreError> {
        let c = self.conn().await?;
        let halls = c
            .query(
                "SELECT name FROM halls WHERE revoked_at IS NULL ORDER BY name",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let rows = c
            .query(Self::LEAGUE_DAYS_SQL, &[&period.from, &period.to])
            .await?;
        let u = |r: &tokio_postgres::Row, i: usize| r.get::<_, i32>(i).max(0) as u32;
        let days = rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    HallDay {
                        day: Some(r.get(1)),
                        target_wait_min: u(r, 2),
                        issued: u(r, 3),
                        called: u(r, 4),
                        served: u(r, 5),
                        no_shows: u(r, 6),
                        never_called: u(r, 7),
                        within_target: u(r, 8),
                        wait_count: u(r, 9),
                        wait_sum_ms: r.get(10),
                        service_count: u(r, 11),
                        service_sum_ms: r.get(12),
                        rated: u(r, 13),
                        satisfied: u(r, 14),
                        score_sum: u(r, 15),
                        outages: u(r, 16),
                        long_waits: u(r, 17),
                        long_wait_s: r.get(18),
                        callbacks_captured: u(r, 19),
                        callbacks_resolved: u(r, 20),
                        outage_ms: r.get(21),
                        outage_longest_ms: r.get(22),
                    },
                )
            })
            .collect();
        Ok((halls, days))
    }

    /// The callbacks not resolved in live halls, oldest first, at most `limit`, and per hall how
    /// many there are and how many were captured before `overdue_before` (ms).
    pub async fn open_callbacks(
        &self,
        overdue_before: i64,
        limit: i64,
    ) -> Result<(Vec<OpenCallback>, Vec<(String, i64, i64)>), StoreError> {
        let c = self.conn().await?;
        let list = c
            .query(
                "SELECT h.name, c.id, c.day, c.captured_at, c.origin, c.ticket, c.status,
                        EXISTS (SELECT 1 FROM callback_phones p
                                WHERE p.hall_id = c.hall_id AND p.id = c.id)
                 FROM callbacks c JOIN halls h ON h.id = c.hall_id
                 WHERE c.resolved_at IS NULL AND h.revoked_at IS NULL
                 ORDER BY c.captured_at, h.name, c.id LIMIT $1",
                &[&limit],
            )
            .await?
            .iter()
            .map(|r| OpenCallback {
                hall: r.get(0),
                id: r.get(1),
                day: r.get(2),
                captured_at: r.get(3),
                origin: r.get(4),
                ticket: r.get(5),
                status: r.get(6),
                phone_at_central: r.get(7),
            })
            .collect();
        let per_hall = c
            .query(
                "SELECT h.name, count(*), count(*) FILTER (WHERE c.captured_at < $1)
                 FROM callbacks c JOIN halls h ON h.id = c.hall_id
                 WHERE c.resolved_at IS NULL AND h.revoked_at IS NULL
                 GROUP BY h.name ORDER BY h.name",
                &[&overdue_before],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        Ok((list, per_hall))
    }

    /// How many events of a hall are stored (tests and checks; the page reads `events_stored`).
    pub async fn event_count(&self, hall: &str) -> Result<i64, StoreError> {
        let c = self.conn().await?;
        Ok(c.query_one(
            "SELECT count(*) FROM events e JOIN halls h ON h.id = e.hall_id WHERE h.name = $1",
            &[&hall],
        )
        .await?
        .get(0))
    }

    // ---- head office's accounts and sessions ----

    /// Create the operator, or give an existing one a new password.
    pub async fn set_operator(&self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO operators (name, password_hash) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash",
            &[&name, &password_hash],
        )
        .await?;
        // A new password ends the sessions signed in with the old one.
        c.execute(
            "DELETE FROM sessions WHERE operator_id = (SELECT id FROM operators WHERE name = $1)",
            &[&name],
        )
        .await?;
        Ok(())
    }

    pub async fn operator_hash(&self, name: &str) -> Result<Option<(i64, String)>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query_opt(
            "SELECT id, password_hash FROM operators WHERE name = $1",
            &[&name],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
    }

    pub async fn create_session(
        &self,
        token_sha256: &str,
        operator_id: i64,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.execute("DELETE FROM sessions WHERE expires_at < now()", &[])
            .await?;
        c.execute(
            "INSERT INTO sessions (token_sha256, operator_id, expires_at) VALUES ($1, $2, $3)",
            &[&token_sha256, &operator_id, &expires_at],
        )
        .await?;
        Ok(())
    }

    /// The operator signed in with this session, if it has not expired.
    pub async fn session_operator(&self, token_sha256: &str) -> Result<Option<String>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query_opt(
            "SELECT o.name FROM sessions s JOIN operators o ON o.id = s.operator_id
             WHERE s.token_sha256 = $1 AND s.expires_at > now()",
            &[&token_sha256],
        )
        .await?
        .map(|r| r.get(0)))
    }

    pub async fn end_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.execute(
            "DELETE FROM sessions WHERE token_sha256 = $1",
            &[&token_sha256],
        )
        .await?;
        Ok(())
    }
}

/// The rows of one hall over `period`: its tickets, the events reports read (and the later
/// resolutions of callbacks captured in the period), its ratings.
async fn report_input<C: GenericClient>(
    c: &C,
    hall_id: i64,
    period: Period,
) -> Result<ReportInput, StoreError> {
    let types: Vec<&str> = REPORT_EVENT_TYPES.to_vec();
    let mut tickets = Vec::new();
    for r in c
        .query(
            "SELECT day, number, service, first_service, state, counter, issued_at,
                    first_called_at, called_at, started_at, finished_at, transfers,
                    estimated_wait_s
             FROM tickets WHERE hall_id = $1 AND day BETWEEN $2 AND $3",
            &[&hall_id, &period.from, &period.to],
        )
        .await?
    {
        let state: String = r.get(4);
        let u32_of = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        tickets.push(TicketRow {
            day: r.get(0),
            number: r.get(1),
            service: r.get(2),
            first_service: r.get(3),
            state: parse_state(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("ticket state {state:?}")))?,
            counter: r.get::<_, Option<i64>>(5).map(u32_of),
            issued_at: r.get(6),
            first_called_at: r.get(7),
            called_at: r.get(8),
            started_at: r.get(9),
            finished_at: r.get(10),
            transfers: u32_of(r.get(11)),
            estimated_wait_s: u32_of(r.get(12)),
        });
    }

    let mut events = Vec::new();
    let mut push = |r: &tokio_postgres::Row| {
        let kind: String = r.get(4);
        let body: Value = r.get(5);
        if let Some(fact) = rollup::fact(&kind, &body) {
            events.push(EventRow {
                seq: r.get::<_, i64>(0) as u64,
                day: r.get(1),
                at: r.get(2),
                actor: r.get(3),
                fact,
            });
        }
    };
    for r in c
        .query(
            "SELECT seq, day, at, actor, type, body FROM events
             WHERE hall_id = $1 AND day BETWEEN $2 AND $3 AND type = ANY($4)",
            &[&hall_id, &period.from, &period.to, &types],
        )
        .await?
    {
        push(&r);
    }
    // Callbacks captured in the period and followed up after it.
    for r in c
        .query(
            "SELECT u.seq, u.day, u.at, u.actor, u.type, u.body FROM events u
             WHERE u.hall_id = $1 AND u.type = 'callback_updated' AND u.day > $3
               AND (u.body->>'id')::bigint IN (
                   SELECT (c.body->>'id')::bigint FROM events c
                   WHERE c.hall_id = $1 AND c.type = 'callback_captured'
                     AND c.day BETWEEN $2 AND $3)",
            &[&hall_id, &period.from, &period.to],
        )
        .await?
    {
        push(&r);
    }
    events.sort_unstable_by_key(|e| e.seq);

    let mut ratings = Vec::new();
    for r in c
        .query(
            "SELECT day, number, counter, score, at FROM ratings
             WHERE hall_id = $1 AND day BETWEEN $2 AND $3",
            &[&hall_id, &period.from, &period.to],
        )
        .await?
    {
        let score: i16 = r.get(3);
        ratings.push(RatingRow {
            day: r.get(0),
            number: r.get(1),
            counter: r
                .get::<_, Option<i64>>(2)
                .and_then(|c| u32::try_from(c).ok()),
            score: u8::try_from(score)
                .ok()
                .and_then(Satisfaction::from_score)
                .ok_or_else(|| StoreError::Corrupt(format!("rating score {score}")))?,
            at: r.get(4),
        });
    }
    Ok(ReportInput {
        tickets,
        events,
        ratings,
        as_of: None,
    })
}

/// Keep the `callbacks` table as the batch's callback events leave it, in `seq` order. Events
/// stored before are applied again harmlessly: a capture is inserted once, and a status moves only
/// on an event later than the one that set it.
async fn callbacks(
    tx: &Transaction<'_>,
    hall_id: i64,
    events: &[crate::wire::WireEvent],
) -> Result<(), StoreError> {
    for e in events {
        let Some(id) = e.kind.get("id").and_then(Value::as_i64) else {
            continue;
        };
        let text = |k: &str| e.kind.get(k).and_then(Value::as_str);
        match e.kind_type() {
            "callback_captured" => {
                tx.execute(
                    "INSERT INTO callbacks (hall_id, id, day, captured_at, origin, ticket, status,
                                            status_seq, status_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $4)
                     ON CONFLICT DO NOTHING",
                    &[
                        &hall_id,
                        &id,
                        &e.day,
                        &e.at,
                        &text("origin").unwrap_or(""),
                        &text("ticket"),
                        &(e.seq as i64),
                    ],
                )
                .await?;
            }
            "callback_updated" => {
                let Some(status) = text("status") else {
                    continue;
                };
                tx.execute(
                    "UPDATE callbacks SET status = $3, status_seq = $4, status_at = $5,
                         resolved_at = CASE WHEN $3 = 'resolved' THEN coalesce(resolved_at, $5)
                                            ELSE resolved_at END
                     WHERE hall_id = $1 AND id = $2 AND status_seq < $4",
                    &[&hall_id, &id, &status, &(e.seq as i64), &e.at],
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Recompute the rollups of a hall's days from their rows, in the caller's transaction; an outage
/// going on counts up to `as_of` (ms).
async fn refresh_days(
    tx: &Transaction<'_>,
    hall_id: i64,
    days: &[NaiveDate],
    as_of: i64,
) -> Result<(), StoreError> {
    let body: Option<Value> = tx
        .query_opt(
            "SELECT body FROM events WHERE hall_id = $1 AND type = 'config_replaced'
             ORDER BY seq DESC LIMIT 1",
            &[&hall_id],
        )
        .await?
        .map(|r| r.get(0));
    let config = rollup::config_of(body.as_ref());
    for &day in days {
        let mut input = report_input(tx, hall_id, Period::day(day)).await?;
        input.as_of = Some(as_of);
        let d = HallDay::build(day, &config, &input);
        let i = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO hall_days (hall_id, day, target_wait_min, issued, called, served, no_shows,
                                    never_called, within_target, wait_count, wait_sum_ms,
                                    service_count, service_sum_ms, rated, satisfied, score_sum,
                                    outages, long_waits, long_wait_s, callbacks_captured,
                                    callbacks_resolved, outage_ms, outage_longest_ms,
                                    refreshed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23, now())
             ON CONFLICT (hall_id, day) DO UPDATE SET
                 target_wait_min = EXCLUDED.target_wait_min, issued = EXCLUDED.issued,
                 called = EXCLUDED.called, served = EXCLUDED.served,
                 no_shows = EXCLUDED.no_shows, never_called = EXCLUDED.never_called,
                 within_target = EXCLUDED.within_target, wait_count = EXCLUDED.wait_count,
                 wait_sum_ms = EXCLUDED.wait_sum_ms, service_count = EXCLUDED.service_count,
                 service_sum_ms = EXCLUDED.service_sum_ms, rated = EXCLUDED.rated,
                 satisfied = EXCLUDED.satisfied, score_sum = EXCLUDED.score_sum,
                 outages = EXCLUDED.outages, long_waits = EXCLUDED.long_waits,
                 long_wait_s = EXCLUDED.long_wait_s,
                 callbacks_captured = EXCLUDED.callbacks_captured,
                 callbacks_resolved = EXCLUDED.callbacks_resolved,
                 outage_ms = EXCLUDED.outage_ms, outage_longest_ms = EXCLUDED.outage_longest_ms,
                 refreshed_at = now()",
            &[
                &hall_id,
                &day,
                &i(d.target_wait_min),
                &i(d.issued),
                &i(d.called),
                &i(d.served),
                &i(d.no_shows),
                &i(d.never_called),
                &i(d.within_target),
                &i(d.wait_count),
                &d.wait_sum_ms,
                &i(d.service_count),
                &d.service_sum_ms,
                &i(d.rated),
                &i(d.satisfied),
                &i(d.score_sum),
                &i(d.outages),
                &i(d.long_waits),
                &d.long_wait_s,
                &i(d.callbacks_captured),
                &i(d.callbacks_resolved),
                &d.outage_ms,
                &d.outage_longest_ms,
            ],
        )
        .await?;
    }
    Ok(())
}
