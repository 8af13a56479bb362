//! Runtimes: the Docker images executions run in, and their builds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::origin::Origin;

/// The label an execution in a container (or a build) requires: agents started with Docker
/// enabled add it to their own labels.
pub const DOCKER_LABEL: (&str, &str) = ("nbw.executor", "docker");

/// The label an execution that needs GPUs requires (`gpu: true` in `nbw.yaml`): agents whose
/// Docker engine offers GPUs add it to their own labels.
pub const GPU_LABEL: (&str, &str) = ("gpu", "true");

/// The runtime image an execution runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContainerImage {
    /// Runtime name.
    pub runtime: String,
    /// Runtime version.
    pub version: String,
    /// Image reference, e.g. `nbw/sales/default:v3`.
    pub image: String,
    /// The image id the build produced, when known: the agent checks it has that very image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

/// A runtime build: which runtime of the bundle's `nbw.yaml`, and the tag to give the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuildSpec {
    /// Runtime name.
    pub runtime: String,
    /// The tag, `nbw/<project>/<runtime>:<version>`.
    pub image: String,
}

/// A built runtime image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuiltImage {
    /// The tag it was given (or the registry reference it was pushed to).
    pub image: String,
    /// The image id (`sha256:...`).
    pub image_id: String,
    /// SHA-256 of the Dockerfile it was built from.
    pub dockerfile_hash: String,
}

/// `POST /v1/projects/{project}/runtimes/{name}/builds`: build a runtime on an agent with Docker.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuild {
    /// Bundle version to build from; the latest when absent. It is also the image's version.
    #[serde(default)]
    pub bundle_version: Option<String>,
    /// `web` (default) or `cli`: the id's prefix.
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// A runtime image version registered for a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Runtime {
    /// Id.
    pub id: String,
    /// Runtime name from the project file.
    pub name: String,
    /// Version (from the bundle).
    pub version: String,
    /// Image reference, e.g. `nbw/proj/default:v1`.
    pub image: String,
    /// Hash of the Dockerfile it was built from.
    pub dockerfile_hash: Option<String>,
    /// The image id the build produced.
    pub image_id: Option<String>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/projects/{project}/runtimes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRuntime {
    /// Runtime name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Image reference.
    pub image: String,
    /// Hash of the Dockerfile.
    #[serde(default)]
    pub dockerfile_hash: Option<String>,
    /// Image id.
    #[serde(default)]
    pub image_id: Option<String>,
}
