//! What a cell's messages leave in the notebook besides its outputs (which
//! [`crate::outputs::OutputAssembler`] assembles): its outcome, read from the reply, and the
//! `error` outputs that make a failure visible where a reader of the notebook will look.

use serde_json::{Value, json};

use crate::events::CellStatus;
use crate::notebook::object_entry;
use crate::outputs::outputs_mut;

/// A cell's outcome, read from its `execute_reply` alone: the one source of truth, since a
/// kernel may fail a cell without any IOPub `error` message (IPython's `UsageError` does).
/// A status no kernel should send counts as an error: a run is never called a success by doubt.
pub(super) fn reply_status(reply: Option<&Value>) -> CellStatus {
    match reply.and_then(|r| r.get("status")).and_then(Value::as_str) {
        Some("ok") => CellStatus::Ok,
        Some("aborted") => CellStatus::Aborted,
        _ => CellStatus::Error,
    }
}

/// The `error` output for a failed reply when the kernel sent no IOPub `error` for it (IPython's
/// `UsageError`, other kernels, aborted requests), built from the reply as nbclient's
/// `CellExecutionError` is; `None` when the cell already shows an error.
pub(super) fn reply_error_output(
    cell: &mut Value,
    status: CellStatus,
    reply: Option<&Value>,
) -> Option<Value> {
    if outputs_mut(cell).iter().any(|o| o["output_type"] == "error") {
        return None;
    }
    if status == CellStatus::Aborted {
        return Some(error_output("ExecutionAborted", "the kernel aborted this cell without running it"));
    }
    let field = |key: &str| reply.and_then(|r| r.get(key)).and_then(Value::as_str).unwrap_or_default();
    let ename = Some(field("ename")).filter(|e| !e.is_empty()).unwrap_or("CellExecutionError");
    let mut output = error_output(ename, field("evalue"));
    if let Some(traceback) =
        reply.and_then(|r| r.get("traceback")).filter(|t| t.as_array().is_some_and(|t| !t.is_empty()))
    {
        output["traceback"] = traceback.clone();
    }
    Some(output)
}

/// The `error` output that puts the cause of a stop (timeout, cancel, death) into the cell.
pub(super) fn stop_error_output(status: CellStatus, cause: &str) -> Value {
    let ename = match status {
        CellStatus::TimedOut => "TimeoutError",
        CellStatus::Cancelled => "CancelledError",
        _ => "DeadKernelError",
    };
    error_output(ename, cause)
}

fn error_output(ename: &str, evalue: &str) -> Value {
    json!({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [format!("{ename}: {evalue}")]})
}

/// Why failed cell `index` fails the run, from its error output (which [`reply_error_output`]
/// guarantees); `None` for a clean exit, as papermill decides: `SystemExit` with no code or code
/// 0 stops the run without failing it.
pub(super) fn failure_of(cell: &Value, index: usize) -> Option<String> {
    let outputs = cell.get("outputs").and_then(Value::as_array);
    let Some(error) = outputs.into_iter().flatten().find(|o| o["output_type"] == "error") else {
        return Some(format!("cell {index} failed"));
    };
    let ename = error["ename"].as_str().unwrap_or("");
    let evalue = error["evalue"].as_str().unwrap_or("");
    if ename == "SystemExit" && (evalue.is_empty() || evalue == "0") {
        return None;
    }
    Some(format!("cell {index} raised {ename}: {evalue}"))
}

/// nbclient's `metadata.execution` timestamps, taken from the kernel's message headers.
pub(super) fn record_timing(cell: &mut Value, key: &str, date: &Value) {
    let cell = cell.as_object_mut().expect("cells are objects");
    let execution = object_entry(object_entry(cell, "metadata"), "execution");
    execution.insert(key.into(), date.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_decides_and_an_unknown_status_is_an_error() {
        assert_eq!(reply_status(Some(&json!({"status": "ok"}))), CellStatus::Ok);
        assert_eq!(reply_status(Some(&json!({"status": "error"}))), CellStatus::Error);
        assert_eq!(reply_status(Some(&json!({"status": "aborted"}))), CellStatus::Aborted);
        assert_eq!(reply_status(Some(&json!({"status": "weird"}))), CellStatus::Error);
        assert_eq!(reply_status(None), CellStatus::Error);
    }

    #[test]
    fn a_reply_error_becomes_an_output_once() {
        let reply = json!({"status": "error", "ename": "UsageError", "evalue": "no magic", "traceback": []});
        let mut cell = json!({"cell_type": "code", "outputs": []});
        let output = reply_error_output(&mut cell, CellStatus::Error, Some(&reply)).unwrap();
        assert_eq!(output["ename"], "UsageError");
        assert_eq!(output["traceback"], json!(["UsageError: no magic"]));
        outputs_mut(&mut cell).push(output);
        assert!(reply_error_output(&mut cell, CellStatus::Error, Some(&reply)).is_none());
        assert_eq!(failure_of(&cell, 2).unwrap(), "cell 2 raised UsageError: no magic");
    }

    #[test]
    fn a_clean_system_exit_is_no_failure() {
        let cell = json!({"outputs": [{"output_type": "error", "ename": "SystemExit", "evalue": "0", "traceback": []}]});
        assert_eq!(failure_of(&cell, 1), None);
        let cell = json!({"outputs": [{"output_type": "error", "ename": "SystemExit", "evalue": "3", "traceback": []}]});
        assert_eq!(failure_of(&cell, 1).unwrap(), "cell 1 raised SystemExit: 3");
    }
}
