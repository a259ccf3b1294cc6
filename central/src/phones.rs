//! Callbacks' phone numbers at central, for the halls head office deliberately turned them on for
//! (`hallq-central hall phones NAME on --why …`; off by default): the audited reading of one number
//! (the 显示号码 button of the callbacks page, and its JSON), and the task of `serve` that deletes
//! numbers as the halls delete them (docs/central.md, "Phone numbers").

use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::store::Store;
use crate::web::{esc, no_store, operator, page, require_operator};

/// How often `serve` deletes the numbers whose callbacks passed their hall's retention (batches
/// of a hall delete that hall's as well) and rewrites the table after any deletion. The hall
/// itself purges once a day.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Which number to show: the hall's name and its id of the callback, as the callbacks page lists.
#[derive(Debug, Deserialize, Serialize)]
pub struct PhoneRequest {
    pub hall: String,
    pub id: i64,
}

#[derive(Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct PhoneAnswer {
    pub hall: String,
    pub id: i64,
    pub phone: String,
}

fn none_held() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_phone",
        "central holds no phone number for this callback (the hall keeps it)",
    )
    .zh("总部没有这条回访的电话号码（号码在营业厅）")
}

/// `POST /api/v1/callbacks/phone` `{"hall", "id"}` (head office's session): the number, read
/// under the operator's name in the audit log; 404 when central holds none.
pub async fn api_phone(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<PhoneRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let who = require_operator(&state, &headers).await?;
    let Json(q) = body?;
    let phone = state
        .store
        .read_callback_phone(&q.hall, q.id, &who)
        .await?
        .ok_or_else(none_held)?;
    tracing::info!(operator = %who, hall = %q.hall, callback = q.id, "callback phone number read");
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Json(PhoneAnswer {
            hall: q.hall,
            id: q.id,
            phone,
        }),
    )
        .into_response())
}

/// `POST /callbacks/phone` from the 显示号码 button: a page with the one number, read under the
/// operator's name in the audit log.
pub async fn phone_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PhoneRequest>, FormRejection>,
) -> Result<Response, ApiError> {
    let Some(who) = operator(&state, &headers).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let Form(q) = form?;
    let phone = state.store.read_callback_phone(&q.hall, q.id, &who).await?;
    let back = "<p><a href=\"/callbacks\">返回回访跟踪</a></p>";
    let (status, body) = match phone {
        Some(p) => {
            tracing::info!(operator = %who, hall = %q.hall, callback = q.id, "callback phone number read");
            (
                StatusCode::OK,
                format!(
                    "<h2>{} · 回访 {}</h2>\
                     <p>电话号码：<strong id=\"phone\">{}</strong></p>\
                     <p class=\"note\">本次查看已记入总部操作记录（{}，时间、营业厅、回访编号）。号码仅用于回访，请勿外传、勿另行记录。</p>{back}",
                    esc(&q.hall),
                    q.id,
                    esc(&p),
                    esc(&who),
                ),
            )
        }
        None => (
            StatusCode::NOT_FOUND,
            format!(
                "<p class=\"error\" id=\"no-phone\">总部没有这条回访的电话号码：号码在营业厅（或已按保留期限删除）。</p>{back}"
            ),
        ),
    };
    let mut res = no_store(page("回访电话号码", Some(("callbacks", &who)), &body));
    *res.status_mut() = status;
    Ok(res)
}

/// Inside `serve`: delete the numbers past their hall's retention, and rewrite the table after
/// deletions, at start and then every [`PURGE_EVERY`]; trouble is logged and tried again at the
/// next round.
pub async fn purge_loop(store: Store) {
    loop {
        match store
            .purge_callback_phones(Utc::now().timestamp_millis())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "callback phone numbers past retention deleted"),
            Err(e) => {
                tracing::error!(error = %e, "cannot delete callback phone numbers past retention")
            }
        }
        tokio::time::sleep(PURGE_EVERY).await;
    }
}
