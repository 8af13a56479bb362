//! `nbw run` on a real ipykernel: one test per behaviour a user relies on.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use nbw_testkit::{cell_text, kernel_env, notebook, read_json, tempdir, write_notebook};
use serde_json::{Value, json};

fn nbw() -> Command {
    let mut cmd = Command::cargo_bin("nbw").expect("nbw binary");
    cmd.envs(kernel_env()).env_remove("VIRTUAL_ENV").timeout(Duration::from_secs(120));
    cmd
}

/// Runs `nbw run IN OUT args...` on `nb` in a fresh directory; returns the process output, the
/// output notebook (if written) and the directory.
fn run(nb: &Value, args: &[&str]) -> (Output, Option<Value>, tempfile::TempDir) {
    let dir = tempdir();
    let input = write_notebook(dir.path(), "in.ipynb", nb);
    let out = dir.path().join("out.ipynb");
    let output =
        nbw().arg("run").arg(&input).arg(&out).arg("--no-progress").args(args).output().expect("nbw runs");
    let written = out.exists().then(|| read_json(&out));
    (output, written, dir)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code_cell<'a>(nb: &'a Value, source_start: &str) -> &'a Value {
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| joined(&c["source"]).starts_with(source_start))
        .unwrap_or_else(|| panic!("no cell starting with {source_start:?}"))
}

fn joined(v: &Value) -> String {
    match v {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

#[test]
fn parameters_are_injected_after_the_parameters_cell_with_papermill_types() {
    let nb = notebook(&[
        ("#md Title", &[]),
        ("a = 0\nb = 'x'\nc = None", &["parameters"]),
        ("print(repr(a), repr(b), repr(c), repr(d))", &[]),
    ]);
    let (output, written, _dir) =
        run(&nb, &["-p", "a", "2.5", "-p", "b", "True", "-r", "c", "7", "-y", "d: [1, two]"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = written.unwrap();
    let cells = written["cells"].as_array().unwrap();
    assert_eq!(cells[2]["metadata"]["tags"], json!(["injected-parameters"]));
    assert_eq!(joined(&cells[2]["source"]), "# Parameters\nd = [1, \"two\"]\na = 2.5\nb = True\nc = \"7\"\n");
    assert_eq!(cell_text(&cells[3]), "2.5 True '7' [1, 'two']\n");
    assert_eq!(
        written["metadata"]["papermill"]["parameters"],
        json!({"d": [1, "two"], "a": 2.5, "b": true, "c": "7"})
    );
    assert_eq!(written["metadata"]["language_info"]["name"], "python");
    let meta = &cells[3]["metadata"]["papermill"];
    assert_eq!(meta["status"], "completed");
    assert!(meta["duration"].as_f64().unwrap() >= 0.0);
    assert!(cells[3]["metadata"]["execution"]["iopub.status.idle"].is_string());
}

#[test]
fn kernel_comes_from_the_flag_when_the_notebook_names_none() {
    let mut nb = notebook(&[("import sys; print(sys.version_info[0])", &[])]);
    nb["metadata"] = json!({});
    let (output, _, _dir) = run(&nb, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("-k NAME"), "{}", stderr(&output));
    let (output, written, _dir) = run(&nb, &["-k", "python3"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(cell_text(&written.unwrap()["cells"][0]), "3\n");
}

#[test]
fn tcp_transport_runs_the_same_notebook() {
    let nb = notebook(&[("print(40 + 2)", &[])]);
    let (output, written, _dir) = run(&nb, &["--transport", "tcp"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(cell_text(&written.unwrap()["cells"][0]), "42\n");
}

#[test]
fn ipykernel_keeps_no_history_on_disk() {
    // As papermill: no SQLite write per cell, no contention between parallel kernels.
    let nb =
        notebook(&[("from IPython import get_ipython\nprint(get_ipython().history_manager.hist_file)", &[])]);
    let dir = tempdir();
    let input = write_notebook(dir.path(), "in.ipynb", &nb);
    let ipython_dir = dir.path().join("ipython");
    let out = dir.path().join("out.ipynb");
    let output = nbw()
        .env("IPYTHONDIR", &ipython_dir)
        .args(["run", "--no-progress"])
        .arg(&input)
        .arg(&out)
        .output()
        .expect("nbw runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(cell_text(&read_json(&out)["cells"][0]), ":memory:\n");
    assert!(!ipython_dir.join("profile_default/history.sqlite").exists());
}

#[test]
fn a_failing_cell_stops_the_run_with_papermills_banner() {
    let nb = notebook(&[("x = 1", &[]), ("raise ValueError('boom')", &[]), ("print('never')", &[])]);
    let (output, written, _dir) = run(&nb, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("ValueError: boom"));
    let written = written.unwrap();
    let cells = written["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 5);
    assert!(
        joined(&cells[0]["source"])
            .contains("An Exception was encountered at '<a href=\"#papermill-error-cell\">In [2]</a>'")
    );
    assert!(joined(&cells[2]["source"]).contains("id=\"papermill-error-cell\""));
    assert_eq!(cell_text(&cells[3]), "ValueError: boom");
    assert_eq!(cells[4]["execution_count"], Value::Null);
    assert_eq!(cells[4]["metadata"]["papermill"]["status"], "pending");
    assert_eq!(written["metadata"]["papermill"]["exception"], true);
}

#[test]
fn raises_exception_cells_and_allow_errors_continue() {
    let nb = notebook(&[("1/0", &["raises-exception"]), ("print('after')", &[])]);
    let (output, written, _dir) = run(&nb, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(cell_text(&written.unwrap()["cells"][1]), "after\n");

    let nb = notebook(&[("1/0", &[]), ("print('after')", &[])]);
    let (output, written, _dir) = run(&nb, &["--allow-errors"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = written.unwrap();
    assert_eq!(cell_text(&written["cells"][0]), "ZeroDivisionError: division by zero");
    assert_eq!(cell_text(&written["cells"][1]), "after\n");
}

fn alive(pid: i32) -> bool {
    // A zombie still answers kill(0); /proc tells the truth.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(false)
}

fn pid_from(path: &Path) -> i32 {
    std::fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

#[test]
fn cell_timeout_interrupts_then_kills_the_process_group() {
    let dir = tempdir();
    let pidfile = dir.path().join("child.pid");
    // The cell ignores SIGINT and starts a child that would outlive it: both must go.
    let source = format!(
        "import signal, subprocess, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\np = subprocess.Popen(['sleep', '300'])\nopen({:?}, 'w').write(str(p.pid))\nprint('started', flush=True)\ntime.sleep(300)",
        pidfile.display().to_string()
    );
    let nb = notebook(&[("print('first')", &[]), (&source, &[]), ("print('never')", &[])]);
    let started = Instant::now();
    let (output, written, _dir) = run(&nb, &["--cell-timeout", "3", "--kill-grace", "1"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(30));
    let written = written.expect("the partial notebook is written");
    let cell = code_cell(&written, "import signal");
    let text = cell_text(cell);
    assert!(text.starts_with("started\n"), "{text}");
    assert!(text.contains("TimeoutError: the cell exceeded --cell-timeout 3 s"), "{text}");
    assert!(text.contains("killed after the 1 s grace period"), "{text}");
    assert!(joined(&written["cells"][0]["source"]).contains("An Exception was encountered"));
    let child = pid_from(&pidfile);
    assert!(!alive(child), "the cell's child process {child} outlived the run");
}

#[test]
fn run_timeout_interrupts_a_cooperative_cell() {
    let nb = notebook(&[("import time\nfor i in range(600):\n    time.sleep(0.1)", &[])]);
    let (output, written, _dir) = run(&nb, &["--timeout", "4"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = cell_text(code_cell(&written.unwrap(), "import time"));
    assert!(text.contains("KeyboardInterrupt"), "the interrupt reached the kernel: {text}");
    assert!(text.contains("the run exceeded --timeout 4 s"), "{text}");
}

#[test]
fn a_run_timeout_reached_while_the_kernel_starts_is_a_timeout() {
    // No kernel starts in 20 ms: the limit the user set is what stopped the run, and the exit
    // code and message say so rather than blaming the kernel.
    let nb = notebook(&[("print('never')", &[])]);
    let (output, _written, _dir) = run(&nb, &["--timeout", "0.02"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("exceeded --timeout 0.02 s before its kernel started"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_dying_kernel_is_noticed_at_once_and_the_partial_notebook_written() {
    let nb = notebook(&[("print('before')", &[]), ("import os\nos._exit(1)", &[]), ("print('never')", &[])]);
    let started = Instant::now();
    let (output, written, _dir) = run(&nb, &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    let written = written.unwrap();
    assert_eq!(cell_text(code_cell(&written, "print('before')")), "before\n");
    assert!(cell_text(code_cell(&written, "import os")).contains("DeadKernelError: the kernel died"));
    assert_eq!(written["metadata"]["nbw"]["status"], "kernel_died");
}

#[test]
fn a_million_lines_land_whole() {
    let nb = notebook(&[("for i in range(1_000_000):\n    print(i)", &[])]);
    let (output, written, _dir) = run(&nb, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = written.unwrap();
    let outputs = written["cells"][0]["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "one merged stream");
    let lines = outputs[0]["text"].as_array().unwrap();
    assert_eq!(lines.len(), 1_000_000);
    assert_eq!(lines[0], "0\n");
    assert_eq!(lines[999_999], "999999\n");
    assert!(lines.iter().enumerate().all(|(i, l)| l.as_str() == Some(&format!("{i}\n"))));
}

#[test]
fn events_are_json_lines_in_order() {
    let dir = tempdir();
    let events = dir.path().join("events.jsonl");
    let nb = notebook(&[("x = 1", &["parameters"]), ("print(x)", &[]), ("#md done", &[])]);
    let (output, _, _d) = run(&nb, &["-p", "x", "5", "--events", events.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let records: Vec<Value> =
        std::fs::read_to_string(&events).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = records.iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"run_start"));
    assert_eq!(kinds.last(), Some(&"run_end"));
    assert_eq!(kinds.iter().filter(|k| **k == "cell_start").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "cell_end").count(), 3);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["seq"], json!(i + 1));
    }
    let output_event = records.iter().find(|r| r["event"] == "output").unwrap();
    assert_eq!(output_event["output"], json!({"output_type": "stream", "name": "stdout", "text": "5\n"}));
    let end = records.last().unwrap();
    assert_eq!(end["status"], "succeeded");
    assert!(end["runner_peak_rss_kib"].as_u64().unwrap() > 0);
}

#[test]
fn dash_reads_stdin_and_writes_stdout() {
    let nb = notebook(&[("print('piped')", &[])]);
    let output = nbw()
        .args(["run", "-", "-", "--no-progress"])
        .write_stdin(serde_json::to_vec(&nb).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let written: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cell_text(&written["cells"][0]), "piped\n");
}

#[test]
fn log_output_streams_cell_output_to_stderr() {
    let nb = notebook(&[("print('visible as it runs')", &[])]);
    let (output, _, _dir) = run(&nb, &["--log-output"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("visible as it runs"), "{}", stderr(&output));
}

#[test]
fn a_4_4_notebook_stays_4_4_without_cell_ids() {
    let mut nb = notebook(&[("x = 1", &["parameters"]), ("x", &[])]);
    nb["nbformat_minor"] = json!(4);
    for cell in nb["cells"].as_array_mut().unwrap() {
        cell.as_object_mut().unwrap().remove("id");
    }
    let (output, written, _dir) = run(&nb, &["-p", "x", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = written.unwrap();
    assert_eq!(written["nbformat_minor"], 4);
    assert!(written["cells"].as_array().unwrap().iter().all(|c| c.get("id").is_none()));
    assert_eq!(cell_text(&written["cells"][2]), "2");
}

#[test]
fn the_bash_kernel_gets_its_parameters_in_bash() {
    let mut nb = notebook(&[("name=nobody", &["parameters"]), ("echo \"hello $name ${#items[@]}\"", &[])]);
    nb["metadata"]["kernelspec"] = json!({"name": "bash", "display_name": "Bash", "language": "bash"});
    let (output, written, _dir) = run(&nb, &["-p", "name", "it's me", "-y", "items: [a, b c]"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(cell_text(&written.unwrap()["cells"][2]), "hello it's me 2\n");
}

#[test]
fn sigint_cancels_the_run_and_keeps_the_partial_notebook() {
    let dir = tempdir();
    let nb = notebook(&[("print('begun', flush=True)\nimport time\ntime.sleep(300)", &[])]);
    let input = write_notebook(dir.path(), "in.ipynb", &nb);
    let out: PathBuf = dir.path().join("out.ipynb");
    let events = dir.path().join("events.jsonl");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nbw"))
        .envs(kernel_env())
        .args(["run", input.to_str().unwrap(), out.to_str().unwrap(), "--no-progress", "--kill-grace", "2"])
        .args(["--events", events.to_str().unwrap()])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&events).unwrap_or_default().contains("begun") {
        assert!(Instant::now() < deadline, "the cell never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(6));
    let written = read_json(&out);
    let text = cell_text(code_cell(&written, "print('begun'"));
    assert!(text.contains("begun") && text.contains("CancelledError: the run was cancelled"), "{text}");
}

#[test]
fn output_notebooks_pass_nbformat_validate() {
    let nb = notebook(&[
        ("x = 1", &["parameters"]),
        (
            "from IPython.display import display, HTML\nh = display(HTML('<b>a</b>'), display_id=True)\nh.update(HTML('<b>b</b>'))",
            &[],
        ),
        ("import sys; print('err', file=sys.stderr); 3", &[]),
        ("1/0", &[]),
    ]);
    let (output, _, dir) = run(&nb, &["-p", "x", "2"]);
    assert_eq!(output.status.code(), Some(1));
    let check = std::process::Command::new(nbw_testkit::python())
        .args(["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT)); print('valid')"])
        .arg(dir.path().join("out.ipynb"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn a_gap_in_the_kernels_messages_marks_the_output_incomplete() {
    // Skipping message numbers is exactly what a dropped IOPub message looks like.
    let nb = notebook(&[("get_ipython().kernel.session.message_count += 3", &[]), ("print('after')", &[])]);
    let (output, written, _dir) = run(&nb, &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("never arrived"), "{}", stderr(&output));
    let written = written.unwrap();
    assert_eq!(written["metadata"]["nbw"]["status"], "output_incomplete");
    assert_eq!(cell_text(&written["cells"][1]), "after\n", "the run went on; only its report changed");
}

#[test]
fn a_cell_whose_idle_never_comes_marks_the_output_incomplete() {
    let nb = notebook(&[
        (
            "k = get_ipython().kernel\nk._publish_status_and_flush = lambda *a, **kw: None\nk._publish_status = lambda *a, **kw: None",
            &[],
        ),
        ("print('no idle for me')", &[]),
    ]);
    let (output, written, _dir) = run(&nb, &["--iopub-timeout", "1"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("no idle status"), "{}", stderr(&output));
    assert_eq!(written.unwrap()["metadata"]["nbw"]["status"], "output_incomplete");
}

#[test]
fn an_error_reported_only_in_the_reply_fails_the_run_with_papermills_banner() {
    // IPython answers an unknown line magic with a `UsageError` reply and a stderr stream, and
    // no IOPub `error` message at all.
    let nb = notebook(&[("x = 1", &[]), ("%undefined-line-magic", &[]), ("print('never')", &[])]);
    let (output, written, _dir) = run(&nb, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("cell 1 raised UsageError"), "{}", stderr(&output));
    let written = written.unwrap();
    let cells = written["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 5, "the banner and the anchor were inserted");
    assert!(joined(&cells[0]["source"]).contains("An Exception was encountered at"));
    assert!(joined(&cells[2]["source"]).contains("id=\"papermill-error-cell\""));
    let failed = &cells[3];
    let error = failed["outputs"].as_array().unwrap().iter().find(|o| o["output_type"] == "error").unwrap();
    assert_eq!(error["ename"], "UsageError");
    assert!(error["evalue"].as_str().unwrap().contains("undefined-line-magic"), "{error}");
    assert_eq!(failed["metadata"]["papermill"]["status"], "failed");
    assert_eq!(cells[4]["metadata"]["papermill"]["status"], "pending");
    assert_eq!(written["metadata"]["papermill"]["exception"], true);
    assert_eq!(written["metadata"]["nbw"]["status"], "failed");
}

/// `JUPYTER_PATH` entries holding the venv's kernels and the reply-only test kernel
/// (tests/fixtures/kernels/replyonly), whose kernelspec is written into `dir`.
fn with_replyonly_kernel(dir: &Path) -> String {
    let script =
        nbw_testkit::repo_root().join("crates/nbw-cli/tests/fixtures/kernels/replyonly/replyonly_kernel.py");
    let spec = dir.join("kernels/replyonly");
    std::fs::create_dir_all(&spec).unwrap();
    let kernel = json!({
        "argv": [nbw_testkit::python(), script, "-f", "{connection_file}"],
        "display_name": "Reply only", "language": "replyonly",
    });
    std::fs::write(spec.join("kernel.json"), kernel.to_string()).unwrap();
    let venv_kernels = kernel_env().into_iter().find(|(k, _)| k == "JUPYTER_PATH").unwrap().1;
    format!("{}:{venv_kernels}", dir.display())
}

/// What every path reports about one run: the exit code, the notebook's metadata and the last
/// event. They are derived from one outcome, so they must agree.
struct Verdict {
    code: i32,
    exception: Value,
    nbw_status: Value,
    run_end: Value,
}

fn verdict(nb: &Value, args: &[&str], jupyter_path: &str) -> Verdict {
    let dir = tempdir();
    let input = write_notebook(dir.path(), "in.ipynb", nb);
    let out = dir.path().join("out.ipynb");
    let events = dir.path().join("events.jsonl");
    let output = nbw()
        .env("JUPYTER_PATH", jupyter_path)
        .arg("run")
        .arg(&input)
        .arg(&out)
        .arg("--no-progress")
        .arg("--events")
        .arg(&events)
        .args(args)
        .output()
        .unwrap();
    let written = read_json(&out);
    let last =
        std::fs::read_to_string(&events).unwrap().lines().last().map(|l| serde_json::from_str(l).unwrap());
    let last: Value = last.unwrap();
    assert_eq!(last["event"], "run_end");
    Verdict {
        code: output.status.code().unwrap(),
        exception: written["metadata"]["papermill"]["exception"].clone(),
        nbw_status: written["metadata"]["nbw"]["status"].clone(),
        run_end: last["status"].clone(),
    }
}

#[test]
fn exit_code_metadata_and_events_never_disagree() {
    let kernels = tempdir();
    let jupyter_path = with_replyonly_kernel(kernels.path());
    let python =
        |source: &str, tags: &'static [&'static str]| notebook(&[(source, tags), ("print('next')", &[])]);
    let replyonly = |source: &str| {
        let mut nb = notebook(&[(source, &[]), ("echo", &[])]);
        nb["metadata"]["kernelspec"] =
            json!({"name": "replyonly", "display_name": "Reply only", "language": "replyonly"});
        nb
    };
    let cases: Vec<(&str, Value, &[&str], &str)> = vec![
        ("clean", python("x = 1", &[]), &[], "succeeded"),
        ("iopub error", python("raise ValueError('x')", &[]), &[], "failed"),
        ("reply-only UsageError", python("%undefined-line-magic", &[]), &[], "failed"),
        ("sys.exit(0)", python("import sys; sys.exit(0)", &[]), &[], "succeeded"),
        ("sys.exit(3)", python("import sys; sys.exit(3)", &[]), &[], "failed"),
        ("raises-exception", python("1/0", &["raises-exception"]), &[], "succeeded"),
        ("allow-errors", python("%undefined-line-magic", &[]), &["--allow-errors"], "succeeded"),
        ("other kernel, reply error", replyonly("fail hard"), &[], "failed"),
        ("other kernel, aborted", replyonly("abort"), &[], "failed"),
        ("other kernel, clean", replyonly("hello"), &[], "succeeded"),
        ("cell timeout", python("import time; time.sleep(30)", &[]), &["--cell-timeout", "1"], "timed_out"),
        ("kernel death", python("import os; os._exit(1)", &[]), &[], "kernel_died"),
    ];
    for (name, nb, args, expected) in cases {
        let v = verdict(&nb, args, &jupyter_path);
        assert_eq!(v.run_end, expected, "{name}: the run_end event");
        assert_eq!(v.nbw_status, expected, "{name}: metadata.nbw.status");
        assert_eq!(v.code == 0, expected == "succeeded", "{name}: exit code {}", v.code);
        assert_eq!(
            v.exception == json!(true),
            v.code != 0,
            "{name}: metadata.papermill.exception {}",
            v.exception
        );
    }
}

#[test]
fn a_kernel_that_fails_only_in_its_reply_gets_an_error_output_from_the_reply() {
    let kernels = tempdir();
    let jupyter_path = with_replyonly_kernel(kernels.path());
    let dir = tempdir();
    for (source, ename) in [("fail hard", "ReplyOnlyError"), ("abort", "ExecutionAborted")] {
        let mut nb = notebook(&[("before", &[]), (source, &[]), ("after", &[])]);
        nb["metadata"]["kernelspec"] =
            json!({"name": "replyonly", "display_name": "Reply only", "language": "replyonly"});
        let input = write_notebook(dir.path(), "in.ipynb", &nb);
        let out = dir.path().join("out.ipynb");
        let output = nbw()
            .env("JUPYTER_PATH", &jupyter_path)
            .arg("run")
            .arg(&input)
            .arg(&out)
            .arg("--no-progress")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{source}: {}", stderr(&output));
        let written = read_json(&out);
        let failed = code_cell(&written, source);
        let outputs = failed["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1, "{source}: {outputs:?}");
        assert_eq!(outputs[0]["output_type"], "error");
        assert_eq!(outputs[0]["ename"], ename);
        assert_eq!(code_cell(&written, "after")["execution_count"], Value::Null, "{source}: the run stopped");
        assert!(
            joined(&written["cells"][0]["source"]).contains("An Exception was encountered"),
            "{source}: banner"
        );
    }
}

#[test]
fn nbw_run_injects_no_execution_context_as_papermill_does() {
    // Outside a server there is no workflow nor execution: an NB Workflows notebook keeps its
    // defaults for WFID, EXECID and NOW unless `-p` gives them.
    let nb = notebook(&[
        ("WFID = 'unset'\nEXECID = 'unset'\nNOW = 'unset'", &["parameters"]),
        ("print(WFID, EXECID, NOW)", &[]),
    ]);
    let (output, written, _dir) = run(&nb, &["-p", "EXECID", "local-1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = written.unwrap();
    assert_eq!(cell_text(code_cell(&written, "print(")), "unset local-1 unset\n");
}
