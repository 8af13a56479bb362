//! What can go wrong making a runtime image, each said with what to do about it.

use std::path::PathBuf;

/// A runtime image that could not be described, built or pushed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// nbw.yaml has no runtime of that name.
    #[error("runtime {name:?} is not defined under `runtimes` in nbw.yaml ({defined})")]
    UnknownRuntime {
        /// The name asked for.
        name: String,
        /// The names nbw.yaml defines.
        defined: String,
    },
    /// A value of the runtime cannot go into a Dockerfile.
    #[error("runtime {runtime:?}, {field}: {message}")]
    Invalid {
        /// The runtime.
        runtime: String,
        /// The field of nbw.yaml.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The project's files could not be gathered into the build context.
    #[error("gathering the project's files for the build: {0}")]
    Context(#[from] nbw_bundle::BundleError),
    /// No Docker engine answers.
    #[error(
        "cannot reach the Docker engine at {host}: is Docker running? Set DOCKER_HOST to use another engine ({source})"
    )]
    Unreachable {
        /// Where it was looked for.
        host: String,
        /// What the connection said.
        source: bollard::errors::Error,
    },
    /// The build ran and failed: a step failed or the Dockerfile is wrong.
    #[error("building {tag} failed: {message}")]
    BuildFailed {
        /// The image's tag.
        tag: String,
        /// The engine's error and the last lines of the build's output.
        message: String,
    },
    /// The push ran and failed.
    #[error("pushing {reference} failed: {message}")]
    PushFailed {
        /// The reference pushed.
        reference: String,
        /// The registry's or engine's error.
        message: String,
    },
    /// The engine refused a request.
    #[error("{action}: {source}")]
    Engine {
        /// What was being done.
        action: String,
        /// The engine's answer.
        source: bollard::errors::Error,
    },
    /// The embedded template did not render: a bug in nbw.
    #[error("the Dockerfile template failed (a bug in nbw): {0}")]
    Template(#[from] minijinja::Error),
}
