//! The pipeline run page: the graph with each step coloured by its state and linked to its
//! execution (kept live by `app.js` from the run's step events, here on the session cookie),
//! each step's timing and message, and for editors Cancel and "Re-run from failed".

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use nbw_core::api::{Origin, PipelineRunState, RerunPipeline, Role, StepRun, StepRunState};

use super::dag::{self, StepBox};
use super::human;
use super::page::{Chrome, PageError, render};
use super::pipeline::runs_what;
use super::session::{PostForm, WebUser};
use crate::api::pipeline_events;
use crate::auth::UserCaller;
use crate::auth::access::{ProjectAccess, require_role_by_id};
use crate::error::Error;
use crate::pipelines::runs;
use crate::state::AppState;
use crate::store::pipelines::{self as store, RunRow};

/// The run `id` if the caller has at least `min` in its project; a non-member gets the same
/// 404 as for a run that does not exist.
async fn visible_run(
    state: &AppState,
    caller: &UserCaller,
    id: &str,
    min: Role,
) -> Result<(RunRow, ProjectAccess), PageError> {
    let what = format!("pipeline run {id:?}");
    let row = store::run(&state.db, id).await?.ok_or_else(|| Error::not_found(what.clone()))?;
    let access = require_role_by_id(&state.db, &row.project_id, caller, min, &what).await?;
    Ok((row, access))
}

/// One step's line under the graph.
struct StepLine {
    step: StepRun,
    runs: String,
    duration: String,
}

impl StepLine {
    fn state(&self) -> String {
        state_name(self.step.state)
    }
}

fn state_name(state: StepRunState) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        _ => unreachable!("step states serialize as strings"),
    }
}

#[derive(Template)]
#[template(path = "pipeline_run.html")]
struct RunPage {
    chrome: Chrome,
    project: String,
    id: String,
    pipeline: String,
    state: String,
    live: bool,
    origin: String,
    rerun_of: Option<String>,
    message: Option<String>,
    created: String,
    started: String,
    finished: String,
    duration: String,
    graph: String,
    steps: Vec<StepLine>,
    can_cancel: bool,
    can_rerun: bool,
}

/// A step's duration is shown once it ended (the live page fills it in as steps end).
fn step_line(step: StepRun, runs: String) -> StepLine {
    let duration = match (step.started_at, step.finished_at) {
        (Some(start), Some(end)) => human::duration((end - start).num_milliseconds()),
        _ => String::new(),
    };
    StepLine { duration, runs, step }
}

/// `GET /pipeline-runs/{id}`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (row, access) = visible_run(&state, &user.caller, &id, Role::Viewer).await?;
    let spec = row.spec();
    let run_state = row.state();
    let steps = row.steps();
    let boxes: Vec<StepBox> = steps
        .iter()
        .map(|s| StepBox {
            detail: state_name(s.state),
            state: Some(state_name(s.state)),
            execution: s.execution_id.clone(),
        })
        .collect();
    let can_edit = access.role >= Role::Editor;
    let unfinished = steps.iter().any(|s| !matches!(s.state, StepRunState::Succeeded | StepRunState::Reused));
    let duration = row
        .started_at
        .map(|start| human::duration(row.finished_at.unwrap_or_else(crate::db::now_ms) - start))
        .unwrap_or_else(|| "—".to_owned());
    let page = RunPage {
        chrome: Chrome::of(&state, &user).await?,
        project: access.name.clone(),
        pipeline: row.pipeline.clone(),
        state: row.state.clone(),
        live: !run_state.is_final(),
        origin: row.origin.clone(),
        rerun_of: row.rerun_of.clone(),
        message: row.message.clone(),
        created: human::time(row.created_at),
        started: row.started_at.map_or_else(|| "—".to_owned(), human::time),
        finished: row.finished_at.map_or_else(|| "—".to_owned(), human::time),
        duration,
        graph: dag::svg("run-dag", &spec.steps, &boxes),
        steps: steps.into_iter().zip(&spec.steps).map(|(s, entry)| step_line(s, runs_what(entry))).collect(),
        can_cancel: can_edit && !run_state.is_final(),
        can_rerun: can_edit && run_state.is_final() && unfinished,
        id: row.id,
    };
    render(&page)
}

/// `POST /pipeline-runs/{id}/cancel` (editors).
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: PostForm,
) -> Result<Response, PageError> {
    let (row, _) = visible_run(&state, &form.user.caller, &id, Role::Editor).await?;
    runs::cancel(&state, &row.id, PipelineRunState::Cancelled, "cancelled by a user").await?;
    Ok(Redirect::to(&format!("/pipeline-runs/{id}")).into_response())
}

/// `POST /pipeline-runs/{id}/rerun` (editors): a new run of only what did not succeed; opens it.
pub async fn rerun(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: PostForm,
) -> Result<Response, PageError> {
    let (row, _) = visible_run(&state, &form.user.caller, &id, Role::Editor).await?;
    let request = RerunPipeline { from_failed: true, origin: Some(Origin::Web) };
    let run = runs::rerun(&state, &row, request, form.user.caller.user_id).await?;
    Ok(Redirect::to(&format!("/pipeline-runs/{}", run.id)).into_response())
}

/// `GET /pipeline-runs/{id}/events`: the API's step event stream for a browser session.
pub async fn events(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (row, _) = visible_run(&state, &user.caller, &id, Role::Viewer).await?;
    Ok(pipeline_events::live(state, &row, &headers)?.into_response())
}
