//! Malformed input never panics: a one-line error naming the problem and the fix, exit code 2,
//! and the input file untouched.

use std::time::Duration;

use assert_cmd::Command;
use nbw_testkit::{kernel_env, notebook, tempdir, write_notebook};
use serde_json::json;

fn nbw() -> Command {
    let mut cmd = Command::cargo_bin("nbw").expect("nbw binary");
    cmd.envs(kernel_env()).timeout(Duration::from_secs(60));
    cmd
}

/// Runs `nbw run` on `input_text` with `args`; asserts exit 2, a one-line error containing
/// every fragment of `expect`, no panic, and the input unchanged.
fn refused(input_text: &str, args: &[&str], expect: &[&str]) {
    let dir = tempdir();
    let input = dir.path().join("in.ipynb");
    std::fs::write(&input, input_text).unwrap();
    let output = nbw().current_dir(dir.path()).args(["run", "in.ipynb"]).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "args {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // One line with the problem and the fix (clap adds a "For more information" hint below).
    let first = stderr.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{stderr}");
    for fragment in expect {
        assert!(first.contains(fragment), "{fragment:?} missing from: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(&input).unwrap(), input_text, "input changed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "nothing else written: {leftovers:?}");
}

fn good() -> String {
    serde_json::to_string(&notebook(&[("x = 1", &["parameters"]), ("print(x)", &[])])).unwrap()
}

#[test]
fn bad_json_is_refused() {
    refused("{\"cells\": [", &["out.ipynb"], &["not valid JSON", "EOF while parsing", "check that the file"]);
}

#[test]
fn an_old_nbformat_is_refused_with_the_conversion_command() {
    refused(
        r#"{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}"#,
        &["out.ipynb"],
        &["nbformat 3", "jupyter nbconvert"],
    );
}

#[test]
fn missing_fields_are_named() {
    refused(r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}"#, &["out.ipynb"], &["`cells`"]);
    let no_source =
        json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]});
    refused(&no_source.to_string(), &["out.ipynb"], &["cells[0].source"]);
    let bad_type = json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "sql", "source": ""}]});
    refused(&bad_type.to_string(), &["out.ipynb"], &["cells[0].cell_type", "\"code\""]);
}

#[test]
fn an_unknown_kernel_lists_the_known_ones() {
    refused(&good(), &["out.ipynb", "-k", "cobol"], &["no kernel named \"cobol\"", "python3", "-k NAME"]);
}

#[test]
fn bad_parameters_are_refused() {
    refused(&good(), &["out.ipynb", "-y", "[1, 2]"], &["-y", "mapping"]);
    refused(&good(), &["out.ipynb", "-y", "a: [1"], &["-y"]);
    refused(&good(), &["out.ipynb", "-p", "not-a-name", "1"], &["not-a-name"]);
    refused(&good(), &["out.ipynb", "-f", "missing.yaml"], &["missing.yaml"]);
    refused(&good(), &["out.ipynb", "--cell-timeout", "soon"], &["not a duration"]);
}

#[test]
fn an_unwritable_output_is_refused_before_running() {
    refused(&good(), &["no/such/dir/out.ipynb"], &["cannot be written", "directory exists"]);
    refused(&good(), &["."], &["is a directory"]);
}

#[test]
fn a_missing_input_is_refused() {
    let output = nbw().args(["run", "/no/such/notebook.ipynb", "/tmp/x.ipynb"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read /no/such/notebook.ipynb"), "{stderr}");
}

#[test]
fn parameters_for_a_language_without_translator_are_refused() {
    let dir = tempdir();
    let mut nb = notebook(&[("x", &[])]);
    nb["metadata"]["kernelspec"]["language"] = json!("cobol");
    let input = write_notebook(dir.path(), "in.ipynb", &nb);
    let output =
        nbw().arg("run").arg(&input).arg(dir.path().join("o.ipynb")).args(["-p", "x", "1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"cobol\"") && stderr.contains("python, r, julia and bash"), "{stderr}");
}
