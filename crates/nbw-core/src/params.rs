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

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
    /// The text is not YAML at all.
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

/// Parses the parameters of `-y` and `-f`: a YAML mapping of names to values.
///
/// An empty document (or one that is only `null` or comments) gives no parameters. YAML
/// integers become [`ParamValue::Int`] at any size, floats (also `.nan`, `.inf`, `-.inf`)
/// become [`ParamValue::Float`]; anchors, aliases and `<<` merge keys work, and a repeated
/// key keeps its last value, as with PyYAML. Scalars are resolved by YAML 1.2 rules
/// (serde_yaml), not PyYAML's YAML 1.1: `yes`, `on` and `0123` stay strings and `1e5` is a
/// float, where papermill would see `True`, `True`, `83` and the string `"1e5"`.
///
/// ```
/// use nbw_core::params::{parse_yaml, ParamValue};
///
/// let params = parse_yaml("alpha: 0.5\nids: [1, 2]").unwrap();
/// assert_eq!(params.get("alpha"), Some(&ParamValue::Float(0.5)));
/// ```
pub fn parse_yaml(text: &str) -> Result<Parameters, ParamError> {
    // Two passes over the text. The first builds the values and rejects what has no
    // parameter meaning, but serde_yaml hands integers beyond i128/u128 over as f64. The
    // second deserializes the same text guided by the first result and asks for the raw
    // text of each float, which keeps those integers' digits.
    let problem = Cell::new(None);
    let first = Checked { path: String::new(), problem: &problem }
        .deserialize(serde_yaml::Deserializer::from_str(text));
    let shape = match first {
        Ok(shape) => shape,
        Err(err) => return Err(problem.take().unwrap_or_else(|| yaml_syntax(err))),
    };
    match &shape {
        ParamValue::None => return Ok(Parameters::new()),
        ParamValue::Dict(_) => {}
        other => {
            return Err(ParamError::NotAMapping { found: describe(other) });
        }
    }
    let value = Guided(&shape).deserialize(serde_yaml::Deserializer::from_str(text)).map_err(yaml_syntax)?;
    match apply_merges(value, "")? {
        ParamValue::Dict(entries) => Ok(Parameters { entries }),
        // The guided pass builds what the first pass found, and that was a dict.
        _ => unreachable!("the guided pass returns a dict for a mapping"),
    }
}

fn yaml_syntax(err: serde_yaml::Error) -> ParamError {
    let location = err.location();
    ParamError::YamlSyntax {
        message: err.to_string(),
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
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

/// The first YAML pass: builds a value like [`ValueVisitor`] and rejects non-string keys and
/// custom tags, parking the precise error in `problem` (serde errors only carry text).
struct Checked<'p> {
    path: String,
    problem: &'p Cell<Option<ParamError>>,
}

impl Checked<'_> {
    fn child(&self, path: String) -> Self {
        Checked { path, problem: self.problem }
    }

    fn fail<E: de::Error>(&self, problem: ParamError) -> E {
        let message = problem.to_string();
        self.problem.set(Some(problem));
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for Checked<'_> {
    type Value = ParamValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParamValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked<'_> {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        ValueVisitor.expecting(f)
    }

    fn visit_unit<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_none<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
        ValueVisitor.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
        ValueVisitor.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
        ValueVisitor.visit_u64(v)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<ParamValue, E> {
        ValueVisitor.visit_i128(v)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<ParamValue, E> {
        ValueVisitor.visit_u128(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
        ValueVisitor.visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
        ValueVisitor.visit_str(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))? {
            items.push(item);
        }
        Ok(ParamValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(self.child(format!("{} (a key)", shown_path(&self.path))))? {
            let ParamValue::Str(key) = key else {
                return Err(
                    self.fail(ParamError::NonStringKey { key: show_key(&key), path: shown_path(&self.path) })
                );
            };
            let value = map.next_value_seed(self.child(child_path(&self.path, &key)))?;
            // Repeated keys stay for now so that the guided pass lines up with this one;
            // apply_merges collapses them, last value in the first place, as PyYAML does.
            entries.push((key, value));
        }
        Ok(ParamValue::Dict(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<ParamValue, A::Error> {
        // serde_yaml presents a value with a local tag (`!name`) as an enum variant.
        let (tag, _) = data.variant::<String>()?;
        Err(self.fail(ParamError::UnsupportedTag { tag: format!("!{tag}"), path: shown_path(&self.path) }))
    }
}

/// Applies PyYAML's merge-key semantics, innermost mappings first: the merged entries come
/// first (for a list, later mappings first so that earlier ones win), then the mapping's own
/// entries override them in place. Also collapses repeated keys, the last value winning.
fn apply_merges(value: ParamValue, path: &str) -> Result<ParamValue, ParamError> {
    match value {
        ParamValue::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| apply_merges(item, &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()
            .map(ParamValue::List),
        ParamValue::Dict(entries) => {
            let mut merged = Vec::new();
            let mut own = Vec::new();
            for (key, item) in entries {
                let item = apply_merges(item, &child_path(path, &key))?;
                if key != "<<" {
                    own.push((key, item));
                    continue;
                }
                let bad_merge = || ParamError::BadMerge { path: shown_path(path) };
                match item {
                    ParamValue::Dict(source) => merged.extend(source),
                    ParamValue::List(sources) => {
                        let mut dicts = Vec::new();
                        for source in sources {
                            let ParamValue::Dict(source) = source else {
                                return Err(bad_merge());
                            };
                            dicts.push(source);
                        }
                        merged.extend(dicts.into_iter().rev().flatten());
                    }
                    _ => return Err(bad_merge()),
                }
            }
            let mut result = Vec::new();
            for (key, item) in merged.into_iter().chain(own) {
                insert_entry(&mut result, key, item);
            }
            Ok(ParamValue::Dict(result))
        }
        scalar => Ok(scalar),
    }
}

/// The second YAML pass: deserializes a node the way the first pass found it shaped.
struct Guided<'a>(&'a ParamValue);

impl<'de> DeserializeSeed<'de> for Guided<'_> {
    type Value = ParamValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParamValue, D::Error> {
        match self.0 {
            ParamValue::List(items) => deserializer.deserialize_seq(GuidedSeq(items)),
            ParamValue::Dict(entries) => deserializer.deserialize_map(GuidedMap(entries)),
            ParamValue::Float(float) => deserializer.deserialize_str(NumberText(*float)),
            _ => ParamValue::deserialize(deserializer),
        }
    }
}

struct GuidedSeq<'a>(&'a [ParamValue]);

impl<'de> Visitor<'de> for GuidedSeq<'_> {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
        let mut items = Vec::with_capacity(self.0.len());
        for node in self.0 {
            let item = seq
                .next_element_seed(Guided(node))?
                .ok_or_else(|| de::Error::custom("the YAML sequence ended early"))?;
            items.push(item);
        }
        Ok(ParamValue::List(items))
    }
}

struct GuidedMap<'a>(&'a [(String, ParamValue)]);

impl<'de> Visitor<'de> for GuidedMap<'_> {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamValue, A::Error> {
        let mut entries = Vec::with_capacity(self.0.len());
        for (name, node) in self.0 {
            let key: String = map
                .next_key()?
                .filter(|key| key == name)
                .ok_or_else(|| de::Error::custom("the YAML mapping changed between passes"))?;
            let value = map.next_value_seed(Guided(node))?;
            entries.push((key, value));
        }
        Ok(ParamValue::Dict(entries))
    }
}

/// A YAML number that serde_yaml made an `f64`. serde_yaml keeps integer scalars that fit
/// `i128`/`u128` as integers, so an integer-looking text that became a float is either
/// bigger than that (keep its digits) or tagged `!!float` (keep the float).
struct NumberText(f64);

impl Visitor<'_> for NumberText {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ParamValue, E> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let integer_text = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let fits_128 = text.parse::<i128>().is_ok() || digits.parse::<u128>().is_ok();
        if integer_text && !fits_128 {
            Ok(ParamValue::Int(canonical_int(negative, digits)))
        } else {
            Ok(ParamValue::Float(self.0))
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
             q: '1'\nnan: .nan\ninf: .inf\nninf: -.inf\nempty:\n",
        )
        .unwrap();
        assert_eq!(params.get("i"), Some(&int("1")));
        assert_eq!(params.get("neg"), Some(&int("-12")));
        assert_eq!(params.get("f"), Some(&float(0.5)));
        assert_eq!(params.get("e"), Some(&float(1e5)));
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
        // PyYAML: {'b': 2, 'c': 30, 'a': 1, 'd': 4}
        assert_eq!(
            params.get("many"),
            Some(&dict(&[("b", int("2")), ("c", int("30")), ("a", int("1")), ("d", int("4"))]))
        );
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
