//! Prints the median time to render a 200-cell notebook with mixed outputs (the UI's budget is
//! 100 ms), cycling through the cells of the every-output test fixture.
//!
//! `cargo run --release -p nbw-render --example bench_render`

use std::time::Instant;

use nbw_render::{RenderOptions, render_notebook};
use serde_json::{Value, json};

const CELLS: usize = 200;
const RUNS: usize = 50;

fn main() {
    let fixture: Value =
        serde_json::from_str(include_str!("../tests/fixtures/every_output.ipynb")).expect("fixture is JSON");
    let kinds = fixture["cells"].as_array().expect("cells");
    let cells: Vec<Value> = kinds.iter().cycle().take(CELLS).cloned().collect();
    let notebook =
        json!({"nbformat": 4, "nbformat_minor": 5, "metadata": fixture["metadata"], "cells": cells});
    let options = RenderOptions::default();
    let mut times_ms: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let rendered = render_notebook(&notebook, &options);
            std::hint::black_box(rendered.html.len());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times_ms.sort_by(f64::total_cmp);
    let html_kb = render_notebook(&notebook, &options).html.len() / 1024;
    println!(
        "{CELLS} cells, {html_kb} KiB of HTML: median {:.2} ms, min {:.2} ms, max {:.2} ms over {RUNS} renders",
        times_ms[RUNS / 2],
        times_ms[0],
        times_ms[RUNS - 1]
    );
}
