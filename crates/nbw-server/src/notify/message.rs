//! What a notification says: the facts of a finished execution, and the message each channel
//! gets (Slack blocks, a Discord embed, a plain webhook's JSON), escaped so that no text of a
//! run can mention a channel or break the message's layout.

use chrono::{DateTime, Utc};
use nbw_core::api::{Execution, ExecutionState, NotifyChannel, StepContext};
use serde_json::{Value, json};

/// What a notification says, whatever the channel.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    execution_id: String,
    project: String,
    workflow: Option<String>,
    notebook: String,
    state: ExecutionState,
    duration_ms: Option<f64>,
    message: Option<String>,
    failed_cell: Option<u64>,
    failed_source: Option<String>,
    /// The output notebook's download on the web UI.
    output_url: Option<String>,
    /// The execution's page on the web UI: what a person clicks.
    execution_url: String,
    /// The execution in the API (JSON), for a webhook's program.
    api_url: String,
    attempt: u32,
    finished_at: Option<DateTime<Utc>>,
    /// The pipeline run and step the execution runs, if it runs one.
    step: Option<StepContext>,
}

impl Facts {
    pub(super) fn of(
        execution: &Execution,
        project: &str,
        workflow: Option<&str>,
        public_url: &str,
    ) -> Facts {
        let result = execution.result.as_ref();
        let duration_ms = result.and_then(|r| r.duration_ms).or_else(|| {
            let (start, end) = (execution.started_at?, execution.finished_at?);
            Some((end - start).num_milliseconds().max(0) as f64)
        });
        let execution_url = format!("{public_url}/executions/{}", execution.id);
        Facts {
            execution_id: execution.id.clone(),
            project: project.to_owned(),
            workflow: workflow.map(str::to_owned),
            notebook: execution.spec.notebook.clone(),
            state: execution.state,
            duration_ms,
            message: result.and_then(|r| r.message.clone()),
            failed_cell: result.and_then(|r| r.failed_cell),
            failed_source: result.and_then(|r| r.failed_source.clone()),
            output_url: execution.has_output.then(|| format!("{execution_url}/download")),
            execution_url,
            api_url: format!("{public_url}/v1/executions/{}", execution.id),
            attempt: execution.attempt,
            finished_at: execution.finished_at,
            step: execution.spec.step.clone(),
        }
    }

    fn succeeded(&self) -> bool {
        self.state == ExecutionState::Succeeded
    }

    /// `project/workflow`, or `project/notebook.ipynb` for a run of a bare notebook; for a
    /// pipeline's step, `project/pipeline step NAME (pip.ID)`: the failing step of which run.
    fn name(&self) -> String {
        match &self.step {
            Some(step) => {
                format!("{}/{} step {} ({})", self.project, step.pipeline, step.step, step.pipeline_run_id)
            }
            None => format!("{}/{}", self.project, self.workflow.as_deref().unwrap_or(&self.notebook)),
        }
    }

    /// `succeeded in 3.2 s`, `failed after 1 min 5 s`, `timed out`...
    fn outcome(&self) -> String {
        let verb = match self.state {
            ExecutionState::Succeeded => "succeeded",
            ExecutionState::TimedOut => "timed out",
            ExecutionState::Cancelled => "was cancelled",
            ExecutionState::Lost => "was lost",
            ExecutionState::Expired => "expired in the queue",
            _ => "failed",
        };
        match self.duration_ms {
            Some(ms) if self.succeeded() => format!("{verb} in {}", human_duration(ms)),
            Some(ms) => format!("{verb} after {}", human_duration(ms)),
            None => verb.to_owned(),
        }
    }

    fn icon(&self) -> &'static str {
        if self.succeeded() { "✅" } else { "❌" }
    }
}

pub(super) fn human_duration(ms: f64) -> String {
    let secs = ms / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{} min {} s", (secs / 60.0).floor(), (secs % 60.0).floor())
    } else {
        format!("{} h {} min", (secs / 3600.0).floor(), ((secs % 3600.0) / 60.0).floor())
    }
}

/// At most `max` characters, with an ellipsis when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The body for `channel`.
pub(super) fn payload(channel: NotifyChannel, facts: &Facts) -> Value {
    match channel {
        NotifyChannel::Slack => slack(facts),
        NotifyChannel::Discord => discord(facts),
        NotifyChannel::Webhook => webhook(facts),
    }
}

/// Slack's mrkdwn: `&`, `<` and `>` are escaped (a raw `<!channel>` in an error message must not
/// ping anyone).
pub(super) fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A code block that text cannot close early.
pub(super) fn code_block(text: &str) -> String {
    format!("```{}```", text.replace("```", "`\u{200b}``"))
}

fn slack(facts: &Facts) -> Value {
    let headline = format!("{} {} {}", facts.icon(), facts.name(), facts.outcome());
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Project*\n{}", slack_escape(&facts.project))}),
        json!({"type": "mrkdwn", "text": format!("*Workflow*\n{}", slack_escape(facts.workflow.as_deref().unwrap_or("-")))}),
        json!({"type": "mrkdwn", "text": format!("*State*\n{}", facts.state.as_str())}),
    ];
    if let Some(ms) = facts.duration_ms {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Duration*\n{}", human_duration(ms))}));
    }
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("{} *{}* {}", facts.icon(), slack_escape(&facts.name()), facts.outcome())}}),
        json!({"type": "section", "fields": fields}),
    ];
    // Slack refuses a section text over 3000 characters.
    if let Some(message) = &facts.message {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Error*\n{}", code_block(&slack_escape(&truncate(message, 1200))))}}));
    }
    if let Some(source) = &facts.failed_source {
        let title = match facts.failed_cell {
            Some(cell) => format!("*Failing cell {cell}*"),
            None => "*Failing cell*".to_owned(),
        };
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("{title}\n{}", code_block(&slack_escape(&truncate(source, 1500))))}}));
    }
    let mut links =
        vec![format!("<{}|Execution {}>", facts.execution_url, slack_escape(&facts.execution_id))];
    if let Some(output) = &facts.output_url {
        links.insert(0, format!("<{output}|Output notebook>"));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]}));
    json!({"text": slack_escape(&headline), "blocks": blocks})
}

/// Discord markdown: the characters that format are escaped.
/// A Discord embed: green for a success, red otherwise, stamped with the end time when known.
pub(super) fn discord_embed(
    title: String,
    url: &str,
    succeeded: bool,
    fields: Vec<Value>,
    finished_at: Option<DateTime<Utc>>,
) -> Value {
    let mut embed = json!({
        "title": title,
        "url": url,
        "color": if succeeded { 0x2e_b8_86 } else { 0xd0_30_30 },
        "fields": fields,
    });
    if let Some(finished) = finished_at {
        embed["timestamp"] = json!(finished.to_rfc3339());
    }
    embed
}

pub(super) fn discord_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '_' | '~' | '`' | '|' | '>' | '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn discord(facts: &Facts) -> Value {
    let mut fields = vec![
        json!({"name": "Project", "value": discord_escape(&facts.project), "inline": true}),
        json!({"name": "Workflow", "value": discord_escape(facts.workflow.as_deref().unwrap_or("-")), "inline": true}),
        json!({"name": "State", "value": facts.state.as_str(), "inline": true}),
    ];
    if let Some(ms) = facts.duration_ms {
        fields.push(json!({"name": "Duration", "value": human_duration(ms), "inline": true}));
    }
    // Discord refuses a field value over 1024 characters.
    if let Some(message) = &facts.message {
        fields.push(json!({"name": "Error", "value": code_block(&truncate(message, 900))}));
    }
    if let Some(source) = &facts.failed_source {
        let name = match facts.failed_cell {
            Some(cell) => format!("Failing cell {cell}"),
            None => "Failing cell".to_owned(),
        };
        fields.push(json!({"name": name, "value": code_block(&truncate(source, 900))}));
    }
    let mut links = vec![format!("[Execution {}]({})", facts.execution_id, facts.execution_url)];
    if let Some(output) = &facts.output_url {
        links.insert(0, format!("[Output notebook]({output})"));
    }
    fields.push(json!({"name": "Links", "value": links.join(" · ")}));
    let title = format!("{} {}", facts.name(), facts.outcome());
    let embed = discord_embed(title, &facts.execution_url, facts.succeeded(), fields, facts.finished_at);
    json!({
        "content": format!("{} **{}** {}", facts.icon(), discord_escape(&facts.name()), facts.outcome()),
        "embeds": [embed],
        // Text from a notebook must never ping @everyone or anyone else.
        "allowed_mentions": {"parse": []},
    })
}

fn webhook(facts: &Facts) -> Value {
    json!({
        "event": "execution.finished",
        "execution_id": facts.execution_id,
        "project": facts.project,
        "workflow": facts.workflow,
        "notebook": facts.notebook,
        "state": facts.state.as_str(),
        "succeeded": facts.succeeded(),
        "attempt": facts.attempt,
        "duration_ms": facts.duration_ms,
        "message": facts.message,
        "failed_cell": facts.failed_cell,
        "failed_source": facts.failed_source,
        "output_url": facts.output_url,
        "execution_url": facts.execution_url,
        "api_url": facts.api_url,
        "finished_at": facts.finished_at,
        "pipeline": facts.step.as_ref().map(|s| &s.pipeline),
        "pipeline_run_id": facts.step.as_ref().map(|s| &s.pipeline_run_id),
        "step": facts.step.as_ref().map(|s| &s.step),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: ExecutionState) -> Facts {
        Facts {
            execution_id: "sch.abc".into(),
            project: "sales".into(),
            workflow: Some("nightly_report".into()),
            notebook: "nb/report.ipynb".into(),
            state,
            duration_ms: Some(3_250.0),
            message: Some("ZeroDivisionError: <!channel> & co".into()),
            failed_cell: Some(3),
            failed_source: Some("x = 1 / 0\n```".into()),
            output_url: Some("http://h/executions/sch.abc/download".into()),
            execution_url: "http://h/executions/sch.abc".into(),
            api_url: "http://h/v1/executions/sch.abc".into(),
            attempt: 1,
            finished_at: None,
            step: None,
        }
    }

    #[test]
    fn a_pipeline_steps_message_names_the_run_the_step_and_the_cell() {
        let mut failed = facts(ExecutionState::Failed);
        failed.step = Some(StepContext {
            pipeline_run_id: "pip.xyz".into(),
            pipeline: "daily".into(),
            step: "load".into(),
            shared: None,
        });
        let body = slack(&failed);
        assert_eq!(body["text"], "❌ sales/daily step load (pip.xyz) failed after 3.2 s");
        assert!(body.to_string().contains("*Failing cell 3*"));
        let hook = webhook(&failed);
        assert_eq!(
            (hook["pipeline_run_id"].as_str(), hook["step"].as_str()),
            (Some("pip.xyz"), Some("load"))
        );
        assert_eq!(webhook(&facts(ExecutionState::Failed))["pipeline_run_id"], Value::Null);
    }

    #[test]
    fn slack_messages_escape_mentions_and_keep_code_blocks_closed() {
        let body = slack(&facts(ExecutionState::Failed));
        let text = body.to_string();
        assert_eq!(body["text"], "❌ sales/nightly_report failed after 3.2 s");
        assert!(text.contains("&lt;!channel&gt; &amp; co"), "{text}");
        assert!(!text.contains("<!channel>"));
        assert!(text.contains("*Failing cell 3*"));
        assert!(text.contains("<http://h/executions/sch.abc/download|Output notebook>"));
        assert!(
            text.contains("<http://h/executions/sch.abc|Execution sch.abc>"),
            "the page is linked: {text}"
        );
        let error_block = body["blocks"][3]["text"]["text"].as_str().unwrap();
        assert!(error_block.ends_with("```") && error_block.matches("```").count() == 2, "{error_block}");
    }

    #[test]
    fn discord_messages_never_mention_and_fit_their_limits() {
        let mut failed = facts(ExecutionState::TimedOut);
        failed.failed_source = Some("x".repeat(5000));
        let body = discord(&failed);
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(body["content"], "❌ **sales/nightly\\_report** timed out after 3.2 s");
        for field in body["embeds"][0]["fields"].as_array().unwrap() {
            assert!(field["value"].as_str().unwrap().chars().count() <= 1024, "{field}");
        }
        let ok = discord(&facts(ExecutionState::Succeeded));
        assert_eq!(ok["embeds"][0]["color"], 0x2eb886);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(3_250.0), "3.2 s");
        assert_eq!(human_duration(65_000.0), "1 min 5 s");
        assert_eq!(human_duration(7_380_000.0), "2 h 3 min");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
