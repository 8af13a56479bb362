//! The agent's integration tests (the Docker executor against the real Docker engine).
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour.

mod docker_executor;
