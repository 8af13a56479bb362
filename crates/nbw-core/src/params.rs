//! Notebook parameters: the values a run hands to a notebook's `parameters` cell.
//!
//! [`ParamValue`] is papermill's data model (null, booleans, integers, floats, strings, lists
//! and string-keyed dicts) with two choices that matter for fidelity:
//!
//! - integers are kept as their canonical decimal digits, because Python integers are
//!   unbounded and a 40-digit id given on the command line must reach the kernel unchanged;
//! - dicts keep insertion order, because the injected cell lists entries in the order the
//!   user gave them, as Python's `dict` does.
//!
//! [`Parameters`] is the ordered name → value map of one run, with Python `dict` update
//! semantics. Values come from [`infer_cli_value`] (`-p name value`, papermill's type
//! inference), [`parse_yaml`] (`-y` and `-f`) and serde (JSON, for the API).
//!
//! # JSON
//!
//! Both types serialize as natural JSON: `None` is `null`, a dict is an object in insertion
//! order. Two corners cannot be represented exactly without enabling serde_json's
//! `arbitrary_precision` for the whole workspace, so they are lossy on purpose:
//!
//! - an [`ParamValue::Int`] outside the `i64`/`u64` range is written as the nearest `f64`
//!   number, and reads back as a [`ParamValue::Float`] (serde_json parses integers beyond
//!   `u64` as floats);
//! - a non-finite [`ParamValue::Float`] is written as the string `"nan"`, `"inf"` or `"-inf"`
//!   (Python's `str(float)` spelling), because JSON has no NaN or infinity (papermill writes
//!   the non-standard token `NaN`, which strict parsers reject). It reads back as a
//!   [`ParamValue::Str`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// One parameter value, as papermill's translators understand it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Python `None`, JSON `null`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer of any size, as canonical decimal digits: an optional leading `-`, no
    /// leading zeros, no `+`, no `_` (`"0"`, `"-12"`, `"123456789012345678901234567890"`).
    Int(String),
    /// A double-precision float, possibly NaN or infinite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list of values.
    List(Vec<ParamValue>),
    /// A dict with string keys, in insertion order, without duplicate keys.
    Dict(Vec<(String, ParamValue)>),
}

impl From<bool> for ParamValue {
    fn from(value: bool) -> Self {
        ParamValue::Bool(value)
    }
}

impl From<i64> for ParamValue {
    fn from(value: i64) -> Self {
        ParamValue::Int(value.to_string())
    }
}

impl From<f64> for ParamValue {
    fn from(value: f64) -> Self {
        ParamValue::Float(value)
    }
}

impl From<&str> for ParamValue {
    fn from(value: &str) -> Self {
        ParamValue::Str(value.to_owned())
    }
}

impl From<String> for ParamValue {
    fn from(value: String) -> Self {
        ParamValue::Str(value)
    }
}

impl From<Vec<ParamValue>> for ParamValue {
    fn from(value: Vec<ParamValue>) -> Self {
        ParamValue::List(value)
    }
}

/// Inserts with Python `dict` semantics: an existing key keeps its position and takes the
/// new value. Returns the value it replaced.
fn insert_entry(
    entries: &mut Vec<(String, ParamValue)>,
    name: String,
    value: ParamValue,
) -> Option<ParamValue> {
    match entries.iter_mut().find(|(key, _)| *key == name) {
        Some((_, slot)) => Some(std::mem::replace(slot, value)),
        None => {
            entries.push((name, value));
            None
        }
    }
}

/// The parameters of one run: an ordered map from name to value.
///
/// Insertion follows Python `dict` semantics, which is what papermill builds from its
/// command line: `-p x 1 -p y 2 -p x 3` gives `x = 3` then `y = 2`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameters {
    entries: Vec<(String, ParamValue)>,
}

impl Parameters {
    /// An empty set of parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`. A name already present keeps its position and its old value
    /// is returned; a new name goes last.
    pub fn insert(&mut self, name: impl Into<String>, value: ParamValue) -> Option<ParamValue> {
        insert_entry(&mut self.entries, name.into(), value)
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.entries.iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &ParamValue)> {
        self.entries.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// How many parameters are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts every parameter of `other` in its order, like Python's `dict.update`: this is
    /// how papermill layers `-f`, `-y`, `-p` and `-r`.
    pub fn extend(&mut self, other: Parameters) {
        for (name, value) in other.entries {
            self.insert(name, value);
        }
    }
}

impl IntoIterator for Parameters {
    type Item = (String, ParamValue);
    type IntoIter = std::vec::IntoIter<(String, ParamValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<String>> FromIterator<(K, ParamValue)> for Parameters {
    fn from_iter<I: IntoIterator<Item = (K, ParamValue)>>(iter: I) -> Self {
        let mut params = Parameters::new();
        for (name, value) in iter {
            params.insert(name, value);
        }
        params
    }
}

/// Why parameters could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The text is not YAML, or not a single YAML document that PyYAML would load (several
    /// documents, an undefined or repeated anchor, an alias inside what it names, nesting
    /// deeper than 128 levels).
    #[error("parameters YAML is not valid YAML: {message}")]
    YamlSyntax {
        /// The parser's message, which names the line and column when it knows them.
        message: String,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
    },
    /// The document is valid YAML but not a mapping.
    #[error("parameters YAML must be a mapping of names to values, like \"alpha: 0.5\", got {found}")]
    NotAMapping {
        /// What the document is instead, e.g. `a list`.
        found: String,
    },
    /// A mapping key, at the top level or nested, is not a string.
    #[error(
        "parameters YAML key {key} at {path} is not a string; \
         parameter names and dict keys must be strings, quote it like '\"{key}\": ...'"
    )]
    NonStringKey {
        /// The key as YAML.
        key: String,
        /// Where the mapping is, e.g. `top level` or `config.limits`.
        path: String,
    },
    /// A value carries a YAML tag other than the standard ones.
    #[error(
        "parameters YAML value at {path} has the tag {tag}, which has no parameter meaning; \
         remove the tag"
    )]
    UnsupportedTag {
        /// The tag, e.g. `!secret`.
        tag: String,
        /// Where the value is, e.g. `config.password`.
        path: String,
    },
    /// A value cannot be read as the type that its tag or, for a plain scalar, its spelling
    /// gives it, as PyYAML's constructors would fail: `!!int abc`, `0x_`, `!!str [1]`, or a
    /// plain `<<` that is not a key.
    #[error("parameters YAML value at {path} (line {line}, column {column}) {problem}")]
    BadValue {
        /// Where the value is, e.g. `config.limit`.
        path: String,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// What is wrong, e.g. `"abc" cannot be read as an integer`.
        problem: String,
    },
    /// A YAML merge key (`<<`) refers to something other than mappings.
    #[error(
        "parameters YAML merge key \"<<\" at {path} must refer to a mapping or a list of \
         mappings, like \"<<: *defaults\""
    )]
    BadMerge {
        /// Where the mapping holding the merge key is.
        path: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Command-line inference
// ---------------------------------------------------------------------------------------------

/// Infers the type of a `-p name value` value exactly as papermill's `_resolve_type` does.
///
/// In order: `"True"`, `"False"` and `"None"` (exact spelling) become booleans and None;
/// anything Python's `int()` accepts becomes an [`ParamValue::Int`] (surrounding whitespace,
/// a sign, single underscores between digits, Unicode decimal digits: `" +1_000 "` is 1000);
/// anything Python's `float()` accepts becomes a [`ParamValue::Float`] (`"1e5"`, `".5"`,
/// `"5."`, `"inf"`, `"-Infinity"`, `"NaN"`, `"1_0.5"`); everything else stays the string it
/// was, untouched.
///
/// One deliberate difference: Python 3.11+ refuses to convert integers of more than 4300
/// digits (so papermill then falls through to `float()` and passes `inf`); here such a value
/// stays an exact [`ParamValue::Int`].
pub fn infer_cli_value(s: &str) -> ParamValue {
    match s {
        "True" => ParamValue::Bool(true),
        "False" => ParamValue::Bool(false),
        "None" => ParamValue::None,
        _ => {
            if let Some(digits) = python_int(s) {
                ParamValue::Int(digits)
            } else if let Some(float) = python_float(s) {
                ParamValue::Float(float)
            } else {
                ParamValue::Str(s.to_owned())
            }
        }
    }
}

/// The first code point of every run of ten Unicode decimal digits (category Nd), as of the
/// Unicode 14 tables of Python 3.11. Python's `int()` and `float()` accept all of them.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
    0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
    0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
    0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

fn unicode_decimal(c: char) -> Option<u8> {
    let code = c as u32;
    DECIMAL_ZEROS.iter().find(|&&zero| (zero..zero + 10).contains(&code)).map(|&zero| (code - zero) as u8)
}

/// CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`, which both `int()` and `float()`
/// run first: non-ASCII whitespace becomes a space, Unicode decimal digits become ASCII
/// digits, and any other non-ASCII character makes the string invalid.
fn python_ascii(s: &str) -> Option<String> {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                Some(c)
            } else if c.is_whitespace() {
                // Rust's White_Space and CPython's Py_UNICODE_ISSPACE agree above ASCII.
                Some(' ')
            } else {
                unicode_decimal(c).map(|digit| char::from(b'0' + digit))
            }
        })
        .collect()
}

/// Strips CPython's `Py_ISSPACE` set, which (unlike Rust's ASCII whitespace) includes `\v`.
fn trim_python_space(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
}

/// Non-empty ASCII digits with single underscores strictly between digits.
fn is_underscored_digits(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && bytes[0].is_ascii_digit()
        && bytes[bytes.len() - 1].is_ascii_digit()
        && !s.contains("__")
}

/// Canonical digits: no leading zeros, `-` only for non-zero values.
fn canonical_int(negative: bool, digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    match (trimmed.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{trimmed}"),
        (false, false) => trimmed.to_owned(),
    }
}

/// Python's `int(s)`: the canonical digits, or `None` where it raises `ValueError`.
fn python_int(s: &str) -> Option<String> {
    let ascii = python_ascii(s)?;
    let text = trim_python_space(&ascii);
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if !is_underscored_digits(body) {
        return None;
    }
    Some(canonical_int(negative, &body.replace('_', "")))
}

/// Python's `float(s)`, or `None` where it raises `ValueError`.
fn python_float(s: &str) -> Option<f64> {
    let ascii = python_ascii(s)?;
    let text = trim_python_space(&ascii);
    // CPython's _Py_string_to_number_with_underscores: every '_' sits between two digits.
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i > 0 && bytes[i - 1].is_ascii_digit();
            let after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(before && after) {
                return None;
            }
        }
    }
    let cleaned = text.replace('_', "");
    if !is_python_float_literal(&cleaned) {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// The grammar `_PyOS_ascii_strtod` accepts: a sign, then `inf`, `infinity` or `nan` in any
/// case, or decimal digits with an optional point and an optional exponent. Checked here
/// rather than trusting `f64::from_str` to agree on every corner.
fn is_python_float_literal(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return true;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (mantissa, ""),
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) || whole.len() + fraction.len() == 0 {
        return false;
    }
    match exponent {
        None => true,
        Some(exponent) => {
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !digits.is_empty() && all_digits(digits)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------------

/// Parses the parameters of `-y` and `-f`: a YAML mapping of names to values, read as papermill
/// reads it, with PyYAML's `SafeLoader` less its timestamp resolver.
///
/// That is YAML 1.1, not the YAML 1.2 of most YAML libraries, so a plain (unquoted) scalar
/// resolves by PyYAML's rules:
///
/// - `yes`, `no`, `on`, `off`, `true` and `false`, each also capitalized or in capitals, are
///   booleans;
/// - `~`, `null` (`Null`, `NULL`) and nothing at all are None;
/// - integers may have `_` (`1_000`), a `0b` or `0x` prefix, a leading `0` for octal (`017` is
///   15) or base-60 parts (`1:30` is 90), and keep every digit ([`ParamValue::Int`]);
/// - floats need a dot, and a sign before any exponent (`1.0e+3`; `1e3` stays a string), or are
///   `.inf`, `-.inf`, `.nan` or base 60 (`1:30.5`);
/// - anything else, dates included, is a string.
///
/// Quoted and block scalars are strings. The tags `!!str`, `!!int`, `!!float`, `!!bool`,
/// `!!null`, `!!seq` and `!!map` convert as PyYAML's constructors do (`!!int "017"` is 15);
/// other tags are refused. Anchors, aliases and `<<` merge keys work as in PyYAML, and a
/// repeated key keeps its first place and its last value. An empty document, or one that is
/// only `null`, gives no parameters.
///
/// One deliberate difference: Python refuses to convert decimal integers of more than 4300
/// digits; here they stay exact.
///
/// ```
/// use nbw_core::params::{parse_yaml, ParamValue};
///
/// let params = parse_yaml("alpha: 0.5\nids: [1, 017]\ndebug: yes\nlabel: '1'").unwrap();
/// assert_eq!(params.get("alpha"), Some(&ParamValue::Float(0.5)));
/// assert_eq!(params.get("ids"), Some(&ParamValue::List(vec![1.into(), 15.into()])));
/// assert_eq!(params.get("debug"), Some(&ParamValue::Bool(true)));
/// assert_eq!(params.get("label"), Some(&ParamValue::from("1")));
/// ```
pub fn parse_yaml(text: &str) -> Result<Parameters, ParamError> {
    let Some((root, nodes)) = Composer::new(text).single_document()? else {
        return Ok(Parameters::new());
    };
    // Aliases and merge keys may repeat what the text holds, up to a bound that an alias bomb
    // (nested aliases doubling at each level) soon passes.
    let mut constructor = Constructor { budget: nodes.saturating_mul(100).saturating_add(100_000) };
    match constructor.construct(&root, "", 0)? {
        ParamValue::None => Ok(Parameters::new()),
        ParamValue::Dict(entries) => Ok(Parameters { entries }),
        other => Err(ParamError::NotAMapping { found: describe(&other) }),
    }
}

/// How deeply collections may nest, also when aliases put one inside another.
const MAX_DEPTH: usize = 128;

fn syntax_error(message: impl fmt::Display, mark: libyaml::Mark) -> ParamError {
    ParamError::YamlSyntax {
        message: format!("{message} at line {} column {}", mark.line, mark.column),
        line: Some(mark.line),
        column: Some(mark.column),
    }
}

/// A short human description of a value, for error messages.
fn describe(value: &ParamValue) -> String {
    match value {
        ParamValue::None => "null".to_owned(),
        ParamValue::Bool(b) => format!("the boolean {b}"),
        ParamValue::Int(digits) => format!("the number {digits}"),
        ParamValue::Float(f) => format!("the number {f}"),
        ParamValue::Str(s) if s.contains('=') && !s.contains(": ") => {
            format!("the string {s:?} (YAML uses \"name: value\", not \"name=value\")")
        }
        ParamValue::Str(s) if s.contains(':') && !s.contains(": ") => {
            format!("the string {s:?} (YAML needs a space after the colon)")
        }
        ParamValue::Str(s) => format!("the string {s:?}"),
        ParamValue::List(_) => "a list".to_owned(),
        ParamValue::Dict(_) => "a mapping".to_owned(),
    }
}

/// A key as YAML would show it, for error messages.
fn show_key(key: &ParamValue) -> String {
    match key {
        ParamValue::None => "null".to_owned(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(digits) => digits.clone(),
        ParamValue::Float(f) => f.to_string(),
        ParamValue::Str(s) => s.clone(),
        ParamValue::List(_) => "(a list)".to_owned(),
        ParamValue::Dict(_) => "(a mapping)".to_owned(),
    }
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn shown_path(path: &str) -> String {
    if path.is_empty() { "the top level".to_owned() } else { path.to_owned() }
}

/// A node's tag once resolved, as PyYAML's composer resolves it.
#[derive(Debug, Clone, PartialEq)]
enum Tag {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Seq,
    Map,
    /// `<<`: a merge key.
    Merge,
    /// `=`: YAML 1.1's value key, a string when it is a key and an error anywhere else.
    Value,
    /// `!`, `&` or `*` under the `!` tag: no constructor.
    Yaml,
    /// Any other tag, as written: `!!binary`, `!secret`.
    Other(String),
}

const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

impl Tag {
    fn from_explicit(tag: &str) -> Tag {
        match tag.strip_prefix(YAML_TAG_PREFIX) {
            Some("null") => Tag::Null,
            Some("bool") => Tag::Bool,
            Some("int") => Tag::Int,
            Some("float") => Tag::Float,
            Some("str") => Tag::Str,
            Some("seq") => Tag::Seq,
            Some("map") => Tag::Map,
            Some("merge") => Tag::Merge,
            Some("value") => Tag::Value,
            Some("yaml") => Tag::Yaml,
            Some(name) => Tag::Other(format!("!!{name}")),
            None if tag.starts_with('!') => Tag::Other(tag.to_owned()),
            None => Tag::Other(format!("!<{tag}>")),
        }
    }

    fn shown(&self) -> String {
        let name = match self {
            Tag::Null => "null",
            Tag::Bool => "bool",
            Tag::Int => "int",
            Tag::Float => "float",
            Tag::Str => "str",
            Tag::Seq => "seq",
            Tag::Map => "map",
            Tag::Merge => "merge",
            Tag::Value => "value",
            Tag::Yaml => "yaml",
            Tag::Other(shown) => return shown.clone(),
        };
        format!("!!{name}")
    }
}

/// One composed YAML node. Aliases share the node they name.
struct Node {
    tag: Tag,
    /// Whether the tag was resolved from a plain scalar's text (for error hints).
    implicit: bool,
    content: Content,
    mark: libyaml::Mark,
}

enum Content {
    Scalar(String),
    Seq(Vec<Rc<Node>>),
    Map(Vec<Pair>),
}

/// A mapping's key and value.
type Pair = (Rc<Node>, Rc<Node>);

impl Content {
    fn describe(&self) -> &'static str {
        match self {
            Content::Scalar(_) => "a scalar",
            Content::Seq(_) => "a list",
            Content::Map(_) => "a mapping",
        }
    }
}

/// PyYAML's composer: libyaml's events into a node tree for a single document.
struct Composer<'a> {
    parser: libyaml::Parser<'a>,
    /// Every anchor so far: its node, or `None` while its collection is still open, and where
    /// it was set.
    anchors: HashMap<String, (Option<Rc<Node>>, libyaml::Mark)>,
    /// How many nodes the text holds.
    nodes: usize,
}

impl<'a> Composer<'a> {
    fn new(text: &'a str) -> Self {
        Composer { parser: libyaml::Parser::new(text), anchors: HashMap::new(), nodes: 0 }
    }

    fn next(&mut self) -> Result<(libyaml::Event, libyaml::Mark), ParamError> {
        self.parser.next_event().map_err(|err| ParamError::YamlSyntax {
            message: err.message,
            line: Some(err.mark.line),
            column: Some(err.mark.column),
        })
    }

    /// The root node and the number of nodes, or `None` for a stream without a document.
    fn single_document(mut self) -> Result<Option<(Rc<Node>, usize)>, ParamError> {
        self.next()?; // the stream start
        if let (libyaml::Event::StreamEnd, _) = self.next()? {
            return Ok(None);
        }
        let (event, mark) = self.next()?;
        let root = self.node(event, mark, 0)?;
        self.next()?; // the document end
        match self.next()? {
            (libyaml::Event::StreamEnd, _) => Ok(Some((root, self.nodes))),
            (_, mark) => Err(syntax_error(
                "expected a single document in the stream, but found another document",
                mark,
            )),
        }
    }

    fn node(
        &mut self,
        event: libyaml::Event,
        mark: libyaml::Mark,
        depth: usize,
    ) -> Result<Rc<Node>, ParamError> {
        use libyaml::Event;

        if depth > MAX_DEPTH {
            return Err(syntax_error(format!("collections nest deeper than {MAX_DEPTH} levels"), mark));
        }
        self.nodes += 1;
        match event {
            Event::Alias(name) => match self.anchors.get(&name) {
                Some((Some(node), _)) => Ok(Rc::clone(node)),
                Some((None, _)) => Err(syntax_error(
                    format!(
                        "the alias *{name} is inside the collection it names, which no parameter can hold"
                    ),
                    mark,
                )),
                None => Err(syntax_error(format!("found undefined alias {name:?}"), mark)),
            },
            Event::Scalar { anchor, tag, value, plain_implicit } => {
                self.open(anchor.as_deref(), mark)?;
                // PyYAML resolves a plain scalar, or any scalar tagged with the bare `!`, from its
                // text; other untagged scalars are strings.
                let (tag, implicit) = match tag.as_deref() {
                    None | Some("!") if plain_implicit => (resolve_plain(&value), true),
                    None | Some("!") => (Tag::Str, false),
                    Some(tag) => (Tag::from_explicit(tag), false),
                };
                Ok(self.close(anchor, Node { tag, implicit, content: Content::Scalar(value), mark }))
            }
            Event::SequenceStart { anchor, tag } => {
                self.open(anchor.as_deref(), mark)?;
                let mut items = Vec::new();
                loop {
                    let (event, item_mark) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break;
                    }
                    items.push(self.node(event, item_mark, depth + 1)?);
                }
                let tag = collection_tag(tag.as_deref(), Tag::Seq);
                Ok(self.close(anchor, Node { tag, implicit: false, content: Content::Seq(items), mark }))
            }
            Event::MappingStart { anchor, tag } => {
                self.open(anchor.as_deref(), mark)?;
                let mut pairs = Vec::new();
                loop {
                    let (event, key_mark) = self.next()?;
                    if let Event::MappingEnd = event {
                        break;
                    }
                    let key = self.node(event, key_mark, depth + 1)?;
                    let (event, value_mark) = self.next()?;
                    let value = self.node(event, value_mark, depth + 1)?;
                    pairs.push((key, value));
                }
                let tag = collection_tag(tag.as_deref(), Tag::Map);
                Ok(self.close(anchor, Node { tag, implicit: false, content: Content::Map(pairs), mark }))
            }
            _ => Err(syntax_error("the YAML parser produced an event out of place", mark)),
        }
    }

    /// Claims an anchor for a node that starts here; PyYAML refuses to set one twice.
    fn open(&mut self, anchor: Option<&str>, mark: libyaml::Mark) -> Result<(), ParamError> {
        let Some(name) = anchor else {
            return Ok(());
        };
        if let Some((_, first)) = self.anchors.get(name) {
            return Err(syntax_error(
                format!(
                    "found duplicate anchor {name:?}; first occurrence at line {} column {}, second occurrence",
                    first.line, first.column
                ),
                mark,
            ));
        }
        self.anchors.insert(name.to_owned(), (None, mark));
        Ok(())
    }

    fn close(&mut self, anchor: Option<String>, node: Node) -> Rc<Node> {
        let node = Rc::new(node);
        if let Some(name) = anchor {
            let mark = node.mark;
            self.anchors.insert(name, (Some(Rc::clone(&node)), mark));
        }
        node
    }
}

fn collection_tag(tag: Option<&str>, default: Tag) -> Tag {
    match tag {
        None | Some("!") => default,
        Some(tag) => Tag::from_explicit(tag),
    }
}

/// PyYAML's `SafeConstructor`: a node tree into a value.
struct Constructor {
    /// How many more values and merged pairs may be built.
    budget: usize,
}

/// Which merged keys PyYAML's `flatten_mapping` takes for the same key and keeps only the first
/// of: those whose node text is the same object (`id(key_node.value)`). That is the same node (an
/// alias) or, through CPython's cache of empty and one-character Latin-1 strings, the same text
/// when it is that short. So `<<: [*a, *b]` keeps `a`'s value for a key `x` but `b`'s for a key
/// `xy`, which the mapping then takes last.
#[derive(PartialEq, Eq, Hash)]
enum MergeIdentity {
    Text(String),
    Node(*const Node),
}

fn merge_identity(key: &Rc<Node>) -> MergeIdentity {
    match &key.content {
        Content::Scalar(text) if text.chars().count() <= 1 && text.chars().all(|c| u32::from(c) < 256) => {
            MergeIdentity::Text(text.clone())
        }
        _ => MergeIdentity::Node(Rc::as_ptr(key)),
    }
}

impl Constructor {
    fn spend(&mut self, node: &Node) -> Result<(), ParamError> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            syntax_error(
                "aliases and merge keys repeat so much that the parameters would be too large",
                node.mark,
            )
        })?;
        Ok(())
    }

    fn bad_value(node: &Node, path: &str, problem: String) -> ParamError {
        ParamError::BadValue {
            path: shown_path(path),
            line: node.mark.line,
            column: node.mark.column,
            problem,
        }
    }

    fn construct(&mut self, node: &Rc<Node>, path: &str, depth: usize) -> Result<ParamValue, ParamError> {
        self.spend(node)?;
        if depth > MAX_DEPTH {
            return Err(syntax_error(
                format!("collections nest deeper than {MAX_DEPTH} levels through aliases"),
                node.mark,
            ));
        }
        match (&node.tag, &node.content) {
            (Tag::Other(tag), _) => {
                Err(ParamError::UnsupportedTag { tag: tag.clone(), path: shown_path(path) })
            }
            (Tag::Seq, Content::Seq(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.construct(item, &format!("{path}[{i}]"), depth + 1))
                .collect::<Result<_, _>>()
                .map(ParamValue::List),
            (Tag::Map, Content::Map(_)) => self.mapping(node, path, depth).map(ParamValue::Dict),
            (Tag::Seq | Tag::Map, _) | (_, Content::Seq(_) | Content::Map(_)) => Err(Self::bad_value(
                node,
                path,
                format!("is {}, which its tag {} does not fit", node.content.describe(), node.tag.shown()),
            )),
            (_, Content::Scalar(text)) => Self::scalar(node, text, path),
        }
    }

    /// PyYAML's scalar constructors.
    fn scalar(node: &Node, text: &str, path: &str) -> Result<ParamValue, ParamError> {
        let unreadable = |what: &str| {
            let hint = if node.implicit {
                format!("; YAML 1.1, which papermill reads, makes this plain scalar {what}, so quote it")
            } else {
                String::new()
            };
            Self::bad_value(node, path, format!("{text:?} cannot be read as {what}{hint}"))
        };
        match node.tag {
            Tag::Str => Ok(ParamValue::Str(text.to_owned())),
            Tag::Null => Ok(ParamValue::None),
            Tag::Bool => match text.to_lowercase().as_str() {
                "yes" | "true" | "on" => Ok(ParamValue::Bool(true)),
                "no" | "false" | "off" => Ok(ParamValue::Bool(false)),
                _ => Err(unreadable("a boolean (yes, no, true, false, on or off)")),
            },
            Tag::Int => yaml_int(text).map(ParamValue::Int).ok_or_else(|| unreadable("an integer")),
            Tag::Float => yaml_float(text).map(ParamValue::Float).ok_or_else(|| unreadable("a float")),
            Tag::Merge => Err(Self::bad_value(
                node,
                path,
                "is a plain \"<<\", which YAML 1.1 keeps for merge keys; quote it to mean the string"
                    .to_owned(),
            )),
            Tag::Value => Err(Self::bad_value(
                node,
                path,
                "is a plain \"=\", which YAML 1.1 keeps for its value key; quote it to mean the string"
                    .to_owned(),
            )),
            Tag::Yaml | Tag::Seq | Tag::Map | Tag::Other(_) => Err(Self::bad_value(
                node,
                path,
                format!("{text:?} has the tag {}, which has no value here", node.tag.shown()),
            )),
        }
    }

    fn mapping(
        &mut self,
        node: &Node,
        path: &str,
        depth: usize,
    ) -> Result<Vec<(String, ParamValue)>, ParamError> {
        let mut entries = Vec::new();
        for (key, value) in self.flatten(node, path, depth)? {
            let name = self.key(&key, path, depth)?;
            let value = self.construct(&value, &child_path(path, &name), depth + 1)?;
            insert_entry(&mut entries, name, value);
        }
        Ok(entries)
    }

    fn key(&mut self, key: &Rc<Node>, path: &str, depth: usize) -> Result<String, ParamError> {
        if let (Tag::Value, Content::Scalar(text)) = (&key.tag, &key.content) {
            // flatten_mapping makes a `=` key a string.
            return Ok(text.clone());
        }
        match self.construct(key, &format!("{} (a key)", shown_path(path)), depth + 1)? {
            ParamValue::Str(name) => Ok(name),
            other => {
                let shown = match &key.content {
                    Content::Scalar(text) if !text.is_empty() => text.clone(),
                    _ => show_key(&other),
                };
                Err(ParamError::NonStringKey { key: shown, path: shown_path(path) })
            }
        }
    }

    /// PyYAML's `flatten_mapping`: a mapping's pairs, with each merge key replaced by the pairs
    /// of the mapping (or mappings, in order) it names, which come first; of merged pairs with
    /// the same [`MergeIdentity`] only the first stays.
    fn flatten(&mut self, node: &Node, path: &str, depth: usize) -> Result<Vec<Pair>, ParamError> {
        let Content::Map(pairs) = &node.content else {
            return Ok(Vec::new());
        };
        if depth > MAX_DEPTH {
            return Err(syntax_error(format!("merge keys chain deeper than {MAX_DEPTH} levels"), node.mark));
        }
        let mut merged = Vec::new();
        let mut seen = HashSet::new();
        let mut own = Vec::new();
        for (key, value) in pairs {
            if key.tag != Tag::Merge {
                own.push((Rc::clone(key), Rc::clone(value)));
                continue;
            }
            let sources = match &value.content {
                Content::Map(_) => std::slice::from_ref(value),
                Content::Seq(items) if items.iter().all(|item| matches!(item.content, Content::Map(_))) => {
                    items.as_slice()
                }
                _ => return Err(ParamError::BadMerge { path: shown_path(path) }),
            };
            for source in sources {
                for pair in self.flatten(source, path, depth + 1)? {
                    self.spend(source)?;
                    if seen.insert(merge_identity(&pair.0)) {
                        merged.push(pair);
                    }
                }
            }
        }
        merged.extend(own);
        Ok(merged)
    }
}

// --- PyYAML's implicit resolvers --------------------------------------------------------------

/// The tag PyYAML's `Resolver` gives a plain scalar, without the timestamp resolver that
/// papermill removes. Each test is one of PyYAML's regular expressions, spelled out.
fn resolve_plain(value: &str) -> Tag {
    if value.is_empty() {
        return Tag::Null;
    }
    // Python's `$` also matches before a final newline, which a scalar under the bare `!` tag
    // can have.
    let text = value.strip_suffix('\n').unwrap_or(value);
    if text.is_empty() {
        Tag::Str
    } else if is_yaml11_bool(text) {
        Tag::Bool
    } else if is_yaml11_float(text) {
        Tag::Float
    } else if is_yaml11_int(text) {
        Tag::Int
    } else if text == "<<" {
        Tag::Merge
    } else if matches!(text, "~" | "null" | "Null" | "NULL") {
        Tag::Null
    } else if text == "=" {
        Tag::Value
    } else if matches!(text, "!" | "&" | "*") {
        Tag::Yaml
    } else {
        Tag::Str
    }
}

fn is_yaml11_bool(text: &str) -> bool {
    matches!(
        text,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// How many bytes of `text` a `[0-9_]*` takes.
fn digits_or_underscores(text: &str) -> usize {
    text.bytes().take_while(|&b| is_digit_or_underscore(b)).count()
}

/// `(?::[0-5]?[0-9])+` and the end of the text.
fn is_base60_tail(text: &str) -> bool {
    let Some(parts) = text.strip_prefix(':') else {
        return false;
    };
    parts.split(':').all(|part| match part.as_bytes() {
        [digit] => digit.is_ascii_digit(),
        [tens, digit] => (b'0'..=b'5').contains(tens) && digit.is_ascii_digit(),
        _ => false,
    })
}

/// `[0-9_]*(?:[eE][-+][0-9]+)?` and the end of the text.
fn is_fraction_and_exponent(text: &str) -> bool {
    let exponent = &text[digits_or_underscores(text)..];
    if exponent.is_empty() {
        return true;
    }
    exponent
        .strip_prefix(['e', 'E'])
        .and_then(|signed| signed.strip_prefix(['-', '+']))
        .is_some_and(|power| !power.is_empty() && power.bytes().all(|b| b.is_ascii_digit()))
}

/// PyYAML's float expression:
///
/// ```text
/// [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
/// | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
/// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
/// | [-+]?\.(?:inf|Inf|INF)
/// | \.(?:nan|NaN|NAN)
/// ```
fn is_yaml11_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(fraction) = text.strip_prefix('.') {
        return fraction.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && is_fraction_and_exponent(fraction);
    }
    if !unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let tail = &unsigned[digits_or_underscores(unsigned)..];
    if let Some(fraction) = tail.strip_prefix('.') {
        return is_fraction_and_exponent(fraction);
    }
    match tail.split_once('.') {
        Some((base60, fraction)) => is_base60_tail(base60) && fraction.bytes().all(is_digit_or_underscore),
        None => false,
    }
}

/// PyYAML's int expression:
///
/// ```text
/// [-+]?0b[0-1_]+
/// | [-+]?0[0-7_]+
/// | [-+]?(?:0|[1-9][0-9_]*)
/// | [-+]?0x[0-9a-fA-F_]+
/// | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
/// ```
fn is_yaml11_int(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let all = |digits: &str, ok: fn(&u8) -> bool| !digits.is_empty() && digits.as_bytes().iter().all(ok);
    if let Some(bits) = unsigned.strip_prefix("0b") {
        all(bits, |b| matches!(b, b'0' | b'1' | b'_'))
    } else if let Some(hex) = unsigned.strip_prefix("0x") {
        all(hex, |b| b.is_ascii_hexdigit() || *b == b'_')
    } else if unsigned == "0" {
        true
    } else if let Some(octal) = unsigned.strip_prefix('0') {
        all(octal, |b| matches!(b, b'0'..=b'7' | b'_'))
    } else if matches!(unsigned.as_bytes().first(), Some(b'1'..=b'9')) {
        let tail = &unsigned[digits_or_underscores(unsigned)..];
        tail.is_empty() || is_base60_tail(tail)
    } else {
        false
    }
}

// --- PyYAML's scalar constructors ---------------------------------------------------------------

/// Splits Python's `value[0]` sign off; `None` where that index raises (an empty text).
fn split_sign(value: &str) -> Option<(bool, &str)> {
    match value.chars().next()? {
        '-' => Some((true, &value[1..])),
        '+' => Some((false, &value[1..])),
        _ => Some((false, value)),
    }
}

/// PyYAML's `construct_yaml_int`: the canonical digits, or `None` where Python raises.
fn yaml_int(text: &str) -> Option<String> {
    let value = text.replace('_', "");
    let (negative, rest) = split_sign(&value)?;
    if rest.is_empty() {
        return None;
    }
    let magnitude = if rest == "0" {
        BigInt::default()
    } else if let Some(bits) = rest.strip_prefix("0b") {
        python_int_radix(bits, 2)?
    } else if let Some(hex) = rest.strip_prefix("0x") {
        python_int_radix(hex, 16)?
    } else if rest.starts_with('0') {
        python_int_radix(rest, 8)?
    } else if rest.contains(':') {
        // Base 60, most significant part first: the same integer as PyYAML's sum of
        // part * 60 ** place.
        let mut total = BigInt::default();
        for part in rest.split(':') {
            total = total.times(60).plus(BigInt::from_python_int(part)?);
        }
        total
    } else {
        BigInt::from_python_int(rest)?
    };
    Some(if negative { magnitude.negated() } else { magnitude }.to_string())
}

/// PyYAML's `construct_yaml_float`, or `None` where Python raises.
fn yaml_float(text: &str) -> Option<f64> {
    let value = text.replace('_', "").to_lowercase();
    let (negative, rest) = split_sign(&value)?;
    let magnitude = match rest {
        ".inf" => f64::INFINITY,
        ".nan" => return Some(f64::NAN),
        _ if rest.contains(':') => {
            // Python's own steps: parts as floats, least significant first, each times its
            // place value, an int that becomes a float (or overflows) when multiplied.
            let parts = rest.split(':').map(python_float).collect::<Option<Vec<_>>>()?;
            let mut place = BigInt { negative: false, limbs: vec![1] };
            let mut total = 0.0;
            for part in parts.into_iter().rev() {
                total += part * place.to_f64()?;
                place = place.times(60);
            }
            total
        }
        _ => python_float(rest)?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Python's `int(s, radix)` for a radix of 2, 8 or 16, or `None` where it raises.
fn python_int_radix(s: &str, radix: u32) -> Option<BigInt> {
    let ascii = python_ascii(s)?;
    let text = trim_python_space(&ascii);
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let prefix = match radix {
        2 => ['b', 'B'],
        8 => ['o', 'O'],
        _ => ['x', 'X'],
    };
    // The radix's own prefix may come first, then one underscore.
    let digits = match body.strip_prefix('0').and_then(|rest| rest.strip_prefix(prefix)) {
        Some(rest) => rest.strip_prefix('_').unwrap_or(rest),
        None => body,
    };
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let magnitude = BigInt::from_digits(&digits.replace('_', ""), radix)?;
    Some(if negative { magnitude.negated() } else { magnitude })
}

/// A signed integer of any size, with just the arithmetic PyYAML's integers need.
#[derive(Debug, Clone, Default, PartialEq)]
struct BigInt {
    /// Never set for zero.
    negative: bool,
    /// The magnitude in base 10^9, least significant first, without zero limbs at the end.
    limbs: Vec<u32>,
}

const LIMB: u64 = 1_000_000_000;

impl BigInt {
    /// Non-empty ASCII digits of `radix`.
    fn from_digits(digits: &str, radix: u32) -> Option<BigInt> {
        if digits.is_empty() {
            return None;
        }
        let mut value = BigInt::default();
        for c in digits.chars() {
            value.multiply_add(radix, c.to_digit(radix)?);
        }
        Some(value)
    }

    /// Python's `int(s)`.
    fn from_python_int(s: &str) -> Option<BigInt> {
        let digits = python_int(s)?;
        let (negative, magnitude) = match digits.strip_prefix('-') {
            Some(magnitude) => (true, magnitude),
            None => (false, digits.as_str()),
        };
        let value = BigInt::from_digits(magnitude, 10)?;
        Some(if negative { value.negated() } else { value })
    }

    fn multiply_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % LIMB) as u32;
            carry = product / LIMB;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }

    fn times(mut self, factor: u32) -> BigInt {
        self.multiply_add(factor, 0);
        self
    }

    fn negated(mut self) -> BigInt {
        self.negative = !self.negative && !self.limbs.is_empty();
        self
    }

    fn plus(self, other: BigInt) -> BigInt {
        if self.negative == other.negative {
            let mut limbs = Vec::with_capacity(self.limbs.len().max(other.limbs.len()) + 1);
            let mut carry = 0;
            for i in 0..self.limbs.len().max(other.limbs.len()) {
                let sum = u64::from(self.limbs.get(i).copied().unwrap_or(0))
                    + u64::from(other.limbs.get(i).copied().unwrap_or(0))
                    + carry;
                limbs.push((sum % LIMB) as u32);
                carry = sum / LIMB;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
            return BigInt { negative: self.negative, limbs };
        }
        let by_magnitude = self
            .limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()));
        let (larger, smaller) = match by_magnitude {
            std::cmp::Ordering::Equal => return BigInt::default(),
            std::cmp::Ordering::Greater => (self, other),
            std::cmp::Ordering::Less => (other, self),
        };
        let mut limbs = Vec::with_capacity(larger.limbs.len());
        let mut borrow = 0;
        for (i, &limb) in larger.limbs.iter().enumerate() {
            let subtrahend = u64::from(smaller.limbs.get(i).copied().unwrap_or(0)) + borrow;
            let (difference, next_borrow) = match u64::from(limb).checked_sub(subtrahend) {
                Some(difference) => (difference, 0),
                None => (u64::from(limb) + LIMB - subtrahend, 1),
            };
            limbs.push(difference as u32);
            borrow = next_borrow;
        }
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        BigInt { negative: larger.negative, limbs }
    }

    /// Python's `float(int)`: correctly rounded, `None` past the largest float.
    fn to_f64(&self) -> Option<f64> {
        self.to_string().parse::<f64>().ok().filter(|value| value.is_finite())
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Some((most, rest)) = self.limbs.split_last() else {
            return f.write_str("0");
        };
        if self.negative {
            f.write_str("-")?;
        }
        write!(f, "{most}")?;
        for limb in rest.iter().rev() {
            write!(f, "{limb:09}")?;
        }
        Ok(())
    }
}

/// A safe reader of libyaml's events. libyaml (here `unsafe-libyaml`, its translation to Rust,
/// which serde_yaml also uses) is the C twin of PyYAML's pure-Python parser: both accept the
/// same YAML and report the same events, with the scalar styles and tags that resolving scalars
/// as PyYAML does needs.
mod libyaml {
    use std::ffi::CStr;
    use std::fmt::Write as _;
    use std::mem::MaybeUninit;

    /// A 1-based place in the text.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Mark {
        pub(super) line: usize,
        pub(super) column: usize,
    }

    impl Mark {
        fn from_sys(mark: unsafe_libyaml::yaml_mark_t) -> Mark {
            Mark { line: mark.line as usize + 1, column: mark.column as usize + 1 }
        }
    }

    pub(super) enum Event {
        StreamStart,
        StreamEnd,
        DocumentStart,
        DocumentEnd,
        Alias(String),
        Scalar {
            anchor: Option<String>,
            tag: Option<String>,
            value: String,
            /// A plain scalar without a tag, or any scalar with the bare `!` tag: resolved from
            /// its text.
            plain_implicit: bool,
        },
        SequenceStart {
            anchor: Option<String>,
            tag: Option<String>,
        },
        SequenceEnd,
        MappingStart {
            anchor: Option<String>,
            tag: Option<String>,
        },
        MappingEnd,
    }

    /// libyaml's error, worded as serde_yaml words it.
    pub(super) struct Error {
        pub(super) message: String,
        pub(super) mark: Mark,
    }

    pub(super) struct Parser<'input> {
        /// libyaml reads this text through a raw pointer for as long as the parser lives.
        text: &'input str,
        sys: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    }

    impl<'input> Parser<'input> {
        pub(super) fn new(text: &'input str) -> Self {
            let mut sys = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
            let parser = sys.as_mut_ptr();
            // SAFETY: `parser` is valid for writes of a yaml_parser_t, which
            // yaml_parser_initialize zeroes and sets up; unsafe-libyaml aborts rather than fail
            // to allocate, so it succeeds. The input is `text`, which outlives the parser.
            unsafe {
                assert!(
                    unsafe_libyaml::yaml_parser_initialize(parser).ok,
                    "libyaml could not set up a parser"
                );
                unsafe_libyaml::yaml_parser_set_encoding(parser, unsafe_libyaml::YAML_UTF8_ENCODING);
                unsafe_libyaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
            }
            Parser { text, sys }
        }

        /// The next event and where it starts. After an error or the stream's end there is
        /// nothing more to read.
        pub(super) fn next_event(&mut self) -> Result<(Event, Mark), Error> {
            let parser = self.sys.as_mut_ptr();
            let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
            // SAFETY: the parser was set up in `new` and its input is alive. When
            // yaml_parser_parse succeeds it has written an event, which is read by its type,
            // copied out and then freed exactly once.
            unsafe {
                if (&*parser).error != unsafe_libyaml::YAML_NO_ERROR
                    || unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail
                {
                    return Err(self.error());
                }
                let event = event.as_mut_ptr();
                let converted = convert(&*event);
                let mark = Mark::from_sys((*event).start_mark);
                unsafe_libyaml::yaml_event_delete(event);
                Ok((converted, mark))
            }
        }

        fn error(&self) -> Error {
            // SAFETY: the parser was set up in `new`; `problem` and `context` are null or
            // point to static NUL-terminated messages.
            let parser = unsafe { &*self.sys.as_ptr() };
            let problem = unsafe { owned(parser.problem.cast()) }
                .unwrap_or_else(|| "the YAML parser failed without saying why".to_owned());
            let context = unsafe { owned(parser.context.cast()) };
            // A reader error (a character YAML does not allow) only knows its byte offset.
            let mark = if parser.error == unsafe_libyaml::YAML_READER_ERROR {
                self.mark_at(parser.problem_offset as usize)
            } else {
                Mark::from_sys(parser.problem_mark)
            };
            let mut message = format!("{problem} at line {} column {}", mark.line, mark.column);
            if let Some(context) = context {
                let _ = write!(message, ", {context}");
                let context_mark = Mark::from_sys(parser.context_mark);
                if (context_mark.line, context_mark.column) != (mark.line, mark.column) {
                    let _ = write!(message, " at line {} column {}", context_mark.line, context_mark.column);
                }
            }
            Error { message, mark }
        }

        fn mark_at(&self, offset: usize) -> Mark {
            let before = self.text.get(..offset).unwrap_or(self.text);
            let line_start = before.rfind('\n').map_or(0, |at| at + 1);
            Mark { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
        }
    }

    impl Drop for Parser<'_> {
        fn drop(&mut self) {
            // SAFETY: the parser was set up in `new` and is deleted only here.
            unsafe { unsafe_libyaml::yaml_parser_delete(self.sys.as_mut_ptr()) }
        }
    }

    /// # Safety
    ///
    /// `text` is null or a NUL-terminated string.
    unsafe fn owned(text: *const std::ffi::c_char) -> Option<String> {
        // SAFETY: as the caller promises.
        (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned())
    }

    /// # Safety
    ///
    /// `event` was written by a successful yaml_parser_parse.
    unsafe fn convert(event: &unsafe_libyaml::yaml_event_t) -> Event {
        // SAFETY: the union field read is the one the event's type says is set, and its
        // pointers are null or valid as libyaml documents them.
        unsafe {
            match event.type_ {
                unsafe_libyaml::YAML_STREAM_START_EVENT => Event::StreamStart,
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                unsafe_libyaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                unsafe_libyaml::YAML_ALIAS_EVENT => {
                    Event::Alias(owned(event.data.alias.anchor.cast()).unwrap_or_default())
                }
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let scalar = event.data.scalar;
                    let bytes = if scalar.value.is_null() || scalar.length == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(scalar.value, scalar.length as usize)
                    };
                    Event::Scalar {
                        anchor: owned(scalar.anchor.cast()),
                        tag: owned(scalar.tag.cast()),
                        value: String::from_utf8_lossy(bytes).into_owned(),
                        plain_implicit: scalar.plain_implicit,
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                    anchor: owned(event.data.sequence_start.anchor.cast()),
                    tag: owned(event.data.sequence_start.tag.cast()),
                },
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                unsafe_libyaml::YAML_MAPPING_START_EVENT => Event::MappingStart {
                    anchor: owned(event.data.mapping_start.anchor.cast()),
                    tag: owned(event.data.mapping_start.tag.cast()),
                },
                unsafe_libyaml::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                // YAML_STREAM_END_EVENT, and YAML_NO_EVENT once the stream has ended.
                _ => Event::StreamEnd,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// serde
// ---------------------------------------------------------------------------------------------

fn serialize_float<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(value)
    } else if value.is_nan() {
        serializer.serialize_str("nan")
    } else if value > 0.0 {
        serializer.serialize_str("inf")
    } else {
        serializer.serialize_str("-inf")
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::None => serializer.serialize_unit(),
            ParamValue::Bool(b) => serializer.serialize_bool(*b),
            ParamValue::Int(digits) => {
                if let Ok(small) = digits.parse::<i64>() {
                    serializer.serialize_i64(small)
                } else if let Ok(large) = digits.parse::<u64>() {
                    serializer.serialize_u64(large)
                } else {
                    serialize_float(digits.parse::<f64>().unwrap_or(f64::NAN), serializer)
                }
            }
            ParamValue::Float(f) => serialize_float(*f, serializer),
            ParamValue::Str(s) => serializer.serialize_str(s),
            ParamValue::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            ParamValue::Dict(entries) => serialize_entries(entries, serializer),
        }
    }
}

fn serialize_entries<S: Serializer>(
    entries: &[(String, ParamValue)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(entries.len()))?;
    for (key, value) in entries {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Serialize for Parameters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_entries(&self.entries, serializer)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, a boolean, a number, a string, a list or a map")
    }

    fn visit_unit<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_none<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParamValue, D::Error> {
        ParamValue::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
        Ok(ParamValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
        Ok(ParamValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
        Ok(ParamValue::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
        Ok(ParamValue::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(ParamValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ParamValue, A::Error> {
        visit_entries(map).map(ParamValue::Dict)
    }
}

fn visit_entries<'de, A: MapAccess<'de>>(mut map: A) -> Result<Vec<(String, ParamValue)>, A::Error> {
    let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
    while let Some((key, value)) = map.next_entry::<String, ParamValue>()? {
        insert_entry(&mut entries, key, value);
    }
    Ok(entries)
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ParametersVisitor;

impl<'de> Visitor<'de> for ParametersVisitor {
    type Value = Parameters;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of parameter names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Parameters, A::Error> {
        visit_entries(map).map(|entries| Parameters { entries })
    }
}

impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ParametersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(digits: &str) -> ParamValue {
        ParamValue::Int(digits.to_owned())
    }

    fn float(value: f64) -> ParamValue {
        ParamValue::Float(value)
    }

    fn string(value: &str) -> ParamValue {
        ParamValue::Str(value.to_owned())
    }

    fn dict(entries: &[(&str, ParamValue)]) -> ParamValue {
        ParamValue::Dict(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    // --- Parameters -------------------------------------------------------------------------

    #[test]
    fn insert_replaces_in_place_like_a_python_dict() {
        let mut params = Parameters::new();
        assert_eq!(params.insert("x", int("1")), None);
        params.insert("y", int("2"));
        assert_eq!(params.insert("x", int("3")), Some(int("1")));
        let order: Vec<_> = params.iter().map(|(k, v)| (k, v.clone())).collect();
        assert_eq!(order, vec![("x", int("3")), ("y", int("2"))]);
        assert_eq!(params.len(), 2);
        assert!(!params.is_empty());
        assert!(Parameters::default().is_empty());
        assert_eq!(params.get("y"), Some(&int("2")));
        assert_eq!(params.get("z"), None);
    }

    #[test]
    fn extend_is_dict_update() {
        let mut base: Parameters = [("a", int("1")), ("b", int("2"))].into_iter().collect();
        let over: Parameters = [("c", int("3")), ("a", int("9"))].into_iter().collect();
        base.extend(over);
        let names: Vec<_> = base.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(base.get("a"), Some(&int("9")));
    }

    // --- infer_cli_value ------------------------------------------------------------------

    #[test]
    fn python_constants_are_exact_spellings() {
        assert_eq!(infer_cli_value("True"), ParamValue::Bool(true));
        assert_eq!(infer_cli_value("False"), ParamValue::Bool(false));
        assert_eq!(infer_cli_value("None"), ParamValue::None);
        assert_eq!(infer_cli_value("true"), string("true"));
        assert_eq!(infer_cli_value("none"), string("none"));
        assert_eq!(infer_cli_value(" True"), string(" True"));
    }

    #[test]
    fn ints_follow_python_int() {
        let cases = [
            ("0", "0"),
            ("42", "42"),
            ("-7", "-7"),
            ("+7", "7"),
            ("-0", "0"),
            ("007", "7"),
            ("0_0", "0"),
            ("1_000", "1000"),
            ("1_000_000", "1000000"),
            ("  5  ", "5"),
            ("\t\n1\r\n", "1"),
            ("\x0b3\x0c", "3"),
            ("\u{a0}5\u{3000}", "5"),
            ("١٢", "12"),
            ("١_٢", "12"),
            ("１２３", "123"),
            (
                "123456789012345678901234567890123456789012345",
                "123456789012345678901234567890123456789012345",
            ),
            ("-000123456789012345678901234567890", "-123456789012345678901234567890"),
        ];
        for (input, digits) in cases {
            assert_eq!(infer_cli_value(input), int(digits), "input {input:?}");
        }
    }

    #[test]
    fn not_ints_by_python_rules() {
        // Each of these fails int(); some are floats, the rest stay strings.
        for input in ["_1", "1_", "1__0", "+_1", "- 1", "1 2", "0x10", "1e5", "5²", "\x1c5"] {
            assert!(!matches!(infer_cli_value(input), ParamValue::Int(_)), "{input:?} must not be an int");
        }
    }

    #[test]
    fn floats_follow_python_float() {
        let cases = [
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("+.5", 0.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e5", 1e5),
            ("1E+5", 1e5),
            ("1.e-3", 1e-3),
            ("1_0.5", 10.5),
            ("0.000_1", 0.0001),
            ("1e1_0", 1e10),
            (" 2.5\n", 2.5),
            ("١.٥", 1.5),
            ("1e400", f64::INFINITY),
            ("inf", f64::INFINITY),
            ("+inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("INFINITY", f64::INFINITY),
        ];
        for (input, expected) in cases {
            assert_eq!(infer_cli_value(input), float(expected), "input {input:?}");
        }
        for nan in ["nan", "NaN", "-nan", "nAn", " nan "] {
            match infer_cli_value(nan) {
                ParamValue::Float(f) => assert!(f.is_nan(), "{nan:?}"),
                other => panic!("{nan:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn everything_else_stays_the_same_string() {
        for input in [
            "",
            " ",
            "hello",
            "1._5",
            "1_.5",
            "1_e5",
            "1e5_",
            "1e_1",
            "1e+_1",
            "1e",
            "e5",
            ".",
            "in_f",
            "infinity_",
            "infinit",
            "nan(1)",
            "0x10",
            "1j",
            "1,000",
            "1.2.3",
            "5²",
            "\x1c5",
            "- 1",
            "'5'",
            "[1, 2]",
            "{\"a\": 1}",
        ] {
            assert_eq!(infer_cli_value(input), string(input), "input {input:?}");
        }
    }

    // --- JSON -----------------------------------------------------------------------------

    #[test]
    fn json_round_trips_in_order() {
        let json = r#"{"z":1,"a":[true,null,"s",2.5,-3],"m":{"y":1,"b":{"k":[]}}}"#;
        let params: Parameters = serde_json::from_str(json).unwrap();
        assert_eq!(params.get("z"), Some(&int("1")));
        assert_eq!(
            params.get("a"),
            Some(&ParamValue::List(vec![
                ParamValue::Bool(true),
                ParamValue::None,
                string("s"),
                float(2.5),
                int("-3"),
            ]))
        );
        assert_eq!(serde_json::to_string(&params).unwrap(), json);
    }

    #[test]
    fn json_integers_and_floats_stay_apart() {
        let value: ParamValue = serde_json::from_str("1").unwrap();
        assert_eq!(value, int("1"));
        let value: ParamValue = serde_json::from_str("1.0").unwrap();
        assert_eq!(value, float(1.0));
        let value: ParamValue = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(value, int("18446744073709551615"));
        assert_eq!(serde_json::to_string(&float(1.0)).unwrap(), "1.0");
    }

    #[test]
    fn json_documented_lossy_corners() {
        let huge = int("123456789012345678901234567890");
        assert_eq!(serde_json::to_string(&huge).unwrap(), "1.2345678901234568e+29");
        assert_eq!(serde_json::to_string(&float(f64::NAN)).unwrap(), "\"nan\"");
        assert_eq!(serde_json::to_string(&float(f64::INFINITY)).unwrap(), "\"inf\"");
        assert_eq!(serde_json::to_string(&float(f64::NEG_INFINITY)).unwrap(), "\"-inf\"");
        let back: ParamValue = serde_json::from_str("\"nan\"").unwrap();
        assert_eq!(back, string("nan"));
    }

    #[test]
    fn json_duplicate_keys_keep_the_last_value_in_the_first_place() {
        let params: Parameters = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let order: Vec<_> = params.into_iter().collect();
        assert_eq!(order, vec![("a".to_owned(), int("3")), ("b".to_owned(), int("2"))]);
    }

    #[test]
    fn json_parameters_must_be_an_object() {
        assert!(serde_json::from_str::<Parameters>("[1]").is_err());
    }

    // --- YAML -----------------------------------------------------------------------------

    #[test]
    fn yaml_scalars_map_to_their_types() {
        let params = parse_yaml(
            "i: 1\nneg: -12\nf: 0.5\ne: 1e5\nb: true\nn: null\ntilde: ~\ns: hello\n\
             q: '1'\nnan: .nan\ninf: .inf\nninf: -.inf\nempty:\nsigned: 1.0e+5\n",
        )
        .unwrap();
        assert_eq!(params.get("i"), Some(&int("1")));
        assert_eq!(params.get("neg"), Some(&int("-12")));
        assert_eq!(params.get("f"), Some(&float(0.5)));
        // YAML 1.1, as PyYAML reads it: a float needs a dot, and a sign before its exponent.
        assert_eq!(params.get("e"), Some(&string("1e5")));
        assert_eq!(params.get("signed"), Some(&float(1e5)));
        assert_eq!(params.get("b"), Some(&ParamValue::Bool(true)));
        assert_eq!(params.get("n"), Some(&ParamValue::None));
        assert_eq!(params.get("tilde"), Some(&ParamValue::None));
        assert_eq!(params.get("s"), Some(&string("hello")));
        assert_eq!(params.get("q"), Some(&string("1")));
        assert!(matches!(params.get("nan"), Some(ParamValue::Float(f)) if f.is_nan()));
        assert_eq!(params.get("inf"), Some(&float(f64::INFINITY)));
        assert_eq!(params.get("ninf"), Some(&float(f64::NEG_INFINITY)));
        assert_eq!(params.get("empty"), Some(&ParamValue::None));
    }

    #[test]
    fn yaml_keeps_huge_integers_exact() {
        let params = parse_yaml(
            "big: 123456789012345678901234567890123456789012345\n\
             neg: -123456789012345678901234567890123456789012345\n\
             i128: 170141183460469231731687303715884105727\n\
             forced: !!float 1\n\
             nested: [99999999999999999999999999999999999999999999]",
        )
        .unwrap();
        assert_eq!(params.get("big"), Some(&int("123456789012345678901234567890123456789012345")));
        assert_eq!(params.get("neg"), Some(&int("-123456789012345678901234567890123456789012345")));
        assert_eq!(params.get("i128"), Some(&int("170141183460469231731687303715884105727")));
        assert_eq!(params.get("forced"), Some(&float(1.0)));
        assert_eq!(
            params.get("nested"),
            Some(&ParamValue::List(vec![int("99999999999999999999999999999999999999999999")]))
        );
    }

    #[test]
    fn yaml_collections_keep_order() {
        let params =
            parse_yaml("zeta: [1, two, {x: 3}]\nalpha:\n  b: 1\n  a:\n    - 2.5\n    - null\n").unwrap();
        let names: Vec<_> = params.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(
            params.get("zeta"),
            Some(&ParamValue::List(vec![int("1"), string("two"), dict(&[("x", int("3"))])]))
        );
        assert_eq!(
            params.get("alpha"),
            Some(&dict(&[("b", int("1")), ("a", ParamValue::List(vec![float(2.5), ParamValue::None]))]))
        );
    }

    #[test]
    fn yaml_empty_documents_give_no_parameters() {
        for text in ["", "\n", "# only a comment\n", "null", "~", "---\n"] {
            assert!(parse_yaml(text).unwrap().is_empty(), "{text:?}");
        }
    }

    #[test]
    fn yaml_anchors_and_merge_keys_work_like_pyyaml() {
        let params = parse_yaml(
            "base: &base {a: 1, b: 2}\n\
             other: &other {b: 20, c: 30}\n\
             one: {<<: *base, b: 3}\n\
             many: {<<: [*base, *other], d: 4}\n\
             copy: *base\n",
        )
        .unwrap();
        assert_eq!(params.get("one"), Some(&dict(&[("a", int("1")), ("b", int("3"))])));
        // PyYAML 6.0.4: {'a': 1, 'b': 2, 'c': 30, 'd': 4}
        assert_eq!(
            params.get("many"),
            Some(&dict(&[("a", int("1")), ("b", int("2")), ("c", int("30")), ("d", int("4"))]))
        );
        // PyYAML drops a merged key only when it is the same string object as an earlier one,
        // which one-character keys are (CPython caches them) and longer ones are not, so there
        // the later mapping's value wins: {'aa': 1, 'bb': 20, 'cc': 30}.
        let params = parse_yaml("x: &x {aa: 1, bb: 2}\ny: &y {bb: 20, cc: 30}\nm: {<<: [*x, *y]}").unwrap();
        assert_eq!(params.get("m"), Some(&dict(&[("aa", int("1")), ("bb", int("20")), ("cc", int("30"))])));
        assert_eq!(params.get("copy"), params.get("base"));
        let err = parse_yaml("m: {<<: 5}").unwrap_err();
        assert!(matches!(err, ParamError::BadMerge { ref path } if path == "m"));
    }

    #[test]
    fn yaml_that_is_not_a_mapping_says_what_it_got() {
        let err = parse_yaml("- 1\n- 2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameters YAML must be a mapping of names to values, like \"alpha: 0.5\", got a list"
        );
        let err = parse_yaml("alpha=0.5").unwrap_err().to_string();
        assert!(
            err.ends_with("got the string \"alpha=0.5\" (YAML uses \"name: value\", not \"name=value\")"),
            "{err}"
        );
        let err = parse_yaml("alpha:0.5").unwrap_err().to_string();
        assert!(err.contains("YAML needs a space after the colon"), "{err}");
        let err = parse_yaml("42").unwrap_err().to_string();
        assert!(err.ends_with("got the number 42"), "{err}");
    }

    #[test]
    fn yaml_syntax_errors_carry_line_and_column() {
        let err = parse_yaml("a: 1\nb: [1,\n  c: 2\n").unwrap_err();
        let ParamError::YamlSyntax { line, column, .. } = &err else {
            panic!("expected a syntax error, got {err:?}");
        };
        assert!(line.is_some() && column.is_some());
        let text = err.to_string();
        assert!(text.starts_with("parameters YAML is not valid YAML: "), "{text}");
        assert!(text.contains("line "), "{text}");
        assert!(text.contains("column "), "{text}");
    }

    #[test]
    fn yaml_keys_must_be_strings_everywhere() {
        let err = parse_yaml("1: a").unwrap_err();
        assert!(
            matches!(&err, ParamError::NonStringKey { key, path } if key == "1" && path == "the top level")
        );
        assert!(err.to_string().contains("quote it"), "{err}");
        let err = parse_yaml("cfg:\n  limits:\n    true: 1").unwrap_err();
        assert!(
            matches!(&err, ParamError::NonStringKey { key, path } if key == "true" && path == "cfg.limits")
        );
        let err = parse_yaml("cfg: [{1: a}]").unwrap_err();
        assert!(matches!(&err, ParamError::NonStringKey { path, .. } if path == "cfg[0]"));
    }

    #[test]
    fn yaml_custom_tags_are_rejected_standard_ones_resolve() {
        let err = parse_yaml("password: !secret abc").unwrap_err();
        assert!(
            matches!(&err, ParamError::UnsupportedTag { tag, path } if tag == "!secret" && path == "password")
        );
        let params = parse_yaml("s: !!str 1").unwrap();
        assert_eq!(params.get("s"), Some(&string("1")));
    }

    #[test]
    fn yaml_repeated_names_keep_the_last_value_like_pyyaml() {
        let params = parse_yaml("a: 1\nb: [x]\na: [2]\nb: 3").unwrap();
        let order: Vec<_> = params.into_iter().collect();
        assert_eq!(
            order,
            vec![("a".to_owned(), ParamValue::List(vec![int("2")])), ("b".to_owned(), int("3"))]
        );
    }

    #[test]
    fn yaml_plain_scalars_resolve_like_pyyaml() {
        let cases = [
            ("yes", ParamValue::Bool(true)),
            ("off", ParamValue::Bool(false)),
            ("ON", ParamValue::Bool(true)),
            ("1e3", string("1e3")),
            ("0o17", string("0o17")),
            ("017", int("15")),
            ("1_000", int("1000")),
            ("1:30", int("90")),
            ("-.5", string("-.5")),
            (".5", float(0.5)),
            ("0b1010", int("10")),
            ("-0x1F", int("-31")),
            ("190:20:30", int("685230")),
            ("1:30.5", float(90.5)),
            ("1_0.5", float(10.5)),
            ("2001-12-14", string("2001-12-14")),
            ("Null", ParamValue::None),
            ("0x123456789abcdef0123456789abcdef", int("1512366075204170929049582354406559215")),
        ];
        for (text, expected) in cases {
            let params = parse_yaml(&format!("v: {text}")).unwrap();
            assert_eq!(params.get("v"), Some(&expected), "plain {text}");
            let params = parse_yaml(&format!("v: '{text}'")).unwrap();
            assert_eq!(params.get("v"), Some(&string(text)), "quoted {text}");
        }
    }

    #[test]
    fn yaml_tags_convert_like_pyyaml_constructors() {
        let params = parse_yaml(
            "a: !!int '017'\nb: !!str yes\nc: !!float 1\nd: !!bool YES\ne: !!null x\nf: ! '12'\n\
             g: !<tag:yaml.org,2002:int> 0x10\nh: '<<'\ni: {'<<': {x: 1}}",
        )
        .unwrap();
        assert_eq!(params.get("a"), Some(&int("15")));
        assert_eq!(params.get("b"), Some(&string("yes")));
        assert_eq!(params.get("c"), Some(&float(1.0)));
        assert_eq!(params.get("d"), Some(&ParamValue::Bool(true)));
        assert_eq!(params.get("e"), Some(&ParamValue::None));
        // The bare `!` tag resolves even a quoted scalar, as PyYAML does.
        assert_eq!(params.get("f"), Some(&int("12")));
        assert_eq!(params.get("g"), Some(&int("16")));
        assert_eq!(params.get("h"), Some(&string("<<")));
        assert_eq!(params.get("i"), Some(&dict(&[("<<", dict(&[("x", int("1"))]))])));
    }

    #[test]
    fn yaml_values_that_cannot_be_read_say_where() {
        let err = parse_yaml("cfg:\n  n: !!int abc").unwrap_err();
        assert!(
            matches!(&err, ParamError::BadValue { path, line: 2, column: 6, .. } if path == "cfg.n"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "parameters YAML value at cfg.n (line 2, column 6) \"abc\" cannot be read as an integer"
        );
        let err = parse_yaml("n: 0x_").unwrap_err().to_string();
        assert!(err.contains("makes this plain scalar an integer, so quote it"), "{err}");
        let err = parse_yaml("s: !!str [1]").unwrap_err().to_string();
        assert!(err.ends_with("is a list, which its tag !!str does not fit"), "{err}");
        let err = parse_yaml("s: <<").unwrap_err().to_string();
        assert!(err.contains("quote it"), "{err}");
        for text in ["b: !!binary aGk=", "t: !!timestamp 2020-01-01", "s: !!set {x}", "o: !!omap [x: 1]"] {
            assert!(matches!(parse_yaml(text), Err(ParamError::UnsupportedTag { .. })), "{text}");
        }
    }

    #[test]
    fn yaml_documents_papermill_refuses_are_refused() {
        for (text, needle) in [
            ("a: 1\n---\nb: 2", "expected a single document"),
            ("a: &x 1\nb: &x 2", "found duplicate anchor \"x\""),
            ("a: *x", "found undefined alias \"x\""),
            ("a: &x [*x]", "inside the collection it names"),
            ("a: \u{7}", "line 1 column 4"),
        ] {
            let err = parse_yaml(text).unwrap_err();
            assert!(matches!(err, ParamError::YamlSyntax { line: Some(_), column: Some(_), .. }), "{err:?}");
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
        }
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_yaml(&deep).unwrap_err().to_string().contains("nest deeper than 128"));
        let mut bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
        for level in 1..12 {
            let name = char::from(b'a' + level);
            let previous = char::from(b'a' + level - 1);
            bomb.push_str(&format!("{name}: &{name} [{}]\n", vec![format!("*{previous}"); 10].join(", ")));
        }
        assert!(parse_yaml(&bomb).unwrap_err().to_string().contains("too large"));
    }

    /// Encodes a value as the conformance script encodes a Python one.
    fn conformance_encoding(value: &ParamValue) -> serde_json::Value {
        use serde_json::json;
        match value {
            ParamValue::None => json!(["none"]),
            ParamValue::Bool(b) => json!(["bool", b]),
            ParamValue::Int(digits) => json!(["int", digits]),
            ParamValue::Float(f) if f.is_nan() => json!(["float", "nan"]),
            ParamValue::Float(f) => json!(["float", f.to_bits().to_string()]),
            ParamValue::Str(s) => json!(["str", s]),
            ParamValue::List(items) => {
                json!(["list", items.iter().map(conformance_encoding).collect::<Vec<_>>()])
            }
            ParamValue::Dict(entries) => json!([
                "dict",
                entries.iter().map(|(k, v)| json!([k, conformance_encoding(v)])).collect::<Vec<_>>()
            ]),
        }
    }

    /// The YAML documents that [`yaml_agrees_with_papermill`] loads both ways.
    fn conformance_documents() -> Vec<String> {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        // Plain scalars: every resolver's cases and near misses.
        const PLAIN: &[&str] = &[
            // booleans
            "yes",
            "Yes",
            "YES",
            "no",
            "No",
            "NO",
            "true",
            "True",
            "TRUE",
            "false",
            "False",
            "FALSE",
            "on",
            "On",
            "ON",
            "off",
            "Off",
            "OFF",
            "yEs",
            "tRUE",
            "oN",
            "nO",
            "y",
            "Y",
            "n",
            "N",
            "yes!",
            // nulls
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "none",
            "None",
            "~~",
            // integers
            "0",
            "-0",
            "+0",
            "1",
            "-1",
            "+1",
            "42",
            "017",
            "-017",
            "+017",
            "0o17",
            "0_",
            "00",
            "08",
            "09",
            "0_7",
            "07_7",
            "1_000",
            "-1_000",
            "1__0",
            "1_",
            "_1",
            "0b101",
            "-0b101",
            "+0b1_0",
            "0b_1",
            "0b_",
            "0b",
            "0b2",
            "0B1",
            "0x1F",
            "0x1f",
            "-0x1F",
            "+0x_1F",
            "0X1F",
            "0x_",
            "0x",
            "0xg",
            "1:30",
            "-1:30",
            "+1:30",
            "1:30:15",
            "1:60",
            "1:5",
            "1:05",
            "0:30",
            "190:20:30",
            "1_0:30",
            "1:3:5",
            "1:",
            "1::30",
            "1:30:",
            "12345678901234567890123456789012345678901234567890",
            "-98765432109876543210987654321098765432109876543210",
            "0x123456789abcdef0123456789ABCDEF",
            "0b10101010101010101010101010101010101010101010101010101010101010101010101010101010101",
            "0777777777777777777777777777777777",
            "99999999999999999999:59",
            "1:2:3:4:5:6:7:8:9:10:11:12",
            // floats
            "1.0",
            "-1.0",
            "+1.0",
            "1.",
            "-1.",
            ".5",
            "-.5",
            "+.5",
            "0.1",
            "1e3",
            "1E3",
            "1e+3",
            "-1e+3",
            "1.0e+3",
            "1.0e3",
            "1.0E-3",
            "1.5e3",
            "1.e+3",
            ".5e+3",
            ".5e3",
            "-.5e+3",
            "1_0.5",
            "1.5_5",
            "1._",
            "1.__",
            "1_.5",
            "1.5e+3_",
            "1.5e+0_3",
            "10.5e-10",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".INF",
            ".iNf",
            "-.Inf",
            ".nan",
            ".NaN",
            ".NAN",
            "-.nan",
            "+.nan",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "infinity",
            "1:30.5",
            "-1:30.5",
            "0:30.5",
            "1:30.",
            "190:20:30.15",
            "1:60.5",
            "1:5.5",
            "1.0e+400",
            "-1.0e+400",
            "1.7976931348623157e+308",
            "4.9e-324",
            "2.5e-324",
            "0.0",
            "-0.0",
            "1e400",
            "123456789012345678901234567890.5",
            "0.30000000000000004",
            "3.141592653589793238462643383279",
            "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15.5",
            "._5",
            ".",
            "..",
            "1.2.3",
            "0.0.0",
            "1e",
            "e1",
            "1_000.0_1",
            "0x1.8p1",
            "0.5.",
            "5:",
            ":5",
            "1.5:30",
            // timestamps stay strings under papermill's loader, and other strings
            "2001-12-14",
            "2002-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43Z",
            "12:30:00",
            "hello",
            "hello world",
            "1,000",
            "1-2",
            "--1",
            "+-1",
            "++1",
            "+",
            "١٢",
            "１２",
            "1 2",
            "True1",
            "x:y",
            "a=b",
            "1#2",
            "<<<",
            "==",
            "~null",
            "-",
            "-1-",
        ];
        // Scalars quoted both ways and as block scalars: always strings.
        const QUOTED: &[&str] = &[
            "yes", "off", "1", "017", "1_000", "1:30", "1e3", "-.5", "~", "null", "", "1.0", ".inf", "0x1F",
            "<<", "=",
        ];
        let mut docs: Vec<String> = Vec::new();
        for text in PLAIN {
            docs.push(format!("v: {text}"));
        }
        for text in PLAIN.iter().step_by(3) {
            docs.push(format!("v: [{text}, x]\nw:\n  - {text}\n  - k: {text}\n"));
        }
        for text in QUOTED {
            docs.push(format!("v: '{text}'"));
            docs.push(format!("v: \"{text}\""));
            docs.push(format!("v: [a, '{text}', \"{text}\"]"));
            docs.push(format!("v: |-\n  {text}\n"));
            docs.push(format!("v: >\n  {text}\n"));
        }
        docs.extend(
            [
                // keys
                "yes: 1",
                "1: a",
                "~: a",
                "'1': a",
                "\"yes\": 1",
                "=: 1",
                "<<: {a: 1}",
                "\"<<\": {a: 1}",
                "'<<': 1",
                "1:30: x",
                "? [a]\n: 1",
                "? {a: 1}\n: 2",
                "null: 1",
                ": 1",
                "Yes: 1",
                "0x1F: a",
                "1.5: a",
                ".inf: a",
                "2001-12-14: a",
                "a: {on: 1}",
                "a: [{1: x}]",
                "? |\n  block\n: 1",
                // explicit tags
                "v: !!int 017",
                "v: !!int '017'",
                "v: !!int \"0x1F\"",
                "v: !!int 0o17",
                "v: !!int 1_000",
                "v: !!int ' 12 '",
                "v: !!int 1:30",
                "v: !!int abc",
                "v: !!int 1.5",
                "v: !!int ''",
                "v: !!int -",
                "v: !!int 0x0x1f",
                "v: !!int '1:-30'",
                "v: !!int ١٢",
                "v: !!int 0b",
                "v: !!int '+0b11'",
                "v: !!int 1e3",
                "v: !!float 1",
                "v: !!float 1e3",
                "v: !!float inf",
                "v: !!float '-Infinity'",
                "v: !!float nan",
                "v: !!float 1:30",
                "v: !!float abc",
                "v: !!float ''",
                "v: !!float ' 2.5 '",
                "v: !!float 1_0",
                "v: !!bool yes",
                "v: !!bool TrUe",
                "v: !!bool 1",
                "v: !!bool ''",
                "v: !!null x",
                "v: !!null ''",
                "v: !!str 1",
                "v: !!str yes",
                "v: !!str ~",
                "v: !!str [1]",
                "v: !!seq [1]",
                "v: !!map {b: 1}",
                "v: !!seq x",
                "v: !!map x",
                "v: !!int [1]",
                "v: !!binary aGk=",
                "v: !!timestamp 2020-01-01",
                "v: !!set {x}",
                "v: !!omap [b: 1]",
                "v: !!pairs [b: 1]",
                "v: !secret x",
                "v: !secret {a: 1}",
                "v: ! 12",
                "v: ! '12'",
                "v: ! \"yes\"",
                "v: ! '!'",
                "v: ! ''",
                "v: ! |\n  12\n",
                "v: ! |\n  yes\n",
                "v: ! |\n  1.5\n",
                "v: ! \"\\n\"",
                "v: ! |+\n  12\n\n",
                "v: ! [1, '2']",
                "v: !<tag:yaml.org,2002:int> \"5\"",
                "v: !!python/none x",
                "v: !!merge x",
                "v: !!value x",
                "v: <<",
                "v: =",
                "v: [<<]",
                "%TAG !e! tag:yaml.org,2002:\n---\nv: !e!int '7'",
                // nesting
                "a: [1, yes, '1', {b: off, c: [0x1F, ~]}]\nb:\n  c:\n    - 017\n    - d: 1:30\n",
                "a: {b: {c: {d: [1_000, '1_000', .5, -.5]}}}",
                "a:\n- 1\n- - 2\n  - [3, ~]\n",
                "a: 1\n  2",
                "a: yes\n  no",
                "a: 1\n\n  2",
                "a: 1 # c",
                "a: 1#c",
                "a: yes\r\nb: 017\r\n",
                "\u{feff}a: yes",
                "a: [\n1,\n2\n]",
                "a: |\n  x",
                "a: {\nb: on\n}",
                // merges
                "base: &base {a: 1, b: 2}\nother: &other {b: 20, c: 30}\none: {<<: *base, b: 3}\n\
                 many: {<<: [*base, *other], d: 4}\ncopy: *base",
                "x: &x {aa: 1, bb: 2}\ny: &y {bb: 20, cc: 30}\nm: {<<: [*x, *y], dd: 4}",
                "x: &x {é: 1, ā: 2, '': 3}\ny: &y {é: 10, ā: 20, '': 30}\nm: {<<: [*x, *y]}",
                "m: {<<: {a: 1, a: 2}, <<: {a: 3}}",
                "m: {<<: {aa: 1, aa: 2}}",
                "k: &k key\nx: &x {*k : 1}\ny: &y {*k : 2}\nm: {<<: [*x, *y]}",
                "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}",
                "m: {<<: 5}",
                "m: {<<: [{a: 1}, 5]}",
                "m: {<<: []}",
                "m: {<<: ~}",
                "<<: &d {a: 1}\nb: 2",
                "m: {=: 1, <<: {=: 2}}",
                // anchors
                "a: &x 1\nb: *x",
                "a: &x yes\nb: *x",
                "a: &x [1, '2']\nb: *x",
                "a: *x",
                "a: &x 1\nb: &x 2",
                "a: &x [*x]",
                "a: &x {b: *x}",
                // documents
                "",
                "\n",
                "# c",
                "null",
                "~",
                "---\n",
                "...\n",
                "a: 1\n---\nb: 2",
                "--- a",
                "a: 1\n...\n",
                "%YAML 1.1\n---\na: yes",
                "- 1",
                "42",
                "yes",
                "'x'",
                "[]",
                "{}",
                "false",
                "0",
                "--- {a: 017}",
                // syntax errors
                "a: b: c",
                "a: [1, 2",
                "a:\n\tb: 1",
                "a: 'x",
                "a: \"\\q\"",
                "a: @x",
                "a: \u{7}",
                "{a: 1}}",
                "a: x\u{2028}y",
            ]
            .map(str::to_owned),
        );
        // Random number-like scalars.
        let piece = prop::sample::select(vec![
            "0", "1", "5", "7", "8", "9", "60", "_", ".", ":", "e", "E", "+", "-", "x", "b", "o", "0x", "0b",
            "inf", "nan", "Inf", "NaN", "yes", "No", "on", "~", "null", "f", "1_0", ".5", "e+1", "e-",
        ]);
        let strategy = prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat());
        let mut runner = TestRunner::deterministic();
        for _ in 0..1500 {
            docs.push(format!("v: {}", strategy.new_tree(&mut runner).unwrap().current()));
        }
        docs
    }

    /// Hundreds of YAML documents loaded by papermill's own loader (PyYAML's SafeLoader less the
    /// timestamp resolver) in the venv, in one Python process: each must give the same value, or
    /// fail in both.
    #[test]
    fn yaml_agrees_with_papermill() {
        use std::io::Write;
        use std::process::{Command, Stdio};

        // libyaml, like YAML 1.2, lets a tab separate tokens where PyYAML's scanner takes only
        // spaces (serde_yaml, also libyaml, did too): nbw reads these, papermill refuses them.
        const MORE_LENIENT: &[&str] = &["a: 1\t", "a: [1,\t2]", "a: 1\t# c"];
        let docs: Vec<String> =
            MORE_LENIENT.iter().map(|doc| (*doc).to_owned()).chain(conformance_documents()).collect();
        assert!(docs.len() > 200);
        let script = r#"
import json, math, struct, sys
import yaml
try:
    from papermill.cli import NoDatesSafeLoader
except ImportError:
    class NoDatesSafeLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = {
            k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp']
            for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

class NonStringKey(Exception):
    pass

def encode(x):
    if x is None:
        return ["none"]
    if x is True or x is False:
        return ["bool", x]
    if type(x) is int:
        return ["int", str(x)]
    if type(x) is float:
        return ["float", "nan" if math.isnan(x) else str(struct.unpack("<Q", struct.pack("<d", x))[0])]
    if type(x) is str:
        return ["str", x]
    if type(x) is list:
        return ["list", [encode(item) for item in x]]
    if type(x) is dict:
        if not all(type(key) is str for key in x):
            raise NonStringKey()
        return ["dict", [[key, encode(value)] for key, value in x.items()]]
    raise TypeError("no parameter value is a " + type(x).__name__)

out = []
for doc in json.load(sys.stdin):
    try:
        data = yaml.load(doc, Loader=NoDatesSafeLoader)
        if data is None:
            out.append(["dict", []])
        elif type(data) is dict:
            out.append(encode(data))
        else:
            out.append(["not_a_mapping"])
    except NonStringKey:
        out.append(["non_string_key"])
    except Exception as exc:
        out.append(["error", type(exc).__name__ + ": " + str(exc)[:300]])
print(json.dumps(out))
"#;
        let mut child = Command::new(nbw_testkit::python())
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the venv's python");
        let json = serde_json::to_vec(&docs).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&json));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(output.status.success(), "the conformance script failed");
        let theirs: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(theirs.len(), docs.len());

        let mut disagreements = Vec::new();
        for (doc, theirs) in docs.iter().zip(&theirs) {
            let ours = match parse_yaml(doc) {
                Ok(params) => conformance_encoding(&ParamValue::Dict(params.into_iter().collect())),
                Err(ParamError::NotAMapping { .. }) => serde_json::json!(["not_a_mapping"]),
                Err(ParamError::NonStringKey { .. }) => serde_json::json!(["non_string_key"]),
                Err(err) => serde_json::json!(["error", err.to_string()]),
            };
            let agree = match (theirs[0].as_str(), ours[0].as_str()) {
                (Some("error"), Some("dict")) => MORE_LENIENT.contains(&doc.as_str()),
                _ if MORE_LENIENT.contains(&doc.as_str()) => false,
                // Which error is not compared, and a key that is a list is an error in PyYAML.
                (Some("error"), Some("error" | "non_string_key")) => true,
                _ => *theirs == ours,
            };
            if !agree {
                disagreements.push(format!("{doc:?}\n    papermill: {theirs}\n    nbw:       {ours}"));
            }
        }
        assert!(
            disagreements.is_empty(),
            "{} disagreements:\n{}",
            disagreements.len(),
            disagreements.join("\n")
        );
    }

    /// Random number-like strings through papermill's own `_resolve_type`, in one Python
    /// process: every one must infer to the same type and value.
    #[test]
    fn cli_inference_agrees_with_papermill() {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        use std::io::Write;
        use std::process::{Command, Stdio};

        let piece = prop::sample::select(vec![
            "0", "1", "5", "9", "007", "_", "__", ".", "e", "E", "+", "-", " ", "\t", "\n", "\x0b", "\x0c",
            "\x1c", "\u{a0}", "\u{3000}", "inf", "Infinity", "nan", "NaN", "١", "٥", "１", "𝟗", "²", "True",
            "None", "x", "j", "0x", "1e400",
        ]);
        let strategy = prop::collection::vec(piece, 0..7).prop_map(|pieces| pieces.concat());
        let mut runner = TestRunner::default();
        let mut input = Vec::new();
        for _ in 0..3000 {
            let text = strategy.new_tree(&mut runner).unwrap().current();
            // Ours, in a form Python can rebuild: kind and text.
            let ours = match infer_cli_value(&text) {
                ParamValue::None => ("none", String::new()),
                ParamValue::Bool(b) => ("bool", b.to_string()),
                ParamValue::Int(digits) => ("int", digits),
                ParamValue::Float(f) => ("float", format!("{f:?}")),
                ParamValue::Str(s) => ("str", s),
                other => panic!("{text:?} inferred as {other:?}"),
            };
            input.push((text, ours.0, ours.1));
        }
        let script = r#"
import json, sys
from papermill.cli import _resolve_type
failures = []
for text, kind, value in json.loads(sys.stdin.read()):
    theirs = _resolve_type(text)
    if kind == "none":
        ok = theirs is None
    elif kind == "bool":
        ok = theirs is (value == "true")
    elif kind == "int":
        ok = type(theirs) is int and str(theirs) == value
    elif kind == "float":
        ok = type(theirs) is float and repr(float(value)) == repr(theirs)
    else:
        ok = theirs == value and type(theirs) is str
    if not ok:
        failures.append([text, kind, value, repr(theirs)])
print(json.dumps(failures[:10]))
"#;
        let mut child = Command::new(nbw_testkit::python())
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the venv's python");
        let json = serde_json::to_vec(&input).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&json));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "[]");
    }
}
