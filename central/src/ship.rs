//! `POST /api/v1/ship`: a hall's batch of history, stored once, answered with how far central
//! holds every event of the hall (docs/central.md).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;

use crate::AppState;
use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::wire::{Batch, ShipAnswer};

/// The hall a request's credential belongs to. Checked before the body is read, so an unknown
/// caller cannot make central parse megabytes.
#[derive(Debug, Clone)]
pub struct Hall {
    pub id: i64,
    pub name: String,
}

impl FromRequestParts<AppState> for Hall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Hall, ApiError> {
        let credential = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("send the hall's credential as a Bearer token")
            })?;
        match state
            .store
            .hall_by_credential(&sha256_hex(credential))
            .await?
        {
            Some((id, name)) => Ok(Hall { id, name }),
            None => Err(ApiError::unauthorized(
                "this credential is unknown or revoked",
            )),
        }
    }
}

pub async fn ship(
    State(state): State<AppState>,
    hall: Hall,
    body: Result<Json<Batch>, JsonRejection>,
) -> Result<Json<ShipAnswer>, ApiError> {
    let Json(mut batch) = body?;
    batch.sanitise()?;
    let stored = state.store.ship(hall.id, &mut batch).await?;
    tracing::info!(
        hall = %hall.name,
        events = batch.events.len(),
        tickets = batch.tickets.len(),
        ratings = batch.ratings.len(),
        phones = batch.callback_phones.as_ref().map(|p| p.numbers.len()),
        stored_through = stored.stored_through,
        "batch stored"
    );
    Ok(Json(ShipAnswer {
        stored_through: stored.stored_through,
        callback_phones: stored.callback_phones,
    }))
}
