//! Logging in, refreshing and logging out (the rules are [`crate::auth::session`]'s). A login answers a short-lived access token (JWT)
//! and an opaque refresh token; a refresh rotates the refresh token; a logout revokes its
//! family. Failed logins are rate-limited by username and by client address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use nbw_core::api::{ErrorBody, LoginRequest, RefreshRequest, Tokens};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Json;
use crate::auth::{password, session};
use crate::state::AppState;

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

/// Logs in with a username and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Tokens), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(input): Json<LoginRequest>,
) -> ApiResult<Json<Tokens>> {
    Ok(Json(session::login(&state, &input.username, input.password, &client).await?))
}

/// Exchanges a refresh token for new tokens. The old refresh token is spent: presenting it
/// again revokes every token of its login.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Tokens), (status = 401, body = ErrorBody)))]
async fn refresh_tokens(
    State(state): State<AppState>,
    Json(input): Json<RefreshRequest>,
) -> ApiResult<Json<Tokens>> {
    Ok(Json(session::refresh_tokens(&state, &input.refresh_token).await?))
}

/// Logs out: revokes the refresh token and every token of its login. Access tokens already
/// issued stay valid until they expire (minutes).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, Json(input): Json<RefreshRequest>) -> ApiResult<StatusCode> {
    session::logout(&state, &input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
