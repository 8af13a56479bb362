//! Pipelines: notebooks chained in order (SeqPipe) or as a DAG (DagPipe), their runs and steps.
//!
//! A pipeline's definition is the `pipelines:` entry of `nbw.yaml` as it is
//! ([`PipelineEntry`]), sent by `nbw push`; the server resolves steps that name a workflow when a
//! run starts each step. A pipeline run (`pip.` id) starts one execution per step; each such
//! execution carries a [`StepContext`] in its spec.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::origin::Origin;
use super::workflows::FireError;
use crate::params::Parameters;
use crate::pipeline::PipelineEntry;

/// `PUT /v1/projects/{project}/pipelines/{name}`: create or replace a pipeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    /// Whether its schedule fires (default true); a run on demand works either way.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Bundle version its steps run; the latest upload when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_version: Option<String>,
    /// The definition, as `nbw.yaml` holds it.
    #[schema(value_type = Object)]
    pub spec: PipelineEntry,
}

fn yes() -> bool {
    true
}

/// A pipeline as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pipeline {
    /// Id.
    pub id: String,
    /// Name, unique in the project.
    pub name: String,
    /// Whether its schedule fires.
    pub enabled: bool,
    /// Bundle version its steps run; the latest upload when absent.
    pub bundle_version: Option<String>,
    /// The definition.
    #[schema(value_type = Object)]
    pub spec: PipelineEntry,
    /// The next time its schedule fires, if any.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// Why the schedule's last fire created no run, until a later fire creates one.
    #[serde(default)]
    pub last_fire_error: Option<FireError>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `POST /v1/projects/{project}/pipelines/{name}/runs`: run a pipeline now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPipeline {
    /// Parameters by step name, overriding the step's (`nbw pipe run -p step.name value`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: BTreeMap<String, Parameters>,
    /// `web` (default) or `cli`: who asked.
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// `POST /v1/projects/{project}/pipeline-runs/{id}/rerun`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunPipeline {
    /// Run only the steps that did not succeed and those downstream of them; the others keep
    /// their results and shared volume contents. When false, every step runs again.
    #[serde(default)]
    pub from_failed: bool,
    /// `web` (default) or `cli`: who asked for the re-run (not the earlier run's origin).
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// The state of a pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PipelineRunState {
    /// Created; no step started yet.
    Queued,
    /// At least one step started and the run has not ended.
    Running,
    /// Every step that ran succeeded.
    Succeeded,
    /// A step failed (its dependents were skipped; independent branches went on).
    Failed,
    /// Cancelled: every running step was cancelled.
    Cancelled,
    /// The pipeline's timeout passed: every running step was cancelled.
    TimedOut,
}

impl PipelineRunState {
    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        !matches!(self, PipelineRunState::Queued | PipelineRunState::Running)
    }
}

/// The state of one step of a pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepRunState {
    /// Waiting for its upstream steps (or for a slot under `max_parallel`).
    Pending,
    /// Its execution is queued.
    Queued,
    /// Its execution is running.
    Running,
    /// Its execution succeeded.
    Succeeded,
    /// Its execution failed, timed out or was lost after its retries; or it could not start
    /// (a missing upstream result: see the message).
    Failed,
    /// Never ran: an upstream did not succeed.
    Skipped,
    /// Cancelled with its run.
    Cancelled,
    /// Not run again by a `--from-failed` re-run: the result of the earlier run is used.
    Reused,
}

/// One step of a pipeline run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepRun {
    /// The step's name.
    pub name: String,
    /// The steps it waits for (for a SeqPipe, the step before it).
    pub needs: Vec<String>,
    /// Its state.
    pub state: StepRunState,
    /// The execution that runs (or ran) it; for a reused step, the earlier run's.
    pub execution_id: Option<String>,
    /// The JSON object the notebook wrote to the file named by `NBW_RESULT`.
    #[schema(value_type = Object)]
    pub result: Option<Value>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// When its execution started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A pipeline run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PipelineRun {
    /// Id: `pip.` and 20 base-32 characters.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// Its state.
    pub state: PipelineRunState,
    /// Who started it: `web`, `cli` or `schedule`.
    pub origin: Origin,
    /// The schedule's fire time that created it.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The run this one re-runs (`nbw pipe rerun`).
    pub rerun_of: Option<String>,
    /// Why it failed, timed out or was cancelled.
    pub message: Option<String>,
    /// The steps, in the order of the definition.
    pub steps: Vec<StepRun>,
    /// Whether a cancel was asked for.
    pub cancel_requested: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When its first step started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Set on the spec of an execution that runs a pipeline step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepContext {
    /// The pipeline run (`pip.` id).
    pub pipeline_run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The step's name.
    pub step: String,
    /// The run's shared volume, when the pipeline has `shared_volume` or `shared_folders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedVolume>,
}

/// The volume every step of one pipeline run sees.
///
/// On a Docker agent it is the named volume `name` mounted at `/nbw/shared`; on a local agent,
/// the directory `name` under the agent's data folder. Its path is given to the notebook as
/// `NBW_SHARED`. Each of `folders` (relative to the working directory) is copied from the volume
/// into the working directory before the kernel starts and back after it ends, so that files a
/// step leaves there carry over to the next. Agents remove it when a heartbeat answer lists it in
/// [`super::HeartbeatResponse::remove_volumes`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedVolume {
    /// `nbw-pipe-` and the run id's random part: a valid Docker volume and directory name.
    pub name: String,
    /// Folders of the working directory carried over from step to step (`shared_folders`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
}

impl SharedVolume {
    /// The volume's name for a pipeline run id: `pip.ABC` -> `nbw-pipe-abc`.
    pub fn name_for(pipeline_run_id: &str) -> String {
        let random = pipeline_run_id.split_once('.').map_or(pipeline_run_id, |(_, r)| r);
        format!("nbw-pipe-{}", random.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_name_is_a_valid_docker_name_derived_from_the_run() {
        let name = SharedVolume::name_for("pip.AB12CD");
        assert_eq!(name, "nbw-pipe-ab12cd");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn a_pipeline_input_reads_the_yaml_entry_and_refuses_unknown_fields() {
        let input: PipelineInput = serde_json::from_value(serde_json::json!({
            "spec": {"steps": [{"name": "a", "notebook": "a.ipynb"}]}
        }))
        .unwrap();
        assert!(input.enabled);
        assert_eq!(input.spec.steps[0].name, "a");
        assert!(
            serde_json::from_value::<PipelineInput>(serde_json::json!({"spec": {"steps": []}, "x": 1}))
                .is_err()
        );
    }
}
