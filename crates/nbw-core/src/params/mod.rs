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
//!
//! # Modules
//!
//! One concept each: [`ParamValue`] and [`Parameters`] (`value`), their JSON form (`json`),
//! `-p` inference by Python's literal rules (`infer`), the YAML 1.1 reader of `-y` and `-f`
//! (`yaml`), its errors (`error`), types and their checks before a run is queued (`typed`), and the unbounded integers YAML 1.1 needs (`bigint`).
//! Injection (parameters written as kernel code) is the engine's, in `nbw-engine`'s
//! `translate`.

mod bigint;
mod error;
mod infer;
mod json;
mod typed;
mod value;
mod yaml;

pub use error::ParamError;
pub use infer::infer_cli_value;
pub use typed::{
    ParamCheckError, ParamType, ParameterRule, ParameterRules, TypedParameter, check_run, typed_parameters,
    value_type,
};
pub use value::{ParamValue, Parameters};
pub use yaml::parse_yaml;

/// Helpers shared by the unit tests of the modules above: short constructors, and papermill's
/// side of the conformance tests.
#[cfg(test)]
mod test_support {
    use super::ParamValue;

    pub(super) fn int(digits: &str) -> ParamValue {
        ParamValue::Int(digits.to_owned())
    }

    pub(super) fn float(value: f64) -> ParamValue {
        ParamValue::Float(value)
    }

    pub(super) fn string(value: &str) -> ParamValue {
        ParamValue::Str(value.to_owned())
    }

    pub(super) fn dict(entries: &[(&str, ParamValue)]) -> ParamValue {
        ParamValue::Dict(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    /// Test helper: runs `script` with the venv's Python, `input` as JSON on its standard input,
    /// and returns its standard output; panics with `failure` if the script fails.
    pub(super) fn python_stdout(script: &str, input: &impl serde::Serialize, failure: &str) -> Vec<u8> {
        use std::io::Write;
        use std::process::{Command, Stdio};

        let mut child = Command::new(nbw_testkit::python())
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the venv's python");
        let json = serde_json::to_vec(input).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&json));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(output.status.success(), "{failure}");
        output.stdout
    }
}
