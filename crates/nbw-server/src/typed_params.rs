//! A workflow's typed parameters (its notebook's parameters cell in the bundle a run uses,
//! refined by the workflow's `parameter_rules`) and the check of a run's values against them,
//! before the run is queued. The rule itself is `nbw_core::params::check_run`, the one home
//! the web form shares.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use nbw_core::params::{
    ParamCheckError, ParameterRules, Parameters, TypedParameter, check_run, typed_parameters,
};
use nbw_engine::ParameterSpec;

use crate::artifacts::ArtifactKey;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Bundles are content-addressed, so what a notebook of a digest declares never changes:
/// remembered here, a run does not unpack its bundle again. Bounded (cleared when full).
static DECLARED: LazyLock<Mutex<Declared>> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// (bundle digest, notebook path) → the parameters its cell declares.
type Declared = HashMap<(String, String), Vec<ParameterSpec>>;
const DECLARED_CAP: usize = 512;

/// Where a run's notebook is: its bundle (version and digest) and path.
#[derive(Debug, Clone, Copy)]
pub struct NotebookAt<'a> {
    /// Bundle version label.
    pub version: &'a str,
    /// Bundle digest.
    pub digest: &'a str,
    /// Notebook path in the bundle.
    pub notebook: &'a str,
}

/// What the parameters cell of `notebook` in the bundle `digest` declares (remembered: a
/// digest's notebooks never change). Empty when the notebook has no cell tagged `parameters`.
pub async fn declared(state: &AppState, digest: &str, notebook: &str) -> Result<Vec<ParameterSpec>> {
    let key = (digest.to_owned(), notebook.to_owned());
    if let Some(found) = DECLARED.lock().expect("cache lock").get(&key) {
        return Ok(found.clone());
    }
    let specs = read_declared(state, digest, notebook).await?;
    let mut cache = DECLARED.lock().expect("cache lock");
    if cache.len() >= DECLARED_CAP {
        cache.clear();
    }
    cache.insert(key, specs.clone());
    Ok(specs)
}

/// Unpacks the bundle `digest` and reads `notebook`'s parameters cell.
async fn read_declared(state: &AppState, digest: &str, notebook: &str) -> Result<Vec<ParameterSpec>> {
    let bytes = state
        .artifacts
        .get(&ArtifactKey::Bundle(digest.to_owned()))
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("bundle {digest} is missing from the store")))?;
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
fn parameters_cell(notebook: &serde_json::Value) -> Vec<ParameterSpec> {
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

/// The typed parameters of the notebook at `at`, refined by `rules`.
pub async fn typed(
    state: &AppState,
    at: NotebookAt<'_>,
    rules: &ParameterRules,
) -> Result<Vec<TypedParameter>> {
    let declared = declared(state, at.digest, at.notebook).await?;
    let cell = declared
        .iter()
        .map(|p| TypedParameter::declared(&p.name, &p.type_name, &p.default, &p.help, rules.get(&p.name)));
    Ok(typed_parameters(cell, rules))
}

/// The API's answer to a refused value: 422 with the check's stable code.
pub fn refused(error: ParamCheckError) -> Error {
    Error::Unprocessable { code: error.code(), message: error.to_string() }
}

/// Checks a run's parameters (`sent` by the caller, `merged` onto the workflow's `own`)
/// against the notebook's types and `rules`; nothing to read when there are no values and
/// no rules.
pub async fn check(
    state: &AppState,
    at: NotebookAt<'_>,
    rules: &ParameterRules,
    own: &Parameters,
    sent: &Parameters,
    merged: &Parameters,
) -> Result<()> {
    if merged.is_empty() && rules.is_empty() {
        return Ok(());
    }
    let own: Vec<&str> = own.iter().map(|(name, _)| name).collect();
    match typed(state, at, rules).await {
        Ok(typed) => check_run(&typed, &own, sent, merged).map_err(refused),
        // The types are a check, not a requirement: a notebook that cannot be read here fails
        // on the agent with its own message, as it did before types were checked. The rules
        // still hold; names are not checked (the cell's are unknown).
        Err(e) => {
            tracing::warn!(notebook = at.notebook, bundle = at.version, error = %e,
                "the notebook's parameters could not be read; only the workflow's rules are checked");
            check_run(&typed_parameters([], rules), &own, &Parameters::new(), merged).map_err(refused)
        }
    }
}
