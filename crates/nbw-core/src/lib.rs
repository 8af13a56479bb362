//! Domain types shared by every nbw layer.
//!
//! `nbw-core` owns the vocabulary that the engine, the server, the agent and the CLI all speak,
//! and nothing that does I/O: notebook [`params`] (the values a run passes to a notebook's
//! `parameters` cell, with papermill's command-line type inference), the `/v1` [`api`] types,
//! the [`project`] file `nbw.yaml`, the [`names`] rules of projects, workflows, runtimes, secrets
//! and bundle versions, the volumes and limits of a runtime [`container`], the tag
//! of a runtime [`image`], and random [`ids`].
//!
//! ```
//! use nbw_core::params::{infer_cli_value, ParamValue, Parameters};
//!
//! let mut params = Parameters::default();
//! params.insert("alpha", infer_cli_value("0.5"));
//! params.insert("name", infer_cli_value("world"));
//! assert_eq!(params.get("alpha"), Some(&ParamValue::Float(0.5)));
//! ```
pub mod api;
pub mod container;
pub mod ids;
pub mod image;
pub mod names;
pub mod params;
pub mod pipeline;
pub mod project;
