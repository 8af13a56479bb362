//! What `nbw.yaml` holds: the project, its runtimes and its workflows, as serde reads them
//! and as the JSON Schema describes them.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::retries::Retries;
use super::schedule::ScheduleEntry;
use super::seconds::Seconds;
use crate::params::{ParameterRules, Parameters};
use crate::pipeline::PipelineEntry;

/// A whole `nbw.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "nbw.yaml", description = "An nbw project: its name, runtimes, workflows and pipelines.")]
pub struct ProjectFile {
    /// The project's name on the server: 1 to 64 of `a-z`, `0-9`, `_`, `-`, starting with a
    /// letter or digit.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$"))]
    pub project: String,
    /// Free text shown with the project; used when `nbw push` creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Settings every workflow of the project takes unless it sets its own.
    #[serde(default, skip_serializing_if = "ProjectDefaults::is_empty")]
    pub defaults: ProjectDefaults,
    /// Runtimes by name: how the Docker image a workflow runs in is built.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtimes: BTreeMap<String, RuntimeEntry>,
    /// Workflows by name (1 to 64 of letters, digits, `_`, `.`, `-`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z0-9_.-]{1,64}$"}))]
    pub workflows: BTreeMap<String, WorkflowEntry>,
    /// Pipelines by name (same names as workflows): notebooks chained in order, sharing a
    /// volume (SeqPipe), or as a DAG of `needs` running in parallel (DagPipe).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z0-9_.-]{1,64}$"}))]
    pub pipelines: BTreeMap<String, PipelineEntry>,
}

/// The project's defaults for its workflows (a workflow's own setting wins; without either,
/// the server's `default_timeout_secs` and `max_queue_secs` apply, and its
/// `max_timeout_secs` caps them all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectDefaults {
    /// The longest a run may take: seconds, or a duration like `30m` or `2h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Seconds>,
    /// The longest a run may wait in the queue before it ends `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue: Option<Seconds>,
}

impl ProjectDefaults {
    fn is_empty(&self) -> bool {
        self.timeout.is_none() && self.max_queue.is_none()
    }
}

/// How a runtime image is built: a base image, system packages, the Python requirements and a
/// few extra steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The published schema names it as the file does: a runtime.
#[schemars(rename = "Runtime")]
pub struct RuntimeEntry {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The base image, e.g. `python:3.12-slim`.
    pub image: String,
    /// Debian/Ubuntu packages installed in the image (a list, or one space-separated string).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "words")]
    #[schemars(with = "Words")]
    pub apt_packages: Vec<String>,
    /// Packages needed only while the requirements install (compilers, headers); they are not
    /// in the final image.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "words")]
    #[schemars(with = "Words")]
    pub build_packages: Vec<String>,
    /// The pip requirements file, relative to the project (default `requirements.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    /// Extra shell commands, each a `RUN` step after the packages are installed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run: Vec<String>,
    /// Environment variables of the image.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The user the notebooks run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<RuntimeUser>,
    /// The working directory in the image (default `/app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// Volumes mounted in every run: `NAME:/path` (a named volume, kept between runs) or
    /// `/host/path:/path` (a folder of the agent's machine), `:ro` for read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Memory limit of a run's container, e.g. `512m` or `2g`; a run going over it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// CPU limit of a run's container, in CPUs, e.g. `1.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Network of a run's container: `bridge` (default), `none`, `host` or a network's name.
    /// The engine reaches the kernel through sockets in a mounted folder, so `none` works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The kernel's command in the image, `{connection_file}` standing for its connection file
    /// (default: `python3 -m ipykernel_launcher -f {connection_file}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernel: Vec<String>,
    /// Pins the image: the runs of this runtime use its build of this version (a bundle
    /// version, as `nbw runtime list` shows it) rather than the newest. `nbw push` refuses a
    /// version that was never built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Runs in this runtime get the machine's GPUs (a Docker device request for all of them),
    /// and only agents whose Docker engine offers GPUs (label `gpu: "true"`) run them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub gpu: bool,
}

/// The user of a runtime image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeUser {
    /// User name (default `app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Numeric user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Numeric group id (default: the uid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// One workflow: a notebook, its parameters, and when and how it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowEntry {
    /// Free text, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The notebook's path in the project, e.g. `notebooks/etl.ipynb`.
    #[schemars(regex(pattern = r"\.ipynb$"))]
    pub notebook: String,
    /// Parameters passed to the notebook (they override its `parameters` cell).
    #[serde(default, skip_serializing_if = "Parameters::is_empty")]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub parameters: Parameters,
    /// Refinements of the parameters the notebook's `parameters` cell declares, by name:
    /// `type`, `choices`, `min`/`max`, `required`, `description`, `pattern`. A run whose
    /// values break them is refused before it is queued.
    #[serde(default, skip_serializing_if = "ParameterRules::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub parameter_rules: ParameterRules,
    /// When it runs by itself: a cron expression, or a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleEntry>,
    /// The runtime (a key of `runtimes`) it runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Volumes mounted besides the runtime's (`NAME:/path` or `/host/path:/path`, `:ro`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Labels an agent must have to run it, e.g. `{gpu: "yes"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "labels")]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub labels: BTreeMap<String, String>,
    /// The longest a run may take: seconds, or a duration like `30m` or `2h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Seconds>,
    /// The longest one cell may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_timeout: Option<Seconds>,
    /// The longest a run may wait in the queue before it ends `expired` (with a failure
    /// notification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue: Option<Seconds>,
    /// Retries of a failed or lost run: a number, or a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Where to report how runs end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationEntry>,
    /// Whether the schedule fires (default true); run-now works either way.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Runs need GPUs: only agents whose Docker engine offers GPUs (label `gpu: "true"`) run
    /// them, and a run in a runtime gets the machine's GPUs (as `gpu` on the runtime does).
    #[serde(default, skip_serializing_if = "is_false")]
    pub gpu: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Where a notification goes and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationEntry {
    /// `slack`, `discord` or `webhook` (a JSON POST to any URL).
    pub channel: ChannelEntry,
    /// The project secret holding the webhook URL (`nbw secrets set NAME`): webhook URLs are
    /// credentials, so they never sit in this file.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"))]
    pub url_secret: String,
    /// `success`, `failure`, or both (the default); a list or one word.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany<OnEntry>")]
    pub on: Vec<OnEntry>,
}

/// A notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelEntry {
    /// A Slack incoming webhook.
    Slack,
    /// A Discord webhook.
    Discord,
    /// Any URL receiving a JSON POST.
    Webhook,
}

/// When a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnEntry {
    /// The run succeeded.
    Success,
    /// The run ended any other way.
    Failure,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Words {
    /// Space-separated.
    Text(String),
    /// One per item.
    List(Vec<String>),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Scalar {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// A list of words, or one string of space-separated words.
fn words<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct WordsVisitor;
    impl<'de> Visitor<'de> for WordsVisitor {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of package names, or one string of space-separated names")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(v.split_whitespace().map(str::to_owned).collect())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_any(WordsVisitor)
}

/// One value or a list of them.
fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form<T> {
        One(T),
        Many(Vec<T>),
    }
    // The list form is tried through serde_yaml's own error first, so a bad word in a list is
    // reported as such rather than as "did not match any variant".
    let value = serde_yaml::Value::deserialize(deserializer)?;
    match value {
        serde_yaml::Value::Sequence(items) => {
            items.into_iter().map(|item| T::deserialize(item).map_err(de::Error::custom)).collect()
        }
        other => match Form::<T>::deserialize(other).map_err(de::Error::custom)? {
            Form::One(one) => Ok(vec![one]),
            Form::Many(many) => Ok(many),
        },
    }
}

/// Label values are strings; a YAML number or boolean (`gpu: true`) is taken as its text.
fn labels<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, serde_yaml::Value>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(key, value)| {
            let text = match value {
                serde_yaml::Value::String(s) => s,
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::Number(n) => n.to_string(),
                _ => {
                    return Err(de::Error::custom(format!(
                        "label {key:?} must be a string, a number or a boolean"
                    )));
                }
            };
            Ok((key, text))
        })
        .collect()
}

/// The JSON Schema of `nbw.yaml` (what `schemas/nbw.schema.json` holds).
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<ProjectFile>();
    schema.insert("$id".into(), "https://nbw.dev/schemas/nbw.schema.json".into());
    schema.to_value()
}
