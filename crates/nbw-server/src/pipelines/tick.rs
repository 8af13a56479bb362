//! The periodic work of pipelines, safe on every server at once: runs past their timeout are
//! timed out (a compare-and-set change), runs a stopped server left half-started are repaired
//! ([`super::repair`]; the first tick runs as the server starts), due schedules fire (a unique
//! fire key makes one run per fire however many servers fire it), and agents learn which
//! shared volumes to remove.

use std::time::Duration;

use chrono::{DateTime, Utc};
use nbw_core::api::{Origin, PipelineRunState, RunPipeline};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::repair::repair;
use super::runs::{Trigger, cancel, start};
use crate::db::{now_ms, to_time};
use crate::error::Result;
use crate::scheduler::schedule;
use crate::state::AppState;
use crate::store::pipelines::{self as store, PipelineRow};

/// How often the loop looks.
const EVERY: Duration = Duration::from_secs(1);

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// Runs created by schedule fires.
    pub fired: usize,
    /// Runs timed out.
    pub timed_out: usize,
    /// Step executions queued by the repair of half-started runs.
    pub repaired: usize,
}

/// One pass at `now`: timeouts, repairs, then due schedules.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<TickReport> {
    let mut report = TickReport::default();
    for run in store::overdue(&state.db, now.timestamp_millis()).await? {
        let message = "the pipeline's timeout passed: every running step was cancelled";
        if cancel(state, &run.id, PipelineRunState::TimedOut, message).await.is_ok() {
            report.timed_out += 1;
        }
    }
    report.repaired = repair(state).await?;
    for pipeline in store::due(&state.db, now.timestamp_millis()).await? {
        report.fired += fire(state, &pipeline, now).await?;
    }
    Ok(report)
}

/// Creates the run of the pipeline's due fire (once: a missed fire is not replayed) and moves
/// its next fire time past `now`. Returns how many runs this server created (0 when another
/// created it).
async fn fire(state: &AppState, pipeline: &PipelineRow, now: DateTime<Utc>) -> Result<usize> {
    let Some(at) = pipeline.next_fire_at else { return Ok(0) };
    let next = pipeline
        .spec()
        .schedule
        .and_then(|s| schedule::compile(&s.to_api()).ok())
        .and_then(|compiled| compiled.next_after(now, now))
        .map(|t| t.timestamp_millis());
    // Whichever server moves it, both may try the fire: the run's fire key keeps one.
    store::move_fire(&state.db, &pipeline.id, at, next).await?;
    let trigger = Trigger { origin: Origin::Schedule, created_by: None, fire_at: Some(to_time(at)) };
    match start(state, pipeline, RunPipeline::default(), trigger).await {
        Ok(created) => Ok(usize::from(created.is_some())),
        Err(e) => {
            let error = nbw_core::api::FireError {
                at: to_time(at),
                code: e.code().to_owned(),
                message: e.to_string(),
            };
            let error = serde_json::to_string(&error).expect("errors serialize");
            store::set_fire_error(&state.db, &pipeline.id, &error).await?;
            tracing::warn!(pipeline = %pipeline.id, error = %e, "a scheduled pipeline run could not start");
            Ok(0)
        }
    }
}

/// Among the shared `volumes` an agent holds, those to remove: every run using it ended and its
/// keep time passed; or no run uses it (its project was deleted).
pub async fn volumes_to_remove(state: &AppState, volumes: &[String]) -> Result<Vec<String>> {
    let now = now_ms();
    let mut remove = Vec::new();
    for name in volumes {
        let runs = store::runs_with_volume(&state.db, name).await?;
        let done = runs.iter().all(|r| r.state().is_final() && r.keep_until.is_none_or(|k| k <= now));
        if done {
            remove.push(name.clone());
        }
    }
    Ok(remove)
}

/// Ticks every second until `shutdown`; the first tick at once, so a server repairs what an
/// earlier one left half-started as it starts.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            if let Err(e) = tick(&state, Utc::now()).await {
                tracing::warn!(error = %e, "pipeline tick failed; retrying");
            }
        }
    })
}
