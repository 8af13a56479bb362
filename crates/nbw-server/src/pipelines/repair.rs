//! The repair of runs a stopped server left half-started. A run is saved before its steps'
//! executions are queued, so a server that stops in between leaves a run whose steps say
//! `queued` under an execution id that does not exist (or, stopped between creating a run and
//! its first change, a run whose first steps were never planned). Nothing would move such a run
//! on: no execution ends, no agent claims. The repair pass finds them and queues the missing
//! executions under the ids the steps name, through the same compare-and-set change as every
//! step start; the execution id is the last guard, so with two servers repairing (or the
//! original server finishing its queueing late) one execution is created per step.

use nbw_core::api::StepRunState;

use super::progress::change_counted;
use crate::error::Result;
use crate::state::AppState;
use crate::store::executions;
use crate::store::pipelines::{self as store, RunRow};

/// Repairs every unfinished run; returns how many executions this server created.
pub async fn repair(state: &AppState) -> Result<usize> {
    let mut queued = 0;
    for run in store::unfinished(&state.db).await? {
        match repair_run(state, &run).await {
            Ok(n) => queued += n,
            Err(e) => tracing::warn!(run = %run.id, error = %e, "repairing a pipeline run failed"),
        }
    }
    Ok(queued)
}

/// Repairs `run` as read: its queued steps without executions are queued, and a run with
/// nothing queued or running but pending steps is planned again.
async fn repair_run(state: &AppState, run: &RunRow) -> Result<usize> {
    let steps = run.steps();
    let mut missing = Vec::new();
    for step in steps.iter().filter(|s| s.state == StepRunState::Queued) {
        let Some(id) = &step.execution_id else { continue };
        if executions::get(&state.db, id).await?.is_none() {
            missing.push(step.name.clone());
        }
    }
    let active = steps.iter().any(|s| matches!(s.state, StepRunState::Queued | StepRunState::Running));
    let stalled = !active && steps.iter().any(|s| s.state == StepRunState::Pending);
    if missing.is_empty() && !stalled {
        return Ok(0);
    }
    tracing::info!(run = %run.id, steps = ?missing, stalled, "repairing a pipeline run left half-started");
    let seen = run.version;
    // Only the run as read: if it changed since, its changer moved it on (or another server's
    // repair did), and the next pass looks again.
    let changed = change_counted(state, &run.id, |draft| {
        if draft.row.version != seen {
            return false;
        }
        draft.requeue = missing.clone();
        true
    })
    .await?;
    Ok(changed.map_or(0, |(_, queued)| queued))
}
