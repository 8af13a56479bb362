//! `nbw wf`: the project's workflows on the server.

use clap::{Args, Subcommand};
use nbw_core::api::{Origin, RunWorkflow, Workflow};
use nbw_core::params::{ParameterRule, Parameters, TypedParameter};

use super::credentials::Session;
use super::executions::{self, WatchArgs};
use super::output::{self, Format};
use super::{CliError, CliResult, OK, ProjectArg, ServerArg, exit_codes};
use crate::params::ParamArgs;

/// The project's workflows on the server: list, show, enable, disable, delete, run now.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw wf list
  nbw wf show nightly -o yaml
  nbw wf run nightly -p days 7 --watch
  nbw wf disable nightly

", exit_codes!()))]
pub struct WfArgs {
    #[command(subcommand)]
    command: WfCommand,
    #[command(flatten)]
    project: ProjectArg,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(Subcommand, Debug)]
enum WfCommand {
    /// The workflows: schedule, next run, state.
    #[command(visible_alias = "ls")]
    List {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// One workflow in full.
    Show {
        /// The workflow's name.
        name: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
    /// Let the schedule fire.
    Enable {
        /// The workflow's name.
        name: String,
    },
    /// Stop the schedule (run-now still works; running executions go on).
    Disable {
        /// The workflow's name.
        name: String,
    },
    /// Delete a workflow from the server (its history stays). `nbw push` creates it again while
    /// nbw.yaml lists it.
    #[command(visible_alias = "delete")]
    Rm {
        /// The workflow's name.
        name: String,
    },
    /// Run a workflow now, with parameters overriding its own.
    Run {
        /// The workflow's name.
        name: String,
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        watch: WatchArgs,
        /// Output format of the execution.
        #[arg(short = 'o', long = "output", value_enum, default_value_t)]
        format: Format,
    },
}

/// "cron 0 3 * * * (Europe/Berlin)", "every 10m", "-".
pub fn schedule_text(workflow: &Workflow) -> String {
    match &workflow.spec.schedule {
        None => "-".into(),
        Some(s) => match (&s.cron, s.interval_secs) {
            (Some(cron), _) => match &s.timezone {
                Some(tz) => format!("{cron} ({tz})"),
                None => cron.clone(),
            },
            (None, Some(secs)) => {
                format!("every {}", humantime::format_duration(std::time::Duration::from_secs(secs)))
            }
            (None, None) => "-".into(),
        },
    }
}

/// A duration in seconds as `wf show` prints it: `3h`, `90s`.
fn duration(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// The effective limit and where it comes from: the workflow (or the project's `defaults`,
/// which `nbw push` writes into it) or the server.
fn limit(own: Option<u64>, effective: Option<u64>) -> String {
    match (own, effective) {
        (Some(own), Some(effective)) if own == effective => format!("{} (workflow)", duration(own)),
        (Some(_), Some(effective)) => format!("{} (the server's maximum)", duration(effective)),
        (None, Some(effective)) => format!("{} (server)", duration(effective)),
        (Some(own), None) => format!("{} (workflow)", duration(own)),
        (None, None) => "none".into(),
    }
}

/// A rule's refinements in one line: `1 ≤ x ≤ 30, required, one of [..], matches /../`.
fn rule_text(rule: &ParameterRule) -> String {
    let mut parts = Vec::new();
    match (rule.min, rule.max) {
        (Some(min), Some(max)) => parts.push(format!("{min} ≤ x ≤ {max}")),
        (Some(min), None) => parts.push(format!("≥ {min}")),
        (None, Some(max)) => parts.push(format!("≤ {max}")),
        (None, None) => {}
    }
    if !rule.choices.is_empty() {
        parts.push(format!("one of {}", serde_json::to_string(&rule.choices).unwrap_or_default()));
    }
    if let Some(pattern) = &rule.pattern {
        parts.push(format!("matches /{pattern}/"));
    }
    if rule.required {
        parts.push("required".into());
    }
    parts.join(", ")
}

/// The notebook's parameters: name, type, default, rules, and what they mean.
fn parameters_table(parameters: &[TypedParameter]) -> String {
    let mut table = output::table(["parameter", "type", "default", "rules", "description"]);
    for p in parameters {
        let description = p.rule.description.clone().unwrap_or_else(|| p.help.clone());
        table.add_row([
            p.name.clone(),
            p.type_.as_str().to_owned(),
            p.default.clone().unwrap_or_else(|| "-".into()),
            rule_text(&p.rule),
            description,
        ]);
    }
    table.to_string()
}

/// `-p` reads `42` as an int, as papermill does; a str parameter refusing it needs `-r`.
fn raw_hint(error: &nbw_client::ClientError) -> &'static str {
    match error {
        nbw_client::ClientError::Api { code, message, .. }
            if code == "parameter_type" && message.contains("expects str, received") =>
        {
            "\n  hint: -p reads values as Python literals; pass a string as it is with -r NAME VALUE"
        }
        _ => "",
    }
}

/// `wf show`'s table: every field, and the last scheduled fire that created no run, if any;
/// then the notebook's typed parameters.
fn details(w: &Workflow) -> String {
    let mut table = output::table(["field", "value"]);
    let params = serde_json::to_string(&w.spec.parameters).unwrap_or_default();
    let labels = serde_json::to_string(&w.spec.labels).unwrap_or_default();
    let notifications = serde_json::to_string(&w.spec.notifications).unwrap_or_default();
    let mut rows: Vec<(&str, String)> = vec![
        ("name", w.name.clone()),
        ("notebook", w.spec.notebook.clone()),
        ("parameters", params),
        ("schedule", schedule_text(w)),
        ("enabled", w.enabled.to_string()),
        (
            "next run",
            w.next_fire_at.map(|t| format!("{t} ({})", output::ago(t))).unwrap_or_else(|| "-".into()),
        ),
    ];
    // Shown only when there is one: it is the reason a schedule runs nothing, so it stands out.
    if let Some(error) = &w.last_fire_error {
        let when = format!("{} at {} ({})", error.code, error.at, output::ago(error.at));
        rows.push(("last fire error", format!("{when}\n{}", error.message)));
    }
    rows.extend([
        ("bundle", w.spec.bundle_version.clone().unwrap_or_else(|| "latest".into())),
        ("runtime", w.spec.runtime.clone().unwrap_or_else(|| "-".into())),
        ("labels", labels),
        ("timeout", limit(w.spec.timeout_secs, w.effective_timeout_secs)),
        ("max queue", limit(w.spec.max_queue_secs, w.effective_max_queue_secs)),
        ("retries", w.spec.retries.max_retries.to_string()),
        ("notifications", notifications),
        ("updated", output::ago(w.updated_at)),
    ]);
    for (field, value) in rows {
        table.add_row([field.to_owned(), value]);
    }
    if w.typed_parameters.is_empty() {
        return table.to_string();
    }
    format!("{table}\n{}", parameters_table(&w.typed_parameters))
}

pub async fn wf(args: WfArgs) -> CliResult {
    let project = args.project.name()?;
    let mut session = Session::open(args.server.server.as_deref())?;
    let client = session.client().await?;
    let doing = |what: &str, name: &str| format!("{what} workflow {name:?} of project {project}");
    match args.command {
        WfCommand::List { format } => {
            let list = client
                .workflows(&project)
                .await
                .map_err(|e| CliError::from_client(e, &format!("listing the workflows of {project}")))?;
            output::print(format, &list, || {
                if list.is_empty() {
                    return format!(
                        "Project {project} has no workflows yet: list them in nbw.yaml and `nbw push`."
                    );
                }
                let mut table =
                    output::table(["name", "notebook", "schedule", "enabled", "next run", "bundle"]);
                for w in &list {
                    table.add_row([
                        w.name.clone(),
                        w.spec.notebook.clone(),
                        schedule_text(w),
                        if w.enabled { "yes".into() } else { "no".into() },
                        w.next_fire_at.map(output::ago).unwrap_or_else(|| "-".into()),
                        w.spec.bundle_version.clone().unwrap_or_else(|| "latest".into()),
                    ]);
                }
                table.to_string()
            });
        }
        WfCommand::Show { name, format } => {
            let w = client
                .workflow(&project, &name)
                .await
                .map_err(|e| CliError::from_client(e, &doing("reading", &name)))?;
            output::print(format, &w, || details(&w));
        }
        WfCommand::Enable { name } => {
            client
                .set_workflow_enabled(&project, &name, true)
                .await
                .map_err(|e| CliError::from_client(e, &doing("enabling", &name)))?;
            eprintln!("{} workflow {name} enabled", output::ok_mark().for_stderr());
        }
        WfCommand::Disable { name } => {
            client
                .set_workflow_enabled(&project, &name, false)
                .await
                .map_err(|e| CliError::from_client(e, &doing("disabling", &name)))?;
            eprintln!("{} workflow {name} disabled", output::ok_mark().for_stderr());
        }
        WfCommand::Rm { name } => {
            client
                .delete_workflow(&project, &name)
                .await
                .map_err(|e| CliError::from_client(e, &doing("deleting", &name)))?;
            eprintln!("{} workflow {name} deleted from project {project}", output::ok_mark().for_stderr());
            let listed = args.project.load().ok().is_some_and(|p| p.spec.workflows.contains_key(&name));
            if listed {
                eprintln!("note: nbw.yaml still lists {name}: the next `nbw push` creates it again");
            }
        }
        WfCommand::Run { name, params, watch, format } => {
            let request = RunWorkflow {
                parameters: params.merge_onto(Parameters::default())?,
                origin: Some(Origin::Cli),
            };
            let execution = client.run_workflow(&project, &name, &request).await.map_err(|e| {
                let hint = raw_hint(&e);
                let mut error = CliError::from_client(e, &doing("running", &name));
                error.message.push_str(hint);
                error
            })?;
            return executions::started(&mut session, execution, &watch, format).await;
        }
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow(last_fire_error: serde_json::Value) -> Workflow {
        serde_json::from_value(serde_json::json!({
            "id": "w1", "name": "nightly", "enabled": true, "notebook": "nb.ipynb", "runtime": "default",
            "next_fire_at": null, "last_fire_error": last_fire_error,
            "created_at": "2024-05-01T03:00:00Z", "updated_at": "2024-05-01T03:00:00Z"
        }))
        .expect("a workflow")
    }

    #[test]
    fn a_last_fire_error_is_shown_with_its_code_time_and_message() {
        let error = serde_json::json!({
            "at": "2024-05-01T03:00:00Z", "code": "runtime_not_built",
            "message": "runtime \"default\" has no built image"
        });
        let table = details(&workflow(error));
        assert!(table.contains("last fire error"), "{table}");
        assert!(table.contains("runtime_not_built at 2024-05-01 03:00:00 UTC ("), "{table}");
        assert!(table.contains("runtime \"default\" has no built image"), "{table}");
        assert!(!details(&workflow(serde_json::Value::Null)).contains("last fire error"));
    }

    #[test]
    fn limits_say_where_they_come_from() {
        assert_eq!(limit(Some(60), Some(60)), "1m (workflow)");
        assert_eq!(limit(None, Some(10800)), "3h (server)");
        assert_eq!(limit(None, None), "none");
        let rule = ParameterRule { min: Some(1.0), max: Some(30.0), required: true, ..Default::default() };
        assert_eq!(rule_text(&rule), "1 ≤ x ≤ 30, required");
    }
}
