//! Who a request comes from, once authenticated: a user or an agent. Plain data, so services
//! take a caller without knowing how it was authenticated (see [`super::caller`]).

use std::collections::BTreeMap;

use crate::error::Error;

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct UserCaller {
    /// The user id.
    pub user_id: String,
    /// Whether the user is a server administrator.
    pub is_admin: bool,
}

impl UserCaller {
    /// Fails with `Forbidden` unless the caller is an administrator.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.is_admin { Ok(()) } else { Err(Error::Forbidden("this needs a server administrator".into())) }
    }
}

/// An authenticated agent.
#[derive(Debug, Clone)]
pub struct AgentCaller {
    /// The agent id.
    pub agent_id: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}
