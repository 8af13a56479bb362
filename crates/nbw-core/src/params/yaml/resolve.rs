//! Tags: the explicit ones as written, and PyYAML's implicit resolvers for plain scalars.

/// A node's tag once resolved, as PyYAML's composer resolves it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tag {
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
    pub(super) fn from_explicit(tag: &str) -> Tag {
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

    pub(super) fn shown(&self) -> String {
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

/// The tag PyYAML's `Resolver` gives a plain scalar, without the timestamp resolver that
/// papermill removes. Each test is one of PyYAML's regular expressions, spelled out.
pub(super) fn resolve_plain(value: &str) -> Tag {
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
