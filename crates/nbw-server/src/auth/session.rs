//! A login session: a login answers a short-lived access token (JWT) and an opaque refresh
//! token; a refresh rotates the refresh token; a logout revokes its family. Failed logins are
//! rate-limited by username and by client address.

use chrono::Duration;
use nbw_core::api::Tokens;

use super::limit::{self, LoginKeys};
use super::{password, refresh, token};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::users::{self, UserRow};

const BAD_LOGIN: &str = "invalid username or password";

/// Access and refresh tokens for `user`, the refresh token starting a new family.
fn tokens_for(state: &AppState, user: &UserRow, refresh: refresh::Issued) -> Tokens {
    let ttl = seconds(state.config.access_token_ttl_secs);
    let (access_token, access_expires_at) = token::issue(&state.keys, &user.id, user.is_admin, ttl);
    Tokens {
        access_token,
        access_expires_at,
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
    }
}

fn refresh_ttl(state: &AppState) -> Duration {
    seconds(state.config.refresh_token_ttl_secs)
}

/// A configured number of seconds; absurd values are capped at a century.
fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX).min(100 * 366 * 86_400))
}

/// Logs `username` in with `password`, from the client address `client` (an IP address, or
/// "unknown").
pub async fn login(state: &AppState, username: &str, password: String, client: &str) -> Result<Tokens> {
    let keys = LoginKeys::new(username, client);
    limit::check(state, &keys).await?;
    let user = users::by_username(&state.db, username).await?;
    // An unknown user costs the same verification as a known one (against a dummy hash).
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify_blocking(password, hash).await;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            limit::failed(state, &keys).await?;
            tracing::info!(client = %client, "failed login");
            return Err(Error::Unauthorized(BAD_LOGIN.into()));
        }
    };
    limit::succeeded(state, &keys).await?;
    let issued = refresh::issue(&state.db, &user.id, refresh_ttl(state)).await?;
    tracing::info!(user = %user.username, "login");
    Ok(tokens_for(state, &user, issued))
}

/// Exchanges a refresh token for new tokens. The old refresh token is spent: presenting it
/// again revokes every token of its login.
pub async fn refresh_tokens(state: &AppState, token: &str) -> Result<Tokens> {
    let rotated = refresh::rotate(&state.db, token, refresh_ttl(state)).await?;
    let user = match users::by_id(&state.db, &rotated.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => {
            refresh::revoke_family(&state.db, &rotated.family_id).await?;
            return Err(Error::Unauthorized("this account is disabled or no longer exists".into()));
        }
    };
    Ok(tokens_for(state, &user, rotated.issued))
}

/// Revokes the refresh token and every token of its login.
pub async fn logout(state: &AppState, token: &str) -> Result<()> {
    if refresh::revoke(&state.db, token).await? {
        Ok(())
    } else {
        Err(Error::Unauthorized("the refresh token is invalid".into()))
    }
}

/// The user of a browser session, whose cookie holds the refresh token of a web login. The
/// token is checked as a refresh would check it (unknown, used, revoked or expired: no
/// session; a disabled user: no session) but not rotated: a page and its event stream arrive
/// together, and rotating on each would make the second look like a replay and revoke the
/// login. A logout revokes it like any refresh token.
pub async fn resume(state: &AppState, token: &str) -> Result<Option<UserRow>> {
    let Some(row) =
        crate::store::tokens::refresh_by_hash(&state.db, &super::caller::token_hash(token)).await?
    else {
        return Ok(None);
    };
    if row.used_at.is_some() || row.revoked_at.is_some() || row.expires_at <= crate::db::now_ms() {
        return Ok(None);
    }
    Ok(users::by_id(&state.db, &row.user_id).await?.filter(|user| !user.disabled))
}
