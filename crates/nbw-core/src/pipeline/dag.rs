//! The steps of a pipeline as a graph: order, what may start, what a failure skips, what a resume
//! re-runs. Pure functions over [`StepEntry`] lists; a scheduler keeps the states.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{StepEntry, When};

/// The state of one step in one pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not started.
    Pending,
    /// Started, not ended.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended badly (failed, timed out, lost after its retries, cancelled).
    Failed,
    /// Never ran: an upstream did not succeed.
    Skipped,
}

impl StepState {
    fn ended(self) -> bool {
        matches!(self, StepState::Succeeded | StepState::Failed | StepState::Skipped)
    }
}

/// What each step waits for: its `needs`, or, when no step of the pipeline has any, the step
/// listed before it (a SeqPipe is a chain in the order of the file).
pub fn upstreams(steps: &[StepEntry]) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = steps.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    if steps.iter().all(|s| s.needs.is_empty()) {
        return (0..steps.len()).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect();
    }
    // Unknown names are left out: validation reports them, the graph must not panic on them.
    steps.iter().map(|s| s.needs.iter().filter_map(|n| index.get(n.as_str()).copied()).collect()).collect()
}

/// The steps in an order where each comes after its upstreams; among steps ready at once, the
/// order of the file. `Err` holds one cycle's step indices, in order along the cycle.
pub fn topological_order(steps: &[StepEntry]) -> Result<Vec<usize>, Vec<usize>> {
    let ups = upstreams(steps);
    let mut done = vec![false; steps.len()];
    let mut order = Vec::with_capacity(steps.len());
    while order.len() < steps.len() {
        let next = (0..steps.len()).find(|&i| !done[i] && ups[i].iter().all(|&u| done[u]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => return Err(find_cycle(&ups, &done)),
        }
    }
    Ok(order)
}

/// A cycle among the steps not done: each of them waits for another of them, so walking up from
/// any one must come back to a step already seen.
fn find_cycle(ups: &[Vec<usize>], done: &[bool]) -> Vec<usize> {
    let start = done.iter().position(|d| !d).unwrap_or(0);
    let mut path = vec![start];
    loop {
        let last = *path.last().unwrap_or(&start);
        let Some(&up) = ups[last].iter().find(|&&u| !done[u]) else { return path };
        if let Some(at) = path.iter().position(|&p| p == up) {
            // Walking up lists the cycle backwards; reversed it reads in the order steps run,
            // then rotated to start at the step listed first in the file.
            let mut cycle = path[at..].to_vec();
            cycle.reverse();
            let first = cycle.iter().enumerate().min_by_key(|(_, step)| **step).map_or(0, |(k, _)| k);
            cycle.rotate_left(first);
            return cycle;
        }
        path.push(up);
    }
}

/// The steps that may start now: pending, every upstream ended (succeeded, for `on_success`),
/// at most `max_parallel` running in all, in the order of the file.
pub fn ready(steps: &[StepEntry], states: &[StepState], max_parallel: u32) -> Vec<usize> {
    let ups = upstreams(steps);
    let running = states.iter().filter(|s| **s == StepState::Running).count();
    let slots = (max_parallel as usize).saturating_sub(running);
    (0..steps.len())
        .filter(|&i| states[i] == StepState::Pending && may_start(&steps[i], &ups[i], states))
        .take(slots)
        .collect()
}

fn may_start(step: &StepEntry, ups: &[usize], states: &[StepState]) -> bool {
    match step.when {
        When::OnSuccess => ups.iter().all(|&u| states[u] == StepState::Succeeded),
        When::Always => ups.iter().all(|&u| states[u].ended()),
    }
}

/// The pending `on_success` steps that can never run because an upstream failed or was skipped,
/// transitively: the scheduler marks them skipped. Independent branches are untouched.
pub fn skipped_by_failure(steps: &[StepEntry], states: &[StepState]) -> Vec<usize> {
    let ups = upstreams(steps);
    let mut states = states.to_vec();
    let mut skipped = Vec::new();
    let Ok(order) = topological_order(steps) else { return skipped };
    for i in order {
        let doomed = ups[i].iter().any(|&u| matches!(states[u], StepState::Failed | StepState::Skipped));
        if states[i] == StepState::Pending && steps[i].when == When::OnSuccess && doomed {
            states[i] = StepState::Skipped;
            skipped.push(i);
        }
    }
    skipped
}

/// Which steps a `--from-failed` re-run runs, given the previous run's states: every step that did
/// not succeed, and everything downstream of one (their inputs change). The others keep their
/// results and volume contents.
pub fn rerun_from_failed(steps: &[StepEntry], previous: &[StepState]) -> BTreeSet<usize> {
    let ups = upstreams(steps);
    let mut rerun = BTreeSet::new();
    let Ok(order) = topological_order(steps) else { return rerun };
    for i in order {
        if previous[i] != StepState::Succeeded || ups[i].iter().any(|u| rerun.contains(u)) {
            rerun.insert(i);
        }
    }
    rerun
}

#[cfg(test)]
#[path = "dag_tests.rs"]
mod tests;
