//! The `/v1` API's data types, shared by the server, the client, the agent and the CLI.
//!
//! Times are RFC 3339 UTC; ids are opaque strings. Every error answer is [`ErrorBody`]:
//! `{"error": {"code": "...", "message": "..."}}` with a stable `code`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::params::Parameters;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable machine-readable code and a message for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `not_found`, `invalid_request`, `conflict`, `unauthorized`.
    pub code: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

/// A member's role in a project: owners manage members and secrets, editors change workflows
/// and run things, viewers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Read, run, change workflows and bundles.
    Editor,
    /// Everything, including members and secrets.
    Owner,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    /// Parses a stored role name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Server administrators may create users and agents.
    pub is_admin: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/users` (administrators only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name: 1 to 64 of `A-Za-z0-9_.-@`.
    pub username: String,
    /// At least 8 characters.
    pub password: String,
    /// Make the user an administrator.
    #[serde(default)]
    pub is_admin: bool,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// Tokens given by a login or a refresh.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// Opaque, single-use: a refresh returns a new one; reusing an old one revokes them all.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

/// A project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The caller's role in it.
    pub role: Role,
}

/// `POST /v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Unique name: 1 to 64 of `a-z0-9_-`, starting with a letter or digit.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// A project member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// User id.
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
}

/// `PUT /v1/projects/{project}/members/{username}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    /// The role to give.
    pub role: Role,
}

/// An uploaded project bundle (tar or zip of the project folder).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bundle {
    /// Id.
    pub id: String,
    /// Version label, unique in the project.
    pub version: String,
    /// `sha256:<hex>` of the archive: bundles are stored and cached by it.
    pub digest: String,
    /// `tar`, `tar.gz` or `zip`.
    pub format: String,
    /// Size in bytes.
    pub size: u64,
    /// The `.ipynb` paths it holds.
    pub notebooks: Vec<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

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
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Where an execution came from; its id starts with this prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `web.`: the web page or a direct API call.
    Web,
    /// `sch.`: the scheduler.
    Schedule,
    /// `cli.`: the command line.
    Cli,
    /// `pip.`: a pipeline step.
    Pipeline,
    /// `rty.`: a retry of an earlier attempt.
    Retry,
}

impl Origin {
    /// The id prefix, e.g. `sch`.
    pub fn prefix(self) -> &'static str {
        match self {
            Origin::Web => "web",
            Origin::Schedule => "sch",
            Origin::Cli => "cli",
            Origin::Pipeline => "pip",
            Origin::Retry => "rty",
        }
    }

    /// The origin an id's prefix names.
    pub fn of_id(id: &str) -> Option<Origin> {
        [Origin::Web, Origin::Schedule, Origin::Cli, Origin::Pipeline, Origin::Retry]
            .into_iter()
            .find(|o| id.strip_prefix(o.prefix()).is_some_and(|rest| rest.starts_with('.')))
    }

    /// A new execution id of this origin: the prefix, a dot, 20 random base-32 characters.
    pub fn new_id(self) -> String {
        format!("{}.{}", self.prefix(), crate::ids::random_id())
    }
}

/// The life of an execution: `queued -> running -> succeeded | failed | timed_out | cancelled
/// | lost`.
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
    /// Longest run time in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Longest time per cell in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_timeout_secs: Option<u64>,
    /// Retry policy.
    #[serde(default)]
    pub retries: RetryPolicy,
    /// Notifications.
    #[serde(default)]
    pub notifications: Vec<Notification>,
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
}

/// The label an execution in a container (or a build) requires: agents started with Docker
/// enabled add it to their own labels.
pub const DOCKER_LABEL: (&str, &str) = ("nbw.executor", "docker");

/// The runtime image an execution runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContainerImage {
    /// Runtime name.
    pub runtime: String,
    /// Runtime version.
    pub version: String,
    /// Image reference, e.g. `nbw/sales/default:v3`.
    pub image: String,
    /// The image id the build produced, when known: the agent checks it has that very image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

/// A runtime build: which runtime of the bundle's `nbw.yaml`, and the tag to give the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuildSpec {
    /// Runtime name.
    pub runtime: String,
    /// The tag, `nbw/<project>/<runtime>:<version>`.
    pub image: String,
}

/// A built runtime image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuiltImage {
    /// The tag it was given (or the registry reference it was pushed to).
    pub image: String,
    /// The image id (`sha256:...`).
    pub image_id: String,
    /// SHA-256 of the Dockerfile it was built from.
    pub dockerfile_hash: String,
}

/// `POST /v1/projects/{project}/runtimes/{name}/builds`: build a runtime on an agent with Docker.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuild {
    /// Bundle version to build from; the latest when absent. It is also the image's version.
    #[serde(default)]
    pub bundle_version: Option<String>,
    /// `web` (default) or `cli`: the id's prefix.
    #[serde(default)]
    pub origin: Option<Origin>,
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

/// `POST /v1/agents` (administrators): register an agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterAgent {
    /// A name for people.
    pub name: String,
    /// Labels; an agent runs only executions whose labels it has.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// An agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// Last heartbeat or claim.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Whether its token was revoked.
    pub revoked: bool,
}

/// A newly registered agent and its token, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentCreated {
    /// The agent.
    pub agent: Agent,
    /// The token for `Authorization: Bearer`; stored hashed, shown only now.
    pub token: String,
}

/// A runtime image version registered for a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Runtime {
    /// Id.
    pub id: String,
    /// Runtime name from the project file.
    pub name: String,
    /// Version (from the bundle).
    pub version: String,
    /// Image reference, e.g. `nbw/proj/default:v1`.
    pub image: String,
    /// Hash of the Dockerfile it was built from.
    pub dockerfile_hash: Option<String>,
    /// The image id the build produced.
    pub image_id: Option<String>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/projects/{project}/runtimes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRuntime {
    /// Runtime name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Image reference.
    pub image: String,
    /// Hash of the Dockerfile.
    #[serde(default)]
    pub dockerfile_hash: Option<String>,
    /// Image id.
    #[serde(default)]
    pub image_id: Option<String>,
}

/// A secret as listed: its name only, never its value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretName {
    /// Name (an environment variable name).
    pub name: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `PUT /v1/projects/{project}/secrets/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSecret {
    /// The value; it is stored encrypted and only ever sent to the agent running the project.
    pub value: String,
}

/// `POST /v1/agent/claim`: what an agent can take.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// How long to wait for work, in seconds (at most 30).
    #[serde(default)]
    pub wait_secs: Option<u64>,
}

/// An execution handed to an agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Claim {
    /// The execution.
    pub execution: Execution,
    /// The project's name.
    pub project: String,
    /// The workflow's name, when it runs one.
    pub workflow: Option<String>,
    /// Where to download the bundle (a path on this server).
    pub bundle_url: String,
    /// The project's secrets, to pass to the kernel as environment variables only.
    pub secrets: BTreeMap<String, String>,
    /// The lease: renew it with heartbeats before this time.
    pub lease_until: DateTime<Utc>,
}

/// The answer to a claim.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimResponse {
    /// The work, or nothing when the wait ended empty.
    pub claim: Option<Claim>,
}

/// `POST /v1/agent/heartbeat`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The executions the agent is running.
    pub running: Vec<String>,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatResponse {
    /// Executions to cancel.
    pub cancel: Vec<String>,
    /// Executions the agent must stop: their lease is gone (lost, or claimed elsewhere).
    pub abandon: Vec<String>,
    /// The renewed lease.
    pub lease_until: DateTime<Utc>,
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

/// `POST /v1/agent/executions/{id}/events`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// Events in order.
    pub events: Vec<ExecutionEvent>,
}

/// `POST /v1/agent/executions/{id}/complete` (the output notebook goes to `PUT .../output`
/// first).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Complete {
    /// How it ended.
    pub result: ExecutionResult,
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

/// `PUT /v1/agent/self`: an agent introduces itself at start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentHello {
    /// Labels replacing the registered ones (`nbw agent --labels`); absent keeps them.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// The agent's nbw version.
    #[serde(default)]
    pub version: Option<String>,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_ids_carry_their_origin() {
        let id = Origin::Schedule.new_id();
        assert!(id.starts_with("sch."));
        assert_eq!(Origin::of_id(&id), Some(Origin::Schedule));
        assert_eq!(Origin::of_id("xyz.abc"), None);
        assert_eq!(Origin::of_id("webx.abc"), None);
    }

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

/// The tag of a runtime image: `nbw/<project>/<runtime>:<version>`, in Docker's alphabet
/// (the runtime name lowercased, characters a tag cannot hold in the version replaced by `-`).
pub fn runtime_image_tag(project: &str, runtime: &str, version: &str) -> String {
    // A tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`: its first character cannot be `.` or `-`,
    // so a bad first character becomes `_`; an empty version is Docker's own default tag.
    let mut tag: String = version
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' => c,
            '.' | '-' if i > 0 => c,
            _ if i == 0 => '_',
            _ => '-',
        })
        .take(128)
        .collect();
    if tag.is_empty() {
        tag.push_str("latest");
    }
    format!("nbw/{project}/{}:{tag}", runtime.to_lowercase())
}

#[cfg(test)]
mod runtime_image_tag_tests {
    use super::runtime_image_tag;

    #[test]
    fn runtime_image_tags_are_in_dockers_alphabet() {
        assert_eq!(runtime_image_tag("sales", "default", "v1.2.0"), "nbw/sales/default:v1.2.0");
        assert_eq!(runtime_image_tag("sales", "GPU", "v1"), "nbw/sales/gpu:v1");
        assert_eq!(runtime_image_tag("sales", "default", "1.0+build/7 é"), "nbw/sales/default:1.0-build-7--");
        assert_eq!(runtime_image_tag("sales", "default", ".hidden"), "nbw/sales/default:_hidden");
        assert_eq!(runtime_image_tag("sales", "default", "-x"), "nbw/sales/default:_x");
        assert_eq!(runtime_image_tag("sales", "default", ""), "nbw/sales/default:latest");
        let long = runtime_image_tag("p", "r", &"a".repeat(300));
        assert_eq!(long.rsplit(':').next().unwrap().len(), 128);
    }
}
