//! The shared handles every part of the server reaches: the database, the configuration, the
//! keys, the artifact store, the wake-ups, the metrics and the agent-token and active-user
//! caches. A leaf: it imports nothing above it, so any module may hold an [`AppState`] without
//! a loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::artifacts::Artifacts;
use crate::auth::identity::AgentCaller;
use crate::auth::keys::Keys;
use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;

/// The PostgreSQL channel that announces new work.
pub const WORK_CHANNEL: &str = "nbw_work";

/// What every handler and service can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The configuration.
    pub config: Arc<Config>,
    /// Keys derived from the server secret.
    pub keys: Arc<Keys>,
    /// Bundles and outputs.
    pub artifacts: Arc<Artifacts>,
    /// Wakes agents waiting for work.
    pub wake: Arc<Wake>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Agent tokens checked in the last second.
    pub agent_tokens: Arc<AgentTokenCache>,
    /// Users found active (not disabled) in the last second.
    pub active_users: Arc<ActiveUsers>,
}

impl AppState {
    /// State over an open database and artifact store.
    pub fn new(db: Db, config: Config, keys: Keys, artifacts: Artifacts) -> AppState {
        AppState {
            db,
            config: Arc::new(config),
            keys: Arc::new(keys),
            artifacts: Arc::new(artifacts),
            wake: Arc::new(Wake::default()),
            metrics: Arc::new(Metrics::default()),
            agent_tokens: Arc::new(AgentTokenCache::default()),
            active_users: Arc::new(ActiveUsers::default()),
        }
    }
}

/// Wakes claimers waiting for work, and event-stream readers waiting for events.
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
    events: Notify,
}

impl Wake {
    /// Announces that executions were queued (or became due).
    pub async fn work_available(&self, db: &Db) {
        self.notify.notify_waiters();
        if let Db::Postgres(pg) = db
            && let Err(e) = sqlx::query("SELECT pg_notify($1, '')").bind(WORK_CHANNEL).execute(&pg.pool).await
        {
            tracing::warn!(error = %e, "could not NOTIFY other servers of new work");
        }
    }

    /// Wakes local waiters only (a NOTIFY from another server arrived).
    pub fn wake_local(&self) {
        self.notify.notify_waiters();
    }

    /// Resolves at the next announcement. A waiter registers when this is called, so call it
    /// before looking for work, then await it.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    /// Announces that events were stored, or that an execution finished.
    pub fn events_changed(&self) {
        self.events.notify_waiters();
    }

    /// Resolves at the next [`Wake::events_changed`] of this process (readers also poll, for
    /// events stored through another server). Call it before reading, then await it.
    pub fn events_notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.events.notified()
    }
}

/// How long an agent token (or a user's active account) stays trusted without a database read.
/// Agents call several times per execution; a revoked token keeps working on other servers for
/// at most this long (on the server that revoked it, at once).
const AGENT_CACHE_TTL: Duration = Duration::from_secs(1);

/// Recently checked agent tokens, by hash.
#[derive(Debug, Default)]
pub struct AgentTokenCache {
    entries: Mutex<HashMap<String, (AgentCaller, Instant)>>,
}

impl AgentTokenCache {
    /// The agent whose token has hash `hash`, if checked less than a second ago.
    pub fn get(&self, hash: &str) -> Option<AgentCaller> {
        let entries = self.entries.lock().expect("agent cache lock");
        entries.get(hash).filter(|(_, at)| at.elapsed() < AGENT_CACHE_TTL).map(|(caller, _)| caller.clone())
    }

    /// Remembers a checked token.
    pub fn put(&self, hash: String, caller: AgentCaller) {
        let mut entries = self.entries.lock().expect("agent cache lock");
        entries.retain(|_, (_, at)| at.elapsed() < AGENT_CACHE_TTL);
        entries.insert(hash, (caller, Instant::now()));
    }

    /// Forgets an agent (revoked, or its labels changed).
    pub fn forget(&self, agent_id: &str) {
        self.entries.lock().expect("agent cache lock").retain(|_, (caller, _)| caller.agent_id != agent_id);
    }
}

/// Users whose account was found active (existing, not disabled) less than a second ago. An
/// access token is a signed JWT that no table revokes; this is what makes a disabled account's
/// tokens stop working (at once on the server that disabled it, within a second on the others)
/// without a database read on every request.
#[derive(Debug, Default)]
pub struct ActiveUsers {
    entries: Mutex<HashMap<String, Instant>>,
}

impl ActiveUsers {
    /// Whether `user_id` was found active less than a second ago.
    pub fn recently_active(&self, user_id: &str) -> bool {
        let entries = self.entries.lock().expect("user cache lock");
        entries.get(user_id).is_some_and(|at| at.elapsed() < AGENT_CACHE_TTL)
    }

    /// Remembers that `user_id` was found active.
    pub fn put(&self, user_id: &str) {
        let mut entries = self.entries.lock().expect("user cache lock");
        entries.retain(|_, at| at.elapsed() < AGENT_CACHE_TTL);
        entries.insert(user_id.to_owned(), Instant::now());
    }

    /// Forgets a user (disabled, or enabled again).
    pub fn forget(&self, user_id: &str) {
        self.entries.lock().expect("user cache lock").remove(user_id);
    }
}
