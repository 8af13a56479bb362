//! The web UI: server-rendered pages at `/`, served by the server itself (and so by `nbw
//! standalone`), for people who would rather look at a rendered notebook than read JSON.
//!
//! Templates are askama's: Jinja-like HTML files in `crates/nbw-server/templates/`, compiled
//! into Rust at build time, so a misspelt field or a wrong type is a compile error, not a 500 in
//! production; every `{{ value }}` is HTML-escaped unless marked `|safe` (only nbw-render's
//! sanitized notebook and the SVG chart this module draws are). Chosen over maud, whose
//! templates are Rust macros (harder for a reader to see as HTML), and over minijinja, which
//! checks templates only at run time.
//!
//! Handlers are thin, like the API's: the session and the caller's role first, then the
//! server's services (`executions`, `runs`, `workflows`, `secrets`, `store/`); no SQL here. A
//! non-member gets the 404 page; a viewer sees no button it could not use.
//!
//! # Routes
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/login?next=PATH` | login form `form#login` (fields `username`, `password`, `csrf`, `next`); a wrong password shows `#login-error` |
//! | POST | `/login` | logs in, sets the session cookie `nbw_session`, redirects (303) to `next` |
//! | POST | `/logout` | `form#logout` (field `csrf`); revokes the session |
//! | GET | `/` | home: `#my-projects`, `#running`, `#queued`, `#failures` |
//! | GET | `/projects/{project}` | `#workflows` (rows `tr.workflow[data-workflow]`, strips `.strip`), `#pipelines` (rows `tr.pipeline[data-pipeline]`), `#members`, `#secrets`, `#bundles`, `#runtimes`, `#builds` |
//! | POST | `/projects/{project}/workflows/{workflow}/schedule` | `form.schedule-toggle` (fields `csrf`, `enabled` = `true`/`false`), editors |
//! | POST | `/projects/{project}/secrets` | `form#secret-set` (fields `csrf`, `name`, `value`), owners |
//! | POST | `/projects/{project}/secrets/{name}/delete` | `form.secret-delete` (field `csrf`), owners |
//! | GET | `/projects/{project}/workflows/{workflow}` | `form#run-now`, `#history`, `svg#history-chart`, `#last-fire-error` |
//! | POST | `/projects/{project}/workflows/{workflow}/run` | run now (fields `csrf`, `p.<parameter>` per parameter); errors `.field-error[data-field=NAME]`, re-shown with status 400 |
//! | GET | `/projects/{project}/pipelines/{name}` | `svg#pipeline-dag` (boxes `g.step[data-step]`, edges `path.edge[data-from][data-to]`), `#definition`, `#steps`, `#history` (rows `tr.pipeline-run[data-run][data-state]`), `form#pipeline-run-now` (editors) |
//! | POST | `/projects/{project}/pipelines/{name}/run` | run now (field `csrf`), editors; the project page's `form.pipeline-run-now` too; opens the run |
//! | GET | `/pipeline-runs/{id}` | `#pipeline-run[data-state][data-live]`, `svg#run-dag` (boxes `g.step[data-step][data-state]`, each linking to its execution), `#step-runs`, `form#pipeline-cancel`, `form#pipeline-rerun` |
//! | POST | `/pipeline-runs/{id}/cancel`, `/pipeline-runs/{id}/rerun` | field `csrf`, editors; re-run is from the failed steps |
//! | GET | `/pipeline-runs/{id}/events` | the API's pipeline step stream, authenticated by the session cookie (same role check) |
//! | GET | `/executions?project=&workflow=&state=&origin=&since=&until=&cursor=` | `form#filters`, `table.exec-table`, `a#next-page` |
//! | GET | `/executions/{id}` | `#execution[data-state][data-live]`, `#facts`, `#attempts`, `#live-cells`, `#notebook`, `#failed-cell-link`, `form#cancel`, `form#rerun`, `a#download` |
//! | POST | `/executions/{id}/cancel`, `/executions/{id}/rerun` | field `csrf`, editors |
//! | GET | `/executions/{id}/download` | the output `.ipynb` (attachment) |
//! | GET | `/executions/{id}/events` | the API's SSE stream, authenticated by the session cookie (same role check) |
//! | GET | `/agents` | `#agents` (rows `tr.agent[data-online]`), administrators; others get a note |
//! | GET | `/assets/app.<hash>.css`, `/assets/app.<hash>.js`, `/assets/frame.<hash>.js` | the embedded assets, cached for a year |
//! | any | anything else outside `/v1` | the 404 page `#error[data-status=404]` |
//!
//! Markers a test can rely on: state badges `.badge.state-<state>`; execution table rows
//! `tr.exec[data-execution][data-state]`; live cells `#live-cells .live-cell[data-cell][data-state]`
//! (`running`, `ok`, `error`) while an execution runs, and the rendered notebook's cells
//! `#notebook .nb-cell` afterwards (nbw-render's markup); `body` carries nothing per user.
//! Every POST form has a hidden `csrf` field; a POST without the session's token is the 403
//! page and changes nothing. Every response carries the Content-Security-Policy of
//! [`headers`].

mod agents;
mod assets;
mod chart;
mod dag;
mod execution;
mod executions;
mod frames;
mod headers;
mod home;
mod human;
mod login;
mod page;
mod params;
mod pipeline;
mod pipeline_run;
mod project;
mod rows;
mod session;
mod workflow;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The pages, their forms, their assets and the 404 page for every other path.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/", get(home::show))
        .route("/projects/{project}", get(project::show))
        .route("/projects/{project}/workflows/{workflow}/schedule", post(project::set_schedule))
        .route("/projects/{project}/secrets", post(project::set_secret))
        .route("/projects/{project}/secrets/{name}/delete", post(project::delete_secret))
        .route("/projects/{project}/workflows/{workflow}", get(workflow::show))
        .route("/projects/{project}/workflows/{workflow}/run", post(workflow::run))
        .route("/projects/{project}/pipelines/{name}", get(pipeline::show))
        .route("/projects/{project}/pipelines/{name}/run", post(pipeline::run))
        .route("/pipeline-runs/{id}", get(pipeline_run::show))
        .route("/pipeline-runs/{id}/cancel", post(pipeline_run::cancel))
        .route("/pipeline-runs/{id}/rerun", post(pipeline_run::rerun))
        .route("/pipeline-runs/{id}/events", get(pipeline_run::events))
        .route("/executions", get(executions::show))
        .route("/executions/{id}", get(execution::show))
        .route("/executions/{id}/cancel", post(execution::cancel))
        .route("/executions/{id}/rerun", post(execution::rerun))
        .route("/executions/{id}/download", get(execution::download))
        .route("/executions/{id}/events", get(execution::events))
        .route("/agents", get(agents::show))
        .route("/assets/{file}", get(assets::serve))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), page::with_user_bar))
        .with_state(state)
        .layer(axum::middleware::from_fn(headers::secure))
}
