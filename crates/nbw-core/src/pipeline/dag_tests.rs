use super::*;
use crate::pipeline::StepEntry;

fn step(name: &str, needs: &[&str]) -> StepEntry {
    serde_json::from_value(serde_json::json!({"name": name, "notebook": "a.ipynb", "needs": needs})).unwrap()
}

/// The example: extract → clean → (emea, apac) → report.
fn diamond() -> Vec<StepEntry> {
    vec![
        step("extract", &[]),
        step("clean", &["extract"]),
        step("emea", &["clean"]),
        step("apac", &["clean"]),
        step("report", &["emea", "apac"]),
    ]
}

use StepState::*;

#[test]
fn steps_without_needs_form_a_chain_in_file_order() {
    let steps = vec![step("a", &[]), step("b", &[]), step("c", &[])];
    assert_eq!(upstreams(&steps), vec![vec![], vec![0], vec![1]]);
    assert_eq!(ready(&steps, &[Succeeded, Pending, Pending], 4), vec![1]);
}

#[test]
fn topological_order_keeps_file_order_among_ready_steps() {
    let steps = vec![step("late", &["first"]), step("first", &[]), step("other", &[])];
    assert_eq!(topological_order(&steps), Ok(vec![1, 0, 2]));
    assert_eq!(topological_order(&diamond()), Ok(vec![0, 1, 2, 3, 4]));
}

#[test]
fn a_cycle_is_named_in_order() {
    let steps = vec![step("root", &[]), step("a", &["c"]), step("b", &["a"]), step("c", &["b"])];
    let cycle = topological_order(&steps).unwrap_err();
    let names: Vec<&str> = cycle.iter().map(|&i| steps[i].name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn ready_respects_upstreams_and_max_parallel() {
    let steps = diamond();
    assert_eq!(ready(&steps, &[Succeeded, Succeeded, Pending, Pending, Pending], 4), vec![2, 3]);
    assert_eq!(ready(&steps, &[Succeeded, Succeeded, Pending, Pending, Pending], 1), vec![2]);
    assert_eq!(ready(&steps, &[Succeeded, Succeeded, Running, Pending, Pending], 1), Vec::<usize>::new());
}

#[test]
fn a_failure_skips_its_dependents_and_spares_the_other_branch() {
    let steps = diamond();
    let states = [Succeeded, Succeeded, Failed, Running, Pending];
    assert_eq!(skipped_by_failure(&steps, &states), vec![4]);
    assert_eq!(ready(&steps, &states, 4), Vec::<usize>::new());
}

#[test]
fn an_always_step_runs_once_upstreams_ended_however() {
    let mut steps = diamond();
    steps[4].when = When::Always;
    let states = [Succeeded, Succeeded, Failed, Succeeded, Pending];
    assert_eq!(skipped_by_failure(&steps, &states), Vec::<usize>::new());
    assert_eq!(ready(&steps, &states, 4), vec![4]);
}

#[test]
fn rerun_from_failed_runs_the_failed_and_everything_downstream() {
    let steps = diamond();
    let rerun = rerun_from_failed(&steps, &[Succeeded, Succeeded, Failed, Succeeded, Skipped]);
    assert_eq!(rerun.into_iter().collect::<Vec<_>>(), vec![2, 4]);
}
