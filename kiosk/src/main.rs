//! `hallq-kiosk`: the kiosk station by the door — touch screen, ticket printer, buttons — and
//! `hallq-kiosk print-test`, the installer's first check of the printer. This file only sorts the
//! command line out; the station lives in the library.

use std::process::ExitCode;

use clap::Parser;
use hallq_kiosk::cli::{self, Invocation, KioskArgs, PrintTest};

#[derive(Debug, Parser)]
#[command(
    name = "hallq-kiosk",
    version,
    about = "The kiosk by the door: take a ticket, read what a service needs, leave a callback number",
    after_help = "Also: `hallq-kiosk print-test --printer ADDR` prints a sample ticket \
                  (`hallq-kiosk print-test --help`). The hub and its accounts, devices and \
                  backups are the `hallq-hub` program."
)]
struct Screen {
    #[command(flatten)]
    args: KioskArgs,
}

#[derive(Debug, Parser)]
#[command(
    name = "hallq-kiosk print-test",
    version,
    about = "Print a sample ticket: the installer's first check of the printer"
)]
struct PrintTestCli {
    #[command(flatten)]
    args: PrintTest,
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let outcome = match cli::sort_invocation(&argv) {
        Invocation::Screen { args, note } => {
            if let Some(note) = note {
                eprintln!("{note}");
            }
            let cli = Screen::parse_from(args);
            hallq_shared::logs::init();
            cli::run(cli.args)
        }
        Invocation::PrintTest(args) => cli::print_test(PrintTestCli::parse_from(args).args),
        Invocation::MovedToHub(notice) => {
            eprintln!("{notice}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            ExitCode::FAILURE
        }
    }
}
