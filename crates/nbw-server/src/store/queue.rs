//! The queue's statements: claiming, leases, events, completion and retries. Every step of an agent is conditional on `state = 'running' AND agent_id = <the
//! agent>`, so only the holder of a lease can act on an execution.

use nbw_core::api::{ExecutionEvent, ExecutionState};

use crate::db::{Db, to_time};
use crate::on_db;
use crate::store::executions::ExecutionRow;

/// Claims the oldest claimable execution (queued, due) whose labels are all among `labels`
/// (a JSON object), for `agent_id` with a lease until `lease_until`, with what the claim
/// carries besides; `None` when there is none. Oldest means due longest: `not_before` (a first
/// attempt's creation time, a retry's end of backoff), the order of the `executions_queue`
/// index, so a claim reads the head of that index and sorts nothing.
///
/// On SQLite one `UPDATE ... RETURNING`, atomic under the single writer. On PostgreSQL the
/// same with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different rows instead of
/// queueing behind one, on the claim pool whose sessions never sort (see [`crate::db::Pg`]);
/// the statement also returns the names and sealed secrets, saving a round trip. Label
/// containment is `<@` on `jsonb` (PostgreSQL) and a double `NOT EXISTS` over `json_each`
/// (SQLite): no execution label the agent lacks. A step of a pipeline run pinned to another
/// agent (its shared volume lives there) is not claimable.
pub async fn claim_next(
    db: &Db,
    agent_id: &str,
    labels: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<(ExecutionRow, ClaimContext)>, sqlx::Error> {
    const SET: &str = "UPDATE executions SET state = 'running', agent_id = $1, claimed_at = $2, started_at = $2, \
                       lease_until = $3 WHERE id = ";
    match db {
        Db::Sqlite(pool) => {
            let sql = format!(
                "{SET}(SELECT e.id FROM executions e WHERE e.state = 'queued' AND e.not_before <= $2 \
                 AND (e.queue_deadline IS NULL OR e.queue_deadline >= $2) \
                 AND NOT EXISTS (SELECT 1 FROM json_each(e.labels) l WHERE NOT EXISTS \
                   (SELECT 1 FROM json_each($4) a WHERE a.key = l.key AND a.value = l.value)) \
                 AND NOT EXISTS (SELECT 1 FROM pipeline_runs r WHERE r.agent_id <> $1 \
                   AND r.id = json_extract(e.spec, '$.step.pipeline_run_id')) \
                 ORDER BY e.not_before LIMIT 1) RETURNING *"
            );
            let row: Option<ExecutionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(agent_id)
                .bind(now)
                .bind(lease_until)
                .bind(labels)
                .fetch_optional(pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let context = claim_context(db, &row.project_id, row.workflow_id.as_deref()).await?;
            Ok(Some((row, context)))
        }
        Db::Postgres(pg) => {
            let sql = format!(
                "WITH claimed AS ({SET}(SELECT id FROM executions WHERE state = 'queued' AND not_before <= $2 \
                 AND (queue_deadline IS NULL OR queue_deadline >= $2) \
                 AND labels::jsonb <@ $4::jsonb \
                 AND NOT EXISTS (SELECT 1 FROM pipeline_runs r WHERE r.agent_id <> $1 \
                   AND r.id = executions.spec::jsonb #>> '{{step,pipeline_run_id}}') \
                 ORDER BY not_before LIMIT 1 \
                 FOR UPDATE SKIP LOCKED) RETURNING *) \
                 SELECT claimed.*, p.name AS project_name, w.name AS workflow_name, \
                   (SELECT json_agg(json_build_array(s.name, s.ciphertext))::text FROM secrets s \
                    WHERE s.project_id = claimed.project_id) AS sealed_secrets \
                 FROM claimed JOIN projects p ON p.id = claimed.project_id \
                 LEFT JOIN workflows w ON w.id = claimed.workflow_id"
            );
            let row: Option<ClaimedRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(agent_id)
                .bind(now)
                .bind(lease_until)
                .bind(labels)
                .fetch_optional(&pg.claims)
                .await?;
            Ok(row.map(|row| {
                let sealed_secrets =
                    row.sealed_secrets.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default();
                let context =
                    ClaimContext { project: row.project_name, workflow: row.workflow_name, sealed_secrets };
                (row.execution, context)
            }))
        }
    }
}

/// A claimed row with its context (PostgreSQL).
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    execution: ExecutionRow,
    project_name: String,
    workflow_name: Option<String>,
    sealed_secrets: Option<String>,
}

/// What a claim carries besides the execution.
#[derive(Debug, Clone, Default)]
pub struct ClaimContext {
    /// The project's name.
    pub project: String,
    /// The workflow's name, if the execution runs one.
    pub workflow: Option<String>,
    /// The project's secrets, sealed: `(name, ciphertext)`.
    pub sealed_secrets: Vec<(String, String)>,
}

/// The project's and workflow's names and the project's sealed secrets, in one query.
pub async fn claim_context(
    db: &Db,
    project_id: &str,
    workflow_id: Option<&str>,
) -> Result<ClaimContext, sqlx::Error> {
    let sql = "SELECT p.name, (SELECT w.name FROM workflows w WHERE w.id = $1), s.name, s.ciphertext \
               FROM projects p LEFT JOIN secrets s ON s.project_id = p.id WHERE p.id = $2";
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> =
        on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(project_id).fetch_all(pool).await)?;
    let mut context = ClaimContext::default();
    for (project, workflow, name, sealed) in rows {
        context.project = project;
        context.workflow = workflow;
        if let (Some(name), Some(sealed)) = (name, sealed) {
            context.sealed_secrets.push((name, sealed));
        }
    }
    Ok(context)
}

/// A workflow's name.
pub async fn workflow_name(db: &Db, workflow_id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT name FROM workflows WHERE id = $1";
    let row: Option<(String,)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_optional(pool).await)?;
    Ok(row.map(|(name,)| name))
}

/// Records that an agent was heard from (at most every 2 s: a no-op update is cheap).
pub async fn touch_agent(db: &Db, agent_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE agents SET last_heartbeat_at = $1 WHERE id = $2 \
               AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $3)";
    on_db!(db, pool => sqlx::query(sql).bind(now).bind(agent_id).bind(now - 2000).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Renews the lease of `id` if `agent_id` holds it: `Some(cancel_requested)`, or `None` when it
/// does not hold it (any more).
pub async fn renew(db: &Db, id: &str, agent_id: &str, lease_until: i64) -> Result<Option<bool>, sqlx::Error> {
    let sql = "UPDATE executions SET lease_until = $1 WHERE id = $2 AND agent_id = $3 AND state = 'running' \
               RETURNING cancel_requested";
    let row: Option<(bool,)> = on_db!(db, pool => sqlx::query_as(sql).bind(lease_until).bind(id).bind(agent_id).fetch_optional(pool).await)?;
    Ok(row.map(|(cancel,)| cancel))
}

/// Stores `events` of `id` if `agent_id` holds it (false otherwise), ignoring sequence numbers
/// already stored, and raises `last_seq`. The holder check takes the row's write lock first,
/// so no event lands after the execution's final transition.
pub async fn insert_events(
    db: &Db,
    id: &str,
    agent_id: &str,
    events: &[ExecutionEvent],
) -> Result<bool, sqlx::Error> {
    const CHUNK: usize = 200;
    let hold = "UPDATE executions SET last_seq = CASE WHEN last_seq < $1 THEN $1 ELSE last_seq END \
                WHERE id = $2 AND agent_id = $3 AND state = 'running'";
    let max_seq = events.iter().map(|e| e.seq as i64).max().unwrap_or(0);
    let payloads: Vec<String> =
        events.iter().map(|e| serde_json::to_string(&e.payload).expect("JSON values serialize")).collect();
    let statements: Vec<String> = events
        .chunks(CHUNK)
        .map(|chunk| {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5))
                .collect();
            format!(
                "INSERT INTO execution_events (execution_id, seq, kind, payload, created_at) VALUES {} \
                 ON CONFLICT (execution_id, seq) DO NOTHING",
                values.join(", ")
            )
        })
        .collect();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let held = sqlx::query(hold).bind(max_seq).bind(id).bind(agent_id).execute(&mut *tx).await?.rows_affected() == 1;
        if !held {
            tx.rollback().await?;
            return Ok(false);
        }
        for (n, chunk) in events.chunks(CHUNK).enumerate() {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(statements[n].clone())).bind(id);
            for (i, event) in chunk.iter().enumerate() {
                query = query
                    .bind(event.seq as i64)
                    .bind(&event.kind)
                    .bind(&payloads[n * CHUNK + i])
                    .bind(event.time.timestamp_millis());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// Records the output notebook's key if `agent_id` holds `id`.
pub async fn set_output(db: &Db, id: &str, agent_id: &str, key: &str) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE executions SET output_key = $1 WHERE id = $2 AND agent_id = $3 AND state = 'running'";
    let n = on_db!(db, pool => sqlx::query(sql).bind(key).bind(id).bind(agent_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A final transition.
#[derive(Debug, Clone, Copy)]
pub enum Finish<'a> {
    /// The holding agent reports `state`.
    Complete {
        /// The agent that must hold the execution.
        agent_id: &'a str,
        /// The final state.
        state: ExecutionState,
    },
    /// The lease expired (and was not renewed meanwhile).
    Lost,
}

/// A retry to queue with a final transition.
#[derive(Debug, Clone)]
pub struct Retry {
    /// The retry's id (`rty.`).
    pub id: String,
    /// Not claimable before (ms): the backoff.
    pub not_before: i64,
}

/// Ends a running execution (`how`), with `result` (JSON) at `now`; `None` when it was not
/// running (or, to complete it, not held by that agent; to lose it, its lease was renewed).
/// Conditional, so of two racing transitions exactly one gets the row. When the final state
/// can be retried, this runs in a transaction that also queues the retry `plan` makes from the
/// row: a copy with the next attempt number, linked to the first and previous attempts, so
/// only the winner queues one, and a crash cannot lose it.
pub async fn finish(
    db: &Db,
    id: &str,
    how: Finish<'_>,
    result: &str,
    now: i64,
    plan: impl FnOnce(&ExecutionRow) -> Option<Retry>,
) -> Result<Option<(ExecutionRow, Option<Retry>)>, sqlx::Error> {
    let complete = "UPDATE executions SET state = $1, finished_at = $2, result = $3 \
                    WHERE id = $4 AND agent_id = $5 AND state = 'running' RETURNING *";
    let lose = "UPDATE executions SET state = 'lost', finished_at = $1, result = $2 \
                WHERE id = $3 AND state = 'running' AND lease_until < $1 RETURNING *";
    // A retry keeps its attempt's limits: the same timeout, and the same wait in the queue
    // counted from when it becomes claimable.
    let insert_retry = "INSERT INTO executions (id, project_id, workflow_id, origin, state, spec, labels, attempt, \
                        first_attempt_id, previous_attempt_id, scheduled_for, not_before, created_by, created_at, \
                        timeout_secs, queue_deadline) \
                        SELECT $1, project_id, workflow_id, 'rty', 'queued', spec, labels, attempt + 1, \
                        COALESCE(first_attempt_id, id), id, scheduled_for, $2, created_by, $3, \
                        timeout_secs, $2 + (queue_deadline - not_before) \
                        FROM executions WHERE id = $4";
    let retryable = match how {
        Finish::Complete { state, .. } => matches!(state, ExecutionState::Failed | ExecutionState::TimedOut),
        Finish::Lost => true,
    };
    on_db!(db, pool => {
        let transition = match how {
            Finish::Complete { agent_id, state } => sqlx::query_as::<_, ExecutionRow>(complete)
                .bind(state.as_str()).bind(now).bind(result).bind(id).bind(agent_id),
            Finish::Lost => sqlx::query_as::<_, ExecutionRow>(lose).bind(now).bind(result).bind(id),
        };
        if !retryable {
            // One statement: a success or a cancel never queues anything.
            return Ok(transition.fetch_optional(pool).await?.map(|row| (row, None)));
        }
        let mut tx = pool.begin().await?;
        let Some(row) = transition.fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let retry = plan(&row);
        if let Some(retry) = &retry {
            sqlx::query(insert_retry).bind(&retry.id).bind(retry.not_before).bind(now).bind(id)
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some((row, retry)))
    })
}

/// Turns the succeeded execution `id` into a failed one with `result` (JSON); `None` when it is
/// not in `succeeded`.
pub async fn fail_succeeded(db: &Db, id: &str, result: &str) -> Result<Option<ExecutionRow>, sqlx::Error> {
    let sql = "UPDATE executions SET state = 'failed', result = $1 WHERE id = $2 AND state = 'succeeded' RETURNING *";
    on_db!(db, pool => sqlx::query_as(sql).bind(result).bind(id).fetch_optional(pool).await)
}

/// Queued executions whose queue deadline passed before `now`, oldest deadline first.
pub async fn queue_expired(db: &Db, now: i64, limit: i64) -> Result<Vec<ExecutionRow>, sqlx::Error> {
    let sql = "SELECT * FROM executions WHERE state = 'queued' AND queue_deadline < $1 \
               ORDER BY queue_deadline LIMIT $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(now).bind(limit).fetch_all(pool).await)
}

/// Ends the queued execution `id` as `expired` with `result` (JSON); `None` when it is no
/// longer queued (claimed or cancelled meanwhile): conditional, so a claim and an expiry
/// cannot both win.
pub async fn expire(db: &Db, id: &str, result: &str, now: i64) -> Result<Option<ExecutionRow>, sqlx::Error> {
    let sql = "UPDATE executions SET state = 'expired', finished_at = $1, result = $2 \
               WHERE id = $3 AND state = 'queued' RETURNING *";
    on_db!(db, pool => sqlx::query_as(sql).bind(now).bind(result).bind(id).fetch_optional(pool).await)
}

/// Running executions whose lease expired before `now`, oldest lease first.
pub async fn expired(db: &Db, now: i64, limit: i64) -> Result<Vec<ExecutionRow>, sqlx::Error> {
    let sql =
        "SELECT * FROM executions WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(now).bind(limit).fetch_all(pool).await)
}

/// The state of an execution, if it exists.
pub async fn state_of(db: &Db, id: &str) -> Result<Option<ExecutionState>, sqlx::Error> {
    let sql = "SELECT state FROM executions WHERE id = $1";
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(|(state,)| ExecutionState::parse(&state).unwrap_or(ExecutionState::Failed)))
}

/// Up to `limit` stored events of `id` after sequence number `after`, in order.
pub async fn events_after(
    db: &Db,
    id: &str,
    after: u64,
    limit: i64,
) -> Result<Vec<ExecutionEvent>, sqlx::Error> {
    let sql = "SELECT seq, kind, payload, created_at FROM execution_events WHERE execution_id = $1 AND seq > $2 \
               ORDER BY seq LIMIT $3";
    let rows: Vec<(i64, String, String, i64)> = on_db!(db, pool => sqlx::query_as(sql).bind(id).bind(after.min(i64::MAX as u64) as i64).bind(limit).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(seq, kind, payload, at)| ExecutionEvent {
            seq: seq as u64,
            kind,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            time: to_time(at),
        })
        .collect())
}

/// The executions `agent_id` is running.
pub async fn running_on(db: &Db, agent_id: &str) -> Result<Vec<ExecutionRow>, sqlx::Error> {
    let sql = "SELECT * FROM executions WHERE agent_id = $1 AND state = 'running'";
    on_db!(db, pool => sqlx::query_as(sql).bind(agent_id).fetch_all(pool).await)
}

/// A bundle's archive format, by bundle id.
pub async fn bundle_format(db: &Db, bundle_id: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT format FROM bundles WHERE id = $1";
    let row: Option<(String,)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(bundle_id).fetch_optional(pool).await)?;
    Ok(row.map(|(format,)| format))
}
