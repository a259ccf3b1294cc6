//! `hallq-kiosk`: the hall hub (HTTP + WebSocket API, staff pages) and the ticket kiosk.
//! This file only parses the command line; each subcommand lives in its module.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hallq_kiosk::hub::cli::{self, AccountRole, DataDirArg, DemoArgs, DeviceRole, ServeArgs};

#[derive(Debug, Parser)]
#[command(
    name = "hallq-kiosk",
    version,
    about = "The hall's queue hub and ticket kiosk (营业厅排队叫号)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the hall hub: HTTP + WebSocket API, staff pages, ticket status pages.
    Serve(ServeArgs),
    /// Start a throw-away demo hall with printed demo accounts and device tokens.
    Demo(DemoArgs),
    /// Manage staff and manager accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage kiosk and display devices.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Delete resolved callbacks and old history as the hall's policy says (also runs daily in serve).
    Retention(DataDirArg),
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Add an account (or reset its password and role); the password is read from standard input.
    Add {
        /// Sign-in name, e.g. clerk1.
        login: String,
        /// staff: acts at the counter it signs in at; manager: any counter, outages, configuration.
        #[arg(long, value_enum)]
        role: AccountRole,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Disable an account and end its sessions.
    Disable {
        login: String,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCmd {
    /// Register a device and print its new token (shown once; only its hash is kept).
    Add {
        /// Device name, e.g. kiosk-door.
        name: String,
        /// kiosk: issues tickets and reports its printer; display: the board.
        #[arg(long, value_enum)]
        role: DeviceRole,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Revoke a device's token.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List devices.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let out = std::io::stdout();
    let dir = |d: &DataDirArg| -> PathBuf { d.data_dir.clone() };
    match cli.command {
        Cmd::Serve(args) => runtime()?.block_on(cli::serve(args)),
        Cmd::Demo(args) => runtime()?.block_on(cli::demo(args, out)),
        Cmd::User(UserCmd::Add { login, role, data }) => {
            cli::user_add(&login, role, &dir(&data), std::io::stdin().lock(), out)
        }
        Cmd::User(UserCmd::Disable { login, data }) => cli::user_disable(&login, &dir(&data), out),
        Cmd::User(UserCmd::List { data }) => cli::user_list(&dir(&data), out),
        Cmd::Device(DeviceCmd::Add { name, role, data }) => {
            cli::device_add(&name, role, &dir(&data), out).map(|_| ())
        }
        Cmd::Device(DeviceCmd::Revoke { name, data }) => {
            cli::device_revoke(&name, &dir(&data), out)
        }
        Cmd::Device(DeviceCmd::List { data }) => cli::device_list(&dir(&data), out),
        Cmd::Retention(data) => cli::retention(&dir(&data), out).map(|_| ()),
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
