//! Head office's pages and the JSON behind them: sign-in with an operator account (a session
//! cookie), the halls now, the league table by day, week or month, and its CSV. The pages are
//! rendered here, as plain HTML, so that they work without scripts (the halls page's renewal is the
//! one script, [`HALLS_SCRIPT`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Form;
use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use hallq_shared::config::HallConfig;
use hallq_shared::report::Period;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{burn_password_time, new_secret, sha256_hex, verify_password};
use crate::error::ApiError;
use crate::rollup::League;
use crate::store::HallNow;
use crate::{AppState, STALE_AFTER_S};

const COOKIE_NAME: &str = "hallq_central_session";
const SESSION_HOURS: i64 = 12;

/// Failed sign-ins of one account before it is refused for a while: enough for typing errors,
/// too few for guessing.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins per account name, in memory (a restart forgives them, as the hub's do).
#[derive(Debug, Default)]
pub struct Failures {
    by_login: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Failures {
    fn blocked(&self, login: &str) -> bool {
        let Ok(mut m) = self.by_login.lock() else {
            return false;
        };
        m.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        m.get(login).is_some_and(|(n, _)| *n >= MAX_FAILURES)
    }

    fn failed(&self, login: &str) {
        if let Ok(mut m) = self.by_login.lock() {
            // Bounded: a flood of invented names forgets the oldest rather than growing.
            if m.len() > 10_000 {
                m.clear();
            }
            let e = m.entry(login.to_string()).or_insert((0, Instant::now()));
            e.0 += 1;
        }
    }

    fn succeeded(&self, login: &str) {
        if let Ok(mut m) = self.by_login.lock() {
            m.remove(login);
        }
    }
}

/// The session token of a request, from its cookie.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The operator signed in on this request.
pub(crate) async fn operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    match session_token(headers) {
        Some(t) => Ok(state.store.session_operator(&sha256_hex(&t)).await?),
        None => Ok(None),
    }
}

pub(crate) async fn require_operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    operator(state, headers)
        .await?
        .ok_or_else(|| ApiError::unauthorized("sign in first"))
}

// ---- the halls now ----

/// A hall now, as the page and `GET /api/v1/halls` show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HallNowView {
    pub hall: String,
    pub revoked: bool,
    pub last_contact: Option<DateTime<Utc>>,
    pub seconds_since_contact: Option<i64>,
    /// No contact for five minutes (or never).
    pub stale: bool,
    pub hub_version: Option<String>,
    pub day: Option<String>,
    pub waiting: Option<i64>,
    pub long_waits: Vec<String>,
    pub outage: bool,
    /// Since when the hall's business system is marked slow (by its staff or its outage detector).
    pub slow_since: Option<DateTime<Utc>>,
    pub callbacks_open: Option<i64>,
    pub events_stored: i64,
    pub stored_through: i64,
    pub group: Option<String>,
    /// The published version the hall reports running (`status.config_version`).
    pub config_version: Option<i64>,
    /// The latest published version that applies to the hall.
    pub published_latest: Option<i64>,
    /// A version applies to the hall that it does not report running yet.
    pub published_behind: bool,
}

impl HallNowView {
    fn of(h: HallNow, now: DateTime<Utc>) -> HallNowView {
        let since = h.last_contact.map(|t| (now - t).num_seconds().max(0));
        let s = h.status.unwrap_or(Value::Null);
        // The hub's status carries it as a number or as a string of digits.
        let config_version = s.get("config_version").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
        });
        HallNowView {
            group: h.group,
            config_version,
            published_latest: h.published_latest,
            published_behind: h
                .published_latest
                .is_some_and(|latest| config_version.is_none_or(|v| v < latest)),
            hall: h.name,
            revoked: h.revoked,
            last_contact: h.last_contact,
            seconds_since_contact: since,
            stale: since.is_none_or(|s| s > STALE_AFTER_S),
            hub_version: h.hub_version,
            day: s.get("day").and_then(Value::as_str).map(str::to_string),
            waiting: s.get("waiting").and_then(Value::as_i64),
            long_waits: s
                .get("long_waits")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            outage: s.get("outage").is_some_and(|o| !o.is_null()),
            slow_since: s
                .get("slow_since")
                .and_then(Value::as_i64)
                .and_then(DateTime::from_timestamp_millis),
            callbacks_open: s.get("callbacks_open").and_then(Value::as_i64),
            events_stored: h.events_stored,
            stored_through: h.stored_through,
        }
    }
}

async fn halls_now(state: &AppState) -> Result<Vec<HallNowView>, ApiError> {
    let now = Utc::now();
    Ok(state
        .store
        .halls_now()
        .await?
        .into_iter()
        .map(|h| HallNowView::of(h, now))
        .collect())
}

pub async fn api_halls(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<HallNowView>>, ApiError> {
    require_operator(&state, &headers).await?;
    Ok(Json(halls_now(&state).await?))
}

// ---- the league table ----

#[derive(Debug, Default, Deserialize)]
pub struct LeagueQuery {
    /// `day`, `week` (Monday to Sunday) or `month`.
    #[serde(default)]
    pub period: Option<String>,
    /// Any day of the period, `YYYY-MM-DD`; today in the halls' time zone when absent.
    #[serde(default)]
    pub date: Option<String>,
}

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&HallConfig::demo().time_zone())
        .date_naive()
}

impl LeagueQuery {
    fn resolve(&self) -> Result<(String, NaiveDate, Period), ApiError> {
        let date = match self.date.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_input("bad_date", "date: YYYY-MM-DD"))?,
            None => today(),
        };
        let kind = self.period.as_deref().unwrap_or("week");
        let period = match kind {
            "day" if Period::in_range(date) => Some(Period::day(date)),
            "week" => Period::week(date),
            "month" => Period::month(date),
            "day" => None,
            _ => {
                return Err(ApiError::bad_input(
                    "bad_period",
                    "period: day, week or month",
                ));
            }
        }
        .ok_or_else(|| ApiError::bad_input("bad_date", "the date is out of range"))?;
        Ok((kind.to_string(), date, period))
    }
}

async fn league(state: &AppState, period: Period) -> Result<League, ApiError> {
    let (halls, days) = state.store.league_days(period).await?;
    let (pending, as_of) = state.store.rollups_pending(period).await?;
    let mut table = League::build(period, &halls, &days);
    table.freshness.days_pending = pending;
    table.freshness.as_of = Some(as_of);
    Ok(table)
}

pub async fn api_league(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LeagueQuery>, QueryRejection>,
) -> Result<Json<League>, ApiError> {
    require_operator(&state, &headers).await?;
    let Query(q) = q?;
    let (_, _, period) = q.resolve()?;
    Ok(Json(league(&state, period).await?))
}

pub async fn league_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LeagueQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_operator(&state, &headers).await?;
    let Query(q) = q?;
    let (_, _, period) = q.resolve()?;
    let table = league(&state, period).await?;
    let name = format!("hallq-league-{}-{}.csv", period.from, period.to);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        table.csv(),
    )
        .into_response())
}

// ---- pages ----

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) const STYLE: &str = "
body { font-family: 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif; margin: 0; background: #f4f6fa; color: #1d2939; }
header { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: #1f4e8c; color: #fff; }
header h1 { font-size: 19px; margin: 0; }
header a { color: #fff; text-decoration: none; font-weight: 600; padding: 4px 8px; border-radius: 6px; }
header a.on { background: rgba(255,255,255,.2); }
header form { margin-left: auto; }
main { padding: 16px 20px; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 14px; }
th, td { border: 1px solid #d0d5dd; padding: 6px 8px; text-align: right; }
th { background: #eef2f8; }
td.name, th.name { text-align: left; font-weight: 600; }
td.left, th.left { text-align: left; }
tr.stale td { color: #98a2b3; }
tr.overdue td { background: #fff6f5; }
.bad { color: #b42318; font-weight: 700; }
.good { color: #067647; font-weight: 700; }
.tag { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; }
.tag.bad { background: #fee4e2; } .tag.good { background: #dcfae6; } .tag.muted { background: #eaecf0; color: #475467; }
.bar { display: flex; gap: 10px; align-items: center; margin-bottom: 12px; }
.bar select, .bar input, .bar button, .bar a { font: inherit; padding: 5px 10px; }
.signin { max-width: 340px; margin: 80px auto; background: #fff; padding: 24px; border-radius: 10px; border: 1px solid #d0d5dd; }
.signin label { display: block; margin: 10px 0 4px; font-weight: 600; }
.signin input { width: 100%; box-sizing: border-box; font: inherit; padding: 7px; }
.signin button { margin-top: 16px; width: 100%; font: inherit; padding: 8px; background: #1f4e8c; color: #fff; border: 0; border-radius: 6px; }
.error { color: #b42318; font-weight: 600; }
.note { color: #667085; font-size: 13px; }
.alert { background: #fee4e2; color: #b42318; font-weight: 700; padding: 8px 12px; border-radius: 8px; border: 1px solid #fda29b; }
.ok { color: #067647; font-weight: 600; }
h2 { font-size: 16px; margin: 22px 0 8px; }
textarea { width: 100%; box-sizing: border-box; font: 13px/1.45 'Noto Sans Mono CJK SC', monospace; padding: 8px; border: 1px solid #d0d5dd; border-radius: 6px; }
pre { white-space: pre-wrap; font-size: 12px; margin: 6px 0 0; text-align: left; }
details summary { cursor: pointer; color: #1f4e8c; }
";

pub(crate) fn page(title: &str, nav: Option<(&str, &str)>, body: &str) -> Html<String> {
    page_with_head(title, nav, "", body)
}

static HALLS_POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How often the halls page renews itself: head office keeps it open on a wall or a second
/// screen, and a hall that loses touch or a business system that fails must show without anyone
/// pressing reload.
pub const HALLS_REFRESH_S: u32 = 30;

/// The halls page's one script, the only one central serves (allowed by its hash, so nothing
/// else can run). Every [`HALLS_REFRESH_S`] it fetches the page again and puts the new `main` and
/// title in place. The browser's own refresh (`<meta http-equiv="refresh">`, kept for a browser
/// without scripts) would do the same until the one reload that found central restarting or the
/// network down: the browser's error page then stays on the wall for good. Here the last table
/// stays, says since when it could not be renewed, and is renewed at the first answer. A
/// redirect (the session ended) is followed to the sign-in page.
pub const HALLS_SCRIPT: &str = concat!(
    "addEventListener(\"DOMContentLoaded\", () => {\n",
    "  const every = Number(document.getElementById(\"refreshed\").dataset.everyS) * 1000;\n",
    "  let since = null;\n",
    "  const clock = () => new Date().toLocaleTimeString(\"zh-CN\", { timeZone: \"Asia/Shanghai\", hour12: false });\n",
    "  const failed = (why) => {\n",
    "    since = since || clock();\n",
    "    let note = document.getElementById(\"central-lost\");\n",
    "    if (!note) {\n",
    "      note = document.createElement(\"p\");\n",
    "      note.id = \"central-lost\";\n",
    "      note.className = \"alert\";\n",
    "      document.querySelector(\"main\").prepend(note);\n",
    "    }\n",
    "    note.textContent = `本页自 ${since}（北京时间）起未能更新：${why}。下面是当时的情况，恢复后自动更新。`;\n",
    "    if (!document.title.startsWith(\"【本页未能更新】\")) document.title = \"【本页未能更新】\" + document.title;\n",
    "  };\n",
    "  const renew = async () => {\n",
    "    try {\n",
    "      const r = await fetch(location.href, { cache: \"no-store\", credentials: \"same-origin\" });\n",
    "      if (r.redirected) return location.assign(r.url);\n",
    "      if (!r.ok) failed(`总部服务器出错（HTTP ${r.status}）`);\n",
    "      else {\n",
    "        const page = new DOMParser().parseFromString(await r.text(), \"text/html\");\n",
    "        const main = page.querySelector(\"main\");\n",
    "        if (!main || !main.querySelector(\"#halls\")) failed(\"总部服务器的回答不是本页\");\n",
    "        else {\n",
    "          since = null;\n",
    "          document.title = page.title;\n",
    "          document.querySelector(\"main\").replaceWith(document.adoptNode(main));\n",
    "        }\n",
    "      }\n",
    "    } catch {\n",
    "      failed(\"连不上总部服务器\");\n",
    "    }\n",
    "    setTimeout(renew, every);\n",
    "  };\n",
    "  setTimeout(renew, every);\n",
    "});\n",
);

/// The halls page's Content-Security-Policy: central's usual one, with [`HALLS_SCRIPT`] allowed
/// by its SHA-256 and fetches to central itself.
pub fn halls_policy() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(HALLS_SCRIPT.as_bytes()));
    format!(
        "{}; script-src 'sha256-{hash}'; connect-src 'self'",
        crate::PAGE_POLICY
    )
}

fn page_with_head(
    title: &str,
    nav: Option<(&str, &str)>,
    extra_head: &str,
    body: &str,
) -> Html<String> {
    let header = match nav {
        Some((on, who)) => format!(
            "<header><h1>hallq 总部</h1>\
             <a href=\"/\" class=\"{}\">营业厅实况</a>\
             <a href=\"/league\" class=\"{}\">营业厅排名</a>\
             <a href=\"/callbacks\" class=\"{}\">回访跟踪</a>\
             <a href=\"/publish\" class=\"{}\">统一发布</a>\
             <form method=\"post\" action=\"/signout\"><span>{}</span> \
             <button type=\"submit\">退出</button></form></header>",
            if on == "halls" { "on" } else { "" },
            if on == "league" { "on" } else { "" },
            if on == "callbacks" { "on" } else { "" },
            if on == "publish" { "on" } else { "" },
            esc(who)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · hallq 总部</title>{extra_head}<style>{STYLE}</style></head>\
         <body>{header}<main>{body}</main></body></html>",
        esc(title)
    ))
}

pub(crate) fn no_store(html: Html<String>) -> Response {
    ([(CACHE_CONTROL, "no-store")], html).into_response()
}

pub(crate) fn ago(s: Option<i64>) -> String {
    match s {
        None => "从未联系".into(),
        Some(s) if s < 60 => format!("{s} 秒前"),
        Some(s) if s < 3600 => format!("{} 分钟前", s / 60),
        Some(s) if s < 86_400 => format!("{} 小时前", s / 3600),
        Some(s) => format!("{} 天前", s / 86_400),
    }
}

pub async fn halls_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let halls = halls_now(&state).await?;
    let mut rows = String::new();
    for h in &halls {
        let state_tag = if h.revoked {
            "<span class=\"tag muted\">已停用</span>"
        } else if h.stale {
            "<span class=\"tag bad\">失联</span>"
        } else {
            "<span class=\"tag good\">在线</span>"
        };
        rows.push_str(&format!(
            "<tr class=\"{}\"><td class=\"name\">{}</td><td>{}</td><td>{state_tag}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if h.stale { "stale" } else { "" },
            esc(&h.hall),
            h.group.as_deref().map(esc).unwrap_or_else(|| "—".into()),
            ago(h.seconds_since_contact),
            h.day.as_deref().map(esc).unwrap_or_default(),
            h.waiting.map(|w| w.to_string()).unwrap_or_default(),
            if h.long_waits.is_empty() {
                "—".to_string()
            } else {
                format!(
                    "<span class=\"bad\">{}</span>",
                    esc(&h.long_waits.join("、"))
                )
            },
            system_cell(h),
            h.callbacks_open.map(|w| w.to_string()).unwrap_or_default(),
            h.events_stored,
            h.hub_version.as_deref().map(esc).unwrap_or_default(),
            published_cell(h),
        ));
    }
    if halls.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"12\" class=\"name\">尚无营业厅：用 <code>hallq-central hall add 名称</code> 登记。</td></tr>",
        );
    }
    let body = format!(
        "{}<p class=\"note\">超过 5 分钟未联系的营业厅标为“失联”。“发布版本”是营业厅报告正在使用的统一发布版本，\
         未用上最新一版的标为“未更新”。本页每 {HALLS_REFRESH_S} 秒自动刷新，\
         <span id=\"refreshed\" data-every-s=\"{HALLS_REFRESH_S}\">更新于 {}（北京时间）</span>。</p>\
         <table id=\"halls\"><thead><tr><th class=\"name\">营业厅</th><th>分组</th><th>状态</th><th>最后联系</th>\
         <th>营业日</th><th>等候人数</th><th>长时间等候</th><th>业务系统</th><th>待回访</th>\
         <th>已存事件</th><th>软件版本</th><th>发布版本</th></tr></thead><tbody>{rows}</tbody></table>",
        shared_trouble(&halls),
        Utc::now()
            .with_timezone(&HallConfig::demo().time_zone())
            .format("%H:%M:%S"),
    );
    let mut res = no_store(page_with_head(
        &halls_title(&halls),
        Some(("halls", &who)),
        &format!(
            "<noscript><meta http-equiv=\"refresh\" content=\"{HALLS_REFRESH_S}\"></noscript>\
             <script>{HALLS_SCRIPT}</script>"
        ),
        &body,
    ));
    let policy = HALLS_POLICY.get_or_init(halls_policy);
    if let Ok(v) = HeaderValue::from_str(policy) {
        res.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// The halls page's title: the count of halls in trouble leads it, so that a browser tab left in
/// the background shows them in its name.
fn halls_title(halls: &[HallNowView]) -> String {
    let troubled = troubled_halls(halls).len();
    let lost = halls.iter().filter(|h| !h.revoked && h.stale).count();
    let mut marks = Vec::new();
    if troubled > 0 {
        marks.push(format!("业务系统异常 {troubled}"));
    }
    if lost > 0 {
        marks.push(format!("失联 {lost}"));
    }
    if marks.is_empty() {
        "营业厅实况".into()
    } else {
        format!("【{}】营业厅实况", marks.join(" · "))
    }
}

/// The business system as the hall reports it: down, slow or as usual.
fn system_cell(h: &HallNowView) -> String {
    if h.outage {
        "<span class=\"bad\">故障中</span>".into()
    } else if let Some(since) = h.slow_since {
        format!(
            "<span class=\"bad\" title=\"{}\">系统缓慢</span>",
            since.format("%Y-%m-%d %H:%M UTC")
        )
    } else {
        "—".into()
    }
}

/// Halls in touch whose business system is down or slow. Several at once most likely share the
/// cause: the operator's business system itself, or the network to it, which head office and not
/// the halls can mend.
fn troubled_halls(halls: &[HallNowView]) -> Vec<&HallNowView> {
    halls
        .iter()
        .filter(|h| !h.revoked && !h.stale && (h.outage || h.slow_since.is_some()))
        .collect()
}

/// The banner over the halls' table when two or more report trouble with the business system.
fn shared_trouble(halls: &[HallNowView]) -> String {
    let troubled = troubled_halls(halls);
    if troubled.len() < 2 {
        return String::new();
    }
    let names: Vec<String> = troubled.iter().map(|h| esc(&h.hall)).collect();
    format!(
        "<p class=\"alert\" id=\"shared-trouble\">{} 个营业厅同时报告业务系统故障或缓慢（{}）：\
         多半是共用的业务系统或通往它的网络出了问题，请先查总部的系统。</p>",
        troubled.len(),
        names.join("、")
    )
}

/// The published version a hall runs, flagged when a newer one applies to it.
fn published_cell(h: &HallNowView) -> String {
    let running = h
        .config_version
        .map(|v| format!("v{v}"))
        .unwrap_or_else(|| "—".into());
    match h.published_latest {
        None => running,
        Some(latest) if h.published_behind => format!(
            "{running} <span class=\"tag bad\" title=\"最新 v{latest}\">未更新 · 最新 v{latest}</span>"
        ),
        Some(_) => format!("{running} <span class=\"tag good\">最新</span>"),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn minutes(v: Option<f64>) -> String {
    v.map(|s| format!("{:.1}", s / 60.0))
        .unwrap_or_else(|| "—".into())
}

/// The note on how fresh the table is: today's figures are rolled up about once a minute.
fn freshness_note(table: &League) -> String {
    let f = &table.freshness;
    let as_of = f
        .as_of
        .map(|t| {
            t.with_timezone(&HallConfig::demo().time_zone())
                .format("%H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".into());
    let pending = if f.days_pending > 0 {
        format!(
            "，此后收到的数据将在约一分钟内计入（待汇总 {} 个营业日）",
            f.days_pending
        )
    } else {
        String::new()
    };
    format!(
        "<p class=\"note\" id=\"freshness\">今日数据约每分钟更新一次，截至 {as_of}（北京时间）\
         {pending}。以往各日的数据随营业厅上报即时计入。</p>"
    )
}

pub async fn league_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LeagueQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let Query(q) = q?;
    let (kind, date, period) = q.resolve()?;
    let table = league(&state, period).await?;
    let mut rows = String::new();
    for r in &table.halls {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.rank,
            esc(&r.hall),
            r.business_days,
            r.issued,
            r.called,
            match r.within_target {
                None => "",
                Some(_) if r.meets_target => "good",
                Some(_) => "bad",
            },
            pct(r.within_target),
            minutes(r.mean_wait_s),
            minutes(r.mean_service_s),
            pct(r.satisfied_share),
            r.rated,
            r.outages,
            minutes(Some(r.outage_s)),
            minutes(Some(r.outage_longest_s)),
            r.long_waits,
            r.callbacks_captured,
            r.callbacks_resolved,
        ));
    }
    let sel = |k: &str| if kind == k { " selected" } else { "" };
    let query = format!("period={kind}&date={date}");
    let body = format!(
        "<form class=\"bar\" method=\"get\" action=\"/league\">\
         <select name=\"period\"><option value=\"day\"{}>按日</option>\
         <option value=\"week\"{}>按周</option><option value=\"month\"{}>按月</option></select>\
         <input type=\"date\" name=\"date\" value=\"{date}\"><button type=\"submit\">查看</button>\
         <a href=\"/api/v1/league.csv?{query}\">下载 CSV</a></form>\
         <p>统计期：{} 至 {}。目标：{}% 的顾客在 15 分钟内叫号（各厅按其配置的目标等候时间）。\
         口径与营业厅报表相同。</p>{}\
         <table id=\"league\"><thead><tr><th>名次</th><th class=\"name\">营业厅</th><th>营业天数</th>\
         <th>取号</th><th>叫号</th><th>目标内叫号率</th><th>平均等候(分)</th><th>平均办理(分)</th>\
         <th>满意率</th><th>评价数</th><th>系统故障</th><th>故障时长(分)</th><th>最长一次故障(分)</th>\
         <th>长时间等候</th><th>回访登记</th>\
         <th>回访已解决</th></tr></thead><tbody>{rows}</tbody></table>{}",
        sel("day"),
        sel("week"),
        sel("month"),
        period.from,
        period.to,
        (table.target_share * 100.0).round(),
        freshness_note(&table),
        if table.halls.is_empty() {
            String::new()
        } else {
            format!(
                "<h3>目标内叫号率</h3><div class=\"chart\">{}</div>",
                crate::chart::league_svg(&table)
            )
        },
    );
    Ok(no_store(page("营业厅排名", Some(("league", &who)), &body)))
}

// ---- signing in and out ----

fn signin_form(error: Option<&str>) -> Html<String> {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "登录",
        None,
        &format!(
            "<form class=\"signin\" method=\"post\" action=\"/signin\"><h2>hallq 总部 · 登录</h2>{error}\
             <label for=\"login\">账号</label><input id=\"login\" name=\"login\" autocomplete=\"username\" required>\
             <label for=\"password\">密码</label><input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required><button type=\"submit\">登录</button></form>"
        ),
    )
}

pub async fn signin_page() -> Response {
    no_store(signin_form(None))
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub login: String,
    pub password: String,
}

pub async fn signin(
    State(state): State<AppState>,
    form: Result<Form<SignIn>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(f) = form?;
    let login = f.login.trim().to_string();
    if state.sign_in_failures.blocked(&login) {
        tracing::warn!(login = %login, "central sign-in refused: too many failures");
        let mut res = no_store(signin_form(Some("登录失败次数过多，请 15 分钟后再试")));
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(res);
    }
    let account = state.store.operator_hash(&login).await?;
    // argon2 takes a while on purpose: off the async threads.
    let password = f.password.clone();
    let ok = tokio::task::spawn_blocking(move || match &account {
        Some((id, hash)) => verify_password(&password, hash).then_some(*id),
        None => {
            burn_password_time(&password);
            None
        }
    })
    .await
    .map_err(ApiError::unavailable)?;
    let Some(operator_id) = ok else {
        state.sign_in_failures.failed(&login);
        tracing::warn!(login = %login, "central sign-in refused");
        let mut res = no_store(signin_form(Some("账号或密码不正确")));
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    state.sign_in_failures.succeeded(&login);
    let token = new_secret();
    let expires = Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    state
        .store
        .create_session(&sha256_hex(&token), operator_id, expires)
        .await?;
    let cookie = format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if state.secure_cookies { "; Secure" } else { "" }
    );
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::unavailable)?,
    );
    Ok(res)
}

pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(t) = session_token(&headers) {
        state.store.end_session(&sha256_hex(&t)).await?;
    }
    let mut res = Redirect::to("/signin").into_response();
    res.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static(
            "hallq_central_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; hallq_central_session=abc; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("abc"));
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
