//! What a user does with the API (the CLI's calls): log in, push bundles, manage workflows,
//! run notebooks, follow and fetch executions, build runtimes, set secrets.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use nbw_core::api::{
    Bundle, CreateBuild, CreateExecution, CreateProject, Execution, ExecutionEvent, ExecutionState,
    LoginRequest, Page, Project, RefreshRequest, RegisterRuntime, RunWorkflow, Runtime, SecretName,
    SetSecret, Tokens, User, Workflow, WorkflowInput,
};
use reqwest::Method;

use crate::ClientError;
use crate::http::Http;

/// Filters of the execution history (`GET /v1/projects/{p}/executions`).
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this workflow's executions (by name).
    pub workflow: Option<String>,
    /// Only executions in this state.
    pub state: Option<ExecutionState>,
    /// Page size (1 to 500).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One item of an execution's live event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A stored event.
    Event(ExecutionEvent),
    /// The execution is over and every event was sent; the stream closes after this.
    End(ExecutionState),
}

/// An execution's events as they come; ends after [`StreamItem::End`], or early when the
/// connection breaks (resume from the last sequence number seen).
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamItem, ClientError>> + Send>>;

/// How big the pieces of an upload are (and so how often its progress moves).
const UPLOAD_CHUNK: usize = 64 * 1024;

/// Longest time for an upload or a download: big bundles on slow links take a while.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);

/// Longest life of one event stream connection; a watcher reconnects after it.
const STREAM_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// `text` as one URL path segment.
pub(crate) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A user's connection to the server, with the user's access token (or none, to log in): the
/// routes a person calls through the CLI.
#[derive(Debug, Clone)]
pub struct UserClient {
    pub(crate) http: Http,
}

impl UserClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`) using a user's access
    /// token (empty to log in).
    pub fn new(base: &str, access_token: &str) -> Result<UserClient, ClientError> {
        Ok(UserClient { http: Http::new(base, access_token)? })
    }

    // --- auth -----------------------------------------------------------------------------

    /// Logs in (the client's own token is not used).
    pub async fn login(&self, username: &str, password: &str) -> Result<Tokens, ClientError> {
        let body = LoginRequest { username: username.to_owned(), password: password.to_owned() };
        self.http.json(Method::POST, "/v1/auth/login", Some(&body)).await
    }

    /// Trades a refresh token for new tokens; the old refresh token is spent.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ClientError> {
        let body = RefreshRequest { refresh_token: refresh_token.to_owned() };
        self.http.json(Method::POST, "/v1/auth/refresh", Some(&body)).await
    }

    /// Revokes a refresh token and every token of its login.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ClientError> {
        let body = RefreshRequest { refresh_token: refresh_token.to_owned() };
        self.http.call(Method::POST, "/v1/auth/logout", Some(&body)).await
    }

    /// The logged-in user.
    pub async fn me(&self) -> Result<User, ClientError> {
        self.http.json::<(), _>(Method::GET, "/v1/users/me", None).await
    }

    // --- projects and bundles -------------------------------------------------------------

    /// One project (404 `not_found` when missing or not a member).
    pub async fn project(&self, project: &str) -> Result<Project, ClientError> {
        self.http.json::<(), _>(Method::GET, &format!("/v1/projects/{}", segment(project)), None).await
    }

    /// Creates a project; the caller becomes its owner.
    pub async fn create_project(&self, name: &str, description: &str) -> Result<Project, ClientError> {
        let body = CreateProject { name: name.to_owned(), description: description.to_owned() };
        self.http.json(Method::POST, "/v1/projects", Some(&body)).await
    }

    /// The project's bundles, newest first.
    pub async fn bundles(&self, project: &str) -> Result<Vec<Bundle>, ClientError> {
        self.http
            .json::<(), _>(Method::GET, &format!("/v1/projects/{}/bundles", segment(project)), None)
            .await
    }

    /// Uploads a bundle archive as `version`; `progress` hears the bytes sent so far. A
    /// version already holding the same archive is a no-op.
    pub async fn upload_bundle(
        &self,
        project: &str,
        version: &str,
        archive: Vec<u8>,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<Bundle, ClientError> {
        let path = format!("/v1/projects/{}/bundles?version={}", segment(project), segment(version));
        let archive = bytes::Bytes::from(archive);
        let total = archive.len();
        let chunks: Vec<bytes::Bytes> = (0..total)
            .step_by(UPLOAD_CHUNK)
            .map(|at| archive.slice(at..(at + UPLOAD_CHUNK).min(total)))
            .collect();
        let mut sent = 0u64;
        let stream = futures::stream::iter(chunks).map(move |chunk| {
            sent += chunk.len() as u64;
            progress(sent);
            Ok::<_, std::io::Error>(chunk)
        });
        let request = self
            .http
            .request(Method::POST, &path)
            .timeout(TRANSFER_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(stream));
        self.http.fetch(request).await
    }

    // --- workflows ------------------------------------------------------------------------

    /// The project's workflows.
    pub async fn workflows(&self, project: &str) -> Result<Vec<Workflow>, ClientError> {
        self.http
            .json::<(), _>(Method::GET, &format!("/v1/projects/{}/workflows", segment(project)), None)
            .await
    }

    /// One workflow.
    pub async fn workflow(&self, project: &str, name: &str) -> Result<Workflow, ClientError> {
        let path = format!("/v1/projects/{}/workflows/{}", segment(project), segment(name));
        self.http.json::<(), _>(Method::GET, &path, None).await
    }

    /// Creates a workflow.
    pub async fn create_workflow(
        &self,
        project: &str,
        input: &WorkflowInput,
    ) -> Result<Workflow, ClientError> {
        self.http
            .json(Method::POST, &format!("/v1/projects/{}/workflows", segment(project)), Some(input))
            .await
    }

    /// Replaces workflow `name` (renames it when `input.name` differs).
    pub async fn replace_workflow(
        &self,
        project: &str,
        name: &str,
        input: &WorkflowInput,
    ) -> Result<Workflow, ClientError> {
        let path = format!("/v1/projects/{}/workflows/{}", segment(project), segment(name));
        self.http.json(Method::PUT, &path, Some(input)).await
    }

    /// Deletes a workflow (its executions stay in the history).
    pub async fn delete_workflow(&self, project: &str, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/projects/{}/workflows/{}", segment(project), segment(name));
        self.http.call::<()>(Method::DELETE, &path, None).await
    }

    /// Enables or disables a workflow's schedule.
    pub async fn set_workflow_enabled(
        &self,
        project: &str,
        name: &str,
        enabled: bool,
    ) -> Result<Workflow, ClientError> {
        let verb = if enabled { "enable" } else { "disable" };
        let path = format!("/v1/projects/{}/workflows/{}/{verb}", segment(project), segment(name));
        self.http.json::<(), _>(Method::POST, &path, None).await
    }

    /// Runs a workflow now.
    pub async fn run_workflow(
        &self,
        project: &str,
        name: &str,
        request: &RunWorkflow,
    ) -> Result<Execution, ClientError> {
        let path = format!("/v1/projects/{}/workflows/{}/run", segment(project), segment(name));
        self.http.json(Method::POST, &path, Some(request)).await
    }

    // --- executions -----------------------------------------------------------------------

    /// Runs a notebook of a bundle.
    pub async fn create_execution(
        &self,
        project: &str,
        request: &CreateExecution,
    ) -> Result<Execution, ClientError> {
        self.http
            .json(Method::POST, &format!("/v1/projects/{}/executions", segment(project)), Some(request))
            .await
    }

    /// One page of the history, newest first.
    pub async fn executions(
        &self,
        project: &str,
        query: &HistoryQuery,
    ) -> Result<Page<Execution>, ClientError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(workflow) = &query.workflow {
            params.push(("workflow", workflow.clone()));
        }
        if let Some(state) = query.state {
            params.push(("state", state.as_str().to_owned()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &query.cursor {
            params.push(("cursor", cursor.clone()));
        }
        let request = self
            .http
            .request(Method::GET, &format!("/v1/projects/{}/executions", segment(project)))
            .query(&params);
        self.http.fetch(request).await
    }

    /// One execution.
    pub async fn execution(&self, id: &str) -> Result<Execution, ClientError> {
        self.http.json::<(), _>(Method::GET, &format!("/v1/executions/{}", segment(id)), None).await
    }

    /// Asks for an execution to be cancelled (a conflict when it is over already).
    pub async fn cancel_execution(&self, id: &str) -> Result<Execution, ClientError> {
        self.http.json::<(), _>(Method::POST, &format!("/v1/executions/{}/cancel", segment(id)), None).await
    }

    /// Downloads the output notebook; `progress` hears (bytes so far, total when known).
    pub async fn output(
        &self,
        id: &str,
        progress: impl Fn(u64, Option<u64>),
    ) -> Result<Vec<u8>, ClientError> {
        let request = self.http.request(Method::GET, &format!("/v1/executions/{}/output", segment(id)));
        let response = self.http.send(request.timeout(TRANSFER_TIMEOUT)).await?;
        let total = response.content_length();
        let mut body = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.http.transport(e))?;
            body.extend_from_slice(&chunk);
            progress(body.len() as u64, total);
        }
        Ok(body)
    }

    /// The execution's events after sequence number `after` (0 for all), live while it runs.
    pub async fn events(&self, id: &str, after: u64) -> Result<EventStream, ClientError> {
        let path = format!("/v1/executions/{}/events", segment(id));
        let stream = self.event_source(&path, after).await?.filter_map(|item| async move {
            match item {
                Err(e) => Some(Err(e)),
                Ok(event) if event.event == "end" => {
                    #[derive(serde::Deserialize)]
                    struct End {
                        state: ExecutionState,
                    }
                    Some(
                        serde_json::from_str::<End>(&event.data)
                            .map(|end| StreamItem::End(end.state))
                            .map_err(|e| ClientError::Decode(format!("end event: {e}"))),
                    )
                }
                Ok(event) => Some(
                    serde_json::from_str::<ExecutionEvent>(&event.data)
                        .map(StreamItem::Event)
                        .map_err(|e| ClientError::Decode(format!("event {}: {e}", event.id))),
                ),
            }
        });
        Ok(Box::pin(stream))
    }

    /// The server-sent events at `path` after event id `after` (0 for all), keep-alives left
    /// out.
    pub(crate) async fn event_source(
        &self,
        path: &str,
        after: u64,
    ) -> Result<
        impl Stream<Item = Result<eventsource_stream::Event, ClientError>> + Send + 'static,
        ClientError,
    > {
        let mut request = self
            .http
            .request(Method::GET, path)
            .timeout(STREAM_TIMEOUT)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if after > 0 {
            request = request.header("Last-Event-ID", after.to_string());
        }
        let response = self.http.send(request).await?;
        let base = self.http.base().to_owned();
        Ok(response.bytes_stream().eventsource().filter_map(move |item| {
            let base = base.clone();
            async move {
                match item {
                    Err(e) => Some(Err(ClientError::Transport { url: base, reason: e.to_string() })),
                    // Comments (keep-alives) come through as events without data.
                    Ok(event) if event.data.is_empty() => None,
                    Ok(event) => Some(Ok(event)),
                }
            }
        }))
    }

    // --- runtimes -------------------------------------------------------------------------

    /// The project's runtime versions (of runtime `name` only, when given), newest first.
    pub async fn runtimes(&self, project: &str, name: Option<&str>) -> Result<Vec<Runtime>, ClientError> {
        let params: Vec<(&str, &str)> = name.map(|name| ("name", name)).into_iter().collect();
        let request = self
            .http
            .request(Method::GET, &format!("/v1/projects/{}/runtimes", segment(project)))
            .query(&params);
        self.http.fetch(request).await
    }

    /// Records a runtime version built elsewhere. A version recorded already is a conflict
    /// (409 `conflict`): only a build on an agent replaces one.
    pub async fn register_runtime(
        &self,
        project: &str,
        request: &RegisterRuntime,
    ) -> Result<Runtime, ClientError> {
        self.http
            .json(Method::POST, &format!("/v1/projects/{}/runtimes", segment(project)), Some(request))
            .await
    }

    /// Builds a runtime's image on an agent with Docker; the build's execution comes back at
    /// once, and its log streams through [`UserClient::events`].
    pub async fn create_build(
        &self,
        project: &str,
        runtime: &str,
        request: &CreateBuild,
    ) -> Result<Execution, ClientError> {
        let path = format!("/v1/projects/{}/runtimes/{}/builds", segment(project), segment(runtime));
        self.http.json(Method::POST, &path, Some(request)).await
    }

    // --- secrets --------------------------------------------------------------------------

    /// The project's secret names.
    pub async fn secrets(&self, project: &str) -> Result<Vec<SecretName>, ClientError> {
        self.http
            .json::<(), _>(Method::GET, &format!("/v1/projects/{}/secrets", segment(project)), None)
            .await
    }

    /// Sets a secret (owners only).
    pub async fn set_secret(&self, project: &str, name: &str, value: &str) -> Result<(), ClientError> {
        let path = format!("/v1/projects/{}/secrets/{}", segment(project), segment(name));
        self.http.call(Method::PUT, &path, Some(&SetSecret { value: value.to_owned() })).await
    }

    /// Deletes a secret (owners only).
    pub async fn delete_secret(&self, project: &str, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/projects/{}/secrets/{}", segment(project), segment(name));
        self.http.call::<()>(Method::DELETE, &path, None).await
    }
}
