//! The hall manager's routes — the published configuration with its audit trail, staff accounts and
//! device tokens, the audit log, period reports (JSON and CSV) — and the public customer rating a
//! counter tablet sends after a finished visit.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use hallq_shared::config::HallConfig;
use hallq_shared::engine::Command;
use hallq_shared::hall::time::to_rfc3339;
use hallq_shared::hall::{CounterId, Millis, TicketState};
use hallq_shared::protocol::Role;
use hallq_shared::report::{Period, Report, Satisfaction};
use hallq_shared::store::RatingError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::{self, Caller};
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Path, Query};
use super::state::AppState;

/// A finished visit can be rated for this long after the clerk pressed "finish".
pub const RATING_WINDOW_MS: Millis = 3 * 60_000;
/// Ratings accepted per counter per minute: a tablet is one customer at a time.
const RATINGS_PER_COUNTER_PER_MINUTE: usize = 6;
/// Shortest new password.
const MIN_PASSWORD_CHARS: usize = 8;
/// Most audit rows one request returns.
const MAX_AUDIT_ROWS: u32 = 1000;

// ---------------------------------------------------------------------------------------------
// Configuration with audit

/// Replace the hall configuration: validated by the engine (400 `bad_config`, 409 when tickets or
/// counters still use what would go), committed through the writer so the board gets a fresh
/// snapshot, and audited with the sections that changed, before and after.
pub async fn put_config(
    State(hub): State<AppState>,
    caller: Caller,
    Body(config): Body<HallConfig>,
) -> ApiResult<Json<HallConfig>> {
    let p = caller.need(&[Role::Manager])?.clone();
    let before = current_config(&hub);
    hub.exec(
        Command::ReplaceConfig {
            config: Box::new(config),
        },
        p.actor(),
    )
    .await
    .map_err(|e| {
        if e.code == "bad_config" {
            let m = e.message.clone();
            e.zh(format!("配置未保存:{}", config_message_zh(&m)))
        } else {
            e
        }
    })?;
    let after = current_config(&hub);
    let detail = config_changes(&before, &after);
    let now = (hub.clock)();
    let who = p.name.clone();
    hub.admin(move |s| s.audit(now, &who, "config_replaced", &detail))
        .await?;
    tracing::info!(by = %p.name, "configuration replaced");
    Ok(Json(after))
}

fn current_config(hub: &AppState) -> HallConfig {
    hub.writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .config
        .clone()
}

/// The top-level sections that differ: `{"changed": [...], "before": {...}, "after": {...}}`.
pub fn config_changes(before: &HallConfig, after: &HallConfig) -> Value {
    let b = serde_json::to_value(before).unwrap_or(Value::Null);
    let a = serde_json::to_value(after).unwrap_or(Value::Null);
    let (mut changed, mut bm, mut am) =
        (Vec::new(), serde_json::Map::new(), serde_json::Map::new());
    if let (Value::Object(b), Value::Object(a)) = (&b, &a) {
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            if b.get(k) != a.get(k) {
                changed.push(Value::String(k.clone()));
                bm.insert(k.clone(), b.get(k).cloned().unwrap_or(Value::Null));
                am.insert(k.clone(), a.get(k).cloned().unwrap_or(Value::Null));
            }
        }
    }
    json!({"changed": changed, "before": bm, "after": am})
}

/// The validator speaks English; the manager reads Chinese first. Every message of
/// `HallConfig::validate` is put in Chinese, naming the service or counter; the English follows.
pub fn config_message_zh(m: &str) -> String {
    // The service id or counter number right after `prefix`, without quotes or a colon.
    let after = |prefix: &str| -> String {
        m.strip_prefix(prefix)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("")
            .trim_matches(|c| c == '"' || c == ':')
            .to_string()
    };
    let zh = if m.contains("the hall's Chinese name is empty") {
        "营业厅中文名称不能为空".to_string()
    } else if m.starts_with("unknown time zone") {
        "时区不正确(例如Asia/Shanghai)".to_string()
    } else if m.starts_with("business hours") {
        "营业时间应满足:开门 < 停止取号 ≤ 关门".to_string()
    } else if m.starts_with("at least one service") {
        "至少需要一项业务".to_string()
    } else if m.starts_with("service id") && m.contains("appears twice") {
        format!("业务代码“{}”重复", after("service id "))
    } else if m.starts_with("service id") {
        format!(
            "业务代码“{}”只能由1至32个字母、数字、“-”“_”组成",
            after("service id ")
        )
    } else if m.contains("must be one capital letter") {
        format!(
            "业务“{}”的号码字母必须是一个大写英文字母",
            after("service ")
        )
    } else if m.starts_with("service ") && m.contains("Chinese name is empty") {
        format!("业务“{}”的中文名称不能为空", after("service "))
    } else if m.starts_with("service ") && m.contains("usual_minutes") {
        format!(
            "业务“{}”的通常办理时长应为1至{}分钟",
            after("service "),
            hallq_shared::hall::MAX_USUAL_MINUTES
        )
    } else if m.starts_with("ticket prefix") {
        format!("号码字母{}被两项业务同时使用", after("ticket prefix "))
    } else if m.starts_with("counter id") {
        "窗口编号应为1至999".to_string()
    } else if m.starts_with("counter ") && m.contains("appears twice") {
        format!("窗口编号{}重复", after("counter "))
    } else if m.starts_with("counter ") && m.contains("Chinese name is empty") {
        format!("{}号窗口的中文名称不能为空", after("counter "))
    } else if m.starts_with("counter ") && m.contains("serves unknown service") {
        format!("{}号窗口办理的业务不存在", after("counter "))
    } else if m.starts_with("probe address") {
        "故障探测地址应为 tcp://主机:端口 或 http://主机:端口/路径".to_string()
    } else if m.starts_with("probe slow_ms") {
        "故障探测的响应缓慢阈值 slow_ms 应为1至4999毫秒(每次探测最多等待5秒)".to_string()
    } else if m.starts_with("probe ") && m.contains("at most") {
        "故障探测的间隔最多86400秒、失败次数最多1000次、预计时长最多1440分钟".to_string()
    } else if m.starts_with("thresholds ") {
        format!("时间阈值{}最多为1440分钟(一天)", after("thresholds "))
    } else if m.starts_with("policy ") {
        "估算样本数最多1000,保留天数最多36500天".to_string()
    } else if m.starts_with("probe ") {
        "故障探测的间隔、失败次数和预计时长至少为1".to_string()
    } else if m.starts_with("voice volume") {
        "音量应为0至100".to_string()
    } else {
        return m.to_string();
    };
    format!("{zh}({m})")
}

// ---------------------------------------------------------------------------------------------
// Accounts and devices

#[derive(Debug, Serialize)]
pub struct AccountView {
    pub login: String,
    pub role: String,
    pub disabled: bool,
}

pub async fn accounts(
    State(hub): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountView>>> {
    caller.need(&[Role::Manager])?;
    let list = hub.read(|s| s.accounts()).await?;
    Ok(Json(
        list.into_iter()
            .map(|(login, role, disabled)| AccountView {
                login,
                role,
                disabled,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub login: String,
    pub role: Role,
    pub password: String,
}

/// Logins and device names: letters, digits, `.`, `_`, `-`; 1–32 characters.
fn check_name(name: &str, what_zh: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "bad_name",
            format!("{name:?}: use 1–32 letters, digits, '.', '_' or '-'"),
        )
        .zh(format!("{what_zh}只能由1至32个字母、数字、“.”“_”“-”组成")))
    }
}

pub async fn add_account(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<NewAccount>,
) -> ApiResult<Response> {
    let p = caller.need(&[Role::Manager])?.clone();
    let login = req.login.trim().to_string();
    check_name(&login, "账号")?;
    if !matches!(req.role, Role::Staff | Role::Manager) {
        return Err(
            ApiError::bad_input("bad_role", "an account is staff or manager")
                .zh("账号角色只能是员工或经理"),
        );
    }
    let n = req.password.chars().count();
    if !(MIN_PASSWORD_CHARS..=256).contains(&n) {
        return Err(ApiError::bad_input(
            "weak_password",
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        )
        .zh(format!("密码至少需要{MIN_PASSWORD_CHARS}个字符")));
    }
    let password = req.password;
    let hash = auth::password_work(move || auth::hash_password(&password))
        .await?
        .map_err(ApiError::unavailable)?;
    let role = auth::role_str(req.role);
    let now = (hub.clock)();
    {
        let login = login.clone();
        hub.admin(move |s| {
            let existed = s.accounts()?.iter().any(|(l, _, _)| *l == login);
            s.add_account(&login, role, &hash, now)?;
            s.audit(
                now,
                &p.name,
                if existed {
                    "account_replaced"
                } else {
                    "account_added"
                },
                &json!({"login": login, "role": role}),
            )
        })
        .await?;
    }
    // A replaced password ends the sessions signed in with the old one.
    hub.auth.forget_login(&login);
    Ok((
        StatusCode::CREATED,
        Json(AccountView {
            login,
            role: role.to_string(),
            disabled: false,
        }),
    )
        .into_response())
}

pub async fn disable_account(
    State(hub): State<AppState>,
    caller: Caller,
    Path(login): Path<String>,
) -> ApiResult<StatusCode> {
    let p = caller.need(&[Role::Manager])?.clone();
    if login == p.name {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "you cannot disable the account you are signed in with",
        )
        .zh("不能停用当前登录的账号"));
    }
    let now = (hub.clock)();
    let found = {
        let login = login.clone();
        hub.admin(move |s| {
            let found = s.disable_account(&login)?;
            if found {
                s.audit(now, &p.name, "account_disabled", &json!({"login": login}))?;
            }
            Ok(found)
        })
        .await?
    };
    if !found {
        return Err(
            ApiError::not_found("unknown_account", format!("no account {login:?}"))
                .zh("没有这个账号"),
        );
    }
    hub.auth.forget_login(&login);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub name: String,
    pub role: String,
    /// The counter a rating tablet is bound to.
    pub counter: Option<CounterId>,
    pub revoked: bool,
}

pub async fn devices(
    State(hub): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<DeviceView>>> {
    caller.need(&[Role::Manager])?;
    let list = hub.read(|s| s.device_list()).await?;
    Ok(Json(
        list.into_iter()
            .map(|(name, role, counter, revoked)| DeviceView {
                name,
                role,
                counter,
                revoked,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub name: String,
    pub role: Role,
    /// The counter a rating tablet stands at (tablets only).
    #[serde(default)]
    pub counter: Option<CounterId>,
}

/// A new device token, shown this once: only its hash is kept. A rating tablet is bound to one
/// counter: its token rates that counter's visits and does nothing else.
pub async fn add_device(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<NewDevice>,
) -> ApiResult<Response> {
    let p = caller.need(&[Role::Manager])?.clone();
    let name = req.name.trim().to_string();
    check_name(&name, "设备名称")?;
    if !matches!(req.role, Role::Kiosk | Role::Display | Role::Tablet) {
        return Err(ApiError::bad_input(
            "bad_role",
            "a device is a kiosk, a display or a rating tablet",
        )
        .zh("设备类型只能是取号机、显示屏或评价器"));
    }
    let counter = match (req.role, req.counter) {
        (Role::Tablet, Some(c)) => {
            if current_config(&hub).counter(c).is_none() {
                return Err(
                    ApiError::not_found("unknown_counter", format!("no counter {c}"))
                        .zh("没有这个窗口"),
                );
            }
            Some(c)
        }
        (Role::Tablet, None) => {
            return Err(ApiError::bad_input(
                "counter_required",
                "a rating tablet is bound to one counter: give \"counter\"",
            )
            .zh("请选择评价器所在的窗口"));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                "bad_counter",
                "only a rating tablet is bound to a counter",
            )
            .zh("只有评价器需要选择窗口"));
        }
        (_, None) => None,
    };
    let role = auth::role_str(req.role);
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let now = (hub.clock)();
    {
        let name = name.clone();
        hub.admin(move |s| {
            s.add_device_at(&name, role, counter, &hash, now)?;
            s.audit(
                now,
                &p.name,
                "device_added",
                &json!({"device": name, "role": role, "counter": counter}),
            )
        })
        .await?;
    }
    // The old token of a re-issued device stops working at once.
    hub.auth.forget_login(&name);
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "role": role, "counter": counter, "token": token})),
    )
        .into_response())
}

pub async fn revoke_device(
    State(hub): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let p = caller.need(&[Role::Manager])?.clone();
    let now = (hub.clock)();
    let found = {
        let name = name.clone();
        hub.admin(move |s| {
            let found = s.revoke_device(&name)?;
            if found {
                s.audit(now, &p.name, "device_revoked", &json!({"device": name}))?;
            }
            Ok(found)
        })
        .await?
    };
    if !found {
        return Err(
            ApiError::not_found("unknown_device", format!("no device {name:?}")).zh("没有这个设备"),
        );
    }
    hub.auth.forget_login(&name);
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct AuditRow {
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub detail: Value,
}

pub async fn audit(
    State(hub): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRow>>> {
    caller.need(&[Role::Manager])?;
    let limit = q.limit.unwrap_or(200).clamp(1, MAX_AUDIT_ROWS);
    let rows = hub.read(move |s| s.audit_log(limit)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(at, actor, action, detail)| AuditRow {
                at: to_rfc3339(at),
                actor,
                action,
                detail,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub period: PeriodKind,
    /// A day of the period, `YYYY-MM-DD`; today (the hall's business day) when absent.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub format: ReportFormat,
}

/// The period a report query asks for (`today` when it gives no date). A date that is not one, or
/// is outside [`Period::FIRST_DAY`]..=[`Period::LAST_DAY`], is a 400: near the calendar's limits
/// a week or a month cannot be computed.
pub fn report_period(q: &ReportQuery, today: NaiveDate) -> ApiResult<Period> {
    let day = match q.date.as_deref() {
        None | Some("") => today,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_input("bad_date", format!("{s:?} is not a date (YYYY-MM-DD)"))
                .zh("日期格式不正确(例如2026-11-25)")
        })?,
    };
    let period = match q.period {
        PeriodKind::Day => Period::in_range(day).then(|| Period::day(day)),
        PeriodKind::Week => Period::week(day),
        PeriodKind::Month => Period::month(day),
    };
    period.ok_or_else(|| {
        ApiError::bad_input(
            "date_out_of_range",
            format!(
                "{day} is outside the dates reports cover ({} to {})",
                Period::FIRST_DAY,
                Period::LAST_DAY
            ),
        )
        .zh("日期超出报表范围(1970-01-01至9999-12-31)")
    })
}

pub async fn report(
    State(hub): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    caller.need(&[Role::Manager])?;
    let now = hub.now();
    let period = report_period(&q, now.day)?;
    let config = current_config(&hub);
    // An outage going on counts up to now, as the hall lives it.
    let report: Report = hub
        .read(move |s| s.report_as_of(period, &config, now.at))
        .await?;
    match q.format {
        ReportFormat::Json => Ok(Json(report).into_response()),
        ReportFormat::Csv => {
            let mut bytes = Vec::new();
            report
                .to_csv(&mut bytes)
                .map_err(|e| ApiError::unavailable(format!("csv: {e}")))?;
            let kind = match q.period {
                PeriodKind::Day => "day",
                PeriodKind::Week => "week",
                PeriodKind::Month => "month",
            };
            let file = format!("hallq-report-{kind}-{}.csv", period.from.format("%Y-%m-%d"));
            let mut r = bytes.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(r)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Customer ratings (public: the counter tablet has no account)

/// The visit a counter's tablet may ask about: its most recently finished ticket, if that finished
/// within [`RATING_WINDOW_MS`].
fn ratable_ticket(
    hub: &AppState,
    counter: CounterId,
) -> ApiResult<Option<(NaiveDate, String, Millis)>> {
    let now = (hub.clock)();
    let hall = hub.writer.hall().read().unwrap_or_else(|p| p.into_inner());
    if hall.config.counter(counter).is_none() {
        return Err(
            ApiError::not_found("unknown_counter", format!("no counter {counter}"))
                .zh("没有这个窗口"),
        );
    }
    Ok(hall
        .tickets
        .values()
        .filter(|t| t.state == TicketState::Finished && t.counter == Some(counter))
        .filter_map(|t| t.finished_at.map(|f| (t, f)))
        .max_by_key(|(_, f)| *f)
        .filter(|(_, f)| now - f <= RATING_WINDOW_MS && *f <= now)
        .map(|(t, f)| (t.day, t.number.clone(), f)))
}

#[derive(Debug, Serialize)]
pub struct RatingPrompt {
    pub counter: CounterId,
    /// Ask the customer now.
    pub prompt: bool,
    /// When the visit to rate finished (distinguishes one visit from the next; not the number).
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds left to rate it.
    pub expires_in_s: u32,
}

pub async fn rating_prompt(
    State(hub): State<AppState>,
    Path(counter): Path<CounterId>,
) -> ApiResult<Json<RatingPrompt>> {
    let now = (hub.clock)();
    let Some((day, number, finished)) = ratable_ticket(&hub, counter)? else {
        return Ok(Json(RatingPrompt {
            counter,
            prompt: false,
            finished_at: None,
            expires_in_s: 0,
        }));
    };
    let rated = hub.read(move |s| s.rating(day, &number)).await?.is_some();
    Ok(Json(RatingPrompt {
        counter,
        prompt: !rated,
        finished_at: (!rated).then(|| to_rfc3339(finished)),
        expires_in_s: if rated {
            0
        } else {
            ((finished + RATING_WINDOW_MS - now).max(0) / 1000) as u32
        },
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    pub counter: CounterId,
    /// 5 非常满意 … 1 非常不满意.
    pub score: u8,
    /// The visit the tablet asked about (the prompt's `finished_at`): a rating never lands on a
    /// later visit that the customer did not see.
    #[serde(default)]
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Recent ratings per (hall database, counter): kept beside the hub, so that one process may run
/// several hubs (tests) without their tablets sharing a limit.
type RatingTimes = Mutex<HashMap<(PathBuf, CounterId), VecDeque<Millis>>>;

fn rating_limits() -> &'static RatingTimes {
    static LIMITS: OnceLock<RatingTimes> = OnceLock::new();
    LIMITS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn rating_rate_limit(hub: &AppState, counter: CounterId) -> ApiResult<()> {
    let now = (hub.clock)();
    let mut all = rating_limits().lock().unwrap_or_else(|p| p.into_inner());
    let q = all.entry((hub.db.clone(), counter)).or_default();
    q.retain(|t| now - t < 60_000 && *t <= now);
    if q.len() >= RATINGS_PER_COUNTER_PER_MINUTE {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many ratings from this counter: wait a minute",
        )
        .zh("评价过于频繁,请稍后再试"));
    }
    q.push_back(now);
    Ok(())
}

/// Route guard of `POST /ratings`: only a rating tablet's token passes (before the body is read),
/// and the refusal says how to pair one. The clerk being rated, whose PC sits beside the tablet,
/// must not be able to rate the visit before the customer does.
pub async fn tablet_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let role = req
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.0.as_ref())
        .map(|p| p.role);
    match role {
        Some(Role::Tablet) => next.run(req).await,
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "tablet_not_paired",
            "ratings come from the counter's rating tablet: pair it with a tablet token from the manager page (devices)",
        )
        .zh("评价器尚未配对:请大厅经理在管理页面“设备”中为本窗口添加评价器")
        .into_response(),
        Some(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_tablet",
            "only the counter's rating tablet may send a rating",
        )
        .zh("只有窗口的评价器可以提交评价")
        .into_response(),
    }
}

/// Rate the counter's just-finished visit: anonymous, optional, one rating per ticket, sent by
/// the rating tablet bound to that counter.
pub async fn rate(
    State(hub): State<AppState>,
    caller: Caller,
    Body(req): Body<RatingRequest>,
) -> ApiResult<Response> {
    let tablet = caller.need(&[Role::Tablet])?;
    if tablet.counter != Some(req.counter) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "other_counter",
            match tablet.counter {
                Some(c) => format!("this tablet rates counter {c}, not {}", req.counter),
                None => "this tablet is bound to no counter: issue it again".to_string(),
            },
        )
        .zh("本评价器不属于这个窗口"));
    }
    let score = Satisfaction::from_score(req.score).ok_or_else(|| {
        ApiError::bad_input(
            "bad_score",
            "score is 1 (very dissatisfied) to 5 (very satisfied)",
        )
        .zh("评价等级应为1至5")
    })?;
    let counter = req.counter;
    let Some((day, number, finished)) = ratable_ticket(&hub, counter)? else {
        return Err(no_visit_to_rate());
    };
    if req
        .finished_at
        .is_some_and(|f| f.timestamp_millis() != finished)
    {
        return Err(no_visit_to_rate());
    }
    rating_rate_limit(&hub, counter)?;
    let now = (hub.clock)();
    let kept = hub
        .admin(move |s| Ok(s.add_rating(day, &number, Some(counter), score, now)))
        .await?;
    match kept {
        Ok(()) => {
            tracing::info!(counter, score = score.score(), "customer rating kept");
            Ok((
                StatusCode::CREATED,
                Json(json!({"counter": counter, "score": score.score(), "label_zh": score.zh(), "label_en": score.en()})),
            )
                .into_response())
        }
        Err(RatingError::Store(e)) => Err(ApiError::unavailable(e)),
        Err(RatingError::AlreadyRated { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_rated",
            "this visit has already been rated: one rating per visit",
        )
        .zh("本次服务已评价,感谢您的支持")),
        Err(_) => Err(no_visit_to_rate()),
    }
}

fn no_visit_to_rate() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "nothing_to_rate",
        "no visit finished at this counter in the last few minutes",
    )
    .zh("该窗口暂无可评价的服务")
}

/// `/rate/{counter}`: the counter tablet's page (the counter is read by the page from its address).
pub async fn rate_page(Path(_counter): Path<String>) -> Response {
    super::pages::staff_asset(Path("rate.html".to_string())).await
}
