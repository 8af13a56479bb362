//! The scheduler: one loop per server that, while it leads, turns due schedules into queued
//! executions, one per (workflow, fire time). The cron and interval arithmetic it (and the
//! API's checks) relies on is [`schedule`], pure functions without clock or database.
//!
//! - [`tick`] is the whole step with an explicit clock, so tests choose the time: it finds the
//!   enabled workflows whose `next_fire_at` has come, creates their runs (ids `sch.…`, each with
//!   its fire time as `scheduled_for`) and moves `next_fire_at` to the first fire time after now.
//! - [`spawn`] runs [`tick`] every `scheduler_tick_ms` while this server is the leader: on
//!   PostgreSQL the holder of a session advisory lock on a dedicated connection, on SQLite (one
//!   node) the holder of the `scheduler` row of `leases`. [`leader`] says who leads.
//!
//! Exactly once. A scheduled execution carries the unique `fire_key` `<workflow>@<fire ms>`, so
//! creating the same fire twice is a no-op: two servers ticking at once (a lost lock, a network
//! partition) cannot double a run, and a crash between creating a run and moving `next_fire_at`
//! only makes the next tick find the run already there. The leader lock is what keeps the work
//! (and the misfire decisions) in one place; the key is what makes doubles impossible.
//!
//! Edits win. The API recomputes `next_fire_at` on every edit, enable and disable; the scheduler
//! moves it only if neither it nor `updated_at` changed since it was read, so a concurrent edit
//! is never overwritten. An edit that lands between the read and the run creation (a few
//! milliseconds) counts as made just after that fire.
//!
//! Misfires. A fire time older than the grace (two ticks, at least [`MIN_GRACE`]; longer when a
//! slow tick delayed the next one) was missed: the server was down or no leader ran. With
//! `misfire: skip` missed fire times are dropped and the schedule carries on at its next fire
//! time; with `run_once` they collapse into one run whose `scheduled_for` is the latest missed
//! fire time.
//!
//! Expiry. Each tick also ends `expired` the queued runs past their queue deadline
//! (`max_queue`), with their failure notifications ([`crate::queue::expire`]).
//!
//! Failures. A run that cannot be created because the workflow is unusable (no bundle, a missing
//! notebook, a runtime without a built image, an invalid schedule) is logged and recorded on the
//! workflow (`last_fire_error`, until a later fire creates a run), and its fire time passes: it
//! neither blocks other workflows nor fires again. A storage fault leaves `next_fire_at` unchanged, so the next tick
//! tries again (and the fire key keeps that from doubling anything).

pub mod schedule;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use nbw_core::api::{FireError, Misfire, Origin};
use nbw_core::params::Parameters;
use sqlx::{Connection, PgConnection};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::{Db, Pg, to_time};
use crate::error::Error;
use crate::on_db;
use crate::runs;
use crate::state::AppState;
use crate::store::workflows::WorkflowRow;

/// The smallest grace: a fire time at most this old is on time, not missed.
pub const MIN_GRACE: Duration = Duration::seconds(5);

/// The `leases` row and the advisory lock key of the scheduler leader.
const LEASE: &str = "scheduler";
/// `pg_try_advisory_lock` key: "nbw.schd" as a big-endian integer, unlikely to meet another
/// application's key on a shared cluster.
const LOCK_KEY: i64 = 0x6e62_772e_7363_6864;
/// Due workflows read per query.
const BATCH: i64 = 500;
/// Workflows handled at once within a tick.
const PARALLEL: usize = 8;
/// Runs one workflow may get in one tick (a one-second cron within the grace gets a few).
const MAX_RUNS_PER_TICK: usize = 100;

/// What one [`tick`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Enabled workflows whose `next_fire_at` had come.
    pub due: usize,
    /// Executions created.
    pub fired: usize,
    /// Fires that existed already (another server, or a retry after a crash, made them).
    pub duplicates: usize,
    /// Workflows that had missed fire times (dropped with `skip`, collapsed with `run_once`).
    pub misfired: usize,
    /// Workflows whose run could not be created (no bundle, a missing notebook, a runtime not
    /// built, an invalid schedule): logged and recorded on the workflow, and their fire time
    /// passed.
    pub failed: usize,
    /// Workflows left for the next tick after a storage fault.
    pub errors: usize,
    /// Workflows edited (or advanced by another server) while this tick handled them: the
    /// newer `next_fire_at` stands.
    pub superseded: usize,
    /// Queued runs past their `max_queue`, ended `expired`.
    pub expired: usize,
}

impl TickReport {
    fn add(&mut self, other: &TickReport) {
        self.due += other.due;
        self.fired += other.fired;
        self.duplicates += other.duplicates;
        self.misfired += other.misfired;
        self.failed += other.failed;
        self.errors += other.errors;
        self.superseded += other.superseded;
        self.expired += other.expired;
    }
}

/// The grace of a server ticking every `config.scheduler_tick_ms`: two ticks, at least
/// [`MIN_GRACE`].
pub fn grace(config: &Config) -> Duration {
    MIN_GRACE.max(Duration::milliseconds(2 * config.scheduler_tick_ms.min(i64::MAX as u64 / 4) as i64))
}

/// One scheduling step at `now`: creates the runs of every due schedule and moves each
/// `next_fire_at` past `now`. Safe to run on several servers at once (see the module docs).
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
    tick_with_grace(state, now, grace(&state.config)).await
}

async fn tick_with_grace(
    state: &AppState,
    now: DateTime<Utc>,
    grace: Duration,
) -> anyhow::Result<TickReport> {
    let mut report = TickReport::default();
    // Keyset pages over (next_fire_at, id), so a row left due (a storage fault, an edit that
    // kept it due) is not read twice in one tick and the loop always ends.
    let mut after = (i64::MIN, String::new());
    loop {
        let page = due(&state.db, now.timestamp_millis(), &after).await?;
        let Some(last) = page.last() else { break };
        after = (last.next_fire_at.unwrap_or(i64::MIN), last.id.clone());
        let full = page.len() as i64 == BATCH;
        let mut handled =
            futures::stream::iter(page).map(|row| fire(state, row, now, grace)).buffer_unordered(PARALLEL);
        while let Some(one) = handled.next().await {
            report.add(&one);
        }
        if !full {
            break;
        }
    }
    // The leader's tick also ends the runs that waited too long: one server does it, on the
    // same clock as the fires.
    report.expired = crate::queue::expire(state, now.timestamp_millis()).await?;
    Ok(report)
}

/// Enabled workflows due at `now_ms`, after the keyset position `after`.
async fn due(db: &Db, now_ms: i64, after: &(i64, String)) -> Result<Vec<WorkflowRow>, sqlx::Error> {
    let sql = "SELECT * FROM workflows WHERE enabled = TRUE AND next_fire_at <= $1 \
               AND (next_fire_at > $2 OR (next_fire_at = $2 AND id > $3)) \
               ORDER BY next_fire_at, id LIMIT $4";
    on_db!(db, pool => sqlx::query_as(sql).bind(now_ms).bind(after.0).bind(&after.1).bind(BATCH).fetch_all(pool).await)
}

/// Handles one due workflow: its runs, then its next fire time.
async fn fire(state: &AppState, row: WorkflowRow, now: DateTime<Utc>, grace: Duration) -> TickReport {
    let mut report = TickReport { due: 1, ..TickReport::default() };
    let Some(stored) = row.next_fire_at else { return report };
    let schedule = row.spec().schedule;
    let compiled = match schedule.as_ref().map(schedule::compile) {
        Some(Ok(compiled)) => compiled,
        None => {
            // The schedule was removed without clearing next_fire_at: stop firing.
            advance(state, &row, stored, None, row.fire_error.clone(), &mut report).await;
            return report;
        }
        Some(Err(e)) => {
            tracing::warn!(workflow = %row.id, project = %row.project_id, error = %e, "invalid schedule; it stops firing");
            report.failed += 1;
            let error = fire_error(to_time(stored), e.code(), &e.to_string());
            advance(state, &row, stored, None, Some(error), &mut report).await;
            return report;
        }
    };
    let misfire = schedule.map(|s| s.misfire).unwrap_or_default();
    // Interval phases count from the fire time stored last: whatever phase the API chose holds.
    let anchor = to_time(stored);
    let cutoff = now - grace;
    let mut fire_times = Vec::new();
    if anchor < cutoff {
        report.misfired += 1;
        if misfire == Misfire::RunOnce {
            let latest = compiled
                .last_at_or_before(cutoff - Duration::milliseconds(1), anchor)
                .filter(|t| *t >= anchor)
                .unwrap_or(anchor);
            fire_times.push(latest);
        }
    }
    let mut on_time = if anchor >= cutoff {
        Some(anchor)
    } else {
        compiled.next_after(cutoff - Duration::milliseconds(1), anchor)
    };
    while let Some(at) = on_time.filter(|t| *t <= now && fire_times.len() < MAX_RUNS_PER_TICK) {
        fire_times.push(at);
        on_time = compiled.next_after(at, anchor);
    }
    if report.misfired > 0 {
        tracing::info!(
            workflow = %row.id, project = %row.project_id, missed_since = %anchor, policy = ?misfire,
            "missed fire times after downtime"
        );
    }

    // Kept when no fire is due (all missed and skipped): nothing new is known.
    let mut error = row.fire_error.clone();
    for at in fire_times {
        let fire_ms = at.timestamp_millis();
        match runs::enqueue_workflow(
            state,
            &row,
            Origin::Schedule,
            Parameters::default(),
            None,
            Some(fire_ms),
        )
        .await
        {
            Ok(Some(execution)) => {
                report.fired += 1;
                error = None;
                tracing::debug!(workflow = %row.id, execution = %execution.id, fire = %at, "scheduled run queued");
            }
            Ok(None) => {
                report.duplicates += 1;
                error = None;
            }
            Err(Error::Internal(e)) => {
                tracing::warn!(workflow = %row.id, fire = %at, error = %e, "could not queue a scheduled run; retrying at the next tick");
                report.errors += 1;
                return report;
            }
            Err(e) => {
                // The same cause would refuse every fire time of this tick.
                tracing::warn!(
                    workflow = %row.id, project = %row.project_id, fire = %at, error = %e,
                    "scheduled run not created; the schedule carries on at its next fire time"
                );
                report.failed += 1;
                error = Some(fire_error(at, e.code(), &e.to_string()));
                break;
            }
        }
    }
    let next = compiled.next_after(now, anchor).map(|t| t.timestamp_millis());
    advance(state, &row, stored, next, error, &mut report).await;
    report
}

/// A [`FireError`] as the `fire_error` column stores it.
fn fire_error(at: DateTime<Utc>, code: &str, message: &str) -> String {
    let error = FireError { at, code: code.to_owned(), message: message.to_owned() };
    serde_json::to_string(&error).expect("fire errors serialize")
}

/// Moves `next_fire_at` from `stored` to `next` and records the fires' `error` (users see it
/// on the workflow), unless the row changed since it was read.
async fn advance(
    state: &AppState,
    row: &WorkflowRow,
    stored: i64,
    next: Option<i64>,
    error: Option<String>,
    report: &mut TickReport,
) {
    let sql = "UPDATE workflows SET next_fire_at = $1, fire_error = $5 \
               WHERE id = $2 AND next_fire_at = $3 AND updated_at = $4";
    let result = on_db!(&state.db, pool => sqlx::query(sql)
        .bind(next).bind(&row.id).bind(stored).bind(row.updated_at).bind(&error)
        .execute(pool).await.map(|r| r.rows_affected()));
    match result {
        Ok(1) => {}
        Ok(_) => report.superseded += 1,
        Err(e) => {
            tracing::warn!(workflow = %row.id, error = %e, "could not move next_fire_at; retrying at the next tick");
            report.errors += 1;
        }
    }
}

/// Who leads the schedulers, as the `leases` table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// `host/pid/random`: the server process.
    pub holder: String,
    /// Until when its claim holds unless renewed.
    pub until: DateTime<Utc>,
}

/// The current leader, if any claim is unexpired.
pub async fn leader(db: &Db) -> Result<Option<Leader>, sqlx::Error> {
    let sql = "SELECT holder, until FROM leases WHERE name = $1 AND until > $2";
    let row: Option<(String, i64)> = on_db!(db, pool => sqlx::query_as(sql)
        .bind(LEASE).bind(Utc::now().timestamp_millis()).fetch_optional(pool).await)?;
    Ok(row.map(|(holder, until)| Leader { holder, until: to_time(until) }))
}

/// Runs [`tick`] every `config.scheduler_tick_ms` while this server leads, until `shutdown`;
/// then gives leadership up, so another server (or this one restarted) takes over at once.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = StdDuration::from_millis(state.config.scheduler_tick_ms.max(10));
        let base_grace = grace(&state.config);
        let mut leadership = Leadership::new(&state.config);
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The `now` of this leader's previous tick: a fire time after it is late, not missed,
        // however long a slow tick made this one wait.
        let mut previous: Option<DateTime<Utc>> = None;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            if !leadership.hold(&state.db).await {
                previous = None;
                continue;
            }
            let now = Utc::now();
            let grace = match previous {
                Some(previous) => base_grace.max(now - previous + base_grace),
                None => base_grace,
            };
            match tick_with_grace(&state, now, grace).await {
                Ok(report) if report.fired + report.failed + report.errors + report.expired > 0 => {
                    tracing::info!(?report, "scheduler tick");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
            }
            previous = Some(now);
        }
        leadership.release(&state.db).await;
    })
}

/// This server's claim to lead the schedulers.
struct Leadership {
    holder: String,
    /// How long a claim in `leases` holds unless renewed.
    ttl: Duration,
    /// PostgreSQL: the connection whose session holds (or tries for) the advisory lock.
    connection: Option<PgConnection>,
    leading: bool,
}

impl Leadership {
    fn new(config: &Config) -> Leadership {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".into());
        let random = nbw_core::ids::random_id();
        Leadership {
            holder: format!("{host}/{}/{}", std::process::id(), &random[..8]),
            // Long enough for a slow tick; a crashed leader's successor waits at most this long.
            ttl: Duration::seconds(15)
                .max(Duration::milliseconds(10 * config.scheduler_tick_ms.min(1 << 40) as i64)),
            connection: None,
            leading: false,
        }
    }

    /// Whether this server leads now: keeps or takes the lead.
    async fn hold(&mut self, db: &Db) -> bool {
        let was_leading = self.leading;
        self.leading = match db {
            Db::Postgres(pg) => self.hold_advisory_lock(pg).await,
            Db::Sqlite(_) => self.renew_lease(db, false).await,
        };
        if self.leading && !was_leading {
            tracing::info!(holder = %self.holder, "this server now runs the scheduler");
        } else if was_leading && !self.leading {
            tracing::warn!(holder = %self.holder, "this server lost the scheduler lead");
        }
        self.leading
    }

    /// PostgreSQL: a session advisory lock, held as long as the dedicated connection lives
    /// (the database frees it the moment the session ends, crash included). The lease row is
    /// then written for [`leader`] only.
    async fn hold_advisory_lock(&mut self, pg: &Pg) -> bool {
        let checked = async {
            if self.connection.is_none() {
                self.connection = Some(PgConnection::connect_with(&pg.pool.connect_options()).await?);
            }
            let connection = self.connection.as_mut().expect("connected above");
            if self.leading {
                // A live session still holds its lock; a dead one has lost it.
                sqlx::query("SELECT 1").execute(&mut *connection).await?;
                Ok(true)
            } else {
                let (taken,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                    .bind(LOCK_KEY)
                    .fetch_one(&mut *connection)
                    .await?;
                Ok::<bool, sqlx::Error>(taken)
            }
        };
        match tokio::time::timeout(StdDuration::from_secs(10), checked).await {
            Ok(Ok(true)) => {
                self.renew_lease(&Db::Postgres(pg.clone()), true).await;
                true
            }
            Ok(Ok(false)) => false,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "scheduler lock connection failed");
                self.connection = None;
                false
            }
            Err(_) => {
                tracing::warn!("scheduler lock connection timed out");
                self.connection = None;
                false
            }
        }
    }

    /// Takes or renews the `leases` row; `force` overwrites another holder's row (PostgreSQL,
    /// where the lock decides and the row only shows the result).
    async fn renew_lease(&self, db: &Db, force: bool) -> bool {
        let now = Utc::now().timestamp_millis();
        let sql = "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                   WHERE $4 OR leases.holder = excluded.holder OR leases.until < $5";
        let until = now + self.ttl.num_milliseconds();
        let result = on_db!(db, pool => sqlx::query(sql)
            .bind(LEASE).bind(&self.holder).bind(until).bind(force).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()));
        match result {
            Ok(n) => n == 1,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the scheduler lease");
                false
            }
        }
    }

    /// Gives the lead up: the lock, the connection and the lease row.
    async fn release(&mut self, db: &Db) {
        if let Some(mut connection) = self.connection.take() {
            if self.leading {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(LOCK_KEY)
                    .execute(&mut connection)
                    .await;
            }
            let _ = connection.close().await;
        }
        if self.leading {
            let sql = "DELETE FROM leases WHERE name = $1 AND holder = $2";
            let _ = on_db!(db, pool => sqlx::query(sql).bind(LEASE).bind(&self.holder)
                .execute(pool).await.map(|r| r.rows_affected()));
        }
        self.leading = false;
    }
}
