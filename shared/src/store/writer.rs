//! The single writer: one thread owns the database connection and a working copy of the hall.
//! Commands queue up while a commit is syncing; the next batch takes them all and commits them
//! together (group commit), so a slow SD card costs one sync per batch, not one per ticket.
//! Nobody hears "done" before the batch holding their command is committed and synced, and the
//! published hall that readers see only ever contains committed changes.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Store, StoreError};
use crate::engine::{Actor, Command, Event, EventKind, Executed, Hall, Refusal, RefusalKind};
use crate::hall::{CallbackStatus, Millis, Now};
use crate::protocol::{BoardLive, Notices, PublicEvent};

/// Where "now" comes from: the system clock in the hub, a fake one in tests.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// Why a command did not go through.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriterError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The database could not commit: nothing of the command was kept.
    #[error("the hall database could not record this: {0}")]
    Store(String),
    /// The disk holding the database is full: nothing of the command was kept, and nothing
    /// already recorded is touched. Commands succeed again once there is room.
    #[error("the disk of the hall database is full: nothing of this was recorded")]
    DiskFull,
    #[error("the hall is shutting down")]
    Stopped,
}

/// The writer could not commit lately: since when, and whether for a full disk. Cleared by the
/// next commit that succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTrouble {
    pub since: Millis,
    pub disk_full: bool,
    pub detail: String,
}

/// What one committed batch changed, for the event stream and the staff pages.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The `seq` before the batch and after it.
    pub prev_seq: u64,
    pub seq: u64,
    pub events: Vec<Event>,
    pub public: Vec<PublicEvent>,
    pub live: BoardLive,
    /// Present when the notices changed (configuration edited).
    pub notices: Option<Notices>,
}

type Reply<T> = Box<dyn FnOnce(Result<T, WriterError>) + Send>;
type AdminJob = Box<dyn FnOnce(&mut Store, &Hall) + Send>;

enum Job {
    Command {
        cmd: Command,
        actor: Actor,
        reply: Reply<Executed>,
        /// When it was handed to the writer (for [`timing`]).
        queued: Instant,
    },
    CallbackUpdate {
        id: i64,
        status: Option<CallbackStatus>,
        note: Option<String>,
        take: bool,
        actor: Actor,
        reply: Reply<Executed>,
    },
    Admin(AdminJob),
}

#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// How often time-driven rules run (long waits, outages turning long, the day rollover).
    pub tick_every: Duration,
    /// Most commands committed together.
    pub max_batch: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            tick_every: Duration::from_secs(5),
            max_batch: 256,
        }
    }
}

/// Handle to the writer thread. Cloning the sender is cheap; the thread stops when the handle is
/// shut down or dropped, after finishing every command already queued.
pub struct HallWriter {
    tx: Option<mpsc::Sender<Job>>,
    published: Arc<RwLock<Hall>>,
    trouble: Arc<Mutex<Option<WriteTrouble>>>,
    clock: Clock,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HallWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallWriter").finish_non_exhaustive()
    }
}

impl HallWriter {
    /// Start the writer on `store` with `hall` as rebuilt from it.
    pub fn start(
        store: Store,
        hall: Hall,
        clock: Clock,
        options: WriterOptions,
        on_commit: impl Fn(Commit) + Send + 'static,
    ) -> HallWriter {
        let (tx, rx) = mpsc::channel();
        let published = Arc::new(RwLock::new(hall.clone()));
        let trouble = Arc::new(Mutex::new(None));
        let db = store.path.clone();
        // Without it SQLite checkpoints inside commits, which is slower but loses nothing.
        let checkpoints = store.background_checkpoints().ok();
        let worker = Worker {
            checkpoints,
            rounds_finished: 0,
            store,
            working: hall,
            published: published.clone(),
            trouble: trouble.clone(),
            db,
            clock: clock.clone(),
            last_at: 0,
            options,
            on_commit: Box::new(on_commit),
        };
        let thread = std::thread::Builder::new()
            .name("hallq-writer".into())
            .spawn(move || worker.run(rx))
            .ok();
        HallWriter {
            tx: Some(tx),
            published,
            trouble,
            clock,
            thread,
        }
    }

    /// Queue a command; `reply` runs on the writer thread once it is durable (or refused).
    pub fn submit(
        &self,
        cmd: Command,
        actor: Actor,
        reply: impl FnOnce(Result<Executed, WriterError>) + Send + 'static,
    ) {
        self.send(Job::Command {
            cmd,
            actor,
            reply: Box::new(reply),
            queued: Instant::now(),
        });
    }

    /// Update a stored callback (status, note, owner) by id.
    pub fn update_callback(
        &self,
        id: i64,
        status: Option<CallbackStatus>,
        note: Option<String>,
        take: bool,
        actor: Actor,
        reply: impl FnOnce(Result<Executed, WriterError>) + Send + 'static,
    ) {
        self.send(Job::CallbackUpdate {
            id,
            status,
            note,
            take,
            actor,
            reply: Box::new(reply),
        });
    }

    /// Run `f` on the writer thread with the store (accounts, devices, audit…), between batches.
    pub fn admin<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, &Hall) -> R + Send + 'static,
        reply: impl FnOnce(Result<R, WriterError>) + Send + 'static,
    ) {
        self.send(Job::Admin(Box::new(move |s, h| reply(Ok(f(s, h))))));
    }

    /// Submit and wait (for tools, tests and benchmarks that are not async).
    pub fn execute(&self, cmd: Command, actor: Actor) -> Result<Executed, WriterError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(cmd, actor, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(WriterError::Stopped))
    }

    /// `admin` and wait.
    pub fn admin_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, &Hall) -> R + Send + 'static,
    ) -> Result<R, WriterError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.admin(f, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(WriterError::Stopped))
    }

    /// The hall as last committed. Hold the lock briefly: the writer needs it after every commit.
    pub fn hall(&self) -> &Arc<RwLock<Hall>> {
        &self.published
    }

    /// Why the last commit failed, while no later one has succeeded.
    pub fn trouble(&self) -> Option<WriteTrouble> {
        self.trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Now, in the hall's time zone.
    pub fn now(&self) -> Now {
        let tz = self
            .published
            .read()
            .map(|h| h.config.time_zone())
            .unwrap_or(chrono_tz::Asia::Shanghai);
        Now::in_zone((self.clock)(), &tz)
    }

    /// Finish what is queued, then stop the thread.
    pub fn shutdown(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn send(&self, job: Job) {
        let failed = match &self.tx {
            Some(tx) => tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = failed {
            match job {
                Job::Command { reply, .. } | Job::CallbackUpdate { reply, .. } => {
                    reply(Err(WriterError::Stopped))
                }
                Job::Admin(_) => {}
            }
        }
    }
}

impl Drop for HallWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    /// Declared first so it stops (after a last checkpoint) before the store closes.
    checkpoints: Option<super::checkpoint::Checkpointer>,
    /// Background checkpoint rounds this thread has finished off (see `checkpoint.rs`).
    rounds_finished: u64,
    store: Store,
    /// The database's path, for telling a full disk apart while a batch borrows the store.
    db: std::path::PathBuf,
    trouble: Arc<Mutex<Option<WriteTrouble>>>,
    working: Hall,
    published: Arc<RwLock<Hall>>,
    clock: Clock,
    /// Time never runs backwards in the history, even if the system clock is stepped back.
    last_at: Millis,
    options: WriterOptions,
    on_commit: Box<dyn Fn(Commit) + Send>,
}

impl Worker {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        let mut next_tick = Instant::now();
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            let mut jobs = Vec::new();
            match rx.recv_timeout(wait) {
                Ok(job) => {
                    jobs.push(job);
                    while jobs.len() < self.options.max_batch {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let started = Instant::now();
            let tick = started >= next_tick;
            if tick {
                next_tick = started + self.options.tick_every;
            }
            let mut stamps = timing::Stamps::new(started);
            self.run_batch(jobs, tick, &mut stamps);
            stamps.write();
            if let Some(rounds) = self.checkpoints.as_ref().map(|c| c.rounds())
                && rounds != self.rounds_finished
            {
                self.rounds_finished = rounds;
                let t = Instant::now();
                self.store.finish_checkpoint();
                timing::checkpoint(t.elapsed());
            }
        }
    }

    fn run_batch(&mut self, jobs: Vec<Job>, tick: bool, stamps: &mut timing::Stamps) {
        let mut commands: Vec<(Command, Actor, Option<Reply<Executed>>)> =
            Vec::with_capacity(jobs.len() + 1);
        for job in jobs {
            match job {
                Job::Admin(f) => f(&mut self.store, &self.working),
                Job::Command {
                    cmd,
                    actor,
                    reply,
                    queued,
                } => {
                    stamps.queued(queued);
                    commands.push((cmd, actor, Some(reply)))
                }
                Job::CallbackUpdate {
                    id,
                    status,
                    note,
                    take,
                    actor,
                    reply,
                } => match self.store.callback(id) {
                    Ok(Some(current)) => commands.push((
                        Command::UpdateCallback {
                            current: Box::new(current),
                            status,
                            note,
                            take,
                        },
                        actor,
                        Some(reply),
                    )),
                    Ok(None) => reply(Err(WriterError::Refused(Refusal {
                        kind: RefusalKind::NotFound,
                        code: "unknown_callback",
                        message: format!("no callback {id}"),
                        message_zh: "没有这条回访记录".into(),
                    }))),
                    Err(e) => reply(Err(failed(&e, self.store.out_of_space(&e)))),
                },
            }
        }
        if tick {
            commands.push((Command::Tick, Actor::system(), None));
        }
        if commands.is_empty() {
            return;
        }
        let prev_seq = self.working.last_seq;
        let mut accepted: Vec<(Executed, Option<Reply<Executed>>)> = Vec::new();
        let result = self.record(commands, &mut accepted, stamps);
        if let Err(e) = result {
            // Nothing of this batch is durable: forget it and tell everyone.
            tracing_like_log(&format!("commit failed, batch discarded: {e}"));
            let disk_full = self.store.out_of_space(&e);
            {
                let mut t = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
                let since = t.as_ref().map_or_else(|| (self.clock)(), |t| t.since);
                *t = Some(WriteTrouble {
                    since,
                    disk_full,
                    detail: e.to_string(),
                });
            }
            self.working = self
                .published
                .read()
                .map(|h| h.clone())
                .unwrap_or_else(|p| p.into_inner().clone());
            for (_, reply) in accepted {
                if let Some(r) = reply {
                    r(Err(failed(&e, disk_full)));
                }
            }
            return;
        }
        {
            let mut t = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(was) = t.take() {
                tracing_like_log(&format!(
                    "commits succeed again after {} s of failures ({})",
                    ((self.clock)() - was.since).max(0) / 1000,
                    was.detail
                ));
            }
        }
        let events: Vec<Event> = accepted
            .iter()
            .flat_map(|(ex, _)| ex.events.iter().cloned())
            .collect();
        if !events.is_empty() {
            let mut published = self.published.write().unwrap_or_else(|p| p.into_inner());
            for e in &events {
                published.apply(e);
            }
        }
        stamps.events = events.len();
        stamps.mark(timing::Step::Apply);
        // Durable and visible to readers: tell the callers first, then build what screens need,
        // so that nobody's acknowledgement waits for the board view.
        for (ex, reply) in accepted {
            if let Some(r) = reply {
                r(Ok(ex));
            }
        }
        stamps.mark(timing::Step::Reply);
        if events.is_empty() {
            return;
        }
        let commit = {
            let published = self.published.read().unwrap_or_else(|p| p.into_inner());
            let now = Now::in_zone(self.last_at, &published.config.time_zone());
            let config_changed = events.iter().any(|e| {
                matches!(
                    e.kind,
                    EventKind::ConfigReplaced { .. } | EventKind::DayStarted { .. }
                )
            });
            Commit {
                prev_seq,
                seq: published.last_seq,
                public: published.public_events(&events),
                live: published.board_live(now),
                notices: config_changed.then(|| published.notices(now.at)),
                events,
            }
        };
        stamps.mark(timing::Step::View);
        (self.on_commit)(commit);
        stamps.mark(timing::Step::Publish);
    }

    /// Decide every command on the working hall and write it into one transaction; commit once.
    fn record(
        &mut self,
        commands: Vec<(Command, Actor, Option<Reply<Executed>>)>,
        accepted: &mut Vec<(Executed, Option<Reply<Executed>>)>,
        stamps: &mut timing::Stamps,
    ) -> Result<(), StoreError> {
        stamps.mark(timing::Step::Jobs);
        let batch = self.store.batch()?;
        let mut pending = commands.into_iter();
        for (cmd, actor, reply) in pending.by_ref() {
            let now = {
                let at = (self.clock)().max(self.last_at);
                self.last_at = at;
                Now::in_zone(at, &self.working.config.time_zone())
            };
            let executed = self.working.execute(&cmd, &actor, now);
            stamps.mark(timing::Step::Execute);
            match executed {
                Ok(ex) => {
                    if ex.events.is_empty() {
                        if let Some(r) = reply {
                            r(Ok(ex));
                        }
                        continue;
                    }
                    if let Err(e) = batch.record(&ex, &self.working) {
                        let full = super::out_of_space_at(&self.db, &e);
                        accepted.push((ex, reply));
                        for (_, _, reply) in pending {
                            if let Some(r) = reply {
                                r(Err(failed(&e, full)));
                            }
                        }
                        return Err(e);
                    }
                    stamps.mark(timing::Step::Sql);
                    accepted.push((ex, reply));
                }
                Err(refusal) => {
                    if let Some(r) = reply {
                        r(Err(WriterError::Refused(refusal)));
                    }
                }
            }
        }
        stamps.commands = accepted.len();
        let committed = batch.commit();
        stamps.mark(timing::Step::Commit);
        committed
    }
}

/// Where a batch's time goes, for the call path benchmark: with `HALLQ_WRITER_TIMING` naming a
/// file, one line per batch that changed something (`key=µs` pairs). Unset, the writer only reads
/// the clock a few times per batch and writes nothing.
mod timing {
    use std::io::Write;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    #[derive(Clone, Copy)]
    pub(super) enum Step {
        /// Jobs unpacked, the transaction about to begin.
        Jobs,
        /// `Hall::execute` (summed over the batch).
        Execute,
        /// The rows written (summed).
        Sql,
        /// Commit and sync.
        Commit,
        /// Committed events applied to the hall readers see.
        Apply,
        /// Callers answered.
        Reply,
        /// The board's view and public events built.
        View,
        /// Serialised and handed to every socket's queue.
        Publish,
    }

    const STEPS: usize = 8;
    const NAMES: [&str; STEPS] = [
        "jobs", "execute", "sql", "commit", "apply", "reply", "view", "publish",
    ];

    fn sink() -> Option<&'static Mutex<std::fs::File>> {
        static SINK: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
        SINK.get_or_init(|| {
            let path = std::env::var_os("HALLQ_WRITER_TIMING")?;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(Mutex::new)
        })
        .as_ref()
    }

    pub(super) struct Stamps {
        started: Instant,
        last: Instant,
        /// The oldest command's time between `submit` and the batch taking it.
        queued: Duration,
        spent: [Duration; STEPS],
        pub(super) commands: usize,
        pub(super) events: usize,
    }

    impl Stamps {
        pub(super) fn new(started: Instant) -> Stamps {
            Stamps {
                started,
                last: started,
                queued: Duration::ZERO,
                spent: [Duration::ZERO; STEPS],
                commands: 0,
                events: 0,
            }
        }

        pub(super) fn queued(&mut self, at: Instant) {
            self.queued = self.queued.max(self.started.saturating_duration_since(at));
        }

        pub(super) fn mark(&mut self, step: Step) {
            let now = Instant::now();
            self.spent[step as usize] += now - self.last;
            self.last = now;
        }

        pub(super) fn write(&self) {
            if self.events == 0 {
                return;
            }
            let Some(sink) = sink() else { return };
            let mut line = format!(
                "commands={} events={} queued={}",
                self.commands,
                self.events,
                self.queued.as_micros()
            );
            for (name, d) in NAMES.iter().zip(self.spent) {
                line.push_str(&format!(" {name}={}", d.as_micros()));
            }
            line.push('\n');
            if let Ok(mut f) = sink.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }

    /// A checkpoint the writer finished between two batches.
    pub(super) fn checkpoint(spent: Duration) {
        if let Some(sink) = sink()
            && let Ok(mut f) = sink.lock()
        {
            let _ = writeln!(f, "checkpoint={}", spent.as_micros());
        }
    }
}

/// The store has no logging dependency; failures reach the caller as errors, and this line goes to
/// standard error for the journal.
/// What a caller is told when the store fails under their command.
fn failed(e: &StoreError, disk_full: bool) -> WriterError {
    if disk_full {
        WriterError::DiskFull
    } else {
        WriterError::Store(e.to_string())
    }
}

fn tracing_like_log(msg: &str) {
    eprintln!("hallq store: {msg}");
}
