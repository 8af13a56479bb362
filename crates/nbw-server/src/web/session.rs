//! The browser session: the cookie `nbw_session` holds the refresh token of a web login (see
//! [`crate::auth::session::resume`]), `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` when the
//! public URL is https. Every form carries a CSRF token derived from the session (an HMAC-like
//! hash under the server key, so nothing more is stored), checked before any change; the login
//! form, which has no session yet, uses a random double-submit cookie `nbw_login`.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use super::page::PageError;
use crate::auth::UserCaller;
use crate::auth::session;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "nbw_session";

/// The login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "nbw_login";

/// The form field holding the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A logged-in browser user.
#[derive(Debug, Clone)]
pub struct WebUser {
    /// Who they are, as the services take it.
    pub caller: UserCaller,
    /// Their username.
    pub username: String,
    /// This session's CSRF token.
    pub csrf: String,
    /// The session token (the refresh token of the login).
    pub token: String,
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Lax; Path=/`, `Secure` when served over https,
/// expiring after `max_age` seconds (0 deletes it).
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> String {
    let secure = if state.config.public_url().starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}")
}

/// The CSRF token of the session whose token is `session_token`.
pub fn csrf_token(state: &AppState, session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"nbw csrf v1");
    hasher.update(state.keys.jwt);
    hasher.update(session_token.as_bytes());
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // After login, a GET comes back to where it was going; a POST goes to the home page.
        let next = (parts.method == Method::GET)
            .then(|| parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()));
        current(state, &parts.headers).await?.ok_or(PageError::LoginNeeded { next })
    }
}

/// The logged-in user of a request, if its session cookie names a live session.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<WebUser>, crate::error::Error> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(user) = session::resume(state, token).await? else { return Ok(None) };
    Ok(Some(WebUser {
        caller: UserCaller { user_id: user.id, is_admin: user.is_admin },
        username: user.username,
        csrf: csrf_token(state, token),
        token: token.to_owned(),
    }))
}

/// A form's fields, in order.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// A POST form of a logged-in user whose CSRF token was checked: a handler taking one has
/// nothing more to check before acting (but the caller's role).
#[derive(Debug)]
pub struct PostForm {
    /// The user.
    pub user: WebUser,
    /// The fields, `csrf` included.
    pub fields: Fields,
}

impl FromRequest<AppState> for PostForm {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|_| PageError::Csrf)?;
        let fields = Fields(fields);
        match fields.get(CSRF_FIELD) {
            Some(given) if same_token(given, &user.csrf) => Ok(PostForm { user, fields }),
            _ => Err(PageError::Csrf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; nbw_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}
