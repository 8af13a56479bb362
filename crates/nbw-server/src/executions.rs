//! What a user does to one execution: see it (a non-member gets not-found), cancel it, run it
//! again. The API and the web pages both call these.

use nbw_core::api::{Execution, Origin, Role};

use crate::artifacts::ArtifactKey;
use crate::auth::UserCaller;
use crate::auth::access::{ProjectAccess, require_role_by_id};
use crate::error::{Error, Result};
use crate::runs::{self, Enqueue};
use crate::state::AppState;
use crate::store::executions::{self, ExecutionRow};

/// An execution the caller may see with at least `min`; not-found for everyone else.
pub async fn visible(
    state: &AppState,
    caller: &UserCaller,
    id: &str,
    min: Role,
) -> Result<(ExecutionRow, ProjectAccess)> {
    let not_found = || Error::not_found(format!("execution {id:?}"));
    let row = executions::get(&state.db, id).await?.ok_or_else(not_found)?;
    let access =
        require_role_by_id(&state.db, &row.project_id, caller, Role::Viewer, &format!("execution {id:?}"))
            .await?;
    if access.role < min {
        return Err(Error::Forbidden(format!(
            "this needs the {} role in project {:?}",
            min.as_str(),
            access.name
        )));
    }
    Ok((row, access))
}

/// Cancels an execution (editors): a queued one at once, a running one through its agent.
/// Cancelling a finished execution is a conflict.
pub async fn cancel(state: &AppState, caller: &UserCaller, id: &str) -> Result<ExecutionRow> {
    let (row, _) = visible(state, caller, id, Role::Editor).await?;
    if row.state().is_final() {
        return Err(Error::Conflict(format!("execution {id} is already {}", row.state().as_str())));
    }
    let row = executions::request_cancel(&state.db, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("execution {id:?}")))?;
    // A queued execution ends here, not through an agent: its pipeline step ends with it.
    if row.state().is_final() {
        crate::pipelines::progress::step_ended(state, &row.to_api(), None).await?;
    }
    Ok(row)
}

/// Queues a new run of what execution `id` ran (editors): the same bundle version, notebook,
/// parameters, image and labels, as a `web` run by the caller.
pub async fn rerun(state: &AppState, caller: &UserCaller, id: &str) -> Result<Execution> {
    let (row, _) = visible(state, caller, id, Role::Editor).await?;
    let request = Enqueue {
        project_id: row.project_id.clone(),
        origin: Origin::Web,
        spec: row.spec(),
        labels: serde_json::from_str(&row.labels).unwrap_or_default(),
        workflow_id: row.workflow_id.clone(),
        created_by: Some(caller.user_id.clone()),
        fire_at: None,
    };
    runs::enqueue(state, request)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))
}

/// The output notebook of execution `id` (viewers), with the file name to save it as.
pub async fn output(state: &AppState, caller: &UserCaller, id: &str) -> Result<(String, bytes::Bytes)> {
    let (row, _) = visible(state, caller, id, Role::Viewer).await?;
    let missing =
        || Error::not_found(format!("output notebook of {id} (the execution has not stored one yet)"));
    row.output_key.as_ref().ok_or_else(missing)?;
    let bytes = state.artifacts.get(&ArtifactKey::Output(row.id.clone())).await?.ok_or_else(missing)?;
    Ok((format!("{}.ipynb", row.id), bytes))
}
