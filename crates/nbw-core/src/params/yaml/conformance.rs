//! The YAML conformance corpus: hundreds of documents loaded both by [`parse_yaml`] and by
//! papermill's own loader in the venv, which must agree. Test-only; near the house's ~600-line
//! guide because of the corpus it lists.

use crate::params::test_support::python_stdout;
use crate::params::{ParamError, ParamValue, parse_yaml};

/// Encodes a value as the conformance script encodes a Python one.
fn conformance_encoding(value: &ParamValue) -> serde_json::Value {
    use serde_json::json;
    match value {
        ParamValue::None => json!(["none"]),
        ParamValue::Bool(b) => json!(["bool", b]),
        ParamValue::Int(digits) => json!(["int", digits]),
        ParamValue::Float(f) if f.is_nan() => json!(["float", "nan"]),
        ParamValue::Float(f) => json!(["float", f.to_bits().to_string()]),
        ParamValue::Str(s) => json!(["str", s]),
        ParamValue::List(items) => {
            json!(["list", items.iter().map(conformance_encoding).collect::<Vec<_>>()])
        }
        ParamValue::Dict(entries) => json!([
            "dict",
            entries.iter().map(|(k, v)| json!([k, conformance_encoding(v)])).collect::<Vec<_>>()
        ]),
    }
}

/// The YAML documents that [`yaml_agrees_with_papermill`] loads both ways.
fn conformance_documents() -> Vec<String> {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    // Plain scalars: every resolver's cases and near misses.
    const PLAIN: &[&str] = &[
        // booleans
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "yEs",
        "tRUE",
        "oN",
        "nO",
        "y",
        "Y",
        "n",
        "N",
        "yes!",
        // nulls
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "none",
        "None",
        "~~",
        // integers
        "0",
        "-0",
        "+0",
        "1",
        "-1",
        "+1",
        "42",
        "017",
        "-017",
        "+017",
        "0o17",
        "0_",
        "00",
        "08",
        "09",
        "0_7",
        "07_7",
        "1_000",
        "-1_000",
        "1__0",
        "1_",
        "_1",
        "0b101",
        "-0b101",
        "+0b1_0",
        "0b_1",
        "0b_",
        "0b",
        "0b2",
        "0B1",
        "0x1F",
        "0x1f",
        "-0x1F",
        "+0x_1F",
        "0X1F",
        "0x_",
        "0x",
        "0xg",
        "1:30",
        "-1:30",
        "+1:30",
        "1:30:15",
        "1:60",
        "1:5",
        "1:05",
        "0:30",
        "190:20:30",
        "1_0:30",
        "1:3:5",
        "1:",
        "1::30",
        "1:30:",
        "12345678901234567890123456789012345678901234567890",
        "-98765432109876543210987654321098765432109876543210",
        "0x123456789abcdef0123456789ABCDEF",
        "0b10101010101010101010101010101010101010101010101010101010101010101010101010101010101",
        "0777777777777777777777777777777777",
        "99999999999999999999:59",
        "1:2:3:4:5:6:7:8:9:10:11:12",
        // floats
        "1.0",
        "-1.0",
        "+1.0",
        "1.",
        "-1.",
        ".5",
        "-.5",
        "+.5",
        "0.1",
        "1e3",
        "1E3",
        "1e+3",
        "-1e+3",
        "1.0e+3",
        "1.0e3",
        "1.0E-3",
        "1.5e3",
        "1.e+3",
        ".5e+3",
        ".5e3",
        "-.5e+3",
        "1_0.5",
        "1.5_5",
        "1._",
        "1.__",
        "1_.5",
        "1.5e+3_",
        "1.5e+0_3",
        "10.5e-10",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        ".INF",
        ".iNf",
        "-.Inf",
        ".nan",
        ".NaN",
        ".NAN",
        "-.nan",
        "+.nan",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "infinity",
        "1:30.5",
        "-1:30.5",
        "0:30.5",
        "1:30.",
        "190:20:30.15",
        "1:60.5",
        "1:5.5",
        "1.0e+400",
        "-1.0e+400",
        "1.7976931348623157e+308",
        "4.9e-324",
        "2.5e-324",
        "0.0",
        "-0.0",
        "1e400",
        "123456789012345678901234567890.5",
        "0.30000000000000004",
        "3.141592653589793238462643383279",
        "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15.5",
        "._5",
        ".",
        "..",
        "1.2.3",
        "0.0.0",
        "1e",
        "e1",
        "1_000.0_1",
        "0x1.8p1",
        "0.5.",
        "5:",
        ":5",
        "1.5:30",
        // timestamps stay strings under papermill's loader, and other strings
        "2001-12-14",
        "2002-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2001-12-14T21:59:43Z",
        "12:30:00",
        "hello",
        "hello world",
        "1,000",
        "1-2",
        "--1",
        "+-1",
        "++1",
        "+",
        "١٢",
        "１２",
        "1 2",
        "True1",
        "x:y",
        "a=b",
        "1#2",
        "<<<",
        "==",
        "~null",
        "-",
        "-1-",
    ];
    // Scalars quoted both ways and as block scalars: always strings.
    const QUOTED: &[&str] = &[
        "yes", "off", "1", "017", "1_000", "1:30", "1e3", "-.5", "~", "null", "", "1.0", ".inf", "0x1F",
        "<<", "=",
    ];
    let mut docs: Vec<String> = Vec::new();
    for text in PLAIN {
        docs.push(format!("v: {text}"));
    }
    for text in PLAIN.iter().step_by(3) {
        docs.push(format!("v: [{text}, x]\nw:\n  - {text}\n  - k: {text}\n"));
    }
    for text in QUOTED {
        docs.push(format!("v: '{text}'"));
        docs.push(format!("v: \"{text}\""));
        docs.push(format!("v: [a, '{text}', \"{text}\"]"));
        docs.push(format!("v: |-\n  {text}\n"));
        docs.push(format!("v: >\n  {text}\n"));
    }
    docs.extend(
        [
            // keys
            "yes: 1",
            "1: a",
            "~: a",
            "'1': a",
            "\"yes\": 1",
            "=: 1",
            "<<: {a: 1}",
            "\"<<\": {a: 1}",
            "'<<': 1",
            "1:30: x",
            "? [a]\n: 1",
            "? {a: 1}\n: 2",
            "null: 1",
            ": 1",
            "Yes: 1",
            "0x1F: a",
            "1.5: a",
            ".inf: a",
            "2001-12-14: a",
            "a: {on: 1}",
            "a: [{1: x}]",
            "? |\n  block\n: 1",
            // explicit tags
            "v: !!int 017",
            "v: !!int '017'",
            "v: !!int \"0x1F\"",
            "v: !!int 0o17",
            "v: !!int 1_000",
            "v: !!int ' 12 '",
            "v: !!int 1:30",
            "v: !!int abc",
            "v: !!int 1.5",
            "v: !!int ''",
            "v: !!int -",
            "v: !!int 0x0x1f",
            "v: !!int '1:-30'",
            "v: !!int ١٢",
            "v: !!int 0b",
            "v: !!int '+0b11'",
            "v: !!int 1e3",
            "v: !!float 1",
            "v: !!float 1e3",
            "v: !!float inf",
            "v: !!float '-Infinity'",
            "v: !!float nan",
            "v: !!float 1:30",
            "v: !!float abc",
            "v: !!float ''",
            "v: !!float ' 2.5 '",
            "v: !!float 1_0",
            "v: !!bool yes",
            "v: !!bool TrUe",
            "v: !!bool 1",
            "v: !!bool ''",
            "v: !!null x",
            "v: !!null ''",
            "v: !!str 1",
            "v: !!str yes",
            "v: !!str ~",
            "v: !!str [1]",
            "v: !!seq [1]",
            "v: !!map {b: 1}",
            "v: !!seq x",
            "v: !!map x",
            "v: !!int [1]",
            "v: !!binary aGk=",
            "v: !!timestamp 2020-01-01",
            "v: !!set {x}",
            "v: !!omap [b: 1]",
            "v: !!pairs [b: 1]",
            "v: !secret x",
            "v: !secret {a: 1}",
            "v: ! 12",
            "v: ! '12'",
            "v: ! \"yes\"",
            "v: ! '!'",
            "v: ! ''",
            "v: ! |\n  12\n",
            "v: ! |\n  yes\n",
            "v: ! |\n  1.5\n",
            "v: ! \"\\n\"",
            "v: ! |+\n  12\n\n",
            "v: ! [1, '2']",
            "v: !<tag:yaml.org,2002:int> \"5\"",
            "v: !!python/none x",
            "v: !!merge x",
            "v: !!value x",
            "v: <<",
            "v: =",
            "v: [<<]",
            "%TAG !e! tag:yaml.org,2002:\n---\nv: !e!int '7'",
            // nesting
            "a: [1, yes, '1', {b: off, c: [0x1F, ~]}]\nb:\n  c:\n    - 017\n    - d: 1:30\n",
            "a: {b: {c: {d: [1_000, '1_000', .5, -.5]}}}",
            "a:\n- 1\n- - 2\n  - [3, ~]\n",
            "a: 1\n  2",
            "a: yes\n  no",
            "a: 1\n\n  2",
            "a: 1 # c",
            "a: 1#c",
            "a: yes\r\nb: 017\r\n",
            "\u{feff}a: yes",
            "a: [\n1,\n2\n]",
            "a: |\n  x",
            "a: {\nb: on\n}",
            // merges
            "base: &base {a: 1, b: 2}\nother: &other {b: 20, c: 30}\none: {<<: *base, b: 3}\n\
             many: {<<: [*base, *other], d: 4}\ncopy: *base",
            "x: &x {aa: 1, bb: 2}\ny: &y {bb: 20, cc: 30}\nm: {<<: [*x, *y], dd: 4}",
            "x: &x {é: 1, ā: 2, '': 3}\ny: &y {é: 10, ā: 20, '': 30}\nm: {<<: [*x, *y]}",
            "m: {<<: {a: 1, a: 2}, <<: {a: 3}}",
            "m: {<<: {aa: 1, aa: 2}}",
            "k: &k key\nx: &x {*k : 1}\ny: &y {*k : 2}\nm: {<<: [*x, *y]}",
            "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}",
            "m: {<<: 5}",
            "m: {<<: [{a: 1}, 5]}",
            "m: {<<: []}",
            "m: {<<: ~}",
            "<<: &d {a: 1}\nb: 2",
            "m: {=: 1, <<: {=: 2}}",
            // anchors
            "a: &x 1\nb: *x",
            "a: &x yes\nb: *x",
            "a: &x [1, '2']\nb: *x",
            "a: *x",
            "a: &x 1\nb: &x 2",
            "a: &x [*x]",
            "a: &x {b: *x}",
            // documents
            "",
            "\n",
            "# c",
            "null",
            "~",
            "---\n",
            "...\n",
            "a: 1\n---\nb: 2",
            "--- a",
            "a: 1\n...\n",
            "%YAML 1.1\n---\na: yes",
            "- 1",
            "42",
            "yes",
            "'x'",
            "[]",
            "{}",
            "false",
            "0",
            "--- {a: 017}",
            // syntax errors
            "a: b: c",
            "a: [1, 2",
            "a:\n\tb: 1",
            "a: 'x",
            "a: \"\\q\"",
            "a: @x",
            "a: \u{7}",
            "{a: 1}}",
            "a: x\u{2028}y",
        ]
        .map(str::to_owned),
    );
    // Random number-like scalars.
    let piece = prop::sample::select(vec![
        "0", "1", "5", "7", "8", "9", "60", "_", ".", ":", "e", "E", "+", "-", "x", "b", "o", "0x", "0b",
        "inf", "nan", "Inf", "NaN", "yes", "No", "on", "~", "null", "f", "1_0", ".5", "e+1", "e-",
    ]);
    let strategy = prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat());
    let mut runner = TestRunner::deterministic();
    for _ in 0..1500 {
        docs.push(format!("v: {}", strategy.new_tree(&mut runner).unwrap().current()));
    }
    docs
}

/// Hundreds of YAML documents loaded by papermill's own loader (PyYAML's SafeLoader less the
/// timestamp resolver) in the venv, in one Python process: each must give the same value, or
/// fail in both.
#[test]
fn yaml_agrees_with_papermill() {
    // libyaml, like YAML 1.2, lets a tab separate tokens where PyYAML's scanner takes only
    // spaces (serde_yaml, also libyaml, did too): nbw reads these, papermill refuses them.
    const MORE_LENIENT: &[&str] = &["a: 1\t", "a: [1,\t2]", "a: 1\t# c"];
    let docs: Vec<String> =
        MORE_LENIENT.iter().map(|doc| (*doc).to_owned()).chain(conformance_documents()).collect();
    assert!(docs.len() > 200);
    let script = r#"
import json, math, struct, sys
import yaml
try:
    from papermill.cli import NoDatesSafeLoader
except ImportError:
    class NoDatesSafeLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = {
            k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp']
            for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

class NonStringKey(Exception):
    pass

def encode(x):
    if x is None:
        return ["none"]
    if x is True or x is False:
        return ["bool", x]
    if type(x) is int:
        return ["int", str(x)]
    if type(x) is float:
        return ["float", "nan" if math.isnan(x) else str(struct.unpack("<Q", struct.pack("<d", x))[0])]
    if type(x) is str:
        return ["str", x]
    if type(x) is list:
        return ["list", [encode(item) for item in x]]
    if type(x) is dict:
        if not all(type(key) is str for key in x):
            raise NonStringKey()
        return ["dict", [[key, encode(value)] for key, value in x.items()]]
    raise TypeError("no parameter value is a " + type(x).__name__)

out = []
for doc in json.load(sys.stdin):
    try:
        data = yaml.load(doc, Loader=NoDatesSafeLoader)
        if data is None:
            out.append(["dict", []])
        elif type(data) is dict:
            out.append(encode(data))
        else:
            out.append(["not_a_mapping"])
    except NonStringKey:
        out.append(["non_string_key"])
    except Exception as exc:
        out.append(["error", type(exc).__name__ + ": " + str(exc)[:300]])
print(json.dumps(out))
"#;
    let stdout = python_stdout(script, &docs, "the conformance script failed");
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(theirs.len(), docs.len());

    let mut disagreements = Vec::new();
    for (doc, theirs) in docs.iter().zip(&theirs) {
        let ours = match parse_yaml(doc) {
            Ok(params) => conformance_encoding(&ParamValue::Dict(params.into_iter().collect())),
            Err(ParamError::NotAMapping { .. }) => serde_json::json!(["not_a_mapping"]),
            Err(ParamError::NonStringKey { .. }) => serde_json::json!(["non_string_key"]),
            Err(err) => serde_json::json!(["error", err.to_string()]),
        };
        let agree = match (theirs[0].as_str(), ours[0].as_str()) {
            (Some("error"), Some("dict")) => MORE_LENIENT.contains(&doc.as_str()),
            _ if MORE_LENIENT.contains(&doc.as_str()) => false,
            // Which error is not compared, and a key that is a list is an error in PyYAML.
            (Some("error"), Some("error" | "non_string_key")) => true,
            _ => *theirs == ours,
        };
        if !agree {
            disagreements.push(format!("{doc:?}\n    papermill: {theirs}\n    nbw:       {ours}"));
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
}
