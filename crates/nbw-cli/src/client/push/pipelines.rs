//! The pipelines part of `nbw push`: plan the creates, updates and deletes that make the
//! server's pipelines match `nbw.yaml`'s `pipelines:`, then apply them. Pipelines go after the
//! workflows and the bundle, since the server checks their steps against both.

use nbw_client::UserClient;
use nbw_core::api::{Pipeline, PipelineInput};
use nbw_core::project::LocalProject;
use serde_json::Value;

use super::{Step, diff_json};
use crate::client::output;
use crate::client::{CliError, CliResult};

/// The pipelines nbw.yaml wants, pinned to bundle `version`.
pub fn desired(project: &LocalProject, version: &str) -> Vec<(String, PipelineInput)> {
    let spec = &project.spec;
    spec.pipelines
        .keys()
        .filter_map(|name| Some((name.clone(), spec.pipeline_input(name, Some(version))?)))
        .collect()
}

/// The server's pipelines; a server without pipelines (404) has none, unless nbw.yaml wants some.
pub async fn current(client: &UserClient, project: &str, wanted: bool) -> CliResult<Vec<Pipeline>> {
    match client.pipelines(project).await {
        Ok(list) => Ok(list),
        Err(e) if !wanted && e.code() == Some("not_found") => Ok(Vec::new()),
        Err(e) => Err(CliError::from_client(e, "listing the pipelines")),
    }
}

/// What the plan does to pipelines, what it leaves unchanged, and what `--no-prune` keeps.
pub struct Plan {
    /// Creates, updates and deletes.
    pub steps: Vec<Step>,
    /// Pipelines that already match.
    pub unchanged: Vec<String>,
    /// Pipelines on the server that nbw.yaml does not list, kept by `--no-prune`.
    pub kept: Vec<String>,
}

/// Plans the changes from `current` to `desired`.
pub fn plan(desired: &[(String, PipelineInput)], current: &[Pipeline], prune: bool) -> Plan {
    let mut plan = Plan { steps: Vec::new(), unchanged: Vec::new(), kept: Vec::new() };
    for (name, input) in desired {
        match current.iter().find(|p| &p.name == name) {
            None => {
                plan.steps.push(Step::CreatePipeline { name: name.clone(), steps: input.spec.steps.len() });
            }
            Some(existing) => {
                let have = PipelineInput {
                    enabled: existing.enabled,
                    bundle_version: existing.bundle_version.clone(),
                    spec: existing.spec.clone(),
                };
                let changes = diff_json(&to_value(&have), &to_value(input));
                if changes.is_empty() {
                    plan.unchanged.push(name.clone());
                } else {
                    plan.steps.push(Step::UpdatePipeline { name: name.clone(), changes });
                }
            }
        }
    }
    for existing in current {
        if !desired.iter().any(|(name, _)| name == &existing.name) {
            match prune {
                true => plan.steps.push(Step::DeletePipeline { name: existing.name.clone() }),
                false => plan.kept.push(existing.name.clone()),
            }
        }
    }
    plan
}

fn to_value(input: &PipelineInput) -> Value {
    serde_json::to_value(input).expect("a pipeline serializes")
}

/// Creates or replaces pipeline `pipeline` as nbw.yaml has it.
pub async fn put(
    client: &UserClient,
    project: &str,
    pipeline: &str,
    desired: &[(String, PipelineInput)],
) -> CliResult<()> {
    let (_, input) = desired.iter().find(|(name, _)| name == pipeline).expect("planned from desired");
    client
        .put_pipeline(project, pipeline, input)
        .await
        .map_err(|e| CliError::from_client(e, &format!("pushing pipeline {pipeline}")))?;
    eprintln!("{} pushed pipeline {pipeline}", output::ok_mark().for_stderr());
    Ok(())
}

/// Deletes pipeline `pipeline` from the server (its runs stay in the history).
pub async fn delete(client: &UserClient, project: &str, pipeline: &str) -> CliResult<()> {
    client
        .delete_pipeline(project, pipeline)
        .await
        .map_err(|e| CliError::from_client(e, &format!("deleting pipeline {pipeline}")))?;
    eprintln!("{} deleted pipeline {pipeline}", output::ok_mark().for_stderr());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(notebook: &str) -> PipelineInput {
        serde_json::from_value(serde_json::json!({
            "bundle_version": "v1", "spec": {"steps": [{"name": "a", "notebook": notebook}]}
        }))
        .unwrap()
    }

    fn stored(name: &str, notebook: &str) -> Pipeline {
        let input = input(notebook);
        Pipeline {
            id: format!("p-{name}"),
            name: name.into(),
            enabled: true,
            bundle_version: input.bundle_version,
            spec: input.spec,
            next_fire_at: None,
            last_fire_error: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_plan_creates_updates_deletes_and_keeps() {
        let desired = vec![
            ("new".to_owned(), input("a.ipynb")),
            ("same".to_owned(), input("a.ipynb")),
            ("changed".to_owned(), input("b.ipynb")),
        ];
        let current =
            vec![stored("same", "a.ipynb"), stored("changed", "a.ipynb"), stored("gone", "a.ipynb")];
        let plan = super::plan(&desired, &current, true);
        assert!(matches!(&plan.steps[0], Step::CreatePipeline { name, steps: 1 } if name == "new"));
        assert!(matches!(&plan.steps[1], Step::UpdatePipeline { name, changes } if name == "changed"
            && changes.iter().any(|c| c.starts_with("spec: "))));
        assert!(matches!(&plan.steps[2], Step::DeletePipeline { name } if name == "gone"));
        assert_eq!(plan.unchanged, ["same"]);
        let kept = super::plan(&desired, &current, false);
        assert_eq!(kept.kept, ["gone"]);
        assert_eq!(kept.steps.len(), 2);
    }
}
