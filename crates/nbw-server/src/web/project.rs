//! The project page: workflows (schedule in words, next fire, the last 20 outcomes, the
//! enable/disable toggle), pipelines (the same, with "Run now"), members, secret names, bundle versions, runtimes and their builds;
//! and its forms (the schedule toggle for editors, secrets for owners).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use nbw_core::api::{Member, Role, SecretName};

use super::human;
use super::page::{Chrome, PageError, render};
use super::pipeline::{self, PipelineLine};
use super::rows::ExecLine;
use super::session::{PostForm, WebUser};
use crate::auth::access::{ProjectAccess, require_role};
use crate::error::Error;
use crate::state::AppState;
use crate::store::bundles::BundleRow;
use crate::store::executions::{self, Filter};
use crate::store::runtimes::RuntimeRow;
use crate::store::workflows::WorkflowRow;
use crate::{secrets, store, workflows};

/// A workflow's line on the project page.
struct WorkflowLine {
    name: String,
    notebook: String,
    schedule: String,
    /// Has a schedule (an on-demand workflow has nothing to enable or disable).
    scheduled: bool,
    enabled: bool,
    next_fire: String,
    /// Oldest first, so the strip reads left to right.
    strip: Vec<ExecLine>,
    fire_error: bool,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    name: String,
    description: String,
    role: &'static str,
    can_edit: bool,
    is_owner: bool,
    workflows: Vec<WorkflowLine>,
    pipelines: Vec<PipelineLine>,
    members: Vec<Member>,
    secrets: Vec<SecretName>,
    bundles: Vec<BundleRow>,
    runtimes: Vec<RuntimeRow>,
    builds: Vec<ExecLine>,
}

async fn workflow_line(
    state: &AppState,
    access: &ProjectAccess,
    row: &WorkflowRow,
) -> Result<WorkflowLine, PageError> {
    let filter = Filter {
        project_id: access.project_id.clone(),
        workflow_id: Some(row.id.clone()),
        limit: 20,
        ..Default::default()
    };
    let mut strip: Vec<ExecLine> = executions::list(&state.db, &filter)
        .await?
        .iter()
        .map(|e| ExecLine::from_row(e, &access.name, Some(&row.name)))
        .collect();
    strip.reverse();
    let spec = row.spec();
    Ok(WorkflowLine {
        name: row.name.clone(),
        notebook: spec.notebook.clone(),
        schedule: spec.schedule.as_ref().map_or_else(|| "on demand".to_owned(), human::schedule),
        scheduled: spec.schedule.is_some(),
        enabled: row.enabled,
        next_fire: row.next_fire_at.map(human::time).unwrap_or_else(|| "—".to_owned()),
        strip,
        fire_error: row.fire_error.is_some(),
    })
}

/// `GET /projects/{project}`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(project): Path<String>,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &user.caller, Role::Viewer).await?;
    let info = store::projects::get(&state.db, &access.project_id, access.role)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    let mut lines = Vec::new();
    for row in store::workflows::list(&state.db, &access.project_id).await? {
        lines.push(workflow_line(&state, &access, &row).await?);
    }
    let builds = executions::builds(&state.db, &access.project_id, 10).await?;
    let page = ProjectPage {
        name: access.name.clone(),
        description: info.description,
        role: access.role.as_str(),
        can_edit: access.role >= Role::Editor,
        is_owner: access.role >= Role::Owner,
        workflows: lines,
        pipelines: pipeline::lines(&state, &access).await?,
        members: store::projects::members(&state.db, &access.project_id).await?,
        secrets: secrets::names(&state, &access.project_id).await?,
        bundles: store::bundles::list(&state.db, &access.project_id).await?,
        runtimes: store::runtimes::list(&state.db, &access.project_id, None).await?,
        builds: builds.iter().map(|row| ExecLine::from_row(row, &access.name, None)).collect(),
        chrome: Chrome::of(&state, &user).await?,
    };
    render(&page)
}

fn back_to(project: &str) -> Response {
    Redirect::to(&format!("/projects/{project}")).into_response()
}

/// `POST /projects/{project}/workflows/{workflow}/schedule`: `enabled=true|false` (editors).
pub async fn set_schedule(
    State(state): State<AppState>,
    Path((project, workflow)): Path<(String, String)>,
    form: PostForm,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &form.user.caller, Role::Editor).await?;
    let enabled = match form.fields.get("enabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(Error::invalid("the form must say enabled=true or enabled=false").into()),
    };
    workflows::set_enabled(&state, &access, &workflow, enabled).await?;
    Ok(back_to(&project))
}

/// `POST /projects/{project}/secrets`: sets `name` to `value` (owners). The value is never
/// shown again.
pub async fn set_secret(
    State(state): State<AppState>,
    Path(project): Path<String>,
    form: PostForm,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &form.user.caller, Role::Owner).await?;
    let name = form.fields.get("name").unwrap_or_default().trim();
    secrets::set(&state, &access.project_id, name, form.fields.get("value").unwrap_or_default()).await?;
    Ok(back_to(&project))
}

/// `POST /projects/{project}/secrets/{name}/delete` (owners).
pub async fn delete_secret(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    form: PostForm,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &form.user.caller, Role::Owner).await?;
    secrets::delete(&state, &access.project_id, &name).await?;
    Ok(back_to(&project))
}
