//! The runtime images' integration tests: the real Docker engine and a fake registry.
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour.

mod build;
mod push;
