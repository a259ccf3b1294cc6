//! QR codes for the screens: the phone code (扫码取号) on the kiosk and the board, drawn one pixel
//! per module with the quiet zone the standard asks for, to be scaled up without smoothing; and the
//! thread that keeps a screen's code current as it changes each minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qrcode::{EcLevel, QrCode};

use crate::protocol::PhoneCode;

/// Modules of white border on each side; scanners need it to find the code on a dark screen.
pub const QUIET_ZONE: usize = 4;

/// A QR code as a square of modules, quiet zone included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrPixels {
    /// Modules on a side, quiet zone included.
    pub side: usize,
    dark: Vec<bool>,
}

impl QrPixels {
    /// The code for `text` at error correction M (a screen's code is clean; M keeps it small
    /// enough to scan from a step away).
    pub fn encode(text: &str) -> Result<QrPixels, String> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| format!("cannot make a QR code of {text:?}: {e}"))?;
        let n = code.width();
        let side = n + 2 * QUIET_ZONE;
        let mut dark = vec![false; side * side];
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                dark[(i / n + QUIET_ZONE) * side + i % n + QUIET_ZONE] = true;
            }
        }
        Ok(QrPixels { side, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.side + x]
    }

    /// Packed RGB, `side × side` pixels: black modules on white.
    pub fn rgb8(&self) -> Vec<u8> {
        self.dark
            .iter()
            .flat_map(|&d| if d { [0u8; 3] } else { [255u8; 3] })
            .collect()
    }
}

/// What a screen shows for taking a ticket by phone: the address in the code and its pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneQr {
    pub url: String,
    pub pixels: QrPixels,
}

impl PhoneQr {
    /// What a screen shows for `code`: nothing when the hall has phone tickets off.
    pub fn for_code(code: &PhoneCode, public_base: &str) -> Option<PhoneQr> {
        if !code.enabled {
            return None;
        }
        let url = code.url(public_base);
        match QrPixels::encode(&url) {
            Ok(pixels) => Some(PhoneQr { url, pixels }),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }
}

/// After this many failed fetches in a row the screen stops showing its code: the code it has
/// may have expired, and a code that is refused at the phone is worse than none.
const FAILURES_BEFORE_HIDING: u32 = 3;
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// The thread that fetches the phone code each minute and tells the screen what to show:
/// `Some` with a new code, `None` when the hall has switched phone tickets off or the hub cannot
/// be asked. Dropping it stops the thread.
#[derive(Debug)]
pub struct PhoneCodeFeed {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PhoneCodeFeed {
    /// `fetch` asks the hub for [`PhoneCode::PATH`]; `public_base` is the hub as phones reach it
    /// (e.g. `http://192.168.1.20:8080`); `show` is called on the feed's thread, only on changes.
    pub fn spawn(
        public_base: String,
        fetch: impl FnMut() -> Result<PhoneCode, String> + Send + 'static,
        show: impl FnMut(Option<PhoneQr>) + Send + 'static,
    ) -> PhoneCodeFeed {
        let pace = Pace {
            next: |code: &PhoneCode| code.refetch_after(now_ms()),
            retry: RETRY_AFTER_FAILURE,
        };
        PhoneCodeFeed::spawn_paced(public_base, fetch, show, pace)
    }

    fn spawn_paced(
        public_base: String,
        mut fetch: impl FnMut() -> Result<PhoneCode, String> + Send + 'static,
        mut show: impl FnMut(Option<PhoneQr>) + Send + 'static,
        pace: Pace,
    ) -> PhoneCodeFeed {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("phone-code".into())
            .spawn(move || {
                let mut shown: Option<PhoneQr> = None;
                let mut failures = 0;
                while !flag.load(Ordering::SeqCst) {
                    let (next, wait) = match fetch() {
                        Ok(code) => {
                            failures = 0;
                            let wait = (pace.next)(&code);
                            let same = shown
                                .as_ref()
                                .is_some_and(|q| q.url == code.url(&public_base));
                            let next = if same && code.enabled {
                                shown.clone()
                            } else {
                                PhoneQr::for_code(&code, &public_base)
                            };
                            (next, wait)
                        }
                        Err(reason) => {
                            failures += 1;
                            if failures == 1 {
                                tracing::warn!("cannot fetch the phone code: {reason}");
                            }
                            let keep = failures < FAILURES_BEFORE_HIDING;
                            (shown.clone().filter(|_| keep), pace.retry)
                        }
                    };
                    if next != shown {
                        shown = next.clone();
                        show(next);
                    }
                    let until = Instant::now() + wait;
                    while Instant::now() < until && !flag.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100).min(wait));
                    }
                }
            })
            .ok();
        PhoneCodeFeed { stop, thread }
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for PhoneCodeFeed {
    fn drop(&mut self) {
        self.halt();
    }
}

/// When to ask again: after a code, and after a failure.
struct Pace {
    next: fn(&PhoneCode) -> Duration,
    retry: Duration,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_has_its_finder_patterns_inside_a_white_border() {
        let q = QrPixels::encode("http://192.168.1.10:8080/p/ABCD2345").unwrap();
        let n = q.side - 2 * QUIET_ZONE;
        assert_eq!((n - 17) % 4, 0, "a QR code is 17 + 4v modules wide");
        for i in 0..q.side {
            assert!(!q.is_dark(i, 0) && !q.is_dark(0, i) && !q.is_dark(i, q.side - 1));
        }
        // The top-left finder: a dark 7×7 ring around a white ring around a dark 3×3 centre.
        let at = |x: usize, y: usize| q.is_dark(x + QUIET_ZONE, y + QUIET_ZONE);
        assert!(at(0, 0) && at(6, 0) && at(0, 6) && at(6, 6));
        assert!(!at(1, 1) && !at(5, 5));
        assert!(at(2, 2) && at(3, 3) && at(4, 4));
        assert!(!at(7, 7));
        let rgb = q.rgb8();
        assert_eq!(rgb.len(), q.side * q.side * 3);
        assert_eq!(&rgb[..3], &[255, 255, 255]);
    }

    fn code(code: &str, enabled: bool) -> PhoneCode {
        PhoneCode {
            enabled,
            code: code.into(),
            path: format!("/p/{code}"),
            next_at_ms: 0,
        }
    }

    #[test]
    fn the_feed_shows_each_new_code_once_and_hides_it_when_switched_off_or_unreachable() {
        use std::sync::mpsc;
        let answers = vec![
            Ok(code("AAAA2222", true)),
            Err("refused".to_string()),
            Ok(code("BBBB3333", false)),
        ];
        let (tx, rx) = mpsc::channel();
        let mut answers = answers.into_iter();
        let pace = Pace {
            next: |_| Duration::from_millis(10),
            retry: Duration::from_millis(10),
        };
        let feed = PhoneCodeFeed::spawn_paced(
            "http://hall.example:8080/".into(),
            move || answers.next().unwrap_or(Err("gone".into())),
            move |qr| {
                let _ = tx.send(qr.map(|q| q.url));
            },
            pace,
        );
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            first.as_deref(),
            Some("http://hall.example:8080/p/AAAA2222")
        );
        // One failure keeps the code (nothing is sent); switched off hides it.
        let second = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(second, None);
        // Then the hub stays unreachable: nothing shown, nothing more sent.
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        feed.stop();
    }

    #[test]
    fn a_screen_asks_again_just_after_the_minute_turns_within_bounds() {
        let c = PhoneCode {
            enabled: true,
            code: "X".into(),
            path: "/p/X".into(),
            next_at_ms: 120_000,
        };
        assert_eq!(c.refetch_after(100_000), Duration::from_secs(21));
        assert_eq!(c.refetch_after(120_500), Duration::from_secs(5));
        assert_eq!(c.refetch_after(0), Duration::from_secs(60));
        assert_eq!(c.url("http://10.0.0.2:8080/"), "http://10.0.0.2:8080/p/X");
    }
}
