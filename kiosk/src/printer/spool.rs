//! A printer behind its own thread: the kiosk hands over a ticket and goes on at once, and reads the
//! last known health without ever waiting on the printer.

use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::{PrinterHealth, TicketPrint, TicketPrinter};

/// Tickets that may wait for the printer; more means the printer is stuck and the kiosk should say so.
const QUEUE: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpoolError {
    #[error("the printer is still busy with earlier tickets")]
    Busy,
    #[error("the printer thread has stopped")]
    Stopped,
}

#[derive(Debug)]
struct State {
    health: PrinterHealth,
    last_error: Option<String>,
    printed: u64,
}

/// Owns a [`TicketPrinter`] on a thread of its own; dropping the spooler stops the thread after the
/// tickets already handed over.
#[derive(Debug)]
pub struct PrintSpooler {
    tx: SyncSender<TicketPrint>,
    state: Arc<Mutex<State>>,
}

impl PrintSpooler {
    /// Starts the thread; health is checked every `health_every` while idle and after each ticket.
    pub fn start(mut printer: Box<dyn TicketPrinter>, health_every: Duration) -> PrintSpooler {
        let (tx, rx) = mpsc::sync_channel::<TicketPrint>(QUEUE);
        let state = Arc::new(Mutex::new(State {
            health: PrinterHealth::NoAnswer,
            last_error: None,
            printed: 0,
        }));
        let shared = Arc::clone(&state);
        let update = move |f: &mut dyn FnMut(&mut State)| {
            if let Ok(mut s) = shared.lock() {
                f(&mut s);
            }
        };
        thread::Builder::new()
            .name("ticket-printer".into())
            .spawn(move || {
                let h = printer.health();
                update(&mut |s| s.health = h.clone());
                loop {
                    match rx.recv_timeout(health_every) {
                        Ok(ticket) => {
                            let r = printer.print(&ticket);
                            let h = printer.health();
                            update(&mut |s| {
                                match &r {
                                    Ok(()) => {
                                        s.printed += 1;
                                        s.last_error = None;
                                    }
                                    Err(e) => s.last_error = Some(e.to_string()),
                                }
                                s.health = h.clone();
                            });
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            let h = printer.health();
                            update(&mut |s| s.health = h.clone());
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .expect("spawning the printer thread");
        PrintSpooler { tx, state }
    }

    /// Hands a ticket to the printer thread without waiting.
    pub fn submit(&self, ticket: TicketPrint) -> Result<(), SpoolError> {
        self.tx.try_send(ticket).map_err(|e| match e {
            TrySendError::Full(_) => SpoolError::Busy,
            TrySendError::Disconnected(_) => SpoolError::Stopped,
        })
    }

    /// The last known health.
    pub fn health(&self) -> PrinterHealth {
        self.state
            .lock()
            .map(|s| s.health.clone())
            .unwrap_or(PrinterHealth::Error)
    }

    /// Why the last ticket failed, until one prints again.
    pub fn last_error(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.last_error.clone())
    }

    /// Tickets printed since start.
    pub fn printed(&self) -> u64 {
        self.state.lock().map(|s| s.printed).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::PrintError;
    use std::sync::mpsc::Receiver;

    /// A printer that takes as long as the test says, to show the caller never waits for it.
    struct Slow {
        gate: Receiver<()>,
    }

    impl TicketPrinter for Slow {
        fn health(&mut self) -> PrinterHealth {
            PrinterHealth::Ready
        }
        fn print(&mut self, _t: &TicketPrint) -> Result<(), PrintError> {
            let _ = self.gate.recv();
            Ok(())
        }
    }

    #[test]
    fn a_stuck_printer_makes_the_spooler_busy_not_the_caller() {
        let (open, gate) = mpsc::channel();
        let s = PrintSpooler::start(Box::new(Slow { gate }), Duration::from_secs(60));
        // One ticket in the printer, QUEUE waiting, then busy.
        let mut accepted = 0;
        for _ in 0..QUEUE + 5 {
            if s.submit(TicketPrint::sample()).is_ok() {
                accepted += 1;
            }
        }
        assert!((QUEUE..=QUEUE + 1).contains(&accepted), "{accepted}");
        assert_eq!(s.submit(TicketPrint::sample()), Err(SpoolError::Busy));
        for _ in 0..accepted {
            open.send(()).unwrap();
        }
        for _ in 0..500 {
            if s.printed() == accepted as u64 {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(s.printed(), accepted as u64);
        assert_eq!(s.health(), PrinterHealth::Ready);
    }
}
