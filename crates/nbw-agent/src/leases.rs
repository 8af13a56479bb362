//! The executions this agent runs, and the heartbeat that keeps their leases: it renews them,
//! and carries back which to cancel (a user asked) or abandon (the server gave the execution
//! up: lost, or reclaimed elsewhere). It also lists the pipeline shared volumes the agent holds
//! and removes those whose run is over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nbw_client::AgentClient;
use tokio_util::sync::CancellationToken;

use crate::shared::SharedVolumes;

/// One running execution's controls.
#[derive(Debug, Clone, Default)]
pub struct Controls {
    /// Cancelled when the run must stop (cancel or abandon).
    pub stop: CancellationToken,
    /// Cancelled when the server gave the execution up: nothing more is reported for it.
    pub abandoned: CancellationToken,
}

/// The running executions.
#[derive(Debug, Clone, Default)]
pub struct Running {
    inner: Arc<Mutex<HashMap<String, Controls>>>,
}

impl Running {
    /// Registers an execution.
    pub fn add(&self, id: &str) -> Controls {
        let controls = Controls::default();
        self.inner.lock().expect("running lock").insert(id.to_owned(), controls.clone());
        controls
    }

    /// Forgets an execution.
    pub fn remove(&self, id: &str) {
        self.inner.lock().expect("running lock").remove(id);
    }

    /// The ids running now.
    pub fn ids(&self) -> Vec<String> {
        self.inner.lock().expect("running lock").keys().cloned().collect()
    }

    /// How many are running.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("running lock").len()
    }

    /// Whether none is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every running execution (shutdown deadline).
    pub fn stop_all(&self) {
        for controls in self.inner.lock().expect("running lock").values() {
            controls.stop.cancel();
        }
    }

    fn get(&self, id: &str) -> Option<Controls> {
        self.inner.lock().expect("running lock").get(id).cloned()
    }
}

/// Heartbeats every `every` until `shutdown`; a failed heartbeat is retried at the next beat.
pub async fn heartbeat_loop(
    client: AgentClient,
    running: Running,
    volumes: SharedVolumes,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        let ids = running.ids();
        match client.heartbeat(ids, volumes.held()).await {
            Ok(answer) => {
                for id in answer.cancel {
                    if let Some(controls) = running.get(&id) {
                        tracing::info!(execution = %id, "cancel requested");
                        controls.stop.cancel();
                    }
                }
                for id in answer.abandon {
                    if let Some(controls) = running.get(&id) {
                        tracing::warn!(execution = %id, "the server gave this execution up; stopping it");
                        controls.abandoned.cancel();
                        controls.stop.cancel();
                    }
                }
                for name in answer.remove_volumes {
                    volumes.remove(&name).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat failed; retrying"),
        }
    }
}
