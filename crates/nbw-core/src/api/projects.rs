//! Projects, their members, bundles and secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Role;

/// A project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The caller's role in it.
    pub role: Role,
}

/// `POST /v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Unique name: 1 to 64 of `a-z0-9_-`, starting with a letter or digit.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// A project member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// User id.
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
}

/// `PUT /v1/projects/{project}/members/{username}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    /// The role to give.
    pub role: Role,
}

/// An uploaded project bundle (tar or zip of the project folder).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bundle {
    /// Id.
    pub id: String,
    /// Version label, unique in the project.
    pub version: String,
    /// `sha256:<hex>` of the archive: bundles are stored and cached by it.
    pub digest: String,
    /// `tar`, `tar.gz` or `zip`.
    pub format: String,
    /// Size in bytes.
    pub size: u64,
    /// The `.ipynb` paths it holds.
    pub notebooks: Vec<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// A secret as listed: its name only, never its value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecretName {
    /// Name (an environment variable name).
    pub name: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `PUT /v1/projects/{project}/secrets/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSecret {
    /// The value; it is stored encrypted and only ever sent to the agent running the project.
    pub value: String,
}
