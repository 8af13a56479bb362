//! Finding a kernelspec and the command that starts it.
//!
//! Jupyter looks for `kernels/<name>/kernel.json` in a list of data directories. The crate we
//! build on searches only one `JUPYTER_PATH` entry and never a virtualenv's `share/jupyter`,
//! where `pip install ipykernel` puts its spec, so the search path is built here, in Jupyter's
//! order: every `JUPYTER_PATH` entry, the environment of `--python`, the active virtualenv, the
//! user's data directory, then the system ones.
//!
//! ipykernel's spec says `argv[0] = "python"`. Resolving that through `PATH` would run whatever
//! Python comes first, so, like `jupyter_client`, it is rewritten to the interpreter of the
//! environment the spec belongs to.

use std::path::{Path, PathBuf};

use jupyter_protocol::JupyterKernelspec;

/// A kernelspec found on disk.
#[derive(Debug, Clone)]
pub struct Kernelspec {
    /// The directory name, e.g. `python3`.
    pub name: String,
    /// The directory holding `kernel.json`.
    pub dir: PathBuf,
    /// The parsed `kernel.json`.
    pub spec: JupyterKernelspec,
    /// The environment prefix the spec was found in (`<prefix>/share/jupyter/kernels/<name>`).
    env_prefix: Option<PathBuf>,
}

/// Where to look for kernelspecs, and which Python stands for `python` in a spec's argv.
#[derive(Debug, Clone, Default)]
pub struct KernelSearch {
    /// An explicit interpreter (`--python`); its environment is searched first after
    /// `JUPYTER_PATH`, and it runs specs whose argv starts with `python`.
    pub python: Option<PathBuf>,
}

/// No kernelspec of the wanted name exists.
#[derive(Debug, thiserror::Error)]
#[error(
    "no kernel named {name:?} (found: {found}); install one (e.g. `pip install ipykernel` in the environment) or pick another with -k NAME; searched {searched}"
)]
pub struct KernelNotFound {
    /// The name that was asked for.
    pub name: String,
    /// The names that exist, comma-separated.
    pub found: String,
    /// The directories searched, colon-separated.
    pub searched: String,
}

impl Kernelspec {
    /// A kernelspec that exists only where a [`crate::KernelHost`] runs kernels: its name, the
    /// language its cells are written in, and its command (`{connection_file}` inside).
    pub fn hosted(name: &str, language: &str, argv: Vec<String>) -> Kernelspec {
        let spec = JupyterKernelspec {
            argv,
            display_name: name.to_owned(),
            language: language.to_owned(),
            metadata: None,
            interrupt_mode: Some("signal".to_owned()),
            env: None,
        };
        Kernelspec { name: name.to_owned(), dir: PathBuf::new(), spec, env_prefix: None }
    }
}

impl KernelSearch {
    /// The data directories searched, in order.
    pub fn data_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(paths) = std::env::var_os("JUPYTER_PATH") {
            dirs.extend(std::env::split_paths(&paths).filter(|p| !p.as_os_str().is_empty()));
        }
        if let Some(prefix) = self.python.as_deref().and_then(env_prefix_of_python) {
            dirs.push(prefix.join("share/jupyter"));
        }
        if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
            dirs.push(PathBuf::from(venv).join("share/jupyter"));
        }
        if let Some(data) = dirs::data_dir() {
            dirs.push(data.join("jupyter"));
        }
        dirs.push(PathBuf::from("/usr/local/share/jupyter"));
        dirs.push(PathBuf::from("/usr/share/jupyter"));
        let mut seen = std::collections::HashSet::new();
        dirs.retain(|d| seen.insert(d.clone()));
        dirs
    }

    /// Finds the kernelspec called `name`.
    pub fn find(&self, name: &str) -> Result<Kernelspec, KernelNotFound> {
        let dirs = self.data_dirs();
        for dir in &dirs {
            let spec_dir = dir.join("kernels").join(name);
            if let Some(spec) = read_spec(&spec_dir) {
                return Ok(Kernelspec {
                    name: name.to_owned(),
                    env_prefix: env_prefix_of_data_dir(dir),
                    dir: spec_dir,
                    spec,
                });
            }
        }
        let found = self.list_names(&dirs);
        Err(KernelNotFound {
            name: name.to_owned(),
            found: if found.is_empty() { "none".into() } else { found.join(", ") },
            searched: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":"),
        })
    }

    fn list_names(&self, dirs: &[PathBuf]) -> Vec<String> {
        let mut names: Vec<String> = dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d.join("kernels")).ok())
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The argv that starts `spec`, with `{connection_file}` filled in and a bare `python`
    /// resolved to the right interpreter.
    pub fn argv(&self, spec: &Kernelspec, connection_file: &Path) -> Vec<String> {
        let mut argv = command(&spec.spec.argv, &connection_file.to_string_lossy());
        if let Some(first) = argv.first_mut()
            && is_bare_python(first)
            && let Some(python) = self.python_for(spec)
        {
            *first = python.to_string_lossy().into_owned();
        }
        argv
    }

    fn python_for(&self, spec: &Kernelspec) -> Option<PathBuf> {
        if let Some(python) = &self.python {
            return Some(python.clone());
        }
        let from_env =
            |prefix: &Path| ["bin/python", "bin/python3"].iter().map(|p| prefix.join(p)).find(|p| p.exists());
        spec.env_prefix
            .as_deref()
            .and_then(from_env)
            .or_else(|| std::env::var_os("VIRTUAL_ENV").and_then(|v| from_env(Path::new(&v))))
    }
}

/// A kernel's command line: `argv` with `{connection_file}` filled in, and for ipykernel its
/// input history kept in memory, as `nbclient` (papermill) does. Every run gets a fresh kernel,
/// so a history on disk serves nobody, yet it costs an SQLite write per cell (about 0.4 ms here)
/// and makes parallel kernels of one user contend for `~/.ipython/.../history.sqlite`. An argv
/// that sets the history file itself keeps its choice.
pub fn command(argv: &[String], connection_file: &str) -> Vec<String> {
    let mut command: Vec<String> =
        argv.iter().map(|arg| arg.replace("{connection_file}", connection_file)).collect();
    let runs_ipykernel = argv
        .windows(2)
        .any(|pair| pair[0] == "-m" && matches!(pair[1].as_str(), "ipykernel" | "ipykernel_launcher"));
    if runs_ipykernel && !argv.iter().any(|arg| arg.starts_with("--HistoryManager.hist_file")) {
        command.push("--HistoryManager.hist_file=:memory:".to_owned());
    }
    command
}

fn read_spec(dir: &Path) -> Option<JupyterKernelspec> {
    let text = std::fs::read_to_string(dir.join("kernel.json")).ok()?;
    match serde_json::from_str(&text) {
        Ok(spec) => Some(spec),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "ignoring an unreadable kernel.json");
            None
        }
    }
}

fn is_bare_python(arg: &str) -> bool {
    let rest = arg.strip_prefix("python").unwrap_or("-");
    rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `<prefix>/bin/python` -> `<prefix>`; the symlink is not followed, since a venv's python is a
/// link to the base interpreter and the venv is what we want.
fn env_prefix_of_python(python: &Path) -> Option<PathBuf> {
    let bin = python.parent()?;
    Some(bin.parent()?.to_path_buf())
}

/// `<prefix>/share/jupyter` -> `<prefix>` when that prefix holds a Python.
fn env_prefix_of_data_dir(dir: &Path) -> Option<PathBuf> {
    if !dir.ends_with("share/jupyter") {
        return None;
    }
    let prefix = dir.parent()?.parent()?;
    prefix.join("bin").is_dir().then(|| prefix.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_python_names() {
        assert!(is_bare_python("python"));
        assert!(is_bare_python("python3"));
        assert!(is_bare_python("python3.11"));
        assert!(!is_bare_python("/usr/bin/python3"));
        assert!(!is_bare_python("pythonista"));
        assert!(!is_bare_python("R"));
    }

    #[test]
    fn ipykernel_keeps_its_history_in_memory() {
        let argv = |args: &[&str]| args.iter().map(ToString::to_string).collect::<Vec<_>>();
        let ipykernel = argv(&["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]);
        assert_eq!(
            command(&ipykernel, "/c.json"),
            argv(&[
                "python",
                "-m",
                "ipykernel_launcher",
                "-f",
                "/c.json",
                "--HistoryManager.hist_file=:memory:"
            ])
        );
        let chosen =
            argv(&["python", "-m", "ipykernel", "-f", "{connection_file}", "--HistoryManager.hist_file=/h"]);
        assert_eq!(command(&chosen, "/c.json").last().unwrap(), "--HistoryManager.hist_file=/h");
        let bash = argv(&["python", "-m", "bash_kernel", "-f", "{connection_file}"]);
        assert_eq!(command(&bash, "/c.json"), argv(&["python", "-m", "bash_kernel", "-f", "/c.json"]));
    }

    #[test]
    fn finds_a_spec_in_an_environment_and_rewrites_python() {
        let env = tempfile::tempdir().unwrap();
        let spec_dir = env.path().join("share/jupyter/kernels/k1");
        std::fs::create_dir_all(&spec_dir).unwrap();
        std::fs::create_dir_all(env.path().join("bin")).unwrap();
        std::fs::write(env.path().join("bin/python"), "").unwrap();
        std::fs::write(
            spec_dir.join("kernel.json"),
            r#"{"argv": ["python", "-m", "k", "-f", "{connection_file}"], "display_name": "K", "language": "python"}"#,
        )
        .unwrap();
        let search = KernelSearch { python: Some(env.path().join("bin/python")) };
        let spec = search.find("k1").unwrap();
        let argv = search.argv(&spec, Path::new("/tmp/c.json"));
        assert_eq!(argv[0], env.path().join("bin/python").to_string_lossy());
        assert_eq!(argv[4], "/tmp/c.json");
        let err = search.find("nope").unwrap_err().to_string();
        assert!(err.contains("no kernel named \"nope\""), "{err}");
        assert!(err.contains("k1"), "{err}");
    }
}
