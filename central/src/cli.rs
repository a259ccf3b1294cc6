//! The subcommands of `hallq-central`: serve, and the administration of halls and head office's
//! accounts. `main.rs` only parses.

use std::io::Read;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::Args;
use tokio::net::TcpListener;

use crate::auth::{hash_password, new_secret, sha256_hex};
use crate::store::{HallAddError, Store};
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
            "{}\t{}\t{}\t{}",
            h.name,
            h.group.as_deref().unwrap_or("-"),
            h.created_at.format("%Y-%m-%d %H:%M"),
            match h.revoked_at {
                Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
                None => "live".into(),
            }
        );
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
