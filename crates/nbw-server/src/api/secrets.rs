//! Project secrets, write-only: a listing shows names and times, never values. Values are
//! encrypted at rest and reach only the agent running that project's execution, as
//! environment variables.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{Role, SecretName, SetSecret};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::crypto;
use crate::db::to_time;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::on_db;

/// Secret routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_secrets)).routes(routes!(set_secret, delete_secret))
}

/// Secret names are environment variable names: `[A-Za-z_][A-Za-z0-9_]{0,127}`.
fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ApiError::require(ok, "invalid_name", || {
        format!(
            "secret name {name:?} is not an environment variable name: use letters, digits and '_', not starting with a digit"
        )
    })
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
    let sql = "SELECT name, updated_at FROM secrets WHERE project_id = $1 ORDER BY name";
    let rows: Vec<(String, i64)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(&access.project_id).fetch_all(pool).await)?;
    Ok(Json(rows.into_iter().map(|(name, at)| SecretName { name, updated_at: to_time(at) }).collect()))
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
    check_name(&name)?;
    if input.value.len() > 64 * 1024 {
        return Err(ApiError::TooLarge("a secret value may hold at most 64 KiB".into()));
    }
    crypto::write_secret(&state, &access.project_id, &name, &input.value).await?;
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
    let sql = "DELETE FROM secrets WHERE project_id = $1 AND name = $2";
    let deleted = on_db!(&state.db, pool => sqlx::query(sql).bind(&access.project_id).bind(&name).execute(pool).await.map(|r| r.rows_affected()))?;
    if deleted == 0 {
        return Err(ApiError::not_found(format!("secret {name:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
