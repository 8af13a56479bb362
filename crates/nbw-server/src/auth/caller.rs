//! Who a token belongs to: a user's JWT access token or an agent's token (`nbwa_...`, stored
//! hashed, revocable). The HTTP side (the `Authorization` header) is in `api`.

use sha2::{Digest, Sha256};

use super::identity::{AgentCaller, UserCaller};
use crate::error::{Error, Result};
use crate::on_db;
use crate::state::AppState;

/// The prefix of agent tokens, so a token's kind is known without trying both.
pub const AGENT_TOKEN_PREFIX: &str = "nbwa_";

/// The hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The user whose access token `token` is, while the account is active: a disabled account's
/// tokens stop working before they expire (its status is read at most once a second per user).
pub async fn user(state: &AppState, token: &str) -> Result<UserCaller> {
    if token.starts_with(AGENT_TOKEN_PREFIX) {
        return Err(Error::Forbidden("agent tokens cannot use this route".into()));
    }
    let subject = super::token::verify(&state.keys, token).ok_or_else(|| {
        Error::Unauthorized("the access token is invalid or expired: refresh it or log in again".into())
    })?;
    if !state.active_users.recently_active(&subject.user_id) {
        if !crate::store::users::is_active(&state.db, &subject.user_id).await? {
            return Err(Error::Unauthorized("this account is disabled or no longer exists".into()));
        }
        state.active_users.put(&subject.user_id);
    }
    Ok(UserCaller { user_id: subject.user_id, is_admin: subject.is_admin })
}

/// The agent whose token `token` is (read from the database at most once a second per token).
pub async fn agent(state: &AppState, token: &str) -> Result<AgentCaller> {
    if !token.starts_with(AGENT_TOKEN_PREFIX) {
        return Err(Error::Forbidden("only agents (with an agent token) can use this route".into()));
    }
    let hash = token_hash(token);
    if let Some(caller) = state.agent_tokens.get(&hash) {
        return Ok(caller);
    }
    let sql = "SELECT id, labels FROM agents WHERE token_hash = $1 AND revoked_at IS NULL";
    let row: Option<(String, String)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(&hash).fetch_optional(pool).await)?;
    let (agent_id, labels) =
        row.ok_or_else(|| Error::Unauthorized("the agent token is unknown or revoked".into()))?;
    let labels = serde_json::from_str(&labels).unwrap_or_default();
    let caller = AgentCaller { agent_id, labels };
    state.agent_tokens.put(hash, caller.clone());
    Ok(caller)
}
