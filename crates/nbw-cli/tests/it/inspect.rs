//! `nbw inspect`: a notebook's parameters with types, defaults and help.

use assert_cmd::Command;
use nbw_testkit::{notebook, tempdir, write_notebook};
use serde_json::{Value, json};

#[test]
fn inspect_lists_parameters_as_json_and_table() {
    let dir = tempdir();
    let source = "alpha: float = 0.5  # the learning rate\nname = 'world'\nitems = [\n    1,\n    2,\n]  # what to process\ncount = 3  # type: int";
    let nb = notebook(&[("#md intro", &[]), (source, &["parameters"])]);
    let path = write_notebook(dir.path(), "nb.ipynb", &nb);
    let output =
        Command::cargo_bin("nbw").unwrap().arg("inspect").arg(&path).args(["-o", "json"]).output().unwrap();
    assert!(output.status.success());
    let specs: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        specs[0],
        json!({"name": "alpha", "type_name": "float", "default": "0.5", "help": "the learning rate"})
    );
    assert_eq!(specs[1]["name"], "name");
    assert_eq!(specs[1]["type_name"], "str");
    assert_eq!(specs[2]["default"], "[1,2,]");
    assert_eq!(specs[2]["help"], "what to process");
    assert_eq!(specs[3]["type_name"], "int");

    let output = Command::cargo_bin("nbw").unwrap().arg("inspect").arg(&path).output().unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("alpha") && table.contains("the learning rate"), "{table}");
}

#[test]
fn inspect_without_a_parameters_cell_says_so() {
    let dir = tempdir();
    let path = write_notebook(dir.path(), "nb.ipynb", &notebook(&[("x = 1", &[])]));
    let output = Command::cargo_bin("nbw").unwrap().arg("inspect").arg(&path).output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("no cell tagged \"parameters\""));
}
