//! Callbacks left open across halls: per hall the callbacks captured and not resolved, with their
//! age, flagged overdue past the halls' promise (`hallq_shared::report::callback_overdue`, 24 hours).
//! Built from the shipped `callback_captured` / `callback_updated` events. No phone number is on
//! this page or its JSON: where head office turned numbers on for a hall, a callback has a
//! 显示号码 button, and each number is read on its own, audited (`phones.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use hallq_shared::config::HallConfig;
use hallq_shared::report::{CALLBACK_PROMISE_H, callback_overdue};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::store::OpenCallback;
use crate::web::{esc, no_store, operator, page, require_operator};

/// Callbacks listed one by one at most (the oldest); the per-hall counts are always complete.
const LISTED: i64 = 1000;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HallCallbacks {
    pub hall: String,
    pub open: i64,
    pub overdue: i64,
    /// Age of the oldest open one, seconds.
    pub oldest_age_s: Option<i64>,
    /// Head office turned phone numbers on for the hall.
    pub callback_phones: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CallbackView {
    pub hall: String,
    pub id: i64,
    pub day: String,
    pub captured_at: DateTime<Utc>,
    pub age_s: i64,
    pub overdue: bool,
    pub origin: String,
    pub ticket: Option<String>,
    pub status: String,
    /// Central holds the number (never shown here: `POST /api/v1/callbacks/phone` reads it).
    pub phone_at_central: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OpenCallbacks {
    pub promise_hours: i64,
    /// The live halls whose callbacks' numbers central keeps (head office's switch), by name.
    pub phone_halls: Vec<String>,
    pub halls: Vec<HallCallbacks>,
    /// The oldest first, at most 1,000.
    pub callbacks: Vec<CallbackView>,
    /// More are open than listed.
    pub truncated: bool,
}

async fn open_callbacks(state: &AppState) -> Result<OpenCallbacks, ApiError> {
    let now = Utc::now().timestamp_millis();
    let (list, per_hall) = state
        .store
        .open_callbacks(now - CALLBACK_PROMISE_H * 3_600_000, LISTED)
        .await?;
    let phone_halls: Vec<String> = state
        .store
        .callback_phone_settings()
        .await?
        .into_iter()
        .filter(|s| s.on)
        .map(|s| s.hall)
        .collect();
    let view = |c: OpenCallback| CallbackView {
        overdue: callback_overdue(c.captured_at, now),
        age_s: ((now - c.captured_at) / 1000).max(0),
        captured_at: DateTime::from_timestamp_millis(c.captured_at).unwrap_or_default(),
        hall: c.hall,
        id: c.id,
        day: c.day.to_string(),
        origin: c.origin,
        ticket: c.ticket,
        status: c.status,
        phone_at_central: c.phone_at_central,
    };
    let callbacks: Vec<CallbackView> = list.into_iter().map(view).collect();
    let total: i64 = per_hall.iter().map(|h| h.1).sum();
    let halls = per_hall
        .into_iter()
        .map(|(hall, open, overdue)| HallCallbacks {
            oldest_age_s: callbacks.iter().find(|c| c.hall == hall).map(|c| c.age_s),
            callback_phones: phone_halls.contains(&hall),
            hall,
            open,
            overdue,
        })
        .collect();
    Ok(OpenCallbacks {
        promise_hours: CALLBACK_PROMISE_H,
        phone_halls,
        truncated: total > callbacks.len() as i64,
        halls,
        callbacks,
    })
}

/// `GET /api/v1/callbacks` (head office's session).
pub async fn api_callbacks(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<OpenCallbacks>, ApiError> {
    require_operator(&state, &headers).await?;
    Ok(Json(open_callbacks(&state).await?))
}

fn age(s: i64) -> String {
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} 分钟"),
        (0, h) => format!("{h} 小时 {m} 分"),
        (d, h) => format!("{d} 天 {h} 小时"),
    }
}

fn origin(o: &str) -> &str {
    match o {
        "outage" => "系统故障",
        "long_wait" => "长时间等候",
        "request" => "顾客要求",
        other => other,
    }
}

fn status(s: &str) -> &str {
    match s {
        "pending" => "待联系",
        "contacted" => "已联系未解决",
        other => other,
    }
}

pub async fn callbacks_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let v = open_callbacks(&state).await?;
    let tz = HallConfig::demo().time_zone();
    let mut halls = String::new();
    for h in &v.halls {
        halls.push_str(&format!(
            "<tr><td class=\"name\">{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&h.hall),
            h.open,
            if h.overdue > 0 { "bad" } else { "" },
            h.overdue,
            h.oldest_age_s.map(age).unwrap_or_default(),
        ));
    }
    if v.halls.is_empty() {
        halls.push_str("<tr><td colspan=\"4\" class=\"name\">没有未解决的回访。</td></tr>");
    }
    let mut rows = String::new();
    for c in &v.callbacks {
        // The number only on its own page, by this form, recorded under the operator's name.
        let phone = if c.phone_at_central {
            format!(
                "<form method=\"post\" action=\"/callbacks/phone\" class=\"reveal\">\
                 <input type=\"hidden\" name=\"hall\" value=\"{}\">\
                 <input type=\"hidden\" name=\"id\" value=\"{}\">\
                 <button type=\"submit\">显示号码</button></form>",
                esc(&c.hall),
                c.id
            )
        } else {
            "<span class=\"note\">在营业厅</span>".to_string()
        };
        rows.push_str(&format!(
            "<tr class=\"{}\"><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"left\">{}</td><td class=\"left\">{}</td><td class=\"left\">{}</td>\
             <td class=\"left\">{phone}</td></tr>",
            if c.overdue { "overdue" } else { "" },
            esc(&c.hall),
            c.id,
            c.captured_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            age(c.age_s),
            if c.overdue {
                "<span class=\"tag bad\">超时</span>"
            } else {
                "<span class=\"tag muted\">未超时</span>"
            },
            esc(origin(&c.origin)),
            c.ticket.as_deref().map(esc).unwrap_or_else(|| "—".into()),
            esc(status(&c.status)),
        ));
    }
    let more = if v.truncated {
        format!(
            "<p class=\"note\">只列出最早的 {} 条；各厅的数量是全部的。</p>",
            v.callbacks.len()
        )
    } else {
        String::new()
    };
    let phones = if v.phone_halls.is_empty() {
        "电话号码只在营业厅，总部不保存。".to_string()
    } else {
        format!(
            "总部保存回访电话号码的营业厅（由总部管理员在服务器上开启）：<span id=\"phone-halls\">{}</span>。\
             这些营业厅的回访可点“显示号码”逐条查看，每次查看都记入操作记录；\
             回访解决后按营业厅的保留期限删除。其他营业厅的号码只在营业厅。",
            esc(&v.phone_halls.join("、"))
        )
    };
    let body = format!(
        "<p class=\"note\">各营业厅登记了、尚未解决的回访（按营业厅上报的事件）。\
         登记超过 {} 小时仍未解决的标为“超时”。{phones}</p>\
         <table id=\"callback-halls\"><thead><tr><th class=\"name\">营业厅</th><th>未解决</th><th>超时</th>\
         <th>最久</th></tr></thead><tbody>{halls}</tbody></table>\
         <h2>未解决的回访（最早的在前）</h2>{more}\
         <table id=\"callbacks\"><thead><tr><th class=\"name\">营业厅</th><th>编号</th><th>登记时间（北京时间）</th>\
         <th>已过</th><th>是否超时</th><th class=\"left\">原因</th><th class=\"left\">票号</th>\
         <th class=\"left\">进度</th><th class=\"left\">电话号码</th></tr></thead><tbody>{rows}</tbody></table>",
        v.promise_hours
    );
    Ok(no_store(page("回访跟踪", Some(("callbacks", &who)), &body)))
}
