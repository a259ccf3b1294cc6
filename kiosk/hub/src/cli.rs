//! What the `hallq-hub` subcommands do: serve, demo, user and device management,
//! retention. `main.rs` only parses the command line and calls these.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveTime;
use clap::{Args, ValueEnum};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Actor, Command};
use hallq_shared::hall::time::system_millis;
use hallq_shared::hall::{CounterState, Millis, Now};
use hallq_shared::protocol::Role;
use hallq_shared::store::{Store, backup, db_path};
use rand::Rng;
use serde_json::json;
use tokio::net::TcpListener;

use super::accept::{self, ServeOptions};
use super::state::{AppState, Hub, HubOptions};
use super::{auth, file_modes};

pub const DEFAULT_DATA_DIR: &str = "./hallq-data";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEMO_LISTEN: &str = "127.0.0.1:8080";
const DAY_MS: Millis = 86_400_000;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Directory holding the hall database (hallq.db); created if missing.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "HALLQ_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Address and port to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN, env = "HALLQ_LISTEN")]
    pub listen: SocketAddr,
    /// Hall configuration (TOML). Used to create a new database; without it the demo hall is used.
    /// Later edits made by the manager are kept in the database and win over the file.
    #[arg(long, value_name = "FILE", env = "HALLQ_CONFIG")]
    pub config: Option<PathBuf>,
    /// Replace the configuration kept in the database with --config (recorded in the history).
    #[arg(long, requires = "config")]
    pub apply_config: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        env = "HALLQ_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        value_name = "FILE",
        env = "HALLQ_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// With TLS, also serve plain HTTP here for programs on this machine that speak no HTTPS
    /// (the kiosk screen), e.g. 127.0.0.1:8080.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        env = "HALLQ_PLAIN_LISTEN",
        requires = "tls_cert"
    )]
    pub plain_listen: Option<SocketAddr>,
    /// Most connections open at once from one client address (default: 256, or the whole cap
    /// where that is lower). Raise it for a load test run from one machine.
    #[arg(long, value_name = "N", env = "HALLQ_MAX_CONNECTIONS_PER_CLIENT")]
    pub max_connections_per_client: Option<usize>,
    /// Ship the hall's history to the operator's central service at this address, e.g.
    /// https://central.example.com (docs/central.md); needs --central-credential-file.
    #[arg(long, value_name = "URL", env = "HALLQ_CENTRAL_URL")]
    pub central_url: Option<String>,
    /// The file holding this hall's central credential (as `hallq-central hall add` printed it),
    /// readable by the hub only.
    #[arg(long, value_name = "FILE", env = "HALLQ_CENTRAL_CREDENTIAL_FILE")]
    pub central_credential_file: Option<String>,
    /// PEM certificates to trust for central besides the public web's roots: the operator's own
    /// certificate authority, when central's https address has a certificate it issued.
    #[arg(long, value_name = "FILE", env = "HALLQ_CENTRAL_CA_FILE")]
    pub central_ca_file: Option<String>,
    /// When shipping is caught up, how long after a commit it waits for more before sending
    /// (milliseconds; default 5000): longer means fewer, larger batches for central.
    #[arg(long, value_name = "MS", env = "HALLQ_CENTRAL_GATHER_MS")]
    pub central_gather_ms: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the demo data here instead of a fresh temporary directory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = DEMO_LISTEN)]
    pub listen: SocketAddr,
    /// Password for the demo accounts (default: a random one, printed).
    #[arg(long)]
    pub password: Option<String>,
    /// Most connections open at once from one client address (as for serve).
    #[arg(long, value_name = "N", env = "HALLQ_MAX_CONNECTIONS_PER_CLIENT")]
    pub max_connections_per_client: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AccountRole {
    Staff,
    Manager,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DeviceRole {
    Kiosk,
    Display,
    /// The rating tablet at one counter (`--counter`).
    Tablet,
}

#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Directory holding the hall database (hallq.db).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "HALLQ_DATA_DIR")]
    pub data_dir: PathBuf,
}

/// The hall's configuration, and the fingerprint of its file's text (none for the demo hall).
fn load_config(path: Option<&Path>) -> anyhow::Result<(HallConfig, Option<String>)> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the configuration file {}", p.display()))?;
            let config =
                HallConfig::from_toml(&text).with_context(|| format!("in {}", p.display()))?;
            Ok((config, Some(auth::sha256_hex(&text))))
        }
        None => Ok((HallConfig::demo(), None)),
    }
}

/// `hallq-hub serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let serving = serve_options(&args)?;
    let (config, file_mark) = load_config(args.config.as_deref())?;
    if args.config.is_none() {
        tracing::warn!("no --config given: using the demo hall's services and counters");
    }
    let mut opts = HubOptions::new(&args.data_dir, config);
    opts.apply_config = args.apply_config;
    opts.config_file_mark = file_mark;
    opts.central = central_options(&args)?;
    // The port first: a hub that cannot listen stops before it touches the database.
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let plain = match args.plain_listen {
        Some(at) => {
            if !at.ip().is_loopback() {
                tracing::warn!(%at, "plain HTTP on a network address: what crosses it is readable");
            }
            Some(
                TcpListener::bind(at)
                    .await
                    .with_context(|| format!("cannot listen on {at}"))?,
            )
        }
        None => None,
    };
    let hub = tokio::task::spawn_blocking(move || open_private(opts))
        .await?
        .context("cannot start the hall hub")?;
    serve_on(listener, plain, hub, started, serving).await
}

/// Shipping to central, when both settings are given. A setting left empty in the environment
/// file (`HALLQ_CENTRAL_URL=`) counts as not given, so that blanking it turns shipping off.
fn central_options(args: &ServeArgs) -> anyhow::Result<Option<super::central::CentralOptions>> {
    let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    match (
        given(&args.central_url),
        given(&args.central_credential_file),
    ) {
        (Some(url), Some(file)) => {
            let mut opts = super::central::CentralOptions::from_file(&url, Path::new(&file))?;
            if let Some(ms) = args.central_gather_ms {
                opts.gather = std::time::Duration::from_millis(ms.min(600_000));
            }
            Ok(Some(match given(&args.central_ca_file) {
                Some(ca) => opts.trust_ca_file(Path::new(&ca))?,
                None => opts,
            }))
        }
        (None, None) => Ok(None),
        (Some(_), None) => bail!(
            "--central-url (HALLQ_CENTRAL_URL) needs --central-credential-file (HALLQ_CENTRAL_CREDENTIAL_FILE): the file holding the hall's credential"
        ),
        (None, Some(_)) => bail!(
            "--central-credential-file (HALLQ_CENTRAL_CREDENTIAL_FILE) needs --central-url (HALLQ_CENTRAL_URL): central's address"
        ),
    }
}

/// Files the hub makes are kept from other users (see `file_modes`), and the file limit is raised
/// so that the connection cap can sit well below it.
fn serve_options(args: &ServeArgs) -> anyhow::Result<ServeOptions> {
    file_modes::restrict_umask();
    let mut opts = ServeOptions::for_file_limit(accept::raise_file_limit());
    if let Some(n) = args.max_connections_per_client {
        opts.max_connections_per_client = n.clamp(1, opts.max_connections);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        opts.tls = Some(accept::load_tls(cert, key)?);
    }
    Ok(opts)
}

/// `Hub::open` on a data directory and database that other users cannot read.
fn open_private(opts: HubOptions) -> anyhow::Result<AppState> {
    file_modes::prepare_data_dir(&opts.data_dir)?;
    let db = db_path(&opts.data_dir);
    file_modes::protect_database(&db)?;
    let hub = Hub::open(opts)?;
    file_modes::protect_database(&db)?;
    Ok(hub)
}

async fn serve_on(
    listener: TcpListener,
    plain: Option<TcpListener>,
    hub: AppState,
    started: std::time::Instant,
    serving: ServeOptions,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        db = %hub.data_path().display(),
        startup_ms = started.elapsed().as_secs_f64() * 1000.0,
        "hall hub listening"
    );
    if let Some(p) = &plain {
        tracing::info!(addr = %p.local_addr()?, "also plain HTTP");
    }
    super::run_on(
        listener,
        plain,
        hub.clone(),
        super::shutdown_signal(),
        serving,
    )
    .await?;
    stop_writer(hub).await;
    tracing::info!("hall hub stopped");
    Ok(())
}

/// Let the writer finish what is queued. Everything acknowledged is already durable, so giving up
/// after a while loses nothing that anyone was told is done.
async fn stop_writer(mut hub: AppState) {
    let deadline = tokio::time::Instant::now() + super::WRITER_DRAIN;
    loop {
        match Arc::try_unwrap(hub) {
            Ok(h) => {
                let _ = tokio::task::spawn_blocking(move || drop(h)).await;
                return;
            }
            Err(h) if tokio::time::Instant::now() < deadline => {
                hub = h;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => {
                tracing::warn!("connections still open at shutdown; stopping anyway");
                return;
            }
        }
    }
}

/// `hallq-hub user add`: the password is read from standard input (one line).
pub fn user_add(
    login: &str,
    role: AccountRole,
    data_dir: &Path,
    input: impl BufRead,
    mut out: impl Write,
) -> anyhow::Result<()> {
    check_name(login)?;
    let password = read_password(input)?;
    let hash = auth::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    let store = Store::open(&db_path(data_dir))?;
    let role = match role {
        AccountRole::Staff => Role::Staff,
        AccountRole::Manager => Role::Manager,
    };
    let now = system_millis();
    store.add_account(login, auth::role_str(role), &hash, now)?;
    store.audit(
        now,
        "cli",
        "account_added",
        &json!({"login": login, "role": auth::role_str(role)}),
    )?;
    writeln!(
        out,
        "account {login} ({}) saved; any session it had is ended (a running hub stops accepting it within {} s)",
        auth::role_str(role),
        auth::RECHECK.as_secs()
    )?;
    Ok(())
}

fn read_password(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters (give it on standard input)");
    }
    Ok(password)
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("{name:?}: use 1–64 letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

pub fn user_disable(login: &str, data_dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let store = Store::open(&db_path(data_dir))?;
    if !store.disable_account(login)? {
        bail!("no account {login}");
    }
    store.audit(
        system_millis(),
        "cli",
        "account_disabled",
        &json!({"login": login}),
    )?;
    writeln!(out, "account {login} disabled and signed out")?;
    Ok(())
}

pub fn user_list(data_dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let store = Store::open(&db_path(data_dir))?;
    for (login, role, disabled) in store.accounts()? {
        writeln!(
            out,
            "{login}\t{role}{}",
            if disabled { "\tdisabled" } else { "" }
        )?;
    }
    Ok(())
}

/// `hallq-hub device add`: prints the new token once; only its hash is kept. A rating tablet is
/// bound to the counter it stands at: its token rates that counter's visits and nothing else.
pub fn device_add(
    name: &str,
    role: DeviceRole,
    counter: Option<u32>,
    data_dir: &Path,
    mut out: impl Write,
) -> anyhow::Result<String> {
    check_name(name)?;
    let role = match role {
        DeviceRole::Kiosk => Role::Kiosk,
        DeviceRole::Display => Role::Display,
        DeviceRole::Tablet => Role::Tablet,
    };
    match (role, counter) {
        (Role::Tablet, None) => {
            bail!("a rating tablet needs --counter N: the counter it stands at")
        }
        (Role::Tablet, Some(_)) | (_, None) => {}
        (_, Some(_)) => bail!("--counter is for a rating tablet only"),
    }
    let store = Store::open(&db_path(data_dir))?;
    if let (Some(c), Some(config)) = (counter, store.saved_config()?)
        && config.counter(c).is_none()
    {
        bail!("the hall has no counter {c}");
    }
    let token = auth::new_token();
    let now = system_millis();
    store.add_device_at(
        name,
        auth::role_str(role),
        counter,
        &auth::token_hash(&token),
        now,
    )?;
    store.audit(
        now,
        "cli",
        "device_added",
        &json!({"device": name, "role": auth::role_str(role), "counter": counter}),
    )?;
    writeln!(out, "{token}")?;
    Ok(token)
}

pub fn device_revoke(name: &str, data_dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let store = Store::open(&db_path(data_dir))?;
    if !store.revoke_device(name)? {
        bail!("no device {name}");
    }
    store.audit(
        system_millis(),
        "cli",
        "device_revoked",
        &json!({"device": name}),
    )?;
    writeln!(out, "device {name} revoked")?;
    Ok(())
}

pub fn device_list(data_dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let store = Store::open(&db_path(data_dir))?;
    for (name, role, counter, revoked) in store.device_list()? {
        let counter = counter
            .map(|c| format!("\tcounter {c}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{name}\t{role}{counter}{}",
            if revoked { "\trevoked" } else { "" }
        )?;
    }
    Ok(())
}

/// What retention removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub callbacks: usize,
    pub history_rows: usize,
    /// Handled suggestions (with the phone number left for the answer), and any older than the
    /// history period.
    pub suggestions: usize,
}

/// Delete resolved callbacks, handled suggestions and history older than the hall's policy allows.
pub fn purge(
    store: &Store,
    config: &HallConfig,
    now: Millis,
) -> Result<Purged, hallq_shared::store::StoreError> {
    let p = &config.policy;
    let contacts_before = now - i64::from(p.callback_retention_days) * DAY_MS;
    let callbacks = store.purge_resolved_callbacks(contacts_before)?;
    // A number left with a suggestion was promised the same use as a callback's: one answer, then
    // deleted as long after handling as a resolved callback's.
    let history_before = now - i64::from(p.history_retention_days) * DAY_MS;
    let suggestions = store.purge_handled_suggestions(contacts_before)?
        + store.purge_suggestions_left_before(history_before)?;
    let today = Now::in_zone(now, &config.time_zone()).day;
    let before = today
        .checked_sub_days(chrono::Days::new(u64::from(p.history_retention_days)))
        .unwrap_or(chrono::NaiveDate::MIN);
    let history_rows = store.purge_history(before)?;
    if callbacks + history_rows + suggestions > 0 {
        store.audit(
            now,
            "system",
            "retention",
            &json!({
                "callbacks": callbacks,
                "history_rows": history_rows,
                "suggestions": suggestions,
            }),
        )?;
    }
    Ok(Purged {
        callbacks,
        history_rows,
        suggestions,
    })
}

/// `hallq-hub retention`.
pub fn retention(data_dir: &Path, mut out: impl Write) -> anyhow::Result<Purged> {
    let store = Store::open(&db_path(data_dir))?;
    let config = store.saved_config()?.unwrap_or_else(HallConfig::demo);
    let now = system_millis();
    let purged = purge(&store, &config, now)?;
    if !store.truncate_log() {
        writeln!(
            out,
            "the database's log could not be emptied now (busy): the next retention run tries again"
        )?;
    }
    let kept = store.personal_data_kept(now)?;
    drop(store);
    let scrubbed = scrub_backups(data_dir, &kept)?;
    writeln!(
        out,
        "deleted {} resolved callbacks, {} handled suggestions and {} history rows; {} backups cleaned of them",
        purged.callbacks, purged.suggestions, purged.history_rows, scrubbed
    )?;
    Ok(purged)
}

/// Where backups live: the nightly ones, and those made before each update.
pub fn backup_dirs(data_dir: &Path) -> [PathBuf; 2] {
    let nightly = data_dir.join("backups");
    [nightly.join("pre-update"), nightly]
}

/// Delete from every backup what retention has deleted from the live database (see
/// `backup::scrub`); the number of backups that had something deleted.
pub fn scrub_backups(data_dir: &Path, kept: &backup::Kept) -> anyhow::Result<usize> {
    let mut n = 0;
    for dir in backup_dirs(data_dir) {
        for (file, rows) in backup::scrub_dir(&dir, kept)
            .with_context(|| format!("cleaning the backups in {}", dir.display()))?
        {
            tracing::info!(backup = %file.display(), rows, "deleted personal data from a backup");
            n += 1;
        }
    }
    Ok(n)
}

/// Retention inside a running hub: the deletions on the writer thread, then the backups beside
/// the database on a blocking thread (rewriting a backup must not hold up tickets).
pub async fn run_retention(hub: &AppState) -> anyhow::Result<Purged> {
    let now = (hub.clock)();
    let (tx, rx) = tokio::sync::oneshot::channel();
    hub.writer.admin(
        move |s, hall| {
            let purged = purge(s, &hall.config, now)?;
            if !s.truncate_log() {
                tracing::warn!("the database's log could not be emptied after retention (busy)");
            }
            Ok::<_, hallq_shared::store::StoreError>((purged, s.personal_data_kept(now)?))
        },
        move |r| {
            let _ = tx.send(r);
        },
    );
    let (purged, kept) = rx
        .await
        .map_err(|_| anyhow::anyhow!("the hub is stopping"))?
        .map_err(|e| anyhow::anyhow!("{e}"))??;
    let data_dir = hub
        .data_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let scrubbed = tokio::task::spawn_blocking(move || scrub_backups(&data_dir, &kept)).await??;
    tracing::info!(
        callbacks = purged.callbacks,
        suggestions = purged.suggestions,
        history_rows = purged.history_rows,
        backups_cleaned = scrubbed,
        "retention done"
    );
    Ok(purged)
}

/// Inside `serve`: retention a minute after start, then once a day.
pub async fn retention_loop(hub: AppState) {
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(60),
        Duration::from_secs(86_400),
    );
    loop {
        every.tick().await;
        if let Err(e) = run_retention(&hub).await {
            tracing::error!(error = %format!("{e:#}"), "retention failed");
        }
    }
}

/// The demo hall: open all day so that a first look works at any hour.
pub fn demo_config() -> HallConfig {
    let mut c = HallConfig::demo();
    c.hours.opening = NaiveTime::from_hms_opt(0, 0, 0).unwrap_or_default();
    c.hours.last_ticket = NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default();
    c.hours.closing = NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default();
    c
}

fn random_password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// `hallq-hub demo`: a throw-away hall with demo accounts, devices and a few tickets.
pub async fn demo(args: DemoArgs, mut out: impl Write) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    file_modes::restrict_umask();
    let mut serving = ServeOptions::for_file_limit(accept::raise_file_limit());
    if let Some(n) = args.max_connections_per_client {
        serving.max_connections_per_client = n.clamp(1, serving.max_connections);
    }
    let data_dir = match args.data_dir {
        Some(d) => d,
        // Passwords and tokens land in it: a directory of its own (0700), not loose files in
        // the shared temporary directory.
        None => file_modes::private_dir(
            &std::env::temp_dir(),
            &format!(
                "hallq-demo-{}-{:08x}",
                std::process::id(),
                rand::rng().random::<u32>()
            ),
        )?,
    };
    let password = match args.password {
        Some(p) if p.chars().count() >= 8 => p,
        Some(_) => bail!("--password must have at least 8 characters"),
        None => random_password(),
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let (hub, kiosk_token, display_token) = {
        let data_dir = data_dir.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            file_modes::prepare_data_dir(&data_dir)?;
            let mut opts = HubOptions::new(&data_dir, demo_config());
            opts.apply_config = true;
            let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            let kiosk = auth::new_token();
            let display = auth::new_token();
            {
                let store = Store::open(&db_path(&data_dir))?;
                let now = system_millis();
                store.add_account("manager", "manager", &hash, now)?;
                for i in 1..=4 {
                    store.add_account(&format!("clerk{i}"), "staff", &hash, now)?;
                }
                store.add_device("kiosk-1", "kiosk", &auth::token_hash(&kiosk), now)?;
                store.add_device("display-1", "display", &auth::token_hash(&display), now)?;
            }
            let hub = open_private(opts)?;
            let demo = Actor::new("demo", Role::Manager, None);
            for c in [1, 2] {
                hub.writer.execute(
                    Command::SetCounter {
                        counter: c,
                        state: CounterState::Open,
                    },
                    demo.clone(),
                )?;
            }
            for (service, priority) in [
                ("pay", false),
                ("account", false),
                ("pay", true),
                ("repair", false),
                ("stb", false),
                ("pay", false),
            ] {
                if let Err(e) = hub.writer.execute(
                    Command::IssueTicket {
                        service: service.into(),
                        priority,
                    },
                    demo.clone(),
                ) {
                    tracing::warn!(error = %e, "demo ticket not issued");
                }
            }
            let _ = hub.writer.execute(Command::CallNext { counter: 1 }, demo);
            Ok((hub, kiosk, display))
        })
        .await??
    };
    let base = format!("http://{addr}");
    let tokens = json!({
        "hub": base,
        "data_dir": data_dir,
        "password": password,
        "manager": "manager",
        "clerks": ["clerk1", "clerk2", "clerk3", "clerk4"],
        "kiosk_token": kiosk_token,
        "display_token": display_token,
    });
    let tokens_path = data_dir.join("demo-tokens.json");
    file_modes::write_secret(
        &tokens_path,
        serde_json::to_string_pretty(&tokens)?.as_bytes(),
    )?;
    writeln!(
        out,
        "hallq demo hall is open — 演示大厅已开放\n\
         \n  staff pages:   {base}/staff/\n  board data:    {base}/api/v1/board\n  events:        ws://{addr}/api/v1/events\n\
         \n  accounts (password {password}):\n    manager            (no counter)\n    clerk1 … clerk4    (sign in at counter 1–4)\n\
         \n  kiosk token:   {kiosk_token}\n  display token: {display_token}\n\
         \n  data:          {}\n  tokens file:   {}\n\nStop with Ctrl-C.",
        data_dir.display(),
        tokens_path.display()
    )?;
    out.flush()?;
    serve_on(listener, None, hub, started, serving).await
}
