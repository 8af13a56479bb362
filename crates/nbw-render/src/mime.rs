//! One output (`stream`, `error`, `execute_result`, `display_data`) as HTML, choosing the richest
//! MIME type that can be shown safely.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::RenderOptions;
use crate::ansi::ansi_to_html;
use crate::escape::{escape, escape_into};
use crate::markdown::markdown_to_html;

/// Richest first: a figure beats its `text/plain` repr, a DataFrame's table beats its text.
const PREFERENCE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "text/html",
    "text/markdown",
    "application/json",
    "text/latex",
    "text/plain",
];

/// nbformat stores multiline strings either whole or as a list of lines.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Appends one output's HTML to `out`.
pub(crate) fn render_output(output: &Value, options: &RenderOptions, out: &mut String) {
    match output["output_type"].as_str().unwrap_or("") {
        "stream" => {
            let class = if output["name"] == "stderr" { "nb-stderr" } else { "nb-stdout" };
            pre(class, &ansi_to_html(&text_of(&output["text"])), out);
        }
        "error" => render_error(output, out),
        "execute_result" | "display_data" => render_data(output, options, out),
        other => note(&format!("output of type “{other}” not shown"), out),
    }
}

fn pre(class: &str, inner_html: &str, out: &mut String) {
    out.push_str("<pre class=\"nb-output ");
    out.push_str(class);
    out.push_str("\">");
    out.push_str(inner_html);
    out.push_str("</pre>");
}

fn note(text: &str, out: &mut String) {
    out.push_str("<div class=\"nb-note\">");
    escape_into(text, out);
    out.push_str("</div>");
}

fn render_error(output: &Value, out: &mut String) {
    let traceback: Vec<&str> = output["traceback"]
        .as_array()
        .map(|lines| lines.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let text = if traceback.is_empty() {
        format!(
            "{}: {}",
            output["ename"].as_str().unwrap_or("Error"),
            output["evalue"].as_str().unwrap_or("")
        )
    } else {
        traceback.join("\n")
    };
    pre("nb-error", &ansi_to_html(&text), out);
}

fn render_data(output: &Value, options: &RenderOptions, out: &mut String) {
    let data = &output["data"];
    let Some(mime) = PREFERENCE.iter().find(|m| !data[**m].is_null()) else {
        let types: Vec<&str> =
            data.as_object().map(|d| d.keys().map(String::as_str).collect()).unwrap_or_default();
        note(&format!("output of type {} not shown", types.join(", ")), out);
        return;
    };
    let value = &data[*mime];
    let meta = &output["metadata"][*mime];
    match *mime {
        "image/png" | "image/jpeg" => raster_image(mime, &text_of(value), meta, out),
        "image/svg+xml" => svg_image(&text_of(value), meta, out),
        "text/html" => html_frame(&text_of(value), options, out),
        "text/markdown" => {
            out.push_str("<div class=\"nb-output nb-markdown\">");
            out.push_str(&markdown_to_html(&text_of(value)));
            out.push_str("</div>");
        }
        "application/json" => {
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            pre("nb-json", &escape(&pretty), out);
        }
        "text/latex" => pre("nb-latex", &escape(&text_of(value)), out),
        _ => pre("nb-text", &ansi_to_html(&text_of(value)), out),
    }
}

/// Width and height as integers only: nbconvert let a hostile `width` break out of the tag.
fn size_attrs(meta: &Value, out: &mut String) {
    for key in ["width", "height"] {
        if let Some(n) = meta[key].as_u64() {
            out.push_str(&format!(" {key}=\"{n}\""));
        }
    }
}

fn raster_image(mime: &str, b64: &str, meta: &Value, out: &mut String) {
    let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let magic: &[u8] = if mime == "image/png" { b"\x89PNG" } else { b"\xff\xd8" };
    match STANDARD.decode(&clean) {
        // The checked string holds only base64 characters, so it is safe inside the attribute.
        Ok(bytes) if bytes.starts_with(magic) => {
            out.push_str(&format!("<img class=\"nb-image\" alt=\"\" src=\"data:{mime};base64,{clean}\""));
            size_attrs(meta, out);
            out.push('>');
        }
        _ => note(&format!("{mime} output with invalid data not shown"), out),
    }
}

/// SVG goes in an `<img>`: a browser runs no script and loads nothing external for an image,
/// whatever the SVG holds, so no sanitizer (and no SVG mXSS) is involved.
fn svg_image(svg: &str, meta: &Value, out: &mut String) {
    out.push_str("<img class=\"nb-image\" alt=\"\" src=\"data:image/svg+xml;base64,");
    out.push_str(&STANDARD.encode(svg));
    out.push('"');
    size_attrs(meta, out);
    out.push('>');
}

/// HTML keeps its styles and tables in a sandboxed `srcdoc` frame with an opaque origin: it
/// cannot read nbw's cookies or DOM, nor call the API as the user.
fn html_frame(html: &str, options: &RenderOptions, out: &mut String) {
    let sandbox = if options.frame_scripts { "allow-scripts" } else { "" };
    // Without script the frame cannot report its height: a size class from its line count (a
    // class, not a style attribute, which a strict CSP would block); CSS lets the reader resize.
    let size = match html.lines().count() {
        0..=6 => "nb-frame-s",
        7..=25 => "nb-frame-m",
        _ => "nb-frame-l",
    };
    out.push_str(&format!(
        "<iframe class=\"nb-output nb-html {size}\" sandbox=\"{sandbox}\" referrerpolicy=\"no-referrer\" loading=\"lazy\" srcdoc=\""
    ));
    escape_into(&format!("<style>{}</style>", crate::FRAME_STYLE), out);
    escape_into(html, out);
    out.push_str("\"></iframe>");
    if !options.frame_scripts && html.to_ascii_lowercase().contains("<script") {
        note("HTML output shown sandboxed: its scripts were not run", out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(output: Value) -> String {
        let mut out = String::new();
        render_output(&output, &RenderOptions::default(), &mut out);
        out
    }

    #[test]
    fn richest_type_wins() {
        let html = render(json!({"output_type": "execute_result", "data": {
            "text/plain": "<DataFrame>", "text/html": "<table></table>"}, "metadata": {}}));
        assert!(html.contains("<iframe") && !html.contains("&lt;DataFrame"));
    }

    #[test]
    fn invalid_png_is_a_note() {
        let html = render(json!({"output_type": "display_data", "data": {"image/png": "\"><script>"}}));
        assert!(html.contains("invalid data") && !html.contains("<script"));
    }

    #[test]
    fn hostile_width_is_ignored() {
        let html = render(json!({"output_type": "display_data",
            "data": {"image/svg+xml": "<svg/>"},
            "metadata": {"image/svg+xml": {"width": "1\" onload=\"x", "height": 20}}}));
        assert!(html.contains("height=\"20\"") && !html.contains("onload"));
    }

    #[test]
    fn unknown_types_are_named_not_shown() {
        let html = render(json!({"output_type": "display_data",
            "data": {"application/vnd.x+json": {"a": "<b>"}}}));
        assert_eq!(html, "<div class=\"nb-note\">output of type application/vnd.x+json not shown</div>");
    }
}
