//! The project file, `nbw.yaml`: what a project is (its name), how its runtimes are built, and
//! which workflows run which notebooks, a map keyed by name like compose services.
//!
//! ```yaml
//! project: sales                    # the project's name on the server
//! runtimes:
//!   default:
//!     image: python:3.12-slim
//!     apt_packages: [libpq5]
//!     requirements: requirements.txt
//! workflows:
//!   nightly:
//!     notebook: notebooks/etl.ipynb
//!     parameters: {days: 1}
//!     schedule: {cron: "0 3 * * *", timezone: Europe/Berlin}
//!     timeout: 1h
//!     retries: 2
//!     notifications:
//!       - {channel: slack, url_secret: SLACK_WEBHOOK, on: [failure]}
//! ```
//!
//! [`load`] reads and checks a file; every problem names the file, the line and the column and
//! what is expected there. serde_yaml finds the problems of shape (a misspelt key, a list where a
//! map belongs) with their place; the checks that need the whole file (a workflow naming a
//! runtime the file does not define, a notebook missing from the project folder) find theirs
//! through an index of where each value sits, built from yaml-rust2's parser events.
//! [`json_schema`] is the same model as a JSON Schema (`schemas/nbw.schema.json` in the
//! repository), for editors.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::api::{
    Misfire, Notification, NotifyChannel, NotifyOn, RetryPolicy, Schedule, WorkflowInput, WorkflowSpec,
};
use crate::container::{self, Volume};
use crate::params::Parameters;

/// The project file's usual name.
pub const FILE_NAME: &str = "nbw.yaml";

/// The local secrets file: `KEY=VALUE` lines, never bundled, pushed only when asked.
pub const SECRETS_FILE: &str = "local.nbvars";

/// A whole `nbw.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "nbw.yaml", description = "An nbw project: its name, runtimes and workflows.")]
pub struct ProjectFile {
    /// The project's name on the server: 1 to 64 of `a-z`, `0-9`, `_`, `-`, starting with a
    /// letter or digit.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$"))]
    pub project: String,
    /// Free text shown with the project; used when `nbw push` creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Runtimes by name: how the Docker image a workflow runs in is built.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtimes: BTreeMap<String, Runtime>,
    /// Workflows by name (1 to 64 of letters, digits, `_`, `.`, `-`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z0-9_.-]{1,64}$"}))]
    pub workflows: BTreeMap<String, WorkflowEntry>,
}

/// How a runtime image is built: a base image, system packages, the Python requirements and a
/// few extra steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
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
    /// Retries of a failed or lost run: a number, or a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Where to report how runs end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationEntry>,
    /// Whether the schedule fires (default true); run-now works either way.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// A schedule: a cron expression as a plain string, or a map with a time zone or an interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScheduleEntry {
    /// Cron: 5 fields (minute hour day month weekday), 6 with seconds first, or `@daily` and
    /// friends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// IANA time zone of the cron expression (default UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Run every this long instead (seconds, or `10m`, `1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Seconds>,
    /// No run before this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    /// No run after this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    /// Fire times missed while no server ran: `skip` them (default) or `run_once`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misfire: Option<MisfireEntry>,
}

/// What the schema says a schedule looks like.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ScheduleForm {
    /// A cron expression.
    Cron(String),
    /// The long form.
    Map(ScheduleMap),
}

/// The long form of a schedule (exactly one of `cron` and `interval`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScheduleMap {
    /// Cron: 5 fields (minute hour day month weekday), 6 with seconds first, or `@daily` and
    /// friends.
    #[serde(default)]
    cron: Option<String>,
    /// IANA time zone of the cron expression (default UTC), e.g. `Europe/Berlin`.
    #[serde(default)]
    timezone: Option<String>,
    /// Run every this long instead (seconds, or `10m`, `1h`).
    #[serde(default)]
    interval: Option<Seconds>,
    /// No run before this time (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    start_at: Option<DateTime<Utc>>,
    /// No run after this time (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    end_at: Option<DateTime<Utc>>,
    /// Fire times missed while no server ran: `skip` them (default) or `run_once`.
    #[serde(default)]
    misfire: Option<MisfireEntry>,
}

impl<'de> Deserialize<'de> for ScheduleEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScheduleVisitor;
        impl<'de> Visitor<'de> for ScheduleVisitor {
            type Value = ScheduleEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a cron expression such as \"0 3 * * *\", or a map with cron or interval")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScheduleEntry, E> {
                Ok(ScheduleEntry { cron: Some(v.to_owned()), ..ScheduleEntry::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScheduleEntry, A::Error> {
                let m = ScheduleMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ScheduleEntry {
                    cron: m.cron,
                    timezone: m.timezone,
                    interval: m.interval,
                    start_at: m.start_at,
                    end_at: m.end_at,
                    misfire: m.misfire,
                })
            }
        }
        deserializer.deserialize_any(ScheduleVisitor)
    }
}

/// What happens to fire times missed while no server ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfireEntry {
    /// Dropped; the next fire time in the future runs.
    Skip,
    /// Collapsed into one run at once.
    RunOnce,
}

/// A duration in whole seconds, written as a number of seconds or as `30s`, `10m`, `2h`,
/// `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(pub u64);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SecondsForm {
    /// Seconds.
    Number(#[schemars(range(min = 1))] u64),
    /// A duration such as `90s`, `10m`, `2h` or `1h 30m`.
    Text(#[schemars(regex(pattern = r"^\s*[0-9]+\s*[a-zA-Z]+(\s*[0-9]+\s*[a-zA-Z]+)*\s*$"))] String),
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 < 60 {
            serializer.serialize_u64(self.0)
        } else {
            serializer.serialize_str(&humantime::format_duration(Duration::from_secs(self.0)).to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;
        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: a number of seconds, or text like 30s, 10m, 2h, 1h 30m")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                if v == 0 {
                    return Err(E::custom("a duration must be at least 1 second"));
                }
                Ok(Seconds(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("{v} is negative; a duration is at least 1 second")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                if let Ok(secs) = v.trim().parse::<u64>() {
                    return self.visit_u64(secs);
                }
                let duration = humantime::parse_duration(v.trim()).map_err(|e| {
                    E::custom(format!("{v:?} is not a duration like 90, 30s, 10m or 1h 30m ({e})"))
                })?;
                if duration.subsec_nanos() != 0 {
                    return Err(E::custom(format!("{v:?}: durations are whole seconds")));
                }
                self.visit_u64(duration.as_secs())
            }
        }
        deserializer.deserialize_any(SecondsVisitor)
    }
}

/// Retries of failed or lost runs: a number (retries after the first attempt) or a map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Retries {
    /// Attempts after the first.
    pub max: u32,
    /// Wait before the first retry (default 30 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Seconds>,
    /// Each further retry waits this many times longer (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RetriesForm {
    /// Retries after the first attempt.
    Count(u32),
    /// The long form.
    Map(RetriesMap),
}

/// The long form of retries.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RetriesMap {
    /// Attempts after the first.
    max: u32,
    /// Wait before the first retry (default 30 s).
    #[serde(default)]
    backoff: Option<Seconds>,
    /// Each further retry waits this many times longer (default 2).
    #[serde(default)]
    #[schemars(range(min = 1.0))]
    factor: Option<f64>,
}

impl<'de> Deserialize<'de> for Retries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RetriesVisitor;
        impl<'de> Visitor<'de> for RetriesVisitor {
            type Value = Retries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of retries, or a map {max, backoff, factor}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Retries, E> {
                let max = u32::try_from(v).map_err(|_| E::custom("too many retries"))?;
                Ok(Retries { max, backoff: None, factor: None })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Retries, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("retries cannot be negative"))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Retries, A::Error> {
                let m = RetriesMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if m.factor.is_some_and(|f| !(1.0..=100.0).contains(&f)) {
                    return Err(de::Error::custom("retries.factor must be between 1 and 100"));
                }
                Ok(Retries { max: m.max, backoff: m.backoff, factor: m.factor })
            }
        }
        deserializer.deserialize_any(RetriesVisitor)
    }
}

/// The schema of a type is the schema of its written form.
macro_rules! schema_as {
    ($ty:ty, $form:ty, $name:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <$form>::json_schema(generator)
            }
        }
    };
}

schema_as!(ScheduleEntry, ScheduleForm, "Schedule");
schema_as!(Seconds, SecondsForm, "Duration");
schema_as!(Retries, RetriesForm, "Retries");

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

// ---------------------------------------------------------------------------------------------
// Loading and checking
// ---------------------------------------------------------------------------------------------

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
    fn one(file: &Path, line: Option<usize>, column: Option<usize>, message: impl Into<String>) -> Self {
        ProjectError {
            file: file.to_owned(),
            problems: vec![Problem { line, column, message: message.into() }],
        }
    }
}

/// A checked project file and the folder it belongs to.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder (where `nbw.yaml` is).
    pub root: PathBuf,
    /// The file's path.
    pub file: PathBuf,
    /// What it says.
    pub spec: ProjectFile,
}

/// Reads `path` (an `nbw.yaml`) and checks it, including that every workflow's notebook is in
/// the project folder.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ProjectError::one(path, None, None, format!("cannot read the project file: {e}")))?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    let spec = parse(&text, path, Some(&root))?;
    Ok(Project { root, file: path.to_owned(), spec })
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
            location.as_ref().map(|l| l.line()),
            location.as_ref().map(|l| l.column()),
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

/// The run settings of a runtime's containers: volumes, limits, network, kernel command.
fn check_container(runtime: &Runtime, report: &mut dyn FnMut(&str, String)) {
    for volume in &runtime.volumes {
        if let Err(message) = Volume::parse(volume) {
            report("volumes", message);
        }
    }
    if let Some(Err(message)) = runtime.memory.as_deref().map(container::parse_memory) {
        report("memory", message);
    }
    if let Some(Err(message)) = runtime.cpus.map(container::check_cpus) {
        report("cpus", message);
    }
    if let Some(Err(message)) = runtime.network.as_deref().map(container::check_network) {
        report("network", message);
    }
    if !runtime.kernel.is_empty() && !runtime.kernel.iter().any(|arg| arg.contains("{connection_file}")) {
        report("kernel", "the kernel command must pass `{connection_file}` to the kernel".into());
    }
}

fn check(spec: &ProjectFile, root: Option<&Path>, report: &mut dyn FnMut(&[&str], String)) {
    if let Err(message) = check_project_name(&spec.project) {
        report(&["project"], message);
    }
    for (name, runtime) in &spec.runtimes {
        if !valid_workflow_name(name) {
            report(
                &["runtimes", name],
                format!("runtime name {name:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'"),
            );
        }
        if runtime.image.trim().is_empty() {
            report(
                &["runtimes", name, "image"],
                "image must name a base image, e.g. python:3.12-slim".into(),
            );
        }
        for key in runtime.env.keys() {
            if !valid_env_name(key) {
                report(
                    &["runtimes", name, "env", key],
                    format!("{key:?} is not an environment variable name (letters, digits, '_')"),
                );
            }
        }
        check_container(runtime, &mut |field, message| report(&["runtimes", name, field], message));
        if let Some(requirements) = &runtime.requirements
            && let Some(root) = root
            && !root.join(requirements).is_file()
        {
            report(
                &["runtimes", name, "requirements"],
                format!("requirements file {requirements:?} is not in the project folder"),
            );
        }
    }
    for (name, workflow) in &spec.workflows {
        let at = |field: &'static str| -> [&str; 3] { ["workflows", name.as_str(), field] };
        if !valid_workflow_name(name) {
            report(
                &["workflows", name],
                format!("workflow name {name:?} is not valid: use 1 to 64 of letters, digits, '_', '.', '-'"),
            );
        }
        let notebook = workflow.notebook.trim();
        if !notebook.ends_with(".ipynb") {
            report(
                &at("notebook"),
                format!("notebook {:?} must be the path of an .ipynb file in the project", workflow.notebook),
            );
        } else if notebook.starts_with('/') || notebook.split('/').any(|part| part == "..") {
            report(
                &at("notebook"),
                format!(
                    "notebook {:?} must be a path inside the project folder, e.g. notebooks/report.ipynb",
                    workflow.notebook
                ),
            );
        } else if let Some(root) = root
            && !root.join(notebook).is_file()
        {
            report(
                &at("notebook"),
                format!("notebook {notebook:?} is not in the project folder {}", root.display()),
            );
        }
        if let Some(runtime) = &workflow.runtime
            && !spec.runtimes.contains_key(runtime)
        {
            let known = if spec.runtimes.is_empty() {
                "the file defines no runtimes".to_owned()
            } else {
                format!("defined: {}", spec.runtimes.keys().cloned().collect::<Vec<_>>().join(", "))
            };
            report(&at("runtime"), format!("runtime {runtime:?} is not defined under `runtimes` ({known})"));
        }
        for volume in &workflow.volumes {
            if let Err(message) = Volume::parse(volume) {
                report(&at("volumes"), message);
            }
        }
        if let Some(schedule) = &workflow.schedule {
            check_schedule(schedule, &mut |field, message| match field {
                Some(field) => report(&["workflows", name, "schedule", field], message),
                None => report(&at("schedule"), message),
            });
        }
        for (i, notification) in workflow.notifications.iter().enumerate() {
            if !valid_env_name(&notification.url_secret) {
                let index = i.to_string();
                report(
                    &["workflows", name, "notifications", &index, "url_secret"],
                    format!(
                        "url_secret {:?} must name a project secret (letters, digits and '_', not starting with a digit)",
                        notification.url_secret
                    ),
                );
            }
        }
    }
}

fn check_schedule(schedule: &ScheduleEntry, report: &mut dyn FnMut(Option<&'static str>, String)) {
    match (&schedule.cron, &schedule.interval) {
        (Some(_), Some(_)) | (None, None) => {
            report(None, "a schedule needs exactly one of `cron` and `interval`".into());
        }
        (None, Some(_)) if schedule.timezone.is_some() => {
            report(
                Some("timezone"),
                "a time zone goes with `cron` only; an interval runs in absolute time".into(),
            );
        }
        _ => {}
    }
    if let Some(expr) = &schedule.cron {
        let parsed = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(expr);
        if let Err(e) = parsed {
            report(
                Some("cron"),
                format!(
                    "invalid cron expression {expr:?}: {e}; use 5 fields (minute hour day month weekday), e.g. \"0 3 * * *\""
                ),
            );
        }
    }
    if let Some(zone) = &schedule.timezone
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        report(
            Some("timezone"),
            format!("unknown time zone {zone:?}; use an IANA name such as \"Europe/Berlin\" or \"UTC\""),
        );
    }
    if let (Some(start), Some(end)) = (schedule.start_at, schedule.end_at)
        && end <= start
    {
        report(Some("end_at"), "end_at must be after start_at".into());
    }
}

/// Checks a project name as the server does.
pub fn check_project_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "project name {name:?} is not valid: use 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter or digit"
        ))
    }
}

/// Makes a valid project name out of any text (a folder name, an old project name).
pub fn project_name_from(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    name = name.trim_matches(|c| c == '-' || c == '_').to_owned();
    name.truncate(64);
    if name.is_empty() { "project".to_owned() } else { name }
}

/// Whether `name` is a valid workflow (or runtime) name: 1 to 64 of `A-Za-z0-9_.-`.
pub fn valid_workflow_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Makes a valid workflow name out of any text.
pub fn workflow_name_from(text: &str) -> String {
    let mut name: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect();
    name.truncate(64);
    if name.is_empty() { "workflow".to_owned() } else { name }
}

/// Whether `name` can be an environment variable (and so a secret) name.
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

// ---------------------------------------------------------------------------------------------
// Conversion to the API
// ---------------------------------------------------------------------------------------------

impl WorkflowEntry {
    /// The API's workflow for this entry, named `name`, running bundle `bundle_version` (the
    /// latest upload when `None`).
    pub fn to_input(&self, name: &str, bundle_version: Option<&str>) -> WorkflowInput {
        let retries = self
            .retries
            .map(|r| {
                let default = RetryPolicy::default();
                RetryPolicy {
                    max_retries: r.max,
                    backoff_secs: r.backoff.map_or(default.backoff_secs, |b| b.0),
                    backoff_factor: r.factor.unwrap_or(default.backoff_factor),
                }
            })
            .unwrap_or_default();
        let notifications = self
            .notifications
            .iter()
            .map(|n| Notification {
                channel: match n.channel {
                    ChannelEntry::Slack => NotifyChannel::Slack,
                    ChannelEntry::Discord => NotifyChannel::Discord,
                    ChannelEntry::Webhook => NotifyChannel::Webhook,
                },
                url_secret: n.url_secret.clone(),
                on: if n.on.is_empty() {
                    vec![NotifyOn::Success, NotifyOn::Failure]
                } else {
                    n.on.iter()
                        .map(|on| match on {
                            OnEntry::Success => NotifyOn::Success,
                            OnEntry::Failure => NotifyOn::Failure,
                        })
                        .collect()
                },
            })
            .collect();
        let schedule = self.schedule.as_ref().map(|s| Schedule {
            cron: s.cron.clone(),
            timezone: s.timezone.clone(),
            interval_secs: s.interval.map(|i| i.0),
            start_at: s.start_at,
            end_at: s.end_at,
            misfire: match s.misfire {
                Some(MisfireEntry::RunOnce) => Misfire::RunOnce,
                Some(MisfireEntry::Skip) | None => Misfire::Skip,
            },
        });
        WorkflowInput {
            name: name.to_owned(),
            enabled: self.enabled,
            spec: WorkflowSpec {
                notebook: self.notebook.trim().to_owned(),
                parameters: self.parameters.clone(),
                bundle_version: bundle_version.map(str::to_owned),
                runtime: self.runtime.clone(),
                runtime_version: None,
                volumes: self.volumes.clone(),
                labels: self.labels.clone(),
                timeout_secs: self.timeout.map(|t| t.0),
                cell_timeout_secs: self.cell_timeout.map(|t| t.0),
                retries,
                notifications,
                schedule,
            },
        }
    }
}

/// The JSON Schema of `nbw.yaml` (what `schemas/nbw.schema.json` holds).
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<ProjectFile>();
    schema.insert("$id".into(), "https://nbw.dev/schemas/nbw.schema.json".into());
    schema.to_value()
}

// ---------------------------------------------------------------------------------------------
// Where values sit
// ---------------------------------------------------------------------------------------------

/// The line and column of every key and value of a YAML text, by path (`workflows.x.notebook`,
/// list items by index), from yaml-rust2's parser events.
struct Places {
    at: HashMap<Vec<String>, (usize, usize)>,
}

impl Places {
    fn index(text: &str) -> Places {
        let mut builder = PlacesBuilder { at: HashMap::new(), stack: Vec::new() };
        // The text parsed with serde_yaml already; a failure here only means fewer places.
        let _ = yaml_rust2::parser::Parser::new_from_str(text).load(&mut builder, false);
        Places { at: builder.at }
    }

    /// The place of `path`, or of its nearest ancestor that has one.
    fn find(&self, path: &[&str]) -> (Option<usize>, Option<usize>) {
        for len in (0..=path.len()).rev() {
            let key: Vec<String> = path[..len].iter().map(|s| s.to_string()).collect();
            if let Some((line, column)) = self.at.get(&key) {
                return (Some(*line), Some(*column));
            }
        }
        (None, None)
    }
}

enum Frame {
    /// In a mapping: the path to it, and the key waiting for its value (if any).
    Map(Vec<String>, Option<String>),
    /// In a sequence: the path to it and the next index.
    Seq(Vec<String>, usize),
}

struct PlacesBuilder {
    at: HashMap<Vec<String>, (usize, usize)>,
    stack: Vec<Frame>,
}

impl PlacesBuilder {
    /// The path of the node starting now, advancing the parent's state.
    fn next_path(&mut self, scalar: Option<&str>) -> Option<Vec<String>> {
        match self.stack.last_mut() {
            None => Some(Vec::new()),
            Some(Frame::Seq(path, index)) => {
                let mut child = path.clone();
                child.push(index.to_string());
                *index += 1;
                Some(child)
            }
            Some(Frame::Map(path, pending)) => match pending.take() {
                Some(key) => {
                    let mut child = path.clone();
                    child.push(key);
                    Some(child)
                }
                None => {
                    // A key: remembered, and its place kept for errors about the entry itself
                    // (until the value's place replaces it).
                    let key = scalar.unwrap_or("?").to_owned();
                    *pending = Some(key);
                    None
                }
            },
        }
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for PlacesBuilder {
    fn on_event(&mut self, event: yaml_rust2::Event, mark: yaml_rust2::scanner::Marker) {
        use yaml_rust2::Event;
        let place = (mark.line(), mark.col() + 1);
        match event {
            Event::Scalar(value, ..) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Map(_, None)));
                if is_key {
                    if let Some(Frame::Map(path, _)) = self.stack.last() {
                        let mut child = path.clone();
                        child.push(value.clone());
                        self.at.insert(child, place);
                    }
                    self.next_path(Some(&value));
                } else if let Some(path) = self.next_path(None) {
                    self.at.insert(path, place);
                }
            }
            Event::Alias(_) => {
                if let Some(path) = self.next_path(None) {
                    self.at.insert(path, place);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.next_path(None).unwrap_or_default();
                // A collection's own place is where its key is, when it has one (a block
                // mapping starts on the next line); that place is already recorded.
                self.at.entry(path.clone()).or_insert(place);
                if matches!(event, Event::MappingStart(..)) {
                    self.stack.push(Frame::Map(path, None));
                } else {
                    self.stack.push(Frame::Seq(path, 0));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let input = spec.workflows["nightly"].to_input("nightly", Some("v1"));
        assert_eq!(input.spec.timeout_secs, Some(3600));
        assert_eq!(input.spec.labels["gpu"], "true");
        assert_eq!(input.spec.retries.max_retries, 2);
        assert_eq!(input.spec.retries.backoff_secs, 60);
        assert_eq!(input.spec.notifications[0].on, vec![NotifyOn::Failure]);
        assert_eq!(input.spec.bundle_version.as_deref(), Some("v1"));
        let schedule = input.spec.schedule.unwrap();
        assert_eq!(schedule.timezone.as_deref(), Some("Europe/Berlin"));
        let hourly = spec.workflows["hourly"].to_input("hourly", None);
        assert!(!hourly.enabled);
        assert_eq!(hourly.spec.schedule.unwrap().cron.as_deref(), Some("@hourly"));
        // And the file written back reads the same.
        let again = parse_ok(&serde_yaml::to_string(&spec).unwrap());
        assert_eq!(again, spec);
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
    fn names_are_made_valid() {
        assert_eq!(project_name_from("My Project!"), "my-project");
        assert_eq!(project_name_from("__"), "project");
        assert_eq!(workflow_name_from("a b/c"), "a-b-c");
        assert!(check_project_name("sales-2").is_ok());
    }
}
