//! `hallq-kiosk`: the hall hub (HTTP + WebSocket API, staff pages) and the ticket kiosk.
//! This file only parses the command line; each subcommand lives in its module.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hallq_hub::cli::{self, AccountRole, DataDirArg, DemoArgs, DeviceRole, ServeArgs};

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
    /// The touch screen by the door: take a ticket, read what a service needs, leave a callback number
    /// (the program hallq-kiosk-screen; `hallq-kiosk kiosk --help` lists its options).
    #[command(disable_help_flag = true)]
    Kiosk {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<std::ffi::OsString>,
    },
    /// Print a sample ticket: the installer's first check of the printer.
    PrintTest(PrintTest),
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

#[derive(clap::Args, Debug)]
struct PrintTest {
    /// usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=19200, tcp:HOST:9100 or file:PATH
    #[arg(long)]
    printer: String,
    /// Paper width in dots: 384 for 58 mm paper, 576 for 80 mm paper.
    #[arg(long, default_value_t = 576)]
    width: u32,
    /// Also write the ticket as a PNG, decoded back from the ESC/POS bytes that were sent.
    #[arg(long, value_name = "OUT.png")]
    png: Option<PathBuf>,
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
    hallq_kiosk::memory::tune_allocator();
    let cli = Cli::parse();
    hallq_kiosk::init_logs();
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
        Cmd::Kiosk { args } => run_screen(&args),
        Cmd::PrintTest(a) => print_test(a),
        Cmd::Backup {
            data,
            to,
            keep_daily,
            keep_weekly,
        } => hallq_kiosk::admin_backup::backup_cmd(&dir(&data), &to, keep_daily, keep_weekly),
        Cmd::Restore { file, data } => hallq_kiosk::admin_backup::restore_cmd(&file, &dir(&data)),
    }
}

/// `kiosk` becomes the screen program in this same process, so that systemd keeps watching one PID
/// (readiness and watchdog come from the screen). The program is the one beside this executable
/// (installed and build trees alike), else the one on `PATH`.
fn run_screen(args: &[std::ffi::OsString]) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;

    const NAME: &str = "hallq-kiosk-screen";
    let beside = std::env::current_exe()
        .context("finding this program's own path")?
        .with_file_name(NAME);
    let program = if beside.is_file() {
        beside.clone().into_os_string()
    } else {
        NAME.into()
    };
    let err = std::process::Command::new(&program).args(args).exec();
    if err.kind() == std::io::ErrorKind::NotFound {
        anyhow::bail!(
            "the kiosk screen program {NAME} is not installed (looked beside {} and on PATH)",
            beside.display()
        );
    }
    Err(err).with_context(|| format!("starting the kiosk screen {}", program.display()))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn print_test(a: PrintTest) -> anyhow::Result<()> {
    use hallq_kiosk::printer::{self, PrinterHealth, TicketPrint};

    let ticket =
        TicketPrint::test_print(&chrono::Local::now().format("%Y-%m-%d %H:%M").to_string());
    // Drawing first: a missing font is reported before anything reaches the printer.
    let raster = printer::render_ticket(&ticket, a.width)?;
    if let Some(out) = &a.png {
        // The picture goes the same way as the printer's bytes: encode, then decode.
        let bytes = printer::encode_ticket(&raster, Vec::new())?;
        let decoded = printer::decode_tickets(&bytes)?;
        let first = decoded
            .first()
            .context("the encoded ticket decoded to nothing")?;
        let f =
            std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
        first
            .write_png(std::io::BufWriter::new(f))
            .with_context(|| format!("writing {}", out.display()))?;
        println!(
            "wrote {} ({}x{} dots)",
            out.display(),
            first.width(),
            first.height()
        );
    }
    let mut p = printer::open(&a.printer, a.width)?;
    let health = p.health();
    println!("printer {}: {health:?}", a.printer);
    p.print(&ticket)
        .with_context(|| format!("printing the test ticket on {}", a.printer))?;
    if health == PrinterHealth::NoAnswer {
        println!("sent; the printer did not answer status queries (check the cable and power)");
    } else {
        println!("printed the test ticket");
    }
    Ok(())
}
