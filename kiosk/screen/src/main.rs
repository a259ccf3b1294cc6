//! `hallq-kiosk-screen`: the touch screen by the door, usually started as `hallq-kiosk kiosk`.
//! A program of its own so that the hub's executable carries no UI toolkit: the hub runs all day
//! beside the screen, and every page of code it maps counts against the Pi's memory.

use clap::Parser;
use hallq_kiosk_screen::cli::KioskArgs;

#[derive(Debug, Parser)]
#[command(
    name = "hallq-kiosk kiosk",
    version,
    about = "The touch screen by the door: take a ticket, read what a service needs, leave a callback number"
)]
struct Cli {
    #[command(flatten)]
    args: KioskArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    hallq_kiosk::init_logs();
    hallq_kiosk_screen::cli::run(cli.args)
}
