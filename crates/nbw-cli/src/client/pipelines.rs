//! `nbw pipe`: the project's pipelines on the server: list, show, run (with a live view of its
//! steps), history, re-run (only what failed, with `--from-failed`) and cancel.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use nbw_client::UserClient;
use nbw_core::api::{Origin, Pipeline, PipelineRun, RerunPipeline, RunPipeline};
use nbw_core::params::Parameters;

use super::credentials::Session;
use super::output::{self, Format};
use super::pipe_watch;
use super::{CliError, CliResult, OK, ProjectArg, ServerArg, exit_codes};
use crate::params::ParamArgs;

/// The project's pipelines on the server: list, show, run, history, rerun, cancel.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw pipe list
  nbw pipe show daily-report
  nbw pipe run daily-report -p extract.day 2026-01-05 --watch
  nbw pipe history daily-report
  nbw pipe rerun pip.0123456789abcdefghij --from-failed --watch
  nbw pipe cancel pip.0123456789abcdefghij

Parameters name their step: -p STEP.NAME VALUE.
With --watch, the exit code is the run's: 0 succeeded, 1 failed, 3 timed out, 6 cancelled.

", exit_codes!()))]
pub struct PipeArgs {
    #[command(subcommand)]
    command: PipeCommand,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum PipeCommand {
    /// The pipelines: steps, schedule, next run.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// One pipeline in full, with its steps.
    Show {
        /// The pipeline's name.
        name: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Run a pipeline now; `-p STEP.NAME VALUE` overrides a step's parameter.
    Run {
        /// The pipeline's name.
        name: String,
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        watch: WatchRun,
        /// Output format of the run.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// A pipeline's runs, newest first.
    History {
        /// The pipeline's name.
        name: String,
        /// How many runs.
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: u32,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Run a pipeline run again: all of it, or only the steps that did not succeed.
    Rerun {
        /// The run's id (`pip.…`).
        id: String,
        /// Reuse the succeeded steps' results and shared volume; run only the failed, skipped
        /// and cancelled steps.
        #[arg(long)]
        from_failed: bool,
        #[command(flatten)]
        watch: WatchRun,
        /// Output format of the new run.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Cancel a pipeline run: every queued or running step.
    Cancel {
        /// The run's id (`pip.…`).
        id: String,
        /// Output format of the run.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
}

/// `--watch` of `pipe run` and `pipe rerun`.
#[derive(Args, Debug)]
struct WatchRun {
    /// Follow the run live (a line per step as its state changes) and exit with its state.
    #[arg(short = 'w', long)]
    watch: bool,
}

pub async fn pipe(args: PipeArgs) -> CliResult {
    let project = args.project.name()?;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let doing = |what: &str, name: &str| format!("{what} pipeline {name:?} of project {project}");
    match args.command {
        PipeCommand::List { format } => {
            let list = client
                .pipelines(&project)
                .await
                .map_err(|e| CliError::from_client(e, &format!("listing the pipelines of {project}")))?;
            output::print(format, &list, || list_table(&project, &list));
        }
        PipeCommand::Show { name, format } => {
            let pipeline = client
                .pipeline(&project, &name)
                .await
                .map_err(|e| CliError::from_client(e, &doing("reading", &name)))?;
            output::print(format, &pipeline, || details(&pipeline));
        }
        PipeCommand::Run { name, params, watch, format } => {
            let request = RunPipeline {
                parameters: by_step(params.merge_onto(Parameters::default())?)?,
                origin: Some(Origin::Cli),
            };
            let run = client
                .run_pipeline(&project, &name, &request)
                .await
                .map_err(|e| CliError::from_client(e, &doing("running", &name)))?;
            return started(&client, &project, run, watch.watch, format).await;
        }
        PipeCommand::History { name, limit, format } => {
            let page = client
                .pipeline_runs(&project, &name, Some(limit), None)
                .await
                .map_err(|e| CliError::from_client(e, &doing("listing the runs of", &name)))?;
            output::print(format, &page.items, || history_table(&name, &page.items));
        }
        PipeCommand::Rerun { id, from_failed, watch, format } => {
            let run = client
                .rerun_pipeline(&project, &id, &RerunPipeline { from_failed, origin: Some(Origin::Cli) })
                .await
                .map_err(|e| CliError::from_client(e, &format!("re-running pipeline run {id}")))?;
            return started(&client, &project, run, watch.watch, format).await;
        }
        PipeCommand::Cancel { id, format } => {
            let run = client
                .cancel_pipeline_run(&project, &id)
                .await
                .map_err(|e| CliError::from_client(e, &format!("cancelling pipeline run {id}")))?;
            output::print(format, &run, || format!("{} cancel of {id} requested", output::ok_mark()));
        }
    }
    Ok(OK)
}

/// `-p STEP.NAME VALUE` flags as parameters by step.
fn by_step(flat: Parameters) -> CliResult<BTreeMap<String, Parameters>> {
    let mut steps: BTreeMap<String, Parameters> = BTreeMap::new();
    for (key, value) in flat {
        let Some((step, name)) = key.split_once('.').filter(|(s, n)| !s.is_empty() && !n.is_empty()) else {
            return Err(CliError::bad_input(format!(
                "parameter {key:?} names no step: write -p STEP.{key} VALUE (e.g. -p extract.{key} VALUE)"
            )));
        };
        steps.entry(step.to_owned()).or_default().insert(name, value);
    }
    Ok(steps)
}

/// After a run was created: print its id, or follow it and exit with its state.
async fn started(
    client: &UserClient,
    project: &str,
    run: PipelineRun,
    watch: bool,
    format: Format,
) -> CliResult {
    if !watch {
        output::print(format, &run, || run.id.clone());
        if format == Format::Table {
            eprintln!("Queued. Follow it with: nbw pipe show {} (or run with --watch)", run.pipeline);
        }
        return Ok(OK);
    }
    let done = pipe_watch::follow(client, project, run).await?;
    output::print(format, &done, || pipe_watch::steps_table(&done));
    Ok(crate::exit::pipeline_state(done.state))
}

fn list_table(project: &str, list: &[Pipeline]) -> String {
    if list.is_empty() {
        return format!(
            "Project {project} has no pipelines yet: list them under pipelines: in nbw.yaml and `nbw push`."
        );
    }
    let mut table = output::table(["name", "steps", "schedule", "enabled", "next run", "bundle"]);
    for p in list {
        table.add_row([
            p.name.clone(),
            p.spec.steps.len().to_string(),
            schedule_text(p),
            if p.enabled { "yes".into() } else { "no".into() },
            p.next_fire_at.map(output::ago).unwrap_or_else(|| "-".into()),
            p.bundle_version.clone().unwrap_or_else(|| "latest".into()),
        ]);
    }
    table.to_string()
}

fn schedule_text(pipeline: &Pipeline) -> String {
    match &pipeline.spec.schedule {
        Some(schedule) => {
            let json = serde_json::to_value(schedule).unwrap_or_default();
            output::short_json(&json, 60)
        }
        None => "-".into(),
    }
}

/// `pipe show`: the pipeline's settings, then one row per step.
fn details(p: &Pipeline) -> String {
    let shared = match (p.spec.shared_volume, p.spec.shared_folders.is_empty()) {
        (_, false) => format!("folders {}", p.spec.shared_folders.join(", ")),
        (true, true) => "volume (NBW_SHARED)".to_owned(),
        (false, true) => "-".to_owned(),
    };
    let mut head = output::table(["field", "value"]);
    for (field, value) in [
        ("name", p.name.clone()),
        ("schedule", schedule_text(p)),
        ("enabled", p.enabled.to_string()),
        (
            "next run",
            p.next_fire_at.map(|t| format!("{t} ({})", output::ago(t))).unwrap_or_else(|| "-".into()),
        ),
        ("shared", shared),
        ("max parallel", p.spec.max_parallel.unwrap_or(1).to_string()),
        ("bundle", p.bundle_version.clone().unwrap_or_else(|| "latest".into())),
        ("updated", output::ago(p.updated_at)),
    ] {
        head.add_row([field.to_owned(), value]);
    }
    let mut steps = output::table(["step", "runs", "needs", "parameters"]);
    for s in &p.spec.steps {
        let runs = match (&s.notebook, &s.workflow) {
            (Some(notebook), _) => notebook.clone(),
            (None, Some(workflow)) => format!("workflow {workflow}"),
            (None, None) => "-".into(),
        };
        let parameters = serde_json::to_value(&s.parameters).unwrap_or_default();
        steps.add_row([s.name.clone(), runs, s.needs.join(", "), output::short_json(&parameters, 50)]);
    }
    format!("{head}\n{steps}")
}

fn history_table(name: &str, runs: &[PipelineRun]) -> String {
    if runs.is_empty() {
        return format!("Pipeline {name} has not run yet: `nbw pipe run {name}`.");
    }
    let mut table = output::table(["run", "state", "origin", "steps", "created", "took"]);
    for run in runs {
        let succeeded = run.steps.iter().filter(|s| pipe_watch::is_done_well(s.state)).count();
        let took = match (run.started_at, run.finished_at) {
            (Some(a), Some(b)) => output::duration_ms((b - a).num_milliseconds() as f64),
            _ => "-".into(),
        };
        table.add_row([
            run.id.clone(),
            pipe_watch::run_state_text(run.state).to_owned(),
            serde_json::to_value(run.origin)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            format!("{succeeded}/{}", run.steps.len()),
            output::ago(run.created_at),
            took,
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use nbw_core::params::ParamValue;

    use super::*;

    #[test]
    fn parameters_are_grouped_by_step_and_a_missing_step_is_refused() {
        let mut flat = Parameters::default();
        flat.insert("extract.day", ParamValue::Str("2026-01-05".into()));
        flat.insert("extract.rows", ParamValue::Int("3".into()));
        flat.insert("report.title", ParamValue::Str("x".into()));
        let steps = by_step(flat).unwrap();
        assert_eq!(steps["extract"].len(), 2);
        assert_eq!(steps["report"].get("title"), Some(&ParamValue::Str("x".into())));
        let mut bad = Parameters::default();
        bad.insert("day", ParamValue::Str("x".into()));
        let error = by_step(bad).unwrap_err();
        assert!(error.message.contains("-p STEP.day VALUE"), "{}", error.message);
    }
}
