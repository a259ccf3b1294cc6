//! Central's one error type: every refused request becomes `{"error":{"code","message",
//! "message_zh"}}` with the status that tells the hub (or the page) what to do; database trouble
//! is logged here and never shown to the caller.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hallq_shared::protocol::{ErrorBody, ErrorDetail};

use crate::store::StoreError;
use crate::wire::BatchError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub message_zh: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            message_zh: None,
        }
    }

    pub fn zh(mut self, zh: impl Into<String>) -> ApiError {
        self.message_zh = Some(zh.into());
        self
    }

    pub fn bad_input(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message).zh("提交的内容格式不正确")
    }

    /// A hall whose credential is unknown or revoked, or a page without a session.
    pub fn unauthorized(message: &'static str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).zh("未授权，请先登录")
    }

    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is too large: send a smaller batch",
        )
        .zh("提交内容过大")
    }

    /// The database failed: the detail goes to the log, the caller gets a generic answer and
    /// retries (a hub backs off).
    pub fn unavailable(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "central database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "central cannot store this right now; please try again later",
        )
        .zh("系统暂时无法处理，请稍后再试")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code.into_owned(),
                    message: self.message,
                    message_zh: self.message_zh,
                },
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::unavailable(e)
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> ApiError {
        ApiError::bad_input("bad_batch", e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::too_large();
        }
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON (Content-Type: application/json)".to_string()
            }
            other => other.body_text(),
        };
        ApiError::bad_input("bad_json", message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_input("bad_query", r.body_text())
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::too_large();
        }
        ApiError::bad_input("bad_form", r.body_text())
    }
}
