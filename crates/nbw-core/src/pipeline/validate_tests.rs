use super::*;

const ISSUE_EXAMPLE: &str = r#"
daily-report:
  schedule: {cron: "0 6 * * *", timezone: Europe/Madrid}
  shared_volume: true
  max_parallel: 4
  steps:
    - {name: extract, notebook: notebooks/extract.ipynb, parameters: {day: "{{ scheduled_date }}"}}
    - {name: clean, notebook: notebooks/clean.ipynb, needs: [extract]}
    - {name: emea, notebook: notebooks/region.ipynb, needs: [clean], parameters: {region: emea}}
    - {name: apac, notebook: notebooks/region.ipynb, needs: [clean], parameters: {region: apac}}
    - {name: report, notebook: notebooks/report.ipynb, needs: [emea, apac],
       parameters: {rows: "{{ steps.clean.result.rows }}"}}
"#;

/// The problems of a `pipelines:` map, as (path, message).
fn problems(yaml: &str) -> Vec<(String, String)> {
    let pipelines: BTreeMap<String, PipelineEntry> = serde_yaml::from_str(yaml).unwrap();
    let notebooks: Vec<String> =
        ["extract", "clean", "region", "report"].iter().map(|n| format!("notebooks/{n}.ipynb")).collect();
    let workflows: BTreeMap<String, WorkflowEntry> =
        serde_yaml::from_str("nightly: {notebook: notebooks/clean.ipynb}").unwrap();
    let mut found = Vec::new();
    validate_pipelines(&pipelines, Some(&notebooks), &workflows, &mut |path, message| {
        found.push((path.join("."), message));
    });
    found
}

fn one(yaml: &str) -> (String, String) {
    let mut found = problems(yaml);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn the_issue_example_is_valid() {
    assert_eq!(problems(ISSUE_EXAMPLE), vec![]);
}

#[test]
fn an_unknown_notebook_or_workflow_is_named() {
    let (path, message) = one("p: {steps: [{name: a, notebook: notebooks/nope.ipynb}]}");
    assert_eq!(path, "pipelines.p.steps.0.notebook");
    assert_eq!(
        message,
        "pipeline `p`: step `a`: no notebook `notebooks/nope.ipynb` in the project: check the path"
    );
    let (_, message) = one("p: {steps: [{name: a, workflow: weekly}]}");
    assert!(message.ends_with("no workflow `weekly`: use one of [nightly]"), "{message}");
    assert_eq!(problems("p: {steps: [{name: a, workflow: nightly}]}"), vec![]);
}

#[test]
fn a_step_names_exactly_one_target() {
    let (_, message) = one("p: {steps: [{name: a, workflow: nightly, notebook: notebooks/clean.ipynb}]}");
    assert!(message.contains("both `notebook` and `workflow`"), "{message}");
    let (_, message) = one("p: {steps: [{name: a}]}");
    assert!(message.contains("needs `notebook: path.ipynb` or `workflow: NAME`"), "{message}");
}

#[test]
fn duplicates_unknown_needs_and_max_parallel_zero() {
    let found = problems(
        "p:\n  max_parallel: 0\n  steps:\n    - {name: a, notebook: notebooks/clean.ipynb}\n    \
         - {name: a, notebook: notebooks/clean.ipynb, needs: [ghost]}\n",
    );
    let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "pipeline `p`: `max_parallel: 0` would run nothing: use 1 or more, or leave it out",
            "pipeline `p`: step `a`: another step has this name: give each step its own name",
            "pipeline `p`: step `a`: needs `ghost`, which is not a step of this pipeline: fix the name",
        ]
    );
}

#[test]
fn a_cycle_is_named_in_order() {
    let (path, message) =
        one("p:\n  steps:\n    - {name: a, notebook: notebooks/clean.ipynb, needs: [c]}\n    \
         - {name: b, notebook: notebooks/clean.ipynb, needs: [a]}\n    \
         - {name: c, notebook: notebooks/clean.ipynb, needs: [b]}\n");
    assert_eq!(path, "pipelines.p.steps.0.needs");
    assert_eq!(
        message,
        "pipeline `p`: the steps form a cycle: a -> b -> c -> a; remove one of these `needs`"
    );
}

#[test]
fn a_result_must_come_from_an_upstream_step() {
    let text = ISSUE_EXAMPLE.replace("{region: emea}", "{region: \"{{ steps.apac.result.x }}\"}");
    let (path, message) = one(&text);
    assert_eq!(path, "pipelines.daily-report.steps.2.parameters.region");
    assert!(message.contains("step `apac` is not upstream of this step: add it to `needs`"), "{message}");
    let text = ISSUE_EXAMPLE.replace("steps.clean.result.rows", "steps.cleen.result.rows");
    assert!(one(&text).1.contains("`steps.cleen` is not a step of this pipeline"));
    let text = ISSUE_EXAMPLE.replace("{{ scheduled_date }}", "{{ today }}");
    assert!(one(&text).1.contains("one of scheduled_date, scheduled_time, run_id, pipeline"));
}

#[test]
fn in_a_seqpipe_earlier_steps_are_upstream() {
    let yaml = "p:\n  steps:\n    - {name: a, notebook: notebooks/clean.ipynb}\n    \
                - {name: b, notebook: notebooks/clean.ipynb, parameters: {n: \"{{ steps.a.result.n }}\"}}\n";
    assert_eq!(problems(yaml), vec![]);
}

#[test]
fn step_names_and_shared_folders_are_checked() {
    let (path, message) = one("p: {steps: [{name: a.b, notebook: notebooks/clean.ipynb}]}");
    assert_eq!(path, "pipelines.p.steps.0.name");
    assert!(message.contains("letters, digits"), "{message}");
    let yaml = "p: {shared_folders: [data/, ../up], steps: [{name: a, notebook: notebooks/clean.ipynb}]}";
    let (path, message) = one(yaml);
    assert_eq!(path, "pipelines.p.shared_folders.1");
    assert!(message.contains("shared folder `../up`"), "{message}");
}

#[test]
fn a_pipelines_notifications_name_a_secret_and_default_to_both_outcomes() {
    let yaml = "p:\n  notifications:\n    - {channel: slack, url_secret: SLACK_HOOK, on: failure}\n    \
                - {channel: webhook, url_secret: 9bad}\n  steps:\n    - {name: a, notebook: notebooks/clean.ipynb}\n";
    let (path, message) = one(yaml);
    assert_eq!(path, "pipelines.p.notifications.1.url_secret");
    assert!(message.starts_with("pipeline `p`: notification url_secret \"9bad\" must name"), "{message}");
    let pipelines: BTreeMap<String, PipelineEntry> = serde_yaml::from_str(yaml).unwrap();
    use crate::project::NotificationEntry;
    let notifications: Vec<_> = pipelines["p"].notifications.iter().map(NotificationEntry::to_api).collect();
    assert_eq!(notifications[0].on, vec![crate::api::NotifyOn::Failure]);
    assert_eq!(notifications[1].on, vec![crate::api::NotifyOn::Success, crate::api::NotifyOn::Failure]);
}
