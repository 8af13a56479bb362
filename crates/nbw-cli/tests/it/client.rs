//! The client commands end to end: `nbw init, login, push, wf, exec, history, logs, outputs,
//! cancel, secrets, import` against a real `nbw server` process (and a real agent with real
//! kernels where a run is needed), each test with its own config folder (`NBW_CONFIG_DIR`).
//!
//! About 600 lines: the client's commands against one kind of server, one concept.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, nbw, notebook, run};

fn credentials(config: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(config.join("credentials.json")).unwrap()).unwrap()
}

/// Makes `nbw init` project `name` in `dir` with extra notebooks; returns its folder.
fn project(config: &Path, dir: &Path, name: &str) -> PathBuf {
    let (code, out, err) = run(nbw(config, dir).args(["init", name]));
    assert_eq!(code, 0, "{out}{err}");
    let root = dir.join(name);
    for file in ["nbw.yaml", "notebooks/welcome.ipynb", "requirements.txt", ".nbwignore", ".gitignore"] {
        assert!(root.join(file).is_file(), "nbw init did not write {file}");
    }
    assert!(std::fs::read_to_string(root.join(".gitignore")).unwrap().contains("local.nbvars"));
    let requirements = std::fs::read_to_string(root.join("requirements.txt")).unwrap();
    assert!(requirements.lines().any(|l| l == "ipykernel"), "the runtime image needs it: {requirements}");
    let notebooks = root.join("notebooks");
    nbw_testkit::write_notebook(
        &notebooks,
        "fails.ipynb",
        &notebook(&[("raise ValueError('boom on purpose')", &[])]),
    );
    nbw_testkit::write_notebook(
        &notebooks,
        "sleepy.ipynb",
        &notebook(&[
            ("seconds = 60", &["parameters"]),
            ("import time\nprint('started', flush=True)\ntime.sleep(seconds)", &[]),
        ]),
    );
    root
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

async fn wait_state(server: &Server, id: &str, wanted: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let execution = server.get_ok(&format!("/v1/executions/{id}")).await;
        if execution["state"] == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became {wanted}: {execution}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_push_run_watch_history_logs_outputs_cancel_and_secrets() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let server = Server::start(dir.path(), &[]).await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 2, &[]);
    let root = project(&config, dir.path(), "proj");
    server.login(&config, dir.path());
    let mode = std::fs::metadata(config.join("credentials.json")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);

    // The plan: nothing is applied without a yes, and there is no terminal here.
    let (code, out, err) = run(nbw(&config, &root).arg("push"));
    assert_eq!(code, 11, "{out}{err}");
    assert!(out.contains("+ create project proj"), "{out}");
    assert!(out.contains("+ create workflow welcome"), "{out}");
    assert!(err.contains("--yes"), "{err}");
    let (status, _) = server.call(reqwest::Method::GET, "/v1/projects/proj", None).await;
    assert_eq!(status, 404, "a refused plan changed the server");

    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("created workflow welcome"), "{err}");
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Nothing to do"), "a re-push is not a no-op: {out}{err}");

    // A change is an update; a workflow the file does not list is deleted.
    edit(&root.join("nbw.yaml"), "parameters: {name: world, times: 2}", "parameters: {name: nbw, times: 3}");
    server
        .post_ok(
            "/v1/projects/proj/workflows",
            json!({"name": "stray", "notebook": "notebooks/welcome.ipynb"}),
        )
        .await;
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--dry-run"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("~ update workflow welcome"), "{out}");
    assert!(out.contains("parameters:"), "{out}");
    assert!(out.contains("- delete workflow stray"), "{out}");
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes", "-o", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["applied"], true);
    let list: Value =
        serde_json::from_str(&run(nbw(&config, &root).args(["wf", "list", "-o", "json"])).1).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["welcome"]);
    assert_eq!(list[0]["parameters"]["times"], 3);

    // Run the workflow and watch it: the output comes live, the exit code is the run's.
    let (code, out, err) =
        run(nbw(&config, &root).args(["wf", "run", "welcome", "-p", "name", "watcher", "--watch"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Hello, watcher! (3/3)"), "{out}{err}");
    assert!(err.contains("succeeded"), "{err}");

    // A notebook of the bundle; a failing one exits 1; an unknown one is bad input.
    let (code, out, err) = run(nbw(&config, &root).args(["exec", "welcome", "-p", "times", "1"]));
    assert_eq!(code, 0, "{out}{err}");
    let exec_id = out.trim().to_owned();
    assert!(exec_id.starts_with("cli."), "{out}");
    let (code, out, err) = run(nbw(&config, &root).args(["exec", "notebooks/fails.ipynb", "--watch"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("boom on purpose"), "{out}{err}");
    assert!(err.contains("failed"), "{err}");
    let (code, out, err) = run(nbw(&config, &root).args(["exec", "notebooks/nope.ipynb"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("has no notebook \"notebooks/nope.ipynb\""), "{err}");
    assert!(err.contains("notebooks/welcome.ipynb"), "the known notebooks are listed: {err}");
    server.wait_final(&exec_id, Duration::from_secs(60)).await;

    // History, logs and outputs.
    let (code, out, err) = run(nbw(&config, &root).args(["history", "-o", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let history: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");
    let (code, out, _) = run(nbw(&config, &root).args(["history", "--workflow", "welcome"]));
    assert_eq!(code, 0);
    assert!(out.contains("welcome") && out.contains("succeeded"), "{out}");
    assert!(!out.contains(&exec_id), "--workflow filters: {out}");
    let (code, out, _) = run(nbw(&config, &root).args(["history", "--last", "1", "-o", "json"]));
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().len(), 1);
    let (code, out, err) = run(nbw(&config, dir.path()).args(["logs", &exec_id]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Hello, world! (1/1)"), "{out}");
    let (code, out, _) = run(nbw(&config, dir.path()).args(["logs", "--events", &exec_id]));
    assert_eq!(code, 0);
    assert!(out.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "{out}");
    let target = dir.path().join("out.ipynb");
    let (code, out, err) =
        run(nbw(&config, dir.path()).args(["outputs", "get", &exec_id, "-o"]).arg(&target));
    assert_eq!(code, 0, "{out}{err}");
    let output = nbw_testkit::read_json(&target);
    assert!(output["cells"].to_string().contains("Hello, world!"), "{output}");

    // Cancel a running execution; its logs then end with the cancelled code.
    let (code, out, err) = run(nbw(&config, &root).args(["exec", "sleepy", "-o", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let sleepy = serde_json::from_str::<Value>(&out).unwrap()["id"].as_str().unwrap().to_owned();
    wait_state(&server, &sleepy, "running", Duration::from_secs(60)).await;
    // `nbw logs` of a running execution prints what is stored so far and returns.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out, err) = run(nbw(&config, dir.path()).args(["logs", &sleepy]));
        assert_eq!(code, 0, "{out}{err}");
        if out.contains("started") {
            assert!(err.contains("still running"), "{err}");
            break;
        }
        assert!(Instant::now() < deadline, "the sleepy notebook never printed: {out}{err}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, out, err) = run(nbw(&config, dir.path()).args(["cancel", &sleepy, "--wait"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("cancelled"), "{err}");
    let (code, out, err) = run(nbw(&config, dir.path()).args(["logs", "-f", &sleepy]));
    assert_eq!(code, 6, "{out}{err}");
    assert!(out.contains("started"), "{out}");
    let (code, _, err) = run(nbw(&config, dir.path()).args(["cancel", &sleepy]));
    assert_eq!(code, 10, "cancelling a finished run is a conflict: {err}");

    // Workflows on and off.
    let (code, _, err) = run(nbw(&config, &root).args(["wf", "disable", "welcome"]));
    assert_eq!(code, 0, "{err}");
    let shown: Value =
        serde_json::from_str(&run(nbw(&config, &root).args(["wf", "show", "welcome", "-o", "json"])).1)
            .unwrap();
    assert_eq!(shown["enabled"], false);
    let (code, out, _) = run(nbw(&config, &root).args(["wf", "show", "welcome", "-o", "yaml"]));
    assert_eq!(code, 0);
    assert!(out.contains("enabled: false"), "{out}");

    // Secrets from local.nbvars; a malformed line is reported with its number.
    std::fs::write(root.join("local.nbvars"), "# test\nAPI_TOKEN=abc\nnot a pair\n").unwrap();
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes", "--secrets"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("line 3"), "{err}");
    std::fs::write(root.join("local.nbvars"), "# test\nAPI_TOKEN=abc\n\nDB_URL=\"postgres://x\"\n").unwrap();
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes", "--secrets"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(nbw(&config, &root).args(["secrets", "list", "-o", "json"]));
    assert_eq!(code, 0);
    let secrets: Vec<String> = serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(secrets, ["API_TOKEN", "DB_URL"]);
    assert!(!out.contains("abc"), "values are never shown: {out}");

    // Logging out revokes the login.
    let (code, _, err) = run(nbw(&config, &root).arg("logout"));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(nbw(&config, &root).args(["wf", "list"]));
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("nbw login"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_list_remote_builds_and_a_schedule_firing_in_a_runtime_never_built() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let server = Server::start(dir.path(), &[]).await;
    let root = project(&config, dir.path(), "images");
    // Every second, in a runtime with no version: each fire records why it created no run.
    edit(&root.join("nbw.yaml"), "    # runtime: default", "    runtime: default");
    edit(&root.join("nbw.yaml"), "    # schedule: {interval: 10m}", "    schedule: {interval: 1s}");
    server.login(&config, dir.path());
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(nbw(&config, &root).args(["runtime", "list", "-o", "json"]));
    assert_eq!((code, out.trim()), (0, "[]"), "{err}");
    let (code, out, err) = run(nbw(&config, &root).args(["runtime", "ls"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("version") && out.contains("image id") && !out.contains("default"), "{out}");
    assert!(err.contains("No runtime versions recorded in project images"), "{err}");

    // A build on an agent, from the latest push; no agent takes it here, so it stays queued.
    let (code, out, err) = run(nbw(&config, &root).args(["runtime", "build", "default", "--remote"]));
    assert_eq!(code, 0, "{out}{err}");
    let id = out.trim();
    assert!(id.starts_with("cli."), "{out}");
    assert!(err.contains(&format!("nbw logs -f {id}")), "{err}");
    let build = server.get_ok(&format!("/v1/executions/{id}")).await;
    assert_eq!(build["state"], "queued", "{build}");
    let version = build["spec"]["bundle_version"].as_str().unwrap();
    assert_eq!(
        build["spec"]["build"],
        json!({"runtime": "default", "image": format!("nbw/images/default:{version}")})
    );
    let (code, out, err) = run(nbw(&config, &root).args([
        "runtime",
        "build",
        "default",
        "--remote",
        "--version",
        version,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let build: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(build["spec"]["build"]["runtime"], "default", "{build}");
    let (code, _, err) =
        run(nbw(&config, &root).args(["runtime", "build", "default", "--remote", "--version", "nope"]));
    assert_eq!(code, 2, "an unknown bundle version is bad input: {err}");
    let (code, _, err) =
        run(nbw(&config, &root).args(["runtime", "build", "default", "--remote", "--local-only"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");

    // `wf show` tells why the schedule runs nothing.
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        let (code, out, err) = run(nbw(&config, &root).args(["wf", "show", "welcome", "-o", "json"]));
        assert_eq!(code, 0, "{err}");
        let shown: Value = serde_json::from_str(&out).unwrap();
        if !shown["last_fire_error"].is_null() {
            break shown["last_fire_error"].clone();
        }
        assert!(Instant::now() < deadline, "no fire error was recorded: {shown}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(error["code"], "runtime_not_built", "{error}");
    let (code, out, err) = run(nbw(&config, &root).args(["wf", "show", "welcome"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("last fire error") && out.contains("runtime_not_built at "), "{out}");
    assert!(out.contains("nbw runtime build default"), "the fix is named: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_runtime_version_is_checked_by_push_and_runs_use_it() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let server = Server::start(dir.path(), &[]).await;
    let root = project(&config, dir.path(), "pinned");
    let file = root.join("nbw.yaml");
    edit(&file, "    # runtime: default", "    runtime: default");
    server.login(&config, dir.path());
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    for version in ["v1", "v2"] {
        let image = format!("nbw/pinned/default:{version}");
        server
            .post_ok(
                "/v1/projects/pinned/runtimes",
                json!({"name": "default", "version": version, "image": image}),
            )
            .await;
    }

    edit(
        &file,
        "    requirements: requirements.txt\n",
        "    requirements: requirements.txt\n    version: v9\n",
    );
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 2, "a version never built is bad input: {out}{err}");
    assert!(err.contains("has no version \"v9\"; built versions, newest first: v2, v1"), "{err}");

    edit(&file, "    version: v9\n", "    version: v1\n");
    let (code, out, err) = run(nbw(&config, &root).args(["push", "--yes"]));
    assert_eq!(code, 0, "{out}{err}");
    let execution = server.post_ok("/v1/projects/pinned/workflows/welcome/run", json!({})).await;
    assert_eq!(execution["spec"]["container"]["image"], "nbw/pinned/default:v1", "the pin, not the newest");
    // A run asked for from the project folder gets the pin too, unless it names a version.
    let exec = |extra: &[&str]| {
        let mut args = vec!["exec", "notebooks/welcome.ipynb", "--runtime", "default", "-o", "json"];
        args.extend_from_slice(extra);
        let (code, out, err) = run(nbw(&config, &root).args(&args));
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<Value>(&out).unwrap()["spec"]["container"]["image"].clone()
    };
    assert_eq!(exec(&[]), "nbw/pinned/default:v1");
    assert_eq!(exec(&["--runtime-version", "v2"]), "nbw/pinned/default:v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_login_refreshes_and_a_revoked_one_asks_to_log_in_again() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let server = Server::start(dir.path(), &[]).await;
    server.post_ok("/v1/projects", json!({"name": "p1"})).await;
    server.login(&config, dir.path());

    // An access token past its expiry is refreshed, and the rotated refresh token is kept.
    let mut stored = credentials(&config);
    let before = stored["servers"][&server.base]["refresh_token"].as_str().unwrap().to_owned();
    stored["servers"][&server.base]["access_expires_at"] = json!("2000-01-01T00:00:00Z");
    std::fs::write(config.join("credentials.json"), stored.to_string()).unwrap();
    let (code, out, err) = run(nbw(&config, dir.path()).args(["wf", "list", "--project", "p1"]));
    assert_eq!(code, 0, "{out}{err}");
    let after = credentials(&config);
    let refreshed = &after["servers"][&server.base];
    assert_ne!(
        refreshed["refresh_token"].as_str().unwrap(),
        before,
        "the rotated refresh token was not stored"
    );
    assert!(refreshed["access_expires_at"].as_str().unwrap() > "2001", "{refreshed}");

    // Expired again, and the refresh token revoked: log in again, with its own exit code.
    let mut stored = after.clone();
    let refresh = stored["servers"][&server.base]["refresh_token"].as_str().unwrap().to_owned();
    server.post_ok("/v1/auth/logout", json!({"refresh_token": refresh})).await;
    stored["servers"][&server.base]["access_expires_at"] = json!("2000-01-01T00:00:00Z");
    std::fs::write(config.join("credentials.json"), stored.to_string()).unwrap();
    let (code, out, err) = run(nbw(&config, dir.path()).args(["wf", "list", "--project", "p1"]));
    assert_eq!(code, 9, "{out}{err}");
    assert!(err.contains("expired") && err.contains(&format!("nbw login {}", server.base)), "{err}");

    // A wrong password says so, with the same code.
    let (code, _, err) = run(nbw(&config, dir.path())
        .args(["login", &server.base, "--username", "admin", "--password-stdin"])
        .write_stdin("wrong password\n"));
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("wrong user name or password"), "{err}");
}

#[test]
fn an_unreachable_server_and_a_missing_login_have_their_own_exit_codes() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let (code, _, err) = run(nbw(&config, dir.path()).args(["wf", "list", "--project", "p"]));
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("not logged in"), "{err}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, _, err) = run(nbw(&config, dir.path())
        .args(["login", &url, "--username", "admin", "--password-stdin"])
        .write_stdin("x\n"));
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("cannot reach the nbw server"), "{err}");
    std::fs::create_dir_all(&config).unwrap();
    let far = "2100-01-01T00:00:00Z";
    let store = json!({"current": url, "servers": {url.clone(): {
        "username": "admin", "access_token": "t", "access_expires_at": far, "refresh_token": "r", "refresh_expires_at": far
    }}});
    std::fs::write(config.join("credentials.json"), store.to_string()).unwrap();
    let (code, _, err) = run(nbw(&config, dir.path()).args(["history", "--project", "p"]));
    assert_eq!(code, 8, "{err}");
    assert!(err.contains(&url) && err.contains("--server"), "{err}");
}

#[test]
fn an_invalid_or_missing_project_file_is_bad_input_pointing_at_the_line() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let (code, _, err) = run(nbw(&config, dir.path()).arg("push"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no nbw.yaml") && err.contains("nbw init"), "{err}");

    std::fs::create_dir_all(dir.path().join("notebooks")).unwrap();
    std::fs::write(dir.path().join("notebooks/a.ipynb"), notebook(&[("1", &[])]).to_string()).unwrap();
    std::fs::write(
        dir.path().join("nbw.yaml"),
        "project: demo\nworkflows:\n  a:\n    notebook: notebooks/a.ipynb\n    schedul: '0 3 * * *'\n",
    )
    .unwrap();
    let (code, _, err) = run(nbw(&config, dir.path()).arg("push"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nbw.yaml:5:5: workflows.a: unknown field `schedul`"), "{err}");
    assert!(err.contains("`schedule`"), "the expected fields are named: {err}");

    std::fs::write(
        dir.path().join("nbw.yaml"),
        "project: demo\nworkflows:\n  a:\n    notebook: notebooks/a.ipynb\n    schedule: {cron: '0 25 * * *'}\n  b:\n    notebook: notebooks/b.ipynb\n",
    )
    .unwrap();
    let (code, _, err) = run(nbw(&config, dir.path()).args(["push", "--dry-run"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nbw.yaml:5:") && err.contains("invalid cron expression"), "{err}");
    assert!(
        err.contains("nbw.yaml:7:15: notebook \"notebooks/b.ipynb\" is not in the project folder"),
        "{err}"
    );
}

#[test]
fn init_from_a_colab_notebook_offers_parameters_and_collects_pip_installs() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    let colab = json!({
        "nbformat": 4, "nbformat_minor": 0,
        "metadata": {"colab": {"provenance": [], "name": "etl.ipynb"}, "accelerator": "GPU",
                     "kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {"id": "m1"}, "source": ["# ETL"]},
            {"cell_type": "code", "metadata": {"id": "c1", "colab": {"base_uri": "https://localhost:8080/"}},
             "execution_count": null, "outputs": [],
             "source": ["!pip install -q pandas==2.2 requests\n", "import os\n", "DAYS = 7  # how far back\n",
                        "URL = 'http://example.com'\n", "print('days', DAYS)"]}
        ]
    });
    std::fs::write(dir.path().join("etl.ipynb"), colab.to_string()).unwrap();
    let (code, out, err) = run(nbw(&config, dir.path()).args(["init", "proj", "--from", "etl.ipynb"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("DAYS = 7") && err.contains("URL = 'http://example.com'"),
        "the offer is shown: {err}"
    );
    let root = dir.path().join("proj");
    let nb = nbw_testkit::read_json(&root.join("notebooks/etl.ipynb"));
    assert!(nb["metadata"].get("colab").is_none() && nb["metadata"].get("accelerator").is_none(), "{nb}");
    let cells = nb["cells"].as_array().unwrap();
    let parameters = cells.iter().find(|c| c["metadata"]["tags"].to_string().contains("parameters")).unwrap();
    let source = parameters["source"].to_string();
    assert!(source.contains("DAYS = 7") && source.contains("URL = "), "{source}");
    assert!(cells.iter().all(|c| c["metadata"].get("colab").is_none()));
    assert!(nb.to_string().contains("# nbw: moved to requirements.txt: !pip install"), "{nb}");
    let requirements = std::fs::read_to_string(root.join("requirements.txt")).unwrap();
    assert!(requirements.contains("pandas==2.2\n") && requirements.contains("requests\n"), "{requirements}");
    let spec = nbw_core::project::load(&root.join("nbw.yaml")).unwrap();
    assert_eq!(spec.spec.workflows["etl"].notebook, "notebooks/etl.ipynb");

    // And it runs here with the engine, the parameter overridden.
    let (code, out, err) = run(nbw(&config, &root)
        .envs(nbw_testkit::kernel_env())
        .args(["exec", "etl", "--local", "-p", "DAYS", "3"]));
    assert_eq!(code, 0, "{out}{err}");
    let executed = nbw_testkit::read_json(&root.join("outputs/etl.out.ipynb"));
    assert!(executed.to_string().contains("days 3"), "{executed}");
}

fn fixture(version: &str) -> PathBuf {
    nbw_testkit::repo_root().join("crates/nbw-cli/tests/fixtures/import").join(version)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Imports a fixture; returns the new project file, checked, and the report.
fn import(version: &str) -> (nbw_core::project::ProjectFile, Value) {
    let dir = nbw_testkit::tempdir();
    let root = dir.path().join(version);
    copy_dir(&fixture(version), &root);
    let (code, out, err) = run(nbw(&dir.path().join("config"), &root).args(["import", "-o", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(root.join("nbw.yaml")).unwrap();
    let spec = nbw_core::project::parse(&text, Path::new("nbw.yaml"), None)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    (spec, report)
}

fn reasons(report: &Value) -> String {
    report["not_carried_over"].to_string()
}

#[test]
fn import_converts_a_0_6_project() {
    let (spec, report) = import("v06");
    assert_eq!(report["version"], "0.6");
    assert_eq!(spec.project, "demo-project");
    let hello = &spec.workflows["hello"];
    assert_eq!(hello.notebook, "notebooks/welcome.ipynb");
    assert_eq!(hello.schedule.as_ref().unwrap().cron.as_deref(), Some("0 * * * *"));
    assert_eq!(hello.timeout.unwrap().0, 10800);
    assert_eq!(hello.notifications[0].url_secret, "SLACK_WEBHOOK_URL");
    let report_wf = &spec.workflows["report"];
    assert!(!report_wf.enabled);
    assert_eq!(report_wf.schedule.as_ref().unwrap().interval.unwrap().0, 600);
    assert_eq!(report_wf.labels["machine"], "gpu");
    let why = reasons(&report);
    for expected in [
        "repetition count",
        "start_in_min",
        "notebooks/report.ipynb is not in the project folder",
        "croniter",
    ] {
        assert!(why.contains(expected), "{expected:?} missing from {why}");
    }
}

#[test]
fn import_converts_a_0_7_project_with_its_runtime_and_secrets_file() {
    let (spec, report) = import("v07");
    assert_eq!(report["version"], "0.7");
    let runtime = &spec.runtimes["default"];
    assert_eq!(runtime.image, "python:3.8.10-slim");
    assert_eq!(runtime.apt_packages, ["vim-tiny"]);
    assert_eq!(runtime.build_packages, ["build-essential", "libopenblas-dev", "git"]);
    assert_eq!(runtime.user.as_ref().unwrap().gid, Some(1090));
    let example = &spec.workflows["a_workflow_example"];
    assert!(!example.enabled);
    assert_eq!(example.schedule.as_ref().unwrap().interval.unwrap().0, 10);
    let nightly = &spec.workflows["nightly-etl"];
    assert_eq!(nightly.schedule.as_ref().unwrap().cron.as_deref(), Some("0 3 * * *"));
    assert_eq!(nightly.notifications.len(), 2, "{:?}", nightly.notifications);
    let why = reasons(&report);
    for expected in [
        "Dockerfile.nbruntime",
        "AGENT_TOKEN",
        "settings modules",
        "docker_version",
        "repetition count",
        "maintainer",
    ] {
        assert!(why.contains(expected), "{expected:?} missing from {why}");
    }
}

#[test]
fn import_converts_a_0_9_labfile_and_runtimes() {
    let (spec, report) = import("v09");
    assert_eq!(report["version"], "0.9");
    assert_eq!(spec.runtimes.len(), 2);
    assert_eq!(spec.runtimes["gpu"].apt_packages, ["python3-pip", "python3-setuptools"]);
    assert_eq!(spec.workflows["nightly"].runtime.as_deref(), Some("default"));
    let train = &spec.workflows["train"];
    assert_eq!(train.schedule.as_ref().unwrap().cron.as_deref(), Some("15 */30 * * * *"));
    assert!(train.gpu && spec.runtimes["gpu"].gpu && !spec.runtimes["default"].gpu);
    assert_eq!(train.labels.get("gpu"), None, "gpu: true, not a hand-made label");
    // WFID is injected by the run: the value the old file gave is dropped, EPOCHS stays.
    assert!(train.parameters.get("WFID").is_none() && train.parameters.get("EPOCHS").is_some());
    let why = reasons(&report);
    for expected in [
        "remote_output",
        "CUDA",
        "base_template",
        "Dockerfile.default",
        "pinning a runtime version",
        "WFID is injected",
    ] {
        assert!(why.contains(expected), "{expected:?} missing from {why}");
    }
    assert!(!why.contains("a field nbw does not know"), "every 0.9 field is handled: {why}");
}

#[test]
fn import_reports_where_notebooks_use_nb_workflows_helpers_and_what_to_write_instead() {
    let (_, report) = import("v09");
    let notes: Vec<(String, String)> = report["not_carried_over"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["item"].as_str().unwrap().to_owned(), n["reason"].as_str().unwrap().to_owned()))
        .collect();
    let at = |item: &str| {
        notes
            .iter()
            .find(|(i, _)| i == item)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("nothing at {item}: {notes:#?}"))
    };
    assert!(at("notebooks/train.ipynb: cell 2, line 2").contains("labfunctions"));
    assert!(at("notebooks/train.ipynb: cell 2, line 3").contains("frozen_result"));
    let secrets = at("notebooks/train.ipynb: cell 4, line 1");
    assert!(
        secrets.contains("`token = shortcuts.secrets[\"API_TOKEN\"]`") && secrets.contains("os.environ"),
        "{secrets}"
    );
    assert!(at("notebooks/train.ipynb: cell 4, line 2").contains("declare EXECID"));
    assert!(at("notebooks/train.ipynb: cell 4, line 4").contains("no result cache"));
    // Plain code, markdown and the notebook without helpers give no note.
    let in_notebooks: Vec<&String> =
        notes.iter().map(|(i, _)| i).filter(|i| i.starts_with("notebooks/")).collect();
    assert_eq!(in_notebooks.len(), 5, "{in_notebooks:?}");
}

#[test]
fn the_committed_schema_is_current_and_accepts_project_files() {
    let generated = serde_json::to_string_pretty(&nbw_core::project::json_schema()).unwrap() + "\n";
    let path = nbw_testkit::repo_root().join("schemas/nbw.schema.json");
    if std::env::var_os("NBW_UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "{} is stale: run this test with NBW_UPDATE_SCHEMA=1", path.display());
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let check = |name: &str, text: &str| {
        let instance: Value = serde_yaml::from_str(text).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "the schema refuses {name}: {errors:?}\n{text}");
    };
    let example = nbw_testkit::repo_root().join("examples/project/nbw.yaml");
    check("the example project", &std::fs::read_to_string(example).unwrap());
    let dir = nbw_testkit::tempdir();
    let (code, _, err) = run(nbw(&dir.path().join("config"), dir.path()).args(["init", "p"]));
    assert_eq!(code, 0, "{err}");
    check("nbw init's file", &std::fs::read_to_string(dir.path().join("p/nbw.yaml")).unwrap());
    for version in ["v06", "v07", "v09"] {
        let root = dir.path().join(version);
        copy_dir(&fixture(version), &root);
        let (code, _, err) = run(nbw(&dir.path().join("config"), &root).arg("import"));
        assert_eq!(code, 0, "{err}");
        check(&format!("the import of {version}"), &std::fs::read_to_string(root.join("nbw.yaml")).unwrap());
    }
    let bad: Value =
        serde_yaml::from_str("project: Bad Name\nworkflows:\n  a: {notebook: a.txt, bogus: 1}\n").unwrap();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn help_shows_examples_and_exit_codes_and_completions_are_generated() {
    let dir = nbw_testkit::tempdir();
    let config = dir.path().join("config");
    for command in [
        "init", "login", "push", "wf", "exec", "history", "logs", "outputs", "cancel", "secrets", "import",
        "runtime",
    ] {
        let (code, out, _) = run(nbw(&config, dir.path()).args([command, "--help"]));
        assert_eq!(code, 0, "{command}");
        assert!(out.contains("Examples:") && out.contains("Exit codes:"), "nbw {command} --help: {out}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(nbw(&config, dir.path()).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains("push") && out.contains("history"), "{shell}: {out}");
    }
}
