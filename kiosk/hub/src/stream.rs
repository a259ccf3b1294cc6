//! `GET /api/v1/events`: the board's event stream over WebSocket. One task per socket; every
//! client first gets a snapshot, then each committed change in order. A client that falls behind
//! (its buffer in the broadcast ring overflows, or its socket stalls) gets a fresh snapshot instead
//! of the updates it missed, so one slow screen never holds up the others.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};

use super::error::ApiResult;
use super::extract::Query;
use super::state::{AppState, Frame};

const PING_EVERY: Duration = Duration::from_secs(20);
/// A client that answers nothing (not even a pong) for this long is gone.
const SILENT_LIMIT: Duration = Duration::from_secs(60);
/// A socket that cannot take one message in this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// The last `seq` the client holds. The reply is a snapshot all the same: it is cheap and
    /// it can never miss a call.
    #[serde(default)]
    pub since: Option<u64>,
}

pub async fn events(
    State(hub): State<AppState>,
    Query(q): Query<StreamQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    // Small buffers: hundreds of screens stay connected all day, and they only ever receive.
    Ok(ws
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20)
        .max_message_size(4096)
        .on_upgrade(move |socket| serve_socket(hub, socket, q.since)))
}

async fn serve_socket(hub: AppState, mut socket: WebSocket, since: Option<u64>) {
    // Subscribe before taking the snapshot: every change after it is then in the channel.
    let mut rx = hub.stream.subscribe();
    let mut shutdown = hub.shutdown.subscribe();
    if *shutdown.borrow() {
        return;
    }
    let mut held = {
        let first = hub.snapshot_frame();
        tracing::debug!(since, seq = first.seq, "event stream client joined");
        if send(&mut socket, &first).await.is_err() {
            return;
        }
        first.seq
    };
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(frame) => {
                    let fresh = if frame.snapshot { frame.seq >= held } else { frame.seq > held };
                    if !fresh {
                        continue;
                    }
                    let frame = if !frame.snapshot && frame.prev_seq != held {
                        hub.snapshot_frame()
                    } else {
                        frame
                    };
                    held = frame.seq;
                    if send(&mut socket, &frame).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "event stream client fell behind: resync");
                    let snap = hub.snapshot_frame();
                    held = snap.seq;
                    if send(&mut socket, &snap).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => heard = Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENT_LIMIT {
                    tracing::debug!("event stream client silent: dropped");
                    return;
                }
                if tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await.map_or(true, |r| r.is_err()) {
                    return;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1001,
            reason: "hub restarting".into(),
        })))
        .await;
}

async fn send(socket: &mut WebSocket, frame: &Frame) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(frame.text.clone()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
