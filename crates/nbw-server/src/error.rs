//! The one error type of the API: every failure becomes a status and
//! `{"error": {"code": "...", "message": "..."}}` with a stable code. A client's mistake is a
//! 4xx that says what to fix; a fault of ours is a 500 whose details go to the log, not to the
//! client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nbw_core::api::{ErrorBody, ErrorDetail};

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or invalid; `code` says which way.
    #[error("{message}")]
    BadRequest {
        /// Stable code, e.g. `invalid_json`, `invalid_request`, `invalid_cron`.
        code: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing, or the caller may not know it exists.
    #[error("{0}")]
    NotFound(String),
    /// 409: it conflicts with what exists (a duplicate name, a finished execution).
    #[error("{0}")]
    Conflict(String),
    /// 413: the upload is larger than the server accepts.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many attempts.
    #[error("{0}")]
    RateLimited(String),
    /// 500: a fault of the server; logged, not shown.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 with `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::BadRequest { code: "invalid_request", message: message.into() }
    }

    /// Nothing when `ok`, else a 400 with `code` and the message (made only when needed).
    pub fn require(ok: bool, code: &'static str, message: impl FnOnce() -> String) -> Result<(), ApiError> {
        if ok { Ok(()) } else { Err(ApiError::BadRequest { code, message: message() }) }
    }

    /// A 404 naming what was not found.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// The stable code of the answer.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(error.into())
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> Self {
        ApiError::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
        (status, axum::Json(body)).into_response()
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
