//! `nbw push`: bundle the project, upload it, and make the server's workflows and pipelines
//! match `nbw.yaml`, showing the plan first.
//!
//! Workflows are pinned to the pushed bundle version, so what a schedule runs is what was
//! pushed with it, even after an older version is pushed again. The version is `git describe
//! --always --dirty` (a dirty tree adds a hash of the bundle, so two different dirty pushes
//! never share a label), or a hash of the bundle outside git; a bundle the server holds already
//! (same digest) is reused under its version, so pushing an unchanged project is a no-op.

use std::path::PathBuf;
use std::process::Command;

use clap::Args;
use nbw_client::UserClient;
use nbw_core::api::{Bundle, Workflow, WorkflowInput};
use nbw_core::project::{self, LocalProject};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::credentials::Session;
use super::output::{self, Bar, Format};
use super::secrets::read_nbvars;
use super::{CliError, CliResult, OK, ProjectArg, ServerArg, confirm, exit_codes};

mod pipelines;

/// Upload the project and make the server's workflows and pipelines match nbw.yaml.
///
/// Builds the bundle (honouring .gitignore and .nbwignore; local.nbvars never goes in),
/// creates the project on the server if it is new (you become its owner), uploads the bundle
/// with a version from `git describe --always --dirty`, then creates, updates and deletes
/// workflows and pipelines so the server matches nbw.yaml. The plan is shown first and needs a yes (or
/// --yes). Pushing again without a change does nothing.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw push                      # show the plan, ask, apply
  nbw push --dry-run            # only show the plan
  nbw push --yes --secrets      # apply without asking, and push local.nbvars as secrets
  nbw push ../other-project --version v2.1

", exit_codes!()))]
pub struct PushArgs {
    /// The project folder (default: where the nearest nbw.yaml is).
    dir: Option<PathBuf>,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
    /// Apply without asking.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Show the plan and stop.
    #[arg(long)]
    dry_run: bool,
    /// Also set the project's secrets from local.nbvars (KEY=VALUE lines).
    #[arg(long)]
    secrets: bool,
    /// The bundle's version label (default: from git, else a hash of the bundle).
    #[arg(long)]
    version: Option<String>,
    /// Keep the server's workflows and pipelines that nbw.yaml does not list (default: delete
    /// them).
    #[arg(long)]
    no_prune: bool,
    /// How to print the plan.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
}

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Step {
    CreateProject { name: String },
    UploadBundle { version: String, files: usize, bytes: u64 },
    CreateWorkflow { name: String, notebook: String },
    UpdateWorkflow { name: String, changes: Vec<String> },
    DeleteWorkflow { name: String },
    CreatePipeline { name: String, steps: usize },
    UpdatePipeline { name: String, changes: Vec<String> },
    DeletePipeline { name: String },
    SetSecrets { names: Vec<String> },
}

/// What `-o json|yaml` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    server: &'a str,
    project: &'a str,
    bundle_version: &'a str,
    steps: &'a [Step],
    unchanged: &'a [String],
    applied: bool,
}

pub async fn push(args: PushArgs) -> CliResult {
    let locate = match &args.dir {
        Some(dir) => ProjectArg { file: Some(dir.clone()), project: None },
        None => args.project.clone(),
    };
    let project = project::load(&locate.find_file()?)?;
    let name = args.project.project.clone().unwrap_or_else(|| project.spec.project.clone());
    let secrets =
        if args.secrets { Some(read_nbvars(&project.root.join(project::SECRETS_FILE))?) } else { None };
    let built = nbw_bundle::build(&project.root).map_err(|e| {
        CliError::bad_input(format!("building the bundle of {}: {e}", project.root.display()))
    })?;
    check_notebooks_bundled(&project, &built.files)?;
    let hex = sha256_hex(&built.bytes);
    let digest = format!("sha256:{hex}");
    let label = match &args.version {
        Some(version) => check_version(version)?,
        None => version_label(&project.root, &hex),
    };

    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let exists = match client.project(&name).await {
        Ok(_) => true,
        Err(e) if e.code() == Some("not_found") => false,
        Err(e) => return Err(CliError::from_client(e, &format!("reading project {name:?}"))),
    };
    let (bundles, current, current_pipelines) = if exists {
        let bundles =
            client.bundles(&name).await.map_err(|e| CliError::from_client(e, "listing the bundles"))?;
        let workflows =
            client.workflows(&name).await.map_err(|e| CliError::from_client(e, "listing the workflows"))?;
        let wanted = !project.spec.pipelines.is_empty();
        (bundles, workflows, pipelines::current(&client, &name, wanted).await?)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let (version, upload) = choose_version(&label, &digest, &hex, &bundles, args.version.is_some())?;

    let mut steps = Vec::new();
    if !exists {
        steps.push(Step::CreateProject { name: name.clone() });
    }
    if upload {
        steps.push(Step::UploadBundle {
            version: version.clone(),
            files: built.files.len(),
            bytes: built.bytes.len() as u64,
        });
    }
    let desired: Vec<WorkflowInput> = project
        .spec
        .workflows
        .iter()
        .map(|(n, w)| w.to_input(n, Some(&version), &project.spec.defaults))
        .collect();
    let mut unchanged = Vec::new();
    for input in &desired {
        match current.iter().find(|w| w.name == input.name) {
            None => steps.push(Step::CreateWorkflow {
                name: input.name.clone(),
                notebook: input.spec.notebook.clone(),
            }),
            Some(existing) => {
                let changes = diff(existing, input);
                if changes.is_empty() {
                    unchanged.push(input.name.clone());
                } else {
                    steps.push(Step::UpdateWorkflow { name: input.name.clone(), changes });
                }
            }
        }
    }
    let mut kept = Vec::new();
    for existing in &current {
        if !desired.iter().any(|d| d.name == existing.name) {
            if args.no_prune {
                kept.push(existing.name.clone());
            } else {
                steps.push(Step::DeleteWorkflow { name: existing.name.clone() });
            }
        }
    }
    let desired_pipelines = pipelines::desired(&project, &version);
    let pipeline_plan = pipelines::plan(&desired_pipelines, &current_pipelines, !args.no_prune);
    steps.extend(pipeline_plan.steps);
    unchanged.extend(pipeline_plan.unchanged);
    kept.extend(pipeline_plan.kept);
    if let Some(secrets) = &secrets
        && !secrets.is_empty()
    {
        steps.push(Step::SetSecrets { names: secrets.iter().map(|(k, _)| k.clone()).collect() });
    }

    let server = session.server.clone();
    let report = |applied: bool, steps| Report {
        server: &server,
        project: &name,
        bundle_version: &version,
        steps,
        unchanged: &unchanged,
        applied,
    };
    if steps.is_empty() {
        output::print(args.format, &report(false, &[][..]), || {
            format!(
                "Nothing to do: {} on {} matches {} (bundle {version}).",
                name,
                session.server,
                project.file.display()
            )
        });
        return Ok(OK);
    }
    if args.format == Format::Table {
        println!("{}", show_plan(&name, &session.server, &steps, &unchanged, &kept));
    }
    if args.dry_run {
        if args.format != Format::Table {
            output::print(args.format, &report(false, &steps), String::new);
        }
        return Ok(OK);
    }
    if !args.yes {
        confirm("Apply this plan?", "--yes")?;
    }
    let wanted = Wanted { workflows: &desired, pipelines: &desired_pipelines };
    apply(&client, &name, &project, &steps, wanted, secrets.as_deref(), built.bytes).await?;
    output::print(args.format, &report(true, &steps), || {
        format!(
            "{} {name} on {} now matches {} (bundle {version}).",
            output::ok_mark(),
            session.server,
            project.file.display()
        )
    });
    Ok(OK)
}

/// A workflow's or pipeline step's notebook left out by an ignore file would fail every run:
/// refused now.
fn check_notebooks_bundled(project: &LocalProject, files: &[String]) -> CliResult<()> {
    let workflows =
        project.spec.workflows.iter().map(|(name, w)| (format!("workflow {name}"), w.notebook.as_str()));
    let steps = project.spec.pipelines.iter().flat_map(|(pipeline, p)| {
        p.steps.iter().filter_map(move |s| {
            Some((format!("step {} of pipeline {pipeline}", s.name), s.notebook.as_deref()?))
        })
    });
    for (owner, notebook) in workflows.chain(steps) {
        let notebook = notebook.trim();
        if !files.iter().any(|f| f == notebook) {
            return Err(CliError::bad_input(format!(
                "notebook {notebook} of {owner} is left out of the bundle by .gitignore or .nbwignore; un-ignore it"
            )));
        }
    }
    Ok(())
}

/// SHA-256 of `bytes` in hex (of a bundle: its digest without the `sha256:`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The version label of the project at `root` whose bundle hashes to `bundle_hex`, unless one is
/// given: `git describe --always --dirty` (a dirty tree adds the bundle's hash, so two different
/// dirty trees never share a label), else the bundle's hash.
pub fn version_label(root: &std::path::Path, bundle_hex: &str) -> String {
    git_version(root)
        .map(|v| if v.ends_with("-dirty") { format!("{v}-{}", &bundle_hex[..8]) } else { v })
        .unwrap_or_else(|| bundle_hex[..12].to_owned())
}

/// A version label given with `--version`, checked with the server's rule
/// ([`nbw_core::names::check_bundle_version`]).
pub fn check_version(version: &str) -> CliResult<String> {
    nbw_core::names::check_bundle_version(version)?;
    Ok(version.to_owned())
}

/// `git describe --always --dirty` in the project folder, when it is in a repository with a
/// commit.
fn git_version(root: &std::path::Path) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["describe", "--always", "--dirty"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let version: String = text
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._+-".contains(c) { c } else { '-' })
        .take(100)
        .collect();
    (!version.is_empty()).then_some(version)
}

/// The version to push under, and whether the archive must be uploaded.
fn choose_version(
    label: &str,
    digest: &str,
    hex: &str,
    bundles: &[Bundle],
    explicit: bool,
) -> CliResult<(String, bool)> {
    if let Some(same) = bundles.iter().find(|b| b.version == label) {
        if same.digest == digest {
            return Ok((label.to_owned(), false));
        }
        if explicit {
            return Err(CliError::new(
                super::REFUSED,
                format!("version {label} is on the server with other content; push under another --version"),
            ));
        }
        // The tree says "clean" but the files differ (untracked files, say): a label of its own.
        let alternative = format!("{label}-{}", &hex[..8]);
        return match bundles.iter().find(|b| b.version == alternative) {
            Some(b) if b.digest == digest => Ok((alternative, false)),
            Some(_) => {
                Err(CliError::new(super::REFUSED, format!("version {alternative} exists with other content")))
            }
            None => Ok((alternative, true)),
        };
    }
    if !explicit && let Some(same) = bundles.iter().find(|b| b.digest == digest) {
        return Ok((same.version.clone(), false));
    }
    Ok((label.to_owned(), true))
}

/// What differs between the server's workflow and the wanted one, one line per field.
fn diff(existing: &Workflow, wanted: &WorkflowInput) -> Vec<String> {
    let have =
        WorkflowInput { name: existing.name.clone(), enabled: existing.enabled, spec: existing.spec.clone() };
    diff_json(
        &serde_json::to_value(&have).expect("serializes"),
        &serde_json::to_value(wanted).expect("serializes"),
    )
}

/// What differs between two JSON objects, one line per top-level field.
fn diff_json(have: &Value, want: &Value) -> Vec<String> {
    let (Value::Object(have), Value::Object(want)) = (have, want) else {
        return vec!["everything".into()];
    };
    let mut keys: Vec<&String> = have.keys().chain(want.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (a, b) = (have.get(key).unwrap_or(&Value::Null), want.get(key).unwrap_or(&Value::Null));
            (a != b).then(|| format!("{key}: {} → {}", output::short_json(a, 40), output::short_json(b, 40)))
        })
        .collect()
}

fn show_plan(name: &str, server: &str, steps: &[Step], unchanged: &[String], kept: &[String]) -> String {
    use console::style;
    let mut lines = vec![format!("Plan for project {name} on {server}:")];
    for step in steps {
        lines.push(match step {
            Step::CreateProject { name } => {
                format!("  {} create project {name} (you become its owner)", style("+").green())
            }
            Step::UploadBundle { version, files, bytes } => format!(
                "  {} upload bundle {version} ({files} files, {})",
                style("↑").cyan(),
                output::bytes(*bytes)
            ),
            Step::CreateWorkflow { name, notebook } => {
                format!("  {} create workflow {name} ({notebook})", style("+").green())
            }
            Step::UpdateWorkflow { name, changes } => update_line("workflow", name, changes),
            Step::DeleteWorkflow { name } => delete_line("workflow", name),
            Step::CreatePipeline { name, steps } => {
                format!("  {} create pipeline {name} ({steps} steps)", style("+").green())
            }
            Step::UpdatePipeline { name, changes } => update_line("pipeline", name, changes),
            Step::DeletePipeline { name } => delete_line("pipeline", name),
            Step::SetSecrets { names } => {
                format!("  {} set secrets {} (from local.nbvars)", style("*").magenta(), names.join(", "))
            }
        });
    }
    if !unchanged.is_empty() {
        lines.push(format!("  = unchanged: {}", unchanged.join(", ")));
    }
    if !kept.is_empty() {
        lines.push(format!("  = kept (not in nbw.yaml, --no-prune): {}", kept.join(", ")));
    }
    lines.join("\n")
}

/// The workflows and pipelines nbw.yaml wants, as the server takes them.
struct Wanted<'a> {
    workflows: &'a [WorkflowInput],
    pipelines: &'a [(String, nbw_core::api::PipelineInput)],
}

/// "~ update workflow NAME:" and a line per change.
fn update_line(kind: &str, name: &str, changes: &[String]) -> String {
    let mut text = format!("  {} update {kind} {name}:", console::style("~").yellow());
    for change in changes {
        text.push_str(&format!("\n      {change}"));
    }
    text
}

fn delete_line(kind: &str, name: &str) -> String {
    format!("  {} delete {kind} {name} (not in nbw.yaml; --no-prune keeps it)", console::style("-").red())
}

async fn apply(
    client: &UserClient,
    name: &str,
    project: &LocalProject,
    steps: &[Step],
    wanted: Wanted<'_>,
    secrets: Option<&[(String, String)]>,
    archive: Vec<u8>,
) -> CliResult<()> {
    let mut archive = Some(archive);
    for step in steps {
        match step {
            Step::CreateProject { name } => {
                let description = project.spec.description.clone().unwrap_or_default();
                client
                    .create_project(name, &description)
                    .await
                    .map_err(|e| CliError::from_client(e, &format!("creating project {name}")))?;
                eprintln!("{} created project {name}", output::ok_mark().for_stderr());
            }
            Step::UploadBundle { version, bytes, .. } => {
                let bar = Bar::bytes(*bytes, "Uploading");
                let progress = bar.0.clone();
                let archive = archive.take().expect("one upload");
                client
                    .upload_bundle(name, version, archive, move |sent| progress.set_position(sent))
                    .await
                    .map_err(|e| CliError::from_client(e, "uploading the bundle"))?;
                drop(bar);
                eprintln!("{} uploaded bundle {version}", output::ok_mark().for_stderr());
            }
            Step::CreateWorkflow { name: workflow, .. } => {
                let input =
                    wanted.workflows.iter().find(|d| &d.name == workflow).expect("planned from desired");
                client
                    .create_workflow(name, input)
                    .await
                    .map_err(|e| CliError::from_client(e, &format!("creating workflow {workflow}")))?;
                eprintln!("{} created workflow {workflow}", output::ok_mark().for_stderr());
            }
            Step::UpdateWorkflow { name: workflow, .. } => {
                let input =
                    wanted.workflows.iter().find(|d| &d.name == workflow).expect("planned from desired");
                client
                    .replace_workflow(name, workflow, input)
                    .await
                    .map_err(|e| CliError::from_client(e, &format!("updating workflow {workflow}")))?;
                eprintln!("{} updated workflow {workflow}", output::ok_mark().for_stderr());
            }
            Step::DeleteWorkflow { name: workflow } => {
                client
                    .delete_workflow(name, workflow)
                    .await
                    .map_err(|e| CliError::from_client(e, &format!("deleting workflow {workflow}")))?;
                eprintln!("{} deleted workflow {workflow}", output::ok_mark().for_stderr());
            }
            Step::CreatePipeline { name: pipeline, .. } | Step::UpdatePipeline { name: pipeline, .. } => {
                pipelines::put(client, name, pipeline, wanted.pipelines).await?;
            }
            Step::DeletePipeline { name: pipeline } => pipelines::delete(client, name, pipeline).await?,
            Step::SetSecrets { .. } => {
                for (key, value) in secrets.unwrap_or_default() {
                    client
                        .set_secret(name, key, value)
                        .await
                        .map_err(|e| CliError::from_client(e, &format!("setting secret {key}")))?;
                }
                eprintln!(
                    "{} set {} secrets",
                    output::ok_mark().for_stderr(),
                    secrets.unwrap_or_default().len()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(version: &str, digest: &str) -> Bundle {
        Bundle {
            id: "b".into(),
            version: version.into(),
            digest: digest.into(),
            format: "tar.gz".into(),
            size: 1,
            notebooks: vec![],
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn versions_are_reused_or_made_unique() {
        let hex = "abcdef0123456789";
        let d = "sha256:abcdef0123456789";
        assert_eq!(choose_version("v1", d, hex, &[], false).unwrap(), ("v1".into(), true));
        assert_eq!(choose_version("v1", d, hex, &[bundle("v1", d)], false).unwrap(), ("v1".into(), false));
        assert_eq!(choose_version("v2", d, hex, &[bundle("v1", d)], false).unwrap(), ("v1".into(), false));
        assert_eq!(
            choose_version("v1", d, hex, &[bundle("v1", "sha256:other")], false).unwrap(),
            ("v1-abcdef01".into(), true)
        );
        assert!(choose_version("v1", d, hex, &[bundle("v1", "sha256:other")], true).is_err());
    }
}
