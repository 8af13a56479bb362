//! What a pipeline run's notification says: one message when the run ends, naming the
//! pipeline, the run, its state and duration and, for a failure, the failing step with its
//! failing cell (`ename: evalue` and the cell's source, as an execution's message has them),
//! linked to the run's page `{public_url}/pipeline-runs/{id}`.

use chrono::{DateTime, Utc};
use nbw_core::api::{NotifyChannel, PipelineRunState, StepRun, StepRunState};
use serde_json::{Value, json};

use super::message::{code_block, discord_embed, discord_escape, human_duration, slack_escape, truncate};
use crate::db::to_time_opt;
use crate::state::AppState;
use crate::store::executions;
use crate::store::pipelines::{RunRow, state_name};

/// The step that failed the run, and how.
#[derive(Debug, Clone, Default)]
pub(super) struct FailedStep {
    name: String,
    /// Its last execution, when it started one.
    execution_id: Option<String>,
    /// The execution's error (`ename: evalue`), or why the step could not start.
    error: Option<String>,
    /// The failing cell's index and source.
    cell: Option<u64>,
    source: Option<String>,
}

/// What a pipeline run's notification says, whatever the channel.
#[derive(Debug, Clone)]
pub(super) struct RunFacts {
    run_id: String,
    project: String,
    pipeline: String,
    state: PipelineRunState,
    duration_ms: Option<f64>,
    /// The run's own message (why it failed, timed out or was cancelled).
    message: Option<String>,
    failed: Option<FailedStep>,
    /// How each step ended, in the definition's order.
    steps: Vec<(String, StepRunState)>,
    /// The run's page on the web UI.
    run_url: String,
    /// The run in the API (JSON), for a webhook's program.
    api_url: String,
    /// The failing step's execution page.
    failed_execution_url: Option<String>,
    finished_at: Option<DateTime<Utc>>,
}

impl RunFacts {
    /// The facts of `run` (which ended) of the project named `project`; reads the failing
    /// step's execution for its error and cell.
    pub(super) async fn of(state: &AppState, run: &RunRow, project: &str) -> anyhow::Result<RunFacts> {
        let public_url = state.config.public_url();
        let steps = run.steps();
        let failed = match failing_step(run.state(), &steps) {
            Some(step) => Some(failed_step(state, step).await?),
            None => None,
        };
        let duration_ms =
            run.finished_at.map(|end| (end - run.started_at.unwrap_or(run.created_at)).max(0) as f64);
        Ok(RunFacts {
            run_id: run.id.clone(),
            project: project.to_owned(),
            pipeline: run.pipeline.clone(),
            state: run.state(),
            duration_ms,
            message: run.message.clone(),
            failed_execution_url: failed
                .as_ref()
                .and_then(|f| f.execution_id.as_ref())
                .map(|id| format!("{public_url}/executions/{id}")),
            failed,
            steps: steps.iter().map(|s| (s.name.clone(), s.state)).collect(),
            run_url: format!("{public_url}/pipeline-runs/{}", run.id),
            api_url: format!("{public_url}/v1/projects/{project}/pipeline-runs/{}", run.id),
            finished_at: to_time_opt(run.finished_at),
        })
    }

    fn succeeded(&self) -> bool {
        self.state == PipelineRunState::Succeeded
    }

    fn state_name(&self) -> String {
        state_name(self.state)
    }

    /// `project/pipeline (pip.ID)`.
    fn name(&self) -> String {
        format!("{}/{} ({})", self.project, self.pipeline, self.run_id)
    }

    /// `succeeded in 3.2 s`, `failed after 1 min 5 s`, `timed out after ...`.
    fn outcome(&self) -> String {
        let verb = match self.state {
            PipelineRunState::Succeeded => "succeeded",
            PipelineRunState::TimedOut => "timed out",
            PipelineRunState::Cancelled => "was cancelled",
            _ => "failed",
        };
        match self.duration_ms {
            Some(ms) if self.succeeded() => format!("{verb} in {}", human_duration(ms)),
            Some(ms) => format!("{verb} after {}", human_duration(ms)),
            None => verb.to_owned(),
        }
    }

    /// `step `load` failed at cell 3: ZeroDivisionError: division by zero`.
    fn failure(&self) -> Option<String> {
        let failed = self.failed.as_ref()?;
        let mut line = format!("step `{}` failed", failed.name);
        if let Some(cell) = failed.cell {
            line.push_str(&format!(" at cell {cell}"));
        }
        if let Some(error) = &failed.error {
            line.push_str(&format!(": {error}"));
        }
        Some(line)
    }

    fn icon(&self) -> &'static str {
        if self.succeeded() { "✅" } else { "❌" }
    }

    fn steps_line(&self) -> String {
        let states: Vec<String> =
            self.steps.iter().map(|(name, state)| format!("{name} {}", step_state_name(*state))).collect();
        states.join(", ")
    }
}

/// A step's state as the API writes it (`succeeded`, `skipped`...).
fn step_state_name(state: StepRunState) -> String {
    match serde_json::to_value(state) {
        Ok(Value::String(name)) => name,
        _ => unreachable!("step states serialize as strings"),
    }
}

/// The step a failed run names: the first that failed, else the first cancelled (a step's
/// execution cancelled by itself fails its run too). A timed-out or cancelled run has none.
fn failing_step(state: PipelineRunState, steps: &[StepRun]) -> Option<&StepRun> {
    if state != PipelineRunState::Failed {
        return None;
    }
    steps
        .iter()
        .find(|s| s.state == StepRunState::Failed)
        .or_else(|| steps.iter().find(|s| s.state == StepRunState::Cancelled))
}

/// The failing step's error and cell, from its execution's result; a step that never started
/// an execution (a missing upstream result) has only its message.
async fn failed_step(state: &AppState, step: &StepRun) -> anyhow::Result<FailedStep> {
    let mut failed = FailedStep {
        name: step.name.clone(),
        execution_id: step.execution_id.clone(),
        error: step.message.clone(),
        ..FailedStep::default()
    };
    let Some(id) = &step.execution_id else { return Ok(failed) };
    let Some(result) = executions::get(&state.db, id).await?.and_then(|row| row.to_api().result) else {
        return Ok(failed);
    };
    if result.message.is_some() {
        failed.error = result.message;
    }
    failed.cell = result.failed_cell;
    failed.source = result.failed_source;
    Ok(failed)
}

/// The body for `channel`.
pub(super) fn payload(channel: NotifyChannel, facts: &RunFacts) -> Value {
    match channel {
        NotifyChannel::Slack => slack(facts),
        NotifyChannel::Discord => discord(facts),
        NotifyChannel::Webhook => webhook(facts),
    }
}

fn slack(facts: &RunFacts) -> Value {
    let mut headline = format!("{} {} {}", facts.icon(), facts.name(), facts.outcome());
    if let Some(failure) = facts.failure() {
        headline.push_str(&format!(": {failure}"));
    }
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Project*\n{}", slack_escape(&facts.project))}),
        json!({"type": "mrkdwn", "text": format!("*Pipeline*\n{}", slack_escape(&facts.pipeline))}),
        json!({"type": "mrkdwn", "text": format!("*State*\n{}", facts.state_name())}),
    ];
    if let Some(ms) = facts.duration_ms {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Duration*\n{}", human_duration(ms))}));
    }
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("{} *{}* {}", facts.icon(), slack_escape(&facts.name()), facts.outcome())}}),
        json!({"type": "section", "fields": fields}),
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Steps*\n{}", slack_escape(&truncate(&facts.steps_line(), 1500)))}}),
    ];
    if let Some(failed) = &facts.failed {
        let title = match failed.cell {
            Some(cell) => format!("*Failing step `{}`, cell {cell}*", slack_escape(&failed.name)),
            None => format!("*Failing step `{}`*", slack_escape(&failed.name)),
        };
        let mut text = title;
        if let Some(error) = &failed.error {
            text.push_str(&format!("\n{}", code_block(&slack_escape(&truncate(error, 1000)))));
        }
        if let Some(source) = &failed.source {
            text.push_str(&format!("\n{}", code_block(&slack_escape(&truncate(source, 1500)))));
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    } else if let Some(message) = facts.message.as_ref().filter(|_| !facts.succeeded()) {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Why*\n{}", code_block(&slack_escape(&truncate(message, 1200))))}}));
    }
    let mut links = vec![format!("<{}|Pipeline run {}>", facts.run_url, slack_escape(&facts.run_id))];
    if let (Some(url), Some(failed)) = (&facts.failed_execution_url, &facts.failed) {
        links.push(format!("<{url}|Execution of step {}>", slack_escape(&failed.name)));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]}));
    json!({"text": slack_escape(&headline), "blocks": blocks})
}

fn discord(facts: &RunFacts) -> Value {
    let mut fields = vec![
        json!({"name": "Project", "value": discord_escape(&facts.project), "inline": true}),
        json!({"name": "Pipeline", "value": discord_escape(&facts.pipeline), "inline": true}),
        json!({"name": "State", "value": facts.state_name(), "inline": true}),
    ];
    if let Some(ms) = facts.duration_ms {
        fields.push(json!({"name": "Duration", "value": human_duration(ms), "inline": true}));
    }
    fields.push(json!({"name": "Steps", "value": discord_escape(&truncate(&facts.steps_line(), 900))}));
    // Discord refuses a field value over 1024 characters.
    if let Some(failed) = &facts.failed {
        let name = match failed.cell {
            Some(cell) => format!("Failing step {}, cell {cell}", failed.name),
            None => format!("Failing step {}", failed.name),
        };
        let error = failed.error.as_deref().unwrap_or("no message");
        fields.push(json!({"name": name, "value": code_block(&truncate(error, 900))}));
        if let Some(source) = &failed.source {
            fields.push(json!({"name": "Failing cell", "value": code_block(&truncate(source, 900))}));
        }
    } else if let Some(message) = facts.message.as_ref().filter(|_| !facts.succeeded()) {
        fields.push(json!({"name": "Why", "value": code_block(&truncate(message, 900))}));
    }
    let mut links = vec![format!("[Pipeline run {}]({})", facts.run_id, facts.run_url)];
    if let (Some(url), Some(failed)) = (&facts.failed_execution_url, &facts.failed) {
        links.push(format!("[Execution of step {}]({url})", discord_escape(&failed.name)));
    }
    fields.push(json!({"name": "Links", "value": links.join(" · ")}));
    let title = format!("{} {}", facts.name(), facts.outcome());
    let embed = discord_embed(title, &facts.run_url, facts.succeeded(), fields, facts.finished_at);
    let mut content = format!("{} **{}** {}", facts.icon(), discord_escape(&facts.name()), facts.outcome());
    if let Some(failure) = facts.failure() {
        content.push_str(&format!(": {}", discord_escape(&truncate(&failure, 1500))));
    }
    json!({
        "content": content,
        "embeds": [embed],
        // Text from a notebook must never ping @everyone or anyone else.
        "allowed_mentions": {"parse": []},
    })
}

fn webhook(facts: &RunFacts) -> Value {
    let failed = facts.failed.as_ref();
    json!({
        "event": "pipeline_run.finished",
        "pipeline_run_id": facts.run_id,
        "project": facts.project,
        "pipeline": facts.pipeline,
        "state": facts.state_name(),
        "succeeded": facts.succeeded(),
        "duration_ms": facts.duration_ms,
        "message": facts.message,
        "failed_step": failed.map(|f| &f.name),
        "failed_execution_id": failed.and_then(|f| f.execution_id.as_ref()),
        "error": failed.and_then(|f| f.error.as_ref()),
        "failed_cell": failed.and_then(|f| f.cell),
        "failed_source": failed.and_then(|f| f.source.as_ref()),
        "steps": facts.steps.iter()
            .map(|(name, state)| json!({"name": name, "state": step_state_name(*state)}))
            .collect::<Vec<_>>(),
        "pipeline_run_url": facts.run_url,
        "failed_execution_url": facts.failed_execution_url,
        "api_url": facts.api_url,
        "finished_at": facts.finished_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: PipelineRunState) -> RunFacts {
        let failed = (state == PipelineRunState::Failed).then(|| FailedStep {
            name: "load".into(),
            execution_id: Some("pip.exe".into()),
            error: Some("ZeroDivisionError: <!channel> division by zero".into()),
            cell: Some(3),
            source: Some("x = 1 / 0".into()),
        });
        RunFacts {
            run_id: "pip.run".into(),
            project: "sales".into(),
            pipeline: "daily".into(),
            state,
            duration_ms: Some(65_000.0),
            message: Some("step `load` failed".into()),
            failed,
            steps: vec![("load".into(), StepRunState::Failed), ("report".into(), StepRunState::Skipped)],
            run_url: "http://h/pipeline-runs/pip.run".into(),
            api_url: "http://h/v1/projects/sales/pipeline-runs/pip.run".into(),
            failed_execution_url: Some("http://h/executions/pip.exe".into()),
            finished_at: None,
        }
    }

    #[test]
    fn a_failed_runs_message_names_the_run_the_step_and_the_cell() {
        let body = slack(&facts(PipelineRunState::Failed));
        assert_eq!(
            body["text"],
            "❌ sales/daily (pip.run) failed after 1 min 5 s: step `load` failed at cell 3: \
             ZeroDivisionError: &lt;!channel&gt; division by zero"
        );
        let text = body.to_string();
        assert!(text.contains("<http://h/pipeline-runs/pip.run|Pipeline run pip.run>"), "{text}");
        assert!(text.contains("load failed, report skipped"), "{text}");
        assert!(!text.contains("<!channel>"));
        let hook = webhook(&facts(PipelineRunState::Failed));
        assert_eq!(hook["failed_step"], "load");
        assert_eq!(hook["failed_cell"], 3);
        assert_eq!(hook["pipeline_run_url"], "http://h/pipeline-runs/pip.run");
    }

    #[test]
    fn a_succeeded_run_has_no_failing_step_and_discord_never_mentions() {
        let ok = facts(PipelineRunState::Succeeded);
        assert_eq!(slack(&ok)["text"], "✅ sales/daily (pip.run) succeeded in 1 min 5 s");
        assert_eq!(webhook(&ok)["failed_step"], Value::Null);
        let body = discord(&facts(PipelineRunState::Failed));
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        for field in body["embeds"][0]["fields"].as_array().unwrap() {
            assert!(field["value"].as_str().unwrap().chars().count() <= 1024, "{field}");
        }
    }
}
