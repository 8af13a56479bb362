//! Project bundles: storing an archive (checked, content-addressed, one version label per push).
//! The API's upload and `nbw standalone`'s example store here.

use bytes::Bytes;
use nbw_core::api::Bundle;

use crate::artifacts::ArtifactKey;
use crate::db::is_unique_violation;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::bundles;

/// A bundle as [`store`] left it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The bundle's record.
    pub bundle: Bundle,
    /// False when that version held the same archive already (nothing was stored).
    pub created: bool,
}

/// Checks and stores a bundle under `version`: a no-op when that version holds the same
/// archive, a conflict when it holds another, else stored by digest and recorded.
pub async fn store(
    state: &AppState,
    project_id: &str,
    version: &str,
    bytes: Bytes,
    uploaded_by: &str,
) -> Result<Stored> {
    let limit = state.config.max_bundle_bytes;
    let checked = nbw_bundle::check(&bytes, limit)
        .map_err(|e| Error::Invalid { code: "invalid_bundle", message: e.to_string() })?;
    if let Some(existing) = bundles::by_version(&state.db, project_id, version).await? {
        return if existing.digest == checked.digest {
            Ok(Stored { bundle: existing.to_api(), created: false })
        } else {
            Err(Error::Conflict(format!(
                "version {version:?} exists with different content; push a new version"
            )))
        };
    }
    let key = ArtifactKey::Bundle(checked.digest.clone());
    if !state.artifacts.exists(&key).await? {
        state.artifacts.put(&key, bytes.clone()).await?;
    }
    let inserted = bundles::insert(
        &state.db,
        project_id,
        version,
        &checked.digest,
        checked.format,
        bytes.len() as u64,
        &checked.notebooks,
        uploaded_by,
    )
    .await;
    match inserted {
        Ok(row) => Ok(Stored { bundle: row.to_api(), created: true }),
        Err(e) if is_unique_violation(&e) => {
            Err(Error::Conflict(format!("version {version:?} was just uploaded")))
        }
        Err(e) => Err(e.into()),
    }
}

/// What the parameters cell of `notebook` in the bundle of `version` (or the project's
/// latest) declares: names, types, defaults, help texts (papermill's rules, see
/// `nbw_engine::inspect_parameters`). Empty when the notebook has no cell tagged
/// `parameters`.
pub async fn declared_parameters(
    state: &AppState,
    project_id: &str,
    version: Option<&str>,
    notebook: &str,
) -> Result<Vec<nbw_engine::ParameterSpec>> {
    let bundle = crate::runs::resolve_bundle(state, project_id, version).await?;
    crate::runs::check_notebook(&bundle, notebook)?;
    crate::typed_params::declared(state, &bundle.digest, notebook).await
}
