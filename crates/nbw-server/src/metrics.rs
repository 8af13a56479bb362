//! Prometheus metrics: queue depth by state (read at scrape time), claim latency and run
//! durations.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a run-duration observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    /// The final state.
    pub state: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Time from an execution's creation to its claim, in seconds.
    pub claim_latency: Histogram,
    /// Run durations by final state, in seconds.
    pub run_duration: Family<StateLabel, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            claim_latency: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            run_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.1, 2.0, 16))),
        }
    }
}

impl Metrics {
    /// The registry for a scrape, with the queue depth gauge filled from `depth`.
    pub fn encode(&self, depth: &[(String, i64)]) -> String {
        let mut registry = Registry::with_prefix("nbw");
        registry.register("claim_latency_seconds", "Time from queued to claimed", self.claim_latency.clone());
        registry.register(
            "run_duration_seconds",
            "Execution run time by final state",
            self.run_duration.clone(),
        );
        let queue: Family<StateLabel, prometheus_client::metrics::gauge::Gauge> = Family::default();
        for (state, count) in depth {
            queue.get_or_create(&StateLabel { state: state.clone() }).set(*count);
        }
        registry.register("executions", "Executions by state", queue);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("encoding to a String");
        out
    }
}
