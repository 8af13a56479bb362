//! A pipeline's steps drawn as inline SVG, laid out on the server (no script, no library):
//! layered by depth (a step's column is one more than its deepest upstream's), steps of a
//! column stacked in the order of their upstreams' rows (fewer crossing edges), edges as
//! curves from a step's right side to its dependent's left side. Each step is a
//! `g.step[data-step][data-state]` whose `a` links to its execution once it has one, so the
//! run page's script only has to change attributes to follow the run live.

use std::fmt::Write;

use nbw_core::pipeline::StepEntry;
use nbw_core::pipeline::dag;

use super::chart::escape;

const BOX_W: f64 = 176.0;
const BOX_H: f64 = 48.0;
const COL_GAP: f64 = 64.0;
const ROW_GAP: f64 = 18.0;
const PAD: f64 = 12.0;
/// Characters of a name or detail that fit in a box.
const FIT: usize = 22;

/// What a box shows of one step, in the definition's order.
#[derive(Debug, Clone)]
pub struct StepBox {
    /// Second line: the notebook or workflow, or the step's state in a run.
    pub detail: String,
    /// The state (`data-state`, coloured by the stylesheet); `None` on the pipeline page.
    pub state: Option<String>,
    /// The step's execution, once it has one.
    pub execution: Option<String>,
}

/// Each step's column: 0 for steps without upstreams, else one more than the deepest upstream.
fn depths(ups: &[Vec<usize>]) -> Vec<usize> {
    let mut depth = vec![0; ups.len()];
    // Relaxing as many times as there are steps settles any DAG; a cycle (refused when the
    // pipeline was put) would only stop growing there, never loop forever.
    for _ in 0..ups.len() {
        let mut changed = false;
        for (i, step_ups) in ups.iter().enumerate() {
            let want = step_ups.iter().map(|&u| depth[u] + 1).max().unwrap_or(0).min(ups.len());
            if want != depth[i] {
                depth[i] = want;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    depth
}

/// Each step's `(column, row)`: columns by depth; in a column, steps sorted by the mean row of
/// their upstreams, ties in the file's order.
fn layout(ups: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let depth = depths(ups);
    let columns = depth.iter().max().map_or(0, |d| d + 1);
    let mut row = vec![0usize; ups.len()];
    for column in 0..columns {
        let mut members: Vec<usize> = (0..ups.len()).filter(|&i| depth[i] == column).collect();
        let weight = |i: usize| {
            let rows: Vec<f64> = ups[i].iter().map(|&u| row[u] as f64).collect();
            if rows.is_empty() { i as f64 } else { rows.iter().sum::<f64>() / rows.len() as f64 }
        };
        members.sort_by(|&a, &b| weight(a).total_cmp(&weight(b)).then(a.cmp(&b)));
        for (r, &i) in members.iter().enumerate() {
            row[i] = r;
        }
    }
    depth.into_iter().zip(row).collect()
}

/// A text cut to what fits in a box.
fn fit(text: &str) -> String {
    if text.chars().count() <= FIT {
        return text.to_owned();
    }
    let cut: String = text.chars().take(FIT - 1).collect();
    format!("{cut}…")
}

/// The SVG of `steps` with `boxes` (one per step, same order); `id` is the element's id.
pub fn svg(id: &str, steps: &[StepEntry], boxes: &[StepBox]) -> String {
    let ups = dag::upstreams(steps);
    let places = layout(&ups);
    let columns = places.iter().map(|p| p.0 + 1).max().unwrap_or(1);
    let mut per_column = vec![0usize; columns];
    for &(c, _) in &places {
        per_column[c] += 1;
    }
    let rows = per_column.iter().copied().max().unwrap_or(1);
    let width = PAD * 2.0 + columns as f64 * BOX_W + (columns - 1) as f64 * COL_GAP;
    let height = PAD * 2.0 + rows as f64 * BOX_H + (rows.saturating_sub(1)) as f64 * ROW_GAP;
    // A column with fewer steps is centred against the tallest one.
    let origin = |i: usize| {
        let (c, r) = places[i];
        let shift = (rows - per_column[c]) as f64 * (BOX_H + ROW_GAP) / 2.0;
        (PAD + c as f64 * (BOX_W + COL_GAP), PAD + shift + r as f64 * (BOX_H + ROW_GAP))
    };
    let mut out = format!(
        "<svg id=\"{id}\" class=\"dag\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"The pipeline's {} steps and what each waits for\">\
         <defs><marker id=\"{id}-arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto\"><path class=\"arrow\" d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>",
        steps.len()
    );
    for (i, step_ups) in ups.iter().enumerate() {
        let (x2, y2) = origin(i);
        for &u in step_ups {
            let (x1, y1) = origin(u);
            let (x1, y1, y2) = (x1 + BOX_W, y1 + BOX_H / 2.0, y2 + BOX_H / 2.0);
            let mid = (x1 + x2) / 2.0;
            let _ = write!(
                out,
                "<path class=\"edge\" data-from=\"{from}\" data-to=\"{to}\" marker-end=\"url(#{id}-arrow)\" \
                 d=\"M{x1},{y1} C{mid},{y1} {mid},{y2} {x},{y2}\"/>",
                from = escape(&steps[u].name),
                to = escape(&steps[i].name),
                x = x2 - 1.0,
            );
        }
    }
    for (i, (step, shown)) in steps.iter().zip(boxes).enumerate() {
        let (x, y) = origin(i);
        let state =
            shown.state.as_deref().map(|s| format!(" data-state=\"{}\"", escape(s))).unwrap_or_default();
        let href = shown
            .execution
            .as_deref()
            .map(|e| format!(" href=\"/executions/{}\"", escape(e)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<g class=\"step\" data-step=\"{name}\"{state}><a{href}><title>{name}: {full}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"8\"/>\
             <text class=\"name\" x=\"{tx}\" y=\"{ty1}\">{short}</text>\
             <text class=\"detail\" x=\"{tx}\" y=\"{ty2}\">{detail}</text></a></g>",
            name = escape(&step.name),
            full = escape(&shown.detail),
            short = escape(&fit(&step.name)),
            detail = escape(&fit(&shown.detail)),
            tx = x + 12.0,
            ty1 = y + 20.0,
            ty2 = y + 37.0,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, needs: &[&str]) -> StepEntry {
        serde_json::from_value(serde_json::json!({"name": name, "notebook": "n.ipynb", "needs": needs}))
            .unwrap()
    }

    #[test]
    fn steps_go_in_columns_by_depth_and_rows_follow_their_upstreams() {
        // extract → clean → (emea, apac) → report, plus a lone step beside extract.
        let steps = [
            step("extract", &[]),
            step("clean", &["extract"]),
            step("emea", &["clean"]),
            step("apac", &["clean"]),
            step("report", &["emea", "apac"]),
            step("lone", &[]),
        ];
        let places = layout(&dag::upstreams(&steps));
        assert_eq!(places.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1, 2, 2, 3, 0]);
        assert_eq!(places[2].1, 0);
        assert_eq!(places[3].1, 1);
        assert_eq!(places[5].1, 1, "the lone step under extract");
    }

    #[test]
    fn a_seqpipe_is_a_chain_and_the_svg_escapes_names() {
        let steps = [step("a<b", &[]), step("b", &[]), step("c", &[])];
        let boxes: Vec<StepBox> = (0..3)
            .map(|i| StepBox {
                detail: "n.ipynb".into(),
                state: Some("running".into()),
                execution: (i == 0).then(|| "web.x".into()),
            })
            .collect();
        let svg = svg("dag", &steps, &boxes);
        assert_eq!(svg.matches("class=\"edge\"").count(), 2, "a chain in file order");
        assert!(svg.contains("data-step=\"a&lt;b\" data-state=\"running\""));
        assert!(svg.contains("href=\"/executions/web.x\"") && !svg.contains("a<b"));
        assert_eq!(fit("a-very-long-step-name-that-does-not-fit"), "a-very-long-step-name…");
    }
}
