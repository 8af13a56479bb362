//! Creating executions: resolving what a run needs (the bundle, the notebook, the parameters)
//! once, at creation, so a later change of the workflow or a newer bundle does not change a
//! queued run. The API, the scheduler and the retry logic all create executions here.
//!
//! A run in a runtime gets that runtime's image resolved here too (the version asked for, or
//! the newest built), and the Docker label, so only an agent with Docker claims it. Retries copy
//! their attempt's spec and labels, so they run in the same image.
//!
//! Before anything is queued, a run's parameters are checked against its notebook's types and
//! its workflow's rules (`typed_params`), and its limits are made explicit: every
//! execution records its effective timeout and queue deadline (`limits`).

use std::collections::BTreeMap;

use nbw_core::api::{
    ContainerImage, CreateExecution, DOCKER_LABEL, Execution, ExecutionSpec, Origin, Role, WorkflowSpec,
};
use nbw_core::params::Parameters;

use crate::db::now_ms;
use crate::error::{Error, Result};
use crate::limits;
use crate::state::AppState;
use crate::store::bundles::{self, BundleRow};
use crate::store::executions::{self, NewExecution};
use crate::store::workflows::WorkflowRow;
use crate::store::{projects, runtimes};
use crate::typed_params::{self, NotebookAt};

/// The origins a user may claim for a run: `web` (default) and `cli`.
pub fn user_origin(origin: Option<Origin>) -> Result<Origin> {
    match origin.unwrap_or(Origin::Web) {
        origin @ (Origin::Web | Origin::Cli) => Ok(origin),
        other => Err(Error::invalid(format!(
            "origin {:?} is reserved for the server; use web or cli",
            other.prefix()
        ))),
    }
}

/// The bundle of `version`, or the project's latest.
pub async fn resolve_bundle(state: &AppState, project_id: &str, version: Option<&str>) -> Result<BundleRow> {
    match version {
        Some(version) => bundles::by_version(&state.db, project_id, version)
            .await?
            .ok_or_else(|| Error::not_found(format!("bundle version {version:?}"))),
        None => bundles::latest(&state.db, project_id)
            .await?
            .ok_or_else(|| Error::invalid("the project has no bundle yet: push one first (`nbw push`)")),
    }
}

/// Refuses a notebook the bundle does not hold, naming the ones it does.
pub fn check_notebook(bundle: &BundleRow, notebook: &str) -> Result<()> {
    let notebooks = bundle.notebooks();
    if notebooks.iter().any(|n| n == notebook) {
        return Ok(());
    }
    let known = if notebooks.is_empty() { "none".to_owned() } else { notebooks.join(", ") };
    Err(Error::Invalid {
        code: "unknown_notebook",
        message: format!("bundle {:?} has no notebook {notebook:?}; it has: {known}", bundle.version),
    })
}

/// Checks a run's runtime (1 to 64 of `A-Za-z0-9_.-`, as `nbw.yaml` allows) and that a
/// runtime version comes with its runtime.
pub fn check_runtime(runtime: Option<&str>, version: Option<&str>) -> Result<()> {
    match (runtime, version) {
        (Some(name), _) => Ok(nbw_core::names::check_runtime_name(name)?),
        (None, Some(_)) => {
            Err(Error::invalid("runtime_version needs runtime: name the runtime it is a version of"))
        }
        (None, None) => Ok(()),
    }
}

/// The image a run in `runtime` uses: `version`, or the runtime's newest version. `None`
/// without a runtime (the agent runs the kernel as a local process).
pub async fn resolve_container(
    state: &AppState,
    project_id: &str,
    runtime: Option<&str>,
    version: Option<&str>,
) -> Result<Option<ContainerImage>> {
    check_runtime(runtime, version)?;
    let Some(name) = runtime else { return Ok(None) };
    if let Some(row) = runtimes::find(&state.db, project_id, name, version).await? {
        return Ok(Some(row.container()));
    }
    let built = runtimes::list(&state.db, project_id, Some(name)).await?;
    if built.is_empty() {
        let project =
            projects::get(&state.db, project_id, Role::Viewer).await?.map(|p| p.name).unwrap_or_default();
        return Err(Error::Invalid {
            code: "runtime_not_built",
            message: format!(
                "runtime {name:?} has no built image in project {project:?}: build it with `nbw runtime build {name}`"
            ),
        });
    }
    let versions: Vec<&str> = built.iter().map(|row| row.version.as_str()).collect();
    Err(Error::NotFound(format!(
        "runtime {name:?} has no version {:?}; built versions, newest first: {}",
        version.unwrap_or_default(),
        versions.join(", ")
    )))
}

/// Checks that a pinned runtime version (a workflow's `runtime_version`, from `version:` on
/// the runtime in `nbw.yaml`) was built: unlike the newest version, which may be built after
/// the workflow exists, a pin names a build of the past, so a typo is refused at once.
pub async fn check_pinned_runtime(
    state: &AppState,
    project_id: &str,
    runtime: Option<&str>,
    version: Option<&str>,
) -> Result<()> {
    if version.is_none() {
        return Ok(());
    }
    match resolve_container(state, project_id, runtime, version).await {
        Err(Error::NotFound(message)) => Err(Error::Invalid { code: "unknown_runtime_version", message }),
        other => other.map(drop),
    }
}

/// The execution spec of a workflow run, with `overrides` on top of the workflow's parameters.
pub async fn workflow_spec(
    state: &AppState,
    project_id: &str,
    spec: &WorkflowSpec,
    overrides: Parameters,
) -> Result<ExecutionSpec> {
    let bundle = resolve_bundle(state, project_id, spec.bundle_version.as_deref()).await?;
    check_notebook(&bundle, &spec.notebook)?;
    let container =
        resolve_container(state, project_id, spec.runtime.as_deref(), spec.runtime_version.as_deref())
            .await?;
    let mut parameters = spec.parameters.clone();
    parameters.extend(overrides);
    Ok(ExecutionSpec {
        notebook: spec.notebook.clone(),
        parameters,
        bundle_id: bundle.id,
        bundle_version: bundle.version,
        bundle_digest: bundle.digest,
        runtime: spec.runtime.clone(),
        runtime_version: container.as_ref().map(|c| c.version.clone()),
        container,
        build: None,
        volumes: spec.volumes.clone(),
        timeout_secs: spec.timeout_secs,
        cell_timeout_secs: spec.cell_timeout_secs,
        max_queue_secs: spec.max_queue_secs,
        retries: spec.retries.clone(),
        notifications: spec.notifications.clone(),
        step: None,
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
    /// Agent labels required (the Docker label is added when the spec needs Docker).
    pub labels: BTreeMap<String, String>,
    /// The workflow it runs.
    pub workflow_id: Option<String>,
    /// Who asked.
    pub created_by: Option<String>,
    /// For scheduled runs, the fire time (ms): one execution per (workflow, fire time).
    pub fire_at: Option<i64>,
}

/// Queues an execution and wakes waiting agents. `None` when a scheduled fire happened already.
pub async fn enqueue(state: &AppState, request: Enqueue) -> Result<Option<Execution>> {
    let id = request.origin.new_id();
    enqueue_as(state, id, request).await
}

/// [`enqueue`] with the id chosen by the caller (a pipeline records a step's execution id
/// before creating it).
pub async fn enqueue_as(state: &AppState, id: String, request: Enqueue) -> Result<Option<Execution>> {
    let fire = match (request.fire_at, &request.workflow_id) {
        (Some(at), Some(workflow)) => Some((format!("{workflow}@{at}"), at)),
        _ => None,
    };
    let mut spec = request.spec;
    limits::apply(&state.config, &mut spec)?;
    let mut labels = request.labels;
    if spec.needs_docker() {
        labels.insert(DOCKER_LABEL.0.to_owned(), DOCKER_LABEL.1.to_owned());
    }
    let new = NewExecution {
        id: id.clone(),
        project_id: request.project_id,
        workflow_id: request.workflow_id,
        spec,
        labels,
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
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("execution {id} vanished")))?;
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
) -> Result<Option<Execution>> {
    let spec = workflow.spec();
    let execution_spec = workflow_spec(state, &workflow.project_id, &spec, overrides.clone()).await?;
    let at = NotebookAt {
        version: &execution_spec.bundle_version,
        digest: &execution_spec.bundle_digest,
        notebook: &execution_spec.notebook,
    };
    typed_params::check(
        state,
        at,
        &spec.parameter_rules,
        &spec.parameters,
        &overrides,
        &execution_spec.parameters,
    )
    .await?;
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

/// Queues a run of a notebook of a bundle (the latest by default), in a runtime's image when
/// `input.runtime` is set, asked for by the user `created_by`.
pub async fn run_notebook(
    state: &AppState,
    project_id: &str,
    input: CreateExecution,
    created_by: String,
) -> Result<Execution> {
    let origin = user_origin(input.origin)?;
    let bundle = resolve_bundle(state, project_id, input.bundle_version.as_deref()).await?;
    check_notebook(&bundle, &input.notebook)?;
    let container =
        resolve_container(state, project_id, input.runtime.as_deref(), input.runtime_version.as_deref())
            .await?;
    let at = NotebookAt { version: &bundle.version, digest: &bundle.digest, notebook: &input.notebook };
    let no_rules = Default::default();
    typed_params::check(state, at, &no_rules, &Parameters::new(), &input.parameters, &input.parameters)
        .await?;
    let spec = ExecutionSpec {
        notebook: input.notebook,
        parameters: input.parameters,
        bundle_id: bundle.id,
        bundle_version: bundle.version,
        bundle_digest: bundle.digest,
        runtime: input.runtime,
        runtime_version: container.as_ref().map(|c| c.version.clone()),
        container,
        build: None,
        volumes: Vec::new(),
        timeout_secs: input.timeout_secs,
        cell_timeout_secs: None,
        max_queue_secs: None,
        retries: Default::default(),
        notifications: Vec::new(),
        step: None,
    };
    let request = Enqueue {
        project_id: project_id.to_owned(),
        origin,
        spec,
        labels: input.labels,
        workflow_id: None,
        created_by: Some(created_by),
        fire_at: None,
    };
    let execution = enqueue(state, request)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))?;
    Ok(execution)
}
