//! Workflows: what runs, when (schedules), how often again (retries) and who hears of it
//! (notifications).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::params::{ParameterRules, Parameters, TypedParameter};

/// When a schedule missed fire times (server down), what happens on restart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Misfire {
    /// Missed fire times are dropped; the next one in the future runs.
    #[default]
    Skip,
    /// The missed fire times collapse into one run now.
    RunOnce,
}

/// A workflow's schedule: a cron expression in a time zone, or an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// 5 fields (`min hour dom month dow`), or 6 with seconds first; `@daily` and friends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// IANA time zone for the cron expression (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Run every this many seconds (instead of cron).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// No fire before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    /// No fire after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    /// What to do with fire times missed while no server ran.
    #[serde(default)]
    pub misfire: Misfire,
}

/// Retries of a failed or lost execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts after the first.
    #[serde(default)]
    pub max_retries: u32,
    /// Wait before the first retry.
    #[serde(default = "default_backoff")]
    pub backoff_secs: u64,
    /// Each further retry waits this many times longer.
    #[serde(default = "default_factor")]
    pub backoff_factor: f64,
}

fn default_backoff() -> u64 {
    30
}

fn default_factor() -> f64 {
    2.0
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 0, backoff_secs: default_backoff(), backoff_factor: default_factor() }
    }
}

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    /// A Slack incoming webhook.
    Slack,
    /// A Discord webhook.
    Discord,
    /// Any URL receiving a JSON POST.
    Webhook,
}

/// When a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// The execution succeeded.
    Success,
    /// The execution ended in any other state.
    Failure,
}

/// One notification of a workflow. The webhook URL is a credential (Slack's and Discord's
/// are), so it is named by a project secret and never shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// Slack, Discord or generic webhook.
    pub channel: NotifyChannel,
    /// Name of the project secret holding the URL.
    pub url_secret: String,
    /// On success, on failure, or both (the default).
    #[serde(default = "both")]
    pub on: Vec<NotifyOn>,
}

fn both() -> Vec<NotifyOn> {
    vec![NotifyOn::Success, NotifyOn::Failure]
}

/// What a workflow runs and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// Notebook path inside the bundle.
    pub notebook: String,
    /// Parameters passed to the notebook.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    /// Bundle version to run; the latest upload when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_version: Option<String>,
    /// Runtime name (for the Docker executor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Runtime version; the latest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
    /// Volumes mounted in the runtime container besides the runtime's own: `NAME:/path` (a
    /// named volume) or `/host/path:/path` (a bind mount), `:ro` for read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Labels an agent must have to run it.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Longest run time in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Longest time per cell in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_timeout_secs: Option<u64>,
    /// Longest wait in the queue in seconds (a run queued longer ends `expired`); the server's
    /// `max_queue_secs` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue_secs: Option<u64>,
    /// Refinements of the notebook's parameters (type, choices, bounds, required, pattern),
    /// checked with the types of the parameters cell before a run is queued.
    #[serde(default, skip_serializing_if = "ParameterRules::is_empty")]
    #[schema(value_type = BTreeMap<String, crate::params::ParameterRule>)]
    pub parameter_rules: ParameterRules,
    /// Retries of failed and lost executions.
    #[serde(default)]
    pub retries: RetryPolicy,
    /// Notifications.
    #[serde(default)]
    pub notifications: Vec<Notification>,
    /// When it runs by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

/// `POST /v1/projects/{project}/workflows` and `PUT .../workflows/{name}`: the spec's fields
/// beside `name` and `enabled`. Unknown fields are refused (serde's `deny_unknown_fields` does
/// not work through `flatten`, hence the hand-written `Deserialize`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowInput {
    /// Name, unique in the project: 1 to 64 of `A-Za-z0-9_.-`.
    pub name: String,
    /// Whether the schedule fires (default true).
    pub enabled: bool,
    /// What it runs.
    #[serde(flatten)]
    pub spec: WorkflowSpec,
}

impl<'de> Deserialize<'de> for WorkflowInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::deserialize(deserializer)?;
        let name = fields.remove("name").ok_or_else(|| D::Error::missing_field("name"))?;
        let name = String::deserialize(name).map_err(D::Error::custom)?;
        let enabled = match fields.remove("enabled") {
            Some(value) => bool::deserialize(value).map_err(D::Error::custom)?,
            None => true,
        };
        let spec = WorkflowSpec::deserialize(Value::Object(fields)).map_err(D::Error::custom)?;
        Ok(WorkflowInput { name, enabled, spec })
    }
}

/// A workflow as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether the schedule fires.
    pub enabled: bool,
    /// What it runs.
    #[serde(flatten)]
    pub spec: WorkflowSpec,
    /// The next time the schedule fires, if any.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// Why the schedule's last fire created no run (no bundle, a runtime not built...), until a
    /// later fire creates one.
    #[serde(default)]
    pub last_fire_error: Option<FireError>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The timeout its runs get: its own `timeout_secs`, else the server's default (absent in
    /// lists; set by `GET .../workflows/{name}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_timeout_secs: Option<u64>,
    /// The longest its runs wait in the queue: its own `max_queue_secs`, else the server's
    /// (absent when there is no limit, and in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_max_queue_secs: Option<u64>,
    /// Its notebook's parameters (the parameters cell of the bundle it runs) with their types,
    /// defaults and rules; set by `GET .../workflows/{name}`, absent in lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub typed_parameters: Vec<TypedParameter>,
}

/// A scheduled fire that could not create a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FireError {
    /// The fire time.
    pub at: DateTime<Utc>,
    /// The stable code the API would have answered, e.g. `runtime_not_built`.
    pub code: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_input_flattens_the_spec_and_refuses_unknown_fields() {
        let input: WorkflowInput = serde_json::from_value(serde_json::json!({
            "name": "nightly", "notebook": "a.ipynb", "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}
        }))
        .unwrap();
        assert!(input.enabled);
        assert_eq!(input.spec.schedule.unwrap().misfire, Misfire::Skip);
        let bad = serde_json::from_value::<WorkflowInput>(
            serde_json::json!({"name": "x", "notebook": "a", "bogus": 1}),
        );
        assert!(bad.is_err());
    }
}
