//! The hub's shared state: the single writer, a small pool of read-only connections, the event
//! stream's broadcast channel, and what lives only in memory (device reports, rate limits).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command, Executed};
use hallq_shared::hall::{Millis, Now};
use hallq_shared::protocol::{BoardSnapshot, StreamMessage};
use hallq_shared::store::writer::{Clock, WriterOptions};
use hallq_shared::store::{
    Commit, HallWriter, Store, StoreError, WriterError, WriterLock, db_path,
};
use tokio::sync::{broadcast, oneshot, watch};

use super::auth::AuthCache;
use super::error::{ApiError, ApiResult};
use super::throttle::Throttle;

/// One message of the event stream, serialised once for every client.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    pub prev_seq: u64,
    pub snapshot: bool,
    pub text: Utf8Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Writer(#[from] WriterError),
    #[error("the phone code key: {0:#}")]
    PhoneKey(#[from] anyhow::Error),
}

/// How a hub is started; tests inject the clock and shorter ticks.
pub struct HubOptions {
    pub data_dir: PathBuf,
    /// The configuration used when the database holds none yet.
    pub config: HallConfig,
    /// Replace the configuration saved in the database with `config` (recorded as an event).
    pub apply_config: bool,
    /// The fingerprint of the configuration file's text (`/etc/hallq/hall.toml`), when `config`
    /// comes from one: a file that differs from the one of the last start has been edited by the
    /// installer, and replaces the saved configuration. The text, not the parsed configuration,
    /// so that an update that adds a setting with a default does not count as an edit.
    pub config_file_mark: Option<String>,
    pub clock: Clock,
    pub writer: WriterOptions,
    /// Stream messages buffered for each client before it counts as fallen behind.
    pub stream_buffer: usize,
    /// Ship the committed history to the operator's central service (`central.rs`).
    pub central: Option<super::central::CentralOptions>,
}

impl HubOptions {
    pub fn new(data_dir: impl Into<PathBuf>, config: HallConfig) -> HubOptions {
        HubOptions {
            data_dir: data_dir.into(),
            config,
            apply_config: false,
            config_file_mark: None,
            clock: Arc::new(hallq_shared::hall::time::system_millis),
            writer: WriterOptions::default(),
            stream_buffer: 256,
            central: None,
        }
    }
}

/// What a kiosk last said about its printer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrinterReport {
    pub device: String,
    pub printer: String,
    pub at: chrono::DateTime<chrono::Utc>,
    #[serde(skip)]
    pub at_ms: Millis,
}

pub struct Hub {
    pub writer: HallWriter,
    /// Keeps any second hub off this database while this one runs (see `store::WriterLock`).
    /// Declared after the writer so that it is released only once the writer has stopped.
    _writer_lock: WriterLock,
    pub db: PathBuf,
    readers: Mutex<Vec<Store>>,
    /// One permit per read-only connection that may exist: requests beyond it wait for a
    /// connection instead of opening more (each costs memory and a file descriptor).
    reader_permits: tokio::sync::Semaphore,
    readers_opened: std::sync::atomic::AtomicUsize,
    pub stream: broadcast::Sender<Arc<Frame>>,
    /// The highest committed `seq`, overwritten after every commit: what the shipping task waits
    /// on (a watch costs the writer nothing when nobody looks, unlike serialising stream frames).
    pub committed: watch::Sender<u64>,
    /// Shipping to central, when configured: its settings and how it goes.
    pub central: Option<Arc<super::central::Shipping>>,
    pub auth: AuthCache,
    pub clock: Clock,
    pub kiosk_issues: Mutex<HashMap<String, VecDeque<Millis>>>,
    /// Failed sign-ins, sign-ins in flight and unknown tokens, per client address.
    pub throttle: Throttle,
    pub printers: Mutex<BTreeMap<String, PrinterReport>>,
    /// Tickets taken by phone: the key behind the codes, one waiting ticket per phone.
    pub phone: super::phone::PhoneDesk,
    pub shutdown: watch::Sender<bool>,
    /// The last snapshot frame sent to a joining client: screens that join together (after a hub
    /// restart every one of them does) share one copy instead of one each.
    last_snapshot: Mutex<Option<(std::time::Instant, Arc<Frame>)>>,
}

/// Read-only connections beside the writer.
pub const READERS: usize = 4;

/// How long a snapshot frame may be handed out again while nothing has been committed: short,
/// because the day phase and the clock in it move on without events.
const SNAPSHOT_REUSE: std::time::Duration = std::time::Duration::from_secs(1);

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

pub type AppState = Arc<Hub>;

/// Whether the configuration file differs from the one of the last start. A database that has
/// no mark yet (first start, or made before marks were kept) takes the file as seen: a first start
/// has just saved it, and an older hall keeps the configuration its manager edited.
fn config_file_changed(store: &Store, mark: &str) -> Result<bool, StoreError> {
    match store.config_file_mark()? {
        Some(seen) => Ok(seen != mark),
        None => {
            store.set_config_file_mark(mark)?;
            Ok(false)
        }
    }
}

impl Hub {
    /// Open the database in `data_dir`, rebuild the hall and start the writer.
    pub fn open(opts: HubOptions) -> Result<AppState, HubError> {
        let db = db_path(&opts.data_dir);
        let writer_lock = WriterLock::acquire(&db)?;
        let phone = super::phone::PhoneDesk::open(&opts.data_dir)?;
        let mut store = Store::open(&db)?;
        let today = Now::in_zone((opts.clock)(), &opts.config.time_zone()).day;
        let hall = store.load_hall(&opts.config, today)?;
        let file_changed = match &opts.config_file_mark {
            Some(mark) => config_file_changed(&store, mark)?,
            None => false,
        };
        phone.remember(today, store.phone_tickets(today)?);
        let (stream, _) = broadcast::channel(opts.stream_buffer.max(1));
        let tx = stream.clone();
        let committed = watch::Sender::new(hall.last_seq);
        let seen = committed.clone();
        let writer = HallWriter::start(store, hall, opts.clock.clone(), opts.writer, move |c| {
            seen.send_replace(c.seq);
            publish(&tx, c)
        });
        let hub = Arc::new(Hub {
            writer,
            _writer_lock: writer_lock,
            db,
            readers: Mutex::new(Vec::new()),
            reader_permits: tokio::sync::Semaphore::new(READERS),
            readers_opened: std::sync::atomic::AtomicUsize::new(0),
            stream,
            committed,
            central: opts
                .central
                .map(|o| Arc::new(super::central::Shipping::new(o))),
            auth: AuthCache::default(),
            clock: opts.clock,
            kiosk_issues: Mutex::new(HashMap::new()),
            throttle: Throttle::default(),
            printers: Mutex::new(BTreeMap::new()),
            phone,
            shutdown: watch::channel(false).0,
            last_snapshot: Mutex::new(None),
        });
        if opts.apply_config || file_changed {
            let applied = hub.writer.execute(
                Command::ReplaceConfig {
                    config: Box::new(opts.config),
                },
                Actor::new("config-file", hallq_shared::protocol::Role::Manager, None),
            );
            match applied {
                Ok(_) => {
                    if file_changed {
                        tracing::info!(
                            "the configuration file changed since the last start: applied"
                        );
                    }
                    if let Some(mark) = &opts.config_file_mark {
                        Store::set_config_file_mark_beside(&hub.db, mark)?;
                    }
                }
                // Asked for by name (--apply-config): the start fails and says why.
                Err(e) if opts.apply_config => return Err(e.into()),
                // The hall keeps running on the configuration it had; the next start tries again.
                Err(e) => tracing::error!(
                    error = %e,
                    "the configuration file changed but cannot be applied now; keeping the saved one"
                ),
            }
        }
        Ok(hub)
    }

    pub fn now(&self) -> Now {
        self.writer.now()
    }

    pub fn data_path(&self) -> &Path {
        &self.db
    }

    /// Run a query on a read-only connection, off the async threads.
    pub async fn read<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> ApiResult<R> {
        let hub = self.clone();
        let permit = self
            .reader_permits
            .acquire()
            .await
            .map_err(ApiError::unavailable)?;
        let r = tokio::task::spawn_blocking(move || {
            let pooled = hub.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let store = match pooled {
                Some(s) => s,
                None => {
                    hub.readers_opened
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    Store::open_reader(&hub.db)?
                }
            };
            let r = f(&store);
            hub.readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(store);
            r
        })
        .await;
        drop(permit);
        r.map_err(|e| ApiError::unavailable(format!("reader task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// How many read-only connections this hub has opened (at most [`READERS`] unless one failed).
    pub fn readers_opened(&self) -> usize {
        self.readers_opened
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Submit a command and wait until it is durable (or refused).
    pub async fn exec(&self, cmd: Command, actor: Actor) -> ApiResult<Executed> {
        let (tx, rx) = oneshot::channel();
        self.writer.submit(cmd, actor, move |r| {
            let _ = tx.send(r);
        });
        rx.await
            .map_err(|_| ApiError::stopping())?
            .map_err(Into::into)
    }

    /// Run `f` on the writer thread (accounts, sessions, audit, suggestions) and wait for it.
    pub async fn admin<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    ) -> ApiResult<R> {
        let (tx, rx) = oneshot::channel();
        self.writer.admin(
            move |s, _| f(s),
            move |r| {
                let _ = tx.send(r);
            },
        );
        rx.await
            .map_err(|_| ApiError::stopping())?
            .map_err(ApiError::from)?
            .map_err(ApiError::from)
    }

    /// The board as committed right now.
    pub fn snapshot(&self) -> BoardSnapshot {
        let now = self.now();
        let hall = self.writer.hall().read().unwrap_or_else(|p| p.into_inner());
        BoardSnapshot {
            seq: hall.last_seq,
            live: hall.board_live(now),
            notices: hall.notices(now.at),
        }
    }

    /// A snapshot as a stream frame, shared with other clients that join at the same moment.
    pub fn snapshot_frame(&self) -> Arc<Frame> {
        let seq = self
            .writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .last_seq;
        let mut cached = self.last_snapshot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, frame)) = cached.as_ref()
            && frame.seq == seq
            && at.elapsed() < SNAPSHOT_REUSE
        {
            return frame.clone();
        }
        let board = self.snapshot();
        let seq = board.seq;
        let text = serde_json::to_string(&StreamMessage::Snapshot { board }).unwrap_or_default();
        let frame = Arc::new(Frame {
            seq,
            prev_seq: seq,
            snapshot: true,
            text: text.into(),
        });
        *cached = Some((std::time::Instant::now(), frame.clone()));
        frame
    }

    /// Ask every long-lived connection (event streams) to close.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// Runs on the writer thread after each committed batch: serialise once, hand to every client.
fn publish(tx: &broadcast::Sender<Arc<Frame>>, c: Commit) {
    if tx.receiver_count() == 0 {
        return;
    }
    let Commit {
        prev_seq,
        seq,
        public,
        live,
        notices,
        ..
    } = c;
    let notices_and_live = notices.map(|n| (n, live.clone()));
    let update = StreamMessage::Update {
        seq,
        prev_seq,
        events: public,
        live,
    };
    if let Ok(text) = serde_json::to_string(&update) {
        let _ = tx.send(Arc::new(Frame {
            seq,
            prev_seq,
            snapshot: false,
            text: text.into(),
        }));
    }
    if let Some((notices, live)) = notices_and_live {
        let snap = StreamMessage::Snapshot {
            board: BoardSnapshot { seq, live, notices },
        };
        if let Ok(text) = serde_json::to_string(&snap) {
            let _ = tx.send(Arc::new(Frame {
                seq,
                prev_seq: seq,
                snapshot: true,
                text: text.into(),
            }));
        }
    }
}
