//! Backups of the hall's database while the hub keeps running: SQLite's online backup API copied in
//! steps, a verified copy renamed into place, rotation of the nightly copies, and a restore that refuses
//! to pull the database out from under a running hub.
//!
//! Backup files are named `hallq-YYYYMMDDTHHMMSSZ.db` (UTC, so names never repeat or go backwards when
//! the clocks or the hall's time zone change). Rotation only ever touches files with exactly that shape.

use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// Pages copied per step: 4 MiB with the default page size, a few milliseconds of work, so the hub's
/// writer never waits long on the backup.
const PAGES_PER_STEP: i32 = 1024;
/// Pause between steps, to leave the disk to the hub.
const PAUSE: Duration = Duration::from_millis(5);
/// A writer on another connection restarts the backup. After this many restarts the rest is copied in
/// one step (one read transaction: in WAL mode this still does not block the hub's writer).
const MAX_RESTARTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{path} failed the integrity check: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{0} is in use (is the hub running? stop it first: systemctl stop hallq-kiosk hallq-hub)"
    )]
    InUse(PathBuf),
}

fn sql(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a finished backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub bytes: u64,
    pub pages: u32,
    /// The schema version (`PRAGMA user_version`) the copy carries.
    pub schema_version: i64,
    /// Times the copy started over because the hub wrote meanwhile.
    pub restarts: u32,
    pub elapsed: Duration,
}

/// Copies the live database `db` to the file `dest` (replaced if present) without stopping the hub.
///
/// The copy is written to `dest` + `.partial`, checked with `PRAGMA integrity_check`, switched to the
/// rollback journal (a single self-contained file), synced and only then renamed to `dest`: a crash or a
/// full disk never leaves a half backup under a backup's name.
pub fn backup_online(db: &Path, dest: &Path) -> Result<BackupInfo, BackupError> {
    let started = Instant::now();
    if !db.exists() {
        return Err(BackupError::Missing(db.to_path_buf()));
    }
    // Read-write without CREATE: a wrong path fails instead of backing up a new empty database, and a
    // WAL database can be read even when its -shm file has to be created.
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(db))?;
    src.busy_timeout(Duration::from_secs(10)).map_err(sql(db))?;
    // Fail on a file that is not a database before creating anything.
    src.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(sql(db))?;

    let tmp = partial_name(dest);
    remove_if_present(&tmp)?;
    let result = copy_into(&src, db, &tmp);
    drop(src);
    let (pages, restarts) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let schema_version = match verify(&tmp) {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, dest).map_err(io(dest))?;
    sync_dir(dest);
    let bytes = fs::metadata(dest).map_err(io(dest))?.len();
    Ok(BackupInfo {
        path: dest.to_path_buf(),
        bytes,
        pages,
        schema_version,
        restarts,
        elapsed: started.elapsed(),
    })
}

/// Runs the backup API from `src` into a new file `tmp`; returns (pages, restarts).
fn copy_into(src: &Connection, db: &Path, tmp: &Path) -> Result<(u32, u32), BackupError> {
    let mut dst = Connection::open(tmp).map_err(sql(tmp))?;
    {
        let backup = Backup::new(src, &mut dst).map_err(sql(tmp))?;
        let mut restarts = 0;
        let mut last_remaining = i32::MAX;
        loop {
            let pages = if restarts >= MAX_RESTARTS {
                -1
            } else {
                PAGES_PER_STEP
            };
            match backup.step(pages).map_err(sql(db))? {
                StepResult::Done => break,
                StepResult::More => {
                    let remaining = backup.progress().remaining;
                    // The count of remaining pages only grows when a writer made the copy start over.
                    if remaining > last_remaining {
                        restarts += 1;
                    }
                    last_remaining = remaining;
                    thread::sleep(PAUSE);
                }
                // Busy or Locked: the hub holds a lock for a moment.
                _ => thread::sleep(PAUSE * 10),
            }
        }
        let pages = backup.progress().pagecount.max(0) as u32;
        drop(backup);
        // One file, no -wal beside it: a backup must be copyable and restorable on its own.
        dst.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))
            .map_err(sql(tmp))?;
        dst.close().map_err(|(_, e)| sql(tmp)(e))?;
        Ok((pages, restarts))
    }
}

/// Runs `PRAGMA integrity_check` on a database file and returns its schema version.
pub fn verify(path: &Path) -> Result<i64, BackupError> {
    if !path.exists() {
        return Err(BackupError::Missing(path.to_path_buf()));
    }
    let c =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql(path))?;
    let lines: Vec<String> = c
        .prepare("PRAGMA integrity_check")
        .and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect())
        })
        .map_err(|e| match e {
            // A file that is not a database at all is corrupt, not an SQL error.
            rusqlite::Error::SqliteFailure(f, m) if f.code == rusqlite::ErrorCode::NotADatabase => {
                BackupError::Corrupt {
                    path: path.to_path_buf(),
                    detail: m.unwrap_or_else(|| "not a database".into()),
                }
            }
            e => sql(path)(e),
        })?;
    if lines != ["ok"] {
        return Err(BackupError::Corrupt {
            path: path.to_path_buf(),
            detail: lines.join("; "),
        });
    }
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql(path))
}

/// The file name of a backup taken at `at` (UTC).
pub fn backup_file_name(at: NaiveDateTime) -> String {
    format!("hallq-{}.db", at.format("%Y%m%dT%H%M%SZ"))
}

/// The time a backup was taken, read back from its file name; `None` for any other file.
pub fn parse_backup_file_name(name: &str) -> Option<NaiveDateTime> {
    let stamp = name.strip_prefix("hallq-")?.strip_suffix(".db")?;
    if stamp.len() != 16 {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()
}

/// Backs `db` up into the directory `dir` (created if needed) under a name stamped with the current
/// UTC time.
pub fn backup_into_dir(db: &Path, dir: &Path) -> Result<BackupInfo, BackupError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let dest = dir.join(backup_file_name(Utc::now().naive_utc()));
    backup_online(db, &dest)
}

/// What [`rotate`] kept and removed, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    pub kept: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
}

/// Thins out the backups in `dir`: the newest backup of each of the `keep_daily` most recent days that
/// have one, and the newest of each of the `keep_weekly` most recent ISO weeks, are kept; every other
/// file named like a backup is deleted. Other files are never touched. The newest backup is always kept.
pub fn rotate(dir: &Path, keep_daily: usize, keep_weekly: usize) -> Result<Rotation, BackupError> {
    let mut backups: Vec<(NaiveDateTime, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let Some(at) = name.to_str().and_then(parse_backup_file_name) else {
            continue;
        };
        if entry.file_type().map_err(io(&entry.path()))?.is_file() {
            backups.push((at, entry.path()));
        }
    }
    backups.sort_by(|a, b| b.cmp(a));

    let mut days: Vec<NaiveDate> = Vec::new();
    let mut weeks: Vec<(i32, u32)> = Vec::new();
    let mut rotation = Rotation::default();
    for (i, (at, path)) in backups.into_iter().enumerate() {
        let day = at.date();
        let week = (day.iso_week().year(), day.iso_week().week());
        let mut keep = i == 0;
        if !days.contains(&day) && days.len() < keep_daily {
            days.push(day);
            keep = true;
        }
        if !weeks.contains(&week) && weeks.len() < keep_weekly {
            weeks.push(week);
            keep = true;
        }
        if keep {
            rotation.kept.push(path);
        } else {
            fs::remove_file(&path).map_err(io(&path))?;
            rotation.removed.push(path);
        }
    }
    Ok(rotation)
}

/// The personal data the live database still holds, as (id, time taken) pairs, read at `as_of`.
/// A backup row of the same kind taken no later than `as_of` and not among them was deleted by
/// retention since the backup was made. Pairs rather than ids, because a suggestion's id can be
/// given again after the highest one is deleted; and rows taken after `as_of` (in a backup made
/// since) are never touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub callbacks: Vec<(i64, i64)>,
    pub suggestions: Vec<(i64, i64)>,
    pub as_of: i64,
}

/// Deletes from the backup `path` what retention has deleted from the live database since (see
/// [`Kept`]), with deleted content overwritten, and rewrites the file when it has free pages that
/// may hold older deletions. Returns the rows deleted. A backup promised to customers as deleted
/// 30 days after their callback was resolved must not keep their number for weeks longer.
pub fn scrub(path: &Path, kept: &Kept) -> Result<usize, BackupError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(path))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(sql(path))?;
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(sql(path))?;
    let tx = conn.transaction().map_err(sql(path))?;
    tx.execute_batch(
        "CREATE TEMP TABLE kept_callbacks (id INTEGER, at INTEGER, PRIMARY KEY (id, at));
         CREATE TEMP TABLE kept_suggestions (id INTEGER, at INTEGER, PRIMARY KEY (id, at));",
    )
    .map_err(sql(path))?;
    for (table, pairs) in [
        ("kept_callbacks", &kept.callbacks),
        ("kept_suggestions", &kept.suggestions),
    ] {
        let mut st = tx
            .prepare(&format!(
                "INSERT OR IGNORE INTO temp.{table} (id, at) VALUES (?1, ?2)"
            ))
            .map_err(sql(path))?;
        for (id, at) in pairs {
            st.execute([id, at]).map_err(sql(path))?;
        }
    }
    let mut n = tx
        .execute(
            "DELETE FROM callbacks WHERE captured_at <= ?1
                AND (id, captured_at) NOT IN (SELECT id, at FROM temp.kept_callbacks)",
            [kept.as_of],
        )
        .map_err(sql(path))?;
    n += tx
        .execute(
            "DELETE FROM suggestions WHERE at <= ?1
                AND (id, at) NOT IN (SELECT id, at FROM temp.kept_suggestions)",
            [kept.as_of],
        )
        .map_err(sql(path))?;
    // Backups from before schema 4 still carry clerks' callback notes in the event log.
    tx.execute(
        "UPDATE events SET body = json_remove(body, '$.note')
          WHERE type = 'callback_updated' AND json_type(body, '$.note') = 'text'",
        [],
    )
    .map_err(sql(path))?;
    tx.execute_batch("DROP TABLE temp.kept_callbacks; DROP TABLE temp.kept_suggestions;")
        .map_err(sql(path))?;
    tx.commit().map_err(sql(path))?;
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .map_err(sql(path))?;
    if free > 0 {
        conn.execute_batch("VACUUM").map_err(sql(path))?;
    }
    drop(conn);
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))?;
    Ok(n)
}

/// [`scrub`] every backup (files named like one) in `dir`; a missing `dir` has none. Returns
/// (backup, rows deleted) for each backup that had something deleted.
pub fn scrub_dir(dir: &Path, kept: &Kept) -> Result<Vec<(PathBuf, usize)>, BackupError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut done = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let named_like_backup = entry
            .file_name()
            .to_str()
            .and_then(parse_backup_file_name)
            .is_some();
        if named_like_backup && entry.file_type().map_err(io(&entry.path()))?.is_file() {
            let path = entry.path();
            let n = scrub(&path, kept)?;
            if n > 0 {
                done.push((path, n));
            }
        }
    }
    Ok(done)
}

/// What [`restore`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreInfo {
    /// Where the replaced database now lies (with its -wal/-shm beside it), if there was one.
    pub replaced: Option<PathBuf>,
    pub schema_version: i64,
}

/// Puts the backup `backup` in place of the database `db`.
///
/// Refuses while another process holds `db` open (the hub must be stopped). The backup is verified
/// first; the replaced database and its -wal/-shm files are renamed to `hallq.db.replaced-<stamp>` (never
/// deleted); the new file gets the owner of the one it replaces (or of the directory), so a restore run
/// as root still leaves a database the hub's own user can write.
pub fn restore(backup: &Path, db: &Path) -> Result<RestoreInfo, BackupError> {
    let schema_version = verify(backup)?;
    if db.exists() {
        ensure_not_in_use(db)?;
    }
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let owner = fs::metadata(db)
        .or_else(|_| fs::metadata(&dir))
        .map_err(io(&dir))?;

    let tmp = partial_name(db);
    remove_if_present(&tmp)?;
    fs::copy(backup, &tmp).map_err(io(&tmp))?;
    let prepared = (|| {
        let c = Connection::open(&tmp).map_err(sql(&tmp))?;
        // The hub runs in WAL mode; a restored file should look like the one it replaces.
        c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(sql(&tmp))?;
        c.close().map_err(|(_, e)| sql(&tmp)(e))?;
        if fs::metadata(&tmp).map_err(io(&tmp))?.uid() != owner.uid()
            || fs::metadata(&tmp).map_err(io(&tmp))?.gid() != owner.gid()
        {
            std::os::unix::fs::chown(&tmp, Some(owner.uid()), Some(owner.gid()))
                .map_err(io(&tmp))?;
        }
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))
    })();
    if let Err(e) = prepared {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }

    let replaced = if db.exists() {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = with_suffix(db, &format!(".replaced-{stamp}"));
        for side in ["-wal", "-shm"] {
            let from = with_suffix(db, side);
            if from.exists() {
                fs::rename(&from, with_suffix(&aside, side)).map_err(io(&from))?;
            }
        }
        fs::rename(db, &aside).map_err(io(db))?;
        Some(aside)
    } else {
        None
    };
    fs::rename(&tmp, db).map_err(io(db))?;
    sync_dir(db);
    Ok(RestoreInfo {
        replaced,
        schema_version,
    })
}

/// Fails with [`BackupError::InUse`] when another connection (in this or another process) has `db`
/// open. A WAL connection keeps a shared lock on the database file as long as it is open, so an
/// exclusive-locking-mode transaction only succeeds when nobody else is there.
pub fn ensure_not_in_use(db: &Path) -> Result<(), BackupError> {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sql(db))?;
    c.busy_timeout(Duration::ZERO).map_err(sql(db))?;
    let probe = c
        .query_row("PRAGMA locking_mode=EXCLUSIVE", [], |_| Ok(()))
        .and_then(|()| c.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
    match probe {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Err(BackupError::InUse(db.to_path_buf()))
        }
        Err(e) => Err(sql(db)(e)),
    }
}

fn partial_name(path: &Path) -> PathBuf {
    with_suffix(path, ".partial")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

/// Makes a rename durable. Best effort: some file systems refuse to sync a directory.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}

#[cfg(test)]
mod tests;
