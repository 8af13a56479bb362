//! A team from the CLI alone: against a real `nbw server`, an administrator creates two users,
//! registers an agent (started with the printed token), creates a project and gives the users
//! roles; the viewer cannot run, the editor can (on that agent); then a user is disabled and
//! the agent revoked. Every step is the `nbw` binary; HTTP is used only to check an outcome.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, nbw, run};

/// Runs `nbw ARGS` with config folder `config` in `cwd`; asserts the exit code, returns stdout.
fn ok(config: &Path, cwd: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (code, out, err) = exit_code(config, cwd, args, stdin);
    assert_eq!(code, 0, "nbw {args:?}: {out}{err}");
    out
}

fn exit_code(config: &Path, cwd: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = nbw(config, cwd);
    cmd.args(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin.to_owned());
    }
    run(&mut cmd)
}

fn json_of(config: &Path, cwd: &Path, args: &[&str]) -> Value {
    let out = ok(config, cwd, args, None);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("nbw {args:?} -o json: {e}: {out}"))
}

fn login(server: &Server, config: &Path, cwd: &Path, username: &str, password: &str) {
    let args = ["login", &server.base, "--username", username, "--password-stdin"];
    ok(config, cwd, &args, Some(&format!("{password}\n")));
}

/// The agent named `name` in `nbw admin agent list -o json`.
fn agent_listed(config: &Path, cwd: &Path, name: &str) -> Value {
    let list = json_of(config, cwd, &["admin", "agent", "list", "-o", "json"]);
    list.as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap_or_else(|| panic!("{list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_from_the_cli_alone() {
    let dir = nbw_testkit::tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd, &[]).await;
    let admin = cwd.join("admin-config");
    server.login(&admin, cwd);

    // Two users: one with a password from stdin, one with a generated password printed once.
    let created: Value = serde_json::from_str(&ok(
        &admin,
        cwd,
        &["admin", "user", "create", "ed", "--password-stdin", "-o", "json"],
        Some("editor password\n"),
    ))
    .unwrap();
    assert_eq!((created["username"].as_str(), created.get("password")), (Some("ed"), None), "{created}");
    let viewer_password = ok(&admin, cwd, &["admin", "user", "create", "vi"], None).trim().to_owned();
    assert!(viewer_password.len() >= 20, "a generated password on stdout: {viewer_password:?}");
    let users = json_of(&admin, cwd, &["admin", "user", "list", "-o", "json"]);
    let names: Vec<&str> =
        users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "ed", "vi"]);
    let (code, _, err) = exit_code(
        &admin,
        cwd,
        &["admin", "user", "create", "ed", "--password-stdin"],
        Some("another password\n"),
    );
    assert_eq!(code, 10, "a taken name is a conflict: {err}");

    // An agent: its token is printed once and starts a real agent.
    let token = ok(&admin, cwd, &["admin", "agent", "register", "runner", "--labels", "zone=eu"], None);
    let token = token.trim();
    assert!(token.starts_with("nbwa_"), "{token}");
    let mut agent = server.agent(cwd, token, 1, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let listed = loop {
        let listed = agent_listed(&admin, cwd, "runner");
        if listed["online"] == true {
            break listed;
        }
        assert!(Instant::now() < deadline, "the agent never came online: {listed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listed["version"], env!("CARGO_PKG_VERSION"), "{listed}");
    assert_eq!(listed["revoked"], false);
    let table = ok(&admin, cwd, &["admin", "agent", "list"], None);
    assert!(table.contains("runner") && table.contains("online"), "{table}");

    // A project, pushed by its owner, with the two users as editor and viewer.
    let project =
        json_of(&admin, cwd, &["project", "create", "team", "--description", "the team's", "-o", "json"]);
    assert_eq!((project["name"].as_str(), project["role"].as_str()), (Some("team"), Some("owner")));
    ok(&admin, cwd, &["init", "team"], None);
    let root = cwd.join("team");
    ok(&admin, &root, &["push", "--yes"], None);
    ok(&admin, &root, &["members", "add", "ed", "--role", "editor"], None);
    ok(&admin, cwd, &["members", "add", "vi", "--project", "team"], None);
    let members = json_of(&admin, &root, &["members", "list", "-o", "json"]);
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(roles.contains(&("ed", "editor")) && roles.contains(&("vi", "viewer")), "{members}");
    assert_eq!(exit_code(&admin, &root, &["members", "add", "ed"], None).0, 10, "already a member");
    assert_eq!(exit_code(&admin, &root, &["members", "set-role", "nobody", "editor"], None).0, 2);
    assert_eq!(exit_code(&admin, &root, &["members", "set-role", "ed", "boss"], None).0, 2);

    // The viewer reads but cannot run, change members, nor delete the project.
    let viewer = cwd.join("viewer-config");
    login(&server, &viewer, cwd, "vi", &viewer_password);
    let projects = json_of(&viewer, cwd, &["project", "list", "-o", "json"]);
    assert_eq!(projects[0]["role"], "viewer", "{projects}");
    let (code, out, err) = exit_code(&viewer, &root, &["wf", "run", "welcome"], None);
    assert_eq!(code, 10, "a viewer ran a workflow: {out}{err}");
    assert_eq!(exit_code(&viewer, &root, &["members", "set-role", "vi", "owner"], None).0, 10);
    assert_eq!(exit_code(&viewer, &root, &["project", "rm", "team", "--yes"], None).0, 10);
    assert_eq!(exit_code(&viewer, cwd, &["admin", "user", "list"], None).0, 10, "not an administrator");

    // The editor runs the workflow on the agent and watches it succeed.
    let editor = cwd.join("editor-config");
    login(&server, &editor, cwd, "ed", "editor password");
    let (code, out, err) = exit_code(&editor, &root, &["wf", "run", "welcome", "--watch"], None);
    assert_eq!(code, 0, "the editor's run: {out}{err}");
    assert!(out.contains("Hello, world!"), "{out}{err}");

    // Disabled, the viewer's stored login stops working at once: exit 9, log in again.
    let disabled = json_of(&admin, cwd, &["admin", "user", "disable", "vi", "-o", "json"]);
    assert_eq!(disabled["disabled"], true);
    let (code, _, err) = exit_code(&viewer, cwd, &["project", "list"], None);
    assert_eq!(code, 9, "a disabled user's token still works: {err}");
    let (code, _, err) = exit_code(
        &viewer,
        cwd,
        &["login", &server.base, "--username", "vi", "--password-stdin"],
        Some(&format!("{viewer_password}\n")),
    );
    assert_eq!(code, 9, "a disabled user logged in: {err}");
    // A reset password works at once; the old one no longer does.
    ok(&admin, cwd, &["admin", "user", "enable", "vi"], None);
    let new_password = ok(&admin, cwd, &["admin", "user", "reset-password", "vi"], None).trim().to_owned();
    assert_ne!(new_password, viewer_password);
    login(&server, &viewer, cwd, "vi", &new_password);

    // Revoked, the agent's token stops working.
    ok(&admin, cwd, &["admin", "agent", "revoke", "runner"], None);
    let listed = agent_listed(&admin, cwd, "runner");
    assert_eq!((&listed["revoked"], &listed["online"]), (&json!(true), &json!(false)), "{listed}");
    let claim = reqwest::Client::new()
        .post(format!("{}/v1/agent/claim", server.base))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status(), 401);
    agent.kill9();
    assert_eq!(
        exit_code(&admin, cwd, &["admin", "agent", "revoke", "runner"], None).0,
        2,
        "no such agent left"
    );

    // Deleting a project asks first: no terminal and no --yes is exit 11, nothing deleted.
    let (code, _, err) = exit_code(&admin, cwd, &["project", "rm", "team"], None);
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("--yes"), "{err}");
    ok(&admin, cwd, &["project", "rm", "team", "--yes"], None);
    let projects = json_of(&admin, cwd, &["project", "list", "-o", "json"]);
    assert_eq!(projects, json!([]));
}

#[test]
fn completions_know_the_team_commands() {
    let dir = nbw_testkit::tempdir();
    let script = ok(dir.path(), dir.path(), &["completions", "bash"], None);
    for word in ["admin", "members", "project", "reset-password", "set-role", "register", "revoke"] {
        assert!(script.contains(word), "{word} is not in the bash completions");
    }
}
