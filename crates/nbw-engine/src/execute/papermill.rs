//! papermill's bookkeeping in the notebook (`metadata.papermill` on the notebook and on every
//! cell), so tools that read it keep working, and nbw's own `metadata.nbw`.

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::ExecuteOptions;
use crate::events::RunStatus;
use crate::notebook::{Notebook, object_entry};

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Before the run: the parameters and paths, every cell `pending`, code cells emptied.
pub(super) fn start(notebook: &mut Notebook, parameters: &Value, options: &ExecuteOptions) {
    let papermill = notebook.papermill_mut();
    for key in ["default_parameters", "environment_variables"] {
        papermill.entry(key).or_insert_with(|| json!({}));
    }
    papermill.insert("parameters".into(), parameters.clone());
    papermill.insert("input_path".into(), json!(options.input_path));
    papermill.insert("output_path".into(), json!(options.output_path));
    papermill.insert("start_time".into(), json!(now_iso()));
    for key in ["end_time", "duration", "exception"] {
        papermill.insert(key.into(), Value::Null);
    }
    for cell in notebook.cells_mut() {
        let fields = cell.as_object_mut().expect("cells are objects");
        let metadata = object_entry(fields, "metadata");
        metadata.entry("tags").or_insert_with(|| json!([]));
        metadata.insert(
            "papermill".into(),
            json!({"exception": null, "start_time": null, "end_time": null, "duration": null, "status": "pending"}),
        );
        if fields.get("cell_type").and_then(Value::as_str) == Some("code") {
            fields.insert("outputs".into(), json!([]));
            fields.insert("execution_count".into(), Value::Null);
        }
    }
}

fn cell_papermill(notebook: &mut Notebook, index: usize) -> &mut Map<String, Value> {
    let cell = notebook.cells_mut()[index].as_object_mut().expect("cells are objects");
    object_entry(object_entry(cell, "metadata"), "papermill")
}

/// Cell `index` starts running.
pub(super) fn cell_started(notebook: &mut Notebook, index: usize) {
    let meta = cell_papermill(notebook, index);
    meta.insert("start_time".into(), json!(now_iso()));
    meta.insert("status".into(), json!("running"));
    meta.insert("exception".into(), json!(false));
}

/// Cell `index` is over: its end time, duration and whether it stopped the run.
pub(super) fn cell_completed(notebook: &mut Notebook, index: usize, failed: bool) {
    let end = Utc::now();
    let meta = cell_papermill(notebook, index);
    let start = meta
        .get("start_time")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    meta.insert("end_time".into(), json!(end.to_rfc3339_opts(SecondsFormat::Micros, false)));
    if let Some(start) = start {
        let seconds = (end - start.with_timezone(&Utc)).num_microseconds().unwrap_or(0) as f64 / 1e6;
        meta.insert("duration".into(), json!(seconds));
    }
    meta.insert("status".into(), json!(if failed { "failed" } else { "completed" }));
    meta.insert("exception".into(), json!(failed));
}

/// After the run: the banner at the failed cell, the end time, and `exception` derived from the
/// run's status, so the metadata, the events and the exit code never disagree. (papermill also
/// writes `exception: true` after a clean `sys.exit(0)` that it exits 0 for.)
pub(super) fn finish(
    notebook: &mut Notebook,
    status: RunStatus,
    message: Option<&str>,
    failed_cell: Option<usize>,
    duration: f64,
) {
    if let Some(index) = failed_cell {
        let count = notebook.cells()[index]["execution_count"].as_i64();
        notebook.add_error_banner(index, count);
    }
    let exception = if status == RunStatus::Succeeded { Value::Null } else { json!(true) };
    let papermill = notebook.papermill_mut();
    papermill.insert("end_time".into(), json!(now_iso()));
    papermill.insert("duration".into(), json!(duration));
    papermill.insert("exception".into(), exception);
    let nbw = object_entry(notebook.metadata_mut(), "nbw");
    nbw.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    nbw.insert("status".into(), json!(status));
    nbw.insert("message".into(), json!(message));
}
