//! hallq-shared: the hall's rules and words — queue engine, estimates, wire protocol and configuration.
//!
//! Everything here is pure: values in, values out, time passed in. The optional `store` feature adds
//! the one module that speaks SQL (rusqlite), with the single writer that makes every acknowledged
//! command durable before it is acknowledged; the optional `notify` feature adds systemd's readiness and
//! watchdog notifications for the long-running programs; `qr` draws QR codes for the screens; `logs`
//! is the programs' log format (every field escaped); `secrets` the tokens and password hashes the hub
//! and central keep.

pub mod config;
pub mod engine;
pub mod estimate;
pub mod hall;
#[cfg(feature = "logs")]
pub mod logs;
pub mod protocol;
pub mod published;
#[cfg(feature = "qr")]
pub mod qr;
pub mod queue;
pub mod report;
pub mod screen_size;
#[cfg(feature = "notify")]
pub mod sd_notify;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod sim;
pub mod staffing;
#[cfg(feature = "store")]
pub mod store;

pub use hall::time::{Millis, Now};
