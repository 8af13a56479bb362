//! Executions: what one runs, its states, its events, how it ended and who was told.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::origin::Origin;
use super::pipelines::StepContext;
use super::runtimes::{BuildSpec, BuiltImage, ContainerImage};
use super::workflows::{Notification, NotifyChannel, RetryPolicy};
use crate::params::Parameters;

/// The life of an execution: `queued -> running -> succeeded | failed | timed_out | cancelled
/// | lost`, or `queued -> expired | cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionState {
    /// Waiting for an agent.
    Queued,
    /// Claimed by an agent that holds its lease.
    Running,
    /// Every cell ran.
    Succeeded,
    /// A cell raised, the kernel died, or the output was incomplete.
    Failed,
    /// The timeout stopped it.
    TimedOut,
    /// Cancelled by a user.
    Cancelled,
    /// Its agent stopped renewing the lease.
    Lost,
    /// It waited in the queue longer than its `max_queue_secs`; it never ran.
    Expired,
}

impl ExecutionState {
    /// The state's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionState::Queued => "queued",
            ExecutionState::Running => "running",
            ExecutionState::Succeeded => "succeeded",
            ExecutionState::Failed => "failed",
            ExecutionState::TimedOut => "timed_out",
            ExecutionState::Cancelled => "cancelled",
            ExecutionState::Lost => "lost",
            ExecutionState::Expired => "expired",
        }
    }

    /// Parses a stored state name.
    pub fn parse(text: &str) -> Option<ExecutionState> {
        [
            ExecutionState::Queued,
            ExecutionState::Running,
            ExecutionState::Succeeded,
            ExecutionState::Failed,
            ExecutionState::TimedOut,
            ExecutionState::Cancelled,
            ExecutionState::Lost,
            ExecutionState::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the execution is over.
    pub fn is_final(self) -> bool {
        !matches!(self, ExecutionState::Queued | ExecutionState::Running)
    }
}

/// What an execution runs: resolved at creation, so later edits of the workflow do not change
/// a queued run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionSpec {
    /// Notebook path inside the bundle.
    pub notebook: String,
    /// Parameters.
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    /// The bundle's id.
    pub bundle_id: String,
    /// The bundle's version label.
    pub bundle_version: String,
    /// The bundle's digest (agents cache bundles by it).
    pub bundle_digest: String,
    /// Runtime name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Runtime version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
    /// The runtime image it runs in, resolved when the execution was created; absent, the
    /// agent runs the kernel as a local process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerImage>,
    /// Set on a runtime build: the agent builds this image from the bundle instead of running a
    /// notebook (`notebook` is then `Dockerfile.<runtime>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildSpec>,
    /// Volumes of the workflow (`SOURCE:TARGET[:ro]`), mounted besides the runtime's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Longest run time in seconds. The server records the effective one on every execution
    /// (the run's or workflow's, else the server's `default_timeout_secs`), and agents enforce it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Longest time per cell in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_timeout_secs: Option<u64>,
    /// Longest wait in the queue, in seconds, from when it could first be claimed: a run still
    /// queued then ends `expired`. Absent: it waits as long as it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue_secs: Option<u64>,
    /// Retry policy.
    #[serde(default)]
    pub retries: RetryPolicy,
    /// Notifications.
    #[serde(default)]
    pub notifications: Vec<Notification>,
    /// Set when it runs a step of a pipeline run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepContext>,
}

impl ExecutionSpec {
    /// Whether only an agent with Docker can run it: it runs in a runtime image, or builds one.
    pub fn needs_docker(&self) -> bool {
        self.container.is_some() || self.build.is_some()
    }
}

/// How an execution ended, as its agent reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionResult {
    /// The final state.
    pub state: ExecutionState,
    /// Why, when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Index of the failing cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_cell: Option<u64>,
    /// The failing cell's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_source: Option<String>,
    /// Wall time of the run in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// What a successful runtime build produced; the server registers it as a runtime version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<BuiltImage>,
    /// The JSON object the notebook wrote to the file named by `NBW_RESULT` (every run gets
    /// the variable; pipeline steps pass these values downstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub values: Option<Value>,
    /// Why the `NBW_RESULT` file, present, could not be read as a JSON object (a later step
    /// referencing these values fails with this reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_error: Option<String>,
}

/// An execution.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Execution {
    /// Id, prefixed by its origin (`web.`, `sch.`, `cli.`, `pip.`, `rty.`).
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Workflow id, when it runs a workflow.
    pub workflow_id: Option<String>,
    /// Where it came from.
    pub origin: Origin,
    /// Current state.
    pub state: ExecutionState,
    /// What it runs.
    pub spec: ExecutionSpec,
    /// Agent labels required.
    pub labels: BTreeMap<String, String>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The first attempt's id, for retries.
    pub first_attempt_id: Option<String>,
    /// The previous attempt's id, for retries.
    pub previous_attempt_id: Option<String>,
    /// The schedule's fire time that created it.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The agent running (or that ran) it.
    pub agent_id: Option<String>,
    /// Whether a cancel was asked for.
    pub cancel_requested: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When an agent started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub result: Option<ExecutionResult>,
    /// Whether an output notebook is stored.
    pub has_output: bool,
    /// Still queued at this time, it ends `expired` (from `spec.max_queue_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_deadline: Option<DateTime<Utc>>,
}

/// `POST /v1/projects/{project}/executions`: run a notebook of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExecution {
    /// Notebook path inside the bundle.
    pub notebook: String,
    /// Parameters.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    /// Bundle version; the latest when absent.
    #[serde(default)]
    pub bundle_version: Option<String>,
    /// Agent labels required.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Longest run time in seconds.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Runtime to run in (an agent with Docker runs it in that image).
    #[serde(default)]
    pub runtime: Option<String>,
    /// Runtime version; the latest built when absent.
    #[serde(default)]
    pub runtime_version: Option<String>,
    /// `web` (default) or `cli`: the id's prefix.
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// `POST /v1/projects/{project}/workflows/{name}/run`: run a workflow now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunWorkflow {
    /// Parameters overriding the workflow's.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    /// `web` (default) or `cli`.
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// One stored event of an execution's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionEvent {
    /// 1, 2, 3, ... without gaps; a batch re-sent with the same numbers is ignored.
    pub seq: u64,
    /// The event kind (`run_start`, `cell_start`, `output`, `cell_end`, `run_end`, ...).
    pub kind: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// When it happened.
    pub time: DateTime<Utc>,
}

/// A notification's delivery, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// The execution it is about.
    pub execution_id: Option<String>,
    /// Slack, Discord or webhook.
    pub channel: NotifyChannel,
    /// `pending`, `delivered` or `failed` (gave up).
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}
