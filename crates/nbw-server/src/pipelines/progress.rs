//! How a pipeline run moves on. Every change of a run (a step claimed, a step's execution
//! ended, a cancel, a timeout) goes through [`change`]: read the run, edit it, then skip what
//! a failure doomed, start what became ready (at most `max_parallel` at once), end the run
//! when nothing is left, and save by compare-and-set on the run's version, so two servers or
//! two step ends at once never start a step twice. The executions are queued after the save
//! wins, with ids the saved steps already name (a server stopping in between leaves steps that
//! [`super::repair`] queues later under the same ids), and the change that ends the run queues
//! its notifications.

use std::collections::BTreeMap;

use nbw_core::api::{Execution, ExecutionState, Origin, PipelineRunState, StepRun, StepRunState};
use nbw_core::pipeline::dag::{self, StepState};
use serde_json::Value;

use super::step::{NotStarted, execution_of};
use crate::db::now_ms;
use crate::error::{Error, Result};
use crate::runs::{Enqueue, enqueue_as};
use crate::state::AppState;
use crate::store::executions;
use crate::store::pipelines::{self as store, RunRow, state_name};

/// How long a failed run's shared volume is kept, for a `--from-failed` re-run, when the
/// pipeline does not say.
const KEEP_ON_FAILURE_SECS: u64 = 3600;

/// A run being changed: its row and its steps.
#[derive(Debug)]
pub struct Draft {
    /// The run as read (its `steps` column is rewritten from `steps` on save).
    pub row: RunRow,
    /// The steps.
    pub steps: Vec<StepRun>,
    /// Executions to cancel once the change is saved.
    pub cancel: Vec<String>,
    /// Queued steps whose executions (the ids they name) are to be created once the change is
    /// saved: the repair of a run whose server stopped before queueing them.
    pub requeue: Vec<String>,
}

impl Draft {
    /// The step named `name`.
    pub fn step_mut(&mut self, name: &str) -> Option<&mut StepRun> {
        self.steps.iter_mut().find(|s| s.name == name)
    }

    fn is_final(&self) -> bool {
        self.row.state().is_final()
    }
}

/// Applies `edit` to the run `run_id` (which returns false when it has nothing to change),
/// moves the run on and saves it, retrying on a concurrent change. `None` when there is no
/// such run.
pub async fn change(
    state: &AppState,
    run_id: &str,
    edit: impl FnMut(&mut Draft) -> bool,
) -> Result<Option<RunRow>> {
    Ok(change_counted(state, run_id, edit).await?.map(|(row, _)| row))
}

/// [`change`], with how many executions this call created.
pub async fn change_counted(
    state: &AppState,
    run_id: &str,
    mut edit: impl FnMut(&mut Draft) -> bool,
) -> Result<Option<(RunRow, usize)>> {
    for _ in 0..100 {
        let Some(row) = store::run(&state.db, run_id).await? else { return Ok(None) };
        let was_final = row.state().is_final();
        let mut draft = Draft { steps: row.steps(), row, cancel: Vec::new(), requeue: Vec::new() };
        if !edit(&mut draft) {
            return Ok(Some((draft.row, 0)));
        }
        let mut starts = if draft.is_final() { Vec::new() } else { requeued(state, &mut draft).await? };
        if !draft.is_final() {
            starts.extend(plan(state, &mut draft).await?);
        }
        settle(&mut draft);
        draft.row.steps = serde_json::to_string(&draft.steps).expect("steps serialize");
        if !store::save_run(&state.db, &draft.row).await? {
            continue;
        }
        draft.row.version += 1;
        let mut queued = 0;
        for (id, request) in starts {
            queued += usize::from(queue_step(state, run_id, id, request).await);
        }
        for id in &draft.cancel {
            executions::request_cancel(&state.db, id).await?;
        }
        // Only the change that ended the run won its save: one message per run.
        if !was_final
            && draft.is_final()
            && let Err(e) = crate::notify::enqueue_pipeline_run(state, &draft.row).await
        {
            tracing::error!(run = %run_id, error = format!("{e:#}"), "queueing the pipeline run's notifications failed");
        }
        state.wake.events_changed();
        return Ok(Some((draft.row, queued)));
    }
    Err(Error::Internal(anyhow::anyhow!("pipeline run {run_id} kept changing under this server")))
}

/// Creates the execution `id` of a step; whether this call created it. The id is the guard:
/// when two servers (the one that saved the step, and a repair pass) both get here, the
/// database keeps one execution and the other insert fails.
async fn queue_step(state: &AppState, run_id: &str, id: String, request: Enqueue) -> bool {
    match enqueue_as(state, id.clone(), request).await {
        Ok(created) => created.is_some(),
        Err(e) => {
            if let Ok(Some(_)) = executions::get(&state.db, &id).await {
                tracing::debug!(run = %run_id, execution = %id, "the step's execution was queued by another server");
            } else {
                tracing::error!(run = %run_id, execution = %id, error = %e, "queueing a pipeline step failed");
            }
            false
        }
    }
}

/// The executions of the steps in `draft.requeue` (still queued under the same id), built
/// again; a step that can no longer start fails.
async fn requeued(state: &AppState, draft: &mut Draft) -> Result<Vec<(String, Enqueue)>> {
    let spec = draft.row.spec();
    let results = results(&draft.steps);
    let mut starts = Vec::new();
    for name in std::mem::take(&mut draft.requeue) {
        let Some(i) = draft.steps.iter().position(|s| s.name == name && s.state == StepRunState::Queued)
        else {
            continue;
        };
        let (Some(id), Some(entry)) = (draft.steps[i].execution_id.clone(), spec.steps.get(i)) else {
            continue;
        };
        match execution_of(state, &draft.row, entry, &results).await {
            Ok(request) => starts.push((id, request)),
            Err(NotStarted::Step(message)) => {
                draft.steps[i].state = StepRunState::Failed;
                draft.steps[i].message = Some(message);
                draft.steps[i].finished_at = Some(chrono::Utc::now());
            }
            Err(NotStarted::Server(e)) => return Err(e),
        }
    }
    Ok(starts)
}

/// What the DAG functions know of a step's state.
fn dag_state(state: StepRunState) -> StepState {
    match state {
        StepRunState::Pending => StepState::Pending,
        StepRunState::Queued | StepRunState::Running => StepState::Running,
        StepRunState::Succeeded | StepRunState::Reused => StepState::Succeeded,
        StepRunState::Failed | StepRunState::Cancelled => StepState::Failed,
        StepRunState::Skipped => StepState::Skipped,
    }
}

/// The results of the steps that succeeded, by step name, for templates.
fn results(steps: &[StepRun]) -> BTreeMap<String, Value> {
    steps
        .iter()
        .filter(|s| matches!(s.state, StepRunState::Succeeded | StepRunState::Reused))
        .filter_map(|s| s.result.clone().map(|r| (s.name.clone(), r)))
        .collect()
}

/// Skips the steps a failure doomed and starts the ready ones, until nothing changes (a step
/// that cannot start fails, which may skip or free others). Returns the executions to queue.
async fn plan(state: &AppState, draft: &mut Draft) -> Result<Vec<(String, Enqueue)>> {
    let spec = draft.row.spec();
    let max_parallel = spec.max_parallel.unwrap_or(1).max(1);
    let mut starts = Vec::new();
    loop {
        let states: Vec<StepState> = draft.steps.iter().map(|s| dag_state(s.state)).collect();
        for i in dag::skipped_by_failure(&spec.steps, &states) {
            let step = &mut draft.steps[i];
            step.state = StepRunState::Skipped;
            step.message =
                Some(format!("skipped: a step it needs ({}) did not succeed", step.needs.join(", ")));
            step.finished_at = Some(chrono::Utc::now());
        }
        let states: Vec<StepState> = draft.steps.iter().map(|s| dag_state(s.state)).collect();
        let mut ready = dag::ready(&spec.steps, &states, max_parallel);
        if draft.row.volume.is_some() && draft.row.agent_id.is_none() {
            // The run is pinned to the agent that claims its first step: until then, one step.
            if states.contains(&StepState::Running) {
                ready.clear();
            }
            ready.truncate(1);
        }
        if ready.is_empty() {
            return Ok(starts);
        }
        let results = results(&draft.steps);
        for i in ready {
            match execution_of(state, &draft.row, &spec.steps[i], &results).await {
                Ok(request) => {
                    let id = Origin::Pipeline.new_id();
                    draft.steps[i].state = StepRunState::Queued;
                    draft.steps[i].execution_id = Some(id.clone());
                    starts.push((id, request));
                }
                Err(NotStarted::Step(message)) => {
                    draft.steps[i].state = StepRunState::Failed;
                    draft.steps[i].message = Some(message);
                    draft.steps[i].finished_at = Some(chrono::Utc::now());
                }
                Err(NotStarted::Server(e)) => return Err(e),
            }
        }
    }
}

/// Ends the run when no step is left to run; sets its end time and how long its volume stays.
fn settle(draft: &mut Draft) {
    let active =
        |s: &StepRun| matches!(s.state, StepRunState::Pending | StepRunState::Queued | StepRunState::Running);
    if !draft.is_final() {
        if draft.steps.iter().any(active) {
            return;
        }
        let failed =
            draft.steps.iter().find(|s| matches!(s.state, StepRunState::Failed | StepRunState::Cancelled));
        let (end, message) = match failed {
            Some(step) => (
                PipelineRunState::Failed,
                Some(format!(
                    "step `{}` failed: {}",
                    step.name,
                    step.message.as_deref().unwrap_or("no message")
                )),
            ),
            None => (PipelineRunState::Succeeded, None),
        };
        draft.row.state = state_name(end);
        draft.row.message = message;
    }
    let now = now_ms();
    let finished = *draft.row.finished_at.get_or_insert(now);
    let keep_ms = match draft.row.state() {
        PipelineRunState::Failed | PipelineRunState::TimedOut => {
            let keep = draft.row.spec().keep_volume_on_failure.map_or(KEEP_ON_FAILURE_SECS, |k| k.0);
            keep.saturating_mul(1000).min(i64::MAX as u64) as i64
        }
        _ => 0,
    };
    draft.row.keep_until = Some(finished.saturating_add(keep_ms));
}

/// Records that an agent claimed a step's execution: the step runs, the run has started, and
/// a run with a shared volume is pinned to that agent.
pub async fn step_claimed(state: &AppState, execution: &Execution, agent_id: &str) -> Result<()> {
    let Some(context) = &execution.spec.step else { return Ok(()) };
    change(state, &context.pipeline_run_id, |draft| {
        let now = chrono::Utc::now();
        let Some(step) = draft.step_mut(&context.step) else { return false };
        if step.execution_id.as_deref() != Some(execution.id.as_str()) || step.state != StepRunState::Queued {
            return false;
        }
        step.state = StepRunState::Running;
        step.started_at.get_or_insert(now);
        if draft.row.state() == PipelineRunState::Queued {
            draft.row.state = state_name(PipelineRunState::Running);
            draft.row.started_at = Some(now.timestamp_millis());
        }
        if draft.row.volume.is_some() && draft.row.agent_id.is_none() {
            draft.row.agent_id = Some(agent_id.to_owned());
        }
        true
    })
    .await?;
    Ok(())
}

/// Records the end of a step's execution: with a retry queued, the step follows the retry;
/// otherwise it ends as its execution did (a success keeps the `NBW_RESULT` values), and the
/// run moves on.
pub async fn step_ended(state: &AppState, execution: &Execution, retry: Option<&str>) -> Result<()> {
    let Some(context) = &execution.spec.step else { return Ok(()) };
    change(state, &context.pipeline_run_id, |draft| {
        let Some(step) = draft.step_mut(&context.step) else { return false };
        if step.execution_id.as_deref() != Some(execution.id.as_str()) || !is_started(step.state) {
            return false;
        }
        if let Some(retry) = retry {
            step.execution_id = Some(retry.to_owned());
            step.state = StepRunState::Queued;
            return true;
        }
        let result = execution.result.as_ref();
        step.state = match execution.state {
            ExecutionState::Succeeded => StepRunState::Succeeded,
            ExecutionState::Cancelled => StepRunState::Cancelled,
            _ => StepRunState::Failed,
        };
        step.result = result.and_then(|r| r.values.clone());
        step.message = match execution.state {
            ExecutionState::Succeeded => result.and_then(|r| r.values_error.clone()),
            _ => Some(failure_message(execution)),
        };
        step.finished_at = Some(execution.finished_at.unwrap_or_else(chrono::Utc::now));
        true
    })
    .await?;
    Ok(())
}

fn is_started(state: StepRunState) -> bool {
    matches!(state, StepRunState::Queued | StepRunState::Running)
}

/// Why a step's execution failed: its state, message and failing cell.
fn failure_message(execution: &Execution) -> String {
    let mut message = format!("execution {} {}", execution.id, execution.state.as_str());
    if let Some(result) = &execution.result {
        if let Some(text) = &result.message {
            message.push_str(&format!(": {text}"));
        }
        if let Some(cell) = result.failed_cell {
            message.push_str(&format!(" (cell {cell})"));
        }
    }
    message
}
