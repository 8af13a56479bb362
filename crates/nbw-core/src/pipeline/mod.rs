//! Pipelines of `nbw.yaml`: notebooks chained in order (SeqPipe) or as a DAG (DagPipe).
//!
//! [`PipelineEntry`] is the `pipelines:` entry of the project file, [`validate_pipelines`] checks
//! one project's pipelines, [`dag`] orders steps and decides what may start, what a failure skips
//! and what a resume re-runs, and [`template`] renders a step's parameters from the run's context
//! and the results of upstream steps.

pub mod dag;
pub mod template;
mod validate;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::project::{NotificationEntry, Retries, ScheduleEntry, Seconds};

pub use validate::validate_pipelines;

/// One pipeline: steps that run notebooks or workflows, in order or as a DAG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineEntry {
    /// Free text, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it runs by itself, with the same rules as a workflow's schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleEntry>,
    /// One directory (`NBW_SHARED`) seen by every step of one run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared_volume: bool,
    /// Folders of the working directory carried over from step to step (the run is pinned to one
    /// agent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_folders: Vec<String>,
    /// How long the shared volume is kept after a failed run, for debugging and `rerun --from-failed`
    /// (default: one hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_volume_on_failure: Option<Seconds>,
    /// How many steps may run at once (default 1 when absent; 0 is an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// The longest the whole run may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Seconds>,
    /// Where to report how a run ends: one message per run (not per step), with the failing
    /// step and cell; the same shape as a workflow's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationEntry>,
    /// The steps, in the order a SeqPipe runs them.
    pub steps: Vec<StepEntry>,
}

/// One step of a pipeline: a notebook, or a workflow whose settings it inherits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    /// The step's name, unique in its pipeline; parameters reference it as `steps.NAME`.
    pub name: String,
    /// The notebook it runs (exclusive with `workflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook: Option<String>,
    /// The workflow it runs (exclusive with `notebook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Steps that must end before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// Parameters; strings may hold `{{ ... }}` references (see [`template`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The runtime (a key of `runtimes`), overriding the workflow's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Labels an agent must have to run it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The longest the step may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Seconds>,
    /// Retries of a failed or lost step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Whether it runs only when its upstreams succeeded, or always once they ended.
    #[serde(default, skip_serializing_if = "When::is_default")]
    pub when: When,
}

/// When a step runs, given how its upstreams ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Only when every upstream succeeded; otherwise the step is skipped.
    #[default]
    OnSuccess,
    /// Once every upstream ended, however (a cleanup or a report of failures).
    Always,
}

impl When {
    fn is_default(&self) -> bool {
        *self == When::OnSuccess
    }
}
