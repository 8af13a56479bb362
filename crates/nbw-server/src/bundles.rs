//! Project bundles: the version label's rule, and storing an archive (checked, content-addressed,
//! one version label per push). The API's upload and `nbw standalone`'s example store here.

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

/// Checks a version label: 1 to 128 of `A-Za-z0-9._+-` (what `git describe` prints).
pub fn check_version(version: &str) -> Result<()> {
    let ok = !version.is_empty()
        && version.len() <= 128
        && version.bytes().all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
    Error::require(ok, "invalid_version", || {
        format!(
            "bundle version {version:?} is not valid: use 1 to 128 of letters, digits, '.', '_', '+', '-'"
        )
    })
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
    let bytes = state.artifacts.get(&ArtifactKey::Bundle(bundle.digest.clone())).await?.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("bundle {} is missing from the store", bundle.digest))
    })?;
    let limit = state.config.max_bundle_bytes;
    let notebook = notebook.to_owned();
    let text = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let dir = tempfile::tempdir()?;
        nbw_bundle::unpack(&bytes, dir.path(), limit)?;
        Ok(std::fs::read_to_string(dir.path().join(&notebook))?)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))??;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid(format!("the notebook is not valid JSON: {e}")))?;
    Ok(parameters_cell(&json))
}

/// The parameters declared by the first cell tagged `parameters`, in the notebook's language.
fn parameters_cell(notebook: &serde_json::Value) -> Vec<nbw_engine::ParameterSpec> {
    let metadata = &notebook["metadata"];
    let language = metadata["kernelspec"]["language"].as_str().or(metadata["language_info"]["name"].as_str());
    let cells = notebook["cells"].as_array().map(Vec::as_slice).unwrap_or_default();
    let tagged = cells.iter().find(|cell| {
        cell["metadata"]["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == "parameters"))
    });
    let Some(cell) = tagged else { return Vec::new() };
    let source = match &cell["source"] {
        serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect::<String>(),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    nbw_engine::inspect_parameters(language.unwrap_or("python"), &source).unwrap_or_default()
}
