//! `hallq-hub backup` and `hallq-hub restore`: the hall database's nightly copy (run by
//! hallq-backup.timer and before every update) and the way back from one.
//!
//! `backup` prints the new file's path alone on stdout (the update script records it); the rest goes to
//! stderr for the journal.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hallq_shared::store::backup;

/// The database file inside the data directory.
pub const DB_FILE: &str = "hallq.db";

/// Backs the hub's database up into `to_dir` while the hub runs, then thins the backups there out to the
/// newest of the last `keep_daily` days and `keep_weekly` weeks.
pub fn backup_cmd(
    data_dir: &Path,
    to_dir: &Path,
    keep_daily: usize,
    keep_weekly: usize,
) -> Result<()> {
    let db = data_dir.join(DB_FILE);
    let info = backup::backup_into_dir(&db, to_dir)
        .with_context(|| format!("backing up {} into {}", db.display(), to_dir.display()))?;
    eprintln!(
        "backup written: {} ({} KiB, {} pages, schema version {}, {} restart(s), {:.1} s)",
        info.path.display(),
        info.bytes / 1024,
        info.pages,
        info.schema_version,
        info.restarts,
        info.elapsed.as_secs_f64()
    );
    let rotation = backup::rotate(to_dir, keep_daily, keep_weekly)
        .with_context(|| format!("rotating the backups in {}", to_dir.display()))?;
    for old in &rotation.removed {
        eprintln!("old backup removed: {}", old.display());
    }
    eprintln!(
        "{} backup(s) kept in {}",
        rotation.kept.len(),
        to_dir.display()
    );
    println!("{}", info.path.display());
    Ok(())
}

/// Puts a backup in place of the hub's database. The hub must be stopped; the replaced database is kept
/// beside it as `hallq.db.replaced-<time>`.
pub fn restore_cmd(file: &Path, data_dir: &Path) -> Result<()> {
    if !data_dir.is_dir() {
        bail!("the data directory {} does not exist", data_dir.display());
    }
    let db = data_dir.join(DB_FILE);
    let info = backup::restore(file, &db)
        .with_context(|| format!("restoring {} over {}", file.display(), db.display()))?;
    eprintln!(
        "restored {} (schema version {}) to {}",
        file.display(),
        info.schema_version,
        db.display()
    );
    if let Some(old) = info.replaced {
        eprintln!("the replaced database is kept as {}", old.display());
    }
    eprintln!("start the hub again: systemctl start hallq-hub");
    Ok(())
}
