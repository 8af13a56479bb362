//! The execution page: what ran (state, origin, parameters, timing, agent, image, the chain of
//! attempts), its cells live while it runs (the API's event stream, here authenticated by the
//! session cookie, read by `app.js`), and once it is over the rendered output notebook
//! (nbw-render) with the failing cell linked from the top; and its actions: cancel, run again,
//! download.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use nbw_core::api::{Role, StepContext};
use nbw_render::{RenderOptions, render_notebook};
use serde::Deserialize;

use super::frames;
use super::human;
use super::page::{Chrome, PageError, render};
use super::session::{PostForm, WebUser};
use crate::api::events;
use crate::artifacts::ArtifactKey;
use crate::executions::{self, visible};
use crate::state::AppState;
use crate::store::executions::{ExecutionRow, next_attempt};
use crate::store::{agents, workflows};

/// The rendered output notebook and what the page says around it.
struct Notebook {
    html: String,
    failed_anchor: Option<String>,
    failed_cell: Option<usize>,
    cells: usize,
}

#[derive(Template)]
#[template(path = "execution.html")]
struct ExecutionPage {
    chrome: Chrome,
    id: String,
    project: String,
    workflow: Option<String>,
    notebook_path: String,
    state: String,
    live: bool,
    origin: String,
    /// The pipeline run and step this execution is, for a `pip.` step.
    step: Option<StepContext>,
    attempt: i64,
    first_attempt: Option<String>,
    previous_attempt: Option<String>,
    next_attempt: Option<String>,
    parameters: Vec<(String, String)>,
    bundle_version: String,
    image: Option<String>,
    agent: Option<String>,
    created: String,
    started: String,
    finished: String,
    duration: String,
    message: Option<String>,
    cancel_requested: bool,
    can_edit: bool,
    has_output: bool,
    notebook: Option<Notebook>,
}

/// The output notebook rendered, if one was stored (a notebook that is not JSON says so).
async fn rendered(state: &AppState, row: &ExecutionRow) -> Result<Option<Notebook>, PageError> {
    if row.output_key.is_none() {
        return Ok(None);
    }
    let Some(bytes) = state
        .artifacts
        .get(&ArtifactKey::Output(row.id.clone()))
        .await
        .map_err(crate::error::Error::Internal)?
    else {
        return Ok(None);
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let page = render_notebook(&json, &RenderOptions { id_prefix: "nb-".into(), frame_scripts: false });
    let failed = page.failed_cell().map(|cell| cell.index + 1);
    Ok(Some(Notebook {
        cells: page.cell_count(),
        failed_cell: failed,
        failed_anchor: page.error_anchor,
        html: frames::fitting(&page.html),
    }))
}

async fn agent_name(state: &AppState, row: &ExecutionRow) -> Result<Option<String>, PageError> {
    let Some(id) = &row.agent_id else { return Ok(None) };
    Ok(Some(agents::agent_by_id(&state.db, id).await?.map_or_else(|| id.clone(), |a| a.name)))
}

/// `GET /executions/{id}`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (row, access) = visible(&state, &user.caller, &id, Role::Viewer).await?;
    let api = row.to_api();
    let workflow = match &row.workflow_id {
        Some(wid) => workflows::by_id(&state.db, wid).await?.map(|w| w.name),
        None => None,
    };
    let live = !api.state.is_final();
    let notebook = if live { None } else { rendered(&state, &row).await? };
    let duration = match (row.started_at, row.finished_at) {
        (Some(start), Some(end)) => human::duration(end - start),
        (Some(start), None) => format!("{} so far", human::duration(crate::db::now_ms() - start)),
        _ => "—".to_owned(),
    };
    let page = ExecutionPage {
        chrome: Chrome::of(&state, &user).await?,
        project: access.name.clone(),
        workflow,
        notebook_path: api.spec.notebook.clone(),
        state: row.state.clone(),
        live,
        origin: row.origin.clone(),
        step: api.spec.step.clone(),
        attempt: row.attempt,
        first_attempt: row.first_attempt_id.clone().filter(|first| *first != row.id),
        previous_attempt: row.previous_attempt_id.clone(),
        next_attempt: next_attempt(&state.db, &row.id).await?,
        parameters: api
            .spec
            .parameters
            .iter()
            .map(|(name, value)| (name.to_owned(), serde_json::to_string(value).unwrap_or_default()))
            .collect(),
        bundle_version: api.spec.bundle_version.clone(),
        image: api.spec.container.as_ref().map(|c| c.image.clone()),
        agent: agent_name(&state, &row).await?,
        created: human::time(row.created_at),
        started: human::time_opt(api.started_at),
        finished: human::time_opt(api.finished_at),
        duration,
        message: api.result.as_ref().and_then(|r| r.message.clone()),
        cancel_requested: row.cancel_requested,
        can_edit: access.role >= Role::Editor,
        has_output: api.has_output,
        notebook,
        id: row.id,
    };
    render(&page)
}

/// `POST /executions/{id}/cancel` (editors).
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: PostForm,
) -> Result<Response, PageError> {
    executions::cancel(&state, &form.user.caller, &id).await?;
    Ok(Redirect::to(&format!("/executions/{id}")).into_response())
}

/// `POST /executions/{id}/rerun` (editors): a new run with the same parameters; opens it.
pub async fn rerun(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: PostForm,
) -> Result<Response, PageError> {
    let execution = executions::rerun(&state, &form.user.caller, &id).await?;
    Ok(Redirect::to(&format!("/executions/{}", execution.id)).into_response())
}

/// `GET /executions/{id}/download`: the output notebook as an attachment.
pub async fn download(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (name, bytes) = executions::output(&state, &user.caller, &id).await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ipynb+json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `?after=` of the event stream.
#[derive(Debug, Deserialize)]
pub struct AfterQuery {
    after: Option<u64>,
}

/// `GET /executions/{id}/events`: the API's event stream for a browser session.
pub async fn events(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(query): Query<AfterQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    visible(&state, &user.caller, &id, Role::Viewer).await?;
    let after = events::resume_point(&headers, query.after)?;
    Ok(events::live(state, id, after).into_response())
}
