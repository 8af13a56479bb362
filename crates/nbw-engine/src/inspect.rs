//! What a notebook's parameters cell declares: names, types, defaults and help texts.
//!
//! For Python this is papermill 2.7.0's `PythonTranslator.inspect`, limits included, so
//! `nbw` and `papermill --help-notebook` list the same parameters: lines are grouped by
//! assignment (a line with one `=` starts a parameter, lines without `=` continue it, which
//! lets a list or dict default span lines), a line with two or more `=` is skipped (so is a
//! default that is a string containing `=`, or a call with keyword arguments), and the value
//! ends at the first `#` (even one inside a string: the rest becomes the help text).
//!
//! One improvement over papermill: where the parameter has neither an annotation nor a
//! `# type:` comment, papermill reports the type `"None"` (unknown); here the type is
//! inferred from the default's literal, see [`ParameterSpec::type_name`].
//!
//! papermill cannot inspect R, Julia or bash cells at all. Here a simple statement parser
//! reads `name <- value` / `name = value` (R), `name = value` / `name::Type = value` (Julia)
//! and `name=value` (bash), with a trailing `# help` comment, and values spanning lines
//! while brackets or quotes are open.
//!
//! Long (about 810 lines) because a third of it is the tests of papermill's quirks; one concept.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// One parameter declared by a parameters cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterSpec {
    /// The variable name.
    pub name: String,
    /// The declared or inferred type, in the language's own words. From the annotation
    /// (`x: int = 1`, `x::Int = 1`), else from a `# type: int` comment (Python), else
    /// inferred from the default's literal:
    ///
    /// - Python: `NoneType` (for `None`, papermill's convention), `bool`, `int`, `float`,
    ///   `complex`, `str`, `bytes`, `list`, `dict`, `set`, `tuple`, or the builtin named by a
    ///   call such as `dict(...)`;
    /// - R: `NULL`, `logical`, `integer` (`5L`), `numeric`, `character`, `list`, `vector`
    ///   (`c(...)`);
    /// - Julia: `Nothing`, `Bool`, `Int64`, `Float64`, `String`, `Char`, `Symbol`, `Vector`,
    ///   `Dict`, `Tuple`;
    /// - bash: `bool` (`true`/`false`), `int`, `float`, `array`, else `str`.
    ///
    /// `"None"` means unknown, as in papermill (e.g. a default computed by an expression).
    pub type_name: String,
    /// The default value's source text, stripped.
    pub default: String,
    /// The comment after the value, without `#`, stripped; empty if none.
    pub help: String,
}

/// Why a parameters cell cannot be inspected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// No parser for the notebook's language.
    #[error(
        "cannot inspect the parameters of a {language:?} notebook: nbw reads parameters \
         cells written in python, r, julia and bash"
    )]
    UnsupportedLanguage {
        /// The language asked for.
        language: String,
    },
}

/// Lists the parameters that a parameters cell's `source` declares, in order. `language` is
/// the kernel language, case-insensitive: `python`, `r`, `julia`, `bash` or `sh`.
///
/// Like papermill, lines that cannot be read are skipped rather than reported: the result is
/// a best effort for help texts, never a reason to refuse a run.
pub fn inspect_parameters(language: &str, source: &str) -> Result<Vec<ParameterSpec>, InspectError> {
    match language.to_ascii_lowercase().as_str() {
        "python" => Ok(inspect_python(source)),
        "r" => Ok(inspect_simple(source, &R)),
        "julia" => Ok(inspect_simple(source, &JULIA)),
        "bash" | "sh" => Ok(inspect_simple(source, &BASH)),
        _ => Err(InspectError::UnsupportedLanguage { language: language.to_owned() }),
    }
}

/// The type name papermill uses for "unknown".
const UNKNOWN: &str = "None";

// ---------------------------------------------------------------------------------------------
// Python, after papermill
// ---------------------------------------------------------------------------------------------

/// papermill's `PythonTranslator.PARAMETER_PATTERN`, with `\s` widened to Python's notion of
/// whitespace (which also counts U+001C..U+001F).
static PYTHON_PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = r#"^(?P<target>\w[\w_]*)\s*(:\s*["']?(?P<annotation>\w[\w_\[\],\s]*)["']?\s*)?=\s*(?P<value>.*?)(\s*#\s*(type:\s*(?P<type_comment>[^\s]*)\s*)?(?P<help>.*))?$"#;
    let pattern = pattern
        .replace(r"[^\s]", r"[^\s\x1C-\x1F]")
        .replace(r",\s]", r",\s\x1C-\x1F]")
        .replace(r"\s*", r"[\s\x1C-\x1F]*");
    Regex::new(&pattern).expect("the parameter pattern compiles")
});

/// Python's `str.isspace()`.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
fn python_strip(s: &str) -> &str {
    s.trim_matches(is_python_space)
}

/// Python's `str.splitlines()`.
fn python_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if !boundary {
            continue;
        }
        lines.push(&s[start..at]);
        start = at + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n') {
            chars.next();
            start += 1;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// papermill's `flatten_accumulator`: joins a parameter's lines, dropping comments from all
/// but the last line.
fn flatten(lines: &[&str]) -> String {
    let mut flat = String::new();
    if let Some((last, first)) = lines.split_last() {
        for line in first {
            let code = line.find('#').map_or(*line, |at| &line[..at]);
            flat.push_str(python_strip(code));
        }
        flat.push_str(python_strip(last));
    }
    flat
}

fn inspect_python(source: &str) -> Vec<ParameterSpec> {
    let mut definitions = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    for line in python_splitlines(source) {
        let stripped = python_strip(line);
        if stripped.is_empty() || stripped.starts_with('#') {
            continue;
        }
        let equals = line.matches('=').count();
        if equals > 0 {
            definitions.push(flatten(&lines));
            lines.clear();
            if equals > 1 {
                // papermill logs "Unable to parse line" and moves on.
                continue;
            }
        }
        lines.push(line);
    }
    definitions.push(flatten(&lines));

    definitions
        .iter()
        .filter(|definition| !definition.is_empty())
        .filter_map(|definition| PYTHON_PARAMETER.captures(definition))
        .map(|found| {
            let group = |name| found.name(name).map_or("", |m| m.as_str());
            let default = python_strip(group("value")).to_owned();
            let declared = [group("annotation"), group("type_comment")]
                .into_iter()
                .find(|declared| !declared.is_empty());
            let type_name = match declared {
                Some(declared) => python_strip(declared).to_owned(),
                None => python_literal_type(&default).to_owned(),
            };
            ParameterSpec {
                name: python_strip(group("target")).to_owned(),
                type_name,
                default,
                help: python_strip(group("help")).to_owned(),
            }
        })
        .collect()
}

/// The type of a Python literal, or [`UNKNOWN`].
fn python_literal_type(text: &str) -> &'static str {
    static INT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$").expect("int pattern")
    });
    static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?([0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*|[0-9][0-9_]*)([eE][+-]?[0-9][0-9_]*)?$")
            .expect("float pattern")
    });
    static COMPLEX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?([0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)([eE][+-]?[0-9][0-9_]*)?[jJ]$")
            .expect("complex pattern")
    });
    static STRING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^(?i)([rubf]{0,2})("""|'''|"|')"#).expect("string pattern"));
    const CONSTRUCTORS: &[&str] =
        &["bool", "bytes", "complex", "dict", "float", "frozenset", "int", "list", "set", "str", "tuple"];

    let text = text.trim();
    match text {
        "None" => return "NoneType",
        "True" | "False" => return "bool",
        "math.inf" | "-math.inf" | "math.nan" => return "float",
        _ => {}
    }
    if INT.is_match(text) {
        return "int";
    }
    if FLOAT.is_match(text) {
        return "float";
    }
    if COMPLEX.is_match(text) {
        return "complex";
    }
    if let Some(found) = STRING.captures(text) {
        let quote = &found[2];
        if text.len() >= found[0].len() + quote.len() && text.ends_with(quote) {
            return if found[1].to_ascii_lowercase().contains('b') { "bytes" } else { "str" };
        }
    }
    let Some(open) = text.find(['(', '[', '{']) else {
        return UNKNOWN;
    };
    if closing_bracket(text, open) != Some(text.len() - 1) {
        return UNKNOWN;
    }
    let (head, inner) = (&text[..open], &text[open + 1..text.len() - 1]);
    if let Some(&constructor) = CONSTRUCTORS.iter().find(|&&c| c == head)
        && text.as_bytes()[open] == b'('
    {
        return constructor;
    }
    if !head.is_empty() {
        return UNKNOWN;
    }
    let (comma, colon) = top_level_punctuation(inner);
    match text.as_bytes()[open] {
        b'[' => "list",
        b'{' if inner.trim().is_empty() || colon => "dict",
        b'{' => "set",
        _ if inner.trim().is_empty() || comma => "tuple",
        _ => python_literal_type(inner),
    }
}

/// Skips a string literal starting at `at` (a quote); returns the byte index after it.
fn skip_string(text: &str, at: usize, escapes: bool) -> usize {
    let bytes = text.as_bytes();
    let quote = bytes[at];
    let triple = bytes.len() >= at + 3 && bytes[at + 1] == quote && bytes[at + 2] == quote;
    let delimiter = if triple { 3 } else { 1 };
    let mut i = at + delimiter;
    while i < bytes.len() {
        if escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote && (!triple || bytes[i..].starts_with(&[quote; 3])) {
            return i + delimiter;
        }
        i += 1;
    }
    bytes.len()
}

/// The byte index of the bracket closing the one at `open`, skipping strings.
fn closing_bracket(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = skip_string(text, i, true);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `inner` has a `,` and a `:` outside nested brackets and strings.
fn top_level_punctuation(inner: &str) -> (bool, bool) {
    let bytes = inner.as_bytes();
    let (mut comma, mut colon) = (false, false);
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = skip_string(inner, i, true);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => comma = true,
            b':' if depth == 0 => colon = true,
            _ => {}
        }
        i += 1;
    }
    (comma, colon)
}

// ---------------------------------------------------------------------------------------------
// R, Julia and bash: a small statement reader
// ---------------------------------------------------------------------------------------------

/// What differs between the simple languages.
struct Syntax {
    /// Reads `name`, an optional annotation and the value from one whole statement.
    assignment: &'static LazyLock<Regex>,
    /// Backslash escapes inside single-quoted strings (not in bash).
    single_quote_escapes: bool,
    /// `#` starts a comment only at the start of a word (bash).
    comment_at_word_start: bool,
    /// Infers the type from the default's text.
    literal_type: fn(&str) -> &'static str,
}

static R_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<name>[\p{L}.][\p{L}\p{N}._]*)\s*(?:<<?-|=)\s*(?P<value>[^=\s].*?|)\s*$")
        .expect("R pattern")
});
static JULIA_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:const|global)\s+)*(?P<name>[\p{L}_][\p{L}\p{N}_!]*)\s*(?:::\s*(?P<annotation>[^=]+?)\s*)?=\s*(?P<value>[^=\s].*?|)\s*$",
    )
    .expect("Julia pattern")
});
static BASH_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:export|readonly|local|declare(?:\s+-\w+)*)\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*?)\s*$",
    )
    .expect("bash pattern")
});

const R: Syntax = Syntax {
    assignment: &R_ASSIGNMENT,
    single_quote_escapes: true,
    comment_at_word_start: false,
    literal_type: r_literal_type,
};
const JULIA: Syntax = Syntax {
    assignment: &JULIA_ASSIGNMENT,
    single_quote_escapes: true,
    comment_at_word_start: false,
    literal_type: julia_literal_type,
};
const BASH: Syntax = Syntax {
    assignment: &BASH_ASSIGNMENT,
    single_quote_escapes: false,
    comment_at_word_start: true,
    literal_type: bash_literal_type,
};

/// Where a line stands once read: its code and comment, and the bracket depth and open quote
/// carried to the next line.
#[derive(Default)]
struct LineState {
    depth: usize,
    quote: Option<u8>,
}

/// Splits `line` into code and comment, updating the carried state.
fn split_comment<'a>(line: &'a str, state: &mut LineState, syntax: &Syntax) -> (&'a str, &'a str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(quote) = state.quote {
            let escapes = quote == b'"' || syntax.single_quote_escapes;
            if escapes && b == b'\\' {
                i += 2;
                continue;
            }
            if b == quote {
                state.quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' | b'\'' => state.quote = Some(b),
            b'(' | b'[' | b'{' => state.depth += 1,
            b')' | b']' | b'}' => state.depth = state.depth.saturating_sub(1),
            b'#' if !syntax.comment_at_word_start || i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                return (&line[..i], &line[i + 1..]);
            }
            _ => {}
        }
        i += 1;
    }
    (line, "")
}

fn inspect_simple(source: &str, syntax: &Syntax) -> Vec<ParameterSpec> {
    let mut specs = Vec::new();
    let mut state = LineState::default();
    let mut statement = String::new();
    for line in source.lines() {
        let (code, comment) = split_comment(line, &mut state, syntax);
        let code = code.trim();
        if statement.is_empty() && code.is_empty() {
            continue;
        }
        if !statement.is_empty() && !code.is_empty() {
            statement.push(' ');
        }
        statement.push_str(code);
        if state.depth > 0 || state.quote.is_some() {
            continue;
        }
        if let Some(found) = syntax.assignment.captures(&statement) {
            let default = found["value"].trim().to_owned();
            let type_name = match found.name("annotation") {
                Some(annotation) => annotation.as_str().trim().to_owned(),
                None => (syntax.literal_type)(&default).to_owned(),
            };
            specs.push(ParameterSpec {
                name: found["name"].to_owned(),
                type_name,
                default,
                help: comment.trim().to_owned(),
            });
        }
        statement.clear();
    }
    specs
}

/// Whether `text` is a decimal number (optionally signed, with a fraction and exponent), and
/// whether it is an integer.
fn number_kind(text: &str) -> Option<bool> {
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?(?P<int>[0-9]+)?(?P<frac>\.[0-9]*)?(?P<exp>[eE][+-]?[0-9]+)?$")
            .expect("number pattern")
    });
    let found = NUMBER.captures(text)?;
    let digits =
        found.name("int").is_some() || found.name("frac").is_some_and(|frac| frac.as_str().len() > 1);
    if !digits {
        return None;
    }
    Some(found.name("frac").is_none() && found.name("exp").is_none())
}

/// Whether `text` is `head(...)` with the call's parenthesis closing at the end.
fn is_call(text: &str, head: &str) -> bool {
    text.strip_prefix(head).is_some_and(|rest| rest.starts_with('('))
        && closing_bracket(text, head.len()) == Some(text.len() - 1)
}

fn is_quoted(text: &str, quote: char) -> bool {
    text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote)
}

fn r_literal_type(text: &str) -> &'static str {
    match text {
        "NULL" => return "NULL",
        "TRUE" | "FALSE" | "T" | "F" | "NA" => return "logical",
        "Inf" | "-Inf" | "NaN" => return "numeric",
        _ => {}
    }
    if text.strip_suffix('L').is_some_and(|digits| number_kind(digits) == Some(true)) {
        return "integer";
    }
    if number_kind(text).is_some() {
        return "numeric";
    }
    if is_quoted(text, '"') || is_quoted(text, '\'') {
        return "character";
    }
    if is_call(text, "list") {
        return "list";
    }
    if is_call(text, "c") {
        return "vector";
    }
    UNKNOWN
}

fn julia_literal_type(text: &str) -> &'static str {
    match text {
        "nothing" => return "Nothing",
        "true" | "false" => return "Bool",
        "NaN" | "Inf" | "-Inf" => return "Float64",
        _ => {}
    }
    match number_kind(text) {
        Some(true) => return "Int64",
        Some(false) => return "Float64",
        None => {}
    }
    if is_quoted(text, '"') {
        return "String";
    }
    if is_quoted(text, '\'') {
        return "Char";
    }
    if text.len() > 1 && text.starts_with(':') && !text.contains(char::is_whitespace) {
        return "Symbol";
    }
    if text.starts_with('[') && closing_bracket(text, 0) == Some(text.len() - 1) {
        return "Vector";
    }
    if is_call(text, "Dict") {
        return "Dict";
    }
    if text.starts_with('(') && closing_bracket(text, 0) == Some(text.len() - 1) {
        return "Tuple";
    }
    UNKNOWN
}

fn bash_literal_type(text: &str) -> &'static str {
    match text {
        "true" | "false" => return "bool",
        _ => {}
    }
    match number_kind(text) {
        Some(true) => return "int",
        Some(false) => return "float",
        None => {}
    }
    if text.starts_with('(') && text.ends_with(')') {
        return "array";
    }
    "str"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, type_name: &str, default: &str, help: &str) -> ParameterSpec {
        ParameterSpec {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            default: default.to_owned(),
            help: help.to_owned(),
        }
    }

    fn python(source: &str) -> Vec<ParameterSpec> {
        inspect_parameters("python", source).unwrap()
    }

    #[test]
    fn python_realistic_cell() {
        let source = r#"# Parameters for the daily report
import os

alpha = 0.5  # learning rate
n_iter: int = 10  # how many iterations
name: "str" = "world"
threshold = 1e-3  # type: float  minimum score
ratio = 2  # type: float
tags: List[str] = ["a", "b"]  # the tags
debug = False
missing = None
path = os.path.join("data", "x.csv")

"#;
        assert_eq!(
            python(source),
            vec![
                spec("alpha", "float", "0.5", "learning rate"),
                spec("n_iter", "int", "10", "how many iterations"),
                spec("name", "str", "\"world\"", ""),
                spec("threshold", "float", "1e-3", "minimum score"),
                spec("ratio", "float", "2", ""),
                spec("tags", "List[str]", "[\"a\", \"b\"]", "the tags"),
                spec("debug", "bool", "False", ""),
                spec("missing", "NoneType", "None", ""),
                spec("path", "None", "os.path.join(\"data\", \"x.csv\")", ""),
            ]
        );
    }

    #[test]
    fn python_multi_line_defaults_are_flattened() {
        let source = "config = {\n    \"a\": 1,  # first\n    # a comment line\n    \"b\": [1,\n          2],\n}  # the config\nnext_one = 3\n";
        assert_eq!(
            python(source),
            vec![
                spec("config", "dict", "{\"a\": 1,\"b\": [1,2],}", "the config"),
                spec("next_one", "int", "3", ""),
            ]
        );
    }

    #[test]
    fn python_keeps_papermills_limits() {
        let source =
            "url = \"http://x/?a=b\"\nkw = dict(a=1)\nx == 1\ncolor = \"#ff0000\"  # colour\nlate = 5\n";
        // Two `=` on a line: skipped. A `#` inside a string ends the value.
        assert_eq!(
            python(source),
            vec![spec("color", "None", "\"", "ff0000\"  # colour"), spec("late", "int", "5", "")]
        );
    }

    #[test]
    fn python_skips_what_is_not_an_assignment() {
        assert_eq!(python(""), vec![]);
        assert_eq!(python("# only comments\n\n"), vec![]);
        assert_eq!(python("print('hi')\nx += 1\n"), vec![]);
        assert_eq!(
            python("x = 1\r\ny = 2\rz = 3"),
            vec![spec("x", "int", "1", ""), spec("y", "int", "2", ""), spec("z", "int", "3", "")]
        );
    }

    #[test]
    fn python_empty_type_comment_falls_back_to_inference() {
        assert_eq!(python("x = 'a'  # type:"), vec![spec("x", "str", "'a'", "")]);
    }

    #[test]
    fn python_literal_types() {
        let cases = [
            ("None", "NoneType"),
            ("True", "bool"),
            ("0", "int"),
            ("-12", "int"),
            ("1_000", "int"),
            ("0xff", "int"),
            ("1.5", "float"),
            ("-.5", "float"),
            ("1e-3", "float"),
            ("5.", "float"),
            ("float('nan')", "float"),
            ("math.inf", "float"),
            ("2j", "complex"),
            ("'a'", "str"),
            ("\"a\"", "str"),
            ("f\"{x}\"", "str"),
            ("r'\\d'", "str"),
            ("'''doc'''", "str"),
            ("b'raw'", "bytes"),
            ("Rb'raw'", "bytes"),
            ("[]", "list"),
            ("[1, [2]]", "list"),
            ("{}", "dict"),
            ("{'a': 1}", "dict"),
            ("{1, 2}", "set"),
            ("()", "tuple"),
            ("(1,)", "tuple"),
            ("(1)", "int"),
            ("dict(a=1)", "dict"),
            ("list(range(3))", "list"),
            ("[1] + [2]", "None"),
            ("os.getcwd()", "None"),
            ("x", "None"),
            ("'a' + b", "None"),
        ];
        for (text, expected) in cases {
            assert_eq!(python_literal_type(text), expected, "{text:?}");
        }
    }

    #[test]
    fn r_cell() {
        let source = r#"# Parameters
alpha <- 0.5  # learning rate
n = 10L
name <- "a # not a comment"
flags <- c(TRUE,
           FALSE)  # two flags
same == 1
cfg <- list(
  a = 1,
  b = "x"
)
_hidden <- 1
verbose <- T
"#;
        assert_eq!(
            inspect_parameters("R", source).unwrap(),
            vec![
                spec("alpha", "numeric", "0.5", "learning rate"),
                spec("n", "integer", "10L", ""),
                spec("name", "character", "\"a # not a comment\"", ""),
                spec("flags", "vector", "c(TRUE, FALSE)", "two flags"),
                spec("cfg", "list", "list( a = 1, b = \"x\" )", ""),
                spec("verbose", "logical", "T", ""),
            ]
        );
    }

    #[test]
    fn julia_cell() {
        let source = "alpha = 0.5 # rate\nn::Int = 10\nname = \"x\"\nids = [1,\n  2]\nopts = Dict(\"a\" => 1)\nnone = nothing\nflag == true\nsym = :fast\n";
        assert_eq!(
            inspect_parameters("julia", source).unwrap(),
            vec![
                spec("alpha", "Float64", "0.5", "rate"),
                spec("n", "Int", "10", ""),
                spec("name", "String", "\"x\"", ""),
                spec("ids", "Vector", "[1, 2]", ""),
                spec("opts", "Dict", "Dict(\"a\" => 1)", ""),
                spec("none", "Nothing", "nothing", ""),
                spec("sym", "Symbol", ":fast", ""),
            ]
        );
    }

    #[test]
    fn bash_cell() {
        let source = "# Parameters\nname=world  # who to greet\ncount=3\nratio=0.5\nurl=http://x/#frag\nmsg='it''s # fine'\nfiles=(a.txt\n  b.txt)\nexport DEBUG=true\nnot an assignment\nx = 1\n";
        assert_eq!(
            inspect_parameters("bash", source).unwrap(),
            vec![
                spec("name", "str", "world", "who to greet"),
                spec("count", "int", "3", ""),
                spec("ratio", "float", "0.5", ""),
                spec("url", "str", "http://x/#frag", ""),
                spec("msg", "str", "'it''s # fine'", ""),
                spec("files", "array", "(a.txt b.txt)", ""),
                spec("DEBUG", "bool", "true", ""),
            ]
        );
        assert_eq!(inspect_parameters("sh", "x=1").unwrap().len(), 1);
    }

    #[test]
    fn unknown_language_names_it_and_the_supported_ones() {
        let err = inspect_parameters("scala", "val x = 1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot inspect the parameters of a \"scala\" notebook: nbw reads parameters cells \
             written in python, r, julia and bash"
        );
    }

    #[test]
    fn specs_serialize_with_their_field_names() {
        let json = serde_json::to_string(&spec("a", "int", "1", "h")).unwrap();
        assert_eq!(json, r#"{"name":"a","type_name":"int","default":"1","help":"h"}"#);
    }

    /// Every Python case, run through papermill's own `PythonTranslator.inspect`: names,
    /// defaults and help texts must be papermill's, and so must the type wherever papermill
    /// knows one (where it says "None", ours is inferred).
    #[test]
    fn python_inspection_agrees_with_papermill() {
        const SOURCES: &[&str] = &[
            "alpha = 0.5  # learning rate\nn_iter: int = 10  # how many\nname: \"str\" = \"world\"\n",
            "threshold = 1e-3  # type: float  minimum score\nratio = 2  # type: float\n",
            "tags: List[str] = [\"a\", \"b\"]  # the tags\nopt: 'Optional[int]' = None\n",
            "config = {\n    \"a\": 1,  # first\n    # a comment line\n    \"b\": [1,\n          2],\n}  # the config\nnext_one = 3\n",
            "url = \"http://x/?a=b\"\nkw = dict(a=1)\nx == 1\ncolor = \"#ff0000\"  # colour\nlate = 5\n",
            "import os\nprint('hi')\nx += 1\npath = os.path.join('a', 'b')\n",
            "x = 1\r\ny = 2\rz = 3\x0bw = 4\u{2028}v = 5",
            "\tindented = 1\n  spaced=2#tight\nunicode_é = 'ü'  #  spaced help  \n",
            "a = 1 # type: int\nb = 2 #type:float#weird\nc = 3 # type:\nd = 4 #\n",
            "lst = [\n  1,\n  2,\n]\nafter = 'x'\n",
            "x: int\ny = 2\n",
            "1x = 2\n_ok = 3\nx.y = 4\n",
            "s = 'a' # a # b\nt = \"\"\"doc\"\"\"\n",
            "weird_ws = 1\x1c\nq = 2\x1f # h\n",
        ];
        let input = serde_json::to_string(SOURCES).unwrap();
        let script = r#"
import json, sys
from papermill.translators import PythonTranslator
sources = json.loads(sys.stdin.read())
print(json.dumps([
    [list(p) for p in PythonTranslator.inspect({"source": source})] for source in sources
]))
"#;
        let expected: Vec<Vec<[String; 4]>> =
            serde_json::from_str(&crate::translate::run_python(script, input)).unwrap();
        for (source, papermill) in SOURCES.iter().zip(expected) {
            let ours = python(source);
            assert_eq!(ours.len(), papermill.len(), "source {source:?}: {ours:?}");
            let ours: Vec<[String; 4]> = ours
                .into_iter()
                .zip(papermill.iter())
                .map(|(spec, [_, theirs, _, _])| {
                    let type_name = if theirs == "None" { theirs.clone() } else { spec.type_name };
                    [spec.name, type_name, spec.default, spec.help]
                })
                .collect();
            assert_eq!(ours, papermill, "source {source:?}");
        }
    }
}
