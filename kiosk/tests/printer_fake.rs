//! The printer links against a fake ESC/POS printer: on a pseudo-terminal for `serial:` and on
//! 127.0.0.1 for `tcp:`. The fake parses what it receives like a printer does, answers `DLE EOT`
//! the way the test says (paper present, paper out, cover open, silent, or not reading at all),
//! and keeps the bytes so they can be decoded back into the ticket.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hallq_kiosk::printer::decode::{Command, parse_prefix};
use hallq_kiosk::printer::transport::open_addr;
use hallq_kiosk::printer::{
    self, PrintError, PrinterAddr, PrinterHealth, TicketPrint, Timeouts, decode_tickets,
    render_ticket,
};
use rustix::fs::OFlags;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Ready,
    PaperLow,
    PaperOut,
    CoverOpen,
    /// Takes the data but never answers a status query.
    Silent,
    /// Reads nothing at all (a printer that hangs with its buffer full).
    Stalled,
}

impl Mode {
    fn answer(self, n: u8) -> Option<u8> {
        let (printer, offline, paper) = match self {
            Mode::Ready => (0x12, 0x12, 0x12),
            Mode::PaperLow => (0x12, 0x12, 0x1e),
            Mode::PaperOut => (0x1a, 0x32, 0x72),
            Mode::CoverOpen => (0x1a, 0x16, 0x12),
            Mode::Silent | Mode::Stalled => return None,
        };
        match n {
            1 => Some(printer),
            2 => Some(offline),
            3 => Some(0x12),
            4 => Some(paper),
            _ => None,
        }
    }
}

/// The fake's life is bounded even if a test forgets it.
const FAKE_LIFETIME: Duration = Duration::from_secs(60);

struct Fake {
    received: Arc<Mutex<Vec<u8>>>,
    queries: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    /// Runs the printer's side on `port`, which returns `WouldBlock` (or `TimedOut`) when idle.
    fn start<P: Read + Write + Send + 'static>(mut port: P, mode: Mode) -> Fake {
        let received = Arc::new(Mutex::new(Vec::new()));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (rx_log, q_log, stop_flag) = (received.clone(), queries.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let born = Instant::now();
            let mut pending = Vec::new();
            let mut buf = [0u8; 4096];
            while !stop_flag.load(Ordering::Relaxed) && born.elapsed() < FAKE_LIFETIME {
                if mode == Mode::Stalled {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let n = match port.read(&mut buf) {
                    Ok(0) => {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Ok(n) => n,
                    Err(_) => {
                        // Idle, or no one on the other end yet.
                        thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                };
                pending.extend_from_slice(&buf[..n]);
                rx_log.lock().unwrap().extend_from_slice(&buf[..n]);
                let (cmds, used) = parse_prefix(&pending).expect("the fake got a valid stream");
                pending.drain(..used);
                for c in cmds {
                    if let Command::StatusQuery(q) = c {
                        q_log.lock().unwrap().push(q);
                        if let Some(a) = mode.answer(q) {
                            let _ = port.write_all(&[a]);
                            let _ = port.flush();
                        }
                    }
                }
            }
        });
        Fake {
            received,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` bytes arrived.
    fn wait_for_bytes(&self, n: usize) -> Vec<u8> {
        for _ in 0..1000 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.received()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A pseudo-terminal: the fake printer holds the master, the kiosk opens the slave as `serial:`.
fn pty_printer(mode: Mode) -> (Fake, String) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let name = name.to_str().unwrap().to_string();
    rustix::fs::fcntl_setfl(&master, OFlags::NONBLOCK).unwrap();
    (Fake::start(File::from(master), mode), name)
}

fn sample() -> TicketPrint {
    TicketPrint::sample()
}

/// Encodes the expected job locally and returns its length.
fn job_len(width: u32) -> usize {
    let r = render_ticket(&sample(), width).expect("a Chinese font");
    printer::encode_ticket(&r, Vec::new()).unwrap().len()
}

fn only_ticket_bytes(all: &[u8]) -> Vec<u8> {
    // Status queries are 3 bytes each (`10 04 n`) before the job; the job starts with ESC @.
    let start = all
        .windows(2)
        .position(|w| w == [0x1b, 0x40])
        .expect("the job's ESC @");
    all[start..].to_vec()
}

#[test]
fn serial_ready_printer_reports_ready_and_receives_a_ticket_that_decodes_back() {
    let (fake, tty) = pty_printer(Mode::Ready);
    let mut p = printer::open(&format!("serial:{tty}?baud=115200"), 576).unwrap();
    assert_eq!(p.health(), PrinterHealth::Ready);
    p.print(&sample()).unwrap();

    let queries_len = 2 * 9;
    let all = fake.wait_for_bytes(queries_len + job_len(576));
    let job = only_ticket_bytes(&all);
    let tickets = decode_tickets(&job).unwrap();
    assert_eq!(tickets.len(), 1, "one cut, one ticket");
    let expected = render_ticket(&sample(), 576).unwrap();
    let got = &tickets[0];
    assert_eq!(got.width(), 576);
    assert_eq!(got.rows(0, expected.height()), expected);
    assert_eq!(got.rows(expected.height(), got.height()).ink_count(), 0);
    // Health asked with DLE EOT 1, 2, 4 — before the ticket and on request.
    assert_eq!(*fake.queries.lock().unwrap(), vec![1, 2, 4, 1, 2, 4]);
}

#[test]
fn serial_paper_low_still_prints() {
    let (fake, tty) = pty_printer(Mode::PaperLow);
    let mut p = printer::open(&format!("serial:{tty}?baud=19200"), 384).unwrap();
    assert_eq!(p.health(), PrinterHealth::PaperLow);
    p.print(&sample()).unwrap();
    let job = only_ticket_bytes(&fake.wait_for_bytes(18 + job_len(384)));
    assert_eq!(decode_tickets(&job).unwrap()[0].width(), 384);
}

#[test]
fn serial_paper_out_and_cover_open_are_reported_and_nothing_is_printed() {
    for (mode, health) in [
        (Mode::PaperOut, PrinterHealth::PaperOut),
        (Mode::CoverOpen, PrinterHealth::CoverOpen),
    ] {
        let (fake, tty) = pty_printer(mode);
        let mut p = printer::open(&format!("serial:{tty}?baud=19200"), 576).unwrap();
        assert_eq!(p.health(), health);
        match p.print(&sample()) {
            Err(PrintError::NotReady { health: h, .. }) => assert_eq!(h, health),
            other => panic!("{mode:?}: expected NotReady, got {other:?}"),
        }
        // Only status queries reached the printer.
        let got = fake.wait_for_bytes(18);
        assert!(got.chunks(3).all(|c| c[..2] == [0x10, 0x04]), "{got:02x?}");
    }
}

#[test]
fn serial_silent_printer_times_out_quickly_and_gets_no_ticket() {
    let (fake, tty) = pty_printer(Mode::Silent);
    let mut p = printer::open(&format!("serial:{tty}?baud=19200"), 576).unwrap();
    let t0 = Instant::now();
    assert_eq!(p.health(), PrinterHealth::NoAnswer);
    let waited = t0.elapsed();
    // The status timeout is 500 ms; the caller is never held much longer.
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(matches!(
        p.print(&sample()),
        Err(PrintError::NotReady {
            health: PrinterHealth::NoAnswer,
            ..
        })
    ));
    assert!(!fake.received().windows(2).any(|w| w == [0x1b, 0x40]));
}

#[test]
fn serial_without_status_prints_to_a_silent_printer() {
    let (fake, tty) = pty_printer(Mode::Silent);
    let mut p = printer::open(&format!("serial:{tty}?baud=115200&status=off"), 384).unwrap();
    p.print(&sample()).unwrap();
    let job = fake.wait_for_bytes(job_len(384));
    assert_eq!(decode_tickets(&job).unwrap().len(), 1);
}

#[test]
fn a_printer_that_stops_reading_makes_the_print_time_out_not_hang() {
    let (_fake, tty) = pty_printer(Mode::Stalled);
    let addr: PrinterAddr = format!("serial:{tty}?baud=4000000&status=off")
        .parse()
        .unwrap();
    let t = Timeouts {
        job_base: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let mut p = open_addr(&addr, 576, t).unwrap();
    let t0 = Instant::now();
    let r = p.print(&sample());
    assert!(matches!(r, Err(PrintError::Timeout { .. })), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}

/// A TCP connection with a short read timeout, so the fake can poll its stop flag.
fn tcp_printer(mode: Mode) -> (Fake, String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let acceptor = thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let _ = tx.send(s);
        }
    });
    // The fake starts once the kiosk connects; until then a relay holds its place.
    let relay = Relay {
        rx: Some(rx),
        stream: None,
    };
    (Fake::start(relay, mode), format!("tcp:{addr}"), acceptor)
}

struct Relay {
    rx: Option<std::sync::mpsc::Receiver<std::net::TcpStream>>,
    stream: Option<std::net::TcpStream>,
}

impl Relay {
    fn ready(&mut self) -> io::Result<&mut std::net::TcpStream> {
        if self.stream.is_none()
            && let Some(rx) = &self.rx
            && let Ok(s) = rx.try_recv()
        {
            self.stream = Some(s);
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
    }
}

impl Read for Relay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.ready()?.read(buf)
    }
}

impl Write for Relay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.ready()?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.ready()?.flush()
    }
}

#[test]
fn tcp_printer_status_and_ticket() {
    let (fake, addr, acceptor) = tcp_printer(Mode::Ready);
    let mut p = printer::open(&addr, 576).unwrap();
    assert_eq!(p.health(), PrinterHealth::Ready);
    p.print(&sample()).unwrap();
    let job = only_ticket_bytes(&fake.wait_for_bytes(18 + job_len(576)));
    assert_eq!(decode_tickets(&job).unwrap()[0].width(), 576);
    acceptor.join().unwrap();
}

#[test]
fn tcp_printer_that_is_off_is_no_answer_within_the_connect_timeout() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut p = printer::open(&format!("tcp:127.0.0.1:{port}"), 576).unwrap();
    let t0 = Instant::now();
    assert_eq!(p.health(), PrinterHealth::NoAnswer);
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(p.print(&sample()).is_err());
}

#[test]
fn file_printer_is_ready_and_appends_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.bin");
    let mut p = printer::open(&format!("file:{}", path.display()), 384).unwrap();
    assert_eq!(p.health(), PrinterHealth::Ready);
    p.print(&sample()).unwrap();
    p.print(&sample()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(decode_tickets(&bytes).unwrap().len(), 2);
}

/// `hallq-kiosk print-test` over the network to the fake printer: the installer's first check.
/// What arrives is one ticket, the test print (not a customer's ticket), and the program says the
/// printer is ready.
#[test]
fn print_test_sends_the_test_ticket_and_reports_the_printer_ready() {
    let (fake, addr, acceptor) = tcp_printer(Mode::Ready);
    let png = std::env::temp_dir().join(format!("hallq-print-test-{}.png", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallq-kiosk"))
        .args(["print-test", "--printer", &addr, "--png"])
        .arg(&png)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(": Ready") && said.contains("printed the test ticket"),
        "{said}"
    );
    // The program has finished; the fake may still be reading what it sent.
    let mut got = Vec::new();
    for _ in 0..400 {
        let received = fake.received();
        if received.windows(2).any(|w| w == [0x1b, 0x40])
            && let Ok(t) = decode_tickets(&only_ticket_bytes(&received))
            && !t.is_empty()
        {
            got = t;
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(got.len(), 1, "one ticket arrives");
    assert_eq!(got[0].width(), 576);
    // The picture is the same ticket: its PNG header carries the decoded raster's size.
    let picture = std::fs::read(&png).unwrap();
    let size = |at: usize| u32::from_be_bytes(picture[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (got[0].width(), got[0].height()));
    let _ = std::fs::remove_file(&png);
    acceptor.join().unwrap();
}
