//! Projects and their members.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{CreateProject, Member, Project, Role, SetMember};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{projects, users};

/// Project routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, delete_project))
        .routes(routes!(list_members))
        .routes(routes!(set_member, remove_member))
}

/// The caller's projects.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", security(("bearer" = [])),
    responses((status = 200, body = Vec<Project>)))]
async fn list_projects(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<Vec<Project>>> {
    Ok(Json(projects::list_for_user(&state.db, &caller.user_id).await?))
}

/// Creates a project; the caller becomes its owner.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", security(("bearer" = [])), request_body = CreateProject,
    responses((status = 201, body = Project), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn create_project(
    State(state): State<AppState>,
    caller: UserCaller,
    Json(input): Json<CreateProject>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    nbw_core::names::check_project_name(&input.name)?;
    let project =
        projects::create(&state.db, &input.name, &input.description, &caller.user_id).await?.ok_or_else(
            || Error::Conflict(format!("a project named {:?} exists already; pick another name", input.name)),
        )?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project.
#[utoipa::path(get, path = "/v1/projects/{project}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn get_project(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(name): Path<String>,
) -> ApiResult<Json<Project>> {
    let access = require_role(&state.db, &name, &caller, Role::Viewer).await?;
    let project = projects::get(&state.db, &access.project_id, access.role)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    Ok(Json(project))
}

/// Deletes a project and everything in it (owners only).
#[utoipa::path(delete, path = "/v1/projects/{project}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn delete_project(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &name, &caller, Role::Owner).await?;
    projects::delete(&state.db, &access.project_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's members.
#[utoipa::path(get, path = "/v1/projects/{project}/members", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name")),
    responses((status = 200, body = Vec<Member>)))]
async fn list_members(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<Member>>> {
    let access = require_role(&state.db, &name, &caller, Role::Viewer).await?;
    Ok(Json(projects::members(&state.db, &access.project_id).await?))
}

/// Adds a member or changes their role (owners only).
#[utoipa::path(put, path = "/v1/projects/{project}/members/{username}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("username" = String, Path)),
    request_body = SetMember, responses((status = 200, body = Member), (status = 404, body = nbw_core::api::ErrorBody)))]
async fn set_member(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((name, username)): Path<(String, String)>,
    Json(input): Json<SetMember>,
) -> ApiResult<Json<Member>> {
    let access = require_role(&state.db, &name, &caller, Role::Owner).await?;
    let user = users::by_username(&state.db, &username)
        .await?
        .ok_or_else(|| Error::not_found(format!("user {username:?}")))?;
    if input.role != Role::Owner {
        ensure_another_owner(&state, &access.project_id, &user.id).await?;
    }
    projects::set_member(&state.db, &access.project_id, &user.id, input.role).await?;
    Ok(Json(Member { user_id: user.id, username: user.username, role: input.role }))
}

/// Removes a member (owners only); the last owner cannot be removed.
#[utoipa::path(delete, path = "/v1/projects/{project}/members/{username}", tag = "projects", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("username" = String, Path)),
    responses((status = 204), (status = 404, body = nbw_core::api::ErrorBody), (status = 409, body = nbw_core::api::ErrorBody)))]
async fn remove_member(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = require_role(&state.db, &name, &caller, Role::Owner).await?;
    let user = users::by_username(&state.db, &username)
        .await?
        .ok_or_else(|| Error::not_found(format!("user {username:?}")))?;
    ensure_another_owner(&state, &access.project_id, &user.id).await?;
    if !projects::remove_member(&state.db, &access.project_id, &user.id).await? {
        return Err(Error::not_found(format!("member {username:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a change that would leave the project without an owner.
async fn ensure_another_owner(state: &AppState, project_id: &str, user_id: &str) -> ApiResult<()> {
    let owners =
        projects::members(&state.db, project_id).await?.into_iter().filter(|m| m.role == Role::Owner);
    if owners.filter(|m| m.user_id != user_id).count() == 0 {
        return Err(Error::Conflict(
            "a project needs at least one owner: make someone else owner first".into(),
        ));
    }
    Ok(())
}
