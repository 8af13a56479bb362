//! `nbw init`: a new project folder, or (`--from`) a project around an existing notebook.
//!
//! With `--from`, a notebook without a `parameters` cell is offered one: the top-level
//! assignments of plain literals (`days = 7`, `url = "..."`) of its first cell that has any
//! become the tagged cell (moved into a cell of their own when that cell holds other code too).
//! Colab's metadata is removed and `!pip install` lines are moved into `requirements.txt`
//! (a run must not install packages: the runtime holds them).
//!
//! One command in one file (about 630 lines, a tenth of them tests): splitting it would scatter
//! one flow.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use nbw_engine::{Notebook, PARAMETERS_TAG};
use serde_json::{Value, json};

use super::{CliError, CliResult, OK, exit_codes, interactive};
use nbw_core::project;

/// Create a project: nbw.yaml, a welcome notebook with a parameters cell, requirements.txt,
/// .nbwignore, and a .gitignore that keeps local.nbvars (the local secrets) out of git.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw init sales                       # a new folder ./sales
  nbw init                             # this folder
  nbw init --from ~/Downloads/etl.ipynb etl
  nbw init --name sales-reports .

", exit_codes!()))]
pub struct InitArgs {
    /// The project folder (created when missing; default: this folder).
    dir: Option<PathBuf>,
    /// The project's name on the server (default: the folder's name, made valid).
    #[arg(long)]
    name: Option<String>,
    /// Build the project around this notebook instead of the welcome notebook.
    #[arg(long, value_name = "NOTEBOOK")]
    from: Option<PathBuf>,
    /// Take the offered parameters without asking (with --from).
    #[arg(short = 'y', long)]
    yes: bool,
    /// Do not offer a parameters cell (with --from).
    #[arg(long)]
    no_parameters: bool,
    /// Replace an existing nbw.yaml.
    #[arg(long)]
    force: bool,
}

const GITIGNORE: &str = "# nbw: the local secrets never go to git (nor into bundles)\nlocal.nbvars\n\
.ipynb_checkpoints/\n__pycache__/\n.venv/\noutputs/\n";

const NBWIGNORE: &str = "# Files left out of the bundle `nbw push` uploads (.gitignore is honoured too).\n\
.ipynb_checkpoints/\n__pycache__/\n*.pyc\n.venv/\noutputs/\n*.out.ipynb\n";

/// The package a runtime image runs notebooks with: the generated Dockerfile checks that it is
/// there, and base images such as python:3.12-slim have none.
const KERNEL_PACKAGE: &str = "ipykernel";

const REQUIREMENTS: &str = "# The Python packages the notebooks need, one per line (pip's format).\n\
# ipykernel runs the notebooks in the runtime image: keep it.\nipykernel\n";

fn project_file(name: &str, workflow: &str, notebook: &str, parameters: &str) -> String {
    format!(
        "# The nbw project file. `nbw push` uploads the project and makes the server's workflows
# match this file. Reference: schemas/nbw.schema.json in the nbw repository.
project: {name}

# How the image the workflows run in is built (used by agents with the Docker executor).
runtimes:
  default:
    image: python:3.12-slim
    requirements: requirements.txt

# Workflows by name: a notebook, its parameters, and when and how it runs.
workflows:
  {workflow}:
    notebook: {notebook}
    parameters: {parameters}
    # runtime: default
    # schedule: {{cron: \"0 7 * * 1-5\", timezone: Europe/Berlin}}   # weekdays at 07:00
    # schedule: {{interval: 10m}}
    # timeout: 30m
    # retries: 2
    # notifications:
    #   - {{channel: slack, url_secret: SLACK_WEBHOOK, on: [failure]}}
"
    )
}

fn welcome_notebook() -> Value {
    let cell = |id: &str, kind: &str, source: &str, tags: &[&str]| {
        let mut cell = json!({"cell_type": kind, "id": id, "metadata": {"tags": tags}, "source": source});
        if kind == "code" {
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
        }
        cell
    };
    json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}
        },
        "cells": [
            cell("intro", "markdown", "# Welcome to nbw\n\nThe cell tagged `parameters` holds the defaults; a run overrides them:\n`nbw exec notebooks/welcome.ipynb -p name you --local`.", &[]),
            cell("params", "code", "name = \"world\"  # who to greet\ntimes = 2  # how often", &[PARAMETERS_TAG]),
            cell("greet", "code", "for i in range(times):\n    print(f\"Hello, {name}! ({i + 1}/{times})\")", &[]),
        ]
    })
}

pub fn init(args: InitArgs) -> CliResult {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::bad_input(format!("cannot create {}: {e}", dir.display())))?;
    let file = dir.join(project::FILE_NAME);
    if file.exists() && !args.force {
        return Err(CliError::bad_input(format!(
            "{} exists already; use --force to replace it",
            file.display()
        )));
    }
    let folder_name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into());
    let name = match &args.name {
        Some(name) => {
            nbw_core::names::check_project_name(name)?;
            name.clone()
        }
        None => nbw_core::names::project_name_from(&folder_name),
    };
    std::fs::create_dir_all(dir.join("notebooks"))
        .map_err(|e| CliError::bad_input(format!("cannot create notebooks/: {e}")))?;
    let mut written = Vec::new();
    let mut notes = Vec::new();
    let (workflow, notebook_path, packages) = match &args.from {
        Some(source) => {
            let adopted = adopt(source, &dir, &args, &mut notes)?;
            written.push(adopted.0.clone());
            (nbw_core::names::workflow_name_from(&adopted.1), adopted.0, adopted.2)
        }
        None => {
            let path = "notebooks/welcome.ipynb".to_owned();
            write_new(
                &dir.join(&path),
                &serde_json::to_string_pretty(&welcome_notebook()).expect("json"),
                &mut written,
                &path,
            )?;
            ("welcome".to_owned(), path, Vec::new())
        }
    };
    let parameters = if args.from.is_some() { "{}" } else { "{name: world, times: 2}" };
    write(&file, &project_file(&name, &workflow, &notebook_path, parameters))?;
    written.push(project::FILE_NAME.to_owned());
    if write_requirements(&dir, &packages, &mut notes)? {
        written.push("requirements.txt".into());
    }
    write_new(&dir.join(".nbwignore"), NBWIGNORE, &mut written, ".nbwignore")?;
    let gitignore = dir.join(".gitignore");
    match std::fs::read_to_string(&gitignore) {
        Ok(text) if text.lines().any(|l| l.trim() == project::SECRETS_FILE) => {}
        Ok(mut text) => {
            if !text.ends_with('\n') && !text.is_empty() {
                text.push('\n');
            }
            text.push_str("# nbw: the local secrets never go to git\nlocal.nbvars\n");
            write(&gitignore, &text)?;
            written.push(".gitignore (local.nbvars added)".into());
        }
        Err(_) => {
            write(&gitignore, GITIGNORE)?;
            written.push(".gitignore".into());
        }
    }
    println!("Created project {name} in {}: {}", dir.display(), written.join(", "));
    for note in notes {
        println!("  note: {note}");
    }
    let cd = if args.dir.is_some() { format!("  cd {}\n", dir.display()) } else { String::new() };
    println!(
        "Next:\n{cd}  nbw exec {notebook_path} --local        # run it here\n  nbw login http://127.0.0.1:8080\n  nbw push                                   # upload it, create the workflows\n  nbw wf run {workflow} --watch"
    );
    Ok(OK)
}

/// Creates requirements.txt, or adds to the one there ipykernel (when no line names it) and the
/// `packages` collected from the notebook; returns whether it was written.
fn write_requirements(dir: &Path, packages: &[String], notes: &mut Vec<String>) -> CliResult<bool> {
    let path = dir.join("requirements.txt");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let mut text = if existing.is_empty() { REQUIREMENTS.to_owned() } else { existing.clone() };
    if !text.lines().any(|line| requirement_name(line) == KERNEL_PACKAGE) {
        append_line(&mut text, KERNEL_PACKAGE);
        notes.push(format!(
            "added {KERNEL_PACKAGE} to requirements.txt: the runtime image runs the notebooks with it"
        ));
    }
    for package in packages {
        if !text.lines().any(|l| l.trim() == package) {
            append_line(&mut text, package);
        }
    }
    if text == existing {
        return Ok(false);
    }
    write(&path, &text)?;
    Ok(true)
}

fn append_line(text: &mut String, line: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
}

/// The normalized project name a requirements line asks for (`IPyKernel>=6` is `ipykernel`);
/// empty for comments, options and blank lines.
fn requirement_name(line: &str) -> String {
    let line = line.trim();
    if !line.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return String::new();
    }
    line.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .map(|c| if c == '_' || c == '.' { '-' } else { c.to_ascii_lowercase() })
        .collect()
}

fn write(path: &Path, text: &str) -> CliResult<()> {
    std::fs::write(path, text)
        .map_err(|e| CliError::bad_input(format!("cannot write {}: {e}", path.display())))
}

/// Writes a file unless it exists (a user's file is never replaced).
fn write_new(path: &Path, text: &str, written: &mut Vec<String>, shown: &str) -> CliResult<()> {
    if path.exists() {
        return Ok(());
    }
    write(path, text)?;
    written.push(shown.to_owned());
    Ok(())
}

/// Brings a notebook into the project; returns its project path, its stem and the packages
/// its `pip install` lines named.
fn adopt(
    source: &Path,
    dir: &Path,
    args: &InitArgs,
    notes: &mut Vec<String>,
) -> CliResult<(String, String, Vec<String>)> {
    let mut notebook = Notebook::read(source)
        .map_err(|e| CliError::bad_input(format!("{} is not a usable notebook: {e}", source.display())))?;
    let cleaned = clean_colab(&mut notebook);
    if cleaned > 0 {
        notes.push(format!("removed {cleaned} Colab metadata entries"));
    }
    let (packages, skipped) = collect_pip(&mut notebook);
    if !packages.is_empty() {
        notes.push(format!("moved `pip install` of {} into requirements.txt", packages.join(", ")));
    }
    for option in skipped {
        notes.push(format!("a `pip install` option was not carried over: {option}"));
    }
    if notebook.find_tagged(PARAMETERS_TAG).is_none() && !args.no_parameters {
        offer_parameters(&mut notebook, args.yes, notes)?;
    }
    let stem =
        source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "notebook".into());
    let relative = format!("notebooks/{stem}.ipynb");
    notebook
        .write(&dir.join(&relative))
        .map_err(|e| CliError::bad_input(format!("cannot write {relative}: {e}")))?;
    Ok((relative, stem, packages))
}

/// Removes Colab's notebook and cell metadata; returns how many entries went.
fn clean_colab(notebook: &mut Notebook) -> usize {
    let mut removed = 0;
    for key in ["colab", "accelerator", "gpuClass"] {
        removed += usize::from(notebook.metadata_mut().remove(key).is_some());
    }
    for cell in notebook.cells_mut() {
        if let Some(meta) = cell.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in ["colab", "id", "outputId", "executionInfo", "colab_type"] {
                removed += usize::from(meta.remove(key).is_some());
            }
        }
    }
    removed
}

fn cell_source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Comments out `!pip install` / `%pip install` lines; returns the packages they named and the
/// options that could not be carried over.
fn collect_pip(notebook: &mut Notebook) -> (Vec<String>, Vec<String>) {
    let mut packages: Vec<String> = Vec::new();
    let mut skipped = Vec::new();
    for cell in notebook.cells_mut() {
        if cell["cell_type"] != "code" {
            continue;
        }
        let source = cell_source(cell);
        let mut changed = false;
        let lines: Vec<String> = source
            .split('\n')
            .map(|line| match pip_install_args(line) {
                Some(rest) => {
                    changed = true;
                    let (found, options) = pip_packages(rest);
                    for package in found {
                        if !packages.contains(&package) {
                            packages.push(package);
                        }
                    }
                    skipped.extend(options);
                    format!("# nbw: moved to requirements.txt: {}", line.trim())
                }
                None => line.to_owned(),
            })
            .collect();
        if changed {
            cell["source"] = Value::String(lines.join("\n"));
        }
    }
    (packages, skipped)
}

/// The arguments of a `!pip install ...` line.
fn pip_install_args(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix(['!', '%'])?.trim_start();
    let rest = rest
        .strip_prefix("python3 -m pip")
        .or_else(|| rest.strip_prefix("python -m pip"))
        .or_else(|| rest.strip_prefix("pip3"))
        .or_else(|| rest.strip_prefix("pip"))?;
    rest.trim_start().strip_prefix("install").filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
}

fn pip_packages(args: &str) -> (Vec<String>, Vec<String>) {
    let mut packages = Vec::new();
    let mut options = Vec::new();
    let mut tokens = args.split_whitespace();
    while let Some(token) = tokens.next() {
        let token = token.trim_matches(|c| c == '"' || c == '\'');
        if token.starts_with('-') {
            if [
                "-r",
                "--requirement",
                "-c",
                "--constraint",
                "-e",
                "--editable",
                "-i",
                "--index-url",
                "--extra-index-url",
                "-f",
                "--find-links",
                "-t",
                "--target",
            ]
            .contains(&token)
            {
                let value = tokens.next().unwrap_or_default();
                options.push(format!("{token} {value}"));
            }
            continue;
        }
        if !token.is_empty() && !token.starts_with('#') {
            packages.push(token.to_owned());
        }
    }
    (packages, options)
}

/// A top-level `name = literal` line: the name and the literal's text.
fn literal_assignment(line: &str) -> Option<(String, String)> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let name = &line[..name_end];
    if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let rest = line[name_end..].trim_start();
    let rest = rest.strip_prefix('=')?;
    if rest.starts_with('=') {
        return None;
    }
    let value = rest.trim_start();
    let length = literal_len(value)?;
    let after = value[length..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    Some((name.to_owned(), value[..length].trim_end().to_owned()))
}

/// The length of the Python literal at the start of `text`: a number, a string, True, False,
/// None, or a list, tuple, dict or set of literals on one line.
fn literal_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    match first {
        b'"' | b'\'' => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b if b == first => return Some(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        b'r' | b'b' | b'R' | b'B' if bytes.get(1).is_some_and(|b| *b == b'"' || *b == b'\'') => {
            literal_len(&text[1..]).map(|n| n + 1)
        }
        b'[' | b'(' | b'{' => {
            let close = match first {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            let mut i = 1;
            loop {
                i += text[i..].len() - text[i..].trim_start().len();
                if bytes.get(i) == Some(&close) {
                    return Some(i + 1);
                }
                i += literal_len(&text[i..])?;
                i += text[i..].len() - text[i..].trim_start().len();
                match bytes.get(i)? {
                    b',' | b':' => i += 1,
                    b if *b == close => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        _ => {
            for word in ["True", "False", "None"] {
                if text.starts_with(word)
                    && !text[word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Some(word.len());
                }
            }
            let end =
                text.find(|c: char| !(c.is_ascii_alphanumeric() || "+-._".contains(c))).unwrap_or(text.len());
            let number = &text[..end];
            let digits = number.trim_start_matches(['-', '+']).replace('_', "");
            let numeric = !digits.is_empty()
                && (digits.parse::<f64>().is_ok()
                    || digits.strip_prefix("0x").is_some_and(|h| u64::from_str_radix(h, 16).is_ok())
                    || digits.strip_suffix('j').is_some_and(|c| c.parse::<f64>().is_ok()));
            numeric.then_some(end)
        }
    }
}

/// Offers the first cell's literal assignments as the parameters cell.
fn offer_parameters(notebook: &mut Notebook, yes: bool, notes: &mut Vec<String>) -> CliResult<()> {
    let found = notebook.cells().iter().enumerate().find_map(|(index, cell)| {
        if cell["cell_type"] != "code" {
            return None;
        }
        let source = cell_source(cell);
        let assigned: Vec<(usize, String, String)> = source
            .split('\n')
            .enumerate()
            .filter_map(|(n, line)| literal_assignment(line).map(|(k, v)| (n, k, v)))
            .collect();
        (!assigned.is_empty()).then_some((index, source, assigned))
    });
    let Some((index, source, assigned)) = found else {
        notes.push(
            "no top-level literal assignments to offer as parameters; tag a cell `parameters` yourself"
                .into(),
        );
        return Ok(());
    };
    // A name assigned twice in the cell stays where it is: moving it could change the result.
    let names: Vec<&String> = assigned.iter().map(|(_, k, _)| k).collect();
    let assigned: Vec<&(usize, String, String)> =
        assigned.iter().filter(|(_, k, _)| names.iter().filter(|n| **n == k).count() == 1).collect();
    if assigned.is_empty() {
        return Ok(());
    }
    eprintln!("The notebook has no cell tagged `parameters`. Cell {index} assigns:");
    for (_, name, value) in &assigned {
        eprintln!("  {name} = {value}");
    }
    let accepted = if yes || !interactive() {
        true
    } else {
        eprint!("Make these the notebook's parameters? [Y/n] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).map_err(|e| CliError::bad_input(e.to_string()))?;
        !matches!(answer.trim().to_ascii_lowercase().as_str(), "n" | "no")
    };
    if !accepted {
        return Ok(());
    }
    let lines: Vec<&str> = source.split('\n').collect();
    let is_parameter_line = |n: usize| assigned.iter().any(|(m, _, _)| *m == n);
    let only_parameters = lines.iter().enumerate().all(|(n, line)| {
        is_parameter_line(n) || line.trim().is_empty() || line.trim_start().starts_with('#')
    });
    let cells = notebook.cells_mut();
    if only_parameters {
        tag(&mut cells[index]);
    } else {
        let moved: Vec<&str> =
            lines.iter().enumerate().filter(|(n, _)| is_parameter_line(*n)).map(|(_, l)| *l).collect();
        let kept: Vec<&str> =
            lines.iter().enumerate().filter(|(n, _)| !is_parameter_line(*n)).map(|(_, l)| *l).collect();
        cells[index]["source"] = Value::String(kept.join("\n"));
        let mut cell = json!({
            "cell_type": "code", "metadata": {}, "source": moved.join("\n"), "outputs": [], "execution_count": null
        });
        if cells[index].get("id").is_some() {
            cell["id"] = Value::String(format!("parameters-{}", nbw_core::ids::random_id().to_lowercase()));
        }
        tag(&mut cell);
        cells.insert(index, cell);
    }
    notes.push(format!(
        "tagged {} as `parameters`: {}",
        if only_parameters { format!("cell {index}") } else { format!("a new cell before cell {index}") },
        assigned.iter().map(|(_, k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
    ));
    Ok(())
}

fn tag(cell: &mut Value) {
    if !cell["metadata"].is_object() {
        cell["metadata"] = json!({});
    }
    let tags =
        cell["metadata"].as_object_mut().expect("an object").entry("tags").or_insert_with(|| json!([]));
    if let Some(list) = tags.as_array_mut() {
        list.push(json!(PARAMETERS_TAG));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_assignments_are_recognised() {
        assert_eq!(literal_assignment("days = 7  # how many"), Some(("days".into(), "7".into())));
        assert_eq!(literal_assignment("url = 'http://x#y'"), Some(("url".into(), "'http://x#y'".into())));
        assert_eq!(
            literal_assignment("xs = [1, 2.5, 'a', None]"),
            Some(("xs".into(), "[1, 2.5, 'a', None]".into()))
        );
        assert_eq!(
            literal_assignment("d = {'a': 1, 'b': (1, 2)}"),
            Some(("d".into(), "{'a': 1, 'b': (1, 2)}".into()))
        );
        assert_eq!(literal_assignment("flag = False"), Some(("flag".into(), "False".into())));
        assert_eq!(literal_assignment("rate = -1e-3"), Some(("rate".into(), "-1e-3".into())));
        assert_eq!(literal_assignment("df = pd.read_csv('x')"), None);
        assert_eq!(literal_assignment("x == 1"), None);
        assert_eq!(literal_assignment("    y = 1"), None);
        assert_eq!(literal_assignment("z = Truex"), None);
        assert_eq!(literal_assignment("s = f'{x}'"), None);
    }

    #[test]
    fn requirement_lines_name_their_package() {
        assert_eq!(requirement_name("IPyKernel>=6.29 ; python_version > '3'"), "ipykernel");
        assert_eq!(requirement_name("  ipykernel"), "ipykernel");
        assert_eq!(requirement_name("typing_extensions==4"), "typing-extensions");
        assert_eq!(requirement_name("# ipykernel"), "");
        assert_eq!(requirement_name("-r other.txt"), "");
    }

    #[test]
    fn requirements_get_ipykernel_once() {
        let dir = nbw_testkit::tempdir();
        let mut notes = Vec::new();
        assert!(write_requirements(dir.path(), &[], &mut notes).unwrap());
        let text = std::fs::read_to_string(dir.path().join("requirements.txt")).unwrap();
        assert_eq!(text.lines().filter(|l| requirement_name(l) == "ipykernel").count(), 1, "{text}");
        assert!(notes.is_empty(), "{notes:?}");

        std::fs::write(dir.path().join("requirements.txt"), "pandas").unwrap();
        assert!(write_requirements(dir.path(), &["requests".into()], &mut notes).unwrap());
        let text = std::fs::read_to_string(dir.path().join("requirements.txt")).unwrap();
        assert_eq!(text, "pandas\nipykernel\nrequests\n");
        assert!(notes[0].contains("added ipykernel"), "{notes:?}");

        std::fs::write(dir.path().join("requirements.txt"), "ipykernel==6.29\n").unwrap();
        assert!(
            !write_requirements(dir.path(), &[], &mut notes).unwrap(),
            "a pinned ipykernel is kept as is"
        );
    }

    #[test]
    fn pip_lines_give_packages() {
        assert_eq!(
            pip_install_args("!pip install -q pandas==2.2 'numpy<2'"),
            Some(" -q pandas==2.2 'numpy<2'")
        );
        assert_eq!(pip_install_args("%pip install x"), Some(" x"));
        assert_eq!(pip_install_args("!pip list"), None);
        let (packages, options) = pip_packages(" -q pandas==2.2 'numpy<2' -r extra.txt");
        assert_eq!(packages, vec!["pandas==2.2", "numpy<2"]);
        assert_eq!(options, vec!["-r extra.txt"]);
    }
}
