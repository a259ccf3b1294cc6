//! `hallq-hub`: the hall's hub (HTTP + WebSocket API, staff, manager and phone pages) and its
//! administration (accounts, devices, backups, retention). This file only parses the command line;
//! each subcommand lives in the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hallq_hub::cli::{self, AccountRole, DataDirArg, DemoArgs, DeviceRole, ServeArgs};

#[derive(Debug, Parser)]
#[command(
    name = "hallq-hub",
    version,
    about = "The hall's queue hub (营业厅排队叫号) and its administration; the kiosk by the door is \
             the hallq-kiosk program, the boards hallq-board"
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
    /// Copy the hall database while the hub runs (SQLite's online backup), then thin old copies out.
    Backup {
        #[command(flatten)]
        data: DataDirArg,
        /// Folder that keeps the backups.
        #[arg(long, default_value = "/var/lib/hallq/backups")]
        to: PathBuf,
        /// Daily backups kept.
        #[arg(long, default_value_t = 14)]
        keep_daily: usize,
        /// Weekly backups kept beyond the daily ones.
        #[arg(long, default_value_t = 8)]
        keep_weekly: usize,
    },
    /// Put a backup in place of the hall database (stop the hub first); the old file is kept aside.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
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
        /// kiosk: issues tickets and reports its printer; display: the board; tablet: the
        /// customer rating tablet at one counter.
        #[arg(long, value_enum)]
        role: DeviceRole,
        /// The counter a rating tablet stands at (tablets only).
        #[arg(long, value_name = "N")]
        counter: Option<u32>,
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
    hallq_hub::memory::tune_allocator();
    let cli = Cli::parse();
    hallq_shared::logs::init();
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
        Cmd::Device(DeviceCmd::Add {
            name,
            role,
            counter,
            data,
        }) => cli::device_add(&name, role, counter, &dir(&data), out).map(|_| ()),
        Cmd::Device(DeviceCmd::Revoke { name, data }) => {
            cli::device_revoke(&name, &dir(&data), out)
        }
        Cmd::Device(DeviceCmd::List { data }) => cli::device_list(&dir(&data), out),
        Cmd::Retention(data) => cli::retention(&dir(&data), out).map(|_| ()),
        Cmd::Backup {
            data,
            to,
            keep_daily,
            keep_weekly,
        } => hallq_hub::admin_backup::backup_cmd(&dir(&data), &to, keep_daily, keep_weekly),
        Cmd::Restore { file, data } => hallq_hub::admin_backup::restore_cmd(&file, &dir(&data)),
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
