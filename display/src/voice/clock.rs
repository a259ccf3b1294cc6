//! The announcer's time: the wall clock on the board, a simulated one in tests (so a minute of backlog
//! takes no minute to test).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_shared::protocol::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
    /// Waits `d`; a simulated clock just moves forward.
    fn sleep(&self, d: Duration);
}

/// The board's real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that only moves when told to (or when something sleeps on it). Clones share one time.
#[derive(Clone, Debug)]
pub struct SimClock(Arc<Mutex<Timestamp>>);

impl SimClock {
    pub fn new(start: Timestamp) -> SimClock {
        SimClock(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}
