//! systemd's readiness and watchdog notifications (`sd_notify`); the one module of shared that touches
//! the OS, for the service manager (feature `notify`, std only). The units are `Type=notify` with
//! `WatchdogSec=`: systemd restarts a hub or a screen that hangs, not only one that exits.
//!
//! Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.

use std::ffi::OsStr;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Tells systemd the service is up (`READY=1`): call once the hub listens / the screen shows.
pub fn ready() -> io::Result<bool> {
    notify("READY=1")
}

/// The watchdog ping; send it at least every [`watchdog_interval`] from the loop that must not hang.
pub fn watchdog() -> io::Result<bool> {
    notify("WATCHDOG=1")
}

/// Tells systemd the service is stopping, so a slow shutdown is not taken for a hang.
pub fn stopping() -> io::Result<bool> {
    notify("STOPPING=1")
}

/// Half the unit's `WatchdogSec=`, or `None` when no watchdog is asked for (or it is for another
/// process).
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok()?;
    interval_from(
        &usec,
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn interval_from(usec: &str, pid: Option<&str>, me: u32) -> Option<Duration> {
    if let Some(pid) = pid
        && pid.parse::<u32>().ok()? != me
    {
        return None;
    }
    let usec: u64 = usec.parse().ok().filter(|u| *u > 0)?;
    Some(Duration::from_micros(usec / 2))
}

/// Sends `state` to `$NOTIFY_SOCKET`; `Ok(false)` when not started by systemd.
pub fn notify(state: &str) -> io::Result<bool> {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(socket) => notify_to(&socket, state).map(|()| true),
        None => Ok(false),
    }
}

/// Sends `state` to a notification socket: a path, or an abstract name written `@name`.
pub fn notify_to(socket: &OsStr, state: &str) -> io::Result<()> {
    let bytes = socket.as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(socket)?,
    };
    let sock = UnixDatagram::unbound()?;
    sock.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_arrive_on_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("hallq-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let systemd = UnixDatagram::bind(&path).unwrap();
        systemd
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        notify_to(path.as_os_str(), "READY=1").unwrap();
        notify_to(path.as_os_str(), "WATCHDOG=1").unwrap();
        let mut buf = [0u8; 64];
        let n = systemd.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let n = systemd.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn notifications_arrive_on_an_abstract_socket() {
        let name = format!("hallq-notify-test-{}", std::process::id());
        let systemd =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        systemd
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        notify_to(OsStr::new(&format!("@{name}")), "STOPPING=1").unwrap();
        let mut buf = [0u8; 64];
        let n = systemd.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn the_watchdog_interval_is_half_the_timeout_and_only_for_us() {
        assert_eq!(
            interval_from("30000000", None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            interval_from("30000000", Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(interval_from("30000000", Some("8"), 7), None);
        assert_eq!(interval_from("0", None, 7), None);
        assert_eq!(interval_from("soon", None, 7), None);
    }
}
