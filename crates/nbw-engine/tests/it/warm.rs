//! A kernel started ahead of time runs a notebook exactly as a fresh one would: the run's
//! working directory and environment, execution counts from 1, nothing of the setup in the
//! notebook or the kernel's history. (How much faster it is, `scripts/bench-agent.sh` measures.)

use std::time::Duration;

use nbw_core::params::Parameters;
use nbw_engine::{ExecuteOptions, KernelSearch, Notebook, Outcome, RunStatus, WarmKernel, execute_with};
use nbw_testkit::{cell_text, notebook};

#[tokio::test(flavor = "current_thread")]
async fn a_warm_kernel_behaves_like_a_fresh_one() {
    let search = KernelSearch { python: Some(nbw_testkit::python()) };
    let warm = WarmKernel::start("python3", &search, Duration::from_secs(60)).await.unwrap();
    let dir = nbw_testkit::tempdir();
    let nb = notebook(&[
        (
            "import os\nprint(os.getcwd())\nprint(os.environ['NBW_EXECUTION_ID'], os.environ['API_TOKEN'])",
            &[],
        ),
        ("print(len(In), [c for c in In if 'ch' + 'dir(' in c])", &[]),
    ]);
    let options = ExecuteOptions {
        search: search.clone(),
        cwd: Some(dir.path().to_path_buf()),
        env: vec![
            ("NBW_EXECUTION_ID".into(), "web.x".into()),
            ("API_TOKEN".into(), "it's \"quoted\"\n".into()),
        ],
        ..ExecuteOptions::default()
    };
    let run =
        execute_with(Notebook::from_value(nb).unwrap(), &Parameters::default(), options, Some(warm)).unwrap();
    let outcome = run.outcome().await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.message);
    let cells = outcome.notebook.cells();
    let expected_dir = dir.path().canonicalize().unwrap();
    assert_eq!(cell_text(&cells[0]), format!("{}\nweb.x it's \"quoted\"\n\n", expected_dir.display()));
    assert_eq!(cells[0]["execution_count"], 1);
    assert_eq!(cell_text(&cells[1]), "3 []\n", "only the two cells are in the history");
}

/// Runs `nb` with default options, offered a warm python3 kernel.
async fn run_with_a_warm_python_kernel(nb: serde_json::Value) -> Outcome {
    let search = KernelSearch { python: Some(nbw_testkit::python()) };
    let warm = WarmKernel::start("python3", &search, Duration::from_secs(60)).await.unwrap();
    let options = ExecuteOptions { search, ..ExecuteOptions::default() };
    execute_with(Notebook::from_value(nb).unwrap(), &Parameters::default(), options, Some(warm))
        .unwrap()
        .outcome()
        .await
}

#[tokio::test(flavor = "current_thread")]
async fn a_warm_kernel_of_another_kernelspec_is_not_used() {
    let mut nb = notebook(&[("echo hi", &[])]);
    nb["metadata"]["kernelspec"] =
        serde_json::json!({"name": "bash", "display_name": "Bash", "language": "bash"});
    let outcome = run_with_a_warm_python_kernel(nb).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{:?}", outcome.message);
    assert_eq!(cell_text(&outcome.notebook.cells()[0]), "hi\n");
    assert!(
        WarmKernel::start(
            "bash",
            &KernelSearch { python: Some(nbw_testkit::python()) },
            Duration::from_secs(5)
        )
        .await
        .is_err()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_warm_kernel_run_fails_on_an_error_reported_only_in_the_reply() {
    let nb = notebook(&[("x = 1", &[]), ("%undefined-line-magic", &[]), ("print('never')", &[])]);
    let outcome = run_with_a_warm_python_kernel(nb).await;
    assert_eq!(outcome.status, RunStatus::Failed, "{:?}", outcome.message);
    assert_eq!(outcome.failed_cell, Some(1));
    assert!(outcome.message.unwrap().contains("UsageError"));
    assert_eq!(outcome.notebook.metadata()["papermill"]["exception"], true);
}
