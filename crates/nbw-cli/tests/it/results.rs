//! `NBW_RESULT` end to end: a real server (SQLite and PostgreSQL), a real agent, real kernels
//! (cold and warm). What a notebook writes there becomes its execution's `result.values`.

use std::time::Duration;

use crate::support::{Server, notebook};
use serde_json::{Value, json};

/// A notebook that passes values with the `nbw_result` helper, then merges one more by hand.
fn writes_values() -> Value {
    notebook(&[
        ("from nbw_result import nbw_result\nnbw_result(rows=3, day='2026-01-05')", &[]),
        (
            "import json, os\nwith open(os.environ['NBW_RESULT']) as f:\n    v = json.load(f)\nv['more'] = [1, 2]\nwith open(os.environ['NBW_RESULT'], 'w') as f:\n    json.dump(v, f)",
            &[],
        ),
    ])
}

async fn run(server: &Server, notebook: &str) -> Value {
    let created =
        server.post_ok("/v1/projects/demo/executions", json!({"notebook": notebook, "parameters": {}})).await;
    server.wait_final(created["id"].as_str().unwrap(), Duration::from_secs(60)).await
}

async fn values_reach_the_result(database: Option<String>, agent_flags: &[&str]) {
    let dir = nbw_testkit::tempdir();
    let env: Vec<(&str, &str)> =
        database.as_deref().map(|url| ("NBW_DATABASE_URL", url)).into_iter().collect();
    let server = Server::start(dir.path(), &env).await;
    let silent = notebook(&[("print('no values')", &[])]);
    let wrong = notebook(&[("import os\nopen(os.environ['NBW_RESULT'], 'w').write('[1, 2]')", &[])]);
    server
        .project_with(
            "demo",
            &[("values.ipynb", writes_values()), ("silent.ipynb", silent), ("wrong.ipynb", wrong)],
        )
        .await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, agent_flags);

    let done = run(&server, "values.ipynb").await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["result"]["values"], json!({"rows": 3, "day": "2026-01-05", "more": [1, 2]}), "{done}");

    let done = run(&server, "silent.ipynb").await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(done["result"].get("values").is_none(), "no file, no values: {done}");

    let done = run(&server, "wrong.ipynb").await;
    assert_eq!(done["state"], "succeeded", "a bad result does not fail its own run: {done}");
    let why = done["result"]["values_error"].as_str().unwrap_or_default();
    assert!(why.contains("an array, not a JSON object"), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notebooks_result_values_reach_its_execution_on_sqlite() {
    values_reach_the_result(None, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notebooks_result_values_reach_its_execution_on_postgres() {
    values_reach_the_result(Some(nbw_testkit::fresh_postgres_url()), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_kernel_gets_the_result_file_and_the_helper_too() {
    values_reach_the_result(None, &["--warm", "1"]).await;
}
