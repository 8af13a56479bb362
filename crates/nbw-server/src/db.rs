//! The database: SQLite (one file, WAL) by default, PostgreSQL for several servers.
//!
//! No `sqlx::Any` (it lacks the types we need): [`Db`] is an enum of the two pools, and
//! [`on_db!`](crate::on_db) expands one query body for both, since sqlx's query API has the
//! same shape for each. The schema keeps times as epoch milliseconds and JSON as text, so most
//! SQL is one string for both. Placeholders are `$1, $2, ...`: PostgreSQL's syntax, which sqlx's SQLite
//! driver binds by number too (checked by a test below).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A connection pool to either backend.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: single node, one writer at a time.
    Sqlite(SqlitePool),
    /// PostgreSQL: any number of servers.
    Postgres(Pg),
}

/// The PostgreSQL pools: one for everything, and a small one for the queue's claims.
#[derive(Clone, Debug)]
pub struct Pg {
    /// Every statement but claims.
    pub pool: PgPool,
    /// Claims only. Their sessions never sort and never bitmap-scan: the planner's statistics
    /// lag behind a queue that fills in bursts, and with a stale "few rows queued" it otherwise
    /// reads and sorts the whole backlog on every claim (measured: 5,000 index entries read per
    /// claim of a fresh 5,000-row backlog). Set per session, so a claim is one statement and
    /// one round trip, not a transaction of three.
    pub claims: PgPool,
}

/// Runs the same body against whichever pool `db` holds: `on_db!(db, pool => query.fetch_all(pool))`.
/// Both arms must give one type: map an `execute` to `rows_affected()`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres(pg) => {
                let $pool = &pg.pool;
                $body
            }
        }
    };
}

/// A storage failure that is not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database URL is not usable.
    #[error("database URL {url:?} is not usable: {reason}; use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl {
        /// The URL, with any password removed.
        url: String,
        /// Why.
        reason: String,
    },
    /// A query failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:`, `postgres://...`). SQLite files
    /// are created if missing and run in WAL mode with foreign keys on.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        let bad = |reason: String| DbError::BadUrl { url: redact_url(url), reason };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| bad(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.clone())
                .await?;
            // SET after connecting rather than startup options, which connection poolers such
            // as PgBouncer refuse by default.
            let claims = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        sqlx::raw_sql("SET enable_sort = off; SET enable_bitmapscan = off")
                            .execute(connection)
                            .await
                            .map(|_| ())
                    })
                })
                .connect_lazy_with(options);
            Ok(Db::Postgres(Pg { pool, claims }))
        } else {
            Err(bad("unknown scheme".into()))
        }
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Db::Postgres(pg) => sqlx::migrate!("migrations/postgres").run(&pg.pool).await?,
        }
        Ok(())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pg) => tokio::join!(pg.pool.close(), pg.claims.close()).0,
        }
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Epoch milliseconds to a UTC time.
pub fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// An optional epoch-milliseconds column to an optional time.
pub fn to_time_opt(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(to_time)
}

/// Whether an error is a unique-constraint violation (a duplicate name, a fire already taken).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => e.is_unique_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[tokio::test]
    async fn sqlite_binds_dollar_placeholders_by_number() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let Db::Sqlite(pool) = &db else { unreachable!() };
        let row: (i64, String, i64) = sqlx::query_as("SELECT $1 + $1, $2, $3")
            .bind(20_i64)
            .bind("x")
            .bind(3_i64)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(row, (40, "x".to_owned(), 3));
        let swapped: (i64, i64) =
            sqlx::query_as("SELECT $2, $1").bind(1_i64).bind(2_i64).fetch_one(pool).await.unwrap();
        assert_eq!(swapped, (2, 1), "placeholders bind by number, not by order of appearance");
    }
}
