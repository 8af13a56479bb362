//! Starting a kernel process, and stopping it and everything it started.
//!
//! The kernel runs in a process group of its own, so a timeout or a cancel can kill the kernel
//! and every process its cells started with one signal to the group. `JPY_PARENT_PID` makes
//! ipykernel exit by itself if nbw dies before it can clean up.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use jupyter_protocol::{ConnectionInfo, connection_info::Transport};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

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
}

/// A running kernel process and its connection details.
pub struct KernelProcess {
    child: Child,
    pgid: Pid,
    /// How to connect to the kernel's sockets.
    pub connection: ConnectionInfo,
    output_tail: Arc<Mutex<VecDeque<String>>>,
    // Holds the connection file and the IPC sockets; removed when the kernel is dropped.
    _dir: tempfile::TempDir,
}

impl KernelProcess {
    /// Writes a connection file and starts the kernel in its own process group.
    pub async fn start(launch: &LaunchSpec) -> Result<Self, LaunchError> {
        let dir = tempfile::Builder::new().prefix("nbw-kernel-").tempdir().map_err(LaunchError::Prepare)?;
        let (connection, reserved) = connection_info(&launch.transport, dir.path()).await?;
        let connection_file = dir.path().join("kernel.json");
        let text = serde_json::to_vec(&connection).expect("connection info serializes");
        std::fs::write(&connection_file, text).map_err(LaunchError::Prepare)?;

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
        let output_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(keep_tail(out, output_tail.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(keep_tail(err, output_tail.clone()));
        }
        tracing::debug!(pid, kernel = %launch.kernelspec.name, "kernel started");
        Ok(KernelProcess { child, pgid: Pid::from_raw(pid as i32), connection, output_tail, _dir: dir })
    }

    /// Interrupts the running cell: SIGINT to the kernel's process group, as `jupyter_client`
    /// does for kernels whose interrupt mode is `signal`.
    pub fn interrupt(&self) {
        let _ = killpg(self.pgid, Signal::SIGINT);
    }

    /// Kills the kernel and every process in its group.
    pub fn kill(&self) {
        let _ = killpg(self.pgid, Signal::SIGKILL);
    }

    /// Waits for the kernel process to exit.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Whether the kernel process has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines the kernel printed on stdout and stderr.
    pub fn output_tail(&self) -> String {
        let tail = self.output_tail.lock().expect("tail lock");
        tail.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for KernelProcess {
    fn drop(&mut self) {
        // Whatever path led here (success, error, panic), nothing the kernel started survives.
        self.kill();
    }
}

async fn keep_tail(stream: impl AsyncRead + Unpin, tail: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "nbw_engine::kernel_output", "{line}");
        let mut tail = tail.lock().expect("tail lock");
        if tail.len() == OUTPUT_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
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
