//! Property test: parameter values arrive in the kernel unchanged, through each translator that
//! has a kernel here (Python and Bash). Each proptest case is a batch of values sent in one run,
//! so a case costs one kernel start; the kernel prints an exact encoding of what it received.

use nbw_core::params::{ParamValue, Parameters};
use nbw_engine::{ExecuteOptions, KernelSearch, Notebook, RunStatus, execute};
use nbw_testkit::{cell_text, notebook};
use proptest::prelude::*;
use serde_json::json;

/// Encodes a value the way the Python cell below does: exact for huge ints, floats (by bit
/// pattern) and any string (by UTF-8 bytes).
fn encode(value: &ParamValue) -> String {
    match value {
        ParamValue::None => "N".into(),
        ParamValue::Bool(b) => format!("b:{b}"),
        ParamValue::Int(digits) => format!("i:{digits}"),
        ParamValue::Float(f) if f.is_nan() => "f:nan".into(),
        ParamValue::Float(f) => format!("f:{}", hex(&f.to_be_bytes())),
        ParamValue::Str(s) => format!("s:{}", hex(s.as_bytes())),
        ParamValue::List(items) => format!("[{}]", items.iter().map(encode).collect::<Vec<_>>().join(",")),
        ParamValue::Dict(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}={}", hex(k.as_bytes()), encode(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const PYTHON_ENCODER: &str = r#"
import math, struct
def enc(v):
    if v is None: return "N"
    if isinstance(v, bool): return "b:" + ("true" if v else "false")
    if isinstance(v, int): return "i:" + str(v)
    if isinstance(v, float): return "f:nan" if math.isnan(v) else "f:" + struct.pack(">d", v).hex()
    if isinstance(v, str): return "s:" + v.encode("utf-8", "surrogatepass").hex()
    if isinstance(v, list): return "[" + ",".join(enc(x) for x in v) + "]"
    if isinstance(v, dict): return "{" + ",".join(k.encode().hex() + "=" + enc(x) for k, x in v.items()) + "}"
    return "?" + repr(v)
for name in sorted((n for n in dir() if n.startswith("p_")), key=lambda n: int(n[2:])):
    print(name, enc(globals()[name]))
"#;

const BASH_ENCODER: &str = r#"for name in $(compgen -v p_ | sort -t_ -k2 -n); do printf '%s s:%s\n' "$name" "$(printf '%s' "${!name}" | od -An -v -tx1 | tr -d ' \n')"; done"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Runs the encoder notebook for `kernel` with `values` as p_0, p_1, ...; returns its output.
fn run_in_kernel(kernel: &str, language: &str, encoder: &str, values: &[ParamValue]) -> String {
    let mut nb = notebook(&[("", &["parameters"]), (encoder, &[])]);
    nb["metadata"]["kernelspec"] = json!({"name": kernel, "display_name": kernel, "language": language});
    let notebook = Notebook::from_value(nb).unwrap();
    let mut params = Parameters::default();
    for (i, value) in values.iter().enumerate() {
        params.insert(format!("p_{i}"), value.clone());
    }
    // --python's environment is searched for kernelspecs: the venv's python3 and bash.
    let search = KernelSearch { python: Some(nbw_testkit::python()) };
    let options = ExecuteOptions { search, ..ExecuteOptions::default() };
    let outcome = runtime().block_on(async {
        let execution = execute(notebook, &params, options).expect("prepared");
        execution.outcome().await
    });
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.message);
    cell_text(&outcome.notebook.cells()[2])
}

fn expected(values: &[ParamValue], encode: impl Fn(&ParamValue) -> String) -> String {
    values.iter().enumerate().map(|(i, v)| format!("p_{i} {}\n", encode(v))).collect()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"'\\\\\n\r\t a-z]{0,12}",
        Just("\u{1F680} caf\u{e9} \u{2603} \\x00 \\n \"\"\" '''".to_owned()),
    ]
}

fn scalar() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        Just(ParamValue::None),
        any::<bool>().prop_map(ParamValue::Bool),
        any::<i64>().prop_map(|i| ParamValue::Int(i.to_string())),
        "-?[1-9][0-9]{20,60}".prop_map(ParamValue::Int),
        any::<f64>().prop_map(ParamValue::Float),
        text().prop_map(ParamValue::Str),
    ]
}

fn value() -> impl Strategy<Value = ParamValue> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(ParamValue::List),
            prop::collection::vec((text(), inner), 0..4).prop_map(|entries| {
                // Python dicts keep one value per key: the last one.
                let mut unique: Vec<(String, ParamValue)> = Vec::new();
                for (k, v) in entries {
                    unique.retain(|(existing, _)| existing != &k);
                    unique.push((k, v));
                }
                ParamValue::Dict(unique)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn python_kernel_receives_values_unchanged(values in prop::collection::vec(value(), 1..40)) {
        let got = run_in_kernel("python3", "python", PYTHON_ENCODER, &values);
        prop_assert_eq!(got, expected(&values, encode));
    }

    #[test]
    fn bash_kernel_receives_strings_and_numbers_unchanged(
        values in prop::collection::vec(prop_oneof![
            // Every character but NUL (bash strings cannot hold it) and the C1 controls, which the
            // bash kernel's terminal rewrites (U+0085 becomes a line end) and which ANSI-C quoting
            // could only write as \u escapes that depend on the kernel's locale.
            "[^\u{0}\u{80}-\u{9f}]{0,16}".prop_map(ParamValue::Str),
            any::<i64>().prop_map(|i| ParamValue::Int(i.to_string())),
        ], 1..30)
    ) {
        let got = run_in_kernel("bash", "bash", BASH_ENCODER, &values);
        let as_shell_text = |v: &ParamValue| match v {
            ParamValue::Str(s) => format!("s:{}", hex(s.as_bytes())),
            ParamValue::Int(digits) => format!("s:{}", hex(digits.as_bytes())),
            _ => unreachable!("only strings and ints are generated"),
        };
        prop_assert_eq!(got, expected(&values, as_shell_text));
    }
}

#[test]
fn bash_strings_that_an_interactive_shell_would_rewrite_arrive_unchanged() {
    // A continuation line starting with ^ is a history quick substitution; a tab completes; a
    // carriage return ends the line; ! expands history.
    let values: Vec<ParamValue> = ["a\n^b^c", "tab\there", "cr\rhere", "!!", "!x and it's", "\\n literal"]
        .into_iter()
        .map(|s| ParamValue::Str(s.to_owned()))
        .collect();
    let got = run_in_kernel("bash", "bash", BASH_ENCODER, &values);
    let as_shell_text = |v: &ParamValue| match v {
        ParamValue::Str(s) => format!("s:{}", hex(s.as_bytes())),
        _ => unreachable!(),
    };
    assert_eq!(got, expected(&values, as_shell_text));
}
