//! Authenticating a request: `Authorization: Bearer <token>`, where the token is a user's JWT
//! access token or an agent's token (`nbwa_...`, stored hashed, revocable).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::identity::{AgentCaller, UserCaller};
use crate::state::AppState;
use crate::error::ApiError;
use crate::on_db;

/// The prefix of agent tokens, so a token's kind is known without trying both.
pub const AGENT_TOKEN_PREFIX: &str = "nbwa_";

/// The hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing Authorization header: log in (`nbw login`) and send `Bearer <token>`".into(),
        )
    })?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))
}

impl FromRequestParts<AppState> for UserCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if token.starts_with(AGENT_TOKEN_PREFIX) {
            return Err(ApiError::Forbidden("agent tokens cannot use this route".into()));
        }
        let subject = super::token::verify(&state.keys, token).ok_or_else(|| {
            ApiError::Unauthorized(
                "the access token is invalid or expired: refresh it or log in again".into(),
            )
        })?;
        Ok(UserCaller { user_id: subject.user_id, is_admin: subject.is_admin })
    }
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if !token.starts_with(AGENT_TOKEN_PREFIX) {
            return Err(ApiError::Forbidden("only agents (with an agent token) can use this route".into()));
        }
        let hash = token_hash(token);
        if let Some(caller) = state.agent_tokens.get(&hash) {
            return Ok(caller);
        }
        let sql = "SELECT id, labels FROM agents WHERE token_hash = $1 AND revoked_at IS NULL";
        let row: Option<(String, String)> =
            on_db!(&state.db, pool => sqlx::query_as(sql).bind(&hash).fetch_optional(pool).await)?;
        let (agent_id, labels) =
            row.ok_or_else(|| ApiError::Unauthorized("the agent token is unknown or revoked".into()))?;
        let labels = serde_json::from_str(&labels).unwrap_or_default();
        let caller = AgentCaller { agent_id, labels };
        state.agent_tokens.put(hash, caller.clone());
        Ok(caller)
    }
}
