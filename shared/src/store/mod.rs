//! The store: the one module that speaks SQL. A SQLite file in WAL mode with `synchronous=FULL`;
//! every acknowledged command is committed and synced before anyone hears of it.
//!
//! The engine's state is materialised in tables (tickets, counters, outage, long waits) and every
//! change is also appended to `events`, the history that reports and supervision read.

pub mod backup;
pub mod central_phones;
mod checkpoint;
mod lock;
mod reports;
mod rows;
pub mod schema;
pub mod shipping;
mod suggestions;
pub mod writer;

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Timelike};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::config::HallConfig;
use crate::engine::{Event, EventKind, Executed, Hall};
use crate::estimate::{Disruption, DisruptionKind};
use crate::hall::{Callback, CallbackStatus, Millis, Now, Outage};

pub use lock::WriterLock;
pub use reports::RatingError;
pub use writer::{Commit, HallWriter, WriterError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the hall database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "the hall database {path} has schema version {found}, newer than this program knows ({known}): install the newer hallq or restore a backup"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the hall database {path} is in use by {holder}, a hub already running on it: stop that one first (systemctl stop hallq-hub)"
    )]
    InUse { path: PathBuf, holder: String },
    #[error("the hall database holds invalid data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Store {
    /// Whether `e` failed for want of space: SQLite's own "full", or an I/O error while the
    /// database's file system has (almost) nothing left for this user. On ext4 a write that finds
    /// no room can come back from SQLite as an I/O error rather than as "full" (measured on the
    /// virtual Pi), and the caller must be told the same thing either way.
    pub fn out_of_space(&self, e: &StoreError) -> bool {
        out_of_space_at(&self.path, e)
    }
}

/// [`Store::out_of_space`] for the database at `db`.
pub fn out_of_space_at(db: &Path, e: &StoreError) -> bool {
    if e.is_disk_full() {
        return true;
    }
    let io = matches!(
        e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::SystemIoFailure
    );
    io && available_bytes(db).is_some_and(|b| b < 1024 * 1024)
}

/// Bytes an unprivileged writer may still use on the file system holding `db`.
pub fn available_bytes(db: &Path) -> Option<u64> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

impl StoreError {
    /// The disk (or the database's size limit) is full: SQLite refused to grow a file. Nothing
    /// of the failed transaction was kept, and writing works again once there is room.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DiskFull
        )
    }

    fn open(path: &Path, e: impl std::fmt::Display) -> StoreError {
        StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

/// A signed-in session: (login, role, counter, expires_at).
pub type SessionRow = (String, String, Option<u32>, Millis);

/// A device: (name, role, counter it is bound to, revoked).
pub type DeviceRow = (String, String, Option<u32>, bool);

/// A customer's suggestion: (id, at, text, contact, source).
pub type SuggestionRow = (i64, Millis, String, Option<String>, String);

/// One SQLite connection to the hall database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The database file inside a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("hallq.db")
}

impl Store {
    /// Open (creating if absent) and migrate the database for writing. A file that is not a hall
    /// database, or is damaged, is an error naming the file — never a silent new empty one.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::open(path, e))?;
        }
        let mut conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
        Self::check_readable(&conn, path)?;
        Self::check_integrity(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| StoreError::open(path, e))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn, path)?;
        // Deleted rows are overwritten with zeros, not just unlinked: a phone number deleted by
        // retention must not stay readable in free pages, in the log or in a later backup.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.clear_free_pages_once();
        Ok(store)
    }

    /// Databases from before `secure_delete` may hold deleted personal data in free pages: rewrite
    /// the file once, and remember that it was done. Another process holding the database (a hub
    /// beside this command) makes it wait for a later start.
    fn clear_free_pages_once(&self) {
        const KEY: &str = "free_pages_cleared";
        if !matches!(self.meta(KEY), Ok(None)) {
            return;
        }
        let free: i64 = self
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .unwrap_or(0);
        if (free == 0 || self.conn.execute_batch("VACUUM").is_ok())
            && self.set_meta(KEY, "1").is_ok()
        {
            self.truncate_log();
        }
    }

    /// After personal data was deleted: copy the log into the database file and cut the log to
    /// nothing, so that no older copy of a deleted page survives in it. Readers in the middle of
    /// a query can hold it up for a moment; it is tried a few times, and the next deletion tries
    /// again.
    pub fn truncate_log(&self) -> bool {
        for attempt in 0..20 {
            let busy: i64 = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .unwrap_or(1);
            if busy == 0 {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10 * (attempt + 1)));
        }
        false
    }

    /// Hand WAL checkpoints to a background thread with its own connection; this connection then
    /// only checkpoints as a safety net. Dropping the returned handle stops the thread.
    fn background_checkpoints(&self) -> Result<checkpoint::Checkpointer, StoreError> {
        self.conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_AUTOCHECKPOINT_PAGES,
        )?;
        checkpoint::Checkpointer::start(&self.path)
    }

    /// Copy what the log holds beyond the last background round into the database file, so that
    /// the log starts again from its beginning at the next commit (see `checkpoint.rs`).
    fn finish_checkpoint(&self) {
        // A failed or partial checkpoint loses nothing; the next round tries again.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }

    /// A read-only connection for queries beside the writer (WAL lets readers run alongside). It
    /// does not check the file's integrity again: the writer's [`Store::open`] did before anything
    /// could read, and a check reads the whole file, which must not be a cost that any request can
    /// make the hub pay.
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::open(path, e))?;
        Self::check_readable(&conn, path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != schema::current_version() {
            return Err(StoreError::open(
                path,
                format!(
                    "schema version {version}, expected {}",
                    schema::current_version()
                ),
            ));
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn check_readable(conn: &Connection, path: &Path) -> Result<(), StoreError> {
        // Reading the schema fails at once on a file that is not SQLite ("file is not a database").
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| StoreError::open(path, e))?;
        Ok(())
    }

    fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
        let check: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| StoreError::open(path, e))?;
        if check != "ok" {
            return Err(StoreError::open(
                path,
                format!("integrity check failed: {check}"),
            ));
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Direct access for the backup module and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    // -----------------------------------------------------------------------------------------
    // Configuration

    /// The configuration last saved, if any.
    pub fn saved_config(&self) -> Result<Option<HallConfig>, StoreError> {
        let toml: Option<String> = self
            .conn
            .query_row("SELECT toml FROM config WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        toml.map(|t| HallConfig::from_toml(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    pub fn save_config(&self, config: &HallConfig, at: Millis, by: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO config (id, toml, updated_at, updated_by) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            params![config.to_toml(), at, by],
        )?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // The live hall

    /// Rebuild the engine state: the configuration saved in the database (or `initial`, which is
    /// then saved), the current business day's tickets, counters, outage, numbering and recent calls.
    pub fn load_hall(
        &mut self,
        initial: &HallConfig,
        today: NaiveDate,
    ) -> Result<Hall, StoreError> {
        let config = match self.saved_config()? {
            Some(c) => c,
            None => {
                self.save_config(initial, 0, "initial")?;
                initial.clone()
            }
        };
        let day = match self.meta("day")? {
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| StoreError::Corrupt(format!("meta.day {d:?}: {e}")))?,
            None => {
                self.set_meta("day", &today.format("%Y-%m-%d").to_string())?;
                today
            }
        };
        let mut hall = Hall::new(config, day);
        for t in rows::tickets_of_day(&self.conn, day)? {
            hall.restore_ticket(t);
        }
        for (id, rt) in rows::counters(&self.conn)? {
            if let Some(slot) = hall.counters.get_mut(&id) {
                *slot = rt;
            }
        }
        if let Some((outage, long)) = rows::outage(&self.conn)? {
            hall.outage = Some(outage);
            hall.outage_long = long;
        }
        hall.long_wait = rows::long_wait(&self.conn)?
            .into_iter()
            .filter(|s| hall.config.service(s).is_some())
            .collect();
        // The estimates' seed: the days before from the tickets table, folded as the engine folds
        // a closing day; then today's finished services, as the engine recorded them.
        let tz = hall.config.time_zone();
        let from = day - chrono::Duration::days(crate::estimate::mean::HISTORY_DAYS);
        let hour = |at: i64| Now::in_zone(at, &tz).time.hour();
        let disruptions = rows::disruptions(&self.conn, from, day.succ_opt().unwrap_or(day))?;
        let disrupted = |d: NaiveDate| disruptions.get(&d).map_or(&[][..], Vec::as_slice);
        for t in rows::history_tickets(&self.conn, from, day)? {
            hall.history
                .add_arrival(&t.service, t.day, hour(t.issued_at));
            if let Some(end) = t.call_end {
                hall.history.add_call_end(&t.service, t.day, end);
            }
            if let Some((at, secs)) = t.finished
                && !Disruption::left_out(disrupted(t.day), at, secs)
            {
                hall.history.add(&t.service, t.day, hour(at), secs);
            }
        }
        // The counters' state changes in one pass: the days before into the history, today's
        // into the day's own list, as the live hall keeps them.
        let mut today = Vec::new();
        for (d, at, counter, open) in
            rows::counter_changes(&self.conn, from, day.succ_opt().unwrap_or(day))?
        {
            if d < day {
                let minute = crate::engine::minute_of_day(at, &tz);
                hall.history.add_counter_change(counter, d, minute, open);
            } else {
                today.push((counter, at, open));
            }
        }
        hall.reseed();
        hall.counter_changes = today;
        hall.disruptions = disrupted(day).to_vec();
        // An outage going on since an earlier day, as the live hall's new day starts with it.
        if let Some(o) = &hall.outage
            && !hall.disruptions.iter().any(|d| d.start == o.started_at)
        {
            let going_on = Disruption {
                kind: DisruptionKind::Outage,
                start: o.started_at,
                end: None,
            };
            hall.disruptions.insert(0, going_on);
        }
        for t in rows::history_tickets(&self.conn, day, day.succ_opt().unwrap_or(day))? {
            if let Some((at, secs)) = t.finished {
                hall.service_times
                    .entry(t.service)
                    .or_default()
                    .record(at, secs);
            }
        }
        hall.clock = rows::last_event_at(&self.conn)?;
        for e in rows::recent_call_events(&self.conn, day, crate::engine::RECENT_CALLS)? {
            hall.restore_call(&e);
        }
        hall.last_seq = rows::last_seq(&self.conn)?;
        hall.last_callback_id = rows::last_callback_id(&self.conn)?;
        hall.ticket_ever_issued |= rows::any_ticket(&self.conn)?;
        Ok(hall)
    }

    /// The mark of the configuration file the hub last started with (see `hallq_hub`'s
    /// `Hub::open`): a changed file is applied at the next start, an unchanged one leaves the
    /// configuration the manager edited since.
    pub fn config_file_mark(&self) -> Result<Option<String>, StoreError> {
        self.meta("config_file")
    }

    pub fn set_config_file_mark(&self, mark: &str) -> Result<(), StoreError> {
        self.set_meta("config_file", mark)
    }

    /// [`Store::set_config_file_mark`] beside a running writer: one short connection of its own,
    /// waiting for the writer's transaction like any other.
    pub fn set_config_file_mark_beside(path: &Path, mark: &str) -> Result<(), StoreError> {
        let conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        upsert_meta(&conn, "config_file", mark)
    }

    /// The outage detector's newest normal answer times (milliseconds, oldest first) and the
    /// probe address they were measured on; `None` before the first was kept.
    pub fn probe_answers(&self) -> Result<Option<(String, Vec<u32>)>, StoreError> {
        let Some(v) = self.meta(PROBE_ANSWERS)? else {
            return Ok(None);
        };
        let kept: ProbeAnswers = serde_json::from_str(&v)
            .map_err(|e| StoreError::Corrupt(format!("meta.{PROBE_ANSWERS} {v:?}: {e}")))?;
        Ok(Some((kept.address, kept.ms)))
    }

    /// Keep the detector's answer times, so that a restarted hub knows the business system's
    /// usual answer at once (and so can still end a slowness it marked before the restart).
    pub fn set_probe_answers(&self, address: &str, ms: &[u32]) -> Result<(), StoreError> {
        let v = serde_json::to_string(&ProbeAnswers {
            address: address.to_string(),
            ms: ms.to_vec(),
        })
        .map_err(|e| StoreError::Corrupt(format!("meta.{PROBE_ANSWERS}: {e}")))?;
        self.set_meta(PROBE_ANSWERS, &v)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        upsert_meta(&self.conn, key, value)
    }

    /// Start a transaction that records commands; nothing is durable until [`Batch::commit`].
    pub fn batch(&mut self) -> Result<Batch<'_>, StoreError> {
        Ok(Batch {
            tx: self.conn.transaction()?,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Callbacks

    pub fn callback(&self, id: i64) -> Result<Option<Callback>, StoreError> {
        rows::callback(&self.conn, id)
    }

    /// Pending and contacted first (oldest first, they have waited longest), then resolved (newest first).
    pub fn callbacks(
        &self,
        status: Option<CallbackStatus>,
        limit: u32,
    ) -> Result<Vec<Callback>, StoreError> {
        rows::callbacks(&self.conn, status, limit)
    }

    pub fn pending_callbacks(&self) -> Result<u32, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM callbacks WHERE status != 'resolved'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Which callbacks and suggestions (the personal data) this database still holds at `now`,
    /// for deleting the others from backups ([`backup::scrub`]).
    pub fn personal_data_kept(&self, now: Millis) -> Result<backup::Kept, StoreError> {
        let pairs = |sql: &str| -> Result<Vec<(i64, i64)>, StoreError> {
            let mut st = self.conn.prepare(sql)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(backup::Kept {
            callbacks: pairs("SELECT id, captured_at FROM callbacks")?,
            suggestions: pairs("SELECT id, at FROM suggestions")?,
            // A row being committed while this is read may carry an instant a little earlier.
            as_of: now - 60_000,
        })
    }

    /// Delete resolved callbacks (and so their phone numbers) resolved before `before`.
    pub fn purge_resolved_callbacks(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM callbacks WHERE status = 'resolved' AND resolved_at < ?1",
            [before],
        )?)
    }

    /// Delete ticket and event history of business days before `before` (reports lose those days).
    pub fn purge_history(&self, before: NaiveDate) -> Result<usize, StoreError> {
        let day = before.format("%Y-%m-%d").to_string();
        let tx = self.conn.unchecked_transaction()?;
        let mut n = tx.execute("DELETE FROM tickets WHERE day < ?1", [&day])?;
        n += tx.execute("DELETE FROM events WHERE day < ?1", [&day])?;
        tx.commit()?;
        Ok(n)
    }

    // -----------------------------------------------------------------------------------------
    // Accounts, devices, sessions (hashes are made by the caller; the store never sees a secret)

    /// Add an account, or give an existing one a new password and role. Either way every session
    /// of that login ends in the same transaction: a password reset locks out whoever knew the old
    /// one, and a demoted manager keeps no manager session.
    pub fn add_account(
        &self,
        login: &str,
        role: &str,
        password_hash: &str,
        at: Millis,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "INSERT INTO accounts (login, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (login) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, disabled = 0",
            params![login, role, password_hash, at],
        )?;
        tx.execute("DELETE FROM sessions WHERE login = ?1", [login])?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// (role, password hash) of an enabled account.
    pub fn account(&self, login: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT role, password_hash FROM accounts WHERE login = ?1 AND disabled = 0",
                [login],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// (login, role, disabled) of every account.
    pub fn accounts(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT login, role, disabled FROM accounts ORDER BY login")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn disable_account(&self, login: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("UPDATE accounts SET disabled = 1 WHERE login = ?1", [login])?;
        self.conn
            .execute("DELETE FROM sessions WHERE login = ?1", [login])?;
        Ok(n > 0)
    }

    pub fn add_device(
        &self,
        name: &str,
        role: &str,
        token_hash: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.add_device_at(name, role, None, token_hash, at)
    }

    /// Add or re-issue a device; `counter` binds it to one counter (a rating tablet).
    pub fn add_device_at(
        &self,
        name: &str,
        role: &str,
        counter: Option<u32>,
        token_hash: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO devices (name, role, token_hash, created_at, counter) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash,
             counter = excluded.counter, revoked = 0",
            params![name, role, token_hash, at, counter],
        )?;
        Ok(())
    }

    /// (name, role, counter) of the device holding this token hash, unless revoked.
    pub fn device_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(String, String, Option<u32>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, role, counter FROM devices WHERE token_hash = ?1 AND revoked = 0",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// (name, role, revoked) of every device.
    pub fn devices(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        Ok(self
            .device_list()?
            .into_iter()
            .map(|(name, role, _, revoked)| (name, role, revoked))
            .collect())
    }

    /// (name, role, counter, revoked) of every device.
    pub fn device_list(&self) -> Result<Vec<DeviceRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT name, role, counter, revoked FROM devices ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn revoke_device(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("UPDATE devices SET revoked = 1 WHERE name = ?1", [name])?
            > 0)
    }

    pub fn add_session(
        &self,
        token_hash: &str,
        login: &str,
        role: &str,
        counter: Option<u32>,
        at: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE expires_at < ?1", [at])?;
        self.conn.execute(
            "INSERT INTO sessions (token_hash, login, role, counter, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token_hash, login, role, counter, at, expires_at],
        )?;
        Ok(())
    }

    /// (login, role, counter, expires_at) of a session that has not expired at `now`. The role is
    /// the account's as it is now, and a disabled or deleted account has no session, so a change
    /// made behind the session's back (another process, an older program) still takes effect.
    pub fn session(&self, token_hash: &str, now: Millis) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.login, a.role, s.counter, s.expires_at FROM sessions s
                 JOIN accounts a ON a.login = s.login AND a.disabled = 0
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?)
    }

    pub fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Audit trail and suggestions

    pub fn audit(
        &self,
        at: Millis,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![at, actor, action, detail.to_string()],
        )?;
        Ok(())
    }

    /// Newest first: (at, actor, action, detail).
    pub fn audit_log(
        &self,
        limit: u32,
    ) -> Result<Vec<(Millis, String, String, serde_json::Value)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = st.query_map([limit], |r| {
            let d: String = r.get(3)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                serde_json::from_str(&d).unwrap_or(serde_json::Value::Null),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_suggestion(
        &self,
        at: Millis,
        text: &str,
        contact: Option<&str>,
        source: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO suggestions (at, text, contact, source) VALUES (?1, ?2, ?3, ?4)",
            params![at, text, contact, source],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Remembers that the phone `phone_key` holds ticket `number` on `day`, and forgets the days
    /// before it (numbers start again each day, so older rows mean nothing).
    pub fn hold_phone_ticket(
        &self,
        phone_key: &[u8],
        day: NaiveDate,
        number: &str,
    ) -> Result<(), StoreError> {
        let day = day.to_string();
        self.conn
            .execute("DELETE FROM phone_tickets WHERE day < ?1", params![day])?;
        self.conn.execute(
            "INSERT INTO phone_tickets (phone_key, day, number) VALUES (?1, ?2, ?3)
             ON CONFLICT (phone_key) DO UPDATE SET day = excluded.day, number = excluded.number",
            params![phone_key, day, number],
        )?;
        Ok(())
    }

    /// The tickets phones hold on `day`: (phone key, number).
    pub fn phone_tickets(&self, day: NaiveDate) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT phone_key, number FROM phone_tickets WHERE day = ?1")?;
        let rows = st.query_map([day.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Newest first: (id, at, text, contact, source).
    pub fn suggestions(&self, limit: u32) -> Result<Vec<SuggestionRow>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, at, text, contact, source FROM suggestions ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // -----------------------------------------------------------------------------------------
    // History

    /// Events of `day` in order (for reports, supervision and tests).
    pub fn events_of_day(&self, day: NaiveDate) -> Result<Vec<Event>, StoreError> {
        rows::events_of_day(&self.conn, day)
    }

    /// The business system's slow mark going on on `day`: since when, and who made it.
    pub fn slow_mark(&self, day: NaiveDate) -> Result<Option<(Millis, String)>, StoreError> {
        rows::slow_mark(&self.conn, &rows::day_str(day))
    }

    /// Every ticket of `day`, including finished, no-show and expired ones.
    pub fn tickets_of_day(&self, day: NaiveDate) -> Result<Vec<crate::hall::Ticket>, StoreError> {
        rows::tickets_of_day(&self.conn, day)
    }

    /// The outage that ended last: (outage id, when it ended).
    pub fn last_ended_outage(&self) -> Result<Option<(i64, Millis)>, StoreError> {
        let row: Option<(String, Millis)> = self
            .conn
            .query_row(
                "SELECT body, at FROM events WHERE type = 'outage_ended' ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((body, at)) = row else {
            return Ok(None);
        };
        match serde_json::from_str::<EventKind>(&body) {
            Ok(EventKind::OutageEnded { id }) => Ok(Some((id, at))),
            _ => Err(StoreError::Corrupt(format!(
                "outage_ended event with body {body:?}"
            ))),
        }
    }

    /// Callbacks captured during outage `outage_id`, oldest first.
    pub fn callbacks_of_outage(&self, outage_id: i64) -> Result<Vec<Callback>, StoreError> {
        rows::callbacks_of_outage(&self.conn, outage_id)
    }

    pub fn current_outage(&self) -> Result<Option<Outage>, StoreError> {
        Ok(rows::outage(&self.conn)?.map(|(o, _)| o))
    }
}

/// A group of commands written in one transaction (group commit).
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Batch<'_> {
    /// Write what one command did; `hall` is the state right after it.
    pub fn record(&self, ex: &Executed, hall: &Hall) -> Result<(), StoreError> {
        for e in &ex.events {
            rows::insert_event(&self.tx, e, hall.day)?;
            rows::write_effects(&self.tx, e, hall)?;
        }
        if let Some(cb) = &ex.callback {
            rows::upsert_callback(&self.tx, cb)?;
        }
        Ok(())
    }

    /// Commit and sync: after this returns, the batch survives a power cut.
    pub fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit()?)
    }
}

/// Event kinds that touch ticket rows.
pub(crate) fn touched_ticket(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::TicketIssued { ticket } => Some(&ticket.number),
        EventKind::TicketCalled { number, .. }
        | EventKind::TicketRecalled { number, .. }
        | EventKind::ServiceStarted { number, .. }
        | EventKind::TicketFinished { number, .. }
        | EventKind::TicketNoShow { number, .. }
        | EventKind::TicketTransferred { number, .. } => Some(number),
        _ => None,
    }
}

/// `meta` key of [`Store::probe_answers`].
const PROBE_ANSWERS: &str = "probe_answers";

#[derive(serde::Serialize, serde::Deserialize)]
struct ProbeAnswers {
    address: String,
    ms: Vec<u32>,
}

fn upsert_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
