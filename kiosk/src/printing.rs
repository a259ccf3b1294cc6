//! What the touch screen needs from a ticket printer, and the worker thread that keeps a slow or hung
//! printer away from the screen: every print and status question waits a bounded time, then the
//! customer is shown the number with a note and the queue goes on.
//!
//! The printer itself is any [`TicketPrinter`]: the real ESC/POS one from `printer::open`, or the
//! [`MemoryPrinter`] for trying the screen and for tests.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread;
use std::time::Duration;

use crate::printer::{PrintError, PrinterHealth, TicketPrint, TicketPrinter};

/// A print that did not happen, with the state that explains it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ticket not printed: {health:?}: {detail}")]
pub struct PrintFailure {
    pub health: PrinterHealth,
    pub detail: String,
}

impl From<PrintError> for PrintFailure {
    fn from(e: PrintError) -> Self {
        let health = match &e {
            PrintError::NotReady { health, .. } => *health,
            PrintError::Timeout { .. } => PrinterHealth::NoAnswer,
            _ => PrinterHealth::Error,
        };
        PrintFailure {
            health,
            detail: e.to_string(),
        }
    }
}

enum Job {
    Print(Box<TicketPrint>, Sender<Result<(), PrintFailure>>),
    Health(Sender<PrinterHealth>),
}

/// The printer, owned by its own thread. Cheap to clone; every call returns within its timeout.
#[derive(Clone)]
pub struct PrinterDesk {
    jobs: SyncSender<Job>,
    timeout: Duration,
}

impl PrinterDesk {
    /// Starts the worker thread that owns `printer`.
    pub fn start(mut printer: Box<dyn TicketPrinter>, timeout: Duration) -> PrinterDesk {
        // A few jobs may queue behind a hung printer; beyond that callers are told at once.
        let (jobs, inbox) = mpsc::sync_channel::<Job>(4);
        thread::Builder::new()
            .name("printer".into())
            .spawn(move || serve(&mut *printer, inbox))
            .expect("spawn printer thread");
        PrinterDesk { jobs, timeout }
    }

    pub fn print(&self, ticket: TicketPrint) -> Result<(), PrintFailure> {
        let (tx, rx) = mpsc::channel();
        self.send(Job::Print(Box::new(ticket), tx))?;
        match rx.recv_timeout(self.timeout) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(no_answer("the printer took too long")),
            Err(RecvTimeoutError::Disconnected) => Err(no_answer("the printer thread stopped")),
        }
    }

    pub fn health(&self) -> PrinterHealth {
        let (tx, rx) = mpsc::channel();
        if self.send(Job::Health(tx)).is_err() {
            return PrinterHealth::NoAnswer;
        }
        rx.recv_timeout(self.timeout)
            .unwrap_or(PrinterHealth::NoAnswer)
    }

    fn send(&self, job: Job) -> Result<(), PrintFailure> {
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => {
                no_answer("the printer is still busy with earlier tickets")
            }
            mpsc::TrySendError::Disconnected(_) => no_answer("the printer thread stopped"),
        })
    }
}

fn no_answer(detail: &str) -> PrintFailure {
    PrintFailure {
        health: PrinterHealth::NoAnswer,
        detail: detail.into(),
    }
}

fn serve(printer: &mut dyn TicketPrinter, inbox: Receiver<Job>) {
    for job in inbox {
        match job {
            Job::Print(ticket, reply) => {
                // Refuse early when the printer already says it cannot print: no half tickets.
                let health = printer.health();
                let result = if health.can_print() {
                    printer.print(&ticket).map_err(PrintFailure::from)
                } else {
                    Err(PrintFailure {
                        health,
                        detail: "printer not ready".into(),
                    })
                };
                let _ = reply.send(result);
            }
            Job::Health(reply) => {
                let _ = reply.send(printer.health());
            }
        }
    }
}

/// A printer kept in memory: records what it printed and answers with the state it is given.
/// Used by the tests and by `--printer memory` for trying the screen without hardware.
#[derive(Clone, Default)]
pub struct MemoryPrinter {
    pub shared: std::sync::Arc<std::sync::Mutex<MemoryPrinterState>>,
}

#[derive(Debug)]
pub struct MemoryPrinterState {
    pub health: PrinterHealth,
    pub printed: Vec<TicketPrint>,
    /// Each print blocks this long, as a printer that stopped answering would.
    pub stall: Duration,
}

impl Default for MemoryPrinterState {
    fn default() -> Self {
        MemoryPrinterState {
            health: PrinterHealth::Ready,
            printed: Vec::new(),
            stall: Duration::ZERO,
        }
    }
}

impl MemoryPrinter {
    pub fn set_health(&self, health: PrinterHealth) {
        self.shared.lock().unwrap().health = health;
    }

    pub fn set_stall(&self, stall: Duration) {
        self.shared.lock().unwrap().stall = stall;
    }

    pub fn printed(&self) -> Vec<TicketPrint> {
        self.shared.lock().unwrap().printed.clone()
    }
}

impl TicketPrinter for MemoryPrinter {
    fn health(&mut self) -> PrinterHealth {
        self.shared.lock().unwrap().health
    }

    fn print(&mut self, ticket: &TicketPrint) -> Result<(), PrintError> {
        let stall = self.shared.lock().unwrap().stall;
        if !stall.is_zero() {
            thread::sleep(stall);
        }
        let mut s = self.shared.lock().unwrap();
        if !s.health.can_print() {
            return Err(PrintError::NotReady {
                addr: "memory".into(),
                health: s.health,
            });
        }
        s.printed.push(ticket.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_shared::hall::Lang;
    use std::time::Instant;

    fn ticket() -> TicketPrint {
        TicketPrint {
            hall_name: "营业厅".into(),
            number: "B001".into(),
            service_name: "缴费".into(),
            priority: false,
            ahead: 0,
            estimated_wait_min: 0,
            estimated_wait_hi_min: None,
            estimated_wait_open: false,
            issued_at: "2026-11-25 09:41".into(),
            documents: vec![],
            reminder: None,
            complaint_hotline: "1".into(),
            consultation_hotline: "2".into(),
            status_url: "http://127.0.0.1/t/B001".into(),
            lang: Lang::Zh,
            test: false,
        }
    }

    #[test]
    fn a_ready_printer_prints() {
        let p = MemoryPrinter::default();
        let desk = PrinterDesk::start(Box::new(p.clone()), Duration::from_secs(2));
        desk.print(ticket()).unwrap();
        assert_eq!(p.printed().len(), 1);
        assert_eq!(desk.health(), PrinterHealth::Ready);
    }

    #[test]
    fn paper_out_refuses_without_printing() {
        let p = MemoryPrinter::default();
        p.set_health(PrinterHealth::PaperOut);
        let desk = PrinterDesk::start(Box::new(p.clone()), Duration::from_secs(2));
        let err = desk.print(ticket()).unwrap_err();
        assert_eq!(err.health, PrinterHealth::PaperOut);
        assert!(p.printed().is_empty());
    }

    #[test]
    fn a_hung_printer_is_given_up_on_in_time() {
        let p = MemoryPrinter::default();
        p.set_stall(Duration::from_secs(3));
        let desk = PrinterDesk::start(Box::new(p.clone()), Duration::from_millis(200));
        let started = Instant::now();
        let err = desk.print(ticket()).unwrap_err();
        assert_eq!(err.health, PrinterHealth::NoAnswer);
        assert!(started.elapsed() < Duration::from_secs(2));
        // While it is still stuck, status questions do not hang either.
        assert_eq!(desk.health(), PrinterHealth::NoAnswer);
    }
}
