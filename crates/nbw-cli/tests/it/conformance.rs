//! Conformance with papermill: runs `scripts/conformance.py` (see its docstring for the checks) on
//! every notebook of `tests/corpus` and on the peer notebooks of `tests/fixtures/peers` (nbclient's
//! and nbconvert's own, run as `tests/fixtures/peers/manifest.toml` says), with the built `nbw` and
//! the project's Python environment. The script prints the match count of each corpus.
//!
//! The environment is `$NBW_VENV` (relative paths are taken from the repository root) or
//! `<repo>/.venv`; `scripts/setup-python.sh` creates it. Without it the test fails: it does not skip.
//! `NBW_CONFORMANCE_ONLY=name,name` restricts the run to some notebooks (a corpus file stem, or a
//! peer's path as the manifest names it, e.g. `nbclient/files/Autokill`).

use std::process::Command;

#[test]
fn outputs_match_papermill_on_the_corpus() {
    let repo = nbw_testkit::repo_root();
    let venv = nbw_testkit::venv();
    let python = nbw_testkit::python();
    let script = repo.join("scripts").join("conformance.py");
    assert!(script.is_file(), "missing {}", script.display());

    let mut cmd = Command::new(&python);
    cmd.arg(&script).arg("--nbw").arg(env!("CARGO_BIN_EXE_nbw")).current_dir(&repo).env("NBW_VENV", &venv);
    if let Ok(only) = std::env::var("NBW_CONFORMANCE_ONLY") {
        for name in only.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            cmd.arg("--only").arg(name);
        }
    }
    let output =
        cmd.output().unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        print!("{stdout}"); // shown with --nocapture; a failure shows it in the panic message
    }
    assert!(
        output.status.success(),
        "scripts/conformance.py failed ({}): nbw's outputs differ from papermill's\n\
         --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
}
