//! A pipeline survives its agent: a real `nbw server` (SQLite and PostgreSQL) with a short
//! lease, an `nbw agent` killed as a crash would while a step runs, and a second agent.

use std::time::{Duration, Instant};

use crate::support::{Server, notebook};
use serde_json::json;

async fn a_step_lost_with_its_agent_is_retried_and_the_pipeline_goes_on(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    let mut env = vec![("NBW_LEASE_SECS", "3")];
    if let Some(url) = database.as_deref() {
        env.push(("NBW_DATABASE_URL", url));
    }
    let server = Server::start(dir.path(), &env).await;
    let slow = notebook(&[("import time\nprint('started', flush=True)\ntime.sleep(4)", &[])]);
    let quick = notebook(&[("print('after')", &[])]);
    server.project_with("demo", &[("slow.ipynb", slow), ("quick.ipynb", quick)]).await;
    let (status, body) = server
        .call(
            reqwest::Method::PUT,
            "/v1/projects/demo/pipelines/survive",
            Some(json!({"spec": {"steps": [
                {"name": "slow", "notebook": "slow.ipynb", "retries": {"max": 1, "backoff": 1}},
                {"name": "after", "notebook": "quick.ipynb"}
            ]}})),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let token = server.agent_token("a1", json!({})).await;
    let mut first = server.agent(dir.path(), &token, 1, &[]);
    let run = server.post_ok("/v1/projects/demo/pipelines/survive/runs", json!({})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/projects/demo/pipeline-runs/{id}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.get_ok(&path).await["steps"][0]["state"] != "running" {
        assert!(Instant::now() < deadline, "the first step never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill9();
    let _second = server.agent(dir.path(), &token, 1, &[]);
    let done = server.wait_pipeline_run("demo", &id, Duration::from_secs(90)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let execution = done["steps"][0]["execution_id"].as_str().unwrap();
    let retried = server.get_ok(&format!("/v1/executions/{execution}")).await;
    assert_eq!(retried["attempt"], 2, "the step's execution is the retry of the lost one: {retried}");
    assert_eq!(done["steps"][1]["state"], "succeeded", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_lost_with_its_agent_is_retried_and_the_pipeline_goes_on_on_sqlite() {
    a_step_lost_with_its_agent_is_retried_and_the_pipeline_goes_on(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_lost_with_its_agent_is_retried_and_the_pipeline_goes_on_on_postgres() {
    a_step_lost_with_its_agent_is_retried_and_the_pipeline_goes_on(Some(nbw_testkit::fresh_postgres_url()))
        .await;
}
