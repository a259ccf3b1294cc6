//! `hallq-kiosk`: the hall hub and the ticket kiosk.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "hallq-kiosk",
    version,
    about = "The hall hub and the ticket kiosk"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print a sample ticket: the installer's first check of the printer.
    PrintTest(PrintTest),
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

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::PrintTest(a) => print_test(a),
    }
}

fn print_test(a: PrintTest) -> anyhow::Result<()> {
    use hallq_kiosk::printer::{self, PrinterHealth, TicketPrint};

    let ticket = TicketPrint::sample();
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
        println!("printed ticket {}", ticket.number);
    }
    Ok(())
}
