//! Helpers for the tests in `tests/tests/`, and the fuzzer of the hub's decoders and the hall
//! configuration ([`fuzz`]; its command line is `fuzz/main.rs`, run as the `fuzz` example).

pub mod fuzz;
pub mod ticket_qr;
