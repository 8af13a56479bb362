//! The notification outbox: one row per message to deliver, claimed by the delivery loop with a
//! short lease so that two servers never send one row at the same time.
//!
//! A row names its webhook by the project secret holding the URL (`target`), never by the URL:
//! Slack's and Discord's webhook URLs are credentials, and the outbox is plain text.

use nbw_core::api::{Delivery, NotifyChannel};

use crate::db::{Db, Pg, to_time, to_time_opt};
use crate::on_db;

/// Waiting for its next attempt.
pub const PENDING: &str = "pending";
/// Accepted by the receiver.
pub const DELIVERED: &str = "delivered";
/// Given up on.
pub const FAILED: &str = "failed";

/// An outbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    /// Id.
    pub id: String,
    /// Project id (whose secret holds the URL).
    pub project_id: String,
    /// The execution it is about.
    pub execution_id: Option<String>,
    /// `slack`, `discord` or `webhook`.
    pub channel: String,
    /// The name of the project secret holding the URL.
    pub target: String,
    /// The JSON body to POST.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Not before this time (ms); while claimed, the end of the claim.
    pub next_attempt_at: i64,
    /// The last error: an HTTP status and the start of the body, or what went wrong.
    pub last_error: Option<String>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Delivery time (ms).
    pub delivered_at: Option<i64>,
}

/// The stored name of a channel.
pub fn channel_name(channel: NotifyChannel) -> &'static str {
    match channel {
        NotifyChannel::Slack => "slack",
        NotifyChannel::Discord => "discord",
        NotifyChannel::Webhook => "webhook",
    }
}

/// A channel from its stored name.
pub fn parse_channel(name: &str) -> Option<NotifyChannel> {
    match name {
        "slack" => Some(NotifyChannel::Slack),
        "discord" => Some(NotifyChannel::Discord),
        "webhook" => Some(NotifyChannel::Webhook),
        _ => None,
    }
}

impl OutboxRow {
    /// The API view (the target secret's name and the payload are not shown).
    pub fn to_api(&self) -> Delivery {
        Delivery {
            id: self.id.clone(),
            execution_id: self.execution_id.clone(),
            channel: parse_channel(&self.channel).unwrap_or(NotifyChannel::Webhook),
            state: self.state.clone(),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_error: self.last_error.clone(),
            created_at: to_time(self.created_at),
            delivered_at: to_time_opt(self.delivered_at),
        }
    }
}

/// Inserts a row; a row with the same id is left as it is (enqueueing the same execution's
/// notifications twice sends them once). Returns whether it was inserted.
pub async fn insert(db: &Db, row: &OutboxRow) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO outbox (id, project_id, execution_id, channel, target, payload, state, attempts, \
               next_attempt_at, last_error, created_at, delivered_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING";
    let inserted = on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.project_id).bind(&row.execution_id).bind(&row.channel).bind(&row.target)
        .bind(&row.payload).bind(&row.state).bind(row.attempts).bind(row.next_attempt_at).bind(&row.last_error)
        .bind(row.created_at).bind(row.delivered_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Claims up to `limit` due pending rows: their `next_attempt_at` moves to `claim_until`, so
/// no other loop takes them while this one sends. On PostgreSQL the candidates are locked with
/// `FOR UPDATE SKIP LOCKED` (concurrent servers each get different rows); SQLite has one
/// writer, so its single `UPDATE ... RETURNING` is atomic as it stands. A claim that is never
/// finished (a crash) expires at `claim_until` and the row is sent again.
pub async fn claim_due(
    db: &Db,
    now: i64,
    claim_until: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    match db {
        Db::Postgres(Pg { pool, .. }) => {
            let sql = "UPDATE outbox SET next_attempt_at = $1 WHERE id IN ( \
                         SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                       AND state = 'pending' RETURNING *";
            sqlx::query_as(sql).bind(claim_until).bind(now).bind(limit).fetch_all(pool).await
        }
        Db::Sqlite(pool) => {
            let sql = "UPDATE outbox SET next_attempt_at = $1 WHERE id IN ( \
                         SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                         ORDER BY next_attempt_at LIMIT $3) \
                       RETURNING *";
            sqlx::query_as(sql).bind(claim_until).bind(now).bind(limit).fetch_all(pool).await
        }
    }
}

/// Records a successful attempt.
pub async fn mark_delivered(db: &Db, id: &str, attempts: i64, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE outbox SET state = 'delivered', attempts = $1, delivered_at = $2, last_error = NULL \
               WHERE id = $3 AND state = 'pending'";
    on_db!(db, pool => sqlx::query(sql).bind(attempts).bind(now).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt: pending again at `next_attempt_at`, or `failed` for good when
/// `next_attempt_at` is `None`.
pub async fn mark_attempt_failed(
    db: &Db,
    id: &str,
    attempts: i64,
    error: &str,
    next_attempt_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let (state, next) = match next_attempt_at {
        Some(at) => (PENDING, Some(at)),
        None => (FAILED, None),
    };
    let sql = "UPDATE outbox SET state = $1, attempts = $2, last_error = $3, \
               next_attempt_at = COALESCE($4, next_attempt_at) WHERE id = $5 AND state = 'pending'";
    on_db!(db, pool => sqlx::query(sql).bind(state).bind(attempts).bind(error).bind(next).bind(id)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The deliveries of a project, newest first: those of one execution, or the latest `limit`.
pub async fn list(
    db: &Db,
    project_id: &str,
    execution_id: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    match execution_id {
        Some(execution_id) => {
            let sql = "SELECT * FROM outbox WHERE project_id = $1 AND execution_id = $2 \
                       ORDER BY created_at DESC, id LIMIT $3";
            on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(execution_id).bind(limit).fetch_all(pool).await)
        }
        None => {
            let sql = "SELECT * FROM outbox WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2";
            on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(limit).fetch_all(pool).await)
        }
    }
}

/// A project's name, for messages.
pub async fn project_name(db: &Db, project_id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT name FROM projects WHERE id = $1";
    let row: Option<(String,)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_optional(pool).await)?;
    Ok(row.map(|(name,)| name))
}
