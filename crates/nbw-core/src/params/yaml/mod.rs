//! The YAML 1.1 reader of `-y` and `-f`, as papermill reads them (PyYAML's `SafeLoader`).
//!
//! libyaml's events (`libyaml`) are composed into nodes (`compose`), whose tags come from
//! PyYAML's resolvers (`resolve`), then constructed into values (`construct`, with the
//! integer and float constructors in `scalar`).

mod compose;
#[cfg(test)]
mod conformance;
mod construct;
// The one module of the workspace with unsafe code: libyaml's API (unsafe-libyaml) takes raw
// pointers. Each unsafe block in it says why it is sound.
#[allow(unsafe_code)]
mod libyaml;
mod resolve;
mod scalar;

use std::fmt;

use compose::Composer;
use construct::Constructor;

use super::{ParamError, ParamValue, Parameters};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::test_support::{dict, float, int, string};

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
}
