//! `nbw runtime`: a runtime's Dockerfile; its image built on this machine's Docker engine (and
//! recorded on the server when logged in to one, see [`record`]) or queued on an agent with
//! Docker (`--remote`); and the versions the server has recorded.

mod list;
mod local;
mod record;
mod remote;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use nbw_core::project::LocalProject;
use nbw_runtime::RuntimeError;

use super::output::{self, Format};
use super::{BAD_INPUT, CliError, CliResult, FAILED, OK, ProjectArg, ServerArg, UNREACHABLE};

/// A runtime's Dockerfile and image: built here or on an agent, and recorded on the server.
///
/// nbw generates `Dockerfile.NAME` from runtime NAME of nbw.yaml. If you delete the file's
/// first line (nbw's marker), the file is yours: nbw builds from it as is and never rewrites it.
/// A build here is recorded on the server you are logged in to (the project must be pushed),
/// so runs of the runtime use it; an agent that runs it needs the image too (--push).
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  nbw runtime dockerfile default -o -       # print the generated Dockerfile
  nbw runtime dockerfile default            # write Dockerfile.default, to read or to own it
  nbw runtime build default                 # build nbw/PROJECT/default:VERSION, record it
  nbw runtime build default --version v2 --push registry.example.com:5000 -o json
  nbw runtime build default --local-only    # build here, leave the server alone
  nbw runtime build default --remote --watch   # build the latest push on an agent
  nbw runtime list default

Exit codes:
  0   success; a build here that is not recorded on the server says why (--local-only, not
      logged in, the project not on the server, that version recorded already)
  1   the build or the push failed (with --remote --watch: the build failed)
  2   bad input: command line, project file missing or invalid, an unknown runtime, a value of
      nbw.yaml that cannot go into a Dockerfile, a Dockerfile of yours that would be overwritten,
      a request the server refused as invalid
  3   with --remote --watch: the build timed out
  6   with --remote --watch: the build was cancelled
  7   with --remote --watch: the build was lost (its agent stopped answering)
  8   the Docker engine or the nbw server cannot be reached
  9   not logged in (list, --remote), or the login expired: run `nbw login`
  10  refused: no permission in the project
  12  the server failed, or answered something unexpected")]
pub struct RuntimeArgs {
    #[command(subcommand)]
    command: RuntimeCommand,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
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
    /// Build a runtime's image with the local Docker engine, streaming the build's output, and
    /// record it on the server; or (--remote) on an agent with Docker.
    Build(BuildArgs),
    /// The runtime versions recorded on the server, newest first.
    #[command(visible_alias = "ls")]
    List {
        /// Only this runtime's versions.
        name: Option<String>,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
}

/// `nbw runtime build`.
#[derive(Args, Debug)]
struct BuildArgs {
    /// The runtime (a key of `runtimes` in nbw.yaml).
    name: String,
    /// The image's version (default: the label `nbw push` gives the bundle: from git, else a
    /// hash of the bundle). With --remote: the pushed bundle version to build from, which is
    /// the image's version too (default: the latest push).
    #[arg(long)]
    version: Option<String>,
    /// Also push the image to this registry, as REGISTRY/nbw/PROJECT/RUNTIME:VERSION.
    #[arg(long, value_name = "REGISTRY")]
    push: Option<String>,
    /// Do not record the build on the server.
    #[arg(long)]
    local_only: bool,
    /// Build on an agent with Docker, from a pushed bundle, instead of here; the server records
    /// the version when the build succeeds.
    #[arg(long, conflicts_with_all = ["push", "local_only"])]
    remote: bool,
    /// With --remote: follow the build's log live and exit with its status.
    #[arg(short = 'w', long, requires = "remote")]
    watch: bool,
    /// How to print the result.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
}

pub async fn runtime(args: RuntimeArgs) -> CliResult {
    let server = args.server.server.as_deref();
    match args.command {
        RuntimeCommand::Dockerfile { name, output, force } => {
            write_dockerfile(&args.project.load()?, &name, output, force)
        }
        RuntimeCommand::Build(build) if build.remote => {
            remote::build(&args.project.name()?, &build, server).await
        }
        RuntimeCommand::Build(build) => local::build(&args.project, &build, server).await,
        RuntimeCommand::List { name, format } => {
            list::list(&args.project.name()?, name.as_deref(), format, server).await
        }
    }
}

/// Writes the generated Dockerfile of runtime `name` to `output` (`-`: standard output),
/// refusing to overwrite a person's own Dockerfile unless `force`.
fn write_dockerfile(project: &LocalProject, name: &str, output: Option<PathBuf>, force: bool) -> CliResult {
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
