//! Live steps of a pipeline run: `GET /v1/projects/{project}/pipeline-runs/{id}/events`. Every
//! change of a run bumps its version, which is each event's `id`: a `step` event (data: the
//! `StepRun`) for each step that changed since the client's `Last-Event-ID` (all of them on a
//! first connection or after a gap), then, once the run ended, one `run_end` event (data: the
//! `PipelineRun`) and the stream closes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use nbw_core::api::{Role, StepRun};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Path;
use crate::auth::UserCaller;
use crate::auth::access::require_role;
use crate::error::Error;
use crate::pipelines::runs;
use crate::state::AppState;
use crate::store::pipelines as store;

/// How often a live stream reads the run without a local wake-up (changes made by another
/// server).
const POLL: Duration = Duration::from_millis(500);

/// Pipeline run event routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_run))
}

/// The run's step changes as server-sent events, live until it ends.
#[utoipa::path(get, path = "/v1/projects/{project}/pipeline-runs/{id}/events", tag = "pipelines", security(("bearer" = [])),
    params(("project" = String, Path, description = "project name"), ("id" = String, Path),
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this run version")),
    responses((status = 200, content_type = "text/event-stream", description = "step and run_end events"),
        (status = 404, body = nbw_core::api::ErrorBody)))]
async fn stream_run(
    State(state): State<AppState>,
    caller: UserCaller,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let access = require_role(&state.db, &project, &caller, Role::Viewer).await?;
    let run = runs::find(&state, &access, &id).await?;
    live(state, &run, &headers)
}

/// The live stream of `run` for a caller already allowed to see it (the API's route, and the
/// web page's on the session cookie), resumed after the `Last-Event-ID` of `headers`.
pub fn live(
    state: AppState,
    run: &store::RunRow,
    headers: &HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, Error> {
    let seen = match headers.get("last-event-id") {
        Some(value) => {
            Some(value.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()).ok_or_else(|| {
                Error::Invalid {
                    code: "invalid_header",
                    message: "Last-Event-ID must be the id of an event".into(),
                }
            })?)
        }
        None => None,
    };
    // Steps as the client saw them: none known when it starts, or resumes after a change.
    let known = if seen == Some(run.version) { run.steps() } else { Vec::new() };
    let tail = Tail {
        state,
        id: run.id.clone(),
        version: seen.unwrap_or(-1),
        known,
        pending: Vec::new(),
        done: false,
    };
    Ok(Sse::new(events(tail)).keep_alive(KeepAlive::default()))
}

/// Where a stream is.
struct Tail {
    state: AppState,
    id: String,
    version: i64,
    known: Vec<StepRun>,
    pending: Vec<Event>,
    done: bool,
}

fn events(tail: Tail) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(tail, |mut tail| async move {
        let event = next(&mut tail).await?;
        Some((Ok(event), tail))
    })
}

/// The next event; `None` ends the stream (after `run_end`, or on a storage error: the client
/// reconnects with `Last-Event-ID`).
async fn next(tail: &mut Tail) -> Option<Event> {
    loop {
        if !tail.pending.is_empty() {
            return Some(tail.pending.remove(0));
        }
        if tail.done {
            return None;
        }
        let wake = tail.state.wake.clone();
        let woken = wake.events_notified();
        let run = match store::run(&tail.state.db, &tail.id).await {
            Ok(Some(run)) => run,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, run = %tail.id, "reading the pipeline run failed");
                return None;
            }
        };
        if run.version != tail.version {
            let id = run.version.to_string();
            let steps = run.steps();
            for step in steps.iter().filter(|s| !tail.known.iter().any(|k| same(k, s))) {
                tail.pending
                    .push(Event::default().id(&id).event("step").json_data(step).expect("steps serialize"));
            }
            tail.known = steps;
            tail.version = run.version;
        }
        if run.state().is_final() {
            tail.done = true;
            let end = Event::default().id(run.version.to_string()).event("run_end");
            tail.pending.push(end.json_data(run.to_api()).expect("runs serialize"));
            continue;
        }
        if !tail.pending.is_empty() {
            continue;
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Whether two views of a step say the same.
fn same(a: &StepRun, b: &StepRun) -> bool {
    a.name == b.name && a.state == b.state && a.execution_id == b.execution_id && a.message == b.message
}
