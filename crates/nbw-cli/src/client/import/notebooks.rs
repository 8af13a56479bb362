//! What `nbw import` finds in the notebooks themselves: NB Workflows' Python helpers, which
//! nbw does not provide, each reported where it is used with what to write instead. The
//! notebooks are not changed: the user decides how to rewrite a cell.

use std::path::Path;

use serde_json::Value;

use super::Notes;

/// A construct of NB Workflows' notebooks: a text that gives it away, what it is, and what to
/// write instead.
struct Construct {
    needle: &'static str,
    what: &'static str,
    instead: &'static str,
}

/// Checked in this order; a line is reported once, for the first that matches.
const CONSTRUCTS: [Construct; 7] = [
    Construct {
        needle: "frozen_result",
        what: "NB Workflows' frozen_result cache (kept per WFID/EXECID in /tmp or its fileserver)",
        instead: "nbw has no result cache: keep the value in a file of a runtime volume (`volumes: [cache:/cache]`) or pass it between pipeline steps with NBW_RESULT",
    },
    Construct {
        needle: "shortcuts.secrets",
        what: "NB Workflows' secrets dict",
        instead: "project secrets reach the kernel as environment variables: os.environ[\"NAME\"] (set them with `nbw secrets set NAME` or `nbw push --secrets`)",
    },
    Construct {
        needle: "shortcuts.settings",
        what: "NB Workflows' settings module",
        instead: "read configuration from the notebook's parameters or from the runtime's `env:` (os.environ)",
    },
    Construct {
        needle: "shortcuts.client",
        what: "NB Workflows' API client",
        instead: "nbw gives a run no API client: NBW_SERVER, NBW_PROJECT and NBW_EXECUTION_ID are in its environment; call the /v1 API with a token kept in a project secret",
    },
    Construct {
        needle: "EXECUTIONID",
        what: "EXECUTIONID, a name NB Workflows never injected (its helpers read it by mistake)",
        instead: "declare EXECID in the parameters cell and read it: nbw injects the execution's id there",
    },
    Construct {
        needle: "labfunctions",
        what: "an import of NB Workflows' package (labfunctions), which nbw's runtimes do not install and whose helpers need its server",
        instead: "remove it; read secrets from os.environ and the run's ids from WFID/EXECID/NOW declared in the parameters cell",
    },
    Construct {
        needle: "nb_workflows",
        what: "an import of NB Workflows' package (nb_workflows), which nbw's runtimes do not install and whose helpers need its server",
        instead: "remove it; read secrets from os.environ and the run's ids from WFID/EXECID/NOW declared in the parameters cell",
    },
];

/// Reports the constructs of every notebook under `notebooks/` in `dir`.
pub fn check(dir: &Path, notes: &mut Notes) {
    let Ok(entries) = std::fs::read_dir(dir.join("notebooks")) else { return };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    paths.sort();
    for path in paths {
        let name = format!("notebooks/{}", path.file_name().unwrap_or_default().to_string_lossy());
        let Some(cells) =
            std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            notes.add(name, "not a readable notebook (JSON); its cells were not checked");
            continue;
        };
        for (cell, line_no, line) in code_lines(&cells) {
            if let Some(construct) = find(&line) {
                notes.add(
                    format!("{name}: cell {cell}, line {line_no}"),
                    format!("`{}` uses {}; {}", line.trim(), construct.what, construct.instead),
                );
            }
        }
    }
}

/// The first construct `line` uses; comments do not count.
fn find(line: &str) -> Option<&'static Construct> {
    let code = line.split('#').next().unwrap_or_default();
    CONSTRUCTS.iter().find(|c| code.contains(c.needle))
}

/// Each code line of a notebook, with its cell's and its own number (from 1).
fn code_lines(notebook: &Value) -> Vec<(usize, usize, String)> {
    let cells = notebook["cells"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut lines = Vec::new();
    for (i, cell) in cells.iter().enumerate().filter(|(_, c)| c["cell_type"] == "code") {
        let source: String = match &cell["source"] {
            Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        lines.extend(source.lines().enumerate().map(|(j, l)| (i + 1, j + 1, l.to_owned())));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_construct_of_a_line_is_found_outside_comments() {
        assert_eq!(find("from labfunctions import shortcuts").unwrap().needle, "labfunctions");
        assert_eq!(find("x = shortcuts.secrets['A']").unwrap().needle, "shortcuts.secrets");
        assert_eq!(find("@frozen_result(10)  # from labfunctions").unwrap().needle, "frozen_result");
        assert!(find("# import labfunctions").is_none());
        assert!(find("print(EXECID)").is_none());
    }
}
