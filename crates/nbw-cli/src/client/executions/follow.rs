//! `--watch` and `nbw logs`: an execution's live events followed (server-sent events, resumed
//! with the last sequence number after a broken connection), printed, and the run's status as
//! the exit code.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt;
use nbw_client::{ClientError, StreamItem};
use nbw_core::api::{Execution, ExecutionEvent, ExecutionState};
use serde_json::Value;

use crate::client::credentials::Session;
use crate::client::output::{self, Bar, Format};
use crate::client::{CliError, CliResult, OK, SERVER};
use crate::exit;

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

/// How events are followed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
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

pub(super) async fn follow_with(
    session: &mut Session,
    id: &str,
    mode: Mode,
    printer: &mut Printer,
) -> CliResult {
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
                    return Err(CliError::new(SERVER, format!("an unreadable event: {reason}")));
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
pub(super) struct Printer {
    bar: Option<Bar>,
    progress: bool,
    json: bool,
    started: bool,
    /// The current cell's header, printed before its first output (silent cells print none).
    header: Option<String>,
}

impl Printer {
    pub(super) fn new(progress: bool, json: bool) -> Printer {
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
