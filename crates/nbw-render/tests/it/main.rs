//! The renderer's integration tests.
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour.

mod every_output;
mod safety;
