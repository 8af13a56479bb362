//! Executions: creation, lookup, history queries and cancel requests. The queue's own
//! statements (claim, lease, completion) live in [`super::queue`].

use std::collections::BTreeMap;

use nbw_core::api::{Execution, ExecutionResult, ExecutionSpec, ExecutionState, Origin};

use crate::db::{Db, now_ms, to_time, to_time_opt};
use crate::on_db;

/// An execution row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExecutionRow {
    /// Id with its origin prefix.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Workflow id.
    pub workflow_id: Option<String>,
    /// Origin name.
    pub origin: String,
    /// State name.
    pub state: String,
    /// [`ExecutionSpec`] as JSON.
    pub spec: String,
    /// Labels as JSON.
    pub labels: String,
    /// Attempt number.
    pub attempt: i64,
    /// First attempt.
    pub first_attempt_id: Option<String>,
    /// Previous attempt.
    pub previous_attempt_id: Option<String>,
    /// `<workflow id>@<fire time ms>` for scheduled runs: unique, so a fire happens once.
    pub fire_key: Option<String>,
    /// The fire time (ms).
    pub scheduled_for: Option<i64>,
    /// Not claimable before (ms): retries wait out their backoff.
    pub not_before: i64,
    /// The agent holding (or that held) it.
    pub agent_id: Option<String>,
    /// Lease expiry (ms).
    pub lease_until: Option<i64>,
    /// A cancel was asked for.
    pub cancel_requested: bool,
    /// Creator.
    pub created_by: Option<String>,
    /// Times (ms).
    pub created_at: i64,
    /// Claimed.
    pub claimed_at: Option<i64>,
    /// Started.
    pub started_at: Option<i64>,
    /// Finished.
    pub finished_at: Option<i64>,
    /// [`ExecutionResult`] as JSON.
    pub result: Option<String>,
    /// Artifact key of the output notebook, once stored.
    pub output_key: Option<String>,
    /// Highest event sequence number stored.
    pub last_seq: i64,
    /// The effective timeout it was created with, in seconds (the spec's, recorded).
    pub timeout_secs: Option<i64>,
    /// Still queued after this (ms), it ends `expired`.
    pub queue_deadline: Option<i64>,
}

impl ExecutionRow {
    /// The state.
    pub fn state(&self) -> ExecutionState {
        ExecutionState::parse(&self.state).unwrap_or(ExecutionState::Failed)
    }

    /// The spec.
    pub fn spec(&self) -> ExecutionSpec {
        serde_json::from_str(&self.spec).expect("specs are written by this server")
    }

    /// The API view.
    pub fn to_api(&self) -> Execution {
        Execution {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            workflow_id: self.workflow_id.clone(),
            origin: Origin::of_id(&self.id).unwrap_or(Origin::Web),
            state: self.state(),
            spec: self.spec(),
            labels: serde_json::from_str(&self.labels).unwrap_or_default(),
            attempt: self.attempt as u32,
            first_attempt_id: self.first_attempt_id.clone(),
            previous_attempt_id: self.previous_attempt_id.clone(),
            scheduled_for: to_time_opt(self.scheduled_for),
            agent_id: self.agent_id.clone(),
            cancel_requested: self.cancel_requested,
            created_at: to_time(self.created_at),
            started_at: to_time_opt(self.started_at),
            finished_at: to_time_opt(self.finished_at),
            result: self.result.as_deref().and_then(|r| serde_json::from_str::<ExecutionResult>(r).ok()),
            has_output: self.output_key.is_some(),
            queue_deadline: to_time_opt(self.queue_deadline),
        }
    }
}

/// What a new execution needs.
#[derive(Debug, Clone)]
pub struct NewExecution {
    /// Its id (from [`Origin::new_id`]).
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Workflow id.
    pub workflow_id: Option<String>,
    /// What it runs.
    pub spec: ExecutionSpec,
    /// Agent labels required.
    pub labels: BTreeMap<String, String>,
    /// 1 for a first attempt.
    pub attempt: u32,
    /// First attempt, for retries.
    pub first_attempt_id: Option<String>,
    /// Previous attempt, for retries.
    pub previous_attempt_id: Option<String>,
    /// The schedule fire that creates it: `(fire_key, fire time ms)`.
    pub fire: Option<(String, i64)>,
    /// Not claimable before (ms).
    pub not_before: i64,
    /// Creator.
    pub created_by: Option<String>,
}

/// Inserts a queued execution; false when its fire key exists already (that fire happened).
pub async fn insert(db: &Db, new: &NewExecution) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO executions (id, project_id, workflow_id, origin, state, spec, labels, attempt, \
               first_attempt_id, previous_attempt_id, fire_key, scheduled_for, not_before, created_by, created_at, \
               timeout_secs, queue_deadline) \
               VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
               ON CONFLICT (fire_key) DO NOTHING";
    let timeout = new.spec.timeout_secs.map(|t| t.min(i64::MAX as u64) as i64);
    let deadline = new
        .spec
        .max_queue_secs
        .map(|q| new.not_before.saturating_add((q.min(i64::MAX as u64 / 1000) * 1000) as i64));
    let origin = Origin::of_id(&new.id).unwrap_or(Origin::Web).prefix();
    let spec = serde_json::to_string(&new.spec).expect("specs serialize");
    let labels = serde_json::to_string(&new.labels).expect("labels serialize");
    let (fire_key, scheduled_for) = match &new.fire {
        Some((key, at)) => (Some(key.as_str()), Some(*at)),
        None => (None, None),
    };
    let inserted = on_db!(db, pool => sqlx::query(sql)
        .bind(&new.id).bind(&new.project_id).bind(&new.workflow_id).bind(origin).bind(&spec).bind(&labels)
        .bind(new.attempt as i64).bind(&new.first_attempt_id).bind(&new.previous_attempt_id)
        .bind(fire_key).bind(scheduled_for).bind(new.not_before).bind(&new.created_by).bind(now_ms())
        .bind(timeout).bind(deadline)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// One execution.
pub async fn get(db: &Db, id: &str) -> Result<Option<ExecutionRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as("SELECT * FROM executions WHERE id = $1").bind(id).fetch_optional(pool).await)
}

/// History filters; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Project id (required).
    pub project_id: String,
    /// Workflow id.
    pub workflow_id: Option<String>,
    /// State.
    pub state: Option<ExecutionState>,
    /// Created at or after (ms).
    pub since: Option<i64>,
    /// Created before (ms).
    pub until: Option<i64>,
    /// Continue after this `(created_at, id)`.
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

/// Executions matching `filter`, newest first.
pub async fn list(db: &Db, filter: &Filter) -> Result<Vec<ExecutionRow>, sqlx::Error> {
    // Optional filters are written as `($n IS NULL OR column = $n)`, so one statement serves every
    // combination and placeholders keep their order of first use.
    let sql = "SELECT * FROM executions WHERE project_id = $1 \
               AND ($2 IS NULL OR workflow_id = $2) \
               AND ($3 IS NULL OR state = $3) \
               AND ($4 IS NULL OR created_at >= $4) \
               AND ($5 IS NULL OR created_at < $5) \
               AND ($6 IS NULL OR created_at < $6 OR (created_at = $6 AND id < $7)) \
               ORDER BY created_at DESC, id DESC LIMIT $8";
    let (after_at, after_id) = match &filter.after {
        Some((at, id)) => (Some(*at), Some(id.clone())),
        None => (None, None),
    };
    on_db!(db, pool => sqlx::query_as(sql)
        .bind(&filter.project_id).bind(&filter.workflow_id).bind(filter.state.map(ExecutionState::as_str))
        .bind(filter.since).bind(filter.until).bind(after_at).bind(after_id).bind(filter.limit)
        .fetch_all(pool).await)
}

/// Asks for a cancel: a queued execution ends `cancelled` at once; a running one is flagged and
/// its agent learns it at the next heartbeat. Returns the row after the change.
pub async fn request_cancel(db: &Db, id: &str) -> Result<Option<ExecutionRow>, sqlx::Error> {
    let now = now_ms();
    let result = serde_json::to_string(&ExecutionResult {
        values: None,
        values_error: None,
        state: ExecutionState::Cancelled,
        message: Some("cancelled before an agent started it".into()),
        failed_cell: None,
        failed_source: None,
        duration_ms: None,
        image: None,
    })
    .expect("results serialize");
    on_db!(db, pool => {
        sqlx::query("UPDATE executions SET state = 'cancelled', finished_at = $2, result = $3 WHERE id = $1 AND state = 'queued'")
            .bind(id).bind(now).bind(&result).execute(pool).await?;
        sqlx::query("UPDATE executions SET cancel_requested = TRUE WHERE id = $1 AND state = 'running'")
            .bind(id).execute(pool).await?;
        Ok::<_, sqlx::Error>(())
    })?;
    get(db, id).await
}

/// An execution with the names a list shows beside it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedExecution {
    /// The execution.
    #[sqlx(flatten)]
    pub row: ExecutionRow,
    /// Its project's name.
    pub project_name: String,
    /// Its workflow's name, if it runs a workflow that still exists.
    pub workflow_name: Option<String>,
}

/// Filters of the history across the projects a user is a member of.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// The member (required): only their projects' executions.
    pub user_id: String,
    /// Project id.
    pub project_id: Option<String>,
    /// Workflow id.
    pub workflow_id: Option<String>,
    /// State name.
    pub state: Option<String>,
    /// Only failed, timed out, lost and expired executions.
    pub failures: bool,
    /// Origin prefix (`web`, `cli`, `sch`, `pip`, `rty`).
    pub origin: Option<String>,
    /// Created at or after (ms).
    pub since: Option<i64>,
    /// Created before (ms).
    pub until: Option<i64>,
    /// Continue after this `(created_at, id)`.
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

/// A bound value of a query built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// The WHERE clause of `filter` (only the filters it sets, so each stays a plain comparison an
/// index can serve) and its arguments, numbered after the member's `$1`: each condition names
/// its own values `?1`, `?2`, renumbered as they are appended.
fn member_conditions(filter: &MemberFilter) -> (String, Vec<Arg>) {
    let mut sql = String::new();
    let mut args = vec![Arg::Text(filter.user_id.clone())];
    let mut push = |condition: &str, values: Vec<Arg>| {
        let mut condition = condition.to_owned();
        for (i, value) in values.into_iter().enumerate() {
            args.push(value);
            condition = condition.replace(&format!("?{}", i + 1), &format!("${}", args.len()));
        }
        sql.push_str(" AND ");
        sql.push_str(&condition);
    };
    let text = |value: &Option<String>| value.clone().map(Arg::Text);
    for (column, value) in [
        ("e.project_id", &filter.project_id),
        ("e.workflow_id", &filter.workflow_id),
        ("e.state", &filter.state),
        ("e.origin", &filter.origin),
    ] {
        if let Some(value) = text(value) {
            push(&format!("{column} = ?1"), vec![value]);
        }
    }
    if filter.failures {
        push("e.state IN ('failed', 'timed_out', 'lost', 'expired')", Vec::new());
    }
    if let Some(since) = filter.since {
        push("e.created_at >= ?1", vec![Arg::Int(since)]);
    }
    if let Some(until) = filter.until {
        push("e.created_at < ?1", vec![Arg::Int(until)]);
    }
    if let Some((at, id)) = &filter.after {
        // Written out rather than as a row value, so both planners see a range on created_at.
        push(
            "(e.created_at < ?1 OR (e.created_at = ?1 AND e.id < ?2))",
            vec![Arg::Int(*at), Arg::Text(id.clone())],
        );
    }
    (sql, args)
}

/// Executions of the member's projects matching `filter`, newest first: a keyset page on
/// `(created_at, id)` (indexes `executions_created`, and `executions_state_created` and
/// `executions_origin_created` for those filters), never an OFFSET, so page 1,000 costs what
/// page 1 does.
pub async fn list_for_member(db: &Db, filter: &MemberFilter) -> Result<Vec<ListedExecution>, sqlx::Error> {
    let (conditions, args) = member_conditions(filter);
    let sql = format!(
        "SELECT e.*, p.name AS project_name, w.name AS workflow_name FROM executions e \
         JOIN members m ON m.project_id = e.project_id AND m.user_id = $1 \
         JOIN projects p ON p.id = e.project_id \
         LEFT JOIN workflows w ON w.id = e.workflow_id \
         WHERE TRUE{conditions} ORDER BY e.created_at DESC, e.id DESC LIMIT {}",
        filter.limit.max(1)
    );
    on_db!(db, pool => {
        // Safe: the text is this function's own columns and numbered placeholders; every value
        // is bound.
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for arg in &args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Int(number) => query.bind(number),
            };
        }
        query.fetch_all(pool).await
    })
}

/// The project's last `limit` runtime builds (executions whose spec has a `build`), newest
/// first; their logs are their event streams.
pub async fn builds(db: &Db, project_id: &str, limit: i64) -> Result<Vec<ExecutionRow>, sqlx::Error> {
    let sql = "SELECT * FROM executions WHERE project_id = $1 AND spec LIKE '%\"build\":{%' \
               ORDER BY created_at DESC, id DESC LIMIT $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(limit).fetch_all(pool).await)
}

/// The retry that followed execution `id`, if one was queued.
pub async fn next_attempt(db: &Db, id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT id FROM executions WHERE previous_attempt_id = $1 ORDER BY created_at LIMIT 1";
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(|(id,)| id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_filters_number_their_placeholders_in_order() {
        let filter = MemberFilter {
            user_id: "u".into(),
            state: Some("failed".into()),
            since: Some(5),
            after: Some((9, "x".into())),
            ..Default::default()
        };
        let (sql, args) = member_conditions(&filter);
        assert_eq!(
            sql,
            " AND e.state = $2 AND e.created_at >= $3 AND (e.created_at < $4 OR (e.created_at = $4 AND e.id < $5))"
        );
        assert_eq!(args.len(), 5);
    }
}
