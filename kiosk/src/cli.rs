//! The `hallq-kiosk` command line: the touch screen (window, full screen or one headless
//! screenshot) with the hub client, the ticket printer and the controller that joins them; the
//! printer's test print; and, for one release, a pointer from the hub's old commands to `hallq-hub`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::gpio::{ButtonPin, GpioConfig};
use crate::{
    Controller, HubClient, MemoryPrinter, PrinterDesk, TicketPrinter, Timeouts, fonts,
    headless::Headless, ui,
};
use anyhow::{Context, Result};
use clap::Args;
use hallq_shared::screen_size::parse_screen_size;
use slint::ComponentHandle;

/// `hallq-kiosk`: the touch screen by the door.
#[derive(Args, Debug)]
pub struct KioskArgs {
    /// The hub's address.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "HALLQ_HUB")]
    pub hub: String,
    /// The hub's address as a customer's phone reaches it, printed in the ticket's QR code as
    /// `URL/t/NUMBER` and shown in the start screen's phone code as `URL/p/CODE`
    /// (e.g. http://192.168.1.10:8080). Defaults to --hub, which on the Pi is
    /// usually 127.0.0.1: a phone cannot open that, so set this on every real kiosk.
    #[arg(long, env = "HALLQ_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// This kiosk's device token (`hallq-hub device add NAME --role kiosk` prints one).
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
    #[arg(long, value_parser = parse_screen_size)]
    pub size: Option<(u32, u32)>,
    /// Fill the whole screen.
    #[arg(long)]
    pub fullscreen: bool,
    /// A physical button taking a ticket for SERVICE, on BCM pin PIN (wired to ground); repeat for
    /// each button. Needs a build with the `rpi` feature.
    #[arg(long = "button", value_name = "PIN=SERVICE", value_parser = parse_button)]
    pub buttons: Vec<ButtonPin>,
    /// The status light's BCM pin: steady when ready, blinking when the printer needs the staff.
    /// Needs the `rpi` feature.
    #[arg(long, value_name = "PIN")]
    pub light_pin: Option<u8>,
    /// The buzzer's BCM pin: a short beep confirms each button press. Needs the `rpi` feature.
    #[arg(long, value_name = "PIN")]
    pub buzzer_pin: Option<u8>,
    /// Simulated buttons on standard input: a line `1`…`9` presses the n-th service's button, a
    /// line with a service id presses that service's (desktops and tests).
    #[arg(long)]
    pub keys: bool,
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

fn parse_button(s: &str) -> Result<ButtonPin, String> {
    let (pin, service) = s
        .split_once('=')
        .ok_or_else(|| format!("button {s:?} must look like 17=pay (BCM pin = service id)"))?;
    let pin: u8 = pin
        .trim()
        .parse()
        .map_err(|_| format!("button {s:?}: {pin:?} is not a BCM pin number"))?;
    let service = service.trim();
    if service.is_empty() {
        return Err(format!("button {s:?} has no service id"));
    }
    Ok(ButtonPin {
        pin,
        service: service.to_string(),
    })
}

/// What a `hallq-kiosk` command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// The touch screen, with these arguments (program name first), and a note for standard
    /// error when it was asked for under its old spelling.
    Screen {
        args: Vec<OsString>,
        note: Option<&'static str>,
    },
    /// `print-test`, with these arguments (program name first).
    PrintTest(Vec<OsString>),
    /// One of the hub's commands, which `hallq-kiosk` carried until 0.2: what to run instead.
    MovedToHub(String),
}

/// The hub's subcommands of the old `hallq-kiosk` program, now `hallq-hub`'s.
const HUB_COMMANDS: [&str; 7] = [
    "serve",
    "demo",
    "user",
    "device",
    "retention",
    "backup",
    "restore",
];

/// Sorts a command line out: the screen (also under its old spelling `hallq-kiosk kiosk …`), the
/// test print, or a hub command that has moved to `hallq-hub`.
pub fn sort_invocation(argv: &[OsString]) -> Invocation {
    let program = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "hallq-kiosk".into());
    let rest = argv.get(1..).unwrap_or_default();
    // The program name, then what follows the first word.
    let after_first = || {
        std::iter::once(program.clone())
            .chain(rest.iter().skip(1).cloned())
            .collect()
    };
    match rest.first().and_then(|a| a.to_str()) {
        Some("print-test") => Invocation::PrintTest(after_first()),
        Some("kiosk") => Invocation::Screen {
            args: after_first(),
            note: Some(
                "hallq-kiosk: `hallq-kiosk kiosk ...` is now `hallq-kiosk ...` (the word `kiosk` \
                 can go; it is still accepted in this release)",
            ),
        },
        Some(cmd) if HUB_COMMANDS.contains(&cmd) => {
            let words: Vec<String> = rest
                .iter()
                .map(|a| shell_word(&a.to_string_lossy()))
                .collect();
            Invocation::MovedToHub(format!(
                "hallq-kiosk: `{cmd}` is a command of the hub, which has its own program since \
                 release 0.2.\nRun instead:  hallq-hub {}",
                words.join(" ")
            ))
        }
        _ => Invocation::Screen {
            args: argv.to_vec(),
            note: None,
        },
    }
}

/// A word as a shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// `hallq-kiosk print-test`: a sample ticket on the printer.
#[derive(Args, Debug)]
pub struct PrintTest {
    /// usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=19200, tcp:HOST:9100 or file:PATH
    #[arg(long)]
    pub printer: String,
    /// Paper width in dots: 384 for 58 mm paper, 576 for 80 mm paper.
    #[arg(long, default_value_t = 576)]
    pub width: u32,
    /// Also write the ticket as a PNG, decoded back from the ESC/POS bytes that were sent.
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
}

/// Prints a sample ticket, and says what the printer answered.
pub fn print_test(a: PrintTest) -> Result<()> {
    use crate::printer::{self, PrinterHealth, TicketPrint};

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

/// How long a print may take before the customer is told to remember the number.
const PRINT_TIMEOUT: Duration = Duration::from_secs(8);

fn open_printer(addr: &str, width: u32) -> Result<Box<dyn TicketPrinter>> {
    match addr {
        "memory" => Ok(Box::new(MemoryPrinter::default())),
        other => Ok(crate::printer::open_for_screen(other, width)?),
    }
}

/// Run the kiosk screen (or draw one screenshot of it) until the window closes.
pub fn run(args: KioskArgs) -> Result<()> {
    let gpio = GpioConfig {
        buttons: args.buttons.clone(),
        light_pin: args.light_pin,
        buzzer_pin: args.buzzer_pin,
        debounce_ms: None,
    };
    gpio.check()?;
    if args.screenshot.is_none() {
        check_gpio_build(&gpio)?;
    }
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
        if let Some(url) = &args.public_url {
            controller.set_public_url(url);
        }
        controller.refresh();
        controller.fetch_phone_code();
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
    let window = crate::KioskWindow::new().context("cannot open the kiosk window")?;
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
    if let Some(url) = &args.public_url {
        controller.set_public_url(url);
    }
    ui::connect(&window, &controller);
    attach_gpio(&controller, &gpio)?;
    if args.keys {
        let c = controller.clone();
        let keys =
            crate::gpio::key_buttons_with(std::io::BufReader::new(std::io::stdin()), move || {
                c.service_ids()
            });
        controller.watch_buttons(Box::new(keys), None);
    }
    controller.start_polling();
    controller.start_phone_code();
    // The watchdog ping comes from the UI thread's own timer: a frozen screen stops it and
    // systemd restarts the kiosk.
    let watchdog_every = hallq_shared::sd_notify::watchdog_interval();
    let mut last_ping: Option<Instant> = None;
    let clock = slint::Timer::default();
    let c = controller.clone();
    clock.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        move || {
            let now = Instant::now();
            c.tick(now, chrono::Utc::now());
            if let Some(every) = watchdog_every
                && last_ping
                    .is_none_or(|t| now.duration_since(t) + Duration::from_millis(500) >= every)
            {
                let _ = hallq_shared::sd_notify::watchdog();
                last_ping = Some(now);
            }
        },
    );
    controller.tick(Instant::now(), chrono::Utc::now());
    // READY once the event loop runs, i.e. the window is on screen.
    slint::Timer::single_shot(Duration::ZERO, || {
        if let Err(e) = hallq_shared::sd_notify::ready() {
            eprintln!("kiosk: cannot tell systemd the screen is up: {e}");
        }
    });
    window.run().context("kiosk event loop")?;
    let _ = hallq_shared::sd_notify::stopping();
    controller.stop();
    Ok(())
}

/// Pins in the command line need the Raspberry Pi drivers: say so before any window opens.
#[cfg(not(feature = "rpi"))]
fn check_gpio_build(gpio: &GpioConfig) -> Result<()> {
    if gpio.buttons.is_empty() && gpio.light_pin.is_none() && gpio.buzzer_pin.is_none() {
        return Ok(());
    }
    anyhow::bail!(
        "--button, --light-pin and --buzzer-pin drive Raspberry Pi GPIO pins, and this kiosk screen \
         was built without them: build with `--features rpi`, or use --keys to press buttons from \
         the keyboard"
    )
}

#[cfg(feature = "rpi")]
fn check_gpio_build(_gpio: &GpioConfig) -> Result<()> {
    Ok(())
}

/// Buttons, light and buzzer on the Pi's pins, joined to the controller.
#[cfg(feature = "rpi")]
fn attach_gpio(controller: &Controller, gpio: &GpioConfig) -> Result<()> {
    use crate::gpio::{Buzzer, rpi};
    if let Some(pin) = gpio.light_pin {
        controller.attach_light(Box::new(rpi::RpiLight::new(pin)?));
    }
    let buzzer: Option<Box<dyn Buzzer>> = match gpio.buzzer_pin {
        Some(pin) => Some(Box::new(rpi::RpiBuzzer::new(pin)?)),
        None => None,
    };
    if !gpio.buttons.is_empty() {
        controller.watch_buttons(Box::new(rpi::start_buttons(gpio)?), buzzer);
    }
    Ok(())
}

#[cfg(not(feature = "rpi"))]
fn attach_gpio(_controller: &Controller, _gpio: &GpioConfig) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        args: KioskArgs,
    }

    /// The buttons line that `kiosk.env` carries, commented out, for the install guide's wiring
    /// picture: valid options, distinct pins, and the services of the hall the package ships.
    #[test]
    fn the_wiring_pictures_line_in_kiosk_env_is_a_valid_command_line() {
        let env = include_str!("../../deploy/etc/kiosk.env");
        let line = env
            .lines()
            .find_map(|l| l.strip_prefix("#HALLQ_KIOSK_ARGS="))
            .expect("kiosk.env shows the wiring picture's buttons line");
        let argv = ["hallq-kiosk", "--token", "t"]
            .into_iter()
            .chain(line.split_whitespace());
        let args = Line::try_parse_from(argv).expect("the line parses").args;
        let gpio = GpioConfig {
            buttons: args.buttons.clone(),
            light_pin: args.light_pin,
            buzzer_pin: args.buzzer_pin,
            debounce_ms: None,
        };
        gpio.check().expect("pins are distinct and on the header");
        let hall = hallq_shared::config::HallConfig::demo();
        for b in &args.buttons {
            assert!(
                hall.services.iter().any(|s| s.id == b.service),
                "no service {}",
                b.service
            );
        }
        assert_eq!(args.buttons.len(), hall.services.len());
        assert!(
            env.contains("\nHALLQ_KIOSK_ARGS=\n"),
            "off unless switched on"
        );
    }
}
