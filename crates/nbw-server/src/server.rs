//! The public face of the crate: [`Server::builder`] gathers the configuration, [`ServerBuilder::open`]
//! opens what a server needs (the data directory, the database, migrated, the key and the
//! artifact store), and [`Server::start`] serves HTTP with the background loops (scheduler,
//! lease reaper, notification outbox) until its shutdown token is cancelled.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::admin::Admin;
use crate::api::router;
use crate::artifacts::Artifacts;
use crate::auth::keys::Keys;
use crate::config::Config;
use crate::db::{Db, redact_url};
use crate::state::AppState;

/// What a server is built from; see [`Server::builder`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    config: Config,
    secret: Option<[u8; 32]>,
    in_memory_artifacts: bool,
    background_loops: bool,
}

impl ServerBuilder {
    /// The whole configuration (replaces what was set before).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Where the SQLite file, the artifacts and the server key live.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.data_dir = dir.into();
        self
    }

    /// `sqlite://...` or `postgres://...` instead of the SQLite file in the data directory.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.config.database_url = Some(url.into());
        self
    }

    /// The address to listen on (port 0: any free port, see [`RunningServer::local_addr`]).
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.config.listen = address;
        self
    }

    /// The server secret, instead of `NBW_SECRET_KEY` or `<data_dir>/server.key`.
    pub fn secret_key(mut self, secret: [u8; 32]) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Keeps bundles and outputs in memory (tests), instead of the configured store.
    pub fn in_memory_artifacts(mut self) -> Self {
        self.in_memory_artifacts = true;
        self
    }

    /// Serves the API without the scheduler, reaper and outbox loops (tests start the ones they
    /// exercise).
    pub fn without_background_loops(mut self) -> Self {
        self.background_loops = false;
        self
    }

    /// Opens everything the server needs, migrating the database; serves nothing yet.
    pub async fn open(self) -> anyhow::Result<Server> {
        let config = self.config;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
        let url = config.database_url();
        let db = Db::connect(&url).await.with_context(|| format!("connecting to {}", redact_url(&url)))?;
        db.migrate().await?;
        let keys = match self.secret {
            Some(secret) => Keys::from_secret(&secret),
            None => Keys::load(std::env::var("NBW_SECRET_KEY").ok().as_deref(), &config.data_dir)?,
        };
        let artifacts = if self.in_memory_artifacts {
            Artifacts::in_memory()
        } else {
            Artifacts::open(&config.artifacts_url())?
        };
        let state = AppState::new(db, config, keys, artifacts);
        Ok(Server { state, background_loops: self.background_loops })
    }

    /// [`ServerBuilder::open`], then [`Server::start`].
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<RunningServer> {
        self.open().await?.start(shutdown).await
    }
}

/// An open server: its database migrated, its key and artifact store ready, not serving yet.
#[derive(Debug)]
pub struct Server {
    state: AppState,
    background_loops: bool,
}

impl Server {
    /// A builder with the default configuration (see [`Config`]).
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: Config::default(),
            secret: None,
            in_memory_artifacts: false,
            background_loops: true,
        }
    }

    /// The operator's setup actions, without the API (users, agents, projects).
    pub fn admin(&self) -> Admin<'_> {
        Admin::new(&self.state)
    }

    /// The shared handles (database, configuration, keys, artifacts).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Binds the configured address and serves until `shutdown` is cancelled.
    pub async fn start(self, shutdown: CancellationToken) -> anyhow::Result<RunningServer> {
        let listen = self.state.config.listen;
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let local_addr = listener.local_addr()?;
        tracing::info!(address = %local_addr, backend = self.state.db.backend(), "nbw server listening");
        let loops = if self.background_loops { spawn_background(&self.state, &shutdown) } else { Vec::new() };
        let task = tokio::spawn(serve(self.state.clone(), listener, shutdown.clone(), loops));
        Ok(RunningServer { state: self.state, local_addr, shutdown, task })
    }

    /// Closes the database.
    pub async fn close(self) {
        self.state.db.close().await;
    }
}

/// A server serving HTTP; it stops when its shutdown token is cancelled.
#[derive(Debug)]
pub struct RunningServer {
    state: AppState,
    local_addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The operator's setup actions, without the API.
    pub fn admin(&self) -> Admin<'_> {
        Admin::new(&self.state)
    }

    /// The shared handles (database, configuration, keys, artifacts).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Waits until the server has stopped (its shutdown token cancelled, or a failure).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the server task")?
    }

    /// Cancels the shutdown token and waits for the server to stop.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}

/// Starts the loops that run beside the API (scheduler, lease reaper, notification outbox).
fn spawn_background(state: &AppState, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    let mut loops = vec![crate::scheduler::spawn(state.clone(), shutdown.clone())];
    loops.extend(crate::queue::spawn_loops(state, shutdown));
    loops.push(crate::notify::spawn(state.clone(), shutdown.clone()));
    loops.push(crate::pipelines::tick::spawn(state.clone(), shutdown.clone()));
    loops
}

/// Serves until `shutdown` is cancelled, then waits for the background loops and closes the
/// database.
async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
    loops: Vec<JoinHandle<()>>,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let stop = shutdown.clone();
    // With connection info, so the login rate limit can count failures per client address.
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    shutdown.cancel();
    for handle in loops {
        let _ = handle.await;
    }
    state.db.close().await;
    Ok(served?)
}

/// Cancels `token` at the first SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
