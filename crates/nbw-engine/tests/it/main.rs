//! The engine's integration tests, with real kernels.
//!
//! One test binary per crate: linking is most of a test build, and each file directly under
//! `tests/` would be a binary of its own. One module per behaviour.

mod params_roundtrip;
mod warm;
