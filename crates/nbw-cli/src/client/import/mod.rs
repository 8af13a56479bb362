//! `nbw import`: an NB Workflows project (0.6 and 0.7 `workflows.yaml`, 0.9 `labfile.yaml` and
//! `runtimes.yaml`, `local.nbvars`, the `runtime:` section behind `Dockerfile.nbruntime`) into
//! an `nbw.yaml`, with a list of what could not be carried over and why.
//!
//! The old files are read as plain YAML values and every field is either converted or
//! reported, so nothing is dropped silently: a field this module does not know is reported
//! too. Two conversions are worth knowing:
//!
//! - cron: NB Workflows used croniter, whose optional 6th field is the *seconds* (last); nbw's
//!   6-field form puts seconds first. A 6th field of `0` or `*` is dropped (the old schedulers
//!   fired at most once a minute anyway); any other is moved to the front.
//! - `notifications_ok` / `notifications_fail` (`slack`, `discord`) become notifications whose
//!   webhook URL is a project secret (`SLACK_WEBHOOK_URL`, `DISCORD_WEBHOOK_URL`).
//!
//! One concept in one file (about 750 lines): each old field's conversion sits beside the others
//! so that none is forgotten. The notebooks' own uses of NB Workflows' helpers are found by
//! `notebooks`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use nbw_core::params::Parameters;
use nbw_core::project::{
    self, ChannelEntry, NotificationEntry, OnEntry, ProjectFile, RuntimeEntry, RuntimeUser, ScheduleEntry,
    Seconds, WorkflowEntry,
};
use serde::Serialize;
use serde_yaml::{Mapping, Value};

use super::output::{self, Format};
use super::secrets::parse_nbvars;
use super::{CliError, CliResult, OK, exit_codes};

mod notebooks;

/// The parameters nbw injects with NB Workflows' meaning where a notebook declares them.
const INJECTED: [&str; 3] = ["WFID", "EXECID", "NOW"];

/// Convert an NB Workflows project (0.6, 0.7 or 0.9) into nbw.yaml.
///
/// Reads workflows.yaml (0.6, 0.7) or labfile.yaml and runtimes.yaml (0.9), the `runtime:`
/// section behind Dockerfile.nbruntime, and checks local.nbvars (nbw reads the same file).
/// Writes nbw.yaml next to them and lists what could not be carried over, and why.
#[derive(Args, Debug)]
#[command(after_help = concat!("Examples:
  nbw import                     # the project in this folder
  nbw import ~/src/old-project
  nbw import --dry-run           # print the nbw.yaml instead of writing it

", exit_codes!()))]
pub struct ImportArgs {
    /// The NB Workflows project folder (default: this folder).
    dir: Option<PathBuf>,
    /// Where to write (default: nbw.yaml in the project folder).
    #[arg(long, value_name = "FILE")]
    to: Option<PathBuf>,
    /// Replace an existing nbw.yaml.
    #[arg(long)]
    force: bool,
    /// Print the nbw.yaml instead of writing it.
    #[arg(long)]
    dry_run: bool,
    /// How to print the report.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    format: Format,
}

/// Something not carried over (or carried over differently), and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Note {
    /// Where: a file and a field path.
    pub item: String,
    /// Why, and what to do instead.
    pub reason: String,
}

/// The result of a conversion.
#[derive(Debug, Serialize)]
pub struct Imported {
    /// The file read (`workflows.yaml` or `labfile.yaml`).
    pub source: String,
    /// The NB Workflows version its shape says (`0.6`, `0.7`, `0.9`).
    pub version: String,
    /// The new project file.
    #[serde(skip)]
    pub spec: ProjectFile,
    /// What could not be carried over.
    pub not_carried_over: Vec<Note>,
}

struct Notes(Vec<Note>);

impl Notes {
    fn add(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Note { item: item.into(), reason: reason.into() });
    }
}

/// A mapping whose fields are taken one by one; what is left is reported.
struct Fields {
    at: String,
    map: Mapping,
}

impl Fields {
    fn new(at: impl Into<String>, value: Option<Value>) -> Fields {
        let map = match value {
            Some(Value::Mapping(map)) => map,
            _ => Mapping::new(),
        };
        Fields { at: at.into(), map }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &str) -> Option<String> {
        self.take(key).and_then(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.at)
    }

    /// Reports each field left, as unknown.
    fn rest(self, notes: &mut Notes) {
        for (key, value) in self.map {
            if value.is_null() {
                continue;
            }
            let key = key.as_str().map(str::to_owned).unwrap_or_else(|| format!("{key:?}"));
            notes.add(format!("{}.{key}", self.at), "a field nbw does not know; nothing was made of it");
        }
    }
}

/// Converts the NB Workflows project in `dir`.
pub fn convert(dir: &Path) -> CliResult<Imported> {
    let mut notes = Notes(Vec::new());
    let labfile = dir.join("labfile.yaml");
    let workflows_file = dir.join("workflows.yaml");
    let (source, root) = if labfile.is_file() {
        if workflows_file.is_file() {
            notes.add("workflows.yaml", "labfile.yaml (0.9) is there too and was used instead");
        }
        ("labfile.yaml", read_yaml(&labfile)?)
    } else if workflows_file.is_file() {
        ("workflows.yaml", read_yaml(&workflows_file)?)
    } else if dir.join("workflows.toml").is_file() {
        return Err(CliError::bad_input(format!(
            "{} holds workflows.toml, the format of NB Workflows 0.5 and older, which nbw does not import; \
             upgrade the project to 0.7 (workflows.yaml) first",
            dir.display()
        )));
    } else {
        return Err(CliError::bad_input(format!(
            "no NB Workflows project in {}: expected workflows.yaml (0.6, 0.7) or labfile.yaml (0.9)",
            dir.display()
        )));
    };
    let mut top = Fields::new(source, Some(root));
    let declared = top.string("version");
    let workflows = top.take("workflows");
    let version = match (&workflows, source) {
        (_, "labfile.yaml") => "0.9",
        (Some(Value::Sequence(_)), _) => "0.6",
        _ => "0.7",
    }
    .to_owned();
    let _ = declared;

    // The project.
    let mut project = Fields::new(format!("{source}: project"), top.take("project"));
    let old_name = project.string("name").unwrap_or_default();
    let name = nbw_core::names::project_name_from(&if old_name.is_empty() {
        dir_name(dir)
    } else {
        old_name.clone()
    });
    if name != old_name {
        notes.add(
            project.path("name"),
            format!(
                "{old_name:?} became {name:?}: nbw project names are lower-case letters, digits, '_' and '-'"
            ),
        );
    }
    let description = project.string("description");
    if project.take("projectid").is_some() {
        notes.add(project.path("projectid"), "nbw identifies a project by its name; the id was dropped");
    }
    for key in ["owner", "username", "users", "agent"] {
        if project.take(key).is_some() {
            notes.add(
                project.path(key),
                "members and agents are managed on the server (`PUT /v1/projects/{p}/members/{user}`, agent tokens), not in the file",
            );
        }
    }
    if let Some(repository) = project.string("repository") {
        notes.add(
            project.path("repository"),
            format!("{repository:?}: nbw takes the version from git itself"),
        );
    }
    project.rest(&mut notes);

    // Runtimes.
    let mut runtimes = BTreeMap::new();
    if let Some(runtime) = top.take("runtime") {
        runtimes.insert("default".to_owned(), runtime_07(runtime, &mut notes));
        if dir.join("Dockerfile.nbruntime").is_file() {
            notes.add(
                "Dockerfile.nbruntime",
                "generated by NB Workflows from `runtime:`, which became runtimes.default; if you edited it by hand, carry the edits into runtimes.default (apt_packages, run, env)",
            );
        }
    } else if dir.join("Dockerfile.nbruntime").is_file() {
        notes.add(
            "Dockerfile.nbruntime",
            "there is no `runtime:` section it was generated from; describe the image in nbw.yaml's runtimes",
        );
    }
    if version == "0.9" {
        let file = dir.join("runtimes.yaml");
        if file.is_file() {
            let mut all = Fields::new("runtimes.yaml", Some(read_yaml(&file)?));
            if let Some(Value::Mapping(map)) = all.take("runtimes") {
                for (key, value) in map {
                    let key = key.as_str().unwrap_or_default().to_owned();
                    let runtime = runtime_09(&key, value, &mut notes);
                    if dir.join(format!("Dockerfile.{key}")).is_file() {
                        notes.add(
                            format!("Dockerfile.{key}"),
                            format!("generated by labfunctions from runtimes.yaml; nbw builds runtime {key} from nbw.yaml"),
                        );
                    }
                    runtimes.insert(key, runtime);
                }
            }
            all.rest(&mut notes);
        }
    }

    // Workflows.
    let mut entries: BTreeMap<String, WorkflowEntry> = BTreeMap::new();
    let mut ids_dropped = false;
    let items: Vec<(Option<String>, Value)> = match workflows {
        Some(Value::Sequence(list)) => list.into_iter().map(|v| (None, v)).collect(),
        Some(Value::Mapping(map)) => {
            map.into_iter().map(|(k, v)| (k.as_str().map(str::to_owned), v)).collect()
        }
        _ => Vec::new(),
    };
    for (index, (key, value)) in items.into_iter().enumerate() {
        let at = format!("{source}: workflows.{}", key.clone().unwrap_or_else(|| index.to_string()));
        let mut fields = Fields::new(at.clone(), Some(value));
        let (mut task, alias, enabled, schedule) = if version == "0.6" {
            // 0.6: the task itself is the entry, with alias, jobid and schedule inside.
            let alias = fields.string("alias");
            if fields.take("jobid").is_some() {
                ids_dropped = true;
            }
            let enabled = fields.take("enabled").and_then(|v| v.as_bool());
            let schedule = fields.take("schedule");
            (fields, alias, enabled, schedule)
        } else {
            let alias = fields.string("alias");
            let enabled = fields.take("enabled").and_then(|v| v.as_bool());
            if fields.take("wfid").is_some() {
                ids_dropped = true;
            }
            let schedule = fields.take("schedule");
            let task = Fields::new(format!("{at}.nbtask"), fields.take("nbtask"));
            fields.rest(&mut notes);
            (task, alias, enabled, schedule)
        };
        let nb_name = task.string("nb_name").unwrap_or_default();
        let old_name = key.or(alias).unwrap_or_else(|| nb_name.clone());
        let mut name = nbw_core::names::workflow_name_from(&old_name);
        while entries.contains_key(&name) {
            name.push_str("-2");
        }
        if name != old_name {
            notes.add(
                at.clone(),
                format!("{old_name:?} became workflow {name:?} (letters, digits, '_', '.', '-')"),
            );
        }
        if nb_name.is_empty() {
            notes.add(task.path("nb_name"), "missing: the workflow has no notebook and was left out");
            continue;
        }
        let notebook = notebook_path(&nb_name);
        if !dir.join(&notebook).is_file() {
            notes.add(
                task.path("nb_name"),
                format!("{notebook} is not in the project folder; add it before `nbw push`"),
            );
        }
        let parameters = match task.take("params") {
            Some(value) => serde_yaml::from_value::<Parameters>(value).unwrap_or_else(|e| {
                notes.add(task.path("params"), format!("not a map of parameters ({e}); left out"));
                Parameters::default()
            }),
            None => Parameters::default(),
        };
        let parameters = without_injected(parameters, &task.path("params"), &mut notes);
        let mut entry = WorkflowEntry {
            description: task.string("description"),
            notebook,
            parameters,
            schedule: None,
            runtime: None,
            volumes: Vec::new(),
            labels: BTreeMap::new(),
            timeout: task.take("timeout").and_then(|v| v.as_u64()).filter(|s| *s > 0).map(Seconds),
            cell_timeout: None,
            max_queue: None,
            parameter_rules: Default::default(),
            retries: None,
            notifications: Vec::new(),
            enabled: enabled.unwrap_or(true),
            gpu: false,
        };
        // The task's own `enabled` was never read by NB Workflows.
        if let Some(Value::Bool(task_enabled)) = task.take("enabled")
            && task_enabled != entry.enabled
        {
            notes.add(task.path("enabled"), format!("nbtask.enabled: {task_enabled} was unused by NB Workflows; the workflow's enabled: {} holds", entry.enabled));
        }
        entry.schedule = schedule.and_then(|s| convert_schedule(&format!("{at}.schedule"), s, &mut notes));
        convert_notifications(&mut task, &mut entry, &mut notes);
        for (key, default) in [("machine", ["default", "cpu"]), ("cluster", ["default", "default"])] {
            if let Some(value) = task.string(key)
                && !default.contains(&value.as_str())
            {
                notes.add(
                    task.path(key),
                    format!("{value:?} became the label {key}={value}: only agents started with --labels {key}={value} run it"),
                );
                entry.labels.insert(key.to_owned(), value);
            }
        }
        if let Some(Value::Bool(true)) = task.take("gpu_support") {
            entry.gpu = true;
            notes.add(
                task.path("gpu_support"),
                "became `gpu: true`: its runs get the machine's GPUs and only agents with the label gpu=true run them (an agent started with --docker sets it when its engine offers GPUs, through the NVIDIA container toolkit)",
            );
        }
        if let Some(runtime) = task.string("runtime") {
            if runtimes.contains_key(&runtime) {
                entry.runtime = Some(runtime);
            } else {
                notes.add(
                    task.path("runtime"),
                    format!("runtime {runtime:?} is not defined in runtimes.yaml; left out"),
                );
            }
        }
        if let Some(docker_version) = task.string("docker_version")
            && docker_version != "latest"
        {
            notes.add(task.path("docker_version"), format!("{docker_version:?} is an image NB Workflows built, which nbw does not have; pinning an image version is not carried over: build the runtime (`nbw runtime build default`), then pin the version it lists with `version:` under runtimes.default"));
        }
        if let Some(runtime_version) = task.string("version") {
            let runtime = entry.runtime.as_deref().unwrap_or("default");
            notes.add(task.path("version"), format!("{runtime_version:?} is a version NB Workflows built, which nbw does not have; pinning a runtime version is not carried over: build the runtime (`nbw runtime build {runtime}`), then pin the version it lists with `version:` under runtimes.{runtime}"));
        }
        for key in ["remote_input", "remote_output"] {
            if task.take(key).is_some() {
                notes.add(task.path(key), "was never implemented by labfunctions; left out");
            }
        }
        task.rest(&mut notes);
        entries.insert(name, entry);
    }
    if ids_dropped {
        notes.add(
            format!("{source}: wfid / jobid"),
            "nbw identifies workflows by name; the old ids were dropped",
        );
    }
    top.rest(&mut notes);

    secrets_notes(dir, &mut notes);
    notebooks::check(dir, &mut notes);
    for settings in ["nb_app/settings.py", "lab_app/settings.py"] {
        if dir.join(settings).is_file() {
            notes.add(
                settings,
                "settings modules are not used by nbw: the server comes from `nbw login` / --server, the project from nbw.yaml; log settings from NBW_LOG",
            );
        }
    }
    let spec = ProjectFile {
        project: name,
        description,
        defaults: Default::default(),
        runtimes,
        workflows: entries,
        pipelines: Default::default(),
    };
    Ok(Imported { source: source.to_owned(), version, spec, not_carried_over: notes.0 })
}

/// `parameters` without the names nbw injects: NB Workflows overrode a value given for them
/// too, so it never reached the notebook.
fn without_injected(parameters: Parameters, at: &str, notes: &mut Notes) -> Parameters {
    parameters
        .into_iter()
        .filter(|(name, _)| {
            let injected = INJECTED.contains(&name.as_str());
            if injected {
                notes.add(
                    format!("{at}.{name}"),
                    format!("{name} is injected by the run (as NB Workflows did, which ignored a given value too); the value was dropped: declare {name} in the notebook's parameters cell to read it"),
                );
            }
            !injected
        })
        .collect()
}

fn dir_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into())
}

fn read_yaml(path: &Path) -> CliResult<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", path.display())))?;
    serde_yaml::from_str(&text)
        .map_err(|e| CliError::bad_input(format!("{} is not valid YAML: {e}", path.display())))
}

fn notebook_path(nb_name: &str) -> String {
    let name = nb_name.trim().trim_start_matches("./");
    let name = name.strip_prefix("notebooks/").unwrap_or(name);
    if name.ends_with(".ipynb") { format!("notebooks/{name}") } else { format!("notebooks/{name}.ipynb") }
}

fn convert_schedule(at: &str, value: Value, notes: &mut Notes) -> Option<ScheduleEntry> {
    let mut fields = Fields::new(at, Some(value));
    let cron = fields.string("cron");
    let interval = fields.string("interval");
    if let Some(start) = fields.take("start_in_min").and_then(|v| v.as_u64()).filter(|m| *m > 0) {
        notes.add(
            fields.path("start_in_min"),
            format!("{start}: nbw starts an interval at the push; set schedule.start_at to a time instead"),
        );
    }
    if let Some(repeat) = fields.take("repeat") {
        notes.add(
            fields.path("repeat"),
            format!(
                "{}: nbw schedules have no repetition count; set schedule.end_at to stop one",
                output::short_json(&serde_json::to_value(&repeat).unwrap_or_default(), 20)
            ),
        );
    }
    for key in ["alias", "enabled"] {
        fields.take(key);
    }
    fields.rest(notes);
    let mut schedule = ScheduleEntry::default();
    match (cron, interval) {
        (Some(cron), interval) => {
            if interval.is_some() {
                notes.add(
                    format!("{at}.interval"),
                    "cron wins over interval, as in NB Workflows; the interval was dropped",
                );
            }
            let (converted, note) = convert_cron(&cron);
            if let Some(note) = note {
                notes.add(format!("{at}.cron"), note);
            }
            schedule.cron = Some(converted);
        }
        (None, Some(interval)) => match interval.trim().parse::<f64>() {
            Ok(secs) if secs >= 1.0 => schedule.interval = Some(Seconds(secs.round() as u64)),
            _ => {
                notes.add(
                    format!("{at}.interval"),
                    format!("{interval:?} is not a number of seconds; the schedule was left out"),
                );
                return None;
            }
        },
        (None, None) => {
            notes.add(at.to_owned(), "neither cron nor interval: the workflow runs only on demand");
            return None;
        }
    }
    Some(schedule)
}

/// croniter's 6-field form has the seconds last; nbw's has them first.
fn convert_cron(expr: &str) -> (String, Option<String>) {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 6 {
        return (fields.join(" "), None);
    }
    let seconds = fields[5];
    let rest = fields[..5].join(" ");
    if seconds == "0" || seconds == "*" {
        (
            rest.clone(),
            Some(format!(
                "{expr:?} became {rest:?}: the 6th field (seconds, in croniter's order) was dropped; NB Workflows fired at most once a minute"
            )),
        )
    } else {
        let moved = format!("{seconds} {rest}");
        (moved.clone(), Some(format!("{expr:?} became {moved:?}: nbw puts the seconds first")))
    }
}

fn convert_notifications(task: &mut Fields, entry: &mut WorkflowEntry, notes: &mut Notes) {
    let mut wanted: BTreeMap<String, Vec<OnEntry>> = BTreeMap::new();
    for (key, on) in [("notifications_ok", OnEntry::Success), ("notifications_fail", OnEntry::Failure)] {
        let Some(value) = task.take(key) else { continue };
        let channels: Vec<String> = match value {
            Value::Sequence(items) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            Value::String(s) => vec![s],
            _ => Vec::new(),
        };
        for channel in channels {
            wanted.entry(channel).or_default().push(on);
        }
    }
    for (channel, on) in wanted {
        let (channel_entry, secret) = match channel.as_str() {
            "slack" => (ChannelEntry::Slack, "SLACK_WEBHOOK_URL"),
            "discord" => (ChannelEntry::Discord, "DISCORD_WEBHOOK_URL"),
            other => {
                notes.add(
                    task.path("notifications"),
                    format!("channel {other:?} is unknown to nbw (slack, discord, webhook)"),
                );
                continue;
            }
        };
        let on = if on.len() == 2 { Vec::new() } else { on };
        entry.notifications.push(NotificationEntry {
            channel: channel_entry,
            url_secret: secret.to_owned(),
            on,
        });
        let note = format!(
            "{channel} now posts to a webhook URL kept in the project secret {secret}: set it with `nbw secrets set {secret}` (NB Workflows' bot token and channel settings do not carry over)"
        );
        if !notes.0.iter().any(|n| n.reason == note) {
            notes.add("notifications", note);
        }
    }
}

fn user(value: Option<Value>) -> Option<RuntimeUser> {
    let mut fields = Fields::new("user", value);
    let uid = fields.take("uid").and_then(|v| v.as_u64()).map(|v| v as u32);
    let gid = fields.take("gid").and_then(|v| v.as_u64()).map(|v| v as u32);
    (uid.is_some() || gid.is_some()).then(|| RuntimeUser { name: Some("app".into()), uid, gid })
}

fn words(value: Option<String>) -> Vec<String> {
    value.map(|v| v.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

/// 0.7's `runtime:` (DockerfileImage).
fn runtime_07(value: Value, notes: &mut Notes) -> RuntimeEntry {
    let mut fields = Fields::new("workflows.yaml: runtime", Some(value));
    let runtime = RuntimeEntry {
        image: fields.string("image").unwrap_or_else(|| "python:3.8.10-slim".into()),
        apt_packages: words(fields.string("final_packages")),
        build_packages: words(fields.string("build_packages")),
        requirements: None,
        user: user(fields.take("user")),
        ..RuntimeEntry::default()
    };
    for key in ["maintener", "maintainer"] {
        if fields.take(key).is_some() {
            notes.add(fields.path(key), "image metadata; nbw does not label images with a maintainer");
        }
    }
    fields.rest(notes);
    runtime
}

/// 0.9's `runtimes.yaml` entry (RuntimeSpec).
fn runtime_09(name: &str, value: Value, notes: &mut Notes) -> RuntimeEntry {
    let mut fields = Fields::new(format!("runtimes.yaml: runtimes.{name}"), Some(value));
    let mut container = Fields::new(format!("{}.container", fields.at), fields.take("container"));
    let description = fields.string("description");
    let requirements = container.string("requirements").filter(|r| r != "requirements.txt");
    let runtime = RuntimeEntry {
        description,
        image: container.string("image").unwrap_or_else(|| "python:3.8.13-slim".into()),
        apt_packages: words(container.string("final_packages")),
        build_packages: words(container.string("build_packages")),
        requirements,
        user: user(container.take("user")),
        ..RuntimeEntry::default()
    };
    if container.take("maintainer").is_some() {
        notes
            .add(container.path("maintainer"), "image metadata; nbw does not label images with a maintainer");
    }
    if let Some(template) = container.string("base_template") {
        notes.add(
            container.path("base_template"),
            format!("{template:?}: nbw generates its Dockerfile from nbw.yaml; templates are not used"),
        );
    }
    let cuda = container.take("gpu").is_some();
    let gpu = cuda | (fields.take("gpu_support").and_then(|v| v.as_bool()) == Some(true));
    if gpu {
        notes.add(
            fields.path("gpu_support"),
            "became `gpu: true` (runs get the GPUs, on agents whose Docker engine offers them); nbw does not install CUDA from container.gpu: use a CUDA base image (nvidia/cuda:...) as `image`",
        );
    }
    if container.take("extra").is_some() {
        notes.add(container.path("extra"), "template data; not used by nbw");
    }
    for key in ["version", "registry"] {
        if let Some(value) = fields.string(key) {
            notes.add(
                fields.path(key),
                format!("{value:?}: nbw versions runtimes by bundle and builds them on the agents; to pin one, build it (`nbw runtime build {name}`) and set `version:` to a version `nbw runtime list` shows"),
            );
        }
    }
    container.rest(notes);
    fields.rest(notes);
    RuntimeEntry { gpu, ..runtime }
}

fn secrets_notes(dir: &Path, notes: &mut Notes) {
    let path = dir.join(project::SECRETS_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else { return };
    match parse_nbvars(&text) {
        Err(problems) => {
            for problem in problems {
                notes.add(project::SECRETS_FILE, format!("{problem}: fix it before `nbw push --secrets`"));
            }
        }
        Ok(pairs) => {
            for (key, _) in pairs.iter().filter(|(k, _)| k == "AGENT_TOKEN" || k == "AGENT_REFRESH_TOKEN") {
                notes.add(
                    format!("{}: {key}", project::SECRETS_FILE),
                    "an NB Workflows agent credential: nbw agents have their own tokens; remove it so it does not become a secret",
                );
            }
            for line in text.lines() {
                if let Some((key, value)) = line.split_once('=')
                    && value.trim().trim_matches('"').contains('"')
                {
                    notes.add(
                        format!("{}: {}", project::SECRETS_FILE, key.trim()),
                        "the value holds a '\"', which NB Workflows removed and nbw keeps",
                    );
                }
            }
        }
    }
}

/// The text of the new project file.
pub fn render(imported: &Imported) -> String {
    let yaml = serde_yaml::to_string(&imported.spec).expect("the project file serializes");
    format!(
        "# nbw project file, converted by `nbw import` from {} (NB Workflows {}).\n\
         # Reference: schemas/nbw.schema.json in the nbw repository.\n{yaml}",
        imported.source, imported.version
    )
}

pub fn import(args: ImportArgs) -> CliResult {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let imported = convert(&dir)?;
    let text = render(&imported);
    let target = args.to.clone().unwrap_or_else(|| dir.join(project::FILE_NAME));
    // What was written must read back: a conversion bug shows here, not at the next push.
    project::parse(&text, &target, None).map_err(|e| {
        CliError::new(
            super::SERVER,
            format!("the converted file does not read back (a bug in nbw import):\n{e}"),
        )
    })?;
    if args.dry_run {
        print!("{text}");
    } else {
        if target.exists() && !args.force {
            return Err(CliError::bad_input(format!(
                "{} exists already; use --force to replace it",
                target.display()
            )));
        }
        std::fs::write(&target, &text)
            .map_err(|e| CliError::bad_input(format!("cannot write {}: {e}", target.display())))?;
    }
    let report = || {
        let mut lines = vec![format!(
            "{} {} from {} (NB Workflows {}): project {}, {} workflows, {} runtimes.",
            output::ok_mark(),
            if args.dry_run { "Converted".to_owned() } else { format!("Wrote {}", target.display()) },
            imported.source,
            imported.version,
            imported.spec.project,
            imported.spec.workflows.len(),
            imported.spec.runtimes.len()
        )];
        if imported.not_carried_over.is_empty() {
            lines.push("Everything was carried over.".into());
        } else {
            lines.push("Not carried over (or carried over differently):".into());
            for note in &imported.not_carried_over {
                lines.push(format!("  - {}: {}", note.item, note.reason));
            }
        }
        lines.join("\n")
    };
    match args.format {
        Format::Table if args.dry_run => eprintln!("{}", report()),
        format => output::print(format, &imported, report),
    }
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn croniter_seconds_move_or_go() {
        assert_eq!(convert_cron("0 3 * * *").0, "0 3 * * *");
        assert_eq!(convert_cron("0 * * * * *").0, "0 * * * *");
        assert_eq!(convert_cron("*/5 * * * * 30").0, "30 */5 * * * *");
    }

    #[test]
    fn notebook_names_become_paths() {
        assert_eq!(notebook_path("welcome"), "notebooks/welcome.ipynb");
        assert_eq!(notebook_path("notebooks/a.ipynb"), "notebooks/a.ipynb");
    }
}
