//! Recording an image built here on the server, so that runs of the runtime resolve to it.
//!
//! A build here stands on its own, so what stops the recording without anything being wrong
//! (no login, the project not pushed yet, the version recorded already) is told, not failed.
//! The server refuses to overwrite a recorded version by hand (only a build on an agent
//! replaces one), so a changed image needs a new version.

use nbw_core::api::{BuiltImage, RegisterRuntime, Runtime};

use crate::client::credentials::{NotLoggedIn, Session};
use crate::client::output;
use crate::client::{CliError, CliResult};

/// What became of recording a build.
pub(super) enum Recording {
    /// Not asked for (`--local-only`).
    LocalOnly,
    /// No login for the server.
    NotLoggedIn(NotLoggedIn),
    /// The project is not on the server, or the person is not one of its members.
    NoProject { server: String, project: String },
    /// Recorded now.
    Recorded { server: String, runtime: Runtime },
    /// The version was recorded before, with this image or another one.
    Already { server: String, runtime: Runtime },
}

impl Recording {
    /// The server's record of the version, when there is one.
    pub(super) fn runtime(&self) -> Option<&Runtime> {
        match self {
            Recording::Recorded { runtime, .. } | Recording::Already { runtime, .. } => Some(runtime),
            _ => None,
        }
    }

    /// What to tell the person about `built`.
    pub(super) fn message(&self, built: &BuiltImage) -> String {
        let image = &built.image;
        let mark = output::ok_mark().for_stderr();
        match self {
            Recording::LocalOnly => format!("note: {image} is not recorded on the server (--local-only)"),
            Recording::NotLoggedIn(NotLoggedIn { server }) => format!(
                "note: {image} is built here only: not logged in to {server}. To record it there, log in \
                 (`nbw login {server}`) and build again"
            ),
            Recording::NoProject { server, project } => format!(
                "note: {image} is built here only: project {project} is not on {server} (or you are not one \
                 of its members). `nbw push` creates it; then build again to record the image"
            ),
            Recording::Recorded { server, runtime } => {
                format!("{mark} recorded version {} of runtime {} on {server}", runtime.version, runtime.name)
            }
            Recording::Already { server, runtime } => already(server, runtime, built),
        }
    }
}

fn already(server: &str, runtime: &Runtime, built: &BuiltImage) -> String {
    let (version, name) = (&runtime.version, &runtime.name);
    match runtime.image_id.as_deref() {
        Some(id) if id == built.image_id => format!(
            "{} version {version} of runtime {name} is already recorded on {server} with this image",
            output::ok_mark().for_stderr()
        ),
        recorded => format!(
            "note: version {version} of runtime {name} is already recorded on {server} with image id {}, \
             not this build's {}; rebuild with a new version (--version) to record this one",
            recorded.map(output::short_id).unwrap_or("(none)"),
            output::short_id(&built.image_id)
        ),
    }
}

/// Records `built` as `version` of `runtime` in `project` on the server of `login`.
pub(super) async fn record(
    login: Result<Session, NotLoggedIn>,
    project: &str,
    runtime: &str,
    version: &str,
    built: &BuiltImage,
) -> CliResult<Recording> {
    let mut session = match login {
        Ok(session) => session,
        Err(none) => return Ok(Recording::NotLoggedIn(none)),
    };
    let server = session.server.clone();
    let client = session.client().await?;
    let request = RegisterRuntime {
        name: runtime.to_owned(),
        version: version.to_owned(),
        image: built.image.clone(),
        dockerfile_hash: Some(built.dockerfile_hash.clone()),
        image_id: Some(built.image_id.clone()),
    };
    let doing = format!("recording version {version} of runtime {runtime} on {server}");
    match client.register_runtime(project, &request).await {
        Ok(runtime) => Ok(Recording::Recorded { server, runtime }),
        Err(e) if e.code() == Some("not_found") => {
            Ok(Recording::NoProject { server, project: project.to_owned() })
        }
        Err(e) if e.code() == Some("conflict") => {
            let versions = client
                .runtimes(project, Some(runtime))
                .await
                .map_err(|e| CliError::from_client(e, &doing))?;
            match versions.into_iter().find(|r| r.version == version) {
                Some(runtime) => Ok(Recording::Already { server, runtime }),
                None => Err(CliError::from_client(e, &doing)),
            }
        }
        Err(e) => Err(CliError::from_client(e, &doing)),
    }
}
