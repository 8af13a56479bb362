//! The server's integration tests: a real server over SQLite and PostgreSQL.
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour; the shared setup is
//! declared once here.

mod pipeline_support;
mod queue_support;
// `both_backends!` is defined there and used by the modules below.
#[macro_use]
mod support;

mod api;
mod auth;
mod authorization;
mod events;
mod limits;
mod notify;
mod pipeline_control;
mod pipeline_notify;
mod pipeline_repair;
mod pipelines;
mod projects;
mod queue;
mod runtimes;
mod scheduler;
mod team;
mod typed_params;
mod web;
mod web_support;
