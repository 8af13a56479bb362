//! `nbw run`: execute a notebook with parameters, papermill's command done faster and losslessly.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use nbw_agent::docker::{ContainerKernel, ContainerSettings, DockerExecutor};
use nbw_core::params::{Parameters, parse_yaml};
use nbw_engine::{
    EventRecord, ExecuteOptions, KernelHost, KernelSearch, Notebook, Outcome, RunHandle, Transport, execute,
};

use crate::exit;
use crate::location::Location;
use crate::papermill::{self, StreamFiles};
use crate::params::ParamArgs;
use crate::progress::Reporter;

/// Execute a notebook, injecting parameters after its `parameters` cell.
///
/// Exit codes: 0 success, 1 a cell raised, 2 bad input (notebook, parameters, kernel, paths),
/// 3 timeout, 4 kernel died, 5 output incomplete, 6 cancelled.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw run report.ipynb out.ipynb -p alpha 0.6 -p name world
  nbw run report.ipynb out.ipynb -f params.yaml --cell-timeout 10m
  cat report.ipynb | nbw run - - -y 'ratio: 0.5' > out.ipynb
  nbw run report.ipynb out.ipynb --events events.jsonl --log-output
  nbw run s3://bucket/report.ipynb s3://bucket/runs/out.ipynb -b \"$(base64 -w0 params.yaml)\" --report-mode")]
pub struct RunArgs {
    /// Notebook to execute: a path, `-` for standard input, or a URL (s3://, gs://, az://,
    /// http(s)://; credentials from the cloud's usual environment variables).
    input: String,
    /// Where to write the executed notebook: a path, `-` for standard output, or a URL (s3://,
    /// gs://, az://). Defaults to INPUT with `.out.ipynb` in place of `.ipynb`, or standard
    /// output when INPUT is `-`.
    output: Option<String>,
    #[command(flatten)]
    params: ParamArgs,
    /// Parameters from a YAML file.
    #[arg(short = 'f', long = "parameters-file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Parameters as a base64-encoded YAML mapping (read before -f, -y, -p and -r).
    #[arg(short = 'b', long = "parameters-base64", alias = "parameters_base64", value_name = "BASE64")]
    base64: Vec<String>,
    /// Pass the input notebook's path as the parameter PAPERMILL_INPUT_PATH.
    #[arg(long)]
    inject_input_path: bool,
    /// Pass the output notebook's path as the parameter PAPERMILL_OUTPUT_PATH.
    #[arg(long)]
    inject_output_path: bool,
    /// Both --inject-input-path and --inject-output-path.
    #[arg(long)]
    inject_paths: bool,
    /// Write the notebook with its parameters injected, without running it (no kernel starts).
    #[arg(long)]
    prepare_only: bool,
    /// Hide the code cells' inputs in the output notebook (metadata.jupyter.source_hidden).
    #[arg(long)]
    report_mode: bool,
    /// Copy the cells' standard output stream to FILE as it comes (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    stdout_file: Option<String>,
    /// Copy the cells' standard error stream to FILE as it comes (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    stderr_file: Option<String>,
    /// Kernelspec name; defaults to the notebook's metadata.kernelspec.name.
    #[arg(short = 'k', long = "kernel")]
    kernel: Option<String>,
    /// Python interpreter whose environment holds the kernel (runs specs that say `python`).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// The kernel's working directory.
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// How to talk to the kernel.
    #[arg(long, value_enum, default_value_t = TransportArg::Ipc)]
    transport: TransportArg,
    /// Longest time a cell may run (e.g. 90, 30s, 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    cell_timeout: Option<Duration>,
    /// Longest time the whole run may take, kernel start included.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// After a timeout's interrupt, how long before the kernel's process group is killed.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    kill_grace: Duration,
    /// Longest time for the kernel to start.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    startup_timeout: Duration,
    /// After a cell's reply, how long to wait for the rest of its output.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    iopub_timeout: Duration,
    /// Write the partial notebook at this interval while running (0 to disable).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    checkpoint_every: Duration,
    /// Continue after a failing cell (cells tagged raises-exception always do).
    #[arg(long)]
    allow_errors: bool,
    /// Stream cell outputs to standard error as they come.
    #[arg(long)]
    log_output: bool,
    /// Write the run's events as JSON lines to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    events: Option<String>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Run the kernel in a container of this Docker image (it needs Python with ipykernel);
    /// --cwd, or the current directory, is mounted as its working directory /app.
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum TransportArg {
    Ipc,
    Tcp,
}

/// A duration: seconds as a bare number, or a humantime string like `30s` or `10m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration like 90, 30s or 10m: {e}"))
}

pub fn main(args: RunArgs) -> i32 {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    runtime.block_on(run(args))
}

async fn run(args: RunArgs) -> i32 {
    let prepared = match prepare(&args).await {
        Ok(prepared) => prepared,
        Err(e) => return exit::bad_input(format!("{e:#}")),
    };
    let (notebook, parameters, destination, mut options) = prepared;
    if args.prepare_only {
        return prepare_only(notebook, &parameters, &options, &destination, args.report_mode).await;
    }
    let mut streams = match StreamFiles::open(args.stdout_file.as_deref(), args.stderr_file.as_deref()) {
        Ok(streams) => streams,
        Err(e) => return exit::bad_input(format!("{e:#}")),
    };
    let (container, sweep) = match &args.image {
        Some(image) => match container(image, &args, &notebook).await {
            Ok((container, sweep)) => (Some(container), Some(sweep)),
            Err(e) => return exit::bad_input(format!("{e:#}")),
        },
        None => (None, None),
    };
    options.host = container.clone().map(|c| c as Arc<dyn KernelHost>);
    let mut events_out = match open_events(args.events.as_deref()) {
        Ok(out) => out,
        Err(e) => return exit::bad_input(format!("{e:#}")),
    };
    let execution = match execute(notebook, &parameters, options) {
        Ok(execution) => execution,
        Err(e) => return exit::bad_input(e),
    };
    let mut reporter = Reporter::new(!args.no_progress, args.log_output);
    let outcome = drive(execution, |record| {
        reporter.show(record);
        streams.take(&record.event);
        if let Some(out) = events_out.as_mut() {
            let line = serde_json::to_string(record).expect("events serialize");
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                tracing::warn!("could not write an event; continuing the run");
            }
        }
    })
    .await;
    if let Some(container) = container {
        container.removed().await;
    }
    if let Some(sweep) = sweep {
        let _ = sweep.await;
    }
    reporter.finish();
    finish(outcome, &destination, args.report_mode).await
}

/// Runs `execution` to its end, handing each event to `on_event`. SIGINT or SIGTERM stops the
/// run: interrupt, then kill after the grace period.
pub(crate) async fn drive(mut execution: RunHandle, mut on_event: impl FnMut(&EventRecord)) -> Outcome {
    let cancel = execution.cancel_token();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        eprintln!("nbw: stopping the run (interrupt, then kill after the grace period)");
        cancel.cancel();
    });
    while let Some(record) = execution.next_event().await {
        on_event(&record);
    }
    execution.outcome().await
}

/// The container a `--image` run's kernel runs in, and the removal of what earlier runs left.
async fn container(
    image: &str,
    args: &RunArgs,
    notebook: &Notebook,
) -> anyhow::Result<(Arc<ContainerKernel>, tokio::task::JoinHandle<()>)> {
    let workdir = match &args.cwd {
        Some(cwd) => cwd.clone(),
        None => std::env::current_dir().context("finding the current directory")?,
    };
    let workdir = workdir.canonicalize().with_context(|| format!("--cwd {}", workdir.display()))?;
    let language = notebook.language().unwrap_or("python");
    let settings = ContainerSettings::for_image(image, &workdir, language);
    let (docker, sweep) = DockerExecutor::for_run().await?;
    let id = format!("run.{}", nbw_core::ids::random_id().to_lowercase());
    Ok((docker.container(&id, settings), sweep))
}

/// Writes the executed notebook, says why the run stopped, and returns the run's exit code.
pub(crate) async fn finish(mut outcome: Outcome, destination: &Location, report_mode: bool) -> i32 {
    if report_mode {
        papermill::hide_inputs(&mut outcome.notebook);
    }
    let written = write_notebook(&outcome.notebook, destination).await;
    if let Some(message) = &outcome.message {
        eprintln!("nbw: {message}");
    }
    match written {
        Ok(()) => exit::run_status(outcome.status),
        Err(e) => {
            eprintln!("error: the executed notebook could not be written: {e:#}");
            if let Location::Remote(_) = destination {
                keep_locally(&outcome.notebook);
            }
            exit::BAD_INPUT
        }
    }
}

/// A run whose remote destination refused the notebook (no such bucket, no rights) keeps the
/// result here rather than losing what the run computed.
fn keep_locally(notebook: &Notebook) {
    let kept = tempfile::Builder::new()
        .prefix("nbw-unsaved-")
        .suffix(".ipynb")
        .tempfile_in(".")
        .map_err(anyhow::Error::from)
        .and_then(|file| Ok(file.keep()?.1))
        .and_then(|path| Ok(notebook.write(&path).map(|()| path)?));
    match kept {
        Ok(path) => eprintln!("nbw: the executed notebook is kept in {} instead", path.display()),
        Err(e) => eprintln!("nbw: the executed notebook could not be kept locally either: {e:#}"),
    }
}

async fn write_notebook(notebook: &Notebook, destination: &Location) -> anyhow::Result<()> {
    match destination {
        Location::File(path) => notebook.write(path).with_context(|| format!("writing {}", path.display())),
        Location::Std => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(notebook.to_json().as_bytes()).context("writing standard output")
        }
        Location::Remote(remote) => remote.write(notebook.to_json()).await,
    }
}

/// `--prepare-only`: the notebook with its parameters, written without running a cell.
async fn prepare_only(
    notebook: Notebook,
    parameters: &Parameters,
    options: &ExecuteOptions,
    destination: &Location,
    report_mode: bool,
) -> i32 {
    let mut prepared = match papermill::prepare_only(notebook, parameters, options) {
        Ok(prepared) => prepared,
        Err(e) => return exit::bad_input(format!("{e:#}")),
    };
    if report_mode {
        papermill::hide_inputs(&mut prepared);
    }
    match write_notebook(&prepared, destination).await {
        Ok(()) => 0,
        Err(e) => exit::bad_input(format!("the prepared notebook could not be written: {e:#}")),
    }
}

type Prepared = (Notebook, Parameters, Location, ExecuteOptions);

/// Everything that can be refused before a kernel starts: input, parameters, paths.
async fn prepare(args: &RunArgs) -> anyhow::Result<Prepared> {
    let notebook = read_notebook(&args.input).await?;
    let destination = match args.output.as_deref() {
        Some(output) => Location::parse(output)?,
        None if args.input == "-" => Location::Std,
        None => Location::parse(&default_output(Path::new(&args.input)).to_string_lossy())?,
    };
    let parameters = all_parameters(args, &destination)?;
    let to_stdout = [
        ("--events", &args.events),
        ("--stdout-file", &args.stdout_file),
        ("--stderr-file", &args.stderr_file),
    ];
    for (flag, target) in to_stdout {
        if target.as_deref() == Some("-") && matches!(destination, Location::Std) {
            bail!("{flag} - and the notebook cannot both go to standard output; give OUTPUT a file name");
        }
    }
    match &destination {
        Location::File(path) => check_writable(path)?,
        Location::Remote(remote) => remote.check_writable()?,
        Location::Std => {}
    }
    if let Some(cwd) = &args.cwd
        && !cwd.is_dir()
    {
        bail!("--cwd {} is not a directory", cwd.display());
    }
    let checkpoint = match &destination {
        Location::File(path) if !args.checkpoint_every.is_zero() => {
            Some((path.clone(), args.checkpoint_every))
        }
        _ => None,
    };
    let options = ExecuteOptions {
        kernel_name: args.kernel.clone(),
        search: KernelSearch { python: args.python.clone() },
        transport: match args.transport {
            TransportArg::Ipc => Transport::IPC,
            TransportArg::Tcp => Transport::TCP,
        },
        cwd: args.cwd.clone(),
        cell_timeout: args.cell_timeout,
        run_timeout: args.timeout,
        kill_grace: args.kill_grace,
        startup_timeout: args.startup_timeout,
        iopub_timeout: args.iopub_timeout,
        allow_errors: args.allow_errors,
        input_path: Some(args.input.clone()),
        output_path: Some(destination.display()),
        checkpoint,
        ..ExecuteOptions::default()
    };
    Ok((notebook, parameters, destination, options))
}

pub(crate) async fn read_notebook(input: &str) -> anyhow::Result<Notebook> {
    match Location::parse(input)? {
        Location::Std => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("reading the notebook from standard input")?;
            Notebook::from_json(&text).context("the notebook on standard input is not usable")
        }
        Location::File(path) => {
            Notebook::read(&path).with_context(|| format!("{input} is not a usable notebook"))
        }
        Location::Remote(remote) => Notebook::from_json(&remote.read().await?)
            .with_context(|| format!("{input} is not a usable notebook")),
    }
}

/// papermill's order: the injected paths first, then `-b`, then the other parameter flags.
fn all_parameters(args: &RunArgs, destination: &Location) -> anyhow::Result<Parameters> {
    let input = (args.inject_input_path || args.inject_paths).then_some(args.input.as_str());
    let output = destination.display();
    let output = (args.inject_output_path || args.inject_paths).then_some(output.as_str());
    let mut parameters = papermill::path_parameters(input, output);
    parameters.extend(papermill::base64_parameters(&args.base64)?);
    parameters.extend(collect_parameters(args)?);
    Ok(parameters)
}

/// papermill's merge order: files, then YAML strings, then `-p`, then `-r`; later wins.
fn collect_parameters(args: &RunArgs) -> anyhow::Result<Parameters> {
    let mut parameters = Parameters::default();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading parameters file {}", file.display()))?;
        parameters
            .extend(parse_yaml(&text).with_context(|| format!("in parameters file {}", file.display()))?);
    }
    Ok(args.params.merge_onto(parameters)?)
}

fn default_output(input: &Path) -> PathBuf {
    let stem =
        input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "notebook".into());
    input.with_file_name(format!("{stem}.out.ipynb"))
}

/// Refuses an output path whose directory cannot take a file, before any cell runs.
pub(crate) fn check_writable(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!(
            "output {} is a directory; give a file name such as {}/out.ipynb",
            path.display(),
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    tempfile::Builder::new().prefix(".nbw-check-").tempfile_in(dir).map(drop).with_context(|| {
        format!(
            "output {} cannot be written; check that its directory exists and is writable",
            path.display()
        )
    })
}

fn open_events(target: Option<&str>) -> anyhow::Result<Option<Box<dyn Write + Send>>> {
    Ok(match target {
        None => None,
        Some("-") => Some(Box::new(std::io::stdout())),
        Some(path) => {
            let file =
                std::fs::File::create(path).with_context(|| format!("cannot create events file {path}"))?;
            Some(Box::new(std::io::BufWriter::new(file)))
        }
    })
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_and_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn default_output_sits_next_to_the_input() {
        assert_eq!(default_output(Path::new("a/b.ipynb")), PathBuf::from("a/b.out.ipynb"));
        assert_eq!(default_output(Path::new("s3://b/k/n.ipynb")), PathBuf::from("s3://b/k/n.out.ipynb"));
    }
}
