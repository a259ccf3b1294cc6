//! How the kiosk reaches its printer: a USB printer node, a serial line, a network port or a file,
//! each with bounded waits, and the ESC/POS printer built on top of any of them.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{Mode, OFlags};
use rustix::termios::{self, ControlModes, OptionalActions, SpecialCodeIndex};

use super::escpos::{encode_ticket, status_queries};
use super::status::health_from_answers;
use super::{PrintError, PrinterHealth, TicketPrint, TicketPrinter, check_width, render_ticket};

/// What to do with the printer's status answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusPolicy {
    /// Ask before each ticket; a printer that does not answer gets no ticket.
    Require,
    /// Ask, but print even if nothing answers (USB printers often cannot be read back).
    Try,
    /// Never ask (printers without `DLE EOT`); health is then `NoAnswer`.
    Off,
}

/// A parsed printer address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterAddr {
    /// `usb:/dev/usb/lp0[?status=try|require|off]`
    Usb { path: PathBuf, status: StatusPolicy },
    /// `serial:/dev/ttyUSB0[?baud=19200][&flow=rtscts][&status=…]`
    Serial {
        path: PathBuf,
        baud: u32,
        rtscts: bool,
        status: StatusPolicy,
    },
    /// `tcp:HOST[:PORT][?status=…]`, port 9100 by default.
    Tcp {
        host: String,
        port: u16,
        status: StatusPolicy,
    },
    /// `file:PATH`: appends the ESC/POS bytes of each ticket to a file.
    File { path: PathBuf },
}

/// Baud rate when the address does not give one (the factory setting of most serial ticket printers).
pub const DEFAULT_BAUD: u32 = 9600;

impl FromStr for PrinterAddr {
    type Err = PrintError;

    fn from_str(s: &str) -> Result<Self, PrintError> {
        let bad = |reason: String| PrintError::Address {
            addr: s.to_string(),
            reason,
        };
        let (scheme, rest) = s.split_once(':').ok_or_else(|| bad("no scheme".into()))?;
        let (target, query) = match rest.split_once('?') {
            Some((t, q)) => (t, q),
            None => (rest, ""),
        };
        if target.is_empty() {
            return Err(bad("no device, host or file given".into()));
        }
        let mut baud = None;
        let mut rtscts = false;
        let mut status = None;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| bad(format!("option {kv:?} needs a value (key=value)")))?;
            match (k, v) {
                ("baud", v) if scheme == "serial" => {
                    let b: u32 = v
                        .parse()
                        .map_err(|_| bad(format!("baud {v:?} is not a number")))?;
                    if !(300..=4_000_000).contains(&b) {
                        return Err(bad(format!("baud {b} is out of range")));
                    }
                    baud = Some(b);
                }
                ("flow", "rtscts") if scheme == "serial" => rtscts = true,
                ("flow", "none") if scheme == "serial" => rtscts = false,
                ("status", v) if scheme != "file" => {
                    status = Some(match v {
                        "require" => StatusPolicy::Require,
                        "try" => StatusPolicy::Try,
                        "off" => StatusPolicy::Off,
                        _ => return Err(bad(format!("status={v} (use require, try or off)"))),
                    })
                }
                _ => return Err(bad(format!("unknown option {kv:?} for {scheme}:"))),
            }
        }
        match scheme {
            "usb" => Ok(PrinterAddr::Usb {
                path: target.into(),
                status: status.unwrap_or(StatusPolicy::Try),
            }),
            "serial" => Ok(PrinterAddr::Serial {
                path: target.into(),
                baud: baud.unwrap_or(DEFAULT_BAUD),
                rtscts,
                status: status.unwrap_or(StatusPolicy::Require),
            }),
            "tcp" => {
                let (host, port) = split_host_port(target).map_err(bad)?;
                Ok(PrinterAddr::Tcp {
                    host,
                    port,
                    status: status.unwrap_or(StatusPolicy::Require),
                })
            }
            "file" => Ok(PrinterAddr::File {
                path: target.into(),
            }),
            other => Err(bad(format!("unknown scheme {other:?}"))),
        }
    }
}

fn split_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (h, rest) = v6
            .split_once(']')
            .ok_or_else(|| "unclosed [ in IPv6 address".to_string())?;
        (h, rest.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("no host given".into());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("port {p:?} is not a port number"))?,
        None => 9100,
    };
    Ok((host.to_string(), port))
}

impl std::fmt::Display for PrinterAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterAddr::Usb { path, .. } => write!(f, "usb:{}", path.display()),
            PrinterAddr::Serial { path, baud, .. } => {
                write!(f, "serial:{}?baud={baud}", path.display())
            }
            PrinterAddr::Tcp { host, port, .. } if host.contains(':') => {
                write!(f, "tcp:[{host}]:{port}")
            }
            PrinterAddr::Tcp { host, port, .. } => write!(f, "tcp:{host}:{port}"),
            PrinterAddr::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

/// Every wait the printer code makes, bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// How long to wait for the answers to a status query.
    pub status: Duration,
    /// TCP connection set-up.
    pub connect: Duration,
    /// A print job may take this long plus its transfer time at the link's speed (twice over).
    pub job_base: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            status: Duration::from_millis(500),
            connect: Duration::from_secs(2),
            job_base: Duration::from_secs(5),
        }
    }
}

/// A byte pipe to the printer with deadlines.
pub trait Link: Send {
    fn send(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<()>;
    /// Sends `query` and collects answer bytes until `want` arrived or `deadline` passed.
    fn ask(&mut self, query: &[u8], want: usize, deadline: Instant) -> io::Result<Vec<u8>>;
    /// Slowest expected transfer rate, to size the deadline of a job.
    fn bytes_per_sec(&self) -> u32;
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Waits until `fd` is ready for `flags` or the deadline passes (`false`).
fn wait_fd(fd: &impl AsFd, flags: PollFlags, deadline: Instant) -> io::Result<bool> {
    loop {
        let Some(left) = remaining(deadline) else {
            return Ok(false);
        };
        let ts = Timespec::try_from(left).unwrap_or(Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(fd, flags)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) => continue,
            Ok(_) => {
                let rev = fds[0].revents();
                if rev.intersects(PollFlags::ERR | PollFlags::NVAL) {
                    return Err(io::Error::other("device reported an error"));
                }
                return Ok(true);
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A device node (USB printer class or serial line), opened non-blocking and reopened after an
/// error (a USB printer that was unplugged comes back under the same name).
#[derive(Debug)]
pub struct DeviceLink {
    path: PathBuf,
    serial: Option<(u32, bool)>,
    fd: Option<OwnedFd>,
}

impl DeviceLink {
    /// A USB printer-class node (`/dev/usb/lp0`).
    pub fn usb(path: PathBuf) -> DeviceLink {
        DeviceLink {
            path,
            serial: None,
            fd: None,
        }
    }

    /// A serial line at `baud`, raw 8N1, optionally with RTS/CTS flow control.
    pub fn serial(path: PathBuf, baud: u32, rtscts: bool) -> DeviceLink {
        DeviceLink {
            path,
            serial: Some((baud, rtscts)),
            fd: None,
        }
    }

    /// Opens the device now (to report a wrong path at once); later calls reopen as needed.
    pub fn connect(&mut self) -> io::Result<()> {
        if self.fd.is_some() {
            return Ok(());
        }
        let flags = OFlags::RDWR | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::open(&self.path, flags, Mode::empty())
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        if let Some((baud, rtscts)) = self.serial {
            let mut t = termios::tcgetattr(&fd).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{} is not a serial line: {e}", self.path.display()),
                )
            })?;
            t.make_raw();
            t.set_speed(baud)?;
            t.control_modes |= ControlModes::CREAD | ControlModes::CLOCAL;
            t.control_modes.set(ControlModes::CRTSCTS, rtscts);
            t.control_modes
                .remove(ControlModes::CSTOPB | ControlModes::PARENB);
            // Reads never block in the kernel; deadlines come from poll.
            t.special_codes[SpecialCodeIndex::VMIN] = 0;
            t.special_codes[SpecialCodeIndex::VTIME] = 0;
            termios::tcsetattr(&fd, OptionalActions::Now, &t)?;
        }
        self.fd = Some(fd);
        Ok(())
    }

    fn fd(&mut self) -> io::Result<&OwnedFd> {
        self.connect()?;
        self.fd
            .as_ref()
            .ok_or_else(|| io::Error::other("device not open"))
    }

    fn drop_on_error<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        match &r {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                // Bytes still queued in the driver would reach the printer later, in the middle
                // of whatever comes next: throw them away.
                if let (Some(fd), Some(_)) = (&self.fd, self.serial) {
                    let _ = termios::tcflush(fd, termios::QueueSelector::OFlush);
                }
            }
            Err(_) => self.fd = None,
            Ok(_) => {}
        }
        r
    }

    fn send_inner(&mut self, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
        let fd = self.fd()?;
        while !bytes.is_empty() {
            match rustix::io::write(fd, bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(rustix::io::Errno::AGAIN) => {
                    if !wait_fd(fd, PollFlags::OUT, deadline)? {
                        return Err(timed_out("writing to the printer"));
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn ask_inner(&mut self, query: &[u8], want: usize, deadline: Instant) -> io::Result<Vec<u8>> {
        // Stale bytes (an answer that came too late last time) must not be read as this answer.
        let mut buf = [0u8; 64];
        {
            let fd = self.fd()?;
            while let Ok(n) = rustix::io::read(fd, &mut buf) {
                if n == 0 {
                    break;
                }
            }
        }
        self.send_inner(query, deadline)?;
        let fd = self.fd()?;
        let mut got = Vec::new();
        while got.len() < want {
            match rustix::io::read(fd, &mut buf[..want - got.len()]) {
                Ok(0) | Err(rustix::io::Errno::AGAIN) => {
                    if !wait_fd(fd, PollFlags::IN, deadline)? {
                        break;
                    }
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(got)
    }
}

impl Link for DeviceLink {
    fn send(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<()> {
        let r = self.send_inner(bytes, deadline);
        self.drop_on_error(r)
    }

    fn ask(&mut self, query: &[u8], want: usize, deadline: Instant) -> io::Result<Vec<u8>> {
        let r = self.ask_inner(query, want, deadline);
        self.drop_on_error(r)
    }

    fn bytes_per_sec(&self) -> u32 {
        match self.serial {
            // 8N1: ten bits on the wire per byte.
            Some((baud, _)) => (baud / 10).max(1),
            None => 16 * 1024,
        }
    }
}

/// A network printer (raw port 9100), connected on first use and again after an error.
#[derive(Debug)]
pub struct TcpLink {
    host: String,
    port: u16,
    connect_timeout: Duration,
    stream: Option<TcpStream>,
}

impl TcpLink {
    pub fn new(host: String, port: u16, connect_timeout: Duration) -> TcpLink {
        TcpLink {
            host,
            port,
            connect_timeout,
            stream: None,
        }
    }

    fn stream(&mut self, deadline: Instant) -> io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let addrs = (self.host.as_str(), self.port).to_socket_addrs()?;
            let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
            for a in addrs {
                let t = remaining(deadline)
                    .ok_or_else(|| timed_out("connecting"))?
                    .min(self.connect_timeout);
                match TcpStream::connect_timeout(&a, t) {
                    Ok(s) => {
                        s.set_nodelay(true)?;
                        self.stream = Some(s);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if self.stream.is_none() {
                return Err(last);
            }
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))
    }

    fn send_inner(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<()> {
        let s = self.stream(deadline)?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = remaining(deadline).ok_or_else(|| timed_out("writing to the printer"))?;
            s.set_write_timeout(Some(left))?;
            match s.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(timed_out("writing to the printer")),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn ask_inner(&mut self, query: &[u8], want: usize, deadline: Instant) -> io::Result<Vec<u8>> {
        let mut buf = [0u8; 64];
        {
            let s = self.stream(deadline)?;
            s.set_nonblocking(true)?;
            loop {
                match s.read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::ConnectionAborted.into()),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            s.set_nonblocking(false)?;
        }
        self.send_inner(query, deadline)?;
        let s = self.stream(deadline)?;
        let mut got = Vec::new();
        while got.len() < want {
            let Some(left) = remaining(deadline) else {
                break;
            };
            s.set_read_timeout(Some(left))?;
            match s.read(&mut buf[..want - got.len()]) {
                Ok(0) => return Err(io::ErrorKind::ConnectionAborted.into()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<()> {
        let r = self.send_inner(bytes, deadline);
        if r.is_err() {
            // The printer may have half a job: start clean next time.
            self.stream = None;
        }
        r
    }

    fn ask(&mut self, query: &[u8], want: usize, deadline: Instant) -> io::Result<Vec<u8>> {
        let r = self.ask_inner(query, want, deadline);
        if r.is_err() {
            self.stream = None;
        }
        r
    }

    fn bytes_per_sec(&self) -> u32 {
        16 * 1024
    }
}

/// Appends jobs to a file: for tests, and to capture a ticket for support.
#[derive(Debug)]
pub struct FileLink {
    path: PathBuf,
}

impl Link for FileLink {
    fn send(&mut self, bytes: &[u8], _deadline: Instant) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(bytes)?;
        f.flush()
    }

    fn ask(&mut self, _query: &[u8], _want: usize, _deadline: Instant) -> io::Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn bytes_per_sec(&self) -> u32 {
        u32::MAX
    }
}

/// An ESC/POS printer on any link: renders the ticket, checks the status, sends the job.
pub struct EscPosPrinter<L: Link> {
    link: L,
    addr: String,
    width: u32,
    status: StatusPolicy,
    timeouts: Timeouts,
    /// A file never answers, but is always ready.
    always_ready: bool,
}

impl<L: Link> std::fmt::Debug for EscPosPrinter<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EscPosPrinter({}, {} dots)", self.addr, self.width)
    }
}

impl<L: Link> EscPosPrinter<L> {
    pub fn new(
        link: L,
        addr: String,
        width: u32,
        status: StatusPolicy,
        timeouts: Timeouts,
    ) -> Self {
        EscPosPrinter {
            link,
            addr,
            width,
            status,
            timeouts,
            always_ready: false,
        }
    }

    /// Sends raw ESC/POS bytes with a deadline sized for the link's speed.
    pub fn send_job(&mut self, job: &[u8]) -> Result<(), PrintError> {
        let transfer =
            Duration::from_secs_f64(job.len() as f64 / f64::from(self.link.bytes_per_sec()));
        let after = self.timeouts.job_base + transfer * 2;
        match self.link.send(job, Instant::now() + after) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(PrintError::Timeout {
                addr: self.addr.clone(),
                after,
            }),
            Err(error) => Err(PrintError::Io {
                addr: self.addr.clone(),
                error,
            }),
        }
    }
}

impl<L: Link> TicketPrinter for EscPosPrinter<L> {
    fn health(&mut self) -> PrinterHealth {
        if self.always_ready {
            return PrinterHealth::Ready;
        }
        if self.status == StatusPolicy::Off {
            return PrinterHealth::NoAnswer;
        }
        let q = status_queries();
        let deadline = Instant::now() + self.timeouts.status;
        match self.link.ask(&q, 3, deadline) {
            Ok(answers) => health_from_answers(&answers),
            Err(_) => PrinterHealth::NoAnswer,
        }
    }

    fn print(&mut self, ticket: &TicketPrint) -> Result<(), PrintError> {
        // Render first: a font problem must not leave the printer half-fed.
        let raster = render_ticket(ticket, self.width)?;
        let job = encode_ticket(&raster, Vec::new()).map_err(|error| PrintError::Io {
            addr: self.addr.clone(),
            error,
        })?;
        if self.status != StatusPolicy::Off {
            let health = self.health();
            let refuse = match health {
                PrinterHealth::Ready | PrinterHealth::PaperLow => false,
                PrinterHealth::NoAnswer => self.status == StatusPolicy::Require,
                _ => true,
            };
            if refuse {
                return Err(PrintError::NotReady {
                    addr: self.addr.clone(),
                    health,
                });
            }
        }
        self.send_job(&job)
    }
}

/// When a device node is first opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connect {
    /// At once, so that a wrong path is reported now (the installer's test print).
    Now,
    /// On first use and again after each error: the kiosk screen starts while the printer is
    /// switched off or unplugged, and takes it when it appears (udev makes the node then).
    OnUse,
}

/// Opens a parsed address. Device nodes are opened at once with [`Connect::Now`], else on first
/// use; a network printer is always connected on first use, so a kiosk starts even while its
/// printer is off.
pub fn open_addr(
    addr: &PrinterAddr,
    width: u32,
    timeouts: Timeouts,
) -> Result<Box<dyn TicketPrinter>, PrintError> {
    open_addr_with(addr, width, timeouts, Connect::Now)
}

/// [`open_addr`] with the device node opened as `connect` says.
pub fn open_addr_with(
    addr: &PrinterAddr,
    width: u32,
    timeouts: Timeouts,
    connect: Connect,
) -> Result<Box<dyn TicketPrinter>, PrintError> {
    check_width(width)?;
    let name = addr.to_string();
    let io_err = |error| PrintError::Io {
        addr: name.clone(),
        error,
    };
    Ok(match addr {
        PrinterAddr::Usb { path, status } => {
            let mut link = DeviceLink::usb(path.clone());
            if connect == Connect::Now {
                link.connect().map_err(io_err)?;
            }
            Box::new(EscPosPrinter::new(
                link,
                name.clone(),
                width,
                *status,
                timeouts,
            ))
        }
        PrinterAddr::Serial {
            path,
            baud,
            rtscts,
            status,
        } => {
            let mut link = DeviceLink::serial(path.clone(), *baud, *rtscts);
            if connect == Connect::Now {
                link.connect().map_err(io_err)?;
            }
            Box::new(EscPosPrinter::new(
                link,
                name.clone(),
                width,
                *status,
                timeouts,
            ))
        }
        PrinterAddr::Tcp { host, port, status } => {
            let link = TcpLink::new(host.clone(), *port, timeouts.connect);
            Box::new(EscPosPrinter::new(
                link,
                name.clone(),
                width,
                *status,
                timeouts,
            ))
        }
        PrinterAddr::File { path } => {
            let link = FileLink { path: path.clone() };
            let mut p = EscPosPrinter::new(link, name.clone(), width, StatusPolicy::Off, timeouts);
            p.always_ready = true;
            Box::new(p)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PrinterAddr, String> {
        s.parse::<PrinterAddr>().map_err(|e| e.to_string())
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse("usb:/dev/usb/lp0").unwrap(),
            PrinterAddr::Usb {
                path: "/dev/usb/lp0".into(),
                status: StatusPolicy::Try
            }
        );
        assert_eq!(
            parse("serial:/dev/ttyUSB0?baud=19200").unwrap(),
            PrinterAddr::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 19200,
                rtscts: false,
                status: StatusPolicy::Require
            }
        );
        assert_eq!(
            parse("serial:/dev/ttyS0?baud=115200&flow=rtscts&status=off").unwrap(),
            PrinterAddr::Serial {
                path: "/dev/ttyS0".into(),
                baud: 115200,
                rtscts: true,
                status: StatusPolicy::Off
            }
        );
        assert_eq!(
            parse("tcp:127.0.0.1:9100").unwrap(),
            PrinterAddr::Tcp {
                host: "127.0.0.1".into(),
                port: 9100,
                status: StatusPolicy::Require
            }
        );
        assert_eq!(
            parse("tcp:printer.local").unwrap().to_string(),
            "tcp:printer.local:9100"
        );
        assert_eq!(
            parse("tcp:[::1]:9101").unwrap().to_string(),
            "tcp:[::1]:9101"
        );
        assert_eq!(
            parse("file:/tmp/t.bin").unwrap(),
            PrinterAddr::File {
                path: "/tmp/t.bin".into()
            }
        );
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        for (addr, says) in [
            ("/dev/usb/lp0", "no scheme"),
            ("lpt:/dev/lp0", "unknown scheme"),
            ("serial:", "no device"),
            ("serial:/dev/ttyUSB0?baud=fast", "not a number"),
            ("serial:/dev/ttyUSB0?speed=9600", "unknown option"),
            ("serial:/dev/ttyUSB0?baud", "needs a value"),
            ("tcp:host:99999", "not a port"),
            ("tcp::9100", "no host"),
            ("usb:/dev/usb/lp0?baud=9600", "unknown option"),
            ("tcp:h?status=maybe", "require, try or off"),
        ] {
            let e = parse(addr).unwrap_err();
            assert!(e.contains(says), "{addr}: {e}");
            assert!(e.contains("usb:/dev/usb/lp0, serial:"), "{e}");
        }
    }

    #[test]
    fn a_missing_device_is_a_clear_error() {
        let addr = parse("serial:/nonexistent/ttyUSB9").unwrap();
        let e = open_addr(&addr, 384, Timeouts::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/ttyUSB9"), "{e}");
    }

    #[test]
    fn the_kiosk_screen_starts_before_its_printer_and_takes_it_when_it_appears() {
        use crate::printer::{PrinterHealth, TicketPrint};
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("hallq-printer");
        let addr = format!("usb:{}", node.display());
        // The installer's test print still says at once that nothing is there.
        assert!(crate::printer::open(&addr, 384).is_err());
        // The kiosk screen starts all the same (a printer switched on after the Pi).
        let mut p = crate::printer::open_for_screen(&addr, 384).unwrap();
        assert_eq!(p.health(), PrinterHealth::NoAnswer);
        let e = p.print(&TicketPrint::sample()).unwrap_err().to_string();
        assert!(e.contains("hallq-printer"), "{e}");
        // The printer is switched on: udev makes its node, and the next ticket goes to it.
        std::fs::write(&node, b"").unwrap();
        p.print(&TicketPrint::sample()).unwrap();
        let printed = crate::printer::decode_tickets(&std::fs::read(&node).unwrap()).unwrap();
        assert_eq!(printed.len(), 1);
    }

    #[test]
    fn a_plain_file_is_not_a_serial_line() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let addr = format!("serial:{}", f.path().display());
        let e = crate::printer::open(&addr, 384).err().unwrap().to_string();
        assert!(e.contains("not a serial line"), "{e}");
    }

    #[test]
    fn bad_width_is_refused() {
        assert!(matches!(
            crate::printer::open("file:/tmp/x", 385),
            Err(PrintError::Width(385))
        ));
    }
}
