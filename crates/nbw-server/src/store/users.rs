//! Users.

use nbw_core::api::User;

use crate::db::{Db, now_ms, to_time};
use crate::on_db;

/// A user row with its password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Administrator.
    pub is_admin: bool,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Creation time (ms).
    pub created_at: i64,
}

impl UserRow {
    /// The API view.
    pub fn to_api(&self) -> User {
        User {
            id: self.id.clone(),
            username: self.username.clone(),
            is_admin: self.is_admin,
            disabled: self.disabled,
            created_at: to_time(self.created_at),
        }
    }
}

/// Inserts a user; fails with a unique violation when the name is taken.
pub async fn insert(
    db: &Db,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<UserRow, sqlx::Error> {
    let row = UserRow {
        id: nbw_core::ids::random_id(),
        username: username.to_owned(),
        password_hash: password_hash.to_owned(),
        is_admin,
        disabled: false,
        created_at: now_ms(),
    };
    let sql = "INSERT INTO users (id, username, password_hash, is_admin, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.username).bind(&row.password_hash).bind(row.is_admin).bind(row.disabled).bind(row.created_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(row)
}

/// The user with this login name.
pub async fn by_username(db: &Db, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = "SELECT * FROM users WHERE username = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(username).fetch_optional(pool).await)
}

/// The user with this id.
pub async fn by_id(db: &Db, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = "SELECT * FROM users WHERE id = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)
}

/// All users, by name.
pub async fn list(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(pool).await)
}

/// Disables or enables an account; false when there is no such user.
pub async fn set_disabled(db: &Db, id: &str, disabled: bool) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE users SET disabled = $1 WHERE id = $2";
    let n = on_db!(db, pool => sqlx::query(sql).bind(disabled).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Replaces an account's password hash; false when there is no such user.
pub async fn set_password_hash(db: &Db, id: &str, password_hash: &str) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
    let n = on_db!(db, pool => sqlx::query(sql).bind(password_hash).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Whether the account with this id exists and is not disabled.
pub async fn is_active(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let sql = "SELECT disabled FROM users WHERE id = $1";
    let row: Option<(bool,)> = on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.is_some_and(|(disabled,)| !disabled))
}
