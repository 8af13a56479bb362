//! Logging in, refreshing and logging out. A login answers a short-lived access token (JWT)
//! and an opaque refresh token; a refresh rotates the refresh token; a logout revokes its
//! family. Failed logins are rate-limited by username and by client address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::Duration;
use nbw_core::api::{ErrorBody, LoginRequest, RefreshRequest, Tokens};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Json;
use crate::auth::limit::{self, LoginKeys};
use crate::auth::{password, refresh, token};
use crate::error::Error;
use crate::state::AppState;
use crate::store::users::{self, UserRow};

/// Authentication routes.
pub fn routes() -> OpenApiRouter<AppState> {
    // The dummy hash is made once per process; made here, off the request path, the first
    // login for an unknown user does not take twice as long as the others.
    std::thread::spawn(password::dummy_hash);
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh_tokens)).routes(routes!(logout))
}

/// The client's IP address, when the server was started with connection info, else
/// `"unknown"` (then every client shares one address counter).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
        Ok(ClientAddr(addr.unwrap_or_else(|| "unknown".to_owned())))
    }
}

const BAD_LOGIN: &str = "invalid username or password";

/// Access and refresh tokens for `user`, the refresh token starting a new family.
fn tokens_for(state: &AppState, user: &UserRow, refresh: refresh::Issued) -> Tokens {
    let ttl = seconds(state.config.access_token_ttl_secs);
    let (access_token, access_expires_at) = token::issue(&state.keys, &user.id, user.is_admin, ttl);
    Tokens {
        access_token,
        access_expires_at,
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
    }
}

fn refresh_ttl(state: &AppState) -> Duration {
    seconds(state.config.refresh_token_ttl_secs)
}

/// A configured number of seconds; absurd values are capped at a century.
fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX).min(100 * 366 * 86_400))
}

/// Logs in with a username and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Tokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(input): Json<LoginRequest>,
) -> ApiResult<Json<Tokens>> {
    let keys = LoginKeys::new(&input.username, &client);
    limit::check(&state, &keys).await?;
    let user = users::by_username(&state.db, &input.username).await?;
    // An unknown user costs the same verification as a known one (against a dummy hash).
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify_blocking(input.password, hash).await;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            limit::failed(&state, &keys).await?;
            tracing::info!(client = %client, "failed login");
            return Err(Error::Unauthorized(BAD_LOGIN.into()));
        }
    };
    limit::succeeded(&state, &keys).await?;
    let issued = refresh::issue(&state.db, &user.id, refresh_ttl(&state)).await?;
    tracing::info!(user = %user.username, "login");
    Ok(Json(tokens_for(&state, &user, issued)))
}

/// Exchanges a refresh token for new tokens. The old refresh token is spent: presenting it
/// again revokes every token of its login.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Tokens), (status = 401, body = ErrorBody)))]
async fn refresh_tokens(
    State(state): State<AppState>,
    Json(input): Json<RefreshRequest>,
) -> ApiResult<Json<Tokens>> {
    let rotated = refresh::rotate(&state.db, &input.refresh_token, refresh_ttl(&state)).await?;
    let user = match users::by_id(&state.db, &rotated.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => {
            refresh::revoke_family(&state.db, &rotated.family_id).await?;
            return Err(Error::Unauthorized("this account is disabled or no longer exists".into()));
        }
    };
    Ok(Json(tokens_for(&state, &user, rotated.issued)))
}

/// Logs out: revokes the refresh token and every token of its login. Access tokens already
/// issued stay valid until they expire (minutes).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, Json(input): Json<RefreshRequest>) -> ApiResult<StatusCode> {
    if refresh::revoke(&state.db, &input.refresh_token).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::Unauthorized("the refresh token is invalid".into()))
    }
}
