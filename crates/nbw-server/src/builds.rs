//! Runtime builds. A build is an execution that an agent with Docker runs by building one
//! runtime's image from a bundle instead of running a notebook, so it is queued, claimed,
//! cancelled and logged like any run. Its success registers the image as the runtime version
//! named after the bundle version, which runs of that runtime then resolve to.
//!
//! The server does not read bundles, so it cannot tell whether the bundle's `nbw.yaml` defines
//! the runtime: the agent fails such a build and says so.

use nbw_core::api::{
    BuildSpec, CreateBuild, Execution, ExecutionResult, ExecutionSpec, ExecutionState, RetryPolicy,
};
use nbw_core::image::runtime_image_tag;

use crate::auth::access::ProjectAccess;
use crate::db::now_ms;
use crate::error::{Error, Result};
use crate::runs::{self, Enqueue};
use crate::state::AppState;
use crate::store::executions::{self, ExecutionRow};
use crate::store::queue as store;
use crate::store::runtimes::{self, NewRuntime, OnConflict};

/// Queues a build of `runtime` from the bundle `input` names (the latest by default).
pub async fn enqueue(
    state: &AppState,
    access: &ProjectAccess,
    runtime: &str,
    input: CreateBuild,
    created_by: String,
) -> Result<Execution> {
    nbw_core::names::check_runtime_name(runtime)?;
    let origin = runs::user_origin(input.origin)?;
    let bundle = runs::resolve_bundle(state, &access.project_id, input.bundle_version.as_deref()).await?;
    let image = runtime_image_tag(&access.name, runtime, &bundle.version);
    let spec = ExecutionSpec {
        notebook: format!("Dockerfile.{runtime}"),
        parameters: Default::default(),
        bundle_id: bundle.id,
        bundle_version: bundle.version.clone(),
        bundle_digest: bundle.digest,
        runtime: Some(runtime.to_owned()),
        runtime_version: Some(bundle.version),
        container: None,
        build: Some(BuildSpec { runtime: runtime.to_owned(), image }),
        volumes: Vec::new(),
        timeout_secs: None,
        cell_timeout_secs: None,
        max_queue_secs: None,
        // A failed build fails the same way again; the user fixes the Dockerfile and rebuilds.
        retries: RetryPolicy::default(),
        notifications: Vec::new(),
        step: None,
    };
    let request = Enqueue {
        project_id: access.project_id.clone(),
        origin,
        spec,
        labels: Default::default(),
        workflow_id: None,
        created_by: Some(created_by),
        fire_at: None,
    };
    runs::enqueue(state, request)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an unscheduled run cannot collide")))
}

/// `result` as the server records it for an execution of `spec`: a build that succeeded
/// without naming the image it built is a failure, since nothing can run in an image the server
/// does not know.
pub fn as_recorded(spec: &ExecutionSpec, result: ExecutionResult) -> ExecutionResult {
    if spec.build.is_none() || result.state != ExecutionState::Succeeded || result.image.is_some() {
        return result;
    }
    ExecutionResult {
        state: ExecutionState::Failed,
        message: Some(
            "the agent reported the build as succeeded but not the image it built, so no runtime \
             version was registered: update the agent, then build again"
                .into(),
        ),
        ..result
    }
}

/// Called once the agent's result is stored in `row`: a build stored as succeeded without an
/// image becomes failed (see [`as_recorded`]); any other row stays as it is.
pub async fn settle(state: &AppState, row: ExecutionRow) -> Result<ExecutionRow> {
    if row.state() != ExecutionState::Succeeded {
        return Ok(row);
    }
    let execution = row.to_api();
    let Some(result) = execution.result.filter(|r| r.image.is_none() && execution.spec.build.is_some())
    else {
        return Ok(row);
    };
    let recorded = serde_json::to_string(&as_recorded(&execution.spec, result)).expect("results serialize");
    tracing::warn!(execution = %row.id, "a build succeeded without an image: recorded as failed");
    // Conditional on the state, so of two racing completions one rewrites it.
    if let Some(failed) = store::fail_succeeded(&state.db, &row.id, &recorded).await? {
        return Ok(failed);
    }
    executions::get(&state.db, &row.id)
        .await?
        .ok_or_else(|| Error::not_found(format!("execution {:?}", row.id)))
}

/// Registers the image a succeeded build produced as the runtime version named after its
/// bundle version, replacing an earlier build of that version. Idempotent: a repeated
/// completion registers again, which also recovers a registration that failed the first time.
pub async fn register(state: &AppState, execution: &Execution) -> Result<()> {
    let (Some(build), Some(image)) =
        (&execution.spec.build, execution.result.as_ref().and_then(|r| r.image.as_ref()))
    else {
        return Ok(());
    };
    if execution.state != ExecutionState::Succeeded {
        return Ok(());
    }
    let new = NewRuntime {
        name: build.runtime.clone(),
        version: execution.spec.bundle_version.clone(),
        image: image.image.clone(),
        dockerfile_hash: Some(image.dockerfile_hash.clone()),
        image_id: Some(image.image_id.clone()),
    };
    runtimes::insert(&state.db, &execution.project_id, &new, OnConflict::Replace, now_ms()).await?;
    tracing::info!(
        execution = %execution.id, runtime = %new.name, version = %new.version, image = %new.image,
        "runtime version registered"
    );
    Ok(())
}
