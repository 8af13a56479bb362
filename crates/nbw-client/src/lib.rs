//! A typed client of the nbw `/v1` API.
//!
//! [`Client`] wraps one base URL and one bearer token (a user's access token or an agent's
//! token) and turns every answer into a typed value or a [`ClientError`] carrying the server's
//! stable error code, so callers branch on codes, not on message text. The agent protocol
//! (claim, heartbeat, events, output) and the user's calls (login, bundles, workflows,
//! executions and their live events, runtimes, secrets) are methods of the same [`Client`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), nbw_client::ClientError> {
//! let agent = nbw_client::Client::new("http://127.0.0.1:8080", "nbwa_...")?;
//! let claim = agent.claim(30).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod agent;
mod error;
mod user;

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::ClientError;
pub use user::{EventStream, HistoryQuery, StreamItem};

/// A connection to one server with one token.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`) using `token`.
    pub fn new(base: &str, token: &str) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A claim long-polls for up to 30 s; uploads of big notebooks take a while too.
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| ClientError::Transport { url: base.to_owned(), reason: e.to_string() })?;
        Ok(Client { base: base.trim_end_matches('/').to_owned(), token: token.to_owned(), http })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    async fn send(&self, request: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport { url: self.base.clone(), reason: e.to_string() })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(ClientError::from_response(response).await)
        }
    }

    /// Sends a JSON body and decodes a JSON answer.
    pub async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.send(request).await?;
        response.json().await.map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends an optional JSON body and ignores the answer's body.
    pub async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), ClientError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await.map(drop)
    }

    /// Sends raw bytes and decodes a JSON answer (or none, for `T = ()` via [`Client::call`]).
    pub async fn upload<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        let request =
            self.request(method, path).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        let response = self.send(request).await?;
        response.json().await.map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Downloads raw bytes.
    pub async fn download(&self, path: &str) -> Result<bytes::Bytes, ClientError> {
        let response = self.send(self.request(Method::GET, path)).await?;
        response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport { url: self.base.clone(), reason: e.to_string() })
    }
}
