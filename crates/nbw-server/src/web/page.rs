//! What every page shares: the layout's data ([`Chrome`]: the assets, the user bar with the
//! project switcher), rendering a template into a response, and [`PageError`], the one
//! failure type of the pages, shown as a page in the same layout (404, 403, 400, 500) or, for
//! a visitor without a session, a redirect to the login page.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::assets::{CSS, FRAME_JS, JS};
use super::session::WebUser;
use crate::error::Error;
use crate::state::AppState;
use crate::store::projects;

/// The user bar: who is logged in, their projects, the logout form's CSRF token.
#[derive(Debug, Clone)]
pub struct UserBar {
    /// Username.
    pub username: String,
    /// Server administrator.
    pub is_admin: bool,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// Names of the user's projects (the project switcher).
    pub projects: Vec<String>,
}

/// The layout's data.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The stylesheet's URL.
    pub css: &'static str,
    /// The script's URL.
    pub js: &'static str,
    /// The URL of the notebook output frames' script.
    pub frame_js: &'static str,
    /// The logged-in user, if any (the login and some error pages have none).
    pub user: Option<UserBar>,
}

impl Chrome {
    /// The layout without a user bar.
    pub fn anonymous() -> Chrome {
        Chrome { css: &CSS.path, js: &JS.path, frame_js: &FRAME_JS.path, user: None }
    }

    /// The layout for `user`, with their projects.
    pub async fn of(state: &AppState, user: &WebUser) -> Result<Chrome, PageError> {
        let projects = projects::list_for_user(&state.db, &user.caller.user_id).await.map_err(Error::from)?;
        Ok(Chrome {
            user: Some(UserBar {
                username: user.username.clone(),
                is_admin: user.caller.is_admin,
                csrf: user.csrf.clone(),
                projects: projects.into_iter().map(|p| p.name).collect(),
            }),
            ..Chrome::anonymous()
        })
    }

    /// The CSRF token of the user's forms (empty without a user).
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.csrf.as_str())
    }
}

/// A template rendered as a 200 page.
pub fn render(template: &impl Template) -> Result<Response, PageError> {
    render_status(StatusCode::OK, template)
}

/// A template rendered with `status`.
pub fn render_status(status: StatusCode, template: &impl Template) -> Result<Response, PageError> {
    let html = template.render().map_err(|e| Error::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// No session: go to the login page, then back to `next`.
    LoginNeeded {
        /// The path to come back to (GET requests only).
        next: Option<String>,
    },
    /// A form without this session's CSRF token.
    Csrf,
    /// A service refused or failed.
    Service(Error),
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        PageError::Service(error)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(error: sqlx::Error) -> Self {
        PageError::Service(error.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

/// What an error page said, kept on its response so [`with_user_bar`] can show it again with
/// the user's header.
#[derive(Debug, Clone)]
struct Shown {
    title: &'static str,
    message: String,
}

fn error_html(chrome: Chrome, status: StatusCode, shown: &Shown) -> Response {
    let page =
        ErrorPage { chrome, status: status.as_u16(), title: shown.title, message: shown.message.clone() };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, shown.title).into_response(),
    }
}

/// The error page for `status` with `message` (without the user bar, which
/// [`with_user_bar`] adds when the visitor has a session).
pub fn error_page(status: StatusCode, title: &'static str, message: String) -> Response {
    let shown = Shown { title, message };
    let mut response = error_html(Chrome::anonymous(), status, &shown);
    response.extensions_mut().insert(shown);
    response
}

/// Shows error pages in the full layout (the header with the user, projects, logout) when
/// the visitor is logged in: the errors are made where no state is at hand.
pub async fn with_user_bar(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(shown) = response.extensions().get::<Shown>().cloned() else { return response };
    let status = response.status();
    let Ok(Some(user)) = super::session::current(&state, &headers).await else { return response };
    match Chrome::of(&state, &user).await {
        Ok(chrome) => {
            let mut page = error_html(chrome, status, &shown);
            for (name, value) in response.headers() {
                if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                    page.headers_mut().insert(name.clone(), value.clone());
                }
            }
            page
        }
        Err(_) => response,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::LoginNeeded { next } => {
                let target = match next {
                    Some(next) => format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    None => "/login".to_owned(),
                };
                return Redirect::to(&target).into_response();
            }
            PageError::Csrf => {
                return error_page(
                    StatusCode::FORBIDDEN,
                    "Form expired",
                    "This form was not sent by a page of your current session (its CSRF token is missing or \
                     wrong), so nothing was changed. Go back, reload the page and try again."
                        .into(),
                );
            }
            PageError::Service(error) => error,
        };
        let (status, title) = match &error {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
            Error::Unauthorized(_) => return Redirect::to("/login").into_response(),
            Error::Invalid { .. } | Error::Unprocessable { .. } | Error::TooLarge(_) => {
                (StatusCode::BAD_REQUEST, "Cannot do that")
            }
            Error::Conflict(_) | Error::LeaseLost(_) => (StatusCode::CONFLICT, "Cannot do that now"),
            Error::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts"),
            Error::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error on a page");
                let message = "Something went wrong on the server; its log has the details.".to_owned();
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, "Server error", message);
            }
        };
        let mut response = error_page(status, title, error.to_string());
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        }
        response
    }
}

/// The fallback: any other path outside `/v1` is the 404 page; under `/v1` the API's JSON 404.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        return Error::not_found(format!("route {}", uri.path())).into_response();
    }
    error_page(StatusCode::NOT_FOUND, "Not found", format!("There is no page at {}.", uri.path()))
}
