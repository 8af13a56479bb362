//! The workflow page: its schedule, why its last fire ran nothing, the "Run now" form built
//! from the notebook's parameters cell, and its history as a chart and a table.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nbw_core::api::{FireError, Origin, Role};

use super::chart;
use super::human;
use super::page::{Chrome, PageError, render_status};
use super::params::{self, Field};
use super::rows::ExecLine;
use super::session::{PostForm, WebUser};
use crate::auth::access::{ProjectAccess, require_role};
use crate::error::Error;
use crate::state::AppState;
use crate::store::executions::{self, Filter};
use crate::store::workflows::WorkflowRow;
use crate::{bundles, runs, workflows};

#[derive(Template)]
#[template(path = "workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    project: String,
    name: String,
    notebook: String,
    schedule: String,
    enabled: bool,
    next_fire: String,
    fire_error: Option<FireError>,
    can_run: bool,
    fields: Vec<Field>,
    /// Why the form has no fields from the notebook (no bundle, no parameters cell...).
    form_note: Option<String>,
    /// A run-now that was refused as a whole (not one field's fault).
    run_error: Option<String>,
    chart: String,
    history: Vec<ExecLine>,
}

/// The form's fields, or why there are none from the notebook.
async fn form_fields(
    state: &AppState,
    access: &ProjectAccess,
    row: &WorkflowRow,
) -> (Vec<Field>, Option<String>) {
    let spec = row.spec();
    match bundles::declared_parameters(
        state,
        &access.project_id,
        spec.bundle_version.as_deref(),
        &spec.notebook,
    )
    .await
    {
        Ok(declared) => {
            let note = declared.is_empty().then(|| {
                "The notebook has no cell tagged \"parameters\": it runs with its own values.".to_owned()
            });
            (params::fields(&declared, &spec.parameters), note)
        }
        Err(Error::Internal(e)) => {
            tracing::warn!(error = format!("{e:#}"), workflow = %row.name, "reading the notebook's parameters");
            (
                params::fields(&[], &spec.parameters),
                Some("The notebook's parameters could not be read.".into()),
            )
        }
        Err(other) => (params::fields(&[], &spec.parameters), Some(other.to_string())),
    }
}

async fn page(
    state: &AppState,
    user: &WebUser,
    access: &ProjectAccess,
    row: &WorkflowRow,
    fields: Vec<Field>,
    form_note: Option<String>,
) -> Result<WorkflowPage, PageError> {
    let filter = Filter {
        project_id: access.project_id.clone(),
        workflow_id: Some(row.id.clone()),
        limit: 50,
        ..Default::default()
    };
    let mut history: Vec<ExecLine> = executions::list(&state.db, &filter)
        .await?
        .iter()
        .map(|e| ExecLine::from_row(e, &access.name, Some(&row.name)))
        .collect();
    history.reverse();
    let chart = chart::history(&history);
    history.reverse();
    let spec = row.spec();
    let api = row.to_api();
    Ok(WorkflowPage {
        chrome: Chrome::of(state, user).await?,
        project: access.name.clone(),
        name: row.name.clone(),
        notebook: spec.notebook.clone(),
        schedule: spec.schedule.as_ref().map_or_else(|| "on demand".to_owned(), human::schedule),
        enabled: row.enabled,
        next_fire: row.next_fire_at.map(human::time).unwrap_or_else(|| "—".to_owned()),
        fire_error: api.last_fire_error,
        can_run: access.role >= Role::Editor,
        fields,
        form_note,
        run_error: None,
        chart,
        history,
    })
}

/// `GET /projects/{project}/workflows/{workflow}`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path((project, workflow)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &user.caller, Role::Viewer).await?;
    let row = workflows::find(&state, &access, &workflow).await?;
    let (fields, note) = form_fields(&state, &access, &row).await;
    render_status(StatusCode::OK, &page(&state, &user, &access, &row, fields, note).await?)
}

/// `POST /projects/{project}/workflows/{workflow}/run` (editors): checks every field, then
/// queues the run and opens its page; a bad value shows the form again, nothing queued.
pub async fn run(
    State(state): State<AppState>,
    Path((project, workflow)): Path<(String, String)>,
    form: PostForm,
) -> Result<Response, PageError> {
    let access = require_role(&state.db, &project, &form.user.caller, Role::Editor).await?;
    let row = workflows::find(&state, &access, &workflow).await?;
    let (mut fields, note) = form_fields(&state, &access, &row).await;
    let Some(parameters) = params::read(&mut fields, &form.fields) else {
        let page = page(&state, &form.user, &access, &row, fields, note).await?;
        return render_status(StatusCode::BAD_REQUEST, &page);
    };
    let queued = runs::enqueue_workflow(
        &state,
        &row,
        Origin::Web,
        parameters,
        Some(form.user.caller.user_id.clone()),
        None,
    )
    .await;
    match queued {
        Ok(Some(execution)) => Ok(Redirect::to(&format!("/executions/{}", execution.id)).into_response()),
        Ok(None) => Err(Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")).into()),
        Err(error @ (Error::Invalid { .. } | Error::Unprocessable { .. } | Error::NotFound(_))) => {
            let mut page = page(&state, &form.user, &access, &row, fields, note).await?;
            page.run_error = Some(error.to_string());
            render_status(StatusCode::BAD_REQUEST, &page)
        }
        Err(other) => Err(other.into()),
    }
}
