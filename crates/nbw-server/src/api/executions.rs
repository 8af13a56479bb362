//! Executions: run a notebook of a bundle, list the history with filters, show one, cancel,
//! and download the output notebook.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use nbw_core::api::{CreateExecution, Execution, ExecutionState, Page, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::executions::visible;
use crate::runs;
use crate::state::AppState;
use crate::store::executions::{self, ExecutionRow, Filter};
use crate::store::workflows;

/// Execution routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_executions, create_execution))
        .routes(routes!(get_execution))
        .routes(routes!(cancel_execution))
        .routes(routes!(download_output))
}

/// Runs a notebook of a bundle, in a runtime's image when `runtime` is set; the execution id
/// comes back at once.
#[utoipa::path(post, path = "/v1/projects/{project}/executions", tag = "executions", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), request_body = CreateExecution,
    responses((status = 201, body = Execution), (status = 400, body = nbw_core::api::ErrorBody),
        (status = 404, body = nbw_core::api::ErrorBody),
        (status = 422, description = "a parameter of the wrong type for the notebook's parameters cell, or a timeout above the server's maximum; nothing is queued", body = nbw_core::api::ErrorBody)))]
async fn create_execution(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Json(input): Json<CreateExecution>,
) -> ApiResult<(StatusCode, Json<Execution>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let execution = runs::run_notebook(&state, &access.project_id, input, caller.user_id).await?;
    Ok((StatusCode::CREATED, Json(execution)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this workflow's executions (by name).
    workflow: Option<String>,
    /// Only executions in this state.
    state: Option<ExecutionState>,
    /// Created at or after.
    since: Option<DateTime<Utc>>,
    /// Created before.
    until: Option<DateTime<Utc>>,
    /// Page size (1 to 500, default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The `(created_at, id)` position of a `created_at~id` cursor this server gave.
pub(super) fn parse_cursor(cursor: &str) -> ApiResult<(i64, String)> {
    let bad = || Error::Invalid {
        code: "invalid_cursor",
        message: "cursor is not one this server gave; start again without it".into(),
    };
    let (at, id) = cursor.split_once('~').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
}

/// The history, newest first, with filters and cursor paging.
#[utoipa::path(get, path = "/v1/projects/{project}/executions", tag = "executions", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ListQuery),
    responses((status = 200, body = Page<Execution>)))]
async fn list_executions(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Page<Execution>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let workflow_id = match &query.workflow {
        Some(name) => Some(
            workflows::by_name(&state.db, &access.project_id, name)
                .await?
                .ok_or_else(|| Error::not_found(format!("workflow {name:?}")))?
                .id,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, 500) as i64;
    let filter = Filter {
        project_id: access.project_id,
        workflow_id,
        state: query.state,
        since: query.since.map(|t| t.timestamp_millis()),
        until: query.until.map(|t| t.timestamp_millis()),
        after: query.cursor.as_deref().map(parse_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut rows = executions::list(&state.db, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}~{}", r.created_at, r.id))
    } else {
        None
    };
    Ok(Json(Page { items: rows.iter().map(ExecutionRow::to_api).collect(), next_cursor }))
}

/// One execution.
#[utoipa::path(get, path = "/v1/executions/{id}", tag = "executions", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")),
    responses((status = 200, body = Execution), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_execution(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Execution>> {
    let (row, _) = visible(&state, &caller, &id, Role::Viewer).await?;
    Ok(Json(row.to_api()))
}

/// Cancels an execution: a queued one at once, a running one through its agent (interrupt,
/// then kill after the grace period). Cancelling a finished execution is a conflict.
#[utoipa::path(post, path = "/v1/executions/{id}/cancel", tag = "executions", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")),
    responses((status = 200, body = Execution), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn cancel_execution(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Execution>> {
    Ok(Json(crate::executions::cancel(&state, &caller, &id).await?.to_api()))
}

/// Downloads the output notebook.
#[utoipa::path(get, path = "/v1/executions/{id}/output", tag = "executions", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id")),
    responses((status = 200, content_type = "application/x-ipynb+json"), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn download_output(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (name, bytes) = crate::executions::output(&state, &caller, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ipynb+json".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
