//! The agent protocol: claim, heartbeat, events, output, complete, bundle download.

use nbw_core::api::{
    Agent, AgentHello, ClaimRequest, ClaimResponse, Complete, EventBatch, ExecutionEvent, ExecutionResult,
    Heartbeat, HeartbeatResponse,
};
use reqwest::Method;

use crate::ClientError;
use crate::http::Http;

/// An agent's connection to the server, with its agent token: the agent protocol only.
#[derive(Debug, Clone)]
pub struct AgentClient {
    http: Http,
}

impl AgentClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`) using an agent token.
    pub fn new(base: &str, token: &str) -> Result<AgentClient, ClientError> {
        Ok(AgentClient { http: Http::new(base, token)? })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        self.http.base()
    }

    /// Introduces the agent; `labels` (when given) replace its registered labels.
    pub async fn hello(
        &self,
        labels: Option<std::collections::BTreeMap<String, String>>,
    ) -> Result<Agent, ClientError> {
        let body = AgentHello { labels, version: Some(env!("CARGO_PKG_VERSION").to_owned()) };
        self.http.json(Method::PUT, "/v1/agent/self", Some(&body)).await
    }

    /// Waits up to `wait_secs` (at most 30) for an execution this agent may run.
    pub async fn claim(&self, wait_secs: u64) -> Result<ClaimResponse, ClientError> {
        let body = ClaimRequest { wait_secs: Some(wait_secs) };
        self.http.json(Method::POST, "/v1/agent/claim", Some(&body)).await
    }

    /// Renews the leases of the running executions and lists the shared volumes the agent
    /// holds; learns which executions to cancel or abandon and which volumes to remove.
    pub async fn heartbeat(
        &self,
        running: Vec<String>,
        volumes: Vec<String>,
    ) -> Result<HeartbeatResponse, ClientError> {
        self.http.json(Method::POST, "/v1/agent/heartbeat", Some(&Heartbeat { running, volumes })).await
    }

    /// Sends a batch of events (re-sending a batch is harmless: sequence numbers dedupe).
    pub async fn send_events(
        &self,
        execution_id: &str,
        events: Vec<ExecutionEvent>,
    ) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/events");
        self.http.call(Method::POST, &path, Some(&EventBatch { events })).await
    }

    /// Stores the output notebook.
    pub async fn put_output(&self, execution_id: &str, notebook_json: Vec<u8>) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/output");
        let request = self
            .http
            .request(Method::PUT, &path)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ipynb+json")
            .body(notebook_json);
        self.http.send(request).await.map(drop)
    }

    /// Reports how the execution ended.
    pub async fn complete(&self, execution_id: &str, result: ExecutionResult) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/complete");
        self.http.call(Method::POST, &path, Some(&Complete { result })).await
    }

    /// Downloads a bundle archive from the claim's `bundle_url`.
    pub async fn bundle(&self, bundle_url: &str) -> Result<bytes::Bytes, ClientError> {
        self.http.download(bundle_url).await
    }
}
