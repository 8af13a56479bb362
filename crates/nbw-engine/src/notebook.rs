//! The notebook document: read, checked, changed in place and written back.
//!
//! The model keeps the whole JSON tree (`serde_json::Value`) instead of typed structs, because
//! nbw must be lossless: unknown MIME types, output metadata, widget state and every key a newer
//! nbformat may add survive a run untouched. (The `nbformat` crate drops an output it cannot
//! deserialize and upgrades 4.4 files to 4.5; nbw keeps both as they were.) Only the fields nbw
//! reads or writes are checked, and a malformed file is refused with the path to the bad field.
//!
//! In memory, multi-line strings are joined as Python's `nbformat.reads` does; on write they are
//! split again into lists of lines, keys are sorted and the indent is one space, as
//! `nbformat.write` does, so diffs against papermill's output stay small.

use std::path::Path;

use serde_json::{Map, Value, json};

/// A notebook that failed the checks nbw makes before running it.
#[derive(Debug, thiserror::Error)]
#[error("{problem}; {fix}")]
pub struct NotebookError {
    /// What is wrong, naming the field.
    pub problem: String,
    /// How the user can fix it.
    pub fix: String,
}

fn bad(problem: impl Into<String>, fix: impl Into<String>) -> NotebookError {
    NotebookError { problem: problem.into(), fix: fix.into() }
}

/// Tag of the cell whose assignments are a notebook's parameter defaults.
pub const PARAMETERS_TAG: &str = "parameters";
/// Tag of the cell nbw (and papermill) inserts with the run's parameters.
pub const INJECTED_TAG: &str = "injected-parameters";
/// Tag of a cell allowed to raise without stopping the run.
pub const RAISES_EXCEPTION_TAG: &str = "raises-exception";
/// Tag of a cell that is not run (nbclient's `skip_cells_with_tag`).
pub const SKIP_EXECUTION_TAG: &str = "skip-execution";
/// Tag papermill puts on its error banner cells; nbw uses the same so tools keep working.
pub const ERROR_MARKER_TAG: &str = "papermill-error-cell-tag";

const ERROR_STYLE: &str =
    r#"style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;""#;

/// The kind of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    /// Executed by the kernel.
    Code,
    /// Rendered text.
    Markdown,
    /// Passed through untouched.
    Raw,
}

/// A Jupyter notebook (nbformat 4), kept as its JSON tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Notebook {
    root: Map<String, Value>,
}

impl Notebook {
    /// Parses and checks a notebook from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, NotebookError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            bad(format!("not valid JSON: {e}"), "check that the file is a .ipynb notebook saved by Jupyter")
        })?;
        Self::from_value(value)
    }

    /// Reads a notebook file.
    pub fn read(path: &Path) -> Result<Self, NotebookError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            bad(format!("cannot read {}: {e}", path.display()), "check the path and its permissions")
        })?;
        Self::from_json(&text)
    }

    /// Checks a notebook's JSON tree and joins its multi-line strings.
    pub fn from_value(value: Value) -> Result<Self, NotebookError> {
        let Value::Object(mut root) = value else {
            return Err(bad("the notebook is not a JSON object", "check that the file is a .ipynb notebook"));
        };
        match root.get("nbformat").and_then(Value::as_u64) {
            Some(4) => {}
            Some(v) => {
                return Err(bad(
                    format!("nbformat {v} is not supported, only nbformat 4"),
                    "convert it with `jupyter nbconvert --to notebook --nbformat 4`",
                ));
            }
            None => {
                return Err(bad(
                    "field `nbformat` is missing or not an integer",
                    "check that the file is a .ipynb notebook",
                ));
            }
        }
        if !root.get("nbformat_minor").is_some_and(Value::is_u64) {
            return Err(bad(
                "field `nbformat_minor` is missing or not an integer",
                "add `\"nbformat_minor\": 5` to the notebook",
            ));
        }
        match root.entry("metadata").or_insert_with(|| json!({})) {
            Value::Object(_) => {}
            _ => return Err(bad("field `metadata` is not an object", "make it `{}`")),
        }
        let Some(Value::Array(cells)) = root.get_mut("cells") else {
            return Err(bad(
                "field `cells` is missing or not a list",
                "check that the file is a .ipynb notebook",
            ));
        };
        for (index, cell) in cells.iter_mut().enumerate() {
            check_cell(index, cell)?;
        }
        let mut notebook = Notebook { root };
        if notebook.minor() >= 5 {
            notebook.add_missing_cell_ids();
        }
        Ok(notebook)
    }

    /// The nbformat minor version, kept as it was read.
    pub fn minor(&self) -> u64 {
        self.root["nbformat_minor"].as_u64().unwrap_or(0)
    }

    /// The notebook-level metadata.
    pub fn metadata(&self) -> &Map<String, Value> {
        self.root["metadata"].as_object().expect("checked at load")
    }

    /// The notebook-level metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        self.root.get_mut("metadata").and_then(Value::as_object_mut).expect("checked at load")
    }

    /// The `metadata.papermill` object, created on first use.
    pub fn papermill_mut(&mut self) -> &mut Map<String, Value> {
        object_entry(self.metadata_mut(), "papermill")
    }

    /// The kernelspec name the notebook asks for, if any.
    pub fn kernel_name(&self) -> Option<&str> {
        self.metadata().get("kernelspec")?.get("name")?.as_str()
    }

    /// The notebook's language: from `kernelspec.language`, else `language_info.name`.
    pub fn language(&self) -> Option<&str> {
        let meta = self.metadata();
        meta.get("kernelspec")
            .and_then(|k| k.get("language"))
            .or_else(|| meta.get("language_info").and_then(|l| l.get("name")))
            .and_then(Value::as_str)
    }

    /// The cells.
    pub fn cells(&self) -> &[Value] {
        self.root["cells"].as_array().expect("checked at load")
    }

    /// The cells, to change.
    pub fn cells_mut(&mut self) -> &mut Vec<Value> {
        self.root.get_mut("cells").and_then(Value::as_array_mut).expect("checked at load")
    }

    /// Index of the first cell carrying `tag`.
    pub fn find_tagged(&self, tag: &str) -> Option<usize> {
        self.cells().iter().position(|cell| has_tag(cell, tag))
    }

    /// Puts the injected-parameters cell in place as papermill does: an earlier injected cell is
    /// replaced where it stands, else the new cell goes right after the `parameters` cell, else
    /// at the top. Returns its index.
    pub fn inject_parameters(&mut self, source: String) -> usize {
        let cell = self.new_cell("code", source, INJECTED_TAG);
        if let Some(index) = self.find_tagged(INJECTED_TAG) {
            self.cells_mut()[index] = cell;
            index
        } else {
            let index = self.find_tagged(PARAMETERS_TAG).map_or(0, |i| i + 1);
            self.cells_mut().insert(index, cell);
            index
        }
    }

    /// Removes the banner cells of an earlier failed run, as papermill does before running.
    pub fn remove_error_markers(&mut self) {
        self.cells_mut().retain(|cell| !has_tag(cell, ERROR_MARKER_TAG));
    }

    /// Adds papermill's error banner: a red note at the top linking to an anchor placed right
    /// before the failing cell. `execution_count` labels the link as papermill's `In [n]`.
    pub fn add_error_banner(&mut self, failed_cell: usize, execution_count: Option<i64>) {
        let count = execution_count.map_or_else(|| "None".to_owned(), |c| c.to_string());
        let message = format!(
            "<span {ERROR_STYLE}>An Exception was encountered at '<a href=\"#papermill-error-cell\">In [{count}]</a>'.</span>"
        );
        let anchor = format!(
            "<span id=\"papermill-error-cell\" {ERROR_STYLE}>Execution using papermill encountered an exception here and stopped:</span>"
        );
        let anchor = self.new_cell("markdown", anchor, ERROR_MARKER_TAG);
        let message = self.new_cell("markdown", message, ERROR_MARKER_TAG);
        let cells = self.cells_mut();
        cells.insert(failed_cell.min(cells.len()), anchor);
        cells.insert(0, message);
    }

    fn new_cell(&self, cell_type: &str, source: String, tag: &str) -> Value {
        let mut cell = json!({
            "cell_type": cell_type,
            "metadata": {"tags": [tag]},
            "source": source,
        });
        if cell_type == "code" {
            cell["execution_count"] = Value::Null;
            cell["outputs"] = json!([]);
        }
        // Cell ids exist from nbformat 4.5 on; a 4.4 schema refuses them.
        if self.minor() >= 5 {
            cell["id"] = Value::String(new_cell_id());
        }
        cell
    }

    fn add_missing_cell_ids(&mut self) {
        for cell in self.cells_mut() {
            if !cell.get("id").is_some_and(Value::is_string) {
                cell["id"] = Value::String(new_cell_id());
            }
        }
    }

    /// The notebook as JSON text, laid out like Python's `nbformat.write`.
    pub fn to_json(&self) -> String {
        let mut root = Value::Object(self.root.clone());
        split_multiline_strings(&mut root);
        root.sort_all_objects();
        let mut out = Vec::with_capacity(4096);
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(&root, &mut serializer).expect("a JSON tree always serializes");
        out.push(b'\n');
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Writes the notebook to `path` atomically: a temporary file in the same directory, then a
    /// rename, so a reader (or a crash) never sees half a notebook and the input survives even
    /// when it is also the output.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new().prefix(".nbw-").suffix(".ipynb.nbw-tmp").tempfile_in(dir)?;
        std::io::Write::write_all(&mut tmp, self.to_json().as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Whether a cell's `metadata.tags` holds `tag`.
pub fn has_tag(cell: &Value, tag: &str) -> bool {
    cell.pointer("/metadata/tags").and_then(Value::as_array).is_some_and(|tags| tags.iter().any(|t| t == tag))
}

/// A cell's type.
pub fn cell_type(cell: &Value) -> CellType {
    match cell["cell_type"].as_str() {
        Some("code") => CellType::Code,
        Some("markdown") => CellType::Markdown,
        _ => CellType::Raw,
    }
}

/// A cell's source, joined.
pub fn source(cell: &Value) -> &str {
    cell["source"].as_str().unwrap_or("")
}

/// The object at `map[key]`, created (or replaced, if it was not an object) on first use.
pub fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

fn new_cell_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

fn check_cell(index: usize, cell: &mut Value) -> Result<(), NotebookError> {
    let Value::Object(fields) = cell else {
        return Err(bad(format!("cells[{index}] is not an object"), "remove or repair the cell"));
    };
    let kind = match fields.get("cell_type").and_then(Value::as_str) {
        Some(kind @ ("code" | "markdown" | "raw")) => kind.to_owned(),
        other => {
            return Err(bad(
                format!("cells[{index}].cell_type is {other:?}, expected \"code\", \"markdown\" or \"raw\""),
                "fix the cell's type",
            ));
        }
    };
    join_lines(fields, "source").map_err(|_| {
        bad(
            format!("cells[{index}].source is missing or not a string or list of strings"),
            "set it to a string such as \"\"",
        )
    })?;
    match fields.entry("metadata").or_insert_with(|| json!({})) {
        Value::Object(_) => {}
        _ => {
            return Err(bad(format!("cells[{index}].metadata is not an object"), "make it `{}`"));
        }
    }
    if kind == "code" {
        fields.entry("execution_count").or_insert(Value::Null);
        let outputs = fields.entry("outputs").or_insert_with(|| json!([]));
        let Value::Array(outputs) = outputs else {
            return Err(bad(format!("cells[{index}].outputs is not a list"), "make it `[]`"));
        };
        for output in outputs.iter_mut().filter_map(Value::as_object_mut) {
            join_output_lines(output);
        }
    }
    Ok(())
}

/// Joins a list-of-lines string field in place; a missing field is an error.
fn join_lines(fields: &mut Map<String, Value>, key: &str) -> Result<(), ()> {
    let value = fields.get_mut(key).ok_or(())?;
    if let Value::Array(parts) = value {
        let mut joined = String::new();
        for part in parts.iter() {
            joined.push_str(part.as_str().ok_or(())?);
        }
        *value = Value::String(joined);
    }
    value.is_string().then_some(()).ok_or(())
}

fn join_output_lines(output: &mut Map<String, Value>) {
    let _ = join_lines(output, "text");
    if let Some(Value::Object(data)) = output.get_mut("data") {
        let keys: Vec<String> = data.keys().filter(|k| !is_json_mime(k)).cloned().collect();
        for key in keys {
            let _ = join_lines(data, &key);
        }
    }
}

/// nbformat stores JSON MIME bundles as objects, every other MIME type as (lines of) text.
fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn split_multiline_strings(root: &mut Value) {
    let Some(cells) = root.get_mut("cells").and_then(Value::as_array_mut) else {
        return;
    };
    for cell in cells {
        split_field(cell, "source");
        let Some(outputs) = cell.get_mut("outputs").and_then(Value::as_array_mut) else {
            continue;
        };
        for output in outputs {
            split_field(output, "text");
            if let Some(Value::Object(data)) = output.get_mut("data") {
                for (mime, value) in data.iter_mut() {
                    if !is_json_mime(mime) {
                        split_value(value);
                    }
                }
            }
        }
    }
}

fn split_field(object: &mut Value, key: &str) {
    if let Some(value) = object.get_mut(key) {
        split_value(value);
    }
}

fn split_value(value: &mut Value) {
    if let Value::String(text) = value {
        let lines = split_lines_keep_ends(text).into_iter().map(|l| Value::String(l.to_owned()));
        *value = Value::Array(lines.collect());
    }
}

/// Python's `str.splitlines(keepends=True)`, the split nbformat applies when writing.
pub fn split_lines_keep_ends(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' if matches!(chars.peek(), Some((_, '\n'))) => {
                chars.next();
                i + 2
            }
            '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                i + c.len_utf8()
            }
            _ => continue,
        };
        lines.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nb(minor: u64, cells: Value) -> Notebook {
        Notebook::from_value(json!({"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": cells}))
            .unwrap()
    }

    #[test]
    fn splitlines_matches_python() {
        assert_eq!(split_lines_keep_ends("a\nb\r\nc\rd"), vec!["a\n", "b\r\n", "c\r", "d"]);
        assert_eq!(split_lines_keep_ends(""), Vec::<&str>::new());
        assert_eq!(split_lines_keep_ends("x\n"), vec!["x\n"]);
        assert_eq!(split_lines_keep_ends("a\u{2028}b"), vec!["a\u{2028}", "b"]);
    }

    #[test]
    fn round_trip_joins_and_splits_lines_and_keeps_unknown_fields() {
        let input = json!({
            "nbformat": 4, "nbformat_minor": 4,
            "metadata": {"custom": {"z": 1, "a": [1, 2]}},
            "cells": [{"cell_type": "code", "execution_count": 3, "metadata": {},
                       "source": ["x = 1\n", "x"],
                       "outputs": [{"output_type": "display_data", "metadata": {},
                                    "data": {"text/plain": ["a\n", "b"], "application/vnd.x+json": {"k": [1]}}}]}]
        });
        let nb = Notebook::from_value(input).unwrap();
        assert_eq!(source(&nb.cells()[0]), "x = 1\nx");
        let written: Value = serde_json::from_str(&nb.to_json()).unwrap();
        assert_eq!(written["cells"][0]["source"], json!(["x = 1\n", "x"]));
        assert_eq!(written["cells"][0]["outputs"][0]["data"]["application/vnd.x+json"], json!({"k": [1]}));
        assert_eq!(written["metadata"]["custom"], json!({"a": [1, 2], "z": 1}));
        assert_eq!(written["nbformat_minor"], 4);
        assert!(written["cells"][0].get("id").is_none(), "4.4 cells get no id");
    }

    #[test]
    fn written_json_is_sorted_with_one_space_indent() {
        let text = nb(5, json!([])).to_json();
        assert!(text.starts_with("{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn injection_follows_papermill_placement() {
        let tagged = |tag: &str| json!({"cell_type": "code", "metadata": {"tags": [tag]}, "source": ""});
        let plain = json!({"cell_type": "markdown", "metadata": {}, "source": "hi"});
        let mut top = nb(5, json!([plain.clone()]));
        assert_eq!(top.inject_parameters("x = 1\n".into()), 0);
        let mut after = nb(5, json!([plain.clone(), tagged(PARAMETERS_TAG), plain.clone()]));
        assert_eq!(after.inject_parameters("x = 1\n".into()), 2);
        assert!(after.cells()[2]["id"].is_string());
        let mut replaced = nb(5, json!([tagged(PARAMETERS_TAG), plain, tagged(INJECTED_TAG)]));
        assert_eq!(replaced.inject_parameters("x = 2\n".into()), 2);
        assert_eq!(replaced.cells().len(), 3);
        assert_eq!(source(&replaced.cells()[2]), "x = 2\n");
    }

    #[test]
    fn malformed_notebooks_name_the_field() {
        let err = |v: Value| Notebook::from_value(v).unwrap_err().to_string();
        assert!(err(json!([])).contains("not a JSON object"));
        assert!(err(json!({"nbformat": 3, "nbformat_minor": 0, "cells": []})).contains("nbformat 3"));
        assert!(err(json!({"nbformat": 4, "nbformat_minor": 5})).contains("`cells`"));
        let bad_cell = json!({"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code"}]});
        assert!(err(bad_cell).contains("cells[0].source"));
        assert!(Notebook::from_json("{").unwrap_err().to_string().contains("not valid JSON"));
    }

    #[test]
    fn error_banner_links_to_the_failing_cell() {
        let code = json!({"cell_type": "code", "metadata": {}, "source": "1/0"});
        let mut nb = nb(5, json!([code.clone(), code]));
        nb.add_error_banner(1, Some(2));
        let cells = nb.cells();
        assert_eq!(cells.len(), 4);
        assert!(source(&cells[0]).contains("In [2]"));
        assert!(source(&cells[2]).contains("id=\"papermill-error-cell\""));
        nb.remove_error_markers();
        assert_eq!(nb.cells().len(), 2);
    }
}
