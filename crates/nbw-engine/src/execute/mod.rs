//! One run of a notebook: prepare (kernel, parameters), start the kernel, run the cells, stop
//! the kernel and everything it started, and hand back the executed notebook.
//!
//! A cell is done only when both its `execute_reply` (shell) and its `status: idle` (IOPub)
//! have arrived: the two sockets are not ordered, and stopping at the reply loses the outputs
//! still in flight. Timeouts and cancels interrupt the kernel, then kill its process group after
//! a grace period; whatever ends a run, the partial notebook comes back with the cause in it.

//!
//! - `run_loop`: the cells sent and their messages gathered;
//! - `capture`: a cell's outcome from its reply, and the error outputs that show a failure;
//! - `papermill`: the `metadata.papermill` bookkeeping and the banner.

mod capture;
mod papermill;
mod run_loop;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jupyter_protocol::Transport;
use nbw_core::params::Parameters;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::events::EventRecord;
use crate::events::RunStatus;
use crate::kernelspec::{KernelNotFound, KernelSearch};
use crate::launch::KernelHost;
use crate::notebook::Notebook;
use crate::translate::{TranslateError, translator_for};
use crate::warm::WarmKernel;
use run_loop::{Prepared, Runner};

/// How to run a notebook. `ExecuteOptions::default()` runs it like `papermill` would.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Kernelspec name; defaults to the notebook's `metadata.kernelspec.name`.
    pub kernel_name: Option<String>,
    /// Where kernelspecs are looked up and which Python runs them.
    pub search: KernelSearch,
    /// ZeroMQ transport to the kernel.
    pub transport: Transport,
    /// The kernel's working directory.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables for the kernel.
    pub env: Vec<(String, String)>,
    /// Longest time one cell may run.
    pub cell_timeout: Option<Duration>,
    /// Longest time the whole run may take, kernel start included.
    pub run_timeout: Option<Duration>,
    /// After an interrupt, how long the kernel gets to stop before its process group is killed.
    pub kill_grace: Duration,
    /// Longest time for the kernel to start and answer.
    pub startup_timeout: Duration,
    /// After a cell's reply, how long to wait for its idle status before calling the output
    /// incomplete.
    pub iopub_timeout: Duration,
    /// Keep going after a failing cell.
    pub allow_errors: bool,
    /// Recorded as `metadata.papermill.input_path`.
    pub input_path: Option<String>,
    /// Recorded as `metadata.papermill.output_path`.
    pub output_path: Option<String>,
    /// Write the notebook as it stands to this path at this interval while running.
    pub checkpoint: Option<(PathBuf, Duration)>,
    /// Runs the kernel elsewhere (e.g. in a container) instead of as a local process; the
    /// kernelspec then comes from the host, not from the local search.
    pub host: Option<Arc<dyn KernelHost>>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            kernel_name: None,
            search: KernelSearch::default(),
            transport: Transport::IPC,
            cwd: None,
            env: Vec::new(),
            cell_timeout: None,
            run_timeout: None,
            kill_grace: Duration::from_secs(5),
            startup_timeout: Duration::from_secs(60),
            iopub_timeout: Duration::from_secs(10),
            allow_errors: false,
            input_path: None,
            output_path: None,
            checkpoint: None,
            host: None,
        }
    }
}

/// The run cannot start: nothing was executed.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// No kernel name was given and the notebook names none.
    #[error("the notebook names no kernel (metadata.kernelspec.name); pass -k NAME, e.g. -k python3")]
    NoKernelName,
    /// The kernelspec does not exist.
    #[error(transparent)]
    KernelNotFound(#[from] KernelNotFound),
    /// No translator exists for the kernel's language.
    #[error(
        "cannot inject parameters into a {language:?} notebook: nbw translates parameters for python, r, julia and bash; run without parameters or set metadata.kernelspec.language"
    )]
    NoTranslator {
        /// The language.
        language: String,
    },
    /// A parameter cannot be written in the kernel's language.
    #[error(transparent)]
    Translate(#[from] TranslateError),
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The executed (or partially executed) notebook.
    pub notebook: Notebook,
    /// How the run ended.
    pub status: RunStatus,
    /// Why, when it did not succeed.
    pub message: Option<String>,
    /// Index of the cell that failed or was stopped.
    pub failed_cell: Option<usize>,
}

/// A run in progress: its events as they happen, and its outcome at the end.
pub struct RunHandle {
    events: mpsc::UnboundedReceiver<EventRecord>,
    task: tokio::task::JoinHandle<(Outcome, Option<tokio::task::JoinHandle<()>>)>,
    cancel: CancellationToken,
}

impl RunHandle {
    /// The next event; `None` once the run is over and every event was taken.
    pub async fn next_event(&mut self) -> Option<EventRecord> {
        self.events.recv().await
    }

    /// Asks the run to stop: the running cell is interrupted, then killed after the grace period.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A handle that cancels this run, for another task (a signal handler, a heartbeat).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits for the end of the run and of its kernel (events not yet taken are dropped).
    pub async fn outcome(self) -> Outcome {
        let (outcome, kernel) = self.outcome_early().await;
        kernel.gone().await;
        outcome
    }

    /// Waits for the end of the run only: its kernel may still be exiting. Await
    /// [`KernelExit::gone`] before relying on its processes being over.
    pub async fn outcome_early(self) -> (Outcome, KernelExit) {
        let (outcome, exit) = self.task.await.expect("the run task does not panic");
        (outcome, KernelExit(exit))
    }
}

/// A finished run's kernel on its way out (a graceful exit, then its process group is killed).
#[derive(Debug)]
pub struct KernelExit(Option<tokio::task::JoinHandle<()>>);

impl KernelExit {
    /// Resolves once the kernel and every process of its group are gone.
    pub async fn gone(self) {
        if let Some(handle) = self.0 {
            let _ = handle.await;
        }
    }
}

/// Starts running `notebook` with `parameters`. Must be called inside a tokio runtime.
///
/// Errors are returned before anything runs (unknown kernel, parameters that cannot be written
/// in the kernel's language); everything after is reported in the [`Outcome`].
pub fn execute(
    notebook: Notebook,
    parameters: &Parameters,
    options: ExecuteOptions,
) -> Result<RunHandle, PrepareError> {
    execute_with(notebook, parameters, options, None)
}

/// Like [`execute`], on a kernel started ahead of time when `warm` is given and is of the
/// notebook's kernelspec (else it is dropped and a kernel started as usual). The warm kernel is
/// used for this run only: papermill's fresh-kernel semantics hold.
pub fn execute_with(
    mut notebook: Notebook,
    parameters: &Parameters,
    options: ExecuteOptions,
    warm: Option<WarmKernel>,
) -> Result<RunHandle, PrepareError> {
    let name = options
        .kernel_name
        .clone()
        .or_else(|| notebook.kernel_name().map(str::to_owned))
        .ok_or(PrepareError::NoKernelName)?;
    let (kernelspec, warm) = match &options.host {
        Some(host) => (host.kernelspec(&name), None),
        None => (options.search.find(&name)?, warm.filter(|w| w.kernel_name() == name)),
    };
    let language = notebook.language().map(str::to_owned).unwrap_or_else(|| kernelspec.spec.language.clone());
    notebook.remove_error_markers();
    if !parameters.is_empty() {
        let translator = translator_for(&language)
            .ok_or_else(|| PrepareError::NoTranslator { language: language.clone() })?;
        notebook.inject_parameters(translator.codify(parameters)?);
    }
    let parameters = serde_json::to_value(parameters).expect("parameters serialize");
    papermill::start(&mut notebook, &parameters, &options);

    let (tx, events) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let prepared = Prepared { notebook, kernelspec, language, parameters };
    let runner = Runner::new(prepared, options, warm, cancel.clone(), tx);
    let task = tokio::spawn(runner.run());
    Ok(RunHandle { events, task, cancel })
}
