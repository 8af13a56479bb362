//! Starting a kernel, and stopping it and everything it started.
//!
//! A local kernel runs in a process group of its own, so a timeout or a cancel can kill the
//! kernel and every process its cells started with one signal to the group. `JPY_PARENT_PID`
//! makes ipykernel exit by itself if nbw dies before it can clean up.
//!
//! A hosted kernel runs where nbw does not start processes itself (the agent's Docker executor
//! runs it in a container): the engine still writes the connection file and owns the socket
//! folder, and a [`KernelHost`] starts the kernel, signals it and reports its end.

use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use jupyter_protocol::{ConnectionInfo, connection_info::Transport};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::kernelspec::{KernelSearch, Kernelspec};

/// Lines of the kernel's stdout and stderr kept to explain a failed start or a death.
const OUTPUT_TAIL_LINES: usize = 40;

/// The kernel could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// Preparing the connection file or the socket directory failed.
    #[error("cannot prepare the kernel's connection file: {0}")]
    Prepare(#[source] std::io::Error),
    /// The kernelspec's command could not be run.
    #[error(
        "cannot start kernel {kernel:?} with `{program}`: {source}; check the kernelspec's argv in {spec_dir} or pass --python PATH"
    )]
    Spawn {
        /// The kernelspec name.
        kernel: String,
        /// The program from the spec's argv.
        program: String,
        /// Where the spec lives.
        spec_dir: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The spec's argv is empty.
    #[error("kernelspec {0:?} has an empty argv; fix its kernel.json")]
    EmptyArgv(String),
    /// The kernel's host could not start it.
    #[error("{0}")]
    Host(String),
}

/// How a hosted kernel is signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelSignal {
    /// Interrupt the running cell (SIGINT).
    Interrupt,
    /// Stop the kernel and everything it started, now.
    Kill,
}

/// What a [`KernelHost`] is asked to start.
#[derive(Debug)]
pub struct HostedLaunch<'a> {
    /// The folder holding the connection file (`kernel.json`) and the IPC sockets, which the
    /// kernel must create there (under the names the connection file gives).
    pub dir: &'a Path,
    /// The connection details the engine will use, with paths of this machine.
    pub connection: &'a ConnectionInfo,
    /// The kernelspec (from [`KernelHost::kernelspec`]).
    pub kernelspec: &'a Kernelspec,
    /// The run's working directory, as the engine's caller gave it.
    pub cwd: Option<&'a Path>,
    /// The run's environment variables.
    pub env: &'a [(String, String)],
    /// Where the host puts the kernel's output lines, to explain a failed start or a death.
    pub tail: OutputTail,
}

/// A kernel started by a [`KernelHost`].
pub struct HostedKernel {
    /// Delivers a signal to the kernel.
    pub signal: Box<dyn Fn(KernelSignal) + Send + Sync>,
    /// Becomes `Some(how it ended)` once the kernel is gone, e.g. "exit code 137 (out of memory)".
    pub exit: watch::Receiver<Option<String>>,
}

/// A boxed future, as [`KernelHost::start`] returns.
pub type HostFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs kernels somewhere else than as a child process of nbw, e.g. in a container.
pub trait KernelHost: Send + Sync + std::fmt::Debug {
    /// The kernelspec for kernel `name` there (its language, its interrupt mode).
    fn kernelspec(&self, name: &str) -> Kernelspec;

    /// Starts a kernel that listens as `launch.connection` says, in `launch.dir`.
    fn start<'a>(&'a self, launch: HostedLaunch<'a>) -> HostFuture<'a, Result<HostedKernel, String>>;
}

/// The last lines a kernel printed on stdout and stderr.
#[derive(Debug, Clone, Default)]
pub struct OutputTail(Arc<Mutex<VecDeque<String>>>);

impl OutputTail {
    /// Keeps `line`, forgetting the oldest beyond the limit.
    pub fn push(&self, line: String) {
        tracing::debug!(target: "nbw_engine::kernel_output", "{line}");
        let mut tail = self.0.lock().expect("tail lock");
        if tail.len() == OUTPUT_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }

    fn text(&self) -> String {
        let tail = self.0.lock().expect("tail lock");
        tail.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }
}

/// Everything needed to start a kernel.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The kernelspec to start.
    pub kernelspec: Kernelspec,
    /// How `python` in the spec's argv is resolved.
    pub search: KernelSearch,
    /// ZeroMQ transport: IPC sockets in a private directory, or TCP on loopback.
    pub transport: Transport,
    /// The kernel's working directory.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables for the kernel.
    pub env: Vec<(String, String)>,
    /// Runs the kernel elsewhere (a container) instead of as a local process.
    pub host: Option<Arc<dyn KernelHost>>,
}

/// Where a kernel runs.
enum Running {
    /// A child process of nbw, leading its own process group.
    Local { child: Child, pgid: Pid },
    /// Somewhere a [`KernelHost`] started it.
    Hosted(HostedKernel),
}

/// A running kernel and its connection details.
pub struct KernelProcess {
    running: Running,
    /// How to connect to the kernel's sockets.
    pub connection: ConnectionInfo,
    output_tail: OutputTail,
    // Holds the connection file and the IPC sockets; removed when the kernel is dropped.
    _dir: tempfile::TempDir,
}

impl KernelProcess {
    /// Writes a connection file and starts the kernel: in its own process group, or through
    /// the launch's host.
    pub async fn start(launch: &LaunchSpec) -> Result<Self, LaunchError> {
        let dir = tempfile::Builder::new().prefix("nbw-kernel-").tempdir().map_err(LaunchError::Prepare)?;
        let (connection, reserved) = connection_info(&launch.transport, dir.path()).await?;
        let connection_file = dir.path().join("kernel.json");
        let text = serde_json::to_vec(&connection).expect("connection info serializes");
        std::fs::write(&connection_file, text).map_err(LaunchError::Prepare)?;
        let output_tail = OutputTail::default();
        if let Some(host) = &launch.host {
            let hosted = HostedLaunch {
                dir: dir.path(),
                connection: &connection,
                kernelspec: &launch.kernelspec,
                cwd: launch.cwd.as_deref(),
                env: &launch.env,
                tail: output_tail.clone(),
            };
            let kernel = host.start(hosted).await.map_err(LaunchError::Host)?;
            return Ok(KernelProcess {
                running: Running::Hosted(kernel),
                connection,
                output_tail,
                _dir: dir,
            });
        }

        let argv = launch.search.argv(&launch.kernelspec, &connection_file);
        let (program, args) =
            argv.split_first().ok_or_else(|| LaunchError::EmptyArgv(launch.kernelspec.name.clone()))?;
        let mut command = Command::new(program);
        // nbw's own settings (agent tokens, server keys, database URLs) never reach a notebook:
        // the kernel gets only the NBW_* variables of `launch.env`, the execution context.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("NBW_") {
                command.env_remove(&key);
            }
        }
        command
            .args(args)
            .envs(launch.kernelspec.spec.env.iter().flatten())
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .env("JPY_PARENT_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(cwd) = &launch.cwd {
            command.current_dir(cwd);
        }
        // The reserved ports are released only now, to keep the window for a port race short.
        drop(reserved);
        let mut child = command.spawn().map_err(|source| LaunchError::Spawn {
            kernel: launch.kernelspec.name.clone(),
            program: program.clone(),
            spec_dir: launch.kernelspec.dir.display().to_string(),
            source,
        })?;
        let pid = child.id().expect("a just-spawned child has a pid");
        if let Some(out) = child.stdout.take() {
            tokio::spawn(keep_tail(out, output_tail.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(keep_tail(err, output_tail.clone()));
        }
        tracing::debug!(pid, kernel = %launch.kernelspec.name, "kernel started");
        let running = Running::Local { child, pgid: Pid::from_raw(pid as i32) };
        Ok(KernelProcess { running, connection, output_tail, _dir: dir })
    }

    /// Interrupts the running cell: SIGINT to the kernel's process group, as `jupyter_client`
    /// does for kernels whose interrupt mode is `signal`.
    pub fn interrupt(&self) {
        self.signal(KernelSignal::Interrupt);
    }

    /// Kills the kernel and every process in its group.
    pub fn kill(&self) {
        self.signal(KernelSignal::Kill);
    }

    fn signal(&self, signal: KernelSignal) {
        match &self.running {
            Running::Local { pgid, .. } => {
                let signal = match signal {
                    KernelSignal::Interrupt => Signal::SIGINT,
                    KernelSignal::Kill => Signal::SIGKILL,
                };
                let _ = killpg(*pgid, signal);
            }
            Running::Hosted(kernel) => (kernel.signal)(signal),
        }
    }

    /// Waits for the kernel to exit; says how it ended. Cancel-safe.
    pub async fn wait(&mut self) -> String {
        match &mut self.running {
            Running::Local { child, .. } => match child.wait().await {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            },
            Running::Hosted(kernel) => match kernel.exit.wait_for(Option::is_some).await {
                Ok(end) => end.clone().unwrap_or_default(),
                Err(_) => "its host stopped watching it".to_owned(),
            },
        }
    }

    /// Whether the kernel has not exited yet.
    pub fn is_running(&mut self) -> bool {
        match &mut self.running {
            Running::Local { child, .. } => matches!(child.try_wait(), Ok(None)),
            Running::Hosted(kernel) => kernel.exit.borrow().is_none(),
        }
    }

    /// The last lines the kernel printed on stdout and stderr.
    pub fn output_tail(&self) -> String {
        self.output_tail.text()
    }
}

impl Drop for KernelProcess {
    fn drop(&mut self) {
        // Whatever path led here (success, error, panic), nothing the kernel started survives.
        self.kill();
    }
}

async fn keep_tail(stream: impl AsyncRead + Unpin, tail: OutputTail) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tail.push(line);
    }
}

/// Connection info for a new kernel; for TCP, the listeners holding the ports are returned
/// so they stay reserved until the kernel is spawned.
async fn connection_info(
    transport: &Transport,
    dir: &Path,
) -> Result<(ConnectionInfo, Vec<tokio::net::TcpListener>), LaunchError> {
    let key = uuid::Uuid::new_v4().simple().to_string();
    let (ip, ports, listeners) = match transport {
        Transport::IPC => (dir.join("k").to_string_lossy().into_owned(), vec![1, 2, 3, 4, 5], Vec::new()),
        Transport::TCP => {
            let ip = std::net::IpAddr::from([127, 0, 0, 1]);
            let (ports, listeners) = jupyter_zmq_client::peek_ports_with_listeners(ip, 5)
                .await
                .map_err(|e| LaunchError::Prepare(std::io::Error::other(e.to_string())))?;
            (ip.to_string(), ports, listeners)
        }
    };
    let info = ConnectionInfo {
        ip,
        transport: transport.clone(),
        shell_port: ports[0],
        iopub_port: ports[1],
        stdin_port: ports[2],
        control_port: ports[3],
        hb_port: ports[4],
        key,
        signature_scheme: "hmac-sha256".into(),
        kernel_name: None,
    };
    Ok((info, listeners))
}
