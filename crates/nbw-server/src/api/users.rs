//! Users: who am I, and (administrators) list and create accounts. `nbw server admin
//! create-user` creates the first administrator through [`create_user`] too.

use axum::extract::State;
use axum::http::StatusCode;
use nbw_core::api::{CreateUser, ErrorBody, User};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::auth::{UserCaller, password};
use crate::db::{Db, is_unique_violation};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::store::users::{self, UserRow};

/// User routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(list_users, create_user_route))
}

/// Checks a login name: 1 to 64 of `A-Za-z0-9_.-@`.
pub fn check_username(username: &str) -> ApiResult<()> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest {
            code: "invalid_name",
            message: format!(
                "username {username:?} is not valid: use 1 to 64 letters, digits, '_', '.', '-' or '@'"
            ),
        })
    }
}

/// Checks a new password's length (never echoing it).
pub fn check_password(password: &str) -> ApiResult<()> {
    let chars = password.chars().count();
    if chars < password::MIN_LEN {
        return Err(ApiError::BadRequest {
            code: "weak_password",
            message: format!("the password is too short: use at least {} characters", password::MIN_LEN),
        });
    }
    if password.len() > password::MAX_LEN {
        return Err(ApiError::BadRequest {
            code: "invalid_request",
            message: format!("the password is too long: use at most {} bytes", password::MAX_LEN),
        });
    }
    Ok(())
}

/// Validates and creates a user: 400 for a bad name or password, 409 when the name is taken.
pub async fn create_user(db: &Db, input: CreateUser) -> ApiResult<UserRow> {
    check_username(&input.username)?;
    check_password(&input.password)?;
    let hash = password::hash_blocking(input.password).await?;
    match users::insert(db, &input.username, &hash, input.is_admin).await {
        Ok(row) => Ok(row),
        Err(e) if is_unique_violation(&e) => {
            Err(ApiError::Conflict(format!("a user named {:?} exists already", input.username)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The caller's own account.
#[utoipa::path(get, path = "/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: UserCaller) -> ApiResult<Json<User>> {
    let user = users::by_id(&state.db, &caller.user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
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
    let user = create_user(&state.db, input).await?;
    tracing::info!(user = %user.username, admin = user.is_admin, by = %caller.user_id, "user created");
    Ok((StatusCode::CREATED, Json(user.to_api())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        for good in ["a", "alice", "a.b-c_d@example.org", &"x".repeat(64)] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["", "with space", "ümlaut", "a/b", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        let message = check_password("pw12").unwrap_err().to_string();
        assert!(!message.contains("pw12"), "{message}");
    }
}
