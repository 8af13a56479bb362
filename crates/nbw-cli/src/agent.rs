//! `nbw agent`: runs the queue's executions on this machine.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use nbw_agent::AgentConfig;
use tokio_util::sync::CancellationToken;

/// Run executions from an nbw server: long-polls for work matching this agent's labels, runs it
/// with the local executor, streams events and uploads results.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw agent --server http://nbw.internal:8080 --token nbwa_... --slots 4
  NBW_AGENT_TOKEN=nbwa_... nbw agent --server http://127.0.0.1:8080 --labels zone=eu --docker")]
pub struct AgentArgs {
    /// The server's URL.
    #[arg(long, env = "NBW_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The agent token (from `POST /v1/agents`).
    #[arg(long, env = "NBW_AGENT_TOKEN", hide_env_values = true)]
    token: String,
    /// Labels this agent offers, `k=v,k=v`; it runs only executions whose labels it has.
    /// `nbw.executor=docker` is the agent's own (set by --docker); with --docker, so is
    /// `gpu=true` (set only when the Docker engine offers GPUs).
    #[arg(long, value_delimiter = ',', value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Executions run at once.
    #[arg(long, default_value_t = 1)]
    slots: usize,
    /// Bundle cache and working directories.
    #[arg(long, env = "NBW_AGENT_DIR", default_value = "nbw-agent")]
    work_dir: PathBuf,
    /// Keep each execution's working directory.
    #[arg(long)]
    keep_workdirs: bool,
    /// Interpreter whose environment holds the kernels.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Heartbeat interval in seconds.
    #[arg(long, default_value_t = 10)]
    heartbeat_secs: u64,
    /// Seconds between a cancel's interrupt and the kill of the kernel's process group.
    #[arg(long, default_value_t = 5)]
    kill_grace_secs: u64,
    /// Python kernels kept started ahead of time, each used for exactly one execution.
    #[arg(long, default_value_t = 0)]
    warm: usize,
    /// The kernelspec of the warm kernels.
    #[arg(long, default_value = "python3")]
    warm_kernel: String,
    /// On SIGTERM, seconds running executions may go on before they are cancelled.
    #[arg(long, default_value_t = 60)]
    shutdown_grace_secs: u64,
    /// Run executions that name a runtime in containers of its image, and build runtime images
    /// (needs the Docker engine; DOCKER_HOST is honoured).
    #[arg(long, env = "NBW_AGENT_DOCKER")]
    docker: bool,
    /// Push the runtime images this agent builds to this registry (`host[:port]`), so agents on
    /// other machines can pull them.
    #[arg(long, env = "NBW_AGENT_REGISTRY", value_name = "HOST", requires = "docker")]
    registry: Option<String>,
}

/// A `key=value` label, as `--labels` takes them (here and in `nbw admin agent register`).
pub(crate) fn parse_label(text: &str) -> Result<(String, String), String> {
    let (k, v) = text.split_once('=').ok_or_else(|| format!("label {text:?} must be key=value"))?;
    if k.is_empty() {
        return Err(format!("label {text:?} has an empty key"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

impl AgentArgs {
    /// The agent's configuration.
    pub fn config(&self) -> AgentConfig {
        let mut config = AgentConfig::new(&self.server, &self.token, self.work_dir.clone());
        config.labels = self.labels.iter().cloned().collect();
        config.slots = self.slots;
        config.keep_workdirs = self.keep_workdirs;
        config.python = self.python.clone();
        config.heartbeat = Duration::from_secs(self.heartbeat_secs.max(1));
        config.kill_grace = Duration::from_secs(self.kill_grace_secs);
        config.shutdown_grace = Duration::from_secs(self.shutdown_grace_secs);
        config.warm = self.warm;
        config.warm_kernel = self.warm_kernel.clone();
        config.docker = self.docker;
        config.registry = self.registry.clone();
        config
    }
}

pub fn main(args: AgentArgs) -> i32 {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let shutdown = CancellationToken::new();
    let result = runtime.block_on(async {
        nbw_server::cancel_on_signals(shutdown.clone());
        nbw_agent::run(args.config(), shutdown).await
    });
    crate::exit::service(result)
}
