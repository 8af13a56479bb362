//! Pipelines: definitions (checked again here against the bundle's notebooks and the project's
//! workflows, as `nbw push` checks them), their runs ([`runs`]: creating, cancelling,
//! re-running), how a run moves on when a step's execution ends ([`progress`]), how a step
//! becomes an execution ([`step`]), the repair of runs a stopped server left half-started
//! ([`repair`]), and the periodic work ([`tick`]: timeouts, repairs, scheduled fires, shared
//! volumes to remove).

pub mod progress;
pub mod repair;
pub mod runs;
pub mod step;
pub mod tick;

use std::collections::BTreeMap;

use chrono::Utc;
use nbw_core::api::{Pipeline, PipelineInput};
use nbw_core::pipeline::{PipelineEntry, validate_pipelines};
use nbw_core::project::WorkflowEntry;

use crate::auth::access::ProjectAccess;
use crate::error::{Error, Result};
use crate::runs::resolve_bundle;
use crate::scheduler::schedule;
use crate::state::AppState;
use crate::store::pipelines::{self as store, PipelineRow};
use crate::store::workflows;

/// The pipeline `name` of the project.
pub async fn find(state: &AppState, access: &ProjectAccess, name: &str) -> Result<PipelineRow> {
    store::by_name(&state.db, &access.project_id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("pipeline {name:?}")))
}

/// Creates or replaces the pipeline `name` after checking it against the bundle it runs and the
/// project's workflows: every problem names the pipeline, the step and the fix.
pub async fn put(
    state: &AppState,
    access: &ProjectAccess,
    name: &str,
    input: PipelineInput,
) -> Result<Pipeline> {
    Error::require(nbw_core::names::check_workflow_name(name).is_ok(), "invalid_name", || {
        format!("pipeline name {name:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'")
    })?;
    let bundle = resolve_bundle(state, &access.project_id, input.bundle_version.as_deref()).await?;
    check(state, &access.project_id, name, &input.spec, &bundle.notebooks()).await?;
    let next = next_fire(&input.spec, input.enabled)?;
    let row = store::upsert(
        &state.db,
        &access.project_id,
        name,
        input.enabled,
        input.bundle_version.as_deref(),
        &input.spec,
        next,
    )
    .await?;
    Ok(row.to_api())
}

async fn check(
    state: &AppState,
    project_id: &str,
    name: &str,
    spec: &PipelineEntry,
    notebooks: &[String],
) -> Result<()> {
    // validate_pipelines looks only at which workflow names exist.
    let workflows: BTreeMap<String, WorkflowEntry> = workflows::list(&state.db, project_id)
        .await?
        .into_iter()
        .map(|row| {
            let entry = serde_json::from_value(serde_json::json!({"notebook": row.spec().notebook}))
                .expect("a notebook alone is a workflow entry");
            (row.name, entry)
        })
        .collect();
    let pipelines = BTreeMap::from([(name.to_owned(), spec.clone())]);
    let mut problems = Vec::new();
    validate_pipelines(&pipelines, Some(notebooks), &workflows, &mut |_, message| problems.push(message));
    if let Some(schedule) = &spec.schedule
        && let Err(e) = schedule::compile(&schedule.to_api())
    {
        problems.push(format!("pipeline `{name}`: schedule: {e}"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Unprocessable { code: "invalid_pipeline", message: problems.join("; ") })
}

/// The next fire time of an enabled scheduled pipeline, from now.
fn next_fire(spec: &PipelineEntry, enabled: bool) -> Result<Option<i64>> {
    let Some(schedule) = spec.schedule.as_ref().filter(|_| enabled) else { return Ok(None) };
    let compiled = schedule::compile(&schedule.to_api())
        .map_err(|e| Error::Invalid { code: e.code(), message: e.to_string() })?;
    let now = Utc::now();
    Ok(compiled.next_after(now, now).map(|t| t.timestamp_millis()))
}

/// Deletes the pipeline `name`; its runs stay in the history.
pub async fn delete(state: &AppState, access: &ProjectAccess, name: &str) -> Result<()> {
    let row = find(state, access, name).await?;
    store::delete(&state.db, &row.id).await?;
    Ok(())
}
