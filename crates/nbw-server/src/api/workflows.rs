//! Workflows: create, list, show, edit, delete, enable, disable, and run now. Every change
//! recomputes the next fire time at once, so the scheduler's next tick sees it.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use nbw_core::api::{Execution, Role, RunWorkflow, Workflow, WorkflowInput, WorkflowSpec};
use nbw_core::container::Volume;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::auth::UserCaller;
use crate::auth::access::{ProjectAccess, require_role};
use crate::db::is_unique_violation;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::runs;
use crate::schedule;
use crate::store::workflows::{self, WorkflowRow};

/// Workflow routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workflows, create_workflow))
        .routes(routes!(get_workflow, replace_workflow, delete_workflow))
        .routes(routes!(enable_workflow))
        .routes(routes!(disable_workflow))
        .routes(routes!(run_workflow))
}

/// Checks a workflow name: 1 to 64 of `A-Za-z0-9_.-`.
fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    ApiError::require(ok, "invalid_name", || {
        format!("workflow name {name:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'")
    })
}

/// Checks what can be checked without a bundle, and computes the next fire time.
fn validate(spec: &WorkflowSpec, enabled: bool) -> ApiResult<Option<i64>> {
    if spec.notebook.trim().is_empty() || !spec.notebook.ends_with(".ipynb") {
        return Err(ApiError::invalid(format!(
            "notebook {:?} must be a path to an .ipynb file in the bundle",
            spec.notebook
        )));
    }
    // Whether the runtime is built is checked when a run is created: it may be built later.
    runs::check_runtime(spec.runtime.as_deref(), spec.runtime_version.as_deref())?;
    for volume in &spec.volumes {
        Volume::parse(volume).map_err(|message| ApiError::BadRequest { code: "invalid_volume", message })?;
    }
    for notification in &spec.notifications {
        if notification.url_secret.trim().is_empty() {
            return Err(ApiError::invalid(
                "a notification needs url_secret: the name of the project secret holding the webhook URL",
            ));
        }
    }
    let Some(schedule) = &spec.schedule else {
        return Ok(None);
    };
    let compiled = schedule::compile(schedule)
        .map_err(|e| ApiError::BadRequest { code: e.code(), message: e.to_string() })?;
    let now = Utc::now();
    Ok(enabled.then(|| compiled.next_after(now, now)).flatten().map(|t| t.timestamp_millis()))
}

async fn find(state: &AppState, access: &ProjectAccess, name: &str) -> ApiResult<WorkflowRow> {
    workflows::by_name(&state.db, &access.project_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workflow {name:?}")))
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
    Ok(Json(workflows::list(&state.db, &access.project_id).await?.iter().map(WorkflowRow::to_api).collect()))
}

/// Creates a workflow.
#[utoipa::path(post, path = "/v1/projects/{project}/workflows", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")), request_body = WorkflowInput,
    responses((status = 201, body = Workflow), (status = 400, body = nbw_core::api::ErrorBody), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn create_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(project): Path<String>,
    Json(input): Json<WorkflowInput>,
) -> ApiResult<(StatusCode, Json<Workflow>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    Ok((StatusCode::CREATED, Json(create(&state, &access.project_id, input).await?)))
}

/// Checks and creates a workflow in the project with id `project_id`.
pub async fn create(state: &AppState, project_id: &str, input: WorkflowInput) -> ApiResult<Workflow> {
    check_name(&input.name)?;
    let next = validate(&input.spec, input.enabled)?;
    match workflows::insert(&state.db, project_id, &input.name, &input.spec, input.enabled, next).await {
        Ok(row) => Ok(row.to_api()),
        Err(e) if is_unique_violation(&e) => {
            Err(ApiError::Conflict(format!("workflow {:?} exists; change it with PUT", input.name)))
        }
        Err(e) => Err(e.into()),
    }
}

/// One workflow, with its next fire time.
#[utoipa::path(get, path = "/v1/projects/{project}/workflows/{name}", tag = "workflows", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("name" = String, Path)),
    responses((status = 200, body = Workflow), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
) -> ApiResult<Json<Workflow>> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    Ok(Json(find(&state, &access, &name).await?.to_api()))
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
    check_name(&input.name)?;
    let row = find(&state, &access, &name).await?;
    let next = validate(&input.spec, input.enabled)?;
    match workflows::update(&state.db, &row.id, &input.name, &input.spec, input.enabled, next).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::Conflict(format!("workflow {:?} exists", input.name)));
        }
        Err(e) => return Err(e.into()),
    }
    let row = workflows::by_id(&state.db, &row.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workflow {name:?}")))?;
    Ok(Json(row.to_api()))
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
    let row = find(&state, &access, &name).await?;
    workflows::delete(&state.db, &row.id).await?;
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
    let row = find(state, &access, name).await?;
    let spec = row.spec();
    let next = validate(&spec, enabled)?;
    workflows::update(&state.db, &row.id, &row.name, &spec, enabled, next).await?;
    let row = workflows::by_id(&state.db, &row.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workflow {name:?}")))?;
    Ok(Json(row.to_api()))
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
    responses((status = 201, body = Execution), (status = 400, body = nbw_core::api::ErrorBody)))]
async fn run_workflow(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Execution>)> {
    let access = require_role(&state.db, &project, &caller, Role::Editor).await?;
    let row = find(&state, &access, &name).await?;
    // The body is optional: an empty one runs with the workflow's own parameters.
    let request: RunWorkflow = if body.iter().all(u8::is_ascii_whitespace) {
        RunWorkflow::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest { code: "invalid_json", message: e.to_string() })?
    };
    let origin = runs::user_origin(request.origin)?;
    let execution =
        runs::enqueue_workflow(&state, &row, origin, request.parameters, Some(caller.user_id), None)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))?;
    Ok((StatusCode::CREATED, Json(execution)))
}
