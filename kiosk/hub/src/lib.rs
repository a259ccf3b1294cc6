//! The hall hub, the `hallq-hub` program as a library: HTTP + WebSocket API over the queue engine,
//! accounts and devices, the staff, manager and phone pages, and their administration.
//!
//! `app(state)` builds the router; `run(listener, state, shutdown)` serves it through the accept
//! loop of `accept.rs` (connection caps, header timeout, optional TLS) until `shutdown` completes,
//! then closes event streams and gives in-flight requests a bounded drain. Every write goes
//! through the single writer in `hallq_shared::store`, so nothing is acknowledged before it is
//! durable.

pub mod accept;
pub mod admin_backup;
pub mod api;
pub mod auth;
pub mod caller;
pub mod central;
pub mod cli;
pub mod clock_watch;
pub mod edge;
pub mod error;
pub mod extract;
pub mod file_modes;
pub mod manager;
pub mod memory;
pub mod pages;
pub mod phone;
pub mod probe;
pub mod sample_day;
pub mod staffing;
pub mod state;
pub mod storage;
pub mod stream;
pub mod suggestions;
pub mod throttle;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use hallq_shared::sd_notify;
use tokio::net::TcpListener;

pub use accept::ServeOptions;
pub use error::{ApiError, ApiResult};
pub use state::{AppState, Hub, HubError, HubOptions};

/// Largest request body (a full hall configuration fits comfortably).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Only `roles` pass this route (checked before the body is read).
macro_rules! only {
    ($roles:expr) => {
        axum::middleware::from_fn(|req, next| auth::require($roles, req, next))
    };
}

pub fn app(state: AppState) -> Router {
    use auth::{ANY_SIGNED, ISSUERS, KIOSK, MANAGER, STAFF};
    let api = Router::new()
        .route("/health", get(api::health))
        .route("/login", post(api::login))
        .route("/logout", post(api::logout).route_layer(only!(STAFF)))
        .route("/me", get(api::me).route_layer(only!(auth::ANY_TOKEN)))
        .route("/services", get(api::services))
        .route("/counters", get(api::counters))
        .route(
            "/counters/{id}/queue",
            get(api::counter_queue).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/next",
            post(api::call_next).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/call",
            post(api::call_number).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/recall",
            post(api::recall).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/start",
            post(api::start).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/finish",
            post(api::finish).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/no-show",
            post(api::no_show).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/pause",
            post(api::pause).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/open",
            post(api::open).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/close",
            post(api::close).route_layer(only!(STAFF)),
        )
        .route(
            "/counters/{id}/transfer",
            post(api::transfer).route_layer(only!(STAFF)),
        )
        .route(
            "/tickets",
            post(api::issue_ticket)
                .route_layer(only!(ISSUERS))
                .merge(get(api::waiting_tickets).route_layer(only!(STAFF))),
        )
        .route("/tickets/{number}", get(api::ticket_status))
        .route("/board", get(api::board))
        .route(
            "/outage",
            post(api::start_outage)
                .delete(api::end_outage)
                .route_layer(only!(MANAGER)),
        )
        .route(
            "/slow-system",
            post(api::start_slow_system)
                .delete(api::end_slow_system)
                .route_layer(only!(STAFF)),
        )
        .route(
            "/callbacks",
            post(api::capture_callback)
                .route_layer(only!(ANY_SIGNED))
                .merge(get(api::list_callbacks).route_layer(only!(STAFF))),
        )
        .route(
            "/callbacks/{id}",
            axum::routing::patch(api::update_callback).route_layer(only!(STAFF)),
        )
        .route(
            "/suggestions",
            post(api::suggestion)
                .route_layer(only!(ANY_SIGNED))
                .merge(get(suggestions::list).route_layer(only!(STAFF))),
        )
        .route(
            "/suggestions/{id}",
            axum::routing::patch(suggestions::handle).route_layer(only!(STAFF)),
        )
        .route(
            "/suggestions/{id}/contact",
            get(suggestions::contact).route_layer(only!(STAFF)),
        )
        .route(
            "/kiosk/status",
            put(api::kiosk_status).route_layer(only!(KIOSK)),
        )
        .route("/alerts", get(api::alerts).route_layer(only!(STAFF)))
        .route(
            "/staffing",
            get(staffing::staffing).route_layer(only!(STAFF)),
        )
        .route(
            "/config",
            get(api::get_config)
                .put(manager::put_config)
                .route_layer(only!(MANAGER)),
        )
        .merge(manager_routes())
        .route("/events", get(stream::events))
        .route(
            "/phone/code",
            get(phone::code).route_layer(only!(ANY_SIGNED)),
        )
        .route("/phone/{code}", get(phone::hall))
        .route("/phone/{code}/tickets", post(phone::take_ticket))
        .route("/phone/{code}/callbacks", post(phone::leave_callback))
        .method_not_allowed_fallback(edge::method_not_allowed)
        .fallback(api_not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(pages::root))
        .route("/staff", get(pages::root))
        .route("/staff/", get(pages::staff_index))
        .route("/staff/{*path}", get(pages::staff_asset))
        .route("/t/{number}", get(pages::ticket_page))
        .route("/p/{code}", get(pages::phone_page))
        .route("/rate/{counter}", get(manager::rate_page))
        .method_not_allowed_fallback(edge::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caller::authenticate,
        ))
        // Outermost: over-long heads are refused before anything else reads them, and every
        // answer, refusals included, gets the security headers.
        .layer(axum::middleware::from_fn(edge::guard))
        .with_state(state)
}

/// The manager's routes (accounts, devices, audit, reports), the public rating prompt and the
/// rating tablets' ratings.
fn manager_routes() -> Router<AppState> {
    use auth::MANAGER;
    Router::new()
        .route(
            "/accounts",
            get(manager::accounts)
                .post(manager::add_account)
                .route_layer(only!(MANAGER)),
        )
        .route(
            "/accounts/{login}/disable",
            post(manager::disable_account).route_layer(only!(MANAGER)),
        )
        .route(
            "/devices",
            get(manager::devices)
                .post(manager::add_device)
                .route_layer(only!(MANAGER)),
        )
        .route(
            "/devices/{name}/revoke",
            post(manager::revoke_device).route_layer(only!(MANAGER)),
        )
        .route("/audit", get(manager::audit).route_layer(only!(MANAGER)))
        .route(
            "/central",
            get(central::central_status).route_layer(only!(MANAGER)),
        )
        .route("/reports", get(manager::report).route_layer(only!(MANAGER)))
        .route(
            "/outage/probe",
            get(probe::probe_status).route_layer(only!(MANAGER)),
        )
        .route(
            "/ratings",
            post(manager::rate).route_layer(axum::middleware::from_fn(manager::tablet_only)),
        )
        .route("/counters/{id}/rating-prompt", get(manager::rating_prompt))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no_route", "no such API route").zh("没有这个接口")
}

/// Serve until `shutdown` completes; then close event streams and give in-flight requests a
/// bounded time to finish (`run_with` with the options for this process's file limit).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with(listener, state, shutdown, ServeOptions::for_this_process()).await
}

/// `run` with the connection caps, timeouts and TLS of `opts` (see `accept.rs`).
pub async fn run_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    opts: ServeOptions,
) -> std::io::Result<()> {
    run_on(listener, None, state, shutdown, opts).await
}

/// `run_with`, also serving plain HTTP on `plain` (beside a TLS `listener`, for the kiosk screen
/// on the hub's own machine, which speaks no HTTPS).
pub async fn run_on(
    listener: TcpListener,
    plain: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    opts: ServeOptions,
) -> std::io::Result<()> {
    let hub = state.clone();
    let retention = tokio::spawn(cli::retention_loop(state.clone()));
    let probe = tokio::spawn(probe::probe_loop(state.clone()));
    let clock = tokio::spawn(clock_watch::watch_loop(state.clone()));
    let shipping = central::start(&state);
    // The listener is bound and the hall loaded (`state` exists): systemd may start what needs the hub.
    notify("READY=1", sd_notify::ready());
    // Pinged from the runtime, so a runtime that stops turning gets the hub restarted.
    let watchdog = sd_notify::watchdog_interval().map(|every| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                notify("WATCHDOG=1", sd_notify::watchdog());
            }
        })
    });
    tracing::info!(
        max_connections = opts.max_connections,
        per_client = opts.max_connections_per_client,
        header_read_timeout_s = opts.header_read_timeout.as_secs_f64(),
        tls = opts.tls.is_some(),
        "serving"
    );
    let result =
        accept::serve_connections(listener, plain, app(state), opts, shutdown, move || {
            tracing::info!("shutting down: closing event streams, finishing requests");
            notify("STOPPING=1", sd_notify::stopping());
            hub.begin_shutdown();
        })
        .await;
    retention.abort();
    probe.abort();
    clock.abort();
    if let Some(mut task) = shipping {
        // It stops at the shutdown signal, saving its cursor; a request in flight is dropped
        // (central stores a resent batch once).
        if tokio::time::timeout(Duration::from_secs(3), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
    if let Some(w) = watchdog {
        w.abort();
    }
    result
}

fn notify(what: &str, sent: std::io::Result<bool>) {
    if let Err(e) = sent {
        tracing::warn!("cannot tell systemd {what}: {e}");
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// How long a stopping hub waits for its writer to finish queued commands.
pub const WRITER_DRAIN: Duration = Duration::from_secs(5);
