//! hallq-kiosk as a library: the parts of the door Pi's binary, so that tests and the binary share them.

pub mod station;
