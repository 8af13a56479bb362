//! What the pipeline tests start from: the queue fixture (a server, an owner, agents, a project
//! with a bundle holding `main.ipynb`), with pipelines put and run through the API and their
//! steps driven through the raw agent routes, so no kernel is needed.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::queue_support::{Fixture, Project, TestAgent};

/// A step of `main.ipynb` named `name`, needing `needs`.
pub fn step(name: &str, needs: &[&str]) -> Value {
    json!({"name": name, "notebook": "main.ipynb", "needs": needs})
}

/// Puts the pipeline `name` with `spec` as the owner; the answer.
pub async fn put(f: &Fixture, project: &Project, name: &str, spec: Value) -> (StatusCode, Value) {
    let path = format!("/v1/projects/{}/pipelines/{name}", project.name);
    f.server.put(&path, &f.owner, json!({"spec": spec})).await
}

/// Puts a pipeline that must be accepted.
pub async fn define(f: &Fixture, project: &Project, name: &str, spec: Value) {
    let (status, body) = put(f, project, name, spec).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Runs the pipeline `name` as the owner; the run.
pub async fn run(f: &Fixture, project: &Project, name: &str, request: Value) -> Value {
    let path = format!("/v1/projects/{}/pipelines/{name}/runs", project.name);
    let (status, body) = f.server.post(&path, &f.owner, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The run `id` as the owner sees it.
pub async fn get_run(f: &Fixture, project: &Project, id: &str) -> Value {
    let (status, body) =
        f.server.get(&format!("/v1/projects/{}/pipeline-runs/{id}", project.name), &f.owner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The state of each step of run `id`, in order, as `name=state`.
pub async fn step_states(f: &Fixture, project: &Project, id: &str) -> Vec<String> {
    let run = get_run(f, project, id).await;
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}={}", s["name"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect()
}

/// Claims one execution without waiting: `(execution id, step name)`, or `None`.
pub async fn claim_step(f: &Fixture, agent: &TestAgent) -> Option<(String, String)> {
    let claim = f.claim(agent, 0).await;
    if claim.is_null() {
        return None;
    }
    let execution = &claim["execution"];
    Some((
        execution["id"].as_str().unwrap().to_owned(),
        execution["spec"]["step"]["step"].as_str().unwrap().to_owned(),
    ))
}

/// Completes execution `id` with `state` and the `NBW_RESULT` values `values`.
pub async fn finish(f: &Fixture, agent: &TestAgent, id: &str, state: &str, values: Value) {
    let mut result = json!({"state": state});
    if !values.is_null() {
        result["values"] = values;
    }
    let path = format!("/v1/agent/executions/{id}/complete");
    let (status, body) = f.server.post(&path, &agent.token, json!({"result": result})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
