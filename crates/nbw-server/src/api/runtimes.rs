//! Runtime image versions of a project: list them, register one by hand, or build one on an
//! agent with Docker (see [`crate::builds`]).

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{CreateBuild, Execution, RegisterRuntime, Role, Runtime};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::builds;
use crate::db::{is_unique_violation, now_ms};
use crate::error::Error;
use crate::state::AppState;
use crate::store::runtimes::{self, NewRuntime, OnConflict, RuntimeRow};

/// Runtime routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_runtimes, register_runtime)).routes(routes!(create_build))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this runtime's versions.
    name: Option<String>,
}

/// The project's runtime versions, newest first.
#[utoipa::path(get, path = "/v1/projects/{project}/runtimes", tag = "runtimes", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ListQuery),
    responses((status = 200, body = Vec<Runtime>)))]
async fn list_runtimes(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<Runtime>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let rows = runtimes::list(&state.db, &access.project_id, query.name.as_deref()).await?;
    Ok(Json(rows.iter().map(RuntimeRow::to_api).collect()))
}

/// Registers a runtime version built elsewhere (editors). A version registered already is a
/// conflict: only a build replaces one.
#[utoipa::path(post, path = "/v1/projects/{project}/runtimes", tag = "runtimes", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), request_body = RegisterRuntime,
    responses((status = 201, body = Runtime), (status = 400, body = nbw_core::api::ErrorBody),
        (status = 409, body = nbw_core::api::ErrorBody)))]
async fn register_runtime(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Json(input): Json<RegisterRuntime>,
) -> ApiResult<(StatusCode, Json<Runtime>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    nbw_core::names::check_runtime_name(&input.name)?;
    if input.version.is_empty() || input.image.is_empty() {
        return Err(Error::invalid("version and image must not be empty"));
    }
    let new = NewRuntime {
        name: input.name,
        version: input.version,
        image: input.image,
        dockerfile_hash: input.dockerfile_hash,
        image_id: input.image_id,
    };
    match runtimes::insert(&state.db, &access.project_id, &new, OnConflict::Refuse, now_ms()).await {
        Ok(row) => Ok((StatusCode::CREATED, Json(row.to_api()))),
        Err(e) if is_unique_violation(&e) => Err(Error::Conflict(format!(
            "runtime {} version {} is registered already; a build of that version replaces it",
            new.name, new.version
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Builds a runtime's image from a bundle (the latest by default) on an agent with Docker
/// (editors). The build is an execution: its id comes back at once, its log streams like any
/// run's, and its success registers the image as the runtime version named after the bundle
/// version (replacing an earlier build of that version).
#[utoipa::path(post, path = "/v1/projects/{project}/runtimes/{name}/builds", tag = "runtimes", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path, description = "runtime name")),
    request_body = CreateBuild,
    responses((status = 201, body = Execution), (status = 400, body = nbw_core::api::ErrorBody),
        (status = 404, body = nbw_core::api::ErrorBody)))]
async fn create_build(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Json(input): Json<CreateBuild>,
) -> ApiResult<(StatusCode, Json<Execution>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let execution = builds::enqueue(&state, &access, &name, input, caller.user_id).await?;
    Ok((StatusCode::CREATED, Json(execution)))
}
