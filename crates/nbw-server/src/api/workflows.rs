//! Workflows: create, list, show, edit, delete, enable, disable, and run now; the rules and
//! the next fire time are [`crate::workflows`]'.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{Execution, Role, RunWorkflow, Workflow, WorkflowInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::runs;
use crate::state::AppState;
use crate::store::workflows::WorkflowRow;
use crate::workflows;

/// Workflow routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workflows, create_workflow))
        .routes(routes!(get_workflow, replace_workflow, delete_workflow))
        .routes(routes!(enable_workflow))
        .routes(routes!(disable_workflow))
        .routes(routes!(run_workflow))
}

/// The project's workflows.
#[utoipa::path(get, path = "/v1/projects/{project}/workflows", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), responses((status = 200, body = Vec<Workflow>)))]
async fn list_workflows(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<Workflow>>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(
        crate::store::workflows::list(&state.db, &access.project_id)
            .await?
            .iter()
            .map(WorkflowRow::to_api)
            .collect(),
    ))
}

/// Creates a workflow.
#[utoipa::path(post, path = "/v1/projects/{project}/workflows", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), request_body = WorkflowInput,
    responses((status = 201, body = Workflow), (status = 400, body = nbw_core::api::ErrorBody), (status = 409, body = nbw_core::api::ErrorBody),
        (status = 422, description = "a timeout above the server's maximum, or an invalid parameter rule", body = nbw_core::api::ErrorBody)))]
async fn create_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Json(input): Json<WorkflowInput>,
) -> ApiResult<(StatusCode, Json<Workflow>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    Ok((StatusCode::CREATED, Json(workflows::create(&state, &access.project_id, input).await?)))
}

/// One workflow, with its next fire time, its effective timeout and queue limit, and its
/// notebook's typed parameters (type, default, rules).
#[utoipa::path(get, path = "/v1/projects/{project}/workflows/{name}", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 200, body = Workflow), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(workflows::show(&state, &access, &name).await?))
}

/// Replaces a workflow (a rename goes through the body's `name`).
#[utoipa::path(put, path = "/v1/projects/{project}/workflows/{name}", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), request_body = WorkflowInput,
    responses((status = 200, body = Workflow), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn replace_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    Json(input): Json<WorkflowInput>,
) -> ApiResult<Json<Workflow>> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    Ok(Json(workflows::replace(&state, &access, &name, input).await?))
}

/// Deletes a workflow; its executions stay in the history.
#[utoipa::path(delete, path = "/v1/projects/{project}/workflows/{name}", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn delete_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    workflows::delete(&state, &access, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(
    state: &AppState,
    caller: &UserCaller,
    project: &str,
    name: &str,
    enabled: bool,
) -> ApiResult<Json<Workflow>> {
    let access = require_role(&state.db, project, caller, Role::Editor).await?;
    Ok(Json(workflows::set_enabled(state, &access, name, enabled).await?))
}

/// Enables the schedule.
#[utoipa::path(post, path = "/v1/projects/{project}/workflows/{name}/enable", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), responses((status = 200, body = Workflow)))]
async fn enable_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    set_enabled(&state, &caller, &project, &name, true).await
}

/// Disables the schedule (running executions go on; run-now still works).
#[utoipa::path(post, path = "/v1/projects/{project}/workflows/{name}/disable", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), responses((status = 200, body = Workflow)))]
async fn disable_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    set_enabled(&state, &caller, &project, &name, false).await
}

/// Runs the workflow now, with optional parameter overrides; the execution id comes back at once.
#[utoipa::path(post, path = "/v1/projects/{project}/workflows/{name}/run", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)), request_body = RunWorkflow,
    responses((status = 201, body = Execution), (status = 400, body = nbw_core::api::ErrorBody),
        (status = 422, description = "a parameter of the wrong type, outside its rules, unknown or missing; nothing is queued", body = nbw_core::api::ErrorBody)))]
async fn run_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Execution>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let row = workflows::find(&state, &access, &name).await?;
    // The body is optional: an empty one runs with the workflow's own parameters.
    let request: RunWorkflow = if body.iter().all(u8::is_ascii_whitespace) {
        RunWorkflow::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::Invalid { code: "invalid_json", message: e.to_string() })?
    };
    let origin = runs::user_origin(request.origin)?;
    let execution =
        runs::enqueue_workflow(&state, &row, origin, request.parameters, Some(caller.user_id), None)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))?;
    Ok((StatusCode::CREATED, Json(execution)))
}
