//! Runtimes end to end on the real Docker engine: a real `nbw server`, `nbw agent --docker`
//! processes, runtime images built by an agent from the test base image, kernels in containers.
//! Every test asserts through the engine (`docker ps`) that no container outlives its run.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, notebook};

/// The base image, or `None` (a skip) without Docker outside CI.
fn base_image() -> Option<String> {
    nbw_testkit::docker_or_skip().then(|| nbw_testkit::docker_base_image().to_owned())
}

/// Containers (running or not) carrying label `key=value`.
fn containers(key: &str, value: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label={key}={value}")])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn remove_images(reference: &str) {
    let out = Command::new("docker").args(["images", "-q", reference]).output().unwrap();
    for id in String::from_utf8(out.stdout).unwrap().split_whitespace() {
        let _ = Command::new("docker").args(["rmi", "-f", id]).output();
    }
}

/// A project `name` whose bundle `version` has `nbw.yaml` with runtime `rt` (extra YAML lines)
/// and `nb.ipynb` from `cells`.
async fn runtime_project(
    server: &Server,
    name: &str,
    version: &str,
    image: &str,
    runtime: &str,
    cells: &[(&str, &[&str])],
) {
    let yaml = format!("project: {name}\nruntimes:\n  rt:\n    image: {image}\n{runtime}");
    let nb = serde_json::to_vec(&notebook(cells)).unwrap();
    server.upload_bundle(name, version, &[("nbw.yaml", yaml.into_bytes()), ("nb.ipynb", nb)]).await;
}

/// Builds runtime `rt` of `project` from bundle `version` on a Docker agent; returns the build.
async fn build(server: &Server, project: &str, version: &str) -> Value {
    let created = server
        .post_ok(&format!("/v1/projects/{project}/runtimes/rt/builds"), json!({"bundle_version": version}))
        .await;
    let id = created["id"].as_str().unwrap();
    let done = server.wait_final(id, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "the build failed: {done}");
    done
}

async fn exec(server: &Server, project: &str, body: Value) -> Value {
    let mut body = body;
    body["notebook"] = json!("nb.ipynb");
    server.post_ok(&format!("/v1/projects/{project}/executions"), body).await
}

async fn output_text(server: &Server, id: &str) -> String {
    let bytes = server.get_bytes(&format!("/v1/executions/{id}/output")).await;
    let nb: Value = serde_json::from_slice(&bytes).unwrap();
    nb["cells"].as_array().unwrap().iter().map(nbw_testkit::cell_text).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_runtime_adds_a_package_and_versions_pin_their_image() {
    let Some(image) = base_image() else { return };
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let project = "rtdemo";
    server.post_ok("/v1/projects", json!({"name": project})).await;
    let cells: &[(&str, &[&str])] =
        &[("import os, yaml\nprint('mark', os.environ['MARK'], 'yaml', yaml.__version__)", &[])];
    // python3-yaml is not in the base image: only the built runtime has it.
    runtime_project(
        &server,
        project,
        "v1",
        &image,
        "    apt_packages: [python3-yaml]\n    env: {MARK: one}\n",
        cells,
    )
    .await;
    runtime_project(
        &server,
        project,
        "v2",
        &image,
        "    apt_packages: [python3-yaml]\n    env: {MARK: two}\n",
        cells,
    )
    .await;
    let token = server.agent_token("builder", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &["--docker"]);

    let built = build(&server, project, "v1").await;
    assert_eq!(built["spec"]["build"]["image"], format!("nbw/{project}/rt:v1"));
    // A finished execution's event stream replays and ends.
    let events = server.get_bytes(&format!("/v1/executions/{}/events", built["id"].as_str().unwrap())).await;
    let events = String::from_utf8_lossy(&events);
    assert!(events.contains("python3-yaml"), "the build log streams as events: {events}");
    build(&server, project, "v2").await;
    let runtimes = server.get_ok(&format!("/v1/projects/{project}/runtimes")).await;
    let versions: Vec<&str> =
        runtimes.as_array().unwrap().iter().filter_map(|r| r["version"].as_str()).collect();
    assert!(versions.contains(&"v1") && versions.contains(&"v2"), "{runtimes}");
    assert!(runtimes[0]["image_id"].as_str().unwrap().starts_with("sha256:"), "{runtimes}");

    let latest = exec(&server, project, json!({"runtime": "rt"})).await;
    let pinned = exec(&server, project, json!({"runtime": "rt", "runtime_version": "v1"})).await;
    let plain = exec(&server, project, json!({})).await;
    for (execution, mark) in [(&latest, "two"), (&pinned, "one")] {
        let id = execution["id"].as_str().unwrap();
        let done = server.wait_final(id, Duration::from_secs(120)).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        let text = output_text(&server, id).await;
        assert!(text.contains(&format!("mark {mark} yaml")), "{id}: {text}");
        wait_until_removed(id).await;
    }
    // Without a runtime the notebook runs on the agent's local kernel, which has no MARK.
    let plain = server.wait_final(plain["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(plain["state"], "failed", "{plain}");
    remove_images(&format!("nbw/{project}/rt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_timeouts_cancels_and_a_killed_agent_leave_no_container() {
    let Some(image) = base_image() else { return };
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let project = "limits";
    server.post_ok("/v1/projects", json!({"name": project})).await;
    let cells: &[(&str, &[&str])] = &[
        ("megabytes = 0\nseconds = 0", &["parameters"]),
        (
            "import time\nx = bytearray(megabytes * 1024 * 1024)\nprint('started', flush=True)\ntime.sleep(seconds)",
            &[],
        ),
    ];
    runtime_project(&server, project, "v1", &image, "    memory: 96m\n", cells).await;
    // The base image itself is the runtime image here: no build needed to test the executor.
    server
        .post_ok(
            &format!("/v1/projects/{project}/runtimes"),
            json!({"name": "rt", "version": "v1", "image": image}),
        )
        .await;
    let token = server.agent_token("runner", json!({})).await;
    let mut agent = server.agent(dir.path(), &token, 2, &["--docker"]);

    let oom = exec(&server, project, json!({"runtime": "rt", "parameters": {"megabytes": 400}})).await;
    let timeout =
        exec(&server, project, json!({"runtime": "rt", "parameters": {"seconds": 300}, "timeout_secs": 4}))
            .await;
    let oom = server.wait_final(oom["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(oom["state"], "failed", "{oom}");
    let message = oom["result"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("out of memory") && message.contains("96m"), "{message}");
    let timeout = server.wait_final(timeout["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(timeout["state"], "timed_out", "{timeout}");

    let cancelled = exec(&server, project, json!({"runtime": "rt", "parameters": {"seconds": 300}})).await;
    let id = cancelled["id"].as_str().unwrap().to_owned();
    wait_for_container(&id).await;
    server.call(Method::POST, &format!("/v1/executions/{id}/cancel"), Some(json!({}))).await;
    let cancelled = server.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    // A run that did not succeed is reported only once its container is gone.
    for execution in [&oom, &timeout, &cancelled] {
        let id = execution["id"].as_str().unwrap();
        assert!(containers("nbw.execution", id).is_empty(), "{id} left a container");
    }

    // An agent killed mid-run leaves its container; the agent's next start removes it.
    let orphan = exec(&server, project, json!({"runtime": "rt", "parameters": {"seconds": 300}})).await;
    let orphan = orphan["id"].as_str().unwrap().to_owned();
    wait_for_container(&orphan).await;
    agent.kill9();
    assert_eq!(containers("nbw.execution", &orphan).len(), 1, "the container outlives a killed agent");
    let _restarted = server.agent(dir.path(), &token, 2, &["--docker"]);
    wait_until_removed(&orphan).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_executions_on_two_slots_all_succeed_and_leave_no_container() {
    let Some(image) = base_image() else { return };
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let project = "many";
    server.post_ok("/v1/projects", json!({"name": project})).await;
    let cells: &[(&str, &[&str])] = &[
        ("n = 0", &["parameters"]),
        ("import os\nprint('square', n * n, 'secret length', len(os.environ['API_TOKEN']))", &[]),
    ];
    runtime_project(&server, project, "v1", &image, "    network: none\n", cells).await;
    server
        .post_ok(
            &format!("/v1/projects/{project}/runtimes"),
            json!({"name": "rt", "version": "v1", "image": image}),
        )
        .await;
    // Secrets reach the container as environment variables (and are redacted from its output).
    let secret = json!({"value": "s3cr3t-value-42"});
    server.call(Method::PUT, &format!("/v1/projects/{project}/secrets/API_TOKEN"), Some(secret)).await;
    let token = server.agent_token("pair", json!({})).await;
    let agent = server.agent(dir.path(), &token, 2, &["--docker"]);
    let mut ids = Vec::new();
    for n in 0..20 {
        let created = exec(&server, project, json!({"runtime": "rt", "parameters": {"n": n}})).await;
        ids.push((n, created["id"].as_str().unwrap().to_owned()));
    }
    for (n, id) in &ids {
        let done = server.wait_final(id, Duration::from_secs(300)).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        let text = output_text(&server, id).await;
        assert!(text.contains(&format!("square {} secret length 15", n * n)), "{text}");
    }
    for (_, id) in &ids {
        wait_until_removed(id).await;
    }
    drop(agent);
}

async fn wait_for_container(execution: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while containers("nbw.execution", execution).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no container appeared for {execution}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A successful run is reported while its kernel exits: its container goes moments later.
async fn wait_until_removed(execution: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !containers("nbw.execution", execution).is_empty() {
        assert!(std::time::Instant::now() < deadline, "{execution} left a container");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nbw_run_image_cleans_up_and_removes_what_a_killed_run_left() {
    let Some(image) = base_image() else { return };
    let dir = nbw_testkit::tempdir();
    let sleepy = notebook(&[("import time\nprint('sleeping', flush=True)\ntime.sleep(300)", &[])]);
    let quick = notebook(&[("import os\nprint('cwd', os.getcwd())", &[])]);
    std::fs::write(dir.path().join("sleepy.ipynb"), serde_json::to_vec(&sleepy).unwrap()).unwrap();
    std::fs::write(dir.path().join("quick.ipynb"), serde_json::to_vec(&quick).unwrap()).unwrap();
    let run = |input: &str| {
        let mut command = Command::new(crate::support::nbw_bin());
        command.current_dir(dir.path()).args(["run", "--no-progress", "--image", &image, input]);
        command
    };
    let mut killed = run("sleepy.ipynb").stderr(std::process::Stdio::null()).spawn().unwrap();
    let owner = format!("run-{}", killed.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while containers("nbw.agent", &owner).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no container for the run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(containers("nbw.agent", &owner).len(), 1, "a killed run cannot remove its container");

    let quick = run("quick.ipynb").output().unwrap();
    assert!(quick.status.success(), "{}", String::from_utf8_lossy(&quick.stderr));
    let out: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("quick.out.ipynb")).unwrap()).unwrap();
    assert!(nbw_testkit::cell_text(&out["cells"][0]).contains("cwd /app"), "{out}");
    assert!(containers("nbw.agent", &owner).is_empty(), "the next run removes the killed run's container");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_only_error_in_a_container_fails_the_run_with_the_banner() {
    let Some(image) = base_image() else { return };
    let dir = nbw_testkit::tempdir();
    let nb = notebook(&[("x = 1", &[]), ("%undefined-line-magic", &[]), ("print('never')", &[])]);
    std::fs::write(dir.path().join("magic.ipynb"), serde_json::to_vec(&nb).unwrap()).unwrap();
    let output = Command::new(crate::support::nbw_bin())
        .current_dir(dir.path())
        .args(["run", "--no-progress", "--image", &image, "magic.ipynb"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let out: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("magic.out.ipynb")).unwrap()).unwrap();
    assert_eq!(out["metadata"]["papermill"]["exception"], true);
    assert_eq!(out["metadata"]["nbw"]["status"], "failed");
    let banner: String =
        out["cells"][0]["source"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(banner.contains("An Exception was encountered"), "{banner}");
}

/// Whether `docker info` lists a runtime of the NVIDIA container toolkit.
fn engine_has_nvidia_runtime() -> bool {
    let out = Command::new("docker").args(["info", "--format", "{{json .Runtimes}}"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_ascii_lowercase().contains("nvidia")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_agent_has_the_gpu_label_only_when_its_engine_offers_gpus() {
    if base_image().is_none() {
        return;
    }
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    // Registered by hand with gpu=true: the agent checks the engine and corrects it.
    let token = server.agent_token("maybe-gpu", json!({"gpu": "true", "zone": "eu"})).await;
    let _agent = server.agent(dir.path(), &token, 1, &["--docker"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let labels = loop {
        let agents = server.get_ok("/v1/agents").await;
        let labels =
            agents.as_array().unwrap().iter().find(|a| a["name"] == "maybe-gpu").unwrap()["labels"].clone();
        if labels.get("nbw.executor").is_some() {
            break labels;
        }
        assert!(std::time::Instant::now() < deadline, "the agent never introduced itself: {labels}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut expected = json!({"nbw.executor": "docker", "zone": "eu"});
    if engine_has_nvidia_runtime() {
        expected["gpu"] = json!("true");
    }
    assert_eq!(labels, expected);
}
