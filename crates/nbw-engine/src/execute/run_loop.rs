//! The run loop: start (or take) the kernel, send the cells one by one, gather what each
//! produces until both its `execute_reply` and its `status: idle` have arrived, stop on the
//! first failure, a timeout or a cancel, and always end with the kernel's process group gone.
//!
//! About 600 lines: one state machine, kept whole so that its order reads top to bottom.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::{ExecuteOptions, Outcome, capture, papermill};
use crate::events::{CellStatus, Event, EventRecord, RunStatus};
use crate::gaps::GapDetector;
use crate::kernelspec::Kernelspec;
use crate::launch::{KernelProcess, LaunchSpec};
use crate::notebook::{self, CellType, Notebook, RAISES_EXCEPTION_TAG, SKIP_EXECUTION_TAG};
use crate::outputs::{Applied, OutputAssembler, outputs_mut};
use crate::session::{Channel, Incoming, KernelMessage, Session};
use crate::warm::WarmKernel;

/// How the cell loop stopped, when it stopped early.
struct Stop {
    status: RunStatus,
    message: String,
    cell: Option<usize>,
}

struct CellEnd {
    status: CellStatus,
    /// Set when the kernel is gone (died or killed): no further cell can run.
    kernel_gone: bool,
    /// Why the cell was stopped, for timeouts, cancels and deaths.
    cause: Option<String>,
}

/// A notebook ready to run: parameters injected, papermill's metadata started.
pub(super) struct Prepared {
    pub(super) notebook: Notebook,
    pub(super) kernelspec: Kernelspec,
    /// The kernel's language, as the notebook or the kernelspec names it.
    pub(super) language: String,
    /// The run's parameters, as JSON (for the `run_start` event).
    pub(super) parameters: Value,
}

pub(super) struct Runner {
    notebook: Notebook,
    kernelspec: Kernelspec,
    language: String,
    parameters: Value,
    options: ExecuteOptions,
    cancel: CancellationToken,
    tx: mpsc::UnboundedSender<EventRecord>,
    seq: u64,
    assembler: OutputAssembler,
    gaps: GapDetector,
    /// Reasons the output may be incomplete.
    problems: Vec<String>,
    /// A kernel started ahead of time, used instead of starting one.
    warm: Option<WarmKernel>,
    /// The finished run's kernel exiting in the background.
    kernel_exit: Option<tokio::task::JoinHandle<()>>,
    /// The next cell, already sent: its index and request id.
    ahead: Option<(usize, String)>,
    /// Messages of the cell sent ahead, received before its turn.
    early: Vec<KernelMessage>,
    /// Why the kernel died while the cell sent ahead was running (reported for that cell).
    dead_kernel: Option<String>,
    /// The cell whose reply failed the run, and why.
    failure: Option<(usize, String)>,
}

/// What has arrived for the running cell.
#[derive(Default)]
struct Progress {
    reply: Option<Value>,
    idle: bool,
    /// After the reply, the idle status must come before this.
    idle_deadline: Option<Instant>,
}

impl Runner {
    /// A prepared run, not yet started: its events go to `tx`, `cancel` stops it.
    pub(super) fn new(
        prepared: Prepared,
        options: ExecuteOptions,
        warm: Option<WarmKernel>,
        cancel: CancellationToken,
        tx: mpsc::UnboundedSender<EventRecord>,
    ) -> Runner {
        let Prepared { notebook, kernelspec, language, parameters } = prepared;
        Runner {
            notebook,
            kernelspec,
            language,
            parameters,
            options,
            cancel,
            tx,
            seq: 0,
            assembler: OutputAssembler::default(),
            gaps: GapDetector::default(),
            problems: Vec::new(),
            warm,
            kernel_exit: None,
            ahead: None,
            early: Vec::new(),
            dead_kernel: None,
            failure: None,
        }
    }

    /// Runs the cells; the outcome, and the kernel's exit still going on in the background.
    pub(super) async fn run(mut self) -> (Outcome, Option<tokio::task::JoinHandle<()>>) {
        let started = Instant::now();
        let run_deadline = self.options.run_timeout.map(|t| started + t);
        let stop = self.run_kernel(run_deadline).await.err();
        let kernel_exit = self.kernel_exit.take();
        (self.finish(stop, started), kernel_exit)
    }

    fn emit(&mut self, event: Event) {
        self.seq += 1;
        let _ = self.tx.send(EventRecord { seq: self.seq, time: Utc::now(), event });
    }

    /// Starts the kernel, runs the cells, and always stops the kernel's process group.
    async fn run_kernel(&mut self, run_deadline: Option<Instant>) -> Result<(), Stop> {
        let launch = LaunchSpec {
            kernelspec: self.kernelspec.clone(),
            search: self.options.search.clone(),
            transport: self.options.transport.clone(),
            cwd: self.options.cwd.clone(),
            env: self.options.env.clone(),
            host: self.options.host.clone(),
        };
        let died = |message: String| Stop { status: RunStatus::KernelDied, message, cell: None };
        let (kernel, result) = match self.warm.take() {
            Some(WarmKernel { mut kernel, mut session, language_info, .. }) => {
                let setup =
                    crate::warm::setup(&mut session, &mut kernel, &launch, self.options.startup_timeout)
                        .await;
                let result = match setup {
                    Ok(()) => self.run_with_session(&mut kernel, session, language_info, run_deadline).await,
                    Err(message) => Err(died(message)),
                };
                (kernel, result)
            }
            None => {
                let mut kernel = KernelProcess::start(&launch).await.map_err(|e| died(e.to_string()))?;
                let result = self.run_with_kernel(&mut kernel, run_deadline).await;
                (kernel, result)
            }
        };
        match result {
            // The run is over: the kernel exits in the background, so the result is not kept
            // waiting for it; `RunHandle::outcome` still waits until it is gone.
            Ok(session) => {
                self.kernel_exit = Some(tokio::spawn(shut_down(kernel, session)));
                Ok(())
            }
            Err(stop) => {
                kernel.kill();
                Err(stop)
            }
        }
    }

    async fn run_with_kernel(
        &mut self,
        kernel: &mut KernelProcess,
        run_deadline: Option<Instant>,
    ) -> Result<Session, Stop> {
        let mut deadline = Instant::now() + self.options.startup_timeout;
        if let Some(run_deadline) = run_deadline {
            deadline = deadline.min(run_deadline);
        }
        let (session, language_info) =
            crate::ready::connect(kernel, deadline, &self.kernelspec.name).await.map_err(|message| {
                // A run whose own timeout ends while its kernel still starts (a slow container
                // start, a loaded machine) timed out: calling it a dead kernel would hide that
                // the limit the user set is what stopped it.
                if let Some(limit) = self.options.run_timeout
                    && run_deadline.is_some_and(|d| Instant::now() >= d)
                {
                    let message = format!(
                        "the run exceeded --timeout {} s before its kernel started ({message})",
                        limit.as_secs_f64()
                    );
                    return Stop { status: RunStatus::TimedOut, message, cell: None };
                }
                Stop { status: RunStatus::KernelDied, message, cell: None }
            })?;
        self.run_with_session(kernel, session, language_info, run_deadline).await
    }

    /// Runs the cells on a kernel that answers; always ends with the kernel stopped.
    async fn run_with_session(
        &mut self,
        kernel: &mut KernelProcess,
        mut session: Session,
        language_info: Option<Value>,
        run_deadline: Option<Instant>,
    ) -> Result<Session, Stop> {
        if let Some(language_info) = language_info {
            self.notebook.metadata_mut().insert("language_info".into(), language_info);
        }
        let code_cells: Vec<usize> = (0..self.notebook.cells().len()).filter(|&i| self.runs(i)).collect();
        let cells = self.notebook.cells().len();
        self.emit(Event::RunStart {
            kernel: self.kernelspec.name.clone(),
            language: self.language.clone(),
            cells,
            code_cells: code_cells.len(),
            parameters: self.parameters.clone(),
        });
        let mut ordinal = 0;
        let mut next_checkpoint = self.options.checkpoint.as_ref().map(|(_, every)| Instant::now() + *every);
        for index in 0..cells {
            papermill::cell_started(&mut self.notebook, index);
            if !self.runs(index) {
                papermill::cell_completed(&mut self.notebook, index, false);
                continue;
            }
            ordinal += 1;
            self.emit(Event::CellStart { cell: index, ordinal });
            let began = Instant::now();
            let end = self.run_cell(index, kernel, &mut session, run_deadline, &mut next_checkpoint).await;
            let execution_count = self.notebook.cells()[index]["execution_count"].as_i64();
            let duration_ms = began.elapsed().as_secs_f64() * 1000.0;
            self.emit(Event::CellEnd { cell: index, status: end.status, execution_count, duration_ms });
            // An error in a cell allowed to raise is not a failure, as for nbclient and papermill;
            // a cell the kernel aborted did not run at all, which no tag allows.
            let failed = match end.status {
                CellStatus::Ok => false,
                CellStatus::Error => !self.allows_errors(index),
                _ => true,
            };
            papermill::cell_completed(&mut self.notebook, index, failed);
            if let Some(cause) = end.cause {
                let output = capture::stop_error_output(end.status, &cause);
                self.add_output(index, output);
                let status = match end.status {
                    CellStatus::TimedOut => RunStatus::TimedOut,
                    CellStatus::Cancelled => RunStatus::Cancelled,
                    _ => RunStatus::KernelDied,
                };
                if !end.kernel_gone {
                    self.shutdown(kernel, &mut session).await;
                }
                return Err(Stop { status, message: cause, cell: Some(index) });
            }
            if failed {
                self.failure =
                    capture::failure_of(&self.notebook.cells()[index], index).map(|message| (index, message));
                break;
            }
        }
        self.check_completeness(&mut session);
        Ok(session)
    }

    /// Sends one cell and gathers everything it produces.
    async fn run_cell(
        &mut self,
        index: usize,
        kernel: &mut KernelProcess,
        session: &mut Session,
        run_deadline: Option<Instant>,
        next_checkpoint: &mut Option<Instant>,
    ) -> CellEnd {
        let msg_id = match self.ahead.take() {
            Some((ahead, id)) if ahead == index => id,
            _ => {
                let code = notebook::source(&self.notebook.cells()[index]).to_owned();
                match session.execute(&code, !self.allows_errors(index)).await {
                    Ok(id) => id,
                    Err(e) => {
                        return CellEnd {
                            status: CellStatus::KernelDied,
                            kernel_gone: false,
                            cause: Some(e.to_string()),
                        };
                    }
                }
            }
        };
        let cell_deadline = self.options.cell_timeout.map(|t| Instant::now() + t);
        let deadline = match (cell_deadline, run_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut cell = Progress::default();
        // What this cell sent while the previous one was still finishing.
        for m in std::mem::take(&mut self.early) {
            if m.parent_id.as_deref() == Some(msg_id.as_str()) {
                self.apply(index, m, &mut cell);
            }
        }
        if let Some(cause) = self.dead_kernel.take() {
            return CellEnd { status: CellStatus::KernelDied, kernel_gone: true, cause: Some(cause) };
        }
        let mut stopping: Option<(CellStatus, String, Instant)> = None;
        let mut sockets_open = true;
        loop {
            if cell.reply.is_some() && cell.idle {
                break;
            }
            let wake = [
                deadline.filter(|_| stopping.is_none()),
                stopping.as_ref().map(|s| s.2),
                cell.idle_deadline,
                *next_checkpoint,
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                incoming = session.recv(), if sockets_open => match incoming {
                    Some(Incoming::Message(m)) => {
                        let ours = m.parent_id.as_deref() == Some(msg_id.as_str());
                        if ours {
                            self.gaps.arm();
                        }
                        self.gaps.observe(&m.msg_id);
                        if ours {
                            if self.apply(index, m, &mut cell) && stopping.is_none() {
                                self.send_ahead(index, session, &cell).await;
                            }
                        } else if self.ahead.as_ref().is_some_and(|(_, id)| m.parent_id.as_deref() == Some(id.as_str())) {
                            self.early.push(m);
                        }
                    }
                    Some(Incoming::Corrupt(channel, why)) => {
                        self.problems.push(format!("unreadable message on {channel:?}: {why}"));
                    }
                    Some(Incoming::Closed) | None => sockets_open = false,
                },
                status = kernel.wait() => {
                    let (status, cause) = match stopping.take() {
                        Some((status, cause, _)) => (status, cause),
                        None => (CellStatus::KernelDied, self.death_message(kernel, status)),
                    };
                    if status == CellStatus::KernelDied && cell.reply.is_some() && self.ahead.is_some() {
                        // This cell had finished: the kernel died in the one sent ahead.
                        self.dead_kernel = Some(cause);
                        break;
                    }
                    return CellEnd { status, kernel_gone: true, cause: Some(cause) };
                }
                _ = self.cancel.cancelled(), if stopping.is_none() => {
                    stopping = Some(self.interrupt(kernel, session, CellStatus::Cancelled, "the run was cancelled".into()).await);
                }
                _ = sleep_until(wake.unwrap_or_else(far_future)), if wake.is_some() => {
                    let now = Instant::now();
                    if let Some((_, _, kill_at)) = &stopping && now >= *kill_at {
                        // The interrupt was not enough: the group goes, and the wait branch above
                        // reports the cause once the kernel is reaped.
                        kernel.kill();
                        if let Some(s) = stopping.as_mut() {
                            s.1.push_str(&format!("; killed after the {} s grace period", self.options.kill_grace.as_secs()));
                            s.2 = far_future();
                        }
                    } else if stopping.is_none() && deadline.is_some_and(|d| now >= d) {
                        let cause = self.timeout_message(cell_deadline.is_some_and(|c| now >= c));
                        stopping = Some(self.interrupt(kernel, session, CellStatus::TimedOut, cause).await);
                    }
                    if cell.idle_deadline.is_some_and(|d| now >= d) && !cell.idle {
                        self.problems.push(format!(
                            "cell {index}: no idle status within {} s of its reply",
                            self.options.iopub_timeout.as_secs()
                        ));
                        break;
                    }
                    if next_checkpoint.is_some_and(|c| now >= c) {
                        self.checkpoint();
                        *next_checkpoint = self.options.checkpoint.as_ref().map(|(_, every)| now + *every);
                    }
                }
            }
        }
        if let Some((status, cause, _)) = stopping {
            return CellEnd { status, kernel_gone: false, cause: Some(cause) };
        }
        let status = capture::reply_status(cell.reply.as_ref());
        if status != CellStatus::Ok
            && let Some(output) = capture::reply_error_output(
                &mut self.notebook.cells_mut()[index],
                status,
                cell.reply.as_ref(),
            )
        {
            self.add_output(index, output);
        }
        CellEnd { status, kernel_gone: false, cause: None }
    }

    /// Applies a message of the running cell; returns whether it was the execute reply.
    fn apply(&mut self, index: usize, m: KernelMessage, cell: &mut Progress) -> bool {
        match m.channel {
            Channel::IoPub => {
                cell.idle |= self.on_iopub(index, &m);
                false
            }
            Channel::Shell if m.msg_type == "execute_reply" => {
                self.on_reply(index, &m);
                cell.reply = Some(m.content);
                cell.idle_deadline = Some(Instant::now() + self.options.iopub_timeout);
                true
            }
            _ => false,
        }
    }

    /// Once a cell has replied, sends the next code cell at once, so the kernel starts it while
    /// the last outputs of this one are still on their way: the kernel never waits for nbw
    /// between cells. Not after a failure that stops the run, nor once a cancel was asked for.
    /// (A kernel asked to stop on error aborts whatever was queued behind the failing cell.)
    async fn send_ahead(&mut self, index: usize, session: &mut Session, cell: &Progress) {
        let failed = capture::reply_status(cell.reply.as_ref()) != CellStatus::Ok;
        if (failed && !self.allows_errors(index)) || self.cancel.is_cancelled() {
            return;
        }
        let Some(next) = (index + 1..self.notebook.cells().len()).find(|&k| self.runs(k)) else {
            return;
        };
        let code = notebook::source(&self.notebook.cells()[next]).to_owned();
        if let Ok(id) = session.execute(&code, !self.allows_errors(next)).await {
            self.ahead = Some((next, id));
        }
    }

    /// Handles an IOPub message of the running cell; returns whether it was the idle status.
    fn on_iopub(&mut self, index: usize, m: &KernelMessage) -> bool {
        match m.msg_type.as_str() {
            "status" => {
                let state = m.content.get("execution_state").and_then(Value::as_str).unwrap_or("");
                if state == "busy" || state == "idle" {
                    self.record_timing(index, &format!("iopub.status.{state}"), m);
                }
                return state == "idle";
            }
            "execute_input" => {
                self.record_timing(index, "iopub.execute_input", m);
                if let Some(count) = m.content.get("execution_count") {
                    self.notebook.cells_mut()[index]["execution_count"] = count.clone();
                }
            }
            _ => {
                let applied = self.assembler.apply(self.notebook.cells_mut(), index, m);
                match applied {
                    Some(Applied::Output(output)) => self.emit(Event::Output { cell: index, output }),
                    Some(Applied::DisplayUpdate { display_id, data, metadata }) => {
                        self.emit(Event::DisplayUpdate { cell: index, display_id, data, metadata });
                    }
                    Some(Applied::Cleared { wait }) => self.emit(Event::ClearOutput { cell: index, wait }),
                    None => {}
                }
            }
        }
        false
    }

    fn on_reply(&mut self, index: usize, m: &KernelMessage) {
        self.record_timing(index, "shell.execute_reply", m);
        if let Some(count) = m.content.get("execution_count").filter(|c| !c.is_null()) {
            self.notebook.cells_mut()[index]["execution_count"] = count.clone();
        }
    }

    fn record_timing(&mut self, index: usize, key: &str, m: &KernelMessage) {
        capture::record_timing(&mut self.notebook.cells_mut()[index], key, &json!(m.date));
    }

    /// Adds an output to cell `index` and reports it.
    fn add_output(&mut self, index: usize, output: Value) {
        outputs_mut(&mut self.notebook.cells_mut()[index]).push(output.clone());
        self.emit(Event::Output { cell: index, output });
    }

    async fn interrupt(
        &mut self,
        kernel: &KernelProcess,
        session: &mut Session,
        status: CellStatus,
        cause: String,
    ) -> (CellStatus, String, Instant) {
        if self.kernelspec.spec.interrupt_mode.as_deref() == Some("message") {
            let _ = session.interrupt().await;
        } else {
            kernel.interrupt();
        }
        (status, cause, Instant::now() + self.options.kill_grace)
    }

    fn timeout_message(&self, cell_timed_out: bool) -> String {
        match (cell_timed_out, self.options.cell_timeout, self.options.run_timeout) {
            (true, Some(t), _) => {
                format!("the cell exceeded --cell-timeout {} s and was interrupted", t.as_secs_f64())
            }
            (_, _, Some(t)) => {
                format!("the run exceeded --timeout {} s and was interrupted", t.as_secs_f64())
            }
            _ => "the run timed out".into(),
        }
    }

    fn death_message(&self, kernel: &KernelProcess, status: String) -> String {
        let text = crate::ready::exited("the kernel died while running the cell", status);
        let tail = kernel.output_tail();
        if tail.is_empty() { text } else { format!("{text}; its last output:\n{tail}") }
    }

    /// Asks the kernel to exit (stop paths, where the kernel is still there).
    async fn shutdown(&mut self, kernel: &mut KernelProcess, session: &mut Session) {
        graceful_exit(kernel, session).await;
    }

    fn check_completeness(&mut self, session: &mut Session) {
        for incoming in session.drain() {
            match incoming {
                Incoming::Message(m) => self.gaps.observe(&m.msg_id),
                Incoming::Corrupt(channel, why) => {
                    self.problems.push(format!("unreadable message on {channel:?}: {why}"));
                }
                Incoming::Closed => {}
            }
        }
        // The numbering check is proven on ipykernel; bash_kernel was seen to skip numbers now and
        // then without losing output, so for other kernels only the idle statuses and unreadable
        // messages decide.
        let missing = if self.language.eq_ignore_ascii_case("python") { self.gaps.missing() } else { 0 };
        if missing > 0 {
            self.problems
                .push(format!("{missing} kernel message(s) never arrived (a gap in the message numbers)"));
        }
    }

    /// Code cells with code in them run, like nbclient: empty ones and those tagged
    /// `skip-execution` do not.
    fn runs(&self, index: usize) -> bool {
        let cell = &self.notebook.cells()[index];
        notebook::cell_type(cell) == CellType::Code
            && !notebook::source(cell).trim().is_empty()
            && !notebook::has_tag(cell, SKIP_EXECUTION_TAG)
    }

    fn allows_errors(&self, index: usize) -> bool {
        self.options.allow_errors || notebook::has_tag(&self.notebook.cells()[index], RAISES_EXCEPTION_TAG)
    }

    fn checkpoint(&self) {
        if let Some((path, _)) = &self.options.checkpoint
            && let Err(e) = self.notebook.write(path)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not write a checkpoint");
        }
    }

    /// Decides the run's status, adds papermill's error banner when a cell failed, and closes
    /// the metadata.
    fn finish(mut self, stop: Option<Stop>, started: Instant) -> Outcome {
        let (mut status, mut message, failed_cell) = match (stop, self.failure.take()) {
            (Some(stop), _) => (stop.status, Some(stop.message), stop.cell),
            (None, Some((index, error))) => (RunStatus::Failed, Some(error), Some(index)),
            (None, None) => (RunStatus::Succeeded, None, None),
        };
        if status == RunStatus::Succeeded && !self.problems.is_empty() {
            status = RunStatus::OutputIncomplete;
            message = Some(format!("output incomplete: {}", self.problems.join("; ")));
        }
        let duration = started.elapsed().as_secs_f64();
        papermill::finish(&mut self.notebook, status, message.as_deref(), failed_cell, duration);
        self.emit(Event::RunEnd {
            status,
            message: message.clone(),
            failed_cell,
            duration_ms: duration * 1000.0,
            runner_peak_rss_kib: peak_rss_kib(),
        });
        Outcome { notebook: self.notebook, status, message, failed_cell }
    }
}

/// Asks the kernel to exit; kills it if it does not within a few seconds.
async fn graceful_exit(kernel: &mut KernelProcess, session: &mut Session) {
    if session.shutdown().await.is_ok()
        && tokio::time::timeout(Duration::from_secs(3), kernel.wait()).await.is_ok()
    {
        return;
    }
    kernel.kill();
    let _ = kernel.wait().await;
}

/// Ends a finished run's kernel: a graceful exit, then the whole process group goes.
async fn shut_down(mut kernel: KernelProcess, mut session: Session) {
    graceful_exit(&mut kernel, &mut session).await;
    kernel.kill();
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
}

fn peak_rss_kib() -> u64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|usage| usage.max_rss().max(0) as u64)
        .unwrap_or(0)
}
