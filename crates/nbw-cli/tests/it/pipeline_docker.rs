//! A SeqPipe on the Docker executor: a real `nbw server`, an `nbw agent --docker`, a runtime
//! image built from the test base image, kernels in containers sharing the run's named volume
//! at /nbw/shared; nothing (container or volume) is left once the run is over.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Server, notebook};
use reqwest::Method;
use serde_json::json;

/// `docker ARGS` output lines.
fn docker(args: &[&str]) -> Vec<String> {
    let out = Command::new("docker").args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seqpipe_in_containers_shares_a_volume_and_leaves_nothing() {
    if !nbw_testkit::docker_or_skip() {
        return;
    }
    let image = nbw_testkit::docker_base_image();
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let project = format!("pipedocker{}", nbw_testkit::unique_suffix());
    server.post_ok("/v1/projects", json!({"name": project})).await;
    let write = notebook(&[(
        "import os\nfrom nbw_result import nbw_result\nassert os.environ['NBW_SHARED'] == '/nbw/shared'\nopen('/nbw/shared/data.txt', 'w').write('a\\nb\\n')\nnbw_result(rows=2)",
        &[],
    )]);
    let read = notebook(&[
        ("rows = 0", &["parameters"]),
        (
            "lines = open('/nbw/shared/data.txt').read().split()\nassert len(lines) == rows == 2, (lines, rows)",
            &[],
        ),
    ]);
    let yaml = format!("project: {project}\nruntimes:\n  rt:\n    image: {image}\n");
    let files = [
        ("nbw.yaml", yaml.into_bytes()),
        ("write.ipynb", serde_json::to_vec(&write).unwrap()),
        ("read.ipynb", serde_json::to_vec(&read).unwrap()),
    ];
    server.upload_bundle(&project, "v1", &files).await;
    let token = server.agent_token("d1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &["--docker"]);
    let build = server
        .post_ok(&format!("/v1/projects/{project}/runtimes/rt/builds"), json!({"bundle_version": "v1"}))
        .await;
    let built = server.wait_final(build["id"].as_str().unwrap(), Duration::from_secs(300)).await;
    assert_eq!(built["state"], "succeeded", "{built}");
    let runtime_image = built["result"]["image"]["image"].as_str().unwrap().to_owned();

    let steps = json!([
        {"name": "write", "notebook": "write.ipynb", "runtime": "rt"},
        {"name": "read", "notebook": "read.ipynb", "runtime": "rt", "parameters": {"rows": "{{ steps.write.result.rows }}"}}
    ]);
    let path = format!("/v1/projects/{project}/pipelines/seq");
    let body = json!({"spec": {"shared_volume": true, "steps": steps}});
    let (status, answer) = server.call(Method::PUT, &path, Some(body)).await;
    assert!(status.is_success(), "{status} {answer}");
    let run = server.post_ok(&format!("{path}/runs"), json!({})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    let volume = format!("nbw-pipe-{}", id.split_once('.').unwrap().1.to_ascii_lowercase());
    let done = server.wait_pipeline_run(&project, &id, Duration::from_secs(120)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !docker(&["volume", "ls", "-q", "--filter", &format!("name={volume}")]).is_empty() {
        assert!(Instant::now() < deadline, "Docker volume {volume} outlived its run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for step in done["steps"].as_array().unwrap() {
        let execution = step["execution_id"].as_str().unwrap();
        let left = docker(&["ps", "-aq", "--filter", &format!("label=nbw.execution={execution}")]);
        assert!(left.is_empty(), "containers of {execution} left: {left:?}");
    }
    let _ = Command::new("docker").args(["rmi", "-f", &runtime_image]).output();
}
