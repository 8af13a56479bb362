//! The agents registry (administrators only): register an agent and get its token once, list
//! agents with their last heartbeat, revoke one (its token stops working at the next request).
//! Agent tokens are scoped: they work on `/v1/agent/*` only.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{Agent, AgentCreated, RegisterAgent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::auth::UserCaller;
use crate::auth::caller::{AGENT_TOKEN_PREFIX, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::store::queue as store;

/// Agent registry routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_agents, register_agent)).routes(routes!(revoke_agent))
}

/// Checks an agent's name (1 to 128 printable characters) and labels (keys 1 to 64 of
/// `A-Za-z0-9_.-/`, values up to 256 characters).
fn check_agent(input: &RegisterAgent) -> ApiResult<()> {
    let name_ok = !input.name.trim().is_empty()
        && input.name.chars().count() <= 128
        && !input.name.chars().any(char::is_control);
    if !name_ok {
        return Err(ApiError::invalid(format!(
            "agent name {:?} is not valid: use 1 to 128 printable characters",
            input.name
        )));
    }
    for (key, value) in &input.labels {
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b));
        if !key_ok || value.len() > 256 {
            return Err(ApiError::invalid(format!(
                "label {key:?} is not valid: keys are 1 to 64 of letters, digits, '_', '.', '-', '/'; values at most 256 bytes"
            )));
        }
    }
    Ok(())
}

/// Every agent, with its labels and last heartbeat.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = Vec<Agent>), (status = 403, body = nbw_core::api::ErrorBody)))]
async fn list_agents(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<Vec<Agent>>> {
    caller.require_admin()?;
    Ok(Json(store::list_agents(&state.db).await?))
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
    check_agent(&input)?;
    let token = format!("{AGENT_TOKEN_PREFIX}{}", nbw_core::ids::random_token());
    let agent = store::insert_agent(
        &state.db,
        input.name.trim(),
        &input.labels,
        &token_hash(&token),
        &caller.user_id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AgentCreated { agent, token })))
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
    if !store::revoke_agent(&state.db, &id).await? {
        return Err(ApiError::not_found(format!("agent {id:?}")));
    }
    state.agent_tokens.forget(&id);
    Ok(StatusCode::NO_CONTENT)
}
