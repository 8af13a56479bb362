//! The plumbing both clients share: one base URL, one bearer token, and every answer turned
//! into a typed value or a [`ClientError`].

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ClientError;

/// A connection to one server with one token; [`crate::UserClient`] and
/// [`crate::AgentClient`] each wrap one and add the routes their token may call.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Http {
    pub(crate) fn new(base: &str, token: &str) -> Result<Http, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A claim long-polls for up to 30 s; uploads of big notebooks take a while too.
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| ClientError::Transport { url: base.to_owned(), reason: e.to_string() })?;
        Ok(Http { base: base.trim_end_matches('/').to_owned(), token: token.to_owned(), http })
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    /// Sends a request; an answer other than 2xx becomes [`ClientError::Api`].
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(ClientError::from_response(response).await)
        }
    }

    /// Sends a request and decodes its JSON answer.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = self.send(request).await?;
        response.json().await.map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends a JSON body and decodes a JSON answer.
    pub(crate) async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        self.fetch(with_body(self.request(method, path), body)).await
    }

    /// Sends an optional JSON body and ignores the answer's body.
    pub(crate) async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), ClientError> {
        self.send(with_body(self.request(method, path), body)).await.map(drop)
    }

    /// Downloads raw bytes.
    pub(crate) async fn download(&self, path: &str) -> Result<bytes::Bytes, ClientError> {
        let response = self.send(self.request(Method::GET, path)).await?;
        response.bytes().await.map_err(|e| self.transport(e))
    }

    pub(crate) fn transport(&self, error: reqwest::Error) -> ClientError {
        ClientError::Transport { url: self.base.clone(), reason: error.to_string() }
    }
}

fn with_body<B: Serialize + ?Sized>(request: RequestBuilder, body: Option<&B>) -> RequestBuilder {
    match body {
        Some(body) => request.json(body),
        None => request,
    }
}
