//! Forwarding a run's events to the server in batches, without losing or repeating one: each
//! event keeps the engine's sequence number, a batch that fails is sent again (the server
//! ignores numbers it has), and while the server is away events wait in memory.

use std::time::Duration;

use nbw_client::AgentClient;
use nbw_core::api::ExecutionEvent;
use nbw_engine::EventRecord;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::redact::Redactor;

/// Most events in one request.
const MAX_BATCH: usize = 500;
/// How long events gather before a batch goes.
const LINGER: Duration = Duration::from_millis(200);

/// Converts an engine event to the API's shape: the tag becomes `kind`, the rest the payload.
pub fn to_api(record: &EventRecord, redactor: &Redactor) -> ExecutionEvent {
    let mut payload = serde_json::to_value(&record.event).expect("events serialize");
    let kind = payload
        .as_object_mut()
        .and_then(|fields| fields.remove("event"))
        .and_then(|k| k.as_str().map(str::to_owned))
        .unwrap_or_default();
    redactor.json(&mut payload);
    ExecutionEvent { seq: record.seq, kind, payload, time: record.time }
}

/// A running forwarder.
pub struct Forwarder {
    tx: mpsc::UnboundedSender<ExecutionEvent>,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Starts forwarding for `execution_id`.
    pub fn start(
        client: AgentClient,
        execution_id: String,
        stop: tokio_util::sync::CancellationToken,
    ) -> Forwarder {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(forward(client, execution_id, rx, stop));
        Forwarder { tx, task }
    }

    /// Queues one event.
    pub fn send(&self, event: ExecutionEvent) {
        let _ = self.tx.send(event);
    }

    /// Sends what is left and returns once the server has everything (or the forwarder was
    /// told to stop: the execution was abandoned).
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

async fn forward(
    client: AgentClient,
    execution_id: String,
    mut rx: mpsc::UnboundedReceiver<ExecutionEvent>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut pending: Vec<ExecutionEvent> = Vec::new();
    let mut open = true;
    let mut backoff = Duration::from_millis(200);
    while open || !pending.is_empty() {
        if open && pending.len() < MAX_BATCH {
            // Gather for a moment, so a burst of output becomes one request.
            let deadline = tokio::time::Instant::now() + LINGER;
            loop {
                tokio::select! {
                    event = rx.recv() => match event {
                        Some(event) => {
                            pending.push(event);
                            if pending.len() >= MAX_BATCH { break; }
                        }
                        None => { open = false; break; }
                    },
                    _ = tokio::time::sleep_until(deadline), if !pending.is_empty() => break,
                    _ = stop.cancelled() => return,
                }
            }
        }
        if pending.is_empty() {
            continue;
        }
        let batch: Vec<ExecutionEvent> = pending.iter().take(MAX_BATCH).cloned().collect();
        match client.send_events(&execution_id, batch.clone()).await {
            Ok(()) => {
                pending.drain(..batch.len());
                backoff = Duration::from_millis(200);
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(execution = %execution_id, error = %e, "events not delivered; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                // The server refuses (the lease is gone): nothing sent later would be accepted.
                tracing::warn!(execution = %execution_id, error = %e, "events refused; dropping the rest");
                return;
            }
        }
    }
}
