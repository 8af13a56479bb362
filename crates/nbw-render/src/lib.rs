//! Executed output notebooks (nbformat 4 JSON) rendered as safe HTML for nbw's web UI.
//!
//! [`render_notebook`] turns a notebook into an HTML fragment of its cells plus what a page shows
//! around it ([`Rendered`]: the failing cell's anchor, each cell's status and duration from
//! `metadata.papermill`). [`NOTEBOOK_CSS`] styles the fragment.
//!
//! Every notebook is treated as hostile. Text is escaped; markdown goes through an allowlist
//! sanitizer; images are emitted only as checked base64 `data:` URIs, SVG included (an image runs
//! no script); `text/html` outputs live in a sandboxed `srcdoc` iframe without
//! `allow-same-origin`, so they cannot touch nbw's origin; unknown MIME types get a note.
//!
//! ```
//! use nbw_render::{render_notebook, RenderOptions, ERROR_ANCHOR};
//!
//! let nb = serde_json::json!({
//!     "nbformat": 4, "nbformat_minor": 5, "metadata": {},
//!     "cells": [
//!         {"cell_type": "markdown", "metadata": {}, "source": "# Report"},
//!         {"cell_type": "code", "execution_count": 1, "source": "1/0", "outputs": [
//!             {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
//!              "traceback": ["\u{1b}[0;31mZeroDivisionError\u{1b}[0m: division by zero"]}],
//!          "metadata": {"papermill": {"status": "failed", "duration": 0.012}}}
//!     ]
//! });
//! let page = render_notebook(&nb, &RenderOptions::default());
//! assert_eq!(page.cell_count(), 2);
//! assert_eq!(page.error_anchor.as_deref(), Some(ERROR_ANCHOR));
//! assert_eq!(page.cells[1].duration_secs, Some(0.012));
//! assert!(page.html.contains("<h1>Report</h1>"));
//! assert!(page.html.contains("<span class=\"ansi-fg1\">ZeroDivisionError</span>"));
//! ```
#![deny(missing_docs)]

mod ansi;
mod cells;
mod escape;
mod highlight;
mod markdown;
mod mime;

use serde_json::Value;

/// The stylesheet for the rendered fragment (no fonts, no external URLs).
pub const NOTEBOOK_CSS: &str = include_str!("../assets/notebook.css");

/// The stylesheet every `text/html` output's frame starts with (inside a `<style>` element), so
/// a bare DataFrame table reads like the page; the output's own styles come after and win. A
/// page whose Content-Security-Policy allows no inline style can allow this one by its hash:
/// a `srcdoc` frame inherits the page's policy.
pub const FRAME_STYLE: &str = "body{margin:6px;font:13px/1.45 -apple-system,\"Segoe UI\",Helvetica,Arial,sans-serif;color:#1f2328}\
table{border-collapse:collapse;border:none}th,td{border:none;padding:4px 10px;text-align:right}\
thead th{border-bottom:1px solid #d0d7de}tbody tr:nth-child(odd){background:#f6f8fa}";

/// The id of the first failing cell: papermill's error banner links to `#papermill-error-cell`.
pub const ERROR_ANCHOR: &str = "papermill-error-cell";

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Prefixed to every cell anchor (`{prefix}cell-N`), so they cannot clash with the page's ids.
    pub id_prefix: String,
    /// Lets `text/html` outputs run their scripts (plotly, folium) inside their sandboxed frame,
    /// which stays an opaque origin either way. Off by default: scripts are not run.
    pub frame_scripts: bool,
}

/// A rendered notebook.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The cells as an HTML fragment: a `<div class="nb-notebook">` holding a
    /// `<section class="nb-cell">` per cell, styled by [`NOTEBOOK_CSS`].
    pub html: String,
    /// The first failing cell's anchor ([`ERROR_ANCHOR`]), for a "failed at cell N" link.
    pub error_anchor: Option<String>,
    /// One entry per cell, in order.
    pub cells: Vec<CellInfo>,
}

impl Rendered {
    /// The number of cells.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// The first failing cell, if any.
    pub fn failed_cell(&self) -> Option<&CellInfo> {
        self.cells.iter().find(|c| c.status == CellStatus::Failed)
    }
}

/// What a page needs to know about one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellInfo {
    /// Position in the notebook, from 0.
    pub index: usize,
    /// The cell's HTML id: `{prefix}cell-{index + 1}`, or [`ERROR_ANCHOR`] for the first failing cell.
    pub anchor: String,
    /// Markdown, code or raw.
    pub kind: CellKind,
    /// From `metadata.papermill.status` (an error output also counts as failed).
    pub status: CellStatus,
    /// The `In [n]` number, if the cell ran.
    pub execution_count: Option<u64>,
    /// `metadata.papermill.duration`, in seconds.
    pub duration_secs: Option<f64>,
}

/// A cell's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Rendered markdown.
    Markdown,
    /// Code with its outputs.
    Code,
    /// A raw cell, shown as escaped text.
    Raw,
}

/// A cell's execution state, as papermill records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    /// Ran without error.
    Completed,
    /// Raised an error.
    Failed,
    /// Was running when the notebook was written (a checkpoint or a killed run).
    Running,
    /// Never ran: an earlier cell failed or the run stopped.
    Pending,
    /// No papermill metadata (markdown cells, notebooks not run by nbw or papermill).
    Unknown,
}

impl CellKind {
    fn as_str(self) -> &'static str {
        match self {
            CellKind::Markdown => "markdown",
            CellKind::Code => "code",
            CellKind::Raw => "raw",
        }
    }
}

impl CellStatus {
    fn as_str(self) -> &'static str {
        match self {
            CellStatus::Completed => "completed",
            CellStatus::Failed => "failed",
            CellStatus::Running => "running",
            CellStatus::Pending => "pending",
            CellStatus::Unknown => "unknown",
        }
    }
}

/// Renders an nbformat 4 notebook. Missing or malformed fields render as empty, never as errors:
/// a half-written checkpoint must still show what it has.
pub fn render_notebook(notebook: &Value, options: &RenderOptions) -> Rendered {
    let empty = Vec::new();
    let cells = notebook["cells"].as_array().unwrap_or(&empty);
    let python = is_python(&notebook["metadata"]);
    let mut html = String::with_capacity(cells.len() * 512);
    html.push_str("<div class=\"nb-notebook\">\n");
    let mut infos = Vec::with_capacity(cells.len());
    let mut error_anchor = None;
    for (index, cell) in cells.iter().enumerate() {
        let info = cells::render_cell(index, cell, python, error_anchor.is_none(), options, &mut html);
        if info.status == CellStatus::Failed && error_anchor.is_none() {
            error_anchor = Some(info.anchor.clone());
        }
        infos.push(info);
    }
    html.push_str("</div>\n");
    Rendered { html, error_anchor, cells: infos }
}

/// Code is highlighted as Python unless the notebook names another language: nbw's kernels are
/// Python, and notebooks without metadata are too in practice.
fn is_python(metadata: &Value) -> bool {
    let language =
        metadata["language_info"]["name"].as_str().or_else(|| metadata["kernelspec"]["language"].as_str());
    language.is_none_or(|l| l.eq_ignore_ascii_case("python"))
}
