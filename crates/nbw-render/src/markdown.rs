//! Markdown (cells and `text/markdown` outputs) rendered with pulldown-cmark, then sanitized by
//! ammonia: raw HTML in markdown is the author's, and authors are untrusted.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// One sanitizer for the process: building its allowlists per call would dominate small cells.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    // No `mailto`-less oddities, no `data:`, no `javascript:`: links go to the web or to mail.
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("img", ["width", "height"]);
    builder
});

/// Markdown as sanitized HTML (GitHub-flavoured tables and strikethrough).
pub(crate) fn markdown_to_html(src: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(src.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(src, options));
    sanitize(&raw)
}

/// Author HTML cut down to ammonia's allowlist: no script, style, iframe, event handler or
/// dangerous URL survives.
pub(crate) fn sanitize(raw_html: &str) -> String {
    SANITIZER.clean(raw_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_strikethrough_render() {
        let html = markdown_to_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~");
        assert!(html.contains("<table>") && html.contains("<td>1</td>"));
        assert!(html.contains("<del>old</del>"));
    }

    #[test]
    fn links_keep_safe_schemes_only() {
        let html = markdown_to_html("[a](https://x.org) [b](javascript:alert(1))");
        assert!(html.contains("href=\"https://x.org\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(!html.contains("javascript:"));
    }
}
