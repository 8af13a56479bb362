//! The execution queue's wake-ups: agents long-poll `claim`, and whoever queues work wakes
//! them. In one process a `Notify` does it; across servers on PostgreSQL, `NOTIFY nbw_work`
//! reaches the others' listeners.

use tokio::sync::Notify;

use crate::db::Db;

/// The PostgreSQL channel that announces new work.
pub const WORK_CHANNEL: &str = "nbw_work";

/// Wakes claimers waiting for work.
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
}

impl Wake {
    /// Announces that executions were queued (or became due).
    pub async fn work_available(&self, db: &Db) {
        self.notify.notify_waiters();
        if let Db::Postgres(pool) = db
            && let Err(e) = sqlx::query("SELECT pg_notify($1, '')").bind(WORK_CHANNEL).execute(pool).await
        {
            tracing::warn!(error = %e, "could not NOTIFY other servers of new work");
        }
    }

    /// Wakes local waiters only (a NOTIFY from another server arrived).
    pub fn wake_local(&self) {
        self.notify.notify_waiters();
    }

    /// Resolves at the next announcement.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}
