//! The home page: the user's projects, what runs and waits now, and the last failures.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use nbw_core::api::Project;

use super::page::{Chrome, PageError, render};
use super::rows::ExecLine;
use super::session::WebUser;
use crate::state::AppState;
use crate::store::executions::{self, MemberFilter};
use crate::store::projects;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    projects: Vec<Project>,
    running: Vec<ExecLine>,
    queued: Vec<ExecLine>,
    failures: Vec<ExecLine>,
}

async fn lines(state: &AppState, filter: MemberFilter) -> Result<Vec<ExecLine>, PageError> {
    Ok(executions::list_for_member(&state.db, &filter).await?.iter().map(ExecLine::of).collect())
}

/// `GET /`.
pub async fn show(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let base = MemberFilter { user_id: user.caller.user_id.clone(), limit: 20, ..Default::default() };
    let of_state = |name: &str| MemberFilter { state: Some(name.to_owned()), ..base.clone() };
    let page = HomePage {
        projects: projects::list_for_user(&state.db, &user.caller.user_id).await?,
        running: lines(&state, of_state("running")).await?,
        queued: lines(&state, of_state("queued")).await?,
        failures: lines(&state, MemberFilter { failures: true, limit: 10, ..base.clone() }).await?,
        chrome: Chrome::of(&state, &user).await?,
    };
    render(&page)
}
