//! Pipelines: list, show, put (validated against the bundle and the workflows), delete; runs:
//! start, history, show, cancel, re-run. The rules are [`crate::pipelines`]'.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{
    Page, Pipeline, PipelineInput, PipelineRun, PipelineRunState, RerunPipeline, Role, RunPipeline,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::executions::parse_cursor;
use super::extract::{Json, Path, Query};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::pipelines::{self, runs};
use crate::state::AppState;
use crate::store::pipelines::{self as store, PipelineRow};

/// Pipeline routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pipelines))
        .routes(routes!(get_pipeline, put_pipeline, delete_pipeline))
        .routes(routes!(run_pipeline, list_runs))
        .routes(routes!(get_run))
        .routes(routes!(cancel_run))
        .routes(routes!(rerun_run))
}

/// The project's pipelines.
#[utoipa::path(get, path = "/v1/projects/{project}/pipelines", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), responses((status = 200, body = Vec<Pipeline>)))]
async fn list_pipelines(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<Pipeline>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(store::list(&state.db, &access.project_id).await?.iter().map(PipelineRow::to_api).collect()))
}

/// One pipeline, with its next fire time.
#[utoipa::path(get, path = "/v1/projects/{project}/pipelines/{name}", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 200, body = Pipeline), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_pipeline(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Json<Pipeline>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(pipelines::find(&state, &access, &name).await?.to_api()))
}

/// Creates or replaces a pipeline (what `nbw push` sends for each `pipelines:` entry).
#[utoipa::path(put, path = "/v1/projects/{project}/pipelines/{name}", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), request_body = PipelineInput,
    responses((status = 200, body = Pipeline), (status = 422, body = nbw_core::api::ErrorBody)))]
async fn put_pipeline(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Json(input): Json<PipelineInput>,
) -> ApiResult<Json<Pipeline>> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    Ok(Json(pipelines::put(&state, &access, &name, input).await?))
}

/// Deletes a pipeline; its runs stay in the history.
#[utoipa::path(delete, path = "/v1/projects/{project}/pipelines/{name}", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn delete_pipeline(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    pipelines::delete(&state, &access, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs the pipeline now, with parameter overrides by step; the run comes back at once.
#[utoipa::path(post, path = "/v1/projects/{project}/pipelines/{name}/runs", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), request_body = RunPipeline,
    responses((status = 201, body = PipelineRun), (status = 400, body = nbw_core::api::ErrorBody)))]
async fn run_pipeline(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Json(request): Json<RunPipeline>,
) -> ApiResult<(StatusCode, Json<PipelineRun>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let pipeline = pipelines::find(&state, &access, &name).await?;
    let origin = crate::runs::user_origin(request.origin)?;
    let trigger = runs::Trigger { origin, created_by: Some(caller.user_id), fire_at: None };
    let run = runs::start(&state, &pipeline, request, trigger)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Paging of a pipeline's runs.
#[derive(Debug, Deserialize, IntoParams)]
struct RunsQuery {
    /// Page size (1 to 500, default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A pipeline's runs, newest first.
#[utoipa::path(get, path = "/v1/projects/{project}/pipelines/{name}/runs", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path), RunsQuery),
    responses((status = 200, body = Page<PipelineRun>)))]
async fn list_runs(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Query(query): Query<RunsQuery>,
) -> ApiResult<Json<Page<PipelineRun>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500) as i64;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let mut rows = store::runs_of(&state.db, &access.project_id, &name, after, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}~{}", r.created_at, r.id))
    } else {
        None
    };
    Ok(Json(Page {
        items: rows.iter().map(super::super::store::pipelines::RunRow::to_api).collect(),
        next_cursor,
    }))
}

/// One run with its steps.
#[utoipa::path(get, path = "/v1/projects/{project}/pipeline-runs/{id}", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("id" = String, Path)),
    responses((status = 200, body = PipelineRun), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_run(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, id)): Path<(String, String)>,
) -> ApiResult<Json<PipelineRun>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(runs::find(&state, &access, &id).await?.to_api()))
}

/// Cancels a run: every queued or running step's execution is cancelled.
#[utoipa::path(post, path = "/v1/projects/{project}/pipeline-runs/{id}/cancel", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("id" = String, Path)),
    responses((status = 200, body = PipelineRun), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn cancel_run(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, id)): Path<(String, String)>,
) -> ApiResult<Json<PipelineRun>> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let run = runs::find(&state, &access, &id).await?;
    let message = "cancelled by a user";
    Ok(Json(runs::cancel(&state, &run.id, PipelineRunState::Cancelled, message).await?))
}

/// Runs an ended run again; with `from_failed`, only what did not succeed.
#[utoipa::path(post, path = "/v1/projects/{project}/pipeline-runs/{id}/rerun", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("id" = String, Path)), request_body = RerunPipeline,
    responses((status = 201, body = PipelineRun), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn rerun_run(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, id)): Path<(String, String)>,
    Json(request): Json<RerunPipeline>,
) -> ApiResult<(StatusCode, Json<PipelineRun>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let previous = runs::find(&state, &access, &id).await?;
    Ok((StatusCode::CREATED, Json(runs::rerun(&state, &previous, request, caller.user_id).await?)))
}
