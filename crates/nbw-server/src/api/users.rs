//! Users: who am I, and (administrators) list and create accounts. Accounts are created by
//! [`crate::auth::accounts`], which `nbw server admin create-user` uses too.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{CreateUser, ErrorBody, User};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Json;
use crate::auth::UserCaller;
use crate::auth::accounts;
use crate::error::Error;
use crate::state::AppState;
use crate::store::users::{self, UserRow};

/// User routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(list_users, create_user_route))
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
