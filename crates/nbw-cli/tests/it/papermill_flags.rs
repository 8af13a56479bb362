//! papermill's command-line flags on `nbw run`, each run side by side with papermill 2.7.0 on
//! the same notebook where papermill can run it here, and notebooks at URLs: a real moto S3
//! server and a plain HTTP server on loopback, and clear errors for clouds without credentials.

use std::path::Path;

use nbw_testkit::{
    FileServer, S3Server, cell_text, kernel_env, notebook, read_json, tempdir, write_notebook,
};
use serde_json::{Value, json};

/// `nbw run` in `cwd` with the venv's kernels, none of the caller's cloud settings, and `env`.
fn nbw(cwd: &Path, env: &[(String, String)]) -> assert_cmd::Command {
    let mut cmd = crate::support::nbw(&cwd.join(".nbw-config"), cwd);
    for (key, _) in
        std::env::vars().filter(|(k, _)| ["AWS_", "GOOGLE_", "AZURE_"].iter().any(|p| k.starts_with(p)))
    {
        cmd.env_remove(key);
    }
    cmd.envs(kernel_env())
        .envs(env.iter().cloned())
        .env_remove("VIRTUAL_ENV")
        .arg("run")
        .arg("--no-progress");
    cmd
}

/// Runs `nbw run in.ipynb out.ipynb ARGS` and `papermill in.ipynb out.ipynb ARGS`, each in a
/// directory of its own (so relative paths read the same); returns both output notebooks and
/// the two directories.
fn side_by_side(nb: &Value, args: &[&str]) -> (Value, Value, tempfile::TempDir) {
    let dir = tempdir();
    let (ours, theirs) = (dir.path().join("nbw"), dir.path().join("papermill"));
    for sub in [&ours, &theirs] {
        std::fs::create_dir(sub).unwrap();
        write_notebook(sub, "in.ipynb", nb);
    }
    let (code, _, err) = crate::support::run(nbw(&ours, &[]).args(["in.ipynb", "out.ipynb"]).args(args));
    assert_eq!(code, 0, "nbw failed: {err}");
    let papermill = nbw_testkit::venv().join("bin/papermill");
    let output = std::process::Command::new(&papermill)
        .current_dir(&theirs)
        .args(["in.ipynb", "out.ipynb", "--log-level", "ERROR"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "papermill failed: {}", String::from_utf8_lossy(&output.stderr));
    (read_json(&ours.join("out.ipynb")), read_json(&theirs.join("out.ipynb")), dir)
}

fn joined(v: &Value) -> String {
    match v {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// The injected cell's source.
fn injected(nb: &Value) -> String {
    let cells = nb["cells"].as_array().unwrap();
    let cell = cells
        .iter()
        .find(|c| c["metadata"]["tags"] == json!(["injected-parameters"]))
        .expect("injected cell");
    joined(&cell["source"])
}

fn sample() -> Value {
    notebook(&[
        ("#md # Report", &[]),
        ("a = 1\nb = 'x'", &["parameters"]),
        ("import sys\nprint(a, b)\nprint('warned', file=sys.stderr)", &[]),
    ])
}

#[test]
fn prepare_only_writes_papermills_prepared_notebook_without_running() {
    let (ours, theirs, _dir) = side_by_side(&sample(), &["--prepare-only", "-p", "a", "5"]);
    let (ours_cells, theirs_cells) = (ours["cells"].as_array().unwrap(), theirs["cells"].as_array().unwrap());
    assert_eq!(ours_cells.len(), theirs_cells.len());
    for (o, t) in ours_cells.iter().zip(theirs_cells) {
        assert_eq!(o["metadata"], t["metadata"]);
        assert_eq!(joined(&o["source"]), joined(&t["source"]));
        assert_eq!(o.get("outputs"), t.get("outputs"), "nothing ran");
        assert_eq!(o.get("execution_count"), t.get("execution_count"));
    }
    let mut papermill = theirs["metadata"]["papermill"].clone();
    papermill.as_object_mut().unwrap().remove("version");
    assert_eq!(ours["metadata"]["papermill"], papermill);
}

#[test]
fn report_mode_hides_the_code_inputs_as_papermill_does() {
    let (ours, theirs, _dir) = side_by_side(&sample(), &["--report-mode", "-p", "a", "2"]);
    let hidden = |nb: &Value| -> Vec<Value> {
        nb["cells"].as_array().unwrap().iter().map(|c| c["metadata"]["jupyter"].clone()).collect()
    };
    assert_eq!(hidden(&ours), hidden(&theirs));
    assert_eq!(
        hidden(&ours),
        vec![
            Value::Null,
            json!({"source_hidden": true}),
            json!({"source_hidden": true}),
            json!({"source_hidden": true})
        ]
    );
    assert_eq!(cell_text(&ours["cells"][3]), cell_text(&theirs["cells"][3]));
}

#[test]
fn base64_parameters_decode_to_yaml_like_papermills() {
    // printf 'a: 7\nb: 2024-01-01\nc: [1, yes]\n' | base64
    let encoded = "YTogNwpiOiAyMDI0LTAxLTAxCmM6IFsxLCB5ZXNdCg==";
    let (ours, theirs, _dir) = side_by_side(&sample(), &["-b", encoded, "-p", "a", "8"]);
    assert_eq!(injected(&ours), injected(&theirs));
    assert_eq!(injected(&ours), "# Parameters\na = 8\nb = \"2024-01-01\"\nc = [1, True]\n");
    assert_eq!(cell_text(&ours["cells"][3]), "8 2024-01-01\nwarned\n");
    assert_eq!(ours["metadata"]["papermill"]["parameters"], theirs["metadata"]["papermill"]["parameters"]);
}

#[test]
fn inject_paths_pass_the_notebook_paths_as_parameters() {
    let nb = notebook(&[("print(PAPERMILL_INPUT_PATH, PAPERMILL_OUTPUT_PATH)", &[])]);
    let (ours, theirs, _dir) = side_by_side(&nb, &["--inject-paths"]);
    assert_eq!(injected(&ours), injected(&theirs));
    assert_eq!(cell_text(&ours["cells"][1]), "in.ipynb out.ipynb\n");
    for (flag, expected) in
        [("--inject-input-path", "PAPERMILL_INPUT_PATH"), ("--inject-output-path", "PAPERMILL_OUTPUT_PATH")]
    {
        let (ours, theirs, _dir) =
            side_by_side(&nb, &[flag, "--prepare-only", "-p", "PAPERMILL_INPUT_PATH", "given"]);
        assert_eq!(injected(&ours), injected(&theirs), "{flag}");
        assert!(injected(&ours).contains(expected), "{flag}");
    }
}

#[test]
fn stdout_and_stderr_files_receive_the_cells_streams() {
    let nb = notebook(&[
        ("import sys\nprint('one')\nprint('oops', file=sys.stderr)", &[]),
        ("print('two', end='')\nprint('!')", &[]),
    ]);
    let args = ["--stdout-file", "cells.out", "--stderr-file", "cells.err"];
    let (_, _, dir) = side_by_side(&nb, &args);
    for name in ["cells.out", "cells.err"] {
        let ours = std::fs::read_to_string(dir.path().join("nbw").join(name)).unwrap();
        let theirs = std::fs::read_to_string(dir.path().join("papermill").join(name)).unwrap();
        assert_eq!(ours, theirs, "{name}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("nbw/cells.out")).unwrap(), "one\ntwo!\n");
}

#[test]
fn notebooks_round_trip_through_a_local_s3_server() {
    let Some(s3) = S3Server::start_or_skip() else { return };
    s3.create_bucket("notebooks");
    s3.put("notebooks", "in/report.ipynb", serde_json::to_string(&sample()).unwrap().as_bytes());
    let dir = tempdir();
    let (code, _, err) = crate::support::run(
        nbw(dir.path(), &s3.env())
            .args(["s3://notebooks/in/report.ipynb", "s3://notebooks/runs/out.ipynb"])
            .args(["-p", "b", "from s3", "--inject-paths"]),
    );
    assert_eq!(code, 0, "{err}");
    let written: Value =
        serde_json::from_slice(&s3.get("notebooks", "runs/out.ipynb").expect("the output")).unwrap();
    assert_eq!(cell_text(&written["cells"][3]), "1 from s3\nwarned\n");
    let papermill = &written["metadata"]["papermill"];
    assert_eq!(papermill["input_path"], "s3://notebooks/in/report.ipynb");
    assert_eq!(papermill["parameters"]["PAPERMILL_OUTPUT_PATH"], "s3://notebooks/runs/out.ipynb");

    let (code, _, err) =
        crate::support::run(nbw(dir.path(), &s3.env()).args(["s3://notebooks/in/none.ipynb", "o.ipynb"]));
    assert_eq!(code, 2);
    assert!(err.contains("no such object") && err.contains("s3://notebooks/in/none.ipynb"), "{err}");
    let (code, _, err) =
        crate::support::run(nbw(dir.path(), &s3.env()).args(["s3://nobucket/report.ipynb", "o.ipynb"]));
    assert_eq!(code, 2);
    assert!(err.contains("no such bucket"), "{err}");
    let local = write_notebook(dir.path(), "local.ipynb", &sample());
    let (code, _, err) =
        crate::support::run(nbw(dir.path(), &s3.env()).arg(&local).arg("s3://nobucket/out.ipynb"));
    assert_eq!(code, 2);
    assert!(err.contains("no such bucket") && err.contains("kept in"), "{err}");
}

#[test]
fn http_notebooks_are_read_and_never_written() {
    let dir = tempdir();
    write_notebook(dir.path(), "served.ipynb", &sample());
    let server = FileServer::start(dir.path());
    let (code, _, err) =
        crate::support::run(nbw(dir.path(), &[]).arg(server.url("served.ipynb")).arg("out.ipynb"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(cell_text(&read_json(&dir.path().join("out.ipynb"))["cells"][2]), "1 x\nwarned\n");
    let (code, _, err) =
        crate::support::run(nbw(dir.path(), &[]).arg("served.ipynb").arg(server.url("out.ipynb")));
    assert_eq!(code, 2);
    assert!(err.contains("read-only") && err.contains("s3://"), "{err}");
}

#[test]
fn clouds_without_credentials_fail_with_the_variables_to_set() {
    let dir = tempdir();
    // No instance metadata service either: a refused local port stands in for it.
    let no_metadata = [("AWS_METADATA_ENDPOINT".to_owned(), "http://127.0.0.1:9".to_owned())];
    let cases = [
        ("s3://bucket/nb.ipynb", "AWS_ACCESS_KEY_ID"),
        ("gs://bucket/nb.ipynb", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("az://container/nb.ipynb", "AZURE_STORAGE_ACCOUNT_NAME"),
    ];
    for (url, variable) in cases {
        let (code, _, err) = crate::support::run(nbw(dir.path(), &no_metadata).args([url, "out.ipynb"]));
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains("no usable credentials") && err.contains(variable), "{url}: {err}");
    }
}
