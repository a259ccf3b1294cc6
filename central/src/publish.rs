//! Publishing the texts the rulebook wants the same in every hall (fee schedule, fees per service,
//! notices, commitments, hotlines): head office writes a TOML document once, for every hall or a
//! group, checked by the hall's own rules (`hallq_shared::published`); halls pull what applies to
//! them from `GET /api/v1/published` (docs/central.md, "Published texts").

use axum::Form;
use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Redirect, Response};
use hallq_shared::config::HallConfig;
use hallq_shared::published::Published;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiError;
use crate::ship::Hall;
use crate::store::{Group, Publication, PublishError};
use crate::web::{esc, no_store, operator, page, require_operator};

/// Versions the page lists.
const LISTED: i64 = 50;

/// What a hall pulls: the latest version that applies to it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct PublishedAnswer {
    pub version: i64,
    pub document: Value,
}

/// `GET /api/v1/published`: the latest document for the credential's hall, or 204 when none
/// applies to it.
pub async fn api_published(
    State(state): State<AppState>,
    hall: Hall,
) -> Result<Response, ApiError> {
    Ok(match state.store.published_for(hall.id).await? {
        Some((version, document)) => (
            [(CACHE_CONTROL, "no-store")],
            Json(PublishedAnswer { version, document }),
        )
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `GET /api/v1/publications`: the versions, newest first (head office's session).
pub async fn api_publications(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Vec<Publication>>, ApiError> {
    require_operator(&state, &headers).await?;
    Ok(Json(state.store.publications(LISTED).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The version just published, to confirm it.
    #[serde(default)]
    pub published: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct PublishForm {
    /// Empty: every hall.
    #[serde(default)]
    pub group: String,
    pub toml: String,
}

/// What an operator starts from when nothing is published yet: the demo hall's texts.
fn template() -> String {
    let c = HallConfig::demo();
    Published {
        hotlines: Some(c.hotlines.clone()),
        commitments: Some(c.commitments.clone()),
        notices: Some(c.notices.clone()),
        fee_schedule: Some(c.fee_schedule.clone()),
        service_fees: c
            .services
            .iter()
            .filter(|s| !s.fees.is_empty())
            .map(|s| (s.id.clone(), s.fees.clone()))
            .collect(),
    }
    .to_toml()
}

pub async fn publish_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let Query(q) = q?;
    let versions = state.store.publications(LISTED).await?;
    let groups = state.store.groups().await?;
    // The next version starts from the latest, for the same halls: an operator correcting a
    // group's text must not publish it to every hall by leaving the selector as it was.
    let (text, group) = versions
        .first()
        .map(|p| (p.toml.clone(), p.group.clone().unwrap_or_default()))
        .unwrap_or_else(|| (template(), String::new()));
    let notice = q
        .published
        .map(|v| format!("<p class=\"ok\" id=\"published\">已发布版本 v{v}。营业厅下次拉取时生效（见“营业厅实况”的“发布版本”）。</p>"))
        .unwrap_or_default();
    let body = render(&who, &groups, &versions, &text, &group, None, &notice);
    Ok(no_store(body))
}

pub async fn publish(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    form: Result<Form<PublishForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let Form(f) = form?;
    let group = Some(f.group.trim()).filter(|g| !g.is_empty());
    let doc = match Published::from_toml(&f.toml) {
        Ok(d) => d,
        Err(e) => return refuse(&state, &who, &f, group, &e.to_string()).await,
    };
    let json = serde_json::to_value(&doc).map_err(ApiError::unavailable)?;
    match state.store.publish(group, &json, &f.toml, &who).await {
        Ok(version) => {
            tracing::info!(version, group = ?group, operator = %who, "published");
            Ok(Redirect::to(&format!("/publish?published={version}")).into_response())
        }
        Err(PublishError::NoSuchGroup(g)) => {
            let why = format!("no live hall is in group {g:?}: nothing would take it");
            refuse(&state, &who, &f, group, &why).await
        }
        Err(PublishError::Store(e)) => Err(e.into()),
    }
}

/// The form again, with the operator's text and why it was not published.
async fn refuse(
    state: &AppState,
    who: &str,
    f: &PublishForm,
    group: Option<&str>,
    why: &str,
) -> Result<Response, ApiError> {
    let versions = state.store.publications(LISTED).await?;
    let groups = state.store.groups().await?;
    let mut res = no_store(render(
        who,
        &groups,
        &versions,
        &f.toml,
        group.unwrap_or(""),
        Some(why),
        "",
    ));
    *res.status_mut() = StatusCode::BAD_REQUEST;
    Ok(res)
}

fn render(
    who: &str,
    groups: &[Group],
    versions: &[Publication],
    text: &str,
    group: &str,
    error: Option<&str>,
    notice: &str,
) -> axum::response::Html<String> {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\" id=\"publish-error\">未发布：{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default();
    let mut options = format!(
        "<option value=\"\"{}>所有营业厅</option>",
        if group.is_empty() { " selected" } else { "" }
    );
    for g in groups {
        options.push_str(&format!(
            "<option value=\"{0}\"{1}>分组：{0}（{2} 个厅）</option>",
            esc(&g.name),
            if g.name == group { " selected" } else { "" },
            g.halls
        ));
    }
    let mut rows = String::new();
    for p in versions {
        rows.push_str(&format!(
            "<tr><td>v{}</td><td class=\"left\">{}</td><td class=\"left\">{}</td><td>{}</td>\
             <td>{} / {}</td><td class=\"left\"><details><summary>查看</summary><pre>{}</pre></details></td></tr>",
            p.version,
            p.group
                .as_deref()
                .map(|g| format!("分组 {}", esc(g)))
                .unwrap_or_else(|| "所有营业厅".into()),
            esc(&p.published_by),
            p.published_at
                .with_timezone(&HallConfig::demo().time_zone())
                .format("%Y-%m-%d %H:%M"),
            p.halls_running,
            p.halls,
            esc(&p.toml),
        ));
    }
    if versions.is_empty() {
        rows.push_str("<tr><td colspan=\"6\" class=\"name\">尚未发布。</td></tr>");
    }
    let body = format!(
        "{notice}{error}\
         <form class=\"publish\" method=\"post\" action=\"/publish\">\
         <p class=\"note\">一次填写、各营业厅统一使用的内容：热线电话 <code>[hotlines]</code>、服务承诺 \
         <code>commitments</code>、滚动公告 <code>notices</code>、收费标准 <code>fee_schedule</code>、各业务收费 \
         <code>service_fees.业务代码</code>。写了的部分整体替换营业厅原有内容，没写的部分营业厅保持不变；\
         厅名、窗口、营业时间和开办哪些业务始终由营业厅自己设置。提交时按营业厅配置的同样规则检查，不合格的不会发布。</p>\
         <div class=\"bar\"><label for=\"group\">发布给</label><select id=\"group\" name=\"group\">{options}</select>\
         <button type=\"submit\">发布新版本</button></div>\
         <textarea id=\"toml\" name=\"toml\" spellcheck=\"false\" rows=\"22\">{}</textarea></form>\
         <h2>已发布版本</h2>\
         <table id=\"versions\"><thead><tr><th>版本</th><th class=\"left\">发布给</th>\
         <th class=\"left\">发布人</th><th>发布时间（北京时间）</th><th>已用上 / 适用营业厅</th><th class=\"left\">内容</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        esc(text),
    );
    page("统一发布", Some(("publish", who)), &body)
}
