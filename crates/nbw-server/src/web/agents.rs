//! The agents page (administrators, as the API's `GET /v1/agents`): online or offline, labels,
//! version, current runs, last seen. Others are told the page is for administrators.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use nbw_core::api::Agent;

use super::human;
use super::page::{Chrome, PageError, render, render_status};
use super::session::WebUser;
use crate::auth;
use crate::state::AppState;
use crate::store::queue;

/// One agent's line.
struct AgentLine {
    agent: Agent,
    last_seen: String,
    labels: String,
    running: Vec<String>,
}

#[derive(Template)]
#[template(path = "agents.html")]
struct AgentsPage {
    chrome: Chrome,
    allowed: bool,
    agents: Vec<AgentLine>,
}

/// `GET /agents`.
pub async fn show(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let chrome = Chrome::of(&state, &user).await?;
    if user.caller.require_admin().is_err() {
        return render_status(
            StatusCode::FORBIDDEN,
            &AgentsPage { chrome, allowed: false, agents: Vec::new() },
        );
    }
    let mut lines = Vec::new();
    // Online as the API says it (one rule: `auth::agents::list`).
    for agent in auth::agents::list(&state).await? {
        let running = queue::running_on(&state.db, &agent.id).await?.into_iter().map(|row| row.id).collect();
        lines.push(AgentLine {
            last_seen: human::time_opt(agent.last_heartbeat_at),
            labels: agent.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
            running,
            agent,
        });
    }
    render(&AgentsPage { chrome, allowed: true, agents: lines })
}
