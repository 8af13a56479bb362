//! The agents registry (administrators only): register an agent and get its token once, list
//! agents with their last heartbeat, revoke one (its token stops working at the next request).
//! Agent tokens are scoped: they work on `/v1/agent/*` only.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{Agent, AgentCreated, RegisterAgent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::UserCaller;
use crate::auth::agents;
use crate::state::AppState;

/// Agent registry routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_agents, register_agent)).routes(routes!(revoke_agent))
}

/// Every agent, with its labels, version, last heartbeat and whether it is online.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = Vec<Agent>), (status = 403, body = nbw_core::api::ErrorBody)))]
async fn list_agents(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<Vec<Agent>>> {
    caller.require_admin()?;
    Ok(Json(agents::list(&state).await?))
}

/// Registers an agent. The answer holds its token, shown only this once.
#[utoipa::path(post, path = "/v1/agents", tag = "agents", security(("bearer" = [])), request_body = RegisterAgent,
    responses((status = 201, body = AgentCreated), (status = 403, body = nbw_core::api::ErrorBody)))]
async fn register_agent(
    State(state): State<AppState>,
    caller: UserCaller,
    Json(input): Json<RegisterAgent>,
) -> ApiResult<(StatusCode, Json<AgentCreated>)> {
    caller.require_admin()?;
    Ok((StatusCode::CREATED, Json(agents::register(&state, &input, &caller.user_id).await?)))
}

/// Revokes an agent: its token stops working at once. Its running executions are lost when
/// their leases expire, and retried as their policy allows.
#[utoipa::path(delete, path = "/v1/agents/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "agent id")),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn revoke_agent(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    agents::revoke(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
