//! The one failure type of the server's services. Each kind says what went wrong in the
//! domain's terms (invalid input, not found, a conflict, a lost lease, ...) with a stable code
//! and a message that says what to fix; no HTTP here: `api` maps each kind to its status and
//! the JSON error body, in one place. A fault of ours is `Internal`, whose details go to the
//! log, not to the client.

/// A service failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or invalid; `code` says which way.
    #[error("{message}")]
    Invalid {
        /// Stable code, e.g. `invalid_json`, `invalid_request`, `invalid_cron`.
        code: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The input is well formed but breaks a rule of its content (a pipeline's steps);
    /// `code` says which.
    #[error("{message}")]
    Unprocessable {
        /// Stable code, e.g. `invalid_pipeline`.
        code: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or the caller may not know it exists.
    #[error("{0}")]
    NotFound(String),
    /// It conflicts with what exists (a duplicate name, a finished execution).
    #[error("{0}")]
    Conflict(String),
    /// The agent no longer holds the execution (its lease expired, it finished, or it was
    /// claimed again).
    #[error("{0}")]
    LeaseLost(String),
    /// The input is larger than the server accepts.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts.
    #[error("{0}")]
    RateLimited(String),
    /// A fault of the server; logged, not shown.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// The result of a service call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An invalid input with the code `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid { code: "invalid_request", message: message.into() }
    }

    /// Nothing when `ok`, else an invalid input with `code` and the message (made only when
    /// needed).
    pub fn require(ok: bool, code: &'static str, message: impl FnOnce() -> String) -> Result<()> {
        if ok { Ok(()) } else { Err(Error::Invalid { code, message: message() }) }
    }

    /// A not-found naming what was not found.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Error::NotFound(format!("{what} not found"))
    }

    /// The stable code of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } | Error::Unprocessable { code, .. } => code,
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::LeaseLost(_) => "lease_lost",
            Error::TooLarge(_) => "too_large",
            Error::RateLimited(_) => "rate_limited",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Internal(error.into())
    }
}

impl From<crate::db::DbError> for Error {
    fn from(error: crate::db::DbError) -> Self {
        Error::Internal(error.into())
    }
}
