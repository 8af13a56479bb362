//! Runtime image versions registered for a project (the runtimes issue builds and tags them).

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{RegisterRuntime, Role, Runtime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::db::{is_unique_violation, now_ms, to_time};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::on_db;

/// Runtime routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_runtimes, register_runtime))
}

type RuntimeRow = (String, String, String, String, Option<String>, Option<String>, i64);

fn runtime(row: RuntimeRow) -> Runtime {
    let (id, name, version, image, dockerfile_hash, image_id, created_at) = row;
    Runtime { id, name, version, image, dockerfile_hash, image_id, created_at: to_time(created_at) }
}

/// The project's runtime versions, newest first.
#[utoipa::path(get, path = "/v1/projects/{project}/runtimes", tag = "runtimes", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), responses((status = 200, body = Vec<Runtime>)))]
async fn list_runtimes(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<Runtime>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let sql = "SELECT id, name, version, image, dockerfile_hash, image_id, created_at FROM runtimes \
               WHERE project_id = $1 ORDER BY created_at DESC, id DESC";
    let rows: Vec<RuntimeRow> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(&access.project_id).fetch_all(pool).await)?;
    Ok(Json(rows.into_iter().map(runtime).collect()))
}

/// Registers a runtime version (editors).
#[utoipa::path(post, path = "/v1/projects/{project}/runtimes", tag = "runtimes", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), request_body = RegisterRuntime,
    responses((status = 201, body = Runtime), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn register_runtime(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Json(input): Json<RegisterRuntime>,
) -> ApiResult<(StatusCode, Json<Runtime>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    if input.name.is_empty() || input.version.is_empty() || input.image.is_empty() {
        return Err(ApiError::invalid("name, version and image must not be empty"));
    }
    let row: RuntimeRow = (
        nbw_core::ids::random_id(),
        input.name,
        input.version,
        input.image,
        input.dockerfile_hash,
        input.image_id,
        now_ms(),
    );
    let sql = "INSERT INTO runtimes (id, project_id, name, version, image, dockerfile_hash, image_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let inserted = on_db!(&state.db, pool => sqlx::query(sql)
        .bind(&row.0).bind(&access.project_id).bind(&row.1).bind(&row.2).bind(&row.3).bind(&row.4).bind(&row.5).bind(row.6)
        .execute(pool).await.map(|r| r.rows_affected()));
    match inserted {
        Ok(_) => Ok((StatusCode::CREATED, Json(runtime(row)))),
        Err(e) if is_unique_violation(&e) => {
            Err(ApiError::Conflict(format!("runtime {} version {} is registered already", row.1, row.2)))
        }
        Err(e) => Err(e.into()),
    }
}
