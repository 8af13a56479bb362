//! The checks of a project file that need the whole file or the project folder: names,
//! runtimes that exist, notebooks in the folder, schedules, container settings.

use std::path::Path;

use super::model::{ProjectFile, RuntimeEntry};
use super::schedule::check_schedule;
use crate::container::{self, Volume};
use crate::names::{
    check_bundle_version, check_project_name, check_runtime_name, check_secret_name, check_workflow_name,
};
use crate::pipeline::validate_pipelines;

/// The run settings of a runtime's containers: volumes, limits, network, kernel command.
fn check_container(runtime: &RuntimeEntry, report: &mut dyn FnMut(&str, String)) {
    for volume in &runtime.volumes {
        if let Err(message) = Volume::parse(volume) {
            report("volumes", message);
        }
    }
    if let Some(Err(message)) = runtime.memory.as_deref().map(container::parse_memory) {
        report("memory", message);
    }
    if let Some(Err(message)) = runtime.cpus.map(container::check_cpus) {
        report("cpus", message);
    }
    if let Some(Err(message)) = runtime.network.as_deref().map(container::check_network) {
        report("network", message);
    }
    if !runtime.kernel.is_empty() && !runtime.kernel.iter().any(|arg| arg.contains("{connection_file}")) {
        report("kernel", "the kernel command must pass `{connection_file}` to the kernel".into());
    }
}

pub(super) fn check(spec: &ProjectFile, root: Option<&Path>, report: &mut dyn FnMut(&[&str], String)) {
    if let Err(error) = check_project_name(&spec.project) {
        report(&["project"], error.to_string());
    }
    for (name, runtime) in &spec.runtimes {
        if let Err(error) = check_runtime_name(name) {
            report(&["runtimes", name], error.to_string());
        }
        if runtime.image.trim().is_empty() {
            report(
                &["runtimes", name, "image"],
                "image must name a base image, e.g. python:3.12-slim".into(),
            );
        }
        for key in runtime.env.keys() {
            if check_secret_name(key).is_err() {
                report(
                    &["runtimes", name, "env", key],
                    format!("{key:?} is not an environment variable name (letters, digits, '_')"),
                );
            }
        }
        check_container(runtime, &mut |field, message| report(&["runtimes", name, field], message));
        if let Some(Err(error)) = runtime.version.as_deref().map(check_bundle_version) {
            report(&["runtimes", name, "version"], error.to_string());
        }
        if let Some(requirements) = &runtime.requirements
            && let Some(root) = root
            && !root.join(requirements).is_file()
        {
            report(
                &["runtimes", name, "requirements"],
                format!("requirements file {requirements:?} is not in the project folder"),
            );
        }
    }
    for (name, workflow) in &spec.workflows {
        let at = |field: &'static str| -> [&str; 3] { ["workflows", name.as_str(), field] };
        if let Err(error) = check_workflow_name(name) {
            report(&["workflows", name], error.to_string());
        }
        let notebook = workflow.notebook.trim();
        if !notebook.ends_with(".ipynb") {
            report(
                &at("notebook"),
                format!("notebook {:?} must be the path of an .ipynb file in the project", workflow.notebook),
            );
        } else if notebook.starts_with('/') || notebook.split('/').any(|part| part == "..") {
            report(
                &at("notebook"),
                format!(
                    "notebook {:?} must be a path inside the project folder, e.g. notebooks/report.ipynb",
                    workflow.notebook
                ),
            );
        } else if let Some(root) = root
            && !root.join(notebook).is_file()
        {
            report(
                &at("notebook"),
                format!("notebook {notebook:?} is not in the project folder {}", root.display()),
            );
        }
        if let Some(runtime) = &workflow.runtime
            && !spec.runtimes.contains_key(runtime)
        {
            let known = if spec.runtimes.is_empty() {
                "the file defines no runtimes".to_owned()
            } else {
                format!("defined: {}", spec.runtimes.keys().cloned().collect::<Vec<_>>().join(", "))
            };
            report(&at("runtime"), format!("runtime {runtime:?} is not defined under `runtimes` ({known})"));
        }
        for volume in &workflow.volumes {
            if let Err(message) = Volume::parse(volume) {
                report(&at("volumes"), message);
            }
        }
        if let Some(schedule) = &workflow.schedule {
            check_schedule(schedule, &mut |field, message| match field {
                Some(field) => report(&["workflows", name, "schedule", field], message),
                None => report(&at("schedule"), message),
            });
        }
        for (parameter, rule) in &workflow.parameter_rules {
            if let Err(message) = rule.validate() {
                report(
                    &["workflows", name, "parameter_rules", parameter],
                    format!("workflow {name:?}, parameter {parameter:?}: {message}"),
                );
            }
        }
        for (i, notification) in workflow.notifications.iter().enumerate() {
            if check_secret_name(&notification.url_secret).is_err() {
                let index = i.to_string();
                report(
                    &["workflows", name, "notifications", &index, "url_secret"],
                    format!(
                        "url_secret {:?} must name a project secret (letters, digits and '_', not starting with a digit)",
                        notification.url_secret
                    ),
                );
            }
        }
    }
    check_pipelines(spec, root, report);
}

/// The pipelines' names and schedules here; their steps in [`validate_pipelines`]. A step's
/// notebook must be in the project folder when the folder is known.
fn check_pipelines(spec: &ProjectFile, root: Option<&Path>, report: &mut dyn FnMut(&[&str], String)) {
    for (name, pipeline) in &spec.pipelines {
        if check_workflow_name(name).is_err() {
            report(
                &["pipelines", name],
                format!("pipeline name {name:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'"),
            );
        }
        if spec.workflows.contains_key(name) {
            report(
                &["pipelines", name],
                format!("{name:?} names a workflow too: give the pipeline another name"),
            );
        }
        if let Some(schedule) = &pipeline.schedule {
            check_schedule(schedule, &mut |field, message| match field {
                Some(field) => report(&["pipelines", name, "schedule", field], message),
                None => report(&["pipelines", name, "schedule"], message),
            });
        }
    }
    let present: Option<Vec<String>> = root.map(|root| {
        let notebooks = spec.pipelines.values().flat_map(|p| &p.steps).filter_map(|s| s.notebook.as_deref());
        notebooks.filter(|n| root.join(n.trim()).is_file()).map(str::to_owned).collect()
    });
    validate_pipelines(&spec.pipelines, present.as_deref(), &spec.workflows, report);
}
