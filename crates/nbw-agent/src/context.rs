//! The execution context as parameters: a notebook whose parameters cell declares one of the
//! context's names gets its value; a notebook that declares none gets nothing extra.
//!
//! Two families of names are known:
//!
//! - nbw's own: `EXECUTION_ID` (the execution's id), `WORKFLOW` (the workflow's name, `""`
//!   for a run of no workflow);
//! - NB Workflows', with the meaning the original gave them, so that its notebooks run
//!   unchanged: `WFID` (the workflow's id, `""` for a run of no workflow), `EXECID` (the
//!   execution's id) and `NOW` (the run's time, UTC, formatted as the original's
//!   `datetime.utcnow().isoformat()`: `2022-05-16T15:30:31.172582`, no time zone).
//!
//! The run's time is the schedule's fire time for a scheduled run, else the time the run was
//! asked for (its creation), as in NB Workflows, whose context was built when the run was
//! queued; so a retry or a run that waited in the queue still reads the time it was meant for.
//!
//! These values are facts of the run: a value given for one of them by the run's parameters
//! is overridden (NB Workflows did the same: "injected keys override user keys"). A name the
//! notebook does not declare is not touched, so a run's own parameter of that name passes.

use chrono::{DateTime, Utc};
use nbw_core::params::{ParamValue, Parameters};

/// The facts of one run the context parameters are made of.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    /// The execution's id (`sch.…`, `web.…`).
    pub execution_id: &'a str,
    /// The workflow's id, when the run is one of a workflow.
    pub workflow_id: Option<&'a str>,
    /// The workflow's name, when the run is one of a workflow.
    pub workflow: Option<&'a str>,
    /// The run's time: its schedule's fire time, else its creation.
    pub time: DateTime<Utc>,
}

/// `NOW` as NB Workflows wrote it: Python's `datetime.utcnow().isoformat()` (microseconds,
/// no offset).
pub fn original_now(time: DateTime<Utc>) -> String {
    time.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The run's parameters: `given` (the execution's own), with the context's values on top for
/// each context name in `declared` (the notebook's parameters cell).
pub fn with_context(declared: &[String], facts: &RunFacts<'_>, given: &Parameters) -> Parameters {
    let mut params = given.clone();
    for name in declared {
        let value = match name.as_str() {
            "EXECUTION_ID" | "EXECID" => facts.execution_id.to_owned(),
            "WORKFLOW" => facts.workflow.unwrap_or_default().to_owned(),
            "WFID" => facts.workflow_id.unwrap_or_default().to_owned(),
            "NOW" => original_now(facts.time),
            _ => continue,
        };
        params.insert(name.clone(), ParamValue::Str(value));
    }
    params
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn facts(workflow: bool) -> RunFacts<'static> {
        RunFacts {
            execution_id: "sch.T0iS8YjyYCZ9lO",
            workflow_id: workflow.then_some("8hIlMLazTp5"),
            workflow: workflow.then_some("nightly"),
            time: Utc.with_ymd_and_hms(2022, 5, 16, 15, 30, 31).unwrap()
                + chrono::Duration::microseconds(172_582),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn text(params: &Parameters, name: &str) -> Option<String> {
        match params.get(name) {
            Some(ParamValue::Str(s)) => Some(s.clone()),
            other => other.map(|v| format!("{v:?}")),
        }
    }

    #[test]
    fn now_is_formatted_as_the_original_did() {
        assert_eq!(original_now(facts(true).time), "2022-05-16T15:30:31.172582");
        // Python drops the microseconds when they are 0; nbw keeps the one width.
        let whole = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(original_now(whole), "2026-01-02T03:04:05.000000");
    }

    #[test]
    fn declared_names_get_the_context_and_override_given_values() {
        let mut given = Parameters::default();
        given.insert("EXECID", ParamValue::Str("mine".into()));
        given.insert("DAYS", ParamValue::Int("3".into()));
        let params = with_context(&names(&["WFID", "EXECID", "NOW", "DAYS"]), &facts(true), &given);
        assert_eq!(text(&params, "WFID").as_deref(), Some("8hIlMLazTp5"));
        assert_eq!(text(&params, "EXECID").as_deref(), Some("sch.T0iS8YjyYCZ9lO"));
        assert_eq!(text(&params, "NOW").as_deref(), Some("2022-05-16T15:30:31.172582"));
        assert!(matches!(params.get("DAYS"), Some(ParamValue::Int(v)) if v == "3"));
    }

    #[test]
    fn undeclared_names_are_left_alone() {
        let mut given = Parameters::default();
        given.insert("NOW", ParamValue::Str("2020-01-01".into()));
        let params = with_context(&names(&["DAYS"]), &facts(true), &given);
        assert_eq!(text(&params, "NOW").as_deref(), Some("2020-01-01"));
        assert!(params.get("WFID").is_none() && params.get("EXECID").is_none());
    }

    #[test]
    fn a_run_of_no_workflow_has_empty_workflow_names() {
        let params = with_context(&names(&["WFID", "WORKFLOW"]), &facts(false), &Parameters::default());
        assert_eq!(text(&params, "WFID").as_deref(), Some(""));
        assert_eq!(text(&params, "WORKFLOW").as_deref(), Some(""));
    }
}
