//! The one mapping from a service failure to the API's answer: each kind of [`Error`] becomes
//! a status and `{"error": {"code": "...", "message": "..."}}` with the failure's stable code.
//! A client's mistake is a 4xx that says what to fix; a fault of ours is a 500 whose details go
//! to the log, not to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nbw_core::api::{ErrorBody, ErrorDetail};

use crate::error::Error;

/// The result of a handler.
pub type ApiResult<T> = Result<T, Error>;

fn status(error: &Error) -> StatusCode {
    match error {
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict(_) | Error::LeaseLost(_) => StatusCode::CONFLICT,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = match &self {
            Error::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message } };
        (status(&self), axum::Json(body)).into_response()
    }
}
