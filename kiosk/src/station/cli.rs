//! `hallq-kiosk kiosk`: starts the touch screen (window, full screen or one headless screenshot),
//! with the hub client, the ticket printer and the controller that joins them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::station::{
    self, Controller, HubClient, MemoryPrinter, PrinterDesk, TicketPrinter, Timeouts, fonts,
    headless::Headless, ui,
};
use anyhow::{Context, Result};
use clap::Args;
use slint::ComponentHandle;

/// `hallq-kiosk kiosk`: the touch screen by the door.
#[derive(Args, Debug)]
pub struct KioskArgs {
    /// The hub's address.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "HALLQ_HUB")]
    pub hub: String,
    /// This kiosk's device token (issued by the hub's `device` command).
    #[arg(long, env = "HALLQ_KIOSK_TOKEN")]
    pub token: String,
    /// The ticket printer; `memory` keeps tickets in memory (trying the screen without hardware).
    /// Without it, customers are told to remember the number shown.
    #[arg(long)]
    pub printer: Option<String>,
    /// Paper width in printer dots: 384 (58 mm) or 576 (80 mm).
    #[arg(long, default_value_t = 576, value_parser = parse_width)]
    pub width: u32,
    /// Window or screenshot size, e.g. 1024x600 or 800x480.
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Fill the whole screen.
    #[arg(long)]
    pub fullscreen: bool,
    /// Draw the start screen as the hub has it now into this PNG file, without a display, and exit.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
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

/// How long a print may take before the customer is told to remember the number.
const PRINT_TIMEOUT: Duration = Duration::from_secs(8);

fn open_printer(addr: &str, width: u32) -> Result<Box<dyn TicketPrinter>> {
    match addr {
        "memory" => Ok(Box::new(MemoryPrinter::default())),
        other => Ok(crate::printer::open(other, width)?),
    }
}

/// Run the kiosk screen (or draw one screenshot of it) until the window closes.
pub fn run(args: KioskArgs) -> Result<()> {
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
