//! Project secrets, write-only: a listing shows names and times, never values. Values are
//! encrypted at rest and reach only the agent running that project's execution, as
//! environment variables.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{Role, SecretName, SetSecret};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::secrets;
use crate::state::AppState;

/// Secret routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_secrets)).routes(routes!(set_secret, delete_secret))
}

/// The project's secret names (members with any role).
#[utoipa::path(get, path = "/v1/projects/{project}/secrets", tag = "secrets", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), responses((status = 200, body = Vec<SecretName>)))]
async fn list_secrets(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<SecretName>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(secrets::names(&state, &access.project_id).await?))
}

/// Sets a secret (owners only).
#[utoipa::path(put, path = "/v1/projects/{project}/secrets/{name}", tag = "secrets", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), request_body = SetSecret,
    responses((status = 204), (status = 400, body = nbw_core::api::ErrorBody)))]
async fn set_secret(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Json(input): Json<SetSecret>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &project, &caller, Role::Owner).await?;
    secrets::set(&state, &access.project_id, &name, &input.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a secret (owners only).
#[utoipa::path(delete, path = "/v1/projects/{project}/secrets/{name}", tag = "secrets", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn delete_secret(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &project, &caller, Role::Owner).await?;
    secrets::delete(&state, &access.project_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
