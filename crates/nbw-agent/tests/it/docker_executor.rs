//! The Docker executor on the real engine: the kernel of a run in a container of the test base
//! image (`scripts/docker-base-image.sh`), the engine in this process.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::ListContainersOptionsBuilder;
use nbw_agent::docker::{AGENT_LABEL, ContainerSettings, DockerExecutor, EXECUTION_LABEL};
use nbw_core::api::ContainerImage;
use nbw_core::params::{ParamValue, Parameters};
use nbw_engine::{ExecuteOptions, KernelHost, Notebook, Outcome, RunStatus};

/// The executor of a fresh agent id, or `None` (a skip) when there is no Docker engine and CI
/// is not set.
async fn executor() -> Option<(DockerExecutor, String)> {
    if !nbw_testkit::docker_or_skip() {
        return None;
    }
    let image = nbw_testkit::docker_base_image().to_owned();
    let agent = format!("test-{}", nbw_core::ids::random_id());
    Some((DockerExecutor::connect(&agent).await.expect("the Docker engine"), image))
}

/// A bundle folder with an `nbw.yaml` whose runtime `rt` has `settings` (YAML lines).
fn bundle(image: &str, settings: &str) -> tempfile::TempDir {
    let dir = nbw_testkit::tempdir();
    let yaml = format!("project: demo\nruntimes:\n  rt:\n    image: {image}\n{settings}");
    std::fs::write(dir.path().join("nbw.yaml"), yaml).unwrap();
    dir
}

async fn run_in_container(
    docker: &DockerExecutor,
    image: &str,
    dir: &Path,
    cells: &[(&str, &[&str])],
    options: ExecuteOptions,
) -> (Outcome, String) {
    let execution = format!("test.{}", nbw_core::ids::random_id().to_lowercase());
    let image =
        ContainerImage { runtime: "rt".into(), version: "v1".into(), image: image.into(), image_id: None };
    let settings = ContainerSettings::from_bundle(image, dir, &[], "python").unwrap();
    let container = docker.container(&execution, settings);
    let notebook = Notebook::from_value(nbw_testkit::notebook(cells)).unwrap();
    let mut parameters = Parameters::default();
    parameters.insert("greeting", ParamValue::Str("hello from the host".into()));
    let options = ExecuteOptions {
        host: Some(container.clone() as Arc<dyn KernelHost>),
        env: vec![("NBW_EXECUTION_ID".into(), execution.clone())],
        ..options
    };
    let run = nbw_engine::execute(notebook, &parameters, options).unwrap();
    let outcome = run.outcome().await;
    container.removed().await;
    (outcome, execution)
}

async fn containers_labelled(label: &str, value: &str) -> usize {
    let api = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
    let filters = HashMap::from([("label".to_owned(), vec![format!("{label}={value}")])]);
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    api.list_containers(Some(options)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notebook_runs_in_the_container_and_leaves_no_container() {
    let Some((docker, image)) = executor().await else { return };
    let dir = bundle(&image, "    network: none\n");
    std::fs::write(dir.path().join("data.txt"), "from the bundle").unwrap();
    let cells: &[(&str, &[&str])] = &[
        ("greeting = 'default'", &["parameters"]),
        (
            "import os, socket\nprint(greeting)\nprint(os.getcwd(), open('data.txt').read())\nprint(os.environ['NBW_EXECUTION_ID'])\nprint(socket.gethostname() != '')\nopen('written.txt', 'w').write('ok')",
            &[],
        ),
    ];
    let (outcome, execution) =
        run_in_container(&docker, &image, dir.path(), cells, ExecuteOptions::default()).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.message);
    let text = nbw_testkit::cell_text(&outcome.notebook.cells()[2]);
    assert!(text.contains("hello from the host"), "{text}");
    assert!(text.contains("/app from the bundle"), "{text}");
    assert!(text.contains(&execution), "{text}");
    assert_eq!(std::fs::read_to_string(dir.path().join("written.txt")).unwrap(), "ok");
    assert_eq!(containers_labelled(EXECUTION_LABEL, &execution).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_its_memory_limit_fails_saying_so() {
    let Some((docker, image)) = executor().await else { return };
    let dir = bundle(&image, "    memory: 64m\n");
    let cells: &[(&str, &[&str])] = &[("x = bytearray(400 * 1024 * 1024)\nprint('survived')", &[])];
    let (outcome, execution) =
        run_in_container(&docker, &image, dir.path(), cells, ExecuteOptions::default()).await;
    assert_eq!(outcome.status, RunStatus::KernelDied);
    let message = outcome.message.unwrap_or_default();
    assert!(message.contains("out of memory") && message.contains("64m"), "{message}");
    assert_eq!(containers_labelled(EXECUTION_LABEL, &execution).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_stops_the_kernel_and_removes_its_container() {
    let Some((docker, image)) = executor().await else { return };
    let dir = bundle(&image, "");
    // The cell ignores interrupts, so only the kill after the grace period ends it.
    let cells: &[(&str, &[&str])] = &[(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('sleeping', flush=True)\ntime.sleep(300)",
        &[],
    )];
    let options = ExecuteOptions {
        run_timeout: Some(Duration::from_secs(8)),
        kill_grace: Duration::from_secs(1),
        ..ExecuteOptions::default()
    };
    let (outcome, execution) = run_in_container(&docker, &image, dir.path(), cells, options).await;
    assert_eq!(outcome.status, RunStatus::TimedOut, "{:?}", outcome.message);
    assert!(nbw_testkit::cell_text(outcome.notebook.cells().last().unwrap()).contains("sleeping"));
    assert_eq!(containers_labelled(EXECUTION_LABEL, &execution).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_volume_is_shared_by_two_runs() {
    let Some((docker, image)) = executor().await else { return };
    let volume = format!("nbw-test-{}", nbw_core::ids::random_id().to_lowercase());
    let dir = bundle(&image, &format!("    volumes: ['{volume}:/shared']\n"));
    let write: &[(&str, &[&str])] = &[("open('/shared/note', 'w').write('left by run 1')", &[])];
    let (first, _) = run_in_container(&docker, &image, dir.path(), write, ExecuteOptions::default()).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.message);
    let read: &[(&str, &[&str])] = &[("print(open('/shared/note').read())", &[])];
    let (second, _) = run_in_container(&docker, &image, dir.path(), read, ExecuteOptions::default()).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.message);
    assert!(nbw_testkit::cell_text(second.notebook.cells().last().unwrap()).contains("left by run 1"));
    let api = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
    api.remove_volume(&volume, None::<bollard::query_parameters::RemoveVolumeOptions>).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_removes_its_leftover_containers_at_start() {
    let Some((docker, image)) = executor().await else { return };
    let api = bollard::Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap();
    let agent = format!("test-{}", nbw_core::ids::random_id());
    let labels = HashMap::from([(AGENT_LABEL.to_owned(), agent.clone())]);
    let body = bollard::models::ContainerCreateBody {
        image: Some(image),
        cmd: Some(vec!["sleep".into(), "300".into()]),
        labels: Some(labels),
        ..Default::default()
    };
    let created =
        api.create_container(None::<bollard::query_parameters::CreateContainerOptions>, body).await.unwrap();
    api.start_container(&created.id, None).await.unwrap();
    assert_eq!(containers_labelled(AGENT_LABEL, &agent).await, 1);
    let restarted = DockerExecutor::connect(&agent).await.unwrap();
    assert_eq!(restarted.sweep().await.unwrap(), 1);
    assert_eq!(containers_labelled(AGENT_LABEL, &agent).await, 0);
    drop(docker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_runtime_image_fails_the_run_with_the_fix() {
    let Some((docker, _)) = executor().await else { return };
    let missing = format!("nbw/absent/rt:{}", nbw_core::ids::random_id().to_lowercase());
    let dir = bundle(&missing, "");
    let cells: &[(&str, &[&str])] = &[("print('never')", &[])];
    let (outcome, _) =
        run_in_container(&docker, &missing, dir.path(), cells, ExecuteOptions::default()).await;
    assert_eq!(outcome.status, RunStatus::KernelDied);
    let message = outcome.message.unwrap_or_default();
    assert!(message.contains("is not on this agent") && message.contains("nbw runtime build"), "{message}");
}
