//! Reading a project file: serde's problems of shape and the checks' problems of meaning,
//! each at its line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use super::check::check;
use super::model::ProjectFile;
use super::places::Places;

/// One problem of a project file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Why a project file cannot be used: every problem found, each with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectError {
    /// The file.
    pub file: PathBuf,
    /// The problems, in the order of the file.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ProjectError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.file.display())?;
            if let Some(line) = problem.line {
                write!(f, ":{line}")?;
                if let Some(column) = problem.column {
                    write!(f, ":{column}")?;
                }
            }
            write!(f, ": {}", problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProjectError {}

impl ProjectError {
    pub(super) fn one(
        file: &Path,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        ProjectError {
            file: file.to_owned(),
            problems: vec![Problem { line, column, message: message.into() }],
        }
    }
}

/// A checked project file and the folder it belongs to.
#[derive(Debug, Clone)]
pub struct LocalProject {
    /// The project folder (where `nbw.yaml` is).
    pub root: PathBuf,
    /// The file's path.
    pub file: PathBuf,
    /// What it says.
    pub spec: ProjectFile,
}

/// Reads `path` (an `nbw.yaml`) and checks it, including that every workflow's notebook is in
/// the project folder.
pub fn load(path: &Path) -> Result<LocalProject, ProjectError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ProjectError::one(path, None, None, format!("cannot read the project file: {e}")))?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    let spec = parse(&text, path, Some(&root))?;
    Ok(LocalProject { root, file: path.to_owned(), spec })
}

/// Parses and checks the text of a project file; `file` names it in errors. With `root`, the
/// workflows' notebooks must exist under it.
pub fn parse(text: &str, file: &Path, root: Option<&Path>) -> Result<ProjectFile, ProjectError> {
    if text.trim().is_empty() {
        return Err(ProjectError::one(
            file,
            Some(1),
            Some(1),
            "the file is empty; it needs at least `project: NAME`",
        ));
    }
    let spec: ProjectFile = serde_yaml::from_str(text).map_err(|e| {
        let location = e.location();
        let message = e.to_string();
        // serde_yaml appends " at line L column C"; the place is shown in front instead.
        let message = match message.rfind(" at line ") {
            Some(at) if location.is_some() => message[..at].to_owned(),
            _ => message,
        };
        ProjectError::one(
            file,
            location.as_ref().map(serde_yaml::Location::line),
            location.as_ref().map(serde_yaml::Location::column),
            explain(&message),
        )
    })?;
    let places = Places::index(text);
    let mut problems = Vec::new();
    check(&spec, root, &mut |path: &[&str], message: String| {
        let (line, column) = places.find(path);
        problems.push(Problem { line, column, message });
    });
    if problems.is_empty() {
        Ok(spec)
    } else {
        problems.sort_by_key(|p| (p.line, p.column));
        Err(ProjectError { file: file.to_owned(), problems })
    }
}

/// serde's words, with the hint a person needs.
fn explain(message: &str) -> String {
    if message.starts_with("missing field `project`") {
        return "missing `project: NAME` (the project's name on the server)".to_owned();
    }
    if message.starts_with("missing field `notebook`") {
        return format!("{message}: each workflow needs `notebook: path/to/notebook.ipynb`");
    }
    message.to_owned()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::NotifyOn;
    use crate::project::{FILE_NAME, ProjectFile};

    fn parse_ok(text: &str) -> ProjectFile {
        parse(text, Path::new("nbw.yaml"), None).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> ProjectError {
        parse(text, Path::new("nbw.yaml"), None).unwrap_err()
    }

    #[test]
    fn a_full_file_reads_and_converts_to_the_api() {
        let spec = parse_ok(
            "project: sales\nruntimes:\n  default:\n    image: python:3.12-slim\n    apt_packages: libpq5 git\n\
             workflows:\n  nightly:\n    notebook: notebooks/etl.ipynb\n    parameters: {days: 1, name: x}\n\
             \x20   schedule: {cron: '0 3 * * *', timezone: Europe/Berlin}\n    runtime: default\n\
             \x20   labels: {gpu: true}\n    timeout: 1h\n    retries: {max: 2, backoff: 1m}\n\
             \x20   notifications:\n      - {channel: slack, url_secret: SLACK, on: failure}\n\
             \x20 hourly:\n    notebook: a.ipynb\n    schedule: '@hourly'\n    enabled: false\n",
        );
        assert_eq!(spec.runtimes["default"].apt_packages, vec!["libpq5", "git"]);
        let input = spec.workflows["nightly"].to_input("nightly", Some("v1"), &spec.defaults);
        assert_eq!(input.spec.timeout_secs, Some(3600));
        assert_eq!(input.spec.labels["gpu"], "true");
        assert_eq!(input.spec.retries.max_retries, 2);
        assert_eq!(input.spec.retries.backoff_secs, 60);
        assert_eq!(input.spec.notifications[0].on, vec![NotifyOn::Failure]);
        assert_eq!(input.spec.bundle_version.as_deref(), Some("v1"));
        let schedule = input.spec.schedule.unwrap();
        assert_eq!(schedule.timezone.as_deref(), Some("Europe/Berlin"));
        let hourly = spec.workflows["hourly"].to_input("hourly", None, &spec.defaults);
        assert!(!hourly.enabled);
        assert_eq!(hourly.spec.schedule.unwrap().cron.as_deref(), Some("@hourly"));
        // And the file written back reads the same.
        let again = parse_ok(&serde_yaml::to_string(&spec).unwrap());
        assert_eq!(again, spec);
    }

    #[test]
    fn a_runtime_pin_and_gpu_reach_the_workflows_of_that_runtime() {
        let spec = parse_ok(
            "project: sales\nruntimes:\n  cuda:\n    image: nvidia/cuda:12.4.1-runtime-ubuntu22.04\n\
             \x20   version: v3\n    gpu: true\n  cpu:\n    image: python:3.12-slim\n\
             workflows:\n  train:\n    notebook: a.ipynb\n    runtime: cuda\n\
             \x20 report:\n    notebook: a.ipynb\n    runtime: cpu\n\
             \x20 local:\n    notebook: a.ipynb\n    gpu: true\n",
        );
        let train = spec.workflow_input("train", Some("v9")).unwrap();
        assert_eq!(train.spec.runtime_version.as_deref(), Some("v3"));
        assert_eq!(train.spec.labels["gpu"], "true");
        let report = spec.workflow_input("report", None).unwrap();
        assert_eq!((report.spec.runtime_version, report.spec.labels.get("gpu")), (None, None));
        let local = spec.workflow_input("local", None).unwrap();
        assert_eq!(local.spec.labels["gpu"], "true");
        assert!(spec.workflow_input("missing", None).is_none());
        let with_steps = parse_ok(
            "project: sales\nruntimes:\n  cuda: {image: x, gpu: true}\n  cpu: {image: y}\n\
             pipelines:\n  daily:\n    steps:\n      - {name: a, notebook: a.ipynb, runtime: cuda}\n\
             \x20     - {name: b, notebook: a.ipynb, runtime: cpu, needs: [a]}\n",
        );
        let steps = with_steps.pipeline_input("daily", None).unwrap().spec.steps;
        assert_eq!(
            (steps[0].labels.get("gpu"), steps[1].labels.get("gpu")),
            (Some(&"true".to_owned()), None)
        );
        let bad = parse_err("project: p\nruntimes:\n  a:\n    image: x\n    version: 'no spaces'\n");
        assert!(
            bad.to_string().starts_with("nbw.yaml:5:") && bad.to_string().contains("\"no spaces\""),
            "{bad}"
        );
    }

    #[test]
    fn project_defaults_fill_what_a_workflow_leaves_out() {
        let spec = parse_ok(
            "project: sales\ndefaults: {timeout: 2h, max_queue: 10m}\nworkflows:\n  a:\n    notebook: a.ipynb\n\
             \x20 b:\n    notebook: b.ipynb\n    timeout: 30s\n    max_queue: 5s\n",
        );
        let a = spec.workflows["a"].to_input("a", None, &spec.defaults);
        assert_eq!((a.spec.timeout_secs, a.spec.max_queue_secs), (Some(7200), Some(600)));
        let b = spec.workflows["b"].to_input("b", None, &spec.defaults);
        assert_eq!((b.spec.timeout_secs, b.spec.max_queue_secs), (Some(30), Some(5)));
    }

    #[test]
    fn parameter_rules_read_and_bad_ones_name_workflow_and_parameter() {
        let spec = parse_ok(
            "project: sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    parameter_rules:\n\
             \x20     days: {min: 1, max: 30, required: true, description: Days back}\n\
             \x20     mode: {type: str, choices: [fast, slow]}\n",
        );
        let rules = &spec.workflows["a"].to_input("a", None, &spec.defaults).spec.parameter_rules;
        assert_eq!(rules["days"].max, Some(30.0));
        assert!(rules["days"].required);
        assert_eq!(rules["mode"].choices.len(), 2);
        let e = parse_err(
            "project: sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    parameter_rules:\n\
             \x20     days: {min: 5, max: 1}\n",
        );
        assert!(e.to_string().contains("workflow \"a\", parameter \"days\""), "{e}");
        assert_eq!(e.problems[0].line, Some(6), "{e}");
        assert!(e.to_string().contains("min (5) is larger than max (1)"), "{e}");
        let e = parse_err(
            "project: sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    parameter_rules:\n\
             \x20     days: {minimum: 5}\n",
        );
        assert!(e.to_string().contains("unknown field `minimum`"), "{e}");
    }

    #[test]
    fn shape_errors_name_the_line_and_column() {
        let e =
            parse_err("project: sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    schedul: '* * * * *'\n");
        assert_eq!(e.problems[0].line, Some(5), "{e}");
        assert!(e.to_string().starts_with("nbw.yaml:5:"), "{e}");
        assert!(e.to_string().contains("unknown field `schedul`"), "{e}");
        assert!(e.to_string().contains("schedule"), "{e}");
        let e = parse_err("project: sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    timeout: soon\n");
        assert_eq!(e.problems[0].line, Some(5), "{e}");
        assert!(e.to_string().contains("not a duration"), "{e}");
        let e = parse_err("workflows: {}\n");
        assert!(e.to_string().contains("project: NAME"), "{e}");
    }

    #[test]
    fn meaning_errors_name_the_line_and_column_too() {
        let text = "project: Sales\nworkflows:\n  a:\n    notebook: a.ipynb\n    runtime: gpu\n\
                    \x20   schedule:\n      cron: '61 * * * *'\n      timezone: Mars/Base\n  'b c':\n    notebook: b.txt\n";
        let e = parse_err(text);
        let at: Vec<(Option<usize>, String)> =
            e.problems.iter().map(|p| (p.line, p.message.clone())).collect();
        assert!(at.iter().any(|(l, m)| *l == Some(1) && m.contains("project name")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(5) && m.contains("runtime \"gpu\"")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(7) && m.contains("cron")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(8) && m.contains("time zone")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(9) && m.contains("workflow name")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(10) && m.contains(".ipynb")), "{e}");
        assert_eq!(e.problems[0].column, Some(10), "{e}");
    }

    #[test]
    fn missing_notebooks_are_found_in_the_folder() {
        let dir = std::env::temp_dir().join(format!("nbw-project-{}", crate::ids::random_id()));
        std::fs::create_dir_all(dir.join("notebooks")).unwrap();
        std::fs::write(dir.join("notebooks/a.ipynb"), "{}").unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "project: p\nworkflows:\n  a: {notebook: notebooks/a.ipynb}\n  b:\n    notebook: notebooks/b.ipynb\n",
        )
        .unwrap();
        let e = load(&dir.join(FILE_NAME)).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        assert_eq!(e.problems[0].line, Some(5), "{e}");
        assert!(e.problems[0].message.contains("notebooks/b.ipynb"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn pipelines_read_and_their_errors_name_the_pipeline_the_step_and_the_line() {
        let spec = parse_ok(
            "project: p\nworkflows:\n  clean: {notebook: c.ipynb}\npipelines:\n  daily:\n\
             \x20   schedule: {cron: '0 6 * * *', timezone: Europe/Madrid}\n    shared_volume: true\n\
             \x20   steps:\n      - {name: extract, notebook: e.ipynb, parameters: {day: '{{ scheduled_date }}'}}\n\
             \x20     - {name: clean, workflow: clean, needs: [extract]}\n",
        );
        let input = spec.pipelines["daily"].to_input(Some("v2"));
        assert_eq!(input.spec.steps.len(), 2);
        assert_eq!(input.bundle_version.as_deref(), Some("v2"));
        assert_eq!(input.spec.schedule.as_ref().unwrap().to_api().timezone.as_deref(), Some("Europe/Madrid"));
        let text = "project: p\npipelines:\n  daily:\n    schedule: {cron: '0 99 * * *'}\n    steps:\n\
                    \x20     - {name: a, notebook: a.ipynb, needs: [b]}\n      - {name: b, notebook: b.ipynb, needs: [a]}\n\
                    \x20     - {name: c, workflow: nope}\n";
        let e = parse_err(text);
        let at: Vec<(Option<usize>, String)> =
            e.problems.iter().map(|p| (p.line, p.message.clone())).collect();
        assert!(at.iter().any(|(l, m)| *l == Some(4) && m.contains("cron")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(6) && m.contains("cycle")), "{e}");
        assert!(at.iter().any(|(l, m)| *l == Some(8) && m.contains("no workflow `nope`")), "{e}");
        assert!(e.to_string().contains("pipeline `daily`"), "{e}");
    }
}
