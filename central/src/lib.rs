//! The operator's central service as a library (`hallq_central`): `app(state) -> Router` and
//! `run(listener, state, shutdown)`; halls ship their history to `POST /api/v1/ship`
//! (docs/central.md), head office reads the halls now and the league table on its pages.

pub mod auth;
pub mod callbacks;
pub mod chart;
pub mod cli;
pub mod error;
pub mod phones;
pub mod publish;
pub mod rollup;
pub mod ship;
pub mod store;
pub mod web;
pub mod wire;

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use store::Store;

/// The largest batch accepted (413 above it): 500 events with their tickets are well under
/// a megabyte; the hub halves its batch on 413.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// A hall that has not been heard from for this long is shown as stale.
pub const STALE_AFTER_S: i64 = 5 * 60;

/// What every request may use.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// Sessions cookies carry `Secure` (central behind a TLS proxy, as docs/central.md says).
    pub secure_cookies: bool,
    pub sign_in_failures: Arc<web::Failures>,
}

impl AppState {
    pub fn new(store: Store, secure_cookies: bool) -> AppState {
        AppState {
            store,
            secure_cookies,
            sign_in_failures: Arc::default(),
        }
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/v1/ship",
            post(ship::ship).layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .route("/api/v1/published", get(publish::api_published))
        .route("/api/v1/publications", get(publish::api_publications))
        .route("/api/v1/halls", get(web::api_halls))
        .route("/api/v1/callbacks", get(callbacks::api_callbacks))
        .route("/api/v1/callbacks/phone", post(phones::api_phone))
        .route("/api/v1/league", get(web::api_league))
        .route("/api/v1/league.csv", get(web::league_csv))
        .route("/", get(web::halls_page))
        .route("/league", get(web::league_page))
        .route("/callbacks", get(callbacks::callbacks_page))
        .route("/callbacks/phone", post(phones::phone_page))
        .route(
            "/publish",
            get(publish::publish_page).post(publish::publish),
        )
        .route("/signin", get(web::signin_page).post(web::signin))
        .route("/signout", post(web::signout))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Central's Content-Security-Policy: pages load nothing from elsewhere, run no script and cannot
/// be framed by another site. The halls page alone adds its one script, by hash
/// ([`web::halls_policy`]).
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`PAGE_POLICY`] on every answer that does not set its own, and the headers that go with it.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Serve until `shutdown` resolves, then finish the requests in flight. Beside the requests, the
/// rollups of the halls' current days are refreshed ([`store::refresh_loop`]); the days still
/// marked when it stops are refreshed before it returns.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let serve = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown);
    tokio::select! {
        served = serve.into_future() => served?,
        () = store::refresh_loop(store.clone()) => {}
    }
    if let Err(e) = store.refresh_rollups(Duration::ZERO).await {
        tracing::warn!(error = %e, "refreshing the rollups at the stop failed: the next start does it");
    }
    Ok(())
}
