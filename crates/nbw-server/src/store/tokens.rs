//! Refresh tokens (stored as SHA-256 hashes only) and the failed-login counters of the login
//! rate limit.

use crate::db::Db;
use crate::on_db;

/// A stored refresh token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshRow {
    /// Id.
    pub id: String,
    /// The login it descends from: every rotation stays in the family.
    pub family_id: String,
    /// Its user.
    pub user_id: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Creation time (ms).
    pub created_at: i64,
    /// Expiry (ms).
    pub expires_at: i64,
    /// When it was exchanged for a new one (ms); a token is single-use.
    pub used_at: Option<i64>,
    /// When its family was revoked (ms).
    pub revoked_at: Option<i64>,
}

/// Inserts a refresh token.
pub async fn insert_refresh(db: &Db, row: &RefreshRow) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.family_id).bind(&row.user_id).bind(&row.token_hash)
        .bind(row.created_at).bind(row.expires_at).bind(row.used_at).bind(row.revoked_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The refresh token with this hash.
pub async fn refresh_by_hash(db: &Db, token_hash: &str) -> Result<Option<RefreshRow>, sqlx::Error> {
    let sql = "SELECT * FROM refresh_tokens WHERE token_hash = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await)
}

/// Marks `old_id` used and inserts its successor, in one transaction. False (and nothing
/// changed) when `old_id` was already used or revoked: another request won the race, which
/// counts as reuse.
pub async fn rotate_refresh(db: &Db, old_id: &str, new: &RefreshRow, now: i64) -> Result<bool, sqlx::Error> {
    let mark =
        "UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL";
    let insert = "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) \
                  VALUES ($1, $2, $3, $4, $5, $6)";
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let marked = sqlx::query(mark).bind(now).bind(old_id).execute(&mut *tx).await?.rows_affected();
        if marked == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(insert)
            .bind(&new.id).bind(&new.family_id).bind(&new.user_id).bind(&new.token_hash)
            .bind(new.created_at).bind(new.expires_at)
            .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Revokes every token of a family not revoked yet; returns how many.
pub async fn revoke_family(db: &Db, family_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let sql = "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL";
    on_db!(db, pool => sqlx::query(sql).bind(now).bind(family_id).execute(pool).await.map(|r| r.rows_affected()))
}

/// Revokes every refresh token of a user not revoked yet (every login ends); returns how many.
pub async fn revoke_user(db: &Db, user_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    let sql = "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
    on_db!(db, pool => sqlx::query(sql).bind(now).bind(user_id).execute(pool).await.map(|r| r.rows_affected()))
}

/// Deletes tokens that expired before `before` (they can no longer be presented, so reuse
/// detection does not need them).
pub async fn purge_expired_refresh(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    let sql = "DELETE FROM refresh_tokens WHERE expires_at < $1";
    on_db!(db, pool => sqlx::query(sql).bind(before).execute(pool).await.map(|r| r.rows_affected()))
}

/// The latest lockout end among `keys`, if any is later than `now`.
pub async fn locked_until(db: &Db, keys: &[String], now: i64) -> Result<Option<i64>, sqlx::Error> {
    let mut latest = None;
    // Two keys per login: a query each keeps the SQL identical on both backends.
    for key in keys {
        let sql = "SELECT locked_until FROM login_failures WHERE key = $1 AND locked_until > $2";
        let row: Option<(Option<i64>,)> =
            on_db!(db, pool => sqlx::query_as(sql).bind(key).bind(now).fetch_optional(pool).await)?;
        if let Some((Some(until),)) = row {
            latest = latest.max(Some(until));
        }
    }
    Ok(latest)
}

/// Counts one failure for `key`, in one statement (so concurrent failures all count): a
/// window that is over starts again at 1; reaching `max_failures` in a window locks the key
/// for `window_ms` from now. Returns the failures counted in the current window.
pub async fn record_failure(
    db: &Db,
    key: &str,
    now: i64,
    max_failures: i64,
    window_ms: i64,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO login_failures (key, failures, window_start, locked_until) \
               VALUES ($1, 1, $2, CASE WHEN 1 >= $3 THEN $2 + $4 ELSE NULL END) \
               ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_failures.window_start + $4 <= $2 THEN 1 \
                                 ELSE login_failures.failures + 1 END, \
                 window_start = CASE WHEN login_failures.window_start + $4 <= $2 THEN $2 \
                                     ELSE login_failures.window_start END, \
                 locked_until = CASE WHEN (CASE WHEN login_failures.window_start + $4 <= $2 THEN 1 \
                                                ELSE login_failures.failures + 1 END) >= $3 THEN $2 + $4 \
                                     ELSE login_failures.locked_until END \
               RETURNING failures";
    let (failures,): (i64,) = on_db!(db, pool => sqlx::query_as(sql)
        .bind(key).bind(now).bind(max_failures).bind(window_ms)
        .fetch_one(pool).await)?;
    Ok(failures)
}

/// Forgets the failures of `key`.
pub async fn clear_failures(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes counters whose window and lockout both ended before `before`.
pub async fn purge_stale_failures(db: &Db, before: i64, window_ms: i64) -> Result<u64, sqlx::Error> {
    let sql = "DELETE FROM login_failures WHERE window_start < $1 - $2 \
               AND (locked_until IS NULL OR locked_until < $1)";
    on_db!(db, pool => sqlx::query(sql).bind(before).bind(window_ms).execute(pool).await.map(|r| r.rows_affected()))
}
