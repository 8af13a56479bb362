//! Notifications: when an execution ends, each of its workflow's notifications that asks for
//! that outcome becomes a row of the outbox ([`enqueue`]), and likewise when a pipeline run
//! ends ([`enqueue_pipeline_run`]: one message per run); a background loop ([`spawn`])
//! delivers the rows to Slack, Discord or any webhook, with retries and exponential backoff.
//!
//! Webhook URLs are credentials (anyone holding a Slack or Discord webhook URL can post to the
//! channel), so they live in project secrets: the outbox names the secret, the loop decrypts it
//! just before sending, and no URL ever reaches a log, an error or the API.
//!
//! Delivery is at least once: a server that dies between the receiver's answer and recording
//! it sends the row again after its claim expires.

use std::time::Duration;

use futures::StreamExt;
use nbw_core::api::{Execution, ExecutionState, Notification, NotifyChannel, NotifyOn, PipelineRunState};
use nbw_core::project::NotificationEntry;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::caller::token_hash;
use crate::db::now_ms;
use crate::secrets;
use crate::state::AppState;
use crate::store::outbox::{self, OutboxRow};
use crate::store::pipelines::RunRow;

mod message;
mod pipeline;

use message::{Facts, payload};
use pipeline::RunFacts;

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
    let wanted = wanted(&execution.spec.notifications, execution.state == ExecutionState::Succeeded);
    if wanted.is_empty() {
        return Ok(());
    }
    let project = project_name(state, &execution.project_id).await?;
    let facts = Facts::of(execution, &project, workflow_name, &state.config.public_url());
    let about =
        About { project_id: &execution.project_id, execution_id: Some(&execution.id), key: &execution.id };
    insert_rows(state, &about, &wanted, |channel| payload(channel, &facts)).await
}

/// Queues the notifications of a pipeline run that ended (one message per run, whatever its
/// steps' own notifications do); calling again for the same run adds nothing.
pub async fn enqueue_pipeline_run(state: &AppState, run: &RunRow) -> anyhow::Result<()> {
    let ended = run.state();
    if !ended.is_final() {
        return Ok(());
    }
    let notifications: Vec<Notification> =
        run.spec().notifications.iter().map(NotificationEntry::to_api).collect();
    let wanted = wanted(&notifications, ended == PipelineRunState::Succeeded);
    if wanted.is_empty() {
        return Ok(());
    }
    let project = project_name(state, &run.project_id).await?;
    let facts = RunFacts::of(state, run, &project).await?;
    let key = format!("{}#run", run.id);
    let about = About { project_id: &run.project_id, execution_id: None, key: &key };
    insert_rows(state, &about, &wanted, |channel| pipeline::payload(channel, &facts)).await
}

/// The notifications that ask for this outcome, with their place in the list.
fn wanted(notifications: &[Notification], succeeded: bool) -> Vec<(usize, &Notification)> {
    let outcome = if succeeded { NotifyOn::Success } else { NotifyOn::Failure };
    notifications.iter().enumerate().filter(|(_, n)| n.on.contains(&outcome)).collect()
}

async fn project_name(state: &AppState, project_id: &str) -> anyhow::Result<String> {
    Ok(outbox::project_name(&state.db, project_id).await?.unwrap_or_else(|| project_id.to_owned()))
}

/// What outbox rows are about.
struct About<'a> {
    project_id: &'a str,
    execution_id: Option<&'a str>,
    /// Unique to the thing that ended: with the notification's place, the row's id.
    key: &'a str,
}

/// One outbox row per notification, its payload from `payload_of`.
async fn insert_rows(
    state: &AppState,
    about: &About<'_>,
    wanted: &[(usize, &Notification)],
    payload_of: impl Fn(NotifyChannel) -> serde_json::Value,
) -> anyhow::Result<()> {
    let now = now_ms();
    for &(index, notification) in wanted {
        let (row_state, last_error) =
            match secrets::read_secret(state, about.project_id, &notification.url_secret).await {
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
            // Derived from what ended and the notification's place in its list, so a second
            // enqueue of the same end collides instead of sending twice.
            id: token_hash(&format!("{}#{index}", about.key))[..20].to_owned(),
            project_id: about.project_id.to_owned(),
            execution_id: about.execution_id.map(str::to_owned),
            channel: outbox::channel_name(notification.channel).to_owned(),
            target: notification.url_secret.clone(),
            payload: payload_of(notification.channel).to_string(),
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
            tracing::warn!(about = %about.key, channel = %row.channel, error = %error, "notification not sent");
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn only_absolute_http_urls_are_webhooks() {
        assert!(check_url("https://discord.com/api/webhooks/1/x").is_ok());
        assert!(check_url(" http://127.0.0.1:9/hook \n").is_ok());
        assert!(check_url("ftp://x/y").is_err());
        assert!(check_url("hooks.slack.com/services/x").is_err());
    }
}
