//! `hallq-kiosk` as a library: the hall hub (`hub`), used by the binary and by tests and benches.

pub mod hub;
