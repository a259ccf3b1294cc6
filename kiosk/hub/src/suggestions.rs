//! Suggestions left at the kiosk and their follow-up (rulebook Ch.3 §1.2). The kiosk promises a
//! call back to whoever leaves a number with a suggestion, so staff work them like callbacks: a
//! list with the number masked, the full number one suggestion at a time when someone is about to
//! call, and a status (new → answered or closed) with who, when and the reply. Every look at a
//! number, masked or full, is in the audit log; a handled suggestion is deleted with its number
//! after the callback retention period (`cli::purge`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hallq_shared::hall::suggestion::{self, HandleError};
use hallq_shared::hall::time::to_rfc3339;
use hallq_shared::hall::{Phone, Suggestion, SuggestionStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Path, Query};
use super::state::AppState;

#[derive(Debug, Serialize)]
pub struct SuggestionView {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub text: String,
    /// The number left for the answer, masked (`138****5678`); the full one is
    /// `GET /suggestions/{id}/contact`.
    pub contact_masked: Option<String>,
    pub source: String,
    pub status: SuggestionStatus,
    pub reply: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A phone number masked as callbacks are; anything else (left before numbers were checked)
/// shows only its last two characters.
pub fn mask_contact(contact: &str) -> String {
    if let Ok(p) = Phone::parse(contact) {
        return p.masked();
    }
    let n = contact.chars().count();
    contact
        .chars()
        .enumerate()
        .map(|(i, c)| if n > 4 && i >= n - 2 { c } else { '*' })
        .collect()
}

pub fn view(s: &Suggestion) -> SuggestionView {
    SuggestionView {
        id: s.id,
        at: to_rfc3339(s.at),
        text: s.text.clone(),
        contact_masked: s.contact.as_deref().map(mask_contact),
        source: s.source.clone(),
        status: s.status,
        reply: s.reply.clone(),
        handled_by: s.handled_by.clone(),
        handled_at: s.handled_at.map(to_rfc3339),
    }
}

fn unknown(id: i64) -> ApiError {
    ApiError::not_found("unknown_suggestion", format!("no suggestion {id}"))
        .zh("没有这条意见(可能已按期删除)")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub status: Option<SuggestionStatus>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /suggestions`: new ones first (oldest first), then handled ones; numbers masked.
pub async fn list(
    State(hub): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<SuggestionView>>> {
    let p = caller.staff()?.clone();
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let now = (hub.clock)();
    let status = q.status;
    // Even masked, the list shows a part of customers' numbers: who looked, and when, is kept.
    hub.admin(move |s| {
        s.audit(
            now,
            &p.name,
            "suggestions_viewed",
            &json!({"counter": p.counter, "status": status, "limit": limit}),
        )
    })
    .await?;
    let list = hub.read(move |s| s.suggestion_list(status, limit)).await?;
    Ok(Json(list.iter().map(view).collect()))
}

#[derive(Debug, Serialize)]
pub struct ContactView {
    pub id: i64,
    pub contact: String,
}

/// `GET /suggestions/{id}/contact`: the full number of one suggestion, to call the customer.
pub async fn contact(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ContactView>> {
    let p = caller.staff()?.clone();
    let now = (hub.clock)();
    let found = hub
        .admin(move |s| {
            let Some(sg) = s.suggestion(id)? else {
                return Ok(None);
            };
            if sg.contact.is_some() {
                s.audit(
                    now,
                    &p.name,
                    "suggestion_contact_viewed",
                    &json!({"id": id, "counter": p.counter}),
                )?;
            }
            Ok(Some(sg.contact))
        })
        .await?;
    match found {
        None => Err(unknown(id)),
        Some(None) => Err(ApiError::not_found(
            "no_contact",
            format!("suggestion {id} was left without a phone number"),
        )
        .zh("这条意见没有留电话")),
        Some(Some(contact)) => Ok(Json(ContactView { id, contact })),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandleRequest {
    pub status: SuggestionStatus,
    #[serde(default)]
    pub reply: Option<String>,
}

/// `PATCH /suggestions/{id}`: answered (with what the customer was told) or closed, once.
pub async fn handle(
    State(hub): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(req): Body<HandleRequest>,
) -> ApiResult<Json<SuggestionView>> {
    let p = caller.staff()?.clone();
    let now = (hub.clock)();
    let who = p.name.clone();
    let outcome = hub
        .admin(move |s| {
            let Some(current) = s.suggestion(id)? else {
                return Ok(None);
            };
            let handled =
                match suggestion::handle(&current, req.status, req.reply.as_deref(), &who, now) {
                    Ok(h) => h,
                    Err(e) => return Ok(Some(Err(e))),
                };
            if !s.save_suggestion_handling(&handled)? {
                return Ok(Some(Err(HandleError::AlreadyHandled("handled"))));
            }
            // The reply stays in the suggestion (deleted with it); the audit, kept longer, only
            // says who handled which one how.
            s.audit(
                now,
                &who,
                "suggestion_handled",
                &json!({"id": id, "status": handled.status}),
            )?;
            Ok(Some(Ok(handled)))
        })
        .await?;
    match outcome {
        None => Err(unknown(id)),
        Some(Err(e)) => {
            let err = if e.is_conflict() {
                ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
            } else {
                ApiError::bad_input(e.code(), e.to_string())
            };
            Err(err.zh(e.zh()))
        }
        Some(Ok(h)) => {
            tracing::info!(id, by = %p.name, status = h.status.as_str(), "suggestion handled");
            Ok(Json(view(&h)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_contact;

    #[test]
    fn contacts_are_masked_whatever_they_hold() {
        assert_eq!(mask_contact("13812345678"), "138****5678");
        assert_eq!(mask_contact("027-87654321"), "027-****4321");
        // Eleven characters: all but the last two hidden, one star each.
        assert_eq!(mask_contact("王先生 微信wx123"), "*********23");
        assert_eq!(mask_contact("abc"), "***");
    }
}
