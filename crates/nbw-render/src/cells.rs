//! Cells (markdown, code with prompt, status and duration, raw) as HTML, and what the page needs
//! to know about each.

use serde_json::Value;

use crate::escape::{escape, escape_into};
use crate::highlight::highlight_python;
use crate::markdown::markdown_to_html;
use crate::mime::{render_output, text_of};
use crate::{CellInfo, CellKind, CellStatus, ERROR_ANCHOR, RenderOptions};

/// Appends `cell`'s HTML to `out` and describes it. `failed_first` says no earlier cell failed, so
/// this one may take the error anchor.
pub(crate) fn render_cell(
    index: usize,
    cell: &Value,
    python: bool,
    failed_first: bool,
    options: &RenderOptions,
    out: &mut String,
) -> CellInfo {
    let kind = match cell["cell_type"].as_str() {
        Some("markdown") => CellKind::Markdown,
        Some("code") => CellKind::Code,
        _ => CellKind::Raw,
    };
    let status = status_of(cell);
    let anchor = if status == CellStatus::Failed && failed_first {
        ERROR_ANCHOR.to_owned()
    } else {
        format!("{}cell-{}", options.id_prefix, index + 1)
    };
    let info = CellInfo {
        index,
        anchor,
        kind,
        status,
        execution_count: cell["execution_count"].as_u64(),
        duration_secs: cell["metadata"]["papermill"]["duration"].as_f64(),
    };
    let source = text_of(&cell["source"]);
    out.push_str(&format!(
        "<section class=\"nb-cell nb-cell-{} nb-cell-{}\" id=\"{}\">",
        kind.as_str(),
        status.as_str(),
        escape(&info.anchor)
    ));
    match kind {
        CellKind::Markdown => {
            out.push_str("<div class=\"nb-markdown\">");
            out.push_str(&markdown_to_html(&source));
            out.push_str("</div>");
        }
        CellKind::Raw => {
            out.push_str("<pre class=\"nb-raw\">");
            escape_into(&source, out);
            out.push_str("</pre>");
        }
        CellKind::Code => render_code(cell, &info, &source, python, options, out),
    }
    out.push_str("</section>\n");
    info
}

fn status_of(cell: &Value) -> CellStatus {
    let papermill = &cell["metadata"]["papermill"];
    let has_error =
        cell["outputs"].as_array().is_some_and(|outs| outs.iter().any(|o| o["output_type"] == "error"));
    match papermill["status"].as_str() {
        Some("failed") => CellStatus::Failed,
        _ if papermill["exception"] == true || has_error => CellStatus::Failed,
        Some("completed") => CellStatus::Completed,
        Some("running") => CellStatus::Running,
        Some("pending") => CellStatus::Pending,
        _ => CellStatus::Unknown,
    }
}

fn render_code(
    cell: &Value,
    info: &CellInfo,
    source: &str,
    python: bool,
    options: &RenderOptions,
    out: &mut String,
) {
    let count = info.execution_count.map_or(" ".to_owned(), |n| n.to_string());
    out.push_str(&format!(
        "<div class=\"nb-input\"><div class=\"nb-prompt\">In&nbsp;[{count}]:</div><pre class=\"nb-source\"><code>"
    ));
    if python {
        out.push_str(&highlight_python(source));
    } else {
        escape_into(source, out);
    }
    out.push_str("</code></pre>");
    out.push_str(&meta_line(info));
    out.push_str("</div>");
    let outputs = cell["outputs"].as_array().map(Vec::as_slice).unwrap_or_default();
    if outputs.is_empty() {
        return;
    }
    out.push_str("<div class=\"nb-outputs\">");
    for output in outputs {
        let prompt =
            if output["output_type"] == "execute_result" { format!("Out[{count}]:") } else { String::new() };
        out.push_str(&format!(
            "<div class=\"nb-output-row\"><div class=\"nb-prompt nb-out\">{prompt}</div><div class=\"nb-output-body\">"
        ));
        render_output(output, options, out);
        out.push_str("</div></div>");
    }
    out.push_str("</div>");
}

/// The status badge and duration shown beside a code cell.
fn meta_line(info: &CellInfo) -> String {
    let duration = info.duration_secs.map(format_duration).unwrap_or_default();
    format!(
        "<div class=\"nb-meta\"><span class=\"nb-status nb-status-{0}\">{0}</span> <span class=\"nb-duration\">{duration}</span></div>",
        info.status.as_str()
    )
}

/// `0.012` → `12 ms`, `3.4` → `3.4 s`, `125` → `2 min 5 s`.
pub(crate) fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        String::new()
    } else if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let whole = secs.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0.0123), "12 ms");
        assert_eq!(format_duration(3.44), "3.4 s");
        assert_eq!(format_duration(125.0), "2 min 5 s");
        assert_eq!(format_duration(f64::NAN), "");
    }
}
