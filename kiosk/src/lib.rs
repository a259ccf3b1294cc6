//! The kiosk station by the hall's door, the `hallq-kiosk` program as a library: the touch screen
//! (big buttons, one per service; what each service needs; the ticket number on screen while it
//! prints; the "tickets have ended" message; the apology with callback capture; suggestions), the
//! ticket printer and the physical buttons. It speaks to the hub over HTTP and links none of it.
//!
//! - `words`: every fixed sentence, Chinese and English.
//! - `view`: the controller's state and its rendering into plain values ([`view::StationView`]).
//! - `controller`: behaviour; hub and printer work on worker threads; idle return to the start.
//! - `hub`: the hub's HTTP API as the kiosk uses it (blocking, short timeouts, workers only).
//! - `printing`: the worker thread that bounds every print in time, and the in-memory printer.
//! - `printer`: drawing a ticket, ESC/POS bytes, the printer's transports and status.
//! - `gpio`: buttons, status light and buzzer on a Raspberry Pi's header.
//! - `ui`: the Slint adapter (view → `Station` global, callbacks → controller).
//! - `headless`: the screen drawn without a display, to PNG, and touched by coordinates.
//! - `fonts`: the start-up check for a Chinese font.
//! - `cli`: the command line, and the hub's old commands that now belong to `hallq-hub`.

pub mod cli;
pub mod controller;
pub mod fonts;
pub mod gpio;
pub mod headless;
pub mod hub;
pub mod printer;
pub mod printing;
pub mod ui;
pub mod view;
pub mod words;

/// The code Slint generates from `ui/kiosk.slint`.
#[allow(clippy::todo)] // generated: paths for Rust-written components, which the kiosk has none of
mod generated {
    slint::include_modules!();
}
pub use generated::*;

pub use controller::{Controller, Timeouts};
pub use hub::{HubClient, HubError};
pub use printer::{PrinterHealth, TicketPrint, TicketPrinter};
pub use printing::{MemoryPrinter, PrintFailure, PrinterDesk};
pub use view::StationView;
