//! The `nbw` binary's integration tests: real servers, agents and kernels.
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour; the shared setup is
//! declared once here.

mod support;

mod agent;
mod bad_input;
mod client;
mod conformance;
mod docker;
mod inspect;
mod papermill_flags;
mod pipeline_docker;
mod pipeline_recovery;
mod pipelines;
mod results;
mod run;
mod runtime;
mod server_admin;
mod team;
mod typed;
mod ui;
