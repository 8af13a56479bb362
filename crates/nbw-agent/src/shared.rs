//! Pipeline shared volumes: the folder every step of one pipeline run sees at `NBW_SHARED`.
//!
//! A volume is a directory `<work dir>/shared/<name>` on the agent. A local kernel gets its
//! path; a container gets a Docker named volume of the same name, backed by that directory
//! (`local` driver, bind), mounted at [`crate::docker::SHARED_PATH`]: so `docker volume ls` shows what a
//! run holds, and the agent copies `shared_folders` in and out without a helper container.
//! The directories are what the agent holds: they survive an agent restart, are listed in every
//! heartbeat, and go when the server lists them in `remove_volumes`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use bollard::models::VolumeCreateRequest;
use nbw_core::api::SharedVolume;

use crate::docker::{AGENT_LABEL, DockerExecutor};

/// The shared volumes of one agent.
#[derive(Debug, Clone)]
pub struct SharedVolumes {
    root: PathBuf,
    docker: Option<DockerExecutor>,
}

impl SharedVolumes {
    /// The volumes under `work_dir`; with `docker`, each also exists as a Docker named volume.
    pub fn new(work_dir: &Path, docker: Option<DockerExecutor>) -> SharedVolumes {
        SharedVolumes { root: work_dir.join("shared"), docker }
    }

    /// Makes sure volume `volume` exists (as a Docker volume too when `in_container`); returns
    /// its directory on the agent.
    pub async fn open(&self, volume: &SharedVolume, in_container: bool) -> anyhow::Result<PathBuf> {
        check_name(&volume.name)?;
        let dir = self.root.join(&volume.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if in_container {
            // The container may run as another user: the volume is theirs to write too.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))?;
            let docker = self.docker.as_ref().context("a container run needs the Docker executor")?;
            create_docker_volume(docker, &volume.name, &dir).await?;
        }
        Ok(dir)
    }

    /// The names of the volumes this agent holds.
    pub fn held(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Removes volume `name` (its Docker volume, then its directory). A Docker volume still in
    /// use stays, with its directory, so the next heartbeat lists it again and it is retried.
    pub async fn remove(&self, name: &str) {
        if check_name(name).is_err() {
            tracing::warn!(volume = %name, "the server asked to remove a volume with an invalid name; ignored");
            return;
        }
        if let Some(docker) = &self.docker
            && let Err(e) =
                docker.api().remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>).await
            && !matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
        {
            tracing::warn!(volume = %name, error = %e, "the Docker volume could not be removed; retrying later");
            return;
        }
        let dir = self.root.join(name);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => tracing::info!(volume = %name, "shared volume removed"),
            Err(e) => tracing::warn!(volume = %name, error = %e, "the shared volume could not be removed"),
        }
    }
}

async fn create_docker_volume(docker: &DockerExecutor, name: &str, dir: &Path) -> anyhow::Result<()> {
    let options = HashMap::from([
        ("type".to_owned(), "none".to_owned()),
        ("o".to_owned(), "bind".to_owned()),
        ("device".to_owned(), dir.display().to_string()),
    ]);
    let request = VolumeCreateRequest {
        name: Some(name.to_owned()),
        driver: Some("local".to_owned()),
        driver_opts: Some(options),
        labels: Some(HashMap::from([(AGENT_LABEL.to_owned(), docker.agent().to_owned())])),
        ..Default::default()
    };
    // Creating a volume that exists with the same options is a no-op: every step may ask.
    docker.api().create_volume(request).await.with_context(|| format!("creating Docker volume {name}"))?;
    Ok(())
}

/// A volume name is one path component of letters, digits and `-` (what the server derives).
fn check_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "shared volume name {name:?} is invalid: letters, digits and '-' only"
    );
    Ok(())
}

/// A `shared_folders` entry as a path relative to the working directory, without `..`.
fn folder(name: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(name.trim_end_matches('/'));
    anyhow::ensure!(
        !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_))),
        "shared folder {name:?} must be a folder of the project, relative and without '..'"
    );
    Ok(path.to_path_buf())
}

/// Before the kernel: each of `folders` that an earlier step left in the volume replaces the
/// bundle's copy in the working directory.
pub fn copy_in(volume: &Path, workdir: &Path, folders: &[String]) -> anyhow::Result<()> {
    carry(volume, workdir, folders, "copying shared folder {} into the run")
}

/// After the kernel, whatever the outcome: each of `folders` in the working directory replaces
/// the volume's copy, for the next step.
pub fn copy_out(workdir: &Path, volume: &Path, folders: &[String]) -> anyhow::Result<()> {
    carry(workdir, volume, folders, "keeping shared folder {} for the next step")
}

/// Copies each of `folders` present under `from` over its copy under `to`; `doing` (with `{}`
/// for the folder) says what failed.
fn carry(from: &Path, to: &Path, folders: &[String], doing: &str) -> anyhow::Result<()> {
    for name in folders {
        let relative = folder(name)?;
        let source = from.join(&relative);
        if source.is_dir() {
            replace(&source, &to.join(&relative)).with_context(|| doing.replace("{}", name))?;
        }
    }
    Ok(())
}

/// Makes `to` a copy of directory `from`.
fn replace(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    copy_dir(from, to)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str) -> SharedVolume {
        SharedVolume { name: name.to_owned(), folders: vec!["data/".to_owned()] }
    }

    #[tokio::test]
    async fn folders_carry_over_from_one_run_to_the_next_and_removal_leaves_nothing() {
        let agent = tempfile::tempdir().unwrap();
        let volumes = SharedVolumes::new(agent.path(), None);
        let shared = volumes.open(&volume("nbw-pipe-abc"), false).await.unwrap();
        assert_eq!(volumes.held(), ["nbw-pipe-abc"]);

        let first = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(first.path().join("data/deep")).unwrap();
        std::fs::write(first.path().join("data/deep/rows.csv"), "a,b\n").unwrap();
        copy_out(first.path(), &shared, &["data/".to_owned()]).unwrap();

        let second = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(second.path().join("data")).unwrap();
        std::fs::write(second.path().join("data/stale.csv"), "old").unwrap();
        copy_in(&shared, second.path(), &["data/".to_owned()]).unwrap();
        assert_eq!(std::fs::read_to_string(second.path().join("data/deep/rows.csv")).unwrap(), "a,b\n");
        assert!(!second.path().join("data/stale.csv").exists(), "the volume's copy replaces the bundle's");

        volumes.remove("nbw-pipe-abc").await;
        assert!(volumes.held().is_empty());
        assert!(!shared.exists());
    }

    #[tokio::test]
    async fn names_and_folders_that_leave_their_place_are_refused() {
        let agent = tempfile::tempdir().unwrap();
        let volumes = SharedVolumes::new(agent.path(), None);
        let error = volumes.open(&volume("../etc"), false).await.unwrap_err();
        assert!(error.to_string().contains("invalid"), "{error}");
        let error = copy_in(agent.path(), agent.path(), &["../up".to_owned()]).unwrap_err();
        assert!(error.to_string().contains("without '..'"), "{error}");
    }
}
