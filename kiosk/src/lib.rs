//! The hub and kiosk as a library, so tests, benchmarks and the binary share one code base.

pub mod gpio;
pub mod printer;
