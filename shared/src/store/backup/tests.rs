//! Backup, rotation and restore on real SQLite files, with the hub's kind of writer running meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use chrono::NaiveDate;

use super::*;

/// A database shaped like the hub's: WAL mode, a ticket table and a counter kept in step with it in the
/// same transaction, so a torn copy shows up as a mismatch. Padded so the copy needs many steps.
fn hub_db(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    c.execute_batch(
        "PRAGMA user_version=3;
         CREATE TABLE ticket (id INTEGER PRIMARY KEY, number TEXT NOT NULL, pad BLOB);
         CREATE TABLE issued (n INTEGER NOT NULL);
         INSERT INTO issued VALUES (0);
         CREATE TABLE filler (b BLOB);",
    )
    .unwrap();
    // About 3000 pages: three steps at least, long enough for the writer to interleave.
    c.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k WHERE i < 3000)
         INSERT INTO filler SELECT randomblob(4000) FROM k",
        [],
    )
    .unwrap();
    c
}

fn issue(c: &Connection, n: i64) {
    c.execute_batch("BEGIN IMMEDIATE").unwrap();
    c.execute(
        "INSERT INTO ticket (id, number, pad) VALUES (?1, printf('A%03d', ?1), randomblob(3000))",
        [n],
    )
    .unwrap();
    c.execute("UPDATE issued SET n = ?1", [n]).unwrap();
    c.execute_batch("COMMIT").unwrap();
}

/// (tickets, issued counter, highest ticket id) of a database file.
fn census(path: &Path) -> (i64, i64, i64) {
    let c = Connection::open(path).unwrap();
    c.query_row(
        "SELECT (SELECT count(*) FROM ticket), (SELECT n FROM issued), \
                (SELECT coalesce(max(id), 0) FROM ticket)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

#[test]
fn backup_while_writing_then_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallq.db");
    let hub = hub_db(&db);
    let writing = Arc::new(AtomicBool::new(true));
    let started = Arc::new(Barrier::new(2));
    let writer = {
        let (db, writing, started) = (db.clone(), writing.clone(), started.clone());
        thread::spawn(move || {
            let c = Connection::open(&db).unwrap();
            c.busy_timeout(Duration::from_secs(10)).unwrap();
            issue(&c, 1);
            started.wait();
            let mut n = 1;
            // Bounded: stops when told or after 20 000 tickets, whichever comes first.
            while writing.load(Ordering::Relaxed) && n < 20_000 {
                n += 1;
                issue(&c, n);
            }
            // A few more after the backup finished, so the restore visibly goes back in time.
            for _ in 0..50 {
                n += 1;
                issue(&c, n);
            }
            n
        })
    };
    started.wait();
    let dest = dir.path().join("backups").join("hallq-20261125T183000Z.db");
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let info = backup_online(&db, &dest).unwrap();
    writing.store(false, Ordering::Relaxed);
    let written = writer.join().unwrap();

    assert_eq!(info.path, dest);
    assert_eq!(info.schema_version, 3);
    assert!(info.pages > 3000, "{info:?}");
    assert_eq!(info.bytes, fs::metadata(&dest).unwrap().len());
    assert!(!partial_name(&dest).exists());
    // A single self-contained file: no -wal beside it, journal mode back to DELETE.
    assert!(!with_suffix(&dest, "-wal").exists());
    let journal: String = Connection::open(&dest)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete");

    // The copy is one consistent moment of the live database: every ticket up to the counter, no more.
    let (tickets, issued, max_id) = census(&dest);
    assert!(tickets >= 1 && tickets < written, "{tickets} of {written}");
    assert_eq!(tickets, issued);
    assert_eq!(tickets, max_id);
    assert_eq!(verify(&dest).unwrap(), 3);

    // The hub still has the database open: restore must refuse and leave everything as it was.
    assert!(matches!(restore(&dest, &db), Err(BackupError::InUse(_))));
    assert_eq!(census(&db).0, written);

    drop(hub);
    let restored = restore(&dest, &db).unwrap();
    assert_eq!(restored.schema_version, 3);
    assert_eq!(census(&db), (tickets, issued, max_id));
    let aside = restored.replaced.expect("the replaced database is kept");
    assert!(
        aside
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("hallq.db.replaced-")
    );
    assert_eq!(census(&aside).0, written);
    // The restored database is the hub's kind again (WAL) and passes the check.
    let c = Connection::open(&db).unwrap();
    let journal: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    drop(c);
    assert_eq!(verify(&db).unwrap(), 3);
}

#[test]
fn restore_refuses_while_an_idle_connection_holds_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallq.db");
    let hub = hub_db(&db);
    issue(&hub, 1);
    let backup = dir.path().join("b.db");
    backup_online(&db, &backup).unwrap();

    // Idle: no transaction open, as the hub is between commands most of the time.
    assert!(matches!(ensure_not_in_use(&db), Err(BackupError::InUse(_))));
    assert!(matches!(restore(&backup, &db), Err(BackupError::InUse(_))));
    drop(hub);
    ensure_not_in_use(&db).unwrap();
    // The probe itself must not leave the database locked.
    ensure_not_in_use(&db).unwrap();
    restore(&backup, &db).unwrap();
}

#[test]
fn a_corrupt_backup_is_refused_and_the_database_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallq.db");
    drop(hub_db(&db));
    let before = fs::read(&db).unwrap();

    let garbage = dir.path().join("hallq-20261101T000000Z.db");
    fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        restore(&garbage, &db),
        Err(BackupError::Corrupt { .. })
    ));

    // A real backup with a page overwritten in the middle.
    let good = dir.path().join("good.db");
    backup_online(&db, &good).unwrap();
    let mut bytes = fs::read(&good).unwrap();
    let mid = bytes.len() / 2 / 4096 * 4096;
    bytes[mid..mid + 4096].fill(0xa5);
    let damaged = dir.path().join("damaged.db");
    fs::write(&damaged, bytes).unwrap();
    assert!(restore(&damaged, &db).is_err());

    assert!(matches!(
        restore(&dir.path().join("nope.db"), &db),
        Err(BackupError::Missing(_))
    ));
    assert_eq!(fs::read(&db).unwrap(), before);
    assert!(!partial_name(&db).exists());
}

#[test]
fn backing_up_a_missing_or_foreign_file_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.db");
    assert!(matches!(
        backup_online(&dir.path().join("missing.db"), &dest),
        Err(BackupError::Missing(_))
    ));
    let text = dir.path().join("hall.toml");
    fs::write(&text, "[hall]\nname = 'x'\n".repeat(200)).unwrap();
    assert!(backup_online(&text, &dest).is_err());
    assert!(!dest.exists());
    assert!(!partial_name(&dest).exists());
}

#[test]
fn restore_into_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hallq.db");
    let hub = hub_db(&db);
    issue(&hub, 1);
    drop(hub);
    let info = backup_into_dir(&db, &dir.path().join("backups")).unwrap();
    assert!(
        parse_backup_file_name(info.path.file_name().unwrap().to_str().unwrap()).is_some(),
        "{info:?}"
    );

    let fresh = dir.path().join("fresh").join("hallq.db");
    fs::create_dir_all(fresh.parent().unwrap()).unwrap();
    let r = restore(&info.path, &fresh).unwrap();
    assert_eq!(r.replaced, None);
    assert_eq!(census(&fresh), (1, 1, 1));
}

#[test]
fn backup_names_round_trip_and_others_are_ignored() {
    let at = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_hms_opt(18, 30, 5)
        .unwrap();
    let name = backup_file_name(at);
    assert_eq!(name, "hallq-20261125T183005Z.db");
    assert_eq!(parse_backup_file_name(&name), Some(at));
    for other in [
        "hallq.db",
        "hallq-20261125T183005Z.db.partial",
        "hallq-20261125T183005Z.db-wal",
        "hallq-2026-11-25.db",
        "hallq-20261325T183005Z.db",
        "notes.txt",
    ] {
        assert_eq!(parse_backup_file_name(other), None, "{other}");
    }
}

#[test]
fn rotation_keeps_the_newest_of_each_recent_day_and_week() {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: u32, h: u32| {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, 30, 0)
            .unwrap()
    };
    // Two backups a day (nightly plus one before an update) for 30 days of November.
    for d in 1..=30 {
        for h in [2, 14] {
            fs::write(dir.path().join(backup_file_name(day(d, h))), b"x").unwrap();
        }
    }
    fs::write(dir.path().join("README"), b"keep me").unwrap();
    fs::write(dir.path().join("hallq.db.replaced-x"), b"keep me").unwrap();

    let r = rotate(dir.path(), 7, 4).unwrap();
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect()
    };
    let kept = names(&r.kept);
    // The newest of 24–30 Nov; those already cover two ISO weeks (Monday 30 Nov, and 23–29 Nov), so
    // the weekly ones add the newest of the two weeks before: Sundays 22 and 15 Nov.
    let mut want: Vec<String> = (24..=30)
        .rev()
        .map(|d| backup_file_name(day(d, 14)))
        .collect();
    want.extend([22, 15].map(|d| backup_file_name(day(d, 14))));
    assert_eq!(kept, want);
    assert_eq!(r.removed.len(), 60 - want.len());
    assert!(dir.path().join("README").exists());
    assert!(dir.path().join("hallq.db.replaced-x").exists());

    // Idempotent, and the newest backup survives even with nothing asked for.
    assert_eq!(
        rotate(dir.path(), 7, 4).unwrap().removed,
        Vec::<PathBuf>::new()
    );
    let r = rotate(dir.path(), 0, 0).unwrap();
    assert_eq!(names(&r.kept), vec![backup_file_name(day(30, 14))]);
}
