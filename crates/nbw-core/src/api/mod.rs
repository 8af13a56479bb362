//! The `/v1` API's data types, shared by the server, the client, the agent and the CLI.
//!
//! Times are RFC 3339 UTC; ids are opaque strings. Every error answer is [`ErrorBody`]:
//! `{"error": {"code": "...", "message": "..."}}` with a stable `code`.
//!
//! One module a family of routes: `auth` (users, roles, tokens), `projects` (members,
//! bundles, secrets), `workflows` (schedules, retries, notifications), `executions`, `origin`
//! (an execution id's prefix), `pipelines` (pipelines, their runs and steps), `runtimes` (images and builds), `agents` (what agents call),
//! and `errors` (the error body). Every type is re-exported here.

mod agents;
mod auth;
mod errors;
mod executions;
mod origin;
mod pipelines;
mod projects;
mod runtimes;
mod workflows;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use agents::{
    Agent, AgentCreated, AgentHello, Claim, ClaimRequest, ClaimResponse, Complete, EventBatch, Heartbeat,
    HeartbeatResponse, RegisterAgent,
};
pub use auth::{CreateUser, LoginRequest, RefreshRequest, ResetPassword, Role, Tokens, User};
pub use errors::{ErrorBody, ErrorDetail};
pub use executions::{
    CreateExecution, Delivery, Execution, ExecutionEvent, ExecutionResult, ExecutionSpec, ExecutionState,
    RunWorkflow,
};
pub use origin::Origin;
pub use pipelines::{
    Pipeline, PipelineInput, PipelineRun, PipelineRunState, RerunPipeline, RunPipeline, SharedVolume,
    StepContext, StepRun, StepRunState,
};
pub use projects::{Bundle, CreateProject, Member, Project, SecretName, SetMember, SetSecret};
pub use runtimes::{
    BuildSpec, BuiltImage, ContainerImage, CreateBuild, DOCKER_LABEL, GPU_LABEL, RegisterRuntime, Runtime,
};
pub use workflows::{
    FireError, Misfire, Notification, NotifyChannel, NotifyOn, RetryPolicy, Schedule, Workflow,
    WorkflowInput, WorkflowSpec,
};

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last.
    pub next_cursor: Option<String>,
}
