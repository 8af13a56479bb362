//! Test support for nbw: one place that knows how to reach the real components tests use, so
//! no test hand-rolls its own setup.
//!
//! - [`venv`]: the project's Python environment (ipykernel, bash_kernel, papermill, nbformat),
//!   made by `scripts/setup-python.sh`; a test fails, never skips, when it is missing;
//! - [`kernel_env`]: the environment variables that let nbw find that environment's kernels;
//! - [`notebook`]: a notebook JSON built from cell sources, with tags;
//! - [`docker_or_skip`]: whether a Docker test runs (without an engine it fails under `CI`,
//!   else it is skipped with a notice), [`docker_base_image`] to build on, [`LabelledImages`]
//!   to clean up;
//! - [`S3Server`]: a local S3-compatible server (moto) for object store tests, [`FileServer`]
//!   for plain HTTP;
//! - [`Browser`]: a headless Chromium over WebDriver for the web UI's tests (without one it
//!   fails under `CI`, else it is skipped with a notice), with screenshots under
//!   [`screenshot_dir`].
//!
//! ```
//! let nb = nbw_testkit::notebook(&[("x = 1", &["parameters"]), ("print(x)", &[])]);
//! assert_eq!(nb["cells"][0]["metadata"]["tags"][0], "parameters");
//! ```
mod browser;
mod docker;
mod servers;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use browser::{Browser, WINDOW, screenshot_dir};
pub use docker::{DOCKER_BASE_IMAGE, LabelledImages, docker_base_image, docker_or_skip, docker_run};
pub use servers::{FileServer, S3Server};

/// The repository root, from the crate directory cargo gives the running test (every crate sits
/// at `crates/<name>`). The compile-time directory is only the fallback: a target directory
/// shared by clones at several paths can hold a test binary compiled in another clone, one
/// perhaps deleted since.
pub fn repo_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|e| panic!("cannot resolve the repository root from {}: {e}", manifest.display()))
}

/// The project's Python environment: `$NBW_VENV` (relative to the repository), else
/// `<repo>/.venv`. Panics with the fix when it is missing.
pub fn venv() -> PathBuf {
    let venv = match std::env::var_os("NBW_VENV").filter(|v| !v.is_empty()) {
        Some(v) => repo_root().join(v),
        None => repo_root().join(".venv"),
    };
    assert!(
        venv.join("bin/python").exists(),
        "the Python environment {} is missing: run scripts/setup-python.sh",
        venv.display()
    );
    venv
}

/// The venv's Python interpreter.
pub fn python() -> PathBuf {
    venv().join("bin/python")
}

/// Environment variables under which nbw finds the venv's kernelspecs (python3, bash).
pub fn kernel_env() -> Vec<(String, String)> {
    let venv = venv();
    vec![("JUPYTER_PATH".into(), venv.join("share/jupyter").display().to_string())]
}

/// A nbformat 4.5 notebook for the python3 kernel; each cell is (source, tags). A source that
/// starts with `#md ` becomes a markdown cell.
pub fn notebook(cells: &[(&str, &[&str])]) -> Value {
    let cells: Vec<Value> = cells
        .iter()
        .enumerate()
        .map(|(i, (source, tags))| match source.strip_prefix("#md ") {
            Some(text) => json!({"cell_type": "markdown", "id": format!("c{i}"), "metadata": {"tags": tags}, "source": text}),
            None => json!({
                "cell_type": "code", "id": format!("c{i}"), "metadata": {"tags": tags},
                "source": source, "outputs": [], "execution_count": null
            }),
        })
        .collect();
    json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": cells
    })
}

/// Writes `notebook` as `name` in `dir` and returns its path.
pub fn write_notebook(dir: &Path, name: &str, notebook: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(notebook).expect("json")).expect("write notebook");
    path
}

/// Reads a notebook file as JSON.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// All text of a cell's outputs: stream text, `text/plain`, and error names and values.
pub fn cell_text(cell: &Value) -> String {
    let join = |v: &Value| match v {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect::<String>(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    cell["outputs"]
        .as_array()
        .map(|outputs| {
            outputs
                .iter()
                .map(|o| match o["output_type"].as_str() {
                    Some("stream") => join(&o["text"]),
                    Some("error") => format!("{}: {}", join(&o["ename"]), join(&o["evalue"])),
                    _ => join(&o["data"]["text/plain"]),
                })
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_default()
}

/// A temporary directory for one test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// A fresh, empty PostgreSQL database on the test cluster (`NBW_TEST_DATABASE_URL`, started by
/// `scripts/setup-postgres.sh`), and its URL. Panics with the fix when no cluster is configured.
pub fn fresh_postgres_url() -> String {
    let base = std::env::var("NBW_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("NBW_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, or eval \"$(scripts/setup-postgres.sh)\" first")
    });
    let name = format!("nbw_test_{}", unique_suffix());
    let status = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", &base, "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql runs");
    assert!(status.success(), "creating test database {name} on {base} failed");
    match base.rfind('/') {
        Some(slash) => format!("{}/{name}", &base[..slash]),
        None => panic!("NBW_TEST_DATABASE_URL {base:?} has no database part"),
    }
}

/// A fresh SQLite database URL in `dir`.
pub fn fresh_sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join(format!("nbw-{}.db", unique_suffix())).display())
}

/// A suffix no other test or test run uses: the process id, the time and a counter (digits and
/// `_`, so it fits project names and image tags).
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, COUNTER.fetch_add(1, Ordering::Relaxed))
}
