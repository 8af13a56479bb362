//! Runs and their results: `nbw exec`, `nbw cancel`, `nbw history`, `nbw logs`, `nbw outputs`,
//! and `--watch`, which follows an execution's live events (server-sent events, resumed with
//! the last sequence number after a broken connection) and exits with the run's status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use nbw_client::{ClientError, HistoryQuery, StreamItem};
use nbw_core::api::{CreateExecution, Execution, ExecutionEvent, ExecutionState, Origin};
use nbw_core::params::Parameters;
use nbw_core::project;
use nbw_engine::{ExecuteOptions, execute};
use serde_json::Value;

use super::credentials::Session;
use super::output::{self, Bar, Format};
use super::{BAD_INPUT, CliError, CliResult, OK, ProjectArg, ServerArg, exit_codes};
use crate::params::ParamArgs;
use crate::progress::Reporter;
use crate::{exit, run};

/// `--watch`.
#[derive(Args, Debug, Clone, Default)]
pub struct WatchArgs {
    /// Follow the run live (cell progress and output) and exit with its status.
    #[arg(short = 'w', long)]
    pub watch: bool,
}

/// After a run (or a runtime build) was created: print its id, or follow it.
pub async fn started(
    session: &mut Session,
    execution: Execution,
    watch: &WatchArgs,
    format: Format,
) -> CliResult {
    if watch.watch {
        let what = match &execution.spec.build {
            Some(build) => format!("builds {}", build.image),
            None => format!("runs {}", execution.spec.notebook),
        };
        eprintln!(
            "{} {} {what} (bundle {})",
            console::style("▶").cyan().for_stderr(),
            execution.id,
            execution.spec.bundle_version
        );
        return follow(session, &execution.id, Mode::Watch).await;
    }
    output::print(format, &execution, || execution.id.clone());
    if format == Format::Table {
        eprintln!("Queued. Follow it with: nbw logs -f {}", execution.id);
    }
    Ok(OK)
}

// ---------------------------------------------------------------------------------------------
// Following the events
// ---------------------------------------------------------------------------------------------

/// How events are followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Live, with a progress bar; ends with the run's status.
    Watch,
    /// `logs -f`: everything to the end, then the run's status.
    Follow,
    /// `logs`: what is stored so far.
    Snapshot,
}

/// A stream silent this long (the server sends a keep-alive every 15 s) is reconnected.
const STALL: Duration = Duration::from_secs(60);
/// `nbw logs` without `-f` stops after this long without a new event.
const SNAPSHOT_IDLE: Duration = Duration::from_millis(1500);
/// How long an unreachable server is retried while following.
const GIVE_UP: Duration = Duration::from_secs(90);

async fn follow(session: &mut Session, id: &str, mode: Mode) -> CliResult {
    let mut printer = Printer::new(mode == Mode::Watch, false);
    follow_with(session, id, mode, &mut printer).await
}

async fn follow_with(session: &mut Session, id: &str, mode: Mode, printer: &mut Printer) -> CliResult {
    let ended = tokio::select! {
        ended = stream_events(session, id, mode, printer) => ended?,
        _ = tokio::signal::ctrl_c(), if mode != Mode::Snapshot => {
            printer.finish();
            eprintln!("\nStopped watching; {id} goes on. Stop it with: nbw cancel {id}");
            return Ok(exit::INTERRUPTED);
        }
    };
    printer.finish();
    let Some(state) = ended else {
        return Ok(OK);
    };
    let client = session.client().await?;
    let execution =
        client.execution(id).await.map_err(|e| CliError::from_client(e, &format!("reading {id}")))?;
    if !printer.json {
        summary(&execution);
    }
    Ok(exit::execution_state(state))
}

fn summary(execution: &Execution) {
    let took = match (&execution.result, execution.started_at, execution.finished_at) {
        (Some(r), _, _) if r.duration_ms.is_some() => output::duration_ms(r.duration_ms.unwrap_or_default()),
        (_, Some(a), Some(b)) => output::duration_ms((b - a).num_milliseconds() as f64),
        _ => "-".into(),
    };
    let mark =
        if execution.state == ExecutionState::Succeeded { output::ok_mark() } else { output::fail_mark() };
    let mut line = format!(
        "{} {} {} in {took}",
        mark.for_stderr(),
        execution.id,
        output::state(execution.state).for_stderr()
    );
    if let Some(result) = &execution.result
        && let Some(message) = &result.message
    {
        line.push_str(&format!(": {message}"));
        if let Some(cell) = result.failed_cell {
            line.push_str(&format!(" (cell {cell})"));
        }
    }
    eprintln!("{line}");
    if execution.has_output {
        eprintln!("  output notebook: nbw outputs get {}", execution.id);
    }
}

/// Reads the event stream until the end (or, for a snapshot, until it goes quiet), resuming
/// after broken connections. `Some(state)` when the execution is over.
async fn stream_events(
    session: &mut Session,
    id: &str,
    mode: Mode,
    printer: &mut Printer,
) -> CliResult<Option<ExecutionState>> {
    let mut after = 0u64;
    let mut failing_since: Option<Instant> = None;
    let mut backoff = Duration::from_millis(300);
    loop {
        let client = session.client().await?;
        let mut stream = match client.events(id, after).await {
            Ok(stream) => {
                failing_since = None;
                backoff = Duration::from_millis(300);
                stream
            }
            Err(e) if e.is_transient() => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > GIVE_UP || mode == Mode::Snapshot {
                    let mut error = CliError::from(e);
                    if mode != Mode::Snapshot {
                        error.message.push_str(&format!(
                            "\n  The run goes on; follow it later with: nbw logs -f {id}"
                        ));
                    }
                    return Err(error);
                }
                printer.note(&format!("lost the connection ({e}); retrying"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
            Err(e) => return Err(CliError::from_client(e, &format!("following {id}"))),
        };
        let quiet = if mode == Mode::Snapshot { SNAPSHOT_IDLE } else { STALL };
        loop {
            match tokio::time::timeout(quiet, stream.next()).await {
                Ok(Some(Ok(StreamItem::Event(event)))) => {
                    if event.seq <= after {
                        continue;
                    }
                    after = event.seq;
                    printer.event(&event);
                }
                Ok(Some(Ok(StreamItem::End(state)))) => return Ok(Some(state)),
                Ok(Some(Err(ClientError::Decode(reason)))) => {
                    return Err(CliError::new(super::SERVER, format!("an unreadable event: {reason}")));
                }
                // A broken connection: resume after the last event seen.
                Ok(Some(Err(_)) | None) => break,
                Err(_) if mode == Mode::Snapshot => return Ok(None),
                Err(_) => break,
            }
        }
    }
}

/// Prints events: outputs on standard output as they come, cell markers, and on a terminal a
/// progress bar over the cells (or a spinner while the run waits for an agent).
struct Printer {
    bar: Option<Bar>,
    progress: bool,
    json: bool,
    started: bool,
    /// The current cell's header, printed before its first output (silent cells print none).
    header: Option<String>,
}

impl Printer {
    fn new(progress: bool, json: bool) -> Printer {
        let bar = (progress && !json).then(|| Bar::spinner("waiting for an agent"));
        Printer { bar, progress: progress && !json, json, started: false, header: None }
    }

    fn out(&self, text: &str, to_stderr: bool) {
        let write = || {
            if to_stderr {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text.as_bytes());
                let _ = err.flush();
            } else {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        };
        match &self.bar {
            Some(bar) => bar.0.suspend(write),
            None => write(),
        }
    }

    fn note(&self, text: &str) {
        if !self.json {
            self.out(&format!("nbw: {text}\n"), true);
        }
    }

    fn event(&mut self, event: &ExecutionEvent) {
        if self.json {
            self.out(&format!("{}\n", serde_json::to_string(event).expect("events serialize")), false);
            return;
        }
        let p = &event.payload;
        match event.kind.as_str() {
            "run_start" => {
                self.started = true;
                let cells = p["code_cells"].as_u64().unwrap_or(0);
                let kernel = p["kernel"].as_str().unwrap_or("?").to_owned();
                if self.progress {
                    // The spinner goes first: two bars on one line would leave it drawn.
                    self.bar = None;
                    self.bar = Some(Bar::cells(cells, &format!("Running ({kernel})")));
                } else {
                    self.out(&format!("--- run started on kernel {kernel}: {cells} code cells ---\n"), true);
                }
            }
            "cell_start" => {
                self.header = Some(format!("--- cell {} ({}) ---\n", p["cell"], p["ordinal"]));
            }
            "output" => {
                if let Some((text, to_stderr)) = output_text(&p["output"]) {
                    if let Some(header) = self.header.take() {
                        self.out(&console::style(header).dim().to_string(), false);
                    }
                    self.out(&text, to_stderr);
                }
            }
            "cell_end" => {
                if let Some(bar) = &self.bar
                    && self.started
                {
                    bar.0.inc(1);
                }
                let status = p["status"].as_str().unwrap_or("ok");
                if status != "ok" {
                    let line = format!(
                        "{} cell {} ended: {status} after {}\n",
                        output::fail_mark(),
                        p["cell"],
                        output::duration_ms(p["duration_ms"].as_f64().unwrap_or(0.0))
                    );
                    self.out(&line, true);
                }
            }
            "run_end" => {
                if let Some(bar) = self.bar.take() {
                    drop(bar);
                }
                if !self.progress {
                    let status = p["status"].as_str().unwrap_or("?");
                    let took = output::duration_ms(p["duration_ms"].as_f64().unwrap_or(0.0));
                    self.out(&format!("--- run ended: {status} after {took} ---\n"), true);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        self.bar = None;
    }
}

/// The readable text of an output and whether it belongs on standard error.
fn output_text(output: &Value) -> Option<(String, bool)> {
    let (mut text, to_stderr) = match output["output_type"].as_str()? {
        "stream" => (output["text"].as_str()?.to_owned(), output["name"] == "stderr"),
        "error" => {
            let lines: Vec<&str> = output["traceback"].as_array()?.iter().filter_map(Value::as_str).collect();
            let joined = lines.join("\n");
            let joined = if console::colors_enabled_stderr() {
                joined
            } else {
                console::strip_ansi_codes(&joined).into_owned()
            };
            (joined, true)
        }
        _ => (output.pointer("/data/text~1plain")?.as_str()?.to_owned(), false),
    };
    if !text.ends_with('\n') && output["output_type"] != "stream" {
        text.push('\n');
    }
    Some((text, to_stderr))
}

// ---------------------------------------------------------------------------------------------
// nbw exec
// ---------------------------------------------------------------------------------------------

/// Run a notebook of the project: on an agent, from the pushed bundle (default), or here with
/// the engine (--local, like `nbw run`, with local.nbvars as environment variables).
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw exec notebooks/report.ipynb -p day 2024-05-01 --watch
  nbw exec report -p alpha 0.5                 # notebooks/report.ipynb of the pushed bundle
  nbw exec report --local -p alpha 0.5         # here, output in outputs/report.out.ipynb
  nbw exec report --label gpu=yes --timeout 2h

With --local the exit codes are those of `nbw run` (0 success, 1 a cell raised, 2 bad input,
3 timeout, 4 kernel died, 5 output incomplete, 6 cancelled).

", exit_codes!()))]
pub struct ExecArgs {
    /// The notebook: its path in the project (notebooks/report.ipynb) or its name (report).
    notebook: String,
    #[command(flatten)]
    params: ParamArgs,
    #[command(flatten)]
    watch: WatchArgs,
    /// Run it here with the engine instead of on an agent.
    #[arg(long)]
    local: bool,
    /// With --local: the executed notebook's path (default: outputs/NAME.out.ipynb).
    #[arg(long, value_name = "FILE")]
    output_notebook: Option<PathBuf>,
    /// The bundle version to run (default: the latest push).
    #[arg(long)]
    bundle_version: Option<String>,
    /// A label an agent must have, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Longest run time (90, 30s, 10m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    timeout: Option<u64>,
    /// Run in this runtime's image (on an agent with Docker).
    #[arg(long, value_name = "NAME")]
    runtime: Option<String>,
    /// The runtime version (default: the latest built).
    #[arg(long, value_name = "VERSION", requires = "runtime")]
    runtime_version: Option<String>,
    /// Output format of the execution.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let (k, v) = text.split_once('=').ok_or_else(|| format!("label {text:?} must be KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("label {text:?} has an empty key"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_secs(text: &str) -> Result<u64, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    humantime::parse_duration(text)
        .map(|d| d.as_secs().max(1))
        .map_err(|e| format!("{text:?} is not a duration like 90, 30s or 10m: {e}"))
}

/// `nbw exec`: on an agent, or (`--local`) here with the engine.
pub fn exec_main(args: ExecArgs) -> i32 {
    if args.local {
        return super::block_on(exec_local(args));
    }
    super::block_on(exec(args))
}

/// The project folder, when there is a project file.
fn project_root(project: &ProjectArg) -> Option<PathBuf> {
    let file = project.find_file().ok()?;
    let root = file.parent()?.to_path_buf();
    Some(if root.as_os_str().is_empty() { PathBuf::from(".") } else { root })
}

/// The notebook's file here: as given, or `NAME.ipynb` / `notebooks/NAME(.ipynb)` in the project.
fn local_notebook(given: &str, root: &Path) -> Option<PathBuf> {
    let with_ext = if given.ends_with(".ipynb") { given.to_owned() } else { format!("{given}.ipynb") };
    [PathBuf::from(given), root.join(given), root.join(&with_ext), root.join("notebooks").join(&with_ext)]
        .into_iter()
        .find(|p| p.is_file())
}

/// The notebook's path inside the bundle.
fn bundle_path(given: &str, root: Option<&Path>) -> String {
    if let Some(root) = root
        && let Some(file) = local_notebook(given, root)
        && let (Ok(file), Ok(root)) = (file.canonicalize(), root.canonicalize())
        && let Ok(relative) = file.strip_prefix(&root)
    {
        return relative.to_string_lossy().replace('\\', "/");
    }
    if given.ends_with(".ipynb") { given.to_owned() } else { format!("{given}.ipynb") }
}

/// `nbw exec --local`: the engine runs the notebook here, like `nbw run` with the project
/// folder as the kernel's working directory and local.nbvars in the kernel's environment (as
/// an agent passes a project's secrets).
async fn exec_local(args: ExecArgs) -> CliResult {
    let root = project_root(&args.project).unwrap_or_else(|| PathBuf::from("."));
    let notebook = local_notebook(&args.notebook, &root).ok_or_else(|| {
        CliError::bad_input(format!(
            "no notebook {:?} here or in {}/notebooks; give its path",
            args.notebook,
            root.display()
        ))
    })?;
    let output = match &args.output_notebook {
        Some(path) => path.clone(),
        None => {
            let stem = notebook.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let dir = root.join("outputs");
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::bad_input(format!("cannot create {}: {e}", dir.display())))?;
            dir.join(format!("{stem}.out.ipynb"))
        }
    };
    let env = local_secrets(&root)?;
    eprintln!("nbw: running {} here; the executed notebook goes to {}", notebook.display(), output.display());
    let input = notebook.display().to_string();
    let bad_input = |e: anyhow::Error| CliError::bad_input(format!("{e:#}"));
    let document = run::read_notebook(&input).await.map_err(bad_input)?;
    let parameters = args.params.merge_onto(Parameters::default())?;
    run::check_writable(&output).map_err(bad_input)?;
    let options = ExecuteOptions {
        cwd: Some(root),
        env,
        run_timeout: args.timeout.map(Duration::from_secs),
        input_path: Some(input),
        output_path: Some(output.display().to_string()),
        // `nbw run`'s --checkpoint-every default.
        checkpoint: Some((output.clone(), Duration::from_secs(30))),
        ..ExecuteOptions::default()
    };
    let execution =
        execute(document, &parameters, options).map_err(|e| CliError::bad_input(e.to_string()))?;
    let mut reporter = Reporter::new(true, args.watch.watch);
    let outcome = run::drive(execution, |record| reporter.show(record)).await;
    reporter.finish();
    Ok(run::finish(outcome, &crate::location::Location::File(output), false).await)
}

/// The variables of local.nbvars, for the kernel's environment (none without the file).
fn local_secrets(root: &Path) -> CliResult<Vec<(String, String)>> {
    let secrets_file = root.join(project::SECRETS_FILE);
    if !secrets_file.is_file() {
        return Ok(Vec::new());
    }
    let pairs = super::secrets::read_nbvars(&secrets_file)?;
    if !pairs.is_empty() {
        eprintln!(
            "nbw: {} secrets from {} are environment variables of the kernel",
            pairs.len(),
            secrets_file.display()
        );
    }
    Ok(pairs)
}

async fn exec(args: ExecArgs) -> CliResult {
    let project = args.project.name()?;
    let root = project_root(&args.project);
    let notebook = bundle_path(&args.notebook, root.as_deref());
    let request = CreateExecution {
        notebook: notebook.clone(),
        parameters: args.params.merge_onto(Parameters::default())?,
        bundle_version: args.bundle_version.clone(),
        labels: args.labels.iter().cloned().collect(),
        timeout_secs: args.timeout,
        runtime: args.runtime.clone(),
        runtime_version: args.runtime_version.clone(),
        origin: Some(Origin::Cli),
    };
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let execution = client
        .create_execution(&project, &request)
        .await
        .map_err(|e| CliError::from_client(e, &format!("running {notebook} in project {project}")))?;
    started(&mut session, execution, &args.watch, args.format).await
}

// ---------------------------------------------------------------------------------------------
// nbw cancel, history, logs, outputs
// ---------------------------------------------------------------------------------------------

/// Cancel an execution: a queued one at once, a running one through its agent (interrupt,
/// then kill after a grace period).
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw cancel cli.2f7q3x9k1m0c4d5e6f7g
  nbw cancel sch.2f7q3x9k1m0c4d5e6f7g --wait

", exit_codes!()))]
pub struct CancelArgs {
    /// The execution's id.
    id: String,
    /// Wait until it has stopped.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    server: ServerArg,
}

pub async fn cancel(args: CancelArgs) -> CliResult {
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let execution = client
        .cancel_execution(&args.id)
        .await
        .map_err(|e| CliError::from_client(e, &format!("cancelling {}", args.id)))?;
    if execution.state.is_final() {
        eprintln!(
            "{} {} {}",
            output::ok_mark().for_stderr(),
            args.id,
            output::state(execution.state).for_stderr()
        );
        return Ok(OK);
    }
    eprintln!("Cancel requested: {} was {}; its agent stops it.", args.id, execution.state.as_str());
    if !args.wait {
        return Ok(OK);
    }
    let spinner = Bar::spinner("waiting for it to stop");
    let state = loop {
        let execution = session.client().await?.execution(&args.id).await?;
        if execution.state.is_final() {
            break execution.state;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    drop(spinner);
    eprintln!("{} {} {}", output::ok_mark().for_stderr(), args.id, output::state(state).for_stderr());
    Ok(if state == ExecutionState::Cancelled { OK } else { exit::execution_state(state) })
}

/// A state, for `--state`.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum StateArg {
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Lost,
}

impl From<StateArg> for ExecutionState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Queued => ExecutionState::Queued,
            StateArg::Running => ExecutionState::Running,
            StateArg::Succeeded => ExecutionState::Succeeded,
            StateArg::Failed => ExecutionState::Failed,
            StateArg::TimedOut => ExecutionState::TimedOut,
            StateArg::Cancelled => ExecutionState::Cancelled,
            StateArg::Lost => ExecutionState::Lost,
        }
    }
}

/// The project's executions, newest first.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw history
  nbw history --workflow nightly --last 50
  nbw history --state failed -o json

", exit_codes!()))]
pub struct HistoryArgs {
    /// Only this workflow's runs.
    #[arg(short = 'w', long)]
    workflow: Option<String>,
    /// How many runs to show.
    #[arg(short = 'n', long, default_value_t = 10)]
    last: usize,
    /// Only runs in this state.
    #[arg(long, value_enum)]
    state: Option<StateArg>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

pub async fn history(args: HistoryArgs) -> CliResult {
    let project = args.project.name()?;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let mut items: Vec<Execution> = Vec::new();
    let mut query = HistoryQuery {
        workflow: args.workflow.clone(),
        state: args.state.map(Into::into),
        ..Default::default()
    };
    while items.len() < args.last {
        query.limit = Some((args.last - items.len()).min(500) as u32);
        let page = client
            .executions(&project, &query)
            .await
            .map_err(|e| CliError::from_client(e, &format!("reading the history of {project}")))?;
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let names: std::collections::HashMap<String, String> = if args.format == Format::Table {
        client
            .workflows(&project)
            .await
            .map(|ws| ws.into_iter().map(|w| (w.id, w.name)).collect())
            .unwrap_or_default()
    } else {
        Default::default()
    };
    output::print(args.format, &items, || {
        if items.is_empty() {
            return format!("No runs in project {project} yet.");
        }
        let mut table = output::table(["id", "workflow", "notebook", "state", "created", "took", "output"]);
        for e in &items {
            let workflow =
                e.workflow_id.as_ref().map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()));
            let took = match (e.started_at, e.finished_at) {
                (Some(a), Some(b)) => output::duration_ms((b - a).num_milliseconds() as f64),
                (Some(a), None) => format!("{} so far", output::ago(a).trim_end_matches(" ago")),
                _ => "-".into(),
            };
            table.add_row(vec![
                comfy_table::Cell::new(&e.id),
                comfy_table::Cell::new(workflow.unwrap_or_else(|| "-".into())),
                comfy_table::Cell::new(&e.spec.notebook),
                output::state_cell(e.state),
                comfy_table::Cell::new(output::ago(e.created_at)),
                comfy_table::Cell::new(took),
                comfy_table::Cell::new(if e.has_output { "yes" } else { "-" }),
            ]);
        }
        table.to_string()
    });
    Ok(OK)
}

/// An execution's cell output and progress: what is stored so far, or (-f) live until it ends.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw logs cli.2f7q3x9k1m0c4d5e6f7g
  nbw logs -f sch.2f7q3x9k1m0c4d5e6f7g      # follow; exits with the run's status
  nbw logs --events web.2f7q3x9k1m0c4d5e6f7g | jq .kind

With -f the exit code is the run's (0 succeeded, 1 failed, 3 timed out, 6 cancelled, 7 lost).

", exit_codes!()))]
pub struct LogsArgs {
    /// The execution's id.
    id: String,
    /// Follow until the run ends, then exit with its status.
    #[arg(short = 'f', long)]
    follow: bool,
    /// Print the raw events as JSON lines.
    #[arg(long)]
    events: bool,
    #[command(flatten)]
    server: ServerArg,
}

pub async fn logs(args: LogsArgs) -> CliResult {
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let execution = client
        .execution(&args.id)
        .await
        .map_err(|e| CliError::from_client(e, &format!("reading {}", args.id)))?;
    let mode = if args.follow || execution.state.is_final() { Mode::Follow } else { Mode::Snapshot };
    let mut printer = Printer::new(false, args.events);
    if execution.state == ExecutionState::Queued && !args.events {
        eprintln!("{} is queued: no agent has taken it yet.", args.id);
    }
    let code = follow_with(&mut session, &args.id, mode, &mut printer).await?;
    if mode == Mode::Snapshot && !args.events {
        eprintln!(
            "({} is still {}; follow it with: nbw logs -f {})",
            args.id,
            execution.state.as_str(),
            args.id
        );
    }
    Ok(if args.follow { code } else { OK })
}

/// Fetch what executions produced.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw outputs get cli.2f7q3x9k1m0c4d5e6f7g                 # to ./cli.2f7q3x9k1m0c4d5e6f7g.ipynb
  nbw outputs get sch.2f7q3x9k1m0c4d5e6f7g -o report.ipynb
  nbw outputs get sch.2f7q3x9k1m0c4d5e6f7g -o - | jq .metadata.papermill

", exit_codes!()))]
pub struct OutputsArgs {
    #[command(subcommand)]
    command: OutputsCommand,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum OutputsCommand {
    /// Download an execution's output notebook.
    Get {
        /// The execution's id.
        id: String,
        /// Where to write it (`-` for standard output; default ID.ipynb here).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub async fn outputs(args: OutputsArgs) -> CliResult {
    let OutputsCommand::Get { id, file } = args.command;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let target = file.unwrap_or_else(|| PathBuf::from(format!("{id}.ipynb")));
    let bar = Bar::bytes(0, "Downloading");
    let progress = bar.0.clone();
    let bytes = client
        .output(&id, move |done, total| {
            if let Some(total) = total {
                progress.set_length(total);
            }
            progress.set_position(done);
        })
        .await
        .map_err(|e| CliError::from_client(e, &format!("downloading the output of {id}")))?;
    drop(bar);
    if target.as_os_str() == "-" {
        std::io::stdout()
            .write_all(&bytes)
            .map_err(|e| CliError::bad_input(format!("writing standard output: {e}")))?;
        return Ok(OK);
    }
    std::fs::write(&target, &bytes)
        .map_err(|e| CliError::new(BAD_INPUT, format!("cannot write {}: {e}", target.display())))?;
    eprintln!(
        "{} {} ({}) written",
        output::ok_mark().for_stderr(),
        target.display(),
        output::bytes(bytes.len() as u64)
    );
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_paths_fall_back_to_the_name_given() {
        assert_eq!(bundle_path("notebooks/a.ipynb", None), "notebooks/a.ipynb");
        assert_eq!(bundle_path("a", None), "a.ipynb");
    }
}
