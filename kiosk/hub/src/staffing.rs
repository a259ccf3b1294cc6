//! `GET /api/v1/staffing`: the staffing advice for every service, live, for the counter console and
//! the manager page. The figures come from `Hall::staffing` (Erlang C on the measured rates).

use axum::Json;
use axum::extract::State;
use hallq_shared::staffing::{Advice, LOOKAHEAD_S, Standing, TARGET_SHARE};
use serde::Serialize;

use super::auth::Caller;
use super::error::ApiResult;
use super::state::{AppState, Hub};

#[derive(Debug, Serialize)]
pub struct Staffing {
    pub target_wait_min: u32,
    /// Share of customers to call within the target (0.85).
    pub target_share: f64,
    pub lookahead_min: u32,
    /// Every enabled service, in configuration order; `message` is set where it needs a counter.
    pub services: Vec<Advice>,
}

/// The advice of every service at the hub's now.
pub fn advice(hub: &Hub) -> Vec<Advice> {
    let now = hub.now();
    hub.writer
        .hall()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .staffing(now)
}

/// The services whose advice speaks: over the target, or soon over it.
pub fn needing_attention(all: Vec<Advice>) -> Vec<Advice> {
    all.into_iter()
        .filter(|a| matches!(a.standing, Standing::Over | Standing::Soon))
        .collect()
}

pub async fn staffing(State(hub): State<AppState>, caller: Caller) -> ApiResult<Json<Staffing>> {
    caller.staff()?;
    let services = advice(&hub);
    let target_wait_min = services
        .first()
        .map(|a| a.target_wait_min)
        .unwrap_or_else(|| {
            hub.writer
                .hall()
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .config
                .thresholds
                .target_wait_min
        });
    Ok(Json(Staffing {
        target_wait_min,
        target_share: TARGET_SHARE,
        lookahead_min: (LOOKAHEAD_S / 60.0) as u32,
        services,
    }))
}
