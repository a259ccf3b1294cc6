//! Helpers for the end-to-end tests in `tests/tests/`: start the real binaries on loopback ports.
