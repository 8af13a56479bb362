//! Pipeline runs: creating one (on demand, on a schedule's fire, or re-running an earlier run),
//! finding one the caller may see, cancelling one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use nbw_core::api::{
    Origin, PipelineRun, PipelineRunState, RerunPipeline, RunPipeline, SharedVolume, StepRun, StepRunState,
};
use nbw_core::params::Parameters;
use nbw_core::pipeline::PipelineEntry;
use nbw_core::pipeline::dag::{self, StepState};
use serde_json::Value;

use super::progress::change;
use crate::auth::access::ProjectAccess;
use crate::db::now_ms;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::pipelines::{self as store, PipelineRow, RunRow, state_name};

/// Who asked for a run and when it was meant for.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// `web`, `cli` or `sch`.
    pub origin: Origin,
    /// The user who asked.
    pub created_by: Option<String>,
    /// The schedule's fire time, for a scheduled run (one run per fire).
    pub fire_at: Option<DateTime<Utc>>,
}

/// Creates a run of `pipeline` with parameter overrides by step, and starts its first steps.
/// `None` when the fire it is for created a run already.
pub async fn start(
    state: &AppState,
    pipeline: &PipelineRow,
    request: RunPipeline,
    trigger: Trigger,
) -> Result<Option<PipelineRun>> {
    let spec = pipeline.spec();
    check_overrides(&spec, &request.parameters)?;
    let id = Origin::Pipeline.new_id();
    let mut row = new_run(&id, &pipeline.project_id, &pipeline.name, &spec, &trigger);
    row.pipeline_id = Some(pipeline.id.clone());
    row.bundle_version = pipeline.bundle_version.clone();
    row.parameters = serde_json::to_string(&request.parameters).expect("parameters serialize");
    row.fire_key = trigger.fire_at.map(|at| format!("{}@{}", pipeline.id, at.timestamp_millis()));
    if spec.shared_volume || !spec.shared_folders.is_empty() {
        row.volume = Some(SharedVolume::name_for(&id));
    }
    if !store::insert_run(&state.db, &row).await? {
        return Ok(None);
    }
    Ok(Some(launch(state, &id).await?))
}

/// Refuses overrides for a step the pipeline does not have.
fn check_overrides(spec: &PipelineEntry, parameters: &BTreeMap<String, Parameters>) -> Result<()> {
    for step in parameters.keys() {
        if !spec.steps.iter().any(|s| &s.name == step) {
            let known: Vec<&str> = spec.steps.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Invalid {
                code: "unknown_step",
                message: format!(
                    "the pipeline has no step `{step}` to set parameters of: use one of [{}] (`-p STEP.NAME VALUE`)",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// A run's row before its first save: every step pending, in the definition's order.
fn new_run(id: &str, project_id: &str, pipeline: &str, spec: &PipelineEntry, trigger: &Trigger) -> RunRow {
    let now = now_ms();
    let ups = dag::upstreams(&spec.steps);
    let steps: Vec<StepRun> = spec
        .steps
        .iter()
        .zip(&ups)
        .map(|(step, ups)| StepRun {
            name: step.name.clone(),
            needs: ups.iter().map(|&u| spec.steps[u].name.clone()).collect(),
            state: StepRunState::Pending,
            execution_id: None,
            result: None,
            message: None,
            started_at: None,
            finished_at: None,
        })
        .collect();
    RunRow {
        id: id.to_owned(),
        project_id: project_id.to_owned(),
        pipeline_id: None,
        pipeline: pipeline.to_owned(),
        state: state_name(PipelineRunState::Queued),
        origin: trigger.origin.prefix().to_owned(),
        fire_key: None,
        scheduled_for: trigger.fire_at.map(|at| at.timestamp_millis()),
        rerun_of: None,
        message: None,
        spec: serde_json::to_string(spec).expect("specs serialize"),
        bundle_version: None,
        context: serde_json::to_string(&context(id, pipeline, spec, trigger.fire_at))
            .expect("context serializes"),
        parameters: "{}".to_owned(),
        steps: serde_json::to_string(&steps).expect("steps serialize"),
        cancel_requested: false,
        agent_id: None,
        volume: None,
        keep_until: None,
        deadline: spec
            .timeout
            .map(|t| now.saturating_add(t.0.saturating_mul(1000).min(i64::MAX as u64) as i64)),
        version: 0,
        created_by: trigger.created_by.clone(),
        created_at: now,
        started_at: None,
        finished_at: None,
    }
}

/// The template context: the fire time (or now) as a date in the schedule's time zone and as
/// RFC 3339, the run id and the pipeline's name.
fn context(
    id: &str,
    pipeline: &str,
    spec: &PipelineEntry,
    fire_at: Option<DateTime<Utc>>,
) -> BTreeMap<String, Value> {
    let at = fire_at.unwrap_or_else(Utc::now);
    let tz: Tz = spec
        .schedule
        .as_ref()
        .and_then(|s| s.timezone.as_deref())
        .and_then(|t| t.parse().ok())
        .unwrap_or(Tz::UTC);
    BTreeMap::from([
        ("scheduled_date".to_owned(), Value::String(at.with_timezone(&tz).format("%Y-%m-%d").to_string())),
        ("scheduled_time".to_owned(), Value::String(at.to_rfc3339())),
        ("run_id".to_owned(), Value::String(id.to_owned())),
        ("pipeline".to_owned(), Value::String(pipeline.to_owned())),
    ])
}

/// Starts what a new run can start.
async fn launch(state: &AppState, id: &str) -> Result<PipelineRun> {
    let row =
        change(state, id, |_| true).await?.ok_or_else(|| Error::not_found(format!("pipeline run {id:?}")))?;
    Ok(row.to_api())
}

/// The run `id` of the caller's project `access`.
pub async fn find(state: &AppState, access: &ProjectAccess, id: &str) -> Result<RunRow> {
    store::run(&state.db, id)
        .await?
        .filter(|row| row.project_id == access.project_id)
        .ok_or_else(|| Error::not_found(format!("pipeline run {id:?}")))
}

/// Cancels the run `id` (or times it out): every queued or running step's execution is
/// cancelled, pending steps end cancelled. A run that ended is a conflict.
pub async fn cancel(state: &AppState, id: &str, end: PipelineRunState, message: &str) -> Result<PipelineRun> {
    let row = change(state, id, |draft| {
        if draft.row.state().is_final() {
            return false;
        }
        draft.row.cancel_requested = true;
        draft.row.state = state_name(end);
        draft.row.message = Some(message.to_owned());
        for step in &mut draft.steps {
            if matches!(step.state, StepRunState::Queued | StepRunState::Running) {
                draft.cancel.extend(step.execution_id.clone());
            }
            if matches!(step.state, StepRunState::Pending | StepRunState::Queued | StepRunState::Running) {
                step.state = StepRunState::Cancelled;
                step.message = Some(message.to_owned());
                step.finished_at = Some(Utc::now());
            }
        }
        true
    })
    .await?
    .ok_or_else(|| Error::not_found(format!("pipeline run {id:?}")))?;
    if row.cancel_requested && row.state() == end {
        return Ok(row.to_api());
    }
    Err(Error::Conflict(format!("pipeline run {id} already ended {}", row.state)))
}

/// A new run of the same definition, parameters and bundle as `previous` (which must have
/// ended), asked for by `created_by` from `request.origin` (`web` or `cli`). From the failure, the steps that succeeded keep their results (`reused`), the
/// shared volume and the agent pin carry over, and only the rest runs.
pub async fn rerun(
    state: &AppState,
    previous: &RunRow,
    request: RerunPipeline,
    created_by: String,
) -> Result<PipelineRun> {
    if !previous.state().is_final() {
        return Err(Error::Conflict(format!(
            "pipeline run {} is still {}: wait for it to end or cancel it first",
            previous.id, previous.state
        )));
    }
    let origin = crate::runs::user_origin(request.origin)?;
    let spec = previous.spec();
    let id = Origin::Pipeline.new_id();
    let trigger = Trigger { origin, created_by: Some(created_by), fire_at: None };
    let mut row = new_run(&id, &previous.project_id, &previous.pipeline, &spec, &trigger);
    row.pipeline_id = previous.pipeline_id.clone();
    row.bundle_version = previous.bundle_version.clone();
    row.parameters = previous.parameters.clone();
    row.rerun_of = Some(previous.id.clone());
    let mut context = previous.context();
    context.insert("run_id".into(), Value::String(id.clone()));
    row.context = serde_json::to_string(&context).expect("context serializes");
    if request.from_failed {
        row.steps = serde_json::to_string(&reuse(&spec, &previous.steps())).expect("steps serialize");
        row.volume = previous.volume.clone();
        row.agent_id = previous.agent_id.clone();
    } else if previous.volume.is_some() {
        row.volume = Some(SharedVolume::name_for(&id));
    }
    store::insert_run(&state.db, &row).await?;
    launch(state, &id).await
}

/// The steps of a `--from-failed` re-run: those the failure did not touch are `reused`.
fn reuse(spec: &PipelineEntry, previous: &[StepRun]) -> Vec<StepRun> {
    let states: Vec<StepState> = previous
        .iter()
        .map(|s| match s.state {
            StepRunState::Succeeded | StepRunState::Reused => StepState::Succeeded,
            _ => StepState::Failed,
        })
        .collect();
    let rerun: BTreeSet<usize> = dag::rerun_from_failed(&spec.steps, &states);
    previous
        .iter()
        .enumerate()
        .map(|(i, old)| {
            let mut step = old.clone();
            if rerun.contains(&i) {
                step.state = StepRunState::Pending;
                step.execution_id = None;
                step.result = None;
                step.message = None;
                step.started_at = None;
                step.finished_at = None;
            } else {
                step.state = StepRunState::Reused;
            }
            step
        })
        .collect()
}
