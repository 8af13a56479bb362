//! Python syntax highlighting on the server: a small tokenizer emitting `<span class>` for
//! keywords, builtins, strings, comments, numbers and decorators.
//!
//! A full grammar (syntect) costs megabytes and milliseconds per cell; this costs neither and
//! reads well enough for notebook code. Every token is escaped.

use crate::escape::escape_into;

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "match", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "enumerate",
    "filter",
    "float",
    "getattr",
    "hasattr",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "open",
    "print",
    "range",
    "repr",
    "round",
    "self",
    "set",
    "sorted",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "zip",
];

/// Python source as escaped HTML with highlighting spans.
pub(crate) fn highlight_python(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let (len, class) = if c == '#' {
            (rest.find('\n').unwrap_or(rest.len()), Some("c"))
        } else if let Some(len) = string_len(rest) {
            (len, Some("s"))
        } else if c.is_ascii_digit() {
            (word_len(rest), Some("m"))
        } else if c == '@' && rest[1..].starts_with(is_word_start) {
            (1 + word_len(&rest[1..]), Some("d"))
        } else if is_word_start(c) {
            let len = word_len(rest);
            (len, word_class(&rest[..len]))
        } else {
            (c.len_utf8(), None)
        };
        push_token(&rest[..len], class, &mut out);
        i += len;
    }
    out
}

fn push_token(token: &str, class: Option<&str>, out: &mut String) {
    match class {
        Some(class) => {
            out.push_str("<span class=\"");
            out.push_str(class);
            out.push_str("\">");
            escape_into(token, out);
            out.push_str("</span>");
        }
        None => escape_into(token, out),
    }
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(s.len())
}

fn word_class(word: &str) -> Option<&'static str> {
    if KEYWORDS.contains(&word) {
        Some("k")
    } else if BUILTINS.contains(&word) {
        Some("b")
    } else {
        None
    }
}

/// The length of a string literal starting `s` (with an optional `rbfu` prefix), if one does.
fn string_len(s: &str) -> Option<usize> {
    let prefix =
        s.find(|c: char| !matches!(c, 'r' | 'b' | 'f' | 'u' | 'R' | 'B' | 'F' | 'U')).unwrap_or(s.len());
    if prefix > 2 {
        return None;
    }
    let body = &s[prefix..];
    let quote = body.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let triple: String = std::iter::repeat_n(quote, 3).collect();
    if body.starts_with(&triple) {
        let end = body[3..].find(&triple).map_or(body.len(), |e| e + 6);
        return Some(prefix + end);
    }
    let mut escaped = false;
    for (at, c) in body.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '\n' => return Some(prefix + at),
            c if c == quote && !escaped => return Some(prefix + at + 1),
            _ => escaped = false,
        }
    }
    Some(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_get_classes() {
        let html = highlight_python("def f(x):  # why\n    return len('a<b') + 42\n");
        assert!(html.contains("<span class=\"k\">def</span>"));
        assert!(html.contains("<span class=\"c\"># why</span>"));
        assert!(html.contains("<span class=\"b\">len</span>"));
        assert!(html.contains("<span class=\"s\">&#39;a&lt;b&#39;</span>"));
        assert!(html.contains("<span class=\"m\">42</span>"));
    }

    #[test]
    fn prefixed_triple_and_unterminated_strings() {
        assert!(
            highlight_python("f\"\"\"a\n\"b\"\"\"x")
                .starts_with("<span class=\"s\">f&quot;&quot;&quot;a\n&quot;b&quot;&quot;&quot;</span>")
        );
        assert_eq!(highlight_python("'abc"), "<span class=\"s\">&#39;abc</span>");
        assert_eq!(highlight_python("@app.get"), "<span class=\"d\">@app.get</span>");
    }
}
