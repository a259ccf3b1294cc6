//! The subcommands of `hallq-central`: serve, and the administration of halls and head office's
//! accounts. `main.rs` only parses.

use std::io::Read;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::Args;
use tokio::net::TcpListener;

use crate::auth::{hash_password, new_secret, sha256_hex};
use crate::store::{HallAddError, PhoneSwitchError, Store};
use crate::{AppState, run};

/// Who the audit log names for what is done on the command line (the machine's administrator).
const CLI_ACTOR: &str = "command line";

/// Connections the server keeps to PostgreSQL at most.
const SERVE_CONNECTIONS: usize = 16;

#[derive(Debug, Clone, Args)]
pub struct DbArg {
    /// PostgreSQL connection string, e.g. `host=/run/postgresql dbname=hallq user=hallq` or
    /// `postgresql://hallq@localhost/hallq`.
    #[arg(long, env = "HALLQ_CENTRAL_DB")]
    pub db: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on. Put central behind a TLS reverse proxy when halls reach it over a
    /// network (docs/central.md).
    #[arg(long, env = "HALLQ_CENTRAL_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Mark session cookies `Secure` (central is reached over HTTPS through the proxy).
    #[arg(long, env = "HALLQ_CENTRAL_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.db.db, SERVE_CONNECTIONS)
        .await
        .context("opening the central database")?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "hallq-central serving");
    tokio::spawn(crate::phones::purge_loop(store.clone()));
    let state = AppState::new(store, args.secure_cookies);
    run(listener, state, shutdown_signal()).await?;
    tracing::info!("hallq-central stopped");
    Ok(())
}

/// SIGTERM (systemd) or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stopping: finishing the requests in flight");
}

fn check_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        bail!("a name is 1 to 100 characters, without control characters");
    }
    Ok(name)
}

/// Register a hall and print its credential, the only time it is shown.
pub async fn hall_add(db: &DbArg, name: &str, group: Option<&str>) -> anyhow::Result<()> {
    let name = check_name(name)?;
    let group = group.map(check_name).transpose()?;
    let store = Store::open(&db.db, 1).await?;
    let credential = new_secret();
    match store.add_hall(name, &sha256_hex(&credential)).await {
        Ok(_) => {
            if let Some(g) = group {
                store.set_hall_group(name, Some(g), CLI_ACTOR).await?;
            }
            println!("{credential}");
            eprintln!(
                "hall {name:?} registered. The line above is its credential, shown this once: \
                 put it in the hub's credential file (--central-credential-file)."
            );
            Ok(())
        }
        Err(HallAddError::Exists(n)) => bail!("a hall named {n:?} exists already"),
        Err(HallAddError::Store(e)) => Err(e.into()),
    }
}

/// Put a hall in a group (`None`: in none); it takes that group's publications from then on.
pub async fn hall_group(db: &DbArg, name: &str, group: Option<&str>) -> anyhow::Result<()> {
    let group = group
        .filter(|g| !g.trim().is_empty())
        .map(check_name)
        .transpose()?;
    let store = Store::open(&db.db, 1).await?;
    if !store.set_hall_group(name.trim(), group, CLI_ACTOR).await? {
        bail!("no hall named {name:?}");
    }
    match group {
        Some(g) => println!("hall {name:?} is in group {g:?}"),
        None => println!("hall {name:?} is in no group"),
    }
    Ok(())
}

pub async fn hall_revoke(db: &DbArg, name: &str) -> anyhow::Result<()> {
    let store = Store::open(&db.db, 1).await?;
    if !store.revoke_hall(name.trim()).await? {
        bail!("no live hall named {name:?}");
    }
    println!("hall {name:?} revoked: its credential is refused from now on");
    Ok(())
}

pub async fn hall_list(db: &DbArg) -> anyhow::Result<()> {
    let store = Store::open(&db.db, 1).await?;
    for h in store.list_halls().await? {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            h.name,
            h.group.as_deref().unwrap_or("-"),
            h.created_at.format("%Y-%m-%d %H:%M"),
            match h.revoked_at {
                Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
                None => "live".into(),
            },
            if h.callback_phones {
                "phones-on"
            } else {
                "phones-off"
            }
        );
    }
    Ok(())
}

/// `hall phones NAME on|off` (or `--all`): whether the hall ships its callbacks' phone numbers to
/// central. Turning on is a decision head office must give a reason for, kept in the audit log
/// with who and when; turning off deletes the numbers central holds for the hall at once.
pub async fn hall_phones(
    db: &DbArg,
    hall: Option<&str>,
    on: bool,
    why: Option<&str>,
) -> anyhow::Result<()> {
    let why = why.map(str::trim).filter(|w| !w.is_empty());
    let why = match (on, why) {
        (true, None) => bail!(
            "say why central should keep the halls' phone numbers: --why \"…\" (kept in the audit log)"
        ),
        (_, Some(w)) if w.chars().count() > 500 || w.chars().any(char::is_control) => {
            bail!("--why is at most 500 characters, without control characters")
        }
        (true, Some(w)) => w,
        (false, w) => w.unwrap_or("turned off"),
    };
    // Who: the administrator's own account, as the shell names it (sudo's caller first).
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .ok()
        .filter(|u| !u.is_empty());
    let actor = match &user {
        Some(u) => format!("{CLI_ACTOR} ({u})"),
        None => CLI_ACTOR.to_string(),
    };
    let store = Store::open(&db.db, 1).await?;
    let done = match store
        .set_callback_phones(hall.map(str::trim), on, &actor, why)
        .await
    {
        Ok(d) => d,
        Err(PhoneSwitchError::NoSuchHall(n)) => bail!("no live hall named {n:?}"),
        Err(PhoneSwitchError::Store(e)) => return Err(e.into()),
    };
    if done.is_empty() {
        println!("no live halls");
    }
    for d in done {
        match (on, d.was_on) {
            (true, true) => println!("hall {:?}: phone numbers were on already", d.hall),
            (true, false) => println!(
                "hall {:?}: phone numbers on; the hub starts sending them with its next batch",
                d.hall
            ),
            (false, _) => println!(
                "hall {:?}: phone numbers off; {} held at central deleted",
                d.hall, d.deleted
            ),
        }
    }
    Ok(())
}

/// Create a head-office account (or set its password), the password read from standard input.
pub async fn operator_add(db: &DbArg, name: &str) -> anyhow::Result<()> {
    let name = check_name(name)?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the password from standard input")?;
    let password = input.lines().next().unwrap_or("").to_string();
    if password.chars().count() < 8 {
        bail!("give a password of at least 8 characters on standard input");
    }
    let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
    let store = Store::open(&db.db, 1).await?;
    store.set_operator(name, &hash).await?;
    println!("operator {name:?} can sign in");
    Ok(())
}
