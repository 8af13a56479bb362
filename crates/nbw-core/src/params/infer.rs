//! `-p name value`: papermill's type inference, by Python's `int()` and `float()` rules.

use super::ParamValue;

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

/// What Python's `int()` reads before the digits: `s` made ASCII and trimmed, then its sign
/// split off (whether it is negative, and the rest); `None` where a character makes it raise.
pub(super) fn python_signed(s: &str) -> Option<(bool, String)> {
    let ascii = python_ascii(s)?;
    let text = trim_python_space(&ascii);
    Some(match text.as_bytes().first() {
        Some(b'-') => (true, text[1..].to_owned()),
        Some(b'+') => (false, text[1..].to_owned()),
        _ => (false, text.to_owned()),
    })
}

/// Python's `int(s)`: the canonical digits, or `None` where it raises `ValueError`.
pub(super) fn python_int(s: &str) -> Option<String> {
    let (negative, body) = python_signed(s)?;
    if !is_underscored_digits(&body) {
        return None;
    }
    Some(canonical_int(negative, &body.replace('_', "")))
}

/// Python's `float(s)`, or `None` where it raises `ValueError`.
pub(super) fn python_float(s: &str) -> Option<f64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::test_support::{float, int, string};

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

    /// Random number-like strings through papermill's own `_resolve_type`, in one Python
    /// process: every one must infer to the same type and value.
    #[test]
    fn cli_inference_agrees_with_papermill() {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        use crate::params::test_support::python_stdout;

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
        let stdout = python_stdout(script, &input, "the papermill script failed");
        assert_eq!(String::from_utf8_lossy(&stdout).trim(), "[]");
    }
}
