//! Runtimes on both backends: runs in a runtime resolve its built image (the newest, or the
//! version asked for) and need a Docker agent; builds are executions only Docker agents claim,
//! whose success registers the runtime version; workflow volumes are checked and carried.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::queue_support::{Fixture, Project, TestAgent};
use crate::support;
use crate::support::assert_error;

const DOCKER: (&str, &str) = ("nbw.executor", "docker");

fn docker_labels() -> Value {
    json!({DOCKER.0: DOCKER.1})
}

/// Registers `version` of runtime `name` by hand.
async fn register(f: &Fixture, project: &Project, name: &str, version: &str) {
    let image = format!("nbw/{}/{name}:{version}", project.name);
    let body =
        json!({"name": name, "version": version, "image": image, "image_id": format!("sha256:{version}")});
    let (status, body) =
        f.server.post(&format!("/v1/projects/{}/runtimes", project.name), &f.owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Runs `main.ipynb` with the extra fields of `body`.
async fn run(f: &Fixture, project: &Project, body: Value) -> (StatusCode, Value) {
    let mut request = json!({"notebook": "main.ipynb"});
    request.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    f.server.post(&format!("/v1/projects/{}/executions", project.name), &f.owner, request).await
}

/// Asks for a build of `runtime` as `token`.
async fn build(
    f: &Fixture,
    project: &Project,
    runtime: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    f.server.post(&format!("/v1/projects/{}/runtimes/{runtime}/builds", project.name), token, body).await
}

/// Claims the next execution with `agent` and completes it as a build that produced `image_id`.
async fn claim_and_build(f: &Fixture, agent: &TestAgent, image_id: &str) -> Value {
    let claim = f.claim(agent, 5).await;
    let id = claim["execution"]["id"].as_str().expect("a build to claim").to_owned();
    let image = claim["execution"]["spec"]["build"]["image"].clone();
    let result = json!({"result": {"state": "succeeded", "image": {
        "image": image, "image_id": image_id, "dockerfile_hash": "sha256:df"}}});
    let path = format!("/v1/agent/executions/{id}/complete");
    let (status, body) = f.server.post(&path, &agent.token, result.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A repeated completion (a lost answer, a retry) answers the same and registers nothing twice.
    let (status, again) = f.server.post(&path, &agent.token, result).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["state"], "succeeded");
    body
}

async fn runtimes(f: &Fixture, project: &Project, query: &str) -> Vec<Value> {
    let (status, list) =
        f.server.get(&format!("/v1/projects/{}/runtimes{query}", project.name), &f.owner).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

both_backends!(a_run_in_a_runtime_gets_its_built_image_and_needs_docker, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;

    let (status, body) = run(&f, &project, json!({"runtime": "gpu"})).await;
    assert_error((status, body.clone()), StatusCode::BAD_REQUEST, "runtime_not_built");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"gpu\"") && message.contains("\"sales\""), "{message}");
    assert!(message.contains("nbw runtime build gpu"), "{message}");
    assert_error(run(&f, &project, json!({"runtime": "a b"})).await, StatusCode::BAD_REQUEST, "invalid_name");
    assert_error(
        run(&f, &project, json!({"runtime_version": "v1"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    register(&f, &project, "gpu", "v1").await;
    register(&f, &project, "gpu", "v2").await;
    register(&f, &project, "cpu", "v3").await;
    let (status, execution) = run(&f, &project, json!({"runtime": "gpu", "labels": {"zone": "eu"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{execution}");
    let spec = &execution["spec"];
    assert_eq!(
        spec["container"],
        json!({"runtime": "gpu", "version": "v2", "image": "nbw/sales/gpu:v2", "image_id": "sha256:v2"})
    );
    assert_eq!((&spec["runtime"], &spec["runtime_version"]), (&json!("gpu"), &json!("v2")));
    assert_eq!(execution["labels"], json!({DOCKER.0: DOCKER.1, "zone": "eu"}));

    let (_, pinned) = run(&f, &project, json!({"runtime": "gpu", "runtime_version": "v1"})).await;
    assert_eq!(pinned["spec"]["container"]["image"], "nbw/sales/gpu:v1");
    let (status, body) = run(&f, &project, json!({"runtime": "gpu", "runtime_version": "v9"})).await;
    assert_error((status, body.clone()), StatusCode::NOT_FOUND, "not_found");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("v9\"; built versions, newest first: v2, v1"),
        "{body}"
    );

    // Without a runtime nothing changes: no container, no Docker label.
    let (_, local) = run(&f, &project, json!({})).await;
    assert!(local["spec"].get("container").is_none(), "{local}");
    assert_eq!(local["labels"], json!({}));

    // Only an agent with Docker claims the runs in a container.
    let plain = f.agent("plain", json!({"zone": "eu"})).await;
    let docker = f.agent("docker", json!({DOCKER.0: DOCKER.1, "zone": "eu"})).await;
    assert_eq!(f.claim(&plain, 0).await["execution"]["id"], local["id"]);
    assert_eq!(f.claim(&plain, 0).await, Value::Null);
    assert_eq!(f.claim(&docker, 0).await["execution"]["id"], execution["id"]);

    assert_eq!(runtimes(&f, &project, "").await.len(), 3);
    let gpu: Vec<Value> = runtimes(&f, &project, "?name=gpu").await;
    let versions: Vec<&str> = gpu.iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["v2", "v1"]);
});

both_backends!(workflow_runs_and_their_retries_keep_the_resolved_image, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;
    let workflows = format!("/v1/projects/{}/workflows", project.name);
    let workflow = json!({"name": "nightly", "notebook": "main.ipynb", "runtime": "gpu",
        "volumes": ["data:/data", "/srv/in:/in:ro"], "retries": {"max_retries": 1, "backoff_secs": 0}});
    let (status, body) = f.server.post(&workflows, &f.owner, workflow).await;
    assert_eq!(status, StatusCode::CREATED, "a runtime may be built after the workflow exists: {body}");
    let run_now = format!("{workflows}/nightly/run");
    assert_error(
        f.server.post(&run_now, &f.owner, json!({})).await,
        StatusCode::BAD_REQUEST,
        "runtime_not_built",
    );

    register(&f, &project, "gpu", "v1").await;
    let (status, execution) = f.server.post(&run_now, &f.owner, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{execution}");
    assert_eq!(execution["spec"]["container"]["version"], "v1");
    assert_eq!(execution["spec"]["volumes"], json!(["data:/data", "/srv/in:/in:ro"]));
    assert_eq!(execution["labels"], docker_labels());

    // A newer version built meanwhile does not change the retry: it reruns the same image.
    register(&f, &project, "gpu", "v2").await;
    let docker = f.agent("docker", docker_labels()).await;
    let id = f.claim(&docker, 0).await["execution"]["id"].as_str().unwrap().to_owned();
    assert_eq!(f.complete(&docker, &id, "failed").await.0, StatusCode::OK);
    let retry = f.claim(&docker, 5).await;
    assert_eq!(retry["execution"]["previous_attempt_id"], json!(id));
    assert_eq!(retry["execution"]["spec"]["container"], execution["spec"]["container"]);
    assert_eq!(retry["execution"]["labels"], docker_labels());
});

both_backends!(workflow_volumes_are_checked, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;
    let workflows = format!("/v1/projects/{}/workflows", project.name);
    let bad =
        json!({"name": "nightly", "notebook": "main.ipynb", "runtime": "gpu", "volumes": ["data:relative"]});
    let (status, body) = f.server.post(&workflows, &f.owner, bad).await;
    assert_error((status, body.clone()), StatusCode::BAD_REQUEST, "invalid_volume");
    assert!(body["error"]["message"].as_str().unwrap().contains("data:relative"), "{body}");

    let good =
        json!({"name": "nightly", "notebook": "main.ipynb", "runtime": "gpu", "volumes": ["data:/data"]});
    assert_eq!(f.server.post(&workflows, &f.owner, good).await.0, StatusCode::CREATED);
    let edit = json!({"name": "nightly", "notebook": "main.ipynb", "runtime": "gpu", "volumes": ["x:/nbw"]});
    assert_error(
        f.server.put(&format!("{workflows}/nightly"), &f.owner, edit).await,
        StatusCode::BAD_REQUEST,
        "invalid_volume",
    );
    let nameless = json!({"name": "other", "notebook": "main.ipynb", "runtime_version": "v1"});
    assert_error(
        f.server.post(&workflows, &f.owner, nameless).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
});

both_backends!(a_build_runs_on_a_docker_agent_and_registers_the_runtime, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;
    let viewer = f.server.user("vic", false).await;
    let members = format!("/v1/projects/{}/members/vic", project.name);
    assert_eq!(f.server.put(&members, &f.owner, json!({"role": "viewer"})).await.0, StatusCode::OK);
    assert_error(build(&f, &project, "GPU", &viewer, json!({})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        build(&f, &project, "a b", &f.owner, json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    assert_error(
        build(&f, &project, "GPU", &f.owner, json!({"bundle_version": "v9"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let (status, execution) = build(&f, &project, "GPU", &f.owner, json!({"origin": "cli"})).await;
    assert_eq!(status, StatusCode::CREATED, "{execution}");
    assert!(execution["id"].as_str().unwrap().starts_with("cli."), "{execution}");
    assert_eq!(execution["state"], "queued");
    assert_eq!(execution["spec"]["build"], json!({"runtime": "GPU", "image": "nbw/sales/gpu:v1"}));
    assert_eq!(execution["spec"]["notebook"], "Dockerfile.GPU");
    assert_eq!(execution["spec"]["bundle_version"], "v1");
    assert_eq!(execution["spec"]["retries"]["max_retries"], 0);
    assert_eq!(execution["labels"], docker_labels());

    let plain = f.agent("plain", json!({})).await;
    let docker = f.agent("docker", docker_labels()).await;
    assert_eq!(f.claim(&plain, 0).await, Value::Null);
    let done = claim_and_build(&f, &docker, "sha256:first").await;
    assert_eq!((&done["id"], &done["state"]), (&execution["id"], &json!("succeeded")));
    let listed = runtimes(&f, &project, "").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (&listed[0]["name"], &listed[0]["version"], &listed[0]["image"]),
        (&json!("GPU"), &json!("v1"), &json!("nbw/sales/gpu:v1"))
    );
    assert_eq!(
        (&listed[0]["image_id"], &listed[0]["dockerfile_hash"]),
        (&json!("sha256:first"), &json!("sha256:df"))
    );
    let (_, run_in_it) = run(&f, &project, json!({"runtime": "GPU"})).await;
    assert_eq!(run_in_it["spec"]["container"]["image_id"], "sha256:first");
    assert_eq!(f.claim(&docker, 0).await["execution"]["id"], run_in_it["id"]);

    // A rebuild of the same bundle version replaces the image; a registration by hand may not.
    assert_eq!(build(&f, &project, "GPU", &f.owner, json!({})).await.0, StatusCode::CREATED);
    claim_and_build(&f, &docker, "sha256:second").await;
    let listed = runtimes(&f, &project, "").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["image_id"], "sha256:second");
    let by_hand = json!({"name": "GPU", "version": "v1", "image": "elsewhere/gpu:v1"});
    assert_error(
        f.server.post(&format!("/v1/projects/{}/runtimes", project.name), &f.owner, by_hand).await,
        StatusCode::CONFLICT,
        "conflict",
    );
});

both_backends!(a_build_that_succeeds_without_an_image_is_recorded_as_failed, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;
    let docker = f.agent("docker", docker_labels()).await;
    let (_, execution) = build(&f, &project, "gpu", &f.owner, json!({})).await;
    let id = execution["id"].as_str().unwrap();
    assert_eq!(f.claim(&docker, 0).await["execution"]["id"], execution["id"]);
    for _ in 0..2 {
        let (status, body) = f.complete(&docker, id, "succeeded").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "failed");
        assert!(body["result"]["message"].as_str().unwrap().contains("not the image it built"), "{body}");
    }
    assert_eq!(f.execution(id).await["state"], "failed");
    assert!(runtimes(&f, &project, "").await.is_empty());
    // A build that failed registers nothing either.
    build(&f, &project, "gpu", &f.owner, json!({})).await;
    let id = f.claim(&docker, 0).await["execution"]["id"].as_str().unwrap().to_owned();
    assert_eq!(f.complete(&docker, &id, "failed").await.0, StatusCode::OK);
    assert!(runtimes(&f, &project, "").await.is_empty());
});

// The document does not depend on the backend.
#[tokio::test]
async fn the_openapi_document_describes_builds() {
    let server = support::TestServer::start(support::Backend::Sqlite).await;
    let (_, doc) = server.call(reqwest::Method::GET, "/v1/openapi.json", None, None).await;
    let build = &doc["paths"]["/v1/projects/{project}/runtimes/{name}/builds"]["post"];
    assert_eq!(
        build["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateBuild"
    );
    for schema in ["CreateBuild", "BuildSpec", "ContainerImage", "BuiltImage", "Runtime"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is documented");
    }
    let list = &doc["paths"]["/v1/projects/{project}/runtimes"]["get"]["parameters"];
    assert!(list.as_array().unwrap().iter().any(|p| p["name"] == "name"), "{list}");
}

both_backends!(
    a_pinned_runtime_version_is_checked_when_the_workflow_is_pushed_and_used_by_its_runs,
    |backend| async move {
        let f = Fixture::new(backend).await;
        let project = f.project("sales").await;
        let workflows = format!("/v1/projects/{}/workflows", project.name);
        // What `nbw push` sends for `runtimes.gpu.version: v9` when v9 was never built.
        let pinned = |version: &str| json!({"name": "nightly", "notebook": "main.ipynb", "runtime": "gpu", "runtime_version": version});
        assert_error(
            f.server.post(&workflows, &f.owner, pinned("v1")).await,
            StatusCode::BAD_REQUEST,
            "runtime_not_built",
        );
        register(&f, &project, "gpu", "v1").await;
        register(&f, &project, "gpu", "v2").await;
        let (status, body) = f.server.post(&workflows, &f.owner, pinned("v9")).await;
        assert_error((status, body.clone()), StatusCode::BAD_REQUEST, "unknown_runtime_version");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("\"gpu\" has no version \"v9\"; built versions, newest first: v2, v1"),
            "{message}"
        );

        let (status, body) = f.server.post(&workflows, &f.owner, pinned("v1")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, execution) =
            f.server.post(&format!("{workflows}/nightly/run"), &f.owner, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{execution}");
        assert_eq!(
            execution["spec"]["container"]["image"], "nbw/sales/gpu:v1",
            "the pin wins over the newest"
        );

        // A replace is checked the same way.
        let (status, body) = f.server.put(&format!("{workflows}/nightly"), &f.owner, pinned("v7")).await;
        assert_error((status, body), StatusCode::BAD_REQUEST, "unknown_runtime_version");
    }
);

both_backends!(a_gpu_workflow_is_claimed_only_by_an_agent_with_the_gpu_label, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("sales").await;
    let workflows = format!("/v1/projects/{}/workflows", project.name);
    // What `nbw push` sends for `gpu: true` (on the workflow or on its runtime).
    let label = nbw_core::api::GPU_LABEL;
    let workflow = json!({"name": "train", "notebook": "main.ipynb", "labels": {label.0: label.1}});
    let (status, body) = f.server.post(&workflows, &f.owner, workflow).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, execution) = f.server.post(&format!("{workflows}/train/run"), &f.owner, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{execution}");
    assert_eq!(execution["labels"], json!({"gpu": "true"}));

    let cpu = f.agent("cpu", docker_labels()).await;
    let gpu = f.agent("gpu", json!({DOCKER.0: DOCKER.1, label.0: label.1})).await;
    assert_eq!(f.claim(&cpu, 0).await, Value::Null, "an agent without GPUs leaves it queued");
    assert_eq!(f.claim(&gpu, 0).await["execution"]["id"], execution["id"]);
});
