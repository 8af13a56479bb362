//! Typed parameters and default timeouts from the client's side, against a real `nbw server`
//! and agent: `nbw wf show` lists the notebook's typed parameters and the effective limits,
//! `nbw wf run` with a bad value is refused (exit 2) before anything is queued, and a run
//! without a timeout of its own is stopped by the server's default, ending `timed_out`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Server, nbw, notebook, run};

const PROJECT_FILE: &str = "project: typed
defaults:
  max_queue: 1h
workflows:
  sleepy:
    notebook: sleepy.ipynb
    parameter_rules:
      seconds: {min: 0, max: 120, description: how long to sleep}
      mode: {choices: [fast, slow]}
";

/// A project folder with `nbw.yaml` and a notebook whose parameters cell declares an int and
/// a str.
fn project(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("typed");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("nbw.yaml"), PROJECT_FILE).unwrap();
    nbw_testkit::write_notebook(
        &root,
        "sleepy.ipynb",
        &notebook(&[
            ("seconds = 60  # seconds to sleep\nmode = 'fast'", &["parameters"]),
            ("import time\nprint('started', flush=True)\ntime.sleep(seconds)", &[]),
        ]),
    );
    root
}

async fn executions(server: &Server) -> Vec<Value> {
    server.get_ok("/v1/projects/typed/executions").await["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wf_show_lists_types_and_limits_and_a_bad_value_is_refused_before_queueing() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let server = Server::start(dir.path(), &[("NBW_DEFAULT_TIMEOUT_SECS", "2")]).await;
    let root = project(dir.path());
    server.login(&config, dir.path());
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(nbw(&config, &root).args(["wf", "show", "sleepy"]));
    assert_eq!(code, 0, "{out}{err}");
    for expected in
        ["2s (server)", "1h (workflow)", "seconds", "int", "60", "0 ≤ x ≤ 120", "how long to sleep"]
    {
        assert!(out.contains(expected), "{expected:?} missing from\n{out}");
    }
    assert!(out.contains(r#"one of ["fast","slow"]"#), "{out}");
    let (code, out, _) = run(nbw(&config, &root).args(["wf", "show", "sleepy", "-o", "json"]));
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["effective_timeout_secs"], 2);
    assert_eq!(shown["max_queue_secs"], 3600);
    assert_eq!(shown["typed_parameters"][0]["type"], "int");
    assert_eq!(shown["typed_parameters"][1]["rule"]["choices"], json!(["fast", "slow"]));

    let (code, _, err) = run(nbw(&config, &root).args(["wf", "run", "sleepy", "-p", "seconds", "soon"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(r#"parameter "seconds" expects int, received "soon" (str)"#), "{err}");
    let (code, _, err) = run(nbw(&config, &root).args(["wf", "run", "sleepy", "-p", "secs", "1"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(r#"unknown parameter "secs": the notebook's parameters are seconds, mode"#),
        "{err}"
    );
    let (code, _, err) = run(nbw(&config, &root).args(["wf", "run", "sleepy", "-p", "mode", "medium"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(r#"expects one of "fast", "slow", received "medium""#), "{err}");
    let (code, _, err) = run(nbw(&config, &root).args(["wf", "run", "sleepy", "-p", "mode", "1"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass a string as it is with -r NAME VALUE"), "{err}");
    assert!(executions(&server).await.is_empty(), "nothing may be queued");

    // A run without a timeout of its own gets the server's default (2 s) and is stopped by it.
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    let (code, out, err) =
        run(nbw(&config, &root).args(["wf", "run", "sleepy", "-p", "seconds", "30", "--watch"]));
    assert_eq!(code, 3, "timed out is exit 3: {out}{err}");
    let listed = executions(&server).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap();
    let execution = server.wait_final(id, Duration::from_secs(60)).await;
    assert_eq!(execution["state"], "timed_out", "{execution}");
    assert_eq!(execution["spec"]["timeout_secs"], 2, "the recorded timeout: {execution}");
}
