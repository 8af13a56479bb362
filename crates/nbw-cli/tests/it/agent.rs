//! The agent end to end: a real `nbw server` process, real `nbw agent` processes, real kernels.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, notebook};

/// A notebook that prints, sleeps `seconds` (a parameter), and can write its process group id
/// to the file named by the `marker` parameter.
fn sleepy(seconds: f64) -> Value {
    let parameters = format!("seconds = {seconds:?}\nmarker = ''");
    notebook(&[
        (&parameters, &["parameters"]),
        (
            "import os, time\nif marker:\n    open(marker, 'w').write(str(os.getpgid(0)))\nprint('started', flush=True)\ntime.sleep(seconds)\nprint('finished')",
            &[],
        ),
    ])
}

async fn run(server: &Server, project: &str, parameters: Value, labels: Value) -> String {
    let execution = server
        .post_ok(
            &format!("/v1/projects/{project}/executions"),
            json!({"notebook": "nb.ipynb", "parameters": parameters, "labels": labels}),
        )
        .await;
    execution["id"].as_str().unwrap().to_owned()
}

/// Processes whose process group is `pgid`, from /proc.
fn group_members(pgid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|stat| {
                let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
                // fields[0] is the state, fields[2] the process group.
                (fields.first() != Some(&"Z")).then(|| fields.get(2)?.parse::<i32>().ok()).flatten()
            }) == Some(pgid)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_succeed_and_their_outputs_download() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    server.project_with("demo", &[("nb.ipynb", sleepy(0.0))]).await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    server
        .post_ok(
            "/v1/projects/demo/workflows",
            json!({"name": "tick", "notebook": "nb.ipynb", "schedule": {"interval_secs": 2}}),
        )
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let done: Vec<Value> =
            server.executions("demo").await.into_iter().filter(|e| e["state"] == "succeeded").collect();
        if done.len() >= 3 {
            break done;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "three scheduled runs did not succeed: {:?}",
            server.executions("demo").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for execution in &done {
        let id = execution["id"].as_str().unwrap();
        assert!(id.starts_with("sch."), "{id}");
        assert!(execution["scheduled_for"].is_string());
        let output: Value =
            serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
        let text: String = output["cells"].as_array().unwrap().iter().map(nbw_testkit::cell_text).collect();
        assert!(text.contains("started\nfinished"), "{text}");
    }
    let history = server.get_ok("/v1/projects/demo/executions?workflow=tick&state=succeeded").await;
    assert!(history["items"].as_array().unwrap().len() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_loses_its_run_which_is_retried_once_and_succeeds() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[("NBW_LEASE_SECS", "3")]).await;
    server.project_with("demo", &[("nb.ipynb", sleepy(4.0))]).await;
    server
        .post_ok(
            "/v1/projects/demo/workflows",
            json!({"name": "slow", "notebook": "nb.ipynb", "retries": {"max_retries": 1, "backoff_secs": 0}}),
        )
        .await;
    let token = server.agent_token("a1", json!({})).await;
    let mut first = server.agent(dir.path(), &token, 1, &[]);
    let run = server.post_ok("/v1/projects/demo/workflows/slow/run", json!({})).await;
    let id = run["id"].as_str().unwrap().to_owned();
    // Wait until it runs, then kill the agent as a crash would.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.get_ok(&format!("/v1/executions/{id}")).await["state"] != "running" {
        assert!(std::time::Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill9();
    let lost = server.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(lost["state"], "lost", "{lost}");
    // A new agent (the same token) picks up the retry; the lost attempt is not run again.
    let _second = server.agent(dir.path(), &token, 1, &[]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let retry = loop {
        let all = server.executions("demo").await;
        if let Some(retry) = all.iter().find(|e| e["previous_attempt_id"] == id.as_str()) {
            let state = retry["state"].as_str().unwrap();
            if state != "queued" && state != "running" {
                break retry.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no finished retry: {all:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(retry["state"], "succeeded", "{retry}");
    assert!(retry["id"].as_str().unwrap().starts_with("rty."));
    assert_eq!(retry["attempt"], 2);
    assert_eq!(retry["first_attempt_id"], id.as_str());
    let all = server.executions("demo").await;
    assert_eq!(all.len(), 2, "exactly the first attempt and one retry: {all:?}");
    assert_eq!(
        server.get_ok(&format!("/v1/executions/{id}")).await["state"],
        "lost",
        "the lost attempt stays lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_cancel_stop_every_process_and_keep_the_partial_notebook() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let mut nb = sleepy(300.0);
    // A child process in the kernel's group, to prove the whole group goes.
    nb["cells"][1]["source"] = json!(
        "import os, subprocess, time\nsubprocess.Popen(['sleep', '300'])\nif marker:\n    open(marker, 'w').write(str(os.getpgid(0)))\nprint('started', flush=True)\ntime.sleep(seconds)"
    );
    server.project_with("demo", &[("nb.ipynb", nb)]).await;
    server
        .post_ok(
            "/v1/projects/demo/workflows",
            json!({"name": "bounded", "notebook": "nb.ipynb", "timeout_secs": 3}),
        )
        .await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 2, &[]);

    let timeout_marker = dir.path().join("timeout.pgid");
    let run = server
        .post_ok(
            "/v1/projects/demo/workflows/bounded/run",
            json!({"parameters": {"marker": timeout_marker.to_str().unwrap()}}),
        )
        .await;
    let timed_out = server.wait_final(run["id"].as_str().unwrap(), Duration::from_secs(60)).await;
    assert_eq!(timed_out["state"], "timed_out", "{timed_out}");

    let cancel_marker = dir.path().join("cancel.pgid");
    let id = run_with_marker(&server, &cancel_marker).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !cancel_marker.exists() {
        assert!(std::time::Instant::now() < deadline, "the cell never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.call(Method::POST, &format!("/v1/executions/{id}/cancel"), Some(json!({}))).await;
    let cancelled = server.wait_final(&id, Duration::from_secs(30)).await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");

    for (execution, marker) in [(&timed_out, &timeout_marker), (&cancelled, &cancel_marker)] {
        let id = execution["id"].as_str().unwrap();
        assert_eq!(execution["has_output"], true, "{execution}");
        let output: Value =
            serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
        assert!(output.to_string().contains("started"), "the partial notebook holds the output so far");
        let pgid: i32 = std::fs::read_to_string(marker).unwrap().trim().parse().unwrap();
        assert_eq!(group_members(pgid), Vec::<i32>::new(), "processes of the kernel's group {pgid} survived");
    }
}

async fn run_with_marker(server: &Server, marker: &std::path::Path) -> String {
    run(server, "demo", json!({"marker": marker.to_str().unwrap()}), json!({})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_route_work_and_a_hundred_runs_on_two_agents_happen_once_each() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    server.project_with("demo", &[("nb.ipynb", sleepy(0.0))]).await;
    // One agent's labels come from its registration, the other's from `--labels` at start.
    let gpu = server.agent_token("gpu", json!({"gpu": "yes"})).await;
    let cpu = server.agent_token("cpu", json!({})).await;
    let _a = server.agent(dir.path(), &gpu, 2, &[]);
    let _b = server.agent(dir.path(), &cpu, 2, &["--labels", "zone=eu"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let agents = server.get_ok("/v1/agents").await;
    let id_of =
        |name: &str| agents.as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()["id"].clone();
    let gpu_only = run(&server, "demo", json!({}), json!({"gpu": "yes"})).await;
    let eu_only = run(&server, "demo", json!({}), json!({"zone": "eu"})).await;
    assert_eq!(server.wait_final(&gpu_only, Duration::from_secs(60)).await["agent_id"], id_of("gpu"));
    assert_eq!(server.wait_final(&eu_only, Duration::from_secs(60)).await["agent_id"], id_of("cpu"));

    let mut ids = Vec::new();
    for n in 0..100 {
        ids.push(run(&server, "demo", json!({"seconds": 0.0, "marker": ""}), json!({})).await);
        let _ = n;
    }
    let mut agents_used = HashSet::new();
    for id in &ids {
        let execution = server.wait_final(id, Duration::from_secs(300)).await;
        assert_eq!(execution["state"], "succeeded", "{execution}");
        agents_used.insert(execution["agent_id"].to_string());
    }
    assert_eq!(agents_used.len(), 2, "both agents took work");
    let all = server.executions("demo").await;
    assert_eq!(all.len(), 102, "no retries, no doubles");
    let unique: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), 102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_never_appears_in_the_output_or_the_events() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let nb = notebook(&[(
        "import os\ntoken = os.environ['API_TOKEN']\nprint('token is', token)\nprint(len(token))\ntoken",
        &[],
    )]);
    server.project_with("demo", &[("nb.ipynb", nb)]).await;
    let (status, _) = server
        .call(Method::PUT, "/v1/projects/demo/secrets/API_TOKEN", Some(json!({"value": "s3cr3t-value-42"})))
        .await;
    assert!(status.is_success());
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    let id = run(&server, "demo", json!({}), json!({})).await;
    let done = server.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let output = String::from_utf8(server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    assert!(!output.contains("s3cr3t-value-42"), "the secret leaked into the notebook");
    assert!(output.contains("token is ***"), "{output}");
    assert!(output.contains("15"), "the kernel did see the real value");
    let events = String::from_utf8(server.get_bytes(&format!("/v1/executions/{id}/events")).await).unwrap();
    assert!(events.contains("token is ***"), "{events}");
    assert!(!events.contains("s3cr3t-value-42"), "the secret leaked into the event stream");
}

/// The stored event stream of an execution, parsed from its server-sent events.
async fn event_seqs(server: &Server, id: &str) -> (Vec<u64>, String) {
    let text = String::from_utf8(server.get_bytes(&format!("/v1/executions/{id}/events")).await).unwrap();
    let seqs =
        text.lines().filter_map(|l| l.strip_prefix("id:")).filter_map(|s| s.trim().parse().ok()).collect();
    (seqs, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_during_a_run_loses_and_repeats_no_event() {
    let dir = nbw_testkit::tempdir();
    let mut server = Server::start(dir.path(), &[]).await;
    let nb = notebook(&[(
        "import time\nfor i in range(40):\n    print('line', i, flush=True)\n    time.sleep(0.1)",
        &[],
    )]);
    server.project_with("demo", &[("nb.ipynb", nb)]).await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    let id = run(&server, "demo", json!({}), json!({})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !event_seqs(&server, &id).await.1.contains("line 5") {
        assert!(std::time::Instant::now() < deadline, "the run never printed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.crash_and_restart(Duration::from_millis(1500)).await;
    let done = server.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let (seqs, text) = event_seqs(&server, &id).await;
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "events 1..n, each once");
    // The kernel may cut a line across two chunks: join the streamed text, then compare.
    let streamed: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter_map(|e| e["payload"]["output"]["text"].as_str().map(str::to_owned))
        .collect();
    let expected_text: String = (0..40).map(|i| format!("line {i}\n")).collect();
    assert_eq!(streamed, expected_text, "every line, once, in order");
    let output = String::from_utf8(server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    assert!(output.contains("line 39"), "the output notebook is whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_cancels_cleanly() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    server.project_with("demo", &[("nb.ipynb", sleepy(1.0)), ("long.ipynb", sleepy(300.0))]).await;
    let token = server.agent_token("a1", json!({})).await;
    // The grace leaves the short run (a second of sleep) time to finish on a loaded machine.
    let mut agent = server.agent(dir.path(), &token, 2, &["--shutdown-grace-secs", "8"]);
    let short = run(&server, "demo", json!({}), json!({})).await;
    let long = server.post_ok("/v1/projects/demo/executions", json!({"notebook": "long.ipynb"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.get_ok(&format!("/v1/executions/{long}")).await["state"] != "running" {
        assert!(std::time::Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = agent.terminate(Duration::from_secs(30)).expect("the agent exits within its grace");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        server.wait_final(&short, Duration::from_secs(5)).await["state"],
        "succeeded",
        "the short run finished"
    );
    let cancelled = server.wait_final(&long, Duration::from_secs(5)).await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["has_output"], true);
    // Nothing new is claimed after SIGTERM.
    let after = run(&server, "demo", json!({}), json!({})).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.get_ok(&format!("/v1/executions/{after}")).await["state"], "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_kernels_serve_one_run_each() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let nb = notebook(&[(
        "import os\nprint(os.getpid(), os.environ['NBW_EXECUTION_ID'])\nx = globals().get('x', 0) + 1\nprint('x', x)",
        &[],
    )]);
    server.project_with("demo", &[("nb.ipynb", nb)]).await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &["--warm", "1"]);
    let mut pids = HashSet::new();
    for _ in 0..3 {
        let id = run(&server, "demo", json!({}), json!({})).await;
        let done = server.wait_final(&id, Duration::from_secs(60)).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        let output: Value =
            serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
        let text = nbw_testkit::cell_text(&output["cells"][0]);
        assert!(
            text.contains(&id) && text.contains("x 1\n"),
            "a fresh kernel with the run's environment: {text}"
        );
        pids.insert(text.split_whitespace().next().unwrap().to_owned());
    }
    assert_eq!(pids.len(), 3, "each run had its own kernel");
}

/// A webhook receiver on loopback: each POST body, as JSON, goes to the returned channel.
async fn webhook_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::String(body)));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notebook_failing_only_in_its_reply_fails_its_execution_and_notifies() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    // IPython's unknown line magic: a `UsageError` reply, no IOPub error message.
    let nb = notebook(&[("x = 1", &[]), ("%undefined-line-magic", &[]), ("print('never')", &[])]);
    server.project_with("demo", &[("nb.ipynb", nb)]).await;
    let (url, mut hooks) = webhook_receiver().await;
    let (status, body) =
        server.call(Method::PUT, "/v1/projects/demo/secrets/HOOK", Some(json!({"value": url}))).await;
    assert!(status.is_success(), "{status} {body}");
    server
        .post_ok(
            "/v1/projects/demo/workflows",
            json!({"name": "magic", "notebook": "nb.ipynb",
                   "notifications": [{"channel": "webhook", "url_secret": "HOOK", "on": ["failure"]}]}),
        )
        .await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    let execution = server.post_ok("/v1/projects/demo/workflows/magic/run", json!({})).await;
    let id = execution["id"].as_str().unwrap();
    let done = server.wait_final(id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "failed", "{done}");
    let output: Value =
        serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    assert_eq!(output["metadata"]["papermill"]["exception"], true);
    let banner: String =
        output["cells"][0]["source"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(banner.contains("An Exception was encountered"), "{banner}");
    let hook =
        tokio::time::timeout(Duration::from_secs(30), hooks.recv()).await.expect("a notification").unwrap();
    assert_eq!(hook["state"], "failed", "{hook}");
    assert_eq!(hook["failed_cell"], 1, "{hook}");
    assert!(hook["message"].as_str().unwrap().contains("UsageError"), "{hook}");
}

/// A notebook written for NB Workflows: its parameters cell declares `WFID`, `EXECID` and `NOW`
/// and it prints what it got.
fn nb_workflows_notebook() -> Value {
    notebook(&[
        ("WFID = 'unset'\nEXECID = 'unset'\nNOW = 'unset'\nDAYS = 1", &["parameters"]),
        ("print(f'got WFID={WFID} EXECID={EXECID} NOW={NOW} DAYS={DAYS}')", &[]),
    ])
}

/// Waits for run `id` to succeed; returns it and the values its notebook printed, by name.
async fn printed(server: &Server, id: &str) -> (Value, std::collections::BTreeMap<String, String>) {
    let done = server.wait_final(id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let output: Value =
        serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    let text: String = output["cells"].as_array().unwrap().iter().map(nbw_testkit::cell_text).collect();
    let line = text.lines().find(|l| l.starts_with("got ")).unwrap_or_else(|| panic!("no values in {text}"));
    let values = line["got ".len()..]
        .split(' ')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (done, values)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nb_workflows_context_parameters_are_injected_with_their_original_meaning() {
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    server.project_with("demo", &[("nb.ipynb", nb_workflows_notebook())]).await;
    let token = server.agent_token("a1", json!({})).await;
    let _agent = server.agent(dir.path(), &token, 1, &[]);
    // The workflow gives EXECID a value of its own: the run's id overrides it.
    let workflow = server
        .post_ok(
            "/v1/projects/demo/workflows",
            json!({"name": "nightly", "notebook": "nb.ipynb", "parameters": {"EXECID": "mine", "DAYS": 3}}),
        )
        .await;
    let started = server.post_ok("/v1/projects/demo/workflows/nightly/run", json!({})).await;
    let id = started["id"].as_str().unwrap();
    let (done, got) = printed(&server, id).await;
    assert_eq!(got["WFID"], workflow["id"].as_str().unwrap(), "{got:?}");
    assert_eq!(got["EXECID"], id);
    assert_eq!(got["DAYS"], "3");
    // NOW is the run's creation time (UTC), formatted as Python's isoformat() without offset.
    let created: chrono::DateTime<chrono::Utc> = done["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(got["NOW"], created.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string());

    // A run of no workflow: WFID is empty, EXECID its own id.
    let adhoc = run(&server, "demo", json!({}), json!({})).await;
    let (_, got) = printed(&server, &adhoc).await;
    assert_eq!((got["WFID"].as_str(), got["EXECID"].as_str()), ("", adhoc.as_str()));
}
