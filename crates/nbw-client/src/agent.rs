//! The agent protocol: claim, heartbeat, events, output, complete, bundle download.

use nbw_core::api::{
    Agent, AgentHello, ClaimRequest, ClaimResponse, Complete, EventBatch, ExecutionEvent, ExecutionResult,
    Heartbeat, HeartbeatResponse,
};
use reqwest::Method;

use crate::{Client, ClientError};

impl Client {
    /// Introduces the agent; `labels` (when given) replace its registered labels.
    pub async fn hello(
        &self,
        labels: Option<std::collections::BTreeMap<String, String>>,
    ) -> Result<Agent, ClientError> {
        let body = AgentHello { labels, version: Some(env!("CARGO_PKG_VERSION").to_owned()) };
        self.json(Method::PUT, "/v1/agent/self", Some(&body)).await
    }

    /// Waits up to `wait_secs` (at most 30) for an execution this agent may run.
    pub async fn claim(&self, wait_secs: u64) -> Result<ClaimResponse, ClientError> {
        let body = ClaimRequest { wait_secs: Some(wait_secs) };
        self.json(Method::POST, "/v1/agent/claim", Some(&body)).await
    }

    /// Renews the leases of the running executions; learns which to cancel or abandon.
    pub async fn heartbeat(&self, running: Vec<String>) -> Result<HeartbeatResponse, ClientError> {
        self.json(Method::POST, "/v1/agent/heartbeat", Some(&Heartbeat { running })).await
    }

    /// Sends a batch of events (re-sending a batch is harmless: sequence numbers dedupe).
    pub async fn send_events(
        &self,
        execution_id: &str,
        events: Vec<ExecutionEvent>,
    ) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/events");
        self.call(Method::POST, &path, Some(&EventBatch { events })).await
    }

    /// Stores the output notebook.
    pub async fn put_output(&self, execution_id: &str, notebook_json: Vec<u8>) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/output");
        let request = self
            .request(Method::PUT, &path)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ipynb+json")
            .body(notebook_json);
        self.send(request).await.map(drop)
    }

    /// Reports how the execution ended.
    pub async fn complete(&self, execution_id: &str, result: ExecutionResult) -> Result<(), ClientError> {
        let path = format!("/v1/agent/executions/{execution_id}/complete");
        self.call(Method::POST, &path, Some(&Complete { result })).await
    }

    /// Downloads a bundle archive from the claim's `bundle_url`.
    pub async fn bundle(&self, bundle_url: &str) -> Result<bytes::Bytes, ClientError> {
        self.download(bundle_url).await
    }
}
