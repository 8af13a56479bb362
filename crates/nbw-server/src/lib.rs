//! The nbw control plane: projects, bundles, workflows, schedules, the execution queue that
//! agents pull from, auth, live events and notifications, on SQLite or PostgreSQL.
//!
//! - [`db`]: the two backends behind one enum, and the migrations;
//! - [`state`]: the shared handles; [`api`]: the router and the `/v1` routes;
//! - [`store`]: the SQL of each resource; [`auth`]: tokens, callers and project roles;
//! - [`runs`]: creating executions; [`builds`]: runtime image builds and their registration;
//! - [`queue`], [`artifacts`], [`metrics`], [`config`].
#![deny(missing_docs)]

pub mod api;
pub mod artifacts;
pub mod auth;
pub mod builds;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod notify;
pub mod queue;
pub mod runs;
pub mod schedule;
pub mod scheduler;
pub mod server;
pub mod state;
pub mod store;
