//! The agents registry: registering an agent (its token is made here and shown once; only its
//! hash is stored), an agent's hello at start (its labels), and revoking one.

use nbw_core::api::{Agent, AgentCreated, AgentHello, RegisterAgent};

use super::caller::{AGENT_TOKEN_PREFIX, token_hash};
use super::identity::AgentCaller;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::agents as store;

/// Checks an agent's name (1 to 128 printable characters) and labels (keys 1 to 64 of
/// `A-Za-z0-9_.-/`, values up to 256 characters).
fn check_agent(input: &RegisterAgent) -> Result<()> {
    let name_ok = !input.name.trim().is_empty()
        && input.name.chars().count() <= 128
        && !input.name.chars().any(char::is_control);
    if !name_ok {
        return Err(Error::invalid(format!(
            "agent name {:?} is not valid: use 1 to 128 printable characters",
            input.name
        )));
    }
    for (key, value) in &input.labels {
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b));
        if !key_ok || value.len() > 256 {
            return Err(Error::invalid(format!(
                "label {key:?} is not valid: keys are 1 to 64 of letters, digits, '_', '.', '-', '/'; values at most 256 bytes"
            )));
        }
    }
    Ok(())
}

/// Registers an agent created by the user `created_by`; the answer holds its token.
pub async fn register(state: &AppState, input: &RegisterAgent, created_by: &str) -> Result<AgentCreated> {
    check_agent(input)?;
    let token = format!("{AGENT_TOKEN_PREFIX}{}", nbw_core::ids::random_token());
    let agent =
        store::insert_agent(&state.db, input.name.trim(), &input.labels, &token_hash(&token), created_by)
            .await?;
    Ok(AgentCreated { agent, token })
}

/// Revokes an agent: its token stops working at once on this server (within a second on the
/// others). `NotFound` when there is no such agent.
pub async fn revoke(state: &AppState, id: &str) -> Result<()> {
    if !store::revoke_agent(&state.db, id).await? {
        return Err(Error::not_found(format!("agent {id:?}")));
    }
    state.agent_tokens.forget(id);
    Ok(())
}

/// Every agent, revoked ones included, each marked online when it was heard from within the
/// last two leases (an agent heartbeats at least once per lease, and claims every 30 s when
/// idle) and is not revoked.
pub async fn list(state: &AppState) -> Result<Vec<Agent>> {
    let within_ms = i64::try_from(state.config.lease_secs.saturating_mul(2000)).unwrap_or(i64::MAX);
    let now = crate::db::now_ms();
    let mut agents = store::list_agents(&state.db).await?;
    for agent in &mut agents {
        let seen = agent.last_heartbeat_at.map(|t| t.timestamp_millis());
        agent.online = !agent.revoked && seen.is_some_and(|at| now - at < within_ms);
    }
    Ok(agents)
}

/// An agent introduces itself at start: its labels (when given) replace the registered ones.
pub async fn hello(state: &AppState, agent: &AgentCaller, input: &AgentHello) -> Result<Agent> {
    if let Some(labels) = &input.labels {
        if labels.keys().any(|k| k.is_empty() || k.len() > 64) {
            return Err(Error::invalid("label keys must have 1 to 64 characters"));
        }
        store::set_agent_labels(&state.db, &agent.agent_id, labels).await?;
        state.agent_tokens.forget(&agent.agent_id);
    }
    if let Some(version) = &input.version {
        if version.is_empty() || version.len() > 64 || version.chars().any(char::is_control) {
            return Err(Error::invalid("the version must have 1 to 64 printable characters"));
        }
        store::set_agent_version(&state.db, &agent.agent_id, version).await?;
    }
    // Heard from now: an idle agent's first long poll says so only when it ends empty.
    crate::store::queue::touch_agent(&state.db, &agent.agent_id, crate::db::now_ms()).await?;
    tracing::info!(agent = %agent.agent_id, version = input.version.as_deref().unwrap_or("?"), "agent connected");
    let found = store::agent_by_id(&state.db, &agent.agent_id).await?;
    found.ok_or_else(|| Error::not_found("agent"))
}
