//! Bash: papermill's `BashTranslator`.
//!
//! Strings are quoted as Python's `shlex.quote` quotes them, lists become bash arrays. Where
//! papermill writes a cell that fails or silently changes the value, this translator returns
//! an error instead: a dict (papermill raises `NotImplementedError` too), a list inside a
//! list, and NUL in a string. One difference: `None` inside a list is written `''`, so the
//! array keeps its length (papermill writes nothing there and the element disappears); a
//! `None` parameter is still `name=`, as in papermill.

use nbw_core::params::ParamValue;

use super::{Scalars, Syntax, TranslateError};

/// Writes parameters as bash variable assignments.
pub(crate) struct Bash;

impl Syntax for Bash {
    const LANGUAGE: &'static str = "bash";
    /// papermill's raw `str()` for numbers (Python's `nan`, `inf`, `-inf`), `true`/`false`, and
    /// nothing for `None`.
    const SCALARS: Scalars =
        Scalars { none: "", bools: ["false", "true"], nan: "nan", infinity: "inf", neg_infinity: "-inf" };

    fn variable<'n>(&self, name: &'n str) -> Result<&'n str, TranslateError> {
        check_name(name).map(|()| name)
    }

    fn string(&self, s: &str) -> Result<String, String> {
        if s.contains('\0') {
            return Err("bash strings cannot contain the NUL character (\\x00)".to_owned());
        }
        Ok(shlex_quote(s))
    }

    /// A bash array of scalars, `None` as `''` so the array keeps its length.
    fn list(&self, name: &str, items: &[ParamValue]) -> Result<String, String> {
        let items = items
            .iter()
            .map(|item| match item {
                ParamValue::None => Ok("''".to_owned()),
                ParamValue::List(_) | ParamValue::Dict(_) => Err(format!(
                    "bash arrays cannot nest lists or dicts; pass the value as a JSON string instead, \
                     e.g. -r {name} '[[1, 2], [3]]'"
                )),
                scalar => self.value(name, scalar),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", items.join(" ")))
    }

    fn dict(&self, name: &str, _entries: &[(String, ParamValue)]) -> Result<String, String> {
        Err(format!(
            "bash has no dict parameters; pass it as a JSON string instead, \
             e.g. -r {name} '{{\"key\": 1}}', and parse it in the notebook"
        ))
    }

    fn assignment(&self, variable: &str, value: &str) -> String {
        format!("{variable}={value}")
    }
}

/// A bash variable name: ASCII letters, digits and `_`, not starting with a digit.
fn check_name(name: &str) -> Result<(), TranslateError> {
    let reason = match name.chars().next() {
        None => Some("it is empty".to_owned()),
        Some(c) if c.is_ascii_digit() => Some("it starts with a digit".to_owned()),
        Some(_) => name
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|c| format!("it contains {c:?} (bash names are ASCII letters, digits and _)")),
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(TranslateError::InvalidName { language: "bash", name: name.to_owned(), reason }),
    }
}

/// Python's `shlex.quote`, except for strings with control characters: those are written in
/// ANSI-C quoting (`$'a\nb'`). The bash kernel reads code through an interactive shell, where a
/// newline inside quotes starts a continuation line that history expansion can rewrite (`^`
/// at its start is a quick substitution) and a tab or a carriage return is taken by the
/// terminal; papermill's `'a\nb'` arrives changed there.
fn shlex_quote(s: &str) -> String {
    if s.chars().any(|c| c.is_ascii_control()) {
        return ansi_c_quote(s);
    }
    if s.is_empty() {
        return "''".to_owned();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Bash's `$'...'` quoting, with every ASCII control character escaped.
fn ansi_c_quote(s: &str) -> String {
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{codify_pairs, one_value};

    fn codify(params: &[(&str, ParamValue)]) -> Result<String, TranslateError> {
        codify_pairs(&Bash, params)
    }

    fn one(value: ParamValue) -> String {
        one_value(&Bash, "x=", value)
    }

    #[test]
    fn scalars() {
        assert_eq!(one(ParamValue::None), "");
        assert_eq!(one(ParamValue::Bool(true)), "true");
        assert_eq!(one(ParamValue::Bool(false)), "false");
        assert_eq!(one(ParamValue::from(-5)), "-5");
        assert_eq!(one(ParamValue::from(0.5)), "0.5");
        assert_eq!(one(ParamValue::from(1e-5)), "1e-05");
        assert_eq!(one(ParamValue::from(f64::NAN)), "nan");
        assert_eq!(one(ParamValue::from(f64::NEG_INFINITY)), "-inf");
    }

    #[test]
    fn strings_are_shlex_quoted() {
        assert_eq!(one(ParamValue::from("")), "''");
        assert_eq!(one(ParamValue::from("simple")), "simple");
        assert_eq!(one(ParamValue::from("a/b.c:d,e=f+g@h%i-j_k")), "a/b.c:d,e=f+g@h%i-j_k");
        assert_eq!(one(ParamValue::from("two words")), "'two words'");
        assert_eq!(one(ParamValue::from("it's")), r#"'it'"'"'s'"#);
        assert_eq!(one(ParamValue::from("$HOME")), "'$HOME'");
        assert_eq!(one(ParamValue::from("a\nb")), r"$'a\nb'");
        assert_eq!(one(ParamValue::from("x\n^y\t'\\\u{1b}")), r"$'x\n^y\t\'\\\x1b'");
        assert_eq!(one(ParamValue::from("café")), "'café'");
    }

    #[test]
    fn lists_are_arrays() {
        assert_eq!(one(ParamValue::List(vec![])), "()");
        assert_eq!(
            one(ParamValue::List(vec![
                ParamValue::from(1),
                ParamValue::from("two words"),
                ParamValue::Bool(true),
                ParamValue::None,
            ])),
            "(1 'two words' true '')"
        );
    }

    #[test]
    fn dicts_are_an_error_suggesting_a_json_string() {
        let err = codify(&[("cfg", ParamValue::Dict(vec![]))]).unwrap_err();
        assert!(
            matches!(&err, TranslateError::UnsupportedValue { name, language: "bash", .. } if name == "cfg"),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("-r cfg '{\"key\": 1}'"), "{text}");
    }

    #[test]
    fn nested_lists_and_nul_are_errors() {
        let nested = ParamValue::List(vec![ParamValue::List(vec![])]);
        assert!(matches!(codify(&[("x", nested)]), Err(TranslateError::UnsupportedValue { .. })));
        assert!(matches!(
            codify(&[("x", ParamValue::from("a\0"))]),
            Err(TranslateError::UnsupportedValue { .. })
        ));
    }

    #[test]
    fn names_must_be_bash_names() {
        assert_eq!(codify(&[("_A1", ParamValue::from(1))]).unwrap(), "# Parameters\n_A1=1\n");
        for bad in ["1x", "a-b", "x y", "", "café"] {
            let err = codify(&[(bad, ParamValue::None)]).unwrap_err();
            assert!(
                matches!(&err, TranslateError::InvalidName { name, language: "bash", .. } if name == bad),
                "{bad:?}: {err:?}"
            );
        }
    }
}
