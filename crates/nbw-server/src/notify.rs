//! Notifications: when an execution ends, each of its workflow's notifications that asks for
//! that outcome becomes a row of the outbox ([`enqueue`]); a background loop ([`spawn`])
//! delivers the rows to Slack, Discord or any webhook, with retries and exponential backoff.
//!
//! Webhook URLs are credentials (anyone holding a Slack or Discord webhook URL can post to the
//! channel), so they live in project secrets: the outbox names the secret, the loop decrypts it
//! just before sending, and no URL ever reaches a log, an error or the API.
//!
//! Delivery is at least once: a server that dies between the receiver's answer and recording
//! it sends the row again after its claim expires.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use nbw_core::api::{Execution, ExecutionState, Notification, NotifyChannel, NotifyOn};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::caller::token_hash;
use crate::db::now_ms;
use crate::secrets;
use crate::state::AppState;
use crate::store::outbox::{self, OutboxRow};

/// How the delivery loop runs. [`Default`] is what the server uses; tests shorten the times.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    /// How often the loop looks for due rows.
    pub tick: Duration,
    /// The wait after the first failed attempt; each further failure doubles it.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// Attempts before a row is given up on (`failed`).
    pub max_attempts: u32,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Rows claimed per pass.
    pub batch: usize,
    /// How long a claimed row is reserved for this loop (longer than `timeout`).
    pub claim: Duration,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        NotifyOptions {
            tick: Duration::from_secs(1),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(15 * 60),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            batch: 32,
            claim: Duration::from_secs(60),
        }
    }
}

impl NotifyOptions {
    /// The wait after `attempts` failed attempts: base, 2 base, 4 base, ... capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.backoff_base.saturating_mul(factor).min(self.backoff_max)
    }
}

/// Sends requests at most this many at a time.
const CONCURRENCY: usize = 8;
/// The most of a receiver's answer kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// Queues the notifications of a finished `execution` (called once, when it reaches its final
/// state; calling again for the same execution adds nothing). A notification whose URL secret
/// does not exist is recorded as `failed` at once, naming the secret.
pub async fn enqueue(
    state: &AppState,
    execution: &Execution,
    workflow_name: Option<&str>,
) -> anyhow::Result<()> {
    if !execution.state.is_final() {
        return Ok(());
    }
    let outcome =
        if execution.state == ExecutionState::Succeeded { NotifyOn::Success } else { NotifyOn::Failure };
    let wanted: Vec<(usize, &Notification)> =
        execution.spec.notifications.iter().enumerate().filter(|(_, n)| n.on.contains(&outcome)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let project = outbox::project_name(&state.db, &execution.project_id)
        .await?
        .unwrap_or_else(|| execution.project_id.clone());
    let facts = Facts::of(execution, &project, workflow_name, &state.config.public_url());
    let now = now_ms();
    for (index, notification) in wanted {
        let (row_state, last_error) =
            match secrets::read_secret(state, &execution.project_id, &notification.url_secret).await {
                Ok(Some(url)) => match check_url(&url) {
                    Ok(()) => (outbox::PENDING, None),
                    Err(problem) => (outbox::FAILED, Some(bad_url(&notification.url_secret, problem))),
                },
                Ok(None) => (outbox::FAILED, Some(missing_secret(&notification.url_secret))),
                // Perhaps readable later: the delivery loop reads it again and decides.
                Err(e) => {
                    tracing::warn!(secret = %notification.url_secret, error = format!("{e:#}"),
                        "could not read a notification's URL secret");
                    (outbox::PENDING, None)
                }
            };
        let row = OutboxRow {
            // Derived from the execution and the notification's place in its spec, so a second
            // enqueue of the same execution collides instead of sending twice.
            id: token_hash(&format!("{}#{index}", execution.id))[..20].to_owned(),
            project_id: execution.project_id.clone(),
            execution_id: Some(execution.id.clone()),
            channel: outbox::channel_name(notification.channel).to_owned(),
            target: notification.url_secret.clone(),
            payload: payload(notification.channel, &facts).to_string(),
            state: row_state.to_owned(),
            attempts: 0,
            next_attempt_at: now,
            last_error,
            created_at: now,
            delivered_at: None,
        };
        if outbox::insert(&state.db, &row).await?
            && let Some(error) = &row.last_error
        {
            tracing::warn!(execution = %execution.id, channel = %row.channel, error = %error, "notification not sent");
        }
    }
    Ok(())
}

fn missing_secret(name: &str) -> String {
    format!("the project secret {name:?} named by url_secret does not exist: set it to the webhook URL")
}

fn bad_url(name: &str, problem: &str) -> String {
    format!("the project secret {name:?} does not hold a usable webhook URL: {problem}")
}

/// Whether `url` is an absolute http(s) URL; the reason (never the URL) when not.
fn check_url(url: &str) -> Result<(), &'static str> {
    match url::Url::parse(url.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => Ok(()),
        Ok(_) => Err("it must be an http:// or https:// URL"),
        Err(_) => Err("it is not a URL"),
    }
}

/// Starts the delivery loop with the default options; it stops when `shutdown` is cancelled.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    spawn_with(state, shutdown, NotifyOptions::default())
}

/// Starts the delivery loop with `options`.
pub fn spawn_with(state: AppState, shutdown: CancellationToken, options: NotifyOptions) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = match http_client(&options) {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "the notification HTTP client could not be built; notifications are off");
                return;
            }
        };
        loop {
            let claimed = tokio::select! {
                _ = shutdown.cancelled() => break,
                pass = deliver_due(&state, &client, &options) => match pass {
                    Ok(claimed) => claimed,
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), "notification outbox pass failed");
                        0
                    }
                },
            };
            // A full batch suggests more are due: go again at once.
            if claimed < options.batch {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(options.tick) => {}
                }
            }
        }
    })
}

fn http_client(options: &NotifyOptions) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(options.timeout)
        .user_agent(concat!("nbw/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One pass of the loop: claims the due rows and attempts each. Returns how many it claimed.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
    options: &NotifyOptions,
) -> anyhow::Result<usize> {
    let now = now_ms();
    let claim_until = now + millis(options.claim.max(options.timeout * 2));
    let limit = i64::try_from(options.batch).unwrap_or(i64::MAX);
    let rows = outbox::claim_due(&state.db, now, claim_until, limit).await?;
    let claimed = rows.len();
    futures::stream::iter(rows)
        .for_each_concurrent(CONCURRENCY, |row| attempt(state, client, options, row))
        .await;
    Ok(claimed)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}

/// What one attempt came to.
enum Outcome {
    /// The receiver accepted it.
    Delivered,
    /// Worth another try (after at least the given wait, when the receiver asked for one).
    Retry(String, Option<Duration>),
    /// Retrying cannot help.
    Final(String),
}

async fn attempt(state: &AppState, client: &reqwest::Client, options: &NotifyOptions, row: OutboxRow) {
    let attempts = row.attempts + 1;
    let attempts_left = attempts < i64::from(options.max_attempts);
    let recorded = match send(state, client, options, &row).await {
        Outcome::Delivered => {
            tracing::info!(delivery = %row.id, channel = %row.channel, attempts, "notification delivered");
            outbox::mark_delivered(&state.db, &row.id, attempts, now_ms()).await
        }
        Outcome::Retry(error, at_least) if attempts_left => {
            let wait = options.backoff(u32::try_from(attempts).unwrap_or(u32::MAX));
            let wait = at_least.map_or(wait, |asked| wait.max(asked.min(options.backoff_max)));
            tracing::info!(delivery = %row.id, channel = %row.channel, attempts, error = %error,
                retry_in_ms = millis(wait), "notification attempt failed; will retry");
            let next = now_ms() + millis(wait);
            outbox::mark_attempt_failed(&state.db, &row.id, attempts, &error, Some(next)).await
        }
        Outcome::Retry(error, _) | Outcome::Final(error) => {
            tracing::warn!(delivery = %row.id, channel = %row.channel, attempts, error = %error,
                "notification failed; giving up");
            outbox::mark_attempt_failed(&state.db, &row.id, attempts, &error, None).await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(delivery = %row.id, error = %e, "could not record a notification attempt");
    }
}

/// POSTs the row's payload to the URL its secret holds.
async fn send(
    state: &AppState,
    client: &reqwest::Client,
    options: &NotifyOptions,
    row: &OutboxRow,
) -> Outcome {
    let url = match secrets::read_secret(state, &row.project_id, &row.target).await {
        Ok(Some(url)) => url.trim().to_owned(),
        Ok(None) => return Outcome::Final(missing_secret(&row.target)),
        Err(e) => {
            return Outcome::Retry(
                format!("could not read the project secret {:?}: {e:#}", row.target),
                None,
            );
        }
    };
    if let Err(problem) = check_url(&url) {
        return Outcome::Final(bad_url(&row.target, problem));
    }
    let request = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(row.payload.clone())
        .send();
    let response = match request.await {
        Ok(response) => response,
        Err(e) => return Outcome::Retry(scrub(&describe(e, options.timeout), &url), None),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.text().await.unwrap_or_default();
    let error = scrub(&status_error(status, &body), &url);
    // A client error other than "timeout" and "slow down" will not change by itself.
    if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
        Outcome::Final(error)
    } else {
        Outcome::Retry(error, retry_after)
    }
}

/// `HTTP 500 Internal Server Error: <at most 200 characters of the body>`.
fn status_error(status: reqwest::StatusCode, body: &str) -> String {
    let body: String = body.trim().chars().take(ERROR_BODY_CHARS).collect();
    let status = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if body.is_empty() { status } else { format!("{status}: {body}") }
}

/// A request failure in words, without its URL.
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut text =
        if error.is_connect() { "could not connect".to_owned() } else { "request failed".to_owned() };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Removes the URL (and its path, which is the secret part of Slack's and Discord's) from a
/// message, whatever echoed it.
fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "<webhook URL>");
    if let Ok(parsed) = url::Url::parse(url) {
        let path = parsed.path();
        if path.len() > 1 {
            out = out.replace(path, "<webhook path>");
        }
        if let Some(query) = parsed.query().filter(|q| !q.is_empty()) {
            out = out.replace(query, "<webhook query>");
        }
    }
    out
}

/// What a notification says, whatever the channel.
#[derive(Debug, Clone)]
struct Facts {
    execution_id: String,
    project: String,
    workflow: Option<String>,
    notebook: String,
    state: ExecutionState,
    duration_ms: Option<f64>,
    message: Option<String>,
    failed_cell: Option<u64>,
    failed_source: Option<String>,
    output_url: Option<String>,
    execution_url: String,
    attempt: u32,
    finished_at: Option<DateTime<Utc>>,
}

impl Facts {
    fn of(execution: &Execution, project: &str, workflow: Option<&str>, public_url: &str) -> Facts {
        let result = execution.result.as_ref();
        let duration_ms = result.and_then(|r| r.duration_ms).or_else(|| {
            let (start, end) = (execution.started_at?, execution.finished_at?);
            Some((end - start).num_milliseconds().max(0) as f64)
        });
        let execution_url = format!("{public_url}/v1/executions/{}", execution.id);
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
            output_url: execution.has_output.then(|| format!("{execution_url}/output")),
            execution_url,
            attempt: execution.attempt,
            finished_at: execution.finished_at,
        }
    }

    fn succeeded(&self) -> bool {
        self.state == ExecutionState::Succeeded
    }

    /// `project/workflow`, or `project/notebook.ipynb` for a run of a bare notebook.
    fn name(&self) -> String {
        format!("{}/{}", self.project, self.workflow.as_deref().unwrap_or(&self.notebook))
    }

    /// `succeeded in 3.2 s`, `failed after 1 min 5 s`, `timed out`...
    fn outcome(&self) -> String {
        let verb = match self.state {
            ExecutionState::Succeeded => "succeeded",
            ExecutionState::TimedOut => "timed out",
            ExecutionState::Cancelled => "was cancelled",
            ExecutionState::Lost => "was lost",
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

fn human_duration(ms: f64) -> String {
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
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The body for `channel`.
fn payload(channel: NotifyChannel, facts: &Facts) -> Value {
    match channel {
        NotifyChannel::Slack => slack(facts),
        NotifyChannel::Discord => discord(facts),
        NotifyChannel::Webhook => webhook(facts),
    }
}

/// Slack's mrkdwn: `&`, `<` and `>` are escaped (a raw `<!channel>` in an error message must not
/// ping anyone).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A code block that text cannot close early.
fn code_block(text: &str) -> String {
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
fn discord_escape(text: &str) -> String {
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
    let mut embed = json!({
        "title": format!("{} {}", facts.name(), facts.outcome()),
        "url": facts.execution_url,
        "color": if facts.succeeded() { 0x2e_b8_86 } else { 0xd0_30_30 },
        "fields": fields,
    });
    if let Some(finished) = facts.finished_at {
        embed["timestamp"] = json!(finished.to_rfc3339());
    }
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
        "finished_at": facts.finished_at,
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
            output_url: Some("http://h/v1/executions/sch.abc/output".into()),
            execution_url: "http://h/v1/executions/sch.abc".into(),
            attempt: 1,
            finished_at: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let options = NotifyOptions::default();
        let waits: Vec<u64> = (1..=9).map(|n| options.backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 900]);
        assert_eq!(options.backoff(u32::MAX), options.backoff_max);
    }

    #[test]
    fn errors_keep_the_status_and_200_characters_and_never_the_url() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET?token=abc";
        let body = format!("{url} {}", "y".repeat(500));
        let error = scrub(&status_error(reqwest::StatusCode::NOT_FOUND, &body), url);
        assert!(error.starts_with("HTTP 404 Not Found: <webhook URL> yyy"), "{error}");
        assert!(!error.contains("XXXXSECRET") && !error.contains("token=abc"));
        assert!(error.chars().count() <= "HTTP 404 Not Found: ".len() + 200);
        let partial = scrub("no such hook /services/T000/B000/XXXXSECRET", url);
        assert_eq!(partial, "no such hook <webhook path>");
        assert_eq!(status_error(reqwest::StatusCode::BAD_GATEWAY, "  "), "HTTP 502 Bad Gateway");
    }

    #[test]
    fn slack_messages_escape_mentions_and_keep_code_blocks_closed() {
        let body = slack(&facts(ExecutionState::Failed));
        let text = body.to_string();
        assert_eq!(body["text"], "❌ sales/nightly_report failed after 3.2 s");
        assert!(text.contains("&lt;!channel&gt; &amp; co"), "{text}");
        assert!(!text.contains("<!channel>"));
        assert!(text.contains("*Failing cell 3*"));
        assert!(text.contains("<http://h/v1/executions/sch.abc/output|Output notebook>"));
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

    #[test]
    fn only_absolute_http_urls_are_webhooks() {
        assert!(check_url("https://discord.com/api/webhooks/1/x").is_ok());
        assert!(check_url(" http://127.0.0.1:9/hook \n").is_ok());
        assert!(check_url("ftp://x/y").is_err());
        assert!(check_url("hooks.slack.com/services/x").is_err());
    }
}
