//! An execution as one line of a table (home, project, workflow, executions pages).

use crate::store::executions::{ExecutionRow, ListedExecution};

use super::human;

/// What a table shows of an execution.
#[derive(Debug, Clone)]
pub struct ExecLine {
    /// Id (the page is `/executions/{id}`).
    pub id: String,
    /// Project name.
    pub project: String,
    /// Workflow name, or the notebook's path for a bare run.
    pub what: String,
    /// Whether `what` is a workflow (a link to its page).
    pub is_workflow: bool,
    /// State name (the badge's class is `state-{state}`).
    pub state: String,
    /// Origin prefix: `web`, `cli`, `sch`, `pip`, `rty`.
    pub origin: String,
    /// Attempt number.
    pub attempt: i64,
    /// Creation time, in words.
    pub created: String,
    /// Run time, in words, once started.
    pub duration: String,
    /// Run time in ms (charts).
    pub duration_ms: Option<i64>,
    /// Creation time (ms), for charts.
    pub created_ms: i64,
}

impl ExecLine {
    /// The line of a listed execution.
    pub fn of(listed: &ListedExecution) -> ExecLine {
        ExecLine::from_row(&listed.row, &listed.project_name, listed.workflow_name.as_deref())
    }

    /// The line of a row, with its project's and workflow's names.
    pub fn from_row(row: &ExecutionRow, project: &str, workflow: Option<&str>) -> ExecLine {
        let duration_ms =
            row.started_at.map(|start| row.finished_at.unwrap_or_else(crate::db::now_ms) - start);
        ExecLine {
            id: row.id.clone(),
            project: project.to_owned(),
            what: workflow.map_or_else(|| row.spec().notebook, str::to_owned),
            is_workflow: workflow.is_some(),
            state: row.state.clone(),
            origin: row.origin.clone(),
            attempt: row.attempt,
            created: human::time(row.created_at),
            duration: duration_ms.map(human::duration).unwrap_or_default(),
            duration_ms,
            created_ms: row.created_at,
        }
    }
}
