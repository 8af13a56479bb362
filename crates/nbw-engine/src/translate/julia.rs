//! Julia: papermill's `JuliaTranslator`, with strings and non-finite floats written so Julia
//! reads back the value papermill was given.
//!
//! Differences from papermill, each because papermill's text means something else in Julia:
//! `$` in strings is escaped (Julia interpolates `$name`), U+0080..U+00FF are written
//! `\u00e9` (papermill's `\xe9` is a raw, invalid UTF-8 byte in Julia), and NaN and
//! infinities are `NaN`, `Inf` and `-Inf` (papermill writes `nan` and `inf`, which are
//! undefined names).

use nbw_core::params::ParamValue;

use super::{Quoting, Scalars, Syntax, TranslateError, check_xid_name, quoted};

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

impl Syntax for Julia {
    const LANGUAGE: &'static str = "julia";
    const SCALARS: Scalars = Scalars {
        none: "nothing",
        bools: ["false", "true"],
        nan: "NaN",
        infinity: "Inf",
        neg_infinity: "-Inf",
    };

    fn variable<'n>(&self, name: &'n str) -> Result<&'n str, TranslateError> {
        // Julia identifiers may also contain `!` after the first character.
        check_xid_name(Self::LANGUAGE, name, KEYWORDS, &['!']).map(|()| name)
    }

    fn string(&self, s: &str) -> Result<String, String> {
        Ok(quoted(s, Quoting::Julia))
    }

    fn list(&self, name: &str, items: &[ParamValue]) -> Result<String, String> {
        self.bracketed_list(name, items, "[", "]")
    }

    fn dict(&self, name: &str, entries: &[(String, ParamValue)]) -> Result<String, String> {
        self.bracketed_dict(name, entries, ["Dict(", " => ", ")"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{codify_pairs, one_value};

    fn codify(params: &[(&str, ParamValue)]) -> Result<String, TranslateError> {
        codify_pairs(&Julia, params)
    }

    fn one(value: ParamValue) -> String {
        one_value(&Julia, "x = ", value)
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
