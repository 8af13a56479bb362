//! The execution queue: agents long-poll `claim`, hold what they claim under a lease renewed by
//! heartbeats, stream events, upload the output and complete. A reaper turns expired leases
//! into `lost` and queues the retries the workflow's policy allows, linked to their first and
//! previous attempts.
//!
//! Exactly one agent holds a running execution: a claim is one conditional `UPDATE` (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL), and every later step of the agent (events, output,
//! complete) is conditional on `state = 'running' AND agent_id = <caller>`, so an agent whose
//! lease was lost cannot count a run twice (409 `lease_lost`).
//!
//! Wake-ups: whoever queues work calls [`crate::state::Wake::work_available`]; in one process a `Notify`
//! wakes the claimers, across servers on PostgreSQL `NOTIFY nbw_work` reaches the other
//! servers' [`listen`] task. Claimers also recheck every second, for retries whose backoff ends.

use std::time::Duration;

use bytes::Bytes;
use nbw_core::api::{
    Claim, Execution, ExecutionEvent, ExecutionResult, ExecutionState, HeartbeatResponse, Origin, RetryPolicy,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::artifacts::ArtifactKey;
use crate::auth::AgentCaller;
use crate::builds;
use crate::db::{Db, Pg, now_ms, to_time};
use crate::error::{Error, Result};
use crate::metrics::StateLabel;
use crate::secrets;
use crate::state::{AppState, WORK_CHANNEL};
use crate::store::executions::{self, ExecutionRow};
use crate::store::queue::{self as store, ClaimContext, Finish, Retry};

/// The longest a claim waits for work.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// How often a waiting claimer looks again without a wake-up (retries becoming due, work
/// queued by a server whose NOTIFY was missed).
const RECHECK: Duration = Duration::from_secs(1);

/// How often the reaper looks for expired leases.
const REAP_EVERY: Duration = Duration::from_secs(1);

/// The message of a lost execution.
pub const LOST_MESSAGE: &str = "the agent stopped renewing its lease";

/// Queued executions expired per query.
const EXPIRE_BATCH: i64 = 100;

fn lease_ms(state: &AppState) -> i64 {
    (state.config.lease_secs.max(1) * 1000) as i64
}

/// Takes the oldest claimable execution whose labels `agent` has, waiting up to `wait` (at most
/// [`MAX_WAIT`]) for one to appear. `None` when the wait ends empty.
pub async fn claim(state: &AppState, agent: &AgentCaller, wait: Duration) -> Result<Option<Claim>> {
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    let labels = serde_json::to_string(&agent.labels).expect("labels serialize");
    loop {
        // Registered before looking, so work queued while we look still wakes us.
        let woken = state.wake.notified();
        let now = now_ms();
        if let Some((row, context)) =
            store::claim_next(&state.db, &agent.agent_id, &labels, now, now + lease_ms(state)).await?
        {
            let claim = claim_of(state, row, context, now)?;
            // The claim stands either way: the agent holds the lease, and answering an error
            // would leave the execution to expire instead of running.
            if let Err(e) =
                crate::pipelines::progress::step_claimed(state, &claim.execution, &agent.agent_id).await
            {
                tracing::error!(execution = %claim.execution.id, error = %e, "recording a pipeline step's claim failed");
            }
            return Ok(Some(claim));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            // An idle agent is seen here; a busy one by its heartbeats (kept off the claim's
            // hot path, where it would be one more write per execution).
            store::touch_agent(&state.db, &agent.agent_id, now_ms()).await?;
            return Ok(None);
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(left.min(RECHECK)) => {}
        }
    }
}

fn claim_of(state: &AppState, row: ExecutionRow, context: ClaimContext, now: i64) -> Result<Claim> {
    let waited = (now - row.not_before.max(row.created_at)).max(0);
    state.metrics.claim_latency.observe(waited as f64 / 1000.0);
    // That execution's project's secrets only (the associated data binds each to its project).
    let secrets = context
        .sealed_secrets
        .iter()
        .map(|(name, sealed)| {
            Ok((name.clone(), secrets::open(&state.keys.secrets, &row.project_id, name, sealed)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let execution = row.to_api();
    Ok(Claim {
        bundle_url: format!("/v1/agent/bundles/{}", execution.spec.bundle_digest),
        lease_until: to_time(row.lease_until.unwrap_or(now)),
        execution,
        project: context.project,
        workflow: context.workflow,
        secrets,
    })
}

/// Renews the leases of the executions in `running` that `agent` holds, and says which of them
/// to cancel (a user asked), which to abandon (no longer held: lost, finished, claimed by
/// another agent, unknown) and which of the shared `volumes` it holds to remove.
pub async fn heartbeat(
    state: &AppState,
    agent: &AgentCaller,
    running: &[String],
    volumes: &[String],
) -> Result<HeartbeatResponse> {
    let now = now_ms();
    let lease_until = now + lease_ms(state);
    let mut cancel = Vec::new();
    let mut abandon = Vec::new();
    for id in running {
        match store::renew(&state.db, id, &agent.agent_id, lease_until).await? {
            Some(true) => cancel.push(id.clone()),
            Some(false) => {}
            None => abandon.push(id.clone()),
        }
    }
    store::touch_agent(&state.db, &agent.agent_id, now).await?;
    let remove_volumes = crate::pipelines::tick::volumes_to_remove(state, volumes).await?;
    Ok(HeartbeatResponse { cancel, abandon, lease_until: to_time(lease_until), remove_volumes })
}

/// The execution `id`, which `agent` must hold (running, on this agent): 404 when it never held
/// it, 409 `lease_lost` when it no longer does.
pub async fn held(state: &AppState, agent: &AgentCaller, id: &str) -> Result<ExecutionRow> {
    let row = executions::get(&state.db, id)
        .await?
        .filter(|row| row.agent_id.as_deref() == Some(agent.agent_id.as_str()))
        .ok_or_else(|| Error::not_found(format!("execution {id:?} held by this agent")))?;
    if row.state() != ExecutionState::Running {
        return Err(lease_lost(&row));
    }
    Ok(row)
}

fn lease_lost(row: &ExecutionRow) -> Error {
    Error::LeaseLost(format!(
        "execution {} is {}: this agent no longer holds it; stop running it",
        row.id,
        row.state().as_str()
    ))
}

/// Checks an event kind: 1 to 64 of `A-Za-z0-9_.-`, and not `end` (the stream's own last event).
fn check_kind(kind: &str) -> Result<(), Error> {
    let ok = !kind.is_empty()
        && kind.len() <= 64
        && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && kind != "end";
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "event kind {kind:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-' (and not \"end\")"
        )))
    }
}

/// Stores a batch of events of an execution `agent` holds. Events already stored (same
/// sequence numbers) are ignored, so a re-sent batch is harmless.
pub async fn record_events(
    state: &AppState,
    agent: &AgentCaller,
    id: &str,
    events: &[ExecutionEvent],
) -> Result<()> {
    for event in events {
        if event.seq == 0 || event.seq > i64::MAX as u64 {
            return Err(Error::invalid(format!("event sequence numbers start at 1; got {}", event.seq)));
        }
        check_kind(&event.kind)?;
    }
    if !store::insert_events(&state.db, id, &agent.agent_id, events).await? {
        held(state, agent, id).await?;
        return Err(Error::Internal(anyhow::anyhow!("execution {id} changed while storing events")));
    }
    if !events.is_empty() {
        state.wake.events_changed();
    }
    Ok(())
}

/// Stores the output notebook of an execution `agent` holds.
pub async fn store_output(state: &AppState, agent: &AgentCaller, id: &str, notebook: Bytes) -> Result<()> {
    held(state, agent, id).await?;
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&notebook) {
        return Err(Error::Invalid {
            code: "invalid_json",
            message: format!("the output notebook is not JSON: {e}"),
        });
    }
    let key = ArtifactKey::Output(id.to_owned());
    state.artifacts.put(&key, notebook).await?;
    if !store::set_output(&state.db, id, &agent.agent_id, &format!("outputs/{id}.ipynb")).await? {
        // The lease was lost while uploading: the file stays unreferenced, the run is not counted.
        held(state, agent, id).await?;
    }
    Ok(())
}

/// The wait before retrying attempt `attempt` (1 for the first) under `policy`, in ms; `None`
/// when no attempt is left.
pub fn retry_delay_ms(policy: &RetryPolicy, attempt: u32) -> Option<i64> {
    if attempt == 0 || attempt > policy.max_retries {
        return None;
    }
    let factor = if policy.backoff_factor.is_finite() && policy.backoff_factor > 0.0 {
        policy.backoff_factor
    } else {
        1.0
    };
    let secs = policy.backoff_secs as f64 * factor.powi(attempt as i32 - 1);
    // A day at most: a policy cannot park a retry for ever.
    Some((secs.min(86_400.0) * 1000.0).round() as i64)
}

/// The retry of `row` after it ended in `state`, if its policy allows one.
fn plan_retry(row: &ExecutionRow, state: ExecutionState, now: i64) -> Option<Retry> {
    let retryable = matches!(state, ExecutionState::Failed | ExecutionState::TimedOut | ExecutionState::Lost);
    if !retryable || row.cancel_requested {
        return None;
    }
    let delay = retry_delay_ms(&row.spec().retries, row.attempt as u32)?;
    Some(Retry { id: Origin::Retry.new_id(), not_before: now + delay })
}

/// Completes an execution `agent` holds with `result` (a final state other than `lost`).
/// Completing again with the same result answers the same; another result is a conflict.
pub async fn complete(
    state: &AppState,
    agent: &AgentCaller,
    id: &str,
    result: ExecutionResult,
) -> Result<Execution> {
    if !result.state.is_final() || result.state == ExecutionState::Lost {
        return Err(Error::invalid(format!(
            "a result's state must be succeeded, failed, timed_out or cancelled; got {}",
            result.state.as_str()
        )));
    }
    let result_json = serde_json::to_string(&result).expect("results serialize");
    let now = now_ms();
    let how = Finish::Complete { agent_id: &agent.agent_id, state: result.state };
    let plan = |row: &ExecutionRow| plan_retry(row, result.state, now);
    if let Some((row, retry)) = store::finish(&state.db, id, how, &result_json, now, plan).await? {
        let row = builds::settle(state, row).await?;
        let execution = finished(state, row, retry).await;
        // A failure answers 500: the agent completes again, and that registers the build.
        builds::register(state, &execution).await?;
        return Ok(execution);
    }
    // Not running on this agent: never held, or finished already (perhaps by this same
    // request sent twice, or by the reaper).
    let row = executions::get(&state.db, id)
        .await?
        .filter(|row| row.agent_id.as_deref() == Some(agent.agent_id.as_str()))
        .ok_or_else(|| Error::not_found(format!("execution {id:?} held by this agent")))?;
    let stored = row.result.as_deref().and_then(|r| serde_json::from_str::<ExecutionResult>(r).ok());
    let recorded = builds::as_recorded(&row.spec(), result.clone());
    match row.state() {
        ExecutionState::Lost | ExecutionState::Running | ExecutionState::Queued => Err(lease_lost(&row)),
        _ if stored.as_ref() == Some(&result) || stored.as_ref() == Some(&recorded) => {
            // The first completion may have stopped before its build was settled or registered.
            let execution = builds::settle(state, row).await?.to_api();
            builds::register(state, &execution).await?;
            Ok(execution)
        }
        other => Err(Error::Conflict(format!(
            "execution {id} was already completed as {}; a different result cannot replace it",
            other.as_str()
        ))),
    }
}

/// What follows a final transition: metrics, event-stream readers, the retry's claimers,
/// notifications.
async fn finished(state: &AppState, row: ExecutionRow, retry: Option<Retry>) -> Execution {
    let execution = row.to_api();
    if let (Some(started), Some(ended)) = (row.started_at, row.finished_at) {
        state
            .metrics
            .run_duration
            .get_or_create(&StateLabel { state: row.state.clone() })
            .observe((ended - started).max(0) as f64 / 1000.0);
    }
    state.wake.events_changed();
    // A pipeline step follows its retry, or ends and lets its run move on.
    if let Err(e) =
        crate::pipelines::progress::step_ended(state, &execution, retry.as_ref().map(|r| r.id.as_str())).await
    {
        tracing::error!(execution = %execution.id, error = %e, "moving the pipeline run on failed");
    }
    match retry {
        Some(retry) => {
            tracing::info!(execution = %row.id, retry = %retry.id, attempt = row.attempt + 1, "retry queued");
            state.wake.work_available(&state.db).await;
        }
        None => {
            // Notifications go out for the outcome of the last attempt only: a failure that
            // will be retried is not news yet.
            let workflow = match (&row.workflow_id, execution.spec.notifications.is_empty()) {
                (Some(workflow_id), false) => {
                    store::workflow_name(&state.db, workflow_id).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "reading the workflow's name for a notification failed");
                        None
                    })
                }
                _ => None,
            };
            if let Err(e) = crate::notify::enqueue(state, &execution, workflow.as_deref()).await {
                tracing::error!(execution = %execution.id, error = format!("{e:#}"), "queueing notifications failed");
            }
        }
    }
    execution
}

/// Marks executions whose lease expired before `now` as `lost` and queues their retries. Safe
/// with several servers reaping at once: the transition is conditional and only its winner
/// queues a retry. Returns how many it marked.
pub async fn reap(state: &AppState, now: i64) -> Result<usize> {
    let result = serde_json::to_string(&ExecutionResult {
        values: None,
        values_error: None,
        state: ExecutionState::Lost,
        message: Some(LOST_MESSAGE.into()),
        failed_cell: None,
        failed_source: None,
        duration_ms: None,
        image: None,
    })
    .expect("results serialize");
    let mut marked = 0;
    for row in store::expired(&state.db, now, 100).await? {
        let plan = |row: &ExecutionRow| plan_retry(row, ExecutionState::Lost, now);
        if let Some((row, retry)) =
            store::finish(&state.db, &row.id, Finish::Lost, &result, now, plan).await?
        {
            tracing::warn!(execution = %row.id, agent = row.agent_id.as_deref().unwrap_or(""), "lease expired: lost");
            finished(state, row, retry).await;
            marked += 1;
        }
    }
    Ok(marked)
}

/// Ends `expired` every execution still queued past its queue deadline (`max_queue_secs`)
/// at `now`, with a reason naming the wait, and sends its failure notifications. Never
/// retried: a retry would wait in the same queue. Safe with several servers at once (the
/// transition is conditional). Returns how many it ended.
pub async fn expire(state: &AppState, now: i64) -> Result<usize> {
    let mut ended = 0;
    loop {
        let due = store::queue_expired(&state.db, now, EXPIRE_BATCH).await?;
        let batch = due.len();
        for row in due {
            let waited = (now - row.not_before).max(0) / 1000;
            let limit = row.spec().max_queue_secs.unwrap_or_default();
            let result = serde_json::to_string(&ExecutionResult {
                state: ExecutionState::Expired,
                message: Some(format!(
                    "expired: queued for {waited}s without an agent claiming it, longer than its max_queue of {limit}s \
                     (is an agent with the labels {} running?)",
                    row.labels
                )),
                failed_cell: None,
                failed_source: None,
                duration_ms: None,
                image: None,
                values: None,
                values_error: None,
            })
            .expect("results serialize");
            if let Some(row) = store::expire(&state.db, &row.id, &result, now).await? {
                tracing::warn!(execution = %row.id, waited_secs = waited, "queued too long: expired");
                finished(state, row, None).await;
                ended += 1;
            }
        }
        if batch < EXPIRE_BATCH as usize {
            return Ok(ended);
        }
    }
}

/// Starts the queue's background tasks: the reaper, and on PostgreSQL the listener for other
/// servers' wake-ups. They stop when `shutdown` is cancelled.
pub fn spawn_loops(state: &AppState, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    let mut loops = vec![tokio::spawn(reaper(state.clone(), shutdown.clone()))];
    if matches!(state.db, Db::Postgres(_)) {
        loops.push(tokio::spawn(listen(state.clone(), shutdown.clone())));
    }
    loops
}

async fn reaper(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(REAP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = reap(&state, now_ms()).await {
            tracing::warn!(error = %e, "reaping expired leases failed; retrying");
        }
    }
}

/// Turns other servers' `NOTIFY nbw_work` into local wake-ups (PostgreSQL only), reconnecting
/// after errors. After a reconnection it wakes the local claimers anyway: notifications sent
/// while the connection was down are gone.
pub async fn listen(state: AppState, shutdown: CancellationToken) {
    let Db::Postgres(Pg { pool, .. }) = &state.db else { return };
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(WORK_CHANNEL).await {
                Ok(()) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN {WORK_CHANNEL} failed; retrying");
                    if pause(&shutdown).await {
                        return;
                    }
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "connecting the work listener failed; retrying");
                if pause(&shutdown).await {
                    return;
                }
                continue;
            }
        };
        state.wake.wake_local();
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(_)) => state.wake.wake_local(),
                // The connection dropped and reconnects on the next call; wake in case.
                Ok(None) => state.wake.wake_local(),
                Err(e) => {
                    tracing::warn!(error = %e, "the work listener failed; reconnecting");
                    break;
                }
            }
        }
        if pause(&shutdown).await {
            return;
        }
    }
}

/// Waits a second; true when shutting down.
async fn pause(shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(Duration::from_secs(1)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_geometrically_and_stop() {
        let policy = RetryPolicy { max_retries: 3, backoff_secs: 10, backoff_factor: 2.0 };
        assert_eq!(retry_delay_ms(&policy, 1), Some(10_000));
        assert_eq!(retry_delay_ms(&policy, 2), Some(20_000));
        assert_eq!(retry_delay_ms(&policy, 3), Some(40_000));
        assert_eq!(retry_delay_ms(&policy, 4), None);
        assert_eq!(retry_delay_ms(&RetryPolicy::default(), 1), None);
        let odd = RetryPolicy { max_retries: 1, backoff_secs: 5, backoff_factor: f64::NAN };
        assert_eq!(retry_delay_ms(&odd, 1), Some(5_000));
    }

    #[test]
    fn event_kinds_are_plain_names() {
        assert!(check_kind("cell_start").is_ok());
        assert!(check_kind("").is_err());
        assert!(check_kind("a\nb").is_err());
        assert!(check_kind("end").is_err());
    }
}
