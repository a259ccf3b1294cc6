//! The hub connection, on its own thread: take the snapshot, follow the updates by `seq`, and on any
//! gap, silence or error drop everything live and reconnect with backoff. The screen is told when the
//! link is lost, so that it never shows an old call as current.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hallq_shared::protocol::{BoardSnapshot, CallView, PublicEvent, StreamMessage};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

use crate::http::HubUrl;

pub const EVENTS_PATH: &str = "/api/v1/events";

/// What the link reports. Sent from the link thread.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// A fresh snapshot after (re)connecting: the whole board is replaced. Its calls are history,
    /// not news: they are not announced again.
    Snapshot(Box<BoardSnapshot>),
    /// The board after one update, with the calls and recalls that update brought (newest first).
    Update {
        board: Box<BoardSnapshot>,
        new_calls: Vec<CallView>,
    },
    /// The link is down; a reconnection is under way.
    Lost { reason: String },
}

#[derive(Clone, Debug)]
pub struct LinkConfig {
    pub hub: HubUrl,
    pub token: Option<String>,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// A ping is sent after this much quiet; the hub's pong keeps the link alive.
    pub ping_after: Duration,
    /// With nothing at all heard for this long the link is taken as dead.
    pub silence_limit: Duration,
}

impl LinkConfig {
    pub fn new(hub: HubUrl, token: Option<String>) -> LinkConfig {
        LinkConfig {
            hub,
            token,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
            ping_after: Duration::from_secs(5),
            silence_limit: Duration::from_secs(15),
        }
    }
}

/// The running link. Dropping it stops the thread.
#[derive(Debug)]
pub struct Link {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Link {
    /// Starts the link thread; `sink` receives every [`LinkEvent`] on that thread.
    pub fn spawn(config: LinkConfig, sink: impl FnMut(LinkEvent) + Send + 'static) -> Link {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("hub-link".into())
            .spawn(move || run(config, flag, sink))
            .ok();
        Link { stop, thread }
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

impl Drop for Link {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The next wait before reconnecting: doubled each failure, capped, with a little spread so that
/// many screens do not all knock at once after the hub restarts.
pub fn next_backoff(current: Duration, min: Duration, max: Duration, spread_seed: u32) -> Duration {
    let doubled = (current * 2).clamp(min, max);
    let spread = doubled.as_millis() as u64 / 10;
    let jitter = if spread == 0 {
        0
    } else {
        u64::from(spread_seed) % spread
    };
    (doubled + Duration::from_millis(jitter)).min(max)
}

fn seed() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn run(config: LinkConfig, stop: Arc<AtomicBool>, mut sink: impl FnMut(LinkEvent)) {
    let mut backoff = Duration::ZERO;
    let mut lost_reported = false;
    while !stop.load(Ordering::SeqCst) {
        let outcome = session(&config, &stop, &mut sink);
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let (reason, was_live) = match outcome {
            Ok(()) => ("the hub closed the connection".to_string(), true),
            Err(SessionError { reason, was_live }) => (reason, was_live),
        };
        if was_live {
            // A link that worked gets a quick first retry.
            backoff = Duration::ZERO;
            lost_reported = false;
        }
        if !lost_reported {
            sink(LinkEvent::Lost { reason });
            lost_reported = true;
        }
        backoff = next_backoff(backoff, config.backoff_min, config.backoff_max, seed());
        let until = Instant::now() + backoff;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50).min(backoff));
        }
    }
}

struct SessionError {
    reason: String,
    /// A snapshot had been received in this session.
    was_live: bool,
}

fn session(
    config: &LinkConfig,
    stop: &AtomicBool,
    sink: &mut impl FnMut(LinkEvent),
) -> Result<(), SessionError> {
    let fail = |reason: String| SessionError {
        reason,
        was_live: false,
    };
    let stream = config
        .hub
        .connect(Duration::from_secs(3))
        .map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| fail(e.to_string()))?;
    let mut request = config
        .hub
        .ws_url(EVENTS_PATH)
        .into_client_request()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(Ok(v)) = config.token.as_ref().map(|t| format!("Bearer {t}").parse()) {
        request.headers_mut().insert("Authorization", v);
    }
    let (mut ws, _) = tungstenite::client(request, stream)
        .map_err(|e| fail(format!("WebSocket handshake failed: {e}")))?;
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| fail(e.to_string()))?;
    let result = follow(config, stop, sink, &mut ws);
    let _ = ws.close(None);
    let _ = ws.flush();
    result
}

fn follow(
    config: &LinkConfig,
    stop: &AtomicBool,
    sink: &mut impl FnMut(LinkEvent),
    ws: &mut WebSocket<TcpStream>,
) -> Result<(), SessionError> {
    let mut board: Option<BoardSnapshot> = None;
    let mut heard = Instant::now();
    let mut pinged = false;
    loop {
        let was_live = board.is_some();
        let fail = |reason: String| SessionError { reason, was_live };
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let msg = match ws.read() {
            Ok(m) => m,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                let quiet = heard.elapsed();
                if quiet >= config.silence_limit {
                    return Err(fail(format!(
                        "nothing heard from the hub for {} s",
                        quiet.as_secs()
                    )));
                }
                if quiet >= config.ping_after && !pinged {
                    ws.send(Message::Ping(Vec::new().into()))
                        .map_err(|e| fail(e.to_string()))?;
                    pinged = true;
                }
                continue;
            }
            Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
            Err(e) => return Err(fail(e.to_string())),
        };
        heard = Instant::now();
        pinged = false;
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Ok(()),
            _ => continue,
        };
        let parsed: StreamMessage = serde_json::from_str(text.as_str())
            .map_err(|e| fail(format!("unreadable message from the hub: {e}")))?;
        match (&mut board, parsed) {
            (_, StreamMessage::Snapshot { board: snap }) => {
                board = Some(snap.clone());
                sink(LinkEvent::Snapshot(Box::new(snap)));
            }
            (None, StreamMessage::Update { .. }) => {
                return Err(fail("the hub sent an update before its snapshot".into()));
            }
            (Some(b), update @ StreamMessage::Update { .. }) => {
                let new_calls = match &update {
                    StreamMessage::Update { events, .. } => calls_in(events),
                    StreamMessage::Snapshot { .. } => Vec::new(),
                };
                if !b.apply(update) {
                    // A gap: what we show may be wrong. Start over from a fresh snapshot.
                    return Err(SessionError {
                        reason: "missed an update; resynchronising".into(),
                        was_live: true,
                    });
                }
                sink(LinkEvent::Update {
                    board: Box::new(b.clone()),
                    new_calls,
                });
            }
        }
    }
}

/// The calls and recalls among an update's events, newest first (as on the board).
pub fn calls_in(events: &[PublicEvent]) -> Vec<CallView> {
    let mut calls: Vec<CallView> = events
        .iter()
        .filter_map(|e| match e {
            PublicEvent::Called { call } | PublicEvent::Recalled { call } => Some(call.clone()),
            _ => None,
        })
        .collect();
    calls.reverse();
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let min = Duration::from_millis(500);
        let max = Duration::from_secs(10);
        let mut b = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..8 {
            b = next_backoff(b, min, max, 0);
            seen.push(b.as_millis());
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
        let spread = next_backoff(Duration::from_secs(1), min, max, 199);
        assert!(spread > Duration::from_secs(2) && spread <= Duration::from_millis(2199));
    }
}
