//! Turning the kernel's IOPub messages into a cell's outputs, as nbclient does.
//!
//! - `stream` messages append to the previous output when it is a stream of the same name, so
//!   a cell printing a million lines holds one output, not thousands;
//! - `display_data` and `execute_result` are appended; when they carry a display id, every
//!   earlier output with that id (in any cell) takes the new data, and `update_display_data`
//!   only does the latter;
//! - `clear_output` empties the cell's outputs now, or with `wait=True` just before the next
//!   output arrives;
//! - `error` is appended with its traceback.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::session::KernelMessage;

/// What a message did to the notebook, for the event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// A new output, or a stream chunk (`{"output_type": "stream", "name", "text"}` with only
    /// the new text) appended to the cell.
    Output(Value),
    /// Outputs with this display id got new data and metadata.
    DisplayUpdate {
        /// The display id.
        display_id: String,
        /// The new MIME bundle.
        data: Value,
        /// The new output metadata.
        metadata: Value,
    },
    /// The cell's outputs were cleared (or will be, before the next output).
    Cleared {
        /// Whether the clear waits for the next output.
        wait: bool,
    },
}

/// Assembles outputs across the cells of one run.
#[derive(Debug, Default)]
pub struct OutputAssembler {
    /// display id -> (cell index, output index) of every output showing it.
    displays: HashMap<String, Vec<(usize, usize)>>,
    clear_before_next_output: bool,
}

impl OutputAssembler {
    /// Applies one IOPub message addressed to `cell` of `cells`. Messages that carry no output
    /// (status, execute_input, comms) return `None`.
    pub fn apply(&mut self, cells: &mut [Value], cell: usize, msg: &KernelMessage) -> Option<Applied> {
        let content = &msg.content;
        match msg.msg_type.as_str() {
            "clear_output" => {
                let wait = content.get("wait").and_then(Value::as_bool).unwrap_or(false);
                if wait {
                    self.clear_before_next_output = true;
                } else {
                    self.clear(cells, cell);
                }
                Some(Applied::Cleared { wait })
            }
            "update_display_data" => {
                let display_id = display_id(content)?;
                self.update_display(cells, display_id, content)
            }
            "stream" | "display_data" | "execute_result" | "error" => {
                let output = output_from_message(&msg.msg_type, content);
                if self.clear_before_next_output {
                    self.clear(cells, cell);
                    self.clear_before_next_output = false;
                }
                if let Some(id) = display_id(content) {
                    // A new display with a known id also refreshes the earlier ones.
                    self.update_display(cells, id, content);
                }
                let outputs = outputs_mut(&mut cells[cell]);
                if let Some(id) = display_id(content) {
                    self.displays.entry(id.to_owned()).or_default().push((cell, outputs.len()));
                }
                if !merge_stream(outputs, &output) {
                    outputs.push(output.clone());
                }
                Some(Applied::Output(output))
            }
            _ => None,
        }
    }

    fn clear(&mut self, cells: &mut [Value], cell: usize) {
        outputs_mut(&mut cells[cell]).clear();
        for places in self.displays.values_mut() {
            places.retain(|(c, _)| *c != cell);
        }
    }

    fn update_display(&self, cells: &mut [Value], display_id: &str, content: &Value) -> Option<Applied> {
        let places = self.displays.get(display_id)?;
        let data = content.get("data").cloned().unwrap_or_else(|| json!({}));
        let metadata = content.get("metadata").cloned().unwrap_or_else(|| json!({}));
        for &(cell, index) in places {
            if let Some(Value::Object(output)) = outputs_mut(&mut cells[cell]).get_mut(index) {
                output.insert("data".into(), data.clone());
                output.insert("metadata".into(), metadata.clone());
            }
        }
        Some(Applied::DisplayUpdate { display_id: display_id.to_owned(), data, metadata })
    }
}

fn display_id(content: &Value) -> Option<&str> {
    content.pointer("/transient/display_id")?.as_str()
}

/// The cell's `outputs` list (code cells always have one after loading).
pub fn outputs_mut(cell: &mut Value) -> &mut Vec<Value> {
    let outputs =
        cell.as_object_mut().expect("cells are objects").entry("outputs").or_insert_with(|| json!([]));
    if !outputs.is_array() {
        *outputs = json!([]);
    }
    outputs.as_array_mut().expect("just made a list")
}

/// nbformat's `output_from_msg`: the output as stored in a notebook.
fn output_from_message(msg_type: &str, content: &Value) -> Value {
    let field = |key: &str, default: Value| content.get(key).cloned().unwrap_or(default);
    let mut output = Map::new();
    output.insert("output_type".into(), json!(msg_type));
    match msg_type {
        "stream" => {
            output.insert("name".into(), field("name", json!("stdout")));
            output.insert("text".into(), field("text", json!("")));
        }
        "error" => {
            output.insert("ename".into(), field("ename", json!("")));
            output.insert("evalue".into(), field("evalue", json!("")));
            output.insert("traceback".into(), field("traceback", json!([])));
        }
        _ => {
            output.insert("data".into(), field("data", json!({})));
            output.insert("metadata".into(), field("metadata", json!({})));
            if msg_type == "execute_result" {
                output.insert("execution_count".into(), field("execution_count", Value::Null));
            }
        }
    }
    Value::Object(output)
}

/// Appends a stream chunk to the last output when that is a stream of the same name.
fn merge_stream(outputs: &mut [Value], output: &Value) -> bool {
    if output["output_type"] != "stream" {
        return false;
    }
    let Some(last) = outputs.last_mut() else {
        return false;
    };
    if last["output_type"] != "stream" || last["name"] != output["name"] {
        return false;
    }
    let addition = output["text"].as_str().unwrap_or("");
    match last.get_mut("text") {
        Some(Value::String(text)) => {
            text.push_str(addition);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Channel;

    fn msg(msg_type: &str, content: Value) -> KernelMessage {
        KernelMessage {
            channel: Channel::IoPub,
            msg_type: msg_type.into(),
            msg_id: "m".into(),
            date: None,
            parent_id: None,
            content,
        }
    }

    fn cells(n: usize) -> Vec<Value> {
        (0..n).map(|_| json!({"cell_type": "code", "outputs": []})).collect()
    }

    #[test]
    fn streams_of_one_name_merge() {
        let mut a = OutputAssembler::default();
        let mut c = cells(1);
        for (name, text) in [("stdout", "a\n"), ("stdout", "b\n"), ("stderr", "e\n"), ("stdout", "c\n")] {
            a.apply(&mut c, 0, &msg("stream", json!({"name": name, "text": text})));
        }
        let outputs = c[0]["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 3);
        assert_eq!(outputs[0]["text"], "a\nb\n");
        assert_eq!(outputs[2]["text"], "c\n");
    }

    #[test]
    fn display_updates_reach_every_cell_showing_the_id() {
        let mut a = OutputAssembler::default();
        let mut c = cells(2);
        let shown = json!({"data": {"text/plain": "1"}, "metadata": {}, "transient": {"display_id": "d"}});
        a.apply(&mut c, 0, &msg("display_data", shown.clone()));
        a.apply(&mut c, 1, &msg("display_data", shown));
        let update = json!({"data": {"text/plain": "2"}, "metadata": {}, "transient": {"display_id": "d"}});
        let applied = a.apply(&mut c, 1, &msg("update_display_data", update));
        assert!(matches!(applied, Some(Applied::DisplayUpdate { .. })));
        assert_eq!(c[0]["outputs"][0]["data"]["text/plain"], "2");
        assert_eq!(c[1]["outputs"][0]["data"]["text/plain"], "2");
        assert_eq!(c[1]["outputs"].as_array().unwrap().len(), 1);
        assert!(c[0]["outputs"][0].get("transient").is_none());
    }

    #[test]
    fn clear_output_wait_defers_until_the_next_output() {
        let mut a = OutputAssembler::default();
        let mut c = cells(1);
        a.apply(&mut c, 0, &msg("stream", json!({"name": "stdout", "text": "old"})));
        a.apply(&mut c, 0, &msg("clear_output", json!({"wait": true})));
        assert_eq!(c[0]["outputs"].as_array().unwrap().len(), 1);
        a.apply(&mut c, 0, &msg("stream", json!({"name": "stdout", "text": "new"})));
        assert_eq!(c[0]["outputs"], json!([{"output_type": "stream", "name": "stdout", "text": "new"}]));
        a.apply(&mut c, 0, &msg("clear_output", json!({"wait": false})));
        assert_eq!(c[0]["outputs"], json!([]));
    }

    #[test]
    fn results_and_errors_keep_their_fields() {
        let mut a = OutputAssembler::default();
        let mut c = cells(1);
        a.apply(
            &mut c,
            0,
            &msg(
                "execute_result",
                json!({"data": {"text/plain": "3"}, "metadata": {}, "execution_count": 4}),
            ),
        );
        a.apply(&mut c, 0, &msg("error", json!({"ename": "E", "evalue": "v", "traceback": ["t"]})));
        assert_eq!(c[0]["outputs"][0]["execution_count"], 4);
        assert_eq!(
            c[0]["outputs"][1],
            json!({"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]})
        );
        assert_eq!(a.apply(&mut c, 0, &msg("status", json!({"execution_state": "idle"}))), None);
    }
}
