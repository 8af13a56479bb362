//! `nbw exec`: a notebook of the project run on an agent from the pushed bundle, or here with
//! the engine (`--local`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use nbw_core::api::{CreateExecution, GPU_LABEL, Origin};
use nbw_core::params::Parameters;
use nbw_core::project::{self, RuntimeEntry};
use nbw_engine::{ExecuteOptions, execute};

use super::follow::{WatchArgs, started};
use crate::client::credentials::Session;
use crate::client::output::Format;
use crate::client::{CliError, CliResult, ProjectArg, ServerArg, block_on, exit_codes, secrets};
use crate::params::ParamArgs;
use crate::progress::Reporter;
use crate::run;

/// Run a notebook of the project: on an agent, from the pushed bundle (default), or here with
/// the engine (--local, like `nbw run`, with local.nbvars as environment variables).
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw exec notebooks/report.ipynb -p day 2024-05-01 --watch
  nbw exec report -p alpha 0.5                 # notebooks/report.ipynb of the pushed bundle
  nbw exec report --local -p alpha 0.5         # here, output in outputs/report.out.ipynb
  nbw exec report --label zone=eu --timeout 2h

With --local the exit codes are those of `nbw run` (0 success, 1 a cell raised, 2 bad input,
3 timeout, 4 kernel died, 5 output incomplete, 6 cancelled).

", exit_codes!()))]
pub struct ExecArgs {
    /// The notebook: its path in the project (notebooks/report.ipynb) or its name (report).
    notebook: String,
    #[command(flatten)]
    params: ParamArgs,
    #[command(flatten)]
    watch: WatchArgs,
    /// Run it here with the engine instead of on an agent.
    #[arg(long)]
    local: bool,
    /// With --local: the executed notebook's path (default: outputs/NAME.out.ipynb).
    #[arg(long, value_name = "FILE")]
    output_notebook: Option<PathBuf>,
    /// The bundle version to run (default: the latest push).
    #[arg(long)]
    bundle_version: Option<String>,
    /// A label an agent must have, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Longest run time (90, 30s, 10m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs)]
    timeout: Option<u64>,
    /// Run in this runtime's image (on an agent with Docker).
    #[arg(long, value_name = "NAME")]
    runtime: Option<String>,
    /// The runtime version (default: the one nbw.yaml pins, else the latest built).
    #[arg(long, value_name = "VERSION", requires = "runtime")]
    runtime_version: Option<String>,
    /// Output format of the execution.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let (k, v) = text.split_once('=').ok_or_else(|| format!("label {text:?} must be KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("label {text:?} has an empty key"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_secs(text: &str) -> Result<u64, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    humantime::parse_duration(text)
        .map(|d| d.as_secs().max(1))
        .map_err(|e| format!("{text:?} is not a duration like 90, 30s or 10m: {e}"))
}

/// `nbw exec`: on an agent, or (`--local`) here with the engine.
pub fn exec_main(args: ExecArgs) -> i32 {
    if args.local {
        return block_on(exec_local(args));
    }
    block_on(exec(args))
}

/// The project folder, when there is a project file.
fn project_root(project: &ProjectArg) -> Option<PathBuf> {
    let file = project.find_file().ok()?;
    let root = file.parent()?.to_path_buf();
    Some(if root.as_os_str().is_empty() { PathBuf::from(".") } else { root })
}

/// Runtime `name` of the project file here, when there is one that reads.
fn local_runtime(project: &ProjectArg, name: Option<&str>) -> Option<RuntimeEntry> {
    let spec = project::load(&project.find_file().ok()?).ok()?.spec;
    spec.runtimes.get(name?).cloned()
}

/// The notebook's file here: as given, or `NAME.ipynb` / `notebooks/NAME(.ipynb)` in the project.
fn local_notebook(given: &str, root: &Path) -> Option<PathBuf> {
    let with_ext = if given.ends_with(".ipynb") { given.to_owned() } else { format!("{given}.ipynb") };
    [PathBuf::from(given), root.join(given), root.join(&with_ext), root.join("notebooks").join(&with_ext)]
        .into_iter()
        .find(|p| p.is_file())
}

/// The notebook's path inside the bundle.
fn bundle_path(given: &str, root: Option<&Path>) -> String {
    if let Some(root) = root
        && let Some(file) = local_notebook(given, root)
        && let (Ok(file), Ok(root)) = (file.canonicalize(), root.canonicalize())
        && let Ok(relative) = file.strip_prefix(&root)
    {
        return relative.to_string_lossy().replace('\\', "/");
    }
    if given.ends_with(".ipynb") { given.to_owned() } else { format!("{given}.ipynb") }
}

/// `nbw exec --local`: the engine runs the notebook here, like `nbw run` with the project
/// folder as the kernel's working directory and local.nbvars in the kernel's environment (as
/// an agent passes a project's secrets).
async fn exec_local(args: ExecArgs) -> CliResult {
    let root = project_root(&args.project).unwrap_or_else(|| PathBuf::from("."));
    let notebook = local_notebook(&args.notebook, &root).ok_or_else(|| {
        CliError::bad_input(format!(
            "no notebook {:?} here or in {}/notebooks; give its path",
            args.notebook,
            root.display()
        ))
    })?;
    let output = match &args.output_notebook {
        Some(path) => path.clone(),
        None => {
            let stem = notebook.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let dir = root.join("outputs");
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::bad_input(format!("cannot create {}: {e}", dir.display())))?;
            dir.join(format!("{stem}.out.ipynb"))
        }
    };
    let env = local_secrets(&root)?;
    eprintln!("nbw: running {} here; the executed notebook goes to {}", notebook.display(), output.display());
    let input = notebook.display().to_string();
    let bad_input = |e: anyhow::Error| CliError::bad_input(format!("{e:#}"));
    let document = run::read_notebook(&input).await.map_err(bad_input)?;
    let parameters = args.params.merge_onto(Parameters::default())?;
    run::check_writable(&output).map_err(bad_input)?;
    let options = ExecuteOptions {
        cwd: Some(root),
        env,
        run_timeout: args.timeout.map(Duration::from_secs),
        input_path: Some(input),
        output_path: Some(output.display().to_string()),
        // `nbw run`'s --checkpoint-every default.
        checkpoint: Some((output.clone(), Duration::from_secs(30))),
        ..ExecuteOptions::default()
    };
    let execution =
        execute(document, &parameters, options).map_err(|e| CliError::bad_input(e.to_string()))?;
    let mut reporter = Reporter::new(true, args.watch.watch);
    let outcome = run::drive(execution, |record| reporter.show(record)).await;
    reporter.finish();
    Ok(run::finish(outcome, &crate::location::Location::File(output), false).await)
}

/// The variables of local.nbvars, for the kernel's environment (none without the file).
fn local_secrets(root: &Path) -> CliResult<Vec<(String, String)>> {
    let secrets_file = root.join(project::SECRETS_FILE);
    if !secrets_file.is_file() {
        return Ok(Vec::new());
    }
    let pairs = secrets::read_nbvars(&secrets_file)?;
    if !pairs.is_empty() {
        eprintln!(
            "nbw: {} secrets from {} are environment variables of the kernel",
            pairs.len(),
            secrets_file.display()
        );
    }
    Ok(pairs)
}

async fn exec(args: ExecArgs) -> CliResult {
    let project = args.project.name()?;
    let root = project_root(&args.project);
    let notebook = bundle_path(&args.notebook, root.as_deref());
    // The runtime as this project's nbw.yaml defines it: its pin and its GPUs, as for workflows.
    let entry = local_runtime(&args.project, args.runtime.as_deref());
    let mut labels: BTreeMap<String, String> = args.labels.iter().cloned().collect();
    if entry.as_ref().is_some_and(|r| r.gpu) {
        labels.insert(GPU_LABEL.0.to_owned(), GPU_LABEL.1.to_owned());
    }
    let request = CreateExecution {
        notebook: notebook.clone(),
        parameters: args.params.merge_onto(Parameters::default())?,
        bundle_version: args.bundle_version.clone(),
        labels,
        timeout_secs: args.timeout,
        runtime: args.runtime.clone(),
        runtime_version: args.runtime_version.clone().or_else(|| entry.and_then(|r| r.version)),
        origin: Some(Origin::Cli),
    };
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let execution = client
        .create_execution(&project, &request)
        .await
        .map_err(|e| CliError::from_client(e, &format!("running {notebook} in project {project}")))?;
    started(&mut session, execution, &args.watch, args.format).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_paths_fall_back_to_the_name_given() {
        assert_eq!(bundle_path("notebooks/a.ipynb", None), "notebooks/a.ipynb");
        assert_eq!(bundle_path("a", None), "a.ipynb");
    }
}
