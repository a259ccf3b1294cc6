//! A tiny stand-in for the hub on 127.0.0.1: `GET /api/v1/board`, the `/api/v1/events` WebSocket
//! (snapshot first, then whatever the test pushes) and `POST /api/v1/callbacks`; and a still board
//! drawn in memory.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use hallq_shared::hall::Phone;
use hallq_shared::protocol::{
    BoardSnapshot, CallbackCaptured, CaptureCallbackRequest, ErrorBody, ErrorDetail, StreamMessage,
};
use tokio::sync::broadcast;

pub const TOKEN: &str = "display-device-token";

#[derive(Clone)]
struct Hub {
    board: Arc<Mutex<BoardSnapshot>>,
    pushes: broadcast::Sender<String>,
    captured: Arc<Mutex<Vec<CaptureCallbackRequest>>>,
}

pub struct FakeHub {
    pub addr: SocketAddr,
    hub: Hub,
}

impl FakeHub {
    pub fn start(board: BoardSnapshot) -> FakeHub {
        let (pushes, _) = broadcast::channel(64);
        let hub = Hub {
            board: Arc::new(Mutex::new(board)),
            pushes,
            captured: Arc::new(Mutex::new(Vec::new())),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let state = hub.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new()
                    .route("/api/v1/board", get(board_route))
                    .route("/api/v1/events", get(events_route))
                    .route("/api/v1/callbacks", post(callbacks_route))
                    .with_state(state);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        FakeHub { addr, hub }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the board new connections get.
    pub fn set_board(&self, board: BoardSnapshot) {
        *self.hub.board.lock().unwrap() = board;
    }

    /// Sends a raw text frame to every connected client (`"close"` closes them).
    pub fn push(&self, text: String) {
        let _ = self.hub.pushes.send(text);
    }

    pub fn push_message(&self, msg: &StreamMessage) {
        self.push(serde_json::to_string(msg).unwrap());
    }

    pub fn clients(&self) -> usize {
        self.hub.pushes.receiver_count()
    }

    pub fn captured(&self) -> Vec<CaptureCallbackRequest> {
        self.hub.captured.lock().unwrap().clone()
    }
}

async fn board_route(State(hub): State<Hub>) -> Json<BoardSnapshot> {
    Json(hub.board.lock().unwrap().clone())
}

async fn events_route(State(hub): State<Hub>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.on_upgrade(move |socket| follow(hub, socket))
}

async fn follow(hub: Hub, mut socket: WebSocket) {
    let mut rx = hub.pushes.subscribe();
    let first = StreamMessage::Snapshot {
        board: hub.board.lock().unwrap().clone(),
    };
    let text = serde_json::to_string(&first).unwrap();
    if socket.send(Message::Text(text.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            pushed = rx.recv() => match pushed {
                Ok(t) if t == "close" => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Ok(t) => {
                    if socket.send(Message::Text(t.into())).await.is_err() {
                        return;
                    }
                }
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

fn refuse(status: StatusCode, code: &str, en: &str, zh: &str) -> axum::response::Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: en.into(),
            message_zh: Some(zh.into()),
        },
    };
    (status, Json(body)).into_response()
}

async fn callbacks_route(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Json(req): Json<CaptureCallbackRequest>,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {TOKEN}") {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first",
            "请先登录",
        );
    }
    if !req.consent {
        return refuse(
            StatusCode::BAD_REQUEST,
            "no_consent",
            "consent needed",
            "请勾选同意后提交",
        );
    }
    let phone = match Phone::parse(&req.phone) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_phone", &e.to_string(), e.zh()),
    };
    let mut captured = hub.captured.lock().unwrap();
    captured.push(req);
    let body = CallbackCaptured {
        id: captured.len() as i64,
        phone_masked: phone.masked(),
    };
    (StatusCode::CREATED, Json(body)).into_response()
}

/// A landscape board drawn in memory with the machine's Chinese font, animations off (still
/// frames). Installs the headless platform: once per process.
pub fn still_board(
    w: u32,
    h: u32,
) -> (hallq_board::headless::Headless, hallq_board::screen::Screen) {
    let font = hallq_board::fonts::find_chinese_font()
        .expect("a Chinese font (deploy/dev-setup.sh installs one)");
    let headless = hallq_board::headless::Headless::install(w, h).unwrap();
    let screen = hallq_board::screen::Screen::board(w, h).unwrap();
    screen.set_font_family(&font.family);
    screen.set_animate(false);
    (headless, screen)
}
