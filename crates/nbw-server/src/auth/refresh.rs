//! Refresh tokens: opaque, single-use, stored as SHA-256 hashes. A login starts a family; each
//! refresh marks the presented token used and issues its successor in the same family. A
//! token presented twice means it was copied (or a client replayed it), and nobody can tell
//! the thief from the owner, so the whole family is revoked and both must log in again.

use chrono::{DateTime, Duration, Utc};

use crate::auth::caller::token_hash;
use crate::db::{Db, now_ms, to_time};
use crate::error::Error;
use crate::store::tokens::{self, RefreshRow};

/// A new refresh token, shown to the client once.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token.
    pub token: String,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

/// The outcome of a rotation: whose token it was and its successor.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The user the family belongs to.
    pub user_id: String,
    /// The family (to revoke it if the user turns out to be gone).
    pub family_id: String,
    /// The successor.
    pub issued: Issued,
}

fn new_row(family_id: &str, user_id: &str, ttl: Duration) -> (RefreshRow, String) {
    let token = nbw_core::ids::random_token();
    let now = now_ms();
    let row = RefreshRow {
        id: nbw_core::ids::random_id(),
        family_id: family_id.to_owned(),
        user_id: user_id.to_owned(),
        token_hash: token_hash(&token),
        created_at: now,
        expires_at: now.saturating_add(ttl.num_milliseconds()),
        used_at: None,
        revoked_at: None,
    };
    (row, token)
}

fn invalid() -> Error {
    Error::Unauthorized("the refresh token is invalid: log in again".into())
}

/// Starts a family for `user_id` (a login) and returns its first token.
pub async fn issue(db: &Db, user_id: &str, ttl: Duration) -> Result<Issued, Error> {
    let (row, token) = new_row(&nbw_core::ids::random_id(), user_id, ttl);
    tokens::insert_refresh(db, &row).await?;
    // Tokens past their expiry can no longer be presented: a login is a fine time to sweep.
    tokens::purge_expired_refresh(db, row.created_at).await?;
    Ok(Issued { token, expires_at: to_time(row.expires_at) })
}

/// Exchanges `token` for its successor. Unknown or expired: 401. Already used or revoked (a
/// replay, or a race with another refresh of the same token): the family is revoked, 401.
pub async fn rotate(db: &Db, token: &str, ttl: Duration) -> Result<Rotated, Error> {
    let row = tokens::refresh_by_hash(db, &token_hash(token)).await?.ok_or_else(invalid)?;
    let now = now_ms();
    if row.used_at.is_some() || row.revoked_at.is_some() {
        return Err(reused(db, &row.family_id, now).await);
    }
    if row.expires_at <= now {
        return Err(Error::Unauthorized("the refresh token has expired: log in again".into()));
    }
    let (next, next_token) = new_row(&row.family_id, &row.user_id, ttl);
    if !tokens::rotate_refresh(db, &row.id, &next, now).await? {
        return Err(reused(db, &row.family_id, now).await);
    }
    Ok(Rotated {
        user_id: row.user_id,
        family_id: row.family_id,
        issued: Issued { token: next_token, expires_at: to_time(next.expires_at) },
    })
}

async fn reused(db: &Db, family_id: &str, now: i64) -> Error {
    match tokens::revoke_family(db, family_id, now).await {
        Ok(revoked) => {
            if revoked > 0 {
                tracing::warn!(
                    family = family_id,
                    "a used refresh token was presented again; its login is revoked"
                );
            }
            Error::Unauthorized(
                "the refresh token was already used or revoked; every session of this login is now revoked: log in again"
                    .into(),
            )
        }
        Err(e) => e.into(),
    }
}

/// Revokes the family of `token` (a logout). False when the token is unknown.
pub async fn revoke(db: &Db, token: &str) -> Result<bool, Error> {
    match tokens::refresh_by_hash(db, &token_hash(token)).await? {
        Some(row) => {
            revoke_family(db, &row.family_id).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Revokes a whole family.
pub async fn revoke_family(db: &Db, family_id: &str) -> Result<(), Error> {
    tokens::revoke_family(db, family_id, now_ms()).await?;
    Ok(())
}
