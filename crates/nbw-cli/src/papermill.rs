//! The papermill flags of `nbw run` that act around the engine rather than in it, each doing
//! what papermill 2.7.0 does: `-b` (base64 YAML parameters), `--inject-*-path` (the notebook
//! paths as parameters), `--report-mode` (inputs hidden), `--prepare-only` (parameters injected,
//! nothing run) and `--stdout-file` / `--stderr-file` (the cells' streams, as they come).

use std::io::Write;

use anyhow::{Context, anyhow};
use base64::Engine as _;
use nbw_core::params::{ParamValue, Parameters, parse_yaml};
use nbw_engine::{Event, ExecuteOptions, Notebook, translator_for};
use serde_json::{Map, Value, json};

/// `PAPERMILL_INPUT_PATH` / `PAPERMILL_OUTPUT_PATH`, first of all parameters as in papermill,
/// so any other flag naming them wins.
pub fn path_parameters(input: Option<&str>, output: Option<&str>) -> Parameters {
    let mut parameters = Parameters::new();
    if let Some(input) = input {
        parameters.insert("PAPERMILL_INPUT_PATH", ParamValue::Str(input.to_owned()));
    }
    if let Some(output) = output {
        parameters.insert("PAPERMILL_OUTPUT_PATH", ParamValue::Str(output.to_owned()));
    }
    parameters
}

/// `-b`: each value is the base64 of a YAML mapping, read like `-y`. Whitespace is skipped, as
/// Python's `b64decode` skips it, so the line-wrapped output of `base64` works as it is.
pub fn base64_parameters(values: &[String]) -> anyhow::Result<Parameters> {
    let mut parameters = Parameters::new();
    for value in values {
        let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| anyhow!("-b {value:?} is not base64 ({e}); encode the YAML with `base64 -w0`"))?;
        let yaml =
            String::from_utf8(bytes).map_err(|_| anyhow!("-b {value:?} does not decode to UTF-8 text"))?;
        parameters.extend(parse_yaml(&yaml).with_context(|| format!("in -b {value:?}"))?);
    }
    Ok(parameters)
}

/// `--report-mode`: every code cell's input hidden (`metadata.jupyter.source_hidden`). Other keys
/// of `metadata.jupyter` are kept, where papermill replaces the whole object.
pub fn hide_inputs(notebook: &mut Notebook) {
    for cell in notebook.cells_mut() {
        let Some(fields) = cell.as_object_mut() else { continue };
        if fields.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let jupyter = object(object(fields, "metadata"), "jupyter");
        jupyter.insert("source_hidden".into(), Value::Bool(true));
    }
}

/// `--prepare-only`: the notebook as papermill writes it without executing: earlier error banners
/// gone, the parameters injected, `metadata.papermill` with the parameters and paths, and every
/// cell read from the input with empty `tags` and `papermill` metadata where it had none. No
/// kernel starts; a kernelspec is looked up only when the notebook names no language.
pub fn prepare_only(
    mut notebook: Notebook,
    parameters: &Parameters,
    options: &ExecuteOptions,
) -> anyhow::Result<Notebook> {
    notebook.remove_error_markers();
    for cell in notebook.cells_mut() {
        let metadata = object(cell.as_object_mut().context("a cell is not an object")?, "metadata");
        metadata.entry("tags").or_insert_with(|| json!([]));
        metadata.entry("papermill").or_insert_with(|| json!({}));
    }
    if !parameters.is_empty() {
        let language = language(&notebook, options)?;
        let translator = translator_for(&language).ok_or_else(|| {
            anyhow!("no parameter translator for the {language} language; run without parameters")
        })?;
        notebook.inject_parameters(translator.codify(parameters)?);
    }
    let papermill = notebook.papermill_mut();
    for key in ["default_parameters", "environment_variables"] {
        papermill.entry(key).or_insert_with(|| json!({}));
    }
    papermill.insert("parameters".into(), serde_json::to_value(parameters).expect("parameters serialize"));
    papermill.insert("input_path".into(), json!(options.input_path));
    papermill.insert("output_path".into(), json!(options.output_path));
    Ok(notebook)
}

fn language(notebook: &Notebook, options: &ExecuteOptions) -> anyhow::Result<String> {
    if let Some(language) = notebook.language() {
        return Ok(language.to_owned());
    }
    let name = options.kernel_name.as_deref().or(notebook.kernel_name()).context(
        "the notebook names no kernel or language (metadata.kernelspec); pass -k NAME, e.g. -k python3",
    )?;
    Ok(options.search.find(name)?.spec.language)
}

fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("made an object above")
}

/// `--stdout-file` / `--stderr-file`: where the cells' stream outputs are copied as they come,
/// flushed after each chunk as papermill does. `-` is standard output for both, as click's
/// `File` makes it in papermill.
#[derive(Default)]
pub struct StreamFiles {
    stdout: Option<Box<dyn Write + Send>>,
    stderr: Option<Box<dyn Write + Send>>,
}

impl StreamFiles {
    /// Creates the files now, so an unwritable path is refused before anything runs.
    pub fn open(stdout: Option<&str>, stderr: Option<&str>) -> anyhow::Result<StreamFiles> {
        Ok(StreamFiles { stdout: create(stdout, "--stdout-file")?, stderr: create(stderr, "--stderr-file")? })
    }

    /// Copies a stream output's text to its file.
    pub fn take(&mut self, event: &Event) {
        let Event::Output { output, .. } = event else { return };
        if output["output_type"] != "stream" {
            return;
        }
        let file = match output["name"].as_str() {
            Some("stdout") => self.stdout.as_mut(),
            Some("stderr") => self.stderr.as_mut(),
            _ => None,
        };
        let Some(file) = file else { return };
        let text = match &output["text"] {
            Value::String(text) => text.clone(),
            Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        if file.write_all(text.as_bytes()).and_then(|()| file.flush()).is_err() {
            tracing::warn!("could not write a cell's stream output to its file; continuing the run");
        }
    }
}

fn create(target: Option<&str>, flag: &str) -> anyhow::Result<Option<Box<dyn Write + Send>>> {
    Ok(match target {
        None => None,
        Some("-") => Some(Box::new(std::io::stdout())),
        Some(path) => Some(Box::new(
            std::fs::File::create(path).with_context(|| format!("{flag} {path} cannot be created"))?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_parameters_are_yaml_mappings() {
        // printf 'a: 5\nb: 2024-01-01\n' | base64
        let params = base64_parameters(&["YTogNQpiOiAy\nMDI0LTAxLTAxCg==".to_owned()]).unwrap();
        assert_eq!(params.get("a"), Some(&ParamValue::Int("5".into())));
        assert_eq!(params.get("b"), Some(&ParamValue::from("2024-01-01")), "dates stay strings");
        assert!(
            base64_parameters(&["not base64!".to_owned()]).unwrap_err().to_string().contains("base64 -w0")
        );
        // base64 of "- 1"
        assert!(base64_parameters(&["LSAx".to_owned()]).is_err(), "a list is not a mapping");
    }

    #[test]
    fn report_mode_hides_code_inputs_and_keeps_other_keys() {
        let mut notebook = Notebook::from_value(json!({
            "nbformat": 4, "nbformat_minor": 4, "metadata": {},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "# T"},
                {"cell_type": "code", "metadata": {"jupyter": {"outputs_hidden": true}}, "source": "1",
                 "outputs": [], "execution_count": null},
            ],
        }))
        .unwrap();
        hide_inputs(&mut notebook);
        assert_eq!(notebook.cells()[0]["metadata"], json!({}));
        assert_eq!(
            notebook.cells()[1]["metadata"]["jupyter"],
            json!({"outputs_hidden": true, "source_hidden": true})
        );
    }
}
