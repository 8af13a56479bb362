//! Where an execution came from, which its id's prefix says.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an execution came from; its id starts with this prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `web.`: the web page or a direct API call.
    Web,
    /// `sch.`: the scheduler.
    Schedule,
    /// `cli.`: the command line.
    Cli,
    /// `pip.`: a pipeline step.
    Pipeline,
    /// `rty.`: a retry of an earlier attempt.
    Retry,
}

impl Origin {
    /// The id prefix, e.g. `sch`.
    pub fn prefix(self) -> &'static str {
        match self {
            Origin::Web => "web",
            Origin::Schedule => "sch",
            Origin::Cli => "cli",
            Origin::Pipeline => "pip",
            Origin::Retry => "rty",
        }
    }

    /// The origin an id's prefix names.
    pub fn of_id(id: &str) -> Option<Origin> {
        [Origin::Web, Origin::Schedule, Origin::Cli, Origin::Pipeline, Origin::Retry]
            .into_iter()
            .find(|o| id.strip_prefix(o.prefix()).is_some_and(|rest| rest.starts_with('.')))
    }

    /// A new execution id of this origin: the prefix, a dot, 20 random base-32 characters.
    pub fn new_id(self) -> String {
        format!("{}.{}", self.prefix(), crate::ids::random_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_ids_carry_their_origin() {
        let id = Origin::Schedule.new_id();
        assert!(id.starts_with("sch."));
        assert_eq!(Origin::of_id(&id), Some(Origin::Schedule));
        assert_eq!(Origin::of_id("xyz.abc"), None);
        assert_eq!(Origin::of_id("webx.abc"), None);
    }
}
