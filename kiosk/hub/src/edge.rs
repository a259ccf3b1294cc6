//! What every request and answer passes at the router's edge: limits on the request head (a URI
//! or headers too long get the hub's JSON error, not a bare status), the JSON answer for a method
//! a route does not take, and the security headers every answer carries.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Longest request target (path and query) the hub reads.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most request header bytes (names and values) and most header lines the hub reads.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_HEADERS: usize = 100;

/// The pages load their scripts and styles from the hub only (no inline script anywhere), talk to
/// the hub only (fetch and the event stream), and may not be framed by another site. The ticket
/// page's one `<style>` block is allowed by its hash (`pages::TICKET_STYLE_HASH`).
pub fn content_security_policy() -> &'static str {
    static CSP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self' '{}'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
            super::pages::ticket_style_hash()
        )
    });
    &CSP
}

/// Refuse over-long request heads with a JSON error, and put the security headers on every answer.
pub async fn guard(req: Request, next: Next) -> Response {
    let mut resp = match head_too_large(&req) {
        Some(refusal) => refusal.into_response(),
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        content_security_policy(),
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    resp
}

fn head_too_large(req: &Request) -> Option<ApiError> {
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > MAX_URI_BYTES {
        return Some(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!("the address is longer than {MAX_URI_BYTES} bytes"),
            )
            .zh("地址过长"),
        );
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                format!(
                    "the request headers are larger than {MAX_HEADER_BYTES} bytes or {MAX_HEADERS} lines"
                ),
            )
            .zh("请求头过大"),
        );
    }
    None
}

/// A route that exists but does not take this method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this address does not take this method",
    )
    .zh("该地址不支持此请求方式")
}

/// Standard base64 with padding (RFC 4648), for the style hash in the policy.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), coded);
        }
    }
}
