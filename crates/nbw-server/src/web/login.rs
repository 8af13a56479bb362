//! Logging in and out. The login form posts a username and password to the same rules as the
//! API's login (`auth::session::login`: the same users, the same failed-login rate limit); a
//! success sets the session cookie to the login's refresh token. A logout revokes it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{Chrome, PageError, render_status};
use super::session::{LOGIN_COOKIE, PostForm, SESSION_COOKIE, cookie, current, same_token, set_cookie};
use crate::api::auth::ClientAddr;
use crate::auth::session;
use crate::error::Error;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path of this site: `/x`, never `//host` or `http://host` (no open redirect).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: String,
    username: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let csrf = nbw_core::ids::random_token();
    let page = LoginPage { chrome: Chrome::anonymous(), csrf: csrf.clone(), next, username, error };
    let mut response = render_status(status, &page)?;
    let value = set_cookie(state, LOGIN_COOKIE, &csrf, 3600);
    response.headers_mut().append(header::SET_COOKIE, value.parse().expect("cookie values are ASCII"));
    Ok(response)
}

/// `GET /login`: the form (or, with a session already, where it was going).
pub async fn show(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = local_path(query.next.as_deref());
    if current(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_page(&state, StatusCode::OK, next, String::new(), None)
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks the password; on success sets the session cookie and goes to `next`.
/// A wrong password shows the form again with `#login-error`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&form.csrf, expected) {
        return Err(PageError::Csrf);
    }
    let next = local_path(form.next.as_deref());
    let tokens = match session::login(&state, form.username.trim(), form.password, &client).await {
        Ok(tokens) => tokens,
        Err(Error::Unauthorized(_)) => {
            let error = Some("Wrong username or password.".to_owned());
            return login_page(&state, StatusCode::UNAUTHORIZED, next, form.username, error);
        }
        Err(Error::RateLimited(message)) => {
            return login_page(&state, StatusCode::TOO_MANY_REQUESTS, next, form.username, Some(message));
        }
        Err(other) => return Err(other.into()),
    };
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    let session =
        set_cookie(&state, SESSION_COOKIE, &tokens.refresh_token, state.config.refresh_token_ttl_secs);
    cookies.append(header::SET_COOKIE, session.parse().expect("cookie values are ASCII"));
    cookies.append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0).parse().expect("ASCII"));
    Ok(response)
}

/// `POST /logout`: revokes the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, form: PostForm) -> Result<Response, PageError> {
    // A session revoked meanwhile (another logout) is logged out already.
    match session::logout(&state, &form.user.token).await {
        Ok(()) | Err(Error::Unauthorized(_)) => {}
        Err(other) => return Err(other.into()),
    }
    let mut response = Redirect::to("/login").into_response();
    let cleared = set_cookie(&state, SESSION_COOKIE, "", 0);
    response.headers_mut().append(header::SET_COOKIE, cleared.parse().expect("cookie values are ASCII"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(local_path(Some("/executions?state=failed")), "/executions?state=failed");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
