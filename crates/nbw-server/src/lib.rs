//! The nbw control plane: projects, bundles, workflows, schedules, the execution queue that
//! agents pull from, auth, live events and notifications, on SQLite or PostgreSQL.
//!
//! Build a server with [`Server::builder`], open it ([`ServerBuilder::open`]: the database
//! migrated, the key and the artifact store ready) and start it ([`Server::start`]: HTTP and the
//! background loops, until a shutdown token is cancelled). [`Admin`] takes the operator's setup
//! actions without the API.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let server = nbw_server::Server::builder()
//!     .data_dir("nbw-data")
//!     .listen("127.0.0.1:8080".parse()?)
//!     .start(shutdown.clone())
//!     .await?;
//! println!("serving at {}", server.url());
//! server.wait().await
//! # }
//! ```
//!
//! Inside, arrows point down only: `api` (HTTP in, JSON out) calls the services (`queue`,
//! `runs`, `builds`, `bundles`, `workflows`, `scheduler`, `notify`, `secrets`, `auth`), which take
//! plain arguments and return [`Error`]; they persist through `store`; everything shares the
//! handles of [`state::AppState`], a leaf. The modules made public below are public for this
//! crate's integration tests and the queue benchmark, which drive the services directly.
mod admin;
mod api;
mod builds;
mod bundles;
mod config;
mod error;
mod limits;
mod metrics;
mod server;
mod typed_params;
mod web;
mod workflows;

pub mod artifacts;
pub mod auth;
pub mod db;
pub mod executions;
pub mod notify;
pub mod pipelines;
pub mod queue;
pub mod runs;
pub mod scheduler;
pub mod secrets;
pub mod state;
pub mod store;

pub use admin::Admin;
pub use config::{Config, ConfigError};
pub use error::Error;
pub use server::{RunningServer, Server, ServerBuilder, cancel_on_signals};
