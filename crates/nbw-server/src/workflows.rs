//! Workflows: the rules of a workflow (its name, notebook, runtime, volumes, notifications and
//! schedule) and its changes. Every change recomputes the next fire time at once, so the
//! scheduler's next tick sees it.

use chrono::Utc;
use nbw_core::api::{Workflow, WorkflowInput, WorkflowSpec};
use nbw_core::container::Volume;

use crate::auth::access::ProjectAccess;
use crate::config::Config;
use crate::db::is_unique_violation;
use crate::error::{Error, Result};
use crate::runs;
use crate::scheduler::schedule;
use crate::state::AppState;
use crate::store::workflows::{self, WorkflowRow};

/// Checks what can be checked without a bundle, and computes the next fire time.
fn validate(config: &Config, name: &str, spec: &WorkflowSpec, enabled: bool) -> Result<Option<i64>> {
    if spec.notebook.trim().is_empty() || !spec.notebook.ends_with(".ipynb") {
        return Err(Error::invalid(format!(
            "notebook {:?} must be a path to an .ipynb file in the bundle",
            spec.notebook
        )));
    }
    // Whether the runtime is built is checked when a run is created: it may be built later.
    runs::check_runtime(spec.runtime.as_deref(), spec.runtime_version.as_deref())?;
    crate::limits::check_timeout(config, spec.timeout_secs)?;
    for (parameter, rule) in &spec.parameter_rules {
        rule.validate().map_err(|message| Error::Unprocessable {
            code: "invalid_parameter_rule",
            message: format!("workflow {name:?}, parameter {parameter:?}: {message}"),
        })?;
    }
    for volume in &spec.volumes {
        Volume::parse(volume).map_err(|message| Error::Invalid { code: "invalid_volume", message })?;
    }
    for notification in &spec.notifications {
        if notification.url_secret.trim().is_empty() {
            return Err(Error::invalid(
                "a notification needs url_secret: the name of the project secret holding the webhook URL",
            ));
        }
    }
    let Some(schedule) = &spec.schedule else {
        return Ok(None);
    };
    let compiled =
        schedule::compile(schedule).map_err(|e| Error::Invalid { code: e.code(), message: e.to_string() })?;
    let now = Utc::now();
    Ok(enabled.then(|| compiled.next_after(now, now)).flatten().map(|t| t.timestamp_millis()))
}

/// The workflow `name` of the project.
pub async fn find(state: &AppState, access: &ProjectAccess, name: &str) -> Result<WorkflowRow> {
    workflows::by_name(&state.db, &access.project_id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("workflow {name:?}")))
}

/// Checks and creates a workflow in the project with id `project_id`.
pub async fn create(state: &AppState, project_id: &str, input: WorkflowInput) -> Result<Workflow> {
    nbw_core::names::check_workflow_name(&input.name)?;
    let next = validate(&state.config, &input.name, &input.spec, input.enabled)?;
    runs::check_pinned_runtime(
        state,
        project_id,
        input.spec.runtime.as_deref(),
        input.spec.runtime_version.as_deref(),
    )
    .await?;
    match workflows::insert(&state.db, project_id, &input.name, &input.spec, input.enabled, next).await {
        Ok(row) => Ok(row.to_api()),
        Err(e) if is_unique_violation(&e) => {
            Err(Error::Conflict(format!("workflow {:?} exists; change it with PUT", input.name)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the workflow `name` with `input` (a rename goes through `input.name`).
pub async fn replace(
    state: &AppState,
    access: &ProjectAccess,
    name: &str,
    input: WorkflowInput,
) -> Result<Workflow> {
    nbw_core::names::check_workflow_name(&input.name)?;
    let row = find(state, access, name).await?;
    let next = validate(&state.config, &input.name, &input.spec, input.enabled)?;
    let (runtime, version) = (input.spec.runtime.as_deref(), input.spec.runtime_version.as_deref());
    runs::check_pinned_runtime(state, &access.project_id, runtime, version).await?;
    match workflows::update(&state.db, &row.id, &input.name, &input.spec, input.enabled, next).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::Conflict(format!("workflow {:?} exists", input.name)));
        }
        Err(e) => return Err(e.into()),
    }
    reread(state, &row.id, name).await
}

/// Enables or disables the schedule of the workflow `name`.
pub async fn set_enabled(
    state: &AppState,
    access: &ProjectAccess,
    name: &str,
    enabled: bool,
) -> Result<Workflow> {
    let row = find(state, access, name).await?;
    let spec = row.spec();
    let next = validate(&state.config, &row.name, &spec, enabled)?;
    workflows::update(&state.db, &row.id, &row.name, &spec, enabled, next).await?;
    reread(state, &row.id, name).await
}

/// The workflow `name` in full: its effective limits, and its notebook's typed parameters
/// (from the bundle it runs; none when it has no bundle or notebook yet, as its runs would be
/// refused for that anyway).
pub async fn show(state: &AppState, access: &ProjectAccess, name: &str) -> Result<Workflow> {
    let row = find(state, access, name).await?;
    let mut workflow = row.to_api();
    let spec = &workflow.spec;
    workflow.effective_timeout_secs =
        crate::limits::effective_timeout(&state.config, spec.timeout_secs).unwrap_or(spec.timeout_secs);
    workflow.effective_max_queue_secs =
        crate::limits::effective_max_queue(&state.config, spec.max_queue_secs);
    if let Ok(bundle) = runs::resolve_bundle(state, &access.project_id, spec.bundle_version.as_deref()).await
        && runs::check_notebook(&bundle, &spec.notebook).is_ok()
    {
        let at = crate::typed_params::NotebookAt {
            version: &bundle.version,
            digest: &bundle.digest,
            notebook: &spec.notebook,
        };
        workflow.typed_parameters = crate::typed_params::typed(state, at, &spec.parameter_rules).await?;
    }
    Ok(workflow)
}

/// Deletes the workflow `name`; its executions stay in the history.
pub async fn delete(state: &AppState, access: &ProjectAccess, name: &str) -> Result<()> {
    let row = find(state, access, name).await?;
    workflows::delete(&state.db, &row.id).await?;
    Ok(())
}

async fn reread(state: &AppState, id: &str, name: &str) -> Result<Workflow> {
    let row = workflows::by_id(&state.db, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("workflow {name:?}")))?;
    Ok(row.to_api())
}
