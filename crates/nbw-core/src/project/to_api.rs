//! A workflow, a pipeline and a schedule of the project file as the API's.

use super::model::{ChannelEntry, OnEntry, ProjectDefaults, WorkflowEntry};
use super::retries::Retries;
use super::schedule::{MisfireEntry, ScheduleEntry};
use crate::api::{
    Misfire, Notification, NotifyChannel, NotifyOn, PipelineInput, RetryPolicy, Schedule, WorkflowInput,
    WorkflowSpec,
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
        let notifications = self
            .notifications
            .iter()
            .map(|n| Notification {
                channel: match n.channel {
                    ChannelEntry::Slack => NotifyChannel::Slack,
                    ChannelEntry::Discord => NotifyChannel::Discord,
                    ChannelEntry::Webhook => NotifyChannel::Webhook,
                },
                url_secret: n.url_secret.clone(),
                on: if n.on.is_empty() {
                    vec![NotifyOn::Success, NotifyOn::Failure]
                } else {
                    n.on.iter()
                        .map(|on| match on {
                            OnEntry::Success => NotifyOn::Success,
                            OnEntry::Failure => NotifyOn::Failure,
                        })
                        .collect()
                },
            })
            .collect();
        let schedule = self.schedule.as_ref().map(ScheduleEntry::to_api);
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
                labels: self.labels.clone(),
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
