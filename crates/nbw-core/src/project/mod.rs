//! The project file, `nbw.yaml`: what a project is (its name), how its runtimes are built,
//! which workflows run which notebooks, a map keyed by name like compose services, and which
//! pipelines chain them ([`crate::pipeline`]).
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
//! pipelines:
//!   daily:
//!     steps:
//!       - {name: etl, workflow: nightly}
//!       - {name: report, notebook: notebooks/report.ipynb, parameters: {rows: "{{ steps.etl.result.rows }}"}}
//! ```
//!
//! [`load`] reads and checks a file; every problem names the file, the line and the column and
//! what is expected there. serde_yaml finds the problems of shape (a misspelt key, a list where a
//! map belongs) with their place; the checks that need the whole file (a workflow naming a
//! runtime the file does not define, a notebook missing from the project folder) find theirs
//! through an index of where each value sits, built from yaml-rust2's parser events.
//! [`json_schema`] is the same model as a JSON Schema (`schemas/nbw.schema.json` in the
//! repository), for editors.
//!
//! One concept a module: the file's model (`model`), with its schedules (`schedule`),
//! durations (`seconds`) and retries (`retries`); reading it (`load`), checking what serde
//! cannot (`check`), finding where a value sits (`places`), and converting a workflow to the
//! API's (`to_api`). The name rules live in [`crate::names`].

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

mod check;
mod load;
mod model;
mod places;
mod retries;
mod schedule;
mod seconds;
mod to_api;

pub use load::{LocalProject, Problem, ProjectError, load, parse};
pub use model::{
    ChannelEntry, NotificationEntry, OnEntry, ProjectDefaults, ProjectFile, RuntimeEntry, RuntimeUser,
    WorkflowEntry, json_schema,
};
pub use retries::Retries;
pub use schedule::{MisfireEntry, ScheduleEntry};
pub use seconds::Seconds;

/// The project file's usual name.
pub const FILE_NAME: &str = "nbw.yaml";

/// The local secrets file: `KEY=VALUE` lines, never bundled, pushed only when asked.
pub const SECRETS_FILE: &str = "local.nbvars";
