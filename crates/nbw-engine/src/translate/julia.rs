//! Julia: papermill's `JuliaTranslator`, with strings and non-finite floats written so Julia
//! reads back the value papermill was given.
//!
//! Differences from papermill, each because papermill's text means something else in Julia:
//! `$` in strings is escaped (Julia interpolates `$name`), U+0080..U+00FF are written
//! `\u00e9` (papermill's `\xe9` is a raw, invalid UTF-8 byte in Julia), and NaN and
//! infinities are `NaN`, `Inf` and `-Inf` (papermill writes `nan` and `inf`, which are
//! undefined names).

use nbw_core::params::{ParamValue, Parameters};

use super::{Quoting, TranslateError, Translator, check_xid_name, codify_lines, python_float_repr, quoted};

/// Julia's reserved words.
const KEYWORDS: &[&str] = &[
    "baremodule",
    "begin",
    "break",
    "catch",
    "const",
    "continue",
    "do",
    "else",
    "elseif",
    "end",
    "export",
    "false",
    "finally",
    "for",
    "function",
    "global",
    "if",
    "import",
    "let",
    "local",
    "macro",
    "module",
    "quote",
    "return",
    "struct",
    "true",
    "try",
    "using",
    "while",
];

/// Writes parameters as Julia assignments.
pub(crate) struct Julia;

impl Translator for Julia {
    fn language(&self) -> &'static str {
        "julia"
    }

    fn codify(&self, params: &Parameters) -> Result<String, TranslateError> {
        codify_lines(params, |name, value| {
            // Julia identifiers may also contain `!` after the first character.
            check_xid_name(self.language(), name, KEYWORDS, &['!'])?;
            Ok(format!("{name} = {}", translate(value)))
        })
    }
}

/// papermill's `JuliaTranslator.translate`.
fn translate(value: &ParamValue) -> String {
    match value {
        ParamValue::None => "nothing".to_owned(),
        ParamValue::Bool(true) => "true".to_owned(),
        ParamValue::Bool(false) => "false".to_owned(),
        ParamValue::Int(digits) => digits.clone(),
        ParamValue::Float(f) if f.is_nan() => "NaN".to_owned(),
        ParamValue::Float(f) if f.is_infinite() && *f < 0.0 => "-Inf".to_owned(),
        ParamValue::Float(f) if f.is_infinite() => "Inf".to_owned(),
        ParamValue::Float(f) => python_float_repr(*f),
        ParamValue::Str(s) => quoted(s, Quoting::Julia),
        ParamValue::List(items) => {
            let items: Vec<_> = items.iter().map(translate).collect();
            format!("[{}]", items.join(", "))
        }
        ParamValue::Dict(entries) => {
            let entries: Vec<_> = entries
                .iter()
                .map(|(key, value)| format!("{} => {}", quoted(key, Quoting::Julia), translate(value)))
                .collect();
            format!("Dict({})", entries.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codify(params: &[(&str, ParamValue)]) -> Result<String, TranslateError> {
        let params: Parameters = params.iter().cloned().collect();
        Julia.codify(&params)
    }

    fn one(value: ParamValue) -> String {
        let cell = codify(&[("x", value)]).unwrap();
        cell.strip_prefix("# Parameters\nx = ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("unexpected cell {cell:?}"))
            .to_owned()
    }

    #[test]
    fn scalars() {
        assert_eq!(one(ParamValue::None), "nothing");
        assert_eq!(one(ParamValue::Bool(true)), "true");
        assert_eq!(one(ParamValue::Bool(false)), "false");
        assert_eq!(one(ParamValue::from(7)), "7");
        assert_eq!(one(ParamValue::from(0.25)), "0.25");
        assert_eq!(one(ParamValue::from(1.5e20)), "1.5e+20");
        assert_eq!(one(ParamValue::from(f64::NAN)), "NaN");
        assert_eq!(one(ParamValue::from(f64::INFINITY)), "Inf");
        assert_eq!(one(ParamValue::from(f64::NEG_INFINITY)), "-Inf");
        assert_eq!(one(ParamValue::from("cost: $5 \"net\"")), r#""cost: \$5 \"net\"""#);
        assert_eq!(one(ParamValue::from("é\t😀")), r#""\u00e9\t\U0001f600""#);
    }

    #[test]
    fn collections() {
        assert_eq!(one(ParamValue::List(vec![])), "[]");
        assert_eq!(one(ParamValue::Dict(vec![])), "Dict()");
        assert_eq!(one(ParamValue::List(vec![ParamValue::from(1), ParamValue::None])), "[1, nothing]");
        assert_eq!(
            one(ParamValue::Dict(vec![
                ("a".to_owned(), ParamValue::from(1)),
                ("b".to_owned(), ParamValue::List(vec![ParamValue::from("x")])),
            ])),
            r#"Dict("a" => 1, "b" => ["x"])"#
        );
    }

    #[test]
    fn names_must_be_julia_identifiers() {
        assert_eq!(codify(&[("done!", ParamValue::Bool(true))]).unwrap(), "# Parameters\ndone! = true\n");
        for bad in ["1x", "a-b", "x y", "", "end", "!x"] {
            let err = codify(&[(bad, ParamValue::None)]).unwrap_err();
            assert!(
                matches!(&err, TranslateError::InvalidName { name, language: "julia", .. } if name == bad),
                "{bad:?}: {err:?}"
            );
        }
    }
}
