//! The checks of `pipelines:` that serde cannot do: names that must exist, a graph without a
//! cycle, references to upstream results only. Each message names the pipeline, the step and the
//! fix; the path handed to `report` lets the project file place it at a line and column.

use std::collections::{BTreeMap, BTreeSet};

use super::dag::{self, upstreams};
use super::template::{self, Reference};
use super::{PipelineEntry, StepEntry};
use crate::names::check_secret_name;
use crate::project::WorkflowEntry;

/// Checks every pipeline. `notebooks` is the bundle's notebook list (`None` when the project is
/// parsed without its folder, so existence is not checked); `workflows` is the project's
/// `workflows:` map. `report` gets a path (`["pipelines", NAME, "steps", INDEX, FIELD]`) and a
/// message, as the project file's other checks do.
pub fn validate_pipelines(
    pipelines: &BTreeMap<String, PipelineEntry>,
    notebooks: Option<&[String]>,
    workflows: &BTreeMap<String, WorkflowEntry>,
    report: &mut dyn FnMut(&[&str], String),
) {
    for (name, pipeline) in pipelines {
        let mut at = |field: &[&str], message: String| {
            let path: Vec<&str> =
                ["pipelines", name.as_str()].into_iter().chain(field.iter().copied()).collect();
            report(&path, format!("pipeline `{name}`: {message}"));
        };
        check_pipeline(pipeline, notebooks, workflows, &mut at);
    }
}

fn check_pipeline(
    pipeline: &PipelineEntry,
    notebooks: Option<&[String]>,
    workflows: &BTreeMap<String, WorkflowEntry>,
    report: &mut dyn FnMut(&[&str], String),
) {
    if pipeline.max_parallel == Some(0) {
        report(
            &["max_parallel"],
            "`max_parallel: 0` would run nothing: use 1 or more, or leave it out".into(),
        );
    }
    if pipeline.steps.is_empty() {
        report(&["steps"], "no steps: add at least one `{name, notebook}`".into());
    }
    let mut seen = BTreeSet::new();
    for (i, step) in pipeline.steps.iter().enumerate() {
        let index = i.to_string();
        let mut at = |field: &str, message: String| {
            report(&["steps", &index, field], format!("step `{}`: {message}", step.name));
        };
        if !is_step_name(&step.name) {
            at(
                "name",
                "a step name is letters, digits, `_` and `-` (parameters reference it as `steps.NAME`)"
                    .into(),
            );
        }
        if !seen.insert(step.name.as_str()) {
            at("name", "another step has this name: give each step its own name".into());
        }
        check_target(step, notebooks, workflows, &mut at);
        check_needs(step, &pipeline.steps, &mut at);
    }
    for (i, folder) in pipeline.shared_folders.iter().enumerate() {
        if folder.starts_with('/') || folder.split('/').any(|part| part == "..") {
            let message = format!(
                "shared folder `{folder}` must be a folder inside the working directory, like `data/`"
            );
            report(&["shared_folders", &i.to_string()], message);
        }
    }
    for (i, notification) in pipeline.notifications.iter().enumerate() {
        if check_secret_name(&notification.url_secret).is_err() {
            let message = format!(
                "notification url_secret {:?} must name a project secret (letters, digits and '_', not starting with a digit)",
                notification.url_secret
            );
            report(&["notifications", &i.to_string(), "url_secret"], message);
        }
    }
    check_cycle(&pipeline.steps, report);
    check_references(&pipeline.steps, report);
}

fn is_step_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A step runs exactly one notebook or workflow, and it must exist.
fn check_target(
    step: &StepEntry,
    notebooks: Option<&[String]>,
    workflows: &BTreeMap<String, WorkflowEntry>,
    at: &mut dyn FnMut(&str, String),
) {
    match (&step.notebook, &step.workflow) {
        (Some(_), Some(_)) => at("notebook", "names both `notebook` and `workflow`: keep one".into()),
        (None, None) => at("name", "needs `notebook: path.ipynb` or `workflow: NAME`".into()),
        (Some(notebook), None) => {
            if notebooks.is_some_and(|list| !list.iter().any(|n| n == notebook)) {
                at("notebook", format!("no notebook `{notebook}` in the project: check the path"));
            }
        }
        (None, Some(workflow)) => {
            if !workflows.contains_key(workflow) {
                let known: Vec<&str> = workflows.keys().map(String::as_str).collect();
                at("workflow", format!("no workflow `{workflow}`: use one of [{}]", known.join(", ")));
            }
        }
    }
}

fn check_needs(step: &StepEntry, steps: &[StepEntry], at: &mut dyn FnMut(&str, String)) {
    for need in &step.needs {
        if need == &step.name {
            at("needs", "needs itself: remove it from `needs`".into());
        } else if !steps.iter().any(|s| &s.name == need) {
            at("needs", format!("needs `{need}`, which is not a step of this pipeline: fix the name"));
        }
    }
}

fn check_cycle(steps: &[StepEntry], report: &mut dyn FnMut(&[&str], String)) {
    let Err(cycle) = dag::topological_order(steps) else { return };
    // A step needing itself is reported by check_needs already.
    if cycle.len() < 2 {
        return;
    }
    let mut names: Vec<&str> = cycle.iter().map(|&i| steps[i].name.as_str()).collect();
    names.push(names[0]);
    let index = cycle[0].to_string();
    report(
        &["steps", &index, "needs"],
        format!("the steps form a cycle: {}; remove one of these `needs`", names.join(" -> ")),
    );
}

/// Every `{{ ... }}` parses, and a result comes from a step upstream of the one that uses it.
fn check_references(steps: &[StepEntry], report: &mut dyn FnMut(&[&str], String)) {
    let ancestors = ancestors(steps);
    for (i, step) in steps.iter().enumerate() {
        let index = i.to_string();
        for (param, value) in &step.parameters {
            let Some(text) = value.as_str() else { continue };
            let path = ["steps", index.as_str(), "parameters", param.as_str()];
            let prefix = format!("step `{}`, parameter `{param}`", step.name);
            match template::references(text) {
                Err(e) => report(&path, format!("{prefix}: {e}")),
                Ok(refs) => {
                    for reference in refs {
                        if let Some(message) = not_upstream(&reference, steps, &ancestors[i]) {
                            report(&path, format!("{prefix}: {message}"));
                        }
                    }
                }
            }
        }
    }
}

fn not_upstream(reference: &Reference, steps: &[StepEntry], ancestors: &BTreeSet<usize>) -> Option<String> {
    let Reference::Result { step, .. } = reference else { return None };
    match steps.iter().position(|s| &s.name == step) {
        None => Some(format!("`steps.{step}` is not a step of this pipeline: fix the name")),
        Some(j) if !ancestors.contains(&j) => Some(format!(
            "step `{step}` is not upstream of this step: add it to `needs` (or to an upstream's)"
        )),
        Some(_) => None,
    }
}

/// For each step, every step it waits for, directly or not.
fn ancestors(steps: &[StepEntry]) -> Vec<BTreeSet<usize>> {
    let ups = upstreams(steps);
    let mut all: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); steps.len()];
    // In topological order each step's upstreams are complete before it; on a cycle (reported
    // elsewhere) the file order gives a partial answer, enough not to add false errors.
    let order = dag::topological_order(steps).unwrap_or_else(|_| (0..steps.len()).collect());
    for i in order {
        let mut mine = BTreeSet::new();
        for &u in &ups[i] {
            mine.insert(u);
            mine.extend(all[u].iter().copied());
        }
        all[i] = mine;
    }
    all
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
