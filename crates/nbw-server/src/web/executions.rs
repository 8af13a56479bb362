//! The executions page: the history across the user's projects, filtered by project,
//! workflow, state, origin and time range, a page at a time by cursor (keyset on
//! `(created_at, id)`, see `store::executions::list_for_member`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime};
use nbw_core::api::{ExecutionState, Origin, Role};
use serde::Deserialize;

use super::page::{Chrome, PageError, render};
use super::rows::ExecLine;
use super::session::WebUser;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::state::AppState;
use crate::store::executions::{self, MemberFilter};
use crate::store::workflows;

/// Rows per page.
const PAGE: i64 = 50;

/// The filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    project: String,
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "executions.html")]
struct ExecutionsPage {
    chrome: Chrome,
    query: ListQuery,
    states: Vec<&'static str>,
    origins: Vec<&'static str>,
    lines: Vec<ExecLine>,
    next_page: Option<String>,
}

fn some(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// `2026-12-05` (midnight UTC) or `2026-12-05T06:30` (a `datetime-local` input), as epoch ms.
fn parse_time(field: &str, text: &str) -> Result<Option<i64>, Error> {
    let Some(text) = some(text) else { return Ok(None) };
    let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        });
    parsed.map(|t| Some(t.and_utc().timestamp_millis())).map_err(|_| {
        Error::invalid(format!("{field} {text:?} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"))
    })
}

fn parse_cursor(text: &str) -> Result<Option<(i64, String)>, Error> {
    let Some(text) = some(text) else { return Ok(None) };
    let bad = || Error::invalid("this page link is broken (bad cursor): start again from the first page");
    let (at, id) = text.split_once('~').ok_or_else(bad)?;
    Ok(Some((at.parse().map_err(|_| bad())?, id.to_owned())))
}

const ORIGINS: [Origin; 5] = [Origin::Web, Origin::Cli, Origin::Schedule, Origin::Pipeline, Origin::Retry];
const STATES: [ExecutionState; 8] = [
    ExecutionState::Queued,
    ExecutionState::Running,
    ExecutionState::Succeeded,
    ExecutionState::Failed,
    ExecutionState::TimedOut,
    ExecutionState::Cancelled,
    ExecutionState::Lost,
    ExecutionState::Expired,
];

/// The store's filter for the user's query; a project they are not in is not found.
async fn filter(state: &AppState, user: &WebUser, query: &ListQuery) -> Result<MemberFilter, PageError> {
    let mut filter =
        MemberFilter { user_id: user.caller.user_id.clone(), limit: PAGE + 1, ..Default::default() };
    if let Some(project) = some(&query.project) {
        let access = require_role(&state.db, project, &user.caller, Role::Viewer).await?;
        if let Some(name) = some(&query.workflow) {
            let row = workflows::by_name(&state.db, &access.project_id, name)
                .await?
                .ok_or_else(|| Error::not_found(format!("workflow {name:?}")))?;
            filter.workflow_id = Some(row.id);
        }
        filter.project_id = Some(access.project_id);
    } else if some(&query.workflow).is_some() {
        return Err(Error::invalid("a workflow filter needs its project: choose the project too").into());
    }
    if let Some(name) = some(&query.state) {
        let parsed = ExecutionState::parse(name).ok_or_else(|| {
            Error::invalid(format!(
                "state {name:?} is not one of: {}",
                STATES.map(nbw_core::api::ExecutionState::as_str).join(", ")
            ))
        })?;
        filter.state = Some(parsed.as_str().to_owned());
    }
    if let Some(prefix) = some(&query.origin) {
        let prefix = prefix.trim_end_matches('.');
        let origin = ORIGINS.into_iter().find(|o| o.prefix() == prefix).ok_or_else(|| {
            Error::invalid(format!("origin {prefix:?} is not one of: web, cli, sch, pip, rty"))
        })?;
        filter.origin = Some(origin.prefix().to_owned());
    }
    filter.since = parse_time("since", &query.since)?;
    filter.until = parse_time("until", &query.until)?;
    filter.after = parse_cursor(&query.cursor)?;
    Ok(filter)
}

/// The link to the page after the one ending with `last`.
fn next_link(query: &ListQuery, last: &ExecLine) -> String {
    let cursor = format!("{}~{}", last.created_ms, last.id);
    let pairs = [
        ("project", query.project.as_str()),
        ("workflow", &query.workflow),
        ("state", &query.state),
        ("origin", &query.origin),
        ("since", &query.since),
        ("until", &query.until),
        ("cursor", &cursor),
    ];
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
        url.append_pair(key, value);
    }
    format!("/executions?{}", url.finish())
}

/// `GET /executions`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let filter = filter(&state, &user, &query).await?;
    let mut lines: Vec<ExecLine> =
        executions::list_for_member(&state.db, &filter).await?.iter().map(ExecLine::of).collect();
    let next_page = if lines.len() as i64 > PAGE {
        lines.truncate(PAGE as usize);
        lines.last().map(|last| next_link(&query, last))
    } else {
        None
    };
    let page = ExecutionsPage {
        chrome: Chrome::of(&state, &user).await?,
        query,
        states: STATES.map(nbw_core::api::ExecutionState::as_str).to_vec(),
        origins: ORIGINS.map(nbw_core::api::Origin::prefix).to_vec(),
        lines,
        next_page,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_cursors_parse_or_say_what_to_type() {
        assert_eq!(parse_time("since", "1970-01-02").unwrap(), Some(86_400_000));
        assert_eq!(parse_time("since", "1970-01-01T00:01").unwrap(), Some(60_000));
        assert_eq!(parse_time("since", " ").unwrap(), None);
        assert!(parse_time("until", "yesterday").unwrap_err().to_string().contains("YYYY-MM-DD"));
        assert_eq!(parse_cursor("5~web.x").unwrap(), Some((5, "web.x".to_owned())));
        assert!(parse_cursor("nonsense").is_err());
    }
}
