//! Hostile notebooks: nothing an author or a printed value controls becomes executable markup.

use nbw_render::{RenderOptions, render_notebook};
use proptest::prelude::*;
use serde_json::{Value, json};

fn code_cell(outputs: Value) -> Value {
    json!({"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "x", "outputs": outputs})
}

fn render_cells(cells: Vec<Value>) -> String {
    let nb = json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells});
    render_notebook(&nb, &RenderOptions::default()).html
}

/// The markup outside any `srcdoc` attribute: a frame's document is escaped text in there, and
/// runs (if at all) in an opaque-origin sandbox, which `html_in_a_frame_is_sandboxed` checks.
fn page_markup(html: &str) -> String {
    let mut rest = html;
    let mut kept = String::new();
    while let Some(start) = rest.find("srcdoc=\"") {
        kept.push_str(&rest[..start]);
        let after = &rest[start + 8..];
        rest = &after[after.find('"').map_or(after.len(), |e| e + 1)..];
    }
    kept.push_str(rest);
    kept.to_ascii_lowercase()
}

/// Every real tag (text is escaped, so each `<` opens one) is checked: no executable element, no
/// event handler, no script URL, no frame without an empty or script-only sandbox.
fn assert_inert(html: &str) {
    let page = page_markup(html);
    for tag in page.split('<').skip(1).map(|t| &t[..t.find('>').unwrap_or(t.len())]) {
        let name = tag.split([' ', '/', '\n']).find(|n| !n.is_empty()).unwrap_or("");
        assert!(
            !["script", "style", "object", "embed", "svg", "math", "base", "meta", "link", "form"]
                .contains(&name),
            "<{name}> survived in:\n{html}"
        );
        let handler = tag.split_whitespace().any(|attr| attr.starts_with("on") && attr.contains('='));
        assert!(!handler && !tag.contains("javascript:"), "<{tag}> survived in:\n{html}");
        if name == "iframe" && !tag.starts_with('/') {
            assert!(tag.contains("sandbox=\"\"") && !tag.contains("allow-same-origin"), "{tag}");
        }
    }
}

#[test]
fn script_and_onerror_in_html_output_stay_in_the_sandbox() {
    let html = render_cells(vec![code_cell(json!([{
        "output_type": "display_data", "metadata": {},
        "data": {"text/html": "<script>parent.document.title='pwned'</script><img src=x onerror=alert(1)>",
                 "text/plain": "<IPython.core.display.HTML object>"}
    }]))]);
    assert_inert(&html);
    assert!(html.contains("&lt;script&gt;parent.document"));
    assert!(html.contains("its scripts were not run"));
}

#[test]
fn html_in_a_frame_is_sandboxed() {
    let html = render_cells(vec![code_cell(json!([{
        "output_type": "execute_result", "metadata": {}, "execution_count": 1,
        "data": {"text/html": "<b>\"quoted\" ' </iframe><script>x()</script>"}
    }]))]);
    let frame_start = html.find("<iframe").unwrap();
    let frame = &html[frame_start..html[frame_start..].find("</iframe>").unwrap() + frame_start];
    assert!(frame.contains("sandbox=\"\""));
    // The attribute's content is fully escaped: no quote or angle bracket can close it early.
    let srcdoc = &frame[frame.find("srcdoc=\"").unwrap() + 8..frame.len() - 2];
    assert!(!srcdoc.contains(['"', '<', '>', '\'']), "{srcdoc}");
}

#[test]
fn scripts_may_run_in_the_frame_only_when_asked_and_never_same_origin() {
    let nb = json!({"cells": [code_cell(json!([{"output_type": "display_data",
        "data": {"text/html": "<script>1</script>"}}]))]});
    let options = RenderOptions { frame_scripts: true, ..RenderOptions::default() };
    let html = render_notebook(&nb, &options).html;
    assert!(html.contains("sandbox=\"allow-scripts\""));
    assert!(!html.contains("allow-same-origin"));
}

#[test]
fn javascript_links_are_dropped_from_markdown_outputs_and_cells() {
    let html = render_cells(vec![
        json!({"cell_type": "markdown", "metadata": {},
               "source": "[click](javascript:alert(1)) <a href=\"JaVaScRiPt:alert(2)\">x</a> <a href=\"data:text/html,<script>\">d</a>"}),
        code_cell(json!([{"output_type": "display_data",
            "data": {"text/markdown": "[m](javascript:alert(3))"}}])),
    ]);
    assert_inert(&html);
    assert!(!html.to_ascii_lowercase().contains("data:text/html"));
}

#[test]
fn svg_with_script_and_onload_is_only_ever_an_image() {
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script><use href=\"data:image/svg+xml,x#a\"/></svg>";
    let html = render_cells(vec![code_cell(json!([{
        "output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}
    }]))]);
    assert_inert(&html);
    assert!(html.contains("<img class=\"nb-image\" alt=\"\" src=\"data:image/svg+xml;base64,"));
}

#[test]
fn raw_html_in_markdown_cells_is_removed() {
    let html = render_cells(vec![json!({"cell_type": "markdown", "metadata": {}, "source": [
        "# Title\n\n", "<iframe src=\"https://evil.example\"></iframe>\n",
        "<script>alert(1)</script>\n", "<style>body{display:none}</style>\n",
        "<img src=x onerror=alert(1)> <div onclick=\"x()\" style=\"position:fixed\">ok</div>\n",
        "<svg><animate onbegin=alert(1)></svg><math><mi>x</mi></math>\n"
    ]})]);
    assert_inert(&html);
    for bad in ["<iframe", "onclick", "style=", "<math", "onbegin", "evil.example"] {
        assert!(!html.contains(bad), "{bad} survived in:\n{html}");
    }
    assert!(html.contains("<h1>Title</h1>") && html.contains("ok"));
}

#[test]
fn a_stream_cannot_close_its_pre() {
    let html = render_cells(vec![code_cell(json!([
        {"output_type": "stream", "name": "stdout", "text": "</pre><script>alert(1)</script>"},
        {"output_type": "stream", "name": "stderr", "text": ["\u{1b}[31m</pre>", "<img src=x onerror=y>"]},
        {"output_type": "error", "ename": "<script>", "evalue": "<b>", "traceback": ["\u{1b}[0;31m<script>alert(1)</script>"]},
        {"output_type": "execute_result", "data": {"text/plain": "<script>", "application/json": {"<script>": "</pre>"}}},
    ]))]);
    assert_inert(&html);
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;"));
}

#[test]
fn hostile_cell_fields_are_escaped() {
    let nb = json!({"metadata": {"language_info": {"name": "\"><script>"}}, "cells": [
        {"cell_type": "\"><script>", "source": "<script>alert(1)</script>"},
        {"cell_type": "code", "source": "'</code></pre><script>'", "execution_count": "<script>", "outputs": [],
         "metadata": {"papermill": {"status": "<script>", "duration": "<script>"}}},
    ]});
    let options = RenderOptions { id_prefix: "\"><script>".into(), ..RenderOptions::default() };
    assert_inert(&render_notebook(&nb, &options).html);
}

proptest! {
    #[test]
    fn random_text_never_yields_a_script_tag(text in "(<|>|/|\"|'|script|SCRIPT|\u{1b}\\[[0-9;]*m|[ a-z=:\n]){0,60}") {
        let html = render_cells(vec![
            json!({"cell_type": "markdown", "metadata": {}, "source": text}),
            json!({"cell_type": "raw", "metadata": {}, "source": text}),
            json!({"cell_type": "code", "metadata": {}, "source": text, "outputs": [
                {"output_type": "stream", "name": "stdout", "text": text},
                {"output_type": "error", "ename": text, "evalue": text, "traceback": [text]},
                {"output_type": "display_data", "data": {"image/svg+xml": text, "text/html": text}},
                {"output_type": "execute_result", "data": {"text/markdown": text}},
                {"output_type": "execute_result", "data": {"text/latex": text}},
                {"output_type": "execute_result", "data": {"text/plain": text}},
            ]}),
        ]);
        prop_assert!(!page_markup(&html).contains("<script"), "{}", html);
    }
}
