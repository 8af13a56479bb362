//! Python: papermill's `PythonTranslator`, byte for byte.

use nbw_core::params::ParamValue;

use super::{Quoting, Scalars, Syntax, TranslateError, check_xid_name, quoted};

/// Python's hard keywords (`keyword.kwlist`). Soft keywords (`match`, `case`, `type`, `_`)
/// are valid names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Writes parameters as Python assignments.
pub(crate) struct Python;

impl Syntax for Python {
    const LANGUAGE: &'static str = "python";
    const SCALARS: Scalars = Scalars {
        none: "None",
        bools: ["False", "True"],
        nan: "float('nan')",
        infinity: "float('inf')",
        neg_infinity: "float('-inf')",
    };

    fn variable<'n>(&self, name: &'n str) -> Result<&'n str, TranslateError> {
        check_xid_name(Self::LANGUAGE, name, KEYWORDS, &[]).map(|()| name)
    }

    fn string(&self, s: &str) -> Result<String, String> {
        Ok(quoted(s, Quoting::Python))
    }

    fn list(&self, name: &str, items: &[ParamValue]) -> Result<String, String> {
        self.bracketed_list(name, items, "[", "]")
    }

    fn dict(&self, name: &str, entries: &[(String, ParamValue)]) -> Result<String, String> {
        self.bracketed_dict(name, entries, ["{", ": ", "}"])
    }
}

#[cfg(test)]
mod tests {
    use nbw_core::params::Parameters;

    use super::*;
    use crate::translate::{Translator, codify_pairs, one_value, python_float_repr};

    fn codify(params: &[(&str, ParamValue)]) -> Result<String, TranslateError> {
        codify_pairs(&Python, params)
    }

    fn one(value: ParamValue) -> String {
        one_value(&Python, "x = ", value)
    }

    #[test]
    fn empty_parameters_are_just_the_comment() {
        assert_eq!(codify(&[]).unwrap(), "# Parameters\n");
    }

    #[test]
    fn one_assignment_per_line_in_order() {
        let cell = codify(&[
            ("zeta", ParamValue::from(1)),
            ("alpha", ParamValue::from("a")),
            ("_private", ParamValue::None),
        ])
        .unwrap();
        assert_eq!(cell, "# Parameters\nzeta = 1\nalpha = \"a\"\n_private = None\n");
    }

    #[test]
    fn scalars() {
        assert_eq!(one(ParamValue::None), "None");
        assert_eq!(one(ParamValue::Bool(true)), "True");
        assert_eq!(one(ParamValue::Bool(false)), "False");
        assert_eq!(one(ParamValue::from(-42)), "-42");
        let huge = "123456789012345678901234567890123456789012345678901234567890";
        assert_eq!(one(ParamValue::Int(huge.to_owned())), huge);
        assert_eq!(one(ParamValue::from(0.5)), "0.5");
        assert_eq!(one(ParamValue::from(1.0)), "1.0");
        assert_eq!(one(ParamValue::from(1e-5)), "1e-05");
        assert_eq!(one(ParamValue::from(1e16)), "1e+16");
        assert_eq!(one(ParamValue::from(f64::NAN)), "float('nan')");
        assert_eq!(one(ParamValue::from(f64::INFINITY)), "float('inf')");
        assert_eq!(one(ParamValue::from(f64::NEG_INFINITY)), "float('-inf')");
        assert_eq!(one(ParamValue::from("it's \"q\"\n")), r#""it's \"q\"\n""#);
        assert_eq!(one(ParamValue::from("é😀")), r#""\xe9\U0001f600""#);
    }

    #[test]
    fn collections() {
        assert_eq!(one(ParamValue::List(vec![])), "[]");
        assert_eq!(one(ParamValue::Dict(vec![])), "{}");
        assert_eq!(
            one(ParamValue::List(vec![
                ParamValue::from(1),
                ParamValue::from("two"),
                ParamValue::List(vec![ParamValue::None, ParamValue::Bool(true)]),
            ])),
            r#"[1, "two", [None, True]]"#
        );
        assert_eq!(
            one(ParamValue::Dict(vec![
                ("b".to_owned(), ParamValue::from(2.5)),
                ("a \"k\"".to_owned(), ParamValue::Dict(vec![("n".to_owned(), ParamValue::None)])),
            ])),
            r#"{"b": 2.5, "a \"k\"": {"n": None}}"#
        );
    }

    #[test]
    fn names_must_be_python_identifiers() {
        for bad in ["1x", "a-b", "x y", "", "class", "None", "a.b"] {
            let err = codify(&[(bad, ParamValue::None)]).unwrap_err();
            assert!(
                matches!(&err, TranslateError::InvalidName { name, language: "python", .. } if name == bad),
                "{bad:?}: {err:?}"
            );
        }
        for good in ["match", "type", "_", "café", "x_1"] {
            assert!(codify(&[(good, ParamValue::None)]).is_ok(), "{good:?}");
        }
    }

    /// Test-only encoding of a value as JSON that Python's `json.loads` reads back exactly:
    /// integers at full precision, floats in repr form, non-finite floats as `NaN` and
    /// `Infinity` (which Python accepts), dicts in order.
    fn python_json(value: &ParamValue) -> String {
        match value {
            ParamValue::None => "null".to_owned(),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Int(digits) => digits.clone(),
            ParamValue::Float(f) if f.is_nan() => "NaN".to_owned(),
            ParamValue::Float(f) if f.is_infinite() && *f < 0.0 => "-Infinity".to_owned(),
            ParamValue::Float(f) if f.is_infinite() => "Infinity".to_owned(),
            ParamValue::Float(f) => python_float_repr(*f),
            ParamValue::Str(s) => serde_json::to_string(s).unwrap(),
            ParamValue::List(items) => {
                let items: Vec<_> = items.iter().map(python_json).collect();
                format!("[{}]", items.join(", "))
            }
            ParamValue::Dict(entries) => {
                let entries: Vec<_> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), python_json(v)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }

    mod against_python {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;
        use proptest::test_runner::{Config, TestRunner};

        use super::*;
        use crate::translate::run_python;

        fn text() -> impl Strategy<Value = String> {
            let special = prop::sample::select(vec![
                '"',
                '\'',
                '\\',
                '\n',
                '\r',
                '\t',
                '\0',
                '\x0b',
                '\x1b',
                '\x1f',
                '\x7f',
                '\u{80}',
                '\u{a0}',
                'é',
                'ÿ',
                '\u{100}',
                '\u{2028}',
                '\u{feff}',
                '\u{ffff}',
                '😀',
                '\u{10ffff}',
                '$',
                '#',
                '{',
                '}',
                '%',
            ]);
            let chars = prop_oneof![
                3 => any::<char>(),
                2 => special,
                3 => proptest::char::range('a', 'z'),
            ];
            prop::collection::vec(chars, 0..12).prop_map(String::from_iter)
        }

        fn int() -> impl Strategy<Value = String> {
            prop_oneof![any::<i64>().prop_map(|i| i.to_string()), "-?[1-9][0-9]{18,80}", Just("0".to_owned())]
        }

        fn float() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<f64>(),
                prop::num::f64::ANY,
                -1e6..1e6f64,
                any::<i32>().prop_map(f64::from),
                prop::sample::select(vec![
                    0.0,
                    -0.0,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    1e16,
                    1e-5,
                    1e-4,
                    5e-324,
                    f64::MAX,
                ]),
            ]
        }

        fn value() -> impl Strategy<Value = ParamValue> {
            let leaf = prop_oneof![
                Just(ParamValue::None),
                any::<bool>().prop_map(ParamValue::Bool),
                int().prop_map(ParamValue::Int),
                float().prop_map(ParamValue::Float),
                text().prop_map(ParamValue::Str),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(ParamValue::List),
                    prop::collection::vec((text(), inner), 0..4).prop_map(|entries| {
                        let mut unique: Vec<(String, ParamValue)> = Vec::new();
                        for (key, value) in entries {
                            if !unique.iter().any(|(k, _)| *k == key) {
                                unique.push((key, value));
                            }
                        }
                        ParamValue::Dict(unique)
                    }),
                ]
            })
        }

        fn parameters() -> impl Strategy<Value = Parameters> {
            let name = "[a-z_][a-z0-9_]{0,6}"
                .prop_filter("not a keyword", |name: &String| !KEYWORDS.contains(&name.as_str()));
            prop::collection::vec((name, value()), 1..5).prop_map(|pairs| pairs.into_iter().collect())
        }

        /// For each case: the cell papermill writes must be ours, byte for byte, and running
        /// ours must give back the values.
        const CHECK: &str = r#"
import json, sys
from papermill.translators import PythonTranslator
failures = []
for line in sys.stdin:
    case = json.loads(line)
    code, params = case["code"], case["params"]
    expected = PythonTranslator.codify(params)
    if expected != code:
        failures.append({"code": code, "papermill": expected})
        continue
    namespace = {}
    exec(code, {}, namespace)
    if list(namespace) != list(params) or any(
        repr(namespace[k]) != repr(v) for k, v in params.items()
    ):
        failures.append({"code": code, "got": repr(namespace), "want": repr(params)})
print(json.dumps(failures[:5]))
"#;

        #[test]
        fn python_cells_match_papermill_and_evaluate_to_the_values() {
            const CASES: usize = 400;
            let mut runner = TestRunner::new(Config::with_cases(CASES as u32));
            let strategy = parameters();
            let mut input = String::new();
            for _ in 0..CASES {
                let params = strategy.new_tree(&mut runner).unwrap().current();
                let code = Python.codify(&params).unwrap();
                let entries: Vec<_> = params
                    .iter()
                    .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), python_json(v)))
                    .collect();
                input.push_str(&format!(
                    "{{\"code\": {}, \"params\": {{{}}}}}\n",
                    serde_json::to_string(&code).unwrap(),
                    entries.join(", ")
                ));
            }
            let failures = run_python(CHECK, input);
            assert_eq!(failures.trim(), "[]", "cases where Python disagrees");
        }
    }
}
