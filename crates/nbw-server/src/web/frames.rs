//! Notebook HTML outputs that fit their content. nbw-render puts each `text/html` output in a
//! `srcdoc` frame sandboxed without scripts, sized by a class from its line count, since a
//! frame that runs no script cannot say how tall it is. The pages let the frame run exactly
//! one script of nbw's own (`frame.js`, allowed by the page's CSP, which the frame inherits;
//! the notebook's own inline scripts and handlers stay blocked by the same CSP): it posts the
//! content's height, and `app.js` sizes the frame after checking the message comes from that
//! frame's window and from an opaque origin (`"null"`). The sandbox never gets
//! `allow-same-origin`, so the frame still cannot reach nbw's cookies, DOM or API.

use super::assets::FRAME_JS;

/// What nbw-render writes at the start of every HTML output frame.
const RENDERED: &str = "sandbox=\"\" referrerpolicy=\"no-referrer\" loading=\"lazy\" srcdoc=\"";

/// `html` (nbw-render's output) with each HTML frame allowed to run `frame.js` only.
pub fn fitting(html: &str) -> String {
    let with_script = format!(
        "sandbox=\"allow-scripts\" referrerpolicy=\"no-referrer\" loading=\"lazy\" srcdoc=\"\
         &lt;script src=&quot;{}&quot;&gt;&lt;/script&gt;",
        FRAME_JS.path
    );
    html.replace(RENDERED, &with_script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbw_render::{RenderOptions, render_notebook};
    use serde_json::json;

    #[test]
    fn html_frames_get_the_sizing_script_and_nothing_else() {
        let notebook = json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "x", "outputs": [
                {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>hi</b><script>evil()</script>"}}
            ]}
        ]});
        let page =
            render_notebook(&notebook, &RenderOptions { id_prefix: "nb-".into(), frame_scripts: false });
        assert!(page.html.contains(RENDERED), "nbw-render's frame markup changed: {}", page.html);
        let fitted = fitting(&page.html);
        assert!(fitted.contains(&format!("sandbox=\"allow-scripts\" referrerpolicy=\"no-referrer\" loading=\"lazy\" srcdoc=\"&lt;script src=&quot;{}&quot;", FRAME_JS.path)));
        assert!(!fitted.contains("allow-same-origin") && !fitted.contains(RENDERED));
        assert!(!fitted.contains("<script"), "scripts only escaped inside srcdoc");
    }
}
