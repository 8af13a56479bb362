//! R: papermill's `RTranslator`, with strings and non-finite floats written so R reads back
//! the value papermill was given.
//!
//! Differences from papermill, each because papermill's text means something else in R:
//! U+0080..U+00FF are written `\u00e9` (papermill's `\xe9` is a raw byte in R), NaN and
//! infinities are `NaN`, `Inf` and `-Inf` (papermill writes `nan` and `inf`, which are
//! undefined names), and a string containing NUL is an error (R strings cannot hold it).

use nbw_core::params::ParamValue;

use super::{Quoting, Scalars, Syntax, TranslateError, quoted};

/// R's reserved words (`?Reserved`).
const RESERVED: &[&str] = &[
    "if",
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "TRUE",
    "FALSE",
    "NULL",
    "Inf",
    "NaN",
    "NA",
    "NA_integer_",
    "NA_real_",
    "NA_character_",
    "NA_complex_",
    "in",
];

/// Writes parameters as R assignments.
pub(crate) struct R;

impl Syntax for R {
    const LANGUAGE: &'static str = "r";
    const SCALARS: Scalars =
        Scalars { none: "NULL", bools: ["FALSE", "TRUE"], nan: "NaN", infinity: "Inf", neg_infinity: "-Inf" };

    fn variable<'n>(&self, name: &'n str) -> Result<&'n str, TranslateError> {
        // Leading underscores are not legal in R names, so papermill drops them.
        let r_name = name.trim_start_matches('_');
        check_name(name, r_name).map(|()| r_name)
    }

    fn string(&self, s: &str) -> Result<String, String> {
        if s.contains('\0') {
            return Err(
                "R strings cannot contain the NUL character (\\x00); remove it from the value".to_owned()
            );
        }
        Ok(quoted(s, Quoting::Unicode))
    }

    /// Lists and dicts are both R lists.
    fn list(&self, name: &str, items: &[ParamValue]) -> Result<String, String> {
        self.bracketed_list(name, items, "list(", ")")
    }

    fn dict(&self, name: &str, entries: &[(String, ParamValue)]) -> Result<String, String> {
        self.bracketed_dict(name, entries, ["list(", " = ", ")"])
    }
}

/// A syntactic R name: letters, digits, `.` and `_`, starting with a letter or with a `.`
/// not followed by a digit, and not reserved.
fn check_name(name: &str, r_name: &str) -> Result<(), TranslateError> {
    let mut chars = r_name.chars();
    let first = chars.next();
    let second = r_name.chars().nth(1);
    let reason = match first {
        None if name.is_empty() => Some("it is empty".to_owned()),
        None => Some("it is only underscores, which R names drop".to_owned()),
        Some(c) if c.is_ascii_digit() => Some("it starts with a digit".to_owned()),
        Some('.') if second.is_some_and(|c| c.is_ascii_digit()) => {
            Some("it starts with '.' and a digit".to_owned())
        }
        Some(c) if !(c == '.' || c.is_alphabetic()) => Some(format!("it starts with {c:?}")),
        Some(_) => chars
            .find(|&c| !(c.is_alphanumeric() || c == '.' || c == '_'))
            .map(|c| format!("it contains {c:?}")),
    };
    let reserved = RESERVED.contains(&r_name)
        || r_name == "..."
        || r_name.strip_prefix("..").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let reason = reason.or_else(|| reserved.then(|| "it is a reserved word".to_owned()));
    match reason {
        None => Ok(()),
        Some(reason) => Err(TranslateError::InvalidName { language: "r", name: name.to_owned(), reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{codify_pairs, one_value};

    fn codify(params: &[(&str, ParamValue)]) -> Result<String, TranslateError> {
        codify_pairs(&R, params)
    }

    fn one(value: ParamValue) -> String {
        one_value(&R, "x = ", value)
    }

    #[test]
    fn scalars() {
        assert_eq!(one(ParamValue::None), "NULL");
        assert_eq!(one(ParamValue::Bool(true)), "TRUE");
        assert_eq!(one(ParamValue::Bool(false)), "FALSE");
        assert_eq!(one(ParamValue::from(-3)), "-3");
        assert_eq!(one(ParamValue::from(2.5)), "2.5");
        assert_eq!(one(ParamValue::from(1.0)), "1.0");
        assert_eq!(one(ParamValue::from(1e-5)), "1e-05");
        assert_eq!(one(ParamValue::from(f64::NAN)), "NaN");
        assert_eq!(one(ParamValue::from(f64::INFINITY)), "Inf");
        assert_eq!(one(ParamValue::from(f64::NEG_INFINITY)), "-Inf");
        assert_eq!(one(ParamValue::from("a \"b\" \\ c\n")), r#""a \"b\" \\ c\n""#);
        assert_eq!(one(ParamValue::from("café 😀")), r#""caf\u00e9 \U0001f600""#);
    }

    #[test]
    fn lists_and_dicts_are_both_r_lists() {
        assert_eq!(one(ParamValue::List(vec![])), "list()");
        assert_eq!(
            one(ParamValue::List(vec![ParamValue::from(1), ParamValue::from("a")])),
            r#"list(1, "a")"#
        );
        assert_eq!(
            one(ParamValue::Dict(vec![
                ("k".to_owned(), ParamValue::Bool(true)),
                ("n".to_owned(), ParamValue::List(vec![ParamValue::None])),
            ])),
            r#"list("k" = TRUE, "n" = list(NULL))"#
        );
    }

    #[test]
    fn leading_underscores_are_dropped_from_names() {
        assert_eq!(
            codify(&[("__x", ParamValue::from(1)), ("y_1.z", ParamValue::from(2))]).unwrap(),
            "# Parameters\nx = 1\ny_1.z = 2\n"
        );
    }

    #[test]
    fn names_must_be_r_names() {
        for bad in ["1x", "a-b", "x y", "", "___", ".2x", "if", "TRUE", "...", "..1"] {
            let err = codify(&[(bad, ParamValue::None)]).unwrap_err();
            assert!(
                matches!(&err, TranslateError::InvalidName { name, language: "r", .. } if name == bad),
                "{bad:?}: {err:?}"
            );
        }
        for good in [".hidden", "x.y", "_x1", "école"] {
            assert!(codify(&[(good, ParamValue::None)]).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn nul_in_a_string_is_an_error_naming_the_parameter() {
        let err = codify(&[("s", ParamValue::from("a\0b"))]).unwrap_err();
        assert!(matches!(&err, TranslateError::UnsupportedValue { name, .. } if name == "s"), "{err:?}");
    }
}
