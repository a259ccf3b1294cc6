//! The ticket printer, the GPIO drivers and the hub program's administration as a library: the
//! `hallq-kiosk` program, the kiosk screen (`kiosk/screen`), tests and benchmarks share it. The hub
//! itself is the `hallq-hub` package (`kiosk/hub`). Nothing here draws a screen.

pub mod admin_backup;
pub mod gpio;
pub mod logs;
pub mod memory;
pub mod printer;

/// Logs to standard error (the journal under systemd), level from `RUST_LOG`, `info` by default;
/// every value escaped ([`logs`]), so nothing a client sends can start a log line.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .fmt_fields(logs::fields())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}
