//! Runs and their results: `nbw exec` (`exec`), `nbw cancel`, `nbw history`, `nbw logs`,
//! `nbw outputs`, and `--watch` (`follow`), which follows an execution's live events and exits
//! with the run's status.

mod exec;
mod follow;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use nbw_client::HistoryQuery;
use nbw_core::api::{Execution, ExecutionState};

pub use exec::{ExecArgs, exec_main};
use follow::{Mode, Printer, follow_with};
pub use follow::{WatchArgs, started};

use super::credentials::Session;
use super::output::{self, Bar, Format};
use super::{BAD_INPUT, CliError, CliResult, OK, ProjectArg, ServerArg, exit_codes};
use crate::exit;

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
    Expired,
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
            StateArg::Expired => ExecutionState::Expired,
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
