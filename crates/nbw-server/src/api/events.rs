//! Live events: `GET /v1/executions/{id}/events`, an execution's stored event stream as
//! server-sent events. Each event's `id` is its sequence number and its `event` its kind, so a
//! client resumes with `Last-Event-ID` (or `?after=SEQ`). Events are stored, so a finished
//! execution replays the same stream, then an `end` event, then the stream closes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use nbw_core::api::{ExecutionEvent, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{Path, Query};
use crate::auth::UserCaller;
use crate::error::Error;
use crate::executions::visible;
use crate::state::AppState;
use crate::store::queue as store;

/// How often a live stream reads the store without a local wake-up (events stored through
/// another server).
const POLL: Duration = Duration::from_millis(500);

/// Events read per query.
const PAGE: i64 = 500;

/// Event stream routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

#[derive(Debug, Deserialize, IntoParams)]
struct StreamQuery {
    /// Start after this sequence number (like `Last-Event-ID`, which wins when both are given).
    #[serde(default)]
    after: Option<u64>,
}

/// The execution's events as server-sent events (`id` = sequence number, `event` = kind, `data`
/// = the event as JSON), live while it runs; after the last event of a finished execution, an
/// `end` event whose data is `{"state": "..."}`, and the stream closes.
#[utoipa::path(get, path = "/v1/executions/{id}/events", tag = "executions", security(("bearer" = [])),
    params(("id" = String, Path, description = "execution id"), StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this sequence number")),
    responses((status = 200, content_type = "text/event-stream", description = "the event stream"),
        (status = 404, body = nbw_core::api::ErrorBody)))]
async fn stream_events(
    State(state): State<AppState>,
    caller: UserCaller,
    Path(id): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    visible(&state, &caller, &id, Role::Viewer).await?;
    let after = resume_point(&headers, query.after)?;
    Ok(live(state, id, after))
}

/// Where a stream starts: after `Last-Event-ID` when the client sent one (a reconnect), else
/// after `after` (`?after=SEQ`), else from the first event.
pub fn resume_point(headers: &HeaderMap, after: Option<u64>) -> Result<u64, Error> {
    match headers.get("last-event-id") {
        Some(value) => {
            value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(|| Error::Invalid {
                code: "invalid_header",
                message: "Last-Event-ID must be the sequence number of an event".into(),
            })
        }
        None => Ok(after.unwrap_or(0)),
    }
}

/// The event stream of execution `id` after sequence number `after`, for a caller already
/// allowed to see it (the API's bearer route and the web pages' cookie route share it).
pub fn live(state: AppState, id: String, after: u64) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let tail = Tail { state, id, after, pending: VecDeque::new(), done: false };
    Sse::new(events(tail)).keep_alive(KeepAlive::default())
}

/// Where a stream is.
struct Tail {
    state: AppState,
    id: String,
    after: u64,
    pending: VecDeque<ExecutionEvent>,
    done: bool,
}

fn events(tail: Tail) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(tail, |mut tail| async move {
        let event = next(&mut tail).await?;
        Some((Ok(event), tail))
    })
}

fn sse_event(event: &ExecutionEvent) -> Event {
    Event::default()
        .id(event.seq.to_string())
        .event(event.kind.as_str())
        .json_data(event)
        .expect("events serialize")
}

/// The next event to send; `None` ends the stream (after `end`, or on a storage error: the
/// client reconnects with `Last-Event-ID`).
async fn next(tail: &mut Tail) -> Option<Event> {
    loop {
        if let Some(event) = tail.pending.pop_front() {
            return Some(sse_event(&event));
        }
        if tail.done {
            return None;
        }
        let wake = tail.state.wake.clone();
        // Registered before reading, so events stored meanwhile still wake us.
        let woken = wake.events_notified();
        // The state is read before the events: a final state read here means every event is
        // stored already (none are accepted after the final transition).
        let final_state = match store::state_of(&tail.state.db, &tail.id).await {
            Ok(Some(state)) => state.is_final().then_some(state),
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, execution = %tail.id, "reading the execution's state failed");
                return None;
            }
        };
        match store::events_after(&tail.state.db, &tail.id, tail.after, PAGE).await {
            Ok(events) if !events.is_empty() => {
                tail.after = events.last().map(|e| e.seq).unwrap_or(tail.after);
                tail.pending.extend(events);
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, execution = %tail.id, "reading events failed");
                return None;
            }
        }
        if let Some(state) = final_state {
            tail.done = true;
            return Some(Event::default().event("end").data(serde_json::json!({"state": state}).to_string()));
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
