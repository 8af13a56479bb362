//! Users: who am I, and (administrators) list, create and disable accounts and reset their
//! passwords. Accounts are managed by [`crate::auth::accounts`], which `nbw server admin
//! create-user` uses too.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{CreateUser, ErrorBody, ResetPassword, User};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::UserCaller;
use crate::auth::accounts;
use crate::error::Error;
use crate::state::AppState;
use crate::store::users::{self, UserRow};

/// User routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user_route))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_password))
}

/// The caller's own account.
#[utoipa::path(get, path = "/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<User>> {
    let user = users::by_id(&state.db, &caller.user_id)
        .await?
        .ok_or_else(|| Error::Unauthorized("this account no longer exists".into()))?;
    Ok(Json(user.to_api()))
}

/// Every user (administrators only).
#[utoipa::path(get, path = "/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_users(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<Vec<User>>> {
    caller.require_admin()?;
    Ok(Json(users::list(&state.db).await?.iter().map(UserRow::to_api).collect()))
}

/// Creates a user (administrators only).
#[utoipa::path(post, path = "/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn create_user_route(
    State(state): State<AppState>,
    caller: UserCaller,
    Json(input): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require_admin()?;
    let user = accounts::create_user(&state.db, input).await?;
    tracing::info!(user = %user.username, admin = user.is_admin, by = %caller.user_id, "user created");
    Ok((StatusCode::CREATED, Json(user.to_api())))
}

/// Disables an account (administrators only): it can no longer log in, its logins end and its
/// access tokens stop working. Administrators cannot disable themselves (409 `conflict`).
#[utoipa::path(post, path = "/v1/users/{username}/disable", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "login name")),
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn disable_user(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(username): Path<String>,
) -> ApiResult<Json<User>> {
    caller.require_admin()?;
    let user = accounts::set_disabled(&state, &caller, &username, true).await?;
    tracing::info!(user = %user.username, by = %caller.user_id, "user disabled");
    Ok(Json(user.to_api()))
}

/// Enables a disabled account again (administrators only); it logs in with its password.
#[utoipa::path(post, path = "/v1/users/{username}/enable", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "login name")),
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(username): Path<String>,
) -> ApiResult<Json<User>> {
    caller.require_admin()?;
    let user = accounts::set_disabled(&state, &caller, &username, false).await?;
    tracing::info!(user = %user.username, by = %caller.user_id, "user enabled");
    Ok(Json(user.to_api()))
}

/// Sets a new password for an account (administrators only); every login of the account ends.
#[utoipa::path(put, path = "/v1/users/{username}/password", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "login name")), request_body = ResetPassword,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(username): Path<String>,
    Json(input): Json<ResetPassword>,
) -> ApiResult<Json<User>> {
    caller.require_admin()?;
    let user = accounts::reset_password(&state, &username, input.password).await?;
    tracing::info!(user = %user.username, by = %caller.user_id, "password reset");
    Ok(Json(user.to_api()))
}
