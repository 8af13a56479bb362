//! The agent protocol, `/v1/agent/*`, for agent tokens only: claim work (long poll), renew
//! leases, stream events, upload the output notebook, complete, and download bundles. The
//! queue's logic lives in [`crate::queue`].

use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use nbw_core::api::{
    Agent, AgentHello, ClaimRequest, ClaimResponse, Complete, EventBatch, Execution, Heartbeat,
    HeartbeatResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::{AgentCaller, agents};
use crate::error::Error;
use crate::queue;
use crate::state::AppState;
use crate::store::queue as store;

/// Agent protocol routes. The output upload reads its own body with the configured limit.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_output))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(claim))
        .routes(routes!(heartbeat))
        .routes(routes!(post_events))
        .routes(routes!(complete))
        .routes(routes!(download_bundle))
        .routes(routes!(hello))
}

/// An agent introduces itself at start: its labels (when given) replace the registered ones.
#[utoipa::path(put, path = "/v1/agent/self", tag = "agent", security(("bearer" = [])), request_body = AgentHello,
    responses((status = 200, body = Agent), (status = 401, body = nbw_core::api::ErrorBody)))]
async fn hello(
    State(state): State<AppState>,
    agent: AgentCaller,
    Json(input): Json<AgentHello>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(agents::hello(&state, &agent, &input).await?))
}

/// Takes the oldest queued execution whose labels this agent has, waiting up to `wait_secs`
/// (at most 30) for one. The claim carries the spec, where to fetch the bundle, the project's
/// secrets and the lease, which heartbeats must renew.
#[utoipa::path(post, path = "/v1/agent/claim", tag = "agent", security(("bearer" = [])), request_body = ClaimRequest,
    responses((status = 200, body = ClaimResponse), (status = 401, body = nbw_core::api::ErrorBody)))]
async fn claim(
    State(state): State<AppState>,
    agent: AgentCaller,
    Json(request): Json<ClaimRequest>,
) -> ApiResult<Json<ClaimResponse>> {
    let wait = Duration::from_secs(request.wait_secs.unwrap_or(0));
    Ok(Json(ClaimResponse { claim: queue::claim(&state, &agent, wait).await? }))
}

/// Renews the leases of the executions the agent runs; answers which to cancel and which to
/// abandon (no longer held by this agent).
#[utoipa::path(post, path = "/v1/agent/heartbeat", tag = "agent", security(("bearer" = [])), request_body = Heartbeat,
    responses((status = 200, body = HeartbeatResponse)))]
async fn heartbeat(
    State(state): State<AppState>,
    agent: AgentCaller,
    Json(beat): Json<Heartbeat>,
) -> ApiResult<Json<HeartbeatResponse>> {
    Ok(Json(queue::heartbeat(&state, &agent, &beat.running, &beat.volumes).await?))
}

/// Stores a batch of the execution's events (cell events, output chunks). Sequence numbers
/// already stored are ignored, so re-sending a batch is harmless.
#[utoipa::path(post, path = "/v1/agent/executions/{id}/events", tag = "agent", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")), request_body = EventBatch,
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody),
        (status = 409, description = "`lease_lost`: the agent no longer holds the execution", body = nbw_core::api::ErrorBody)))]
async fn post_events(
    State(state): State<AppState>,
    agent: AgentCaller,
    Path(id): Path<String>,
    Json(batch): Json<EventBatch>,
) -> ApiResult<StatusCode> {
    queue::record_events(&state, &agent, &id, &batch.events).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Uploads the output notebook (its JSON is the body), before `complete`.
#[utoipa::path(put, path = "/v1/agent/executions/{id}/output", tag = "agent", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")),
    request_body(content = Vec<u8>, content_type = "application/x-ipynb+json"),
    responses((status = 204), (status = 409, body = nbw_core::api::ErrorBody), (status = 413, body = nbw_core::api::ErrorBody)))]
async fn upload_output(
    State(state): State<AppState>,
    agent: AgentCaller,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    let limit = state.config.max_output_bytes;
    let bytes =
        axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX)).await.map_err(|_| {
            Error::TooLarge(format!(
                "the output notebook is larger than the server's limit of {limit} bytes (max_output_bytes)"
            ))
        })?;
    queue::store_output(&state, &agent, &id, bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the execution with its result. Completing again with the same result is answered the
/// same; a different result is a conflict.
#[utoipa::path(post, path = "/v1/agent/executions/{id}/complete", tag = "agent", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")), request_body = Complete,
    responses((status = 200, body = Execution), (status = 400, body = nbw_core::api::ErrorBody),
        (status = 409, description = "`lease_lost`, or `conflict` (completed with another result)", body = nbw_core::api::ErrorBody)))]
async fn complete(
    State(state): State<AppState>,
    agent: AgentCaller,
    Path(id): Path<String>,
    Json(complete): Json<Complete>,
) -> ApiResult<Json<Execution>> {
    Ok(Json(queue::complete(&state, &agent, &id, complete.result).await?))
}

/// Downloads a bundle archive by digest, for an agent running an execution of that bundle.
#[utoipa::path(get, path = "/v1/agent/bundles/{digest}", tag = "agent", security(("bearer" = [])),
    params(("digest" = String, Path, description = "`sha256:<hex>`")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn download_bundle(
    State(state): State<AppState>,
    agent: AgentCaller,
    Path(digest): Path<String>,
) -> ApiResult<Response> {
    let not_found = || Error::not_found(format!("bundle {digest:?} of an execution this agent runs"));
    let running = store::running_on(&state.db, &agent.agent_id).await?;
    let spec = running
        .iter()
        .map(|row| row.spec())
        .find(|spec| spec.bundle_digest == digest)
        .ok_or_else(not_found)?;
    let format = store::bundle_format(&state.db, &spec.bundle_id).await?.ok_or_else(not_found)?;
    crate::api::bundles::archive_response(&state, &digest, &format).await
}
