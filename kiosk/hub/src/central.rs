//! Shipping the hall's committed history to the operator's central service (docs/central.md,
//! protocol version 1): one task, its own read-only connection, batches after a cursor kept in
//! the hall's own database, and patience when central is slow, down or refusing.
//!
//! Nothing in the hall waits for this task. It reads on a connection of its own (WAL readers do
//! not hold up the writer), it learns of commits through a watch the writer only overwrites, and
//! it writes its cursor in a short unsynced transaction at most once a second: a cursor lost in a
//! power cut only means events sent again, which central stores once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Json;
use axum::extract::State;
use hallq_shared::hall::Millis;
use hallq_shared::store::central_phones::{ShipPhone, captured_callbacks};
use hallq_shared::store::shipping::{RATINGS_PER_BATCH, RatingMark, ShipBatch};
use hallq_shared::store::{Store, StoreError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;

use super::state::AppState;

/// The protocol version this hub speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Central's answer is a few bytes; anything much longer is not central.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How a hub reaches central, and how patient it is.
#[derive(Clone)]
pub struct CentralOptions {
    /// Central's address without the path, e.g. `https://central.example.com`.
    pub url: String,
    /// The hall's credential, as `hallq-central hall add` printed it.
    pub credential: String,
    /// Most events in one batch (the protocol's 500).
    pub batch: usize,
    /// When caught up, how long to wait for a commit before looking again (ratings come without
    /// events).
    pub idle: Duration,
    /// When nothing happens, how often central still hears from the hall (its status).
    pub heartbeat: Duration,
    /// When caught up, how long after a commit the next batch waits for more: a busy hall then
    /// ships a few commits a batch instead of one, and central stores and rolls up fewer
    /// batches (docs/central.md, "A province of 2,000 halls"). Central's view lags by as much.
    pub gather: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// One request, connection included.
    pub timeout: Duration,
    /// How often the hall asks for central's published texts (and once at start).
    pub pull_every: Duration,
    /// Certificates trusted for central besides the public web's roots: the operator's own
    /// certificate authority, for a central inside its network (`--central-ca-file`).
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for CentralOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralOptions")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl CentralOptions {
    /// `url` is central's address (`http://` or `https://`), `credential` the hall's.
    pub fn new(url: &str, credential: &str) -> anyhow::Result<CentralOptions> {
        let url = url.trim().trim_end_matches('/').to_string();
        let uri: Uri = format!("{url}/api/v1/ship")
            .parse()
            .with_context(|| format!("the central address {url:?} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => bail!("the central address {url:?} must start with http:// or https://"),
        }
        if uri.host().is_none() {
            bail!("the central address {url:?} names no host");
        }
        let credential = credential.trim().to_string();
        if credential.is_empty()
            || !credential.bytes().all(|b| b.is_ascii_graphic())
            || credential.len() > 1024
        {
            bail!("the central credential must be the one line `hallq-central hall add` printed");
        }
        Ok(CentralOptions {
            url,
            credential,
            batch: 500,
            idle: Duration::from_secs(5),
            heartbeat: Duration::from_secs(60),
            gather: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
            pull_every: Duration::from_secs(300),
            extra_roots: Vec::new(),
        })
    }

    /// Trust the PEM certificates in `file` for central too (an operator's own certificate
    /// authority). A file without one stops the start: the hub would otherwise refuse central
    /// with a TLS error at every try, far from the setting that caused it.
    pub fn trust_ca_file(mut self, file: &Path) -> anyhow::Result<CentralOptions> {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("cannot read the central CA file {}", file.display()))?;
        if certs.is_empty() {
            bail!(
                "the central CA file {} holds no PEM certificate",
                file.display()
            );
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Read the credential from `file`: a file the hub cannot read stops the start with its name.
    pub fn from_file(url: &str, file: &Path) -> anyhow::Result<CentralOptions> {
        let text = std::fs::read_to_string(file).with_context(|| {
            format!("cannot read the central credential file {}", file.display())
        })?;
        warn_if_others_can_read(file);
        let opts =
            CentralOptions::new(url, &text).with_context(|| format!("in {}", file.display()))?;
        if opts.crosses_a_network_in_clear() {
            tracing::warn!(
                url = %opts.url,
                "central is reached over plain HTTP: the hall's credential and history cross the network readable (use https://)"
            );
        }
        Ok(opts)
    }

    fn crosses_a_network_in_clear(&self) -> bool {
        let Ok(uri) = self.ship_uri().parse::<Uri>() else {
            return false;
        };
        let host = uri.host().unwrap_or("").trim_matches(['[', ']']);
        uri.scheme_str() == Some("http")
            && host != "localhost"
            && !host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    fn ship_uri(&self) -> String {
        format!("{}/api/v1/ship", self.url)
    }

    fn published_uri(&self) -> String {
        format!("{}/api/v1/published", self.url)
    }
}

#[cfg(unix)]
fn warn_if_others_can_read(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(file)
        && m.permissions().mode() & 0o004 != 0
    {
        tracing::warn!(
            file = %file.display(),
            "every user of this machine can read the central credential: chmod 0640 and chgrp hallq"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_others_can_read(_: &Path) {}

/// What an installer sees on `GET /api/v1/central`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CentralStatus {
    pub url: String,
    /// Central holds every event up to this `seq`.
    pub shipped_through: u64,
    /// Committed events central does not hold yet.
    pub behind: u64,
    pub last_ok_at: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// Most events per batch now (halved by a 413 answer).
    pub batch_limit: usize,
    /// Central's published texts as this hall has them.
    pub published: PublishedStatus,
    /// Phone numbers of callbacks are being shipped to central: head office turned them on for
    /// this hall (central's last answer said so). Off until central says otherwise.
    pub callback_phones: bool,
}

/// The published texts the hall runs, and why the latest one was not taken, if it was not.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PublishedStatus {
    pub version: Option<u64>,
    pub applied_at: Option<Millis>,
    /// A document refused: it stays refused, and says so here, until central publishes another
    /// version (or the hub restarts and tries it again).
    pub error: Option<String>,
    /// Central's trouble when last asked (unreachable, an unexpected answer); gone with the next
    /// answer. Kept apart so that a passing network fault does not hide a refusal.
    pub ask_error: Option<String>,
}

/// The shipping task's settings and its state, shared with the API.
#[derive(Debug)]
pub struct Shipping {
    pub options: CentralOptions,
    status: Mutex<CentralStatus>,
}

impl Shipping {
    pub fn new(options: CentralOptions) -> Shipping {
        let status = CentralStatus {
            url: options.url.clone(),
            batch_limit: options.batch,
            ..CentralStatus::default()
        };
        Shipping {
            options,
            status: Mutex::new(status),
        }
    }

    pub fn status(&self) -> CentralStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut CentralStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// `GET /api/v1/central` (managers): whether the hall ships to central, and how it goes.
pub async fn central_status(State(hub): State<AppState>) -> Json<serde_json::Value> {
    Json(match &hub.central {
        Some(s) => serde_json::json!({ "central": s.status() }),
        None => serde_json::json!({ "central": null }),
    })
}

/// Start the shipping task of `hub`, if it ships. It stops when the hub begins its shutdown.
pub fn start(hub: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let shipping = hub.central.clone()?;
    let task = Task {
        shipping,
        db: hub.db.clone(),
        hall: hub.writer.hall().clone(),
        clock: hub.clock.clone(),
        committed: hub.committed.subscribe(),
        shutdown: hub.shutdown.subscribe(),
    };
    tokio::spawn(pull_published(hub.clone()));
    Some(tokio::spawn(task.run()))
}

/// Ask central for its published texts at start and every `pull_every`, and apply a version this
/// hall does not run yet. Stops with the hub.
async fn pull_published(hub: AppState) {
    let Some(shipping) = hub.central.clone() else {
        return;
    };
    let opts = shipping.options.clone();
    let mut shutdown = hub.shutdown.subscribe();
    let Ok(client) = client(&opts) else {
        return;
    };
    let db = hub.db.clone();
    let running = tokio::task::spawn_blocking(move || {
        Store::open_reader(&db).and_then(|s| s.published_version())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .flatten();
    shipping.update(|s| s.published.version = running);
    // A version refused once is not tried again: the same document would be refused again.
    let mut refused: Option<u64> = None;
    loop {
        let fetched = fetch_published(&client, &opts).await;
        if fetched.is_ok() {
            shipping.update(|s| s.published.ask_error = None);
        }
        match fetched {
            Ok(None) => {}
            Ok(Some((version, document))) => {
                let current = shipping.status().published.version;
                if current != Some(version) && refused != Some(version) {
                    match apply_published(&hub, version, document).await {
                        Ok(()) => {
                            let now = (hub.clock)();
                            tracing::info!(version, "published texts from central applied");
                            shipping.update(|s| {
                                s.published.version = Some(version);
                                s.published.applied_at = Some(now);
                                s.published.error = None;
                            });
                        }
                        Err(e) => {
                            tracing::error!(version, error = %e, "published texts from central refused");
                            refused = Some(version);
                            shipping.update(|s| {
                                s.published.error = Some(format!("version {version} refused: {e}"));
                            });
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot ask central for its published texts");
                shipping.update(|s| s.published.ask_error = Some(e.to_string()));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(opts.pull_every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// One request to central and its (short) answer, within `timeout`, connection included.
async fn exchange(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), Failure> {
    let answer = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| Failure::Trouble(format!("cannot reach central: {}", error_chain(&e))))?;
        let status = resp.status();
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| Failure::Trouble(format!("central's answer broke off: {e}")))?
            .to_bytes();
        Ok::<_, Failure>((status, bytes))
    };
    tokio::time::timeout(timeout, answer).await.map_err(|_| {
        Failure::Trouble(format!(
            "central did not answer within {} s",
            timeout.as_secs()
        ))
    })?
}

/// `GET /api/v1/published`: the version and document that apply to this hall, `None` on 204.
async fn fetch_published(
    client: &HttpClient,
    opts: &CentralOptions,
) -> Result<Option<(u64, serde_json::Value)>, Failure> {
    let req = Request::get(opts.published_uri())
        .header(header::AUTHORIZATION, format!("Bearer {}", opts.credential))
        .header(
            header::USER_AGENT,
            concat!("hallq-hub/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::new()))
        .map_err(|e| Failure::Trouble(format!("cannot make the request: {e}")))?;
    let (status, bytes) = exchange(client, req, opts.timeout).await?;
    match status {
        StatusCode::NO_CONTENT => Ok(None),
        StatusCode::OK => {
            #[derive(serde::Deserialize)]
            struct Answer {
                version: u64,
                document: serde_json::Value,
            }
            serde_json::from_slice::<Answer>(&bytes)
                .map(|a| Some((a.version, a.document)))
                .map_err(|e| {
                    Failure::Trouble(format!("central's answer is not the protocol's: {e}"))
                })
        }
        StatusCode::UNAUTHORIZED => Err(Failure::Refused),
        s => Err(Failure::Trouble(format!(
            "central answered {s}: {}",
            error_message(&bytes)
        ))),
    }
}

/// Take a published document over into the hall's configuration: checked as central checks it,
/// merged, checked as a manager's edit is, and committed through the writer as a
/// `config_replaced` by the actor `central` (so the board and central's rollups see it), audited,
/// and only then recorded as the version the hall runs. A refusal changes nothing.
async fn apply_published(
    hub: &AppState,
    version: u64,
    document: serde_json::Value,
) -> Result<(), String> {
    use hallq_shared::engine::{Actor, Command};
    use hallq_shared::protocol::Role;
    use hallq_shared::published::Published;
    let published: Published =
        serde_json::from_value(document).map_err(|e| format!("not a published document: {e}"))?;
    published.validate()?;
    let before = hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .config
        .clone();
    let config = published.apply_to(&before);
    config.validate().map_err(|e| e.to_string())?;
    hub.exec(
        Command::ReplaceConfig {
            config: Box::new(config.clone()),
        },
        Actor::new("central", Role::Manager, None),
    )
    .await
    .map_err(|e| e.message.clone())?;
    let mut detail = super::manager::config_changes(&before, &config);
    if let Some(o) = detail.as_object_mut() {
        o.insert("published_version".into(), version.into());
    }
    let now = (hub.clock)();
    hub.admin(move |s| s.audit(now, "central", "config_replaced", &detail))
        .await
        .map_err(|e| e.message.clone())?;
    let db = hub.db.clone();
    tokio::task::spawn_blocking(move || Store::set_published_version_beside(&db, version))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client(opts: &CentralOptions) -> anyhow::Result<HttpClient> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(opts.timeout));
    http.set_nodelay(true);
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in &opts.extra_roots {
        roots
            .add(cert.clone())
            .context("a certificate of the central CA file is not a usable authority")?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS for central")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build(https))
}

/// Why a batch did not go through.
#[derive(Debug)]
enum Failure {
    /// 413: the batch is too large for central.
    TooLarge,
    /// 401: central does not know this hall's credential (or it was revoked).
    Refused,
    /// 400: central says the batch is malformed.
    Malformed(String),
    /// 5xx, another status, a network error, a timeout, an answer that is not the protocol's.
    Trouble(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::TooLarge => write!(f, "central answered 413: the batch is too large"),
            Failure::Refused => write!(
                f,
                "central answered 401: it does not know this hall's credential (revoked, or the wrong file)"
            ),
            Failure::Malformed(m) => write!(f, "central answered 400: {m}"),
            Failure::Trouble(m) => write!(f, "{m}"),
        }
    }
}

/// The body of `POST /api/v1/ship`.
#[derive(Serialize)]
struct Body<'a> {
    version: u32,
    hub: &'static str,
    events: &'a [hallq_shared::store::shipping::ShipEvent],
    tickets: &'a [hallq_shared::store::shipping::ShipTicket],
    ratings: &'a [hallq_shared::store::shipping::ShipRating],
    status: &'a hallq_shared::store::shipping::ShipStatus,
    /// Only while central's answers say head office turned phone numbers on for this hall.
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_phones: Option<&'a PhonesBody>,
}

/// The callbacks' numbers beside a batch, with how long the hall keeps a resolved one's.
#[derive(Serialize)]
struct PhonesBody {
    retention_days: u32,
    numbers: Vec<ShipPhone>,
}

#[derive(serde::Deserialize)]
struct Answer {
    stored_through: u64,
    /// Absent from an older central's answer: no numbers are sent then.
    #[serde(default)]
    callback_phones: bool,
}

async fn post(
    client: &HttpClient,
    opts: &CentralOptions,
    body: Vec<u8>,
) -> Result<Answer, Failure> {
    let req = Request::post(opts.ship_uri())
        .header(header::AUTHORIZATION, format!("Bearer {}", opts.credential))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::USER_AGENT,
            concat!("hallq-hub/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure::Trouble(format!("cannot make the request: {e}")))?;
    let (status, bytes) = exchange(client, req, opts.timeout).await?;
    match status {
        StatusCode::OK => serde_json::from_slice::<Answer>(&bytes)
            .map_err(|e| Failure::Trouble(format!("central's answer is not the protocol's: {e}"))),
        StatusCode::PAYLOAD_TOO_LARGE => Err(Failure::TooLarge),
        StatusCode::UNAUTHORIZED => Err(Failure::Refused),
        StatusCode::BAD_REQUEST => Err(Failure::Malformed(error_message(&bytes))),
        s => Err(Failure::Trouble(format!(
            "central answered {s}: {}",
            error_message(&bytes)
        ))),
    }
}

/// `error.message` of a JSON error body, else the start of the body.
fn error_message(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// Batches in a row after a 413 before the batch may grow again: the one that was too large
/// has usually gone by then.
const REGROW_AFTER: u32 = 16;

/// A cursor held only in memory is written at most this often while shipping runs behind.
const PERSIST_EVERY: Duration = Duration::from_secs(1);

/// While phone numbers are on, the numbers of the callbacks still open go again this often, so that
/// a number central lost (the switch turned off and on between two batches, central restored
/// from a backup) comes back; central stores each once.
const OPEN_PHONES_EVERY: Duration = Duration::from_secs(3600);

const DAY_MS: Millis = 86_400_000;

/// Behind by this many events, the log says so (once, until caught up).
const BEHIND_WARNING: u64 = 2_000;

struct Task {
    shipping: Arc<Shipping>,
    db: PathBuf,
    /// The live hall, for its callbacks' retention.
    hall: Arc<std::sync::RwLock<hallq_shared::engine::Hall>>,
    clock: hallq_shared::store::writer::Clock,
    committed: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
}

/// Where shipping stands, in memory.
struct Cursor {
    events: u64,
    ratings: Option<RatingMark>,
    /// What the database holds (written at most every [`PERSIST_EVERY`]).
    saved: (u64, Option<RatingMark>),
    saved_at: Instant,
}

impl Task {
    async fn run(mut self) {
        let opts = self.shipping.options.clone();
        let client = match client(&opts) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "cannot ship to central");
                self.shipping
                    .update(|s| s.last_error = Some(format!("{e:#}")));
                return;
            }
        };
        let mut reader: Option<Store> = None;
        let mut backoff = opts.backoff_min;
        let Some(mut cursor) = self.first_cursor(&mut reader, &mut backoff).await else {
            return;
        };
        self.shipping.update(|s| s.shipped_through = cursor.events);
        tracing::info!(url = %opts.url, shipped_through = cursor.events, "shipping to central");
        let mut limit = opts.batch;
        let mut since_halved = 0u32;
        let mut failures = 0u32;
        let mut ever_ok = false;
        let mut warned_behind = false;
        let mut warned_ahead = false;
        let mut last_contact: Option<Instant> = None;
        // Central's word on phone numbers (off until it says on), and when the numbers of the
        // callbacks still open last went.
        let mut phones_on = false;
        let mut open_phones_sent: Option<Instant> = None;
        loop {
            if *self.shutdown.borrow() {
                break;
            }
            // Seen before reading: a commit made after the read wakes the wait below.
            self.committed.borrow_and_update();
            let now = (self.clock)();
            let batch = match self
                .read(&mut reader, cursor.events, cursor.ratings, limit, now)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    let what = format!("cannot read the batch: {e}");
                    tracing::warn!(error = %e, "central: cannot read the batch; trying again");
                    self.failed(&what, now);
                    if self.pause(&mut backoff).await {
                        break;
                    }
                    continue;
                }
            };
            let behind = batch.committed.saturating_sub(cursor.events);
            self.shipping.update(|s| s.behind = behind);
            if behind >= BEHIND_WARNING && !warned_behind {
                warned_behind = true;
                tracing::warn!(behind, "central: shipping has fallen behind");
            }
            let open_phones_due =
                phones_on && open_phones_sent.is_none_or(|t| t.elapsed() >= OPEN_PHONES_EVERY);
            let phones = if phones_on {
                match self
                    .read_phones(&mut reader, &batch.events, open_phones_due, now)
                    .await
                {
                    Ok(p) => Some(p),
                    Err(e) => {
                        let what = format!("cannot read the callbacks' phone numbers: {e}");
                        tracing::warn!(error = %e, "central: cannot read the callbacks' phone numbers; trying again");
                        self.failed(&what, now);
                        if self.pause(&mut backoff).await {
                            break;
                        }
                        continue;
                    }
                }
            } else {
                None
            };
            let news = !batch.events.is_empty() || !batch.ratings.is_empty() || open_phones_due;
            let heartbeat_due = last_contact.is_none_or(|t| t.elapsed() >= opts.heartbeat);
            if !news && !heartbeat_due {
                self.persist(&mut cursor, true).await;
                if self.wait_for_commit(opts.idle).await {
                    break;
                }
                continue;
            }
            let body = match serde_json::to_vec(&Body {
                version: PROTOCOL_VERSION,
                hub: env!("CARGO_PKG_VERSION"),
                events: &batch.events,
                tickets: &batch.tickets,
                ratings: &batch.ratings,
                status: &batch.status,
                callback_phones: phones.as_ref(),
            }) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "central: cannot write the batch");
                    if self.pause(&mut backoff).await {
                        break;
                    }
                    continue;
                }
            };
            let sent = tokio::select! {
                r = post(&client, &opts, body) => r,
                _ = self.shutdown.changed() => break,
            };
            let now = (self.clock)();
            match sent {
                Ok(answer) => {
                    let stored_through = answer.stored_through;
                    if open_phones_due {
                        open_phones_sent = Some(Instant::now());
                    }
                    if answer.callback_phones != phones_on {
                        phones_on = answer.callback_phones;
                        // Turned on: the callbacks still open go with the next batch; those
                        // captured from now on go with their events.
                        open_phones_sent = None;
                        if phones_on {
                            tracing::warn!(
                                "central: head office turned the callbacks' phone numbers on for this hall: they are shipped to central from now on"
                            );
                        } else {
                            tracing::info!(
                                "central: head office turned the callbacks' phone numbers off for this hall: none are shipped"
                            );
                        }
                        self.shipping.update(|s| s.callback_phones = phones_on);
                    }
                    last_contact = Some(Instant::now());
                    backoff = opts.backoff_min;
                    // Central may hold more than this batch: a cursor written lazily and lost
                    // in a power cut, or an answer lost. As far as this database has events, its
                    // word is taken and they are not sent again.
                    let next = stored_through.min(batch.committed);
                    if stored_through > batch.committed && !warned_ahead {
                        warned_ahead = true;
                        tracing::error!(
                            stored_through,
                            committed = batch.committed,
                            "central: central holds more events of this hall than this database has (a database restored from an older backup, or a second hub on this credential): central keeps those and stores this hall's new events after them"
                        );
                    }
                    if next < cursor.events {
                        tracing::warn!(
                            stored_through,
                            cursor = cursor.events,
                            "central: central holds fewer events than it had said; sending again from there"
                        );
                    }
                    let stalled = !batch.events.is_empty() && next <= cursor.events;
                    cursor.events = next;
                    if let Some(m) = batch.ratings_mark() {
                        cursor.ratings = Some(m);
                    }
                    let caught_up = next >= batch.committed;
                    self.persist(&mut cursor, caught_up).await;
                    if !ever_ok {
                        ever_ok = true;
                        tracing::info!(
                            shipped_through = next,
                            events = batch.events.len(),
                            "central: first batch stored"
                        );
                    } else if failures > 0 {
                        tracing::info!(
                            failures,
                            shipped_through = next,
                            "central: shipping again after failed attempts"
                        );
                    }
                    failures = 0;
                    if warned_behind && caught_up {
                        warned_behind = false;
                        tracing::info!(shipped_through = next, "central: caught up");
                    }
                    if limit < opts.batch {
                        since_halved += 1;
                        if since_halved >= REGROW_AFTER {
                            limit = (limit * 2).min(opts.batch);
                            since_halved = 0;
                        }
                    }
                    let behind = batch.committed.saturating_sub(next);
                    self.shipping.update(|s| {
                        s.shipped_through = next;
                        s.behind = behind;
                        s.last_ok_at = Some(now);
                        s.failures = 0;
                        s.batch_limit = limit;
                    });
                    if stalled {
                        // Central keeps asking for events from before what it was sent: a hole
                        // only this hall could fill. Asking again at once would loop hot.
                        let what = format!(
                            "central holds events only through {next} and asks for them again"
                        );
                        tracing::warn!(
                            stored_through = next,
                            "central: no progress; trying again later"
                        );
                        self.failed(&what, now);
                        if self.pause(&mut backoff).await {
                            break;
                        }
                        continue;
                    }
                    if caught_up
                        && batch.ratings.len() < RATINGS_PER_BATCH
                        && self.wait_for_commit(opts.idle).await
                    {
                        break;
                    }
                }
                Err(Failure::TooLarge) if limit > 1 => {
                    limit = (limit / 2).max(1);
                    since_halved = 0;
                    tracing::warn!(
                        limit,
                        "central: the batch was too large; sending smaller ones"
                    );
                    self.failed(&Failure::TooLarge.to_string(), now);
                    self.shipping.update(|s| s.batch_limit = limit);
                }
                Err(f) => {
                    failures += 1;
                    let what = f.to_string();
                    match f {
                        Failure::Refused | Failure::Malformed(_) | Failure::TooLarge => {
                            tracing::error!(failures, error = %what, "central: refused the batch; nothing is dropped, trying again later")
                        }
                        Failure::Trouble(_) => {
                            tracing::warn!(failures, error = %what, "central: cannot ship now; trying again later")
                        }
                    }
                    self.failed(&what, now);
                    self.shipping.update(|s| s.failures = failures);
                    if self.pause(&mut backoff).await {
                        break;
                    }
                }
            }
        }
        self.persist(&mut cursor, true).await;
        tracing::info!(shipped_through = cursor.events, "central: shipping stopped");
    }

    fn failed(&self, what: &str, now: Millis) {
        self.shipping.update(|s| {
            s.last_error = Some(what.to_string());
            s.last_error_at = Some(now);
        });
    }

    /// The cursors as stored, read again after a failure until they can be.
    async fn first_cursor(
        &mut self,
        reader: &mut Option<Store>,
        backoff: &mut Duration,
    ) -> Option<Cursor> {
        loop {
            let db = self.db.clone();
            let taken = reader.take();
            let r = tokio::task::spawn_blocking(move || {
                let store = match taken {
                    Some(s) => s,
                    None => Store::open_reader(&db)?,
                };
                let c = store.central_cursors();
                Ok::<_, StoreError>((store, c))
            })
            .await;
            match r {
                Ok(Ok((store, Ok((events, ratings))))) => {
                    *reader = Some(store);
                    return Some(Cursor {
                        events,
                        saved: (events, ratings),
                        ratings,
                        saved_at: Instant::now(),
                    });
                }
                Ok(Ok((store, Err(e)))) => {
                    *reader = Some(store);
                    tracing::error!(error = %e, "central: cannot read the shipping cursor");
                }
                Ok(Err(e)) => tracing::error!(error = %e, "central: cannot open the database"),
                Err(e) => tracing::error!(error = %e, "central: the reading task failed"),
            }
            if self.pause(backoff).await {
                return None;
            }
        }
    }

    async fn read(
        &self,
        reader: &mut Option<Store>,
        after: u64,
        ratings: Option<RatingMark>,
        limit: usize,
        now: Millis,
    ) -> Result<ShipBatch, String> {
        let db = self.db.clone();
        let taken = reader.take();
        let r = tokio::task::spawn_blocking(move || {
            let store = match taken {
                Some(s) => s,
                None => Store::open_reader(&db)?,
            };
            let b = store.ship_batch(after, ratings, limit, now);
            Ok::<_, StoreError>((store, b))
        })
        .await;
        match r {
            Ok(Ok((store, b))) => {
                // A connection that failed a query is opened again next time.
                if b.is_ok() {
                    *reader = Some(store);
                }
                b.map_err(|e| e.to_string())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The numbers to send beside a batch, while head office has them on: those of the callbacks
    /// its events captured, and with `open` those of every callback not resolved; none the hall's
    /// retention deletes (resolved longer ago than its `callback_retention_days`).
    async fn read_phones(
        &self,
        reader: &mut Option<Store>,
        events: &[hallq_shared::store::shipping::ShipEvent],
        open: bool,
        now: Millis,
    ) -> Result<PhonesBody, String> {
        let retention_days = self
            .hall
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .policy
            .callback_retention_days;
        let resolved_after = now - i64::from(retention_days) * DAY_MS;
        let captured = captured_callbacks(events);
        let db = self.db.clone();
        let taken = reader.take();
        let r = tokio::task::spawn_blocking(move || {
            let store = match taken {
                Some(s) => s,
                None => Store::open_reader(&db)?,
            };
            let read = || -> Result<Vec<ShipPhone>, StoreError> {
                let mut by_id = std::collections::BTreeMap::new();
                for p in store.callback_phones(&captured, resolved_after)? {
                    by_id.insert(p.id, p);
                }
                if open {
                    for p in store.open_callback_phones()? {
                        by_id.insert(p.id, p);
                    }
                }
                Ok(by_id.into_values().collect())
            };
            let p = read();
            Ok::<_, StoreError>((store, p))
        })
        .await;
        match r {
            Ok(Ok((store, p))) => {
                if p.is_ok() {
                    *reader = Some(store);
                }
                p.map(|numbers| PhonesBody {
                    retention_days,
                    numbers,
                })
                .map_err(|e| e.to_string())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Write the cursors if they moved and `now_anyway` or a second has passed since the last
    /// write.
    async fn persist(&self, cursor: &mut Cursor, now_anyway: bool) {
        let want = (cursor.events, cursor.ratings);
        if want == cursor.saved || !(now_anyway || cursor.saved_at.elapsed() >= PERSIST_EVERY) {
            return;
        }
        let db = self.db.clone();
        let w = want;
        let r =
            tokio::task::spawn_blocking(move || Store::set_central_cursors_beside(&db, w.0, w.1))
                .await;
        match r {
            Ok(Ok(())) => {
                cursor.saved = want;
                cursor.saved_at = Instant::now();
            }
            // Kept in memory; the next batch tries to write it again.
            Ok(Err(e)) => tracing::warn!(error = %e, "central: cannot save the shipping cursor"),
            Err(e) => tracing::warn!(error = %e, "central: cannot save the shipping cursor"),
        }
    }

    /// Until the next commit or `idle`; true when the hub is stopping.
    async fn wait_for_commit(&mut self, idle: Duration) -> bool {
        let committed = tokio::select! {
            r = self.committed.changed() => {
                // The writer is gone: the hub is stopping.
                if r.is_err() {
                    return true;
                }
                true
            }
            _ = tokio::time::sleep(idle) => false,
            _ = self.shutdown.changed() => return true,
        };
        let gather = self.shipping.options.gather;
        if committed && !gather.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(gather) => {}
                _ = self.shutdown.changed() => return true,
            }
        }
        false
    }

    /// Back off: a random time in the upper half of `backoff`, which then doubles up to the
    /// maximum (halls cut off together do not all come back in the same second). True when the
    /// hub is stopping.
    async fn pause(&mut self, backoff: &mut Duration) -> bool {
        let max = self.shipping.options.backoff_max;
        let ms = backoff.as_millis().max(1) as u64;
        let wait = Duration::from_millis(rand::rng().random_range(ms / 2..=ms));
        *backoff = (*backoff * 2).min(max);
        tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = self.shutdown.changed() => true,
        }
    }
}
