//! `hallq-kiosk` as a library: the hall hub (`hub`), used by the binary and by tests and benches.

pub mod admin_backup;
pub mod gpio;
pub mod hub;
pub mod printer;
pub mod sd_notify;
