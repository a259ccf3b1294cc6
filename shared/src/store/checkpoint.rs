//! Background WAL checkpoints on a connection of their own, so that no batch of the writer stalls
//! while SQLite copies the log into the database file.
//!
//! By default SQLite checkpoints inside whichever commit pushes the log past 1,000 pages: that
//! commit then also rewrites the database pages and syncs the main file, and every customer queued
//! behind it waits. Here this thread runs `PRAGMA wal_checkpoint(PASSIVE)` once a second, which
//! never blocks the writer or any reader. Durability does not depend on it: a commit is durable
//! once its log frames are synced.
//!
//! Under steady load a background checkpoint never quite finishes: the writer commits while it
//! copies, and SQLite only starts the log again from its beginning once every frame is copied.
//! The log would grow until the writer's own safety net (10,000 pages) copied a second's worth of
//! pages inside a commit. So each round that left frames behind is counted, and the writer, between
//! two batches, copies the few frames committed during the round ([`Checkpointer::rounds`]): the
//! log restarts and later commits overwrite blocks the file already has, which syncs faster than
//! growing it. A round that copied the whole log is not counted: SQLite restarts that log at the
//! next commit by itself, and the writer's own copy (which syncs the database file) would only
//! delay a call that arrives meanwhile.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// Log pages after which the writer's own connection checkpoints anyway (about 40 MB): only
/// reached if this thread cannot keep up.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// How often the log is copied back into the database file.
const EVERY: Duration = Duration::from_secs(1);

/// Stops (after one last checkpoint) when dropped.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    rounds: Arc<AtomicU64>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let rounds = Arc::new(AtomicU64::new(0));
        let finished = rounds.clone();
        let thread = std::thread::Builder::new()
            .name("hallq-checkpoint".into())
            .spawn(move || {
                loop {
                    let last = match stopped.recv_timeout(EVERY) {
                        Err(RecvTimeoutError::Timeout) => false,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                    };
                    // A failed checkpoint loses nothing (the log still holds every commit); the
                    // next round or the writer's safety net tries again.
                    let left = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok(r.get::<_, i64>(2)? < r.get::<_, i64>(1)?)
                    });
                    if left.unwrap_or(false) {
                        finished.fetch_add(1, Ordering::Release);
                    }
                    if last {
                        break;
                    }
                }
            })
            .map_err(|e| StoreError::open(path, e))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
            rounds,
        })
    }

    /// How many background rounds have left frames behind: when it moves, the writer copies them.
    pub(super) fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Acquire)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
