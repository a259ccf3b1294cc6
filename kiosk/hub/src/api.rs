//! The `/api/v1` routes, by resource: session, tickets, counters, board, outage, slow system,
//! callbacks, suggestions, kiosk status and alerts. Handlers check who asks, hand commands to the
//! writer and shape the answer; the rules themselves live in the engine.

use std::collections::VecDeque;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hallq_shared::config::HallConfig;
use hallq_shared::engine::{Command, Reply, TransferTo};
use hallq_shared::hall::callback::mask_phone;
use hallq_shared::hall::time::to_rfc3339;
use hallq_shared::hall::{Callback, CallbackStatus, CounterId, CounterState, Millis};
use hallq_shared::protocol::{
    CallNumberRequest, CallbackNoteView, CallbackView, CaptureCallbackRequest, CounterView,
    IssueTicketRequest, LoginRequest, LoginResponse, Role, ServiceView, StartOutageRequest,
    TicketView, TransferRequest, UpdateCallbackRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{self, Caller, Principal, SESSION_HOURS};
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Path, Query};
use super::state::{AppState, PrinterReport};
use super::throttle::ClientAddr;

/// Longest suggestion text.
const MAX_SUGGESTION_CHARS: usize = 500;
/// A kiosk whose last report is older than this shows as `no_answer`.
const PRINTER_REPORT_STALE_MS: Millis = 3 * 60_000;

// ---------------------------------------------------------------------------------------------
// Health and session

pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

pub async fn login(
    State(hub): State<AppState>,
    ClientAddr(client): ClientAddr,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let login = req.login.trim().to_string();
    if login.is_empty() || login.len() > 64 || req.password.len() > 256 {
        return Err(
            ApiError::bad_input("bad_login", "give a login and a password").zh("请输入账号和密码"),
        );
    }
    let now = (hub.clock)();
    if let Some(c) = req.counter {
        let exists = hub
            .writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .counter(c)
            .is_some();
        if !exists {
            return Err(
                ApiError::not_found("unknown_counter", format!("no counter {c}"))
                    .zh("没有这个窗口"),
            );
        }
    }
    // Counted as a failure from here on unless the password turns out right (see `throttle`).
    let attempt = hub.throttle.begin_sign_in(&login, client, now)?;
    let account = hub
        .read({
            let l = login.clone();
            move |s| s.account(&l)
        })
        .await?;
    let password = req.password.clone();
    let ok = auth::password_work(move || match &account {
        Some((role, hash)) if auth::verify_password(&password, hash) => auth::parse_role(role),
        _ => {
            if account.is_none() {
                auth::burn_password_time(&password);
            }
            None
        }
    })
    .await?;
    let Some(role) = ok.filter(|r| matches!(r, Role::Staff | Role::Manager)) else {
        drop(attempt);
        tracing::info!(?login, %client, "sign-in refused");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong login or password",
        )
        .zh("账号或密码错误"));
    };
    attempt.succeeded();
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let expires = now + SESSION_HOURS * 3_600_000;
    let counter = req.counter;
    {
        let (hash, login) = (hash.clone(), login.clone());
        hub.admin(move |s| {
            s.add_session(&hash, &login, auth::role_str(role), counter, now, expires)?;
            s.audit(now, &login, "login", &json!({"counter": counter}))
        })
        .await?;
    }
    hub.auth.put(Principal {
        name: login.clone(),
        role,
        counter,
        expires_at: Some(expires),
        token_hash: hash,
    });
    tracing::info!(?login, ?counter, "signed in");
    Ok(Json(LoginResponse {
        token,
        role,
        counter,
        expires_at: to_rfc3339(expires),
    }))
}

pub async fn logout(State(hub): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let p = caller.staff()?.clone();
    let now = (hub.clock)();
    let hash = p.token_hash.clone();
    hub.admin(move |s| {
        s.end_session(&p.token_hash)?;
        s.audit(now, &p.name, "logout", &json!({"counter": p.counter}))
    })
    .await?;
    // After the commit, so that no look-up can cache the session again.
    hub.auth.forget(&hash);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct Me {
    pub login: String,
    pub role: Role,
    pub counter: Option<CounterId>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn me(caller: Caller) -> ApiResult<Json<Me>> {
    let p = caller.0.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(Me {
        login: p.name,
        role: p.role,
        counter: p.counter,
        expires_at: p.expires_at.map(to_rfc3339),
    }))
}

// ---------------------------------------------------------------------------------------------
// Services, counters, board

pub async fn services(State(hub): State<AppState>) -> Json<Vec<ServiceView>> {
    // Read before the hall's lock: the clock's time zone is read under the same lock.
    let at = hub.now().at;
    Json(
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .service_views(at),
    )
}

pub async fn counters(State(hub): State<AppState>) -> Json<Vec<CounterView>> {
    Json(
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .counter_views(),
    )
}

pub async fn board(State(hub): State<AppState>) -> Response {
    Json(hub.snapshot()).into_response()
}

// ---------------------------------------------------------------------------------------------
// Tickets

pub async fn issue_ticket(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<IssueTicketRequest>,
) -> ApiResult<Response> {
    let p = caller.need(&[Role::Kiosk, Role::Staff, Role::Manager])?;
    if p.role == Role::Kiosk {
        kiosk_rate_limit(&hub, &p.name)?;
    }
    let ex = hub
        .exec(
            Command::IssueTicket {
                service: req.service,
                priority: req.priority,
            },
            p.actor(),
        )
        .await?;
    match ex.reply {
        Reply::Issued(t) => {
            tracing::debug!(number = %t.number, by = %p.name, "ticket issued");
            Ok((StatusCode::CREATED, Json(t)).into_response())
        }
        other => Err(ApiError::unavailable(format!("unexpected reply {other:?}"))),
    }
}

/// A stuck button must not empty the ticket roll: each kiosk device gets so many tickets a minute.
fn kiosk_rate_limit(hub: &AppState, device: &str) -> ApiResult<()> {
    let limit = hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .config
        .policy
        .kiosk_tickets_per_minute as usize;
    let now = (hub.clock)();
    let mut all = hub.kiosk_issues.lock().unwrap_or_else(|p| p.into_inner());
    let q: &mut VecDeque<Millis> = all.entry(device.to_string()).or_default();
    while q.front().is_some_and(|t| now - t >= 60_000) {
        q.pop_front();
    }
    if q.len() >= limit {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("this kiosk may issue {limit} tickets a minute"),
        )
        .zh("取号过于频繁,请稍候再试"));
    }
    q.push_back(now);
    Ok(())
}

pub async fn ticket_status(
    State(hub): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let at = hub.now().at;
    let status = hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .ticket_status(&number, at);
    match status {
        Some(s) => Ok(Json(s).into_response()),
        None if hallq_shared::hall::parse_number(&number).is_none() => Err(ApiError::bad_input(
            "bad_number",
            format!("{number:?} is not a ticket number (e.g. A007)"),
        )
        .zh("号码格式不正确(例如A007)")),
        None => Err(
            ApiError::not_found("unknown_ticket", format!("no ticket {number} today"))
                .zh("今日没有这个号码"),
        ),
    }
}

pub async fn waiting_tickets(
    State(hub): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TicketView>>> {
    caller.staff()?;
    Ok(Json(
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .waiting_tickets(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Counters

#[derive(Debug, Serialize)]
pub struct CounterReply {
    pub counter: CounterView,
    pub current: Option<TicketView>,
}

fn known_counter(hub: &AppState, id: CounterId) -> ApiResult<()> {
    if hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .config
        .counter(id)
        .is_none()
    {
        return Err(
            ApiError::not_found("unknown_counter", format!("no counter {id}")).zh("没有这个窗口"),
        );
    }
    Ok(())
}

async fn counter_command(
    hub: &AppState,
    caller: &Caller,
    id: CounterId,
    cmd: Command,
) -> ApiResult<Response> {
    let p = caller.staff()?;
    p.may_act_at(id)?;
    known_counter(hub, id)?;
    // The command's name only when the line is written: formatting it costs on every call.
    let what = tracing::enabled!(tracing::Level::INFO).then(|| format!("{cmd:?}"));
    let ex = hub.exec(cmd, p.actor()).await?;
    if let Some(what) = what {
        tracing::info!(by = %p.name, counter = id, action = %what.split([' ', '{']).next().unwrap_or(""), "counter action");
    }
    Ok(match ex.reply {
        Reply::Called(Some(t)) => Json(t).into_response(),
        Reply::Called(None) => StatusCode::NO_CONTENT.into_response(),
        Reply::Counter(counter, current) => Json(CounterReply { counter, current }).into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    })
}

pub async fn call_next(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    counter_command(&hub, &caller, id, Command::CallNext { counter: id }).await
}

pub async fn call_number(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
    Body(req): Body<CallNumberRequest>,
) -> ApiResult<Response> {
    counter_command(
        &hub,
        &caller,
        id,
        Command::CallNumber {
            counter: id,
            number: req.number,
        },
    )
    .await
}

pub async fn recall(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    counter_command(&hub, &caller, id, Command::Recall { counter: id }).await
}

pub async fn start(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    counter_command(&hub, &caller, id, Command::Start { counter: id }).await
}

pub async fn finish(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    counter_command(&hub, &caller, id, Command::Finish { counter: id }).await
}

pub async fn no_show(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    counter_command(&hub, &caller, id, Command::NoShow { counter: id }).await
}

pub async fn pause(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    set_counter(&hub, &caller, id, CounterState::Paused).await
}

pub async fn open(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    set_counter(&hub, &caller, id, CounterState::Open).await
}

pub async fn close(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Response> {
    set_counter(&hub, &caller, id, CounterState::Closed).await
}

/// Open, pause or close a counter.
async fn set_counter(
    hub: &AppState,
    caller: &Caller,
    id: CounterId,
    state: CounterState,
) -> ApiResult<Response> {
    counter_command(hub, caller, id, Command::SetCounter { counter: id, state }).await
}

pub async fn transfer(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
    Body(req): Body<TransferRequest>,
) -> ApiResult<Response> {
    let to = match (req.service, req.counter) {
        (Some(s), None) => TransferTo::Service(s),
        (None, Some(c)) => TransferTo::Counter(c),
        _ => {
            return Err(ApiError::bad_input(
                "bad_transfer",
                "give exactly one of \"service\" or \"counter\"",
            )
            .zh("请选择转移到的业务或窗口(二选一)"));
        }
    };
    counter_command(&hub, &caller, id, Command::Transfer { counter: id, to }).await
}

#[derive(Debug, Serialize)]
pub struct CounterQueue {
    pub counter: CounterView,
    pub current: Option<TicketView>,
    /// The service of the current ticket: what to ask for, what it costs, what to remind.
    pub current_service: Option<ServiceView>,
    /// Waiting tickets this counter may call, in the order it would call them.
    pub queue: Vec<TicketView>,
    /// Minutes after which a service counts as long: the console's timer turns red, and the next
    /// customer hears an apology (Ch.3 §1.6).
    pub long_service_min: u32,
}

pub async fn counter_queue(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<CounterId>,
) -> ApiResult<Json<CounterQueue>> {
    let p = caller.staff()?;
    p.may_act_at(id)?;
    let now = hub.now();
    let hall = hub.writer.hall().read().unwrap_or_else(|p| p.into_inner());
    let counter = hall.counter_view(id).ok_or_else(|| {
        ApiError::not_found("unknown_counter", format!("no counter {id}")).zh("没有这个窗口")
    })?;
    let current = hall.current_ticket(id);
    let current_service = current.as_ref().and_then(|t| {
        hall.service_views(now.at)
            .into_iter()
            .find(|s| s.id == t.service)
    });
    Ok(Json(CounterQueue {
        counter,
        current,
        current_service,
        queue: hall.queue_for_counter(id),
        long_service_min: hall.config.thresholds.long_service_min,
    }))
}

// ---------------------------------------------------------------------------------------------
// Outage

pub async fn start_outage(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<StartOutageRequest>,
) -> ApiResult<Response> {
    let p = caller.need(&[Role::Manager])?;
    hub.exec(
        Command::StartOutage {
            expected_minutes: req.expected_minutes,
            message: req.message,
        },
        p.actor(),
    )
    .await?;
    tracing::warn!(by = %p.name, minutes = req.expected_minutes, "outage started");
    let outage = hub.snapshot().live.outage;
    Ok((StatusCode::CREATED, Json(json!({ "outage": outage }))).into_response())
}

pub async fn end_outage(State(hub): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let p = caller.need(&[Role::Manager])?;
    hub.exec(Command::EndOutage, p.actor()).await?;
    tracing::warn!(by = %p.name, "outage ended");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Slow business system

/// `POST /api/v1/slow-system` (staff): the business system is slow. The wait estimates expect
/// longer services at once and the public screens apologise.
pub async fn start_slow_system(State(hub): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let p = caller.staff()?;
    hub.exec(Command::SetSlowSystem { slow: true }, p.actor())
        .await?;
    tracing::warn!(by = %p.name, "business system marked slow");
    let since = hub.snapshot().live.slow_since;
    Ok((StatusCode::CREATED, Json(json!({ "slow_since": since }))).into_response())
}

/// `DELETE /api/v1/slow-system` (staff): the business system is back to its usual speed.
pub async fn end_slow_system(State(hub): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let p = caller.staff()?;
    hub.exec(Command::SetSlowSystem { slow: false }, p.actor())
        .await?;
    tracing::warn!(by = %p.name, "business system back to its usual speed");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Callbacks

pub fn callback_view(cb: &Callback) -> CallbackView {
    CallbackView {
        id: cb.id,
        phone: cb.phone.as_str().to_string(),
        phone_masked: mask_phone(cb.phone.as_str()),
        address: cb.address.clone(),
        reason: cb.reason.clone(),
        origin: cb.origin,
        ticket: cb.ticket.clone(),
        outage_id: cb.outage_id,
        status: cb.status,
        owner: cb.owner.clone(),
        notes: cb
            .notes
            .iter()
            .map(|n| CallbackNoteView {
                at: to_rfc3339(n.at),
                by: n.by.clone(),
                text: n.text.clone(),
            })
            .collect(),
        captured_at: to_rfc3339(cb.captured_at),
        captured_by: cb.captured_by.clone(),
        updated_at: to_rfc3339(cb.updated_at),
        resolved_at: cb.resolved_at.map(to_rfc3339),
    }
}

pub async fn capture_callback(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<CaptureCallbackRequest>,
) -> ApiResult<Response> {
    let p = caller.need(&[Role::Kiosk, Role::Display, Role::Staff, Role::Manager])?;
    let ex = hub
        .exec(
            Command::CaptureCallback {
                phone: req.phone,
                consent: req.consent,
                ticket: req.ticket,
                address: req.address,
                reason: req.reason,
            },
            p.actor(),
        )
        .await?;
    match ex.reply {
        Reply::CallbackCaptured(c) => {
            tracing::info!(id = c.id, by = %p.name, "callback number taken");
            Ok((StatusCode::CREATED, Json(c)).into_response())
        }
        other => Err(ApiError::unavailable(format!("unexpected reply {other:?}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackQuery {
    #[serde(default)]
    pub status: Option<CallbackStatus>,
    #[serde(default)]
    pub limit: Option<u32>,
}

pub async fn list_callbacks(
    State(hub): State<AppState>,
    caller: Caller,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Json<Vec<CallbackView>>> {
    let p = caller.staff()?.clone();
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let now = (hub.clock)();
    // Phone numbers are personal data: who looked at the list, and when, is kept.
    hub.admin(move |s| {
        s.audit(
            now,
            &p.name,
            "callbacks_viewed",
            &json!({"counter": p.counter, "status": q.status, "limit": limit}),
        )
    })
    .await?;
    let list = hub.read(move |s| s.callbacks(q.status, limit)).await?;
    Ok(Json(list.iter().map(callback_view).collect()))
}

pub async fn update_callback(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(req): Body<UpdateCallbackRequest>,
) -> ApiResult<Json<CallbackView>> {
    let p = caller.staff()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    hub.writer
        .update_callback(id, req.status, req.note, req.take, p.actor(), move |r| {
            let _ = tx.send(r);
        });
    let ex = rx.await.map_err(|_| ApiError::stopping())??;
    match ex.reply {
        Reply::Callback(cb) => {
            tracing::info!(id, by = %p.name, status = ?cb.status, "callback updated");
            Ok(Json(callback_view(&cb)))
        }
        other => Err(ApiError::unavailable(format!("unexpected reply {other:?}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Suggestions, kiosk status, alerts

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestionRequest {
    pub text: String,
    #[serde(default)]
    pub contact: Option<String>,
}

pub async fn suggestion(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<SuggestionRequest>,
) -> ApiResult<Response> {
    let p = caller
        .need(&[Role::Kiosk, Role::Display, Role::Staff, Role::Manager])?
        .clone();
    let text = req.text.trim().to_string();
    let n = text.chars().count();
    if n == 0 || n > MAX_SUGGESTION_CHARS {
        return Err(ApiError::bad_input(
            "bad_text",
            format!("a suggestion is 1–{MAX_SUGGESTION_CHARS} characters"),
        )
        .zh("意见内容应为1至500字"));
    }
    let contact = req
        .contact
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    // The kiosk promises a call back on this number: it must be one that can be called.
    let contact = match contact {
        Some(c) => Some(
            hallq_shared::hall::Phone::parse(&c)
                .map_err(|e| ApiError::bad_input("bad_phone", e.to_string()).zh(e.zh()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let now = (hub.clock)();
    let id = hub
        .admin(move |s| s.add_suggestion(now, &text, contact.as_deref(), &p.name))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    Ready,
    PaperLow,
    PaperOut,
    CoverOpen,
    Error,
    NoAnswer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskStatus {
    pub printer: PrinterState,
}

pub async fn kiosk_status(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<KioskStatus>,
) -> ApiResult<StatusCode> {
    let p = caller.need(&[Role::Kiosk])?;
    let now = (hub.clock)();
    let printer = serde_json::to_value(req.printer)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut printers = hub.printers.lock().unwrap_or_else(|p| p.into_inner());
    let changed = printers.get(&p.name).is_none_or(|r| r.printer != printer);
    if changed {
        tracing::info!(device = %p.name, printer = %printer, "kiosk printer status");
    }
    printers.insert(
        p.name.clone(),
        PrinterReport {
            device: p.name.clone(),
            printer,
            at: to_rfc3339(now),
            at_ms: now,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct Alerts {
    /// Kiosks whose printer needs a person (or that stopped reporting).
    pub printers: Vec<PrinterReport>,
    pub long_wait: Vec<hallq_shared::protocol::WaitingView>,
    pub outage: Option<hallq_shared::protocol::OutageView>,
    pub callbacks_pending: u32,
    pub last_outage: Option<EndedOutage>,
    /// Services whose new customers wait past the target, now or soon: the advice to open a
    /// counter (all services' figures are on `GET /staffing`).
    pub staffing: Vec<hallq_shared::staffing::Advice>,
    /// The hub's clock: `problem` when it is known to be wrong (see `clock_watch`).
    pub clock: super::clock_watch::ClockStatus,
    /// The data partition: `problem` when it is full or nearly so (see `storage`).
    pub storage: super::storage::StorageStatus,
    /// The business system is marked slow by staff, and the outage detector has seen it answer
    /// at its usual speed for a while: perhaps the mark was forgotten.
    pub slow_end_proposed: bool,
    /// While the business system is marked slow: the services since against before the mark.
    pub slow_pace: Option<hallq_shared::estimate::SlowPace>,
}

/// The last outage that ended and how many customers it left to call back. Counts and ids only:
/// the numbers themselves are read on the callback list, where every look is audited.
#[derive(Debug, Serialize)]
pub struct EndedOutage {
    pub id: i64,
    pub ended_at: chrono::DateTime<chrono::Utc>,
    /// Callbacks captured during it.
    pub callbacks_total: u32,
    /// Of those, the ones not resolved yet: the customers to call back now that business works.
    pub callbacks_open: u32,
    /// Their ids, so that the callback list can put them first.
    pub callback_ids: Vec<i64>,
}

pub async fn alerts(State(hub): State<AppState>, caller: Caller) -> ApiResult<Json<Alerts>> {
    caller.staff()?;
    let now = (hub.clock)();
    let printers = hub
        .printers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .filter_map(|r| {
            if now - r.at_ms > PRINTER_REPORT_STALE_MS {
                Some(PrinterReport {
                    printer: "no_answer".into(),
                    ..r.clone()
                })
            } else if r.printer != "ready" {
                Some(r.clone())
            } else {
                None
            }
        })
        .collect();
    let live = hub.snapshot().live;
    let slow_end_proposed =
        live.slow_since.is_some() && super::probe::status(&hub).slow_end_proposed;
    let slow_pace = hub
        .writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .slow_pace();
    let (pending, last) = hub
        .read(|s| {
            let pending = s.pending_callbacks()?;
            let last = match s.last_ended_outage()? {
                Some((id, at)) => Some((id, at, s.callbacks_of_outage(id)?)),
                None => None,
            };
            Ok((pending, last))
        })
        .await?;
    Ok(Json(Alerts {
        printers,
        long_wait: live.waiting.into_iter().filter(|w| w.long_wait).collect(),
        outage: live.outage,
        callbacks_pending: pending,
        last_outage: last.map(|(id, at, cbs)| EndedOutage {
            id,
            ended_at: to_rfc3339(at),
            callbacks_total: cbs.len() as u32,
            callbacks_open: cbs
                .iter()
                .filter(|c| c.status != CallbackStatus::Resolved)
                .count() as u32,
            callback_ids: cbs.iter().map(|c| c.id).collect(),
        }),
        staffing: super::staffing::needing_attention(super::staffing::advice(&hub)),
        clock: super::clock_watch::status(&hub),
        storage: super::storage::status(&hub),
        slow_end_proposed,
        slow_pace,
    }))
}

// ---------------------------------------------------------------------------------------------
// Configuration (manager)

pub async fn get_config(
    State(hub): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<HallConfig>> {
    caller.need(&[Role::Manager])?;
    Ok(Json(
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .clone(),
    ))
}

pub async fn put_config(
    State(hub): State<AppState>,
    caller: Caller,
    Body(config): Body<HallConfig>,
) -> ApiResult<Json<HallConfig>> {
    let p = caller.need(&[Role::Manager])?;
    hub.exec(
        Command::ReplaceConfig {
            config: Box::new(config),
        },
        p.actor(),
    )
    .await?;
    tracing::info!(by = %p.name, "configuration replaced");
    Ok(Json(
        hub.writer
            .hall()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .clone(),
    ))
}
