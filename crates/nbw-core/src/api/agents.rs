//! Agents: registration, and the routes an agent calls (claim, heartbeat, events, completion).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::executions::{Execution, ExecutionEvent, ExecutionResult};

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
    /// The nbw version it announced when it last started (`None` before its first start).
    #[serde(default)]
    pub version: Option<String>,
    /// Heard from within the last two leases, and not revoked.
    #[serde(default)]
    pub online: bool,
}

/// A newly registered agent and its token, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentCreated {
    /// The agent.
    pub agent: Agent,
    /// The token for `Authorization: Bearer`; stored hashed, shown only now.
    pub token: String,
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
    /// The pipeline shared volumes the agent holds ([`super::SharedVolume::name`]).
    #[serde(default)]
    pub volumes: Vec<String>,
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
    /// Shared volumes, among those the agent holds, whose pipeline run has ended (and whose
    /// keep-on-failure time has passed): the agent removes them.
    #[serde(default)]
    pub remove_volumes: Vec<String>,
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
