//! Creating executions: resolving what a run needs (the bundle, the notebook, the parameters)
//! once, at creation, so a later change of the workflow or a newer bundle does not change a
//! queued run. The API, the scheduler and the retry logic all create executions here.

use std::collections::BTreeMap;

use nbw_core::api::{Execution, ExecutionSpec, Origin, WorkflowSpec};
use nbw_core::params::Parameters;

use crate::app::AppState;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::store::bundles::{self, BundleRow};
use crate::store::executions::{self, NewExecution};
use crate::store::workflows::WorkflowRow;

/// The bundle of `version`, or the project's latest.
pub async fn resolve_bundle(
    state: &AppState,
    project_id: &str,
    version: Option<&str>,
) -> ApiResult<BundleRow> {
    match version {
        Some(version) => bundles::by_version(&state.db, project_id, version)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("bundle version {version:?}"))),
        None => bundles::latest(&state.db, project_id)
            .await?
            .ok_or_else(|| ApiError::invalid("the project has no bundle yet: push one first (`nbw push`)")),
    }
}

/// Refuses a notebook the bundle does not hold, naming the ones it does.
pub fn check_notebook(bundle: &BundleRow, notebook: &str) -> ApiResult<()> {
    let notebooks = bundle.notebooks();
    if notebooks.iter().any(|n| n == notebook) {
        return Ok(());
    }
    let known = if notebooks.is_empty() { "none".to_owned() } else { notebooks.join(", ") };
    Err(ApiError::BadRequest {
        code: "unknown_notebook",
        message: format!("bundle {:?} has no notebook {notebook:?}; it has: {known}", bundle.version),
    })
}

/// The execution spec of a workflow run, with `overrides` on top of the workflow's parameters.
pub async fn workflow_spec(
    state: &AppState,
    project_id: &str,
    spec: &WorkflowSpec,
    overrides: Parameters,
) -> ApiResult<ExecutionSpec> {
    let bundle = resolve_bundle(state, project_id, spec.bundle_version.as_deref()).await?;
    check_notebook(&bundle, &spec.notebook)?;
    let mut parameters = spec.parameters.clone();
    parameters.extend(overrides);
    Ok(ExecutionSpec {
        notebook: spec.notebook.clone(),
        parameters,
        bundle_id: bundle.id,
        bundle_version: bundle.version,
        bundle_digest: bundle.digest,
        runtime: spec.runtime.clone(),
        runtime_version: spec.runtime_version.clone(),
        container: None,
        build: None,
        volumes: spec.volumes.clone(),
        timeout_secs: spec.timeout_secs,
        cell_timeout_secs: spec.cell_timeout_secs,
        retries: spec.retries.clone(),
        notifications: spec.notifications.clone(),
    })
}

/// What [`enqueue`] creates.
#[derive(Debug, Clone)]
pub struct Enqueue {
    /// Project id.
    pub project_id: String,
    /// Where it comes from (the id prefix).
    pub origin: Origin,
    /// What it runs.
    pub spec: ExecutionSpec,
    /// Agent labels required.
    pub labels: BTreeMap<String, String>,
    /// The workflow it runs.
    pub workflow_id: Option<String>,
    /// Who asked.
    pub created_by: Option<String>,
    /// For scheduled runs, the fire time (ms): one execution per (workflow, fire time).
    pub fire_at: Option<i64>,
}

/// Queues an execution and wakes waiting agents. `None` when a scheduled fire happened already.
pub async fn enqueue(state: &AppState, request: Enqueue) -> ApiResult<Option<Execution>> {
    let id = request.origin.new_id();
    let fire = match (request.fire_at, &request.workflow_id) {
        (Some(at), Some(workflow)) => Some((format!("{workflow}@{at}"), at)),
        _ => None,
    };
    let new = NewExecution {
        id: id.clone(),
        project_id: request.project_id,
        workflow_id: request.workflow_id,
        spec: request.spec,
        labels: request.labels,
        attempt: 1,
        first_attempt_id: None,
        previous_attempt_id: None,
        fire,
        not_before: now_ms(),
        created_by: request.created_by,
    };
    if !executions::insert(&state.db, &new).await? {
        return Ok(None);
    }
    state.wake.work_available(&state.db).await;
    let row = executions::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("execution {id} vanished")))?;
    Ok(Some(row.to_api()))
}

/// Queues a run of `workflow` (now, or for a schedule's fire time).
pub async fn enqueue_workflow(
    state: &AppState,
    workflow: &WorkflowRow,
    origin: Origin,
    overrides: Parameters,
    created_by: Option<String>,
    fire_at: Option<i64>,
) -> ApiResult<Option<Execution>> {
    let spec = workflow.spec();
    let execution_spec = workflow_spec(state, &workflow.project_id, &spec, overrides).await?;
    enqueue(
        state,
        Enqueue {
            project_id: workflow.project_id.clone(),
            origin,
            spec: execution_spec,
            labels: spec.labels.clone(),
            workflow_id: Some(workflow.id.clone()),
            created_by,
            fire_at,
        },
    )
    .await
}
