//! The history chart of a workflow: one bar per execution, oldest on the left, its height the
//! run time and its colour the outcome, drawn as inline SVG (no script, no library). Each bar
//! links to its execution and has a tooltip.

use std::fmt::Write;

use super::human;
use super::rows::ExecLine;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;

/// The SVG of `lines` (oldest first); empty when there is nothing to draw.
pub fn history(lines: &[ExecLine]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let longest = lines.iter().filter_map(|l| l.duration_ms).max().unwrap_or(0).max(1) as f64;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / lines.len().max(10) as f64;
    let mut svg = format!(
        "<svg id=\"history-chart\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"Run time and outcome of the last {} executions\">",
        lines.len()
    );
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"/>\
         <text x=\"{x}\" y=\"{top}\" text-anchor=\"end\">{max}</text><text x=\"{x}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        base = HEIGHT - BOTTOM,
        x = LEFT - 6.0,
        top = TOP + 8.0,
        max = escape(&human::duration(longest as i64)),
    );
    for (i, line) in lines.iter().enumerate() {
        let ms = line.duration_ms.unwrap_or(0) as f64;
        // A run that never started still shows as a sliver in its colour.
        let h = (ms / longest * plot_h).max(3.0);
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let y = HEIGHT - BOTTOM - h;
        let _ = write!(
            svg,
            "<a href=\"/executions/{id}\"><rect class=\"bar bar-{state}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"2\">\
             <title>{id}: {state}, {duration}, {created}</title></rect></a>",
            id = escape(&line.id),
            state = escape(&line.state),
            w = slot * 0.7,
            duration = escape(&line.duration),
            created = escape(&line.created),
        );
    }
    if let (Some(first), Some(last)) = (lines.first(), lines.last()) {
        let _ = write!(
            svg,
            "<text x=\"{LEFT}\" y=\"{y}\">{}</text><text x=\"{WIDTH}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
            escape(&first.created),
            escape(&last.created),
            y = HEIGHT - 6.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
