//! The hub's one error type: every refused request becomes `{"error":{"code","message","message_zh"}}`
//! with the status that tells the caller what to do about it.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hallq_shared::engine::{Refusal, RefusalKind};
use hallq_shared::protocol::{ErrorBody, ErrorDetail};
use hallq_shared::store::{StoreError, WriterError};

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
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first (Authorization: Bearer …)",
        )
        .zh("请先登录")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).zh("无权进行此操作")
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// The database failed: the detail goes to the log, the caller gets a generic answer.
    pub fn unavailable(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "hall database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the hall system cannot record this right now; please try again",
        )
        .zh("系统暂时无法处理,请稍后再试")
    }

    /// The disk is full: said plainly, because the kiosk shows it to the customer and the
    /// staff must act (507, as WebDAV named it: the server cannot store what is needed).
    pub fn disk_full() -> ApiError {
        tracing::error!(
            "the hall database's disk is full: refusing new records until there is room"
        );
        ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "disk_full",
            "The hall system's storage is full: no new tickets for now. Tickets already taken are safe; please ask at a counter.",
        )
        .zh("系统存储空间已满，暂停取号。已取的号码不受影响，请到窗口咨询工作人员。")
    }

    pub fn stopping() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the hall system is restarting; please try again",
        )
        .zh("系统正在重启,请稍后再试")
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        let status = match r.kind {
            RefusalKind::BadInput => StatusCode::BAD_REQUEST,
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::Conflict => StatusCode::CONFLICT,
        };
        ApiError {
            status,
            code: Cow::Borrowed(r.code),
            message: r.message,
            message_zh: Some(r.message_zh),
        }
    }
}

impl From<WriterError> for ApiError {
    fn from(e: WriterError) -> ApiError {
        match e {
            WriterError::Refused(r) => r.into(),
            WriterError::Store(detail) => ApiError::unavailable(detail),
            WriterError::DiskFull => ApiError::disk_full(),
            WriterError::Stopped => ApiError::stopping(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        // A sign-in on a full disk is refused as a full disk, not as a passing failure.
        if e.is_disk_full() {
            return ApiError::disk_full();
        }
        ApiError::unavailable(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            )
            .zh("提交内容过大");
        }
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON (Content-Type: application/json)".to_string()
            }
            other => other.body_text(),
        };
        ApiError::bad_input("bad_json", message).zh("提交的内容格式不正确")
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_input("bad_path", r.body_text()).zh("地址不正确")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_input("bad_query", r.body_text()).zh("查询参数不正确")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into_owned(),
                message: self.message,
                message_zh: self.message_zh,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
