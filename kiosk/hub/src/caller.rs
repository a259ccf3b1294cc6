//! Who is asking, read from a request: the bearer token found in the session cache, or looked up
//! in the store (and cached) when it is not there. Kept apart from `auth` so that the hub's state
//! can hold the cache without the two modules importing each other.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::auth::{Caller, Principal, parse_role, token_hash};
use super::error::ApiError;
use super::state::Hub;

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let invalid = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the token is unknown, revoked or expired: sign in again",
            )
            .zh("登录已失效,请重新登录")
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(invalid)?;
        let hash = token_hash(token);
        let now = (hub.clock)();
        if let Some(p) = hub.auth.get(&hash, now) {
            return Ok(Caller(Some(p)));
        }
        // Made-up tokens must not cost a database read each: an address that keeps sending
        // unknown ones is refused without one for the rest of the minute.
        let client = super::throttle::client_of(parts);
        if !hub.throttle.begin_token_lookup(client, now) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_bad_tokens",
                "too many unknown tokens from this address: wait a minute, then sign in again",
            )
            .zh("无效登录凭证过多,请一分钟后重新登录"));
        }
        let generation = hub.auth.generation();
        let found = hub
            .read({
                let hash = hash.clone();
                move |s| {
                    if let Some((login, role, counter, expires)) = s.session(&hash, now)? {
                        return Ok(Some((login, role, counter, Some(expires))));
                    }
                    Ok(s.device_by_token(&hash)?
                        .map(|(name, role, counter)| (name, role, counter, None)))
                }
            })
            .await?;
        let (name, role, counter, expires_at) = found.ok_or_else(invalid)?;
        hub.throttle.token_found(client, now);
        let role = parse_role(&role).ok_or_else(invalid)?;
        let p = Principal {
            name,
            role,
            counter,
            expires_at,
            token_hash: hash,
        };
        hub.auth.put_if_current(p.clone(), generation);
        Ok(Caller(Some(p)))
    }
}

/// Middleware: resolve the token once per request (refusing a bad one on every route) and leave
/// the caller in the request for the handler.
pub async fn authenticate(
    axum::extract::State(hub): axum::extract::State<Arc<Hub>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !req.headers().contains_key(AUTHORIZATION) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match Caller::from_request_parts(&mut parts, &hub).await {
        Ok(c) => {
            parts.extensions.insert(c);
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(e) => e.into_response(),
    }
}
