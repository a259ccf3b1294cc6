//! The hub and kiosk as a library, so tests, benchmarks and the binary share one code base.

pub mod admin_backup;
pub mod gpio;
pub mod hub;
pub mod printer;
pub mod station;
