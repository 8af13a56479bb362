//! Which Dockerfile builds a runtime: the project's own `Dockerfile.<runtime>` when a person
//! owns it (it does not start with nbw's marker line), else the one rendered from nbw.yaml.

use std::path::{Path, PathBuf};

use nbw_core::project::ProjectFile;
use sha2::{Digest, Sha256};

use crate::error::RuntimeError;
use crate::render::{MARKER_PREFIX, render_with, runtime_of};

/// The requirements file a runtime installs when nbw.yaml names none, if the project has it.
const DEFAULT_REQUIREMENTS: &str = "requirements.txt";

/// The Dockerfile a runtime image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// Its text.
    pub text: String,
    /// SHA-256 of the text, in hex: which Dockerfile an image was built from.
    pub hash: String,
    /// Whether it is the user's own `Dockerfile.<runtime>` rather than nbw's rendering.
    pub owned_by_user: bool,
    /// The user's file, when it is theirs.
    pub path: Option<PathBuf>,
}

impl Dockerfile {
    fn new(text: String, path: Option<PathBuf>) -> Dockerfile {
        let hash = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        Dockerfile { text, hash, owned_by_user: path.is_some(), path }
    }
}

/// The name of a runtime's Dockerfile in the project folder.
pub fn file_name(runtime: &str) -> String {
    format!("Dockerfile.{runtime}")
}

/// Whether `text` is a Dockerfile nbw generated (and may rewrite).
pub fn is_generated(text: &str) -> bool {
    text.starts_with(MARKER_PREFIX)
}

/// The Dockerfile of `runtime` for the project in `project_dir`: its `Dockerfile.<runtime>`
/// if a person owns it, else the one [`generated`] from nbw.yaml.
pub fn dockerfile(
    project_dir: &Path,
    project: &ProjectFile,
    runtime: &str,
) -> Result<Dockerfile, RuntimeError> {
    runtime_of(project, runtime)?;
    let path = project_dir.join(file_name(runtime));
    match std::fs::read_to_string(&path) {
        Ok(text) if !is_generated(&text) => Ok(Dockerfile::new(text, Some(path))),
        Ok(_) => generated(project_dir, project, runtime),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generated(project_dir, project, runtime),
        Err(source) => Err(RuntimeError::Io { path, source }),
    }
}

/// The Dockerfile nbw renders for `runtime` (whatever file the project holds), installing the
/// requirements file nbw.yaml names, else the project's `requirements.txt` if it has one.
pub fn generated(
    project_dir: &Path,
    project: &ProjectFile,
    runtime: &str,
) -> Result<Dockerfile, RuntimeError> {
    let spec = runtime_of(project, runtime)?;
    let requirements = match spec.requirements.as_deref() {
        Some(named) if !project_dir.join(named).is_file() => {
            return Err(RuntimeError::Invalid {
                runtime: runtime.to_owned(),
                field: "requirements".into(),
                message: format!("{named:?} is not a file in {}", project_dir.display()),
            });
        }
        Some(named) => Some(named),
        None => project_dir.join(DEFAULT_REQUIREMENTS).is_file().then_some(DEFAULT_REQUIREMENTS),
    };
    Ok(Dockerfile::new(render_with(project, runtime, requirements)?, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::render;

    fn project() -> ProjectFile {
        serde_yaml::from_str("project: sales\nruntimes:\n  default:\n    image: python:3.12-slim\n").unwrap()
    }

    #[test]
    fn a_users_own_dockerfile_takes_precedence() {
        let dir = nbw_testkit::tempdir();
        let own = "# my own\nFROM python:3.12-slim\nRUN pip install ipykernel\n";
        std::fs::write(dir.path().join("Dockerfile.default"), own).unwrap();
        let file = dockerfile(dir.path(), &project(), "default").unwrap();
        assert_eq!(file.text, own);
        assert!(file.owned_by_user);
        assert_eq!(file.path, Some(dir.path().join("Dockerfile.default")));
        assert_eq!(file.hash, "2d2419dbacccc503180e220522d21cec0425dc5d4f9239e7b48315199321908e");
        // `generated` ignores it.
        assert!(generated(dir.path(), &project(), "default").unwrap().text.starts_with(MARKER_PREFIX));
    }

    #[test]
    fn a_generated_dockerfile_is_rendered_again() {
        let dir = nbw_testkit::tempdir();
        let stale = format!("{MARKER_PREFIX} (runtime \"default\"): nbw rewrites this file\nFROM old\n");
        std::fs::write(dir.path().join("Dockerfile.default"), stale).unwrap();
        let file = dockerfile(dir.path(), &project(), "default").unwrap();
        assert!(!file.owned_by_user && file.path.is_none());
        assert!(file.text.contains("FROM python:3.12-slim\n"), "{}", file.text);
        assert!(is_generated(&file.text));
        assert_eq!(file.text, render(&project(), "default").unwrap());
        // Without the marker line, the same text is the user's.
        let edited = file.text.split_once('\n').unwrap().1;
        std::fs::write(dir.path().join("Dockerfile.default"), edited).unwrap();
        assert!(dockerfile(dir.path(), &project(), "default").unwrap().owned_by_user);
    }

    #[test]
    fn requirements_txt_is_installed_when_nbw_yaml_names_no_file() {
        let dir = nbw_testkit::tempdir();
        assert!(!dockerfile(dir.path(), &project(), "default").unwrap().text.contains("COPY"));
        std::fs::write(dir.path().join("requirements.txt"), "pyyaml\n").unwrap();
        let file = dockerfile(dir.path(), &project(), "default").unwrap();
        assert!(file.text.contains("COPY requirements.txt /tmp/nbw/requirements.txt\n"), "{}", file.text);
        let mut named = project();
        named.runtimes.get_mut("default").unwrap().requirements = Some("deps.txt".into());
        let message = dockerfile(dir.path(), &named, "default").unwrap_err().to_string();
        assert!(
            message.starts_with("runtime \"default\", requirements: \"deps.txt\" is not a file in"),
            "{message}"
        );
    }

    #[test]
    fn an_undefined_runtime_is_refused_even_with_a_dockerfile() {
        let dir = nbw_testkit::tempdir();
        std::fs::write(dir.path().join("Dockerfile.gpu"), "FROM x\n").unwrap();
        let message = dockerfile(dir.path(), &project(), "gpu").unwrap_err().to_string();
        assert!(message.contains("defined: default"), "{message}");
    }
}
