//! Runs parameterized Jupyter notebooks by speaking the Jupyter protocol to a kernel.
//!
//! `nbw-engine` is papermill's job done in Rust: it finds a kernelspec, starts the kernel in a
//! process group of its own, injects the run's parameters after the cell tagged `parameters`,
//! executes the code cells one by one, and gives back the executed notebook with papermill's
//! metadata and error banner. It knows nothing of servers: the CLI and the agent call
//! [`execute`] and consume its [`Event`]s.
//!
//! - [`Notebook`]: the document, kept as JSON so nothing is lost;
//! - [`execute`] / [`RunHandle`] / [`Outcome`]: one run;
//! - [`Event`]: what a run reports as it goes (cell start and end, outputs);
//! - [`translator_for`]: parameters written in the kernel's language;
//! - [`inspect_parameters`]: what a notebook's parameters cell declares.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nbw_core::params::{infer_cli_value, Parameters};
//! use nbw_engine::{execute, ExecuteOptions, Notebook};
//!
//! let notebook = Notebook::read("report.ipynb".as_ref())?;
//! let mut params = Parameters::default();
//! params.insert("alpha", infer_cli_value("0.5"));
//! let mut run = execute(notebook, &params, ExecuteOptions::default())?;
//! while let Some(record) = run.next_event().await {
//!     println!("{}", serde_json::to_string(&record)?);
//! }
//! let outcome = run.outcome().await;
//! outcome.notebook.write("report.out.ipynb".as_ref())?;
//! # Ok(()) }
//! ```
mod events;
mod execute;
mod gaps;
mod inspect;
mod kernelspec;
mod launch;
mod notebook;
mod outputs;
mod ready;
mod session;
mod translate;
mod warm;

pub use events::{CellStatus, Event, EventRecord, RunStatus};
pub use execute::{ExecuteOptions, KernelExit, Outcome, PrepareError, RunHandle, execute, execute_with};
pub use inspect::{InspectError, ParameterSpec, inspect_parameters};
pub use jupyter_protocol::{ConnectionInfo, Transport};
pub use kernelspec::{KernelNotFound, KernelSearch, Kernelspec, command as kernel_command};
pub use launch::{HostFuture, HostedKernel, HostedLaunch, KernelHost, KernelSignal, OutputTail};
pub use notebook::{
    INJECTED_TAG, Notebook, NotebookError, PARAMETERS_TAG, RAISES_EXCEPTION_TAG, has_tag, source,
};
pub use translate::{TranslateError, Translator, translator_for};
pub use warm::WarmKernel;
