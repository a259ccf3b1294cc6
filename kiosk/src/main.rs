//! `hallq-kiosk`: the hall hub and the ticket kiosk.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use hallq_kiosk::station::{
    self, Controller, HubClient, PrinterDesk, Printing, Timeouts, fonts, headless::Headless,
    printing::MemoryPrinter, ui,
};
use slint::ComponentHandle;

#[derive(Parser)]
#[command(
    name = "hallq-kiosk",
    version,
    about = "The hall hub and the ticket kiosk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The touch screen by the door: take a ticket, read what a service needs, leave a callback number.
    Kiosk(KioskArgs),
}

#[derive(Args)]
struct KioskArgs {
    /// The hub's address.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "HALLQ_HUB")]
    hub: String,
    /// This kiosk's device token (issued by the hub's `device` command).
    #[arg(long, env = "HALLQ_KIOSK_TOKEN")]
    token: String,
    /// The ticket printer; `memory` keeps tickets in memory (trying the screen without hardware).
    /// Without it, customers are told to remember the number shown.
    #[arg(long)]
    printer: Option<String>,
    /// Paper width in printer dots: 384 (58 mm) or 576 (80 mm).
    #[arg(long, default_value_t = 576, value_parser = parse_width)]
    width: u32,
    /// Window or screenshot size, e.g. 1024x600 or 800x480.
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Fill the whole screen.
    #[arg(long)]
    fullscreen: bool,
    /// Draw the start screen as the hub has it now into this PNG file, without a display, and exit.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
}

fn parse_width(s: &str) -> Result<u32, String> {
    match s {
        "384" => Ok(384),
        "576" => Ok(576),
        _ => Err(format!(
            "paper width {s:?}: 384 (58 mm) or 576 (80 mm) dots"
        )),
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("size {s:?} must look like 1024x600"))?;
    let w: u32 = w
        .trim()
        .parse()
        .map_err(|_| format!("bad width in {s:?}"))?;
    let h: u32 = h
        .trim()
        .parse()
        .map_err(|_| format!("bad height in {s:?}"))?;
    if !(200..=8000).contains(&w) || !(200..=8000).contains(&h) {
        return Err(format!("size {s:?} is out of range"));
    }
    Ok((w, h))
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Kiosk(args) => kiosk(args),
    }
}

/// How long a print may take before the customer is told to remember the number.
const PRINT_TIMEOUT: Duration = Duration::from_secs(8);

fn open_printer(addr: &str, width: u32) -> Result<Box<dyn Printing>> {
    let _ = width;
    match addr {
        "memory" => Ok(Box::new(MemoryPrinter::default())),
        other => bail!(
            "printer {other:?}: this build drives no ESC/POS printer yet; use `--printer memory` or leave --printer out"
        ),
    }
}

fn kiosk(args: KioskArgs) -> Result<()> {
    let font = fonts::find_chinese_font()?;
    let hub = HubClient::new(&args.hub, &args.token, Duration::from_secs(5));
    let (width, height) = args.size.unwrap_or((1024, 600));

    if let Some(path) = &args.screenshot {
        let screen = Headless::new(width, height)?;
        let latest = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&latest);
        let controller = Controller::new(
            hub,
            None,
            Timeouts::default(),
            Box::new(move |v| *keep.lock().unwrap() = Some(v)),
        );
        controller.refresh();
        controller.tick(Instant::now(), chrono::Utc::now());
        if let Some(v) = latest.lock().unwrap().take() {
            ui::apply(&screen.ui, &v);
        }
        screen.save_png(path)?;
        eprintln!(
            "kiosk screen {width}x{height} written to {} (font {})",
            path.display(),
            font.display()
        );
        return Ok(());
    }

    let printer = match &args.printer {
        Some(addr) => Some(PrinterDesk::start(
            open_printer(addr, args.width)?,
            PRINT_TIMEOUT,
        )),
        None => None,
    };
    let window = station::KioskWindow::new().context("cannot open the kiosk window")?;
    if let Some((w, h)) = args.size {
        window.window().set_size(slint::PhysicalSize::new(w, h));
    }
    if args.fullscreen {
        window.window().set_fullscreen(true);
    }
    let controller = Controller::new(
        hub,
        printer,
        Timeouts::default(),
        ui::event_loop_sink(&window),
    );
    ui::connect(&window, &controller);
    controller.start_polling();
    let clock = slint::Timer::default();
    let c = controller.clone();
    clock.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        move || c.tick(Instant::now(), chrono::Utc::now()),
    );
    controller.tick(Instant::now(), chrono::Utc::now());
    window.run().context("kiosk event loop")?;
    controller.stop();
    Ok(())
}
