//! Conformance with papermill: runs `scripts/conformance.py` (see its docstring for the checks) on
//! every notebook of `tests/corpus`, with the built `nbw` and the project's Python environment.
//!
//! The environment is `$NBW_VENV` (relative paths are taken from the repository root) or
//! `<repo>/.venv`; `scripts/setup-python.sh` creates it. Without it the test fails: it does not skip.
//! `NBW_CONFORMANCE_ONLY=name,name` restricts the run to some notebooks.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|e| panic!("cannot resolve the repository root from {}: {e}", manifest.display()))
}

fn venv_dir(repo: &Path) -> PathBuf {
    match std::env::var_os("NBW_VENV") {
        Some(v) if !v.is_empty() => {
            let v = PathBuf::from(v);
            if v.is_absolute() { v } else { repo.join(v) }
        }
        _ => repo.join(".venv"),
    }
}

#[test]
fn outputs_match_papermill_on_the_corpus() {
    let repo = repo_root();
    let venv = venv_dir(&repo);
    let python = venv.join("bin").join("python");
    assert!(
        python.is_file(),
        "no Python environment at {} (looked for {}): run scripts/setup-python.sh to create it \
         (or point NBW_VENV at one it created)",
        venv.display(),
        python.display()
    );
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
