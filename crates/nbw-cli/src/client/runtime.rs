//! `nbw runtime`: a runtime's Dockerfile, and its image built (and pushed) on this machine's
//! Docker engine. Registering a built image on the server takes the [`BuiltImage`] that
//! [`build_image`] returns.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use nbw_core::api::BuiltImage;
use nbw_core::image::runtime_image_tag;
use nbw_core::project::Project;
use nbw_runtime::RuntimeError;

use super::output::{self, Format};
use super::push::{check_version, sha256_hex, version_label};
use super::{BAD_INPUT, CliError, CliResult, FAILED, OK, ProjectArg, UNREACHABLE};

/// A runtime's Dockerfile and image, on this machine.
///
/// nbw generates `Dockerfile.NAME` from runtime NAME of nbw.yaml. If you delete the file's
/// first line (nbw's marker), the file is yours: nbw builds from it as is and never rewrites it.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw runtime dockerfile default -o -       # print the generated Dockerfile
  nbw runtime dockerfile default            # write Dockerfile.default, to read or to own it
  nbw runtime build default                 # build nbw/PROJECT/default:VERSION
  nbw runtime build default --version v2 --push registry.example.com:5000 -o json

Exit codes:
  0   success
  1   the build or the push failed
  2   bad input: command line, project file missing or invalid, an unknown runtime, a value of
      nbw.yaml that cannot go into a Dockerfile, a Dockerfile of yours that would be overwritten
  8   the Docker engine cannot be reached (is it running? DOCKER_HOST names another one)")]
pub struct RuntimeArgs {
    #[command(subcommand)]
    command: RuntimeCommand,
    #[command(flatten)]
    project: ProjectArg,
}

#[derive(Subcommand, Debug)]
enum RuntimeCommand {
    /// Write the Dockerfile nbw generates for a runtime (default: Dockerfile.NAME in the
    /// project folder).
    Dockerfile {
        /// The runtime (a key of `runtimes` in nbw.yaml).
        name: String,
        /// Where to write it: a file, or `-` for standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite a Dockerfile of your own (one without nbw's marker line).
        #[arg(long)]
        force: bool,
    },
    /// Build a runtime's image with the local Docker engine, streaming the build's output.
    Build(BuildArgs),
}

/// `nbw runtime build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The runtime (a key of `runtimes` in nbw.yaml).
    name: String,
    /// The image's version (default: the label `nbw push` gives the bundle: from git, else a
    /// hash of the bundle).
    #[arg(long)]
    version: Option<String>,
    /// Also push the image to this registry, as REGISTRY/nbw/PROJECT/RUNTIME:VERSION.
    #[arg(long, value_name = "REGISTRY")]
    push: Option<String>,
    /// How to print the result.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
}

pub async fn runtime(args: RuntimeArgs) -> CliResult {
    let project = args.project.load()?;
    match args.command {
        RuntimeCommand::Dockerfile { name, output, force } => {
            write_dockerfile(&project, &name, output, force)
        }
        RuntimeCommand::Build(build) => {
            let name = args.project.project.unwrap_or_else(|| project.spec.project.clone());
            let started = Instant::now();
            let built = build_image(&project, &name, &build).await?;
            output::print(build.format, &built, || {
                format!(
                    "{} built {} in {:.0?}\n  image id    {}\n  dockerfile  sha256:{}",
                    output::ok_mark(),
                    built.image,
                    started.elapsed(),
                    built.image_id,
                    built.dockerfile_hash
                )
            });
            Ok(OK)
        }
    }
}

/// Writes the generated Dockerfile of runtime `name` to `output` (`-`: standard output),
/// refusing to overwrite a person's own Dockerfile unless `force`.
fn write_dockerfile(project: &Project, name: &str, output: Option<PathBuf>, force: bool) -> CliResult {
    let generated = nbw_runtime::generated(&project.root, &project.spec, name).map_err(cli_error)?;
    let path = output.unwrap_or_else(|| project.root.join(nbw_runtime::file_name(name)));
    if path.as_os_str() == "-" {
        std::io::stdout()
            .write_all(generated.text.as_bytes())
            .map_err(|e| CliError::bad_input(format!("writing to standard output: {e}")))?;
        return Ok(OK);
    }
    if let Ok(existing) = std::fs::read_to_string(&path)
        && !nbw_runtime::is_generated(&existing)
        && !force
    {
        return Err(CliError::bad_input(format!(
            "{} is your own Dockerfile (it does not start with nbw's marker line), so nbw builds from it as is \
             and leaves it alone; overwrite it with --force",
            path.display()
        )));
    }
    std::fs::write(&path, &generated.text)
        .map_err(|e| CliError::bad_input(format!("cannot write {}: {e}", path.display())))?;
    eprintln!(
        "{} wrote {}: delete its first line to keep your edits (nbw then builds from it as is)",
        output::ok_mark().for_stderr(),
        path.display()
    );
    Ok(OK)
}

/// Builds the image of runtime `args.name` of `project` (named `name` on the server) as
/// `nbw/<name>/<runtime>:<version>`, streaming the build's output to standard error, and pushes
/// it when asked; the image it returns names the pushed reference then.
pub async fn build_image(project: &Project, name: &str, args: &BuildArgs) -> CliResult<BuiltImage> {
    let dockerfile = nbw_runtime::dockerfile(&project.root, &project.spec, &args.name).map_err(cli_error)?;
    let version = match &args.version {
        Some(version) => check_version(version)?,
        None => {
            let bundle = nbw_bundle::build(&project.root).map_err(|e| {
                CliError::bad_input(format!("building the bundle of {}: {e}", project.root.display()))
            })?;
            version_label(&project.root, &sha256_hex(&bundle.bytes))
        }
    };
    let tag = runtime_image_tag(name, &args.name, &version);
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

/// Each runtime error's exit code: what the person must fix, a build that failed, or no engine.
fn cli_error(error: RuntimeError) -> CliError {
    let code = match &error {
        RuntimeError::Unreachable { .. } => UNREACHABLE,
        RuntimeError::BuildFailed { .. }
        | RuntimeError::PushFailed { .. }
        | RuntimeError::Engine { .. }
        | RuntimeError::Template(_) => FAILED,
        RuntimeError::UnknownRuntime { .. }
        | RuntimeError::Invalid { .. }
        | RuntimeError::Io { .. }
        | RuntimeError::Context(_) => BAD_INPUT,
    };
    CliError::new(code, error.to_string())
}
