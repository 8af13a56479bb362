//! A notebook holding every cell and output kind renders each one the way a reader expects.

use nbw_render::{CellKind, CellStatus, ERROR_ANCHOR, RenderOptions, Rendered, render_notebook};

fn fixture() -> Rendered {
    let text = include_str!("../fixtures/every_output.ipynb");
    let nb: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
    render_notebook(&nb, &RenderOptions::default())
}

#[test]
fn every_output_kind_is_rendered() {
    let html = fixture().html;
    let expected = [
        ("markdown table", "<table>"),
        ("strikethrough", "<del>1,000</del>"),
        ("safe link", "href=\"https://example.org/docs\""),
        ("highlighted keyword", "<span class=\"k\">def</span>"),
        ("highlighted decorator", "<span class=\"d\">@cache</span>"),
        ("prompt", "In&nbsp;[2]:"),
        ("out prompt", "Out[2]:"),
        ("stdout", "<pre class=\"nb-output nb-stdout\">loaded 7 days for EU\n</pre>"),
        ("stderr", "<pre class=\"nb-output nb-stderr\">warning"),
        ("text/plain", "<pre class=\"nb-output nb-text\">130.57142857142858</pre>"),
        ("png", "<img class=\"nb-image\" alt=\"\" src=\"data:image/png;base64,iVBOR"),
        ("png width", "width=\"320\""),
        ("jpeg", "src=\"data:image/jpeg;base64,/9j/"),
        ("svg", "src=\"data:image/svg+xml;base64,"),
        ("html frame", "<iframe class=\"nb-output nb-html nb-frame-s\" sandbox=\"\""),
        ("suppressed script note", "its scripts were not run"),
        ("text/markdown", "<strong>Total:</strong> 914.0"),
        ("text/latex", "<pre class=\"nb-output nb-latex\">$\\sum_i x_i$</pre>"),
        ("json", "&quot;region&quot;: &quot;EU&quot;"),
        ("unknown type", "output of type application/vnd.jupyter.widget-view+json not shown"),
        ("raw cell", "<pre class=\"nb-raw\">raw cell: &lt;b&gt;not bold&lt;/b&gt;"),
        ("banner link", "<a href=\"#papermill-error-cell\""),
        ("error anchor", "id=\"papermill-error-cell\""),
        ("ansi traceback", "<span class=\"ansi-fg1\">ZeroDivisionError</span>"),
        ("durations", "<span class=\"nb-duration\">1.5 s</span>"),
        ("pending status", "nb-status-pending"),
    ];
    for (what, needle) in expected {
        assert!(html.contains(needle), "{what}: {needle} not in\n{html}");
    }
}

#[test]
fn cells_are_described_for_the_page() {
    let rendered = fixture();
    assert_eq!(rendered.cell_count(), 11);
    assert_eq!(rendered.error_anchor.as_deref(), Some(ERROR_ANCHOR));
    let failed = rendered.failed_cell().expect("a failed cell");
    assert_eq!((failed.index, failed.execution_count), (9, Some(7)));
    assert_eq!(rendered.cells[2].duration_secs, Some(1.532));
    assert_eq!(rendered.cells[2].anchor, "cell-3");
    assert_eq!(rendered.cells[0].kind, CellKind::Markdown);
    assert_eq!(rendered.cells[7].kind, CellKind::Raw);
    assert_eq!(rendered.cells[10].status, CellStatus::Pending);
    assert_eq!(rendered.cells[1].status, CellStatus::Completed);
}
