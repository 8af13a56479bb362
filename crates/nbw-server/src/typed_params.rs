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

use crate::bundles;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Bundles are content-addressed, so what a notebook of a digest declares never changes:
/// remembered here, a run does not unpack its bundle again. Bounded (cleared when full).
static DECLARED: LazyLock<Mutex<HashMap<(String, String), Vec<ParameterSpec>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
const DECLARED_CAP: usize = 512;

/// Where a run's notebook is: its project, bundle (version and digest) and path.
#[derive(Debug, Clone, Copy)]
pub struct NotebookAt<'a> {
    /// Project id.
    pub project_id: &'a str,
    /// Bundle version label.
    pub version: &'a str,
    /// Bundle digest.
    pub digest: &'a str,
    /// Notebook path in the bundle.
    pub notebook: &'a str,
}

async fn declared(state: &AppState, at: NotebookAt<'_>) -> Result<Vec<ParameterSpec>> {
    let key = (at.digest.to_owned(), at.notebook.to_owned());
    if let Some(found) = DECLARED.lock().expect("cache lock").get(&key) {
        return Ok(found.clone());
    }
    let specs = bundles::declared_parameters(state, at.project_id, Some(at.version), at.notebook).await?;
    let mut cache = DECLARED.lock().expect("cache lock");
    if cache.len() >= DECLARED_CAP {
        cache.clear();
    }
    cache.insert(key, specs.clone());
    Ok(specs)
}

/// The typed parameters of the notebook at `at`, refined by `rules`.
pub async fn typed(
    state: &AppState,
    at: NotebookAt<'_>,
    rules: &ParameterRules,
) -> Result<Vec<TypedParameter>> {
    let declared = declared(state, at).await?;
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
