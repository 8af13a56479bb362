//! What a run reports while it runs: the stream the CLI prints and the agent forwards.
//!
//! Each event is one JSON object (`nbw run --events FILE` writes one per line) with a sequence
//! number that starts at 1 and has no gaps, the time, and an `event` tag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every cell ran (cells allowed to raise may have raised).
    Succeeded,
    /// A cell raised and the run stopped there.
    Failed,
    /// `--cell-timeout` or `--timeout` expired; the kernel was interrupted or killed.
    TimedOut,
    /// The run was cancelled.
    Cancelled,
    /// The kernel exited (or never started) before the run was over.
    KernelDied,
    /// Every cell ran, but some output may be missing: a cell's idle status never came, a
    /// message could not be read, or the kernel's message numbers have a gap.
    OutputIncomplete,
}

/// How one cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// The kernel replied `ok`.
    Ok,
    /// The kernel replied `error` (with or without an IOPub `error` message).
    Error,
    /// The kernel replied `aborted`: it did not run the cell (an earlier request failed).
    Aborted,
    /// The cell was stopped by a timeout.
    TimedOut,
    /// The cell was stopped by a cancel.
    Cancelled,
    /// The kernel died during the cell.
    KernelDied,
}

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The kernel is ready and cells are about to run.
    RunStart {
        /// Kernelspec name.
        kernel: String,
        /// Kernel language.
        language: String,
        /// Number of cells in the notebook (after injection).
        cells: usize,
        /// Number of code cells that will be sent to the kernel.
        code_cells: usize,
        /// The run's parameters.
        parameters: Value,
    },
    /// A code cell was sent to the kernel.
    CellStart {
        /// Index of the cell in the output notebook.
        cell: usize,
        /// 1-based position among the code cells that run.
        ordinal: usize,
    },
    /// A new output, or a chunk of stream text, in nbformat's output shape.
    Output {
        /// Index of the cell.
        cell: usize,
        /// The output (a stream chunk carries only the new text).
        output: Value,
    },
    /// Outputs showing `display_id` were replaced.
    DisplayUpdate {
        /// Index of the cell whose code sent the update.
        cell: usize,
        /// The display id.
        display_id: String,
        /// The new MIME bundle.
        data: Value,
        /// The new metadata.
        metadata: Value,
    },
    /// The cell's outputs were cleared.
    ClearOutput {
        /// Index of the cell.
        cell: usize,
        /// Whether the clear waits for the next output.
        wait: bool,
    },
    /// A code cell finished.
    CellEnd {
        /// Index of the cell.
        cell: usize,
        /// How it ended.
        status: CellStatus,
        /// The kernel's execution count.
        execution_count: Option<i64>,
        /// Wall time from request to completion.
        duration_ms: f64,
    },
    /// The run is over and the notebook is final.
    RunEnd {
        /// How the run ended.
        status: RunStatus,
        /// Why, when it did not succeed.
        message: Option<String>,
        /// Index of the failing cell, if any.
        failed_cell: Option<usize>,
        /// Wall time of the run, kernel start included.
        duration_ms: f64,
        /// Peak resident memory of the runner process (not the kernel), in KiB.
        runner_peak_rss_kib: u64,
    },
}

/// An event with its sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// 1, 2, 3, ... within a run.
    pub seq: u64,
    /// When the event happened.
    pub time: DateTime<Utc>,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_flat_with_a_tag() {
        let record = EventRecord {
            seq: 3,
            time: DateTime::from_timestamp(0, 0).unwrap(),
            event: Event::CellStart { cell: 2, ordinal: 1 },
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["event"], "cell_start");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["cell"], 2);
        let back: EventRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }
}
