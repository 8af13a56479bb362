//! The nbw agent: the data plane. It needs only the server's URL and an agent token: it
//! long-polls the server for executions matching its labels, runs up to `slots` of them at
//! once with the engine (the kernel a child in its own process group), heartbeats their
//! leases, streams their events, and uploads the output notebook and the result. It never
//! opens the database.
//!
//! - [`AgentConfig`] / [`run`]: the agent until shutdown;
//! - `run`: one execution; [`docker`]: the Docker executor (the kernel in a container of the
//!   runtime image); `build`: runtime image builds; `forward`: event batches; `leases`: the heartbeat; `bundles`: the bundle
//!   cache; `redact`: secrets out of everything sent; `values`: `NBW_RESULT` and the
//!   `nbw_result` helper; `shared`: pipeline shared volumes (`NBW_SHARED`).
//!
//! Shutdown (the `shutdown` token, cancelled on SIGTERM by the CLI) stops claiming at once,
//! lets running executions finish until `shutdown_grace`, then cancels them cleanly: each still
//! reports its (cancelled) result and partial notebook.
mod build;
mod bundles;
mod context;
pub mod docker;
mod forward;
mod leases;
mod pool;
mod redact;
mod run;
mod shared;
mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use nbw_client::{AgentClient, ClientError};
use nbw_core::api::{Agent, DOCKER_LABEL, GPU_LABEL};
use tokio_util::sync::CancellationToken;

use crate::bundles::BundleCache;
use crate::docker::DockerExecutor;
use crate::leases::Running;
use crate::run::{RunContext, run_claim};
use crate::shared::SharedVolumes;

pub use redact::Redactor;

/// How an agent runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The server's base URL.
    pub server: String,
    /// The agent token.
    pub token: String,
    /// Labels this agent offers (sent to the server at start).
    pub labels: BTreeMap<String, String>,
    /// Executions run at once.
    pub slots: usize,
    /// Bundle cache and per-execution working directories.
    pub work_dir: PathBuf,
    /// Keep each execution's working directory after it ends.
    pub keep_workdirs: bool,
    /// The interpreter whose environment holds the kernels.
    pub python: Option<PathBuf>,
    /// Heartbeat interval (well under the server's lease).
    pub heartbeat: Duration,
    /// After a cancel's interrupt, how long before the kernel's process group is killed.
    pub kill_grace: Duration,
    /// On shutdown, how long running executions may go on before they are cancelled.
    pub shutdown_grace: Duration,
    /// Kernels kept started ahead of time (0: none).
    pub warm: usize,
    /// The kernelspec of the warm kernels.
    pub warm_kernel: String,
    /// Run executions that name a runtime in containers of its image (the local Docker engine).
    pub docker: bool,
    /// Push the runtime images this agent builds to this registry (`host[:port]`).
    pub registry: Option<String>,
}

impl AgentConfig {
    /// A configuration with the defaults: 1 slot, heartbeat every 10 s, 5 s kill grace, 60 s
    /// shutdown grace.
    pub fn new(server: &str, token: &str, work_dir: PathBuf) -> AgentConfig {
        AgentConfig {
            server: server.to_owned(),
            token: token.to_owned(),
            labels: Default::default(),
            slots: 1,
            work_dir,
            keep_workdirs: false,
            python: None,
            heartbeat: Duration::from_secs(10),
            kill_grace: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(60),
            warm: 0,
            warm_kernel: "python3".into(),
            docker: false,
            registry: None,
        }
    }
}

/// Runs the agent until `shutdown` is cancelled and its executions are over.
pub async fn run(config: AgentConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = AgentClient::new(&config.server, &config.token)?;
    let gpu = match config.docker {
        true => engine_offers_gpu().await?,
        false => false,
    };
    let Some(agent) = introduce(&client, &config, gpu, &shutdown).await? else {
        return Ok(());
    };
    let docker = match config.docker {
        true => Some(start_docker(&agent.id).await?),
        false => None,
    };
    let running = Running::default();
    let volumes = SharedVolumes::new(&config.work_dir, docker.clone());
    let beats = CancellationToken::new();
    let heartbeat = tokio::spawn(leases::heartbeat_loop(
        client.clone(),
        running.clone(),
        volumes.clone(),
        config.heartbeat,
        beats.clone(),
    ));
    let bundles = BundleCache::new(config.work_dir.join("bundles"));
    let search = nbw_engine::KernelSearch { python: config.python.clone() };
    let pool = (config.warm > 0)
        .then(|| pool::WarmPool::start(&config.warm_kernel, search, config.warm, beats.clone()));
    tracing::info!(server = %config.server, slots = config.slots, "agent started");

    let ctx = RunContext {
        config: &config,
        client: &client,
        bundles: &bundles,
        pool: pool.as_deref(),
        docker: docker.as_ref(),
        volumes: &volumes,
    };
    let slots = (0..config.slots.max(1)).map(|_| slot(&ctx, &running, &shutdown));
    let all = futures::future::join_all(slots);
    tokio::pin!(all);
    tokio::select! {
        _ = &mut all => {}
        _ = async {
            shutdown.cancelled().await;
            tracing::info!(running = running.len(), "shutting down: no new claims; waiting for running executions");
            tokio::time::sleep(config.shutdown_grace).await;
        } => {
            if !running.is_empty() {
                tracing::warn!(running = running.len(), "shutdown grace over: cancelling running executions");
                running.stop_all();
            }
            all.await;
        }
    }
    beats.cancel();
    let _ = heartbeat.await;
    tracing::info!("agent stopped");
    Ok(())
}

/// Connects to Docker and removes what an earlier life of this agent left behind.
async fn start_docker(agent: &str) -> anyhow::Result<DockerExecutor> {
    let docker = DockerExecutor::connect(agent).await?;
    let removed = docker.sweep().await?;
    if removed > 0 {
        tracing::warn!(removed, "removed containers left over by an earlier run of this agent");
    }
    Ok(docker)
}

/// Whether the local Docker engine offers GPUs (asked once, at start: an engine is
/// reconfigured with a restart, which restarts its agents too).
async fn engine_offers_gpu() -> anyhow::Result<bool> {
    let offers = DockerExecutor::connect("gpu-check").await?.offers_gpu().await?;
    tracing::info!(gpu = offers, "asked the Docker engine for GPUs");
    Ok(offers)
}

/// Tells the server this agent's labels, retrying while the server is unreachable; `None` if
/// the agent was shut down first.
async fn introduce(
    client: &AgentClient,
    config: &AgentConfig,
    gpu: bool,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<Agent>> {
    let mut backoff = Duration::from_millis(200);
    while !shutdown.is_cancelled() {
        match hello(client, config, gpu).await {
            Ok(agent) => {
                tracing::info!(agent = %agent.id, name = %agent.name, labels = ?agent.labels, "registered with the server");
                return Ok(Some(agent));
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "server unreachable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e).context("the server refused this agent (is its token valid?)"),
        }
    }
    Ok(None)
}

/// Registers the agent's labels: `--labels` when given, else the registered ones, with the
/// labels only the agent can vouch for set as [`own_labels`] says.
async fn hello(client: &AgentClient, config: &AgentConfig, gpu: bool) -> Result<Agent, ClientError> {
    let given = (!config.labels.is_empty()).then(|| config.labels.clone());
    let agent = client.hello(given.clone()).await?;
    let wanted = own_labels(given.unwrap_or_else(|| agent.labels.clone()), config.docker, gpu);
    if wanted == agent.labels { Ok(agent) } else { client.hello(Some(wanted)).await }
}

/// `labels` with the Docker label present exactly when the Docker executor is on and, on an
/// agent with Docker, the GPU label exactly when its engine offers GPUs (`gpu`): a label given
/// by hand cannot make it claim container runs Docker would refuse. Without Docker the GPU
/// label stays as given: a local kernel uses the machine's GPUs directly, which only the
/// operator can vouch for.
fn own_labels(mut labels: BTreeMap<String, String>, docker: bool, gpu: bool) -> BTreeMap<String, String> {
    let mut set = |(key, value): (&str, &str), on: bool| match on {
        true => labels.insert(key.to_owned(), value.to_owned()),
        false => labels.remove(key),
    };
    set(DOCKER_LABEL, docker);
    if docker {
        set(GPU_LABEL, gpu);
    }
    labels
}

/// How long one claim waits on the server for work.
const CLAIM_WAIT_SECS: u64 = 5;

/// One slot: claim, run, repeat, until shutdown.
async fn slot(ctx: &RunContext<'_>, running: &Running, shutdown: &CancellationToken) {
    let client = ctx.client;
    let mut backoff = Duration::from_millis(200);
    while !shutdown.is_cancelled() {
        // A claim in flight is never abandoned: the server may have handed over an execution
        // already, which would then wait for its lease to expire. Short polls keep a shutdown
        // from waiting long for one.
        let claimed = client.claim(CLAIM_WAIT_SECS).await;
        match claimed {
            Ok(answer) => {
                backoff = Duration::from_millis(200);
                if let Some(claim) = answer.claim {
                    let id = claim.execution.id.clone();
                    tracing::info!(execution = %id, notebook = %claim.execution.spec.notebook, "running");
                    let controls = running.add(&id);
                    run_claim(ctx, claim, controls).await;
                    running.remove(&id);
                    tracing::info!(execution = %id, "done");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claim failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_gpu_label_follows_the_engine_only() {
        let docker = (DOCKER_LABEL.0, DOCKER_LABEL.1);
        let gpu = (GPU_LABEL.0, GPU_LABEL.1);
        assert_eq!(own_labels(labels(&[("zone", "eu")]), true, true), labels(&[("zone", "eu"), docker, gpu]));
        assert_eq!(own_labels(labels(&[gpu]), true, false), labels(&[docker]), "the engine has no GPU");
        assert_eq!(
            own_labels(labels(&[gpu, docker]), false, false),
            labels(&[gpu]),
            "without Docker, as given"
        );
        assert_eq!(own_labels(labels(&[]), false, true), labels(&[]));
    }
}
