//! A workflow, a pipeline and a schedule of the project file as the API's.

use super::model::{ChannelEntry, NotificationEntry, OnEntry, ProjectDefaults, ProjectFile, WorkflowEntry};
use super::retries::Retries;
use super::schedule::{MisfireEntry, ScheduleEntry};
use crate::api::{
    GPU_LABEL, Misfire, Notification, NotifyChannel, NotifyOn, PipelineInput, RetryPolicy, Schedule,
    WorkflowInput, WorkflowSpec,
};
use crate::pipeline::PipelineEntry;

impl WorkflowEntry {
    /// The API's workflow for this entry, named `name`, running bundle `bundle_version` (the
    /// latest upload when `None`), with the project's `defaults` where it sets nothing itself
    /// (the server keeps no project-level settings: they travel in each workflow).
    pub fn to_input(
        &self,
        name: &str,
        bundle_version: Option<&str>,
        defaults: &ProjectDefaults,
    ) -> WorkflowInput {
        let retries = self.retries.map(|r| r.to_policy()).unwrap_or_default();
        let notifications = self.notifications.iter().map(NotificationEntry::to_api).collect();
        let schedule = self.schedule.as_ref().map(ScheduleEntry::to_api);
        let mut labels = self.labels.clone();
        if self.gpu {
            labels.insert(GPU_LABEL.0.to_owned(), GPU_LABEL.1.to_owned());
        }
        WorkflowInput {
            name: name.to_owned(),
            enabled: self.enabled,
            spec: WorkflowSpec {
                notebook: self.notebook.trim().to_owned(),
                parameters: self.parameters.clone(),
                bundle_version: bundle_version.map(str::to_owned),
                runtime: self.runtime.clone(),
                runtime_version: None,
                volumes: self.volumes.clone(),
                labels,
                timeout_secs: self.timeout.or(defaults.timeout).map(|t| t.0),
                cell_timeout_secs: self.cell_timeout.map(|t| t.0),
                max_queue_secs: self.max_queue.or(defaults.max_queue).map(|t| t.0),
                parameter_rules: self.parameter_rules.clone(),
                retries,
                notifications,
                schedule,
            },
        }
    }
}

impl NotificationEntry {
    /// The API's notification: both outcomes when `on` is left out.
    pub fn to_api(&self) -> Notification {
        Notification {
            channel: match self.channel {
                ChannelEntry::Slack => NotifyChannel::Slack,
                ChannelEntry::Discord => NotifyChannel::Discord,
                ChannelEntry::Webhook => NotifyChannel::Webhook,
            },
            url_secret: self.url_secret.clone(),
            on: if self.on.is_empty() {
                vec![NotifyOn::Success, NotifyOn::Failure]
            } else {
                self.on
                    .iter()
                    .map(|on| match on {
                        OnEntry::Success => NotifyOn::Success,
                        OnEntry::Failure => NotifyOn::Failure,
                    })
                    .collect()
            },
        }
    }
}

impl ProjectFile {
    /// The API's workflow for entry `name`, with what its runtime adds: the runtime's pinned
    /// version, and the GPU label when the runtime needs GPUs (the server never reads the
    /// bundle's runtimes, so the labels an agent is chosen by must be on the workflow).
    pub fn workflow_input(&self, name: &str, bundle_version: Option<&str>) -> Option<WorkflowInput> {
        let entry = self.workflows.get(name)?;
        let mut input = entry.to_input(name, bundle_version, &self.defaults);
        if let Some(runtime) = entry.runtime.as_deref().and_then(|r| self.runtimes.get(r)) {
            input.spec.runtime_version.clone_from(&runtime.version);
            if runtime.gpu {
                input.spec.labels.insert(GPU_LABEL.0.to_owned(), GPU_LABEL.1.to_owned());
            }
        }
        Some(input)
    }

    /// The API's pipeline `name`, with the GPU label on each step whose own runtime needs GPUs
    /// (a step naming a workflow gets the workflow's). A runtime's pinned version does not
    /// reach such a step: a step has no field for it, so it runs the runtime's newest build.
    pub fn pipeline_input(&self, name: &str, bundle_version: Option<&str>) -> Option<PipelineInput> {
        let mut input = self.pipelines.get(name)?.to_input(bundle_version);
        for step in &mut input.spec.steps {
            if step.runtime.as_deref().and_then(|r| self.runtimes.get(r)).is_some_and(|r| r.gpu) {
                step.labels.insert(GPU_LABEL.0.to_owned(), GPU_LABEL.1.to_owned());
            }
        }
        Some(input)
    }
}

impl Retries {
    /// The API's retry policy, with the API's defaults for what the entry leaves out.
    pub fn to_policy(&self) -> RetryPolicy {
        let default = RetryPolicy::default();
        RetryPolicy {
            max_retries: self.max,
            backoff_secs: self.backoff.map_or(default.backoff_secs, |b| b.0),
            backoff_factor: self.factor.unwrap_or(default.backoff_factor),
        }
    }
}

impl ScheduleEntry {
    /// The API's schedule for this entry.
    pub fn to_api(&self) -> Schedule {
        Schedule {
            cron: self.cron.clone(),
            timezone: self.timezone.clone(),
            interval_secs: self.interval.map(|i| i.0),
            start_at: self.start_at,
            end_at: self.end_at,
            misfire: match self.misfire {
                Some(MisfireEntry::RunOnce) => Misfire::RunOnce,
                Some(MisfireEntry::Skip) | None => Misfire::Skip,
            },
        }
    }
}

impl PipelineEntry {
    /// The API's pipeline for this entry, running bundle `bundle_version` (the latest upload
    /// when `None`). The entry travels as it is: the server resolves steps that name a workflow
    /// when it starts them.
    pub fn to_input(&self, bundle_version: Option<&str>) -> PipelineInput {
        PipelineInput { enabled: true, bundle_version: bundle_version.map(str::to_owned), spec: self.clone() }
    }
}
