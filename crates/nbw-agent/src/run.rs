//! Running one claimed execution: unpack the bundle into a working directory of its own, pass
//! the execution context as environment variables (and as parameters where the notebook
//! declares them), run the engine in-process with the kernel in its own process group (local
//! executor) or in a container of the runtime image (Docker executor), forward events, then
//! store the redacted output notebook and the result. A build job builds its runtime's image
//! from the bundle instead.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nbw_client::{AgentClient, ClientError};
use nbw_core::api::{Claim, ExecutionResult, ExecutionState, GPU_LABEL};
use nbw_core::params::Parameters;
use nbw_engine::{
    ExecuteOptions, KernelExit, KernelHost, KernelSearch, Notebook, Outcome, PARAMETERS_TAG, RunStatus,
    inspect_parameters, source,
};

use crate::AgentConfig;
use crate::build::build_image;
use crate::bundles::BundleCache;
use crate::context::{RunFacts, with_context};
use crate::docker::{ContainerKernel, ContainerSettings, DockerExecutor};
use crate::forward::{Forwarder, to_api};
use crate::leases::Controls;
use crate::pool::WarmPool;
use crate::redact::Redactor;
use crate::shared::{self, SharedVolumes};
use crate::values::RunValues;

/// Everything a run needs from the agent.
pub struct RunContext<'a> {
    /// The agent's configuration.
    pub config: &'a AgentConfig,
    /// The server.
    pub client: &'a AgentClient,
    /// The bundle cache.
    pub bundles: &'a BundleCache,
    /// Warm kernels, when the agent keeps some.
    pub pool: Option<&'a WarmPool>,
    /// The Docker engine, when the agent runs executions in runtime images.
    pub docker: Option<&'a DockerExecutor>,
    /// The pipeline shared volumes this agent holds.
    pub volumes: &'a SharedVolumes,
}

/// What outlives a run's result: its kernel exiting and, for the Docker executor, its container
/// being removed.
struct Leftovers {
    kernel: KernelExit,
    container: Option<Arc<ContainerKernel>>,
}

impl Leftovers {
    /// Resolves once the kernel, everything it started and its container are gone.
    async fn gone(self) {
        self.kernel.gone().await;
        if let Some(container) = self.container {
            container.removed().await;
        }
    }
}

/// Runs `claim` to the end and reports it, unless the server abandons it on the way.
pub async fn run_claim(ctx: &RunContext<'_>, claim: Claim, controls: Controls) {
    let id = claim.execution.id.clone();
    let redactor = Redactor::new(claim.secrets.values());
    let workdir = ctx.config.work_dir.join("runs").join(&id);
    let forwarder = Forwarder::start(ctx.client.clone(), id.clone(), controls.abandoned.clone());
    let (result, notebook, leftovers) =
        match execute(ctx, &claim, &workdir, &controls, &redactor, &forwarder).await {
            Ok(done) => done,
            Err(e) => {
                let message = redactor.text(&format!("{e:#}"));
                tracing::warn!(execution = %id, error = %message, "the execution could not run");
                (failure(message), None, None)
            }
        };
    // A run that did not succeed is reported once its kernel, every process it started and its
    // container are gone; a successful one is reported first, its kernel exiting meanwhile.
    let leftovers = match leftovers {
        Some(leftovers) if result.state != ExecutionState::Succeeded => {
            leftovers.gone().await;
            None
        }
        other => other,
    };
    forwarder.finish().await;
    report(ctx, &id, result, notebook, &controls).await;
    if let Some(leftovers) = leftovers {
        leftovers.gone().await;
    }
    if !ctx.config.keep_workdirs {
        let _ = tokio::fs::remove_dir_all(&workdir).await;
    }
}

/// Stores the output notebook and the result, unless the server gave the execution up.
async fn report(
    ctx: &RunContext<'_>,
    id: &str,
    result: ExecutionResult,
    notebook: Option<Vec<u8>>,
    controls: &Controls,
) {
    if controls.abandoned.is_cancelled() {
        return;
    }
    if let Some(notebook) = notebook {
        let upload = || ctx.client.put_output(id, notebook.clone());
        if let Err(e) = with_retries(controls, upload).await {
            tracing::warn!(execution = %id, error = %e, "the output notebook could not be stored");
        }
    }
    let complete = || ctx.client.complete(id, result.clone());
    if let Err(e) = with_retries(controls, complete).await {
        tracing::warn!(execution = %id, error = %e, "the result could not be reported");
    }
}

fn failure(message: String) -> ExecutionResult {
    ExecutionResult {
        values: None,
        values_error: None,
        state: ExecutionState::Failed,
        message: Some(message),
        failed_cell: None,
        failed_source: None,
        duration_ms: None,
        image: None,
    }
}

/// Retries a call while the server is unreachable, until it answers or abandons the execution.
async fn with_retries<F, Fut>(controls: &Controls, mut call: F) -> Result<(), ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), ClientError>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        match call().await {
            Err(e) if e.is_transient() && !controls.abandoned.is_cancelled() => {
                tracing::warn!(error = %e, "server unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// Prepares the working directory and runs the engine; returns the result and the redacted
/// output notebook.
async fn execute(
    ctx: &RunContext<'_>,
    claim: &Claim,
    workdir: &Path,
    controls: &Controls,
    redactor: &Redactor,
    forwarder: &Forwarder,
) -> anyhow::Result<(ExecutionResult, Option<Vec<u8>>, Option<Leftovers>)> {
    let spec = &claim.execution.spec;
    let archive = ctx.bundles.archive(ctx.client, &spec.bundle_digest, &claim.bundle_url).await?;
    tokio::fs::create_dir_all(workdir).await.with_context(|| format!("creating {}", workdir.display()))?;
    let (dir, bytes) = (workdir.to_path_buf(), archive);
    tokio::task::spawn_blocking(move || nbw_bundle::unpack(&bytes, &dir, u64::MAX / 16))
        .await?
        .context("unpacking the bundle")?;
    if let Some(build) = &spec.build {
        let docker = ctx.docker.with_context(|| {
            format!("this execution builds runtime image {}, but this agent has no Docker: start it with --docker", build.image)
        })?;
        let registry = ctx.config.registry.as_deref();
        let result = build_image(docker, build, workdir, registry, controls, forwarder, redactor).await?;
        return Ok((result, None, None));
    }
    let notebook_path = workdir.join(relative(&spec.notebook)?);
    let notebook =
        Notebook::read(&notebook_path).map_err(|e| anyhow::anyhow!("notebook {}: {e}", spec.notebook))?;
    let parameters = parameters(&notebook, claim);
    let volume = open_volume(ctx, claim, workdir).await?;
    let container = container(ctx, claim, workdir, &notebook, volume.as_ref())?;
    let kernel_workdir = match &container {
        Some(c) => c.settings().workdir_in_container(),
        None => workdir.display().to_string(),
    };
    let values = RunValues::prepare(workdir, &kernel_workdir).context("preparing NBW_RESULT")?;
    // A container's image keeps its own PYTHONPATH (see the Docker executor); a local kernel
    // keeps the agent's.
    let inherited = container.is_none().then(|| std::env::var("PYTHONPATH").ok()).flatten();
    let mut env = values.environment(inherited.as_deref());
    if let Some(volume) = &volume {
        env.push(("NBW_SHARED".to_owned(), volume.kernel_path.clone()));
    }
    let options = ExecuteOptions {
        search: KernelSearch { python: ctx.config.python.clone() },
        cwd: Some(workdir.to_path_buf()),
        env: environment(claim, ctx.client.base(), env),
        cell_timeout: spec.cell_timeout_secs.map(Duration::from_secs),
        run_timeout: spec.timeout_secs.map(Duration::from_secs),
        kill_grace: ctx.config.kill_grace,
        input_path: Some(spec.notebook.clone()),
        output_path: Some(format!("{}.ipynb", claim.execution.id)),
        host: container.clone().map(|c| c as Arc<dyn KernelHost>),
        ..ExecuteOptions::default()
    };
    let warm = match (ctx.pool, notebook.kernel_name(), &container) {
        (Some(pool), Some(name), None) => pool.take(name),
        _ => None,
    };
    let mut execution =
        nbw_engine::execute_with(notebook, &parameters, options, warm).map_err(|e| anyhow::anyhow!("{e}"))?;
    let stop = controls.stop.clone();
    let cancel = execution.cancel_token();
    let watcher = tokio::spawn(async move {
        stop.cancelled().await;
        cancel.cancel();
    });
    while let Some(record) = execution.next_event().await {
        forwarder.send(to_api(&record, redactor));
    }
    let (outcome, kernel) = execution.outcome_early().await;
    watcher.abort();
    let (mut result, notebook) = summarize(outcome, redactor);
    (result.values, result.values_error) = values.read();
    if let Some(volume) = &volume {
        keep_folders(volume, workdir, &mut result);
    }
    Ok((result, notebook, Some(Leftovers { kernel, container })))
}

/// A pipeline step's shared volume, open on this agent.
struct OpenVolume {
    /// Its Docker volume name.
    name: String,
    /// Its directory on the agent.
    dir: PathBuf,
    /// `NBW_SHARED`: the directory as the kernel sees it.
    kernel_path: String,
    /// The working directory's folders carried from step to step.
    folders: Vec<String>,
}

/// Opens the run's shared volume, when the execution is a step of a pipeline that has one, and
/// copies its `shared_folders` into the working directory.
async fn open_volume(
    ctx: &RunContext<'_>,
    claim: &Claim,
    workdir: &Path,
) -> anyhow::Result<Option<OpenVolume>> {
    let spec = &claim.execution.spec;
    let Some(volume) = spec.step.as_ref().and_then(|s| s.shared.as_ref()) else { return Ok(None) };
    let in_container = spec.container.is_some();
    let dir = ctx.volumes.open(volume, in_container).await?;
    shared::copy_in(&dir, workdir, &volume.folders)?;
    let kernel_path = match in_container {
        true => crate::docker::SHARED_PATH.to_owned(),
        false => dir.display().to_string(),
    };
    Ok(Some(OpenVolume { name: volume.name.clone(), dir, kernel_path, folders: volume.folders.clone() }))
}

/// Copies the shared folders back into the volume for the next step, whatever the run's
/// outcome; a copy that fails fails a run that had succeeded (the next step would miss files).
fn keep_folders(volume: &OpenVolume, workdir: &Path, result: &mut ExecutionResult) {
    if let Err(e) = shared::copy_out(workdir, &volume.dir, &volume.folders) {
        tracing::warn!(volume = %volume.name, error = %format!("{e:#}"), "shared folders not kept");
        if result.state == ExecutionState::Succeeded {
            result.state = ExecutionState::Failed;
            result.message = Some(format!("{e:#}"));
        }
    }
}

/// The container the execution's kernel runs in, when its spec names a runtime image.
fn container(
    ctx: &RunContext<'_>,
    claim: &Claim,
    workdir: &Path,
    notebook: &Notebook,
    volume: Option<&OpenVolume>,
) -> anyhow::Result<Option<Arc<ContainerKernel>>> {
    let spec = &claim.execution.spec;
    let Some(image) = &spec.container else { return Ok(None) };
    let docker = ctx.docker.with_context(|| {
        format!(
            "this execution runs in runtime image {}, but this agent has no Docker executor: start it with --docker",
            image.image
        )
    })?;
    let language = notebook.language().unwrap_or("python");
    let mut settings = ContainerSettings::from_bundle(image.clone(), workdir, &spec.volumes, language)?;
    settings.shared = volume.map(|v| v.name.clone());
    let (key, value) = GPU_LABEL;
    settings.gpu |= claim.execution.labels.get(key).is_some_and(|v| v == value);
    Ok(Some(docker.container(&claim.execution.id, settings)))
}

/// The execution's result and redacted notebook from the engine's outcome.
fn summarize(outcome: Outcome, redactor: &Redactor) -> (ExecutionResult, Option<Vec<u8>>) {
    let state = match outcome.status {
        RunStatus::Succeeded => ExecutionState::Succeeded,
        RunStatus::TimedOut => ExecutionState::TimedOut,
        RunStatus::Cancelled => ExecutionState::Cancelled,
        RunStatus::Failed | RunStatus::KernelDied | RunStatus::OutputIncomplete => ExecutionState::Failed,
    };
    let failed_source =
        outcome.failed_cell.and_then(|i| outcome.notebook.cells().get(i)).map(|c| redactor.text(source(c)));
    let duration_ms = outcome
        .notebook
        .metadata()
        .get("papermill")
        .and_then(|p| p.get("duration"))
        .and_then(serde_json::Value::as_f64)
        .map(|s| s * 1000.0);
    let result = ExecutionResult {
        values: None,
        values_error: None,
        state,
        message: outcome.message.as_deref().map(|m| redactor.text(m)),
        failed_cell: outcome.failed_cell.map(|c| c as u64),
        failed_source,
        duration_ms,
        image: None,
    };
    let mut tree: serde_json::Value =
        serde_json::from_str(&outcome.notebook.to_json()).expect("a notebook is JSON");
    redactor.json(&mut tree);
    let notebook = Notebook::from_value(tree).map(|nb| nb.to_json().into_bytes()).ok();
    (result, notebook)
}

/// A bundle-relative path that stays inside the working directory.
fn relative(path: &str) -> anyhow::Result<PathBuf> {
    let candidate = Path::new(path);
    anyhow::ensure!(
        candidate.components().all(|c| matches!(c, Component::Normal(_))),
        "notebook path {path:?} must be relative to the project, without '..'"
    );
    Ok(candidate.to_path_buf())
}

/// The run's parameters: the execution's own, with the execution context (see
/// [`crate::context`]) for each context name the notebook's parameters cell declares.
fn parameters(notebook: &Notebook, claim: &Claim) -> Parameters {
    let declared: Vec<String> = notebook
        .find_tagged(PARAMETERS_TAG)
        .and_then(|i| {
            let language = notebook.language().unwrap_or("python");
            inspect_parameters(language, source(&notebook.cells()[i])).ok()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|spec| spec.name)
        .collect();
    let execution = &claim.execution;
    let facts = RunFacts {
        execution_id: &execution.id,
        workflow_id: execution.workflow_id.as_deref(),
        workflow: claim.workflow.as_deref(),
        time: execution.scheduled_for.unwrap_or(execution.created_at),
    };
    with_context(&declared, &facts, &execution.spec.parameters)
}

/// The kernel's environment: the execution context, the run's own files (`run_files`: its
/// result, helper and shared volume), then the project's secrets (environment only: never
/// parameters, so never written into the notebook).
fn environment(claim: &Claim, server: &str, run_files: Vec<(String, String)>) -> Vec<(String, String)> {
    let execution = &claim.execution;
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("NBW_EXECUTION_ID".into(), execution.id.clone());
    env.insert("NBW_PROJECT".into(), claim.project.clone());
    env.insert("NBW_WORKFLOW".into(), claim.workflow.clone().unwrap_or_default());
    env.insert(
        "NBW_SCHEDULED_AT".into(),
        execution.scheduled_for.map(|t| t.to_rfc3339()).unwrap_or_default(),
    );
    env.insert("NBW_SERVER".into(), server.to_owned());
    env.extend(run_files);
    env.extend(claim.secrets.clone());
    env.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notebook_paths_stay_inside() {
        assert!(relative("notebooks/a.ipynb").is_ok());
        assert!(relative("../a.ipynb").is_err());
        assert!(relative("/etc/a.ipynb").is_err());
    }
}
