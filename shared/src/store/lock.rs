//! One writer per hall database: an exclusive lock on a file beside it, held for as long as a hub
//! runs on it.
//!
//! The writer numbers events itself (it keeps the last `seq` in memory), so a second hub started
//! on the same data directory, by hand beside the service for instance, would write events the
//! first one does not know about, and from then on every commit of the first would fail on a
//! duplicate `seq`: the hall would stop taking tickets. The operating system drops the lock when
//! the process ends however it ends (SIGKILL, power cut), so a crashed hub never blocks the next.
//! The command-line tools that add accounts or devices do not take it: they write no events.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;

/// How often, and how many times, a lock held elsewhere is tried again: two seconds in all.
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(50);
const RETRIES: u32 = 40;

/// Held while a hub writes to the database; released when dropped or when the process ends.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// The lock file for the database `db`: `hallq.db` → `hallq.db.writer-lock`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".writer-lock");
        db.with_file_name(name)
    }

    /// Take the lock for `db`, or say that another process holds it (after trying for two
    /// seconds).
    pub fn acquire(db: &Path) -> Result<WriterLock, StoreError> {
        let path = Self::path_for(db);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::open(db, e))?;
        }
        let opened = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path);
        // A lock file left by another user (a hub once started by hand as root) can still be
        // locked through a read-only handle; only the note of who holds it is skipped.
        let (mut file, writable) = match opened {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
                File::open(&path)
                    .map_err(|e| StoreError::open(db, format!("{}: {e}", path.display())))?,
                false,
            ),
            Err(e) => return Err(StoreError::open(db, format!("{}: {e}", path.display()))),
        };
        // A child process started at the moment the last holder let go (any program the hub, or
        // a test beside it, runs) holds a copy of its descriptor, and with it the lock, from its
        // fork until its exec: a few milliseconds, more on a loaded machine. So the lock is tried
        // again for a while before another writer is named.
        let mut tried = 0;
        let locked = loop {
            match file.try_lock() {
                Err(TryLockError::WouldBlock) if tried < RETRIES => {
                    tried += 1;
                    std::thread::sleep(RETRY_EVERY);
                }
                other => break other,
            }
        };
        match locked {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(StoreError::InUse {
                    path: db.to_path_buf(),
                    holder: if holder.is_empty() {
                        "another process".into()
                    } else {
                        format!("process {holder}")
                    },
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError::open(db, format!("{}: {e}", path.display())));
            }
        }
        // Who holds it, for the message above; the lock itself does not depend on it.
        if writable {
            let _ = file.set_len(0).and_then(|_| {
                write!(file, "{}", std::process::id())?;
                file.flush()
            });
        }
        Ok(WriterLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hallq.db");
        let first = WriterLock::acquire(&db).unwrap();
        assert_eq!(first.path(), dir.path().join("hallq.db.writer-lock"));
        let err = WriterLock::acquire(&db).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::InUse { .. }), "{msg}");
        assert!(msg.contains("hallq.db"), "{msg}");
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        WriterLock::acquire(&db).unwrap();
    }
}
