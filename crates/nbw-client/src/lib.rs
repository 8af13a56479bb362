//! A typed client of the nbw `/v1` API.
//!
//! There are two kinds of token, so there are two clients: a [`UserClient`] holds a user's
//! access token and offers the user's calls (login, bundles, workflows, pipelines, executions
//! and their live events, runtimes, secrets, and the team: users, agents, projects, members);
//! an [`AgentClient`] holds an agent's token and offers the
//! agent protocol (hello, claim, heartbeat, events, output, complete, bundle download). Each
//! route is a method of exactly one of them, so agent code cannot call a user route by mistake,
//! nor the reverse. Both turn every answer into a typed value or a [`ClientError`] carrying the
//! server's stable error code, so callers branch on codes, not on message text, and ask
//! [`ClientError::is_transient`] whether to try again.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nbw_client::ClientError> {
//! let agent = nbw_client::AgentClient::new("http://127.0.0.1:8080", "nbwa_...")?;
//! let claim = agent.claim(30).await?;
//! # Ok(()) }
//! ```
mod agent;
mod error;
mod http;
mod pipelines;
mod team;
mod user;

pub use agent::AgentClient;
pub use error::ClientError;
pub use pipelines::{PipelineItem, PipelineStream};
pub use user::{EventStream, HistoryQuery, StreamItem, UserClient};
