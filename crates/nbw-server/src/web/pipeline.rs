//! The pipeline page: its steps drawn as a graph, its definition (each step's notebook or
//! workflow, what it needs, its parameters; the schedule, the shared volume) and its run
//! history; and "Run now" for editors. Also the pipeline lines of the project page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use nbw_core::api::{FireError, Origin, Role, RunPipeline};
use nbw_core::pipeline::{PipelineEntry, StepEntry, When, dag as order};

use super::dag::{self, StepBox};
use super::human;
use super::page::{Chrome, PageError, render};
use super::session::{PostForm, WebUser};
use crate::auth::access::{ProjectAccess, require_role};
use crate::error::Error;
use crate::pipelines::{self, runs};
use crate::state::AppState;
use crate::store::pipelines::{self as store, PipelineRow, RunRow};

/// Runs shown in a pipeline's history and in its strip on the project page.
const HISTORY: i64 = 20;

/// A pipeline run as one line of a table or one mark of a strip.
#[derive(Debug, Clone)]
pub struct RunLine {
    /// Id (`pip.`; the page is `/pipeline-runs/{id}`).
    pub id: String,
    /// State name (`state-{state}` badge).
    pub state: String,
    /// Origin prefix.
    pub origin: String,
    /// Creation time, in words.
    pub created: String,
    /// Start time, in words, or a dash.
    pub started: String,
    /// Run time, in words, once started.
    pub duration: String,
}

impl RunLine {
    /// The line of a run row.
    pub fn of(row: &RunRow) -> RunLine {
        let duration = row
            .started_at
            .map(|start| human::duration(row.finished_at.unwrap_or_else(crate::db::now_ms) - start));
        RunLine {
            id: row.id.clone(),
            state: row.state.clone(),
            origin: row.origin.clone(),
            created: human::time(row.created_at),
            started: row.started_at.map_or_else(|| "—".to_owned(), human::time),
            duration: duration.unwrap_or_default(),
        }
    }
}

/// A pipeline's schedule in words.
pub fn schedule_words(spec: &PipelineEntry) -> String {
    spec.schedule.as_ref().map_or_else(|| "on demand".to_owned(), |s| human::schedule(&s.to_api()))
}

/// What a step runs: `notebooks/x.ipynb` or `workflow report`.
pub fn runs_what(step: &StepEntry) -> String {
    match (&step.workflow, &step.notebook) {
        (Some(workflow), _) => format!("workflow {workflow}"),
        (None, Some(notebook)) => notebook.clone(),
        (None, None) => "—".to_owned(),
    }
}

/// A pipeline's line on the project page.
pub struct PipelineLine {
    /// Name.
    pub name: String,
    /// How many steps.
    pub steps: usize,
    /// Schedule in words.
    pub schedule: String,
    /// Whether a schedule fires.
    pub scheduled: bool,
    /// Next fire, in words.
    pub next_fire: String,
    /// The last runs, oldest first.
    pub strip: Vec<RunLine>,
}

/// The lines of a project's pipelines.
pub async fn lines(state: &AppState, access: &ProjectAccess) -> Result<Vec<PipelineLine>, PageError> {
    let mut lines = Vec::new();
    for row in store::list(&state.db, &access.project_id).await? {
        let spec = row.spec();
        let mut strip: Vec<RunLine> = store::runs_of(&state.db, &access.project_id, &row.name, None, HISTORY)
            .await?
            .iter()
            .map(RunLine::of)
            .collect();
        strip.reverse();
        lines.push(PipelineLine {
            steps: spec.steps.len(),
            schedule: schedule_words(&spec),
            scheduled: spec.schedule.is_some() && row.enabled,
            next_fire: row.next_fire_at.map_or_else(|| "—".to_owned(), human::time),
            name: row.name,
            strip,
        });
    }
    Ok(lines)
}

/// One step in the definition table.
struct StepLine {
    name: String,
    runs: String,
    needs: String,
    parameters: Vec<(String, String)>,
    always: bool,
}

#[derive(Template)]
#[template(path = "pipeline.html")]
struct PipelinePage {
    chrome: Chrome,
    project: String,
    name: String,
    description: String,
    schedule: String,
    enabled: bool,
    next_fire: String,
    fire_error: Option<FireError>,
    shared: String,
    max_parallel: u32,
    timeout: String,
    bundle: String,
    graph: String,
    steps: Vec<StepLine>,
    history: Vec<RunLine>,
    can_run: bool,
}

/// What the shared volume of a pipeline is, in words.
fn shared_words(spec: &PipelineEntry) -> String {
    match (spec.shared_volume, spec.shared_folders.is_empty()) {
        (_, false) => {
            format!("folders {} carried from step to step (one agent)", spec.shared_folders.join(", "))
        }
        (true, true) => "one volume for every step, at NBW_SHARED".to_owned(),
        (false, true) => "none: steps may run on different agents".to_owned(),
    }
}

fn step_lines(spec: &PipelineEntry) -> Vec<StepLine> {
    let ups = order::upstreams(&spec.steps);
    spec.steps
        .iter()
        .zip(&ups)
        .map(|(step, ups)| StepLine {
            name: step.name.clone(),
            runs: runs_what(step),
            needs: ups.iter().map(|&u| spec.steps[u].name.as_str()).collect::<Vec<_>>().join(", "),
            parameters: step
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap_or_default()))
                .collect(),
            always: step.when == When::Always,
        })
        .collect()
}

/// The graph of a definition, each box saying what the step runs.
fn definition_graph(spec: &PipelineEntry) -> String {
    let boxes: Vec<StepBox> =
        spec.steps.iter().map(|s| StepBox { detail: runs_what(s), state: None, execution: None }).collect();
    dag::svg("pipeline-dag", &spec.steps, &boxes)
}

async fn page(
    state: &AppState,
    user: &WebUser,
    access: &ProjectAccess,
    row: PipelineRow,
) -> Result<PipelinePage, PageError> {
    let spec = row.spec();
    let history = store::runs_of(&state.db, &access.project_id, &row.name, None, HISTORY).await?;
    let api = row.to_api();
    Ok(PipelinePage {
        chrome: Chrome::of(state, user).await?,
        project: access.name.clone(),
        description: spec.description.clone().unwrap_or_default(),
        schedule: schedule_words(&spec),
        enabled: row.enabled,
        next_fire: row.next_fire_at.map_or_else(|| "—".to_owned(), human::time),
        fire_error: api.last_fire_error,
        shared: shared_words(&spec),
        max_parallel: spec.max_parallel.unwrap_or(1),
        timeout: spec.timeout.map_or_else(|| "none".to_owned(), |t| human::duration(t.0 as i64 * 1000)),
        bundle: row.bundle_version.clone().unwrap_or_else(|| "the latest".to_owned()),
        graph: definition_graph(&spec),
        steps: step_lines(&spec),
        history: history.iter().map(RunLine::of).collect(),
        can_run: access.role >= Role::Editor,
        name: row.name,
    })
}

/// `GET /projects/{project}/pipelines/{name}`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &user.caller, Role::Viewer).await?;
    let row = pipelines::find(&state, &access, &name).await?;
    render(&page(&state, &user, &access, row).await?)
}

/// `POST /projects/{project}/pipelines/{name}/run` (editors): a run with the definition's
/// parameters; opens its page.
pub async fn run(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    form: PostForm,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &form.user.caller, Role::Editor).await?;
    let pipeline = pipelines::find(&state, &access, &name).await?;
    let trigger =
        runs::Trigger { origin: Origin::Web, created_by: Some(form.user.caller.user_id), fire_at: None };
    let run = runs::start(&state, &pipeline, RunPipeline::default(), trigger)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))?;
    Ok(Redirect::to(&format!("/pipeline-runs/{}", run.id)).into_response())
}
