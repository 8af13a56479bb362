//! The live view of a pipeline run (`nbw pipe run --watch`, `nbw pipe rerun --watch`): a line
//! per step each time its state changes, from the run's SSE `step` events, or from polling the
//! run every 500 ms when the stream is not there or breaks; then the steps' table.

use std::collections::HashMap;
use std::time::Duration;

use console::style;
use futures::StreamExt;
use nbw_client::{PipelineItem, UserClient};
use nbw_core::api::{PipelineRun, PipelineRunState, StepRun, StepRunState};

use super::output;
use super::{CliError, CliResult};

/// How often a run is polled when its event stream is not available.
const POLL: Duration = Duration::from_millis(500);

/// Follows `run` to its end, printing its steps' changes on standard error; returns the ended run.
pub async fn follow(client: &UserClient, project: &str, run: PipelineRun) -> CliResult<PipelineRun> {
    eprintln!(
        "{} {} runs pipeline {} ({} steps)",
        style("▶").cyan().for_stderr(),
        run.id,
        run.pipeline,
        run.steps.len()
    );
    let mut view = View::new(&run.steps);
    view.show(&run.steps);
    if run.state.is_final() {
        return Ok(run);
    }
    if let Ok(mut stream) = client.pipeline_events(project, &run.id).await {
        while let Some(item) = stream.next().await {
            match item {
                Ok(PipelineItem::Step(step)) => view.show(std::slice::from_ref(&step)),
                Ok(PipelineItem::End(done)) => {
                    view.show(&done.steps);
                    return Ok(*done);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the run's event stream broke; polling");
                    break;
                }
            }
        }
    }
    loop {
        let now = client
            .pipeline_run(project, &run.id)
            .await
            .map_err(|e| CliError::from_client(e, &format!("reading pipeline run {}", run.id)))?;
        view.show(&now.steps);
        if now.state.is_final() {
            return Ok(now);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The last state printed per step.
struct View {
    shown: HashMap<String, StepRunState>,
    width: usize,
}

impl View {
    fn new(steps: &[StepRun]) -> View {
        View { shown: HashMap::new(), width: steps.iter().map(|s| s.name.len()).max().unwrap_or(4) }
    }

    /// Prints a line for each step whose state differs from the last one printed.
    fn show(&mut self, steps: &[StepRun]) {
        for step in steps {
            if self.shown.get(&step.name) == Some(&step.state) {
                continue;
            }
            self.shown.insert(step.name.clone(), step.state);
            let message = step.message.as_deref().map(|m| format!("  {m}")).unwrap_or_default();
            eprintln!(
                "  {}  {:<width$}  {}{message}",
                chrono::Local::now().format("%H:%M:%S"),
                step.name,
                step_state(step.state).for_stderr(),
                width = self.width
            );
        }
    }
}

/// Whether a step ended well: it succeeded, or a re-run reused its earlier success.
pub fn is_done_well(state: StepRunState) -> bool {
    matches!(state, StepRunState::Succeeded | StepRunState::Reused)
}

fn step_state_text(state: StepRunState) -> &'static str {
    match state {
        StepRunState::Pending => "pending",
        StepRunState::Queued => "queued",
        StepRunState::Running => "running",
        StepRunState::Succeeded => "succeeded",
        StepRunState::Failed => "failed",
        StepRunState::Skipped => "skipped",
        StepRunState::Cancelled => "cancelled",
        StepRunState::Reused => "reused",
    }
}

fn step_state(state: StepRunState) -> console::StyledObject<&'static str> {
    let text = step_state_text(state);
    match state {
        StepRunState::Succeeded | StepRunState::Reused => style(text).green(),
        StepRunState::Failed => style(text).red(),
        StepRunState::Skipped | StepRunState::Cancelled => style(text).yellow(),
        StepRunState::Pending | StepRunState::Queued | StepRunState::Running => style(text).cyan(),
    }
}

/// A run's state as the API spells it.
pub fn run_state_text(state: PipelineRunState) -> &'static str {
    match state {
        PipelineRunState::Queued => "queued",
        PipelineRunState::Running => "running",
        PipelineRunState::Succeeded => "succeeded",
        PipelineRunState::Failed => "failed",
        PipelineRunState::Cancelled => "cancelled",
        PipelineRunState::TimedOut => "timed_out",
    }
}

/// The steps of a run: state, execution, time taken, result or reason.
pub fn steps_table(run: &PipelineRun) -> String {
    let mut table = output::table(["step", "state", "execution", "took", "result / message"]);
    for step in &run.steps {
        let took = match (step.started_at, step.finished_at) {
            (Some(a), Some(b)) => output::duration_ms((b - a).num_milliseconds() as f64),
            _ => "-".into(),
        };
        let detail = match (&step.message, &step.result) {
            (Some(message), _) => message.clone(),
            (None, Some(result)) => output::short_json(result, 50),
            (None, None) => String::new(),
        };
        table.add_row([
            step.name.clone(),
            step_state_text(step.state).to_owned(),
            step.execution_id.clone().unwrap_or_else(|| "-".into()),
            took,
            detail,
        ]);
    }
    format!("{} {}\n{table}", run.id, run_state_text(run.state))
}
