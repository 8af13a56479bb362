//! What every server test starts from: a real server (built with `Server::builder`, as
//! `nbw server` builds it) on loopback over a fresh SQLite file or a
//! fresh PostgreSQL database, users with tokens, and an HTTP client. `both_backends!` turns one
//! test body into a SQLite test and a PostgreSQL test.
#![allow(dead_code)]

use std::net::SocketAddr;

use nbw_server::state::AppState;
use nbw_server::{Config, Server};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The two storage backends every storage test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL cluster.
    Postgres,
}

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's state (database, config, keys...).
    pub state: AppState,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    /// The backend.
    pub backend: Backend,
    /// The database URL (for a second server on the same database).
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// The configuration tests use: data in `dir`, fast loops.
pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        scheduler_tick_ms: 100,
        ..Config::default()
    }
}

impl TestServer {
    /// Starts a server over a fresh database of `backend` (no background loops: tests start
    /// the ones they exercise).
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`TestServer::start`], with a configuration change.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = nbw_testkit::tempdir();
        let database_url = match backend {
            Backend::Sqlite => nbw_testkit::fresh_sqlite_url(dir.path()),
            Backend::Postgres => nbw_testkit::fresh_postgres_url(),
        };
        Self::on_database(backend, database_url, dir, configure).await
    }

    /// A server on the database at `database_url` (a second server on the same database, when
    /// another test server uses it), its data in `dir`.
    pub async fn on_database(
        backend: Backend,
        database_url: String,
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = test_config(dir.path());
        configure(&mut config);
        let server = Server::builder()
            .config(config)
            .database_url(database_url.clone())
            .secret_key([42; 32])
            .in_memory_artifacts()
            .without_background_loops()
            .start(tokio_util::sync::CancellationToken::new())
            .await
            .expect("the server starts");
        let state = server.state().clone();
        TestServer {
            base: server.url(),
            state,
            http: reqwest::Client::new(),
            backend,
            database_url,
            _dir: dir,
        }
    }

    /// Creates a user directly in the store and returns an access token for them.
    pub async fn user(&self, username: &str, is_admin: bool) -> String {
        let user = nbw_server::store::users::insert(&self.state.db, username, "not-a-real-hash", is_admin)
            .await
            .expect("insert user");
        nbw_server::auth::token::issue(&self.state.keys, &user.id, is_admin, chrono::Duration::minutes(30)).0
    }

    /// A request to `path` with an optional bearer token and JSON body; returns status and body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// PUT JSON with a token.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }
}

/// Asserts an error answer: the status and the stable code.
pub fn assert_error(actual: (StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(actual.0, status, "{}", actual.1);
    assert_eq!(actual.1["error"]["code"], code, "{}", actual.1);
    assert!(actual.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// One test body, run once on SQLite and once on PostgreSQL:
/// `both_backends!(name, |backend| async move { ... });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$backend:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::support::Backend::Sqlite;
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::support::Backend::Postgres;
                $body.await
            }
        }
    };
}
