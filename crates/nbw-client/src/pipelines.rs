//! The pipeline routes of [`UserClient`]: definitions (`nbw push`), runs, re-runs, cancels, and
//! a run's live step events (`nbw pipe ...`).

use std::pin::Pin;

use futures::{Stream, StreamExt};
use nbw_core::api::{Page, Pipeline, PipelineInput, PipelineRun, RerunPipeline, RunPipeline, StepRun};
use reqwest::Method;

use crate::ClientError;
use crate::user::{UserClient, segment};

/// One item of a pipeline run's live event stream.
#[derive(Debug, Clone)]
pub enum PipelineItem {
    /// A step changed state.
    Step(StepRun),
    /// The run is over; the stream closes after this.
    End(Box<PipelineRun>),
}

/// A pipeline run's events as they come; ends after [`PipelineItem::End`], or early when the
/// connection breaks (fetch the run, then follow again).
pub type PipelineStream = Pin<Box<dyn Stream<Item = Result<PipelineItem, ClientError>> + Send>>;

impl UserClient {
    fn pipelines_path(project: &str) -> String {
        format!("/v1/projects/{}/pipelines", segment(project))
    }

    fn pipeline_path(project: &str, name: &str) -> String {
        format!("{}/{}", Self::pipelines_path(project), segment(name))
    }

    fn pipeline_run_path(project: &str, id: &str) -> String {
        format!("/v1/projects/{}/pipeline-runs/{}", segment(project), segment(id))
    }

    /// The project's pipelines.
    pub async fn pipelines(&self, project: &str) -> Result<Vec<Pipeline>, ClientError> {
        self.http.json::<(), _>(Method::GET, &Self::pipelines_path(project), None).await
    }

    /// One pipeline.
    pub async fn pipeline(&self, project: &str, name: &str) -> Result<Pipeline, ClientError> {
        self.http.json::<(), _>(Method::GET, &Self::pipeline_path(project, name), None).await
    }

    /// Creates or replaces pipeline `name` (422 `invalid_pipeline` names the step and the fix).
    pub async fn put_pipeline(
        &self,
        project: &str,
        name: &str,
        input: &PipelineInput,
    ) -> Result<Pipeline, ClientError> {
        self.http.json(Method::PUT, &Self::pipeline_path(project, name), Some(input)).await
    }

    /// Deletes a pipeline (its runs stay in the history).
    pub async fn delete_pipeline(&self, project: &str, name: &str) -> Result<(), ClientError> {
        self.http.call::<()>(Method::DELETE, &Self::pipeline_path(project, name), None).await
    }

    /// Runs a pipeline now.
    pub async fn run_pipeline(
        &self,
        project: &str,
        name: &str,
        request: &RunPipeline,
    ) -> Result<PipelineRun, ClientError> {
        let path = format!("{}/runs", Self::pipeline_path(project, name));
        self.http.json(Method::POST, &path, Some(request)).await
    }

    /// One page of a pipeline's runs, newest first.
    pub async fn pipeline_runs(
        &self,
        project: &str,
        name: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<PipelineRun>, ClientError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(limit) = limit {
            params.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor.to_owned()));
        }
        let path = format!("{}/runs", Self::pipeline_path(project, name));
        self.http.fetch(self.http.request(Method::GET, &path).query(&params)).await
    }

    /// One pipeline run.
    pub async fn pipeline_run(&self, project: &str, id: &str) -> Result<PipelineRun, ClientError> {
        self.http.json::<(), _>(Method::GET, &Self::pipeline_run_path(project, id), None).await
    }

    /// Cancels a pipeline run: every queued or running step.
    pub async fn cancel_pipeline_run(&self, project: &str, id: &str) -> Result<PipelineRun, ClientError> {
        let path = format!("{}/cancel", Self::pipeline_run_path(project, id));
        self.http.json::<(), _>(Method::POST, &path, None).await
    }

    /// Re-runs a pipeline run (only what did not succeed, with `from_failed`); returns the new run.
    pub async fn rerun_pipeline(
        &self,
        project: &str,
        id: &str,
        request: &RerunPipeline,
    ) -> Result<PipelineRun, ClientError> {
        let path = format!("{}/rerun", Self::pipeline_run_path(project, id));
        self.http.json(Method::POST, &path, Some(request)).await
    }

    /// A pipeline run's step events, live while it runs.
    pub async fn pipeline_events(&self, project: &str, id: &str) -> Result<PipelineStream, ClientError> {
        let path = format!("{}/events", Self::pipeline_run_path(project, id));
        let stream = self.event_source(&path, 0).await?.filter_map(|item| async move {
            match item {
                Err(e) => Some(Err(e)),
                Ok(event) if event.event == "run_end" => Some(
                    serde_json::from_str::<PipelineRun>(&event.data)
                        .map(|run| PipelineItem::End(Box::new(run)))
                        .map_err(|e| ClientError::Decode(format!("run_end event: {e}"))),
                ),
                Ok(event) if event.event == "step" => Some(
                    serde_json::from_str::<StepRun>(&event.data)
                        .map(PipelineItem::Step)
                        .map_err(|e| ClientError::Decode(format!("step event {}: {e}", event.id))),
                ),
                Ok(_) => None,
            }
        });
        Ok(Box::pin(stream))
    }
}
