//! A runtime's image built with this machine's Docker engine (and pushed when asked), then
//! recorded on the server (see [`super::record`]).

use std::time::Instant;

use nbw_core::api::{BuiltImage, Runtime};
use nbw_core::image::runtime_image_tag;
use nbw_core::project::LocalProject;
use serde::Serialize;

use super::record::{self, Recording};
use super::{BuildArgs, cli_error};
use crate::client::credentials::Session;
use crate::client::output;
use crate::client::push::{check_version, sha256_hex, version_label};
use crate::client::{CliError, CliResult, OK, ProjectArg};

/// What `-o json|yaml` prints: the image, and the server's record of its version.
#[derive(Serialize)]
struct Report<'a> {
    runtime: &'a str,
    version: &'a str,
    #[serde(flatten)]
    built: &'a BuiltImage,
    /// The server's record of this version (made now or before; its image id tells which), or
    /// null when the build is not recorded.
    recorded: Option<&'a Runtime>,
}

/// `nbw runtime build` without `--remote`.
pub(super) async fn build(locate: &ProjectArg, args: &BuildArgs, server: Option<&str>) -> CliResult {
    let project = locate.load()?;
    let name = locate.project.clone().unwrap_or_else(|| project.spec.project.clone());
    // Read before the build, so that a damaged credentials file fails at once, not after it.
    let login = if args.local_only { None } else { Some(Session::find(server)?) };
    let started = Instant::now();
    let version = image_version(&project, args)?;
    let built = build_image(&project, &name, args, &version).await?;
    let recording = match login {
        None => Recording::LocalOnly,
        Some(login) => record::record(login, &name, &args.name, &version, &built)
            .await
            .map_err(|e| not_recorded(e, &built))?,
    };
    let report =
        Report { runtime: &args.name, version: &version, built: &built, recorded: recording.runtime() };
    output::print(args.format, &report, || {
        format!(
            "{} built {} in {:.0?}\n  image id    {}\n  dockerfile  sha256:{}",
            output::ok_mark(),
            built.image,
            started.elapsed(),
            built.image_id,
            built.dockerfile_hash
        )
    });
    eprintln!("{}", recording.message(&built));
    Ok(OK)
}

/// A failed recording, saying that the image itself is fine.
fn not_recorded(mut error: CliError, built: &BuiltImage) -> CliError {
    error.message.push_str(&format!(
        "\n  {} is built but not recorded on the server: build again to record it, or add --local-only",
        built.image
    ));
    error
}

/// `--version`, else the label `nbw push` would give the project's bundle.
fn image_version(project: &LocalProject, args: &BuildArgs) -> CliResult<String> {
    if let Some(version) = &args.version {
        return check_version(version);
    }
    let bundle = nbw_bundle::build(&project.root).map_err(|e| {
        CliError::bad_input(format!("building the bundle of {}: {e}", project.root.display()))
    })?;
    Ok(version_label(&project.root, &sha256_hex(&bundle.bytes)))
}

/// Builds the image of runtime `args.name` of `project` (named `name` on the server) as
/// `nbw/<name>/<runtime>:<version>`, streaming the build's output to standard error, and pushes
/// it when asked; the image it returns names the pushed reference then.
async fn build_image(
    project: &LocalProject,
    name: &str,
    args: &BuildArgs,
    version: &str,
) -> CliResult<BuiltImage> {
    let dockerfile = nbw_runtime::dockerfile(&project.root, &project.spec, &args.name).map_err(cli_error)?;
    let tag = runtime_image_tag(name, &args.name, version);
    match &dockerfile.path {
        Some(path) => eprintln!("building {tag} from your own {}", path.display()),
        None => eprintln!("building {tag} from the Dockerfile generated from {}", project.file.display()),
    }
    let docker = nbw_runtime::connect().await.map_err(cli_error)?;
    let mut log = |line: &str| eprintln!("{line}");
    let mut built =
        nbw_runtime::build(&docker, &project.root, &dockerfile, &tag, &mut log).await.map_err(cli_error)?;
    if let Some(registry) = &args.push {
        built.image = nbw_runtime::push(&docker, &tag, registry, &mut log).await.map_err(cli_error)?;
    }
    Ok(built)
}
