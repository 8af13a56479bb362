//! Pipelines end to end: `nbw push` and `nbw pipe` against a real `nbw server` (SQLite and
//! PostgreSQL), a real `nbw agent` with real kernels on the local executor.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{Server, nbw, notebook, run};
use serde_json::{Value, json};

/// A project folder with `nbw.yaml` (`yaml` below `project: NAME`) and `notebooks`.
fn project(dir: &Path, name: &str, yaml: &str, notebooks: &[(&str, Value)]) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("notebooks")).unwrap();
    std::fs::write(root.join("nbw.yaml"), format!("project: {name}\n{yaml}")).unwrap();
    for (file, content) in notebooks {
        nbw_testkit::write_notebook(&root.join("notebooks"), file, content);
    }
    root
}

/// `nbw ARGS` in `cwd`; asserts exit code `code`; returns standard output.
fn cli(config: &Path, cwd: &Path, args: &[&str], code: i32) -> String {
    let (got, out, err) = run(nbw(config, cwd).args(args));
    assert_eq!(got, code, "nbw {}: {out}\n{err}", args.join(" "));
    out
}

/// The shared volumes left under the agents' work folders in `dir`.
fn volumes_left(dir: &Path) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for agent in std::fs::read_dir(dir).unwrap().filter_map(std::result::Result::ok) {
        if let Ok(shared) = std::fs::read_dir(agent.path().join("shared")) {
            left.extend(shared.filter_map(std::result::Result::ok).map(|e| e.path()));
        }
    }
    left
}

async fn start(
    dir: &Path,
    database: Option<String>,
    agent_flags: &[&str],
) -> (Server, crate::support::Proc, PathBuf) {
    let env: Vec<(&str, &str)> =
        database.as_deref().map(|url| ("NBW_DATABASE_URL", url)).into_iter().collect();
    let server = Server::start(dir, &env).await;
    let token = server.agent_token("a1", json!({})).await;
    let agent = server.agent(dir, &token, 2, agent_flags);
    let config = dir.join("config");
    server.login(&config, dir);
    (server, agent, config)
}

const SEQ: &str = r#"pipelines:
  seq:
    shared_volume: true
    steps:
      - {name: write, notebook: notebooks/write.ipynb}
      - {name: read, notebook: notebooks/read.ipynb, parameters: {rows: "{{ steps.write.result.rows }}"}}
      - {name: done, notebook: notebooks/done.ipynb}
"#;

fn seq_notebooks() -> Vec<(&'static str, Value)> {
    vec![
        (
            "write.ipynb",
            notebook(&[(
                "import os\nfrom nbw_result import nbw_result\nopen(os.path.join(os.environ['NBW_SHARED'], 'data.txt'), 'w').write('a\\nb\\nc\\n')\nnbw_result(rows=3)",
                &[],
            )]),
        ),
        (
            "read.ipynb",
            notebook(&[
                ("rows = 0", &["parameters"]),
                (
                    "import os\nlines = open(os.path.join(os.environ['NBW_SHARED'], 'data.txt')).read().split()\nassert len(lines) == rows == 3, (lines, rows)\nprint('read', len(lines))",
                    &[],
                ),
            ]),
        ),
        ("done.ipynb", notebook(&[("print('done')", &[])])),
    ]
}

async fn a_seqpipe_passes_a_file_and_a_value_and_leaves_no_volume(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    let (_server, _agent, config) = start(dir.path(), database, &[]).await;
    let root = project(dir.path(), "seqdemo", SEQ, &seq_notebooks());
    let plan = cli(&config, &root, &["push", "--yes"], 0);
    assert!(plan.contains("create pipeline seq (3 steps)"), "{plan}");
    assert!(cli(&config, &root, &["push", "--dry-run"], 0).contains("Nothing to do"));

    let out = cli(&config, &root, &["pipe", "run", "seq", "--watch", "-o", "json"], 0);
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["state"], "succeeded", "{done}");
    let steps: Vec<&str> =
        done["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(steps, ["succeeded"; 3], "{done}");
    assert_eq!(done["steps"][0]["result"], json!({"rows": 3}));

    let history: Value =
        serde_json::from_str(&cli(&config, &root, &["pipe", "history", "seq", "-o", "json"], 0)).unwrap();
    assert_eq!(history[0]["id"], done["id"]);
    assert!(cli(&config, &root, &["pipe", "list"], 0).contains("seq"));
    // The run is over: the server lists its volume in remove_volumes and the agent removes it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !volumes_left(dir.path()).is_empty() {
        assert!(Instant::now() < deadline, "volumes left behind: {:?}", volumes_left(dir.path()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seqpipe_passes_a_file_and_a_value_and_leaves_no_volume_on_sqlite() {
    a_seqpipe_passes_a_file_and_a_value_and_leaves_no_volume(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seqpipe_passes_a_file_and_a_value_and_leaves_no_volume_on_postgres() {
    a_seqpipe_passes_a_file_and_a_value_and_leaves_no_volume(Some(nbw_testkit::fresh_postgres_url())).await;
}

const FOLDERS: &str = r#"pipelines:
  folders:
    shared_folders: [data/, models/]
    steps:
      - {name: write, notebook: notebooks/write_csv.ipynb}
      - {name: read, notebook: notebooks/read_csv.ipynb, parameters: {first: "{{ steps.write.result.workdir }}"}}
"#;

fn folder_notebooks() -> Vec<(&'static str, Value)> {
    vec![
        (
            "write_csv.ipynb",
            notebook(&[(
                "import os\nfrom nbw_result import nbw_result\nos.makedirs('data', exist_ok=True)\nopen('data/x.csv', 'w').write('region,rows\\nemea,40\\n')\nos.makedirs('models', exist_ok=True)\nopen('models/m.txt', 'w').write('weights')\nnbw_result(workdir=os.getcwd())",
                &[],
            )]),
        ),
        (
            "read_csv.ipynb",
            notebook(&[
                ("first = ''", &["parameters"]),
                (
                    "import csv, os\nassert os.getcwd() != first, 'each step has its own working directory'\nrows = list(csv.DictReader(open('data/x.csv')))\nassert rows == [{'region': 'emea', 'rows': '40'}], rows\nassert open('models/m.txt').read() == 'weights'\nprint('read', len(rows))",
                    &[],
                ),
            ]),
        ),
    ]
}

/// `shared_folders` on the local agent: step 1 writes `data/x.csv` in its working directory,
/// step 2 (in another working directory) reads it; with two agents, both steps run on the one
/// the run is pinned to; the volume is gone once the run ends.
async fn shared_folders_carry_files_between_steps_on_one_agent(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    let (server, _agent, config) = start(dir.path(), database, &[]).await;
    let token = server.agent_token("a2", json!({})).await;
    let _second = server.agent(dir.path(), &token, 2, &[]);
    let root = project(dir.path(), "folderdemo", FOLDERS, &folder_notebooks());
    cli(&config, &root, &["push", "--yes"], 0);

    let done: Value =
        serde_json::from_str(&cli(&config, &root, &["pipe", "run", "folders", "--watch", "-o", "json"], 0))
            .unwrap();
    assert_eq!(done["state"], "succeeded", "{done}");
    let mut agents = Vec::new();
    for step in done["steps"].as_array().unwrap() {
        let id = step["execution_id"].as_str().unwrap();
        let execution = server.get_ok(&format!("/v1/executions/{id}")).await;
        assert_eq!(execution["state"], "succeeded", "{execution}");
        agents.push(execution["agent_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(agents[0], agents[1], "the run is pinned to one agent: {done}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !volumes_left(dir.path()).is_empty() {
        assert!(Instant::now() < deadline, "volumes left behind: {:?}", volumes_left(dir.path()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_folders_carry_files_between_steps_on_one_agent_on_sqlite() {
    shared_folders_carry_files_between_steps_on_one_agent(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_folders_carry_files_between_steps_on_one_agent_on_postgres() {
    shared_folders_carry_files_between_steps_on_one_agent(Some(nbw_testkit::fresh_postgres_url())).await;
}

const BRANCHES: &str = r#"pipelines:
  branches:
    max_parallel: 2
    steps:
      - {name: start, notebook: notebooks/ok.ipynb}
      - {name: good, notebook: notebooks/ok.ipynb, needs: [start]}
      - {name: flaky, notebook: notebooks/flaky.ipynb, needs: [start], parameters: {flag: FLAG}}
      - {name: after, notebook: notebooks/ok.ipynb, needs: [flaky]}
"#;

async fn a_failed_branch_skips_its_dependents_and_reruns_alone(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    let (_server, _agent, config) = start(dir.path(), database, &[]).await;
    let flag = dir.path().join("fail-while-here");
    std::fs::write(&flag, "").unwrap();
    let yaml = BRANCHES.replace("FLAG", &flag.display().to_string());
    let notebooks = [
        ("ok.ipynb", notebook(&[("print('ok')", &[])])),
        (
            "flaky.ipynb",
            notebook(&[
                ("flag = ''", &["parameters"]),
                ("import os\nif os.path.exists(flag):\n    raise RuntimeError('failing on purpose')", &[]),
            ]),
        ),
    ];
    let root = project(dir.path(), "branchdemo", &yaml, &notebooks);
    cli(&config, &root, &["push", "--yes"], 0);

    let failed: Value =
        serde_json::from_str(&cli(&config, &root, &["pipe", "run", "branches", "--watch", "-o", "json"], 1))
            .unwrap();
    assert_eq!(failed["state"], "failed", "{failed}");
    let state = |run: &Value, step: usize| run["steps"][step]["state"].as_str().unwrap().to_owned();
    assert_eq!(
        [state(&failed, 0), state(&failed, 1), state(&failed, 2), state(&failed, 3)],
        ["succeeded", "succeeded", "failed", "skipped"],
        "{failed}"
    );

    std::fs::remove_file(&flag).unwrap();
    let id = failed["id"].as_str().unwrap();
    let rerun: Value = serde_json::from_str(&cli(
        &config,
        &root,
        &["pipe", "rerun", id, "--from-failed", "--watch", "-o", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(rerun["rerun_of"], id, "{rerun}");
    assert_eq!(rerun["origin"], "cli", "the re-run is the caller's: {rerun}");
    assert_eq!(
        [state(&rerun, 0), state(&rerun, 1), state(&rerun, 2), state(&rerun, 3)],
        ["reused", "reused", "succeeded", "succeeded"],
        "only the failed and skipped steps ran again: {rerun}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_branch_skips_its_dependents_and_reruns_alone_on_sqlite() {
    a_failed_branch_skips_its_dependents_and_reruns_alone(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_branch_skips_its_dependents_and_reruns_alone_on_postgres() {
    a_failed_branch_skips_its_dependents_and_reruns_alone(Some(nbw_testkit::fresh_postgres_url())).await;
}

const PARALLEL: &str = r#"pipelines:
  parallel:
    max_parallel: 2
    steps:
      - {name: left, notebook: notebooks/three.ipynb}
      - {name: right, notebook: notebooks/three.ipynb}
      - {name: join, notebook: notebooks/three.ipynb, needs: [left, right], parameters: {seconds: 0}}
"#;

async fn two_three_second_branches_run_in_parallel_under_five_seconds(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    // Warm kernels: the figure is about scheduling, not about a cold kernel's start.
    let (_server, _agent, config) = start(dir.path(), database, &["--warm", "2"]).await;
    let three = notebook(&[("seconds = 3", &["parameters"]), ("import time\ntime.sleep(seconds)", &[])]);
    let root = project(dir.path(), "paralleldemo", PARALLEL, &[("three.ipynb", three)]);
    cli(&config, &root, &["push", "--yes"], 0);
    tokio::time::sleep(Duration::from_secs(3)).await; // the pool fills
    let started = Instant::now();
    let done: Value =
        serde_json::from_str(&cli(&config, &root, &["pipe", "run", "parallel", "--watch", "-o", "json"], 0))
            .unwrap();
    let wall = started.elapsed();
    assert_eq!(done["state"], "succeeded", "{done}");
    let time = |step: usize, field: &str| {
        chrono::DateTime::parse_from_rfc3339(done["steps"][step][field].as_str().unwrap()).unwrap()
    };
    assert!(
        time(0, "started_at") < time(1, "finished_at") && time(1, "started_at") < time(0, "finished_at"),
        "the branches overlapped: {done}"
    );
    let branches =
        time(0, "finished_at").max(time(1, "finished_at")) - time(0, "started_at").min(time(1, "started_at"));
    assert!(branches < chrono::Duration::seconds(5), "two 3 s branches took {branches} with 2 slots: {done}");
    eprintln!("two 3 s branches: {branches}; whole run with the join, as the CLI saw it: {wall:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_three_second_branches_run_in_parallel_under_five_seconds_on_sqlite() {
    two_three_second_branches_run_in_parallel_under_five_seconds(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_three_second_branches_run_in_parallel_under_five_seconds_on_postgres() {
    two_three_second_branches_run_in_parallel_under_five_seconds(Some(nbw_testkit::fresh_postgres_url()))
        .await;
}

/// Copies the repository's example project into `dir`.
fn example_project(dir: &Path) -> PathBuf {
    let source = nbw_testkit::repo_root().join("examples/project");
    let root = dir.join("example");
    for entry in [
        "nbw.yaml",
        "notebooks/welcome.ipynb",
        "notebooks/fails.ipynb",
        "notebooks/pipeline/extract.ipynb",
        "notebooks/pipeline/region.ipynb",
        "notebooks/pipeline/report.ipynb",
    ] {
        std::fs::create_dir_all(root.join(entry).parent().unwrap()).unwrap();
        std::fs::copy(source.join(entry), root.join(entry)).unwrap();
    }
    root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_projects_pipeline_succeeds() {
    let dir = nbw_testkit::tempdir();
    let (_server, _agent, config) = start(dir.path(), None, &[]).await;
    let root = example_project(dir.path());
    cli(&config, &root, &["push", "--yes"], 0);
    let done: Value = serde_json::from_str(&cli(
        &config,
        &root,
        &["pipe", "run", "regional-report", "--watch", "-o", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["steps"][0]["result"]["rows"], 40, "{done}");
    let show = cli(&config, &root, &["pipe", "show", "regional-report"], 0);
    assert!(show.contains("*/5 * * * *") && show.contains("emea, apac"), "{show}");
}

async fn a_cancelled_run_leaves_no_kernel(database: Option<String>) {
    let dir = nbw_testkit::tempdir();
    let (server, _agent, config) = start(dir.path(), database, &[]).await;
    let marker = dir.path().join("kernel.pid");
    let yaml = format!(
        "pipelines:\n  slow:\n    steps:\n      - {{name: sleep, notebook: notebooks/sleep.ipynb, parameters: {{marker: {}}}}}\n      - {{name: never, notebook: notebooks/sleep.ipynb}}\n",
        marker.display()
    );
    let sleep = notebook(&[
        ("marker = ''", &["parameters"]),
        ("import os, time\nif marker:\n    open(marker, 'w').write(str(os.getpid()))\ntime.sleep(120)", &[]),
    ]);
    let root = project(dir.path(), "canceldemo", &yaml, &[("sleep.ipynb", sleep)]);
    cli(&config, &root, &["push", "--yes"], 0);
    let id = cli(&config, &root, &["pipe", "run", "slow"], 0).trim().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the step never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = std::fs::read_to_string(&marker).unwrap();
    cli(&config, &root, &["pipe", "cancel", &id], 0);
    let run = server.wait_pipeline_run("canceldemo", &id, Duration::from_secs(30)).await;
    assert_eq!(run["state"], "cancelled", "{run}");
    assert_eq!(run["steps"][1]["state"], "cancelled", "the pending step is cancelled too: {run}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "kernel {pid} is still there after the cancel");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_leaves_no_kernel_on_sqlite() {
    a_cancelled_run_leaves_no_kernel(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_leaves_no_kernel_on_postgres() {
    a_cancelled_run_leaves_no_kernel(Some(nbw_testkit::fresh_postgres_url())).await;
}
