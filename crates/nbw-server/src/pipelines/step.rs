//! How a step becomes an execution: the workflow it names (if any) gives the notebook,
//! parameters, runtime, timeouts, retries, labels and notifications; the step overrides them;
//! its parameters are rendered from the run's context and the upstream steps' results.

use std::collections::BTreeMap;

use nbw_core::api::{SharedVolume, StepContext};
use nbw_core::params::Parameters;
use nbw_core::pipeline::{StepEntry, template};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::runs::{Enqueue, check_notebook, resolve_bundle, resolve_container};
use crate::state::AppState;
use crate::store::pipelines::RunRow;
use crate::store::workflows;

/// Why a step cannot start: its message becomes the step's, and the run goes on without it.
#[derive(Debug)]
pub enum NotStarted {
    /// A problem of the step (a missing upstream result, an unbuilt runtime...): the step fails.
    Step(String),
    /// A fault of the server: the run is left as it is, to be tried again.
    Server(Error),
}

impl From<Error> for NotStarted {
    fn from(error: Error) -> Self {
        match error {
            Error::Internal(_) => NotStarted::Server(error),
            other => NotStarted::Step(other.to_string()),
        }
    }
}

/// The execution that runs `step` of `run`, given the results of the steps that succeeded.
pub async fn execution_of(
    state: &AppState,
    run: &RunRow,
    step: &StepEntry,
    results: &BTreeMap<String, Value>,
) -> Result<Enqueue, NotStarted> {
    let spec = run.spec();
    let (workflow_id, mut base) = match &step.workflow {
        Some(name) => {
            let row = workflows::by_name(&state.db, &run.project_id, name).await.map_err(Error::from)?;
            let row = row.ok_or_else(|| {
                NotStarted::Step(format!("workflow `{name}` no longer exists: push the project again"))
            })?;
            (Some(row.id.clone()), row.spec())
        }
        // The API's workflow spec holds every setting a step has; a notebook alone fills the rest
        // with the API's defaults.
        None => (
            None,
            serde_json::from_value(serde_json::json!({"notebook": step.notebook}))
                .map_err(|e| NotStarted::Step(format!("step `{}`: {e}", step.name)))?,
        ),
    };
    let rendered = template::render_parameters(&step.parameters, &run.context(), results)
        .map_err(|e| NotStarted::Step(format!("step `{}` cannot start: {e}", step.name)))?;
    let rendered: Parameters = serde_json::from_value(Value::Object(rendered.into_iter().collect()))
        .map_err(|e| {
            NotStarted::Step(format!("step `{}`: a parameter is not a notebook value: {e}", step.name))
        })?;
    base.parameters.extend(rendered);
    if let Some(overrides) = run.parameters().remove(&step.name) {
        base.parameters.extend(overrides);
    }
    if step.runtime.is_some() {
        base.runtime = step.runtime.clone();
        base.runtime_version = None;
    }
    base.timeout_secs = step.timeout.map(|t| t.0).or(base.timeout_secs);
    if let Some(retries) = step.retries {
        base.retries = retries.to_policy();
    }
    base.labels.extend(step.labels.clone());
    let bundle = resolve_bundle(state, &run.project_id, run.bundle_version.as_deref()).await?;
    check_notebook(&bundle, &base.notebook)?;
    let container =
        resolve_container(state, &run.project_id, base.runtime.as_deref(), base.runtime_version.as_deref())
            .await?;
    let shared = run.volume.clone().map(|name| SharedVolume { name, folders: spec.shared_folders.clone() });
    let execution = nbw_core::api::ExecutionSpec {
        notebook: base.notebook,
        parameters: base.parameters,
        bundle_id: bundle.id,
        bundle_version: bundle.version,
        bundle_digest: bundle.digest,
        runtime: base.runtime,
        runtime_version: container.as_ref().map(|c| c.version.clone()),
        container,
        build: None,
        volumes: base.volumes,
        timeout_secs: base.timeout_secs,
        cell_timeout_secs: base.cell_timeout_secs,
        max_queue_secs: base.max_queue_secs,
        retries: base.retries,
        notifications: base.notifications,
        step: Some(StepContext {
            pipeline_run_id: run.id.clone(),
            pipeline: run.pipeline.clone(),
            step: step.name.clone(),
            shared,
        }),
    };
    Ok(Enqueue {
        project_id: run.project_id.clone(),
        origin: nbw_core::api::Origin::Pipeline,
        spec: execution,
        labels: base.labels,
        workflow_id,
        created_by: run.created_by.clone(),
        fire_at: None,
    })
}
