//! Authenticating a request: `Authorization: Bearer <token>`, handed to [`crate::auth::caller`],
//! which says whose token it is. Handlers take a [`UserCaller`] or an [`AgentCaller`] argument.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::caller;
use crate::auth::identity::{AgentCaller, UserCaller};
use crate::error::Error;
use crate::state::AppState;

fn bearer(parts: &Parts) -> Result<&str, Error> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
        Error::Unauthorized(
            "missing Authorization header: log in (`nbw login`) and send `Bearer <token>`".into(),
        )
    })?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Unauthorized("the Authorization header must be `Bearer <token>`".into()))
}

impl FromRequestParts<AppState> for UserCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        caller::user(state, bearer(parts)?).await
    }
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        caller::agent(state, bearer(parts)?).await
    }
}
